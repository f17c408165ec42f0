/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/console/console_fe.c - the PV console's frontend
 * (docs/abi/devices/console.md): output taken from any context into a FIFO
 * and sent 56 bytes a request, kept until answered so that a new connection
 * sends it again; every input slot kept posted and input handed to the OS
 * from a work item; the terminal size followed live. Each response is
 * checked against the requests outstanding before anything is done with it.
 *
 * Locking: c->lock guards every field marked [lock], and the rings: a ring
 * is used only with the lock held and while c->live, which connected() and
 * disconnected() set under it, so the core never tears down a ring we are
 * in. The OS's callbacks run without it.
 *
 * Request ids: output requests carry the low 16 bits of a free-running
 * sequence number, so one in flight is found from its id and a stale or
 * repeated answer is not outstanding. An input slot's id keeps the slot in
 * its low bits and changes with each posting, for the same reason.
 */
#include "console_priv.h"

/* One output request in flight. */
struct out_req {
	uint16_t len;
	bool answered;			/* out of order: its bytes wait for the ones before */
};

struct kpv_con_fe {
	struct kpv_dev *dev;			/* (c) from open until released() */
	const struct kpv_con_fe_ops *ops;	/* (c) */
	void *ctx;				/* (c) */
	uint32_t id;				/* (c) the device id, for the log */
	struct kpv_lock *lock;
	struct kpv_work *work;			/* input delivery, and output left over */
	bool live;				/* [lock] connected, no error: rings usable */
	bool want_room;				/* [lock] a write came up short */
	uint16_t cols, rows;			/* [lock] the size last reported */
	/* Output: out.head is the oldest byte not answered, sent the next to put in a request. */
	struct con_fifo out;			/* [lock] */
	uint32_t sent;				/* [lock] */
	uint32_t seq_head, seq_tail;		/* [lock] the requests in flight */
	struct out_req reqs[CON_SLOTS];		/* [lock] by sequence & (CON_SLOTS - 1) */
	/* Input: each slot's request, posted or not, and the id it carries. */
	uint16_t in_id[CON_SLOTS];		/* [lock] */
	bool in_posted[CON_SLOTS];		/* [lock] */
	struct kpv_con_fe_stats stats;		/* [lock] */
};

static struct kpv_ring *ring(struct kpv_con_fe *c, unsigned int i)
{
	return kpv_dev_ring(c->dev, i);
}

/* A protocol error in the backend's answers: leave the rings alone; the core tears down. [lock] */
static bool broken(struct kpv_con_fe *c, const char *what, uint32_t value)
{
	c->live = false;
	c->stats.errors++;
	kpv_con_fail(c->dev, c->id, "backend", what, value);
	return false;
}

/* --- output ------------------------------------------------------------------------ */

/* Put output not yet sent into requests, while the ring has slots. [lock] */
static void out_send(struct kpv_con_fe *c)
{
	struct kpv_ring *r = ring(c, CON_OUT);
	void *slot;

	while (c->sent != c->out.tail && c->seq_tail - c->seq_head < CON_SLOTS &&
	       (slot = kpv_ring_fe_next(r)) != NULL) {
		uint32_t len = c->out.tail - c->sent;
		uint8_t data[CON_DATA];

		len = len < CON_DATA ? len : CON_DATA;
		kpv_con_fifo_peek(&c->out, c->sent, data, len);
		kpv_con_slot_write(slot, (uint16_t)c->seq_tail, data, len);
		c->reqs[c->seq_tail & (CON_SLOTS - 1)] = (struct out_req){ .len = (uint16_t)len };
		c->sent += len;
		c->seq_tail++;
	}
	if (kpv_ring_fe_push(r)) {
		kpv_dev_notify(c->dev, CON_OUT);
	}
}

/* One answer to our output: outstanding, not answered yet, same length. [lock] */
static bool out_answer(struct kpv_con_fe *c, const struct keel_io_console_slot *m)
{
	uint32_t seq = c->seq_head + (uint16_t)(m->id - (uint16_t)c->seq_head);
	struct out_req *q = &c->reqs[seq & (CON_SLOTS - 1)];

	if (seq - c->seq_head >= c->seq_tail - c->seq_head) {
		return broken(c, "output id not outstanding", m->id);
	}
	if (q->answered) {
		return broken(c, "output id answered twice", m->id);
	}
	if (m->len != q->len) {
		return broken(c, "output length changed", m->len);
	}
	q->answered = true;
	/* Bytes are done once every request before theirs is. */
	while (c->seq_head != c->seq_tail && c->reqs[c->seq_head & (CON_SLOTS - 1)].answered) {
		q = &c->reqs[c->seq_head++ & (CON_SLOTS - 1)];
		c->out.head += q->len;
		c->stats.answered += q->len;
	}
	return true;
}

