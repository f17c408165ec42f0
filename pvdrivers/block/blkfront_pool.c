/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkfront_pool.c - a ring's persistent pages (block.md
 * F_PERSISTENT): pages of ours granted writable to the backend once, made
 * as requests need them up to the ring's limit, and used for every READ
 * and WRITE of the connection. A ring request takes pages for its
 * segments (each at its own offset in the page, as in the OS's buffer, so
 * segments whose bytes do not overlap share a page), the data is copied
 * in before a WRITE goes and out after a READ's S_OK, and the pages are
 * free again once the response is in. The OS's buffers are never granted:
 * the backend may keep the pool mapped for the whole connection.
 *
 * Only the work touches a pool, so it needs no lock; it goes with its
 * connection, in the work too (conn_free()).
 */
#include "blkfront_priv.h"

static struct fe_ppage *ppage(const struct fe_pool *pool, uint32_t i)
{
	return &pool->chunks[i / POOL_PER_CHUNK][i % POOL_PER_CHUNK];
}

/* The sectors [@offset, @offset + @len) of a page as bits 0..7. */
static uint32_t sectors_of(uint16_t offset, uint32_t len)
{
	return ((1u << (len / BLK_SECTOR)) - 1) << (offset / BLK_SECTOR);
}

/*
 * Walks the pieces of a ring request's data as fill() lays them out on
 * pool pages: a piece starts a new page when it is the first or overlaps
 * what the current page holds. need(), fill() and read_out() walk alike.
 */
struct walk {
	const struct kpv_blk_req *req;
	struct cursor cur;
	uint32_t left;			/* bytes */
	uint32_t used;			/* sectors of the current page taken */
	const struct kpv_blk_seg *seg;	/* the OS's side of the piece */
	uint16_t offset;
	uint32_t len;
};

/* The next piece; false at the end. *@new_page: it goes on a page of its own. */
static bool walk_next(struct walk *w, bool *new_page)
{
	uint32_t bits;

	if (w->left == 0) {
		return false;
	}
	w->len = blkfront_next_piece(w->req, &w->cur, w->left, &w->seg, &w->offset);
	w->left -= w->len;
	bits = sectors_of(w->offset, w->len);
	*new_page = w->used == 0 || (w->used & bits);
	w->used = (*new_page ? 0 : w->used) | bits;
	return true;
}

static struct walk walk_start(const struct kpv_blk_req *req, struct cursor from, uint32_t bytes)
{
	return (struct walk){ .req = req, .cur = from, .left = bytes };
}

uint32_t blkfront_pool_need(const struct kpv_blk_req *req, struct cursor from, uint32_t bytes)
{
	struct walk w = walk_start(req, from, bytes);
	uint32_t pages = 0;
	bool new_page;

	while (walk_next(&w, &new_page)) {
		pages += new_page;
	}
	return pages;
}

uint32_t blkfront_pool_room(const struct fe_pool *pool)
{
	return pool->nr_free + (pool->max - pool->nr);
}

/* A page made and granted writable for the connection; POOL_NONE if not (*@rc). */
static uint16_t make_page(struct kpv_blkfront *fe, struct fe_pool *pool, int *rc)
{
	struct fe_ppage **chunk = &pool->chunks[pool->nr / POOL_PER_CHUNK];
	struct fe_ppage *pp;
	void *page;

	if (!*chunk) {
		*chunk = kpv_shim_alloc(POOL_PER_CHUNK * sizeof(struct fe_ppage));
	}
	page = *chunk ? kpv_shim_page_alloc() : NULL;
	if (!page) {
		*rc = -KEEL_ENOMEM;
		return POOL_NONE;
	}
	pp = ppage(pool, pool->nr);
	*rc = kpv_grant(fe->k, kpv_dev_peer(fe->dev), page, false, &pp->gref);
	if (*rc != 0) {
		kpv_shim_page_free(page);
		return POOL_NONE;
	}
	pp->page = page;
	return (uint16_t)pool->nr++;
}

