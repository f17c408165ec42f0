/* SPDX-License-Identifier: MIT */
/*
 * core/page_alloc.c - physical page allocator: a bitmap over usable RAM.
 *
 * One bit per page from the lowest to the highest usable page; a set bit
 * means "not available" (allocated, reserved, or a hole). The bitmap itself
 * lives in the first usable stretch big enough for it. First fit with a
 * search hint: simple, predictable, and good enough for boot-time and
 * domain-sized allocations.
 */
#include <arch/arch.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/spinlock.h>
#include <keel/string.h>

#define BITS_PER_WORD	64

static struct spinlock lock = SPINLOCK_INIT;
static uint64_t *bitmap;
static uint64_t first_pfn;	/* page number of bit 0 */
static uint64_t pfn_count;	/* bits in the bitmap */
static uint64_t total_pages;	/* usable pages handed to the allocator */
static uint64_t free_pages;
static uint64_t hint;		/* bit index to start searching from */

static bool bit_test(uint64_t i)
{
	return (bitmap[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1;
}

static void bit_set(uint64_t i)
{
	bitmap[i / BITS_PER_WORD] |= (uint64_t)1 << (i % BITS_PER_WORD);
}

static void bit_clear(uint64_t i)
{
	bitmap[i / BITS_PER_WORD] &= ~((uint64_t)1 << (i % BITS_PER_WORD));
}

static bool overlaps_reserved(const struct boot_info *bi, paddr_t base,
			      uint64_t size)
{
	for (unsigned int i = 0; i < bi->reserved_count; i++) {
		const struct mem_range *r = &bi->reserved[i];

		if (base < r->base + r->size && r->base < base + size) {
			return true;
		}
	}
	return false;
}

/* Find room for @bytes in usable RAM, page-aligned, clear of reservations. */
static paddr_t place_bitmap(const struct boot_info *bi, uint64_t bytes)
{
	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *r = &bi->regions[i];
		/* Not page 0: an address of 0 means "no room" (and "no memory"). */
		paddr_t p = MAX(ALIGN_UP(r->base, PAGE_SIZE), PAGE_SIZE);

		if (r->type != MEM_USABLE) {
			continue;
		}
		/* Try page by page: reservations may sit inside the region. */
		for (; p + bytes <= r->base + r->size; p += PAGE_SIZE) {
			if (!overlaps_reserved(bi, p, bytes)) {
				return p;
			}
		}
	}
	return 0;
}

static void span(const struct boot_info *bi, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *r = &bi->regions[i];
		uint64_t s = ALIGN_UP(r->base, PAGE_SIZE) >> PAGE_SHIFT;
		uint64_t e = ALIGN_DOWN(r->base + r->size, PAGE_SIZE) >> PAGE_SHIFT;

		if (r->type != MEM_USABLE || e <= s) {
			continue;
		}
		*lo = MIN(*lo, s);
		*hi = MAX(*hi, e);
	}
}

bool page_alloc_init(const struct boot_info *bi)
{
	uint64_t lo, hi, bytes;
	paddr_t at;

	span(bi, &lo, &hi);
	if (hi <= lo) {
		log_err("page allocator: the memory map has no usable RAM");
		return false;
	}
	first_pfn = lo;
	pfn_count = hi - lo;
	bytes = ALIGN_UP(ALIGN_UP(pfn_count, BITS_PER_WORD) / 8, PAGE_SIZE);
	at = place_bitmap(bi, bytes);
	if (at == 0) {
		log_err("page allocator: no room for a %llu KiB bitmap",
			(unsigned long long)(bytes >> 10));
		return false;
	}
	bitmap = arch_phys_to_virt(at);
	memset(bitmap, 0xff, bytes);

	/*
	 * Free every usable page that no reservation and not the bitmap covers,
	 * except page 0: page_alloc_range() returns 0 for "no memory".
	 */
	total_pages = free_pages = 0;
	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *r = &bi->regions[i];
		uint64_t s = ALIGN_UP(r->base, PAGE_SIZE);
		uint64_t e = ALIGN_DOWN(r->base + r->size, PAGE_SIZE);

		if (r->type != MEM_USABLE) {
			continue;
		}
		for (paddr_t p = s; p < e; p += PAGE_SIZE) {
			if (p == 0 || overlaps_reserved(bi, p, PAGE_SIZE) ||
			    (p >= at && p < at + bytes)) {
				continue;
			}
			bit_clear((p >> PAGE_SHIFT) - first_pfn);
			free_pages++;
		}
	}
	total_pages = free_pages;
	hint = 0;
	log_info("page allocator: %llu pages (%llu MiB) free, bitmap %llu KiB at %#llx",
		 (unsigned long long)free_pages,
		 (unsigned long long)(free_pages >> (20 - PAGE_SHIFT)),
		 (unsigned long long)(bytes >> 10), (unsigned long long)at);
	return true;
}

