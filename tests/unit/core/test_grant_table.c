/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_grant_table.c - unit tests for core/grant_table.c:
 * setup and query, map and unmap, copy, cooperative and forced revoke,
 * destruction of either side, the batching rules and every misuse the ABI
 * names, and that every page and heap byte comes back.
 *
 * Domains are real ones with RAM at GFNs 0..RAM_PAGES-1: page 1 holds the
 * hypercall arrays, pages from DATA_GFN on are granted. Mappings go into
 * the map window. What a guest would see is read from the fake arch's
 * second stage (fake_p2m_lookup()), not from the core's p2m.
 */
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/memory_ops.h>
#include <keel/page_alloc.h>
#include <public/keel/errno.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	64
#define ARRAY_GPA	0x1000ull	/* hypercall arrays */
#define DATA_GFN	8		/* granted pages start here */
#define RW		(GUEST_READ | GUEST_WRITE)

static uint64_t win;			/* first GFN of the map window */

static void setup(void)
{
	uint64_t gpa, size;

	unit_reset_counted();
	arch_map_window(&gpa, &size);
	win = gpa >> PAGE_SHIFT;
}

static struct domain *make_limits(const char *name, uint32_t frames, uint32_t maps)
{
	struct domain_params p = {
		.name = name, .vcpu_count = 1, .max_pages = 1024,
		.max_grant_frames = frames, .max_maps = maps,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	return d;
}

/* A domain with one grant frame. */
static struct domain *make(const char *name)
{
	struct domain *d = make_limits(name, 0, 0);

	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 1), 1);
	return d;
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

/* Keel's view of entry @ref of @d's table (the granter writes the same page). */
static struct keel_grant_entry *entry(struct domain *d, uint32_t ref)
{
	paddr_t pa = 0;

	CU_ASSERT_EQUAL_FATAL(gnttab_frame(d, ref / KEEL_GRANT_ENTRIES_PER_FRAME, &pa), 0);
	return (struct keel_grant_entry *)arch_phys_to_virt(pa) +
	       ref % KEEL_GRANT_ENTRIES_PER_FRAME;
}

/* The granter's side of the protocol: domid and gfn, then flags. */
static void grant(struct domain *g, uint32_t ref, uint32_t to, uint64_t gfn, uint16_t flags)
{
	struct keel_grant_entry *e = entry(g, ref);

	e->domid = to;
	e->gfn = gfn;
	__atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
}

static uint16_t status_of(struct domain *g, uint32_t ref)
{
	return entry(g, ref)->status;
}

/* @d's RAM page @gfn as Keel sees it. */
static uint8_t *ram(struct domain *d, uint64_t gfn)
{
	uint32_t rights;
	paddr_t pa = 0;

	CU_ASSERT_FATAL(guest_memory_translate(d, gfn, &pa, &rights));
	return arch_phys_to_virt(pa);
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

/* One MAP element through the hypercall: its status, and the handle. */
static int32_t map_el(struct domain *m, uint32_t domid, uint32_t ref, uint64_t gfn,
		      uint32_t flags, uint32_t *handle)
{
	struct keel_gnttab_map req = {
		.domid = domid, .ref = ref, .gfn = gfn, .flags = flags,
		.handle = 0xdeadbeef, .status = 12345,
	};

	put(m, ARRAY_GPA, &req, sizeof(req));
	CU_ASSERT_EQUAL(gnttab_hc_map(m, ARRAY_GPA, 1), 1);
	get(m, ARRAY_GPA, &req, sizeof(req));
	if (handle) {
		*handle = req.handle;
	}
	return req.status;
}

static int32_t unmap_el(struct domain *m, uint64_t gfn, uint32_t handle)
{
	struct keel_gnttab_unmap u = { .gfn = gfn, .handle = handle, .status = 12345 };

	put(m, ARRAY_GPA, &u, sizeof(u));
	CU_ASSERT_EQUAL(gnttab_hc_unmap(m, ARRAY_GPA, 1), 1);
	get(m, ARRAY_GPA, &u, sizeof(u));
	return u.status;
}

static int32_t revoke_el(struct domain *g, uint32_t ref)
{
	struct keel_gnttab_revoke r = { .ref = ref, .status = 12345 };

	put(g, ARRAY_GPA, &r, sizeof(r));
	CU_ASSERT_EQUAL(gnttab_hc_revoke(g, ARRAY_GPA, 1), 1);
	get(g, ARRAY_GPA, &r, sizeof(r));
	return r.status;
}

static int32_t copy_el(struct domain *d, struct keel_gnttab_copy c)
{
	c.status = 12345;
	put(d, ARRAY_GPA, &c, sizeof(c));
	CU_ASSERT_EQUAL(gnttab_hc_copy(d, ARRAY_GPA, 1), 1);
	get(d, ARRAY_GPA, &c, sizeof(c));
	return c.status;
}

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

/* --- SETUP and QUERY --------------------------------------------------------- */

static void test_setup_and_query(void)
{
	struct domain *d = make_limits("setup", 0, 0);
	struct keel_gnttab_query q;
	struct keel_grant_entry *e;
	paddr_t pa;

	CU_ASSERT_EQUAL(gnttab_frame(d, 0, &pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, GNTTAB_FRAMES_DEFAULT + 1), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, UINT64_MAX), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 2), 2);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 1), 2);		/* never shrinks */
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 2), 2);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 3), 3);
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, GNTTAB_FRAMES_DEFAULT), GNTTAB_FRAMES_DEFAULT);
	CU_ASSERT_EQUAL(gnttab_frame(d, GNTTAB_FRAMES_DEFAULT - 1, &pa), 0);
	CU_ASSERT_EQUAL(gnttab_frame(d, GNTTAB_FRAMES_DEFAULT, &pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(gnttab_frame(d, UINT64_MAX, &pa), -KEEL_ENOENT);
	e = entry(d, 3 * KEEL_GRANT_ENTRIES_PER_FRAME - 1);	/* frames come zeroed */
	CU_ASSERT(e->flags == 0 && e->status == 0 && e->domid == 0 && e->gfn == 0);

	memset(&q, 0xff, sizeof(q));
	put(d, 0x2000, &q, sizeof(q));
	CU_ASSERT_EQUAL(gnttab_hc_query(d, 0x2000), 0);
	get(d, 0x2000, &q, sizeof(q));
	CU_ASSERT_EQUAL(q.nr_frames, GNTTAB_FRAMES_DEFAULT);
	CU_ASSERT_EQUAL(q.max_frames, GNTTAB_FRAMES_DEFAULT);
	CU_ASSERT_EQUAL(gnttab_hc_query(d, 0x2ff8), 0);		/* the page's last 8 bytes */
	CU_ASSERT_EQUAL(gnttab_hc_query(d, 0x2004), -KEEL_EFAULT);	/* misaligned */
	CU_ASSERT_EQUAL(gnttab_hc_query(d, RAM_PAGES << PAGE_SHIFT), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(gnttab_hc_query(d, UINT64_MAX - 7), -KEEL_EFAULT);
	/* A grant frame is Keel's page, not the caller's RAM. */
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, win), 0);
	CU_ASSERT_EQUAL(gnttab_hc_query(d, win << PAGE_SHIFT), -KEEL_EFAULT);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_limits(void)
{
	struct domain *small = make_limits("small", 4, 2);
	struct domain *huge = make_limits("huge", UINT32_MAX, UINT32_MAX);
	struct keel_gnttab_query q;

	CU_ASSERT_EQUAL(gnttab_hc_setup(small, 5), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(gnttab_hc_setup(small, 4), 4);
	CU_ASSERT_EQUAL(gnttab_hc_query(huge, 0x2000), 0);
	get(huge, 0x2000, &q, sizeof(q));
	CU_ASSERT_EQUAL(q.nr_frames, 0);
	CU_ASSERT_EQUAL(q.max_frames, GNTTAB_FRAMES_MAX);	/* cut to Keel's maximum */
	finish(small);
	finish(huge);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_setup_out_of_memory(void)
{
	struct domain *d = make_limits("nomem", 0, 0);
	uint64_t before;

	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 1), 1);
	exhaust_pages();
	before = page_alloc_free_count();
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 3), -KEEL_ENOMEM);
	CU_ASSERT_EQUAL(page_alloc_free_count(), before);	/* nothing kept */
	release_pages();
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 1), 1);		/* still one frame */
	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 3), 3);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- MAP and UNMAP ------------------------------------------------------------ */

