/* SPDX-License-Identifier: MIT */
/*
 * svm/vmrun.S - one guest entry and exit.
 *
 * svm_vmrun(gprs, vmcb_pa, host_vmcb_pa, in_shadow): saves the host's
 * callee-saved registers and hidden state (VMSAVE), loads the guest's
 * general registers, runs it with GIF clear around the switch, and stores
 * them back on exit. Called with interrupts off; returns with them off (GIF
 * set again), so a pending host interrupt is taken when the caller enables
 * them. @in_shadow: the guest's next instruction is in an STI or MOV SS
 * shadow (the VMCB's interrupt_shadow, as its last exit left it).
 */
#define GPR_RBX	0
#define GPR_RCX	8
#define GPR_RDX	16
#define GPR_RSI	24
#define GPR_RDI	32
#define GPR_RBP	40
#define GPR_R8	48
#define GPR_R9	56
#define GPR_R10	64
#define GPR_R11	72
#define GPR_R12	80
#define GPR_R13	88
#define GPR_R14	96
#define GPR_R15	104

	.text
	.global svm_vmrun
svm_vmrun:
	pushq	%rbp
	movq	%rsp, %rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi			/* gprs */
	pushq	%rdx			/* host VMCB */
	pushq	%rsi			/* guest VMCB */
	pushq	%rcx			/* in_shadow */

	clgi
	movq	%rdx, %rax
	vmsave				/* host FS/GS/TR/LDTR/syscall MSRs */
	/*
	 * From here to svm_switch_end the CPU may hold the guest's GS base,
	 * TR and syscall MSRs (x86_trap() copes with an interrupt taken here).
	 */
	.global svm_switch_begin
svm_switch_begin:

	movq	GPR_RBX(%rdi), %rbx
	movq	GPR_RCX(%rdi), %rcx
	movq	GPR_RDX(%rdi), %rdx
	movq	GPR_RSI(%rdi), %rsi
	movq	GPR_RBP(%rdi), %rbp
	movq	GPR_R8(%rdi), %r8
	movq	GPR_R9(%rdi), %r9
	movq	GPR_R10(%rdi), %r10
	movq	GPR_R11(%rdi), %r11
	movq	GPR_R12(%rdi), %r12
	movq	GPR_R13(%rdi), %r13
	movq	GPR_R14(%rdi), %r14
	movq	GPR_R15(%rdi), %r15
	movq	GPR_RDI(%rdi), %rdi

	/*
	 * With GIF clear, STI lets no interrupt in here, but VMRUN records
	 * the host's IF as set: a host interrupt arriving in guest mode then
	 * makes the guest exit (the INTR intercept) instead of waiting for it.
	 *
	 * Where the STI goes decides the guest's interrupt shadow under QEMU's
	 * TCG, which ignores the VMCB's interrupt_shadow at VMRUN but carries
	 * the host's own STI shadow into the guest: right before VMRUN, the
	 * guest's first instruction runs with interrupts held off. That is
	 * wanted exactly when the guest was in a shadow at its exit (an exit
	 * between its `sti` and the next instruction): without it, an upcall
	 * Keel injects, or the interrupt window it asks for, would come before
	 * that instruction, which `sti; hlt` relies on never happening.
	 * Otherwise STI comes before VMLOAD: a shadow the guest does not have
	 * would hold off an upcall pending at the `cli` after a completed HLT
	 * for good. Hardware takes the shadow from the VMCB either way.
	 */
	cmpb	$0, (%rsp)		/* in_shadow: a bool, only its low byte is defined */
	jne	1f
	sti
	movq	8(%rsp), %rax		/* guest VMCB */
	vmload
	vmrun
	jmp	2f
1:	movq	8(%rsp), %rax		/* guest VMCB */
	vmload
	sti
	vmrun
2:	cli
	vmsave

	pushq	%rdi			/* guest RDI */
	movq	32(%rsp), %rdi		/* gprs: past guest RDI, in_shadow, guest and host VMCB */
	movq	%rbx, GPR_RBX(%rdi)
	movq	%rcx, GPR_RCX(%rdi)
	movq	%rdx, GPR_RDX(%rdi)
	movq	%rsi, GPR_RSI(%rdi)
	movq	%rbp, GPR_RBP(%rdi)
	movq	%r8, GPR_R8(%rdi)
	movq	%r9, GPR_R9(%rdi)
	movq	%r10, GPR_R10(%rdi)
	movq	%r11, GPR_R11(%rdi)
	movq	%r12, GPR_R12(%rdi)
	movq	%r13, GPR_R13(%rdi)
	movq	%r14, GPR_R14(%rdi)
	movq	%r15, GPR_R15(%rdi)
	popq	GPR_RDI(%rdi)

	popq	%rax			/* in_shadow */
	popq	%rax			/* guest VMCB: done with it */
	popq	%rax			/* host VMCB */
	vmload
	.global svm_switch_end
svm_switch_end:
	stgi
	popq	%rdi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