/* A free page (an old one first), at the end of @sh's list; POOL_NONE if none (*@rc). */
static uint16_t take_page(struct kpv_blkfront *fe, struct fe_pool *pool, struct fe_shadow *sh,
			  int *rc)
{
	uint16_t i = pool->free;

	*rc = -KEEL_ENOSPC;	/* dispatch checked room(): only a bug gets here */
	if (i != POOL_NONE) {
		pool->free = ppage(pool, i)->next;
		pool->nr_free--;
	} else if (pool->nr < pool->max) {
		i = make_page(fe, pool, rc);
	}
	if (i == POOL_NONE) {
		return POOL_NONE;
	}
	ppage(pool, i)->next = POOL_NONE;
	if (sh->pool_head == POOL_NONE) {
		sh->pool_head = i;
	} else {
		ppage(pool, sh->pool_tail)->next = i;
	}
	sh->pool_tail = i;
	return i;
}

int blkfront_pool_fill(struct kpv_blkfront *fe, struct fe_ring *fr, struct fe_shadow *sh,
		       struct keel_io_block_request *rq)
{
	struct walk w = walk_start(sh->req, (struct cursor){ sh->from_seg, sh->from_off },
				   sh->bytes);
	bool write = sh->op == KEEL_IO_BLOCK_OP_WRITE, new_page;
	struct fe_ppage *pp = NULL;
	int rc;

	for (uint32_t i = 0; walk_next(&w, &new_page); i++) {
		struct keel_io_block_segment *e = sh->indirect ? &sh->ind[i / BLK_PER_PAGE][i % BLK_PER_PAGE]
							       : &rq->seg[i];

		if (new_page) {
			uint16_t idx = take_page(fe, &fr->pool, sh, &rc);

			if (idx == POOL_NONE) {
				return rc;
			}
			pp = ppage(&fr->pool, idx);
		}
		*e = (struct keel_io_block_segment){ pp->gref, w.offset, (uint16_t)w.len };
		if (write) {
			blk_memcpy((uint8_t *)pp->page + w.offset, (uint8_t *)w.seg->page + w.offset,
				   w.len);
		}
	}
	return 0;
}

void blkfront_pool_read_out(struct fe_ring *fr, const struct fe_shadow *sh)
{
	struct walk w = walk_start(sh->req, (struct cursor){ sh->from_seg, sh->from_off },
				   sh->bytes);
	uint16_t idx = POOL_NONE;
	bool new_page;

	while (walk_next(&w, &new_page)) {
		idx = new_page ? (idx == POOL_NONE ? sh->pool_head : ppage(&fr->pool, idx)->next)
			       : idx;
		blk_memcpy((uint8_t *)w.seg->page + w.offset,
			   (uint8_t *)ppage(&fr->pool, idx)->page + w.offset, w.len);
	}
}

void blkfront_pool_put(struct fe_ring *fr, struct fe_shadow *sh)
{
	struct fe_pool *pool = &fr->pool;

	for (uint16_t i = sh->pool_head; i != POOL_NONE; i = ppage(pool, i)->next) {
		pool->nr_free++;
	}
	if (sh->pool_head != POOL_NONE) {
		ppage(pool, sh->pool_tail)->next = pool->free;
		pool->free = sh->pool_head;
	}
	sh->pool_head = sh->pool_tail = POOL_NONE;
}

void blkfront_pool_fini(struct kpv *k, struct fe_pool *pool)
{
	for (uint32_t i = 0; i < pool->nr; i++) {
		struct fe_ppage *pp = ppage(pool, i);

		if (!kpv_grant_end(k, pp->gref)) {
			kpv_grant_revoke(k, pp->gref);
		}
		kpv_shim_page_free(pp->page);
	}
	for (uint32_t c = 0; c < POOL_CHUNKS; c++) {
		kpv_shim_free(pool->chunks[c]);
		pool->chunks[c] = NULL;
	}
	pool->nr = pool->nr_free = 0;
	pool->free = POOL_NONE;
}
