/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/guest_ram.c - each domain's guest RAM as the
 * shim hands it out: kpv_shim_alloc() and kpv_shim_page_alloc() take pages
 * of the domain's real RAM (Keel's pages, at known GPAs), one page per
 * allocation, so every pointer pvdrivers passes to Keel is a GPA Keel
 * checks like any guest's.
 *
 * AddressSanitizer watches that RAM: free pages and the part of a page past
 * a small allocation are poisoned, so pvdrivers reading past an object,
 * or using memory it freed, stops the run. Everything is unpoisoned before
 * Keel takes the pages back.
 *
 * One thing the harness cannot do as Keel does: after a forced revoke, a
 * mapper's view still points at the granter's page, where Keel would show
 * it a scratch page. So a page freed while another domain still has a view
 * of it is set aside (not poisoned, not reused) until the last view goes:
 * the mapper's stale accesses then touch nothing anyone else uses, as with
 * the scratch page.
 */
#include <string.h>
#include <sanitizer/asan_interface.h>
#include "harness_priv.h"

#define PAGE		4096u
#define SCRATCH_PAGE	(HARNESS_RAM_PAGES - 1)	/* harness_scratch() */

#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(a, s)		((void)(a), (void)(s))
#define ASAN_UNPOISON_MEMORY_REGION(a, s)	((void)(a), (void)(s))
#endif

static unsigned int view_count(const void *page);

void ram_init(struct hdom *d)
{
	for (uint32_t i = 0; i < HARNESS_RAM_PAGES; i++) {
		d->page_va[i] = henv_gfn_host(d->keel, HARNESS_RAM_GFN + i);
		d->page_use[i] = PAGE_FREE;
		if (i != SCRATCH_PAGE) {
			ASAN_POISON_MEMORY_REGION(d->page_va[i], PAGE);
		}
	}
	d->page_use[SCRATCH_PAGE] = PAGE_SCRATCH;
	d->scratch = d->page_va[SCRATCH_PAGE];
	d->scratch_gpa = (HARNESS_RAM_GFN + SCRATCH_PAGE) << 12;
}

void ram_fini(struct hdom *d)
{
	for (uint32_t i = 0; i < HARNESS_RAM_PAGES; i++) {
		ASAN_UNPOISON_MEMORY_REGION(d->page_va[i], PAGE);
	}
}

/* The page @va lies in, or -1. */
static int page_of(const struct hdom *d, const void *va)
{
	const uint8_t *p = va;

	for (uint32_t i = 0; i < HARNESS_RAM_PAGES; i++) {
		if (p >= d->page_va[i] && p < d->page_va[i] + PAGE) {
			return (int)i;
		}
	}
	return -1;
}

static void *take_page(struct hdom *d, uint8_t use, size_t size)
{
	for (uint32_t n = 0; n < HARNESS_RAM_PAGES; n++) {
		uint32_t i = (d->hint + n) % HARNESS_RAM_PAGES;

		if (d->page_use[i] != PAGE_FREE) {
			continue;
		}
		d->hint = i + 1;
		d->page_use[i] = use;
		d->alloc_size[i] = (uint32_t)size;
		ASAN_UNPOISON_MEMORY_REGION(d->page_va[i], (size + 7) & ~(size_t)7);
		memset(d->page_va[i], 0, size);
		return d->page_va[i];
	}
	return NULL;
}

void *ram_alloc(struct hdom *d, size_t size)
{
	void *p;

	if (size > PAGE) {
		harness_violation("%s: kpv_shim_alloc(%zu): more than a page", d->name, size);
		return NULL;
	}
	p = take_page(d, PAGE_ALLOC, size ? size : 1);
	d->usage.allocs += p != NULL;
	return p;
}

void *ram_page_alloc(struct hdom *d)
{
	void *p = take_page(d, PAGE_WHOLE, PAGE);

	d->usage.pages += p != NULL;
	return p;
}

