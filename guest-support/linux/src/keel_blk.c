// SPDX-License-Identifier: MIT
/*
 * keel_blk.c - the PV block frontend as a blk-mq disk (/dev/kvda, kvdb,
 * ...), one per block device, on pvdrivers' blkfront (keel_pv/block.h).
 *
 * A request becomes one struct kpv_blk_req (in the request's pdu) with a
 * segment per page piece; pvdrivers splits, grants, resends after a
 * backend loss and completes it exactly once, in thread context. The disk
 * is made (or updated) when the backend connects, from the features it
 * negotiated: a volatile write cache (REQ_OP_FLUSH) and FUA only with
 * F_FLUSH and F_FUA, discard and write-zeroes only when offered.
 *
 * A backend that goes away and does not come back within backend_timeout
 * seconds (a module parameter) gets the disk closed: what waits for it ends
 * with an I/O error and so does every later request, instead of hanging
 * the tasks that wait on the disk for ever.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include <keel_pv/block.h>

#include "keel_linux.h"

#define KEEL_BLK_MINORS		16	/* the disk and 15 partitions */
#define KEEL_BLK_MAX_SEGS	128	/* per Linux request; pvdrivers splits further */
#define KEEL_BLK_QUEUE_DEPTH	64
/* How long removal lets a backend drain the disk before failing what is left. */
#define KEEL_BLK_DRAIN_MS	10000
/* A request not answered this long makes the timeout handler look at the backend. */
#define KEEL_BLK_RQ_TIMEOUT	(10 * HZ)

static unsigned int backend_timeout = 30;
module_param(backend_timeout, uint, 0644);
MODULE_PARM_DESC(backend_timeout,
		 "seconds a disk waits for a lost backend before failing its I/O (0: for ever)");

struct keel_blk {
	struct keel_frontend fe;
	struct kpv_blkfront *kfe;
	int index;			/* kvd<a + index>, minors from index * 16 */
	unsigned int queues;		/* hardware queues = rings asked for */

	spinlock_t info_lock;		/* guards info, no_changes and setting closed */
	struct kpv_blk_info info;	/* what pvdrivers last said the device is */
	bool no_changes;		/* removal began: changed_work is not queued again */
	struct work_struct changed_work;	/* applies info to the disk */

	struct mutex lock;		/* guards what follows */
	struct blk_mq_tag_set tags;
	struct gendisk *disk;		/* made at the first connection */
	bool removing;

	atomic_t closed;		/* kpv_blkfront_close() called: kfe may be freed */
	struct delayed_work drain_timeout;
	unsigned long lost_since;	/* jiffies the backend was first seen gone; 0 if not */
	struct work_struct lost_work;	/* closes the disk after backend_timeout */
	struct completion released;
};

/* One Linux request as pvdrivers sees it. */
struct keel_blk_rq {
	struct kpv_blk_req req;
	struct kpv_blk_seg segs[KEEL_BLK_MAX_SEGS];
};

static int keel_blk_major;
static DEFINE_IDA(keel_blk_ida);

int keel_blk_init(void)
{
	keel_blk_major = register_blkdev(0, "kvd");
	return keel_blk_major < 0 ? keel_blk_major : 0;
}

void keel_blk_exit(void)
{
	unregister_blkdev(keel_blk_major, "kvd");
}

static blk_status_t keel_blk_status(uint16_t status)
{
	switch (status) {
	case KEEL_IO_BLOCK_S_OK:
		return BLK_STS_OK;
	case KEEL_IO_BLOCK_S_NOTSUPP:
		return BLK_STS_NOTSUPP;
	default:
		/* S_IOERR, S_RANGE, S_READONLY and anything a backend invents. */
		return BLK_STS_IOERR;
	}
}

/*
 * The data segments: single-page pieces in order, each piece merged with
 * the previous one when it continues it in the same page, which is how the
 * block layer counted segments against max_segments and the page boundary.
 */
