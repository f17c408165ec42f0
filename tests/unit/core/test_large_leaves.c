/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_large_leaves.c - unit tests for the p2m's 1 GiB and
 * 2 MiB leaves (core/guest_memory.c): populate picks the largest leaf the
 * alignment, the count, the arch and free memory allow; releasing part of
 * a 1 GiB leaf splits it level by level with the data in place; a failed
 * split changes nothing the guest can see; every page comes back.
 *
 * The suite's page allocator spans [1 MiB, 2 GiB + 64 MiB): its only free
 * 1 GiB-aligned GiB is [1 GiB, 2 GiB), so taking that one leaves exactly
 * enough 2 MiB chunks for a fallback. Each 1 GiB populate zeroes 1 GiB of
 * fake RAM; the suite returns it to the host when it ends.
 */
#include <keel/domain.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <public/keel/errno.h>
#include "fake_arch.h"
#include "unit.h"

#define GIB_PAGES	(1ull << GUEST_HUGE_ORDER)
#define MIB2_PAGES	(1ull << GUEST_LARGE_ORDER)
#define BASE		GIB_PAGES		/* GFN 1 GiB: aligned for a 1 GiB leaf */


static int suite_init(void)
{
	return unit_page_alloc_init_span(MiB(1), GiB(2) + MiB(63));
}

static int suite_cleanup(void)
{
	fake_ram_reset();
	return 0;
}

static void setup(void)
{
	unit_reset_counted();
}

static void check_leaves(struct domain *d, uint64_t small, uint64_t large, uint64_t huge)
{
	uint64_t n[GUEST_LEAF_SIZES];

	guest_memory_leaf_counts(d, n);
	CU_ASSERT_EQUAL(n[0], small);
	CU_ASSERT_EQUAL(n[1], large);
	CU_ASSERT_EQUAL(n[2], huge);
}

/* Write each page's GFN into its first 8 bytes, over [gfn, gfn + count) by @step. */
static void stamp(struct domain *d, uint64_t gfn, uint64_t count, uint64_t step)
{
	for (uint64_t g = gfn; g < gfn + count; g += step) {
		CU_ASSERT_EQUAL(guest_copy_to(d, g << PAGE_SHIFT, &g, sizeof(g)), 0);
	}
}

/* Those stamps are still there, and the second stage agrees with the p2m. */
static bool stamps_intact(struct domain *d, uint64_t gfn, uint64_t count, uint64_t step,
			  uint64_t skip_from, uint64_t skip_count)
{
	for (uint64_t g = gfn; g < gfn + count; g += step) {
		uint64_t got = ~0ull;
		paddr_t pa = 0, seen = 1;
		uint32_t r1 = 0, r2 = 0;

		if (g >= skip_from && g < skip_from + skip_count) {
			continue;
		}
		if (guest_copy_from(d, g << PAGE_SHIFT, &got, sizeof(got)) != 0 || got != g ||
		    !guest_memory_translate(d, g, &pa, &r1) || !fake_p2m_lookup(d, g, &seen, &r2) ||
		    pa != seen || r1 != r2) {
			return false;
		}
	}
	return true;
}

