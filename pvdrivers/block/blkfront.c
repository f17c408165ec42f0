/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkfront.c - the block frontend as the OS and the device
 * core see it: open and close, the OS's requests queued, the offer checked
 * and the commit chosen, live resizes, and the work that runs it all
 * (connections in blkfront_conn.c, the data path in blkfront_io.c).
 */
#include "blkfront_priv.h"

static const struct kpv_blkfront_opts default_opts = {
	.features = BLK_FEATURES,
	.queues = 1,
	.ring_order = 1,
};

/*
 * Whether to look at the rings again soon rather than arm them and wait
 * for a notification (ring.md rule 8): with opts.poll_ns, while requests
 * are in flight, the last response or request is that recent and fewer
 * than BLK_POLL_LOOKS looks since found nothing. [lock]
 */
static bool keep_polling(struct kpv_blkfront *fe)
{
	return fe->opts.poll_ns && fe->conn && fe->conn->in_flight &&
	       fe->idle_looks++ < BLK_POLL_LOOKS &&
	       kpv_shim_now_ns() - fe->busy_ns < fe->opts.poll_ns;
}

/* All ring work: what lost connections carried, answers, then new requests. */
static void fe_work(void *ctx)
{
	struct kpv_blkfront *fe = ctx;
	unsigned long flags;
	bool closing, poll;

	blkfront_reclaim_dead(fe);
	flags = kpv_shim_lock(fe->lock);
	closing = fe->closing;
	poll = keep_polling(fe);
	kpv_shim_unlock(fe->lock, flags);
	if (closing) {
		blkfront_fail_queue(fe);
	}
	if (blkfront_consume(fe, poll) || poll) {
		kpv_shim_work_schedule(fe->work);	/* the rest after other work */
	}
	blkfront_dispatch(fe);
}

/* --- what the OS is told ---------------------------------------------------------------- */

/* [lock] */
static void fill_info(const struct fe_conn *c, struct kpv_blk_info *info)
{
	const struct keel_io_block_config *cfg = &c->cfg;

	blk_memset(info, 0, sizeof(*info));
	info->capacity_sectors = cfg->capacity_sectors;
	info->logical_block_size = cfg->logical_block_size;
	info->physical_block_size = cfg->physical_block_size;
	info->features = c->features;
	info->read_only = cfg->flags & KEEL_IO_BLOCK_CFG_READ_ONLY;
	info->max_segments = blkfront_max_segments(c);
	info->nr_queues = c->nr_rings;
	if (c->features & KEEL_IO_BLOCK_F_DISCARD) {
		info->discard_granularity = cfg->discard_granularity;
		info->discard_alignment = cfg->discard_alignment;
		info->max_discard_sectors = cfg->max_discard_sectors;
	}
	if (c->features & KEEL_IO_BLOCK_F_WRITE_ZEROES) {
		info->max_write_zeroes_sectors = cfg->max_write_zeroes_sectors;
	}
}

int kpv_blkfront_info(struct kpv_blkfront *fe, struct kpv_blk_info *info)
{
	unsigned long flags = kpv_shim_lock(fe->lock);
	int rc = fe->conn ? 0 : -KEEL_EAGAIN;

	if (fe->conn) {
		fill_info(fe->conn, info);
	}
	kpv_shim_unlock(fe->lock, flags);
	return rc;
}

static void tell_os(struct kpv_blkfront *fe)
{
	struct kpv_blk_info info;

	if (kpv_blkfront_info(fe, &info) == 0 && fe->ops.changed) {
		fe->ops.changed(fe->os, &info);
	}
}

/* --- the class callbacks (the core's work) --------------------------------------------------- */

/* The offer's config as block.md allows it; 0 or KEEL_IO_ERR_CONFIG. */
static uint32_t check_config(const struct keel_io_block_config *cfg)
{
	if (!blk_sizes_ok(cfg->logical_block_size, cfg->physical_block_size) ||
	    cfg->max_segments < KEEL_IO_BLOCK_DIRECT_SEGMENTS ||
	    cfg->max_segments > KEEL_IO_BLOCK_MAX_SEGMENTS) {
		return KEEL_IO_ERR_CONFIG;
	}
	return 0;
}

