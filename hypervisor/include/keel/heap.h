/* SPDX-License-Identifier: MIT */
/*
 * keel/heap.h - the small hypervisor heap.
 *
 * Size classes from 16 to 2048 bytes carved out of pages; bigger requests
 * get whole pages. Memory comes back zeroed. Empty pages go straight back to
 * the page allocator, so free-page counts return to where they were.
 */
#ifndef KEEL_HEAP_H
#define KEEL_HEAP_H

#include <keel/types.h>

void *heap_alloc(size_t size);
void heap_free(void *ptr);

/* Pages the heap holds right now (for accounting tests). */
uint64_t heap_page_count(void);

#endif
