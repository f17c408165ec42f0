/* SPDX-License-Identifier: MIT */
/*
 * lib/decompress_glue.c - the one C library function Debian's static liblzma
 * and libzstd need beyond zlib's (lib/zlib_glue.c): calloc.
 *
 * core/decompress.c gives both libraries its own allocator, so this is only
 * reached through their defaults; it still returns zeroed, bounded memory.
 */
#include <keel/heap.h>

void *calloc(size_t items, size_t size);

void *calloc(size_t items, size_t size)
{
	if (size && items > SIZE_MAX / size) {
		return NULL;
	}
	return heap_alloc(items * size);	/* the heap hands out zeroed memory */
}
