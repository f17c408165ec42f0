/* SPDX-License-Identifier: MIT */
/* x86/svm_domain.h - the SVM state behind struct domain and struct vcpu. */
#ifndef KEEL_X86_SVM_DOMAIN_H
#define KEEL_X86_SVM_DOMAIN_H

#include <keel/domain.h>
#include <keel/spinlock.h>
#include <x86/insn.h>
#include <x86/npt.h>
#include <x86/svm.h>
#include <x86/vmcb.h>

#define SVM_LOGGED_MSRS		16	/* distinct refused MSRs logged per domain */
#define SVM_APIC_REGS		64	/* the xAPIC page's registers, 16 bytes apart */

struct svm_domain {
	struct npt npt;			/* mirrors the core's p2m */
	uint64_t npt_gen;		/* (atomic) bumped when a mapping goes away */
	struct spinlock lock;		/* guards the fields below */
	uint64_t hypercall_msr;		/* last value written to the hypercall MSR */
	uint32_t logged_msrs[SVM_LOGGED_MSRS];
	unsigned int logged_count;
};

struct svm_vcpu {
	paddr_t vmcb_pa;
	struct vmcb *vmcb;
	struct svm_gprs gprs;		/* what the VMCB does not hold */
	uint8_t fpu[512] __attribute__((aligned(16)));	/* FXSAVE image */
	uint64_t dr[4];			/* DR0-3 (DR6/7 are in the VMCB) */
	uint64_t tsc_aux;
	uint64_t mtrr_def_type;
	uint32_t asid;			/* on asid_cpu, valid for asid_gen */
	int asid_cpu;
	uint64_t asid_gen;
	uint64_t npt_gen_seen;		/* npt_gen its ASID was last flushed for */
	bool upcall_inject;		/* (atomic) deliver the upcall vector */
	int running_cpu;		/* (atomic) CPU in its run loop, or -1 */
	bool ready;			/* has a boot state or context */
	bool flush_asid;		/* its guest's TLB must go at the next entry */
	uint32_t apic_regs[SVM_APIC_REGS];	/* local APIC registers as written */
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

/* svm/lapic_mmio.c: a nested page fault at @gpa; false if not the APIC page. */
bool svm_lapic_mmio(struct vcpu *v, uint64_t gpa);

/* svm/cpuid.c and svm/msr.c */
void svm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
bool svm_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value);
bool svm_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value);

/* svm/domain.c: make every CPU running @d drop stale nested translations. */
void svm_flush_domain(struct domain *d);

#endif
