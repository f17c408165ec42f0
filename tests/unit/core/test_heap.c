/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_heap.c - unit tests for core/heap.c.
 *
 * The heap sits on the page allocator over 63 MiB of fake RAM. Its state
 * cannot be reset, so every test frees all it allocated and checks that the
 * page counts are back where they started; panics run in a child.
 */
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include "fake_arch.h"
#include "unit.h"

#define HEADER		64u	/* the heap's per-page header */
#define MIN_CLASS	16u
#define MAX_CLASS	2048u

static uint64_t free_at_start;

static int init(void)
{
	return unit_page_alloc_init() == 0 && heap_page_count() == 0 ? 0 : -1;
}

static void setup(void)
{
	fake_arch_reset();
	free_at_start = page_alloc_free_count();
}

/* Everything a test allocated is back. */
static void check_all_returned(void)
{
	CU_ASSERT_EQUAL(heap_page_count(), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_at_start);
	CU_ASSERT_FALSE(fake.irqs_off);
}

static bool all_equal(const void *p, uint8_t value, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != value) {
			return false;
		}
	}
	return true;
}

static bool all_zero(const void *p, size_t n)
{
	return all_equal(p, 0, n);
}

static void test_size_classes(void)
{
	for (size_t size = MIN_CLASS; size <= MAX_CLASS; size *= 2) {
		/* Two objects of one class, the smaller just above the class below. */
		void *a = heap_alloc(size);
		void *b = heap_alloc(size / 2 + 1);
		uint64_t pages = size == MAX_CLASS ? 2 : 1;	/* 2048: one per page */

		CU_ASSERT_FATAL(a && b && a != b);
		CU_ASSERT_EQUAL((uintptr_t)a % size, 0);	/* class-aligned */
		CU_ASSERT_EQUAL((uintptr_t)b % size, 0);
		CU_ASSERT_EQUAL(heap_page_count(), pages);
		CU_ASSERT_EQUAL(page_alloc_free_count(), free_at_start - pages);
		heap_free(a);
		heap_free(b);
		check_all_returned();
	}
}

static void test_neighbouring_sizes_use_different_classes(void)
{
	void *a = heap_alloc(16);
	void *b = heap_alloc(17);
	void *c = heap_alloc(32);

	CU_ASSERT_EQUAL(heap_page_count(), 2);		/* 16 | 17 and 32 */
	CU_ASSERT_EQUAL((uintptr_t)b & ~(PAGE_SIZE - 1), (uintptr_t)c & ~(PAGE_SIZE - 1));
	CU_ASSERT_NOT_EQUAL((uintptr_t)a & ~(PAGE_SIZE - 1), (uintptr_t)b & ~(PAGE_SIZE - 1));
	heap_free(b);
	heap_free(a);
	heap_free(c);
	check_all_returned();
}

static void test_a_page_holds_as_many_as_fit(void)
{
	/* 64-byte objects: (4096 - 64) / 64 = 63 per page. */
	void *objs[127];

	for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i] = heap_alloc(64);
		CU_ASSERT_FATAL(objs[i] != NULL);
		CU_ASSERT_EQUAL(heap_page_count(), i / 63 + 1);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++) {
		heap_free(objs[i]);
	}
	check_all_returned();
}

static void test_memory_comes_zeroed(void)
{
	uint8_t *keep = heap_alloc(100);	/* keeps the page alive */
	uint8_t *a = heap_alloc(100);
	uint8_t *b, *big, *big2;

	memset(a, 0xff, 128);
	heap_free(a);
	b = heap_alloc(120);
	CU_ASSERT_PTR_EQUAL(b, a);		/* the freed slot is reused first */
	CU_ASSERT_TRUE(all_zero(b, 128));

	big = heap_alloc(3 * PAGE_SIZE);
	memset(big, 0xff, 3 * PAGE_SIZE);
	heap_free(big);
	big2 = heap_alloc(3 * PAGE_SIZE);
	CU_ASSERT_PTR_EQUAL(big2, big);
	CU_ASSERT_TRUE(all_zero(big2, 3 * PAGE_SIZE));

	heap_free(big2);
	heap_free(b);
	heap_free(keep);
	check_all_returned();
}