static void test_map_and_unmap(void)
{
	struct domain *g = make("granter"), *m = make("mapper");
	uint64_t ram_before = m->mem.ram_pages;
	uint8_t *view, byte = 0;
	uint32_t handle, rights = 0;

	ram(g, DATA_GFN)[100] = 0x5a;
	grant(g, 5, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 5, win, 0, &handle), 0);
	CU_ASSERT_EQUAL(status_of(g, 5), KEEL_GNTS_MAPPED);

	/* The mapper's guest sees the granter's page, writable. */
	view = seen(m, win, &rights);
	CU_ASSERT_PTR_EQUAL(view, ram(g, DATA_GFN));
	CU_ASSERT_EQUAL(rights, RW);
	view[101] = 0xa5;
	get(g, (DATA_GFN << PAGE_SHIFT) + 101, &byte, 1);
	CU_ASSERT_EQUAL(byte, 0xa5);
	CU_ASSERT_EQUAL(guest_memory_kind(m, win, NULL), GUEST_PAGE_FOREIGN);
	/* Keel never copies hypercall structs through a foreign page. */
	CU_ASSERT_EQUAL(guest_copy_from(m, win << PAGE_SHIFT, &byte, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(m->mem.ram_pages, ram_before);		/* not the mapper's RAM */
	CU_ASSERT_EQUAL(g->mem.ram_pages, RAM_PAGES);		/* still the granter's */

	CU_ASSERT_EQUAL(unmap_el(m, win, handle), 0);
	CU_ASSERT_EQUAL(status_of(g, 5), 0);
	CU_ASSERT_PTR_NULL(seen(m, win, NULL));
	CU_ASSERT_EQUAL(guest_memory_kind(m, win, NULL), GUEST_PAGE_NONE);
	CU_ASSERT_EQUAL(unmap_el(m, win, handle), -KEEL_ENOENT);	/* double unmap */
	/* The GFN holds nothing again: it can be mapped again. */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 5, win, 0, &handle), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win, handle), 0);
	finish(m);
	finish(g);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_read_only(void)
{
	struct domain *g = make("ro-granter"), *m = make("ro-mapper");
	uint32_t h1, h2, rights = 0;

	grant(g, 1, m->domid, DATA_GFN, KEEL_GNTF_PERMIT | KEEL_GNTF_READONLY);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win, 0, NULL), -KEEL_EACCES);
	CU_ASSERT_EQUAL(status_of(g, 1), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win, KEEL_GNTMAP_READONLY, &h1), 0);
	CU_ASSERT_PTR_EQUAL(seen(m, win, &rights), ram(g, DATA_GFN));
	CU_ASSERT_EQUAL(rights, GUEST_READ);
	/* A writable grant may be mapped read-only too. */
	grant(g, 2, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 2, win + 1, KEEL_GNTMAP_READONLY, &h2), 0);
	seen(m, win + 1, &rights);
	CU_ASSERT_EQUAL(rights, GUEST_READ);
	CU_ASSERT_EQUAL(unmap_el(m, win, h1), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h2), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_errors(void)
{
	struct domain *g = make("errs-granter"), *m = make("errs-mapper");
	struct domain *other = make("errs-other"), *empty = make_limits("errs-empty", 0, 0);
	uint32_t h, hother;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	/* The granter itself, in both spellings. */
	CU_ASSERT_EQUAL(map_el(m, m->domid, 0, win, 0, NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(map_el(m, KEEL_DOMID_SELF, 0, win, 0, NULL), -KEEL_EINVAL);
	/* No such domain (ESRCH comes before the struct's contents). */
	CU_ASSERT_EQUAL(map_el(m, 0, 0, win, 0, NULL), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(map_el(m, g->domid + 1000, 0, win, 0x80, NULL), -KEEL_ESRCH);
	/* Contents. */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0x2, NULL), -KEEL_EINVAL);
	{
		struct keel_gnttab_map req = {
			.domid = g->domid, .ref = 0, .gfn = win, .pad0 = 1,
		};

		put(m, ARRAY_GPA, &req, sizeof(req));
		CU_ASSERT_EQUAL(gnttab_hc_map(m, ARRAY_GPA, 1), 1);
		get(m, ARRAY_GPA, &req, sizeof(req));
		CU_ASSERT_EQUAL(req.status, -KEEL_EINVAL);
	}
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, GUEST_GFN_LIMIT, 0, NULL), -KEEL_EINVAL);
	/* The entry. */
	CU_ASSERT_EQUAL(map_el(m, g->domid, KEEL_GRANT_ENTRIES_PER_FRAME, win, 0, NULL),
			-KEEL_ENOENT);				/* beyond the table */
	CU_ASSERT_EQUAL(map_el(m, g->domid, KEEL_GRANT_REF_INVALID, win, 0, NULL), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(map_el(m, empty->domid, 0, win, 0, NULL), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win, 0, NULL), -KEEL_ENOENT);	/* zero entry */
	grant(g, 1, m->domid, DATA_GFN, 0);			/* everything but PERMIT */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win, 0, NULL), -KEEL_ENOENT);
	grant(g, 2, other->domid, DATA_GFN, KEEL_GNTF_PERMIT);	/* someone else's */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 2, win, 0, NULL), -KEEL_ENOENT);
	/* The entry's gfn must be the granter's own RAM. */
	grant(g, 3, m->domid, RAM_PAGES + 5, KEEL_GNTF_PERMIT);	/* nothing there */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 3, win, 0, NULL), -KEEL_EINVAL);
	grant(g, 3, m->domid, GUEST_GFN_LIMIT + 5, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 3, win, 0, NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(memory_hc_map_shared(g, KEEL_MAPSPACE_GRANT_TABLE, 0, win + 7), 0);
	grant(g, 3, m->domid, win + 7, KEEL_GNTF_PERMIT);	/* its own grant frame */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 3, win, 0, NULL), -KEEL_EINVAL);
	/* A page it mapped from someone else. */
	grant(other, 0, g->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(g, other->domid, 0, win + 8, 0, &hother), 0);
	grant(g, 3, m->domid, win + 8, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 3, win, 0, NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(status_of(g, 3), 0);
	/* The target GFN. */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, DATA_GFN, 0, NULL), -KEEL_EBUSY);	/* RAM */
	CU_ASSERT_EQUAL(memory_hc_map_shared(m, KEEL_MAPSPACE_SHARED_INFO, 0, win + 1), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, NULL), -KEEL_EBUSY);	/* Keel's */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, FAKE_PLATFORM_GPA >> PAGE_SHIFT, 0, NULL),
			-KEEL_EBUSY);				/* a platform range */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, (FAKE_PLATFORM_END >> PAGE_SHIFT) - 1, 0, NULL),
			-KEEL_EBUSY);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, NULL), -KEEL_EBUSY);	/* mapped */
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);
	CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);
	/* Above 4 GiB, a released RAM GFN: anything that holds nothing will do. */
	CU_ASSERT_EQUAL(guest_memory_release(m, DATA_GFN + 3, 0), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, DATA_GFN + 3, 0, &h), 0);
	CU_ASSERT_EQUAL(unmap_el(m, DATA_GFN + 3, h), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, 0x100000, 0, &h), 0);
	CU_ASSERT_EQUAL(unmap_el(m, 0x100000, h), 0);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	CU_ASSERT_EQUAL(unmap_el(g, win + 8, hother), 0);
	finish(g);
	finish(m);
	finish(other);
	finish(empty);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_unmap_errors(void)
{
	struct domain *g = make("un-granter"), *m = make("un-mapper");
	uint32_t h, h2;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(unmap_el(m, win, 0), -KEEL_ENOENT);	/* nothing mapped yet */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h), -KEEL_EINVAL);	/* not mapped there */
	CU_ASSERT_EQUAL(unmap_el(m, win, h + 1), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(unmap_el(m, win, h ^ 0x80000000u), -KEEL_ENOENT);	/* generation */
	CU_ASSERT_EQUAL(unmap_el(m, win, UINT32_MAX), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(unmap_el(g, win, h), -KEEL_ENOENT);	/* the granter's own table */
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);
	CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);
	/* The slot is reused, with a new generation: the old handle stays dead. */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h2), 0);
	CU_ASSERT_NOT_EQUAL(h2, h);
	CU_ASSERT_EQUAL(unmap_el(m, win, h), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(unmap_el(m, win, h2), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_table_full(void)
{
	struct domain *g = make("full-granter"), *m = make_limits("full-mapper", 1, 2);
	uint32_t h[3];

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h[0]), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, &h[1]), 0);	/* same entry again */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 2, 0, &h[2]), -KEEL_ENOSPC);
	CU_ASSERT_PTR_NULL(seen(m, win + 2, NULL));
	CU_ASSERT_EQUAL(unmap_el(m, win, h[0]), 0);
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);	/* one mapping left */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 2, 0, &h[2]), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h[1]), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win + 2, h[2]), 0);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_map_out_of_memory(void)
{
	struct domain *g = make("oom-granter"), *m = make("oom-mapper");
	uint32_t h;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	exhaust_pages();	/* the scratch page cannot be allocated */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), -KEEL_ENOMEM);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	CU_ASSERT_PTR_NULL(seen(m, win, NULL));
	release_pages();
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* Act while Keel maps the placeholder: after its entry read, before the re-check. */
static struct domain *race_granter;
static struct keel_grant_entry *race_entry;	/* found beforehand: Keel holds the lock */
static bool race_release;

