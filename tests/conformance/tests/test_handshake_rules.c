/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_handshake_rules.c - handshake.md's rules on
 * what each side writes, watched from outside through a hook on each
 * domain's hypercalls: every change to an area is followed by a
 * notification on the control port; the states each side writes follow
 * the transition table; a committed frontend that loses its backend goes
 * READY, CLOSING, CLOSED; the peer's area is used from the one copy taken
 * per event, even when the peer rewrites it right after; reserved and MBZ
 * fields stay zero.
 */
#include <stddef.h>
#include <stdio.h>
#include <keel/event_channel.h>
#include <keel/hypercall.h>
#include "peer.h"
#include "suites.h"

#define BE_AREA		offsetof(struct keel_io_device_page, be_state)
#define FE_AREA		offsetof(struct keel_io_device_page, fe_state)
#define BE_LEN		(FE_AREA - BE_AREA)
#define FE_LEN		(sizeof(struct keel_io_device_page) - FE_AREA)
#define MAX_SENDS	256

/* One side's area as it was at each send on the control port. */
struct watch {
	struct t_pair *p;
	bool backend;
	uint8_t notified[FE_LEN];	/* the area at the last send (FE_LEN > BE_LEN) */
	uint32_t state[MAX_SENDS], gen[MAX_SENDS];
	unsigned int sends;
	unsigned int unnotified;	/* checks that found a change no send followed */
	bool fresh;			/* the next state is a new instance's first */
};

static struct t_pair P;
static struct raw_be RB;
static struct watch FW, BW;

static uint8_t *area(const struct watch *w)
{
	uint8_t *page = (uint8_t *)t_page(w->p->id);

	return page + (w->backend ? BE_AREA : FE_AREA);
}

static size_t area_len(const struct watch *w)
{
	return w->backend ? BE_LEN : FE_LEN;
}

/* Whether @port of the backend domain is bound to the frontend's control port. */
static bool is_be_ctl_port(struct t_pair *p, uint64_t port)
{
	uint64_t gpa;
	struct keel_evtchn_status *st = harness_scratch(p->bdom, &gpa);

	memset(st, 0, sizeof(*st));
	st->port = (uint32_t)port;
	return harness_hypercall(p->bdom, KEEL_HC_EVTCHN_STATUS, gpa, 0, 0, 0, 0) == 0 &&
	       st->state == KEEL_EVTCHN_STATE_INTERDOMAIN &&
	       st->remote_domid == harness_domid(p->fdom) && st->remote_port == p->fe_port;
}

static void record(struct watch *w)
{
	const uint32_t *a = (const uint32_t *)area(w);	/* state, error, generation first */

	memcpy(w->notified, area(w), area_len(w));
	if (w->sends < MAX_SENDS && (w->sends == 0 || w->state[w->sends - 1] != a[0] ||
				     w->gen[w->sends - 1] != a[2])) {
		w->state[w->sends] = a[0];
		w->gen[w->sends] = a[2];
		w->sends++;
	}
}

/* The hook: a send on the control port notifies the area as it is now. */
static bool on_hypercall(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5], long *ret)
{
	struct watch *w = ctx;

	(void)d;
	(void)ret;
	if (nr == KEEL_HC_EVTCHN_SEND &&
	    (w->backend ? is_be_ctl_port(w->p, args[0]) : args[0] == w->p->fe_port)) {
		record(w);
	}
	return false;
}

static void watch(struct watch *w, struct t_pair *p, bool backend)
{
	memset(w, 0, sizeof(*w));
	w->p = p;
	w->backend = backend;
	memcpy(w->notified, area(w), area_len(w));
	harness_set_hook(backend ? p->bdom : p->fdom, on_hypercall, w);
}

/* Quiet now: the area must be as last notified (handshake.md: send after every change). */
static void check_notified(struct watch *w, const char *when)
{
	char msg[160];

	if (memcmp(w->notified, area(w), area_len(w)) != 0) {
		w->unnotified++;
		snprintf(msg, sizeof(msg), "%s: the %s area changed without a notification", when,
			 w->backend ? "backend" : "frontend");
		CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
	}
}

