// SPDX-License-Identifier: MIT
/*
 * shim_memory.c - the shim's memory functions on Linux: blocks and pages
 * of guest RAM, their guest-physical addresses, and mappings of the map
 * window (BAR2 of Keel's platform PCI device, where Keel puts its own pages
 * and other domains' grants).
 *
 * Guest-physical is physical here: Linux runs in Keel's nested paging with
 * no IOMMU in between, so page_to_phys() is the GPA Keel and peers see.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/io.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "keel_linux.h"

/* Set by platform.c once BAR2 is requested; read by map (thread context). */
static phys_addr_t window_base;
static resource_size_t window_size;

void keel_window_set(phys_addr_t base, resource_size_t size)
{
	window_base = base;
	window_size = size;
}

/*
 * [any] kmalloc of a power of two is aligned to its size (guaranteed since
 * 5.4, debug options included), so rounding up to one, at least 64 bytes,
 * gives both the 64-byte alignment and "never crosses a page" shim.h asks.
 */
void *kpv_shim_alloc(size_t size)
{
	if (size > KPV_PAGE_SIZE)
		return NULL;
	return kzalloc(roundup_pow_of_two(max_t(size_t, size, 64)), GFP_ATOMIC);
}

void kpv_shim_free(void *p)
{
	kfree(p);
}

/* Thread context only (shim.h), so the allocation may sleep and reclaim. */
void *kpv_shim_page_alloc(void)
{
	return (void *)get_zeroed_page(GFP_KERNEL);
}

void kpv_shim_page_free(void *page)
{
	if (page)
		free_page((unsigned long)page);
}

/* [any] The direct map, or a vmalloc/module address (never for pvdrivers' own memory). */
uint64_t kpv_shim_virt_to_gpa(const void *va)
{
	if (virt_addr_valid(va))
		return __pa(va);
	return page_to_phys(vmalloc_to_page(va)) + offset_in_page(va);
}

/*
 * The window is not RAM, so memremap() gives a write-back ioremap of it.
 * Anything outside the BAR is refused: a GPA there is not ours to map.
 */
void *kpv_shim_map_gpa(uint64_t gpa, uint32_t pages)
{
	u64 len = (u64)pages << PAGE_SHIFT;

	if (pages == 0 || offset_in_page(gpa) != 0 || window_size == 0 || gpa < window_base ||
	    gpa - window_base > window_size || len > window_size - (gpa - window_base)) {
		pr_err("refusing to map %u page(s) at %#llx: outside the map window\n", pages, gpa);
		return NULL;
	}
	return memremap(gpa, len, MEMREMAP_WB);
}

void kpv_shim_unmap_gpa(void *va, uint32_t pages)
{
	if (va)
		memunmap(va);
}
