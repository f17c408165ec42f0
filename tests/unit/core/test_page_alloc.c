/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_page_alloc.c - unit tests for core/page_alloc.c.
 *
 * Every test starts from zeroed fake RAM and a freshly initialized allocator
 * over the map below, and checks handed-out pages against it independently.
 */
#include <keel/page_alloc.h>
#include "fake_arch.h"
#include "unit.h"

/*
 * The standard map (up to 64 MiB):
 *   usable   0x0000000-0x009f000   all under the "low memory" reservation
 *   reserved 0x009f000-0x0100000
 *   usable   0x0100000-0x2000000   image 0x100000-0x180000; the bitmap takes
 *                                  the first page clear of reservations,
 *                                  0x180000; module pages 0x200000-0x204000
 *   reserved 0x2000000-0x2100000, then a hole up to 0x3000000
 *   usable   0x3000000-0x4000000
 */
#define MAP_END		0x4000000u
#define MAP_PAGES	(MAP_END / PAGE_SIZE)
#define BITMAP_PA	0x180000u
/* The 0x1f00 pages from 1 MiB less image, bitmap and module, plus 0x1000. */
#define EXPECTED_FREE	(0x1f00 - 0x80 - 1 - 4 + 0x1000)

#define bi unit_bi

static void standard_map(void)
{
	static const struct mem_region regions[] = {
		{ 0x0, 0x9f000, MEM_USABLE },
		{ 0x9f000, 0x61000, MEM_RESERVED },
		{ 0x100000, 0x1f00000, MEM_USABLE },
		{ 0x2000000, 0x100000, MEM_RESERVED },
		{ 0x3000000, 0x1000000, MEM_USABLE },
	};

	memset(bi, 0, sizeof(*bi));
	memcpy(bi->regions, regions, sizeof(regions));
	bi->region_count = ARRAY_SIZE(regions);
	bootinfo_reserve(bi, 0x0, 0x100000, "low memory");
	bootinfo_reserve(bi, 0x100000, 0x80000, "image");
	bootinfo_reserve(bi, 0x200800, 0x3000, "module");	/* not page-aligned */
}

static void setup(void)
{
	fake_arch_reset();
	fake_ram_reset();
	standard_map();
	/* Not _FATAL: CUnit has no jump target during set-up. */
	CU_ASSERT_TRUE(page_alloc_init(bi));
}

/* May the allocator hand out the page at @pa (standard map)? */
static bool page_allowed(paddr_t pa)
{
	bool usable = false;

	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *r = &bi->regions[i];

		if (r->type == MEM_USABLE && pa >= r->base && pa + PAGE_SIZE <= r->base + r->size) {
			usable = true;
		}
	}
	for (unsigned int i = 0; i < bi->reserved_count; i++) {
		const struct mem_range *r = &bi->reserved[i];

		if (pa < r->base + r->size && r->base < pa + PAGE_SIZE) {
			return false;
		}
	}
	return usable && pa != BITMAP_PA;
}

static bool page_is_zero(paddr_t pa)
{
	const uint64_t *p = arch_phys_to_virt(pa);

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*p); i++) {
		if (p[i]) {
			return false;
		}
	}
	return true;
}

static void test_init_counts_usable_unreserved_pages(void)
{
	CU_ASSERT_EQUAL(page_alloc_total_count(), EXPECTED_FREE);
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE);
	CU_ASSERT_TRUE(fake_console_has("page allocator: 11899 pages (46 MiB) free, "
					"bitmap 4 KiB at 0x180000\n"));
	CU_ASSERT_FALSE(fake.irqs_off);
}

/* Drain the allocator page by page; every page must be a legal, new one. */
static void test_exhaustion_hands_out_every_page_once(void)
{
	static bool seen[MAP_PAGES];
	uint64_t n = 0;
	paddr_t pa;

	memset(seen, 0, sizeof(seen));
	while ((pa = page_alloc(1)) != 0) {
		CU_ASSERT_FATAL(IS_ALIGNED(pa, PAGE_SIZE) && pa < MAP_END);
		CU_ASSERT_FATAL(page_allowed(pa));
		CU_ASSERT_FATAL(!seen[pa / PAGE_SIZE]);
		seen[pa / PAGE_SIZE] = true;
		n++;
	}
	CU_ASSERT_EQUAL(n, EXPECTED_FREE);
	CU_ASSERT_EQUAL(page_alloc_free_count(), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, 0), 0);
	CU_ASSERT_FALSE(fake.irqs_off);

	for (uint64_t p = 0; p < MAP_PAGES; p++) {
		if (seen[p]) {
			page_free(p * PAGE_SIZE, 1);
		}
	}
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE);
	CU_ASSERT_EQUAL(page_alloc_total_count(), EXPECTED_FREE);
}

