/* SPDX-License-Identifier: MIT */
/* keel/start_info.h: Keel's native boot path: the ELF notes, the start info and the memory map. */
#ifndef KEEL_PUBLIC_START_INFO_H
#define KEEL_PUBLIC_START_INFO_H

#include "abi.h"

/*
 * A Keel-native kernel is an ELF64 image with a PT_NOTE segment holding a
 * note named KEEL_ELFNOTE_NAME ("Keel", namesz 5 with the NUL) of type
 * KEEL_ELFNOTE_ENTRY whose descriptor is a struct keel_elfnote_entry.
 * An optional KEEL_ELFNOTE_ABI note (struct keel_elfnote_abi) lets a builder
 * refuse an image built for an incompatible ABI before running it.
 * docs/abi/boot.md gives the register state at entry for each mode.
 */
#define KEEL_ELFNOTE_NAME		"Keel"
#define KEEL_ELFNOTE_ENTRY		1
#define KEEL_ELFNOTE_ABI		2

/* keel_elfnote_entry.mode */
#define KEEL_ENTRY_MODE_LONG64		1	/* 64-bit mode, identity-mapped paging; RDI = start info */
#define KEEL_ENTRY_MODE_FLAT32		2	/* 32-bit flat protected mode, no paging; EBX = start info */

struct keel_elfnote_entry {
	uint64_t entry;			/* IN: guest-physical entry point */
	uint32_t mode;			/* IN: KEEL_ENTRY_MODE_* */
	uint32_t flags;			/* MBZ */
};

struct keel_elfnote_abi {
	uint16_t abi_major;		/* IN: KEEL_ABI_MAJOR the image was built for */
	uint16_t abi_minor;		/* IN */
	uint32_t pad0;			/* MBZ */
};

/*
 * Memory map entry types. 1..4 have the same meaning and value as E820.
 * KEEL_MEMTYPE_BOOT is the builder's boot data (start info and what it points
 * to, stack, page tables, GDT): RAM once the guest no longer needs it.
 * KEEL_MEMTYPE_MAP_WINDOW is kept empty for Keel mappings and is not RAM.
 */
#define KEEL_MEMTYPE_RAM		1
#define KEEL_MEMTYPE_RESERVED		2
#define KEEL_MEMTYPE_ACPI		3	/* ACPI tables; RAM once they are read */
#define KEEL_MEMTYPE_NVS		4
#define KEEL_MEMTYPE_BOOT		0x4b000001u
#define KEEL_MEMTYPE_MAP_WINDOW		0x4b000002u

/* keel_module.type */
#define KEEL_MODULE_INITRD		1
#define KEEL_MODULE_OTHER		2

/* keel_start_info.flags */
#define KEEL_SIF_ACPI			0x00000001u	/* rsdp_gpa is valid */
#define KEEL_SIF_UART			0x00000002u	/* 16550 UART emulated (keel/arch-*.h) */
#define KEEL_SIF_PLATFORM_PCI		0x00000004u	/* platform PCI device present */

#define KEEL_START_INFO_MAGIC		0x4953654bu	/* "KeSI" */
#define KEEL_START_INFO_VERSION		1

struct keel_memmap_entry {
	uint64_t base;			/* OUT: GPA, page aligned */
	uint64_t size;			/* OUT: bytes, page multiple */
	uint32_t type;			/* OUT: KEEL_MEMTYPE_* */
	uint32_t pad0;			/* OUT: zero */
};

struct keel_module {
	uint64_t base;			/* OUT: GPA, page aligned */
	uint64_t size;			/* OUT: bytes */
	uint64_t cmdline_gpa;		/* OUT: NUL-terminated string, or 0 */
	uint32_t type;			/* OUT: KEEL_MODULE_* */
	uint32_t pad0;			/* OUT: zero */
};

/*
 * Written by the builder into guest RAM of type KEEL_MEMTYPE_BOOT, with the
 * arrays and strings it points to. Fields only grow at the end (version).
 */
struct keel_start_info {
	uint32_t magic;			/* OUT: KEEL_START_INFO_MAGIC */
	uint32_t version;		/* OUT: KEEL_START_INFO_VERSION */
	uint32_t flags;			/* OUT: KEEL_SIF_* */
	uint32_t domid;			/* OUT */
	uint32_t nr_vcpus;		/* OUT */
	uint32_t nr_memmap;		/* OUT: entries at memmap_gpa, sorted, not overlapping */
	uint64_t memmap_gpa;		/* OUT: struct keel_memmap_entry[] */
	uint64_t cmdline_gpa;		/* OUT: NUL-terminated, or 0 */
	uint64_t modules_gpa;		/* OUT: struct keel_module[], or 0 */
	uint32_t nr_modules;		/* OUT */
	uint32_t tsc_khz;		/* OUT: as CPUID B+3 EAX */
	uint64_t device_table_gpa;	/* OUT: copy of the device table at boot, or 0 */
	uint32_t device_table_size;	/* OUT: bytes */
	uint32_t pad0;			/* OUT: zero */
	uint64_t rsdp_gpa;		/* OUT: ACPI RSDP if KEEL_SIF_ACPI, else 0 */
	uint64_t map_window_gpa;	/* OUT: as the device table's map-window */
	uint64_t map_window_size;	/* OUT: bytes */
	uint64_t reserved[4];		/* OUT: zero */
};

#endif /* KEEL_PUBLIC_START_INFO_H */
