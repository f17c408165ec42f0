/* SPDX-License-Identifier: MIT */
/* keel/memory.h: populate and release RAM (ballooning), memory queries, and mapping and unmapping Keel-owned pages. */
#ifndef KEEL_PUBLIC_MEMORY_H
#define KEEL_PUBLIC_MEMORY_H

#include "abi.h"

/*
 * Common errors of every call here: KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *
 * KEEL_HC_MEMORY_POPULATE / KEEL_HC_MEMORY_RELEASE: batched (same rules as
 * the grant calls: arg0 GPA of an array in one page, arg1 count >= 1,
 * return n processed, per-element status) of struct keel_memory_extent.
 * POPULATE puts fresh zeroed RAM at each empty extent; RELEASE gives the
 * extent's RAM back to Keel (the GFNs become empty). The pages count
 * against keel_memory_info.max_pages.
 *   batch errors: KEEL_EFAULT, KEEL_EINVAL (count 0), KEEL_E2BIG.
 *   POPULATE element errors: KEEL_EINVAL (order not 0 or 9, gfn not aligned
 *   to the order, GFN in a platform range or the map window), KEEL_EBUSY (some
 *   GFN of the extent is not empty), KEEL_ENOMEM (max_pages reached or
 *   Keel out of memory).
 *   RELEASE element errors: KEEL_EINVAL (order, alignment), KEEL_ENOENT (some
 *   GFN is not RAM), KEEL_EBUSY (a page is pinned: shared with Keel as
 *   vcpu_info or event bitmap page, or granted with a non-zero status).
 *
 * KEEL_HC_MEMORY_QUERY: arg0: IN GPA of a struct keel_memory_info.
 *   return: 0.  errors: KEEL_EFAULT.
 *
 * KEEL_HC_MEMORY_MAP_SHARED: map a Keel-owned page into the caller's
 * physical address space. Mapping an object that is already mapped moves it
 * (the old GFN becomes empty).
 *   arg0:   IN KEEL_MAPSPACE_*.
 *   arg1:   IN index within the space: 0 for SHARED_INFO; frame number for
 *           GRANT_TABLE; device id for DEVICE_PAGE.
 *   arg2:   IN target GFN; must be empty (the map window is meant for this;
 *           a released RAM GFN also works).
 *   return: 0.
 *   errors: KEEL_EINVAL (unknown space, index != 0 for SHARED_INFO),
 *           KEEL_ENOENT (grant frame not allocated, or no such device),
 *           KEEL_EPERM (the caller is neither the device's frontend nor its
 *           backend), KEEL_EBUSY (GFN not empty, or in a platform range).
 *
 * KEEL_HC_MEMORY_UNMAP_SHARED (1.1; check the minor of KEEL_HC_VERSION
 * first): remove a Keel-owned page that MAP_SHARED put at a GFN. The GFN
 * holds nothing afterwards (a later access is an access to no memory); the
 * page stays Keel's and MAP_SHARED maps it again. A device control page
 * whose device is gone (removed, or its other end destroyed) is freed when
 * its last mapping in any domain goes, never while one remains.
 *   arg0:   IN the GFN.
 *   return: 0.
 *   errors: KEEL_EINVAL (the GFN does not hold a Keel-owned page: empty,
 *           RAM, a mapped grant, or outside the guest-physical space).
 */
#define KEEL_MEMORY_ORDER_4K		0
#define KEEL_MEMORY_ORDER_2M		9

#define KEEL_MAPSPACE_SHARED_INFO	0	/* struct keel_shared_info */
#define KEEL_MAPSPACE_GRANT_TABLE	1	/* one frame of the caller's grant table */
#define KEEL_MAPSPACE_DEVICE_PAGE	2	/* struct keel_io_device_page of a device */

struct keel_memory_extent {
	uint64_t gfn;			/* IN: first GFN, aligned to 1 << order pages */
	uint32_t order;			/* IN: KEEL_MEMORY_ORDER_4K or _2M */
	int32_t status;			/* OUT: 0 or -KEEL_E* */
};

struct keel_memory_info {
	uint64_t current_pages;		/* OUT: RAM pages the domain holds */
	uint64_t max_pages;		/* OUT: hard limit (set by the controller) */
	uint64_t target_pages;		/* OUT: balloon target; the guest SHOULD approach it */
	uint64_t map_window_gfn;	/* OUT: first GFN of the map window */
	uint64_t map_window_pages;	/* OUT: its size in pages */
};

#endif /* KEEL_PUBLIC_MEMORY_H */