/* First fit, in page order, skipping what alignment or reservations rule out. */
static void test_contiguous_and_aligned(void)
{
	paddr_t d = page_alloc(1);
	paddr_t a = page_alloc_range(16, 16, 0);
	paddr_t b = page_alloc_range(512, 512, 0);	/* 2 MiB aligned */
	paddr_t c = page_alloc_range(3, 4, 0);

	CU_ASSERT_EQUAL(d, BITMAP_PA + PAGE_SIZE);
	CU_ASSERT_EQUAL(a, 0x190000);
	CU_ASSERT_EQUAL(b, 0x400000);		/* 0x200000 holds the module */
	CU_ASSERT_EQUAL(c, 0x184000);
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE - 1 - 16 - 512 - 3);
	for (paddr_t p = b; p < b + 512 * PAGE_SIZE; p += PAGE_SIZE) {
		CU_ASSERT_FATAL(page_allowed(p));
	}
	/* The runs are taken: nothing else lands inside them. */
	CU_ASSERT_EQUAL(page_alloc_range(4, 4, 0x194000), 0x188000);

	page_free(a, 16);
	page_free(b, 512);
	page_free(c, 3);
	page_free(d, 1);
	page_free(0x188000, 4);
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE);
	CU_ASSERT_FALSE(fake.irqs_off);
}

static void test_a_run_never_spans_a_reservation(void)
{
	/* 0x181000-0x200000 is 127 free pages; 0x200000-0x204000 is the module. */
	paddr_t a = page_alloc_range(128, 1, 0);

	CU_ASSERT_EQUAL(a, 0x204000);
	CU_ASSERT_EQUAL(page_alloc_range(127, 1, 0), 0x181000);
	/* Nothing of 0x1f00 pages fits in one usable stretch any more. */
	CU_ASSERT_EQUAL(page_alloc_range(0x1f00, 1, 0), 0);
}

static void test_limit(void)
{
	/* Below 1 MiB everything is reserved; below 0x181000 only the bitmap is left. */
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, 0x100000), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, 0x181000), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, 0x182000), 0x181000);
	CU_ASSERT_EQUAL(page_alloc_range(2, 1, 0x184000), 0x182000);
	CU_ASSERT_EQUAL(page_alloc_range(2, 1, 0x185000), 0);	/* one page left */
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, 0x1000), 0);
	/* A limit past the map is no limit. */
	CU_ASSERT_NOT_EQUAL(page_alloc_range(1, 1, GiB(64)), 0);
}

static void test_limit_below_the_first_page(void)
{
	static const struct mem_region high = { MiB(16), MiB(16), MEM_USABLE };

	memset(bi, 0, sizeof(*bi));
	bi->regions[0] = high;
	bi->region_count = 1;
	CU_ASSERT_TRUE_FATAL(page_alloc_init(bi));
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, MiB(8)), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, MiB(16)), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 1, MiB(16) + 2 * PAGE_SIZE), MiB(16) + PAGE_SIZE);
}

static void test_bad_arguments_fail_cleanly(void)
{
	CU_ASSERT_EQUAL(page_alloc_range(0, 1, 0), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 0, 0), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 3, 0), 0);
	CU_ASSERT_EQUAL(page_alloc_range(1, 6, 0), 0);
	CU_ASSERT_EQUAL(page_alloc_range(UINT64_MAX, 1, 0), 0);
	CU_ASSERT_EQUAL(page_alloc_range(EXPECTED_FREE + 1, 1, 0), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE);
}

static void test_pages_come_back_zeroed(void)
{
	paddr_t pages[64], run, again;

	for (unsigned int i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = page_alloc(1);
		CU_ASSERT_FATAL(pages[i] && page_is_zero(pages[i]));
		memset(arch_phys_to_virt(pages[i]), 0xa5, PAGE_SIZE);
	}
	run = page_alloc_range(16, 1, 0);
	memset(arch_phys_to_virt(run), 0x5a, 16 * PAGE_SIZE);
	for (unsigned int i = 0; i < ARRAY_SIZE(pages); i++) {
		page_free(pages[i], 1);
	}
	page_free(run, 16);

	/* First fit gives the dirtied pages back first: they must be clean. */
	for (unsigned int i = 0; i < ARRAY_SIZE(pages); i++) {
		again = page_alloc(1);
		CU_ASSERT_EQUAL(again, pages[i]);
		CU_ASSERT_TRUE(page_is_zero(again));
	}
	again = page_alloc_range(16, 1, 0);
	CU_ASSERT_EQUAL(again, run);
	for (unsigned int i = 0; i < 16; i++) {
		CU_ASSERT_TRUE(page_is_zero(again + i * PAGE_SIZE));
	}
}

