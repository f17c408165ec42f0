/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/linux_tables.c - the descriptor and page tables the Linux
 * entries start on (docs/abi/boot.md): PVH needs a flat 32-bit GDT, the
 * 64-bit protocol a GDT with code at 0x10 and data at 0x18 and page tables
 * identity-mapping the kernel, zero page and command line; Keel maps all of
 * [0, 4 GiB) with 2 MiB pages. All of it in the pages at LINUX_TABLES_GPA.
 */
#include <bootproto/x86_linux.h>
#include "../internal.h"

#define MAPPED_GIB	4
#define PTE_PRESENT_RW	0x3ull
#define PDE_2M		0x83ull		/* present, writable, page size */

/* Page offsets inside the tables: GDT, PML4, PDPT, then one PD per GiB. */
#define GDT_PAGE	0
#define PML4_PAGE	1
#define PDPT_PAGE	2
#define PD_PAGE		3

size_t linux_tables_size(bool pvh)
{
	return (size_t)(pvh ? 1 : PD_PAGE + MAPPED_GIB) * BP_PAGE_SIZE;
}

uint16_t linux_tables_gdt_limit(bool pvh)
{
	return pvh ? 3 * 8 - 1 : 4 * 8 - 1;
}

uint64_t linux_tables_build(uint8_t *buf, bool pvh)
{
	const uint64_t pvh_gdt[3] = { 0, GDT_DESC_CODE32, GDT_DESC_DATA };
	const uint64_t gdt64[4] = { 0, 0, GDT_DESC_CODE64, GDT_DESC_DATA };
	const uint64_t *gdt = pvh ? pvh_gdt : gdt64;
	unsigned int count = pvh ? 3 : 4;

	bp_memset(buf, 0, linux_tables_size(pvh));
	for (unsigned int i = 0; i < count; i++) {
		bp_wr(buf + GDT_PAGE * BP_PAGE_SIZE + i * 8, gdt[i], 8);
	}
	if (pvh) {
		return 0;
	}
	bp_wr(buf + PML4_PAGE * BP_PAGE_SIZE,
	      (LINUX_TABLES_GPA + PDPT_PAGE * BP_PAGE_SIZE) | PTE_PRESENT_RW, 8);
	for (uint64_t g = 0; g < MAPPED_GIB; g++) {
		uint64_t pd = LINUX_TABLES_GPA + (PD_PAGE + g) * BP_PAGE_SIZE;

		bp_wr(buf + PDPT_PAGE * BP_PAGE_SIZE + g * 8, pd | PTE_PRESENT_RW, 8);
		for (uint64_t i = 0; i < 512; i++) {
			bp_wr(buf + (PD_PAGE + g) * BP_PAGE_SIZE + i * 8,
			      (g << 30 | i << 21) | PDE_2M, 8);
		}
	}
	return LINUX_TABLES_GPA + PML4_PAGE * BP_PAGE_SIZE;
}
