/* SPDX-License-Identifier: MIT */
/*
 * keel/kernel_image.h - a domain's kernel as the builder sees it: which kind
 * it is (Keel-native ELF, PVH ELF, or the architecture's Linux image) and,
 * for a Linux image, the vmlinux extracted from it.
 *
 * Kinds, as docs/abi/boot.md defines them:
 *   KERNEL_KEEL   ELF with a Keel entry note ("Keel native entry")
 *   KERNEL_PVH    ELF with the Xen PVH entry note, no Keel note ("PVH entry")
 *   KERNEL_LINUX  a Linux image (x86: bzImage, protocol 2.12+, 64-bit),
 *                 booted by PVH from its vmlinux or by its own protocol
 * Each may come gzip-wrapped (kernel.gz). Anything else is refused with a
 * reason in k->why.
 */
#ifndef KEEL_KERNEL_IMAGE_H
#define KEEL_KERNEL_IMAGE_H

#include <arch/arch.h>
#include <keel/decompress.h>
#include <keel/elf.h>
#include <keel/image.h>
#include <keel/types.h>

enum kernel_kind {
	KERNEL_KEEL = 1,
	KERNEL_PVH,
	KERNEL_LINUX,
};

struct kernel_image {
	struct image file;			/* the module, inflated if it was gzip */
	enum kernel_kind kind;
	struct elf_image elf;			/* KEEL, PVH; LINUX once extracted */
	struct arch_linux_image linux_img;	/* LINUX */
	enum decompress_format payload_format;	/* LINUX: its compressed vmlinux */
	void *vmlinux;				/* LINUX: extracted, heap */
	size_t vmlinux_size;
	char why[160];				/* the last failure */
};

/*
 * Identify the module at @data/@size. Returns false with @k->why set (and
 * nothing held) for anything that is not a bootable kernel.
 */
bool kernel_image_open(const void *data, size_t size, struct kernel_image *k);

/*
 * KERNEL_LINUX: decompress the vmlinux into @k->vmlinux (bounded by the
 * image's vmlinux_max) and parse it into @k->elf. Returns false with
 * @k->why for an unsupported, truncated or corrupt payload or vmlinux.
 */
bool kernel_image_extract(struct kernel_image *k);

/* Whether extraction can work: the payload is gzip, xz or zstd. */
bool kernel_image_can_extract(const struct kernel_image *k);

/* Free what open and extract allocated. */
void kernel_image_close(struct kernel_image *k);

/* "Keel", "PVH" or "Linux bzImage". */
const char *kernel_kind_name(enum kernel_kind kind);

#endif
