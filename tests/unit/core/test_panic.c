/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_panic.c - unit tests for core/panic.c: verdict lines,
 * clean halts, panics and backtraces.
 *
 * panic() reports only the first panic of a process, so every test that
 * panics runs in a child (fake_run_isolated()).
 */
#include <keel/log.h>
#include <keel/panic.h>
#include <keel/symbols.h>
#include "fake_arch.h"
#include "unit.h"

static void teardown(void)
{
	verdict_set_emulator_exit(false);
}

static void test_verdict_line_without_emulator_exit(void)
{
	verdict_report(VERDICT_SUCCESS, "boot complete: %u CPUs", 4u);
	CU_ASSERT_STRING_EQUAL(fake_console(), "KEEL-VERDICT: SUCCESS boot complete: 4 CPUs\n");
	CU_ASSERT_EQUAL(fake.debug_exits, 0);
	CU_ASSERT_EQUAL(fake.halts, 0);		/* reporting does not halt */
}

static void test_verdict_codes_with_emulator_exit(void)
{
	static const struct {
		enum verdict v;
		const char *line;
	} cases[] = {
		{ VERDICT_SUCCESS, "KEEL-VERDICT: SUCCESS m\n" },
		{ VERDICT_FAILURE, "KEEL-VERDICT: FAILURE m\n" },
		{ VERDICT_ERROR, "KEEL-VERDICT: ERROR m\n" },
		{ VERDICT_SKIP, "KEEL-VERDICT: SKIP m\n" },
		{ VERDICT_HALTED, "KEEL-VERDICT: HALTED m\n" },
		{ VERDICT_PANIC, "KEEL-VERDICT: PANIC m\n" },
	};

	verdict_set_emulator_exit(true);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_console_clear();
		verdict_report(cases[i].v, "%s", "m");
		CU_ASSERT_STRING_EQUAL(fake_console(), cases[i].line);
		CU_ASSERT_EQUAL(fake.debug_exits, i + 1);
		CU_ASSERT_EQUAL(fake.debug_exit_code, (unsigned int)cases[i].v);
	}
	verdict_set_emulator_exit(false);
	verdict_report(VERDICT_FAILURE, "off again");
	CU_ASSERT_EQUAL(fake.debug_exits, ARRAY_SIZE(cases));
}

static void halt_no_ram(void *arg)
{
	halt_cleanly("not enough memory: %u MiB", 12u);
}

static void test_halt_cleanly_explains_and_halts(void)
{
	CU_ASSERT_TRUE(fake_run_until_halt(halt_no_ram, NULL));
	CU_ASSERT_EQUAL(fake.halts, 1);
	CU_ASSERT_EQUAL(fake.stop_other_cpus, 1);
	CU_ASSERT_TRUE(fake_console_has("cpu0 error: not enough memory: 12 MiB\n"));
	CU_ASSERT_TRUE(fake_console_has("halting (safe to power off)\n"));
	CU_ASSERT_TRUE(fake_console_has("KEEL-VERDICT: HALTED not enough memory: 12 MiB\n"));
	CU_ASSERT_EQUAL(fake.debug_exits, 0);

	verdict_set_emulator_exit(true);
	CU_ASSERT_TRUE(fake_run_until_halt(halt_no_ram, NULL));
	CU_ASSERT_EQUAL(fake.debug_exit_code, VERDICT_HALTED);
}

static void panic_on_cpu2(void *arg)
{
	fake.cpu_index = 2;
	panic("broken invariant %d", 9);
}

static void test_panic_reports_and_halts(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_run_isolated(panic_on_cpu2, NULL), FAKE_HALTED);
	CU_ASSERT_TRUE(fake_console_has("\n*** KEEL PANIC on cpu2: broken invariant 9\n"));
	CU_ASSERT_TRUE(fake_console_has("backtrace:\n  #0 0x"));
	CU_ASSERT_TRUE(fake_console_has("KEEL-VERDICT: PANIC cpu2: broken invariant 9\n"));
	CU_ASSERT_EQUAL(fake.stop_other_cpus, 1);
	CU_ASSERT_TRUE(fake.irqs_off);
	CU_ASSERT_EQUAL(fake.halts, 1);
	CU_ASSERT_EQUAL(fake.debug_exits, 0);
}

static void test_panic_exits_emulator_with_panic_code(void)
{
	verdict_set_emulator_exit(true);
	CU_ASSERT_EQUAL_FATAL(fake_run_isolated(panic_on_cpu2, NULL), FAKE_HALTED);
	CU_ASSERT_EQUAL(fake.debug_exits, 1);
	CU_ASSERT_EQUAL(fake.debug_exit_code, VERDICT_PANIC);
}

static void panic_first(void *arg)
{
	panic("first");
}

static void panic_second(void *arg)
{
	panic("second");
}

