/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/console/console_be.c - the PV console's backend
 * (docs/abi/devices/console.md): every output request checked, its bytes
 * kept in a FIFO for the sink and the request answered at once (the guest
 * never stalls for want of a reader; with no sink the oldest bytes go);
 * input answers the frontend's posted requests, or waits in a FIFO until it
 * posts some; the terminal size is offered and updated live (F_SIZE).
 *
 * A request is taken from the ring only when it can be answered (output
 * always, input once there is input), so no request is ever held and
 * nothing needs remembering across a reconnect.
 *
 * Locking: b->lock guards every field marked [lock], and the rings (used
 * only while b->live, which connected() and disconnected() set under it).
 * Ring events schedule the work, which serves at most a ring's worth per
 * ring per run (ring.md: bounded work) and then feeds the sink, without the
 * lock: only the work feeds it, so sink calls never overlap.
 */
#include "console_priv.h"

/* What the sink gets per call, from a buffer on the work's stack. */
#define SINK_CHUNK	128u

struct kpv_con_be {
	struct kpv_dev *dev;			/* (c) from open until released() */
	const struct kpv_con_be_ops *ops;	/* (c) */
	void *ctx;				/* (c) */
	uint32_t id;				/* (c) the device id, for the log */
	struct kpv_lock *lock;
	struct kpv_work *work;
	bool live;				/* [lock] connected, no error: rings usable */
	bool closing;				/* [lock] close asked: the page may go */
	bool f_size;				/* [lock] the frontend accepted F_SIZE */
	kpv_con_sink sink;			/* [lock] NULL: none attached */
	void *sink_ctx;				/* [lock] */
	uint32_t size;				/* [lock] cols, rows: config word 0 */
	uint32_t offered;			/* [lock] ... as the last offer had it */
	struct con_fifo out;			/* [lock] output not yet given to the sink */
	struct con_fifo in;			/* [lock] input waiting for a posted request */
	uint8_t in_buf[KPV_CON_BE_IN_BUF];
	struct kpv_con_be_stats stats;		/* [lock] */
};

/* cols and rows as one 32-bit word, laid out as struct keel_io_console_config's first. */
static uint32_t size_word(uint16_t cols, uint16_t rows)
{
	struct keel_io_console_config cfg = { .cols = cols, .rows = rows };
	uint32_t w;

	con_memcpy(&w, &cfg, sizeof(w));
	return w;
}

/* A protocol error in the frontend's requests: leave the rings; the core tears down. [lock] */
static bool broken(struct kpv_con_be *b, const char *what, uint32_t value)
{
	b->live = false;
	b->stats.errors++;
	kpv_con_fail(b->dev, b->id, "frontend", what, value);
	return false;
}

/*
 * console.md: the size changes with one 32-bit store and a notification
 * (a frontend compares be_config with its copy on every notification, and
 * when it connects). Connected, only if it took F_SIZE; before, so that a
 * commit still to come sees it. Never once closing: the core may unmap the
 * page. [lock]
 */
static void size_show(struct kpv_con_be *b)
{
	if (!b->closing && (b->live ? b->f_size : b->dev != NULL)) {
		kpv_dev_config_update(b->dev, 0, b->size, sizeof(b->size));
	}
}

/* --- serving the rings --------------------------------------------------------------- */

/* With a sink, stop before the FIFO would drop; without one, the oldest bytes go. [lock] */
static bool out_room(const struct kpv_con_be *b)
{
	return !b->sink || kpv_con_fifo_room(&b->out) >= CON_DATA;
}

/*
 * Output requests: each checked, its bytes kept, answered with its id and
 * length at once. False when caught up (or on an error); true when it
 * stopped with a ring's worth done or the sink behind.
 */
static bool serve_output(struct kpv_con_be *b)
{
	struct kpv_ring *r = kpv_dev_ring(b->dev, CON_OUT);
	uint32_t budget = r->nr_slots;
	struct keel_io_console_slot m;

	do {
		if (kpv_ring_be_available(r) < 0) {
			return broken(b, "output ring index", 0);
		}
		while (budget > 0 && out_room(b) && kpv_ring_be_take(r, &m)) {
			if (m.len == 0 || m.len > CON_DATA) {
				return broken(b, "output length", m.len);
			}
			b->stats.output += m.len;
			b->stats.output_dropped += kpv_con_fifo_put_over(&b->out, m.data, m.len);
			kpv_con_slot_write(kpv_ring_be_next(r), m.id, NULL, m.len);
			budget--;
		}
		if (kpv_ring_be_push(r)) {
			kpv_dev_notify(b->dev, CON_OUT);
		}
		if (budget == 0 || !out_room(b)) {
			return true;
		}
	} while (kpv_ring_be_arm(r));
	return false;
}

