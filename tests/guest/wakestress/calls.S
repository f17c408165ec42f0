/* SPDX-License-Identifier: MIT */
/*
 * calls.S: the waiter's hypercall entry with its own checks, and its upcall stub.
 *
 * ws_call(struct ws_call *c) makes one hypercall through the hypercall page
 * in one of four ways (c->how): plain, with interrupts on, `sti` right
 * before the call (the STI shadow covers the CALL, not the VMMCALL), or
 * `sti; hlt` instead of a call. Around it, it records what the hypercall
 * must not change: RSP, RBX, RBP and R12-R15 (set to patterns first), and
 * a 256-byte block of the caller's stack just above the return address. It
 * returns with interrupts off again, whatever happened inside.
 *
 * struct ws_call (wakestress.h) offsets:
 *    0 nr   8 a0  16 a1  24 how  32 rax (result)  40 rsp_before  48 rsp_after
 *   56 regs_bad (bit per callee-saved register that changed)  64 canary_bad
 */
#define C_NR		0
#define C_A0		8
#define C_A1		16
#define C_HOW		24
#define C_RAX		32
#define C_RSP_BEFORE	40
#define C_RSP_AFTER	48
#define C_REGS_BAD	56
#define C_CANARY_BAD	64

#define HOW_PLAIN	0
#define HOW_IRQ_ON	1
#define HOW_STI_CALL	2
#define HOW_STI_HLT	3

#define CANARY_WORDS	32
#define PAT(n)		(0x5753000000000000 + (n) * 0x0101010101)

	.text
	.globl	ws_call
	.type	ws_call, @function
ws_call:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi			/* the struct, found again after the call */
	/* The canary block: CANARY_WORDS words of a pattern derived from their address. */
	subq	$(CANARY_WORDS * 8), %rsp
	xorl	%ecx, %ecx
1:	leaq	(%rsp,%rcx,8), %rax
	xorq	$0x5a5a5a5a, %rax
	movq	%rax, (%rsp,%rcx,8)
	incl	%ecx
	cmpl	$CANARY_WORDS, %ecx
	jb	1b

	movabsq	$PAT(1), %rbx
	movabsq	$PAT(2), %rbp
	movabsq	$PAT(3), %r12
	movabsq	$PAT(4), %r13
	movabsq	$PAT(5), %r14
	movabsq	$PAT(6), %r15
	movq	C_HOW(%rdi), %rcx
	movq	C_NR(%rdi), %rax
	movq	C_A1(%rdi), %rsi
	leaq	-8(%rsp), %rdx		/* RSP as the hypercall page sees it (after CALL) */
	movq	%rdx, C_RSP_BEFORE(%rdi)
	movq	%rdi, ws_current(%rip)	/* for the upcall stub's checks */
	movq	C_A0(%rdi), %rdi
	xorl	%edx, %edx		/* arguments 2-5: none of these calls takes them */
	xorl	%r10d, %r10d
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	cmpq	$HOW_IRQ_ON, %rcx
	je	.Lirq_on
	cmpq	$HOW_STI_CALL, %rcx
	je	.Lsti_call
	cmpq	$HOW_STI_HLT, %rcx
	je	.Lsti_hlt
	call	keel_hypercall_page
	jmp	.Lback
.Lirq_on:
	sti
	nop				/* interrupts may arrive from here on */
	call	keel_hypercall_page
	jmp	.Lback
.Lsti_call:
	sti
	.globl	ws_shadow_call
ws_shadow_call:				/* never an interrupted RIP: inside STI's shadow */
	call	keel_hypercall_page
	jmp	.Lback
.Lsti_hlt:
	sti
	.globl	ws_shadow_hlt
ws_shadow_hlt:				/* never an interrupted RIP either */
	hlt
	.globl	ws_after_hlt
ws_after_hlt:
.Lback:
	cli
	movq	$0, ws_current(%rip)
	movq	CANARY_WORDS * 8(%rsp), %rdi
	movq	%rax, C_RAX(%rdi)
	leaq	-8(%rsp), %rdx
	movq	%rdx, C_RSP_AFTER(%rdi)
	/* Callee-saved registers: one bit per register that changed. */
	xorl	%ecx, %ecx
	movabsq	$PAT(1), %rdx
	cmpq	%rdx, %rbx
	je	2f
	orl	$1, %ecx
2:	movabsq	$PAT(2), %rdx
	cmpq	%rdx, %rbp
	je	2f
	orl	$2, %ecx
2:	movabsq	$PAT(3), %rdx
	cmpq	%rdx, %r12
	je	2f
	orl	$4, %ecx
2:	movabsq	$PAT(4), %rdx
	cmpq	%rdx, %r13
	je	2f
	orl	$8, %ecx
2:	movabsq	$PAT(5), %rdx
	cmpq	%rdx, %r14
	je	2f
	orl	$16, %ecx
2:	movabsq	$PAT(6), %rdx
	cmpq	%rdx, %r15
	je	2f
	orl	$32, %ecx
2:	movq	%rcx, C_REGS_BAD(%rdi)
	/* The canary block: count the words that changed. */
	xorl	%ecx, %ecx
	xorl	%esi, %esi
3:	leaq	(%rsp,%rcx,8), %rax
	xorq	$0x5a5a5a5a, %rax
	cmpq	%rax, (%rsp,%rcx,8)
	je	4f
	incl	%esi
4:	incl	%ecx
	cmpl	$CANARY_WORDS, %ecx
	jb	3b
	movq	%rsi, C_CANARY_BAD(%rdi)
	addq	$(CANARY_WORDS * 8 + 8), %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
	.size	ws_call, . - ws_call

/*
 * ws_sti_probe(n): n times `sti; nop; cli`. Every upcall pending meanwhile
 * lands on the `cli`, after the `nop` that STI's shadow covers; an upcall
 * that lands on the `nop` itself broke the shadow.
 */
	.globl	ws_sti_probe
	.type	ws_sti_probe, @function
ws_sti_probe:
	testq	%rdi, %rdi
	jz	2f
1:	sti
	.globl	ws_shadow_probe
ws_shadow_probe:
	nop
	cli
	decq	%rdi
	jnz	1b
2:	ret
	.size	ws_sti_probe, . - ws_sti_probe

/*
 * The upcall vector's stub: saves the caller-saved registers and calls
 * ws_upcall(frame, saved_rax) with a pointer to the CPU's 5-word frame
 * (RIP, CS, RFLAGS, RSP, SS). 9 pushes keep RSP 16-byte aligned at the call.
 */
	.globl	ws_upcall_stub
	.type	ws_upcall_stub, @function
ws_upcall_stub:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	leaq	72(%rsp), %rdi
	movq	64(%rsp), %rsi
	cld
	call	ws_upcall
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
	.size	ws_upcall_stub, . - ws_upcall_stub

	.bss
	.balign	8
	.globl	ws_current
ws_current:				/* the struct ws_call in flight, or 0 */
	.skip	8

	.section .note.GNU-stack, "", @progbits
