/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_memory_ops.c - unit tests for core/memory_ops.c and
 * the parts of core/guest_memory.c it stands on: populate and release
 * (including splitting a 2 MiB page), pins, the memory query, mapping
 * Keel-owned pages (shared info, grant frames, device pages) and moving
 * them, the batching rules, and that every page and heap byte comes back.
 *
 * Domains are real ones with RAM at GFNs 0..RAM_PAGES-1; page 1 holds the
 * hypercall arrays. What a guest would see is read from the fake arch's
 * second stage (fake_p2m_lookup()).
 */
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/memory_ops.h>
#include <keel/page_alloc.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/io/device.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	16
#define ARRAY_GPA	0x1000ull	/* hypercall arrays and structs */
#define BIG		1024		/* a 2 MiB aligned GFN above the small RAM */
#define LARGE		512		/* pages in a 2 MiB extent */

static uint64_t win, win_pages;		/* the map window, in GFNs */

static void setup(void)
{
	uint64_t gpa, size;

	unit_reset_counted();
	arch_map_window(&gpa, &size);
	win = gpa >> PAGE_SHIFT;
	win_pages = size >> PAGE_SHIFT;
}

static struct domain *make_caps(const char *name, uint64_t max_pages, uint32_t caps)
{
	struct domain_params p = {
		.name = name, .vcpu_count = 1, .max_pages = max_pages, .caps = caps,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	return d;
}

static struct domain *make(const char *name, uint64_t max_pages)
{
	return make_caps(name, max_pages, 0);
}

static void finish(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

static void put(struct domain *d, uint64_t gpa, const void *buf, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(d, gpa, buf, len), 0);
}

static void get(struct domain *d, uint64_t gpa, void *buf, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(d, gpa, buf, len), 0);
}

/* What @d's guest sees at @gfn (the second stage), or NULL. */
static uint8_t *seen(struct domain *d, uint64_t gfn, uint32_t *rights)
{
	uint32_t r = 0;
	paddr_t pa;

	if (!fake_p2m_lookup(d, gfn, &pa, &r)) {
		return NULL;
	}
	if (rights) {
		*rights = r;
	}
	return arch_phys_to_virt(pa);
}

static uint8_t *keel_page(paddr_t pa)
{
	return arch_phys_to_virt(pa);
}

/* One extent through POPULATE or RELEASE: its status. */
static int32_t extent(struct domain *d, bool populate, uint64_t gfn, uint32_t order)
{
	struct keel_memory_extent x = { .gfn = gfn, .order = order, .status = 12345 };

	put(d, ARRAY_GPA, &x, sizeof(x));
	if (populate) {
		CU_ASSERT_EQUAL(memory_hc_populate(d, ARRAY_GPA, 1), 1);
	} else {
		CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA, 1), 1);
	}
	get(d, ARRAY_GPA, &x, sizeof(x));
	return x.status;
}

#define POPULATE(d, gfn, order)	extent(d, true, gfn, order)
#define RELEASE(d, gfn, order)	extent(d, false, gfn, order)

/* Take every free page, so that the next allocation fails; and give them back. */
static paddr_t *hoard;
static size_t hoarded;

static void exhaust_pages(void)
{
	paddr_t pa;

	hoard = malloc((page_alloc_free_count() + 1) * sizeof(*hoard));
	CU_ASSERT_PTR_NOT_NULL_FATAL(hoard);
	while ((pa = page_alloc(1)) != 0) {
		hoard[hoarded++] = pa;
	}
}

static void release_pages(void)
{
	while (hoarded) {
		page_free(hoard[--hoarded], 1);
	}
	free(hoard);
	hoard = NULL;
}

/* --- POPULATE ----------------------------------------------------------------- */