/*
 * Held input into posted requests, up to 56 bytes each, in order. With
 * input left and no request, arm so the next posting is notified (rule 7).
 * Every pass costs budget, so a frontend flipping req_prod cannot hold us.
 * True when it stopped with input and a ring's worth done.
 */
static bool serve_input(struct kpv_con_be *b)
{
	struct kpv_ring *r = kpv_dev_ring(b->dev, CON_IN);
	uint32_t budget = r->nr_slots;
	struct keel_io_console_slot m;
	uint8_t data[CON_DATA];

	while (kpv_con_fifo_used(&b->in) > 0 && budget > 0) {
		int n = kpv_ring_be_available(r);
		uint32_t len;

		budget--;
		if (n < 0) {
			return broken(b, "input ring index", 0);
		}
		if (n == 0) {
			if (!kpv_ring_be_arm(r)) {
				break;
			}
			continue;
		}
		kpv_ring_be_take(r, &m);	/* its len and data mean nothing (posted empty) */
		len = kpv_con_fifo_get(&b->in, data, CON_DATA);
		kpv_con_slot_write(kpv_ring_be_next(r), m.id, data, len);
		b->stats.input += len;
	}
	if (kpv_ring_be_push(r)) {
		kpv_dev_notify(b->dev, CON_IN);
	}
	return budget == 0 && b->live && kpv_con_fifo_used(&b->in) > 0;
}

/* Held output to the sink, a chunk at a time, the lock dropped around each call. */
static void feed_sink(struct kpv_con_be *b)
{
	uint8_t chunk[SINK_CHUNK];

	for (;;) {
		unsigned long flags = kpv_shim_lock(b->lock);
		kpv_con_sink fn = b->sink;
		void *ctx = b->sink_ctx;
		uint32_t n = fn ? kpv_con_fifo_get(&b->out, chunk, sizeof(chunk)) : 0;

		kpv_shim_unlock(b->lock, flags);
		if (n == 0) {
			return;
		}
		fn(ctx, chunk, n);
	}
}

static void be_work(void *ctx)
{
	struct kpv_con_be *b = ctx;
	unsigned long flags = kpv_shim_lock(b->lock);
	bool more = false;

	if (b->live) {
		more = serve_output(b);
	}
	if (b->live) {
		more = serve_input(b) || more;
	}
	kpv_shim_unlock(b->lock, flags);
	feed_sink(b);
	if (more) {
		kpv_shim_work_schedule(b->work);
	}
}

/* --- the class --------------------------------------------------------------------- */

static void be_offer(void *drv, struct kpv_offer *offer)
{
	struct kpv_con_be *b = drv;
	unsigned long flags = kpv_shim_lock(b->lock);

	b->offered = b->size;
	con_memcpy(offer->config, &b->offered, sizeof(b->offered));
	kpv_shim_unlock(b->lock, flags);
	offer->features = KEEL_IO_CONSOLE_F_SIZE;
	offer->max_rings = KEEL_IO_CONSOLE_NR_RINGS;
	offer->max_ring_order = CON_RING_ORDER;
}

static uint32_t be_check_commit(void *drv, const struct kpv_offer *offer,
				const struct kpv_commit *commit)
{
	(void)drv;
	(void)offer;
	/* console.md: fe_nr_rings MUST be 2. The frontend has no config to check. */
	return commit->nr_rings == KEEL_IO_CONSOLE_NR_RINGS ? 0 : KEEL_IO_ERR_RINGS;
}

/*
 * Requests may wait already: the work serves them. A size set while the
 * offer was being published may have been overwritten by it (the core
 * copies the offer into the page after be_offer() returns): send it again.
 */
static void be_connected(void *drv, struct kpv_dev *dev)
{
	struct kpv_con_be *b = drv;
	unsigned long flags = kpv_shim_lock(b->lock);

	b->dev = dev;
	b->live = true;
	b->f_size = (kpv_dev_features(dev) & KEEL_IO_CONSOLE_F_SIZE) != 0;
	b->stats.connects++;
	if (b->size != b->offered) {
		size_show(b);
	}
	kpv_shim_unlock(b->lock, flags);
	kpv_shim_work_schedule(b->work);
	if (b->ops->connection) {
		b->ops->connection(b->ctx, true);
	}
}

/* Nothing is in flight (every request taken was answered); held input waits for the next. */
static void be_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct kpv_con_be *b = drv;
	unsigned long flags = kpv_shim_lock(b->lock);

	(void)dev;
	(void)why;
	b->live = false;
	kpv_shim_unlock(b->lock, flags);
	if (b->ops->connection) {
		b->ops->connection(b->ctx, false);
	}
}

static void be_ring_event(void *drv, struct kpv_dev *dev, unsigned int i)
{
	struct kpv_con_be *b = drv;

	(void)dev;
	(void)i;
	kpv_shim_work_schedule(b->work);
}

