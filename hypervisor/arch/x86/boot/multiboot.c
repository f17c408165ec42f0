/* SPDX-License-Identifier: MIT */
/*
 * boot/multiboot.c - reads Multiboot 1 and 2 information into struct boot_info.
 *
 * Everything Keel needs later (command lines, memory map, RSDP) is copied
 * out, so the loader's block need not be kept. Lengths and counts from the
 * loader are checked before use: a broken loader gets an error, not a fault.
 */
#include <keel/string.h>
#include "multiboot.h"

#define MB1_FLAG_CMDLINE	(1u << 2)
#define MB1_FLAG_MODS		(1u << 3)
#define MB1_FLAG_MMAP		(1u << 6)
#define MB1_FLAG_LOADER_NAME	(1u << 9)

#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER_NAME	2
#define MB2_TAG_MODULE		3
#define MB2_TAG_MMAP		6
#define MB2_TAG_ACPI_OLD	14
#define MB2_TAG_ACPI_NEW	15
#define MB2_INFO_MAX		(1u << 20)	/* sanity bound on total_size */

#define RSDP_COPY_MAX		64

static char loader_name[64];

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Copy a NUL-terminated string at @pa, at most @size - 1 bytes. */
static void copy_string(phys_reader read, uint64_t pa, char *dst, size_t size)
{
	size_t n = 0;

	for (; n + 1 < size; n++) {
		const char *c = read(pa + n, 1);

		if (!c || !*c) {
			break;
		}
		dst[n] = *c;
	}
	dst[n] = '\0';
}

static void add_module(struct boot_info *bi, uint64_t start, uint64_t end,
		       const char *cmdline)
{
	struct boot_module *m;

	if (end < start || bi->module_count == BOOT_MAX_MODULES) {
		bi->modules_dropped++;
		return;
	}
	m = &bi->modules[bi->module_count++];
	m->base = start;
	m->size = end - start;
	bootmod_set_cmdline(m, cmdline);
}

static void add_region(struct boot_info *bi, uint64_t base, uint64_t len,
		       uint32_t type)
{
	if (bi->region_count == BOOT_MAX_REGIONS || len == 0) {
		return;
	}
	/* Multiboot types 1-5 match enum mem_type; anything else is reserved. */
	bi->regions[bi->region_count++] = (struct mem_region){
		base, len, (type >= 1 && type <= 5) ? (enum mem_type)type : MEM_RESERVED
	};
}

static bool mb1_parse(uint64_t info, phys_reader read, struct boot_info *bi,
		      const char **why)
{
	const uint8_t *h = read(info, 88);
	uint32_t flags;
	char cmd[BOOT_CMDLINE_MAX];

	if (!h) {
		*why = "Multiboot 1 information block is not readable";
		return false;
	}
	flags = rd32(h);
	bi->loader = "Multiboot 1";
	if (flags & MB1_FLAG_LOADER_NAME) {
		copy_string(read, rd32(h + 64), loader_name, sizeof(loader_name));
		bi->loader = loader_name;
	}
	if (flags & MB1_FLAG_CMDLINE) {
		copy_string(read, rd32(h + 16), bi->cmdline, sizeof(bi->cmdline));
	}
	if (flags & MB1_FLAG_MODS) {
		uint32_t count = rd32(h + 20), addr = rd32(h + 24);

		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *m = read(addr + (uint64_t)i * 16, 16);

			if (!m) {
				*why = "Multiboot 1 module list is not readable";
				return false;
			}
			copy_string(read, rd32(m + 8), cmd, sizeof(cmd));
			add_module(bi, rd32(m), rd32(m + 4), cmd);
		}
	}
	if (!(flags & MB1_FLAG_MMAP)) {
		*why = "the loader passed no memory map (Multiboot 1 flag 6)";
		return false;
	}
	for (uint64_t p = rd32(h + 48), end = p + rd32(h + 44); p + 24 <= end;) {
		const uint8_t *e = read(p, 24);
		uint32_t size;

		if (!e) {
			*why = "Multiboot 1 memory map is not readable";
			return false;
		}
		size = rd32(e);
		if (size < 20) {
			*why = "Multiboot 1 memory map entry too small";
			return false;
		}
		add_region(bi, rd64(e + 4), rd64(e + 12), rd32(e + 20));
		p += (uint64_t)size + 4;
	}
	return true;
}