static void test_populate(void)
{
	struct domain *d = make("pop", 4096);
	unsigned int large_before = fake.p2m_large_sets;
	uint32_t rights = 0;
	uint8_t *p;

	CU_ASSERT_EQUAL(POPULATE(d, 100, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES + 1 + LARGE);
	CU_ASSERT_EQUAL(fake.p2m_large_sets, large_before + 1);	/* one 2 MiB mapping */
	p = seen(d, BIG + 511, &rights);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_EQUAL(rights, GUEST_RWX);
	CU_ASSERT_EQUAL(p[0] | p[4095], 0);			/* zeroed */
	CU_ASSERT_EQUAL(guest_memory_kind(d, 100, NULL), GUEST_PAGE_RAM);
	/* Outside the MMIO hole, at and above 4 GiB. */
	CU_ASSERT_EQUAL(POPULATE(d, FAKE_PLATFORM_END >> PAGE_SHIFT, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(POPULATE(d, (FAKE_PLATFORM_GPA >> PAGE_SHIFT) - 1, KEEL_MEMORY_ORDER_4K),
			0);
	CU_ASSERT_EQUAL(POPULATE(d, GUEST_GFN_LIMIT - 1, KEEL_MEMORY_ORDER_4K), 0);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_populate_errors(void)
{
	struct domain *d = make("poperr", RAM_PAGES + LARGE);
	struct domain *g = make("poperr-g", 64);
	uint32_t platform = (uint32_t)(FAKE_PLATFORM_GPA >> PAGE_SHIFT);

	/* Order, alignment, range. */
	CU_ASSERT_EQUAL(POPULATE(d, 100, 1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, 100, 10), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, 100, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, BIG + 1, KEEL_MEMORY_ORDER_2M), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, GUEST_GFN_LIMIT, KEEL_MEMORY_ORDER_4K), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, UINT64_MAX & ~511ull, KEEL_MEMORY_ORDER_2M), -KEEL_EINVAL);
	/* Platform ranges and the map window. */
	CU_ASSERT_EQUAL(POPULATE(d, platform, KEEL_MEMORY_ORDER_4K), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, platform, KEEL_MEMORY_ORDER_2M), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, (FAKE_PLATFORM_END >> PAGE_SHIFT) - 1, KEEL_MEMORY_ORDER_4K),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, win, KEEL_MEMORY_ORDER_4K), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, win + win_pages - 1, KEEL_MEMORY_ORDER_4K), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(POPULATE(d, win + win_pages - LARGE, KEEL_MEMORY_ORDER_2M), -KEEL_EINVAL);
	/* Occupied: RAM, a Keel page, a foreign page; even when also over the limit. */
	CU_ASSERT_EQUAL(POPULATE(d, 5, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(POPULATE(d, 0, KEEL_MEMORY_ORDER_2M), -KEEL_EBUSY);	/* partly */
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, 200), 0);
	CU_ASSERT_EQUAL(POPULATE(d, 200, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(gnttab_hc_setup(g, 1), 1);
	{
		struct keel_grant_entry *e;
		struct keel_gnttab_map m = { .domid = g->domid, .ref = 0, .gfn = 201 };
		paddr_t frame;

		CU_ASSERT_EQUAL(gnttab_frame(g, 0, &frame), 0);
		e = (struct keel_grant_entry *)keel_page(frame);
		e->domid = d->domid;
		e->gfn = 3;
		e->flags = KEEL_GNTF_PERMIT;
		put(d, ARRAY_GPA, &m, sizeof(m));
		CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA, 1), 1);
		get(d, ARRAY_GPA, &m, sizeof(m));
		CU_ASSERT_EQUAL(m.status, 0);
	}
	CU_ASSERT_EQUAL(POPULATE(d, 201, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(POPULATE(d, 0, KEEL_MEMORY_ORDER_2M), -KEEL_EBUSY);
	/* The limit. */
	CU_ASSERT_EQUAL(POPULATE(d, 300, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), -KEEL_ENOMEM);	/* 511 left */
	guest_memory_set_limits(d, RAM_PAGES + 2, 0);
	CU_ASSERT_EQUAL(POPULATE(d, 301, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(POPULATE(d, 302, KEEL_MEMORY_ORDER_4K), -KEEL_ENOMEM);
	guest_memory_set_limits(d, RAM_PAGES + 2 + LARGE, 0);
	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	/* Keel out of memory. */
	exhaust_pages();
	guest_memory_set_limits(d, 1u << 20, 0);
	CU_ASSERT_EQUAL(POPULATE(d, 2 * BIG, KEEL_MEMORY_ORDER_2M), -KEEL_ENOMEM);
	CU_ASSERT_EQUAL(POPULATE(d, 303, KEEL_MEMORY_ORDER_4K), -KEEL_ENOMEM);
	release_pages();
	finish(d);
	finish(g);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- RELEASE ------------------------------------------------------------------- */

static void test_release(void)
{
	struct domain *d = make("rel", 4096);

	CU_ASSERT_EQUAL(RELEASE(d, 5, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES - 1);
	CU_ASSERT_PTR_NULL(seen(d, 5, NULL));
	CU_ASSERT_EQUAL(guest_memory_kind(d, 5, NULL), GUEST_PAGE_NONE);
	CU_ASSERT_EQUAL(RELEASE(d, 5, KEEL_MEMORY_ORDER_4K), -KEEL_ENOENT);	/* again */
	CU_ASSERT_EQUAL(POPULATE(d, 5, KEEL_MEMORY_ORDER_4K), 0);		/* and back */
	/* A whole 2 MiB page, and 512 small ones as one extent. */
	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(RELEASE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_PTR_NULL(seen(d, BIG, NULL));
	CU_ASSERT_EQUAL(guest_memory_populate(d, BIG + LARGE + 1, LARGE - 1), 0);
	/* A hole in the extent. */
	CU_ASSERT_EQUAL(RELEASE(d, BIG + LARGE, KEEL_MEMORY_ORDER_2M), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(POPULATE(d, BIG + LARGE, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(RELEASE(d, BIG + LARGE, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	/* Errors. */
	CU_ASSERT_EQUAL(RELEASE(d, 5, 3), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(RELEASE(d, 8, KEEL_MEMORY_ORDER_2M), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(RELEASE(d, GUEST_GFN_LIMIT, KEEL_MEMORY_ORDER_4K), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(RELEASE(d, 0, KEEL_MEMORY_ORDER_2M), -KEEL_ENOENT);	/* partly RAM */
	CU_ASSERT_EQUAL(RELEASE(d, win, KEEL_MEMORY_ORDER_4K), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(RELEASE(d, win, KEEL_MEMORY_ORDER_4K), -KEEL_ENOENT);	/* Keel's */
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* Releasing 4 KiB out of a 2 MiB page keeps the other 511, contents and all. */
static void test_release_splits_large_page(void)
{
	struct domain *d = make("split", 4096);
	uint64_t tables;
	uint32_t rights = 0;

	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	for (uint64_t i = 0; i < LARGE; i++) {
		uint8_t b = (uint8_t)i;

		put(d, (BIG + i) << PAGE_SHIFT, &b, 1);
	}
	tables = d->mem.table_pages;
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 7, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(d->mem.table_pages, tables + 1);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES + LARGE - 1);
	CU_ASSERT_PTR_NULL(seen(d, BIG + 7, NULL));
	for (uint64_t i = 0; i < LARGE; i++) {
		uint8_t *p = seen(d, BIG + i, &rights);

		if (i == 7) {
			continue;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(p[0], (uint8_t)i);
		CU_ASSERT_EQUAL(rights, GUEST_RWX);
	}
	/* The rest goes page by page, or as the remaining 2 MiB extent fails. */
	CU_ASSERT_EQUAL(RELEASE(d, BIG, KEEL_MEMORY_ORDER_2M), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 8, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(POPULATE(d, BIG + 7, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(POPULATE(d, BIG + 8, KEEL_MEMORY_ORDER_4K), 0);
	CU_ASSERT_EQUAL(RELEASE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_release_split_fails_cleanly(void)
{
	struct domain *d = make("splitfail", 4096);
	uint8_t *before;

	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	before = seen(d, BIG + 3, NULL);
	/* No page for the new table. */
	exhaust_pages();
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 3, KEEL_MEMORY_ORDER_4K), -KEEL_ENOMEM);
	release_pages();
	/* The arch cannot map the small pages (its table): the 2 MiB page comes back. */
	fake.p2m_set_fail_after = 0;
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 3, KEEL_MEMORY_ORDER_4K), -KEEL_ENOMEM);
	CU_ASSERT_PTR_EQUAL(seen(d, BIG + 3, NULL), before);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES + LARGE);
	CU_ASSERT_EQUAL(guest_memory_kind(d, BIG + 3, NULL), GUEST_PAGE_RAM);
	CU_ASSERT_EQUAL(RELEASE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);	/* still one page */
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- pins ------------------------------------------------------------------------- */

static void test_pins(void)
{
	struct domain *d = make("pins", 4096);
	paddr_t pa = 0, pa2 = 0;
	uint32_t rights;

	CU_ASSERT_EQUAL(guest_memory_pin(d, 100, &pa), -KEEL_ENOENT);	/* nothing */
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(guest_memory_pin(d, win, &pa), -KEEL_ENOENT);	/* Keel's */
	CU_ASSERT_EQUAL(guest_memory_pin(d, 3, &pa), 0);
	CU_ASSERT(guest_memory_translate(d, 3, &pa2, &rights));
	CU_ASSERT_EQUAL(pa, pa2);
	CU_ASSERT_EQUAL(guest_memory_pin(d, 3, &pa), 0);
	CU_ASSERT_EQUAL(RELEASE(d, 3, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);
	guest_memory_unpin(d, 3);
	CU_ASSERT_EQUAL(RELEASE(d, 3, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);	/* one left */
	guest_memory_unpin(d, 3);
	CU_ASSERT_EQUAL(RELEASE(d, 3, KEEL_MEMORY_ORDER_4K), 0);
	/* Not RAM goes before pinned. */
	CU_ASSERT_EQUAL(guest_memory_pin(d, 4, &pa), 0);
	CU_ASSERT_EQUAL(RELEASE(d, 0, KEEL_MEMORY_ORDER_2M), -KEEL_ENOENT);
	guest_memory_unpin(d, 4);

	/* A pinned page inside a 2 MiB page. */
	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(guest_memory_pin(d, BIG + 9, &pa), 0);
	CU_ASSERT_EQUAL(RELEASE(d, BIG, KEEL_MEMORY_ORDER_2M), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 9, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 10, KEEL_MEMORY_ORDER_4K), 0);	/* its neighbour */
	CU_ASSERT(guest_memory_translate(d, BIG + 9, &pa2, &rights));
	CU_ASSERT_EQUAL(pa, pa2);					/* the split kept it */
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 9, KEEL_MEMORY_ORDER_4K), -KEEL_EBUSY);
	guest_memory_unpin(d, BIG + 9);
	CU_ASSERT_EQUAL(RELEASE(d, BIG + 9, KEEL_MEMORY_ORDER_4K), 0);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* Many pins, dropped in an order that moves entries around in the hash table. */
static void test_many_pins(void)
{
	struct domain *d = make("manypins", 4096);
	uint64_t seed = 7;
	bool pinned[LARGE] = { false };
	paddr_t pa;

	CU_ASSERT_EQUAL(POPULATE(d, BIG, KEEL_MEMORY_ORDER_2M), 0);
	for (uint64_t i = 0; i < LARGE; i += 2) {
		CU_ASSERT_EQUAL(guest_memory_pin(d, BIG + i, &pa), 0);
		pinned[i] = true;
	}
	for (int round = 0; round < 2000; round++) {
		uint32_t i = unit_rand(&seed) % LARGE;

		if (pinned[i]) {
			guest_memory_unpin(d, BIG + i);
		} else {
			CU_ASSERT_EQUAL(guest_memory_pin(d, BIG + i, &pa), 0);
		}
		pinned[i] = !pinned[i];
	}
	for (uint64_t i = 0; i < LARGE; i++) {
		int32_t want = pinned[i] ? -KEEL_EBUSY : 0;

		CU_ASSERT_EQUAL(RELEASE(d, BIG + i, KEEL_MEMORY_ORDER_4K), want);
		if (pinned[i]) {
			guest_memory_unpin(d, BIG + i);
			CU_ASSERT_EQUAL(RELEASE(d, BIG + i, KEEL_MEMORY_ORDER_4K), 0);
		}
	}
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- batches --------------------------------------------------------------------- */

static void test_batch_errors(void)
{
	struct domain *d = make("mbatch", 4096);

	CU_ASSERT_EQUAL(memory_hc_populate(d, ARRAY_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_populate(d, ARRAY_GPA + 4, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA + 12, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_populate(d, ARRAY_GPA, 257), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA + 0xff8, 1), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA + 0xff0, 2), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(memory_hc_populate(d, RAM_PAGES << PAGE_SHIFT, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(memory_hc_populate(d, win << PAGE_SHIFT, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_batch_elements_and_early_stop(void)
{
	struct domain *d = make("mpartial", 16 * 1024);
	struct domain *ctl = make("mpartial-ctl", 64);
	struct keel_memory_extent x[256];
	long n;

	/* 256 small extents, one of them bad, fit in one call. */
	for (int i = 0; i < 256; i++) {
		x[i] = (struct keel_memory_extent){ .gfn = 100 + i, .order = 0, .status = 12345 };
	}
	x[7].order = 2;
	put(d, ARRAY_GPA, x, sizeof(x));
	CU_ASSERT_EQUAL(memory_hc_populate(d, ARRAY_GPA, 256), 256);
	get(d, ARRAY_GPA, x, sizeof(x));
	CU_ASSERT_EQUAL(x[0].status, 0);
	CU_ASSERT_EQUAL(x[7].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(x[8].status, 0);
	CU_ASSERT_EQUAL(x[255].status, 0);
	CU_ASSERT_EQUAL(x[7].order, 2);				/* IN fields untouched */
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES + 255);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA, 256), 256);

	/* Large extents: the call stops after MEMORY_BATCH_PAGES pages. */
	for (int i = 0; i < 10; i++) {
		x[i] = (struct keel_memory_extent){
			.gfn = BIG + (uint64_t)i * LARGE, .order = KEEL_MEMORY_ORDER_2M,
			.status = 12345,
		};
	}
	put(d, ARRAY_GPA, x, 10 * sizeof(x[0]));
	n = memory_hc_populate(d, ARRAY_GPA, 10);
	CU_ASSERT_EQUAL(n, MEMORY_BATCH_PAGES / LARGE);
	get(d, ARRAY_GPA, x, 10 * sizeof(x[0]));
	CU_ASSERT_EQUAL(x[n - 1].status, 0);
	CU_ASSERT_EQUAL(x[n].status, 12345);			/* not touched */
	CU_ASSERT_EQUAL(memory_hc_populate(d, ARRAY_GPA + (uint64_t)n * sizeof(x[0]), 10 - n),
			10 - n);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES + 10 * LARGE);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA, 10), n);
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA + (uint64_t)n * sizeof(x[0]), 10 - n),
			10 - n);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	/* Failed large extents cost little: all ten run in one call. */
	put(d, ARRAY_GPA, x, 10 * sizeof(x[0]));
	CU_ASSERT_EQUAL(memory_hc_release(d, ARRAY_GPA, 10), 10);

	/* A controller's array, the target's memory (KEEL_HC_CTL_DOMAIN_POPULATE). */
	x[0] = (struct keel_memory_extent){ .gfn = 500, .order = 0, .status = 12345 };
	put(ctl, ARRAY_GPA, x, sizeof(x[0]));
	CU_ASSERT_EQUAL(memory_populate_extents(ctl, d, ARRAY_GPA, 1), 1);
	get(ctl, ARRAY_GPA, x, sizeof(x[0]));
	CU_ASSERT_EQUAL(x[0].status, 0);
	CU_ASSERT_EQUAL(guest_memory_kind(d, 500, NULL), GUEST_PAGE_RAM);
	CU_ASSERT_EQUAL(guest_memory_kind(ctl, 500, NULL), GUEST_PAGE_NONE);
	finish(d);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- QUERY ------------------------------------------------------------------------- */

static void test_query(void)
{
	struct domain *d = make("query", 4096);
	struct keel_memory_info info;

	memset(&info, 0xee, sizeof(info));
	put(d, ARRAY_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(memory_hc_query(d, ARRAY_GPA), 0);
	get(d, ARRAY_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.current_pages, RAM_PAGES);
	CU_ASSERT_EQUAL(info.max_pages, 4096);
	CU_ASSERT_EQUAL(info.target_pages, 4096);		/* until a controller sets one */
	CU_ASSERT_EQUAL(info.map_window_gfn, FAKE_MAP_WINDOW_GPA >> PAGE_SHIFT);
	CU_ASSERT_EQUAL(info.map_window_pages, FAKE_MAP_WINDOW_SIZE >> PAGE_SHIFT);
	guest_memory_set_limits(d, 0, 1000);
	guest_memory_set_limits(d, 5000, 0);
	CU_ASSERT_EQUAL(POPULATE(d, 100, 0), 0);
	CU_ASSERT_EQUAL(memory_hc_query(d, ARRAY_GPA), 0);
	get(d, ARRAY_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.current_pages, RAM_PAGES + 1);
	CU_ASSERT_EQUAL(info.max_pages, 5000);
	CU_ASSERT_EQUAL(info.target_pages, 1000);
	CU_ASSERT_EQUAL(memory_hc_query(d, ARRAY_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_query(d, ARRAY_GPA + 0xfe0), -KEEL_EFAULT);	/* crosses */
	CU_ASSERT_EQUAL(memory_hc_query(d, ARRAY_GPA + 0xfd8), 0);		/* just fits */
	CU_ASSERT_EQUAL(memory_hc_query(d, RAM_PAGES << PAGE_SHIFT), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(memory_hc_query(d, win << PAGE_SHIFT), -KEEL_EFAULT);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- MAP_SHARED -------------------------------------------------------------------- */

static void test_map_shared_info(void)
{
	struct domain *d = make("shinfo", 4096);
	uint32_t rights = 0;
	uint8_t b;

	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_PTR_EQUAL(seen(d, win, &rights), keel_page(d->shared_info_pa));
	CU_ASSERT_EQUAL(rights, GUEST_READ | GUEST_WRITE);
	CU_ASSERT_EQUAL(guest_memory_kind(d, win, NULL), GUEST_PAGE_KEEL);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);		/* not counted */
	CU_ASSERT_FALSE(guest_memory_translate(d, win, &(paddr_t){ 0 }, &rights));
	CU_ASSERT_EQUAL(guest_copy_to(d, win << PAGE_SHIFT, &b, 1), -KEEL_EFAULT);
	/* Mapping it where it is changes nothing; elsewhere moves it. */
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win + 5), 0);
	CU_ASSERT_PTR_NULL(seen(d, win, NULL));
	CU_ASSERT_EQUAL(guest_memory_kind(d, win, NULL), GUEST_PAGE_NONE);
	CU_ASSERT_PTR_EQUAL(seen(d, win + 5, NULL), keel_page(d->shared_info_pa));
	/* A released RAM GFN works too; a failed move leaves it where it was. */
	CU_ASSERT_EQUAL(RELEASE(d, 9, 0), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, 9), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, 8), -KEEL_EBUSY);
	CU_ASSERT_PTR_EQUAL(seen(d, 9, NULL), keel_page(d->shared_info_pa));
	CU_ASSERT_EQUAL(POPULATE(d, 9, 0), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(RELEASE(d, 9, 0), -KEEL_ENOENT);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_shared_errors(void)
{
	struct domain *d = make("sherr", 4096);
	uint64_t platform = FAKE_PLATFORM_GPA >> PAGE_SHIFT;

	CU_ASSERT_EQUAL(memory_hc_map_shared(d, 3, 0, win), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, UINT64_MAX, 0, win), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 1, win), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 1ull << 32, win),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, GUEST_GFN_LIMIT),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, win), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_DEVICE_PAGE, 12345, win),
			-KEEL_ENOENT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, 3), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, platform),
			-KEEL_EBUSY);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win - 1),
			-KEEL_EBUSY);		/* the hole around the window */
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win + win_pages),
			-KEEL_EBUSY);
	CU_ASSERT_EQUAL(fake.p2m_pages, RAM_PAGES);		/* nothing mapped */
	/* Another object at the same GFN. */
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 2), 2);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 1, win), -KEEL_EBUSY);
	/* Out of memory for a p2m table, far from anything mapped. */
	exhaust_pages();
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, 1ull << 30),
			-KEEL_ENOMEM);
	release_pages();
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_grant_frames(void)
{
	struct domain *d = make("frames", 4096);
	paddr_t f0, f1;

	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 2), 2);
	CU_ASSERT_EQUAL(gnttab_frame(d, 0, &f0), 0);
	CU_ASSERT_EQUAL(gnttab_frame(d, 1, &f1), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, win), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 1, win + 1), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 2, win + 2),
			-KEEL_ENOENT);
	CU_ASSERT_PTR_EQUAL(seen(d, win, NULL), keel_page(f0));
	CU_ASSERT_PTR_EQUAL(seen(d, win + 1, NULL), keel_page(f1));
	/* The guest writes entries through its mapping; Keel reads the same page. */
	seen(d, win + 1, NULL)[8] = 0x42;
	CU_ASSERT_EQUAL(keel_page(f1)[8], 0x42);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 1, win + 3), 0);
	CU_ASSERT_PTR_NULL(seen(d, win + 1, NULL));
	CU_ASSERT_PTR_EQUAL(seen(d, win + 3, NULL), keel_page(f1));
	finish(d);		/* the frames leave the p2m before they are freed */
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_device_pages(void)
{
	struct domain *front = make("dev-front", 4096);
	struct domain *back = make_caps("dev-back", 4096, KEEL_CAP_BACKEND_CONSOLE);
	struct domain *third = make("dev-third", 4096);
	struct device_setup s = { .device_class = KEEL_IO_CLASS_CONSOLE, .auto_index = true };
	uint64_t free_before;
	uint8_t *page;

	CU_ASSERT_EQUAL_FATAL(device_setup(front, back, &s), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(third, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id, win),
			-KEEL_EPERM);
	CU_ASSERT_EQUAL(memory_hc_map_shared(front, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id + 1,
					     win), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(front, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id, win),
			0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(back, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id, win + 4),
			0);
	page = seen(front, win, NULL);
	CU_ASSERT_PTR_NOT_NULL(page);
	CU_ASSERT_PTR_EQUAL(seen(back, win + 4, NULL), page);	/* both ends share it */
	/* Failed, repeated and moving maps keep one reference per mapping. */
	CU_ASSERT_EQUAL(memory_hc_map_shared(front, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id, 3),
			-KEEL_EBUSY);
	CU_ASSERT_EQUAL(memory_hc_map_shared(front, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id, win),
			0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(front, KEEL_MAPSPACE_DEVICE_PAGE, s.device_id,
					     win + 1), 0);
	CU_ASSERT_PTR_NULL(seen(front, win, NULL));
	CU_ASSERT_PTR_EQUAL(seen(front, win + 1, NULL), page);
	/* Removed, the page stays while mapped, then goes with its last mapping. */
	CU_ASSERT_EQUAL(device_remove(s.device_id), 0);
	CU_ASSERT_PTR_EQUAL(seen(back, win + 4, NULL), page);
	free_before = page_alloc_free_count();
	finish(back);
	CU_ASSERT_PTR_EQUAL(seen(front, win + 1, NULL), page);
	finish(front);
	CU_ASSERT(page_alloc_free_count() > free_before);
	finish(third);
	UNIT_CHECK_ALL_RETURNED();
}

