/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_memory_unmap.c - unit tests for
 * KEEL_HC_MEMORY_UNMAP_SHARED (ABI 1.1; core/memory_ops.c and
 * core/guest_memory.c): the GFN holds nothing afterwards and the page can
 * be mapped again; every input that is not a Keel page is refused and
 * changes nothing; and a device control page outlives its device for
 * exactly as long as some domain maps it (no use after free, no leak).
 * Also what else a backend keeps for its dead peers: its grant map table
 * and scratch page, given back with its last grant mapping.
 *
 * Domains are real ones with RAM at GFNs 0..RAM_PAGES-1; page 1 holds
 * hypercall structs. What a guest would see is read from the fake arch's
 * second stage (fake_p2m_lookup()).
 */
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/hypercall.h>
#include <keel/memory_ops.h>
#include <keel/page_alloc.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/hypercall.h>
#include <public/keel/io/device.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	16
#define ARRAY_GPA	0x1000ull

static uint64_t win;		/* the map window's first GFN */

static void setup(void)
{
	uint64_t gpa, size;

	unit_reset_counted();
	arch_map_window(&gpa, &size);
	win = gpa >> PAGE_SHIFT;
}

static struct domain *make(const char *name, uint32_t caps)
{
	struct domain_params p = {
		.name = name, .vcpu_count = 1, .max_pages = 4096, .caps = caps,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	return d;
}

static void finish(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

/* What @d's guest sees at @gfn (the second stage), or NULL. */
static uint8_t *seen(struct domain *d, uint64_t gfn)
{
	uint32_t rights;
	paddr_t pa;

	return fake_p2m_lookup(d, gfn, &pa, &rights) ? arch_phys_to_virt(pa) : NULL;
}

static long unmap(struct domain *d, uint64_t gfn)
{
	return memory_hc_unmap_shared(d, gfn);
}

/* A console device from @front to @back; its id. */
static uint32_t device(struct domain *front, struct domain *back)
{
	struct device_setup s = { .device_class = KEEL_IO_CLASS_CONSOLE, .auto_index = true };

	CU_ASSERT_EQUAL_FATAL(device_setup(front, back, &s), 0);
	return s.device_id;
}

static long map_device(struct domain *d, uint32_t id, uint64_t gfn)
{
	return memory_hc_map_shared(d, KEEL_MAPSPACE_DEVICE_PAGE, id, gfn);
}

static void test_unmap_and_map_again(void)
{
	struct domain *d = make("again", 0);
	uint8_t *keel = arch_phys_to_virt(d->shared_info_pa);

	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_PTR_EQUAL(seen(d, win), keel);
	CU_ASSERT_EQUAL(unmap(d, win), 0);
	CU_ASSERT_PTR_NULL(seen(d, win));
	CU_ASSERT_EQUAL(guest_memory_kind(d, win, NULL), GUEST_PAGE_NONE);
	CU_ASSERT_EQUAL(fake.p2m_pages, RAM_PAGES);	/* nothing else left mapped */
	/* The page is still Keel's and the domain's: it maps again, here or elsewhere. */
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win + 5), 0);
	CU_ASSERT_PTR_EQUAL(seen(d, win + 5), keel);
	CU_ASSERT_EQUAL(unmap(d, win + 5), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_PTR_EQUAL(seen(d, win), keel);
	/* A released RAM GFN that held a Keel page becomes plain empty again: RAM fits. */
	CU_ASSERT_EQUAL(guest_memory_release(d, 7, 0), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, 7), 0);
	CU_ASSERT_EQUAL(unmap(d, 7), 0);
	CU_ASSERT_EQUAL(guest_memory_populate(d, 7, 1), 0);
	CU_ASSERT_EQUAL(guest_memory_kind(d, 7, NULL), GUEST_PAGE_RAM);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_grant_frame(void)
{
	struct domain *d = make("frame", 0);
	paddr_t f0;

	CU_ASSERT_EQUAL(gnttab_hc_setup(d, 1), 1);
	CU_ASSERT_EQUAL(gnttab_frame(d, 0, &f0), 0);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, win + 1), 0);
	seen(d, win + 1)[16] = 0x5a;
	CU_ASSERT_EQUAL(unmap(d, win + 1), 0);
	CU_ASSERT_PTR_NULL(seen(d, win + 1));
	/* Keel keeps the frame and what the guest wrote in it. */
	CU_ASSERT_EQUAL(((uint8_t *)arch_phys_to_virt(f0))[16], 0x5a);
	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_GRANT_TABLE, 0, win + 1), 0);
	CU_ASSERT_EQUAL(seen(d, win + 1)[16], 0x5a);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* Everything that is not a Keel page is refused, and stays as it was. */
