/* SPDX-License-Identifier: MIT */
/*
 * svm/exit_stats.c - sorts a vCPU's exits into the reasons of
 * x86/exit_stats.h and logs their counts. With exit_stats=1 on Keel's
 * command line, each vCPU's line is logged when it is destroyed: under an
 * emulator, where an exit costs tens of microseconds, it shows how much of
 * a guest's time Keel takes and for what (tests/bench/README.md).
 */
#include <keel/domain.h>
#include <keel/format.h>
#include <keel/log.h>
#include <x86/exit_stats.h>
#include <x86/vmcb.h>

#define APIC_PAGE	0xfee00000ull
#define MSR_TSC_DEADLINE_NR	0x6e0u

static const char *const names[EXIT_REASONS] = {
	[EXIT_R_HYPERCALL] = "hypercall", [EXIT_R_APIC_MMIO] = "apic-mmio",
	[EXIT_R_MMIO] = "other-npf", [EXIT_R_TSC_DEADLINE] = "tsc-deadline",
	[EXIT_R_MSR_WRITE] = "msr-write", [EXIT_R_MSR_READ] = "msr-read", [EXIT_R_IO] = "io",
	[EXIT_R_HLT] = "hlt", [EXIT_R_CPUID] = "cpuid", [EXIT_R_INTR] = "host-intr",
	[EXIT_R_OTHER] = "other",
};

enum exit_reason exit_stats_reason(const struct vmcb *vmcb, uint64_t rcx)
{
	const struct vmcb_control *c = &vmcb->control;

	switch (c->exit_code) {
	case VMEXIT_VMMCALL:
		return EXIT_R_HYPERCALL;
	case VMEXIT_NPF:
		return (c->exit_info2 & ~0xfffull) == APIC_PAGE ? EXIT_R_APIC_MMIO : EXIT_R_MMIO;
	case VMEXIT_MSR:
		if (!c->exit_info1) {
			return EXIT_R_MSR_READ;
		}
		return (uint32_t)rcx == MSR_TSC_DEADLINE_NR ? EXIT_R_TSC_DEADLINE : EXIT_R_MSR_WRITE;
	case VMEXIT_IOIO:
		return EXIT_R_IO;
	case VMEXIT_HLT:
		return EXIT_R_HLT;
	case VMEXIT_CPUID:
		return EXIT_R_CPUID;
	case VMEXIT_INTR:
		return EXIT_R_INTR;
	default:
		return EXIT_R_OTHER;
	}
}

void exit_stats_report(const struct vcpu *v, const struct exit_stats *s)
{
	char line[512];
	size_t at = 0;
	uint64_t total = 0, ns = 0;

	for (int r = 0; r < EXIT_REASONS; r++) {
		total += s->count[r];
		ns += s->ns[r];
		if (s->count[r] && at < sizeof(line)) {
			at += format(line + at, sizeof(line) - at, " %s %llu (%llu us)", names[r],
				     (unsigned long long)s->count[r],
				     (unsigned long long)(s->ns[r] / 1000));
		}
	}
	if (total) {
		log_info("domain %u '%s' vCPU %u: %llu exits, %llu us handling them:%s", v->domain->domid,
			 v->domain->name, v->id, (unsigned long long)total,
			 (unsigned long long)(ns / 1000), line);
	}
}
