/* SPDX-License-Identifier: MIT */
/* x86/layout.h - segment selectors, stack sizes and fixed low-memory addresses. */
#ifndef KEEL_X86_LAYOUT_H
#define KEEL_X86_LAYOUT_H

/* Selectors of both the boot GDT and the per-CPU GDTs. */
#define BOOT_CS64		0x08
#define BOOT_DS			0x10
#define BOOT_CS32		0x18
#define GDT_TSS			0x20	/* 16-byte TSS descriptor */

#define BOOT_STACK_SIZE		16384
#define CPU_STACK_SIZE		16384	/* each CPU's main stack */
#define IST_STACK_SIZE		8192	/* double fault, NMI, machine check */

/* Where the AP start-up code is copied: below 1 MiB, as SIPI requires. */
#define AP_TRAMPOLINE_PA	0x8000

#endif
