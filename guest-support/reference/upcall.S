/* SPDX-License-Identifier: MIT */
/* upcall.S - the interrupt entry of Keel's upcall vector (REF_UPCALL_VECTOR): save, call C, iretq. */

	.text
	.globl	ref_upcall_entry
	.type	ref_upcall_entry, @function
ref_upcall_entry:
	/*
	 * The CPU aligned RSP to 16 and pushed 5 words (no error code); with
	 * the 9 caller-saved registers pushed here RSP is 16-byte aligned at
	 * the call, as the C ABI wants.
	 */
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	cld
	call	ref_upcall_interrupt
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	iretq
	.size	ref_upcall_entry, . - ref_upcall_entry

	.section .note.GNU-stack, "", @progbits
