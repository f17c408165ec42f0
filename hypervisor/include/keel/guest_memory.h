/* SPDX-License-Identifier: MIT */
/*
 * keel/guest_memory.h - a domain's guest-physical memory (the p2m).
 *
 * The core owns the map from guest frame numbers (GFN, guest-physical
 * address >> 12) to host pages: a 4-level radix tree of 512-entry tables,
 * like a page table, with 4 KiB leaves and 2 MiB leaves where RAM was
 * allocated in aligned 2 MiB chunks. The architecture mirrors every change
 * into its second-stage tables (arch_p2m_set/clear), which it may build
 * with the same large pages. Guest addresses are never trusted: every
 * access goes through guest_memory_translate() or the copy helpers, which
 * check the whole range.
 */
#ifndef KEEL_GUEST_MEMORY_H
#define KEEL_GUEST_MEMORY_H

#include <keel/spinlock.h>
#include <keel/types.h>

#define GUEST_GFN_BITS		36		/* 48-bit guest-physical addresses */
#define GUEST_GFN_LIMIT		((uint64_t)1 << GUEST_GFN_BITS)
#define GUEST_LARGE_ORDER	9		/* 2 MiB = 512 pages */

/* Access rights of a mapping. */
#define GUEST_READ		(1u << 0)
#define GUEST_WRITE		(1u << 1)
#define GUEST_EXEC		(1u << 2)
#define GUEST_RWX		(GUEST_READ | GUEST_WRITE | GUEST_EXEC)

struct guest_memory {
	struct spinlock lock;
	paddr_t root;			/* top table; 0 until the first mapping */
	uint64_t ram_pages;		/* (m) RAM pages this domain owns */
	uint64_t max_pages;		/* (c) limit on ram_pages */
	uint64_t table_pages;		/* (m) pages used by the tree itself */
};
/* (c) set at creation; (m) under lock. */

struct domain;

/* Whether [gpa, gpa + len) lies within one 4 KiB page (the ABI's rule). */
static inline bool guest_range_in_page(uint64_t gpa, uint64_t len)
{
	return len <= PAGE_SIZE && (gpa & (PAGE_SIZE - 1)) + len <= PAGE_SIZE;
}

void guest_memory_init(struct guest_memory *mem, uint64_t max_pages);

/*
 * Give the domain @count pages of zeroed RAM at @gfn onwards, in 2 MiB
 * chunks where @gfn and the count allow and such chunks are free, else in
 * 4 KiB pages. All or nothing. Returns 0, -KEEL_EINVAL (range outside the
 * guest-physical space), -KEEL_EBUSY (part of the range already mapped),
 * -KEEL_ENOMEM (over the limit or out of memory).
 */
int guest_memory_populate(struct domain *d, uint64_t gfn, uint64_t count);

/* The host page behind @gfn and its rights; false if nothing is mapped. */
bool guest_memory_translate(struct domain *d, uint64_t gfn, paddr_t *pa,
			    uint32_t *rights);

/*
 * Copy between the domain's RAM and Keel. The whole range must be mapped
 * with the rights needed (write for copy_to); nothing is copied otherwise.
 * Returns 0 or -KEEL_EFAULT.
 */
int guest_copy_from(struct domain *d, uint64_t gpa, void *dst, size_t len);
int guest_copy_to(struct domain *d, uint64_t gpa, const void *src, size_t len);

/* Unmap and free every page and table (domain teardown). */
void guest_memory_release_all(struct domain *d);

#endif
