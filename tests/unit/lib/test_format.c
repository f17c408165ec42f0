/* SPDX-License-Identifier: MIT */
/* tests/unit/lib/test_format.c - unit tests for lib/format.c (bounded printf). */
#include <limits.h>
#include <stdio.h>
#include <keel/format.h>
#include "unit.h"

/* Format into a roomy buffer; the result must be @expect, returned length too. */
static void vcheck(int line, const char *expect, const char *fmt, va_list ap)
{
	char buf[256], msg[512];
	size_t n;

	memset(buf, 0x5a, sizeof(buf));
	n = format_v(buf, sizeof(buf), fmt, ap);
	snprintf(msg, sizeof(msg), "format(\"%s\") gave \"%s\" (%zu), expected \"%s\"",
		 fmt, buf, n, expect);
	CU_assertImplementation(strcmp(buf, expect) == 0 && n == strlen(expect),
				(unsigned int)line, msg, __FILE__, "", CU_FALSE);
}

static void check_at(int line, const char *expect, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void check_at(int line, const char *expect, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(line, expect, fmt, ap);
	va_end(ap);
}

/* The same without the compiler's format checking, for malformed formats. */
static void check_unchecked_at(int line, const char *expect, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(line, expect, fmt, ap);
	va_end(ap);
}

#define CHECK(expect, ...)	check_at(__LINE__, expect, __VA_ARGS__)
#define CHECK_UNCHECKED(expect, ...) check_unchecked_at(__LINE__, expect, __VA_ARGS__)

static void test_signed_and_unsigned_decimal(void)
{
	CHECK("0", "%d", 0);
	CHECK("-42", "%d", -42);
	CHECK("7", "%i", 7);
	CHECK("-2147483648", "%d", INT_MIN);
	CHECK("2147483647", "%d", INT_MAX);
	CHECK("4294967295", "%u", UINT_MAX);
	CHECK("a1b-2c", "a%db%dc", 1, -2);
}

static void test_hex_and_octal(void)
{
	CHECK("deadbeef", "%x", 0xdeadbeefu);
	CHECK("DEADBEEF", "%X", 0xdeadbeefu);
	CHECK("0xff", "%#x", 255u);
	CHECK("0XFF", "%#X", 255u);
	CHECK("10", "%o", 8u);
	/* Keel differs from C here on purpose: the 0x prefix stays on zero, so
	 * columns like memmap_log()'s "%#014llx" line up. */
	CHECK("0x0", "%#x", 0u);
}

static void test_width_and_flags(void)
{
	CHECK("   42", "%5d", 42);
	CHECK("42   |", "%-5d|", 42);
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);
	CHECK("  -42", "%5d", -42);
	CHECK_UNCHECKED("42   |", "%-05d|", 42);	/* '-' wins over '0' */
	CHECK("12345", "%2d", 12345);	/* width is a minimum */
	CHECK("    beef", "%8x", 0xbeefu);
	CHECK("0x0000beef", "%#010x", 0xbeefu);
	CHECK("  0xbeef", "%#8x", 0xbeefu);
	CHECK("    42", "%*d", 6, 42);
	CHECK("  x", "%3c", 'x');
	CHECK("x  |", "%-3c|", 'x');
	CHECK("x", "%c", 'x');
}

static void test_strings_width_and_precision(void)
{
	CHECK("abc", "%s", "abc");
	CHECK("  abc", "%5s", "abc");
	CHECK("abc  |", "%-5s|", "abc");
	CHECK("ab", "%.2s", "abc");
	CHECK("", "%.0s", "abc");
	CHECK("ab", "%.*s", 2, "abcdef");
	CHECK("   ab", "%5.2s", "abc");
	CHECK("abc", "%.10s", "abc");
	CHECK_UNCHECKED("(null)", "%s", (const char *)NULL);
}

/* With a precision, the argument need not be NUL-terminated (C99 7.19.6.1). */
static void test_string_precision_reads_no_further(void)
{
	char *word = exact_copy("abcdef", 3);	/* "abc", no NUL */
	char buf[16];

	CU_ASSERT_EQUAL(format(buf, sizeof(buf), "<%.3s>", word), 5);
	CU_ASSERT_STRING_EQUAL(buf, "<abc>");
	CU_ASSERT_EQUAL(format(buf, sizeof(buf), "<%.*s>", 2, word), 4);
	CU_ASSERT_STRING_EQUAL(buf, "<ab>");
	free(word);
}

static void test_pointers(void)
{
	CHECK("0x1234", "%p", (void *)0x1234);
	CHECK("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	CHECK("0x0", "%p", (void *)NULL);
	CHECK("  0x1234", "%8p", (void *)0x1234);
}

static void test_length_modifiers(void)
{
	CHECK("18446744073709551615", "%zu", SIZE_MAX);
	CHECK("ffffffffffffffff", "%zx", SIZE_MAX);
	CHECK("-9223372036854775808", "%lld", LLONG_MIN);
	CHECK("9223372036854775807", "%lld", LLONG_MAX);
	CHECK("18446744073709551615", "%llu", ULLONG_MAX);
	CHECK("123456789abcdef0", "%llx", 0x123456789abcdef0ull);
	CHECK("-1", "%ld", -1L);
	CHECK("18446744073709551615", "%lu", ULONG_MAX);
	CHECK("-1", "%hhd", -1);
	CHECK("44", "%hhu", 300);		/* converted to unsigned char */
	CHECK("4464", "%hd", 70000);		/* converted to short */
	CHECK("ffff", "%hx", 0x1ffff);
}

static void test_percent_and_odd_conversions(void)
{
	CHECK("100%", "100%%");
	/* Unknown: shown as is, and no argument taken. */
	CHECK_UNCHECKED("a%qb7", "a%qb%d", 7);
	CHECK_UNCHECKED("abc", "abc%");	/* a lone '%' at the end is dropped */
	CHECK_UNCHECKED("", "");
}

static void test_truncation(void)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	CU_ASSERT_EQUAL(format(buf, 5, "%s", "abcdefgh"), 8);
	CU_ASSERT_STRING_EQUAL(buf, "abcd");
	CU_ASSERT_EQUAL(buf[5], 'Z');		/* nothing written past size */

	CU_ASSERT_EQUAL(format(buf, 4, "%d", 123456), 6);
	CU_ASSERT_STRING_EQUAL(buf, "123");

	CU_ASSERT_EQUAL(format(buf, 1, "%s", "abc"), 3);
	CU_ASSERT_STRING_EQUAL(buf, "");

	CU_ASSERT_EQUAL(format(buf, 8, "%s", "1234567"), 7);	/* exact fit */
	CU_ASSERT_STRING_EQUAL(buf, "1234567");

	CU_ASSERT_EQUAL(format(buf, 8, "%5d|%-4s|", 1, "x"), 11);
	CU_ASSERT_STRING_EQUAL(buf, "    1|x");
}

static void test_size_zero_writes_nothing(void)
{
	char buf[4] = "QQQ";

	CU_ASSERT_EQUAL(format(buf, 0, "%s-%d", "abc", 42), 6);
	CU_ASSERT_STRING_EQUAL(buf, "QQQ");
	CU_ASSERT_EQUAL(format(NULL, 0, "%x", 0xabcu), 3);
}

static void test_mixed_line(void)
{
	CHECK("[    1.000250] cpu3 warn: pa 0x00001000 size 4096 'mod'",
	      "[%5llu.%06llu] cpu%u %s: pa %#010llx size %zu '%s'",
	      1ull, 250ull, 3u, "warn", 0x1000ull, (size_t)4096, "mod");
}

static CU_TestInfo format_tests[] = {
	{ "signed and unsigned decimal", test_signed_and_unsigned_decimal },
	{ "hex and octal", test_hex_and_octal },
	{ "width and flags", test_width_and_flags },
	{ "strings: width and precision", test_strings_width_and_precision },
	{ "string precision reads no further", test_string_precision_reads_no_further },
	{ "pointers", test_pointers },
	{ "length modifiers", test_length_modifiers },
	{ "%% and odd conversions", test_percent_and_odd_conversions },
	{ "truncation keeps the full length", test_truncation },
	{ "size 0 writes nothing", test_size_zero_writes_nothing },
	{ "a log-style line", test_mixed_line },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo format_suite = {
	.pName = "format",
	.pTests = format_tests,
};
