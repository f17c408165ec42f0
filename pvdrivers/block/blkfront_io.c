/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkfront_io.c - the frontend's data path: each queued
 * request checked against the connection, cut into ring requests that fit
 * it (13 direct segments, or indirect pages; whole logical blocks each),
 * its pages granted and the slots filled; each response checked against
 * what is outstanding on its ring (block.md, "The FE MUST"), its grants
 * ended (by force if the backend still holds them, so it cannot write a
 * buffer the OS has got back) and its request completed. With
 * F_PERSISTENT the data goes through the ring's pool instead
 * (blkfront_pool.c): copied in before a WRITE, out after a READ.
 */
#include "blkfront_priv.h"

#define ADMIT_GO	0xffffu		/* admit(): send it */
#define TAKE_BATCH	16u		/* responses taken per lock hold */

/* One ring request about to be made from the head request. */
struct part {
	uint64_t sector;
	uint32_t nr_sectors;		/* DISCARD, WRITE_ZEROES */
	uint32_t bytes;			/* READ, WRITE */
	uint32_t nr_segs;
	uint8_t op, flags;
	struct cursor end;		/* READ, WRITE: where the next part starts */
};

struct fe_shadow *blkfront_shadow(const struct fe_ring *fr, uint32_t index)
{
	return &fr->chunks[index / SHADOWS_PER_CHUNK][index % SHADOWS_PER_CHUNK];
}

static void end_grant(struct kpv *k, uint32_t ref)
{
	if (ref && !kpv_grant_end(k, ref)) {
		kpv_grant_revoke(k, ref);
	}
}

void blkfront_ungrant(struct kpv *k, struct fe_shadow *sh)
{
	for (uint32_t i = 0; i < sh->nr_data; i++) {
		end_grant(k, sh->indirect ? sh->ind[i / BLK_PER_PAGE][i % BLK_PER_PAGE].gref
					  : sh->grefs[i]);
	}
	for (uint32_t p = 0; p < IND_PAGES; p++) {
		end_grant(k, sh->ind_gref[p]);
		sh->ind_gref[p] = 0;
	}
	sh->nr_data = 0;
}

/* --- checking and cutting a request ------------------------------------------------ */

static uint64_t total_bytes(const struct kpv_blk_req *req)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < req->nr_segs; i++) {
		n += req->segs[i].length;
	}
	return n;
}

/*
 * Whether connection @c can serve @req (block.md "Reconnect": re-checked
 * on every new connection): ADMIT_GO, or the status it ends with now. One
 * sent to an earlier backend that no longer fits ends S_IOERR. Without
 * F_FLUSH a FLUSH has nothing to do (writes are durable when answered);
 * without F_FUA (and F_FLUSH) neither has a FUA write.
 */
static uint16_t admit(const struct fe_conn *c, const struct kpv_blk_req *req)
{
	uint64_t f = c->features, cap = c->cfg.capacity_sectors, len = req->nr_sectors;
	bool ro = (c->cfg.flags & KEEL_IO_BLOCK_CFG_READ_ONLY) && blk_modifies(req->op);
	uint16_t st = ADMIT_GO;

	switch (req->op) {
	case KEEL_IO_BLOCK_OP_FLUSH:
		st = f & KEEL_IO_BLOCK_F_FLUSH ? ADMIT_GO : KEEL_IO_BLOCK_S_OK;
		break;
	case KEEL_IO_BLOCK_OP_READ:
	case KEEL_IO_BLOCK_OP_WRITE:
		len = total_bytes(req);
		if ((req->flags & KPV_BLK_FUA) && !(f & KEEL_IO_BLOCK_F_FUA) &&
		    (f & KEEL_IO_BLOCK_F_FLUSH)) {
			st = KEEL_IO_BLOCK_S_NOTSUPP;
		} else if (ro) {
			st = KEEL_IO_BLOCK_S_READONLY;
		} else if (blk_misaligned(req->sector, len, c->cfg.logical_block_size) ||
			   blk_beyond(req->sector, len / BLK_SECTOR, cap)) {
			st = KEEL_IO_BLOCK_S_RANGE;
		}
		break;
	default:
		if (!(f & (req->op == KEEL_IO_BLOCK_OP_DISCARD ? KEEL_IO_BLOCK_F_DISCARD
							      : KEEL_IO_BLOCK_F_WRITE_ZEROES))) {
			st = KEEL_IO_BLOCK_S_NOTSUPP;
		} else if (ro) {
			st = KEEL_IO_BLOCK_S_READONLY;
		} else if (blk_beyond(req->sector, len, cap)) {
			st = KEEL_IO_BLOCK_S_RANGE;
		}
		break;
	}
	return st != ADMIT_GO && req->resent ? KEEL_IO_BLOCK_S_IOERR : st;
}

