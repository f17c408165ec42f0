/* SPDX-License-Identifier: MIT */
/*
 * shim_cpu.c - the CPU side of the shim: hypercalls through lib64's
 * hypercall page, the vCPU index, and Keel's upcall as an IDT vector
 * (KEEL_UPCALL_VECTOR mode) whose handler calls kpv_upcall() and EOIs the
 * local APIC.
 */
#include "ref.h"

void ref_upcall_entry(void);		/* upcall.S */
void ref_upcall_interrupt(void);

/* The instance upcalls go to (NULL: none), and handlers running right now. */
static struct kpv *upcall_kpv;
static uint32_t upcall_busy;

long kpv_shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4)
{
	return keel_hypercall6(nr, a0, a1, a2, a3, a4, 0);
}

/* Only vCPU 0 runs: the builder starts no other and this kernel brings none up. */
uint32_t kpv_shim_cpu(void)
{
	return 0;
}

int kpv_shim_upcall_connect(struct kpv *k, uint32_t *vector)
{
	if ((kt_boot.features[0] & KEEL_F0_UPCALL_VECTOR) == 0) {
		return -KEEL_EOPNOTSUPP;
	}
	/* kpv_start() has just registered the vCPU infos (kpv.h): the clock may have moved. */
	ref_clock_reset();
	__atomic_store_n(&upcall_kpv, k, __ATOMIC_SEQ_CST);
	kt_idt_set(REF_UPCALL_VECTOR, ref_upcall_entry);
	kt_lapic_enable();
	*vector = REF_UPCALL_VECTOR;
	return KEEL_UPCALL_VECTOR;
}

/*
 * The gate stays: an interrupt Keel injected before the mode changed may
 * still arrive, and is then only acknowledged. A handler that saw @k before
 * it was cleared is waited for (on one vCPU there never is one: this runs
 * in thread context and the handler does not yield).
 */
void kpv_shim_upcall_disconnect(struct kpv *k)
{
	__atomic_store_n(&upcall_kpv, NULL, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&upcall_busy, __ATOMIC_SEQ_CST) != 0) {
		kt_cpu_relax();
	}
}

void ref_upcall_interrupt(void)
{
	struct kpv *k;

	__atomic_add_fetch(&upcall_busy, 1, __ATOMIC_SEQ_CST);
	k = __atomic_load_n(&upcall_kpv, __ATOMIC_SEQ_CST);
	if (k != NULL) {
		kpv_upcall(k);
	}
	__atomic_sub_fetch(&upcall_busy, 1, __ATOMIC_SEQ_CST);
	kt_lapic_eoi();
}
