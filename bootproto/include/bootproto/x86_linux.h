/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86_linux.h - the Linux boot structures of x86 guests
 * (docs/abi/boot.md, "Guest physical layout", "PVH entry" and "Linux 64-bit
 * boot protocol"): the guest layout, the bzImage setup header, the E820
 * map, hvm_start_info and the zero page, where everything goes in guest
 * memory, and the GDT and page tables the entry states need. Pure code,
 * built both into the hypervisor and into keelctl, so that a domain is
 * built the same whichever of them builds it.
 *
 * Files (bootproto/x86/):
 *   layout.c      the guest-physical layout of a domain of N pages
 *   bzimage.c     reads and checks a bzImage's setup header
 *   e820.c        the guest's E820 map from its layout
 *   pvh.c         hvm_start_info, its module list, memory map and command line
 *   zeropage.c    boot_params (the zero page) for the 64-bit protocol
 *   linux_plan.c  placement: kernel, initrd and boot data in guest RAM
 *   linux_tables.c  the GDT and identity page tables of the Linux entries
 */
#ifndef BOOTPROTO_X86_LINUX_H
#define BOOTPROTO_X86_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bootproto/elf.h>

/* A range of guest-physical memory and its KEEL_MEMTYPE_*. */
struct boot_mem_range {
	uint64_t base;
	uint64_t size;
	uint32_t type;
};

/*
 * The guest-physical layout of a domain with @ram_pages pages of RAM
 * (docs/abi/boot.md, Keel 1.0): RAM below 640 KiB, from 1 MiB to the MMIO
 * hole at 3 GiB, the rest from 4 GiB; the map window and the local APIC
 * page. Sorted, not overlapping; writes up to @max entries and returns how
 * many there are.
 */
unsigned int x86_guest_layout(uint64_t ram_pages, struct boot_mem_range *out, unsigned int max);

/* Setup header fields (Documentation/arch/x86/boot.rst, "The real-mode kernel header"). */
#define BZ_SETUP_SECTS		0x1f1
#define BZ_BOOT_FLAG		0x1fe
#define BZ_JUMP			0x200
#define BZ_HEADER		0x202
#define BZ_VERSION		0x206
#define BZ_TYPE_OF_LOADER	0x210
#define BZ_LOADFLAGS		0x211
#define BZ_RAMDISK_IMAGE	0x218
#define BZ_RAMDISK_SIZE		0x21c
#define BZ_CMD_LINE_PTR		0x228
#define BZ_INITRD_ADDR_MAX	0x22c
#define BZ_KERNEL_ALIGNMENT	0x230
#define BZ_RELOCATABLE		0x234
#define BZ_XLOADFLAGS		0x236
#define BZ_CMDLINE_SIZE		0x238
#define BZ_PAYLOAD_OFFSET	0x248
#define BZ_PAYLOAD_LENGTH	0x24c
#define BZ_PREF_ADDRESS		0x258
#define BZ_INIT_SIZE		0x260
#define BZ_HEADER_MIN_END	0x264	/* protocol 2.12's header ends here */
#define BZ_HEADER_MAX_END	0x290	/* boot_params keeps 0x1f1..0x290 for it */

#define BZ_LOADED_HIGH		0x01
#define BZ_XLF_KERNEL_64	0x0001
#define BZ_MIN_VERSION		0x020c	/* 2.12: xloadflags */
#define BZ_ENTRY64_OFFSET	0x200	/* startup_64 in the protected-mode part */

/* Zero page fields outside the setup header. */
#define ZP_EXT_RAMDISK_IMAGE	0x0c0
#define ZP_EXT_RAMDISK_SIZE	0x0c4
#define ZP_EXT_CMD_LINE_PTR	0x0c8
#define ZP_ACPI_RSDP_ADDR	0x070
#define ZP_E820_ENTRIES		0x1e8
#define ZP_E820_TABLE		0x2d0
#define ZP_E820_MAX		128
#define ZP_SIZE			4096

/* What Keel uses of a bzImage. */
struct bzimage {
	uint16_t version;		/* boot protocol, 0x20f = 2.15 */
	uint16_t xloadflags;
	uint64_t pm_offset;		/* protected-mode part: file offset ... */
	uint64_t pm_size;		/* ... and length (to the end of the file) */
	uint64_t payload_offset;	/* compressed vmlinux: file offset ... */
	uint64_t payload_size;		/* ... and length */
	uint64_t pref_address;		/* where the protected-mode part wants to be */
	uint64_t init_size;		/* RAM it needs from there */
	uint64_t alignment;		/* kernel_alignment */
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint64_t initrd_max;		/* highest address an initrd byte may have */
	size_t header_end;		/* the setup header is [0x1f1, header_end) */
};

/*
 * Read @data as a bzImage. Returns 1 (usable, @bz filled), 0 (not a bzImage:
 * no "HdrS" magic) or -1 (a bzImage Keel cannot boot; *@why says why).
 */
int bzimage_parse(const void *data, size_t size, struct bzimage *bz, const char **why);

/* E820 types (ACPI 6.4, 15.1). */
#define E820_RAM		1
#define E820_RESERVED		2

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * The E820 map of a domain with @layout (x86_guest_layout()) and
 * KEEL_DOMCREATE_F_* @platform: RAM (builder data included) as RAM, the map
 * window, firmware area (with ACPI), IOAPIC (with ACPI) and local APIC as
 * reserved; sorted, not overlapping. Returns the count, or 0 if more than
 * @max would be needed.
 */
unsigned int e820_build(const struct boot_mem_range *layout, unsigned int count,
			uint32_t platform, struct e820_entry *out, unsigned int max);

/* Where a Linux domain's pieces go (linux_plan.c). */
#define LINUX_BOOT_AREA		0x1000ull	/* zero page or hvm_start_info */
#define LINUX_CMDLINE_GPA	0x2000ull	/* the command line, one page */
#define LINUX_TABLES_GPA	0x3000ull	/* GDT, then page tables (64-bit) */
#define LINUX_TABLES_PAGES	7		/* GDT, PML4, PDPT, 4 directories */
#define LINUX_CMDLINE_MAX	2047		/* PVH: Linux's COMMAND_LINE_SIZE - 1 */

struct linux_plan_in {
	bool pvh;
	const struct bzimage *bz;		/* 64-bit protocol */
	const struct elf_image *elf;		/* PVH */
	uint64_t initrd_size;			/* 0: none */
	size_t cmdline_len;			/* without the NUL */
	const struct boot_mem_range *layout;
	unsigned int layout_count;
};

struct linux_plan {
	uint64_t kernel_base, kernel_end;	/* RAM the kernel owns */
	uint64_t entry;
	uint64_t initrd_gpa;			/* 0: none */
	uint64_t need_end;			/* set when the RAM is too small */
};

/*
 * Place the kernel (the bzImage's protected-mode part at pref_address with
 * init_size of RAM, or the vmlinux segments at their p_paddr), the initrd
 * (page-aligned, as high as RAM and the kernel's limits allow, clear of the
 * kernel) and check the boot data area and the command line length.
 * Returns NULL, or why the domain cannot boot (*@out.need_end says how far
 * RAM must reach when that is the reason).
 */
const char *linux_plan(const struct linux_plan_in *in, struct linux_plan *out);

/* hvm_start_info (version 1) and its arrays, in one page (pvh.c). */
#define PVH_START_MAGIC		0x336ec578u
#define PVH_MODLIST_OFFSET	64
#define PVH_MEMMAP_OFFSET	128
#define PVH_MEMMAP_MAX		((4096 - PVH_MEMMAP_OFFSET) / 24)

/*
 * Fill the page @page (4096 bytes) that will sit at guest-physical @gpa:
 * the start info, a one-entry module list when @initrd_size, and the memory
 * map @map (@count entries, at most PVH_MEMMAP_MAX). The command line is at
 * @cmdline_gpa; @rsdp_gpa is 0 without ACPI. Returns false if @count is too
 * large.
 */
bool pvh_build(uint8_t *page, uint64_t gpa, const struct e820_entry *map, unsigned int count,
	       uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size,
	       uint64_t rsdp_gpa);

/*
 * Fill the zero page @zp (ZP_SIZE bytes) for a bzImage @image: its setup
 * header, loader id, LOADED_HIGH, initrd, command line, RSDP and E820 map.
 * Returns false if @count exceeds ZP_E820_MAX.
 */
bool zeropage_build(uint8_t *zp, const uint8_t *image, const struct bzimage *bz,
		    const struct e820_entry *map, unsigned int count, uint64_t cmdline_gpa,
		    uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa);


/*
 * The Linux entries' descriptor tables and page tables (linux_tables.c),
 * written at LINUX_TABLES_GPA:
 *   PVH      one page: a GDT with a flat 32-bit code segment at 0x08 and a
 *            flat data segment at 0x10;
 *   64-bit   a GDT with a flat 64-bit code segment at 0x10 and a flat data
 *            segment at 0x18, then a PML4, one PDPT and four page
 *            directories identity-mapping [0, 4 GiB) with 2 MiB pages.
 * GDT_* are the descriptors, SEG_ATTR_* the same segments in the VMCB
 * attribute layout of keel/arch-x86_64.h.
 */
#define GDT_DESC_CODE64		0x00af9b000000ffffull
#define GDT_DESC_CODE32		0x00cf9b000000ffffull
#define GDT_DESC_DATA		0x00cf93000000ffffull
#define SEG_ATTR_CODE64		0xa9b	/* P, S, code exec/read accessed, L, G */
#define SEG_ATTR_CODE32		0xc9b	/* P, S, code exec/read accessed, D, G */
#define SEG_ATTR_DATA		0xc93	/* P, S, data read/write accessed, D/B, G */
#define SEG_ATTR_TSS_BUSY	0x08b	/* the reset TR: busy TSS, base 0, limit 0x67 */
#define SEG_ATTR_LDT		0x082	/* the reset LDTR */

#define LINUX_PVH_CS		0x08
#define LINUX_PVH_DS		0x10
#define LINUX64_CS		0x10
#define LINUX64_DS		0x18

/* Bytes the tables take (at most LINUX_TABLES_PAGES pages). */
size_t linux_tables_size(bool pvh);
/* The GDT's limit (its size in bytes minus one). */
uint16_t linux_tables_gdt_limit(bool pvh);
/*
 * Fill @buf (linux_tables_size(@pvh) bytes) with the tables as they sit at
 * guest-physical LINUX_TABLES_GPA. 64-bit: returns the GPA of the PML4
 * (CR3); PVH: 0.
 */
uint64_t linux_tables_build(uint8_t *buf, bool pvh);

#endif