/* Segments per ring request: the offer's, and with F_PERSISTENT no more than a pool holds. */
uint32_t blkfront_max_segments(const struct fe_conn *c)
{
	uint32_t max = KEEL_IO_BLOCK_DIRECT_SEGMENTS;

	if (c->features & KEEL_IO_BLOCK_F_INDIRECT) {
		max = blk_min32(c->cfg.max_segments, KPV_BLKFRONT_MAX_SEGMENTS);
	}
	return c->pool_max ? blk_min32(max, c->pool_max) : max;
}

/*
 * The next ring request of READ/WRITE @req: as many segments as fit, cut
 * back to whole logical blocks unless it is the last (block.md: every
 * READ and WRITE is whole blocks; segments are at least 512 bytes, so 13
 * of them hold a 4096-byte block at least).
 */
static void plan_rw(const struct fe_conn *c, const struct kpv_blk_req *req, struct part *p)
{
	uint32_t max = blkfront_max_segments(c), lbs = c->cfg.logical_block_size, bytes = 0, n = 0;
	struct cursor cur = { req->seg, req->seg_off };
	const struct kpv_blk_seg *s;
	uint16_t off;

	while (cur.seg < req->nr_segs && n < max) {
		bytes += blkfront_next_piece(req, &cur, 4096, &s, &off);
		n++;
	}
	if (cur.seg < req->nr_segs) {
		bytes &= ~(lbs - 1);
	}
	p->bytes = bytes;
	cur = (struct cursor){ req->seg, req->seg_off };
	for (n = 0; bytes; n++) {
		bytes -= blkfront_next_piece(req, &cur, bytes, &s, &off);
	}
	p->nr_segs = n;
	p->end = cur;
	p->sector = req->sector + req->done / BLK_SECTOR;
}

static void plan(const struct fe_conn *c, const struct kpv_blk_req *req, struct part *p)
{
	uint32_t max = req->op == KEEL_IO_BLOCK_OP_DISCARD ? c->cfg.max_discard_sectors
							    : c->cfg.max_write_zeroes_sectors;

	blk_memset(p, 0, sizeof(*p));
	p->op = req->op;
	if ((req->flags & KPV_BLK_FUA) && (c->features & KEEL_IO_BLOCK_F_FUA)) {
		p->flags = KEEL_IO_BLOCK_RQ_FUA;
	}
	switch (req->op) {
	case KEEL_IO_BLOCK_OP_READ:
	case KEEL_IO_BLOCK_OP_WRITE:
		plan_rw(c, req, p);
		break;
	case KEEL_IO_BLOCK_OP_FLUSH:
		break;
	default:
		p->sector = req->sector + req->done;
		p->nr_sectors = (uint32_t)blk_min64(req->nr_sectors - req->done, max);
		break;
	}
}

/* [lock] The part is on its ring: move @req on, off the queue once all of it is out. */
static void advance(struct kpv_blkfront *fe, struct kpv_blk_req *req, const struct part *p)
{
	bool last;

	req->parts++;
	if (p->op == KEEL_IO_BLOCK_OP_READ || p->op == KEEL_IO_BLOCK_OP_WRITE) {
		req->done += p->bytes;
		req->seg = p->end.seg;
		req->seg_off = p->end.off;
		last = req->seg == req->nr_segs;
	} else {
		req->done += p->nr_sectors;
		last = req->done == req->nr_sectors;
	}
	if (last) {
		blkfront_dequeue(fe);
		req->state = RQ_FLYING;
	}
}

/* --- granting a ring request ------------------------------------------------------- */

/*
 * Grant the data pages of @p into @rq (or the indirect pages), noting each
 * in @sh; with F_PERSISTENT, pool pages of ring @fr instead.
 */