static void race_hook(struct domain *d, uint64_t gfn)
{
	struct keel_grant_entry *e = race_entry;

	fake.p2m_set_hook = NULL;
	if (race_release) {
		CU_ASSERT_EQUAL(guest_memory_release(race_granter, e->gfn, 0), 0);
	} else {
		__atomic_store_n(&e->flags, 0, __ATOMIC_SEQ_CST);
	}
}

static void test_map_undone_when_revoked_meanwhile(void)
{
	struct domain *g = make("race-granter"), *m = make("race-mapper");
	uint32_t h, h0;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g, 1, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h0), 0);
	/* PERMIT cleared between Keel's read and its re-check: ENOENT, undone. */
	race_granter = g;
	race_entry = entry(g, 1);
	race_release = false;
	fake.p2m_set_hook = race_hook;
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win + 1, 0, &h), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(status_of(g, 1), 0);
	CU_ASSERT_PTR_NULL(seen(m, win + 1, NULL));
	CU_ASSERT_EQUAL(guest_memory_kind(m, win + 1, NULL), GUEST_PAGE_NONE);
	/* The undo keeps MAPPED of an entry that is still mapped elsewhere. */
	race_entry = entry(g, 0);
	fake.p2m_set_hook = race_hook;
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, &h), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);
	/* The page released meanwhile: not the granter's RAM any more. */
	grant(g, 1, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT);
	race_entry = entry(g, 1);
	race_release = true;
	fake.p2m_set_hook = race_hook;
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win + 1, 0, &h), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(status_of(g, 1), 0);
	CU_ASSERT_PTR_NULL(seen(m, win + 1, NULL));
	CU_ASSERT_EQUAL(unmap_el(m, win, h0), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- pins: granted pages cannot be released ------------------------------------ */

static void test_release_of_granted_page(void)
{
	struct domain *g = make("rel-granter"), *m = make("rel-mapper");
	uint32_t h1, h2;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	/* Granted but not mapped: status 0, the granter may take it back. */
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), 0);
	CU_ASSERT_EQUAL(guest_memory_populate(g, DATA_GFN, 1), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h1), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, &h2), 0);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN + 1, 0), 0);	/* its neighbour */
	CU_ASSERT_EQUAL(unmap_el(m, win, h1), 0);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), -KEEL_EBUSY);	/* one left */
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h2), 0);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- revoke ------------------------------------------------------------------------ */

