/* SPDX-License-Identifier: MIT */
/*
 * lib/stack_protector.c - the stack-protector failure hook.
 *
 * Keel's own code is built without the stack protector, but the Debian
 * static libraries it links (libfdt) are built with it: their functions
 * compare a canary read from %fs:0x28 (each CPU's FS base points at its
 * canary, see arch/x86/cpu/percpu.c) and call this on a mismatch.
 */
#include <keel/panic.h>

NORETURN void __stack_chk_fail(void);

void __stack_chk_fail(void)
{
	panic("stack smashing detected in a library function");
}
