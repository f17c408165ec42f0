/* SPDX-License-Identifier: MIT */
/*
 * x86/linux_boot.h - the Linux boot structures Keel writes for x86 guests
 * (docs/abi/boot.md, "PVH entry" and "Linux 64-bit boot protocol"). The
 * formats and the placement are bootproto's (bootproto/x86_linux.h, shared
 * with keelctl); guest_boot/linux_boot.c (arch_linux_boot()) copies them
 * into a domain and sets vCPU 0.
 */
#ifndef KEEL_X86_LINUX_BOOT_H
#define KEEL_X86_LINUX_BOOT_H

#include <arch/arch.h>
#include <bootproto/x86_linux.h>
#include <keel/types.h>

/* arch_boot_entry modes private to x86, beside KEEL_ENTRY_MODE_*. */
#define X86_ENTRY_PVH		0x100	/* 32-bit flat, paging off, 32-bit TSS; EBX */
#define X86_ENTRY_LINUX64	0x101	/* 64-bit, GDT 0x10 code / 0x18 data; RSI */

#endif
