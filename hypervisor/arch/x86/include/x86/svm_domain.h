/* SPDX-License-Identifier: MIT */
/* x86/svm_domain.h - the SVM state behind struct domain and struct vcpu. */
#ifndef KEEL_X86_SVM_DOMAIN_H
#define KEEL_X86_SVM_DOMAIN_H

#include <keel/domain.h>
#include <keel/spinlock.h>
#include <x86/exit_stats.h>
#include <x86/insn.h>
#include <x86/npt.h>
#include <x86/svm.h>
#include <x86/vmcb.h>
#include <x86/vplatform.h>

#define SVM_LOGGED_MSRS		16	/* distinct refused MSRs logged per domain */
#define SVM_MTRR_VAR		8	/* variable-range MTRR pairs (MTRRcap VCNT) */
#define SVM_MTRR_FIXED		11	/* fixed-range MTRRs: 64K, 2 x 16K, 8 x 4K */

struct svm_domain {
	struct npt npt;			/* mirrors the core's p2m */
	uint64_t npt_gen;		/* (atomic) bumped when a mapping goes away */
	struct spinlock lock;		/* guards the fields below */
	uint64_t hypercall_msr;		/* last value written to the hypercall MSR */
	uint32_t logged_msrs[SVM_LOGGED_MSRS];
	unsigned int logged_count;
	struct vplatform platform;	/* its emulated devices (vplatform.c) */
};

struct svm_vcpu {
	paddr_t vmcb_pa;
	struct vmcb *vmcb;
	struct svm_gprs gprs;		/* what the VMCB does not hold */
	uint8_t fpu[512] __attribute__((aligned(16)));	/* FXSAVE image */
	uint64_t dr[4];			/* DR0-3 (DR6/7 are in the VMCB) */
	uint64_t tsc_aux;
	uint64_t mtrr_def_type;
	uint64_t mtrr_var[2 * SVM_MTRR_VAR];	/* PHYSBASE/PHYSMASK pairs */
	uint64_t mtrr_fixed[SVM_MTRR_FIXED];
	uint32_t asid;			/* on asid_cpu, valid for asid_gen */
	int asid_cpu;
	uint64_t asid_gen;
	uint64_t npt_gen_seen;		/* npt_gen its ASID was last flushed for */
	bool upcall_inject;		/* (atomic) an upcall to deliver per its mode */
	int running_cpu;		/* (atomic) CPU in its run loop, or -1 */
	bool ready;			/* has a boot state or context */
	bool flush_asid;		/* its guest's TLB must go at the next entry */
	struct vlapic *vlapic;		/* its local APIC (vplatform/vlapic.c) */
	bool vlapic_odd_logged;		/* an undefined APIC access was logged */
	bool nmi_masked;		/* an NMI was injected and its IRET not seen */
	bool hypercall_waits;		/* its VMMCALL blocked: runs again when woken */
	uint64_t last_event_inject;	/* EVENTINJ of its last entry, for crash reports */
	struct exit_stats *exits;	/* with exit_stats=1 only (x86/exit_stats.h) */
};

static inline struct svm_domain *svm_domain(struct domain *d)
{
	return d->arch;
}

static inline struct svm_vcpu *svm_vcpu(struct vcpu *v)
{
	return v->arch;
}

/* svm/vcpu.c */
bool svm_permission_maps_init(void);
int svm_vcpu_init(struct vcpu *v);
void svm_vcpu_reset(struct vcpu *v);
void svm_vcpu_forget(struct vcpu *v);

/* svm/exits.c: handle one exit of @v; its VMCB holds the exit. */
void svm_handle_exit(struct vcpu *v);

/*
 * svm/exits.c: if @v's last VMMCALL blocked it and re-executing it is
 * the first thing the guest would do on entry, run it again now, without
 * the entry and exit; true if it did.
 */
bool svm_resume_hypercall(struct vcpu *v);

/* The guest's execution mode, from its EFER.LMA, CS.L and CS.D. */
enum cpu_mode svm_cpu_mode(const struct vmcb_save *s);

/* Up to INSN_MAX_LEN bytes at @v's RIP, read through its own page tables. */
size_t svm_fetch_insn(struct vcpu *v, uint8_t bytes[INSN_MAX_LEN]);

/* RIP += @len, wrapping at 4 GiB outside 64-bit mode. */
void svm_advance_rip(struct vmcb_save *s, unsigned int len);

/* General register @n (x86 encoding order: RAX, RCX, RDX, RBX, RSP, ...) of @sv. */
uint64_t *svm_gpr(struct svm_vcpu *sv, unsigned int n);

/* Inject exception @vector (with @error_code if @has_error) at the next entry. */
void svm_inject_exception(struct svm_vcpu *sv, unsigned int vector, bool has_error,
			  uint32_t error_code);

/*
 * svm/vcpu.c: make @v see new interrupts: if it is in guest mode on
 * another CPU, kick that CPU so it exits. Any context.
 */
void svm_vcpu_kick(struct vcpu *v);
/* Give offline @v the state a SIPI with @vector leaves (real mode, CS:IP = vector<<8:0). */
void svm_vcpu_start_sipi(struct vcpu *v, uint8_t vector);

/*
 * svm/mmio.c: a data access that faulted at @gpa: decode the instruction,
 * hand the access to vplatform_mmio() (or, in the legacy hole below 1 MiB,
 * read all ones and drop writes) and complete it. False if nothing is at
 * @gpa (the caller crashes the domain); an access Keel cannot decode
 * crashes it here.
 */
bool svm_mmio(struct vcpu *v, uint64_t gpa);

/* svm/cpuid.c and svm/msr.c */
void svm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
bool svm_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value);
bool svm_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value);

/* svm/shutdown_report.c: log the state @v triple-faulted in (its VMCB holds the exit). */
void svm_report_shutdown(struct vcpu *v);

/* svm/domain.c: make every CPU running @d drop stale nested translations. */
void svm_flush_domain(struct domain *d);

#endif