static void run_and_check(bool (*done)(void *), void *ctx, const char *when)
{
	CU_ASSERT_TRUE(harness_run(done, ctx, 30 * T_SECOND));
	check_notified(&FW, when);
	check_notified(&BW, when);
}

/* handshake.md "States", as clarified in ABI 1.0 (docs/abi/CHANGES.md). */
static bool fe_allowed(uint32_t from, uint32_t to)
{
	switch (to) {
	case KEEL_IO_STATE_INIT:
		return from == KEEL_IO_STATE_CLOSED;
	case KEEL_IO_STATE_READY:
		return from == KEEL_IO_STATE_INIT;
	case KEEL_IO_STATE_CONNECTED:
		return from == KEEL_IO_STATE_READY;
	case KEEL_IO_STATE_CLOSING:
		return from == KEEL_IO_STATE_READY || from == KEEL_IO_STATE_CONNECTED;
	case KEEL_IO_STATE_CLOSED:
		return from == KEEL_IO_STATE_CLOSING || from == KEEL_IO_STATE_ERROR;
	default:
		return to == KEEL_IO_STATE_ERROR;
	}
}

/* @new_gen: the next state written carries another be_generation (a new instance or attempt). */
static bool be_allowed(uint32_t from, uint32_t to, bool new_gen)
{
	switch (to) {
	case KEEL_IO_STATE_INIT:
		return from == KEEL_IO_STATE_CLOSED || from == KEEL_IO_STATE_ERROR || new_gen;
	case KEEL_IO_STATE_READY:
		return from == KEEL_IO_STATE_INIT || from == KEEL_IO_STATE_CLOSING;
	case KEEL_IO_STATE_CONNECTED:
		return from == KEEL_IO_STATE_READY;
	case KEEL_IO_STATE_CLOSING:
		return true;	/* a backend closing in order, from any state */
	case KEEL_IO_STATE_CLOSED:
		return from == KEEL_IO_STATE_CLOSING;
	default:
		return to == KEEL_IO_STATE_ERROR;
	}
}

static void check_transitions(const struct watch *w)
{
	char msg[160];

	for (unsigned int i = 1; i < w->sends; i++) {
		uint32_t from = w->state[i - 1], to = w->state[i];
		bool new_gen = i + 1 < w->sends && w->gen[i + 1] != w->gen[i - 1];
		bool ok = from == to ||
			  (w->backend ? be_allowed(from, to, new_gen) : fe_allowed(from, to));

		snprintf(msg, sizeof(msg), "%s: state %u -> %u (write %u) is not in the table",
			 w->backend ? "backend" : "frontend", from, to, i);
		CU_assertImplementation(ok, __LINE__, msg, __FILE__, "", CU_FALSE);
	}
}

static void setup(void)
{
	harness_begin();
	t_pair_init(&P);
	watch(&FW, &P, false);
	watch(&BW, &P, true);
}

static void teardown(void)
{
	if (P.fdom && P.bdom) {
		harness_set_hook(P.fdom, NULL, NULL);
		harness_set_hook(P.bdom, NULL, NULL);
	}
	harness_end();
}

static bool fe_released(void *ctx)
{
	return ((struct t_pair *)ctx)->fe.end.released > 0;
}

static bool be_released(void *ctx)
{
	return ((struct t_pair *)ctx)->be.end.released > 0;
}

static bool both_error(void *ctx)
{
	return t_fe_error(ctx) && t_be_error(ctx);
}

static bool fe_connected(void *ctx)
{
	struct t_pair *p = ctx;

	return p->fe.end.dev && kpv_dev_state(p->fe.end.dev) == KEEL_IO_STATE_CONNECTED;
}

