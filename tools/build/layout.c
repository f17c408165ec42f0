/* SPDX-License-Identifier: MIT */
/*
 * tools/build/layout.c - where a guest's RAM goes (docs/abi/boot.md, "Guest
 * physical layout"): up to 640 KiB low, then from 1 MiB to the MMIO hole
 * at 3 GiB, the rest from 4 GiB; and the POPULATE extents that give it,
 * 2 MiB wherever alignment allows.
 */
#include <stdlib.h>
#include "build.h"

#define PAGE		4096ull
#define LOW_PAGES	(KEEL_X86_GPA_LOW_RAM_END / PAGE)
#define MID_BASE	0x100000ull
#define MID_PAGES	((KEEL_X86_GPA_MMIO_HOLE - MID_BASE) / PAGE)
#define HIGH_BASE	0x100000000ull
#define PAGES_2M	512ull

void layout_ram(uint64_t pages, struct layout *l)
{
	uint64_t low = pages < LOW_PAGES ? pages : LOW_PAGES;
	uint64_t mid = pages - low < MID_PAGES ? pages - low : MID_PAGES;
	uint64_t high = pages - low - mid;

	l->nram = 0;
	l->total_pages = pages;
	l->ram[l->nram++] = (struct ram_range){ 0, low };
	if (mid) {
		l->ram[l->nram++] = (struct ram_range){ MID_BASE, mid };
	}
	if (high) {
		l->ram[l->nram++] = (struct ram_range){ HIGH_BASE, high };
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
