/* SPDX-License-Identifier: MIT */
/*
 * hcall.S - the hypercall page and the one function that calls into it.
 *
 * The page lives in the module's own text, so it is executable without
 * set_memory_x (not exported to modules in 6.1); Keel fills it through the
 * hypercall MSR (discover.c) with its vmmcall/vmcall stub, writing guest
 * memory directly, so the text being read-only to Linux does not matter.
 * Until then it holds int3s. The unwind hint says the page behaves like a
 * function at every offset (return address on top of the stack), which is
 * what Keel's stub does.
 */
#include <linux/linkage.h>
#include <asm/page_types.h>
#include <asm/unwind_hints.h>

	.text
	.balign	PAGE_SIZE
SYM_CODE_START(keel_hypercall_page)
	UNWIND_HINT_FUNC
	ANNOTATE_NOENDBR
	.fill	PAGE_SIZE, 1, 0xcc
SYM_CODE_END(keel_hypercall_page)

/*
 * long keel_hcall6(nr, a0, a1, a2, a3, a4): from the C calling convention
 * (RDI, RSI, RDX, RCX, R8, R9) to Keel's (number in RAX, arguments in RDI,
 * RSI, RDX, R10, R8). Keel clobbers only registers the C convention lets a
 * callee clobber.
 */
SYM_FUNC_START(keel_hcall6)
	movq	%rdi, %rax
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	movq	%r8, %r10
	movq	%r9, %r8
	call	keel_hypercall_page
	RET
SYM_FUNC_END(keel_hcall6)
