/* SPDX-License-Identifier: MIT */
/*
 * tools/lib/batches.c - the batched control calls (DOMAIN_POPULATE,
 * DOMAIN_LOAD) carried out whole: split into one-page arrays, repeated
 * while Keel processes part of a batch (docs/abi/hypercalls.md, batching
 * rules), every element's status handed back.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keelctl/keelctl.h>
#include "lib.h"

#define EXTENTS_PER_CALL	(KEEL_PAGE_SIZE / sizeof(struct keel_memory_extent))
#define LOADS_PER_CALL		170	/* control.md: up to 170 (24-byte elements) */

/* Keel's n must say it processed 1..count elements, else it would loop. */
static long checked_progress(long n, size_t count)
{
	if (n < 0) {
		return n;
	}
	return n >= 1 && (size_t)n <= count ? n : -KEEL_EINVAL;
}

long keelctl_domain_populate(struct keelctl *c, uint32_t domid, struct keel_memory_extent *ext,
			     size_t count)
{
	long first_error = 0;
	size_t done = 0;

	while (done < count) {
		size_t n = count - done < EXTENTS_PER_CALL ? count - done : EXTENTS_PER_CALL;
		uint64_t args[6] = { domid, 0, n, 0, 0, 0 };
		struct keel_privcmd_buf b = keelctl_buf_arg(ext + done, n * sizeof(*ext),
			KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT, 1);
		long rc = checked_progress(keelctl_hypercall(c, KEEL_HC_CTL_DOMAIN_POPULATE, args,
							     &b, 1), n);

		if (rc < 0) {
			return rc;
		}
		for (long i = 0; i < rc && first_error == 0; i++) {
			first_error = ext[done + (size_t)i].status;
		}
		done += (size_t)rc;
	}
	return first_error;
}

/* One DOMAIN_LOAD call of @n (<= LOADS_PER_CALL) pages; returns Keel's n. */
static long load_once(struct keelctl *c, uint32_t domid, struct keelctl_load *pages, size_t n,
		      struct keel_ctl_load_page *arr, struct keel_privcmd_buf *bufs)
{
	uint64_t args[6] = { domid, 0, n, 0, 0, 0 };
	long rc;

	memset(arr, 0, n * sizeof(*arr));
	bufs[0] = keelctl_buf_arg(arr, n * sizeof(*arr),
				  KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT, 1);
	for (size_t i = 0; i < n; i++) {
		arr[i].dst_gfn = pages[i].dst_gfn;
		/* Each source page's GFN goes into its element's src_gfn. */
		bufs[1 + i] = (struct keel_privcmd_buf){
			.addr = (uintptr_t)pages[i].page, .len = KEEL_PAGE_SIZE,
			.flags = KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_GFN,
			.at = KEEL_PRIVCMD_AT_BUF, .index = 0,
			.offset = (uint32_t)(i * sizeof(*arr) +
					     offsetof(struct keel_ctl_load_page, src_gfn)),
		};
	}
	rc = checked_progress(keelctl_hypercall(c, KEEL_HC_CTL_DOMAIN_LOAD, args, bufs,
						(unsigned int)(n + 1)), n);
	for (long i = 0; i < rc; i++) {
		pages[i].status = arr[i].status;
	}
	return rc;
}

long keelctl_domain_load(struct keelctl *c, uint32_t domid, struct keelctl_load *pages,
			 size_t count)
{
	struct keel_ctl_load_page *arr = calloc(LOADS_PER_CALL, sizeof(*arr));
	struct keel_privcmd_buf *bufs = calloc(LOADS_PER_CALL + 1, sizeof(*bufs));
	long first_error = 0, rc = 0;
	size_t done = 0;

	if (!arr || !bufs) {
		rc = -KEEL_ENOMEM;
	}
	while (rc >= 0 && done < count) {
		size_t n = count - done < LOADS_PER_CALL ? count - done : LOADS_PER_CALL;

		rc = load_once(c, domid, pages + done, n, arr, bufs);
		for (long i = 0; i < rc && first_error == 0; i++) {
			first_error = pages[done + (size_t)i].status;
		}
		if (rc > 0) {
			done += (size_t)rc;
		}
	}
	free(arr);
	free(bufs);
	return rc < 0 ? rc : first_error;
}