/* Connect, I/O, a live change, both orderly closes, a refused commit: every change notified. */
static void test_every_change_notified(void)
{
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	run_and_check(t_both_connected, &P, "connect");
	t_send(&P, 0, 50);
	run_and_check(t_all_answered, &P, "I/O");
	harness_use(P.bdom);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.be.end.dev, 0, 0x77, 1), 0);
	run_and_check(NULL, NULL, "a live config change");
	CU_ASSERT_EQUAL(kpv_dev_config(P.fe.end.dev)[0], 0x77);
	/* The frontend closes in order, and opens again. */
	harness_use(P.fdom);
	kpv_dev_close(P.fe.end.dev, false);
	run_and_check(fe_released, &P, "the frontend closing");
	P.fe.end.released = 0;
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	run_and_check(t_both_connected, &P, "the frontend back");
	/* The backend closes in order; a new one comes. */
	harness_use(P.bdom);
	kpv_dev_close(P.be.end.dev, false);
	run_and_check(be_released, &P, "the backend closing");
	P.be.end.released = 0;
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	run_and_check(t_both_connected, &P, "the backend back");
	/* A commit the backend refuses: both end in ERROR, each saying so. */
	P.be.check_err = KEEL_IO_ERR_CONFIG;
	harness_use(P.fdom);
	kpv_dev_close(P.fe.end.dev, false);
	run_and_check(fe_released, &P, "the frontend closing again");
	P.fe.end.released = 0;
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	run_and_check(both_error, &P, "a refused commit");
	CU_ASSERT_EQUAL(t_page(P.id)->be_error, KEEL_IO_ERR_CONFIG);
	/* The frontend starts afresh: the backend leaves ERROR and accepts. */
	P.be.check_err = 0;
	harness_use(P.fdom);
	kpv_dev_close(P.fe.end.dev, false);
	run_and_check(fe_released, &P, "the frontend leaving ERROR");
	P.fe.end.released = 0;
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	run_and_check(t_both_connected, &P, "connected after the error");
	CU_ASSERT(FW.sends >= 15);
	CU_ASSERT(BW.sends >= 12);
	CU_ASSERT_EQUAL(FW.unnotified + BW.unnotified, 0);
	check_transitions(&FW);
	check_transitions(&BW);
	t_pair_finish(&P);
	check_notified(&FW, "finish");
	check_notified(&BW, "finish");
}

/* The same run as above, judged by the transition table alone (both sides). */
static void test_transition_table(void)
{
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_TRUE(harness_run(t_both_connected, &P, 5 * T_SECOND));
	/* The backend goes; the frontend sees it leave CONNECTED. */
	harness_use(P.bdom);
	kpv_dev_close(P.be.end.dev, false);
	CU_ASSERT_TRUE(harness_run(be_released, &P, 30 * T_SECOND));
	P.be.end.released = 0;
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	CU_ASSERT_TRUE(harness_run(t_both_connected, &P, 30 * T_SECOND));
	/* The frontend fails the connection itself, then closes. */
	harness_use(P.fdom);
	kpv_dev_fail(P.fe.end.dev, KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_TRUE(harness_run(t_fe_error, &P, 5 * T_SECOND));
	t_pair_finish(&P);
	CU_ASSERT(FW.sends >= 8);
	CU_ASSERT(BW.sends >= 8);
	check_transitions(&FW);
	check_transitions(&BW);
}

static bool fe_committed(void *ctx)
{
	(void)ctx;
	return t_page(P.id)->fe_state == KEEL_IO_STATE_READY;
}

static bool fe_recommitted(void *ctx)
{
	(void)ctx;
	return t_page(P.id)->fe_state == KEEL_IO_STATE_READY && t_page(P.id)->fe_generation == 2;
}

static bool fe_closed(void *ctx)
{
	(void)ctx;
	return t_page(P.id)->fe_state == KEEL_IO_STATE_CLOSED;
}

/* Whether the frontend wrote READY, CLOSING, CLOSED in a row from its @from-th write on. */
static bool wrote_ready_closing_closed(unsigned int from)
{
	for (unsigned int i = from; i + 2 < FW.sends; i++) {
		if (FW.state[i] == KEEL_IO_STATE_READY && FW.state[i + 1] == KEEL_IO_STATE_CLOSING &&
		    FW.state[i + 2] == KEEL_IO_STATE_CLOSED) {
			return true;
		}
	}
	return false;
}

/*
 * handshake.md "Backend loss" while the frontend is READY (committed, not
 * yet accepted): a new be_generation, then an orderly backend close.
 */
static void test_committed_frontend_loses_backend(void)
{
	unsigned int before;

	harness_set_hook(P.bdom, NULL, NULL);
	raw_be_bind(&RB, &P);
	raw_be_offer(&RB, 1, 4, 2);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(fe_committed, NULL, T_SECOND));
	CU_ASSERT(harness_grants_permitted(P.fdom) > 0);
	/* A new backend instance: READY, CLOSING, CLOSED, then a commit to it. */
	before = FW.sends;
	raw_be_offer(&RB, 2, 1, 0);
	CU_ASSERT_TRUE(harness_run(fe_recommitted, NULL, T_SECOND));
	CU_ASSERT_TRUE(wrote_ready_closing_closed(before ? before - 1 : 0));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_nr_rings, 1);		/* made for the new offer */
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 2);	/* its header and data page */
	/* The backend closes in order before accepting: the same, then waiting. */
	before = FW.sends;
	raw_be_state(&RB, KEEL_IO_STATE_CLOSING, 0);
	raw_be_state(&RB, KEEL_IO_STATE_CLOSED, 0);
	CU_ASSERT_TRUE(harness_run(fe_closed, NULL, T_SECOND));
	CU_ASSERT_TRUE(wrote_ready_closing_closed(before - 1));
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);
	CU_ASSERT(t_quiet_steps() < 5);
	check_transitions(&FW);
	check_notified(&FW, "backend gone");
	raw_be_release(&RB);
	t_pair_finish(&P);
}

