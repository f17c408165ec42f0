/* SPDX-License-Identifier: MIT */
/*
 * tools/build/guestmem.c - the guest's pages as the builder composes them,
 * in its own memory (control.md step 4: "the toolstack composes each page
 * in its own memory and loads whole pages"). Only pages written are kept;
 * the rest of the guest's RAM is already zero from POPULATE.
 */
#include <stdlib.h>
#include <string.h>
#include "build.h"

#define PAGE	4096u

/* The index of @gfn in the sorted array, or where it would go. */
static size_t find(const struct guestmem *m, uint64_t gfn)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->gfns[mid] < gfn) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static int grow(struct guestmem *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256;
	uint64_t *gfns = realloc(m->gfns, cap * sizeof(*gfns));
	uint8_t **pages;

	if (!gfns) {
		return -1;
	}
	m->gfns = gfns;
	pages = realloc(m->pages, cap * sizeof(*pages));
	if (!pages) {
		return -1;
	}
	m->pages = pages;
	m->cap = cap;
	return 0;
}

static uint8_t *page_for(struct guestmem *m, uint64_t gfn)
{
	size_t i;
	uint8_t *page;

	if (m->n && m->gfns[m->last] == gfn) {
		return m->pages[m->last];
	}
	i = find(m, gfn);
	if (i < m->n && m->gfns[i] == gfn) {
		m->last = i;
		return m->pages[i];
	}
	if (m->n == m->cap && grow(m) != 0) {
		return NULL;
	}
	page = calloc(1, PAGE);
	if (!page) {
		return NULL;
	}
	memmove(m->gfns + i + 1, m->gfns + i, (m->n - i) * sizeof(*m->gfns));
	memmove(m->pages + i + 1, m->pages + i, (m->n - i) * sizeof(*m->pages));
	m->gfns[i] = gfn;
	m->pages[i] = page;
	m->n++;
	m->last = i;
	return page;
}

int guestmem_write(struct guestmem *m, uint64_t gpa, const void *src, size_t len)
{
	const uint8_t *s = src;

	while (len) {
		size_t off = (size_t)(gpa % PAGE), n = PAGE - off < len ? PAGE - off : len;
		uint8_t *page = page_for(m, gpa / PAGE);

		if (!page) {
			return -1;
		}
		if (s) {
			memcpy(page + off, s, n);
			s += n;
		}
		gpa += n;
		len -= n;
	}
	return 0;
}

void guestmem_free(struct guestmem *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->pages[i]);
	}
	free(m->pages);
	free(m->gfns);
	memset(m, 0, sizeof(*m));
}
