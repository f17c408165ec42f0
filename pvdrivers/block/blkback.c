/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkback.c - the block backend as the OS and the device
 * core see it: open on a store, the offer made from it, the commit
 * checked, a worker per ring while connected (blkback_io.c serves each
 * request), live resizes, close.
 */
#include "blkback_priv.h"

static const struct kpv_blkback_opts default_opts = {
	.features = BLK_FEATURES,
	.max_rings = 4,
	.max_ring_order = 2,
	.max_segments = 1024,
	.max_discard_sectors = 1u << 22,
	.max_write_zeroes_sectors = 1u << 22,
};

/* --- the ring workers ------------------------------------------------------------------ */

/* Answer @rq with @status in the next response slot (a request was consumed: there is one). */
static void respond(struct be_ring *br, const struct keel_io_block_request *rq, uint16_t status)
{
	struct keel_io_block_response rsp = { .id = rq->id, .op = rq->op, .status = status };

	blk_memcpy(kpv_ring_be_next(br->ring), &rsp, sizeof(rsp));
}

/*
 * Publish the answers written so far. If the frontend waits for them, it
 * hears of them when this run of the worker ends (ring.md rule 6): one
 * notification for all of a run's answers, not one per batch, since each
 * is a hypercall that under TCG can wait a millisecond for the emulator.
 */
static void push(struct be_ring *br)
{
	br->owe_notify = kpv_ring_be_push(br->ring) || br->owe_notify;
}

/* The peer broke the protocol: nothing more is served; the core tears the device down. */
static void broken(struct be_ring *br, const struct keel_io_block_request *rq, uint32_t err)
{
	kpv_log(KPV_LOG_ERROR, "kpv: blkback: device %u: request op %u flags 0x%x segments %u "
		"sectors %u: error %u", br->be->id, rq ? rq->op : 0u, rq ? rq->flags : 0u,
		rq ? rq->nr_segments : 0u, rq ? rq->nr_sectors : 0u, err);
	br->failed = true;
	kpv_dev_fail(br->be->dev, err);
}

/* Serve the batch and answer it with one push; false after a protocol error. */
static bool serve_batch(struct be_ring *br)
{
	uint32_t answered = 0, err;

	if (br->batch.n == 0) {
		return true;
	}
	err = blkback_batch_serve(br, &answered);
	for (uint32_t i = 0; i < answered; i++) {
		respond(br, &br->batch.item[i].rq, br->batch.item[i].status);
	}
	push(br);
	if (err) {
		broken(br, &br->batch.item[answered].rq, err);
		return false;
	}
	return true;
}

/* A request that does not go into a batch, served alone; false after a protocol error. */
static bool serve_alone(struct be_ring *br, const struct keel_io_block_request *rq)
{
	uint16_t status;
	uint32_t err = blkback_serve(br, rq, &status);

	if (err) {
		broken(br, rq, err);
		return false;
	}
	respond(br, rq, status);
	push(br);
	return true;
}

/*
 * Whether to keep looking at @br's ring rather than sleep: within
 * opts.poll_ns of the last request taken (ring.md rule 8) and
 * BLK_POLL_LOOKS empty looks. The frontend then sends no notifications,
 * and we wait for none: under load each request then costs neither side a
 * wake-up.
 */
static bool keep_polling(struct be_ring *br)
{
	uint64_t poll = br->be->opts.poll_ns;

	return poll && br->idle_looks++ < BLK_POLL_LOOKS &&
	       kpv_shim_now_ns() - br->busy_ns < poll;
}

/*
 * Serve what is there, at most a ring's worth per run (ring.md: bounded
 * work); the rest after other work. What one look at the ring shows is
 * served as a batch where it can be (blkback_batch.c). Caught up, arm and
 * look again (rule 7), unless still polling: then look again after other
 * work, unarmed.
 */
