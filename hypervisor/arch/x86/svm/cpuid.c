/* SPDX-License-Identifier: MIT */
/*
 * svm/cpuid.c - the CPUID a guest sees: the host's leaves filtered to what
 * Keel virtualizes, plus Keel's own leaves (docs/abi/README.md).
 *
 * The rule is an allow-list: a feature bit reaches the guest only if Keel
 * knows the guest can use it safely under Keel (no XSAVE/AVX state, since
 * only the FXSAVE image is switched between guests; no nested SVM; no
 * MONITOR/MWAIT, which Keel refuses; no x2APIC, whose MSRs Keel does not
 * emulate). Some leaves are Keel's own rather than the host's: the
 * TSC-deadline bit and ARAT (the emulated local APIC has both), and the
 * topology of leaf 0xB, which shows every vCPU as a package of one core
 * and one thread with APIC id = vCPU index, as the MADT and leaf 1 say.
 * Unknown leaves read as zero.
 */
#include <arch/arch.h>
#include <keel/domain.h>
#include <public/keel/abi.h>
#include <public/keel/arch-x86_64.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/svm_domain.h>
#include <x86/time.h>

#define BASIC_MAX	0xbu
#define EXT_MAX		0x80000008u

/* Leaf 1 ECX: SSE3 PCLMUL SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES RDRAND. */
#define L1_ECX_ALLOWED	((1u << 0) | (1u << 1) | (1u << 9) | (1u << 13) | (1u << 19) | \
			 (1u << 20) | (1u << 22) | (1u << 23) | (1u << 25) | (1u << 30))
#define L1_ECX_HYPERVISOR	(1u << 31)
#define L1_ECX_TSC_DEADLINE	(1u << 24)
#define L1_EDX_APIC	(1u << 9)
#define L6_EAX_ARAT	(1u << 2)
#define LB_TYPE_SMT	1u
#define LB_TYPE_CORE	2u
/* Leaf 1 EDX: everything but ACPI thermal (22), TM (29), PBE (31), HTT (28). */
#define L1_EDX_DENIED	((1u << 22) | (1u << 28) | (1u << 29) | (1u << 31))
/* Leaf 7 EBX: FSGSBASE BMI1 SMEP BMI2 ERMS RDSEED ADX SMAP CLFLUSHOPT SHA. */
#define L7_EBX_ALLOWED	((1u << 0) | (1u << 3) | (1u << 7) | (1u << 8) | (1u << 9) | \
			 (1u << 18) | (1u << 19) | (1u << 20) | (1u << 23) | (1u << 29))
/* 0x80000001 ECX: LAHF CMP_LEGACY ABM SSE4A MISALIGNSSE 3DNOWPREFETCH. */
#define E1_ECX_ALLOWED	((1u << 0) | (1u << 1) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8))
/* 0x80000001 EDX: the usual AMD64 set (no 3DNow). */
#define E1_EDX_ALLOWED	(0x0183f3ffu | (1u << 11) | (1u << 20) | (1u << 25) | \
			 (1u << 26) | (1u << 27) | (1u << 29))
#define E7_EDX_INVARIANT_TSC	(1u << 8)

/*
 * Leaf 0xB: level 0 (SMT) and 1 (core) each hold one logical processor,
 * so the x2APIC id shifts are 0 and the package id is the APIC id.
 */
static void topology_leaf(struct vcpu *v, uint32_t subleaf, uint32_t r[4])
{
	r[3] = v->id;	/* x2APIC id, at every level */
	r[2] = subleaf & 0xff;
	if (subleaf < 2) {
		r[0] = 0;
		r[1] = 1;
		r[2] |= (subleaf == 0 ? LB_TYPE_SMT : LB_TYPE_CORE) << 8;
	}
}

