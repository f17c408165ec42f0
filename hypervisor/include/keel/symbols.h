/* SPDX-License-Identifier: MIT */
/* keel/symbols.h - the hypervisor's own symbol table, for backtraces. */
#ifndef KEEL_SYMBOLS_H
#define KEEL_SYMBOLS_H

#include <keel/types.h>

struct ksym {
	uintptr_t addr;
	const char *name;
};

/* Generated at build time from the first link (tools: gen-ksyms.sh). */
extern const struct ksym ksyms[];
extern const size_t ksyms_count;

/* The function containing @addr and the offset into it; NULL if unknown. */
const char *symbol_lookup(uintptr_t addr, uintptr_t *offset);

#endif
