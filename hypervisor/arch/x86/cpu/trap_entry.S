/* SPDX-License-Identifier: MIT */
/*
 * cpu/trap_entry.S - the 256 interrupt and exception entry stubs.
 *
 * Each stub makes the stack look the same (a dummy error code where the CPU
 * pushes none, then the vector), saves every general register into a
 * struct trap_frame and calls x86_trap(frame).
 */
	.text
	.balign 16
	.global trap_stubs
trap_stubs:
	vector = 0
	.rept 256
	.balign 16
	/* Vectors 8, 10-14, 17, 21, 29, 30 come with an error code. */
	.if !(vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30)
	pushq	$0
	.endif
	pushq	$vector
	jmp	trap_common
	vector = vector + 1
	.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	x86_trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq
