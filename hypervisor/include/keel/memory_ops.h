/* SPDX-License-Identifier: MIT */
/*
 * keel/memory_ops.h - the memory hypercalls: populate and release RAM
 * (ballooning), the memory query, and mapping and unmapping Keel-owned
 * pages.
 *
 * The portable core of docs/abi/hypercalls.md, "Memory", on top of the
 * p2m (keel/guest_memory.h). The functions take the calling domain and the
 * raw register arguments; the dispatcher has done the common checks (CPL,
 * identified, 32-bit arguments with bits 63:32 set). They check the rest in
 * the order of docs/abi/errors.md, copy each guest struct in once and write
 * back only its OUT fields, and return the call's result (>= 0) or
 * -KEEL_E*. None may be called from interrupt context or with a Keel lock
 * held.
 *
 * Batched calls (POPULATE, RELEASE): @array_gpa and @count as in "Batching
 * rules"; batch errors, in this order, with no element touched:
 * -KEEL_EINVAL (@count 0), -KEEL_EFAULT (not 8-byte aligned), -KEEL_E2BIG
 * (the array crosses its page), -KEEL_EFAULT (the page is not the caller's
 * RAM). Otherwise the return is n, 1 <= n <= @count, the elements
 * processed; a call stops early once its extents reach MEMORY_BATCH_PAGES
 * pages (failed extents count one).
 */
#ifndef KEEL_MEMORY_OPS_H
#define KEEL_MEMORY_OPS_H

#include <keel/types.h>
#include <public/keel/memory.h>

struct domain;

/* Pages one batched call zeroes or frees at most: 16 MiB (8 large extents). */
#define MEMORY_BATCH_PAGES	4096

/**
 * KEEL_HC_MEMORY_POPULATE: batch of struct keel_memory_extent. Element
 * errors, in this order: -KEEL_EINVAL (order not 0 or 9, gfn not aligned
 * to it, the extent outside the guest-physical space, a GFN in a platform
 * range or the map window); -KEEL_EBUSY (a GFN of the extent holds
 * something); -KEEL_ENOMEM (max_pages reached, or Keel out of memory).
 */
long memory_hc_populate(struct domain *d, uint64_t array_gpa, uint64_t count);

/*
 * The same, with the array in @caller's RAM and the memory going to
 * @target: KEEL_HC_CTL_DOMAIN_POPULATE, once the control call has checked
 * its rights and found @target.
 */
long memory_populate_extents(struct domain *caller, struct domain *target,
			     uint64_t array_gpa, uint64_t count);

/**
 * KEEL_HC_MEMORY_RELEASE: batch of struct keel_memory_extent. Element
 * errors, in this order: -KEEL_EINVAL (order, alignment, the extent outside
 * the guest-physical space); -KEEL_ENOENT (a GFN is not RAM);
 * -KEEL_EBUSY (a page is pinned: a registered keel_vcpu_info, an event
 * bitmap page, a granted page that is mapped); -KEEL_ENOMEM (releasing
 * 4 KiB out of a 2 MiB page needs a page-table page Keel does not have).
 */
long memory_hc_release(struct domain *d, uint64_t array_gpa, uint64_t count);

/**
 * KEEL_HC_MEMORY_QUERY: fill the struct keel_memory_info at @gpa:
 * current_pages (RAM held), max_pages, target_pages (the controller's
 * balloon target; max_pages until one is set), map_window_gfn/pages.
 *
 * Return: 0; -KEEL_EFAULT (not 8-byte aligned, crosses a page, or not
 *         @d's writable RAM).
 */
long memory_hc_query(struct domain *d, uint64_t gpa);

/**
 * KEEL_HC_MEMORY_MAP_SHARED: map the Keel-owned page @index of @space at
 * @gfn, read-write: KEEL_MAPSPACE_SHARED_INFO (index 0), _GRANT_TABLE (a
 * frame of @d's grant table), _DEVICE_PAGE (a device @d is an end of).
 * An object already mapped moves; mapping it where it already is changes
 * nothing and succeeds.
 *
 * Return: 0; -KEEL_EINVAL (unknown space, index not 0 for SHARED_INFO, an
 *         index above 32 bits, @gfn outside the guest-physical space);
 *         -KEEL_ENOENT (grant frame not allocated, no such device);
 *         -KEEL_EPERM (@d is neither the device's frontend nor its
 *         backend); -KEEL_EBUSY (@gfn holds something else, or is in a
 *         platform range); -KEEL_ENOMEM (no page for a p2m table).
 */
long memory_hc_map_shared(struct domain *d, uint64_t space, uint64_t index, uint64_t gfn);

/**
 * KEEL_HC_MEMORY_UNMAP_SHARED (1.1): remove the Keel-owned page mapped at
 * @gfn; the page stays Keel's and can be mapped again. A device page whose
 * device is gone is freed with its last mapping (keel/device.h).
 *
 * Return: 0; -KEEL_EINVAL (@gfn does not hold a Keel-owned page: empty,
 *         RAM, FOREIGN, or outside the guest-physical space).
 */
long memory_hc_unmap_shared(struct domain *d, uint64_t gfn);

#endif