/* A panic while panicking (or on a second CPU) only halts. */
static void panic_twice(void *arg)
{
	bool halted = fake_run_until_halt(panic_first, NULL);

	fake_console_clear();
	halted = halted && fake_run_until_halt(panic_second, NULL);
	log_raw("both halted: %d\n", halted);
}

static void test_second_panic_only_halts(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_run_isolated(panic_twice, NULL), FAKE_RETURNED);
	CU_ASSERT_STRING_EQUAL(fake_console(), "both halted: 1\n");
	CU_ASSERT_EQUAL(fake.halts, 2);
	CU_ASSERT_EQUAL(fake.stop_other_cpus, 1);
}

static void enter_twice(void *arg)
{
	bool first = panic_enter();
	bool second = panic_enter();

	log_raw("first=%d second=%d\n", first, second);
}

static void test_panic_enter_admits_one_report(void)
{
	CU_ASSERT_EQUAL_FATAL(fake_run_isolated(enter_twice, NULL), FAKE_RETURNED);
	CU_ASSERT_STRING_EQUAL(fake_console(), "first=1 second=0\n");
	CU_ASSERT_TRUE(fake.irqs_off);
	CU_ASSERT_EQUAL(fake.stop_other_cpus, 1);
}

static void failing_assert(void *arg)
{
	int two = *(int *)arg;

	ASSERT(two + 1 == 4);
}

static void test_assert_panics_with_condition_and_place(void)
{
	int two = 2;

	CU_ASSERT_EQUAL_FATAL(fake_run_isolated(failing_assert, &two), FAKE_HALTED);
	CU_ASSERT_TRUE(fake_console_has("KEEL PANIC on cpu0: assertion failed: two + 1 == 4 ("));
	CU_ASSERT_TRUE(fake_console_has("test_panic.c:"));
}

static void passing_assert(void *arg)
{
	ASSERT(arg == NULL);
}

static void test_assert_that_holds_is_silent(void)
{
	CU_ASSERT_FALSE(fake_run_until_halt(passing_assert, NULL));
	CU_ASSERT_EQUAL(fake_console_len(), 0);
}

static void test_backtrace_names_functions(void)
{
	/* pcs[0] is a faulting instruction, the others are return addresses. */
	const uintptr_t pcs[] = { ksyms[2].addr, ksyms[0].addr + 0x10, ksyms[2].addr };

	backtrace_print(pcs, ARRAY_SIZE(pcs), true);
	CU_ASSERT_STRING_EQUAL(fake_console(),
			       "backtrace:\n"
			       "  #0 0x0000000000002000 fake_gamma+0x0\n"
			       "  #1 0x0000000000001010 fake_alpha+0x10\n"
			       /* Returns to the next function's start: a call
				* (to a noreturn function) ended fake_beta. */
			       "  #2 0x0000000000002000 fake_beta+0xf00\n");

	fake_console_clear();
	backtrace_print((const uintptr_t[]){ 0x10 }, 1, true);
	CU_ASSERT_TRUE(fake_console_has("  #0 0x0000000000000010 ?+"));
}

static void test_backtrace_of_return_addresses_only(void)
{
	const uintptr_t pcs[] = { ksyms[2].addr, ksyms[0].addr + 1 };

	backtrace_print(pcs, ARRAY_SIZE(pcs), false);
	CU_ASSERT_STRING_EQUAL(fake_console(),
			       "backtrace:\n"
			       "  #0 0x0000000000002000 fake_beta+0xf00\n"
			       "  #1 0x0000000000001001 fake_alpha+0x1\n");
}

static void test_panic_backtrace_prints_the_arch_frames(void)
{
	panic_backtrace();
	CU_ASSERT_TRUE(fake_console_has("backtrace:\n  #0 0x"));
	CU_ASSERT_FALSE(fake_console_has("#1"));	/* the fake reports one frame */
}

static CU_TestInfo panic_tests[] = {
	{ "verdict line without emulator exit", test_verdict_line_without_emulator_exit },
	{ "verdict codes with emulator exit", test_verdict_codes_with_emulator_exit },
	{ "halt_cleanly explains and halts", test_halt_cleanly_explains_and_halts },
	{ "panic reports and halts", test_panic_reports_and_halts },
	{ "panic exits the emulator with the panic code",
	  test_panic_exits_emulator_with_panic_code },
	{ "a second panic only halts", test_second_panic_only_halts },
	{ "panic_enter admits one report", test_panic_enter_admits_one_report },
	{ "ASSERT panics with condition and place",
	  test_assert_panics_with_condition_and_place },
	{ "an ASSERT that holds is silent", test_assert_that_holds_is_silent },
	{ "backtrace names functions", test_backtrace_names_functions },
	{ "backtrace of return addresses only", test_backtrace_of_return_addresses_only },
	{ "panic_backtrace prints the arch's frames", test_panic_backtrace_prints_the_arch_frames },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo panic_suite = {
	.pName = "panic",
	.pSetUpFunc = unit_reset,
	.pTearDownFunc = teardown,
	.pTests = panic_tests,
};
