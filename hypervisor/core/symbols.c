/* SPDX-License-Identifier: MIT */
/* core/symbols.c - maps code addresses to function names (binary search). */
#include <keel/symbols.h>

const char *symbol_lookup(uintptr_t addr, uintptr_t *offset)
{
	size_t lo = 0, hi = ksyms_count;

	if (ksyms_count == 0 || addr < ksyms[0].addr) {
		return NULL;
	}
	/* Find the last symbol at or below addr. The table is sorted. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksyms[mid].addr <= addr) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	if (offset) {
		*offset = addr - ksyms[lo].addr;
	}
	return ksyms[lo].name;
}