static void ring_run(struct be_ring *br)
{
	struct kpv_ring *r = br->ring;
	struct keel_io_block_request rq;
	uint32_t budget = r->nr_slots;
	bool checked = false;

	while (!br->failed && budget) {
		if (kpv_ring_be_take(r, &rq)) {
			if (budget-- == r->nr_slots && br->be->opts.poll_ns) {
				br->busy_ns = kpv_shim_now_ns();
				br->idle_looks = 0;
			}
			if (!blkback_batch_fits(br, &rq) && !serve_batch(br)) {
				return;
			}
			if (!blkback_batch_add(br, &rq) &&
			    (!serve_batch(br) || !serve_alone(br, &rq))) {
				return;
			}
		} else if (br->batch.n) {
			if (!serve_batch(br)) {
				return;
			}
		} else if (checked && keep_polling(br)) {
			kpv_shim_work_schedule(br->work);
			return;
		} else if (checked && !kpv_ring_be_arm(r)) {
			return;
		} else if (kpv_ring_be_available(r) < 0) {
			broken(br, NULL, KEEL_IO_ERR_PROTOCOL);
			return;
		} else {
			checked = true;
		}
	}
	if (serve_batch(br) && !br->failed) {
		kpv_shim_work_schedule(br->work);
	}
}

/* A run of the ring's worker (above), then the notification its answers owe. */
static void ring_work(void *ctx)
{
	struct be_ring *br = ctx;

	ring_run(br);
	if (br->owe_notify) {
		br->owe_notify = false;
		kpv_dev_notify(br->be->dev, br->index);
	}
}

/* Stop ring @i's worker (waiting for a run in progress) and free it. */
static void ring_free(struct kpv_blkback *be, uint32_t i)
{
	struct be_ring *br = be->rings[i];

	if (!br) {
		return;
	}
	if (br->work) {
		kpv_shim_work_destroy(br->work);
	}
	blkback_persist_fini(br);
	for (uint32_t p = 0; p < BATCH_PAGES; p++) {
		kpv_shim_page_free(br->bounce[p]);
	}
	for (uint32_t p = 0; p < BE_IND_PAGES; p++) {
		kpv_shim_page_free(br->ind[p]);
	}
	kpv_shim_page_free(br->seg_pool);
	kpv_shim_page_free(br->batch.item);
	kpv_shim_free(br->ops);
	kpv_shim_free(br);
	be->rings[i] = NULL;
}

static bool ring_new(struct kpv_blkback *be, uint32_t i, struct kpv_ring *ring)
{
	struct be_ring *br = kpv_shim_alloc(sizeof(*br));
	uint32_t ind = 0;

	if (!br) {
		return false;
	}
	be->rings[i] = br;
	br->be = be;
	br->index = i;
	br->ring = ring;
	br->work = kpv_shim_work_create(ring_work, br);
	br->ops = kpv_shim_alloc(KPV_PAGE_SIZE);
	br->seg_pool = kpv_shim_page_alloc();
	br->batch.item = kpv_shim_page_alloc();
	if (!br->work || !br->ops || !br->seg_pool || !br->batch.item ||
	    !blkback_persist_init(br)) {
		return false;
	}
	/*
	 * BOUNCE_PAGES at least; the more of the rest, the bigger a batch can
	 * be. A store that is memory needs none: data goes straight to it.
	 */
	for (uint32_t p = 0; p < BATCH_PAGES && !be->store.memory; p++) {
		br->bounce[p] = kpv_shim_page_alloc();
		if (!br->bounce[p]) {
			if (p < BOUNCE_PAGES) {
				return false;
			}
			break;
		}
		br->nr_bounce = p + 1;
	}
	if (be->features & KEEL_IO_BLOCK_F_INDIRECT) {
		ind = (be->cfg.max_segments + BLK_PER_PAGE - 1) / BLK_PER_PAGE;
	}
	for (uint32_t p = 0; p < ind; p++) {
		br->ind[p] = kpv_shim_page_alloc();
		if (!br->ind[p]) {
			return false;
		}
	}
	return true;
}

/* --- the class callbacks (the core's work) -------------------------------------------------- */

