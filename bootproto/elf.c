/* SPDX-License-Identifier: MIT */
/* bootproto/elf.c - parses and validates ELF executables without trusting them. */
#include <bootproto/elf.h>
#include <keel/start_info.h>
#include "internal.h"

#define PT_LOAD		1
#define PT_NOTE		4
#define ET_EXEC		2

/* Xen's PVH entry note, which stock Linux and FreeBSD kernels carry. */
#define XEN_NOTE_NAME		"Xen"
#define XEN_ELFNOTE_PHYS32_ENTRY	18

static enum elf_error fail(const char **why, const char *msg, enum elf_error e)
{
	if (why) {
		*why = msg;
	}
	return e;
}

static enum elf_error add_segment(struct elf_image *img, const uint8_t *ph,
				  size_t size, const char **why)
{
	bool w = img->is64;
	uint64_t offset = bp_rd(ph + (w ? 8 : 4), w ? 8 : 4);
	uint64_t paddr = bp_rd(ph + (w ? 24 : 12), w ? 8 : 4);
	uint64_t filesz = bp_rd(ph + (w ? 32 : 16), w ? 8 : 4);
	uint64_t memsz = bp_rd(ph + (w ? 40 : 20), w ? 8 : 4);
	struct elf_segment *seg;

	if (filesz > memsz) {
		return fail(why, "a segment's file size exceeds its memory size", ELF_BAD_SEGMENT);
	}
	if (offset > size || filesz > size - offset) {
		return fail(why, "truncated: a segment extends past the end of the image",
			    ELF_TRUNCATED);
	}
	if (paddr + memsz < paddr) {
		return fail(why, "a segment wraps around the address space", ELF_BAD_SEGMENT);
	}
	if (memsz == 0) {
		return ELF_OK;
	}
	if (img->segment_count == ELF_MAX_SEGMENTS) {
		return fail(why, "too many loadable segments", ELF_BAD_SEGMENT);
	}
	seg = &img->segments[img->segment_count++];
	*seg = (struct elf_segment){ paddr, offset, filesz, memsz };
	img->lowest = BP_MIN(img->lowest, paddr);
	img->highest = BP_MAX(img->highest, paddr + memsz);
	return ELF_OK;
}

static bool name_is(const uint8_t *name, uint32_t namesz, const char *want)
{
	size_t len = bp_strlen(want);

	return namesz == len + 1 && bp_memcmp(name, want, len) == 0 && name[len] == '\0';
}

/* Read the notes Keel knows from one note's name, type and descriptor. */
static enum elf_error read_note(struct elf_image *img, const uint8_t *name,
				uint32_t namesz, uint32_t type, const uint8_t *desc,
				uint32_t descsz, const char **why)
{
	if (name_is(name, namesz, KEEL_ELFNOTE_NAME) && type == KEEL_ELFNOTE_ENTRY) {
		if (descsz != 16 || bp_rd(desc + 12, 4) != 0) {
			return fail(why, "malformed Keel entry note", ELF_BAD_NOTE);
		}
		img->has_keel_entry = true;
		img->keel_entry = bp_rd(desc, 8);
		img->keel_entry_mode = (uint32_t)bp_rd(desc + 8, 4);
	} else if (name_is(name, namesz, KEEL_ELFNOTE_NAME) && type == KEEL_ELFNOTE_ABI) {
		if (descsz != 8 || bp_rd(desc + 4, 4) != 0) {
			return fail(why, "malformed Keel ABI note", ELF_BAD_NOTE);
		}
		img->has_keel_abi = true;
		img->abi_major = (uint16_t)bp_rd(desc, 2);
		img->abi_minor = (uint16_t)bp_rd(desc + 2, 2);
	} else if (name_is(name, namesz, XEN_NOTE_NAME) && type == XEN_ELFNOTE_PHYS32_ENTRY) {
		/* A 64-bit value must still be a 32-bit entry point. */
		if ((descsz != 4 && descsz != 8) || (descsz == 8 && bp_rd(desc + 4, 4) != 0)) {
			return fail(why, "malformed PVH entry note", ELF_BAD_NOTE);
		}
		img->has_pvh_entry = true;
		img->pvh_entry = (uint32_t)bp_rd(desc, 4);
	}
	return ELF_OK;
}