static uint32_t fe_choose(void *drv, const struct kpv_offer *offer, struct kpv_commit *commit)
{
	struct kpv_blkfront *fe = drv;
	struct keel_io_block_config cfg;
	uint64_t f = offer->features & fe->opts.features & BLK_FEATURES;

	blk_memcpy(&cfg, offer->config, sizeof(cfg));
	if (check_config(&cfg)) {
		kpv_log(KPV_LOG_ERROR, "kpv: blkfront: device %u: offer refused (block sizes %u/%u, "
			"%u segments)", fe->id, cfg.logical_block_size, cfg.physical_block_size,
			cfg.max_segments);
		return KEEL_IO_ERR_CONFIG;
	}
	/* A feature whose limit is zero cannot be used: not accepted. */
	if (!cfg.max_discard_sectors) {
		f &= ~(uint64_t)KEEL_IO_BLOCK_F_DISCARD;
	}
	if (!cfg.max_write_zeroes_sectors) {
		f &= ~(uint64_t)KEEL_IO_BLOCK_F_WRITE_ZEROES;
	}
	if (cfg.max_segments == KEEL_IO_BLOCK_DIRECT_SEGMENTS) {
		f &= ~(uint64_t)KEEL_IO_BLOCK_F_INDIRECT;
	}
	commit->nr_rings = 1;
	if (f & KEEL_IO_BLOCK_F_MULTI_QUEUE) {
		commit->nr_rings = blk_min32(offer->max_rings, fe->opts.queues);
	}
	if (commit->nr_rings == 1) {
		f &= ~(uint64_t)KEEL_IO_BLOCK_F_MULTI_QUEUE;
	}
	for (uint32_t i = 0; i < commit->nr_rings; i++) {
		commit->ring_order[i] = blk_min32(offer->max_ring_order, fe->opts.ring_order);
	}
	commit->features = f;
	fe->chosen = cfg;
	return 0;
}

static void fe_connected(void *drv, struct kpv_dev *dev)
{
	struct kpv_blkfront *fe = drv;
	struct fe_conn *c = blkfront_conn_new(fe, dev);
	unsigned long flags;

	if (!c) {
		kpv_dev_fail(dev, KEEL_IO_ERR_RESOURCE);
		return;
	}
	flags = kpv_shim_lock(fe->lock);
	fe->dev = dev;
	fe->conn = c;
	kpv_shim_unlock(fe->lock, flags);
	tell_os(fe);
	kpv_shim_work_schedule(fe->work);
}

/* The rings go after this returns: see blkfront_conn_lost(). */
static void fe_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	(void)dev;
	(void)why;		/* kept or failed by fe->closing, whatever the reason */
	blkfront_conn_lost(drv);
}

static void fe_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct kpv_blkfront *fe = drv;

	(void)dev;
	(void)ring;
	kpv_shim_work_schedule(fe->work);
}

/* Only capacity_sectors is live (block.md); another field changing is a CONFIG error. */
static void fe_config_changed(void *drv, struct kpv_dev *dev, const uint8_t *config)
{
	struct kpv_blkfront *fe = drv;
	struct keel_io_block_config now;
	unsigned long flags;

	blk_memcpy(&now, config, sizeof(now));
	now.capacity_sectors = fe->chosen.capacity_sectors;
	if (blk_memcmp(&now, &fe->chosen, sizeof(now)) != 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: blkfront: device %u: config changed beyond capacity",
			fe->id);
		kpv_dev_fail(dev, KEEL_IO_ERR_CONFIG);
		return;
	}
	blk_memcpy(&fe->chosen.capacity_sectors, config, sizeof(fe->chosen.capacity_sectors));
	flags = kpv_shim_lock(fe->lock);
	if (fe->conn) {
		fe->conn->cfg.capacity_sectors = fe->chosen.capacity_sectors;
	}
	kpv_shim_unlock(fe->lock, flags);
	tell_os(fe);
	kpv_shim_work_schedule(fe->work);
}

/* The device is gone: what is left ends S_IOERR, then the OS hears it is over. */
static void fe_released(void *drv)
{
	struct kpv_blkfront *fe = drv;
	void (*released)(void *os) = fe->ops.released;
	void *os = fe->os;
	unsigned long flags;

	kpv_shim_work_destroy(fe->work);	/* waits for a run in progress */
	flags = kpv_shim_lock(fe->lock);
	fe->closing = true;
	kpv_shim_unlock(fe->lock, flags);
	blkfront_reclaim_dead(fe);
	blkfront_fail_queue(fe);
	kpv_shim_lock_destroy(fe->lock);
	kpv_shim_free(fe);
	released(os);
}

static const struct kpv_fe_class blkfront_class = {
	.device_class = KEEL_IO_CLASS_BLOCK,
	.slot_size = KEEL_IO_BLOCK_SLOT_SIZE,
	.choose = fe_choose,
	.connected = fe_connected,
	.disconnected = fe_disconnected,
	.ring_event = fe_ring_event,
	.config_changed = fe_config_changed,
	.released = fe_released,
};

