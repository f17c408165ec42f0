/* SPDX-License-Identifier: MIT */
/*
 * boot/ap_trampoline.S - start-up code for secondary CPUs.
 *
 * Copied to AP_TRAMPOLINE_PA (below 1 MiB) before each SIPI. The CPU starts
 * here in real mode, goes through protected mode into long mode on the boot
 * page tables (which map the first 4 GiB), then jumps to ap_entry64 in the
 * image with its stack and struct percpu taken from the parameter block at
 * the end, which smp.c fills in.
 */
#include <x86/layout.h>

#define REL(x)	(AP_TRAMPOLINE_PA + ((x) - ap_trampoline))

	.section .ap_trampoline, "a"
	.code16
	.global ap_trampoline
ap_trampoline:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	lgdtl	REL(ap_gdt_ptr)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$BOOT_CS32, $REL(ap_protected)

	.code32
ap_protected:
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%cr4, %eax
	orl	$(1 << 5), %eax		/* PAE */
	movl	%eax, %cr4
	movl	REL(ap_cr3), %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* EFER: LME, NXE */
	rdmsr
	orl	$((1 << 8) | (1 << 11)), %eax
	wrmsr
	movl	%cr0, %eax
	orl	$((1 << 31) | (1 << 16)), %eax	/* PG, WP */
	movl	%eax, %cr0
	ljmpl	$BOOT_CS64, $REL(ap_long)

	.code64
ap_long:
	movq	REL(ap_stack), %rsp
	movq	REL(ap_percpu), %rdi
	xorl	%ebp, %ebp
	movq	REL(ap_entry), %rax
	/*
	 * A call, not a jump: C code expects RSP + 8 to be 16-byte aligned at
	 * entry (the return address just pushed). Entered by a jump, every
	 * frame on this CPU was misaligned, and SSE code in prebuilt libraries
	 * (liblzma during a domain restart) faulted on aligned stores.
	 */
	callq	*%rax
	ud2			/* ap_entry64 never returns */

	.balign 8
	.global ap_params
ap_params:
ap_gdt_ptr:
	.short	0			/* GDT limit */
	.long	0			/* GDT base (below 4 GiB) */
	.short	0			/* pad */
ap_cr3:
	.long	0, 0
ap_stack:
	.quad	0
ap_percpu:
	.quad	0
ap_entry:
	.quad	0