/* A domain holding every kind of page is torn down completely. */
static void test_release_all_kinds(void)
{
	struct domain *g = make("all-g", 4096), *m = make("all-m", 4096);
	struct keel_gnttab_map req;
	struct keel_grant_entry *e;
	paddr_t frame, pa;

	CU_ASSERT_EQUAL(POPULATE(m, BIG, KEEL_MEMORY_ORDER_2M), 0);
	CU_ASSERT_EQUAL(RELEASE(m, BIG + 1, KEEL_MEMORY_ORDER_4K), 0);	/* a split page */
	CU_ASSERT_EQUAL(guest_memory_pin(m, BIG + 2, &pa), 0);		/* left pinned */
	CU_ASSERT_EQUAL(memory_hc_map_shared(m, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(gnttab_hc_setup(g, 1), 1);
	CU_ASSERT_EQUAL(gnttab_frame(g, 0, &frame), 0);
	e = (struct keel_grant_entry *)keel_page(frame);
	e->domid = m->domid;
	e->gfn = 2;
	e->flags = KEEL_GNTF_PERMIT;
	req = (struct keel_gnttab_map){ .domid = g->domid, .ref = 0, .gfn = win + 1 };
	put(m, ARRAY_GPA, &req, sizeof(req));
	CU_ASSERT_EQUAL(gnttab_hc_map(m, ARRAY_GPA, 1), 1);
	get(m, ARRAY_GPA, &req, sizeof(req));
	CU_ASSERT_EQUAL(req.status, 0);
	finish(m);
	CU_ASSERT_EQUAL(e->status, 0);
	finish(g);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "populate", test_populate },
	{ "populate errors in order", test_populate_errors },
	{ "release", test_release },
	{ "release splits a 2 MiB page", test_release_splits_large_page },
	{ "a failed split changes nothing", test_release_split_fails_cleanly },
	{ "pins", test_pins },
	{ "many pins", test_many_pins },
	{ "batch errors", test_batch_errors },
	{ "batch elements and early stop", test_batch_elements_and_early_stop },
	{ "query", test_query },
	{ "map shared info, and move it", test_map_shared_info },
	{ "map shared errors", test_map_shared_errors },
	{ "map grant frames", test_map_grant_frames },
	{ "map device pages", test_map_device_pages },
	{ "teardown releases every kind", test_release_all_kinds },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo memory_ops_suite = {
	.pName = "memory_ops",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
