/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkfront_priv.h - what blkfront.c (the device and the
 * OS's calls), blkfront_conn.c (connections, and the requests they carried)
 * and blkfront_io.c (requests onto rings, responses back) share.
 *
 * One work item, fe->work, does all ring work: it reclaims connections the
 * core took down, consumes responses (ending their grants, completing
 * requests) and dispatches queued requests. Being the only code that
 * touches a ring or frees a connection, it takes fe->lock only against
 * the core's callbacks (connected(), disconnected(), config_changed(), run
 * by the core's own work) and kpv_blkfront_submit() [any], which only
 * publish or retire a connection or queue a request under it. Ring memory
 * is touched only under fe->lock while its connection is fe->conn:
 * disconnected() unpublishes it before the core frees the rings.
 */
#ifndef KPV_BLOCK_BLKFRONT_PRIV_H
#define KPV_BLOCK_BLKFRONT_PRIV_H

#include <keel_pv/block.h>
#include "blk_common.h"

#define SHADOWS_PER_CHUNK	32u	/* one kpv_shim_alloc() each */
#define SHADOW_NONE		0xffffu
#define IND_PAGES		(KPV_BLKFRONT_MAX_SEGMENTS / KEEL_IO_BLOCK_SEGMENTS_PER_PAGE)

/* kpv_blk_req.state: from submit to completion, on the queue, then off it with parts flying. */
enum { RQ_IDLE, RQ_QUEUED, RQ_FLYING };

/*
 * kpv_blk_req's private fields: next (queue link), done (bytes, or for
 * DISCARD and WRITE_ZEROES sectors, sent so far), seg and seg_off (where
 * the next part starts), parts (ring requests in flight), status (the
 * first failure), state (RQ_*), resent (it went to a backend that is gone:
 * what no longer fits ends S_IOERR). All [work] once queued, but next and
 * state, which are [lock].
 */

/* A ring request: being built, in flight (its id names it), answered, or lost. */
enum { SH_FREE, SH_BUILD, SH_FLY, SH_DONE, SH_GONE };

#define POOL_NONE		0xffffu

struct fe_shadow {
	uint64_t id;			/* seq << 32 | ring << 16 | index: unique across rings */
	struct kpv_blk_req *req;
	uint8_t op, state;		/* SH_* */
	uint16_t next_free;
	uint16_t nr_data;		/* data grants made (not pool pages) */
	bool indirect;			/* data grants are in ind[], else in grefs[] */
	uint16_t pool_head, pool_tail;	/* F_PERSISTENT: its pool pages, in order, or POOL_NONE */
	uint32_t from_seg, from_off;	/* F_PERSISTENT: where in req its data starts ... */
	uint32_t bytes;			/* ... and how much */
	uint32_t grefs[KEEL_IO_BLOCK_DIRECT_SEGMENTS];
	uint32_t ind_gref[IND_PAGES];
	struct keel_io_block_segment *ind[IND_PAGES];	/* our pages, granted read-only */
};

_Static_assert(SHADOWS_PER_CHUNK * sizeof(struct fe_shadow) <= KPV_PAGE_SIZE,
	       "a chunk of shadows is one kpv_shim_alloc()");

/* F_PERSISTENT: a page of the ring's pool, granted writable for the connection. */
struct fe_ppage {
	void *page;
	uint32_t gref;
	uint16_t next;			/* the free list's, or its shadow's list */
};

#define POOL_PER_CHUNK		((uint32_t)(KPV_PAGE_SIZE / sizeof(struct fe_ppage)))
#define POOL_CHUNKS		((KEEL_IO_BLOCK_PERSISTENT_MAX + POOL_PER_CHUNK - 1) / POOL_PER_CHUNK)

/*
 * A ring's pool (blkfront_pool.c): pages made and granted as needed, up to
 * max, then reused. Only the work touches it; it goes with its connection
 * (conn_free()).
 */
struct fe_pool {
	uint32_t nr;			/* pages made */
	uint32_t max;			/* the most: opts.persistent_pages; 0 without F_PERSISTENT */
	uint32_t nr_free;
	uint16_t free;			/* free-list head, POOL_NONE: none */
	struct fe_ppage *chunks[POOL_CHUNKS];
};

struct fe_ring {
	struct kpv_ring *ring;		/* the core's; [lock] while the connection is live */
	uint32_t index;
	uint32_t nr_shadows;		/* the ring's slots */
	uint32_t free;			/* free-list head, SHADOW_NONE: none */
	uint32_t seq;
	struct fe_shadow *chunks[KEEL_IO_RING_MAX_DATA_PAGES];
	struct fe_pool pool;
};

/* Where in a request's segments the next byte comes from. */
struct cursor {
	uint32_t seg, off;
};

/* The next piece, of at most @max bytes, at @cur of @req; @cur moves past it. */
static inline uint32_t blkfront_next_piece(const struct kpv_blk_req *req, struct cursor *cur,
					   uint32_t max, const struct kpv_blk_seg **seg,
					   uint16_t *offset)
{
	const struct kpv_blk_seg *s = &req->segs[cur->seg];
	uint32_t len = s->length - cur->off;

	if (len > max) {
		len = max;
	}
	*seg = s;
	*offset = (uint16_t)(s->offset + cur->off);
	cur->off += len;
	if (cur->off == s->length) {
		cur->seg++;
		cur->off = 0;
	}
	return len;
}

/* One connection: from connected() until the work reclaims it. */
struct fe_conn {
	struct fe_conn *next_dead;
	uint64_t features;		/* negotiated */
	struct keel_io_block_config cfg;	/* validated; capacity_sectors live [lock] */
	uint32_t nr_rings;
	uint32_t pool_max;		/* F_PERSISTENT: pool pages per ring; 0 without it */
	uint32_t in_flight;		/* [lock] ring requests */
	bool broken;			/* [lock] a protocol error: no more ring work */
	struct fe_ring rings[KPV_BLKFRONT_MAX_RINGS];
};

struct kpv_blkfront {
	struct kpv *k;
	uint32_t id;				/* the device's, for the log */
	struct kpv_dev *dev;
	struct kpv_blkfront_ops ops;
	void *os;
	struct kpv_blkfront_opts opts;
	struct kpv_lock *lock;
	struct kpv_work *work;

	struct kpv_blk_req *head, *tail;	/* [lock] queued */
	struct fe_conn *conn;			/* [lock] live, or NULL */
	struct fe_conn *dead;			/* [lock] to reclaim */
	bool closing;				/* [lock] no more submits; failures end S_IOERR */
	struct kpv_blkfront_stats stats;	/* [lock] */
	uint64_t busy_ns;			/* [lock] with opts.poll_ns: the last ring activity */
	uint32_t idle_looks;			/* [lock] polls since that found nothing */

	/* The core's work only: the config choose() accepted. */
	struct keel_io_block_config chosen;
};

/* blkfront_conn.c */
void blkfront_end(struct kpv_blkfront *fe, struct kpv_blk_req *req, uint16_t status);
/* [lock] Take the queue's head off it. */
void blkfront_dequeue(struct kpv_blkfront *fe);
/* Closing: every queued request ends S_IOERR. [work, or after it is gone] */
void blkfront_fail_queue(struct kpv_blkfront *fe);
/* A connection for the rings @dev has now (connected()); NULL: out of memory. */
struct fe_conn *blkfront_conn_new(struct kpv_blkfront *fe, struct kpv_dev *dev);
/* The connection is over (disconnected()): unpublish it, take its grants back. */
void blkfront_conn_lost(struct kpv_blkfront *fe);
/* Requeue (or fail) what lost connections carried, and free them. [work] */
void blkfront_reclaim_dead(struct kpv_blkfront *fe);

/* blkfront_io.c */
/* Data segments per ring request on @c. */
uint32_t blkfront_max_segments(const struct fe_conn *c);
/* Queued requests onto the rings, as far as they go. [work] */
void blkfront_dispatch(struct kpv_blkfront *fe);
/*
 * Up to a ring's worth of responses per ring; true if some are left. With
 * @poll, a ring found empty is left unarmed (the caller looks again). [work]
 */
bool blkfront_consume(struct kpv_blkfront *fe, bool poll);
/* End every grant of @sh, by force where the backend still holds one. */
void blkfront_ungrant(struct kpv *k, struct fe_shadow *sh);
struct fe_shadow *blkfront_shadow(const struct fe_ring *fr, uint32_t index);

/*
 * blkfront_pool.c. need(): the pool pages @bytes of @req from @from take
 * (segments share a page where their bytes do not overlap). room(): how
 * many more the pool can give now. fill(): give @sh (its req, from_*,
 * bytes set) its pages and write each data segment of @rq, in @rq or in
 * @sh's indirect pages (made already); WRITE: the data copied in. 0, or
 * the error of making a page (what it took stays @sh's for put()).
 * read_out(): a READ's data to the OS's buffers. put(): @sh's pages free
 * again. fini(): every page's grant ended (by force where the backend
 * still maps it), the pages freed.
 */
uint32_t blkfront_pool_need(const struct kpv_blk_req *req, struct cursor from, uint32_t bytes);
uint32_t blkfront_pool_room(const struct fe_pool *pool);
int blkfront_pool_fill(struct kpv_blkfront *fe, struct fe_ring *fr, struct fe_shadow *sh,
		       struct keel_io_block_request *rq);
void blkfront_pool_read_out(struct fe_ring *fr, const struct fe_shadow *sh);
void blkfront_pool_put(struct fe_ring *fr, struct fe_shadow *sh);
void blkfront_pool_fini(struct kpv *k, struct fe_pool *pool);

#endif
