/* SPDX-License-Identifier: MIT */
/*
 * entry.S - Multiboot 1 and 2 headers and the 32-bit entry into long mode.
 *
 * A Multiboot loader (GRUB, QEMU -kernel) enters here in 32-bit protected
 * mode with paging off. We check for long mode and NX, identity-map the
 * first 4 GiB with 2 MiB pages (boot tables only; C code builds the real
 * ones), enable long mode and call x86_boot_main(magic, info).
 */
#include <x86/layout.h>

#define MB1_MAGIC		0x1badb002
#define MB1_FLAGS		((1 << 0) | (1 << 1) | (1 << 16))
#define MB2_MAGIC		0xe85250d6
#define MB2_ARCH_I386		0
#define COM1			0x3f8

	.section .multiboot, "a"
	.balign 4
mb1_header:
	.long	MB1_MAGIC
	.long	MB1_FLAGS
	.long	-(MB1_MAGIC + MB1_FLAGS)
	/* The a.out kludge: QEMU refuses ELF64 without these addresses. */
	.long	mb1_header		/* header_addr */
	.long	_image_start		/* load_addr */
	.long	_load_end		/* load_end_addr */
	.long	_bss_end		/* bss_end_addr */
	.long	_start32		/* entry_addr */

	.balign 8
mb2_header:
	.long	MB2_MAGIC
	.long	MB2_ARCH_I386
	.long	mb2_header_end - mb2_header
	.long	-(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* Module alignment tag: page-aligned modules. */
	.balign 8
	.short	6, 0
	.long	8
	/* End tag. */
	.balign 8
	.short	0, 0
	.long	8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.global _start32
_start32:
	cli
	cld
	movl	$boot_stack_top, %esp
	movl	%eax, %edi		/* Multiboot magic, kept for C */
	movl	%ebx, %esi		/* Multiboot info address */

	/* Long mode and NX are required: say so on COM1 instead of faulting. */
	pushfl
	popl	%eax
	movl	%eax, %ecx
	xorl	$(1 << 21), %eax	/* can CPUID be used? */
	pushl	%eax
	popfl
	pushfl
	popl	%eax
	cmpl	%eax, %ecx
	je	no_long_mode
	movl	$0x80000000, %eax
	cpuid
	cmpl	$0x80000001, %eax
	jb	no_long_mode
	movl	$0x80000001, %eax
	cpuid
	btl	$29, %edx
	jnc	no_long_mode
	btl	$20, %edx
	jnc	no_nx

	/* Boot page tables: PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of 2 MiB pages. */
	movl	$boot_pdpt, %eax
	orl	$0x3, %eax
	movl	%eax, boot_pml4
	movl	$boot_pd, %eax
	orl	$0x3, %eax
	movl	$boot_pdpt, %ebx
	movl	$4, %ecx
1:	movl	%eax, (%ebx)
	addl	$4096, %eax
	addl	$8, %ebx
	loop	1b
	movl	$boot_pd, %ebx
	movl	$0x83, %eax		/* present, writable, 2 MiB */
	xorl	%edx, %edx		/* high half of the physical address */
	movl	$2048, %ecx
2:	movl	%eax, (%ebx)
	movl	%edx, 4(%ebx)
	addl	$0x200000, %eax
	adcl	$0, %edx
	addl	$8, %ebx
	loop	2b

	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$(1 << 5), %eax		/* PAE */
	movl	%eax, %cr4
	movl	$0xc0000080, %ecx	/* EFER */
	rdmsr
	orl	$((1 << 8) | (1 << 11)), %eax	/* LME, NXE */
	wrmsr
	movl	%cr0, %eax
	orl	$((1 << 31) | (1 << 16) | 1), %eax	/* PG, WP, PE */
	movl	%eax, %cr0

	lgdt	boot_gdt_ptr
	ljmp	$BOOT_CS64, $start64

no_long_mode:
	movl	$msg_no_long_mode, %esi
	jmp	early_fail
no_nx:
	movl	$msg_no_nx, %esi
early_fail:
	movw	$COM1 + 5, %dx		/* wait for the transmitter */
3:	inb	%dx, %al
	testb	$0x20, %al
	jz	3b
	movb	(%esi), %al
	testb	%al, %al
	jz	4f
	movw	$COM1, %dx
	outb	%al, %dx
	incl	%esi
	jmp	early_fail
4:	cli
	hlt
	jmp	4b

	.code64
start64:
	movl	$BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp		/* ends the backtrace */
	movl	%edi, %edi
	movl	%esi, %esi
	call	x86_boot_main
5:	cli
	hlt
	jmp	5b

	.section .rodata
msg_no_long_mode:
	.asciz	"\r\nKeel: this CPU has no 64-bit long mode; Keel needs an x86_64 CPU. Halted.\r\n"
msg_no_nx:
	.asciz	"\r\nKeel: this CPU has no NX (execute-disable) bit; Keel needs it. Halted.\r\n"

	.balign 8
	.global boot_gdt
boot_gdt:
	.quad	0			/* null */
	.quad	0x00af9a000000ffff	/* BOOT_CS64: 64-bit code */
	.quad	0x00cf92000000ffff	/* BOOT_DS: data */
	.quad	0x00cf9a000000ffff	/* BOOT_CS32: 32-bit code, for APs */
boot_gdt_end:
	.global boot_gdt_ptr
boot_gdt_ptr:
	.short	boot_gdt_end - boot_gdt - 1
	.quad	boot_gdt

	.section .bss.pagetables, "aw", @nobits
	.balign 4096
	.global boot_pml4
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
boot_pd:
	.skip	4 * 4096

	.section .bss
	.balign 4096
	.global boot_stack_guard
boot_stack_guard:
	.skip	4096
boot_stack:
	.skip	BOOT_STACK_SIZE
	.global boot_stack_top
boot_stack_top:
