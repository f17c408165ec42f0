/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/lib/test_string.c - unit tests for lib/string.c's word-at-a-time
 * memcpy, memmove and memset, against the C library, at every small size
 * and alignment and for overlaps in both directions, with guard bytes
 * around each destination.
 *
 * The hosted build uses libc's functions, so the freestanding file is
 * compiled here under other names. Loop-to-memset rewriting is off, or the
 * compiler would test libc instead.
 */
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#include <string.h>
#define memcpy keel_memcpy
#define memmove keel_memmove
#define memset keel_memset
#define memcmp keel_memcmp
#define strlen keel_strlen
#define strnlen keel_strnlen
#define strcmp keel_strcmp
#define strncmp keel_strncmp
#define strchr keel_strchr
#define strrchr keel_strrchr
#define memchr keel_memchr
#define strtoul keel_strtoul
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include "../../../hypervisor/lib/string.c"
#pragma GCC diagnostic pop
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr
#undef memchr
#undef strtoul
#include "unit.h"

#define SIZES	200
#define ALIGNS	16
#define GUARD	16
#define SPAN	(GUARD + ALIGNS + SIZES + GUARD)

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (unsigned char)(seed * 131 + i * 7 + 1);
	}
}

static void test_memcpy(void)
{
	unsigned char src[SPAN], got[SPAN], want[SPAN];
	unsigned int bad = 0;

	for (size_t n = 0; n < SIZES; n++) {
		for (size_t sa = 0; sa < ALIGNS; sa++) {
			for (size_t da = 0; da < ALIGNS; da += 3) {
				fill(src, SPAN, (unsigned int)n);
				fill(got, SPAN, 99);
				memcpy(want, got, SPAN);
				memcpy(want + GUARD + da, src + GUARD + sa, n);
				if (keel_memcpy(got + GUARD + da, src + GUARD + sa, n) != got + GUARD + da ||
				    memcmp(got, want, SPAN) != 0) {
					bad++;
				}
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_memmove_overlaps(void)
{
	unsigned char got[SPAN + 64], want[SPAN + 64];
	unsigned int bad = 0;

	for (size_t n = 0; n < SIZES; n++) {
		for (int shift = -40; shift <= 40; shift++) {
			size_t from = GUARD + 40, to = (size_t)((int)from + shift);

			fill(got, sizeof(got), (unsigned int)n);
			memcpy(want, got, sizeof(want));
			memmove(want + to, want + from, n);
			if (keel_memmove(got + to, got + from, n) != got + to ||
			    memcmp(got, want, sizeof(got)) != 0) {
				bad++;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_memset(void)
{
	unsigned char got[SPAN], want[SPAN];
	unsigned int bad = 0;

	for (size_t n = 0; n < SIZES; n++) {
		for (size_t da = 0; da < ALIGNS; da++) {
			for (int c = -1; c <= 0x1ff; c += 0x55) {
				fill(got, SPAN, (unsigned int)da);
				memcpy(want, got, SPAN);
				memset(want + GUARD + da, c, n);
				if (keel_memset(got + GUARD + da, c, n) != got + GUARD + da ||
				    memcmp(got, want, SPAN) != 0) {
					bad++;
				}
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_page_sized(void)
{
	static unsigned char a[3 * 4096], b[3 * 4096];

	fill(a, sizeof(a), 7);
	keel_memset(b, 0, sizeof(b));
	keel_memcpy(b + 4096, a + 4096, 4096);
	CU_ASSERT_EQUAL(memcmp(b + 4096, a + 4096, 4096), 0);
	CU_ASSERT_EQUAL(keel_memcmp(b, b + 8192, 4096), 0);
	keel_memset(b + 4096, 0, 4096);
	CU_ASSERT_EQUAL(keel_memcmp(b, b + 4096, 4096), 0);
}

static CU_TestInfo tests[] = {
	{ "memcpy at every size and alignment", test_memcpy },
	{ "memmove overlapping both ways", test_memmove_overlaps },
	{ "memset at every size and alignment", test_memset },
	{ "whole pages", test_page_sized },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo string_suite = {
	.pName = "string",
	.pTests = tests,
};
