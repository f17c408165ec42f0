/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_crash_test.c - unit tests for core/crash_test.c.
 *
 * Only the kinds that do not fault the host process: the architectural
 * ones go to arch_fault_on_purpose(), "panic" panics. (pagefault and
 * stack_overflow are real faults, tested in QEMU.)
 */
#include <keel/main.h>
#include "fake_arch.h"
#include "unit.h"

static void test_arch_kinds_go_to_the_arch(void)
{
	crash_test_run("ud");
	CU_ASSERT_EQUAL(fake.faults, 1);
	CU_ASSERT_STRING_EQUAL(fake.fault_kind, "ud");
	CU_ASSERT_TRUE(fake_console_has("warn: crash test 'ud' requested on the command line\n"));
	/* The fake arch does not fault, and the core says so. */
	CU_ASSERT_TRUE(fake_console_has("error: crash test 'ud' did not crash\n"));

	crash_test_run("divide");
	CU_ASSERT_EQUAL(fake.faults, 2);
	CU_ASSERT_STRING_EQUAL(fake.fault_kind, "divide");
}

static void crash_panic(void *arg)
{
	crash_test_run("panic");
}

static void test_panic_kind_panics(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_run_isolated(crash_panic, NULL), FAKE_HALTED);
	CU_ASSERT_TRUE(fake_console_has("KEEL PANIC on cpu0: crash test: deliberate panic\n"));
	CU_ASSERT_EQUAL(fake.faults, 0);
}

static CU_TestInfo crash_test_tests[] = {
	{ "architectural kinds go to the arch", test_arch_kinds_go_to_the_arch },
	{ "the panic kind panics", test_panic_kind_panics },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo crash_test_suite = {
	.pName = "crash_test",
	.pSetUpFunc = unit_reset,
	.pTests = crash_test_tests,
};
