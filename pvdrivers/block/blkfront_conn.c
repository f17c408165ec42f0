/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkfront_conn.c - a frontend's connections and what
 * becomes of the requests they carried (block.md "Reconnect"): a
 * connection is made for each CONNECTED; at its loss every grant of what
 * it had in flight is taken back at once, by force where the old backend
 * still maps it, and those requests go again, from their start, on the
 * next connection, checked against its config. Only a close (or the
 * device's removal) fails them, with S_IOERR. With F_PERSISTENT each ring
 * has a pool of pages granted for the connection (blkfront_pool.c): it is
 * taken back when the work reclaims the connection, before the next one
 * carries anything.
 */
#include "blkfront_priv.h"

/* --- the queue ----------------------------------------------------------------------- */

void blkfront_dequeue(struct kpv_blkfront *fe)
{
	struct kpv_blk_req *req = fe->head;

	fe->head = req->next;
	if (!fe->head) {
		fe->tail = NULL;
	}
	req->next = NULL;
}

/* [lock] Back to the queue's head, to go again from its start. */
static void requeue(struct kpv_blkfront *fe, struct kpv_blk_req *req)
{
	req->done = 0;
	req->seg = req->seg_off = 0;
	req->status = KEEL_IO_BLOCK_S_OK;
	req->resent = 1;
	fe->stats.resent++;
	if (req->state != RQ_QUEUED) {
		req->state = RQ_QUEUED;
		req->next = fe->head;
		fe->head = req;
		if (!fe->tail) {
			fe->tail = req;
		}
	}
}

void blkfront_end(struct kpv_blkfront *fe, struct kpv_blk_req *req, uint16_t status)
{
	req->state = RQ_IDLE;
	fe->ops.complete(fe->os, req, status);
}

/* Closing: every queued request ends S_IOERR (once its parts in flight are back). */
void blkfront_fail_queue(struct kpv_blkfront *fe)
{
	for (;;) {
		unsigned long flags = kpv_shim_lock(fe->lock);
		struct kpv_blk_req *req = fe->head;
		bool end = false;

		if (req) {
			blkfront_dequeue(fe);
			req->status = KEEL_IO_BLOCK_S_IOERR;
			req->state = RQ_FLYING;
			end = req->parts == 0;
		}
		kpv_shim_unlock(fe->lock, flags);
		if (!req) {
			return;
		}
		if (end) {
			blkfront_end(fe, req, KEEL_IO_BLOCK_S_IOERR);
		}
	}
}

/* --- connections --------------------------------------------------------------------- */

static void conn_free(struct kpv_blkfront *fe, struct fe_conn *c)
{
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		struct fe_ring *fr = &c->rings[i];

		blkfront_pool_fini(fe->k, &fr->pool);

		for (uint32_t k = 0; k < KEEL_IO_RING_MAX_DATA_PAGES && fr->chunks[k]; k++) {
			for (uint32_t s = 0; s < SHADOWS_PER_CHUNK; s++) {
				for (uint32_t p = 0; p < IND_PAGES; p++) {
					kpv_shim_page_free(fr->chunks[k][s].ind[p]);
				}
			}
			kpv_shim_free(fr->chunks[k]);
		}
	}
	kpv_shim_free(c);
}

/* Ring @fr's shadows, one per slot, all free; its pool empty, of @pool_max pages. */
static bool ring_init(struct fe_ring *fr, uint32_t index, struct kpv_ring *ring, uint32_t pool_max)
{
	fr->ring = ring;
	fr->index = index;
	fr->nr_shadows = ring->nr_slots;
	fr->free = SHADOW_NONE;
	fr->pool.max = pool_max;
	fr->pool.free = POOL_NONE;
	for (uint32_t k = 0; k * SHADOWS_PER_CHUNK < fr->nr_shadows; k++) {
		fr->chunks[k] = kpv_shim_alloc(SHADOWS_PER_CHUNK * sizeof(struct fe_shadow));
		if (!fr->chunks[k]) {
			return false;
		}
	}
	for (uint32_t s = fr->nr_shadows; s-- > 0;) {
		struct fe_shadow *sh = blkfront_shadow(fr, s);

		sh->id = s;	/* shadow_put() finds the index here */
		sh->pool_head = sh->pool_tail = POOL_NONE;
		sh->next_free = (uint16_t)fr->free;
		fr->free = s;
	}
	return true;
}

