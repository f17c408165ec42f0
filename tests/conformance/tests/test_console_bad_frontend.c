/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_console_bad_frontend.c - pvdrivers' console
 * backend against a frontend written here slot by slot: the offer (two
 * rings, F_SIZE); any ring count but 2 refused; every output request
 * answered with its id and length, its bytes in order, flags ignored;
 * output of length 0 or above 56 a protocol error; input answering posted
 * requests with their ids, held while none is posted; the size update; and
 * a frontend producing without end kept to a ring's worth per run.
 */
#include "con_pair.h"
#include "suites.h"

static struct con_pair P;
static struct raw_fe R;
static struct kpv_ring V[2];		/* the raw frontend's view of its rings */

static void setup(void)
{
	harness_begin();
	con_init(&P);
	raw_fe_attach(&R, &P.t);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	harness_settle();
}

static void teardown(void)
{
	harness_set_hook(P.t.bdom, NULL, NULL);
	raw_fe_release(&R);
	if (P.be.b) {
		con_close_be(&P, false);
	}
	t_stop(P.t.fdom, P.t.fk);
	t_stop(P.t.bdom, P.t.bk);
	t_assert_clean(P.t.bdom, 0);
	t_assert_clean(P.t.fdom, 1);
	harness_end();
}

static bool be_connected(void *ctx)
{
	(void)ctx;
	return kpv_con_be_connected(P.be.b);
}

/* @nr rings of one page (a fresh view of each), committed with @features. */
static void commit(uint32_t nr, uint64_t features)
{
	for (uint32_t i = 0; i < nr; i++) {
		raw_fe_ring(&R, i, 0, false);
		raw_fe_view(&R, i, KEEL_IO_CONSOLE_SLOT_SIZE, &V[i % 2]);
	}
	raw_fe_commit(&R, 1, nr, features);
}

static void connect(uint64_t features)
{
	commit(2, features);
	CU_ASSERT_TRUE_FATAL(harness_run(be_connected, NULL, T_SECOND));
}

/* A request on ring @i: @id, @len (the data: that many bytes of the pattern from @from), @flags. */
static void send(unsigned int i, uint16_t id, uint16_t len, uint32_t flags, size_t from)
{
	struct keel_io_console_slot *s = kpv_ring_fe_next(&V[i]);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s->id = id;
	s->len = len;
	s->flags = flags;
	con_pattern(s->data, from, len < 56 ? len : 56);
}

static void push(unsigned int i)
{
	if (kpv_ring_fe_push(&V[i])) {
		harness_use(P.t.fdom);
		kpv_evtchn_notify(P.t.fk, R.ports[i]);
	}
	harness_settle();
}

/* The next response on ring @i; false if there is none. */
static bool answer(unsigned int i, struct keel_io_console_slot *m)
{
	CU_ASSERT_FATAL(kpv_ring_fe_available(&V[i]) >= 0);
	return kpv_ring_fe_take(&V[i], m);
}

/* The backend stopped with @err, holds nothing of the frontend's, and stays quiet. */
static void assert_be_stopped(uint32_t err)
{
	struct kpv_con_be_stats bs;

	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.t.id)->be_state, KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.t.id)->be_error, err);
	CU_ASSERT_FALSE(kpv_con_be_connected(P.be.b));
	CU_ASSERT_EQUAL(harness_foreign_maps(P.t.bdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.t.bdom), 1);
	CU_ASSERT(t_quiet_steps() < 5);
	kpv_con_be_stats(P.be.b, &bs);
	CU_ASSERT_EQUAL(bs.errors, err == KEEL_IO_ERR_PROTOCOL);
}

static void test_offer(void)
{
	struct keel_io_device_page *pg = t_page(P.t.id);
	struct keel_io_console_config cfg;

	CU_ASSERT_EQUAL(pg->be_state, KEEL_IO_STATE_READY);
	CU_ASSERT(pg->be_max_rings >= KEEL_IO_CONSOLE_NR_RINGS);
	CU_ASSERT_EQUAL(pg->be_features, KEEL_IO_CONSOLE_F_SIZE);
	CU_ASSERT_EQUAL(pg->be_max_ring_order, 0);
	memcpy(&cfg, pg->be_config, sizeof(cfg));
	CU_ASSERT_EQUAL(cfg.cols, 0);
	CU_ASSERT_EQUAL(cfg.rows, 0);
	CU_ASSERT_EQUAL(cfg.pad0, 0);
}

