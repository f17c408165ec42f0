/* SPDX-License-Identifier: MIT */
/*
 * core/heap.c - size-class heap on top of the page allocator.
 *
 * Each page holds objects of one class behind a small header; a page whose
 * objects are all free is returned at once. Large objects get their own
 * pages with the same header, so heap_free() tells them apart by the
 * header's magic. Guests never reach the heap's inputs.
 */
#include <arch/arch.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/spinlock.h>
#include <keel/string.h>

#define SLAB_MAGIC	0x534c4142u	/* "SLAB" */
#define LARGE_MAGIC	0x4c415247u	/* "LARG" */
#define HEADER_SIZE	64u
#define MIN_SHIFT	4u		/* 16 bytes */
#define CLASS_COUNT	8u		/* 16 .. 2048 */

struct page_header {
	uint32_t magic;
	uint16_t size_class;
	uint16_t used;			/* objects handed out */
	uint64_t pages;			/* large objects: pages in the run */
	struct page_header *next;	/* partial pages of this class */
	struct page_header *prev;
	void *free_list;		/* free objects in this page */
};

static struct spinlock lock = SPINLOCK_INIT;
static struct page_header *partial[CLASS_COUNT];
static uint64_t pages_held;

static unsigned int class_of(size_t size)
{
	unsigned int c = 0;

	while (((size_t)1 << (MIN_SHIFT + c)) < size) {
		c++;
	}
	return c;
}

static size_t class_size(unsigned int c)
{
	return (size_t)1 << (MIN_SHIFT + c);
}

static void list_remove(struct page_header *h)
{
	if (h->prev) {
		h->prev->next = h->next;
	} else {
		partial[h->size_class] = h->next;
	}
	if (h->next) {
		h->next->prev = h->prev;
	}
	h->next = h->prev = NULL;
}

static void list_push(struct page_header *h)
{
	h->prev = NULL;
	h->next = partial[h->size_class];
	if (h->next) {
		h->next->prev = h;
	}
	partial[h->size_class] = h;
}

static struct page_header *new_slab(unsigned int c)
{
	paddr_t pa = page_alloc(1);
	struct page_header *h;
	char *obj;

	if (!pa) {
		return NULL;
	}
	h = arch_phys_to_virt(pa);
	h->magic = SLAB_MAGIC;
	h->size_class = (uint16_t)c;
	h->pages = 1;
	/* Thread every object slot onto the page's free list. */
	for (obj = (char *)h + PAGE_SIZE - class_size(c);
	     obj >= (char *)h + HEADER_SIZE; obj -= class_size(c)) {
		*(void **)obj = h->free_list;
		h->free_list = obj;
	}
	pages_held++;
	list_push(h);
	return h;
}

static void *alloc_small(size_t size)
{
	unsigned int c = class_of(size);
	struct page_header *h;
	unsigned long flags;
	void *obj;

	flags = spin_lock_irqsave(&lock);
	h = partial[c] ? partial[c] : new_slab(c);
	if (!h) {
		spin_unlock_irqrestore(&lock, flags);
		return NULL;
	}
	obj = h->free_list;
	h->free_list = *(void **)obj;
	h->used++;
	if (!h->free_list) {
		list_remove(h);
	}
	spin_unlock_irqrestore(&lock, flags);
	memset(obj, 0, class_size(c));
	return obj;
}

static void *alloc_large(size_t size)
{
	uint64_t pages = ALIGN_UP((uint64_t)size + HEADER_SIZE, PAGE_SIZE) >> PAGE_SHIFT;
	paddr_t pa = page_alloc(pages);
	struct page_header *h;
	unsigned long flags;

	if (!pa) {
		return NULL;
	}
	h = arch_phys_to_virt(pa);
	h->magic = LARGE_MAGIC;
	h->pages = pages;
	flags = spin_lock_irqsave(&lock);
	pages_held += pages;
	spin_unlock_irqrestore(&lock, flags);
	return (char *)h + HEADER_SIZE;
}

void *heap_alloc(size_t size)
{
	if (size == 0) {
		size = 1;
	}
	if (size > (size_t)1 << 40) {
		return NULL;
	}
	if (size <= class_size(CLASS_COUNT - 1)) {
		return alloc_small(size);
	}
	return alloc_large(size);
}

void heap_free(void *ptr)
{
	struct page_header *h;
	unsigned long flags;
	bool was_full;

	if (!ptr) {
		return;
	}
	h = (struct page_header *)ALIGN_DOWN((uintptr_t)ptr, PAGE_SIZE);
	if (h->magic == LARGE_MAGIC && (char *)ptr == (char *)h + HEADER_SIZE) {
		uint64_t pages = h->pages;

		h->magic = 0;
		flags = spin_lock_irqsave(&lock);
		pages_held -= pages;
		spin_unlock_irqrestore(&lock, flags);
		page_free(arch_virt_to_phys(h), pages);
		return;
	}
	if (h->magic != SLAB_MAGIC || h->used == 0 ||
	    (char *)ptr < (char *)h + HEADER_SIZE ||
	    ((uintptr_t)h + PAGE_SIZE - (uintptr_t)ptr) % class_size(h->size_class)) {
		panic("heap_free(%p): not a live heap object", ptr);
	}
	flags = spin_lock_irqsave(&lock);
	was_full = (h->free_list == NULL);
	*(void **)ptr = h->free_list;
	h->free_list = ptr;
	h->used--;
	if (h->used == 0) {
		if (!was_full) {
			list_remove(h);
		}
		h->magic = 0;
		pages_held--;
		spin_unlock_irqrestore(&lock, flags);
		page_free(arch_virt_to_phys(h), 1);
		return;
	}
	if (was_full) {
		list_push(h);
	}
	spin_unlock_irqrestore(&lock, flags);
}

uint64_t heap_page_count(void)
{
	return READ_ONCE(pages_held);
}
