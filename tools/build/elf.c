/* SPDX-License-Identifier: MIT */
/*
 * tools/build/elf.c - reading an ELF64 little-endian x86-64 executable: its
 * PT_LOAD segments and the notes the boot paths look for (Keel's entry and
 * ABI notes, Xen's PVH entry note). Every offset and size in the file is
 * checked against the file before it is used.
 */
#include <stdio.h>
#include <string.h>
#include "build.h"

#define EHDR_SIZE	64
#define PHDR_SIZE	56
#define PT_LOAD		1
#define PT_NOTE		4
#define EM_X86_64	62
#define ET_EXEC		2
#define XEN_NOTE_PHYS32_ENTRY	18

static uint64_t rd(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

static int elf_error(const struct image *img, char *err, const char *what)
{
	snprintf(err, BUILD_ERR_MAX, "%s: %s", img->path, what);
	return -1;
}

static bool in_file(const struct image *img, uint64_t off, uint64_t len)
{
	return off <= img->size && len <= img->size - off;
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

static void take_note(struct elf_info *out, const char *name, uint32_t namesz, uint32_t type,
		      const uint8_t *desc, uint32_t descsz)
{
	if (namesz == 5 && memcmp(name, KEEL_ELFNOTE_NAME, 5) == 0) {
		if (type == KEEL_ELFNOTE_ENTRY && descsz == sizeof(out->keel_entry)) {
			out->has_keel_entry = true;
			out->keel_entry.entry = rd(desc, 8);
			out->keel_entry.mode = (uint32_t)rd(desc + 8, 4);
			out->keel_entry.flags = (uint32_t)rd(desc + 12, 4);
		} else if (type == KEEL_ELFNOTE_ABI && descsz == sizeof(out->keel_abi)) {
			out->has_keel_abi = true;
			out->keel_abi.abi_major = (uint16_t)rd(desc, 2);
			out->keel_abi.abi_minor = (uint16_t)rd(desc + 2, 2);
		}
	} else if (namesz == 4 && memcmp(name, "Xen", 4) == 0 && type == XEN_NOTE_PHYS32_ENTRY &&
		   (descsz == 4 || descsz == 8)) {
		out->has_pvh_entry = true;
		out->pvh_entry = rd(desc, descsz);
	}
}

static int parse_notes(const struct image *img, uint64_t off, uint64_t size, struct elf_info *out,
		       char *err)
{
	uint64_t end = off + size;

	while (off + 12 <= end) {
		const uint8_t *h = img->data + off;
		uint32_t namesz = (uint32_t)rd(h, 4), descsz = (uint32_t)rd(h + 4, 4);
		uint32_t type = (uint32_t)rd(h + 8, 4);
		uint64_t name_off = off + 12, desc_off = name_off + align4(namesz);

		if (desc_off > end || align4(descsz) > end - desc_off) {
			return elf_error(img, err, "malformed ELF note");
		}
		take_note(out, (const char *)img->data + name_off, namesz, type,
			  img->data + desc_off, descsz);
		off = desc_off + align4(descsz);
	}
	return 0;
}

static int parse_phdr(const struct image *img, const uint8_t *ph, struct elf_info *out, char *err)
{
	uint32_t type = (uint32_t)rd(ph, 4);
	uint64_t offset = rd(ph + 8, 8), paddr = rd(ph + 24, 8);
	uint64_t filesz = rd(ph + 32, 8), memsz = rd(ph + 40, 8);

	if (type == PT_NOTE) {
		if (!in_file(img, offset, filesz)) {
			return elf_error(img, err, "note segment outside the file");
		}
		return parse_notes(img, offset, filesz, out, err);
	}
	if (type != PT_LOAD || memsz == 0) {
		return 0;
	}
	if (!in_file(img, offset, filesz) || filesz > memsz || paddr + memsz < paddr) {
		return elf_error(img, err, "loadable segment outside the file or overflowing");
	}
	if (out->nseg == ELF_SEGMENTS_MAX) {
		return elf_error(img, err, "too many loadable segments");
	}
	out->seg[out->nseg++] = (struct elf_segment){ paddr, filesz, memsz, offset };
	return 0;
}

int elf_parse(const struct image *img, struct elf_info *out, char *err)
{
	const uint8_t *e = img->data;
	uint64_t phoff;
	unsigned int phnum, phentsize;

	memset(out, 0, sizeof(*out));
	if (img->size < EHDR_SIZE || memcmp(e, "\177ELF", 4) != 0) {
		return elf_error(img, err, "not an ELF file");
	}
	if (e[4] != 2 || e[5] != 1 || rd(e + 18, 2) != EM_X86_64) {
		return elf_error(img, err, "not a 64-bit little-endian x86-64 ELF");
	}
	if (rd(e + 16, 2) != ET_EXEC) {
		return elf_error(img, err, "not an ELF executable");
	}
	phoff = rd(e + 32, 8);
	phentsize = (unsigned int)rd(e + 54, 2);
	phnum = (unsigned int)rd(e + 56, 2);
	if (phentsize < PHDR_SIZE || !in_file(img, phoff, (uint64_t)phnum * phentsize)) {
		return elf_error(img, err, "program headers outside the file");
	}
	for (unsigned int i = 0; i < phnum; i++) {
		if (parse_phdr(img, e + phoff + (uint64_t)i * phentsize, out, err) != 0) {
			return -1;
		}
	}
	if (out->nseg == 0) {
		return elf_error(img, err, "no loadable segment");
	}
	return 0;
}
