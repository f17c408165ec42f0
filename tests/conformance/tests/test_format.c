/* SPDX-License-Identifier: MIT */
/* tests/conformance/tests/test_format.c - kpv_snprintf(): the conversions pvdrivers logs with, and truncation. */
#include <stdio.h>
#include "common.h"
#include "suites.h"

/* kpv_snprintf must agree with the C library on everything it supports. */
#define SAME(fmt, ...)								\
	do {									\
		char want[128], got[128];					\
		int nw = snprintf(want, sizeof(want), fmt, __VA_ARGS__);	\
		int ng = kpv_snprintf(got, sizeof(got), fmt, __VA_ARGS__);	\
		CU_ASSERT_STRING_EQUAL(got, want);				\
		CU_ASSERT_EQUAL(ng, nw);					\
	} while (0)

static void test_conversions(void)
{
	SAME("%d %i %u", -42, 7, 4000000000u);
	SAME("%x %X %08x %-6x|", 0xbeefu, 0xbeefu, 0x12u, 0xau);
	SAME("%ld %lu %lx", -1234567890123l, 18446744073709551615ul, 0xfeedfacecafebeeful);
	SAME("%lld %llu", -9223372036854775807ll - 1, 18446744073709551615ull);
	SAME("%zu %5d|%-5d|%05d", (size_t)12345, 42, 42, -42);
	SAME("%s|%10s|%-10s|%c%%", "abc", "right", "left", 'z');
	SAME("%u %u %u", 0u, 9u, 10u);
	SAME("%llu %llu", 9999999999999999999ull, 10000000000000000000ull);
}

static void test_pointer_and_null(void)
{
	/* Formats the compiler would refuse, through variables. */
	const char *volatile unknown = "%q %d", *volatile lone = "100%", *volatile s = "%s";
	const char *volatile none = NULL;
	char buf[64];

	kpv_snprintf(buf, sizeof(buf), "%p", (void *)0x1234);
	CU_ASSERT_STRING_EQUAL(buf, "0x1234");
	kpv_snprintf(buf, sizeof(buf), s, none);
	CU_ASSERT_STRING_EQUAL(buf, "(null)");
	/* An unknown conversion is shown, and takes no argument. */
	kpv_snprintf(buf, sizeof(buf), unknown, 5);
	CU_ASSERT_STRING_EQUAL(buf, "%q 5");
	/* A lone % at the end is dropped. */
	kpv_snprintf(buf, sizeof(buf), lone, 0);
	CU_ASSERT_STRING_EQUAL(buf, "100");
}

static void test_truncation(void)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	CU_ASSERT_EQUAL(kpv_snprintf(buf, 5, "%s", "abcdefgh"), 8);
	CU_ASSERT_STRING_EQUAL(buf, "abcd");
	CU_ASSERT_EQUAL(buf[5], 'x');		/* nothing written past size */
	CU_ASSERT_EQUAL(kpv_snprintf(buf, 1, "%d", 12345), 5);
	CU_ASSERT_EQUAL(buf[0], '\0');
	CU_ASSERT_EQUAL(kpv_snprintf(NULL, 0, "%d", 12345), 5);
}

static CU_TestInfo tests[] = {
	{ "conversions agree with the C library", test_conversions },
	{ "pointers, NULL strings, unknown conversions", test_pointer_and_null },
	{ "truncation never writes past size", test_truncation },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo format_suite = { "format", NULL, NULL, NULL, NULL, tests };