static void test_one_ring(void)
{
	commit(1, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

static void test_three_rings(void)
{
	commit(3, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

/* Each request answered with its own id and length, flags zero; the bytes in request order. */
static void test_output_answered(void)
{
	static const uint16_t ids[] = { 7, 0xffff, 3, 3, 0, 0x8000, 12, 56, 1, 2 };
	struct keel_io_console_slot m;
	size_t from = 0;
	unsigned int k = 0;

	connect(KEEL_IO_CONSOLE_F_SIZE);
	for (unsigned int n = 0; n < 10; n++) {
		uint16_t len = (uint16_t)(1 + n * 6);

		send(0, ids[n], len, n % 3 ? 0xdeadbeef : 0, from);	/* flags MBZ: ignored */
		from += len;
	}
	push(0);
	for (uint16_t len = 1; answer(0, &m); len += 6, k++) {
		CU_ASSERT_EQUAL(m.id, ids[k]);
		CU_ASSERT_EQUAL(m.len, len);
		CU_ASSERT_EQUAL(m.flags, 0);
	}
	CU_ASSERT_EQUAL(k, 10);
	CU_ASSERT_EQUAL(P.be.out_len, from);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 0, from));
}

static void test_output_empty(void)
{
	connect(0);
	send(0, 1, 5, 0, 0);
	send(0, 2, 0, 0, 0);
	push(0);
	assert_be_stopped(KEEL_IO_ERR_PROTOCOL);
}

static void test_output_too_long(void)
{
	connect(0);
	send(0, 1, 57, 0, 0);
	push(0);
	assert_be_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(P.be.out_len, 0);
}

/* Posted requests answered in order, each with its own id and 1 .. 56 bytes. */
static void test_input_answers_posted(void)
{
	struct keel_io_console_slot m;
	uint8_t in[200];

	connect(0);
	send(1, 100, 0, 0, 0);
	send(1, 200, 0, 0, 0);
	send(1, 300, 0, 0, 0);
	push(1);
	con_pattern(in, 0, sizeof(in));
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, in, 130), 130);
	harness_settle();
	CU_ASSERT_TRUE(answer(1, &m));
	CU_ASSERT_EQUAL(m.id, 100);
	CU_ASSERT_EQUAL(m.len, 56);
	CU_ASSERT_TRUE(con_is_pattern(m.data, 0, 56));
	CU_ASSERT_TRUE(answer(1, &m));
	CU_ASSERT_EQUAL(m.id, 200);
	CU_ASSERT_EQUAL(m.len, 56);
	CU_ASSERT_TRUE(answer(1, &m));
	CU_ASSERT_EQUAL(m.id, 300);
	CU_ASSERT_EQUAL(m.len, 18);
	CU_ASSERT_TRUE(con_is_pattern(m.data, 112, 18));
	CU_ASSERT_FALSE(answer(1, &m));
}

/*
 * Input with nothing posted waits (1 KiB of it); each posting then gets
 * some, in order. The backend asked to be woken by the posting (ring.md
 * rule 7): the raw frontend notifies only when the event index says so.
 */
static void test_input_held_until_posted(void)
{
	struct keel_io_console_slot m;
	uint8_t in[1500];
	size_t got = 0;

	connect(0);
	con_pattern(in, 0, sizeof(in));
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, in, sizeof(in)), KPV_CON_BE_IN_BUF);
	harness_run(NULL, NULL, T_SECOND);
	for (int round = 0; round < 3; round++) {
		for (uint16_t n = 0; n < 10; n++) {
			send(1, n, 0, 0, 0);
		}
		push(1);
		while (answer(1, &m)) {
			CU_ASSERT(m.len >= 1 && m.len <= 56);
			CU_ASSERT_TRUE(con_is_pattern(m.data, got, m.len));
			got += m.len;
		}
	}
	CU_ASSERT_EQUAL(got, KPV_CON_BE_IN_BUF);
}

