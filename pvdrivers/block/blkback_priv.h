/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkback_priv.h - what blkback.c (the device, its offer,
 * its rings), blkback_io.c (serving one request) and blkback_batch.c
 * (serving several together) share.
 *
 * Each ring has a work item that takes, serves and answers its requests
 * synchronously (the store's calls may block), at most a ring's worth per
 * run. Ring events only schedule it. connected() makes the ring workers,
 * disconnected() destroys them, which waits for a run in progress: so no
 * worker touches a ring the core is about to unmap. Data moves with grant
 * copies, through bounce pages of our own or, for a store that is memory
 * (store.memory), straight between the frontend's pages and the store's.
 * With F_PERSISTENT the frontend's data pages are mapped once instead
 * (blkback_persist.c) and data moves by memcpy between them and the
 * store's memory, or the store's read() and write() use them in place; a
 * grant we did not map is copied as without it. READs and WRITEs that fit
 * a batch are served in batches (blkback_batch.c), the rest one at a time
 * (blkback_io.c).
 */
#ifndef KPV_BLOCK_BLKBACK_PRIV_H
#define KPV_BLOCK_BLKBACK_PRIV_H

#include <keel_pv/block.h>
#include "blk_common.h"

#define BOUNCE_PAGES	8u		/* 32 KiB of data per store call */
/* br->ops: a page of copies, as much as one call takes. */
#define OPS_CAP		((uint32_t)(KPV_PAGE_SIZE / sizeof(struct kpv_copy)))
#define BE_IND_PAGES	(KEEL_IO_BLOCK_MAX_SEGMENTS / BLK_PER_PAGE)
/* The bounce pages of a batch (fewer if memory is short). */
#define BATCH_PAGES	128u

/* One request of a batch. */
struct be_item {
	struct keel_io_block_request rq;	/* our copy */
	uint32_t seg0;			/* indirect: its segments from seg_pool[seg0] */
	uint32_t page0;			/* its data from bounce[page0] */
	uint32_t bytes;
	uint16_t status;
	bool mapped;			/* every data segment is a persistent mapping */
};

/* A persistent grant of the frontend, mapped (blkback_persist.c). */
struct be_pmap {
	uint32_t gref;
	struct kpv_mapping m;
};

#define BE_PMAP_PER_CHUNK	((uint32_t)(KPV_PAGE_SIZE / sizeof(struct be_pmap)))
#define BE_PMAP_CHUNKS		((KEEL_IO_BLOCK_PERSISTENT_MAX + BE_PMAP_PER_CHUNK - 1) / \
				 BE_PMAP_PER_CHUNK)
/* Store calls over persistent mappings: a page of pieces. */
#define BE_PIOV			((uint32_t)(KPV_PAGE_SIZE / sizeof(struct kpv_blk_iov)))

/* As many requests as a page of them holds. */
#define BATCH_MAX	((uint32_t)(KPV_PAGE_SIZE / sizeof(struct be_item)))
/*
 * But answered after 16 at most: the frontend can then send more while the
 * backend serves the next ones, rather than each side waiting for the
 * other with a whole queue's worth at a time.
 */
#define BATCH_ANSWER	16u

/* Requests taken and not yet served; each may use one bounce page per segment. */
struct be_batch {
	uint32_t n, segs, pages;
	bool reads;			/* a WRITE after a READ waits for the next batch */
	struct be_item *item;		/* a page of them */
};

/* One ring and its worker: from connected() to disconnected(). */
struct be_ring {
	struct kpv_blkback *be;
	unsigned int index;
	struct kpv_ring *ring;
	struct kpv_work *work;
	bool failed;			/* [work] a protocol error: serve nothing more */
	bool owe_notify;		/* [work] answers pushed the frontend waits to hear of */
	uint64_t busy_ns;		/* [work] with opts.poll_ns: when a run last took a request */
	uint32_t idle_looks;		/* [work] empty looks since */
	uint32_t nr_bounce;		/* BOUNCE_PAGES .. BATCH_PAGES */
	void *bounce[BATCH_PAGES];
	struct keel_io_block_segment *ind[BE_IND_PAGES];	/* copies of indirect pages */
	struct keel_io_block_segment *seg_pool;	/* a page: a batch's indirect segments */
	struct kpv_copy *ops;		/* a page of them */
	struct kpv_blk_iov iov[BOUNCE_PAGES];
	struct be_batch batch;
	/* F_PERSISTENT (blkback_persist.c); pslot NULL without it. */
	uint16_t *pslot;		/* a page: hash of gref -> entry + 1, 0 empty */
	struct be_pmap *pmap[BE_PMAP_CHUNKS];	/* the entries, pages made as needed */
	uint32_t nr_pmap;		/* entries */
	uint32_t pmax;			/* the most we map: opts, less once out of room */
	struct kpv_blk_iov *piov;	/* a page: store calls straight over mappings */
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

/* blkback_io.c, for blkback_batch.c too: the steps of serving a request. */
bool blkback_shape_ok(const struct kpv_blkback *be, const struct keel_io_block_request *rq);
uint16_t blkback_admit(const struct kpv_blkback *be, const struct keel_io_block_request *rq,
		       uint32_t bytes);
void blkback_copy_op(struct kpv_copy *op, uint32_t peer, uint32_t ref, uint16_t peer_off,
		     void *ours, uint16_t our_off, uint16_t len, bool from_peer);
void blkback_move(uint8_t *mapped, uint8_t *store, uint32_t len, bool write);
/* One store call: READ into or WRITE from @n pieces from @sector; the store's result. */
int blkback_store_rw(const struct kpv_blkback *be, uint64_t sector, const struct kpv_blk_iov *iov,
		     uint32_t n, bool write, bool fua);
/* Whether a WRITE is durable when it returns (FUA asked for, or no F_FLUSH to ask later). */
bool blkback_fua(const struct kpv_blkback *be, const struct keel_io_block_request *rq);

/*
 * blkback_batch.c. fits(): whether @rq may join the batch as it is (else
 * serve the batch first); add(): whether it joined (else serve it alone).
 * serve(): serve the batch; 0, or the protocol error of request *@answered
 * of it, which gets no answer, and nothing after it is served. The first
 * *@answered requests of br->batch have their status; the batch is empty
 * again.
 */
bool blkback_batch_fits(const struct be_ring *br, const struct keel_io_block_request *rq);
bool blkback_batch_add(struct be_ring *br, const struct keel_io_block_request *rq);
uint32_t blkback_batch_serve(struct be_ring *br, uint32_t *answered);

/*
 * blkback_persist.c. init(): the table, if F_PERSISTENT was negotiated
 * (false: out of memory); fini(): every mapping undone, the table freed.
 * map(): map @gref unless it is mapped, or we map no more; 0, or
 * KEEL_IO_ERR_GRANT for a grant Keel refuses because of the frontend;
 * *@va: where it is mapped now, NULL if it is not (it is copied).
 * find(): where @gref is mapped, NULL if it is not (copy it).
 */
bool blkback_persist_init(struct be_ring *br);
void blkback_persist_fini(struct be_ring *br);
uint32_t blkback_persist_map(struct be_ring *br, uint32_t gref, uint8_t **va);
uint8_t *blkback_persist_find(const struct be_ring *br, uint32_t gref);

#endif
