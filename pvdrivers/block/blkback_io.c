/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkback_io.c - one block request served, in the order
 * block.md's validation asks: its shape (protocol errors), its indirect
 * pages copied once, its data segments, then what the device answers
 * without disconnecting (S_NOTSUPP, S_READONLY, S_RANGE), then the I/O.
 * Data moves by grant copy between the frontend's segments and our bounce
 * pages (or the store's memory, store.memory), exactly the bytes each
 * segment names: a READ copies into the frontend (Keel refuses a read-only
 * grant: KEEL_IO_ERR_GRANT), a WRITE only out of it. With F_PERSISTENT the
 * segments are mapped first (blkback_persist.c), then copied by memcpy to
 * or from the store's memory, or handed to the store's read() and write()
 * in place; a segment we do not map is grant-copied as without it.
 */
#include "blkback_priv.h"

#define BOUNCE_BYTES	(BOUNCE_PAGES * KPV_PAGE_SIZE)
/* Copies for one bounce load: each segment (>= 512 bytes), plus one per page boundary. */
#define MAX_COPIES	(BOUNCE_BYTES / BLK_SECTOR + BOUNCE_PAGES + 1)

_Static_assert(MAX_COPIES * sizeof(struct kpv_copy) <= KPV_PAGE_SIZE, "one page of copies");

/* Data segment @i of @rq: in the request, or in our copy of its indirect pages. */
static const struct keel_io_block_segment *seg_at(const struct be_ring *br,
						  const struct keel_io_block_request *rq,
						  uint32_t i)
{
	if (rq->flags & KEEL_IO_BLOCK_RQ_INDIRECT) {
		return &br->ind[i / BLK_PER_PAGE][i % BLK_PER_PAGE];
	}
	return &rq->seg[i];
}

static bool is_rw(uint8_t op)
{
	return op == KEEL_IO_BLOCK_OP_READ || op == KEEL_IO_BLOCK_OP_WRITE;
}

/* block.md "Validation", the protocol errors a request shows on its own. */
bool blkback_shape_ok(const struct kpv_blkback *be, const struct keel_io_block_request *rq)
{
	bool ind = rq->flags & KEEL_IO_BLOCK_RQ_INDIRECT;
	uint32_t max = ind ? be->cfg.max_segments : KEEL_IO_BLOCK_DIRECT_SEGMENTS;

	if (rq->op > KEEL_IO_BLOCK_OP_WRITE_ZEROES ||
	    (rq->flags & ~(KEEL_IO_BLOCK_RQ_FUA | KEEL_IO_BLOCK_RQ_INDIRECT))) {
		return false;
	}
	if (ind && (!(be->features & KEEL_IO_BLOCK_F_INDIRECT) || !is_rw(rq->op))) {
		return false;
	}
	if (is_rw(rq->op) ? rq->nr_segments < 1 || rq->nr_segments > max : rq->nr_segments) {
		return false;
	}
	if (rq->nr_sectors && rq->op != KEEL_IO_BLOCK_OP_DISCARD &&
	    rq->op != KEEL_IO_BLOCK_OP_WRITE_ZEROES) {
		return false;
	}
	for (uint32_t i = 0; ind && i * BLK_PER_PAGE < rq->nr_segments; i++) {
		if (rq->seg[i].offset || rq->seg[i].length) {
			return false;
		}
	}
	return true;
}

/* Run @n of br->ops: 0, or GRANT; out of memory here fails the I/O instead (*@status). */
static uint32_t copy(struct be_ring *br, uint32_t n, uint16_t *status)
{
	int rc = kpv_grant_copy(br->be->k, br->ops, n);

	if (rc == -KEEL_ENOMEM) {
		*status = KEEL_IO_BLOCK_S_IOERR;
		return 0;
	}
	return rc ? KEEL_IO_ERR_GRANT : 0;
}

void blkback_copy_op(struct kpv_copy *op, uint32_t peer, uint32_t ref, uint16_t peer_off,
		     void *ours, uint16_t our_off, uint16_t len, bool from_peer)
{
	if (from_peer) {
		*op = (struct kpv_copy){ .src_domid = peer, .src_ref = ref, .src_offset = peer_off,
					 .dst_domid = KEEL_DOMID_SELF, .dst_va = ours,
					 .dst_offset = our_off, .len = len };
	} else {
		*op = (struct kpv_copy){ .src_domid = KEEL_DOMID_SELF, .src_va = ours,
					 .src_offset = our_off, .dst_domid = peer, .dst_ref = ref,
					 .dst_offset = peer_off, .len = len };
	}
}

/* block.md: each indirect page is copied once, before any entry is used. */
static uint32_t fetch_indirect(struct be_ring *br, const struct keel_io_block_request *rq,
			       uint16_t *status)
{
	uint32_t pages = (rq->nr_segments + BLK_PER_PAGE - 1) / BLK_PER_PAGE;

	for (uint32_t i = 0; i < pages; i++) {
		uint32_t n = blk_min32(rq->nr_segments - i * BLK_PER_PAGE, BLK_PER_PAGE);

		blkback_copy_op(&br->ops[i], kpv_dev_peer(br->be->dev), rq->seg[i].gref, 0,
				br->ind[i], 0, (uint16_t)(n * sizeof(struct keel_io_block_segment)),
				true);
	}
	return copy(br, pages, status);
}

/* What the device answers without disconnecting; S_OK: serve it. */
uint16_t blkback_admit(const struct kpv_blkback *be, const struct keel_io_block_request *rq,
		       uint32_t bytes)
{
	uint64_t f = be->features, cap;
	uint32_t max = 0;
	unsigned long flags;

	switch (rq->op) {
	case KEEL_IO_BLOCK_OP_FLUSH:
		return f & KEEL_IO_BLOCK_F_FLUSH ? KEEL_IO_BLOCK_S_OK : KEEL_IO_BLOCK_S_NOTSUPP;
	case KEEL_IO_BLOCK_OP_WRITE:
		if ((rq->flags & KEEL_IO_BLOCK_RQ_FUA) && !(f & KEEL_IO_BLOCK_F_FUA)) {
			return KEEL_IO_BLOCK_S_NOTSUPP;
		}
		break;
	case KEEL_IO_BLOCK_OP_DISCARD:
		max = f & KEEL_IO_BLOCK_F_DISCARD ? be->cfg.max_discard_sectors : 0;
		break;
	case KEEL_IO_BLOCK_OP_WRITE_ZEROES:
		max = f & KEEL_IO_BLOCK_F_WRITE_ZEROES ? be->cfg.max_write_zeroes_sectors : 0;
		break;
	default:
		break;
	}
	/* A length the device cannot take in one request is "not possible" as well. */
	if (!is_rw(rq->op) && (rq->nr_sectors < 1 || rq->nr_sectors > max)) {
		return KEEL_IO_BLOCK_S_NOTSUPP;
	}
	if (blk_modifies(rq->op) && (be->cfg.flags & KEEL_IO_BLOCK_CFG_READ_ONLY)) {
		return KEEL_IO_BLOCK_S_READONLY;
	}
	flags = kpv_shim_lock(be->lock);
	cap = be->capacity;
	kpv_shim_unlock(be->lock, flags);
	if (is_rw(rq->op) ? blk_misaligned(rq->sector, bytes, be->cfg.logical_block_size) ||
				    blk_beyond(rq->sector, bytes / BLK_SECTOR, cap)
			  : blk_beyond(rq->sector, rq->nr_sectors, cap)) {
		return KEEL_IO_BLOCK_S_RANGE;
	}
	return KEEL_IO_BLOCK_S_OK;
}

/* Where in a request's segments the next byte goes. */
struct cursor {
	uint32_t seg, off;
};

/*
 * Fill br->ops with the copies between the next @len bytes of the
 * segments (from @cur, which moves on) and the bounce pages from their
 * start; no copy crosses a page on either side. Returns their number.
 */
static uint32_t plan_copies(struct be_ring *br, const struct keel_io_block_request *rq,
			    struct cursor *cur, uint32_t len, bool from_peer)
{
	uint32_t peer = kpv_dev_peer(br->be->dev), pos = 0, n = 0;

	while (pos < len) {
		const struct keel_io_block_segment *s = seg_at(br, rq, cur->seg);
		uint32_t in_page = KPV_PAGE_SIZE - pos % KPV_PAGE_SIZE;
		uint32_t piece = blk_min32(blk_min32(s->length - cur->off, len - pos), in_page);

		blkback_copy_op(&br->ops[n++], peer, s->gref, (uint16_t)(s->offset + cur->off),
			br->bounce[pos / KPV_PAGE_SIZE], (uint16_t)(pos % KPV_PAGE_SIZE),
			(uint16_t)piece, from_peer);
		pos += piece;
		cur->off += piece;
		if (cur->off == s->length) {
			cur->seg++;
			cur->off = 0;
		}
	}
	return n;
}

bool blkback_fua(const struct kpv_blkback *be, const struct keel_io_block_request *rq)
{
	return (rq->flags & KEEL_IO_BLOCK_RQ_FUA) || !(be->features & KEEL_IO_BLOCK_F_FLUSH);
}

/* A persistent segment's bytes to (@write) or from the store's memory: our own copy. */
void blkback_move(uint8_t *mapped, uint8_t *store, uint32_t len, bool write)
{
	if (write) {
		blk_memcpy(store, mapped, len);
	} else {
		blk_memcpy(mapped, store, len);
	}
}

/*
 * READ or WRITE with a store that is memory: a page of copies per call,
 * each between a piece of a segment and the store's memory that crosses
 * no page on either side; a piece of a persistent mapping is copied here.
 */
static uint32_t direct_read_write(struct be_ring *br, const struct keel_io_block_request *rq,
				  uint16_t *status)
{
	const struct kpv_blkback *be = br->be;
	bool write = rq->op == KEEL_IO_BLOCK_OP_WRITE;
	uint32_t peer = kpv_dev_peer(be->dev), n = 0, pos = 0, err;

	for (uint32_t s = 0; s < rq->nr_segments; s++) {
		const struct keel_io_block_segment *seg = seg_at(br, rq, s);
		uint8_t *mapped = blkback_persist_find(br, seg->gref);

		for (uint32_t off = 0; off < seg->length;) {
			uint8_t *p = be->store.memory(be->ctx, rq->sector + pos / BLK_SECTOR, write);
			uint16_t our_off = (uint16_t)((uintptr_t)p & (KPV_PAGE_SIZE - 1));
			uint32_t piece = blk_min32(seg->length - off, KPV_PAGE_SIZE - our_off);

			if (!p) {
				*status = KEEL_IO_BLOCK_S_IOERR;	/* the store's bug, not the peer's */
				return 0;
			}
			if (mapped) {
				blkback_move(mapped + seg->offset + off, p, piece, write);
				off += piece;
				pos += piece;
				continue;
			}
			if (n == OPS_CAP) {
				err = copy(br, n, status);
				n = 0;
				if (err || *status) {
					return err;
				}
			}
			blkback_copy_op(&br->ops[n++], peer, seg->gref, (uint16_t)(seg->offset + off),
					p - our_off, our_off, (uint16_t)piece, write);
			off += piece;
			pos += piece;
		}
	}
	return n ? copy(br, n, status) : 0;
}

/*
 * READ or WRITE of @bytes, a bounce load at a time. Without F_FLUSH every
 * write is durable before it is answered (block.md, F_FLUSH).
 */
static uint32_t read_write(struct be_ring *br, const struct keel_io_block_request *rq,
			   uint32_t bytes, uint16_t *status)
{
	const struct kpv_blkback *be = br->be;
	bool write = rq->op == KEEL_IO_BLOCK_OP_WRITE;
	bool fua = blkback_fua(be, rq);
	struct cursor cur = { 0, 0 };

	for (uint32_t pos = 0; pos < bytes && *status == KEEL_IO_BLOCK_S_OK;) {
		uint32_t len = blk_min32(bytes - pos, BOUNCE_BYTES), pages = 0, n, err = 0;
		uint64_t sector = rq->sector + pos / BLK_SECTOR;
		int rc;

		for (uint32_t p = 0; p * KPV_PAGE_SIZE < len; p++, pages++) {
			br->iov[p].base = br->bounce[p];
			br->iov[p].len = blk_min32(len - p * KPV_PAGE_SIZE, KPV_PAGE_SIZE);
		}
		n = plan_copies(br, rq, &cur, len, write);
		if (write) {
			err = copy(br, n, status);
			rc = err || *status ? 0 : be->store.write(be->ctx, sector, br->iov, pages, fua);
		} else {
			rc = be->store.read(be->ctx, sector, br->iov, pages);
			err = rc ? 0 : copy(br, n, status);
		}
		if (err) {
			return err;
		}
		if (rc) {
			*status = KEEL_IO_BLOCK_S_IOERR;
		}
		pos += len;
	}
	return 0;
}

static uint16_t store_status(int rc)
{
	return rc ? KEEL_IO_BLOCK_S_IOERR : KEEL_IO_BLOCK_S_OK;
}

int blkback_store_rw(const struct kpv_blkback *be, uint64_t sector, const struct kpv_blk_iov *iov,
		     uint32_t n, bool write, bool fua)
{
	return write ? be->store.write(be->ctx, sector, iov, n, fua)
		     : be->store.read(be->ctx, sector, iov, n);
}

/* A segment we do not map, through bounce page 0 with a grant copy, at @sector. */
static uint32_t bounce_segment(struct be_ring *br, const struct keel_io_block_segment *seg,
			       uint64_t sector, bool write, bool fua, uint16_t *status)
{
	struct kpv_blk_iov iov = { br->bounce[0], seg->length };
	uint32_t err = 0;
	int rc = 0;

	blkback_copy_op(&br->ops[0], kpv_dev_peer(br->be->dev), seg->gref, seg->offset,
			br->bounce[0], 0, seg->length, write);
	if (write) {
		err = copy(br, 1, status);
		rc = err || *status ? 0 : blkback_store_rw(br->be, sector, &iov, 1, true, fua);
	} else {
		rc = blkback_store_rw(br->be, sector, &iov, 1, false, fua);
		err = rc ? 0 : copy(br, 1, status);
	}
	if (rc) {
		*status = KEEL_IO_BLOCK_S_IOERR;
	}
	return err;
}

/*
 * READ or WRITE with persistent grants: the store's calls go straight over
 * the mapped segments, a page of pieces at most per call; a segment we do
 * not map goes alone through a bounce page.
 */
static uint32_t mapped_read_write(struct be_ring *br, const struct keel_io_block_request *rq,
				  uint16_t *status)
{
	const struct kpv_blkback *be = br->be;
	bool write = rq->op == KEEL_IO_BLOCK_OP_WRITE, fua = blkback_fua(be, rq);
	uint64_t sector = rq->sector;
	uint32_t n = 0, bytes = 0, err;

	for (uint32_t s = 0; s < rq->nr_segments && *status == KEEL_IO_BLOCK_S_OK; s++) {
		const struct keel_io_block_segment *seg = seg_at(br, rq, s);
		uint8_t *mapped = blkback_persist_find(br, seg->gref);

		if (mapped) {
			br->piov[n++] = (struct kpv_blk_iov){ mapped + seg->offset, seg->length };
			bytes += seg->length;
			if (n < BE_PIOV && s + 1 < rq->nr_segments) {
				continue;
			}
		}
		if (n) {
			*status = store_status(blkback_store_rw(be, sector, br->piov, n, write, fua));
			sector += bytes / BLK_SECTOR;
			n = bytes = 0;
		}
		if (!mapped && *status == KEEL_IO_BLOCK_S_OK) {
			err = bounce_segment(br, seg, sector, write, fua, status);
			if (err) {
				return err;
			}
			sector += seg->length / BLK_SECTOR;
		}
	}
	return 0;
}

/* block.md F_PERSISTENT: map what is new before any data moves; 0 or GRANT. */
static uint32_t map_segments(struct be_ring *br, const struct keel_io_block_request *rq)
{
	for (uint32_t i = 0; br->pslot && i < rq->nr_segments; i++) {
		uint8_t *va;
		uint32_t err = blkback_persist_map(br, seg_at(br, rq, i)->gref, &va);

		if (err) {
			return err;
		}
	}
	return 0;
}

uint32_t blkback_serve(struct be_ring *br, const struct keel_io_block_request *rq,
		       uint16_t *status)
{
	const struct kpv_blkback *be = br->be;
	uint32_t bytes = 0, err;

	*status = KEEL_IO_BLOCK_S_OK;
	if (!blkback_shape_ok(be, rq)) {
		return KEEL_IO_ERR_PROTOCOL;
	}
	if (rq->flags & KEEL_IO_BLOCK_RQ_INDIRECT) {
		err = fetch_indirect(br, rq, status);
		if (err || *status) {
			return err;
		}
	}
	for (uint32_t i = 0; is_rw(rq->op) && i < rq->nr_segments; i++) {
		const struct keel_io_block_segment *s = seg_at(br, rq, i);

		if (!blk_seg_ok(s->offset, s->length)) {
			return KEEL_IO_ERR_PROTOCOL;
		}
		bytes += s->length;
	}
	*status = blkback_admit(be, rq, bytes);
	if (*status) {
		return 0;
	}
	switch (rq->op) {
	case KEEL_IO_BLOCK_OP_FLUSH:
		*status = store_status(be->store.flush(be->ctx));
		return 0;
	case KEEL_IO_BLOCK_OP_DISCARD:
		*status = store_status(be->store.discard(be->ctx, rq->sector, rq->nr_sectors));
		return 0;
	case KEEL_IO_BLOCK_OP_WRITE_ZEROES:
		*status = store_status(be->store.write_zeroes(be->ctx, rq->sector, rq->nr_sectors));
		return 0;
	default:
		err = map_segments(br, rq);
		if (err) {
			return err;
		}
		if (be->store.memory) {
			return direct_read_write(br, rq, status);
		}
		return br->pslot ? mapped_read_write(br, rq, status) : read_write(br, rq, bytes, status);
	}
}
