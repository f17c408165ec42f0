/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkback_batch.c - READs and WRITEs served together: up
 * to BATCH_ANSWER of the requests one look at the ring shows, as many as
 * fit the bounce pages, with one grant-copy call for all their indirect
 * pages, then one per page of copies for the data they write and for the
 * data they read, instead of one to three calls per request; answered
 * with one push. Every call is a world switch into Keel, which costs more
 * than the copy itself, and a queue of small requests paid it each.
 *
 * Each request goes through the checks of blkback_io.c in ring order, and
 * the store sees the requests in ring order, so the answers are those of
 * serving them one at a time. A protocol error ends the batch at the
 * request that made it: the ones before it are served and answered, the
 * one and those after it are not served. A batch never holds a WRITE
 * after a READ, so a READ whose data cannot be copied out (all the store
 * calls are done by then) can have nothing after it that changed the disk.
 * With F_PERSISTENT the batch's new grants are mapped before any data
 * moves; mapped pieces are copied by memcpy, and a request whose segments
 * are all mapped goes to the store's read() or write() in place.
 */
#include "blkback_priv.h"

_Static_assert(BATCH_ANSWER <= BATCH_MAX && BATCH_MAX <= OPS_CAP,
	       "a page of requests, a copy each");
_Static_assert(BATCH_PAGES * sizeof(struct keel_io_block_segment) <= KPV_PAGE_SIZE,
	       "a batch's segments fit the pool page");

/* Segment @i of batched request @it. */
static const struct keel_io_block_segment *item_seg(const struct be_ring *br,
						    const struct be_item *it, uint32_t i)
{
	if (it->rq.flags & KEEL_IO_BLOCK_RQ_INDIRECT) {
		return &br->seg_pool[it->seg0 + i];
	}
	return &it->rq.seg[i];
}

static uint32_t pages_of(uint32_t bytes)
{
	return (bytes + KPV_PAGE_SIZE - 1) / KPV_PAGE_SIZE;
}

bool blkback_batch_fits(const struct be_ring *br, const struct keel_io_block_request *rq)
{
	const struct be_batch *b = &br->batch;

	/*
	 * Each segment is at most a page, so nr_segments pages hold the data.
	 * A store we copy to directly needs no bounce pages, only room for
	 * the segments of indirect requests in the pool page.
	 */
	uint32_t room = br->be->store.memory ? BATCH_PAGES : br->nr_bounce;

	return b->n < BATCH_ANSWER && rq->nr_segments <= room - b->pages &&
	       !(b->reads && rq->op == KEEL_IO_BLOCK_OP_WRITE);
}

bool blkback_batch_add(struct be_ring *br, const struct keel_io_block_request *rq)
{
	struct be_batch *b = &br->batch;
	struct be_item *it;

	if ((rq->op != KEEL_IO_BLOCK_OP_READ && rq->op != KEEL_IO_BLOCK_OP_WRITE) ||
	    !blkback_shape_ok(br->be, rq) || !blkback_batch_fits(br, rq)) {
		return false;
	}
	it = &b->item[b->n++];
	it->rq = *rq;
	it->seg0 = b->segs;
	it->bytes = 0;
	it->status = KEEL_IO_BLOCK_S_OK;
	it->mapped = false;
	if (rq->flags & KEEL_IO_BLOCK_RQ_INDIRECT) {
		b->segs += rq->nr_segments;	/* <= BATCH_PAGES: one pool page holds them */
	}
	b->pages += rq->nr_segments;
	b->reads = b->reads || rq->op == KEEL_IO_BLOCK_OP_READ;
	return true;
}

/*
 * Run @n of br->ops, of which @owner[i] says whose op i is; returns how
 * many requests (from the first) are still in the batch: a grant that
 * fails is a protocol error of its request (*@err), which ends the batch.
 * Out of memory fails the I/O of every request with an op instead.
 */
static uint32_t run_copies(struct be_ring *br, uint32_t n, const uint8_t *owner,
			   uint32_t nr_items, uint32_t *err)
{
	int rc = kpv_grant_copy(br->be->k, br->ops, n);

	if (rc == 0) {
		return nr_items;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct be_item *it = &br->batch.item[owner[i]];

		if (rc == -KEEL_ENOMEM) {
			it->status = KEEL_IO_BLOCK_S_IOERR;
		} else if (br->ops[i].status != 0 && owner[i] < nr_items) {
			*err = KEEL_IO_ERR_GRANT;
			nr_items = owner[i];
		}
	}
	return nr_items;
}

