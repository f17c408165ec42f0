/* SPDX-License-Identifier: MIT */
/* tests/unit/core/test_memmap.c - unit tests for core/memmap.c (normalizing the memory map). */
#include <stdio.h>
#include <keel/bootinfo.h>
#include "fake_arch.h"
#include "unit.h"

#define U	MEM_USABLE
#define R	MEM_RESERVED
#define AR	MEM_ACPI_RECLAIM
#define AN	MEM_ACPI_NVS
#define BAD	MEM_BAD

#define bi unit_bi

static void setup(void)
{
	fake_arch_reset();
	memset(bi, 0, sizeof(*bi));
}

static void set_map(const struct mem_region *r, unsigned int n)
{
	memcpy(bi->regions, r, n * sizeof(*r));
	bi->region_count = n;
}

/* The map must now be exactly @r[0..n). */
static void check_map_at(int line, const struct mem_region *r, unsigned int n)
{
	char msg[160];
	bool same = bi->region_count == n;

	for (unsigned int i = 0; same && i < n; i++) {
		same = bi->regions[i].base == r[i].base && bi->regions[i].size == r[i].size &&
		       bi->regions[i].type == r[i].type;
	}
	snprintf(msg, sizeof(msg), "memory map differs (%u regions, expected %u)",
		 bi->region_count, n);
	CU_assertImplementation(same, (unsigned int)line, msg, __FILE__, "", CU_FALSE);
}

#define NORMALIZE_TO(...)						\
	do {								\
		static const struct mem_region want[] = { __VA_ARGS__ };	\
		memmap_normalize(bi);					\
		check_map_at(__LINE__, want, ARRAY_SIZE(want));		\
	} while (0)

#define SET_MAP(...)							\
	do {								\
		static const struct mem_region in[] = { __VA_ARGS__ };	\
		set_map(in, ARRAY_SIZE(in));				\
	} while (0)

static void test_sorts_by_base(void)
{
	SET_MAP({ 0x300000, 0x1000, U }, { 0x0, 0x1000, R }, { 0x100000, 0x1000, AN });
	NORMALIZE_TO({ 0x0, 0x1000, R }, { 0x100000, 0x1000, AN }, { 0x300000, 0x1000, U });
}

static void test_drops_empty_regions(void)
{
	SET_MAP({ 0x0, 0, U }, { 0x1000, 0x1000, U }, { 0x5000, 0, R }, { 0x9000, 0, U });
	NORMALIZE_TO({ 0x1000, 0x1000, U });
	SET_MAP({ 0x0, 0, U });
	memmap_normalize(bi);
	CU_ASSERT_EQUAL(bi->region_count, 0);
}

static void test_merges_touching_regions_of_one_type(void)
{
	SET_MAP({ 0x2000, 0x1000, U }, { 0x0, 0x2000, U }, { 0x3000, 0x1000, R },
		{ 0x4000, 0x1000, R }, { 0x6000, 0x1000, R });
	NORMALIZE_TO({ 0x0, 0x3000, U }, { 0x3000, 0x2000, R }, { 0x6000, 0x1000, R });
}

static void test_stricter_type_wins_an_overlap(void)
{
	/* Reserved over the tail of usable RAM. */
	SET_MAP({ 0x0, 0x3000, U }, { 0x2000, 0x2000, R });
	NORMALIZE_TO({ 0x0, 0x2000, U }, { 0x2000, 0x2000, R });

	/* Usable over the tail of reserved: usable keeps what sticks out. */
	SET_MAP({ 0x0, 0x3000, R }, { 0x2000, 0x2000, U });
	NORMALIZE_TO({ 0x0, 0x3000, R }, { 0x3000, 0x1000, U });

	/* Same base. */
	SET_MAP({ 0x0, 0x4000, U }, { 0x0, 0x1000, AR });
	NORMALIZE_TO({ 0x0, 0x1000, AR }, { 0x1000, 0x3000, U });

	/* The ranking: usable < ACPI reclaim < ACPI NVS < reserved < bad. */
	SET_MAP({ 0x0, 0x5000, U }, { 0x1000, 0x4000, AR }, { 0x2000, 0x3000, AN },
		{ 0x3000, 0x2000, R }, { 0x4000, 0x1000, BAD });
	NORMALIZE_TO({ 0x0, 0x1000, U }, { 0x1000, 0x1000, AR }, { 0x2000, 0x1000, AN },
		     { 0x3000, 0x1000, R }, { 0x4000, 0x1000, BAD });

	/* A type the map does not know counts as the strictest. */
	SET_MAP({ 0x0, 0x2000, R }, { 0x1000, 0x1000, (enum mem_type)9 });
	NORMALIZE_TO({ 0x0, 0x1000, R }, { 0x1000, 0x1000, (enum mem_type)9 });
}

static void test_splits_around_a_hole_in_the_middle(void)
{
	SET_MAP({ 0x0, 0x10000, U }, { 0x4000, 0x1000, R }, { 0x8000, 0x2000, AN });
	NORMALIZE_TO({ 0x0, 0x4000, U }, { 0x4000, 0x1000, R }, { 0x5000, 0x3000, U },
		     { 0x8000, 0x2000, AN }, { 0xa000, 0x6000, U });
	CU_ASSERT_EQUAL(memmap_usable_bytes(bi), 0x4000 + 0x3000 + 0x6000);
}

static void test_same_type_overlaps_merge(void)
{
	SET_MAP({ 0x0, 0x3000, U }, { 0x1000, 0x1000, U }, { 0x2000, 0x4000, U });
	NORMALIZE_TO({ 0x0, 0x6000, U });
}

