/* SPDX-License-Identifier: MIT */
/*
 * echo.c - the echo test class: the smallest class driver on the pvdrivers
 * device core, both sides, used by the smoke test. One ring of 64-byte
 * slots, no features, no config. The device is declared as a console in
 * reference.dts (boot configurations know console, block and net only), but
 * both ends run this class, not the console protocol.
 *
 * The frontend sends ECHO_REQUESTS requests, each carrying 48 bytes made
 * from its sequence number; the backend checks them and answers with the
 * bytes inverted and their sum; the frontend checks every answer. Ring
 * events only schedule the pump work, which does all ring work in thread
 * context, so each side's ring calls are serialised by the main loop.
 */
#include "ref.h"

#include <keel_pv/device.h>

#define ECHO_REQUESTS	1000u
#define ECHO_DATA	48u
#define CONNECT_WAIT	(60 * KT_NS_PER_S)	/* the peer domain may still be booting */
#define IO_WAIT		(30 * KT_NS_PER_S)

struct echo_req {
	uint32_t id;
	uint32_t seq;
	uint32_t len;
	uint32_t pad;
	uint8_t data[ECHO_DATA];
};

struct echo_rsp {
	uint32_t id;
	uint32_t seq;
	uint32_t sum;
	uint32_t pad;
	uint8_t data[ECHO_DATA];
};

_Static_assert(sizeof(struct echo_req) == 64 && sizeof(struct echo_rsp) == 64, "one slot each");

struct echo {
	struct kpv_dev *dev;
	struct kpv_work *pump;
	bool backend;
	bool connected;		/* between connected() and disconnected() */
	bool released;
	enum kpv_dev_end why;	/* of the last disconnected() */
	uint32_t connects, disconnects;
	uint32_t events;		/* ring events ([any]) */
	uint32_t sent, answered;	/* frontend */
	uint32_t served;		/* backend */
	uint32_t bad;			/* failed data checks */
	char first_bad[96];
};

static uint32_t echo_id(uint32_t seq)
{
	return seq * 2654435761u;
}

static uint8_t echo_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31u + i * 7u + 1u);
}

static void echo_bad(struct echo *e, const char *what, uint32_t seq)
{
	if (e->bad++ == 0) {
		kt_snprintf(e->first_bad, sizeof(e->first_bad), "%s (seq %u)", what, seq);
	}
}

/* Backend: check a request and fill its answer. */
static void echo_answer(struct echo *e, const struct echo_req *q, struct echo_rsp *a)
{
	uint32_t sum = 0;

	if (q->seq != e->served || q->id != echo_id(q->seq) || q->len != ECHO_DATA) {
		echo_bad(e, "request header", q->seq);
	}
	for (uint32_t i = 0; i < ECHO_DATA; i++) {
		if (q->data[i] != echo_byte(q->seq, i)) {
			echo_bad(e, "request data", q->seq);
		}
		a->data[i] = (uint8_t)(q->data[i] ^ 0xffu);
		sum += q->data[i];
	}
	a->id = q->id;
	a->seq = q->seq;
	a->sum = sum;
	a->pad = 0;
	e->served++;
}

/* Frontend: check an answer against what request seq e->answered carried. */
static void echo_check(struct echo *e, const struct echo_rsp *a)
{
	uint32_t seq = e->answered++, sum = 0;

	if (a->seq != seq || a->id != echo_id(seq)) {
		echo_bad(e, "response header", seq);
	}
	for (uint32_t i = 0; i < ECHO_DATA; i++) {
		uint8_t want = (uint8_t)(echo_byte(seq, i) ^ 0xffu);

		sum += echo_byte(seq, i);
		if (a->data[i] != want) {
			echo_bad(e, "response data", seq);
		}
	}
	if (a->sum != sum) {
		echo_bad(e, "response sum", seq);
	}
}

static void fe_pump(struct echo *e, struct kpv_ring *r)
{
	struct echo_rsp a;
	struct echo_req *q;

	do {
		if (kpv_ring_fe_available(r) < 0) {
			kpv_dev_fail(e->dev, KEEL_IO_ERR_PROTOCOL);
			return;
		}
		while (kpv_ring_fe_take(r, &a)) {
			echo_check(e, &a);
		}
		while (e->sent < ECHO_REQUESTS && (q = kpv_ring_fe_next(r)) != NULL) {
			*q = (struct echo_req){ .id = echo_id(e->sent), .seq = e->sent,
						.len = ECHO_DATA };
			for (uint32_t i = 0; i < ECHO_DATA; i++) {
				q->data[i] = echo_byte(e->sent, i);
			}
			e->sent++;
		}
		if (kpv_ring_fe_push(r)) {
			kpv_dev_notify(e->dev, 0);
		}
	} while (kpv_ring_fe_arm(r));
}

/*
 * At most a ring's worth per run (ring.md: a frontend that produces without
 * end must not starve us); the rest waits for the next run, queued behind
 * any other work.
 */
static void be_pump(struct echo *e, struct kpv_ring *r)
{
	uint32_t budget = r->nr_slots;
	struct echo_req q;

	do {
		if (kpv_ring_be_available(r) < 0) {
			kpv_dev_fail(e->dev, KEEL_IO_ERR_PROTOCOL);
			return;
		}
		while (budget > 0 && kpv_ring_be_take(r, &q)) {
			echo_answer(e, &q, kpv_ring_be_next(r));
			budget--;
		}
		if (kpv_ring_be_push(r)) {
			kpv_dev_notify(e->dev, 0);
		}
		if (budget == 0) {
			kpv_shim_work_schedule(e->pump);
			return;
		}
	} while (kpv_ring_be_arm(r));
}

