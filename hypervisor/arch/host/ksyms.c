/* SPDX-License-Identifier: MIT */
/*
 * arch/host/ksyms.c - a small fake symbol table for the host build.
 *
 * The hypervisor's real table is generated from its first link; on the host
 * symbol_lookup() and backtrace_print() search this one instead. Sorted by
 * address, as gen-ksyms.sh produces it. Tests read the addresses from it.
 */
#include <keel/symbols.h>

const struct ksym ksyms[] = {
	{ 0x1000, "fake_alpha" },
	{ 0x1100, "fake_beta" },
	{ 0x2000, "fake_gamma" },
	{ 0x2400, "fake_delta" },
};

const size_t ksyms_count = ARRAY_SIZE(ksyms);
