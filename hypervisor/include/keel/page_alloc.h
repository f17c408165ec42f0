/* SPDX-License-Identifier: MIT */
/*
 * keel/page_alloc.h - the physical page allocator.
 *
 * Owns every usable RAM page the boot path did not reserve. Pages are handed
 * out zeroed (no data leaks between users) and counted, so that tests can
 * compare free-page counts before and after any operation.
 */
#ifndef KEEL_PAGE_ALLOC_H
#define KEEL_PAGE_ALLOC_H

#include <keel/bootinfo.h>

/*
 * Take over the usable RAM of @bi minus its reserved ranges. Returns false
 * (after logging why) if there is not enough RAM to run at all.
 */
bool page_alloc_init(const struct boot_info *bi);

/*
 * Allocate @count contiguous zeroed pages whose first page number is a
 * multiple of @align (in pages, a power of two) and which end below
 * @limit (0: no limit). Returns the physical address, or 0 when no such
 * range is free.
 */
paddr_t page_alloc_range(uint64_t count, uint64_t align, paddr_t limit);

static inline paddr_t page_alloc(uint64_t count)
{
	return page_alloc_range(count, 1, 0);
}

/* Give back pages from page_alloc_range(). Freeing a free page panics. */
void page_free(paddr_t pa, uint64_t count);

uint64_t page_alloc_free_count(void);
uint64_t page_alloc_total_count(void);

#endif