static void test_large_allocations_take_whole_pages(void)
{
	static const struct {
		size_t size;
		uint64_t pages;
	} cases[] = {
		{ MAX_CLASS + 1, 1 },
		{ PAGE_SIZE - HEADER, 1 },
		{ PAGE_SIZE - HEADER + 1, 2 },
		{ 5000, 2 },
		{ MiB(1), 257 },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *p = heap_alloc(cases[i].size);

		CU_ASSERT_FATAL(p != NULL);
		CU_ASSERT_EQUAL((uintptr_t)p % PAGE_SIZE, HEADER);
		CU_ASSERT_EQUAL(heap_page_count(), cases[i].pages);
		CU_ASSERT_EQUAL(page_alloc_free_count(), free_at_start - cases[i].pages);
		memset(p, 0x77, cases[i].size);
		heap_free(p);
		check_all_returned();
	}
}

/* Many objects of mixed sizes: none overlaps another, all go back. */
#define MIXED_COUNT	1500

static void test_mixed_objects_do_not_overlap(void)
{
	static uint8_t *objs[MIXED_COUNT];
	static size_t sizes[MIXED_COUNT];
	uint64_t seed = 7;

	for (unsigned int i = 0; i < MIXED_COUNT; i++) {
		sizes[i] = 1 + unit_rand(&seed) % (i % 10 ? MAX_CLASS : 3 * PAGE_SIZE);
		objs[i] = heap_alloc(sizes[i]);
		CU_ASSERT_FATAL(objs[i] != NULL);
		CU_ASSERT_FATAL(all_zero(objs[i], sizes[i]));
		memset(objs[i], (int)(i & 0xff), sizes[i]);
	}
	for (unsigned int i = 0; i < MIXED_COUNT; i++) {
		CU_ASSERT_FATAL(all_equal(objs[i], (uint8_t)(i & 0xff), sizes[i]));
	}
	/* Free in a scrambled order: odd ones, then even ones backwards. */
	for (unsigned int i = 1; i < MIXED_COUNT; i += 2) {
		heap_free(objs[i]);
	}
	for (unsigned int i = MIXED_COUNT; i > 0; i -= 2) {
		heap_free(objs[i - 2]);
	}
	check_all_returned();
}

static void test_zero_size_and_null(void)
{
	void *p = heap_alloc(0);

	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_EQUAL(heap_page_count(), 1);
	heap_free(p);
	heap_free(NULL);
	check_all_returned();
}

static void test_impossible_sizes_fail_cleanly(void)
{
	CU_ASSERT_PTR_NULL(heap_alloc(SIZE_MAX));
	CU_ASSERT_PTR_NULL(heap_alloc((size_t)1 << 40));	/* 1 TiB: no such RAM */
	CU_ASSERT_PTR_NULL(heap_alloc(MiB(64)));		/* more than is free */
	check_all_returned();
}

static void free_unowned_page(void *arg)
{
	heap_free((uint8_t *)arch_phys_to_virt(page_alloc(1)) + HEADER);
}

static void free_misaligned(void *arg)
{
	uint8_t *p = heap_alloc(64);

	heap_free(p + 8);
}

static void free_header(void *arg)
{
	uint8_t *p = heap_alloc(64);

	heap_free((void *)((uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1)));
}

static void free_twice(void *arg)
{
	void *p = heap_alloc(MAX_CLASS);	/* alone in its page */

	heap_free(p);
	heap_free(p);
}

static void test_freeing_a_bogus_pointer_panics(void)
{
	static void (*const cases[])(void *) = {
		free_unowned_page, free_misaligned, free_header, free_twice,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_console_clear();
		CU_ASSERT_EQUAL(fake_run_isolated(cases[i], NULL), FAKE_HALTED);
		CU_ASSERT_TRUE(fake_console_has("KEEL PANIC on cpu0: heap_free(0x"));
		CU_ASSERT_TRUE(fake_console_has("): not a live heap object"));
	}
	/* The children's allocations went with them. */
	CU_ASSERT_EQUAL(heap_page_count(), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_at_start);
}

static CU_TestInfo heap_tests[] = {
	{ "size classes", test_size_classes },
	{ "neighbouring sizes use different classes",
	  test_neighbouring_sizes_use_different_classes },
	{ "a page holds as many as fit", test_a_page_holds_as_many_as_fit },
	{ "memory comes zeroed", test_memory_comes_zeroed },
	{ "large allocations take whole pages", test_large_allocations_take_whole_pages },
	{ "mixed objects do not overlap", test_mixed_objects_do_not_overlap },
	{ "zero size and NULL", test_zero_size_and_null },
	{ "impossible sizes fail cleanly", test_impossible_sizes_fail_cleanly },
	{ "freeing a bogus pointer panics", test_freeing_a_bogus_pointer_panics },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo heap_suite = {
	.pName = "heap",
	.pInitFunc = init,
	.pSetUpFunc = setup,
	.pTests = heap_tests,
};