/* The features the store allows of those asked for, and the config that goes with them. */
static void be_offer(void *drv, struct kpv_offer *o)
{
	struct kpv_blkback *be = drv;
	const struct kpv_blk_store *st = &be->store;
	struct keel_io_block_config *cfg = &be->cfg;
	uint64_t f = be->opts.features & BLK_FEATURES;
	struct kpv_blk_geometry g;
	unsigned long flags;

	f &= ~(uint64_t)((st->flush ? 0 : KEEL_IO_BLOCK_F_FLUSH) |
			 (st->discard && be->opts.max_discard_sectors ? 0 : KEEL_IO_BLOCK_F_DISCARD) |
			 (st->write_zeroes && be->opts.max_write_zeroes_sectors
				  ? 0 : KEEL_IO_BLOCK_F_WRITE_ZEROES) |
			 (be->opts.max_segments > KEEL_IO_BLOCK_DIRECT_SEGMENTS
				  ? 0 : KEEL_IO_BLOCK_F_INDIRECT) |
			 (be->opts.max_rings > 1 ? 0 : KEEL_IO_BLOCK_F_MULTI_QUEUE));
	st->geometry(be->ctx, &g);
	flags = kpv_shim_lock(be->lock);
	be->capacity = g.capacity;
	kpv_shim_unlock(be->lock, flags);
	blk_memset(cfg, 0, sizeof(*cfg));
	cfg->capacity_sectors = g.capacity;
	cfg->logical_block_size = be->lbs;
	cfg->physical_block_size = be->pbs;
	cfg->max_segments = f & KEEL_IO_BLOCK_F_INDIRECT ? be->opts.max_segments
							 : KEEL_IO_BLOCK_DIRECT_SEGMENTS;
	cfg->flags = g.read_only ? KEEL_IO_BLOCK_CFG_READ_ONLY : 0;
	if (f & KEEL_IO_BLOCK_F_DISCARD) {
		cfg->discard_granularity = be->opts.discard_granularity
						   ? be->opts.discard_granularity
						   : cfg->physical_block_size;
		cfg->discard_alignment = be->opts.discard_alignment;
		cfg->max_discard_sectors = be->opts.max_discard_sectors;
	}
	if (f & KEEL_IO_BLOCK_F_WRITE_ZEROES) {
		cfg->max_write_zeroes_sectors = be->opts.max_write_zeroes_sectors;
	}
	o->features = f;
	o->max_rings = f & KEEL_IO_BLOCK_F_MULTI_QUEUE ? be->opts.max_rings : 1;
	o->max_ring_order = be->opts.max_ring_order;
	blk_memcpy(o->config, cfg, sizeof(*cfg));
}

/* block.md: one ring unless F_MULTI_QUEUE was accepted. The frontend has no config. */
static uint32_t be_check_commit(void *drv, const struct kpv_offer *offer,
				const struct kpv_commit *commit)
{
	(void)drv;
	(void)offer;
	if (commit->nr_rings > 1 && !(commit->features & KEEL_IO_BLOCK_F_MULTI_QUEUE)) {
		return KEEL_IO_ERR_RINGS;
	}
	return 0;
}

static void be_connected(void *drv, struct kpv_dev *dev)
{
	struct kpv_blkback *be = drv;
	uint32_t nr = kpv_dev_nr_rings(dev);
	unsigned long flags;

	be->dev = dev;
	be->features = kpv_dev_features(dev);
	for (uint32_t i = 0; i < nr; i++) {
		if (!ring_new(be, i, kpv_dev_ring(dev, i))) {
			for (uint32_t j = 0; j <= i; j++) {
				ring_free(be, j);
			}
			kpv_dev_fail(dev, KEEL_IO_ERR_RESOURCE);
			return;
		}
	}
	flags = kpv_shim_lock(be->lock);
	be->nr_rings = nr;
	be->live = true;
	/* Resized between the offer and now: the frontend hears it like any resize. */
	if (be->capacity != be->cfg.capacity_sectors) {
		kpv_dev_config_update(dev, offsetof(struct keel_io_block_config, capacity_sectors),
				      be->capacity, sizeof(be->capacity));
	}
	kpv_shim_unlock(be->lock, flags);
	for (uint32_t i = 0; i < nr; i++) {
		kpv_shim_work_schedule(be->rings[i]->work);
	}
	if (be->ops.connection) {
		be->ops.connection(be->ctx, true);
	}
}

/* Synchronous workers: once they are stopped, nothing is in flight. */
static void be_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct kpv_blkback *be = drv;
	unsigned long flags = kpv_shim_lock(be->lock);

	(void)dev;
	(void)why;
	be->live = false;
	kpv_shim_unlock(be->lock, flags);
	for (uint32_t i = 0; i < be->nr_rings; i++) {
		ring_free(be, i);
	}
	if (be->nr_rings && be->ops.connection) {
		be->ops.connection(be->ctx, false);
	}
	be->nr_rings = 0;
}

