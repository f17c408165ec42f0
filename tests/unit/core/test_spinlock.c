/* SPDX-License-Identifier: MIT */
/* tests/unit/core/test_spinlock.c - unit tests for keel/spinlock.h (single-threaded). */
#include <keel/spinlock.h>
#include "fake_arch.h"
#include "unit.h"

static void test_trylock_fails_while_held(void)
{
	struct spinlock l = SPINLOCK_INIT;

	CU_ASSERT_TRUE(spin_trylock(&l));
	CU_ASSERT_FALSE(spin_trylock(&l));
	spin_unlock(&l);
	CU_ASSERT_TRUE(spin_trylock(&l));
	spin_unlock(&l);
	spin_lock(&l);
	CU_ASSERT_FALSE(spin_trylock(&l));
	spin_unlock(&l);
	CU_ASSERT_EQUAL(l.next, l.owner);	/* every ticket served */
}

static void test_irqsave_restores_the_previous_state(void)
{
	struct spinlock l = SPINLOCK_INIT;
	unsigned long outer, inner;

	CU_ASSERT_FALSE(fake.irqs_off);
	outer = spin_lock_irqsave(&l);
	CU_ASSERT_TRUE(fake.irqs_off);
	inner = arch_irq_save();		/* nested: already off */
	arch_irq_restore(inner);
	CU_ASSERT_TRUE(fake.irqs_off);
	spin_unlock_irqrestore(&l, outer);
	CU_ASSERT_FALSE(fake.irqs_off);
	CU_ASSERT_TRUE(spin_trylock(&l));
}

static CU_TestInfo spinlock_tests[] = {
	{ "trylock fails while held", test_trylock_fails_while_held },
	{ "irqsave restores the previous state", test_irqsave_restores_the_previous_state },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo spinlock_suite = {
	.pName = "spinlock",
	.pSetUpFunc = unit_reset,
	.pTests = spinlock_tests,
};