static void test_bad_gfns(void)
{
	struct domain *d = make("bad", 0), *g = make("bad-g", 0);
	uint64_t platform = FAKE_PLATFORM_GPA >> PAGE_SHIFT;
	struct keel_gnttab_map req = { .ref = 0, .gfn = win + 2 };
	struct keel_grant_entry *e;
	uint8_t *ram = seen(d, 3);
	paddr_t frame;

	/* Empty, never mapped: in the window, below it, in a platform range. */
	CU_ASSERT_EQUAL(unmap(d, win), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(unmap(d, RAM_PAGES + 100), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(unmap(d, platform), -KEEL_EINVAL);
	/* Outside the guest-physical space. */
	CU_ASSERT_EQUAL(unmap(d, GUEST_GFN_LIMIT), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(unmap(d, UINT64_MAX), -KEEL_EINVAL);
	/* RAM: refused, and the page stays the guest's. */
	CU_ASSERT_EQUAL(unmap(d, 3), -KEEL_EINVAL);
	CU_ASSERT_PTR_EQUAL(seen(d, 3), ram);
	CU_ASSERT_EQUAL(guest_memory_kind(d, 3, NULL), GUEST_PAGE_RAM);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	/* A mapped grant (FOREIGN): refused; GNTTAB_UNMAP is its way out. */
	CU_ASSERT_EQUAL(gnttab_hc_setup(g, 1), 1);
	CU_ASSERT_EQUAL(gnttab_frame(g, 0, &frame), 0);
	e = arch_phys_to_virt(frame);
	e->domid = d->domid;
	e->gfn = 2;
	e->flags = KEEL_GNTF_PERMIT;
	req.domid = g->domid;
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(d, ARRAY_GPA, &req, sizeof(req)), 0);
	CU_ASSERT_EQUAL(gnttab_hc_map(d, ARRAY_GPA, 1), 1);
	CU_ASSERT_EQUAL(guest_memory_kind(d, win + 2, NULL), GUEST_PAGE_FOREIGN);
	CU_ASSERT_EQUAL(unmap(d, win + 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(guest_memory_kind(d, win + 2, NULL), GUEST_PAGE_FOREIGN);
	CU_ASSERT_PTR_EQUAL(seen(d, win + 2), seen(g, 2));
	finish(d);
	finish(g);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_double_unmap(void)
{
	struct domain *front = make("twice-f", 0);
	struct domain *back = make("twice-b", KEEL_CAP_BACKEND_CONSOLE);
	uint32_t id = device(front, back);

	CU_ASSERT_EQUAL(map_device(back, id, win), 0);
	CU_ASSERT_EQUAL(unmap(back, win), 0);
	/* The second drops no second reference: the device's own one is intact. */
	CU_ASSERT_EQUAL(unmap(back, win), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(map_device(back, id, win), 0);
	CU_ASSERT_EQUAL(map_device(front, id, win + 1), 0);
	CU_ASSERT_PTR_EQUAL(seen(back, win), seen(front, win + 1));
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* The device exists: unmapping never frees its page, and what was in it stays. */
static void test_device_page_stays_with_device(void)
{
	struct domain *front = make("stay-f", 0);
	struct domain *back = make("stay-b", KEEL_CAP_BACKEND_CONSOLE);
	uint32_t id = device(front, back);
	struct keel_io_device_page *p;
	uint64_t free_before;

	CU_ASSERT_EQUAL(map_device(front, id, win), 0);
	CU_ASSERT_EQUAL(map_device(back, id, win), 0);
	p = (struct keel_io_device_page *)seen(back, win);
	CU_ASSERT_EQUAL(p->device_id, id);
	free_before = page_alloc_free_count();
	CU_ASSERT_EQUAL(unmap(back, win), 0);
	CU_ASSERT_EQUAL(unmap(front, win), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_before);
	CU_ASSERT_EQUAL(map_device(back, id, win + 3), 0);
	CU_ASSERT_PTR_EQUAL(seen(back, win + 3), (uint8_t *)p);
	CU_ASSERT_EQUAL(p->magic, KEEL_IO_DEVICE_MAGIC);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/*
 * The frontend dies while the backend maps the page: the page stays (the
 * backend still reads it) until the backend unmaps it, then it is freed.
 */
static void test_frontend_dies_then_unmap(void)
{
	struct domain *front = make("dies-f", 0);
	struct domain *back = make("dies-b", KEEL_CAP_BACKEND_CONSOLE);
	uint32_t id = device(front, back);
	uint64_t free_mapped, free_after;
	struct keel_io_device_page *p;

	CU_ASSERT_EQUAL(map_device(front, id, win), 0);
	CU_ASSERT_EQUAL(map_device(back, id, win + 1), 0);
	p = (struct keel_io_device_page *)seen(back, win + 1);
	finish(front);
	free_mapped = page_alloc_free_count();
	/* Still the device's page, still readable and writable by the backend. */
	CU_ASSERT_PTR_EQUAL(seen(back, win + 1), (uint8_t *)p);
	CU_ASSERT_EQUAL(p->device_id, id);
	p->be_state = KEEL_IO_STATE_CLOSED;
	/* The device is gone: no new mapping of it. */
	CU_ASSERT_EQUAL(map_device(back, id, win + 2), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(unmap(back, win + 1), 0);
	free_after = page_alloc_free_count();
	/* The control page at least (its record may give a heap page back too). */
	CU_ASSERT(free_after >= free_mapped + 1);
	CU_ASSERT_PTR_NULL(seen(back, win + 1));
	CU_ASSERT_EQUAL(unmap(back, win + 1), -KEEL_EINVAL);
	/* Nothing of it is left for the backend's death to free. */
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* Removed devices: the page goes with the last of several mappings, whoever holds it. */
static void test_removed_device_last_mapping(void)
{
	struct domain *front = make("last-f", 0);
	struct domain *back = make("last-b", KEEL_CAP_BACKEND_CONSOLE);
	uint32_t a = device(front, back), b = device(front, back);
	uint64_t free0;

	CU_ASSERT_EQUAL(map_device(front, a, win), 0);
	CU_ASSERT_EQUAL(map_device(back, a, win), 0);
	CU_ASSERT_EQUAL(map_device(back, b, win + 1), 0);
	CU_ASSERT_EQUAL(device_remove(a), 0);
	CU_ASSERT_EQUAL(device_remove(b), 0);
	free0 = page_alloc_free_count();
	CU_ASSERT_EQUAL(unmap(front, win), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free0);	/* back still maps a */
	CU_ASSERT_EQUAL(seen(back, win)[0], (uint8_t)KEEL_IO_DEVICE_MAGIC);
	CU_ASSERT_EQUAL(unmap(back, win), 0);
	CU_ASSERT(page_alloc_free_count() >= free0 + 1);
	/* b is freed by the backend's death instead. */
	finish(back);
	finish(front);
	UNIT_CHECK_ALL_RETURNED();
}

/* @g grants its RAM page @gfn to @m at entry @ref; @m maps it at @at. Status and handle. */
static int32_t grant_and_map(struct domain *g, struct domain *m, uint32_t ref, uint64_t gfn,
			     uint64_t at, uint32_t *handle)
{
	struct keel_gnttab_map req = { .domid = g->domid, .ref = ref, .gfn = at };
	struct keel_grant_entry *e;
	paddr_t frame;

	CU_ASSERT_EQUAL_FATAL(gnttab_frame(g, 0, &frame), 0);
	e = (struct keel_grant_entry *)arch_phys_to_virt(frame) + ref;
	e->domid = m->domid;
	e->gfn = gfn;
	e->flags = KEEL_GNTF_PERMIT;
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(m, ARRAY_GPA, &req, sizeof(req)), 0);
	CU_ASSERT_EQUAL(gnttab_hc_map(m, ARRAY_GPA, 1), 1);
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(m, ARRAY_GPA, &req, sizeof(req)), 0);
	*handle = req.handle;
	return req.status;
}

static int32_t grant_unmap(struct domain *m, uint64_t at, uint32_t handle)
{
	struct keel_gnttab_unmap u = { .gfn = at, .handle = handle };

	CU_ASSERT_EQUAL_FATAL(guest_copy_to(m, ARRAY_GPA, &u, sizeof(u)), 0);
	CU_ASSERT_EQUAL(gnttab_hc_unmap(m, ARRAY_GPA, 1), 1);
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(m, ARRAY_GPA, &u, sizeof(u)), 0);
	return u.status;
}

/*
 * A backend's own grant-mapping memory (map table, scratch page) goes with
 * its last mapping, even when the granter died and its grants were revoked;
 * and a handle from before does not name a mapping made afterwards.
 */
static void test_mapper_memory_returns(void)
{
	struct domain *g = make("gm-g", 0), *m = make("gm-m", 0);
	uint32_t h1, h2, h3;
	uint64_t free0;

	CU_ASSERT_EQUAL(gnttab_hc_setup(g, 1), 1);
	/* The window's p2m tables exist in a running guest (its shared info is there). */
	CU_ASSERT_EQUAL(memory_hc_map_shared(m, KEEL_MAPSPACE_SHARED_INFO, 0, win + 10), 0);
	free0 = page_alloc_free_count();
	CU_ASSERT_EQUAL(grant_and_map(g, m, 0, 2, win, &h1), 0);
	CU_ASSERT(page_alloc_free_count() < free0);
	CU_ASSERT_EQUAL(grant_unmap(m, win, h1), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free0);
	/* The emptied table starts again; the old handle names nothing. */
	CU_ASSERT_EQUAL(grant_and_map(g, m, 1, 3, win, &h2), 0);
	CU_ASSERT_NOT_EQUAL(h2, h1);
	CU_ASSERT_EQUAL(grant_unmap(m, win, h1), -KEEL_ENOENT);
	CU_ASSERT_PTR_EQUAL(seen(m, win), seen(g, 3));
	/* Two mappings; the granter dies: both show the scratch page until unmapped. */
	CU_ASSERT_EQUAL(grant_and_map(g, m, 0, 2, win + 1, &h3), 0);
	finish(g);
	CU_ASSERT_PTR_NOT_NULL(seen(m, win));
	CU_ASSERT_PTR_EQUAL(seen(m, win), seen(m, win + 1));
	free0 = page_alloc_free_count();
	CU_ASSERT_EQUAL(grant_unmap(m, win, h2), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free0);	/* one mapping left */
	CU_ASSERT_EQUAL(grant_unmap(m, win + 1, h3), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free0 + 2);	/* table page and scratch */
	CU_ASSERT_PTR_NULL(seen(m, win + 1));
	finish(m);
	UNIT_CHECK_ALL_RETURNED();
}

/* The call through the dispatcher: its number, identification, a 64-bit GFN. */
static void test_dispatch(void)
{
	struct domain *d = make("disp", 0);
	uint64_t args[HYPERCALL_ARGS] = { win };

	CU_ASSERT_EQUAL(memory_hc_map_shared(d, KEEL_MAPSPACE_SHARED_INFO, 0, win), 0);
	CU_ASSERT_EQUAL(hypercall_dispatch(d->vcpus[0], KEEL_HC_MEMORY_UNMAP_SHARED, args),
			-KEEL_ENOTIDENT);
	CU_ASSERT_PTR_NOT_NULL(seen(d, win));
	__atomic_store_n(&d->identified, true, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(hypercall_dispatch(d->vcpus[0], KEEL_HC_MEMORY_UNMAP_SHARED, args), 0);
	CU_ASSERT_PTR_NULL(seen(d, win));
	CU_ASSERT_EQUAL(hypercall_dispatch(d->vcpus[0], KEEL_HC_MEMORY_UNMAP_SHARED, args),
			-KEEL_EINVAL);
	args[0] = win | (1ull << 40);	/* the GFN is 64-bit: high bits are not stripped */
	CU_ASSERT_EQUAL(hypercall_dispatch(d->vcpus[0], KEEL_HC_MEMORY_UNMAP_SHARED, args),
			-KEEL_EINVAL);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "unmap, then map again", test_unmap_and_map_again },
	{ "a grant frame keeps its contents", test_grant_frame },
	{ "GFNs without a Keel page are refused", test_bad_gfns },
	{ "double unmap", test_double_unmap },
	{ "a device's page stays while the device exists", test_device_page_stays_with_device },
	{ "frontend dies with the page mapped, then unmap", test_frontend_dies_then_unmap },
	{ "a removed device's page goes with its last mapping",
	  test_removed_device_last_mapping },
	{ "a backend's grant-mapping memory goes with its last mapping",
	  test_mapper_memory_returns },
	{ "through the dispatcher", test_dispatch },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo memory_unmap_suite = {
	.pName = "memory_unmap",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