/* Walk the notes in [offset, offset + size), 4-byte aligned as in ELF. */
static enum elf_error read_notes(struct elf_image *img, const uint8_t *p,
				 size_t size, uint64_t offset, uint64_t len,
				 const char **why)
{
	enum elf_error e;

	if (offset > size || len > size - offset) {
		return fail(why, "truncated: a note segment extends past the end", ELF_TRUNCATED);
	}
	while (len >= 12) {
		const uint8_t *n = p + offset;
		uint64_t namesz = bp_rd(n, 4), descsz = bp_rd(n + 4, 4);
		uint64_t name_len = ((namesz + 3) & ~3ull), desc_len = ((descsz + 3) & ~3ull);

		if (name_len > len - 12 || desc_len > len - 12 - name_len) {
			return fail(why, "malformed note: sizes exceed the note segment", ELF_BAD_NOTE);
		}
		e = read_note(img, n + 12, (uint32_t)namesz, (uint32_t)bp_rd(n + 8, 4),
			      n + 12 + name_len, (uint32_t)descsz, why);
		if (e != ELF_OK) {
			return e;
		}
		offset += 12 + name_len + desc_len;
		len -= 12 + name_len + desc_len;
	}
	return ELF_OK;
}

enum elf_error elf_parse(const void *image, size_t size, struct elf_image *out,
			 const char **why)
{
	const uint8_t *p = image;
	uint64_t phoff, phentsize, phnum;
	enum elf_error e;
	bool w;

	bp_memset(out, 0, sizeof(*out));
	out->lowest = UINT64_MAX;
	if (size < 16) {
		return fail(why, "truncated: shorter than an ELF identification", ELF_TRUNCATED);
	}
	if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F') {
		return fail(why, "not an ELF file (bad magic)", ELF_NOT_ELF);
	}
	if ((p[4] != 1 && p[4] != 2) || p[5] != 1 || p[6] != 1) {
		return fail(why, "unsupported ELF class, byte order or version", ELF_UNSUPPORTED);
	}
	w = out->is64 = (p[4] == 2);
	if (size < (w ? 64u : 52u)) {
		return fail(why, "truncated: shorter than its ELF header", ELF_TRUNCATED);
	}
	if (bp_rd(p + 16, 2) != ET_EXEC) {
		return fail(why, "not an executable (ELF type is not EXEC)", ELF_UNSUPPORTED);
	}
	out->machine = (uint16_t)bp_rd(p + 18, 2);
	out->entry = bp_rd(p + 24, w ? 8 : 4);
	phoff = bp_rd(p + (w ? 32 : 28), w ? 8 : 4);
	phentsize = bp_rd(p + (w ? 54 : 42), 2);
	phnum = bp_rd(p + (w ? 56 : 44), 2);
	if (phentsize < (w ? 56u : 32u) || phnum == 0) {
		return fail(why, "bad program header table", ELF_BAD_HEADER);
	}
	if (phoff > size || phnum * phentsize > size - phoff) {
		return fail(why, "truncated: program headers extend past the end", ELF_TRUNCATED);
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + i * phentsize;
		uint64_t type = bp_rd(ph, 4);

		if (type == PT_NOTE) {
			e = read_notes(out, p, size, bp_rd(ph + (w ? 8 : 4), w ? 8 : 4),
				       bp_rd(ph + (w ? 32 : 16), w ? 8 : 4), why);
		} else if (type == PT_LOAD) {
			e = add_segment(out, ph, size, why);
		} else {
			continue;
		}
		if (e != ELF_OK) {
			return e;
		}
	}
	if (out->segment_count == 0) {
		return fail(why, "no loadable segments", ELF_NO_SEGMENTS);
	}
	return ELF_OK;
}
