/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/pvh.c - the hvm_start_info page of the PVH boot ABI (version 1,
 * docs/abi/boot.md "PVH entry"): the structure at offset 0, the module list
 * (the initrd) and the memory map after it. The command line is elsewhere.
 * Written byte by byte, little-endian, so the layout never depends on a
 * compiler's struct rules.
 */
#include <bootproto/x86_linux.h>
#include "../internal.h"

#define MODLIST_ENTRY	32	/* paddr, size, cmdline_paddr, reserved */
#define MEMMAP_ENTRY	24	/* addr, size, type, reserved */

bool pvh_build(uint8_t *page, uint64_t gpa, const struct e820_entry *map, unsigned int count,
	       uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size,
	       uint64_t rsdp_gpa)
{
	if (count > PVH_MEMMAP_MAX) {
		return false;
	}
	bp_memset(page, 0, 4096);
	bp_wr(page + 0, PVH_START_MAGIC, 4);
	bp_wr(page + 4, 1, 4);				/* version */
	bp_wr(page + 8, 0, 4);				/* flags */
	bp_wr(page + 12, initrd_size ? 1 : 0, 4);		/* nr_modules */
	bp_wr(page + 16, initrd_size ? gpa + PVH_MODLIST_OFFSET : 0, 8);
	bp_wr(page + 24, cmdline_gpa, 8);
	bp_wr(page + 32, rsdp_gpa, 8);
	bp_wr(page + 40, gpa + PVH_MEMMAP_OFFSET, 8);
	bp_wr(page + 48, count, 4);
	if (initrd_size) {
		bp_wr(page + PVH_MODLIST_OFFSET, initrd_gpa, 8);
		bp_wr(page + PVH_MODLIST_OFFSET + 8, initrd_size, 8);
	}
	for (unsigned int i = 0; i < count; i++) {
		uint8_t *e = page + PVH_MEMMAP_OFFSET + i * MEMMAP_ENTRY;

		bp_wr(e, map[i].addr, 8);
		bp_wr(e + 8, map[i].size, 8);
		bp_wr(e + 16, map[i].type, 4);
	}
	return true;
}
