/* SPDX-License-Identifier: MIT */
/*
 * core/crash_test.c - deliberate faults for testing the crash reports.
 *
 * Reached only through the test-only crash_test= command-line option. Each
 * kind has its own non-inlined function so the report can be checked to
 * name it.
 */
#include <arch/arch.h>
#include <keel/log.h>
#include <keel/main.h>
#include <keel/panic.h>
#include <keel/string.h>

/* Kept in memory so the compiler cannot prove what the tests do. */
static volatile uintptr_t bad_address = 0x10;
static volatile unsigned int recursion_limit = UINT32_MAX;

NOINLINE static void crash_test_null_deref(void)
{
	uintptr_t addr = bad_address;

	log_info("crash test: reading address %#lx", (unsigned long)addr);
	(void)*(volatile uint64_t *)addr;
}

NOINLINE static unsigned int crash_test_recurse(unsigned int depth)
{
	volatile char frame[512];

	if (depth == recursion_limit) {
		return 0;
	}
	frame[0] = (char)depth;
	return crash_test_recurse(depth + 1) + frame[0];
}

NOINLINE static void crash_test_panic(void)
{
	panic("crash test: deliberate panic");
}

void crash_test_run(const char *kind)
{
	log_warn("crash test '%s' requested on the command line", kind);
	if (strcmp(kind, "pagefault") == 0) {
		crash_test_null_deref();
	} else if (strcmp(kind, "stack_overflow") == 0) {
		crash_test_recurse(0);
	} else if (strcmp(kind, "panic") == 0) {
		crash_test_panic();
	} else {
		arch_fault_on_purpose(kind);
	}
	log_err("crash test '%s' did not crash", kind);
}