static void test_cooperative_revoke(void)
{
	struct domain *g = make("coop-granter"), *m = make("coop-mapper");
	uint32_t h;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), 0);
	grant(g, 0, m->domid, DATA_GFN, 0);			/* clear PERMIT */
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);	/* still mapped */
	CU_ASSERT_PTR_EQUAL(seen(m, win, NULL), ram(g, DATA_GFN));
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, NULL), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);		/* the protocol on top asked */
	CU_ASSERT_EQUAL(status_of(g, 0), 0);			/* the page is the granter's */
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* Forced revoke, with @m created before @g or after (both lock orders). */
static void forced_revoke(bool mapper_first)
{
	struct domain *m = mapper_first ? make("force-mapper") : NULL;
	struct domain *g = make("force-granter");
	uint8_t *scratch, *page, before[64];
	uint32_t h1, h2, h3, rights = 0;

	if (!m) {
		m = make("force-mapper");
	}
	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g, 1, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT | KEEL_GNTF_READONLY);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h1), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, &h2), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win + 2, KEEL_GNTMAP_READONLY, &h3), 0);
	page = ram(g, DATA_GFN);
	memset(page, 0x11, 64);

	CU_ASSERT_EQUAL(revoke_el(g, 0), -KEEL_EBUSY);		/* PERMIT still set */
	CU_ASSERT_EQUAL(revoke_el(g, KEEL_GRANT_ENTRIES_PER_FRAME), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(revoke_el(g, KEEL_GRANT_REF_INVALID), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(revoke_el(m, 0), 0);			/* m's own unused entry */
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);

	grant(g, 0, m->domid, DATA_GFN, 0);
	CU_ASSERT_EQUAL(revoke_el(g, 0), 0);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	/* Both mappings now show the mapper's scratch page, writable. */
	scratch = seen(m, win, &rights);
	CU_ASSERT_PTR_NOT_NULL(scratch);
	CU_ASSERT_PTR_NOT_EQUAL(scratch, page);
	CU_ASSERT_PTR_EQUAL(seen(m, win + 1, NULL), scratch);
	CU_ASSERT_EQUAL(rights, RW);
	memcpy(before, page, sizeof(before));
	memset(scratch, 0x77, 64);				/* the mapper writes on */
	CU_ASSERT_EQUAL(memcmp(page, before, sizeof(before)), 0);
	/* The other entry is untouched. */
	CU_ASSERT_PTR_EQUAL(seen(m, win + 2, &rights), ram(g, DATA_GFN + 1));
	CU_ASSERT_EQUAL(rights, GUEST_READ);
	CU_ASSERT_EQUAL(status_of(g, 1), KEEL_GNTS_MAPPED);
	/* The page is the granter's again. */
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), 0);
	CU_ASSERT_EQUAL(revoke_el(g, 0), 0);			/* nothing left to revoke */
	/* Handles stay valid until unmapped, and unmap succeeds. */
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(unmap_el(m, win, h1), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win, h1), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h2), 0);
	CU_ASSERT_PTR_NULL(seen(m, win, NULL));
	CU_ASSERT_PTR_NULL(seen(m, win + 1, NULL));
	CU_ASSERT_EQUAL(unmap_el(m, win + 2, h3), 0);
	CU_ASSERT_EQUAL(status_of(g, 1), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_forced_revoke_mapper_first(void)
{
	forced_revoke(true);
}

static void test_forced_revoke_granter_first(void)
{
	forced_revoke(false);
}

static void test_revoke_resets_scribbled_status(void)
{
	struct domain *g = make("scribbler"), *m = make("scribbled");
	uint32_t h;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), 0);
	entry(g, 0)->status = 0;		/* the granter lies to itself ... */
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), -KEEL_EBUSY);	/* not to Keel */
	entry(g, 3)->status = 0xffff;
	CU_ASSERT_EQUAL(revoke_el(g, 3), 0);
	CU_ASSERT_EQUAL(status_of(g, 3), 0);
	grant(g, 0, m->domid, DATA_GFN, 0);
	CU_ASSERT_EQUAL(revoke_el(g, 0), 0);
	CU_ASSERT_PTR_NOT_EQUAL(seen(m, win, NULL), ram(g, DATA_GFN));
	CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- destruction ------------------------------------------------------------------ */