/*
 * Answers in, more output out, until caught up (ring.md rule 7). It ends:
 * each round needs new answers, and there are never more than the requests
 * made from what the FIFO held when we took the lock. True when done, false
 * on an error or when CON_SLOTS rounds were not enough (the work goes on).
 */
static bool out_pump(struct kpv_con_fe *c)
{
	struct kpv_ring *r = ring(c, CON_OUT);
	struct keel_io_console_slot m;

	for (uint32_t round = 0; round < CON_SLOTS; round++) {
		if (kpv_ring_fe_available(r) < 0) {
			return broken(c, "output ring index", 0);
		}
		while (kpv_ring_fe_take(r, &m)) {
			if (!out_answer(c, &m)) {
				return false;
			}
		}
		out_send(c);
		if (!kpv_ring_fe_arm(r)) {
			return true;
		}
	}
	return false;
}

/* --- input ------------------------------------------------------------------------- */

/* Post slot @i's request again, with a new id. [lock] */
static void in_post(struct kpv_con_fe *c, struct kpv_ring *r, uint32_t i)
{
	void *slot = kpv_ring_fe_next(r);	/* one ring slot per input slot: never NULL */

	c->in_id[i] = (uint16_t)(c->in_id[i] + CON_SLOTS);
	if (slot) {
		kpv_con_slot_write(slot, c->in_id[i], NULL, 0);
		c->in_posted[i] = true;
	}
}

/*
 * The next input answer, checked, its slot posted again at once (console.md:
 * keep every slot posted): 1 with it in @m, 0 for none, -1 on an error.
 * Caught up, arm and look once more (rule 7); a backend flipping rsp_prod
 * back and forth gets no more than that.
 */
static int in_take(struct kpv_con_fe *c, struct keel_io_console_slot *m)
{
	struct kpv_ring *r = ring(c, CON_IN);
	uint32_t i;
	int n = kpv_ring_fe_available(r);

	if (n == 0 && kpv_ring_fe_arm(r)) {
		n = kpv_ring_fe_available(r);
	}
	if (n < 0) {
		broken(c, "input ring index", 0);
		return -1;
	}
	if (!kpv_ring_fe_take(r, m)) {
		return 0;
	}
	i = m->id & (CON_SLOTS - 1);
	if (!c->in_posted[i] || c->in_id[i] != m->id) {
		broken(c, "input id not outstanding", m->id);
		return -1;
	}
	if (m->len > CON_DATA) {
		broken(c, "input length", m->len);
		return -1;
	}
	c->in_posted[i] = false;
	in_post(c, r, i);
	if (kpv_ring_fe_push(r)) {
		kpv_dev_notify(c->dev, CON_IN);
	}
	return 1;
}

/*
 * The work: input to the OS, one answer at a time with the lock dropped
 * around the callback, at most a ring's worth per run (ring.md: bounded
 * work), then whatever output the event handler left.
 */
static void fe_work(void *ctx)
{
	struct kpv_con_fe *c = ctx;
	struct keel_io_console_slot m;
	unsigned long flags = kpv_shim_lock(c->lock);
	uint32_t budget = CON_SLOTS;
	bool done = true;

	while (c->live && budget > 0 && in_take(c, &m) > 0) {
		budget--;
		c->stats.input += m.len;
		kpv_shim_unlock(c->lock, flags);
		if (m.len > 0) {
			c->ops->input(c->ctx, m.data, m.len);
		}
		flags = kpv_shim_lock(c->lock);
	}
	if (c->live) {
		done = out_pump(c) && budget > 0;
	}
	kpv_shim_unlock(c->lock, flags);
	if (!done) {
		kpv_shim_work_schedule(c->work);
	}
}

/* --- the class --------------------------------------------------------------------- */