/* --- the OS's calls ---------------------------------------------------------------------- */

int kpv_blkfront_open(struct kpv *k, const struct kpv_device_info *info,
		      const struct kpv_blkfront_ops *ops, void *os,
		      const struct kpv_blkfront_opts *opts, struct kpv_blkfront **out)
{
	struct kpv_blkfront *fe;
	int rc;

	if (!opts) {
		opts = &default_opts;
	}
	if (!ops->complete || !ops->released || opts->queues < 1 ||
	    opts->poll_ns > KPV_BLK_MAX_POLL_NS ||
	    (opts->persistent_pages && opts->persistent_pages < KPV_BLKFRONT_MIN_PERSISTENT) ||
	    opts->persistent_pages > KEEL_IO_BLOCK_PERSISTENT_MAX ||
	    opts->queues > KPV_BLKFRONT_MAX_RINGS || opts->ring_order > KEEL_IO_RING_MAX_ORDER) {
		return -KEEL_EINVAL;
	}
	fe = kpv_shim_alloc(sizeof(*fe));
	if (!fe) {
		return -KEEL_ENOMEM;
	}
	fe->k = k;
	fe->id = info->device_id;
	fe->ops = *ops;
	fe->os = os;
	fe->opts = *opts;
	fe->lock = kpv_shim_lock_create();
	fe->work = kpv_shim_work_create(fe_work, fe);
	rc = fe->lock && fe->work ? 0 : -KEEL_ENOMEM;
	if (rc == 0) {
		rc = kpv_fe_open(k, info, &blkfront_class, fe, &fe->dev);
	}
	if (rc != 0) {
		if (fe->work) {
			kpv_shim_work_destroy(fe->work);
		}
		if (fe->lock) {
			kpv_shim_lock_destroy(fe->lock);
		}
		kpv_shim_free(fe);
		return rc;
	}
	*out = fe;
	return 0;
}

/* A request no device could serve (block.md's shapes, before any config is known). */
static bool req_ok(const struct kpv_blk_req *req)
{
	bool rw = req->op == KEEL_IO_BLOCK_OP_READ || req->op == KEEL_IO_BLOCK_OP_WRITE;

	if (req->op > KEEL_IO_BLOCK_OP_WRITE_ZEROES || (req->flags & ~KPV_BLK_FUA) ||
	    ((req->flags & KPV_BLK_FUA) && req->op != KEEL_IO_BLOCK_OP_WRITE)) {
		return false;
	}
	if (!rw) {
		return req->nr_segs == 0 &&
		       (req->op == KEEL_IO_BLOCK_OP_FLUSH ? req->nr_sectors == 0
							  : req->nr_sectors != 0);
	}
	if (req->nr_sectors || req->nr_segs == 0 || req->nr_segs > 0xffff || !req->segs) {
		return false;
	}
	for (uint32_t i = 0; i < req->nr_segs; i++) {
		const struct kpv_blk_seg *s = &req->segs[i];

		if (!s->page || ((uintptr_t)s->page & (KPV_PAGE_SIZE - 1)) ||
		    !blk_seg_ok(s->offset, s->length)) {
			return false;
		}
	}
	return true;
}

int kpv_blkfront_submit(struct kpv_blkfront *fe, struct kpv_blk_req *req)
{
	unsigned long flags;

	if (!req_ok(req)) {
		return -KEEL_EINVAL;
	}
	req->next = NULL;
	req->done = 0;
	req->seg = req->seg_off = req->parts = 0;
	req->status = KEEL_IO_BLOCK_S_OK;
	req->resent = 0;
	flags = kpv_shim_lock(fe->lock);
	if (fe->closing) {
		kpv_shim_unlock(fe->lock, flags);
		return -KEEL_EBUSY;
	}
	req->state = RQ_QUEUED;
	if (fe->tail) {
		fe->tail->next = req;
	} else {
		fe->head = req;
	}
	fe->tail = req;
	fe->stats.requests++;
	kpv_shim_unlock(fe->lock, flags);
	kpv_shim_work_schedule(fe->work);
	return 0;
}

void kpv_blkfront_stats(struct kpv_blkfront *fe, struct kpv_blkfront_stats *out)
{
	unsigned long flags = kpv_shim_lock(fe->lock);

	*out = fe->stats;
	kpv_shim_unlock(fe->lock, flags);
}

void kpv_blkfront_close(struct kpv_blkfront *fe, bool removed)
{
	unsigned long flags = kpv_shim_lock(fe->lock);

	fe->closing = true;
	kpv_shim_unlock(fe->lock, flags);
	kpv_shim_work_schedule(fe->work);
	kpv_dev_close(fe->dev, removed);
}
