/* SPDX-License-Identifier: MIT */
/*
 * tools/build/build.h - the domain builder's internals: a kernel image in
 * memory, the guest's RAM ranges, the pages being composed for the guest,
 * and the boot-path interface each way of starting a kernel implements.
 */
#ifndef KEELCTL_BUILD_H
#define KEELCTL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keel/arch-x86_64.h>
#include <keel/control.h>
#include <keel/start_info.h>
#include <keelctl/keelctl.h>
#include "../config/domcfg.h"

#define BUILD_ERR_MAX		320
#define IMAGE_MAX_BYTES		(512u * 1024 * 1024)
#define RAM_RANGES_MAX		3
#define MEMMAP_MAX		16

/* A file read whole. */
struct image {
	const char *path;
	uint8_t *data;
	size_t size;
};

int image_read(const char *path, struct image *img, char *err);
void image_free(struct image *img);

/* A loadable segment and the notes of an ELF64 x86-64 executable. */
struct elf_segment {
	uint64_t paddr, filesz, memsz, offset;
};

#define ELF_SEGMENTS_MAX	32

struct elf_info {
	struct elf_segment seg[ELF_SEGMENTS_MAX];
	unsigned int nseg;
	bool has_keel_entry;
	struct keel_elfnote_entry keel_entry;
	bool has_keel_abi;
	struct keel_elfnote_abi keel_abi;
	bool has_pvh_entry;		/* Xen note 18: XEN_ELFNOTE_PHYS32_ENTRY */
	uint64_t pvh_entry;
};

/* 0, or -1 with the reason (prefixed by the path) in @err. */
int elf_parse(const struct image *img, struct elf_info *out, char *err);

/* The guest's RAM: [base, base + pages * 4 KiB) ranges, ascending. */
struct ram_range {
	uint64_t base;
	uint64_t pages;
};

struct layout {
	struct ram_range ram[RAM_RANGES_MAX];
	unsigned int nram;
	uint64_t total_pages;
};

/* RAM for @pages pages following docs/abi/boot.md's layout. */
void layout_ram(uint64_t pages, struct layout *l);
/* Whether [gpa, gpa + len) lies in one RAM range. */
bool layout_is_ram(const struct layout *l, uint64_t gpa, uint64_t len);
/* The populate extents (2 MiB where aligned); *@n set; malloc'd. */
struct keel_memory_extent *layout_extents(const struct layout *l, size_t *n);

/* Pages composed for the guest, by GFN; loaded whole with DOMAIN_LOAD. */
struct guestmem {
	uint64_t *gfns;
	uint8_t **pages;
	size_t n, cap;
	size_t last;			/* lookup hint: writes are mostly sequential */
};

int guestmem_write(struct guestmem *m, uint64_t gpa, const void *src, size_t len);
void guestmem_free(struct guestmem *m);

/* One build in progress: what every boot path reads and fills. */
struct build {
	const struct domcfg *cfg;
	const struct keel_ctl_host_info *host;
	uint32_t domid;
	uint32_t platform;		/* KEEL_DOMCREATE_F_* the domain is created with */
	struct image kernel;
	struct image ramdisk;		/* data NULL if none */
	struct elf_info elf;
	struct layout layout;
	struct guestmem mem;
	struct keel_x86_vcpu_context ctx;	/* vCPU 0's entry state */
	char err[BUILD_ERR_MAX];
};

/*
 * A way of starting a kernel (docs/abi/boot.md). probe() runs before the
 * domain exists and says whether the image is this path's (0), not (1), or
 * this path's but unusable (-1, reason in b->err); compose() lays the
 * kernel, initrd and boot structures into b->mem and sets b->ctx.
 */
struct boot_path {
	const char *name;
	uint32_t platform;		/* KEEL_DOMCREATE_F_* it needs by default */
	int (*probe)(struct build *b);
	int (*compose)(struct build *b);
};

extern const struct boot_path boot_native;
extern const struct boot_path boot_pvh;
extern const struct boot_path boot_linux;

int build_error(struct build *b, const char *fmt, ...);

#endif