/* F_SIZE taken: a size change is one store in be_config and an event on the control port. */
static void test_size_update(void)
{
	struct keel_io_console_config cfg;
	unsigned int events;

	connect(KEEL_IO_CONSOLE_F_SIZE);
	harness_settle();	/* events still on their way from the connect */
	events = R.events;
	harness_use(P.t.bdom);
	kpv_con_be_size(P.be.b, 90, 33);
	harness_settle();
	memcpy(&cfg, t_page(P.t.id)->be_config, sizeof(cfg));
	CU_ASSERT_EQUAL(cfg.cols, 90);
	CU_ASSERT_EQUAL(cfg.rows, 33);
	CU_ASSERT_EQUAL(R.events, events + 1);
}

/* Without F_SIZE the backend does not use it: be_config stays, no event. */
static void test_size_not_taken(void)
{
	unsigned int events;

	connect(0);
	harness_settle();
	events = R.events;
	harness_use(P.t.bdom);
	kpv_con_be_size(P.be.b, 90, 33);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.t.id)->be_config[0], 0);
	CU_ASSERT_EQUAL(R.events, events);
}

/* A frontend refilling the output ring whenever it hears from the backend. */
static struct {
	uint32_t sent, limit;
	uint64_t step;
	uint32_t step_base, seen, most;	/* answers: before this step, now, most per step */
} flood;

/* Take every answer, then fill the ring again. */
static void refill(void)
{
	struct keel_io_console_slot m;

	while (kpv_ring_fe_available(&V[0]) > 0) {
		while (kpv_ring_fe_take(&V[0], &m)) {
		}
	}
	while (flood.sent < flood.limit && kpv_ring_fe_space(&V[0]) > 0) {
		send(0, (uint16_t)flood.sent++, 1, 0, 0);
	}
	kpv_ring_fe_push(&V[0]);
	V[0].hdr->rsp_event = V[0].hdr->rsp_prod + 1;	/* every answer notifies */
}

static bool flood_hook(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5], long *ret)
{
	(void)ctx;
	(void)d;
	(void)args;
	(void)ret;
	if (nr == KEEL_HC_EVTCHN_SEND) {
		if (harness_steps() != flood.step) {
			flood.step = harness_steps();
			flood.step_base = flood.seen;
		}
		flood.seen = V[0].hdr->rsp_prod;
		if (flood.seen - flood.step_base > flood.most) {
			flood.most = flood.seen - flood.step_base;
		}
		refill();
	}
	return false;
}

static bool flood_done(void *ctx)
{
	(void)ctx;
	return V[0].hdr->rsp_prod == flood.limit;
}

/* ring.md: bounded work per notification, however fast the frontend produces. */
static void test_endless_frontend(void)
{
	connect(0);
	memset(&flood, 0, sizeof(flood));
	flood.limit = 2000;
	harness_set_hook(P.t.bdom, flood_hook, NULL);
	refill();
	harness_use(P.t.fdom);
	kpv_evtchn_notify(P.t.fk, R.ports[0]);
	CU_ASSERT_TRUE(harness_run(flood_done, NULL, T_SECOND));
	CU_ASSERT(flood.most > 0 && flood.most <= 64);
	CU_ASSERT_EQUAL(P.be.out_len, 2000);
	CU_ASSERT_EQUAL(harness_violations(), 0);
}

static CU_TestInfo tests[] = {
	{ "the offer: two rings, F_SIZE, the size", test_offer },
	{ "one ring: RINGS", test_one_ring },
	{ "three rings: RINGS", test_three_rings },
	{ "output answered with its id and length, in order", test_output_answered },
	{ "output of length 0: PROTOCOL", test_output_empty },
	{ "output of length 57: PROTOCOL", test_output_too_long },
	{ "input answers posted requests with their ids", test_input_answers_posted },
	{ "input held until posted, in order", test_input_held_until_posted },
	{ "a size change: one store, one event", test_size_update },
	{ "no F_SIZE: the size is not sent", test_size_not_taken },
	{ "a frontend without end: a ring's worth per run", test_endless_frontend },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo console_bad_frontend_suite = { "console_bad_frontend", NULL, NULL, setup, teardown,
					    tests };