/* Is [i, i + count) all free? If not, *skip is the bit after the last used one. */
static bool run_is_free(uint64_t i, uint64_t count, uint64_t *skip)
{
	for (uint64_t j = i + count; j > i; j--) {
		if (bit_test(j - 1)) {
			*skip = j;
			return false;
		}
	}
	return true;
}

static uint64_t search(uint64_t from, uint64_t to, uint64_t count,
		       uint64_t align)
{
	uint64_t i = from, skip;

	while (i < to && count <= to - i) {
		/* Bit index i is page first_pfn + i: align the page number. */
		uint64_t aligned = ALIGN_UP(first_pfn + i, align) - first_pfn;

		if (aligned != i) {
			i = aligned;
			continue;
		}
		if (count == 1 && bitmap[i / BITS_PER_WORD] == UINT64_MAX) {
			i = ALIGN_UP(i + 1, BITS_PER_WORD);
			continue;
		}
		if (run_is_free(i, count, &skip)) {
			return i;
		}
		i = skip;
	}
	return UINT64_MAX;
}

paddr_t page_alloc_range(uint64_t count, uint64_t align, paddr_t limit)
{
	uint64_t end = pfn_count, i;
	unsigned long flags;
	paddr_t pa;

	if (count == 0 || align == 0 || (align & (align - 1)) != 0 || !bitmap) {
		return 0;
	}
	if (limit) {
		uint64_t limit_pfn = limit >> PAGE_SHIFT;

		if (limit_pfn <= first_pfn) {
			return 0;
		}
		end = MIN(end, limit_pfn - first_pfn);
	}

	flags = spin_lock_irqsave(&lock);
	i = search(MIN(hint, end), end, count, align);
	if (i == UINT64_MAX) {
		i = search(0, end, count, align);
	}
	if (i == UINT64_MAX) {
		spin_unlock_irqrestore(&lock, flags);
		return 0;
	}
	for (uint64_t j = i; j < i + count; j++) {
		bit_set(j);
	}
	free_pages -= count;
	if (count == 1) {
		hint = i + 1;
	}
	spin_unlock_irqrestore(&lock, flags);

	pa = (first_pfn + i) << PAGE_SHIFT;
	memset(arch_phys_to_virt(pa), 0, count * PAGE_SIZE);
	return pa;
}

void page_free(paddr_t pa, uint64_t count)
{
	uint64_t i = (pa >> PAGE_SHIFT) - first_pfn;
	unsigned long flags;

	if ((pa & ~PAGE_MASK) || (pa >> PAGE_SHIFT) < first_pfn ||
	    i >= pfn_count || count > pfn_count - i) {
		panic("page_free(%#llx, %llu): not a page range this allocator owns",
		      (unsigned long long)pa, (unsigned long long)count);
	}
	flags = spin_lock_irqsave(&lock);
	for (uint64_t j = i; j < i + count; j++) {
		if (!bit_test(j)) {
			spin_unlock_irqrestore(&lock, flags);
			panic("page_free: page %#llx is already free",
			      (unsigned long long)((first_pfn + j) << PAGE_SHIFT));
		}
		bit_clear(j);
	}
	free_pages += count;
	if (i < hint) {
		hint = i;
	}
	spin_unlock_irqrestore(&lock, flags);
}

uint64_t page_alloc_free_count(void)
{
	return READ_ONCE(free_pages);
}

uint64_t page_alloc_total_count(void)
{
	return total_pages;
}
