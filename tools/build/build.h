/* SPDX-License-Identifier: MIT */
/*
 * tools/build/build.h - the domain builder's internals: a kernel image in
 * memory and what it was found to be, the guest's RAM ranges, the pages
 * being composed for the guest, and the boot-path interface each way of
 * starting a kernel implements. Parsing kernels and writing Linux's boot
 * structures is bootproto's (bootproto/), the code Keel's own builder runs.
 */
#ifndef KEELCTL_BUILD_H
#define KEELCTL_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bootproto/elf.h>
#include <bootproto/x86_linux.h>
#include <keel/arch-x86_64.h>
#include <keel/control.h>
#include <keel/start_info.h>
#include <keelctl/keelctl.h>
#include "../config/domcfg.h"

#define BUILD_ERR_MAX		320
#define IMAGE_MAX_BYTES		(512u * 1024 * 1024)
#define RAM_RANGES_MAX		3
#define LAYOUT_MAX		8	/* x86_guest_layout() makes at most 5 */
#define MEMMAP_MAX		16

/* A file read whole. */
struct image {
	const char *path;
	uint8_t *data;
	size_t size;
};

int image_read(const char *path, struct image *img, char *err);
void image_free(struct image *img);

/* The ELF kernel, or the vmlinux extracted from a bzImage (bootproto's parser). */
int kernel_elf_parse(const char *path, const void *data, size_t size, struct elf_image *out,
		     char *err);

/* What the kernel file is, and for a Linux kernel how it is entered. */
struct kernel_info {
	bool is_bzimage;
	struct bzimage bz;		/* is_bzimage */
	bool pvh;			/* Linux: the PVH entry, else the 64-bit protocol */
	void *vmlinux;			/* extracted from the bzImage (malloc'd), or NULL */
	size_t vmlinux_size;
};

/* The guest's RAM: [base, base + pages * 4 KiB) ranges, ascending. */
struct ram_range {
	uint64_t base;
	uint64_t pages;
};

struct layout {
	struct ram_range ram[RAM_RANGES_MAX];
	unsigned int nram;
	uint64_t total_pages;
	struct boot_mem_range all[LAYOUT_MAX];	/* RAM and reserved ranges, sorted */
	unsigned int nall;
};

/* The layout of @pages pages of RAM: bootproto's x86_guest_layout(). */
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
	struct kernel_info kinfo;
	struct elf_image elf;		/* ELF kernels, and the vmlinux of a PVH bzImage */
	struct layout layout;
	struct guestmem mem;
	struct keel_x86_vcpu_context ctx;	/* vCPU 0's entry state */
	char err[BUILD_ERR_MAX];
};

/*
 * A way of starting a kernel (docs/abi/boot.md). probe() runs before the
 * domain exists, once b->kinfo (and b->elf for an ELF file) are known, and
 * says whether the image is this path's (0), not (1), or this path's but
 * unusable (-1, reason in b->err); compose() lays the kernel, initrd and
 * boot structures into b->mem and sets b->ctx.
 */
struct boot_path {
	const char *name;
	uint32_t platform;		/* KEEL_DOMCREATE_F_* it needs by default */
	int (*probe)(struct build *b);
	int (*compose)(struct build *b);
};

extern const struct boot_path boot_native;	/* boot_native.c: Keel entry note */
extern const struct boot_path boot_linux;	/* boot_linux.c: PVH or 64-bit protocol */

/*
 * Identify b->kernel (kernel.c): a bzImage, whose entry is chosen per the
 * configuration (extracting its vmlinux when PVH may be used, as Keel's
 * builder does), or an ELF parsed into b->elf. 0, or -1 with b->err.
 */
int kernel_identify(struct build *b);
void kernel_info_free(struct kernel_info *k);

int build_error(struct build *b, const char *fmt, ...);

#endif
