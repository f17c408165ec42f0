/* SPDX-License-Identifier: MIT */
/*
 * keel/spinlock.h - ticket spinlocks.
 *
 * Fair (FIFO) so that no CPU starves under contention. Written with the
 * compiler's atomic builtins, so the same code serves every architecture and
 * the host build. spin_lock_irqsave() is for locks also taken in interrupt
 * or exception context.
 */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <arch/arch.h>

struct spinlock {
	uint32_t next;		/* ticket handed to the next arrival */
	uint32_t owner;		/* ticket now allowed in */
};

#define SPINLOCK_INIT		{ 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket) {
		arch_cpu_relax();
	}
}

static inline bool spin_trylock(struct spinlock *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint32_t expected = owner;

	return __atomic_compare_exchange_n(&l->next, &expected, owner + 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static inline unsigned long spin_lock_irqsave(struct spinlock *l)
{
	unsigned long flags = arch_irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l,
					  unsigned long flags)
{
	spin_unlock(l);
	arch_irq_restore(flags);
}

/*
 * The locks of two objects that are ordered by a key (a domain id): the
 * lower key is taken first, so two CPUs locking the same pair never
 * deadlock. @b may be NULL or @a (then only @a is taken).
 */
static inline unsigned long spin_lock_pair_irqsave(struct spinlock *a, uint64_t key_a,
						   struct spinlock *b, uint64_t key_b)
{
	unsigned long flags = arch_irq_save();

	if (!b || b == a) {
		spin_lock(a);
	} else if (key_a < key_b) {
		spin_lock(a);
		spin_lock(b);
	} else {
		spin_lock(b);
		spin_lock(a);
	}
	return flags;
}

static inline void spin_unlock_pair_irqrestore(struct spinlock *a, struct spinlock *b,
					       unsigned long flags)
{
	if (b && b != a) {
		spin_unlock(b);
	}
	spin_unlock(a);
	arch_irq_restore(flags);
}

#endif