/* Destroy the granter while @m maps its pages; @m's views turn to scratch. */
static void destroy_granter(bool mapper_first)
{
	struct domain *m = mapper_first ? make("dg-mapper") : NULL;
	struct domain *g = make("dg-granter");
	uint64_t free_before;
	uint32_t h1, h2;
	uint8_t *scratch;

	if (!m) {
		m = make("dg-mapper");
	}
	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g, 1, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT | KEEL_GNTF_READONLY);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h1), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win + 1, KEEL_GNTMAP_READONLY, &h2), 0);
	free_before = page_alloc_free_count();
	finish(g);
	/* All of the granter's memory is back although m still has handles. */
	CU_ASSERT(page_alloc_free_count() >= free_before + RAM_PAGES);
	scratch = seen(m, win, NULL);
	CU_ASSERT_PTR_NOT_NULL(scratch);
	CU_ASSERT_PTR_EQUAL(seen(m, win + 1, NULL), scratch);
	memset(scratch, 0x33, PAGE_SIZE);			/* writes still allowed */
	CU_ASSERT_EQUAL(unmap_el(m, win, h1), 0);
	CU_ASSERT_EQUAL(unmap_el(m, win + 1, h2), 0);
	CU_ASSERT_PTR_NULL(seen(m, win, NULL));
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_destroy_granter_with_maps(void)
{
	destroy_granter(false);
	destroy_granter(true);
}

/* Destroy the mapper while it maps; the granter's status clears. */
static void destroy_mapper(bool mapper_first)
{
	struct domain *m = mapper_first ? make("dm-mapper") : NULL;
	struct domain *g = make("dm-granter");

	if (!m) {
		m = make("dm-mapper");
	}
	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g, 1, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, NULL), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, NULL), 0);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 1, win + 2, 0, NULL), 0);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), -KEEL_EBUSY);
	finish(m);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	CU_ASSERT_EQUAL(status_of(g, 1), 0);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN, 0), 0);
	CU_ASSERT_EQUAL(guest_memory_release(g, DATA_GFN + 1, 0), 0);
	finish(g);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_destroy_mapper_with_maps(void)
{
	destroy_mapper(false);
	destroy_mapper(true);
}

/* Two domains that map each other's pages, and one that maps its peer's twice. */
static void test_destroy_mutual(void)
{
	struct domain *a = make("mutual-a"), *b = make("mutual-b");
	uint32_t h;

	grant(a, 0, b->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(b, 0, a->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(b, a->domid, 0, win, 0, NULL), 0);
	CU_ASSERT_EQUAL(map_el(a, b->domid, 0, win, 0, &h), 0);
	CU_ASSERT_EQUAL(map_el(a, b->domid, 0, win + 1, 0, NULL), 0);
	finish(a);
	CU_ASSERT_EQUAL(status_of(b, 0), 0);
	CU_ASSERT_PTR_NOT_NULL(seen(b, win, NULL));		/* its scratch page */
	finish(b);
	UNIT_CHECK_ALL_RETURNED();
}

/* A reference held by someone else delays the teardown; grants go with it. */
static void test_destroy_while_referenced(void)
{
	struct domain *g = make("held-granter"), *m = make("held-mapper");
	struct domain *ref;
	uint32_t h;

	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win, 0, &h), 0);
	ref = domain_get(g->domid);
	finish(g);
	/* Dying: no new maps, the old one still works until the memory goes. */
	CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + 1, 0, NULL), -KEEL_ESRCH);
	CU_ASSERT_PTR_EQUAL(seen(m, win, NULL), ram(ref, DATA_GFN));
	domain_put(ref);
	CU_ASSERT_PTR_NOT_NULL(seen(m, win, NULL));
	CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- COPY ---------------------------------------------------------------------------- */

