/* SPDX-License-Identifier: MIT */
/*
 * shim_memory.c - guest RAM for pvdrivers: a page allocator over the RAM
 * ranges of the start info's memory map, 64-byte blocks carved from pages
 * (kpv_shim_alloc), and addresses. The builder's page tables identity-map
 * [0, 4 GiB), the map window included (docs/abi/boot.md "Registers"), and
 * the reference guest keeps them, so a GPA is its own address.
 *
 * Every page frame below the end of RAM has a struct ref_page saying what
 * it is. A "chunk" page is cut into 64 units of 64 bytes: a block is a run
 * of units in one page, so it never crosses a page (pvdrivers asks for at
 * most a page). BOOT memory (the builder's page tables among it) and the
 * kernel image are never handed out.
 *
 * [any]: all state is under mem_lock.
 */
#include "ref.h"

#define UNIT		64u
#define UNITS		(KPV_PAGE_SIZE / UNIT)	/* per chunk page: one bit each in a uint64_t */
#define PFN(p)		((uint32_t)(KT_GPA(p) >> KPV_PAGE_SHIFT))
#define PAGE_PTR(pfn)	KT_PTR((uint64_t)(pfn) << KPV_PAGE_SHIFT)

_Static_assert(UNITS == 64, "a chunk page's units fit one uint64_t");

enum page_kind {
	PG_RESERVED,		/* not RAM, BOOT, the kernel, or this file's table */
	PG_FREE,
	PG_PAGE,		/* kpv_shim_page_alloc() */
	PG_CHUNK,		/* 64-byte units */
};

struct ref_page {
	uint64_t used;		/* CHUNK: units allocated */
	uint64_t ends;		/* CHUNK: the last unit of each block */
	uint32_t kind;		/* enum page_kind */
	uint32_t next;		/* CHUNK: the next chunk page, 0: none */
};

extern char kt_image_start[], kt_image_end[];

static struct kpv_lock mem_lock;
static struct ref_page *pages;	/* one per frame below nr_pages */
static uint32_t nr_pages;
static uint32_t first_free;	/* no free frame below it */
static uint32_t chunks;		/* the chunk pages, linked by next; 0: none */
static struct ref_mem_usage usage;

static uint64_t page_up(uint64_t a)
{
	return (a + KPV_PAGE_SIZE - 1) & ~(uint64_t)(KPV_PAGE_SIZE - 1);
}

static bool overlaps(uint64_t a, uint64_t len, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a + len;
}

/* Where the page table goes: the first RAM hole big enough, clear of page 0 and the kernel. */
static uint64_t place_table(uint64_t bytes)
{
	uint64_t img = KT_GPA(kt_image_start), img_end = page_up(KT_GPA(kt_image_end));

	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];
		uint64_t at = e->base < KPV_PAGE_SIZE ? KPV_PAGE_SIZE : page_up(e->base);

		if (e->type != KEEL_MEMTYPE_RAM) {
			continue;
		}
		if (overlaps(at, bytes, img, img_end)) {
			at = img_end;
		}
		if (at + bytes <= e->base + e->size && at + bytes <= kt_ram_end()) {
			return at;
		}
	}
	kt_crash("no room for the page table (%lu KiB)", bytes >> 10);
}

void ref_mem_init(void)
{
	uint64_t img = KT_GPA(kt_image_start), img_end = KT_GPA(kt_image_end);
	uint64_t table_bytes, table;

	nr_pages = (uint32_t)(kt_ram_end() >> KPV_PAGE_SHIFT);
	table_bytes = page_up((uint64_t)nr_pages * sizeof(struct ref_page));
	table = place_table(table_bytes);
	pages = KT_PTR(table);
	memset(pages, 0, table_bytes);	/* everything PG_RESERVED */
	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];

		if (e->type != KEEL_MEMTYPE_RAM) {
			continue;
		}
		for (uint64_t a = page_up(e->base); a + KPV_PAGE_SIZE <= e->base + e->size &&
						    a < ((uint64_t)nr_pages << KPV_PAGE_SHIFT);
		     a += KPV_PAGE_SIZE) {
			if (a == 0 || overlaps(a, KPV_PAGE_SIZE, img, img_end) ||
			    overlaps(a, KPV_PAGE_SIZE, table, table + table_bytes)) {
				continue;
			}
			pages[a >> KPV_PAGE_SHIFT].kind = PG_FREE;
			usage.free_pages++;
		}
	}
	first_free = 1;
}

void ref_mem_usage(struct ref_mem_usage *u)
{
	unsigned long flags = kpv_shim_lock(&mem_lock);

	*u = usage;
	kpv_shim_unlock(&mem_lock, flags);
}

/* A free frame, zeroed and marked @kind; 0 if none. Under mem_lock. */
static uint32_t frame_take(enum page_kind kind)
{
	uint32_t i = first_free;

	while (i < nr_pages && pages[i].kind != PG_FREE) {
		i++;
	}
	if (i == nr_pages) {
		return 0;
	}
	pages[i] = (struct ref_page){ .kind = kind };
	first_free = i + 1;
	usage.pages++;
	usage.free_pages--;
	memset(PAGE_PTR(i), 0, KPV_PAGE_SIZE);
	return i;
}

static void frame_give(uint32_t pfn)
{
	pages[pfn] = (struct ref_page){ .kind = PG_FREE };
	if (pfn < first_free) {
		first_free = pfn;
	}
	usage.pages--;
	usage.free_pages++;
}

/* The bits of units @u .. @u + @n - 1. */
static uint64_t units_mask(uint32_t u, uint32_t n)
{
	return (n == UNITS ? ~0ull : (1ull << n) - 1) << u;
}

/* The first @n free units in a row of @used, or -1. */
static int units_find(uint64_t used, uint32_t n)
{
	for (uint32_t u = 0; u + n <= UNITS; u++) {
		if ((used & units_mask(u, n)) == 0) {
			return (int)u;
		}
	}
	return -1;
}

/* A block of @n units in some chunk page. Under mem_lock. */
static void *units_take(uint32_t n)
{
	uint8_t *p;
	uint32_t c;
	int u = -1;

	for (c = chunks; c != 0; c = pages[c].next) {
		u = units_find(pages[c].used, n);
		if (u >= 0) {
			break;
		}
	}
	if (c == 0) {
		c = frame_take(PG_CHUNK);
		if (c == 0) {
			return NULL;
		}
		pages[c].next = chunks;
		chunks = c;
		u = 0;
	}
	pages[c].used |= units_mask((uint32_t)u, n);
	pages[c].ends |= units_mask((uint32_t)u + n - 1, 1);
	p = (uint8_t *)PAGE_PTR(c) + (uint32_t)u * UNIT;
	memset(p, 0, n * UNIT);
	return p;
}

static void chunk_unlink(uint32_t c)
{
	uint32_t *prev = &chunks;

	while (*prev != c) {
		prev = &pages[*prev].next;
	}
	*prev = pages[c].next;
}

/* Free the block at unit @u of chunk page @c. Under mem_lock. */
static void units_give(const void *p, uint32_t c, uint32_t u)
{
	struct ref_page *pg = &pages[c];
	uint32_t end = u;

	if ((KT_GPA(p) & (UNIT - 1)) != 0 || ((pg->used >> u) & 1) == 0 ||
	    (u > 0 && ((pg->used >> (u - 1)) & 1) != 0 && ((pg->ends >> (u - 1)) & 1) == 0)) {
		kt_crash("kpv_shim_free(%p): not the start of a block", p);
	}
	while (((pg->ends >> end) & 1) == 0) {
		end++;
	}
	pg->used &= ~units_mask(u, end - u + 1);
	pg->ends &= ~units_mask(end, 1);
	if (pg->used == 0) {
		chunk_unlink(c);
		frame_give(c);
	}
}

void *kpv_shim_alloc(size_t size)
{
	unsigned long flags;
	void *p;

	if (size > KPV_PAGE_SIZE) {
		return NULL;
	}
	flags = kpv_shim_lock(&mem_lock);
	p = units_take(size == 0 ? 1 : (uint32_t)((size + UNIT - 1) / UNIT));
	if (p != NULL) {
		usage.blocks++;
	}
	kpv_shim_unlock(&mem_lock, flags);
	return p;
}

void kpv_shim_free(void *p)
{
	uint32_t pfn = PFN(p);
	unsigned long flags;

	if (p == NULL) {
		return;
	}
	flags = kpv_shim_lock(&mem_lock);
	if (pfn >= nr_pages || pages[pfn].kind != PG_CHUNK) {
		kt_crash("kpv_shim_free(%p): not from kpv_shim_alloc()", p);
	}
	units_give(p, pfn, (uint32_t)(KT_GPA(p) & (KPV_PAGE_SIZE - 1)) / UNIT);
	usage.blocks--;
	kpv_shim_unlock(&mem_lock, flags);
}

void *kpv_shim_page_alloc(void)
{
	unsigned long flags = kpv_shim_lock(&mem_lock);
	uint32_t pfn = frame_take(PG_PAGE);

	kpv_shim_unlock(&mem_lock, flags);
	return pfn != 0 ? PAGE_PTR(pfn) : NULL;
}

/* NULL is ignored, as shim.h promises (and as kpv_shim_free() does). */
void kpv_shim_page_free(void *page)
{
	uint32_t pfn = PFN(page);
	unsigned long flags;

	if (page == NULL) {
		return;
	}
	flags = kpv_shim_lock(&mem_lock);
	if (pfn >= nr_pages || pages[pfn].kind != PG_PAGE || PAGE_PTR(pfn) != page) {
		kt_crash("kpv_shim_page_free(%p): not from kpv_shim_page_alloc()", page);
	}
	frame_give(pfn);
	kpv_shim_unlock(&mem_lock, flags);
}

uint64_t kpv_shim_virt_to_gpa(const void *va)
{
	return KT_GPA(va);
}

/* The map window lies below 4 GiB, inside the builder's identity map. */
void *kpv_shim_map_gpa(uint64_t gpa, uint32_t nr)
{
	uint64_t base = kt_boot.si.map_window_gpa, end = base + kt_boot.si.map_window_size;
	uint64_t len = (uint64_t)nr * KPV_PAGE_SIZE;

	if (nr == 0 || gpa < base || gpa + len > end || end > 0x100000000ull) {
		return NULL;
	}
	return KT_PTR(gpa);
}

void kpv_shim_unmap_gpa(void *va, uint32_t nr)
{
}