static int keel_blk_map(struct request *rq, struct keel_blk_rq *kr)
{
	struct req_iterator iter;
	struct bio_vec bv;
	u32 n = 0;

	rq_for_each_segment(bv, rq, iter) {
		struct kpv_blk_seg *prev = n ? &kr->segs[n - 1] : NULL;
		void *page = page_address(bv.bv_page);

		if (prev && prev->page == page && prev->offset + prev->length == bv.bv_offset) {
			prev->length += bv.bv_len;
			continue;
		}
		if (n == KEEL_BLK_MAX_SEGS)
			return -EINVAL;
		kr->segs[n++] = (struct kpv_blk_seg){
			.page = page, .offset = bv.bv_offset, .length = bv.bv_len,
		};
	}
	kr->req.segs = kr->segs;
	kr->req.nr_segs = n;
	return 0;
}

static blk_status_t keel_blk_queue_rq(struct blk_mq_hw_ctx *hctx, const struct blk_mq_queue_data *bd)
{
	struct keel_blk *b = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	struct keel_blk_rq *kr = blk_mq_rq_to_pdu(rq);
	int rc;

	memset(&kr->req, 0, sizeof(kr->req));
	kr->req.sector = blk_rq_pos(rq);
	kr->req.queue = hctx->queue_num;
	kr->req.os = rq;
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		kr->req.op = req_op(rq) == REQ_OP_READ ? KEEL_IO_BLOCK_OP_READ :
							  KEEL_IO_BLOCK_OP_WRITE;
		/* The block layer sends FUA only if we declared it (F_FUA negotiated). */
		if (req_op(rq) == REQ_OP_WRITE && (rq->cmd_flags & REQ_FUA))
			kr->req.flags = KPV_BLK_FUA;
		if (keel_blk_map(rq, kr))
			return BLK_STS_IOERR;
		break;
	case REQ_OP_FLUSH:
		kr->req.op = KEEL_IO_BLOCK_OP_FLUSH;
		break;
	case REQ_OP_DISCARD:
		kr->req.op = KEEL_IO_BLOCK_OP_DISCARD;
		kr->req.nr_sectors = blk_rq_sectors(rq);
		break;
	case REQ_OP_WRITE_ZEROES:
		kr->req.op = KEEL_IO_BLOCK_OP_WRITE_ZEROES;
		kr->req.nr_sectors = blk_rq_sectors(rq);
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	/* Closed (the backend was lost for good): pvdrivers may have freed its frontend. */
	if (atomic_read(&b->closed))
		return BLK_STS_IOERR;
	blk_mq_start_request(rq);
	rc = kpv_blkfront_submit(b->kfe, &kr->req);
	if (rc) {
		/* Malformed for the device (-EINVAL) or closing (-EBUSY): no completion follows. */
		pr_debug("kvd%c: request refused (%d)\n", 'a' + b->index, rc);
		return BLK_STS_IOERR;
	}
	return BLK_STS_OK;
}

/*
 * pvdrivers owns a request until it completes it: it resends after a
 * backend loss and fails what a closed device cannot serve. Completing it
 * here as well would complete it twice, so the timer is only re-armed; but
 * a backend gone for longer than backend_timeout gets the disk closed,
 * which makes pvdrivers fail the requests (S_IOERR).
 */
static enum blk_eh_timer_return keel_blk_timeout(struct request *rq)
{
	struct keel_blk *b = rq->q->queuedata;
	struct kpv_blk_info info;
	unsigned long since, flags;
	bool connected;

