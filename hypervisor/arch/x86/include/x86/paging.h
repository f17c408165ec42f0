/* SPDX-License-Identifier: MIT */
/*
 * x86/paging.h - the hypervisor's own page tables.
 *
 * Keel maps itself identity (virtual == physical): RAM from the memory map
 * as read/write no-execute, the image with W^X permissions (text RX, rodata
 * R, data RW), page 0 not at all, and device MMIO uncached on request.
 */
#ifndef KEEL_X86_PAGING_H
#define KEEL_X86_PAGING_H

#include <keel/bootinfo.h>

#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_U		(1ull << 2)
#define PTE_PWT		(1ull << 3)
#define PTE_PCD		(1ull << 4)
#define PTE_A		(1ull << 5)
#define PTE_D		(1ull << 6)
#define PTE_PS		(1ull << 7)
#define PTE_NX		(1ull << 63)
#define PTE_ADDR	0x000ffffffffff000ull

/* Build the final tables from @bi and switch to them (boot CPU). */
void paging_init(const struct boot_info *bi);

/* Load the final tables on a secondary CPU. */
void paging_load(void);

/* Physical address of the top-level table (below 4 GiB, for AP start-up). */
paddr_t paging_root(void);

/* Remove the mapping of one 4 KiB page (stack guard pages). */
void paging_unmap_page(paddr_t pa);

/* Map device registers uncached, read/write, no-execute. Returns the VA. */
void *paging_map_mmio(paddr_t pa, uint64_t size);

/* Map firmware tables (ACPI) read-only, cached, no-execute. Returns the VA. */
void *paging_map_firmware(paddr_t pa, uint64_t size);

#endif