static void test_populate_picks_largest_leaves(void)
{
	uint64_t count = GIB_PAGES + MIB2_PAGES + 3;
	struct domain *d = unit_domain("huge", 1, count);
	paddr_t first = 0, pa = 0;
	uint32_t rights = 0;

	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, count), 0);
	check_leaves(d, 3, 1, 1);
	CU_ASSERT_EQUAL(fake.p2m_huge_sets, 1);
	CU_ASSERT_EQUAL(fake.p2m_large_sets, 1);
	CU_ASSERT_EQUAL(d->mem.ram_pages, count);
	/* One leaf, so one contiguous, 1 GiB-aligned host range behind it. */
	CU_ASSERT_TRUE(guest_memory_translate(d, BASE, &first, &rights));
	CU_ASSERT_EQUAL(first & (GiB(1) - 1), 0);
	CU_ASSERT_TRUE(guest_memory_translate(d, BASE + 123457, &pa, &rights));
	CU_ASSERT_EQUAL(pa, first + 123457 * PAGE_SIZE);
	CU_ASSERT_EQUAL(rights, GUEST_RWX);
	/* A copy across the 1 GiB / 2 MiB boundary. */
	{
		uint64_t gpa = ((BASE + GIB_PAGES) << PAGE_SHIFT) - 4, in = 0x1122334455667788ull, out;

		CU_ASSERT_EQUAL(guest_copy_to(d, gpa, &in, sizeof(in)), 0);
		CU_ASSERT_EQUAL(guest_copy_from(d, gpa, &out, sizeof(out)), 0);
		CU_ASSERT_EQUAL(out, in);
	}
	stamp(d, BASE, count, 4099);
	CU_ASSERT_TRUE(stamps_intact(d, BASE, count, 4099, 0, 0));
	/* Two tables (levels 3 and 2) and one for the 2 MiB and 4 KiB tail. */
	CU_ASSERT_EQUAL(d->mem.table_pages, 4);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_arch_without_1g_leaves(void)
{
	struct domain *d = unit_domain("no1g", 1, GIB_PAGES);

	fake.p2m_max_order = GUEST_LARGE_ORDER;
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, GIB_PAGES), 0);
	check_leaves(d, 0, 512, 0);
	CU_ASSERT_EQUAL(fake.p2m_huge_sets, 0);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_alignment_rules_out_1g(void)
{
	/* 2 MiB-aligned but not 1 GiB-aligned: never a 1 GiB leaf. */
	struct domain *d = unit_domain("unaligned", 1, GIB_PAGES);

	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE + MIB2_PAGES, GIB_PAGES), 0);
	check_leaves(d, 0, 512, 0);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_no_free_gib_falls_back(void)
{
	/* Hold the only free aligned GiB: the domain gets 2 MiB leaves instead. */
	paddr_t held = page_alloc_range(GIB_PAGES, GIB_PAGES, 0);
	struct domain *d;

	CU_ASSERT_NOT_EQUAL_FATAL(held, 0);
	d = unit_domain("fragmented", 1, GIB_PAGES);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, GIB_PAGES), 0);
	check_leaves(d, 0, 512, 0);
	stamp(d, BASE, GIB_PAGES, 511);
	CU_ASSERT_TRUE(stamps_intact(d, BASE, GIB_PAGES, 511, 0, 0));
	unit_domain_end(d);
	page_free(held, GIB_PAGES);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_release_4k_splits_twice(void)
{
	struct domain *d = unit_domain("split4k", 1, GIB_PAGES);
	uint64_t victim = BASE + 5 * MIB2_PAGES + 17, tables;

	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, GIB_PAGES), 0);
	stamp(d, BASE, GIB_PAGES, 97);
	stamp(d, victim - 1, 3, 1);
	tables = d->mem.table_pages;
	CU_ASSERT_EQUAL(guest_memory_release(d, victim, 0), 0);
	/* 1 GiB -> 512 x 2 MiB, the one holding the victim -> 512 x 4 KiB. */
	check_leaves(d, 511, 511, 0);
	CU_ASSERT_EQUAL(d->mem.table_pages, tables + 2);
	CU_ASSERT_EQUAL(d->mem.ram_pages, GIB_PAGES - 1);
	CU_ASSERT_EQUAL(guest_memory_kind(d, victim, NULL), GUEST_PAGE_NONE);
	CU_ASSERT_FALSE(fake_p2m_lookup(d, victim, &(paddr_t){ 0 }, &(uint32_t){ 0 }));
	CU_ASSERT_TRUE(stamps_intact(d, BASE, GIB_PAGES, 97, victim, 1));
	CU_ASSERT_TRUE(stamps_intact(d, victim - 1, 3, 1, victim, 1));
	/* The hole takes a fresh, zeroed page again. */
	CU_ASSERT_EQUAL(guest_memory_populate(d, victim, 1), 0);
	{
		uint64_t got = 1;

		CU_ASSERT_EQUAL(guest_copy_from(d, victim << PAGE_SHIFT, &got, sizeof(got)), 0);
		CU_ASSERT_EQUAL(got, 0);
	}
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_release_2m_splits_once(void)
{
	struct domain *d = unit_domain("split2m", 1, GIB_PAGES);
	uint64_t extent = BASE + 300 * MIB2_PAGES;

	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, GIB_PAGES), 0);
	stamp(d, BASE, GIB_PAGES, 1021);
	CU_ASSERT_EQUAL(guest_memory_release(d, extent, GUEST_LARGE_ORDER), 0);
	check_leaves(d, 0, 511, 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, GIB_PAGES - MIB2_PAGES);
	CU_ASSERT_TRUE(stamps_intact(d, BASE, GIB_PAGES, 1021, extent, MIB2_PAGES));
	CU_ASSERT_EQUAL(guest_memory_kind(d, extent + 9, NULL), GUEST_PAGE_NONE);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_failed_splits_change_nothing(void)
{
	struct domain *d = unit_domain("splitfail", 1, GIB_PAGES);
	uint64_t victim = BASE + 77 * MIB2_PAGES + 5;

	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, GIB_PAGES), 0);
	stamp(d, BASE, GIB_PAGES, 1009);
	stamp(d, victim, 1, 1);

	/* The first split's first set fails: the 1 GiB leaf is put back. */
	fake.p2m_set_fail_after = 0;
	CU_ASSERT_EQUAL(guest_memory_release(d, victim, 0), -KEEL_ENOMEM);
	check_leaves(d, 0, 0, 1);
	CU_ASSERT_TRUE(stamps_intact(d, BASE, GIB_PAGES, 1009, 0, 0));
	CU_ASSERT_TRUE(stamps_intact(d, victim, 1, 1, 0, 0));

	/* The second split fails: the first stays done, the same pages mapped. */
	fake.p2m_set_fail_after = 512;
	CU_ASSERT_EQUAL(guest_memory_release(d, victim, 0), -KEEL_ENOMEM);
	check_leaves(d, 0, 512, 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, GIB_PAGES);
	CU_ASSERT_TRUE(stamps_intact(d, BASE, GIB_PAGES, 1009, 0, 0));
	CU_ASSERT_TRUE(stamps_intact(d, victim, 1, 1, 0, 0));

	/* And once memory is there again the release goes through. */
	CU_ASSERT_EQUAL(guest_memory_release(d, victim, 0), 0);
	check_leaves(d, 511, 511, 0);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_pin_inside_1g_leaf(void)
{
	struct domain *d = unit_domain("pin", 1, GIB_PAGES);
	uint64_t g = BASE + 4242;
	paddr_t pa = 0, want = 0;
	uint32_t rights;

	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, BASE, GIB_PAGES), 0);
	CU_ASSERT_TRUE(guest_memory_translate(d, g, &want, &rights));
	CU_ASSERT_EQUAL(guest_memory_pin(d, g, &pa), 0);
	CU_ASSERT_EQUAL(pa, want);
	CU_ASSERT_EQUAL(guest_memory_release(d, g, 0), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(guest_memory_release(d, g & ~(MIB2_PAGES - 1), GUEST_LARGE_ORDER),
			-KEEL_EBUSY);
	check_leaves(d, 0, 0, 1);	/* refused before any split */
	guest_memory_unpin(d, g);
	CU_ASSERT_EQUAL(guest_memory_release(d, g, 0), 0);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "populate picks the largest leaves", test_populate_picks_largest_leaves },
	{ "an arch without 1 GiB leaves", test_arch_without_1g_leaves },
	{ "alignment rules out 1 GiB", test_alignment_rules_out_1g },
	{ "no free GiB falls back to 2 MiB", test_no_free_gib_falls_back },
	{ "releasing 4 KiB splits 1 GiB twice", test_release_4k_splits_twice },
	{ "releasing 2 MiB splits 1 GiB once", test_release_2m_splits_once },
	{ "failed splits change nothing", test_failed_splits_change_nothing },
	{ "a pin inside a 1 GiB leaf", test_pin_inside_1g_leaf },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo large_leaves_suite = {
	.pName = "large_leaves",
	.pInitFunc = suite_init,
	.pCleanupFunc = suite_cleanup,
	.pSetUpFunc = setup,
	.pTests = tests,
};
