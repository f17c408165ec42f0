/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/layout.c - the guest-physical layout of Keel 1.0's x86
 * domains (docs/abi/boot.md, "Guest physical layout"): RAM below 640 KiB,
 * from 1 MiB to the MMIO hole at 3 GiB, and the rest from 4 GiB; the map
 * window and the local APIC page reserved. Keel's builder and keelctl's
 * populate exactly these ranges.
 */
#include <bootproto/x86_linux.h>
#include <keel/arch-x86_64.h>
#include <keel/start_info.h>
#include "../internal.h"

#define LOW_RAM_PAGES	(KEEL_X86_GPA_LOW_RAM_END / BP_PAGE_SIZE)
#define HIGH_RAM_BASE	0x100000ull
#define ABOVE_4G	0x100000000ull

static unsigned int add(struct boot_mem_range *out, unsigned int n, unsigned int max,
			uint64_t base, uint64_t size, uint32_t type)
{
	if (size && n < max) {
		out[n] = (struct boot_mem_range){ base, size, type };
	}
	return size ? n + 1 : n;
}

unsigned int x86_guest_layout(uint64_t ram_pages, struct boot_mem_range *out, unsigned int max)
{
	uint64_t low = BP_MIN(ram_pages, (uint64_t)LOW_RAM_PAGES);
	uint64_t rest = ram_pages - low;
	uint64_t below_hole = (KEEL_X86_GPA_MMIO_HOLE - HIGH_RAM_BASE) / BP_PAGE_SIZE;
	uint64_t mid = BP_MIN(rest, below_hole);
	uint64_t high = rest - mid;
	unsigned int n = 0;

	n = add(out, n, max, 0, low * BP_PAGE_SIZE, KEEL_MEMTYPE_RAM);
	n = add(out, n, max, HIGH_RAM_BASE, mid * BP_PAGE_SIZE, KEEL_MEMTYPE_RAM);
	n = add(out, n, max, KEEL_X86_GPA_MAP_WINDOW, KEEL_X86_GPA_MAP_WINDOW_SIZE,
		KEEL_MEMTYPE_MAP_WINDOW);
	n = add(out, n, max, KEEL_X86_GPA_LAPIC, BP_PAGE_SIZE, KEEL_MEMTYPE_RESERVED);
	n = add(out, n, max, ABOVE_4G, high * BP_PAGE_SIZE, KEEL_MEMTYPE_RAM);
	return n;
}
