/* SPDX-License-Identifier: MIT */
/*
 * x86/exit_stats.h - per-vCPU counts of its exits by reason and the time
 * Keel spent handling them, logged when the vCPU goes (option exit_stats=1).
 */
#ifndef KEEL_X86_EXIT_STATS_H
#define KEEL_X86_EXIT_STATS_H

#include <stdint.h>

struct vcpu;
struct vmcb;

enum exit_reason {
	EXIT_R_HYPERCALL,
	EXIT_R_APIC_MMIO,	/* the local APIC's page (0xfee00000) */
	EXIT_R_MMIO,		/* any other emulated device page, or a nested fault */
	EXIT_R_TSC_DEADLINE,	/* WRMSR of the TSC-deadline timer */
	EXIT_R_MSR_WRITE,
	EXIT_R_MSR_READ,
	EXIT_R_IO,
	EXIT_R_HLT,
	EXIT_R_CPUID,
	EXIT_R_INTR,		/* a host interrupt: Keel's, not the guest's doing */
	EXIT_R_OTHER,
	EXIT_REASONS
};

struct exit_stats {
	uint64_t count[EXIT_REASONS];
	uint64_t ns[EXIT_REASONS];
};

/* What the exit now in @vmcb (with RCX @rcx) was, for exit_stats_add(). */
enum exit_reason exit_stats_reason(const struct vmcb *vmcb, uint64_t rcx);

/* Count one exit of @reason that took @ns to handle. */
static inline void exit_stats_add(struct exit_stats *s, enum exit_reason reason, uint64_t ns)
{
	s->count[reason]++;
	s->ns[reason] += ns;
}

/* Log @v's counts, if any, as one line. */
void exit_stats_report(const struct vcpu *v, const struct exit_stats *s);

#endif /* KEEL_X86_EXIT_STATS_H */