static void free_twice(void *arg)
{
	paddr_t pa = page_alloc(1);

	page_free(pa, 1);
	page_free(pa, 1);
}

static void free_partly_free_range(void *arg)
{
	paddr_t pa = page_alloc_range(4, 1, 0);

	page_free(pa + 2 * PAGE_SIZE, 1);
	page_free(pa, 4);
}

static void free_never_allocated(void *arg)
{
	page_free(0x3800000, 1);
}

static void test_freeing_a_free_page_panics(void)
{
	CU_ASSERT_EQUAL(fake_run_isolated(free_twice, NULL), FAKE_HALTED);
	CU_ASSERT_TRUE(fake_console_has("KEEL PANIC on cpu0: "
					"page_free: page 0x181000 is already free"));

	CU_ASSERT_EQUAL(fake_run_isolated(free_partly_free_range, NULL), FAKE_HALTED);
	CU_ASSERT_TRUE(fake_console_has("page_free: page 0x183000 is already free"));

	CU_ASSERT_EQUAL(fake_run_isolated(free_never_allocated, NULL), FAKE_HALTED);
	CU_ASSERT_TRUE(fake_console_has("page_free: page 0x3800000 is already free"));

	/* This process never panicked: its allocator is intact. */
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE);
}

struct bad_free {
	paddr_t pa;
	uint64_t count;
};

static void free_range(void *arg)
{
	const struct bad_free *f = arg;

	page_free(f->pa, f->count);
}

static void test_freeing_foreign_ranges_panics(void)
{
	static const struct bad_free cases[] = {
		{ 0x181800, 1 },		/* not page-aligned */
		{ MAP_END, 1 },			/* past the last page */
		{ MAP_END - PAGE_SIZE, 2 },	/* runs past it */
		{ 0x3000000, UINT64_MAX },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bad_free f = cases[i];

		fake_console_clear();
		CU_ASSERT_EQUAL(fake_run_isolated(free_range, &f), FAKE_HALTED);
		CU_ASSERT_TRUE(fake_console_has("not a page range this allocator owns"));
	}
}

/*
 * Randomized against a model: no overlap, alignment and limit hold, pages
 * come zeroed, and whenever the allocator says no, no fitting run was free.
 */
#define RANDOM_OPS	2000
#define LIVE_MAX	48

struct live {
	paddr_t pa;
	uint64_t count;
};

static bool model_used[MAP_PAGES];
static bool model_allowed[MAP_PAGES];

static bool model_run_free(uint64_t first, uint64_t count)
{
	for (uint64_t p = first; p < first + count; p++) {
		if (model_used[p] || !model_allowed[p]) {
			return false;
		}
	}
	return true;
}

static bool model_has_fit(uint64_t count, uint64_t align, paddr_t limit)
{
	uint64_t end = limit ? MIN(limit / PAGE_SIZE, MAP_PAGES) : MAP_PAGES;

	for (uint64_t p = 0; p + count <= end; p += align) {
		if (model_run_free(p, count)) {
			return true;
		}
	}
	return false;
}

static void check_alloc(const struct live *l, uint64_t align, paddr_t limit)
{
	uint64_t first = l->pa / PAGE_SIZE;

	CU_ASSERT_FATAL(IS_ALIGNED(first, align));
	CU_ASSERT_FATAL(!limit || l->pa + l->count * PAGE_SIZE <= limit);
	CU_ASSERT_FATAL(model_run_free(first, l->count));
	/* Whole first and last pages, and each page's first word. */
	CU_ASSERT_FATAL(page_is_zero(l->pa));
	CU_ASSERT_FATAL(page_is_zero(l->pa + (l->count - 1) * PAGE_SIZE));
	for (uint64_t p = first; p < first + l->count; p++) {
		CU_ASSERT_FATAL(*(uint64_t *)arch_phys_to_virt(p * PAGE_SIZE) == 0);
		model_used[p] = true;
	}
	memset(arch_phys_to_virt(l->pa), 0xee, l->count * PAGE_SIZE);
}

static void model_free(const struct live *l)
{
	page_free(l->pa, l->count);
	for (uint64_t p = 0; p < l->count; p++) {
		model_used[l->pa / PAGE_SIZE + p] = false;
	}
}

