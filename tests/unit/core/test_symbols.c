/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_symbols.c - unit tests for core/symbols.c, against the
 * fake table in hypervisor/arch/host/ksyms.c.
 */
#include <keel/symbols.h>
#include "unit.h"

static void check_lookup(uintptr_t addr, const char *name, uintptr_t offset)
{
	uintptr_t off = 0xdead;

	CU_ASSERT_STRING_EQUAL(symbol_lookup(addr, &off), name);
	CU_ASSERT_EQUAL(off, offset);
}

static void test_fake_table_is_sorted(void)
{
	CU_ASSERT_FATAL(ksyms_count >= 3);
	for (size_t i = 1; i < ksyms_count; i++) {
		CU_ASSERT(ksyms[i - 1].addr < ksyms[i].addr);
	}
}

static void test_before_the_first_symbol(void)
{
	uintptr_t off = 0xdead;

	CU_ASSERT_PTR_NULL(symbol_lookup(ksyms[0].addr - 1, &off));
	CU_ASSERT_EQUAL(off, 0xdead);		/* untouched */
	CU_ASSERT_PTR_NULL(symbol_lookup(0, &off));
}

static void test_exact_addresses(void)
{
	for (size_t i = 0; i < ksyms_count; i++) {
		check_lookup(ksyms[i].addr, ksyms[i].name, 0);
	}
}

static void test_between_symbols(void)
{
	for (size_t i = 0; i + 1 < ksyms_count; i++) {
		uintptr_t gap = ksyms[i + 1].addr - ksyms[i].addr;

		check_lookup(ksyms[i].addr + 1, ksyms[i].name, 1);
		check_lookup(ksyms[i].addr + gap / 2, ksyms[i].name, gap / 2);
		check_lookup(ksyms[i + 1].addr - 1, ksyms[i].name, gap - 1);
	}
}

static void test_after_the_last_symbol(void)
{
	const struct ksym *last = &ksyms[ksyms_count - 1];

	check_lookup(last->addr + 0x123, last->name, 0x123);
	check_lookup(UINTPTR_MAX, last->name, UINTPTR_MAX - last->addr);
}

static void test_offset_is_optional(void)
{
	CU_ASSERT_STRING_EQUAL(symbol_lookup(ksyms[1].addr + 4, NULL), ksyms[1].name);
}

static CU_TestInfo symbols_tests[] = {
	{ "the fake table is sorted", test_fake_table_is_sorted },
	{ "before the first symbol: unknown", test_before_the_first_symbol },
	{ "exact addresses", test_exact_addresses },
	{ "between symbols", test_between_symbols },
	{ "after the last symbol", test_after_the_last_symbol },
	{ "offset is optional", test_offset_is_optional },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo symbols_suite = {
	.pName = "symbols",
	.pTests = symbols_tests,
};