static uint32_t fe_choose(void *drv, const struct kpv_offer *offer, struct kpv_commit *commit)
{
	(void)drv;
	if (offer->max_rings < KEEL_IO_CONSOLE_NR_RINGS) {
		return KEEL_IO_ERR_RINGS;	/* console.md: be_max_rings MUST be at least 2 */
	}
	commit->features = offer->features & KEEL_IO_CONSOLE_F_SIZE;
	commit->nr_rings = KEEL_IO_CONSOLE_NR_RINGS;
	commit->ring_order[CON_OUT] = CON_RING_ORDER;
	commit->ring_order[CON_IN] = CON_RING_ORDER;
	return 0;
}

/* The size from @config if the backend gives it (F_SIZE), else 80 x 25. */
static void size_of(const struct kpv_dev *dev, const uint8_t *config, uint16_t *cols,
		    uint16_t *rows)
{
	struct keel_io_console_config cfg = { .cols = KPV_CON_COLS, .rows = KPV_CON_ROWS };

	if (kpv_dev_features(dev) & KEEL_IO_CONSOLE_F_SIZE) {
		con_memcpy(&cfg, config, sizeof(cfg));
	}
	*cols = cfg.cols;
	*rows = cfg.rows;
}

/* Fresh rings: every input slot posted, and output sent again from the oldest unanswered byte. */
static void fe_connected(void *drv, struct kpv_dev *dev)
{
	struct kpv_con_fe *c = drv;
	struct kpv_ring *in;
	unsigned long flags;
	uint16_t cols, rows;
	bool done;

	size_of(dev, kpv_dev_config(dev), &cols, &rows);
	flags = kpv_shim_lock(c->lock);
	c->dev = dev;
	c->live = true;
	c->cols = cols;
	c->rows = rows;
	c->stats.connects++;
	in = ring(c, CON_IN);
	for (uint32_t i = 0; i < CON_SLOTS; i++) {
		in_post(c, in, i);
	}
	if (kpv_ring_fe_push(in)) {
		kpv_dev_notify(dev, CON_IN);
	}
	done = out_pump(c);
	kpv_shim_unlock(c->lock, flags);
	if (!done) {
		kpv_shim_work_schedule(c->work);
	}
	if (c->ops->size) {
		c->ops->size(c->ctx, cols, rows);
	}
	if (c->ops->connection) {
		c->ops->connection(c->ctx, true);
	}
}

/* The rings go: what was sent and not answered is sent again on the next ones (console.md). */
static void fe_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct kpv_con_fe *c = drv;
	unsigned long flags = kpv_shim_lock(c->lock);

	(void)dev;
	(void)why;
	c->live = false;
	c->stats.resent += c->sent - c->out.head;
	c->sent = c->out.head;
	c->seq_head = c->seq_tail;
	con_memset(c->in_posted, 0, sizeof(c->in_posted));
	kpv_shim_unlock(c->lock, flags);
	if (c->ops->connection) {
		c->ops->connection(c->ctx, false);
	}
}

/* [any] Output answers are collected here; input waits for the work (thread context). */
static void fe_ring_event(void *drv, struct kpv_dev *dev, unsigned int i)
{
	struct kpv_con_fe *c = drv;
	unsigned long flags;
	bool done = true, room;

	(void)dev;
	if (i != CON_OUT) {
		kpv_shim_work_schedule(c->work);
		return;
	}
	flags = kpv_shim_lock(c->lock);
	if (c->live) {
		done = out_pump(c);
	}
	room = c->want_room && kpv_con_fifo_room(&c->out) > 0;
	c->want_room = c->want_room && !room;
	kpv_shim_unlock(c->lock, flags);
	if (!done) {
		kpv_shim_work_schedule(c->work);
	}
	if (room && c->ops->writable) {
		c->ops->writable(c->ctx);
	}
}

/* A live size change (F_SIZE); without F_SIZE be_config means nothing. */
static void fe_config_changed(void *drv, struct kpv_dev *dev, const uint8_t *config)
{
	struct kpv_con_fe *c = drv;
	unsigned long flags;
	uint16_t cols, rows;
	bool changed;

	if (!(kpv_dev_features(dev) & KEEL_IO_CONSOLE_F_SIZE)) {
		return;
	}
	size_of(dev, config, &cols, &rows);
	flags = kpv_shim_lock(c->lock);
	changed = cols != c->cols || rows != c->rows;
	c->cols = cols;
	c->rows = rows;
	kpv_shim_unlock(c->lock, flags);
	if (changed && c->ops->size) {
		c->ops->size(c->ctx, cols, rows);
	}
}