static struct keel_gnttab_copy self_to_grant(uint64_t src_gfn, uint16_t src_off,
					     uint32_t granter, uint32_t ref, uint16_t dst_off,
					     uint16_t len)
{
	return (struct keel_gnttab_copy){
		.src_domid = KEEL_DOMID_SELF, .src_gfn = src_gfn, .src_offset = src_off,
		.dst_domid = granter, .dst_ref = ref, .dst_offset = dst_off, .len = len,
	};
}

static void test_copy(void)
{
	struct domain *g1 = make("copy-g1"), *g2 = make("copy-g2"), *m = make("copy-m");
	uint64_t p2m_before;
	uint8_t *src = ram(m, DATA_GFN);
	struct keel_gnttab_copy c;

	for (int i = 0; i < 4096; i++) {
		src[i] = (uint8_t)(i * 7);
	}
	grant(g1, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g2, 4, m->domid, DATA_GFN + 2, KEEL_GNTF_PERMIT | KEEL_GNTF_READONLY);
	p2m_before = fake.p2m_pages;

	/* SELF -> grant. */
	CU_ASSERT_EQUAL(copy_el(m, self_to_grant(DATA_GFN, 10, g1->domid, 0, 20, 100)), 0);
	CU_ASSERT_EQUAL(memcmp(ram(g1, DATA_GFN) + 20, src + 10, 100), 0);
	CU_ASSERT_EQUAL(ram(g1, DATA_GFN)[19], 0);
	CU_ASSERT_EQUAL(ram(g1, DATA_GFN)[120], 0);
	CU_ASSERT_EQUAL(status_of(g1, 0), 0);			/* BUSY only during the copy */
	CU_ASSERT_EQUAL(fake.p2m_pages, p2m_before);		/* no mapping made */
	/* A whole page. */
	CU_ASSERT_EQUAL(copy_el(m, self_to_grant(DATA_GFN, 0, g1->domid, 0, 0, 4096)), 0);
	CU_ASSERT_EQUAL(memcmp(ram(g1, DATA_GFN), src, 4096), 0);
	/* grant -> SELF, from a read-only grant. */
	memset(ram(g2, DATA_GFN + 2), 0xab, 4096);
	c = (struct keel_gnttab_copy){
		.src_domid = g2->domid, .src_ref = 4, .src_offset = 4000,
		.dst_domid = KEEL_DOMID_SELF, .dst_gfn = DATA_GFN + 1, .dst_offset = 0, .len = 96,
	};
	CU_ASSERT_EQUAL(copy_el(m, c), 0);
	CU_ASSERT_EQUAL(ram(m, DATA_GFN + 1)[0], 0xab);
	CU_ASSERT_EQUAL(ram(m, DATA_GFN + 1)[95], 0xab);
	CU_ASSERT_EQUAL(ram(m, DATA_GFN + 1)[96], 0);
	/* grant -> grant, two granters. */
	c.dst_domid = g1->domid;
	c.dst_ref = 0;
	c.dst_gfn = 0;
	c.dst_offset = 4000;
	CU_ASSERT_EQUAL(copy_el(m, c), 0);
	CU_ASSERT_EQUAL(ram(g1, DATA_GFN)[4000], 0xab);
	CU_ASSERT_EQUAL(ram(g1, DATA_GFN)[4095], 0xab);
	CU_ASSERT_EQUAL(status_of(g2, 4), 0);
	/* The same grant on both sides, overlapping. */
	c = (struct keel_gnttab_copy){
		.src_domid = g1->domid, .src_ref = 0, .src_offset = 0,
		.dst_domid = g1->domid, .dst_ref = 0, .dst_offset = 1, .len = 8,
	};
	memcpy(ram(g1, DATA_GFN), "abcdefghi", 9);
	CU_ASSERT_EQUAL(copy_el(m, c), 0);
	CU_ASSERT_EQUAL(memcmp(ram(g1, DATA_GFN), "aabcdefgh", 9), 0);
	/* SELF -> SELF. */
	c = (struct keel_gnttab_copy){
		.src_domid = KEEL_DOMID_SELF, .src_gfn = DATA_GFN, .src_offset = 1,
		.dst_domid = KEEL_DOMID_SELF, .dst_gfn = DATA_GFN + 3, .dst_offset = 2, .len = 3,
	};
	CU_ASSERT_EQUAL(copy_el(m, c), 0);
	CU_ASSERT_EQUAL(memcmp(ram(m, DATA_GFN + 3) + 2, src + 1, 3), 0);
	/* A copy of a mapped grant leaves MAPPED alone. */
	{
		uint32_t h;

		CU_ASSERT_EQUAL(map_el(m, g1->domid, 0, win, 0, &h), 0);
		CU_ASSERT_EQUAL(copy_el(m, self_to_grant(DATA_GFN, 0, g1->domid, 0, 0, 1)), 0);
		CU_ASSERT_EQUAL(status_of(g1, 0), KEEL_GNTS_MAPPED);
		CU_ASSERT_EQUAL(unmap_el(m, win, h), 0);
	}
	finish(g1);
	finish(g2);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_copy_errors(void)
{
	struct domain *g = make("cerr-g"), *m = make("cerr-m"), *other = make("cerr-other");
	struct keel_gnttab_copy ok = self_to_grant(DATA_GFN, 0, 0, 0, 0, 16), c;

	ok.dst_domid = g->domid;
	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g, 1, m->domid, DATA_GFN + 1, KEEL_GNTF_PERMIT | KEEL_GNTF_READONLY);
	grant(g, 2, other->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	grant(g, 3, m->domid, DATA_GFN, 0);
	grant(g, 5, m->domid, RAM_PAGES + 1, KEEL_GNTF_PERMIT);
	CU_ASSERT_EQUAL(copy_el(m, ok), 0);

	/* A grant side naming the caller. */
	c = ok;
	c.dst_domid = m->domid;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	/* No such granter: ESRCH before the struct's contents. */
	c = ok;
	c.dst_domid = 0;
	c.len = 0;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_ESRCH);
	/* A SELF gfn that is not the caller's RAM: EFAULT, before the contents. */
	c = ok;
	c.src_gfn = RAM_PAGES + 3;
	c.pad0 = 1;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(m, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	c = ok;
	c.src_gfn = win;					/* Keel's page */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EFAULT);
	c = (struct keel_gnttab_copy){
		.src_domid = g->domid, .src_ref = 0, .dst_domid = KEEL_DOMID_SELF,
		.dst_gfn = GUEST_GFN_LIMIT, .len = 1,
	};
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EFAULT);
	/* Contents. */
	c = ok;
	c.len = 0;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c.len = 4097;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c = ok;
	c.src_offset = 4095;
	c.len = 2;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c.src_offset = 4094;
	CU_ASSERT_EQUAL(copy_el(m, c), 0);			/* exactly to the end */
	c = ok;
	c.dst_offset = 4000;
	c.len = 97;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c = ok;
	c.pad0 = 1;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c = ok;
	c.pad1 = 1;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c = ok;
	c.src_ref = 1;						/* on a SELF side */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	c = ok;
	c.dst_gfn = DATA_GFN;					/* on a grant side */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	/* The entry. */
	c = ok;
	c.dst_ref = KEEL_GRANT_ENTRIES_PER_FRAME;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_ENOENT);
	c.dst_ref = 2;						/* another domain's */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_ENOENT);
	c.dst_ref = 3;						/* no PERMIT */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_ENOENT);
	c.dst_ref = 1;						/* read-only destination */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EACCES);
	CU_ASSERT_EQUAL(status_of(g, 1), 0);
	c.dst_ref = 5;						/* not the granter's RAM */
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EINVAL);
	/* Source first: a bad source hides a bad destination. */
	c = (struct keel_gnttab_copy){
		.src_domid = g->domid, .src_ref = 3, .dst_domid = g->domid, .dst_ref = 1, .len = 1,
	};
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_ENOENT);
	c.src_ref = 0;
	CU_ASSERT_EQUAL(copy_el(m, c), -KEEL_EACCES);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	finish(g);
	finish(m);
	finish(other);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- the batching rules ---------------------------------------------------------------- */