/* block.md: each indirect page is copied once, before any entry is used (here: all at once). */
static uint32_t fetch_indirect(struct be_ring *br, uint32_t nr_items, uint32_t *err)
{
	uint8_t owner[BATCH_MAX];
	uint32_t n = 0;

	for (uint32_t i = 0; i < nr_items; i++) {
		struct be_item *it = &br->batch.item[i];

		if (!(it->rq.flags & KEEL_IO_BLOCK_RQ_INDIRECT)) {
			continue;
		}
		/* At most BATCH_PAGES segments: the first indirect page holds them all. */
		blkback_copy_op(&br->ops[n], kpv_dev_peer(br->be->dev), it->rq.seg[0].gref, 0,
				br->seg_pool,
				(uint16_t)(it->seg0 * sizeof(struct keel_io_block_segment)),
				(uint16_t)(it->rq.nr_segments * sizeof(struct keel_io_block_segment)),
				true);
		owner[n++] = (uint8_t)i;
	}
	return n ? run_copies(br, n, owner, nr_items, err) : nr_items;
}

/* The segments' shape and the answer without I/O, in order; a bad segment ends the batch. */
static uint32_t admit_all(struct be_ring *br, uint32_t nr_items, uint32_t *err)
{
	uint32_t page = 0;

	for (uint32_t i = 0; i < nr_items; i++) {
		struct be_item *it = &br->batch.item[i];

		/* Its indirect pages could not be fetched (no memory): answered S_IOERR. */
		for (uint32_t s = 0; it->status == KEEL_IO_BLOCK_S_OK && s < it->rq.nr_segments; s++) {
			const struct keel_io_block_segment *seg = item_seg(br, it, s);

			if (!blk_seg_ok(seg->offset, seg->length)) {
				*err = KEEL_IO_ERR_PROTOCOL;
				return i;
			}
			it->bytes += seg->length;
		}
		if (it->status == KEEL_IO_BLOCK_S_OK) {
			it->status = blkback_admit(br->be, &it->rq, it->bytes);
		}
		it->page0 = page;
		page += pages_of(it->bytes);
	}
	return nr_items;
}

/*
 * block.md F_PERSISTENT: the grants of each request to be served mapped,
 * in order, before any data moves; a grant Keel refuses ends the batch
 * there. Each request learns whether all of its segments are mapped.
 */
static uint32_t map_all(struct be_ring *br, uint32_t nr_items, uint32_t *err)
{
	for (uint32_t i = 0; br->pslot && i < nr_items; i++) {
		struct be_item *it = &br->batch.item[i];

		it->mapped = it->status == KEEL_IO_BLOCK_S_OK;
		for (uint32_t s = 0; it->status == KEEL_IO_BLOCK_S_OK && s < it->rq.nr_segments;
		     s++) {
			uint8_t *va;
			uint32_t e = blkback_persist_map(br, item_seg(br, it, s)->gref, &va);

			if (e) {
				*err = e;
				return i;
			}
			it->mapped = it->mapped && va;
		}
	}
	return nr_items;
}

/*
 * Our side of byte @pos of batched request @it: its bounce page, or the
 * store's own memory (store.memory). *@page and *@off say where; returns
 * the bytes from there to the end of that page, 0 if the store has no
 * memory there (a store bug: the request fails with S_IOERR).
 */
static uint32_t our_side(const struct be_ring *br, const struct be_item *it, uint32_t pos,
			 void **page, uint16_t *off)
{
	const struct kpv_blkback *be = br->be;
	uint8_t *p;

	if (!be->store.memory) {
		*page = br->bounce[it->page0 + pos / KPV_PAGE_SIZE];
		*off = (uint16_t)(pos % KPV_PAGE_SIZE);
		return KPV_PAGE_SIZE - *off;
	}
	p = be->store.memory(be->ctx, it->rq.sector + pos / BLK_SECTOR,
			     it->rq.op == KEEL_IO_BLOCK_OP_WRITE);
	if (!p) {
		return 0;
	}
	*off = (uint16_t)((uintptr_t)p & (KPV_PAGE_SIZE - 1));
	*page = p - *off;
	return KPV_PAGE_SIZE - *off;
}

/*
 * The data of every request of @op that is to be served: in (WRITE) or out
 * (READ), a page of copies per call, each between a piece of a segment and
 * our side of it (bounce pages, or the store's memory) that crosses no
 * page on either side.
 */
