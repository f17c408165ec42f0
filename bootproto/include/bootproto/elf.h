/* SPDX-License-Identifier: MIT */
/*
 * bootproto/elf.h - validating ELF32/ELF64 executable parser for guest
 * kernels, with the entry notes of docs/abi/boot.md (Keel's, and Xen's PVH
 * entry note).
 *
 * Images come from boot modules and from control domains' files, so every
 * field is checked before use: the parser never reads outside the image and
 * reports the first problem as text naming it.
 */
#ifndef BOOTPROTO_ELF_H
#define BOOTPROTO_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS	16

struct elf_segment {
	uint64_t paddr;		/* where it goes in guest-physical memory */
	uint64_t offset;	/* file offset of the bytes to copy */
	uint64_t filesz;	/* bytes to copy */
	uint64_t memsz;		/* bytes it occupies; the rest is zero */
};

struct elf_image {
	bool is64;
	uint16_t machine;	/* EM_386 (3) or EM_X86_64 (62) ... */
	uint64_t entry;
	unsigned int segment_count;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
	uint64_t lowest, highest;	/* guest-physical span of all segments */

	/* Entry notes (docs/abi/boot.md), from PT_NOTE segments. */
	bool has_keel_entry;
	uint64_t keel_entry;		/* guest-physical entry point */
	uint32_t keel_entry_mode;	/* KEEL_ENTRY_MODE_* */
	bool has_keel_abi;
	uint16_t abi_major, abi_minor;	/* the ABI the image was built for */
	bool has_pvh_entry;
	uint32_t pvh_entry;		/* Xen PVH 32-bit entry (XEN_ELFNOTE_PHYS32_ENTRY) */
};

enum elf_error {
	ELF_OK = 0,
	ELF_TRUNCATED,		/* shorter than its headers say */
	ELF_NOT_ELF,		/* no ELF magic */
	ELF_UNSUPPORTED,	/* not little-endian, not executable, bad version */
	ELF_BAD_HEADER,		/* inconsistent program header table */
	ELF_BAD_SEGMENT,	/* filesz > memsz, overflow, too many segments */
	ELF_NO_SEGMENTS,	/* nothing to load */
	ELF_BAD_NOTE,		/* a note Keel reads is malformed */
};

/* Parse and validate; on error, *why (if given) says what is wrong. */
enum elf_error elf_parse(const void *image, size_t size, struct elf_image *out,
			 const char **why);

#endif
