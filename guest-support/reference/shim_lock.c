/* SPDX-License-Identifier: MIT */
/*
 * shim_lock.c - kpv_shim_lock*: interrupt-disabling spin locks. The
 * reference guest runs one vCPU, where the lock can never be contended
 * (interrupts are off while it is held), but the locks are the real thing
 * so that the file is a fair model for an SMP kernel.
 */
#include "ref.h"

struct kpv_lock *kpv_shim_lock_create(void)
{
	return kpv_shim_alloc(sizeof(struct kpv_lock));
}

void kpv_shim_lock_destroy(struct kpv_lock *lock)
{
	kpv_shim_free(lock);
}

unsigned long kpv_shim_lock(struct kpv_lock *lock)
{
	unsigned long flags = ref_irq_save();

	while (__atomic_exchange_n(&lock->taken, 1, __ATOMIC_ACQUIRE) != 0) {
		/* Wait with plain reads, so the line is not bounced by writes. */
		while (__atomic_load_n(&lock->taken, __ATOMIC_RELAXED) != 0) {
			kt_cpu_relax();
		}
	}
	return flags;
}

void kpv_shim_unlock(struct kpv_lock *lock, unsigned long flags)
{
	__atomic_store_n(&lock->taken, 0, __ATOMIC_RELEASE);
	ref_irq_restore(flags);
}
