/* SPDX-License-Identifier: MIT */
/*
 * core/kernel_image.c - identifies a domain's kernel (Keel, PVH or Linux,
 * plain or gzip-wrapped) and extracts the vmlinux from a Linux image for the
 * PVH entry. Nothing in the image is trusted: the arch checks the Linux
 * header, the decompressor bounds its output by the image's own init_size,
 * and the vmlinux goes through the same ELF parser as any other kernel.
 */
#include <keel/format.h>
#include <keel/heap.h>
#include <keel/kernel_image.h>
#include <keel/string.h>

#define NOT_A_KERNEL	"not a Keel, PVH or Linux bzImage kernel"

const char *kernel_kind_name(enum kernel_kind kind)
{
	switch (kind) {
	case KERNEL_KEEL:
		return "Keel";
	case KERNEL_PVH:
		return "PVH";
	case KERNEL_LINUX:
		return "Linux bzImage";
	default:
		return "unknown";
	}
}

static bool refuse(struct kernel_image *k, const char *detail)
{
	format(k->why, sizeof(k->why), NOT_A_KERNEL " (%s)", detail);
	return false;
}

static bool classify_elf(struct kernel_image *k)
{
	const char *why = NULL;

	if (elf_parse(k->file.data, k->file.size, &k->elf, &why) != ELF_OK) {
		format(k->why, sizeof(k->why), "not a usable ELF image: %s", why ? why : "?");
		return false;
	}
	if (k->elf.has_keel_entry) {
		k->kind = KERNEL_KEEL;
	} else if (k->elf.has_pvh_entry) {
		k->kind = KERNEL_PVH;
	} else {
		return refuse(k, "an ELF file with neither a Keel nor a PVH entry note");
	}
	return true;
}

static bool classify(struct kernel_image *k)
{
	const uint8_t *p = k->file.data;
	const char *why = NULL;
	int rc;

	if (k->file.size >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F') {
		return classify_elf(k);
	}
	rc = arch_linux_image_parse(k->file.data, k->file.size, &k->linux_img, &why);
	if (rc > 0) {
		k->kind = KERNEL_LINUX;
		k->payload_format = decompress_detect(p + k->linux_img.payload_offset,
						      k->linux_img.payload_size);
		return true;
	}
	if (rc < 0) {
		return refuse(k, why ? why : "an unusable Linux image");
	}
	switch (decompress_detect(p, k->file.size)) {
	case DECOMPRESS_XZ:
	case DECOMPRESS_ZSTD:
		return refuse(k, "an xz or zstd file: only gzip-wrapped kernels are inflated");
	default:
		return refuse(k, "neither ELF magic nor a Linux boot header");
	}
}

bool kernel_image_open(const void *data, size_t size, struct kernel_image *k)
{
	const char *why = NULL;

	memset(k, 0, sizeof(*k));
	if (!image_open(data, size, &k->file, &why)) {
		format(k->why, sizeof(k->why), "%s", why ? why : "unreadable image");
		return false;
	}
	if (!classify(k)) {
		image_close(&k->file);
		return false;
	}
	return true;
}

bool kernel_image_can_extract(const struct kernel_image *k)
{
	return k->kind == KERNEL_LINUX && k->payload_format != DECOMPRESS_UNKNOWN;
}

bool kernel_image_extract(struct kernel_image *k)
{
	const uint8_t *payload = (const uint8_t *)k->file.data + k->linux_img.payload_offset;
	const char *why;

	if (!kernel_image_can_extract(k)) {
		format(k->why, sizeof(k->why), "its compressed kernel is not gzip, xz or zstd "
		       "(the only formats Keel extracts)");
		return false;
	}
	why = decompress(payload, k->linux_img.payload_size, k->linux_img.vmlinux_max,
			 &k->vmlinux, &k->vmlinux_size);
	if (why) {
		format(k->why, sizeof(k->why), "its compressed kernel cannot be extracted: %s", why);
		return false;
	}
	if (elf_parse(k->vmlinux, k->vmlinux_size, &k->elf, &why) != ELF_OK) {
		format(k->why, sizeof(k->why), "the vmlinux inside is not a usable ELF image: %s",
		       why ? why : "?");
		heap_free(k->vmlinux);
		k->vmlinux = NULL;
		k->vmlinux_size = 0;
		return false;
	}
	return true;
}

void kernel_image_close(struct kernel_image *k)
{
	heap_free(k->vmlinux);
	k->vmlinux = NULL;
	k->vmlinux_size = 0;
	image_close(&k->file);
}