/* The work behind every ring event (thread context, like connected()/disconnected()). */
static void pump(void *ctx)
{
	struct echo *e = ctx;

	if (!e->connected) {
		return;
	}
	if (e->backend) {
		be_pump(e, kpv_dev_ring(e->dev, 0));
	} else {
		fe_pump(e, kpv_dev_ring(e->dev, 0));
	}
}

/* --- The class callbacks ---------------------------------------------------- */

static uint32_t fe_choose(void *drv, const struct kpv_offer *offer, struct kpv_commit *commit)
{
	commit->features = 0;
	commit->nr_rings = 1;
	commit->ring_order[0] = 0;
	return 0;
}

static void on_connected(void *drv, struct kpv_dev *dev)
{
	struct echo *e = drv;

	e->dev = dev;
	e->connected = true;
	e->connects++;
	kpv_shim_work_schedule(e->pump);
}

static void on_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct echo *e = drv;

	e->connected = false;
	e->why = why;
	e->disconnects++;
}

static void on_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct echo *e = drv;

	__atomic_add_fetch(&e->events, 1, __ATOMIC_RELAXED);
	kpv_shim_work_schedule(e->pump);
}

static void on_released(void *drv)
{
	struct echo *e = drv;

	e->released = true;
}

static void be_offer(void *drv, struct kpv_offer *offer)
{
	offer->features = 0;
	offer->max_rings = 1;
	offer->max_ring_order = 0;
}

static uint32_t be_check_commit(void *drv, const struct kpv_offer *offer,
				const struct kpv_commit *commit)
{
	return commit->nr_rings == 1 ? 0 : KEEL_IO_ERR_RINGS;
}

static const struct kpv_fe_class echo_fe = {
	.device_class = KEEL_IO_CLASS_CONSOLE,
	.slot_size = 64,
	.choose = fe_choose,
	.connected = on_connected,
	.disconnected = on_disconnected,
	.ring_event = on_ring_event,
	.released = on_released,
};

static const struct kpv_be_class echo_be = {
	.device_class = KEEL_IO_CLASS_CONSOLE,
	.slot_size = 64,
	.offer = be_offer,
	.check_commit = be_check_commit,
	.connected = on_connected,
	.disconnected = on_disconnected,
	.ring_event = on_ring_event,
	.released = on_released,
};

/* --- The test ----------------------------------------------------------------- */

static bool is_connected(void *ctx)
{
	const struct echo *e = ctx;

	return e->connected;
}

/* Frontend: every answer is in. Backend: every request served and the frontend gone. */
static bool io_done(void *ctx)
{
	const struct echo *e = ctx;

	return e->backend ? e->served == ECHO_REQUESTS && !e->connected
			  : e->answered == ECHO_REQUESTS;
}

static bool is_released(void *ctx)
{
	const struct echo *e = ctx;

	return e->released;
}

void ref_echo_run(struct kpv *k, const struct kpv_device_info *dev, const char *name)
{
	static struct echo e;
	uint64_t t0;
	int rc;

	kt_group_begin(name);
	memset(&e, 0, sizeof(e));
	e.backend = dev->backend;
	e.pump = kpv_shim_work_create(pump, &e);
	rc = e.backend ? kpv_be_open(k, dev, &echo_be, &e, &e.dev)
		       : kpv_fe_open(k, dev, &echo_fe, &e, &e.dev);
	if (!kt_check_rc(e.backend ? "kpv_be_open" : "kpv_fe_open", rc, 0) ||
	    !kt_check(e.pump != NULL, "work create", "out of memory")) {
		kt_group_end();
		return;
	}
	if (kt_check(ref_wait(is_connected, &e, CONNECT_WAIT), "connected",
		     "state %u after 60 s", kpv_dev_state(e.dev))) {
		kt_check_eq("state", kpv_dev_state(e.dev), KEEL_IO_STATE_CONNECTED);
		kt_check_eq("rings", kpv_dev_nr_rings(e.dev), 1);
		kt_check_eq("peer", kpv_dev_peer(e.dev), dev->peer_domid);
		t0 = kpv_shim_now_ns();
		kt_check(ref_wait(io_done, &e, IO_WAIT), "echo done",
			 "sent %u, answered %u, served %u", e.sent, e.answered, e.served);
		kt_check(e.bad == 0, "data", "%u bad, the first: %s", e.bad, e.first_bad);
		kt_check(e.events > 0, "ring events", "none");
		kt_note("%u requests %s in %lu ms, %u ring events", ECHO_REQUESTS,
			e.backend ? "served" : "answered", (kpv_shim_now_ns() - t0) / KT_NS_PER_MS,
			e.events);
	}
	if (e.backend) {
		kt_check_eq("frontend left", e.why, KPV_END_PEER_GONE);
	}
	kpv_dev_close(e.dev, false);
	kt_check(ref_wait(is_released, &e, IO_WAIT), "released", "not after 30 s");
	if (!e.backend) {
		kt_check_eq("closed", e.why, KPV_END_CLOSE);
	}
	kt_check_eq("connects", e.connects, 1);
	kt_check_eq("disconnects", e.disconnects, 1);
	kpv_shim_work_destroy(e.pump);
	kt_group_end();
}
