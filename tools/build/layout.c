/* SPDX-License-Identifier: MIT */
/*
 * tools/build/layout.c - where a guest's RAM goes (docs/abi/boot.md, "Guest
 * physical layout"): bootproto's x86_guest_layout(), the layout Keel's own
 * builder uses (up to 640 KiB low, then from 1 MiB to the MMIO hole at
 * 3 GiB, the rest from 4 GiB); and the POPULATE extents that give it,
 * 2 MiB wherever alignment allows.
 */
#include <stdlib.h>
#include "build.h"

#define PAGE		4096ull
#define PAGES_2M	512ull

void layout_ram(uint64_t pages, struct layout *l)
{
	l->nram = 0;
	l->total_pages = pages;
	l->nall = x86_guest_layout(pages, l->all, LAYOUT_MAX);
	for (unsigned int i = 0; i < l->nall && i < LAYOUT_MAX; i++) {
		if (l->all[i].type == KEEL_MEMTYPE_RAM && l->nram < RAM_RANGES_MAX) {
			l->ram[l->nram++] = (struct ram_range){ l->all[i].base, l->all[i].size / PAGE };
		}
	}
}

bool layout_is_ram(const struct layout *l, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < l->nram; i++) {
		uint64_t base = l->ram[i].base, size = l->ram[i].pages * PAGE;

		if (gpa >= base && gpa - base <= size && len <= size - (gpa - base)) {
			return true;
		}
	}
	return false;
}

/* Append the extents of one range to @out (NULL: only count). */
static size_t range_extents(const struct ram_range *r, struct keel_memory_extent *out)
{
	uint64_t gfn = r->base / PAGE, end = gfn + r->pages;
	size_t n = 0;

	while (gfn < end) {
		bool big = gfn % PAGES_2M == 0 && end - gfn >= PAGES_2M;

		if (out) {
			out[n] = (struct keel_memory_extent){
				.gfn = gfn,
				.order = big ? KEEL_MEMORY_ORDER_2M : KEEL_MEMORY_ORDER_4K,
			};
		}
		n++;
		gfn += big ? PAGES_2M : 1;
	}
	return n;
}

struct keel_memory_extent *layout_extents(const struct layout *l, size_t *n)
{
	struct keel_memory_extent *ext;
	size_t total = 0;

	for (unsigned int i = 0; i < l->nram; i++) {
		total += range_extents(&l->ram[i], NULL);
	}
	ext = calloc(total ? total : 1, sizeof(*ext));
	if (!ext) {
		return NULL;
	}
	*n = 0;
	for (unsigned int i = 0; i < l->nram; i++) {
		*n += range_extents(&l->ram[i], ext + *n);
	}
	return ext;
}
