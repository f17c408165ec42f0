/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/fake/fake_transport.c - the privileged driver's job done in
 * process: check the buffer descriptors (docs/keelctl.md, "Privileged driver
 * user-space API"), copy each buffer into a bounce page of the calling
 * domain's RAM, patch the pages' addresses into arguments and buffers, make
 * the hypercall on the real core, copy OUT buffers back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel/abi.h>
#include "fake_keel.h"
#include "fake_transport.h"

struct fake_transport {
	struct keelctl_transport t;
	void *dom;
};

static int refuse(struct keelctl_transport *t, const char *why, unsigned int i)
{
	snprintf(t->error, sizeof(t->error), "fake privcmd: buffer %u: %s", i, why);
	return -KEELCTL_ETRANSPORT;
}

/* The driver's checks of the descriptors, before anything is copied. */
static int check_bufs(struct keelctl_transport *t, const struct keel_privcmd_buf *bufs,
		      unsigned int n)
{
	const uint32_t known = KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT | KEEL_PRIVCMD_BUF_GFN;

	if (n > KEEL_PRIVCMD_MAX_BUFS || n > FAKE_BOUNCE_PAGES) {
		return refuse(t, "too many buffers", n);
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct keel_privcmd_buf *b = &bufs[i];

		if (b->len == 0 || b->len > KEEL_PRIVCMD_BUF_MAX_LEN || !b->addr) {
			return refuse(t, "bad length or address", i);
		}
		if ((b->flags & ~known) || b->pad0 || b->at > KEEL_PRIVCMD_AT_BUF) {
			return refuse(t, "unknown flag or placement", i);
		}
		if (b->at == KEEL_PRIVCMD_AT_ARG && b->index >= 6) {
			return refuse(t, "argument index out of range", i);
		}
		if (b->at == KEEL_PRIVCMD_AT_BUF &&
		    (b->index >= n || b->index == i ||
		     (uint64_t)b->offset + 8 > bufs[b->index].len)) {
			return refuse(t, "patch target out of range", i);
		}
	}
	return 0;
}

static int fake_hypercall(struct keelctl_transport *t, uint32_t nr, const uint64_t args[6],
			  const struct keel_privcmd_buf *bufs, unsigned int nr_bufs,
			  int64_t *result)
{
	struct fake_transport *ft = (struct fake_transport *)t;
	uint64_t a[6];
	int rc = check_bufs(t, bufs, nr_bufs);

	if (rc != 0) {
		return rc;
	}
	memcpy(a, args, sizeof(a));
	for (unsigned int i = 0; i < nr_bufs; i++) {
		uint8_t *page = fake_keel_page(ft->dom, FAKE_BOUNCE_GFN + i);

		memset(page, 0, KEEL_PAGE_SIZE);
		if (bufs[i].flags & KEEL_PRIVCMD_BUF_IN) {
			memcpy(page, (const void *)(uintptr_t)bufs[i].addr, bufs[i].len);
		}
	}
	/* Patches after all copies, so a patch into a buffer is not overwritten. */
	for (unsigned int i = 0; i < nr_bufs; i++) {
		uint64_t gfn = FAKE_BOUNCE_GFN + i;
		uint64_t v = (bufs[i].flags & KEEL_PRIVCMD_BUF_GFN) ? gfn : gfn * KEEL_PAGE_SIZE;

		if (bufs[i].at == KEEL_PRIVCMD_AT_ARG) {
			a[bufs[i].index] = v;
		} else if (bufs[i].at == KEEL_PRIVCMD_AT_BUF) {
			uint8_t *dst = (uint8_t *)fake_keel_page(ft->dom, FAKE_BOUNCE_GFN +
								 bufs[i].index) + bufs[i].offset;

			for (unsigned int k = 0; k < 8; k++) {
				dst[k] = (uint8_t)(v >> (8 * k));	/* little-endian */
			}
		}
	}
	*result = fake_keel_hypercall(ft->dom, nr, a);
	for (unsigned int i = 0; i < nr_bufs; i++) {
		if (bufs[i].flags & KEEL_PRIVCMD_BUF_OUT) {
			memcpy((void *)(uintptr_t)bufs[i].addr,
			       fake_keel_page(ft->dom, FAKE_BOUNCE_GFN + i), bufs[i].len);
		}
	}
	return 0;
}

static void fake_close(struct keelctl_transport *t)
{
	free(t);
}

struct keelctl_transport *fake_transport_open(void *dom)
{
	struct fake_transport *ft = calloc(1, sizeof(*ft));

	if (!ft) {
		return NULL;
	}
	ft->t.name = "fake";
	ft->t.hypercall = fake_hypercall;
	ft->t.close = fake_close;
	ft->dom = dom;
	return &ft->t;
}