	/* Under info_lock, closed cannot become true (and kfe go away) meanwhile. */
	spin_lock_irqsave(&b->info_lock, flags);
	connected = atomic_read(&b->closed) || kpv_blkfront_info(b->kfe, &info) == 0;
	spin_unlock_irqrestore(&b->info_lock, flags);
	if (connected) {
		pr_warn_ratelimited("%s: request at sector %llu still waiting for the backend\n",
				    b->disk->disk_name, (unsigned long long)blk_rq_pos(rq));
		return BLK_EH_RESET_TIMER;
	}
	/* Not connected: the backend is gone (cmpxchg: several requests time out at once). */
	since = cmpxchg(&b->lost_since, 0, jiffies ? jiffies : 1);
	if (!since) {
		pr_warn("%s: backend gone; waiting %u s for it to come back\n", b->disk->disk_name,
			backend_timeout);
	} else if (backend_timeout && time_after(jiffies, since + backend_timeout * HZ)) {
		schedule_work(&b->lost_work);
	}
	return BLK_EH_RESET_TIMER;
}

static void keel_blk_close_once(struct keel_blk *b);

/* The backend stayed away: fail what waits for it, and everything after. */
static void keel_blk_lost_work(struct work_struct *w)
{
	struct keel_blk *b = container_of(w, struct keel_blk, lost_work);

	if (atomic_read(&b->closed))
		return;
	pr_err("%s: backend gone for more than %u s: failing I/O on this disk\n",
	       b->disk->disk_name, backend_timeout);
	keel_blk_close_once(b);
}

static const struct blk_mq_ops keel_blk_mq_ops = {
	.queue_rq = keel_blk_queue_rq,
	.timeout = keel_blk_timeout,
};

static const struct block_device_operations keel_blk_fops = {
	.owner = THIS_MODULE,
};

/* --- pvdrivers' callbacks (thread context, no kpv lock held) --------------- */

static void blk_changed(void *os, const struct kpv_blk_info *info)
{
	struct keel_blk *b = os;
	unsigned long flags;

	/*
	 * Not here: add_disk() reads the partition table and waits for the
	 * answers, which this very thread (pvdrivers' work) delivers.
	 */
	WRITE_ONCE(b->lost_since, 0);	/* connected (again) */
	spin_lock_irqsave(&b->info_lock, flags);
	b->info = *info;
	if (!b->no_changes)
		schedule_work(&b->changed_work);
	spin_unlock_irqrestore(&b->info_lock, flags);
}

static void blk_complete(void *os, struct kpv_blk_req *req, uint16_t status)
{
	blk_mq_end_request(req->os, keel_blk_status(status));
}

static void blk_released(void *os)
{
	struct keel_blk *b = os;

	complete(&b->released);
}

static const struct kpv_blkfront_ops keel_blkfront_ops = {
	.changed = blk_changed,
	.complete = blk_complete,
	.released = blk_released,
};

/* --- The disk ------------------------------------------------------------------ */

static void keel_blk_limits(struct keel_blk *b, struct request_queue *q,
			    const struct kpv_blk_info *info)
{
	bool discard = info->features & KEEL_IO_BLOCK_F_DISCARD;
	bool zeroes = info->features & KEEL_IO_BLOCK_F_WRITE_ZEROES;

	blk_queue_write_cache(q, info->features & KEEL_IO_BLOCK_F_FLUSH,
			      info->features & KEEL_IO_BLOCK_F_FUA);
	blk_queue_max_discard_sectors(q, discard ? info->max_discard_sectors : 0);
	if (discard) {
		q->limits.discard_granularity = info->discard_granularity;
		q->limits.discard_alignment = info->discard_alignment;
	}
	blk_queue_max_write_zeroes_sectors(q, zeroes ? info->max_write_zeroes_sectors : 0);
}