static void keel_leaves(struct vcpu *v, uint32_t leaf, uint32_t r[4])
{
	struct domain *d = v->domain;

	switch (leaf - KEEL_CPUID_BASE_FIRST) {
	case KEEL_CPUID_LEAF_VENDOR:
		r[0] = KEEL_CPUID_BASE_FIRST + KEEL_CPUID_LEAF_DOMAIN;
		r[1] = r[2] = r[3] = KEEL_CPUID_VENDOR_REG;
		break;
	case KEEL_CPUID_LEAF_INTERFACE:
		r[0] = KEEL_CPUID_INTERFACE_SIG;
		r[1] = ((uint32_t)KEEL_ABI_MAJOR << 16) | KEEL_ABI_MINOR;
		r[2] = KEEL_X86_MSR_HYPERCALL;
		break;
	case KEEL_CPUID_LEAF_FEATURES:
		r[0] = d->features;
		break;
	case KEEL_CPUID_LEAF_TIMING:
		r[0] = arch_tsc_khz();
		r[1] = (uint32_t)(lapic_timer_hz / 1000u);
		break;
	case KEEL_CPUID_LEAF_DOMAIN:
		r[0] = v->id;
		r[1] = d->domid;
		r[2] = d->vcpu_count;
		break;
	default:
		break;
	}
}

void svm_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	struct cpuid_regs h = { 0 };
	uint32_t r[4] = { 0, 0, 0, 0 };
	uint32_t host_max = cpuid(0, 0).eax;
	uint32_t host_ext_max = cpuid(0x80000000u, 0).eax;

	if (leaf >= KEEL_CPUID_BASE_FIRST && leaf <= KEEL_CPUID_BASE_FIRST + KEEL_CPUID_LEAF_DOMAIN) {
		keel_leaves(v, leaf, r);
		goto done;
	}
	if (leaf == 6) {
		r[0] = L6_EAX_ARAT;	/* the APIC timer runs in every C-state: no others exist */
		goto done;
	}
	if (leaf == 0xb) {
		topology_leaf(v, subleaf, r);
		goto done;
	}
	if (leaf < 0x80000000u ? leaf > host_max : leaf > host_ext_max) {
		goto done;
	}
	h = cpuid(leaf, subleaf);
	switch (leaf) {
	case 0:
		r[0] = BASIC_MAX;	/* 6 and 0xB are Keel's; the rest up to it read as zero */
		r[1] = h.ebx;
		r[2] = h.ecx;
		r[3] = h.edx;
		break;
	case 1:
		r[0] = h.eax;
		/* APIC id = vCPU index; one logical processor per package. */
		r[1] = (h.ebx & 0x0000ffffu) | (v->id << 24) | (1u << 16);
		r[2] = (h.ecx & L1_ECX_ALLOWED) | L1_ECX_HYPERVISOR | L1_ECX_TSC_DEADLINE;
		r[3] = (h.edx & ~L1_EDX_DENIED) | L1_EDX_APIC;
		break;
	case 7:
		if (subleaf == 0) {
			r[1] = h.ebx & L7_EBX_ALLOWED;
		}
		break;
	case 0x80000000u:
		r[0] = host_ext_max < EXT_MAX ? host_ext_max : EXT_MAX;
		r[1] = h.ebx;
		r[2] = h.ecx;
		r[3] = h.edx;
		break;
	case 0x80000001u:
		r[0] = h.eax;
		r[2] = h.ecx & E1_ECX_ALLOWED;
		r[3] = h.edx & E1_EDX_ALLOWED;
		break;
	case 0x80000002u:
	case 0x80000003u:
	case 0x80000004u:
	case 0x80000005u:
	case 0x80000006u:
		r[0] = h.eax;	/* brand string and cache descriptions */
		r[1] = h.ebx;
		r[2] = h.ecx;
		r[3] = h.edx;
		break;
	case 0x80000007u:
		r[3] = h.edx & E7_EDX_INVARIANT_TSC;
		break;
	case 0x80000008u:
		r[0] = h.eax & 0xffffu;	/* address sizes */
		r[2] = 0;		/* one core: the topology is the vCPU count, B+4 */
		break;
	default:
		break;	/* cache and topology leaves of other vendors, power, perf: zero */
	}
done:
	for (int i = 0; i < 4; i++) {
		out[i] = r[i];
	}
}