static void test_random_against_a_model(void)
{
	struct live live[LIVE_MAX];
	unsigned int live_count = 0;
	uint64_t seed = 42, used = 0;

	for (uint64_t p = 0; p < MAP_PAGES; p++) {
		model_used[p] = false;
		model_allowed[p] = page_allowed(p * PAGE_SIZE);
	}
	for (unsigned int op = 0; op < RANDOM_OPS; op++) {
		if (live_count == LIVE_MAX || (live_count && unit_rand(&seed) % 3 == 0)) {
			unsigned int i = unit_rand(&seed) % live_count;

			model_free(&live[i]);
			used -= live[i].count;
			live[i] = live[--live_count];
		} else {
			uint64_t count = 1 + unit_rand(&seed) % (unit_rand(&seed) % 2 ? 8 : 700);
			uint64_t align = (uint64_t)1 << (unit_rand(&seed) % 10);
			paddr_t limit = unit_rand(&seed) % 4 ? 0 :
					(paddr_t)(unit_rand(&seed) % MAP_PAGES) * PAGE_SIZE;
			struct live l = { page_alloc_range(count, align, limit), count };

			if (!l.pa) {
				CU_ASSERT_FATAL(!model_has_fit(count, align, limit));
				continue;
			}
			check_alloc(&l, align, limit);
			live[live_count++] = l;
			used += count;
		}
		CU_ASSERT_EQUAL_FATAL(page_alloc_free_count(), EXPECTED_FREE - used);
	}
	while (live_count) {
		model_free(&live[--live_count]);
	}
	CU_ASSERT_EQUAL(page_alloc_free_count(), EXPECTED_FREE);
}

static void test_init_fails_without_usable_ram(void)
{
	memset(bi, 0, sizeof(*bi));
	bi->regions[0] = (struct mem_region){ 0x100000, MiB(16), MEM_RESERVED };
	bi->regions[1] = (struct mem_region){ MiB(32), 0x800, MEM_USABLE };	/* < 1 page */
	bi->region_count = 2;
	fake_console_clear();
	CU_ASSERT_FALSE(page_alloc_init(bi));
	CU_ASSERT_TRUE(fake_console_has("error: page allocator: the memory map has no usable RAM"));
}

static void test_init_fails_without_room_for_the_bitmap(void)
{
	memset(bi, 0, sizeof(*bi));
	bi->regions[0] = (struct mem_region){ 0x100000, MiB(1), MEM_USABLE };
	bi->region_count = 1;
	bootinfo_reserve(bi, 0x100000, MiB(1), "everything");
	fake_console_clear();
	CU_ASSERT_FALSE(page_alloc_init(bi));
	CU_ASSERT_TRUE(fake_console_has("error: page allocator: no room for a 4 KiB bitmap"));
}

/* 0 means "no memory", so physical page 0 is never handed out. */
static void test_page_zero_is_never_handed_out(void)
{
	uint64_t n = 0;

	memset(bi, 0, sizeof(*bi));
	bi->regions[0] = (struct mem_region){ 0x0, MiB(4), MEM_USABLE };
	bi->region_count = 1;
	CU_ASSERT_TRUE_FATAL(page_alloc_init(bi));
	CU_ASSERT_EQUAL(page_alloc_total_count(), MiB(4) / PAGE_SIZE - 2);	/* page 0, bitmap */
	while (page_alloc(1) != 0) {
		n++;
	}
	CU_ASSERT_EQUAL(n, MiB(4) / PAGE_SIZE - 2);
	CU_ASSERT_EQUAL(page_alloc_free_count(), 0);
}

static CU_TestInfo page_alloc_tests[] = {
	{ "init counts usable, unreserved pages", test_init_counts_usable_unreserved_pages },
	{ "exhaustion hands out every page once", test_exhaustion_hands_out_every_page_once },
	{ "contiguous and aligned", test_contiguous_and_aligned },
	{ "a run never spans a reservation", test_a_run_never_spans_a_reservation },
	{ "limit", test_limit },
	{ "limit below the first page", test_limit_below_the_first_page },
	{ "bad arguments fail cleanly", test_bad_arguments_fail_cleanly },
	{ "pages come back zeroed", test_pages_come_back_zeroed },
	{ "freeing a free page panics", test_freeing_a_free_page_panics },
	{ "freeing foreign ranges panics", test_freeing_foreign_ranges_panics },
	{ "random operations against a model", test_random_against_a_model },
	{ "init fails without usable RAM", test_init_fails_without_usable_ram },
	{ "init fails without room for the bitmap", test_init_fails_without_room_for_the_bitmap },
	{ "page 0 is never handed out", test_page_zero_is_never_handed_out },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo page_alloc_suite = {
	.pName = "page_alloc",
	.pInitFunc = unit_bootinfo_alloc,
	.pCleanupFunc = unit_bootinfo_free,
	.pSetUpFunc = setup,
	.pTests = page_alloc_tests,
};
