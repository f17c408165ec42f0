/* SPDX-License-Identifier: MIT */
/*
 * trampoline.S - where vCPU 1 starts after INIT and SIPI: real mode at
 * CS:IP = 0x0800:0000 (the copy at VAPIC_TRAMPOLINE, 0x8000), then
 * protected mode, then long mode on vCPU 0's page tables, then the C entry
 * ap_main() on its own stack. vCPU 0 fills the parameters at the end
 * before it sends the SIPI. The GDT keeps the runtime's selectors (0x08
 * 64-bit code, 0x10 data), so the runtime's IDT gates work on vCPU 1 too.
 */
#define TRAMP		0x8000
#define AT(label)	(TRAMP + (label) - vapic_trampoline)

	.section .rodata
	.globl vapic_trampoline, vapic_trampoline_end, vapic_tramp_cr3
	.globl vapic_tramp_stack, vapic_tramp_entry

	.code16
vapic_trampoline:
	cli
	movw	%cs, %ax
	movw	%ax, %ds
	lgdtl	(tramp_gdtr - vapic_trampoline)
	movl	%cr0, %eax
	orl	$1, %eax			/* PE */
	movl	%eax, %cr0
	ljmpl	$0x18, $AT(tramp32)

	.code32
tramp32:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	AT(vapic_tramp_cr3), %eax
	movl	%eax, %cr3
	movl	%cr4, %eax
	orl	$0x620, %eax			/* PAE, OSFXSR, OSXMMEXCPT */
	movl	%eax, %cr4
	movl	$0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax		/* PG, PE */
	andl	$0x9fffffff, %eax		/* caches on: clear CD and NW */
	movl	%eax, %cr0
	ljmpl	$0x08, $AT(tramp64)

	.code64
tramp64:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movq	AT(vapic_tramp_stack), %rsp
	movq	AT(vapic_tramp_entry), %rax
	jmp	*%rax

	.p2align 3
tramp_gdt:
	.quad	0
	.quad	0x00af9a000000ffff		/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: data */
	.quad	0x00cf9a000000ffff		/* 0x18: 32-bit code */
tramp_gdtr:
	.word	4 * 8 - 1
	.long	AT(tramp_gdt)
	.p2align 3
vapic_tramp_cr3:
	.quad	0
vapic_tramp_stack:
	.quad	0
vapic_tramp_entry:
	.quad	0
vapic_trampoline_end:

/* One entry stub per vector: save what C may clobber, vapic_interrupt(vector), iretq. */
	.text
	.globl	vapic_stub_base
	.p2align 4
vapic_stub_base:
	.set	vec, 0
	.rept	256
	.p2align 4
	pushq	%rdi
	movl	$vec, %edi
	jmp	stub_common
	.set	vec, vec + 1
	.endr

stub_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	call	vapic_interrupt
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popq	%rdi
	iretq