struct fe_conn *blkfront_conn_new(struct kpv_blkfront *fe, struct kpv_dev *dev)
{
	struct fe_conn *c = kpv_shim_alloc(sizeof(*c));

	if (!c) {
		return NULL;
	}
	c->features = kpv_dev_features(dev);
	c->cfg = fe->chosen;
	c->nr_rings = kpv_dev_nr_rings(dev);
	if (c->features & KEEL_IO_BLOCK_F_PERSISTENT) {
		c->pool_max = fe->opts.persistent_pages ? fe->opts.persistent_pages
							: KEEL_IO_BLOCK_PERSISTENT_MAX;
	}
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		if (!ring_init(&c->rings[i], i, kpv_dev_ring(dev, i), c->pool_max)) {
			conn_free(fe, c);
			return NULL;
		}
	}
	return c;
}

/*
 * A connection the core took down, in the work: each request it lost goes
 * again from its start, or, closing, ends S_IOERR. Then it is freed.
 */
static void reclaim(struct kpv_blkfront *fe, struct fe_conn *c)
{
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		struct fe_ring *fr = &c->rings[i];

		for (uint32_t s = 0; s < fr->nr_shadows; s++) {
			struct fe_shadow *sh = blkfront_shadow(fr, s);
			struct kpv_blk_req *req = sh->req;
			unsigned long flags;
			bool end = false;

			if (sh->state != SH_GONE) {
				continue;
			}
			flags = kpv_shim_lock(fe->lock);
			sh->state = SH_FREE;
			if (--req->parts == 0 && fe->closing) {
				end = req->state == RQ_FLYING;
			} else if (req->parts == 0) {
				requeue(fe, req);
			}
			kpv_shim_unlock(fe->lock, flags);
			if (end) {
				blkfront_end(fe, req, KEEL_IO_BLOCK_S_IOERR);
			}
		}
	}
	conn_free(fe, c);
}

/*
 * Every connection the core took down. Then the head request, if it was
 * partly sent and nothing of it is in flight, starts again too: the next
 * backend may want it cut otherwise.
 */
void blkfront_reclaim_dead(struct kpv_blkfront *fe)
{
	bool any = false;

	for (;;) {
		unsigned long flags = kpv_shim_lock(fe->lock);
		struct fe_conn *c = fe->dead;
		struct kpv_blk_req *head = fe->head;

		if (c) {
			fe->dead = c->next_dead;
		} else if (any && head && head->done && !head->parts && !fe->closing) {
			requeue(fe, head);
		}
		kpv_shim_unlock(fe->lock, flags);
		if (!c) {
			return;
		}
		reclaim(fe, c);
		any = true;
	}
}

/*
 * The connection ended (disconnected()); its rings go next. It is
 * unpublished (no answer is taken from it any more), every grant of what
 * it had in flight is taken back now, by force where the old backend
 * still maps it (no buffer of the OS stays with a backend that is gone),
 * and the work reclaims the rest, the pools' pages with it (ours alone,
 * and the work may be filling one now).
 */
void blkfront_conn_lost(struct kpv_blkfront *fe)
{
	unsigned long flags = kpv_shim_lock(fe->lock);
	struct fe_conn *c = fe->conn;

	fe->conn = NULL;
	kpv_shim_unlock(fe->lock, flags);
	for (uint32_t i = 0; c && i < c->nr_rings; i++) {
		for (uint32_t s = 0; s < c->rings[i].nr_shadows; s++) {
			struct fe_shadow *sh = blkfront_shadow(&c->rings[i], s);
			bool gone;

			flags = kpv_shim_lock(fe->lock);
			gone = sh->state == SH_FLY;
			sh->state = gone ? SH_GONE : sh->state;
			kpv_shim_unlock(fe->lock, flags);
			if (gone) {
				blkfront_ungrant(fe->k, sh);
			}
		}
	}
	flags = kpv_shim_lock(fe->lock);
	if (c) {
		c->next_dead = fe->dead;
		fe->dead = c;
	}
	kpv_shim_unlock(fe->lock, flags);
	kpv_shim_work_schedule(fe->work);
}