/* [any] Ring events may come just before connected() has made the workers: those wait for it. */
static void be_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct kpv_blkback *be = drv;
	unsigned long flags = kpv_shim_lock(be->lock);

	(void)dev;
	if (be->live && ring < be->nr_rings) {
		kpv_shim_work_schedule(be->rings[ring]->work);
	}
	kpv_shim_unlock(be->lock, flags);
}

static void be_released(void *drv)
{
	struct kpv_blkback *be = drv;
	void (*released)(void *ctx) = be->ops.released;
	void *ctx = be->ctx;

	kpv_shim_lock_destroy(be->lock);
	kpv_shim_free(be);
	released(ctx);
}

static const struct kpv_be_class blkback_class = {
	.device_class = KEEL_IO_CLASS_BLOCK,
	.slot_size = KEEL_IO_BLOCK_SLOT_SIZE,
	.offer = be_offer,
	.check_commit = be_check_commit,
	.connected = be_connected,
	.disconnected = be_disconnected,
	.ring_event = be_ring_event,
	.released = be_released,
};

/* --- the OS's calls ---------------------------------------------------------------------- */

static bool opts_ok(const struct kpv_blkback_opts *o)
{
	return o->max_rings >= 1 && o->poll_ns <= KPV_BLK_MAX_POLL_NS && o->max_rings <= KEEL_IO_MAX_RINGS &&
	       o->max_ring_order <= KEEL_IO_RING_MAX_ORDER &&
	       o->max_segments >= KEEL_IO_BLOCK_DIRECT_SEGMENTS &&
	       o->max_segments <= KEEL_IO_BLOCK_MAX_SEGMENTS &&
	       o->persistent_maps <= KEEL_IO_BLOCK_PERSISTENT_MAX;
}

static bool store_ok(const struct kpv_blk_store *s, void *ctx, struct kpv_blk_geometry *g)
{
	if (!s->geometry || !s->read || !s->write) {
		return false;
	}
	s->geometry(ctx, g);
	return blk_sizes_ok(g->logical_block_size, g->physical_block_size);
}

int kpv_blkback_open(struct kpv *k, const struct kpv_device_info *info,
		     const struct kpv_blk_store *store, void *ctx,
		     const struct kpv_blkback_opts *opts, const struct kpv_blkback_ops *ops,
		     struct kpv_blkback **out)
{
	struct kpv_blk_geometry g;
	struct kpv_blkback *be;
	int rc;

	if (!opts) {
		opts = &default_opts;
	}
	if (!ops->released || !opts_ok(opts) || !store_ok(store, ctx, &g)) {
		return -KEEL_EINVAL;
	}
	be = kpv_shim_alloc(sizeof(*be));
	if (!be) {
		return -KEEL_ENOMEM;
	}
	be->k = k;
	be->id = info->device_id;
	be->store = *store;
	be->ctx = ctx;
	be->ops = *ops;
	be->opts = *opts;
	be->capacity = g.capacity;
	be->lbs = g.logical_block_size;
	be->pbs = g.physical_block_size;
	be->lock = kpv_shim_lock_create();
	rc = be->lock ? kpv_be_open(k, info, &blkback_class, be, &be->dev) : -KEEL_ENOMEM;
	if (rc != 0) {
		if (be->lock) {
			kpv_shim_lock_destroy(be->lock);
		}
		kpv_shim_free(be);
		return rc;
	}
	*out = be;
	return 0;
}

void kpv_blkback_resize(struct kpv_blkback *be)
{
	struct kpv_blk_geometry g;
	unsigned long flags;

	be->store.geometry(be->ctx, &g);
	flags = kpv_shim_lock(be->lock);
	be->capacity = g.capacity;
	/* Not connected: the next offer (or connected()) carries it. */
	if (be->live && !be->closing) {
		kpv_dev_config_update(be->dev, offsetof(struct keel_io_block_config, capacity_sectors),
				      g.capacity, sizeof(g.capacity));
	}
	kpv_shim_unlock(be->lock, flags);
}

void kpv_blkback_close(struct kpv_blkback *be, bool removed)
{
	unsigned long flags = kpv_shim_lock(be->lock);

	be->closing = true;
	kpv_shim_unlock(be->lock, flags);
	kpv_dev_close(be->dev, removed);
}