static void fe_free(struct kpv_con_fe *c)
{
	if (c->work) {
		kpv_shim_work_destroy(c->work);
	}
	if (c->lock) {
		kpv_shim_lock_destroy(c->lock);
	}
	if (c->out.buf) {
		kpv_shim_page_free(c->out.buf);
	}
	kpv_shim_free(c);
}

static void fe_released(void *drv)
{
	struct kpv_con_fe *c = drv;
	const struct kpv_con_fe_ops *ops = c->ops;
	void *ctx = c->ctx;

	fe_free(c);
	ops->released(ctx);
}

static const struct kpv_fe_class con_fe_class = {
	.device_class = KEEL_IO_CLASS_CONSOLE,
	.slot_size = KEEL_IO_CONSOLE_SLOT_SIZE,
	.choose = fe_choose,
	.connected = fe_connected,
	.disconnected = fe_disconnected,
	.ring_event = fe_ring_event,
	.config_changed = fe_config_changed,
	.released = fe_released,
};

/* --- the OS's calls ------------------------------------------------------------------ */

int kpv_con_fe_open(struct kpv *k, const struct kpv_device_info *info,
		    const struct kpv_con_fe_ops *ops, void *ctx, struct kpv_con_fe **out)
{
	struct kpv_con_fe *c = kpv_shim_alloc(sizeof(*c));
	int rc;

	if (!c) {
		return -KEEL_ENOMEM;
	}
	c->ops = ops;
	c->ctx = ctx;
	c->id = info->device_id;
	c->cols = KPV_CON_COLS;
	c->rows = KPV_CON_ROWS;
	c->out.size = KPV_CON_FE_BUF;
	c->out.buf = kpv_shim_page_alloc();
	c->lock = kpv_shim_lock_create();
	c->work = kpv_shim_work_create(fe_work, c);
	for (uint32_t i = 0; i < CON_SLOTS; i++) {
		c->in_id[i] = (uint16_t)i;
	}
	rc = c->out.buf && c->lock && c->work ? kpv_fe_open(k, info, &con_fe_class, c, &c->dev)
					      : -KEEL_ENOMEM;
	if (rc != 0) {
		fe_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void kpv_con_fe_close(struct kpv_con_fe *c, bool removed)
{
	kpv_dev_close(c->dev, removed);
}

uint32_t kpv_con_fe_write(struct kpv_con_fe *c, const void *data, uint32_t len)
{
	unsigned long flags = kpv_shim_lock(c->lock);
	bool done = true;
	uint32_t n;

	if (c->live) {
		done = out_pump(c);	/* answers first: room for this write */
	}
	n = kpv_con_fifo_put(&c->out, data, len);
	c->stats.written += n;
	c->want_room = c->want_room || n < len;
	if (c->live && done) {
		done = out_pump(c);
	}
	kpv_shim_unlock(c->lock, flags);
	if (!done) {
		kpv_shim_work_schedule(c->work);
	}
	return n;
}

uint32_t kpv_con_fe_room(struct kpv_con_fe *c)
{
	unsigned long flags = kpv_shim_lock(c->lock);
	uint32_t n = kpv_con_fifo_room(&c->out);

	kpv_shim_unlock(c->lock, flags);
	return n;
}

uint32_t kpv_con_fe_unanswered(struct kpv_con_fe *c)
{
	unsigned long flags = kpv_shim_lock(c->lock);
	uint32_t n = kpv_con_fifo_used(&c->out);

	kpv_shim_unlock(c->lock, flags);
	return n;
}

bool kpv_con_fe_connected(struct kpv_con_fe *c)
{
	unsigned long flags = kpv_shim_lock(c->lock);
	bool live = c->live;

	kpv_shim_unlock(c->lock, flags);
	return live;
}

void kpv_con_fe_size(struct kpv_con_fe *c, uint16_t *cols, uint16_t *rows)
{
	unsigned long flags = kpv_shim_lock(c->lock);

	*cols = c->cols;
	*rows = c->rows;
	kpv_shim_unlock(c->lock, flags);
}

void kpv_con_fe_stats(struct kpv_con_fe *c, struct kpv_con_fe_stats *out)
{
	unsigned long flags = kpv_shim_lock(c->lock);

	*out = c->stats;
	kpv_shim_unlock(c->lock, flags);
}

struct kpv_dev *kpv_con_fe_dev(struct kpv_con_fe *c)
{
	return c->dev;
}
