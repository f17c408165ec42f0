/* SPDX-License-Identifier: MIT */
/*
 * core/memory_ops.c - the memory hypercalls: POPULATE, RELEASE, QUERY,
 * MAP_SHARED, UNMAP_SHARED (docs/abi/hypercalls.md, "Memory").
 *
 * The p2m (core/guest_memory.c) does the work and keeps its own locks;
 * this file decodes, applies the guest-physical layout (platform ranges and
 * the map window come from the arch) and finds the Keel pages to map.
 */
#include <arch/arch.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_memory.h>
#include <keel/memory_ops.h>
#include <public/keel/errno.h>

/* The checks POPULATE and RELEASE share: order, alignment, range. */
static long extent_check(const struct keel_memory_extent *x)
{
	uint64_t pages;

	if (x->order != KEEL_MEMORY_ORDER_4K && x->order != KEEL_MEMORY_ORDER_2M) {
		return -KEEL_EINVAL;
	}
	pages = (uint64_t)1 << x->order;
	if ((x->gfn & (pages - 1)) || x->gfn >= GUEST_GFN_LIMIT) {
		return -KEEL_EINVAL;	/* the limit is 2 MiB aligned: the extent fits */
	}
	return 0;
}

/* Whether any GFN of [gfn, gfn + pages) is a platform range or the map window. */
static bool extent_reserved(uint64_t gfn, uint64_t pages)
{
	uint64_t window_gpa, window_size, first, end;

	arch_map_window(&window_gpa, &window_size);
	first = window_gpa >> PAGE_SHIFT;
	end = first + (window_size >> PAGE_SHIFT);
	if (gfn < end && first < gfn + pages) {
		return true;
	}
	for (uint64_t g = gfn; g < gfn + pages; g++) {
		if (arch_gfn_is_platform(g)) {
			return true;
		}
	}
	return false;
}

static long populate_one(struct domain *target, const struct keel_memory_extent *x)
{
	long rc = extent_check(x);
	uint64_t pages;

	if (rc != 0) {
		return rc;
	}
	pages = (uint64_t)1 << x->order;
	if (extent_reserved(x->gfn, pages)) {
		return -KEEL_EINVAL;
	}
	/* EBUSY before ENOMEM (errors.md): guest_memory_populate() asks the limit first. */
	for (uint64_t g = x->gfn; g < x->gfn + pages; g++) {
		if (guest_memory_kind(target, g, NULL) != GUEST_PAGE_NONE) {
			return -KEEL_EBUSY;
		}
	}
	return guest_memory_populate(target, x->gfn, pages);
}

long memory_populate_extents(struct domain *caller, struct domain *target,
			     uint64_t array_gpa, uint64_t count)
{
	struct keel_memory_extent x;
	struct guest_batch b;
	long rc = guest_batch_start(&b, caller, array_gpa, count, sizeof(x), MEMORY_BATCH_PAGES);

	if (rc != 0) {
		return rc;
	}
	while (guest_batch_next(&b, &x)) {
		x.status = (int32_t)populate_one(target, &x);
		guest_batch_done(&b, &x, offsetof(struct keel_memory_extent, status),
				 sizeof(x.status), x.status ? 1 : (uint64_t)1 << x.order);
	}
	return guest_batch_end(&b);
}

long memory_hc_populate(struct domain *d, uint64_t array_gpa, uint64_t count)
{
	return memory_populate_extents(d, d, array_gpa, count);
}

long memory_hc_release(struct domain *d, uint64_t array_gpa, uint64_t count)
{
	struct keel_memory_extent x;
	struct guest_batch b;
	long rc = guest_batch_start(&b, d, array_gpa, count, sizeof(x), MEMORY_BATCH_PAGES);

	if (rc != 0) {
		return rc;
	}
	while (guest_batch_next(&b, &x)) {
		rc = extent_check(&x);
		x.status = (int32_t)(rc ? rc : guest_memory_release(d, x.gfn, x.order));
		guest_batch_done(&b, &x, offsetof(struct keel_memory_extent, status),
				 sizeof(x.status), x.status ? 1 : (uint64_t)1 << x.order);
	}
	return guest_batch_end(&b);
}

long memory_hc_query(struct domain *d, uint64_t gpa)
{
	struct keel_memory_info info;
	uint64_t window_gpa, window_size;
	unsigned long flags;

	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(info))) {
		return -KEEL_EFAULT;
	}
	arch_map_window(&window_gpa, &window_size);
	flags = spin_lock_irqsave(&d->mem.lock);
	info.current_pages = d->mem.ram_pages;
	info.max_pages = d->mem.max_pages;
	info.target_pages = d->mem.target_pages;
	spin_unlock_irqrestore(&d->mem.lock, flags);
	info.map_window_gfn = window_gpa >> PAGE_SHIFT;
	info.map_window_pages = window_size >> PAGE_SHIFT;
	return guest_copy_to(d, gpa, &info, sizeof(info)) == 0 ? 0 : -KEEL_EFAULT;
}

long memory_hc_map_shared(struct domain *d, uint64_t space, uint64_t index, uint64_t gfn)
{
	unsigned int flags = 0;
	paddr_t pa = 0;
	long rc = 0;

	if ((space != KEEL_MAPSPACE_SHARED_INFO && space != KEEL_MAPSPACE_GRANT_TABLE &&
	     space != KEEL_MAPSPACE_DEVICE_PAGE) || index > UINT32_MAX ||
	    (space == KEEL_MAPSPACE_SHARED_INFO && index != 0) || gfn >= GUEST_GFN_LIMIT) {
		return -KEEL_EINVAL;
	}
	if (space == KEEL_MAPSPACE_SHARED_INFO) {
		pa = d->shared_info_pa;
	} else if (space == KEEL_MAPSPACE_GRANT_TABLE) {
		rc = gnttab_frame(d, index, &pa);
	} else {
		rc = device_page_lookup(d, (uint32_t)index, &pa);
		flags = GUEST_KEEL_DEVICE;
	}
	if (rc != 0) {
		return rc;
	}
	rc = guest_memory_map_keel(d, gfn, pa, flags);
	if (rc != 0 && flags) {
		device_page_put(pa);	/* not mapped after all: the reference goes */
	}
	return rc;
}

long memory_hc_unmap_shared(struct domain *d, uint64_t gfn)
{
	/* Any Keel page at the GFN: the caller may only ever have mapped its own. */
	return guest_memory_unmap_keel_at(d, gfn);
}
