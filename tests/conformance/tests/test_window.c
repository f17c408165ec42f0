/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_window.c - the map-window allocator: distinct
 * GFNs inside the window until it is full, freed ones come back, misuse is
 * logged and harmless, a full window fails a map cleanly, a GFN someone
 * else occupied is skipped for good; and the device pages mapped in it:
 * unmapped on a Keel of ABI 1.1, parked for reuse on 1.0.
 */
#include <keel/hypercall.h>
#include <keel/memory.h>
#include "common.h"
#include "suites.h"

#define FIXED_SLOTS	65	/* shared info and 64 grant frames, at the window's start */

/* Give back every dynamic window page but @keep. */
static void free_window(struct kpv *k, uint64_t keep)
{
	uint64_t win, pages;

	harness_map_window(&win, &pages);
	for (uint64_t g = win + FIXED_SLOTS; g < win + pages; g++) {
		if (g != keep) {
			kpv_window_free(k, g);
		}
	}
}

static void setup(void)
{
	harness_begin();
}

static void teardown(void)
{
	harness_end();
}

static void test_alloc_until_full(void)
{
	struct hdom *d = harness_domain("guest", 1);
	struct kpv *k = t_start(d);
	static uint8_t seen[65536];
	uint64_t win, pages, gfn, first = 0;
	uint32_t n = 0;

	harness_map_window(&win, &pages);
	memset(seen, 0, sizeof(seen));
	harness_use(d);
	while (kpv_window_alloc(k, &gfn) == 0 && n <= pages) {
		CU_ASSERT(gfn >= win + FIXED_SLOTS && gfn < win + pages);
		CU_ASSERT_EQUAL(seen[(gfn - win) % 65536], 0);
		seen[(gfn - win) % 65536] = 1;
		first = n++ ? first : gfn;
	}
	CU_ASSERT_EQUAL(n, pages - FIXED_SLOTS);
	CU_ASSERT_EQUAL(kpv_window_alloc(k, &gfn), -KEEL_ENOSPC);
	/* A freed GFN is the next one handed out. */
	kpv_window_free(k, first + 10);
	CU_ASSERT_EQUAL(kpv_window_alloc(k, &gfn), 0);
	CU_ASSERT_EQUAL(gfn, first + 10);
	/* Misuse is logged and changes nothing. */
	kpv_window_free(k, win);
	kpv_window_free(k, win + pages);
	CU_ASSERT(harness_log_has(d, "outside the map window"));
	free_window(k, 0);
	kpv_window_free(k, first);
	CU_ASSERT(harness_log_has(d, "freed twice"));
	t_stop(d, k);
	t_assert_clean(d, 0);
}

static void test_full_window_fails_a_map(void)
{
	struct hdom *a = harness_domain("a", 1), *b = harness_domain("b", 1);
	struct kpv *ka = t_start(a), *kb = t_start(b);
	struct kpv_mapping m;
	uint64_t gfn, last = 0;
	uint32_t ref;
	void *page;

	harness_use(a);
	page = kpv_shim_page_alloc();
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), page, false, &ref), 0);
	harness_use(b);
	while (kpv_window_alloc(kb, &gfn) == 0) {
		last = gfn;
	}
	CU_ASSERT_EQUAL(kpv_map_grant(kb, harness_domid(a), ref, false, &m), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(harness_foreign_maps(b), 0);
	kpv_window_free(kb, last);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(kb, harness_domid(a), ref, false, &m), 0);
	CU_ASSERT_EQUAL(m.gfn, last);
	kpv_unmap_grant(kb, &m);
	free_window(kb, 0);
	harness_use(a);
	CU_ASSERT(kpv_grant_end(ka, ref));
	kpv_shim_page_free(page);
	t_stop(a, ka);
	t_stop(b, kb);
	t_assert_clean(a, 0);
}

static void test_occupied_gfn_is_skipped(void)
{
	struct hdom *a = harness_domain("a", 1), *b = harness_domain("b", 1);
	struct kpv *ka = t_start(a), *kb = t_start(b);
	uint64_t next, gfn;
	struct kpv_mapping m;
	uint32_t id, port, ref;
	void *page;

	/* Where b's next map would go, something b's pvdrivers did not put there. */
	harness_use(b);
	CU_ASSERT_EQUAL_FATAL(kpv_window_alloc(kb, &next), 0);
	kpv_window_free(kb, next);
	CU_ASSERT_EQUAL_FATAL(harness_device_setup(a, b, T_CLASS, 0, &id, &port), 0);
	CU_ASSERT_EQUAL(harness_hypercall(b, KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_DEVICE_PAGE,
					  id, next, 0, 0), 0);
	harness_use(a);
	page = kpv_shim_page_alloc();
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), page, false, &ref), 0);
	harness_use(b);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(kb, harness_domid(a), ref, false, &m), 0);
	CU_ASSERT(m.gfn != next);
	kpv_unmap_grant(kb, &m);
	/* ... and it is never handed out again. */
	while (kpv_window_alloc(kb, &gfn) == 0) {
		CU_ASSERT(gfn != next);
	}
	free_window(kb, next);
	harness_use(a);
	CU_ASSERT(kpv_grant_end(ka, ref));
	kpv_shim_page_free(page);
	t_stop(a, ka);
	t_stop(b, kb);
	t_assert_clean(b, 0);
}

