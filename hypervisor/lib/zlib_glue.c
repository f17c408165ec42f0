/* SPDX-License-Identifier: MIT */
/*
 * lib/zlib_glue.c - the C library functions Debian's static zlib refers to.
 *
 * core/image.c always gives inflate its own allocator, so zlib's default
 * (zcalloc, which calls malloc) is linked but never used; these keep the
 * link honest by routing to the Keel heap anyway.
 */
#include <keel/heap.h>

void *malloc(size_t size);
void free(void *ptr);

void *malloc(size_t size)
{
	return heap_alloc(size);
}

void free(void *ptr)
{
	heap_free(ptr);
}