void ram_free(struct hdom *d, void *p, bool whole_page)
{
	int i = page_of(d, p);
	uint8_t want = whole_page ? PAGE_WHOLE : PAGE_ALLOC;

	if (i < 0 || p != d->page_va[i] || d->page_use[i] != want) {
		harness_violation("%s: %s(%p): not a live allocation of that kind", d->name,
				  whole_page ? "kpv_shim_page_free" : "kpv_shim_free", p);
		return;
	}
	if (view_count(p)) {
		d->page_use[i] = PAGE_ASIDE;
	} else {
		d->page_use[i] = PAGE_FREE;
		ASAN_POISON_MEMORY_REGION(d->page_va[i], PAGE);
	}
	if (whole_page) {
		d->usage.pages--;
	} else {
		d->usage.allocs--;
	}
}

/* --- Views of other domains' pages (kpv_shim_map_gpa) -------------------------------- */

#define MAX_VIEWS	16384

static struct view {
	struct hdom *viewer;
	void *page;
} views[MAX_VIEWS];
static unsigned int nviews;

static unsigned int view_count(const void *page)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nviews; i++) {
		n += views[i].page == page;
	}
	return n;
}

void ram_view_add(struct hdom *viewer, void *page)
{
	if (nviews == MAX_VIEWS) {
		harness_violation("%s: more than %u pages mapped", viewer->name, MAX_VIEWS);
		return;
	}
	views[nviews++] = (struct view){ viewer, page };
}

/*
 * Pages of destroyed domains that others still view: taken back from Keel
 * right after it freed them (henv_reserve_pages()), returned when the last
 * view goes.
 */
#define MAX_KEPT	4096

static void *kept[MAX_KEPT];
static unsigned int nkept;

/*
 * A page set aside with no view left is free at last; so is a destroyed
 * domain's page kept for its viewers.
 */
static void release_aside(void *page)
{
	if (view_count(page)) {
		return;
	}
	for (unsigned int n = 0; n < HARNESS_MAX_DOMAINS; n++) {
		struct hdom *d = H.doms[n];
		int i = d && !d->dead ? page_of(d, page) : -1;

		if (i >= 0 && d->page_use[i] == PAGE_ASIDE) {
			d->page_use[i] = PAGE_FREE;
			ASAN_POISON_MEMORY_REGION(d->page_va[i], PAGE);
		}
	}
	for (unsigned int i = 0; i < nkept; i++) {
		if (kept[i] == page) {
			henv_unreserve_page(page);
			kept[i] = kept[--nkept];
			return;
		}
	}
}

void ram_keep_viewed(struct hdom *d)
{
	void *pages[HARNESS_RAM_PAGES];
	unsigned int n = 0;

	for (uint32_t i = 0; i < HARNESS_RAM_PAGES; i++) {
		if (view_count(d->page_va[i]) && nkept + n < MAX_KEPT) {
			pages[n++] = d->page_va[i];
		}
	}
	if (n && henv_reserve_pages(pages, n) != 0) {
		harness_violation("%s: could not keep the pages others view", d->name);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		kept[nkept++] = pages[i];
	}
}

bool ram_view_remove(struct hdom *viewer, void *page)
{
	for (unsigned int i = 0; i < nviews; i++) {
		if (views[i].viewer == viewer && views[i].page == page) {
			views[i] = views[--nviews];
			release_aside(page);
			return true;
		}
	}
	return false;
}

void ram_views_gone(struct hdom *viewer)
{
	for (unsigned int i = 0; i < nviews;) {
		if (views[i].viewer == viewer) {
			void *page = views[i].page;

			views[i] = views[--nviews];
			release_aside(page);
		} else {
			i++;
		}
	}
}

void ram_views_reset(void)
{
	nviews = 0;
	while (nkept) {
		henv_unreserve_page(kept[--nkept]);
	}
}

uint64_t ram_gpa(struct hdom *d, const void *va)
{
	int i = page_of(d, va);

	if (i < 0) {
		harness_violation("%s: kpv_shim_virt_to_gpa(%p): not guest RAM", d->name, va);
		return 0;
	}
	return ((HARNESS_RAM_GFN + (uint64_t)i) << 12) +
	       (uint64_t)((const uint8_t *)va - d->page_va[i]);
}
