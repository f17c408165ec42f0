// SPDX-License-Identifier: MIT
/*
 * discover.c - finding Keel (CPUID signature scan), installing the
 * hypercall page, and the map from Linux CPU numbers to Keel vCPU indexes
 * behind kpv_shim_cpu() and kpv_shim_hypercall().
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "keel_linux.h"

/* Keel's vCPU index of each CPU plus one (0: not learnt yet, e.g. hotplugged later). */
static DEFINE_PER_CPU(u32, keel_vcpu_plus1);
static u32 keel_cpuid_base;

int keel_discover(struct keel_cpuid *out)
{
	u32 eax, ebx, ecx, edx;

	/* Bare metal answers hypervisor leaves with whatever its last basic leaf holds. */
	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return -ENODEV;
	for (u32 base = KEEL_CPUID_BASE_FIRST; base <= KEEL_CPUID_BASE_LAST;
	     base += KEEL_CPUID_BASE_STEP) {
		cpuid(base + KEEL_CPUID_LEAF_VENDOR, &eax, &ebx, &ecx, &edx);
		if (eax < base + KEEL_CPUID_LEAF_DOMAIN || eax >= base + KEEL_CPUID_BASE_STEP)
			continue;
		cpuid(base + KEEL_CPUID_LEAF_INTERFACE, &eax, &ebx, &ecx, &edx);
		if (eax != KEEL_CPUID_INTERFACE_SIG)
			continue;
		out->base = base;
		out->abi = ebx;
		out->msr = ecx;
		cpuid(base + KEEL_CPUID_LEAF_FEATURES, &eax, &ebx, &ecx, &edx);
		out->features0 = eax;
		keel_cpuid_base = base;
		return 0;
	}
	return -ENODEV;
}

int keel_hcall_page_install(const struct keel_cpuid *id)
{
	const void *page = keel_hypercall_page;
	u64 gpa;

	/* Module text is vmalloc memory: its frame is found through the page tables. */
	if (offset_in_page(page) != 0) {
		pr_err("hypercall page is not page-aligned (%px)\n", page);
		return -EIO;
	}
	gpa = page_to_phys(vmalloc_to_page(page));
	if (wrmsrl_safe(id->msr, gpa | KEEL_X86_HYPERCALL_ENABLE) != 0) {
		pr_err("Keel refused the hypercall page at %#llx (MSR %#x)\n", gpa, id->msr);
		return -EIO;
	}
	/* Calling the int3 filler would oops: make sure Keel wrote its stub. */
	if (READ_ONCE(keel_hypercall_page[KEEL_X86_HYPERCALL_ENTRY]) == 0xcc) {
		pr_err("Keel did not fill the hypercall page\n");
		return -EIO;
	}
	return 0;
}

static void learn_vcpu(void *unused)
{
	u32 eax, ebx, ecx, edx;

	cpuid(keel_cpuid_base + KEEL_CPUID_LEAF_DOMAIN, &eax, &ebx, &ecx, &edx);
	this_cpu_write(keel_vcpu_plus1, eax + 1);
}

void keel_vcpu_map_init(const struct keel_cpuid *id)
{
	keel_cpuid_base = id->base;
	on_each_cpu(learn_vcpu, NULL, 1);
}

int keel_cpu_of_vcpu(u32 vcpu)
{
	int cpu;

	for_each_online_cpu(cpu) {
		if (per_cpu(keel_vcpu_plus1, cpu) == vcpu + 1)
			return cpu;
	}
	return -1;
}

/* [any] Linux numbers CPUs in MADT order; Keel's index comes from CPUID B+4. */
uint32_t kpv_shim_cpu(void)
{
	u32 v = this_cpu_read(keel_vcpu_plus1);

	if (v != 0)
		return v - 1;
	/* A CPU brought up after load: ask Keel (a VM exit, but only until learnt). */
	preempt_disable();
	learn_vcpu(NULL);
	v = this_cpu_read(keel_vcpu_plus1);
	preempt_enable();
	return v - 1;
}

long kpv_shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4)
{
	return keel_hcall6(nr, a0, a1, a2, a3, a4);
}