static bool mb2_tag(uint32_t type, const uint8_t *t, uint32_t size,
		    phys_reader read, uint64_t pa, struct boot_info *bi,
		    uint8_t *rsdp_copy, const char **why)
{
	char cmd[BOOT_CMDLINE_MAX];

	switch (type) {
	case MB2_TAG_CMDLINE:
		copy_string(read, pa + 8, bi->cmdline, sizeof(bi->cmdline));
		break;
	case MB2_TAG_LOADER_NAME:
		copy_string(read, pa + 8, loader_name, sizeof(loader_name));
		bi->loader = loader_name;
		break;
	case MB2_TAG_MODULE:
		if (size < 16) {
			*why = "Multiboot 2 module tag too small";
			return false;
		}
		copy_string(read, pa + 16, cmd, sizeof(cmd));
		add_module(bi, rd32(t + 8), rd32(t + 12), cmd);
		break;
	case MB2_TAG_MMAP: {
		uint32_t esize = size >= 16 ? rd32(t + 8) : 0;

		if (size < 16 || esize < 24) {
			*why = "Multiboot 2 memory map tag malformed";
			return false;
		}
		/* Written so that a huge esize cannot wrap the sum around. */
		for (uint32_t off = 16; esize <= size - off; off += esize) {
			add_region(bi, rd64(t + off), rd64(t + off + 8), rd32(t + off + 16));
		}
		break;
	}
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		/* Prefer the ACPI 2.0+ copy when both are present. */
		if (size > 8 && (type == MB2_TAG_ACPI_NEW || rsdp_copy[0] == 0)) {
			memcpy(rsdp_copy, t + 8, MIN(size - 8, (uint32_t)RSDP_COPY_MAX));
		}
		break;
	default:
		break;
	}
	return true;
}

static bool mb2_parse(uint64_t info, phys_reader read, struct boot_info *bi,
		      uint8_t *rsdp_copy, const char **why)
{
	const uint8_t *h = read(info, 8);
	uint32_t total;
	bool have_mmap = false;

	if (!h) {
		*why = "Multiboot 2 information block is not readable";
		return false;
	}
	total = rd32(h);
	if (total < 16 || total > MB2_INFO_MAX) {
		*why = "Multiboot 2 information block has an implausible size";
		return false;
	}
	bi->loader = "Multiboot 2";
	for (uint32_t off = 8; off + 8 <= total;) {
		const uint8_t *t = read(info + off, 8);
		uint32_t type, size;

		if (!t) {
			*why = "Multiboot 2 tag is not readable";
			return false;
		}
		type = rd32(t);
		size = rd32(t + 4);
		if (type == MB2_TAG_END) {
			return have_mmap ? true : (*why = "the loader passed no memory map", false);
		}
		if (size < 8 || size > total - off || !(t = read(info + off, size))) {
			*why = "Multiboot 2 tag runs past the information block";
			return false;
		}
		have_mmap |= (type == MB2_TAG_MMAP);
		if (!mb2_tag(type, t, size, read, info + off, bi, rsdp_copy, why)) {
			return false;
		}
		off += ALIGN_UP(size, 8u);
	}
	*why = "Multiboot 2 information block has no end tag";
	return false;
}

bool multiboot_parse(uint32_t magic, uint64_t info, phys_reader read,
		     struct boot_info *bi, uint8_t *rsdp_copy, const char **why)
{
	if (magic == MB1_BOOTLOADER_MAGIC) {
		return mb1_parse(info, read, bi, why);
	}
	if (magic == MB2_BOOTLOADER_MAGIC) {
		return mb2_parse(info, read, bi, rsdp_copy, why);
	}
	*why = "not started by a Multiboot loader (bad magic in EAX)";
	return false;
}