/* --- the peer's area from one copy ------------------------------------------------ */

/*
 * pvdrivers copies the peer's area, then asks Keel whether the control
 * port is still bound (EVTCHN_STATUS), then acts on the copy. At that
 * call the hook rewrites everything of the peer's area but its state and
 * generation: a side that read the page again would see nonsense.
 */
struct rewrite {
	struct t_pair *p;
	bool backend;		/* whose hypercalls: the rewrite hits the other side's area */
	bool done;
	uint8_t saved[FE_LEN];
};

static struct rewrite RW;

static bool rewrite_peer(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5], long *ret)
{
	struct rewrite *r = ctx;
	struct keel_io_device_page *pg = t_page(r->p->id);

	(void)d;
	(void)args;
	(void)ret;
	if (r->done || nr != KEEL_HC_EVTCHN_STATUS) {
		return false;
	}
	if (r->backend && pg->fe_state == KEEL_IO_STATE_READY) {
		memcpy(r->saved, (uint8_t *)pg + FE_AREA, FE_LEN);
		pg->fe_nr_rings = 33;
		pg->fe_features = ~0ull;
		memset(pg->fe_config, 0x99, sizeof(pg->fe_config));
		memset(pg->fe_rings, 0xee, sizeof(pg->fe_rings));
		r->done = true;
	} else if (!r->backend && pg->be_state == KEEL_IO_STATE_READY &&
		   pg->fe_state == KEEL_IO_STATE_CLOSED) {
		memcpy(r->saved, (uint8_t *)pg + BE_AREA, BE_LEN);
		pg->be_max_rings = 0;
		pg->be_max_ring_order = 9;
		pg->be_features = 0;
		memset(pg->be_config, 0x99, sizeof(pg->be_config));
		r->done = true;
	}
	return false;
}

static void restore(struct rewrite *r)
{
	uint8_t *pg = (uint8_t *)t_page(r->p->id);
	size_t state = sizeof(uint32_t) * 3;	/* state, error, generation: never rewritten */

	if (r->backend) {
		memcpy(pg + FE_AREA + state, r->saved + state, FE_LEN - state);
	} else {
		memcpy(pg + BE_AREA + state, r->saved + state, BE_LEN - state);
	}
}

