/* SPDX-License-Identifier: MIT */
/* boot/multiboot.h - turning a Multiboot 1 or 2 information block into struct boot_info. */
#ifndef KEEL_X86_MULTIBOOT_H
#define KEEL_X86_MULTIBOOT_H

#include <keel/bootinfo.h>

#define MB1_BOOTLOADER_MAGIC	0x2badb002u
#define MB2_BOOTLOADER_MAGIC	0x36d76289u

/* Make @len bytes at physical @pa readable; NULL if they cannot be. */
typedef const void *(*phys_reader)(uint64_t pa, size_t len);

/*
 * Fill @bi from the information block at physical @info, as handed over
 * with @magic, reading memory through @read. @rsdp_copy (64 zeroed bytes) receives a copy of the
 * ACPI RSDP if the loader passed one (else it stays zero). Returns false if @magic is not a
 * Multiboot magic or the block is malformed; *why then says what is wrong.
 */
bool multiboot_parse(uint32_t magic, uint64_t info, phys_reader read,
		     struct boot_info *bi,
		     uint8_t *rsdp_copy, const char **why);

#endif