static uint32_t copy_data(struct be_ring *br, uint32_t nr_items, uint8_t op, uint32_t *err)
{
	uint32_t peer = kpv_dev_peer(br->be->dev), n = 0;
	uint8_t owner[OPS_CAP];

	for (uint32_t i = 0; i < nr_items; i++) {
		struct be_item *it = &br->batch.item[i];
		uint32_t pos = 0;

		/* All mapped, with a store we call: it gets its data in place (store_io()). */
		if (it->rq.op != op || it->status != KEEL_IO_BLOCK_S_OK ||
		    (it->mapped && !br->be->store.memory)) {
			continue;
		}
		for (uint32_t s = 0; s < it->rq.nr_segments; s++) {
			const struct keel_io_block_segment *seg = item_seg(br, it, s);
			uint8_t *mapped = blkback_persist_find(br, seg->gref);

			for (uint32_t off = 0; off < seg->length;) {
				void *ours;
				uint16_t our_off;
				uint32_t room = our_side(br, it, pos, &ours, &our_off);
				uint32_t piece = blk_min32(seg->length - off, room);

				if (room == 0) {
					it->status = KEEL_IO_BLOCK_S_IOERR;
					s = it->rq.nr_segments;
					break;
				}
				if (mapped) {
					blkback_move(mapped + seg->offset + off, (uint8_t *)ours + our_off,
						     piece, op == KEEL_IO_BLOCK_OP_WRITE);
					off += piece;
					pos += piece;
					continue;
				}
				if (n == OPS_CAP) {
					nr_items = run_copies(br, n, owner, nr_items, err);
					n = 0;
					if (i >= nr_items) {
						return nr_items;
					}
				}
				blkback_copy_op(&br->ops[n], peer, seg->gref,
						(uint16_t)(seg->offset + off), ours, our_off,
						(uint16_t)piece, op == KEEL_IO_BLOCK_OP_WRITE);
				owner[n++] = (uint8_t)i;
				off += piece;
				pos += piece;
			}
		}
	}
	return n ? run_copies(br, n, owner, nr_items, err) : nr_items;
}

/* @it's one store call straight over its persistent mappings (at most BATCH_PAGES of them). */
static void store_io_mapped(struct be_ring *br, struct be_item *it)
{
	const struct kpv_blkback *be = br->be;
	uint32_t n = it->rq.nr_segments;
	int rc;

	for (uint32_t s = 0; s < n; s++) {
		const struct keel_io_block_segment *seg = item_seg(br, it, s);

		br->piov[s] = (struct kpv_blk_iov){ blkback_persist_find(br, seg->gref) + seg->offset,
						    seg->length };
	}
	rc = blkback_store_rw(be, it->rq.sector, br->piov, n, it->rq.op == KEEL_IO_BLOCK_OP_WRITE,
			      blkback_fua(be, &it->rq));
	if (rc) {
		it->status = KEEL_IO_BLOCK_S_IOERR;
	}
}

_Static_assert(BATCH_PAGES <= BE_PIOV, "a batched request's pieces fit one store call");

/* @it's store calls over its bounce pages, BOUNCE_PAGES at most each (as blkback_io.c). */
static void store_io(struct be_ring *br, struct be_item *it)
{
	const struct kpv_blkback *be = br->be;
	bool write = it->rq.op == KEEL_IO_BLOCK_OP_WRITE;

	if (it->mapped && it->status == KEEL_IO_BLOCK_S_OK) {
		store_io_mapped(br, it);
		return;
	}

	for (uint32_t pos = 0; pos < it->bytes && it->status == KEEL_IO_BLOCK_S_OK;) {
		uint32_t len = blk_min32(it->bytes - pos, BOUNCE_PAGES * KPV_PAGE_SIZE), pages = 0;
		uint64_t sector = it->rq.sector + pos / BLK_SECTOR;
		int rc;

		for (; pages * KPV_PAGE_SIZE < len; pages++) {
			br->iov[pages].base = br->bounce[it->page0 + pos / KPV_PAGE_SIZE + pages];
			br->iov[pages].len = blk_min32(len - pages * KPV_PAGE_SIZE, KPV_PAGE_SIZE);
		}
		rc = blkback_store_rw(be, sector, br->iov, pages, write, blkback_fua(be, &it->rq));
		if (rc) {
			it->status = KEEL_IO_BLOCK_S_IOERR;
		}
		pos += len;
	}
}

uint32_t blkback_batch_serve(struct be_ring *br, uint32_t *answered)
{
	struct be_batch *b = &br->batch;
	uint32_t n = b->n, err = 0;

	n = fetch_indirect(br, n, &err);
	n = admit_all(br, n, &err);
	n = map_all(br, n, &err);
	n = copy_data(br, n, KEEL_IO_BLOCK_OP_WRITE, &err);
	for (uint32_t i = 0; i < n && !br->be->store.memory; i++) {
		store_io(br, &b->item[i]);
	}
	n = copy_data(br, n, KEEL_IO_BLOCK_OP_READ, &err);
	*answered = n;
	b->n = b->segs = b->pages = 0;
	b->reads = false;
	return err;
}