static int keel_blk_disk_make(struct keel_blk *b, const struct kpv_blk_info *info)
{
	struct gendisk *disk;
	struct request_queue *q;
	int rc;

	b->tags.ops = &keel_blk_mq_ops;
	b->tags.nr_hw_queues = b->queues;
	b->tags.queue_depth = KEEL_BLK_QUEUE_DEPTH;
	b->tags.numa_node = NUMA_NO_NODE;
	b->tags.cmd_size = sizeof(struct keel_blk_rq);
	b->tags.flags = BLK_MQ_F_SHOULD_MERGE;
	b->tags.driver_data = b;
	rc = blk_mq_alloc_tag_set(&b->tags);
	if (rc)
		return rc;
	disk = blk_mq_alloc_disk(&b->tags, b);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(&b->tags);
		return PTR_ERR(disk);
	}
	q = disk->queue;
	blk_queue_rq_timeout(q, KEEL_BLK_RQ_TIMEOUT);
	disk->major = keel_blk_major;
	disk->first_minor = b->index * KEEL_BLK_MINORS;
	disk->minors = KEEL_BLK_MINORS;
	disk->fops = &keel_blk_fops;
	disk->private_data = b;
	snprintf(disk->disk_name, DISK_NAME_LEN, "kvd%c", 'a' + b->index);
	blk_queue_logical_block_size(q, info->logical_block_size);
	blk_queue_physical_block_size(q, info->physical_block_size);
	/* Every segment inside one page: that is what a kpv_blk_seg can carry. */
	blk_queue_max_segments(q, KEEL_BLK_MAX_SEGS);
	blk_queue_max_segment_size(q, PAGE_SIZE);
	blk_queue_segment_boundary(q, PAGE_SIZE - 1);
	blk_queue_max_hw_sectors(q, KEEL_BLK_MAX_SEGS * (PAGE_SIZE >> SECTOR_SHIFT));
	blk_queue_dma_alignment(q, SECTOR_SIZE - 1);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	keel_blk_limits(b, q, info);
	set_disk_ro(disk, info->read_only);
	set_capacity(disk, info->capacity_sectors);
	rc = device_add_disk(keel_parent(), disk, NULL);
	if (rc) {
		put_disk(disk);
		blk_mq_free_tag_set(&b->tags);
		return rc;
	}
	b->disk = disk;
	return 0;
}

/* A reconnect or a resize: what may change on a live disk is applied. */
static void keel_blk_disk_update(struct keel_blk *b, const struct kpv_blk_info *info)
{
	struct gendisk *disk = b->disk;

	if (queue_logical_block_size(disk->queue) != info->logical_block_size)
		pr_warn("%s: the backend now has %u-byte blocks; keeping %u until reloaded\n",
			disk->disk_name, info->logical_block_size,
			queue_logical_block_size(disk->queue));
	keel_blk_limits(b, disk->queue, info);
	set_disk_ro(disk, info->read_only);
	set_capacity_and_notify(disk, info->capacity_sectors);
}

static void keel_blk_changed_work(struct work_struct *w)
{
	struct keel_blk *b = container_of(w, struct keel_blk, changed_work);
	struct kpv_blk_info info;
	unsigned long flags;
	int rc;

	spin_lock_irqsave(&b->info_lock, flags);
	info = b->info;
	spin_unlock_irqrestore(&b->info_lock, flags);
	mutex_lock(&b->lock);
	if (b->removing) {
		mutex_unlock(&b->lock);
		return;
	}
	if (b->disk) {
		keel_blk_disk_update(b, &info);
	} else {
		rc = keel_blk_disk_make(b, &info);
		if (rc)
			pr_err("kvd%c: disk not created (%d)\n", 'a' + b->index, rc);
		else
			pr_info("%s: %llu sectors of 512 bytes, %u-byte blocks, features %#llx%s\n",
				b->disk->disk_name, info.capacity_sectors,
				info.logical_block_size, info.features,
				info.read_only ? ", read-only" : "");
	}
	mutex_unlock(&b->lock);
}

/* --- Open and remove ------------------------------------------------------------- */

/*
 * pvdrivers frees its frontend once released, so nothing may call into it
 * after the close: the timeout handler looks at closed under info_lock, and
 * queue_rq before it submits; quiescing waits for a queue_rq that looked
 * just before.
 */