static int grant_data(struct kpv_blkfront *fe, struct fe_ring *fr, const struct kpv_blk_req *req,
		      const struct part *p, struct fe_shadow *sh, struct keel_io_block_request *rq)
{
	uint32_t peer = kpv_dev_peer(fe->dev);
	bool ro = p->op == KEEL_IO_BLOCK_OP_WRITE;
	struct cursor cur = { req->seg, req->seg_off };
	uint32_t left = p->bytes;

	for (uint32_t pg = 0; sh->indirect && pg * BLK_PER_PAGE < p->nr_segs; pg++) {
		if (!sh->ind[pg]) {
			sh->ind[pg] = kpv_shim_page_alloc();	/* kept for reuse */
			if (!sh->ind[pg]) {
				return -KEEL_ENOMEM;
			}
		}
	}
	if (fr->pool.max) {
		sh->from_seg = req->seg;
		sh->from_off = req->seg_off;
		sh->bytes = p->bytes;
		return blkfront_pool_fill(fe, fr, sh, rq);
	}
	for (uint32_t i = 0; i < p->nr_segs; i++) {
		struct keel_io_block_segment *e;
		const struct kpv_blk_seg *s;
		int rc;

		e = sh->indirect ? &sh->ind[i / BLK_PER_PAGE][i % BLK_PER_PAGE] : &rq->seg[i];
		e->length = (uint16_t)blkfront_next_piece(req, &cur, left, &s, &e->offset);
		left -= e->length;
		rc = kpv_grant(fe->k, peer, s->page, ro, &e->gref);
		if (rc != 0) {
			return rc;
		}
		if (!sh->indirect) {
			sh->grefs[i] = e->gref;
		}
		sh->nr_data++;
	}
	return 0;
}

/* The whole ring request @rq for @p: data grants, indirect pages granted read-only. */
static int grant_part(struct kpv_blkfront *fe, struct fe_ring *fr, const struct kpv_blk_req *req,
		      const struct part *p, struct fe_shadow *sh, struct keel_io_block_request *rq)
{
	uint32_t pages = (p->nr_segs + BLK_PER_PAGE - 1) / BLK_PER_PAGE;
	int rc;

	blk_memset(rq, 0, sizeof(*rq));
	rq->id = sh->id;
	rq->sector = p->sector;
	rq->op = p->op;
	rq->flags = p->flags;
	rq->nr_segments = (uint16_t)p->nr_segs;
	rq->nr_sectors = p->nr_sectors;
	sh->indirect = p->nr_segs > KEEL_IO_BLOCK_DIRECT_SEGMENTS;
	rc = grant_data(fe, fr, req, p, sh, rq);
	if (rc != 0 || !sh->indirect) {
		return rc;
	}
	rq->flags |= KEEL_IO_BLOCK_RQ_INDIRECT;
	for (uint32_t i = 0; i < pages; i++) {
		uint32_t ref;

		rc = kpv_grant(fe->k, kpv_dev_peer(fe->dev), sh->ind[i], true, &ref);
		if (rc != 0) {
			return rc;
		}
		sh->ind_gref[i] = rq->seg[i].gref = ref;
	}
	return 0;
}

/* --- dispatching ------------------------------------------------------------------- */

/*
 * [lock] A ring with a free slot and, with F_PERSISTENT, room in its pool
 * for the part's @pages, the request's own (queue % rings) first; NULL if
 * none: the part waits for responses, which free both.
 */
static struct fe_ring *pick_ring(struct fe_conn *c, const struct kpv_blk_req *req, uint32_t pages)
{
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		struct fe_ring *fr = &c->rings[(req->queue + i) % c->nr_rings];

		if (fr->free != SHADOW_NONE && kpv_ring_fe_space(fr->ring) > 0 &&
		    pages <= blkfront_pool_room(&fr->pool)) {
			return fr;
		}
	}
	return NULL;
}

/* The pool pages part @p of @req takes (0 without F_PERSISTENT, or without data). */
static uint32_t pool_pages(const struct fe_conn *c, const struct kpv_blk_req *req,
			   const struct part *p)
{
	if (!c->pool_max || !p->bytes) {
		return 0;
	}
	return blkfront_pool_need(req, (struct cursor){ req->seg, req->seg_off }, p->bytes);
}

/* [lock] A free shadow of @fr (there is one), with a fresh id. */
static struct fe_shadow *shadow_take(struct fe_ring *fr)
{
	uint32_t index = fr->free;
	struct fe_shadow *sh = blkfront_shadow(fr, index);

	fr->free = sh->next_free;
	sh->state = SH_BUILD;
	sh->id = (uint64_t)fr->seq++ << 32 | fr->index << 16 | index;
	return sh;
}

/* [lock] */
static void shadow_put(struct fe_ring *fr, struct fe_shadow *sh)
{
	sh->state = SH_FREE;
	sh->req = NULL;
	sh->next_free = (uint16_t)fr->free;
	fr->free = (uint32_t)(sh->id & 0xffff);
}

/* [lock] The built request goes into its slot; the backend hears of it if it waits. */
static bool publish(struct kpv_blkfront *fe, struct fe_conn *c, struct fe_ring *fr,
		    struct fe_shadow *sh, const struct keel_io_block_request *rq)
{
	void *slot = kpv_ring_fe_next(fr->ring);

	if (!slot) {
		return false;	/* pick_ring() saw space: only a broken ring has none */
	}
	blk_memcpy(slot, rq, sizeof(*rq));
	sh->state = SH_FLY;
	c->in_flight++;
	fe->stats.ring_requests++;
	fe->stats.indirect += sh->indirect;
	if (fe->opts.poll_ns) {
		fe->busy_ns = kpv_shim_now_ns();
		fe->idle_looks = 0;
	}
	if (kpv_ring_fe_push(fr->ring)) {
		kpv_dev_notify(fe->dev, fr->index);
	}
	return true;
}

/*
 * A part that could not go: its grants end (the backend never saw them),
 * the request stays queued where it was. Out of grants or memory with
 * nothing in flight to wait for, it fails instead of stalling.
 */
static void part_failed(struct kpv_blkfront *fe, struct fe_conn *c, struct fe_ring *fr,
			struct fe_shadow *sh, int rc)
{
	struct kpv_blk_req *req = sh->req;
	unsigned long flags;
	bool end = false;

	blkfront_ungrant(fe->k, sh);
	blkfront_pool_put(fr, sh);
	flags = kpv_shim_lock(fe->lock);
	shadow_put(fr, sh);
	if (rc != 0 && fe->conn == c && c->in_flight == 0 && fe->head == req) {
		kpv_log(KPV_LOG_WARN, "kpv: blkfront: request failed: out of grants or memory (%d)",
			rc);
		blkfront_dequeue(fe);
		req->status = KEEL_IO_BLOCK_S_IOERR;
		req->state = RQ_FLYING;
		end = req->parts == 0;
	}
	kpv_shim_unlock(fe->lock, flags);
	if (end) {
		blkfront_end(fe, req, req->status);
	}
}

/*
 * The head request, one ring request further; false when nothing more can
 * go now. Grants are made without the lock (kpv_grant() may grow the
 * table), so the connection is checked again before the slot is written.
 */
static bool dispatch_one(struct kpv_blkfront *fe)
{
	unsigned long flags = kpv_shim_lock(fe->lock);
	struct kpv_blk_req *req = fe->head;
	struct fe_conn *c = fe->conn;
	struct keel_io_block_request rq;
	struct fe_ring *fr;
	struct fe_shadow *sh;
	struct part p;
	uint16_t st;
	int rc;

	/* Not before a lost connection is reclaimed: its parts must not mix with new ones. */
	if (!c || c->broken || !req || fe->closing || fe->dead) {
		kpv_shim_unlock(fe->lock, flags);
		return false;
	}
	st = req->done || req->parts ? ADMIT_GO : admit(c, req);
	if (st != ADMIT_GO) {
		blkfront_dequeue(fe);
		kpv_shim_unlock(fe->lock, flags);
		blkfront_end(fe, req, st);
		return true;
	}
	plan(c, req, &p);
	fr = pick_ring(c, req, pool_pages(c, req, &p));
	if (!fr) {
		kpv_shim_unlock(fe->lock, flags);
		return false;
	}
	sh = shadow_take(fr);
	sh->req = req;
	sh->op = req->op;
	kpv_shim_unlock(fe->lock, flags);

	rc = grant_part(fe, fr, req, &p, sh, &rq);
	flags = kpv_shim_lock(fe->lock);
	if (rc == 0 && fe->conn == c && !c->broken && !fe->closing &&
	    publish(fe, c, fr, sh, &rq)) {
		advance(fe, req, &p);
		kpv_shim_unlock(fe->lock, flags);
		return true;
	}
	kpv_shim_unlock(fe->lock, flags);
	part_failed(fe, c, fr, sh, rc);
	return false;
}

void blkfront_dispatch(struct kpv_blkfront *fe)
{
	while (dispatch_one(fe)) {
	}
}

/* --- responses --------------------------------------------------------------------- */

/* The shadow @rsp answers on @fr: in flight, same id, same op; else NULL (a protocol error). */
static struct fe_shadow *answered(const struct fe_ring *fr,
				  const struct keel_io_block_response *rsp)
{
	uint32_t index = (uint32_t)(rsp->id & 0xffff);
	struct fe_shadow *sh;

	if (index >= fr->nr_shadows) {
		return NULL;
	}
	sh = blkfront_shadow(fr, index);
	return sh->state == SH_FLY && sh->id == rsp->id && sh->op == rsp->op ? sh : NULL;
}

/* [lock] The backend broke the protocol: no more ring work on @c; the core tears it down. */
static void broken(struct kpv_blkfront *fe, struct fe_conn *c, const char *why)
{
	kpv_log(KPV_LOG_ERROR, "kpv: blkfront: device %u: %s: protocol error", fe->id, why);
	c->broken = true;
	kpv_dev_fail(fe->dev, KEEL_IO_ERR_PROTOCOL);
}

/*
 * Take up to @max responses of ring @fr under the lock: each validated and
 * its shadow marked done, its status in @st (an unknown one is S_IOERR).
 * Returns how many; *@caught_up once the ring is empty and armed.
 */
static uint32_t take(struct kpv_blkfront *fe, struct fe_conn *c, struct fe_ring *fr,
		     struct fe_shadow **got, uint16_t *st, uint32_t max, bool poll,
		     bool *caught_up)
{
	unsigned long flags = kpv_shim_lock(fe->lock);
	union {
		struct keel_io_block_response rsp;
		uint8_t slot[KEEL_IO_BLOCK_SLOT_SIZE];	/* a take copies a whole slot */
	} u;
	bool checked = false;
	uint32_t n = 0;

	*caught_up = fe->conn != c || c->broken;
	while (!*caught_up && n < max) {
		if (kpv_ring_fe_take(fr->ring, &u)) {
			got[n] = answered(fr, &u.rsp);
			if (!got[n]) {
				broken(fe, c, "a response to no request in flight");
				*caught_up = true;
				break;
			}
			got[n]->state = SH_DONE;
			st[n++] = u.rsp.status <= KEEL_IO_BLOCK_S_READONLY ? u.rsp.status
									    : KEEL_IO_BLOCK_S_IOERR;
		} else if (checked && (poll || !kpv_ring_fe_arm(fr->ring))) {
			*caught_up = true;
		} else if (kpv_ring_fe_available(fr->ring) < 0) {
			broken(fe, c, "more responses than requests");
			*caught_up = true;
		} else {
			checked = true;
		}
	}
	if (n && fe->opts.poll_ns) {
		fe->busy_ns = kpv_shim_now_ns();
		fe->idle_looks = 0;
	}
	kpv_shim_unlock(fe->lock, flags);
	return n;
}

/*
 * A part answered: its grants end (a READ's data first copied out of its
 * pool pages), then its request, if that was the last part.
 */
static void part_done(struct kpv_blkfront *fe, struct fe_conn *c, struct fe_ring *fr,
		      struct fe_shadow *sh, uint16_t status)
{
	struct kpv_blk_req *req = sh->req;
	unsigned long flags;
	bool end;

	if (sh->pool_head != POOL_NONE && status == KEEL_IO_BLOCK_S_OK &&
	    sh->op == KEEL_IO_BLOCK_OP_READ) {
		blkfront_pool_read_out(fr, sh);
	}
	blkfront_pool_put(fr, sh);
	blkfront_ungrant(fe->k, sh);
	flags = kpv_shim_lock(fe->lock);
	shadow_put(fr, sh);
	c->in_flight--;
	req->parts--;
	if (status != KEEL_IO_BLOCK_S_OK && req->status == KEEL_IO_BLOCK_S_OK) {
		req->status = status;
	}
	end = req->state == RQ_FLYING && req->parts == 0;
	kpv_shim_unlock(fe->lock, flags);
	if (end) {
		blkfront_end(fe, req, req->status);
	}
}

/* Up to a ring's worth of responses of ring @i; true if it stopped with more there. */
static bool consume_ring(struct kpv_blkfront *fe, struct fe_conn *c, uint32_t i, bool poll)
{
	struct fe_ring *fr = &c->rings[i];
	struct fe_shadow *got[TAKE_BATCH];
	uint16_t st[TAKE_BATCH];
	uint32_t budget = fr->nr_shadows;
	bool caught_up = false;

	while (!caught_up && budget) {
		uint32_t n = take(fe, c, fr, got, st, blk_min32(budget, TAKE_BATCH), poll,
				  &caught_up);

		budget -= n;
		for (uint32_t k = 0; k < n; k++) {
			part_done(fe, c, fr, got[k], st[k]);
		}
	}
	return !caught_up;
}

bool blkfront_consume(struct kpv_blkfront *fe, bool poll)
{
	unsigned long flags = kpv_shim_lock(fe->lock);
	struct fe_conn *c = fe->conn;
	bool more = false;

	kpv_shim_unlock(fe->lock, flags);
	/* Only this work frees @c; a disconnect meanwhile only stops take(). */
	for (uint32_t i = 0; c && i < c->nr_rings; i++) {
		more |= consume_ring(fe, c, i, poll);
	}
	return more;
}
