/* SPDX-License-Identifier: MIT */
/* svm/svm.c - detects AMD SVM and its features and switches it on per CPU. */
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <x86/percpu.h>
#include <x86/svm.h>

#define CPUID_EXT_FEATURES	0x80000001u
#define CPUID_SVM		0x8000000au

struct svm_features svm_features;

void svm_detect(void)
{
	struct svm_features *f = &svm_features;
	struct cpuid_regs r;

	if (cpuid(0x80000000u, 0).eax < CPUID_SVM) {
		return;
	}
	r = cpuid(CPUID_EXT_FEATURES, 0);
	f->svm = r.ecx & (1u << 2);
	if (!f->svm) {
		return;
	}
	/* Nested tables take 1 GiB leaves wherever host tables do (APM 15.25.1). */
	f->npt_1g = r.edx & (1u << 26);
	r = cpuid(CPUID_SVM, 0);
	f->asid_count = r.ebx;
	f->npt = r.edx & (1u << 0);
	f->nrip_save = r.edx & (1u << 3);
	f->tsc_scale = r.edx & (1u << 4);
	f->vmcb_clean = r.edx & (1u << 5);
	f->decode_assists = r.edx & (1u << 7);
	f->avic = r.edx & (1u << 13);
	f->disabled_by_firmware = rdmsr(MSR_VM_CR) & VM_CR_SVMDIS;
}

bool svm_enable_cpu(void)
{
	struct percpu *cpu = this_cpu();

	if (cpu->svm_enabled) {
		return true;
	}
	if (!cpu->svm_hsave_pa) {
		cpu->svm_hsave_pa = page_alloc(1);
		cpu->svm_host_vmcb_pa = page_alloc(1);
		if (!cpu->svm_hsave_pa || !cpu->svm_host_vmcb_pa) {
			return false;
		}
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, cpu->svm_hsave_pa);
	cpu->svm_enabled = true;
	return true;
}