static void test_batch_errors(void)
{
	struct domain *d = make("batch");

	CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(gnttab_hc_unmap(d, ARRAY_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(gnttab_hc_copy(d, ARRAY_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, ARRAY_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, 1, 0), -KEEL_EINVAL);	/* count first */
	CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA + 4, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, ARRAY_GPA + 1, 1), -KEEL_EFAULT);
	/* The array must lie in one page: 128 maps fit (all for domain 0 here). */
	{
		static const uint8_t zero[PAGE_SIZE];

		put(d, ARRAY_GPA, zero, sizeof(zero));
		CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA, 128), 128);
	}
	CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA, 129), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA + 0xfe0, 2), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(gnttab_hc_unmap(d, ARRAY_GPA + 0xff8, 1), -KEEL_E2BIG);	/* 16 B */
	CU_ASSERT_EQUAL(gnttab_hc_copy(d, ARRAY_GPA, 86), -KEEL_E2BIG);	/* 48 bytes */
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, ARRAY_GPA, 513), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, ARRAY_GPA, UINT64_MAX), -KEEL_E2BIG);
	/* Not the caller's RAM: nothing, a Keel page. */
	CU_ASSERT_EQUAL(gnttab_hc_map(d, RAM_PAGES << PAGE_SHIFT, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, UINT64_MAX - 7, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, win), 0);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(d, win << PAGE_SHIFT, 1), -KEEL_EFAULT);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_batch_elements(void)
{
	struct domain *g = make("elems-g"), *m = make("elems-m");
	struct keel_gnttab_map maps[128];
	struct keel_gnttab_unmap unmaps[128];

	for (uint32_t i = 0; i < 128; i++) {
		grant(g, i, m->domid, DATA_GFN + i % 8, KEEL_GNTF_PERMIT);
		maps[i] = (struct keel_gnttab_map){
			.domid = g->domid, .ref = i, .gfn = win + i, .status = 12345,
		};
	}
	/* A failing element does not stop later ones. */
	maps[5].domid = 0;
	maps[6].ref = 1000;
	put(m, ARRAY_GPA, maps, sizeof(maps));
	CU_ASSERT_EQUAL(gnttab_hc_map(m, ARRAY_GPA, 128), 128);	/* a full page at once */
	get(m, ARRAY_GPA, maps, sizeof(maps));
	for (uint32_t i = 0; i < 128; i++) {
		int32_t want = i == 5 ? -KEEL_ESRCH : i == 6 ? -KEEL_ENOENT : 0;

		CU_ASSERT_EQUAL(maps[i].status, want);
		CU_ASSERT_EQUAL(maps[i].ref, i == 6 ? 1000 : i);	/* IN fields untouched */
		unmaps[i] = (struct keel_gnttab_unmap){
			.gfn = win + i, .handle = maps[i].handle, .status = 12345,
		};
	}
	CU_ASSERT_EQUAL(status_of(g, 0), KEEL_GNTS_MAPPED);
	CU_ASSERT_EQUAL(status_of(g, 5), 0);
	/* An array that does not start at the page. */
	put(m, ARRAY_GPA + 8, unmaps, sizeof(unmaps) - 8 * 16);
	CU_ASSERT_EQUAL(gnttab_hc_unmap(m, ARRAY_GPA + 8, 120), 120);
	put(m, ARRAY_GPA, unmaps + 120, 8 * 16);
	CU_ASSERT_EQUAL(gnttab_hc_unmap(m, ARRAY_GPA, 8), 8);
	get(m, ARRAY_GPA, unmaps + 120, 8 * 16);
	CU_ASSERT_EQUAL(unmaps[120].status, 0);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	CU_ASSERT_EQUAL(status_of(g, 127), 0);
	finish(g);
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* Keel stops early to bound the work of one call; the caller goes on. */
static void test_batch_stops_early(void)
{
	struct domain *g = make("early-g"), *m = make("early-m");
	struct keel_gnttab_revoke revokes[300];
	uint32_t h;

	for (int i = 0; i < 300; i++) {
		revokes[i] = (struct keel_gnttab_revoke){ .ref = 5000, .status = 12345 };
	}
	put(g, ARRAY_GPA, revokes, sizeof(revokes));
	CU_ASSERT_EQUAL(gnttab_hc_revoke(g, ARRAY_GPA, 300), GNTTAB_BATCH_WORK);
	get(g, ARRAY_GPA, revokes, sizeof(revokes));
	CU_ASSERT_EQUAL(revokes[0].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(revokes[GNTTAB_BATCH_WORK - 1].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(revokes[GNTTAB_BATCH_WORK].status, 12345);	/* not touched */
	CU_ASSERT_EQUAL(revokes[299].status, 12345);
	CU_ASSERT_EQUAL(gnttab_hc_revoke(g, ARRAY_GPA + 8 * GNTTAB_BATCH_WORK,
					 300 - GNTTAB_BATCH_WORK), 300 - GNTTAB_BATCH_WORK);

	/* One entry mapped 300 times: its revoke alone uses up the budget. */
	grant(g, 0, m->domid, DATA_GFN, KEEL_GNTF_PERMIT);
	for (uint32_t i = 0; i < 300; i++) {
		CU_ASSERT_EQUAL(map_el(m, g->domid, 0, win + i, 0, &h), 0);
	}
	grant(g, 0, m->domid, DATA_GFN, 0);
	revokes[0] = (struct keel_gnttab_revoke){ .ref = 0, .status = 12345 };
	revokes[1] = (struct keel_gnttab_revoke){ .ref = 1, .status = 12345 };
	put(g, ARRAY_GPA, revokes, 2 * sizeof(revokes[0]));
	CU_ASSERT_EQUAL(gnttab_hc_revoke(g, ARRAY_GPA, 2), 1);
	get(g, ARRAY_GPA, revokes, 2 * sizeof(revokes[0]));
	CU_ASSERT_EQUAL(revokes[0].status, 0);
	CU_ASSERT_EQUAL(revokes[1].status, 12345);
	CU_ASSERT_EQUAL(status_of(g, 0), 0);
	CU_ASSERT_PTR_NOT_EQUAL(seen(m, win + 299, NULL), ram(g, DATA_GFN));
	finish(m);		/* unmapping is the mapper's teardown's job now */
	finish(g);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "setup and query", test_setup_and_query },
	{ "limits", test_limits },
	{ "setup out of memory", test_setup_out_of_memory },
	{ "map and unmap", test_map_and_unmap },
	{ "map read-only", test_map_read_only },
	{ "map errors in order", test_map_errors },
	{ "unmap errors", test_unmap_errors },
	{ "map table full", test_map_table_full },
	{ "map out of memory", test_map_out_of_memory },
	{ "map undone when revoked meanwhile", test_map_undone_when_revoked_meanwhile },
	{ "release of a granted page", test_release_of_granted_page },
	{ "cooperative revoke", test_cooperative_revoke },
	{ "forced revoke, mapper created first", test_forced_revoke_mapper_first },
	{ "forced revoke, granter created first", test_forced_revoke_granter_first },
	{ "revoke resets a scribbled status", test_revoke_resets_scribbled_status },
	{ "destroy granter with maps", test_destroy_granter_with_maps },
	{ "destroy mapper with maps", test_destroy_mapper_with_maps },
	{ "destroy domains mapping each other", test_destroy_mutual },
	{ "destroy while referenced", test_destroy_while_referenced },
	{ "copy", test_copy },
	{ "copy errors in order", test_copy_errors },
	{ "batch errors", test_batch_errors },
	{ "batch elements", test_batch_elements },
	{ "batch stops early", test_batch_stops_early },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo grant_table_suite = {
	.pName = "grant_table",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