static void be_free(struct kpv_con_be *b)
{
	if (b->work) {
		kpv_shim_work_destroy(b->work);
	}
	if (b->lock) {
		kpv_shim_lock_destroy(b->lock);
	}
	if (b->out.buf) {
		kpv_shim_page_free(b->out.buf);
	}
	kpv_shim_free(b);
}

static void be_released(void *drv)
{
	struct kpv_con_be *b = drv;
	const struct kpv_con_be_ops *ops = b->ops;
	void *ctx = b->ctx;

	be_free(b);
	ops->released(ctx);
}

static const struct kpv_be_class con_be_class = {
	.device_class = KEEL_IO_CLASS_CONSOLE,
	.slot_size = KEEL_IO_CONSOLE_SLOT_SIZE,
	.offer = be_offer,
	.check_commit = be_check_commit,
	.connected = be_connected,
	.disconnected = be_disconnected,
	.ring_event = be_ring_event,
	.released = be_released,
};

/* --- the OS's calls ------------------------------------------------------------------ */

int kpv_con_be_open(struct kpv *k, const struct kpv_device_info *info,
		    const struct kpv_con_be_ops *ops, void *ctx, uint16_t cols, uint16_t rows,
		    struct kpv_con_be **out)
{
	struct kpv_con_be *b = kpv_shim_alloc(sizeof(*b));
	int rc;

	_Static_assert(sizeof(*b) <= KPV_PAGE_SIZE, "kpv_shim_alloc() gives a page at most");
	if (!b) {
		return -KEEL_ENOMEM;
	}
	b->ops = ops;
	b->ctx = ctx;
	b->id = info->device_id;
	b->size = size_word(cols, rows);
	b->out.size = KPV_CON_BE_OUT_BUF;
	b->out.buf = kpv_shim_page_alloc();
	b->in.size = KPV_CON_BE_IN_BUF;
	b->in.buf = b->in_buf;
	b->lock = kpv_shim_lock_create();
	b->work = kpv_shim_work_create(be_work, b);
	rc = b->out.buf && b->lock && b->work ? kpv_be_open(k, info, &con_be_class, b, &b->dev)
					      : -KEEL_ENOMEM;
	if (rc != 0) {
		be_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

void kpv_con_be_close(struct kpv_con_be *b, bool removed)
{
	unsigned long flags = kpv_shim_lock(b->lock);

	b->closing = true;
	kpv_shim_unlock(b->lock, flags);
	kpv_dev_close(b->dev, removed);
}

void kpv_con_be_sink(struct kpv_con_be *b, kpv_con_sink fn, void *ctx)
{
	unsigned long flags = kpv_shim_lock(b->lock);

	b->sink = fn;
	b->sink_ctx = ctx;
	kpv_shim_unlock(b->lock, flags);
	kpv_shim_work_schedule(b->work);	/* what was held goes to it first */
}

/*
 * Take what fits, serve it into posted requests, and take more while that
 * made room: a frontend with requests posted gets more than the FIFO holds.
 */
uint32_t kpv_con_be_input(struct kpv_con_be *b, const void *data, uint32_t len)
{
	const uint8_t *p = data;
	unsigned long flags = kpv_shim_lock(b->lock);
	uint32_t taken = kpv_con_fifo_put(&b->in, p, len);
	bool more = false;

	while (b->live) {
		uint32_t held = kpv_con_fifo_used(&b->in);

		more = serve_input(b);
		if (taken == len || kpv_con_fifo_used(&b->in) == held) {
			break;
		}
		taken += kpv_con_fifo_put(&b->in, p + taken, len - taken);
	}
	b->stats.input_dropped += len - taken;
	kpv_shim_unlock(b->lock, flags);
	if (more) {
		kpv_shim_work_schedule(b->work);
	}
	return taken;
}

void kpv_con_be_size(struct kpv_con_be *b, uint16_t cols, uint16_t rows)
{
	unsigned long flags = kpv_shim_lock(b->lock);

	if (b->size != size_word(cols, rows)) {
		b->size = size_word(cols, rows);
		size_show(b);
	}
	kpv_shim_unlock(b->lock, flags);
}

bool kpv_con_be_connected(struct kpv_con_be *b)
{
	unsigned long flags = kpv_shim_lock(b->lock);
	bool live = b->live;

	kpv_shim_unlock(b->lock, flags);
	return live;
}

void kpv_con_be_stats(struct kpv_con_be *b, struct kpv_con_be_stats *out)
{
	unsigned long flags = kpv_shim_lock(b->lock);

	*out = b->stats;
	kpv_shim_unlock(b->lock, flags);
}

struct kpv_dev *kpv_con_be_dev(struct kpv_con_be *b)
{
	return b->dev;
}
