/* SPDX-License-Identifier: MIT */
/* x86/svm_domain.h - the SVM state behind struct domain and struct vcpu. */
#ifndef KEEL_X86_SVM_DOMAIN_H
#define KEEL_X86_SVM_DOMAIN_H

#include <keel/domain.h>
#include <x86/npt.h>
#include <x86/svm.h>
#include <x86/vmcb.h>

struct svm_domain {
	struct npt npt;			/* mirrors the core's p2m */
};

struct svm_vcpu {
	paddr_t vmcb_pa;
	struct vmcb *vmcb;
	struct svm_gprs gprs;		/* what the VMCB does not hold */
};

static inline struct svm_domain *svm_domain(struct domain *d)
{
	return d->arch;
}

static inline struct svm_vcpu *svm_vcpu(struct vcpu *v)
{
	return v->arch;
}

#endif