static void test_full_table_drops_the_tail_not_the_reservation(void)
{
	/* 128 regions: one usable with a reservation inside, 126 above them.
	 * The split needs a 129th entry; the tail of the usable one is lost. */
	bi->regions[0] = (struct mem_region){ 0x0, 0x100000, U };
	bi->regions[1] = (struct mem_region){ 0x1000, 0x1000, R };
	for (unsigned int i = 2; i < BOOT_MAX_REGIONS; i++) {
		bi->regions[i] = (struct mem_region){ 0x200000 + i * 0x2000, 0x1000,
						      i % 2 ? U : R };
	}
	bi->region_count = BOOT_MAX_REGIONS;
	memmap_normalize(bi);
	CU_ASSERT_EQUAL(bi->region_count, BOOT_MAX_REGIONS);
	CU_ASSERT_EQUAL(bi->regions[0].base, 0x0);
	CU_ASSERT_EQUAL(bi->regions[0].size, 0x1000);
	CU_ASSERT_EQUAL(bi->regions[1].base, 0x1000);
	CU_ASSERT_EQUAL(bi->regions[1].type, R);
	CU_ASSERT(bi->regions[2].base >= 0x200000);
	CU_ASSERT_TRUE(fake_console_has("memory map: too many regions, dropping 0x2000+0xfe000"));
}

static void test_usable_bytes_and_log(void)
{
	SET_MAP({ 0x0, 0x9fc00, U }, { 0x9fc00, 0x400, R }, { 0x100000, 0x7ff00000, U },
		{ 0xfffc0000, 0x40000, R });
	bi->loader = "test loader";
	memmap_normalize(bi);
	CU_ASSERT_EQUAL(memmap_usable_bytes(bi), 0x9fc00 + 0x7ff00000);
	memmap_log(bi);
	CU_ASSERT_TRUE(fake_console_has("memory map (4 regions, from test loader):\n"));
	CU_ASSERT_TRUE(fake_console_has("  0x000000100000-0x00007fffffff usable\n"));
	CU_ASSERT_TRUE(fake_console_has("  0x00000009fc00-0x00000009ffff reserved\n"));
	CU_ASSERT_TRUE(fake_console_has("memory: 2047 MiB usable\n"));
}

/* Randomized: every page ends up with the strictest type any input gave it. */
#define PAGES		64
#define RANDOM_ROUNDS	400

static int rank(enum mem_type t)
{
	static const int ranks[] = { [U] = 0, [AR] = 1, [AN] = 2, [R] = 3, [BAD] = 4 };

	return ranks[t];
}

static void check_normal_form(void)
{
	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *a = &bi->regions[i];

		CU_ASSERT_FATAL(a->size > 0);
		if (i + 1 < bi->region_count) {
			const struct mem_region *b = &bi->regions[i + 1];

			CU_ASSERT_FATAL(a->base + a->size <= b->base);
			CU_ASSERT_FATAL(a->base + a->size < b->base || a->type != b->type);
		}
	}
}

static void test_random_maps_keep_the_strictest_type(void)
{
	static const enum mem_type types[] = { U, AR, AN, R, BAD };
	uint64_t seed = 1;

	for (unsigned int round = 0; round < RANDOM_ROUNDS; round++) {
		int want[PAGES];
		unsigned int n = 1 + unit_rand(&seed) % 12;

		for (unsigned int p = 0; p < PAGES; p++) {
			want[p] = -1;
		}
		bi->region_count = n;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t first = unit_rand(&seed) % PAGES;
			uint64_t count = unit_rand(&seed) % (PAGES - first + 1);
			enum mem_type t = types[unit_rand(&seed) % ARRAY_SIZE(types)];

			bi->regions[i] = (struct mem_region){ first * 0x1000, count * 0x1000, t };
			for (uint64_t p = first; p < first + count; p++) {
				want[p] = MAX(want[p], rank(t));
			}
		}
		memmap_normalize(bi);
		check_normal_form();
		for (unsigned int p = 0; p < PAGES; p++) {
			int got = -1;

			for (unsigned int i = 0; i < bi->region_count; i++) {
				const struct mem_region *r = &bi->regions[i];

				if (r->base <= p * 0x1000u && p * 0x1000u < r->base + r->size) {
					got = rank(r->type);
				}
			}
			CU_ASSERT_EQUAL_FATAL(got, want[p]);
		}
	}
}

static CU_TestInfo memmap_tests[] = {
	{ "sorts by base", test_sorts_by_base },
	{ "drops empty regions", test_drops_empty_regions },
	{ "merges touching regions of one type", test_merges_touching_regions_of_one_type },
	{ "the stricter type wins an overlap", test_stricter_type_wins_an_overlap },
	{ "splits around a hole in the middle", test_splits_around_a_hole_in_the_middle },
	{ "same-type overlaps merge", test_same_type_overlaps_merge },
	{ "a full table drops the tail, not the reservation",
	  test_full_table_drops_the_tail_not_the_reservation },
	{ "usable bytes and the log", test_usable_bytes_and_log },
	{ "random maps keep the strictest type", test_random_maps_keep_the_strictest_type },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo memmap_suite = {
	.pName = "memmap",
	.pInitFunc = unit_bootinfo_alloc,
	.pCleanupFunc = unit_bootinfo_free,
	.pSetUpFunc = setup,
	.pTests = memmap_tests,
};
