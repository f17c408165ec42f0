/* SPDX-License-Identifier: MIT */
/*
 * bootproto/env.h - what bootproto needs from the program it runs in: memory
 * for the decompressors, and a bracket around calls into prebuilt libraries
 * that may use SSE (the hypervisor turns interrupts off and saves the FPU;
 * a userspace toolstack does nothing). One const instance per program.
 */
#ifndef BOOTPROTO_ENV_H
#define BOOTPROTO_ENV_H

#include <stddef.h>

struct bootproto_env {
	void *(*alloc)(size_t size);		/* NULL when out of memory */
	void (*free)(void *ptr);		/* accepts NULL */
	unsigned long (*fpu_begin)(void);	/* returns what fpu_end() restores */
	void (*fpu_end)(unsigned long state);
};

#endif