/* Keel's version as @d sees it, and the UNMAP_SHARED calls @d made. */
struct keel_seen {
	long version;
	unsigned int unmaps;
};

static bool version_hook(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5],
			 long *ret)
{
	struct keel_seen *k = ctx;

	(void)d;
	(void)args;
	k->unmaps += nr == KEEL_HC_MEMORY_UNMAP_SHARED;
	if (nr == KEEL_HC_VERSION) {
		*ret = k->version;
		return true;
	}
	return false;
}

/*
 * ABI 1.1: a device page is one mapping however many users map it; when
 * the last lets go it leaves the window (its GFN is free for the next
 * map), and the page of a removed device is freed then.
 */
static void test_device_page_unmapped(void)
{
	struct hdom *a = harness_domain("a", 1), *b = harness_domain("b", 1);
	struct kpv *ka = t_start(a), *kb = t_start(b);
	struct keel_seen seen = { .version = KEEL_ABI_VERSION };
	uint64_t g1 = 0, g2 = 0, next, free0;
	uint32_t id, port;
	void *v1, *v2, *page;

	CU_ASSERT_EQUAL_FATAL(harness_device_setup(a, b, T_CLASS, 0, &id, &port), 0);
	page = harness_device_page(id);
	harness_use(b);
	harness_set_hook(b, version_hook, &seen);
	v1 = kpv_map_shared(kb, KEEL_MAPSPACE_DEVICE_PAGE, id, &g1);
	v2 = kpv_map_shared(kb, KEEL_MAPSPACE_DEVICE_PAGE, id, &g2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v2);
	CU_ASSERT_EQUAL(g1, g2);		/* a second mapping would move the first */
	CU_ASSERT_PTR_EQUAL(harness_gfn_view(b, g1), page);
	kpv_unmap_shared(kb, v1, g1);
	CU_ASSERT_PTR_EQUAL(harness_gfn_view(b, g1), page);	/* the other user's */
	CU_ASSERT_EQUAL(seen.unmaps, 0);
	CU_ASSERT_EQUAL(harness_device_remove(id), 0);
	free0 = harness_free_pages();
	kpv_unmap_shared(kb, v2, g2);
	CU_ASSERT_EQUAL(seen.unmaps, 1);
	CU_ASSERT_PTR_NULL(harness_gfn_view(b, g1));
	CU_ASSERT(harness_free_pages() >= free0 + 1);	/* the removed device's page */
	CU_ASSERT_EQUAL(kpv_window_alloc(kb, &next), 0);
	CU_ASSERT_EQUAL(next, g1);			/* the GFN is ours again */
	kpv_window_free(kb, next);
	harness_set_hook(b, NULL, NULL);
	t_stop(a, ka);
	t_stop(b, kb);
	t_assert_clean(b, 0);
}

/*
 * ABI 1.0: a port that asks for 1.0 starts; pvdrivers never makes the 1.1
 * call, and a device page stays at its GFN, taken, and comes back there.
 * A port that asks for 1.1 is refused by a 1.0 Keel.
 */
static void test_device_page_parked_on_1_0(void)
{
	struct hdom *a = harness_domain("a", 1), *b = harness_domain("b", 1);
	struct kpv_os os = {
		.os_id = KEEL_OS_REFERENCE, .abi_major = KEEL_ABI_MAJOR, .abi_minor = 1,
	};
	struct keel_seen seen = { .version = (long)KEEL_ABI_MAJOR << 16 };
	struct kpv *ka = t_start(a), *kb = NULL;
	uint64_t g1 = 0, g2 = 0, gfn;
	uint32_t id, port;
	void *v, *page;

	CU_ASSERT_EQUAL_FATAL(harness_device_setup(a, b, T_CLASS, 0, &id, &port), 0);
	page = harness_device_page(id);
	harness_use(b);
	harness_set_hook(b, version_hook, &seen);
	CU_ASSERT_EQUAL(kpv_start(&os, &kb), -KEEL_EVERSION);
	os.abi_minor = 0;
	CU_ASSERT_EQUAL_FATAL(kpv_start(&os, &kb), 0);
	v = kpv_map_shared(kb, KEEL_MAPSPACE_DEVICE_PAGE, id, &g1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	kpv_unmap_shared(kb, v, g1);
	CU_ASSERT_PTR_EQUAL(harness_gfn_view(b, g1), page);	/* parked */
	v = kpv_map_shared(kb, KEEL_MAPSPACE_DEVICE_PAGE, id, &g2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(g2, g1);
	kpv_unmap_shared(kb, v, g2);
	CU_ASSERT_EQUAL(seen.unmaps, 0);
	while (kpv_window_alloc(kb, &gfn) == 0) {
		CU_ASSERT(gfn != g1);
	}
	free_window(kb, g1);
	harness_set_hook(b, NULL, NULL);
	t_stop(a, ka);
	t_stop(b, kb);
}

static CU_TestInfo tests[] = {
	{ "distinct GFNs in the window until it is full", test_alloc_until_full },
	{ "a full window fails a map cleanly", test_full_window_fails_a_map },
	{ "a GFN someone else occupied is skipped for good", test_occupied_gfn_is_skipped },
	{ "ABI 1.1: a device page is unmapped when its last user lets go",
	  test_device_page_unmapped },
	{ "ABI 1.0: a device page stays parked at its GFN", test_device_page_parked_on_1_0 },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo window_suite = { "window", NULL, NULL, setup, teardown, tests };
