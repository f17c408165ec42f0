/* SPDX-License-Identifier: MIT */
/* x86/svm.h - AMD SVM: detection, per-CPU enabling, VMRUN. */
#ifndef KEEL_X86_SVM_H
#define KEEL_X86_SVM_H

#include <keel/types.h>

struct svm_features {
	bool svm, npt, nrip_save, decode_assists, vmcb_clean, tsc_scale, avic;
	bool npt_1g;		/* 1 GiB nested leaves (the CPU's 1 GiB pages) */
	bool disabled_by_firmware;
	uint32_t asid_count;
};

extern struct svm_features svm_features;

/* Fill svm_features from CPUID and VM_CR. */
void svm_detect(void);

/* Turn SVM on for the running CPU (EFER.SVME, host save area). */
bool svm_enable_cpu(void);

/* Guest general registers not kept in the VMCB (RAX and RSP are). */
struct svm_gprs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/*
 * Enter the guest of @vmcb_pa until the next #VMEXIT (svm/vmrun.S);
 * @in_shadow: its VMCB's interrupt_shadow is set (see vmrun.S for why the
 * entry needs to know).
 */
void svm_vmrun(struct svm_gprs *gprs, paddr_t vmcb_pa, paddr_t host_vmcb_pa, bool in_shadow);

#endif