/* Connect @p with the hook on one side's hypercalls rewriting the other side's area. */
static void one_copy(struct t_pair *p, bool backend)
{
	harness_set_hook(p->fdom, NULL, NULL);
	harness_set_hook(p->bdom, NULL, NULL);
	RW = (struct rewrite){ .p = p, .backend = backend };
	harness_set_hook(backend ? p->bdom : p->fdom, rewrite_peer, &RW);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(p), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(p), 0);
	CU_ASSERT_TRUE(harness_run(t_both_connected, p, 5 * T_SECOND));
	CU_ASSERT_TRUE(RW.done);
	restore(&RW);
	harness_set_hook(backend ? p->bdom : p->fdom, NULL, NULL);
	/* What each side decided came from the copy: the default offer and commit. */
	CU_ASSERT_EQUAL(p->fe.offer.max_rings, 4);
	CU_ASSERT_EQUAL(p->fe.offer.max_ring_order, 2);
	CU_ASSERT_EQUAL(p->fe.offer.features, T_FEATURES);
	CU_ASSERT_EQUAL(p->fe.offer.config[0], 0x42);
	CU_ASSERT_EQUAL(p->be.commit.nr_rings, 2);
	CU_ASSERT_EQUAL(p->be.commit.features, T_FEATURES);
	CU_ASSERT_EQUAL(p->be.commit.ring_order[0], 1);
	t_send(p, 0, 20);
	t_send(p, 1, 20);
	CU_ASSERT_TRUE(harness_run(t_all_answered, p, T_SECOND));
	CU_ASSERT_EQUAL(p->fe.wrong, 0);
	CU_ASSERT_EQUAL(p->fe.end.connected, 1);
	t_pair_finish(p);
}

static void test_peer_area_one_copy(void)
{
	static struct t_pair other;

	one_copy(&P, true);
	harness_destroy(P.fdom);
	harness_destroy(P.bdom);
	t_pair_init(&other);
	one_copy(&other, false);
}

/* --- MBZ ---------------------------------------------------------------------------- */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i]) {
			return false;
		}
	}
	return true;
}

/* ring.md: a sender writes zero where the protocol says MBZ; the control page and ring headers. */
static void test_reserved_zero(void)
{
	struct keel_io_device_page *pg;

	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(t_both_connected, &P, 5 * T_SECOND));
	for (int round = 0; round < 2; round++) {
		pg = t_page(P.id);
		for (int i = 0; i < 3; i++) {	/* more than a ring's worth: slots reused */
			t_send(&P, 0, 100);
			t_send(&P, 1, 5);
			CU_ASSERT_TRUE(harness_run(t_all_answered, &P, T_SECOND));
		}
		CU_ASSERT_EQUAL(pg->be_pad0, 0);
		CU_ASSERT_TRUE(all_zero(pg->be_reserved, sizeof(pg->be_reserved)));
		CU_ASSERT_TRUE(all_zero(pg->fe_reserved, sizeof(pg->fe_reserved)));
		CU_ASSERT_TRUE(all_zero(pg->be_config + 16, sizeof(pg->be_config) - 16));
		for (uint32_t i = 0; i < KEEL_IO_MAX_RINGS; i++) {
			CU_ASSERT_EQUAL(pg->fe_rings[i].pad0, 0);
			if (i >= pg->fe_nr_rings) {
				CU_ASSERT_TRUE(all_zero(&pg->fe_rings[i], sizeof(pg->fe_rings[i])));
			}
		}
		for (unsigned int r = 0; r < 2; r++) {
			struct keel_io_ring_header h;

			memcpy(&h, (const void *)(uintptr_t)kpv_dev_ring(P.fe.end.dev, r)->hdr, sizeof(h));
			CU_ASSERT_TRUE(all_zero(h.fe_pad, sizeof(h.fe_pad)));
			CU_ASSERT_TRUE(all_zero(h.be_pad, sizeof(h.be_pad)));
		}
		/* Again on a second connection, over the same page. */
		harness_use(P.fdom);
		kpv_dev_close(P.fe.end.dev, false);
		CU_ASSERT_TRUE(harness_run(fe_released, &P, 30 * T_SECOND));
		P.fe.end.released = 0;
		P.fe.sent = P.fe.answered = 0;
		CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
		CU_ASSERT_TRUE(harness_run(fe_connected, &P, 5 * T_SECOND));
	}
	t_pair_finish(&P);
}

static CU_TestInfo tests[] = {
	{ "every change to an area is followed by a notification", test_every_change_notified },
	{ "each side's states follow the transition table", test_transition_table },
	{ "a committed frontend losing its backend: READY, CLOSING, CLOSED",
	  test_committed_frontend_loses_backend },
	{ "the peer's area is used from one copy", test_peer_area_one_copy },
	{ "reserved and MBZ fields stay zero", test_reserved_zero },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo handshake_rules_suite = { "handshake_rules", NULL, NULL, setup, teardown, tests };