static void keel_blk_close_once(struct keel_blk *b)
{
	unsigned long flags;
	int was;

	spin_lock_irqsave(&b->info_lock, flags);
	was = atomic_xchg(&b->closed, 1);
	spin_unlock_irqrestore(&b->info_lock, flags);
	if (was)
		return;
	if (b->disk) {
		blk_mq_quiesce_queue(b->disk->queue);
		blk_mq_unquiesce_queue(b->disk->queue);
	}
	kpv_blkfront_close(b->kfe, false);
}

/* The backend did not drain the disk in time: fail what is left so removal ends. */
static void keel_blk_drain_timeout(struct work_struct *w)
{
	struct keel_blk *b = container_of(to_delayed_work(w), struct keel_blk, drain_timeout);

	pr_warn("kvd%c: backend did not finish in %d ms; failing the rest\n", 'a' + b->index,
		KEEL_BLK_DRAIN_MS);
	keel_blk_close_once(b);
}

static void keel_blk_remove(struct keel_frontend *fe)
{
	struct keel_blk *b = container_of(fe, struct keel_blk, fe);
	struct gendisk *disk;
	unsigned long flags;

	spin_lock_irqsave(&b->info_lock, flags);
	b->no_changes = true;
	spin_unlock_irqrestore(&b->info_lock, flags);
	mutex_lock(&b->lock);
	b->removing = true;
	mutex_unlock(&b->lock);
	/* Writing back and draining the disk (and a partition scan in progress) is bounded. */
	schedule_delayed_work(&b->drain_timeout, msecs_to_jiffies(KEEL_BLK_DRAIN_MS));
	cancel_work_sync(&b->changed_work);
	disk = b->disk;
	if (disk)
		del_gendisk(disk);
	cancel_delayed_work_sync(&b->drain_timeout);
	cancel_work_sync(&b->lost_work);
	keel_blk_close_once(b);
	wait_for_completion(&b->released);
	if (disk) {
		put_disk(disk);
		blk_mq_free_tag_set(&b->tags);
	}
	ida_free(&keel_blk_ida, b->index);
	kfree(b);
}

int keel_blk_open(struct kpv *k, const struct kpv_device_info *info, struct keel_frontend **out)
{
	struct kpv_blkfront_opts opts = {
		.features = KEEL_IO_BLOCK_F_FLUSH | KEEL_IO_BLOCK_F_FUA | KEEL_IO_BLOCK_F_DISCARD |
			    KEEL_IO_BLOCK_F_WRITE_ZEROES | KEEL_IO_BLOCK_F_INDIRECT |
			    KEEL_IO_BLOCK_F_MULTI_QUEUE | KEEL_IO_BLOCK_F_PERSISTENT,
		.ring_order = 1,
	};
	struct keel_blk *b = kzalloc(sizeof(*b), GFP_KERNEL);
	int rc;

	if (!b)
		return -ENOMEM;
	/* 26 letters: kvda .. kvdz. */
	b->index = ida_alloc_max(&keel_blk_ida, 25, GFP_KERNEL);
	if (b->index < 0) {
		rc = b->index;
		kfree(b);
		return rc;
	}
	b->queues = clamp_t(unsigned int, num_online_cpus(), 1, KPV_BLKFRONT_MAX_RINGS);
	opts.queues = b->queues;
	spin_lock_init(&b->info_lock);
	mutex_init(&b->lock);
	INIT_WORK(&b->changed_work, keel_blk_changed_work);
	INIT_DELAYED_WORK(&b->drain_timeout, keel_blk_drain_timeout);
	INIT_WORK(&b->lost_work, keel_blk_lost_work);
	init_completion(&b->released);
	b->fe.remove = keel_blk_remove;
	rc = kpv_blkfront_open(k, info, &keel_blkfront_ops, b, &opts, &b->kfe);
	if (rc) {
		ida_free(&keel_blk_ida, b->index);
		kfree(b);
		return keel_errno(rc);
	}
	pr_info("kvd%c: device %u (%s), waiting for its backend\n", 'a' + b->index,
		info->device_id, info->label);
	*out = &b->fe;
	return 0;
}
