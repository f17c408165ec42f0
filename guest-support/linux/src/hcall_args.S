/* SPDX-License-Identifier: MIT */
/*
 * hcall_args.S - the privileged driver's hypercall: all six arguments
 * (keel_hcall6() in hcall.S passes five, which is all pvdrivers uses; a
 * pass-through must not drop arg5).
 */
#include <linux/linkage.h>

/*
 * long keel_hcall_args(nr, const u64 args[6]): number in RAX, args[0..5] in
 * RDI, RSI, RDX, R10, R8, R9 (docs/abi/README.md, "Calling convention").
 * R11 holds the array only until the call; Keel may clobber it after.
 */
SYM_FUNC_START(keel_hcall_args)
	movq	%rdi, %rax
	movq	%rsi, %r11
	movq	0(%r11), %rdi
	movq	8(%r11), %rsi
	movq	16(%r11), %rdx
	movq	24(%r11), %r10
	movq	32(%r11), %r8
	movq	40(%r11), %r9
	call	keel_hypercall_page
	RET
SYM_FUNC_END(keel_hcall_args)
