/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkback_priv.h - what blkback.c (the device, its offer,
 * its rings) and blkback_io.c (serving one request) share.
 *
 * Each ring has a work item that takes, serves and answers its requests
 * one at a time, synchronously (the store's calls may block), at most a
 * ring's worth per run. Ring events only schedule it. connected() makes
 * the ring workers, disconnected() destroys them, which waits for a run in
 * progress: so no worker touches a ring the core is about to unmap. Data
 * moves with grant copies through bounce pages of our own; the frontend's
 * pages are never mapped.
 */
#ifndef KPV_BLOCK_BLKBACK_PRIV_H
#define KPV_BLOCK_BLKBACK_PRIV_H

#include <keel_pv/block.h>
#include "blk_common.h"

#define BOUNCE_PAGES	8u		/* 32 KiB of data per store call */
#define BE_IND_PAGES	(KEEL_IO_BLOCK_MAX_SEGMENTS / BLK_PER_PAGE)

/* One ring and its worker: from connected() to disconnected(). */
struct be_ring {
	struct kpv_blkback *be;
	unsigned int index;
	struct kpv_ring *ring;
	struct kpv_work *work;
	bool failed;			/* [work] a protocol error: serve nothing more */
	void *bounce[BOUNCE_PAGES];
	struct keel_io_block_segment *ind[BE_IND_PAGES];	/* copies of indirect pages */
	struct kpv_copy *ops;		/* a page of them */
	struct kpv_blk_iov iov[BOUNCE_PAGES];
};

struct kpv_blkback {
	struct kpv *k;
	uint32_t id;			/* the device's, for the log */
	struct kpv_dev *dev;
	struct kpv_blk_store store;
	void *ctx;
	struct kpv_blkback_ops ops;
	struct kpv_blkback_opts opts;	/* (c) validated */
	uint32_t lbs, pbs;		/* (c) the store's block sizes */
	struct kpv_lock *lock;

	uint64_t capacity;		/* [lock] the store's, last read */
	bool live;			/* [lock] the ring workers exist */
	bool closing;			/* [lock] */

	/* Set by offer() and connected() (the core's work), read by the workers. */
	struct keel_io_block_config cfg;	/* offered; capacity_sectors not used */
	uint64_t features;			/* negotiated */
	uint32_t nr_rings;
	struct be_ring *rings[KEEL_IO_MAX_RINGS];
};

/*
 * blkback_io.c: serve @rq (our copy) on @br. 0 with the answer in
 * *@status, or the KEEL_IO_ERR_* of the protocol error it is (then it gets
 * no answer).
 */
uint32_t blkback_serve(struct be_ring *br, const struct keel_io_block_request *rq,
		       uint16_t *status);

#endif
