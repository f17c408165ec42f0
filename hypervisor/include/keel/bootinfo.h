/* SPDX-License-Identifier: MIT */
/*
 * keel/bootinfo.h - what the boot path hands the core, loader-independent.
 *
 * The architecture's boot code fills one struct boot_info from whatever the
 * loader gave it (Multiboot 1 or 2 on x86) and passes it to keel_main().
 */
#ifndef KEEL_BOOTINFO_H
#define KEEL_BOOTINFO_H

#include <keel/types.h>

#define BOOT_MAX_REGIONS	128
#define BOOT_MAX_MODULES	32
#define BOOT_CMDLINE_MAX	1024
#define BOOT_MODNAME_MAX	64

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_region {
	paddr_t base;
	uint64_t size;
	enum mem_type type;
};

struct boot_module {
	paddr_t base;
	uint64_t size;
	char name[BOOT_MODNAME_MAX];	/* last path component of the first word */
	const char *args;		/* the rest of its command line */
	char cmdline[BOOT_CMDLINE_MAX];
};

#define BOOT_MAX_RESERVED	(BOOT_MAX_MODULES + 16)

/* A physical range the page allocator must never hand out. */
struct mem_range {
	paddr_t base;
	uint64_t size;
	const char *what;
};

struct boot_info {
	const char *loader;		/* "Multiboot 1", "Multiboot 2 (GRUB 2.06)" ... */
	char cmdline[BOOT_CMDLINE_MAX];
	struct mem_region regions[BOOT_MAX_REGIONS];
	unsigned int region_count;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned int module_count;
	unsigned int modules_dropped;	/* more modules than BOOT_MAX_MODULES */
	paddr_t acpi_rsdp;		/* 0: search for it */
	/* In use before the allocator starts: image, loader data, modules... */
	struct mem_range reserved[BOOT_MAX_RESERVED];
	unsigned int reserved_count;
};

/* Record a range the page allocator must leave alone. */
void bootinfo_reserve(struct boot_info *bi, paddr_t base, uint64_t size,
		      const char *what);

/* Sort by base, clip overlaps (the stricter type wins), merge neighbours. */
void memmap_normalize(struct boot_info *bi);

/* Sum of usable RAM in bytes. */
uint64_t memmap_usable_bytes(const struct boot_info *bi);

/* Log a summary: one line per region and the totals. */
void memmap_log(const struct boot_info *bi);

/* Fill name/args of a module from its command line. */
void bootmod_set_cmdline(struct boot_module *mod, const char *cmdline);

/* Find a boot module by name; NULL when there is none. */
const struct boot_module *bootmod_find(const struct boot_info *bi,
				       const char *name);

#endif
