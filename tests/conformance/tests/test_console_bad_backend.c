/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_console_bad_backend.c - pvdrivers' console
 * frontend against a backend written here slot by slot: an offer of fewer
 * than two rings refused; the commit (two rings, F_SIZE only); every input
 * slot posted and posted again; input in response order; each invalid
 * answer (an id not outstanding or answered twice, an output length that
 * differs, input above 56 bytes) a protocol error that keeps the output
 * for the next backend; the size with and without F_SIZE; a backend
 * answering without end kept to a ring's worth per run.
 */
#include "con_pair.h"
#include "suites.h"

static struct con_pair P;
static struct raw_be R;
static struct raw_ring O, I;		/* output and input ring, mapped by the raw backend */

static void setup(void)
{
	harness_begin();
	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	raw_be_bind(&R, &P.t);
	harness_settle();
}

static void teardown(void)
{
	harness_set_hook(P.t.fdom, NULL, NULL);
	raw_be_unmap_ring(&R, &O);
	raw_be_unmap_ring(&R, &I);
	raw_be_release(&R);
	if (P.fe.c) {
		con_close_fe(&P, false);
	}
	if (P.be.b) {
		con_close_be(&P, false);
	}
	t_stop(P.t.fdom, P.t.fk);
	t_stop(P.t.bdom, P.t.bk);
	t_assert_clean(P.t.fdom, 1);
	harness_end();
}

static bool fe_state_is(void *state)
{
	return t_page(P.t.id)->fe_state == *(uint32_t *)state;
}

static bool fe_connected(void *ctx)
{
	(void)ctx;
	return kpv_con_fe_connected(P.fe.c);
}

/* Offer @features with a size, wait for the commit, check it, map both rings, connect. */
static void connect(uint64_t features, uint16_t cols, uint16_t rows)
{
	const struct keel_io_console_config cfg = { .cols = cols, .rows = rows };
	struct keel_io_device_page *pg = t_page(P.t.id);
	uint32_t ready = KEEL_IO_STATE_READY;

	raw_be_offer_as(&R, 1, 2, 2, features, &cfg, sizeof(cfg));
	CU_ASSERT_TRUE_FATAL(harness_run(fe_state_is, &ready, T_SECOND));
	CU_ASSERT_EQUAL(pg->fe_nr_rings, 2);
	CU_ASSERT_EQUAL(pg->fe_features, features & KEEL_IO_CONSOLE_F_SIZE);
	CU_ASSERT_EQUAL(pg->fe_rings[0].order, 0);
	CU_ASSERT_EQUAL(pg->fe_rings[1].order, 0);
	raw_be_map_ring(&R, 0, KEEL_IO_CONSOLE_SLOT_SIZE, &O);
	raw_be_map_ring(&R, 1, KEEL_IO_CONSOLE_SLOT_SIZE, &I);
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE_FATAL(harness_run(fe_connected, NULL, T_SECOND));
}

static void fe_write(const void *data, uint32_t len)
{
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, data, len), len);
	harness_settle();
}

/* The raw backend takes the next request of @rr (false: none). */
static bool take(struct raw_ring *rr, struct keel_io_console_slot *m)
{
	CU_ASSERT_FATAL(kpv_ring_be_available(&rr->ring) >= 0);
	if (!kpv_ring_be_take(&rr->ring, m)) {
		return false;
	}
	CU_ASSERT_EQUAL(m->flags, 0);	/* MBZ (ring.md): a sender writes zero */
	return true;
}

/* ... and answers on @rr with @id and @len bytes of the pattern from @from. */
static void reply(struct raw_ring *rr, uint16_t id, uint16_t len, size_t from)
{
	struct keel_io_console_slot *s = kpv_ring_be_next(&rr->ring);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->len = len;
	con_pattern(s->data, from, len < 56 ? len : 56);
}

static void publish(struct raw_ring *rr)
{
	if (kpv_ring_be_push(&rr->ring)) {
		harness_use(P.t.bdom);
		kpv_evtchn_notify(P.t.bk, rr->port);
	}
	harness_settle();
}

/* The frontend stopped with PROTOCOL, gave its grants back, kept its output, stays quiet. */
static void assert_fe_stopped(uint32_t unanswered)
{
	struct kpv_con_fe_stats fs;

	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.t.id)->fe_state, KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.t.id)->fe_error, KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_FALSE(kpv_con_fe_connected(P.fe.c));
	CU_ASSERT_EQUAL(harness_grants_permitted(P.t.fdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.t.fdom), 1);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), unanswered);
	kpv_con_fe_stats(P.fe.c, &fs);
	CU_ASSERT_EQUAL(fs.errors, 1);
	CU_ASSERT_EQUAL(P.fe.downs, 1);
	CU_ASSERT(t_quiet_steps() < 5);
}

static void test_one_ring_offered(void)
{
	const struct keel_io_console_config cfg = { 0 };

	raw_be_offer_as(&R, 1, 1, 0, KEEL_IO_CONSOLE_F_SIZE, &cfg, sizeof(cfg));
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.t.id)->fe_state, KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.t.id)->fe_error, KEEL_IO_ERR_RINGS);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.t.fdom), 0);
	CU_ASSERT_EQUAL(P.fe.ups, 0);
}

/* Connected: all 64 input slots posted; each answer is posted again; input in response order. */
static void test_input_slots(void)
{
	struct keel_io_console_slot a, b, c;

	connect(~0ull, 80, 24);
	CU_ASSERT_EQUAL(I.ring.hdr->req_prod, 64);
	CU_ASSERT_TRUE(take(&I, &a));
	CU_ASSERT_TRUE(take(&I, &b));
	CU_ASSERT_TRUE(take(&I, &c));
	CU_ASSERT_EQUAL(a.len, 0);
	reply(&I, c.id, 3, 0);
	reply(&I, a.id, 2, 3);
	reply(&I, b.id, 56, 5);
	publish(&I);
	CU_ASSERT_EQUAL(P.fe.in_len, 61);
	CU_ASSERT_TRUE(con_is_pattern(P.fe.in, 0, 61));
	CU_ASSERT_EQUAL(I.ring.hdr->req_prod, 67);
	CU_ASSERT_EQUAL(I.ring.hdr->req_prod - I.ring.hdr->rsp_prod, 64);
	/* An empty answer just returns a buffer: posted again, nothing delivered. */
	CU_ASSERT_TRUE(take(&I, &a));
	reply(&I, a.id, 0, 0);
	publish(&I);
	CU_ASSERT_EQUAL(P.fe.in_len, 61);
	CU_ASSERT_EQUAL(I.ring.hdr->req_prod, 68);
	CU_ASSERT_EQUAL(kpv_dev_state(kpv_con_fe_dev(P.fe.c)), KEEL_IO_STATE_CONNECTED);
}

/* An id that names the slot of the request in flight, and its length, but not its id. */
static void test_output_unknown_id(void)
{
	struct keel_io_console_slot m;

	connect(0, 0, 0);
	fe_write("hello", 5);
	CU_ASSERT_TRUE(take(&O, &m));
	CU_ASSERT_EQUAL(m.len, 5);
	CU_ASSERT_EQUAL(memcmp(m.data, "hello", 5), 0);
	reply(&O, (uint16_t)(m.id + 64), 5, 0);
	publish(&O);
	assert_fe_stopped(5);
}

/* Connected, 100 bytes written: two requests, of 56 and 44 bytes, taken by the backend. */
static void two_requests(struct keel_io_console_slot *a, struct keel_io_console_slot *b)
{
	uint8_t data[100];

	connect(0, 0, 0);
	con_pattern(data, 0, sizeof(data));
	fe_write(data, sizeof(data));
	CU_ASSERT_TRUE(take(&O, a));
	CU_ASSERT_TRUE(take(&O, b));
	CU_ASSERT_EQUAL(a->len, 56);
	CU_ASSERT_EQUAL(b->len, 44);
}

/* Answered out of order, then that answer again while the one before is still open. */
static void test_output_answered_twice(void)
{
	struct keel_io_console_slot a, b;

	two_requests(&a, &b);
	reply(&O, b.id, 44, 0);
	publish(&O);
	CU_ASSERT_TRUE(kpv_con_fe_connected(P.fe.c));
	reply(&O, b.id, 44, 0);
	publish(&O);
	assert_fe_stopped(100);
}

/* An answer to a request already done (its bytes released) is not outstanding. */
static void test_output_answered_again_later(void)
{
	struct keel_io_console_slot a, b;

	connect(0, 0, 0);
	fe_write("hello", 5);
	CU_ASSERT_TRUE(take(&O, &a));
	reply(&O, a.id, 5, 0);
	publish(&O);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), 0);
	fe_write("again", 5);
	CU_ASSERT_TRUE(take(&O, &b));
	reply(&O, a.id, 5, 0);		/* the ring is fine with it: one answer per request */
	publish(&O);
	assert_fe_stopped(5);
}

static void test_output_length_differs(void)
{
	struct keel_io_console_slot m;

	connect(0, 0, 0);
	fe_write("hello", 5);
	CU_ASSERT_TRUE(take(&O, &m));
	reply(&O, m.id, 4, 0);
	publish(&O);
	assert_fe_stopped(5);
}

/* Answers out of order are fine; bytes count as done once all before them are. */
static void test_output_out_of_order(void)
{
	struct keel_io_console_slot a, b;

	two_requests(&a, &b);
	reply(&O, b.id, b.len, 0);
	publish(&O);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), 100);
	reply(&O, a.id, a.len, 0);
	publish(&O);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), 0);
	CU_ASSERT_TRUE(kpv_con_fe_connected(P.fe.c));
}

static void test_input_too_long(void)
{
	struct keel_io_console_slot m;

	connect(0, 0, 0);
	CU_ASSERT_TRUE(take(&I, &m));
	reply(&I, m.id, 57, 0);
	publish(&I);
	assert_fe_stopped(0);
	CU_ASSERT_EQUAL(P.fe.in_len, 0);
}

static void test_input_not_posted(void)
{
	struct keel_io_console_slot m;

	connect(0, 0, 0);
	CU_ASSERT_TRUE(take(&I, &m));
	reply(&I, (uint16_t)(m.id ^ 0x4000), 1, 0);
	publish(&I);
	assert_fe_stopped(0);
}

/* The slot is posted again at once, under a new id: the old one answered again is stale. */
static void test_input_answered_twice(void)
{
	struct keel_io_console_slot m, n;

	connect(0, 0, 0);
	CU_ASSERT_TRUE(take(&I, &m));
	CU_ASSERT_TRUE(take(&I, &n));
	reply(&I, m.id, 1, 0);
	reply(&I, m.id, 1, 1);
	publish(&I);
	assert_fe_stopped(0);
	CU_ASSERT_EQUAL(P.fe.in_len, 1);
}

/* Without F_SIZE: 80 x 25 whatever be_config says, and changes to it mean nothing. */
static void test_no_f_size(void)
{
	uint32_t word = 0x00070009;

	connect(0, 200, 100);
	CU_ASSERT_EQUAL(P.fe.sizes, 1);
	CU_ASSERT_EQUAL(P.fe.cols, 80);
	CU_ASSERT_EQUAL(P.fe.rows, 25);
	__atomic_store_n((uint32_t *)(void *)t_page(P.t.id)->be_config, word, __ATOMIC_RELEASE);
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.sizes, 1);
	CU_ASSERT_TRUE(kpv_con_fe_connected(P.fe.c));
}

/* F_SIZE: the offered size, then a change stored as one word and notified. */
static void test_size_live(void)
{
	const struct keel_io_console_config next = { .cols = 120, .rows = 48 };
	uint32_t word;

	connect(KEEL_IO_CONSOLE_F_SIZE, 100, 40);
	CU_ASSERT_EQUAL(P.fe.sizes, 1);
	CU_ASSERT_EQUAL(P.fe.cols, 100);
	CU_ASSERT_EQUAL(P.fe.rows, 40);
	memcpy(&word, &next, sizeof(word));
	__atomic_store_n((uint32_t *)(void *)t_page(P.t.id)->be_config, word, __ATOMIC_RELEASE);
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.sizes, 2);
	CU_ASSERT_EQUAL(P.fe.cols, 120);
	CU_ASSERT_EQUAL(P.fe.rows, 48);
}

/* A backend answering each posting at once, from inside the frontend's notification. */
static struct {
	uint32_t answered, limit;
	uint64_t step;
	unsigned int step_base, most;	/* input calls: before this step, most in one step */
} flood;

static bool flood_hook(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5], long *ret)
{
	struct keel_io_console_slot m;

	(void)ctx;
	(void)d;
	(void)ret;
	if (nr != KEEL_HC_EVTCHN_SEND || args[0] != t_page(P.t.id)->fe_rings[1].port) {
		return false;
	}
	if (harness_steps() != flood.step) {
		flood.step = harness_steps();
		flood.step_base = P.fe.in_calls;
	}
	if (P.fe.in_calls - flood.step_base > flood.most) {
		flood.most = P.fe.in_calls - flood.step_base;
	}
	if (flood.answered < flood.limit && take(&I, &m)) {
		reply(&I, m.id, 1, flood.answered++);
		kpv_ring_be_push(&I.ring);
	}
	I.ring.hdr->req_event = I.ring.hdr->req_prod + 1;	/* every posting notifies */
	return false;
}

static bool flood_done(void *ctx)
{
	(void)ctx;
	return P.fe.in_len == flood.limit;
}

/* ring.md: bounded work per notification, however fast the backend answers. */
static void test_endless_backend(void)
{
	struct keel_io_console_slot m;

	connect(0, 0, 0);
	memset(&flood, 0, sizeof(flood));
	flood.limit = 1000;
	harness_set_hook(P.t.fdom, flood_hook, NULL);
	I.ring.hdr->req_event = I.ring.hdr->req_prod + 1;
	CU_ASSERT_TRUE(take(&I, &m));
	reply(&I, m.id, 1, flood.answered++);
	publish(&I);
	CU_ASSERT_TRUE(harness_run(flood_done, NULL, T_SECOND));
	CU_ASSERT(flood.most > 1 && flood.most <= 64);
	CU_ASSERT_TRUE(con_is_pattern(P.fe.in, 0, P.fe.in_len));
	CU_ASSERT_EQUAL(harness_violations(), 0);
}

/*
 * After a protocol error the output stays, more may be written, and all of
 * it reaches the next backend (console.md: output is never lost silently).
 */
static void test_error_then_a_new_backend(void)
{
	struct keel_io_console_slot m;
	uint8_t data[300];

	connect(0, 0, 0);
	con_pattern(data, 0, sizeof(data));
	fe_write(data, 100);
	CU_ASSERT_TRUE(take(&O, &m));
	reply(&O, m.id, 55, 0);
	publish(&O);
	assert_fe_stopped(100);
	fe_write(data + 100, 200);
	raw_be_unmap_ring(&R, &O);
	raw_be_unmap_ring(&R, &I);
	raw_be_release(&R);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	CU_ASSERT_TRUE(harness_run(con_both_connected, &P, T_SECOND));
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, 300);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 0, P.be.out_len));
	CU_ASSERT_EQUAL(P.fe.ups, 2);
}

static CU_TestInfo tests[] = {
	{ "an offer of one ring: RINGS", test_one_ring_offered },
	{ "input slots posted, posted again, in response order", test_input_slots },
	{ "an output answer not outstanding: PROTOCOL", test_output_unknown_id },
	{ "an output answered twice: PROTOCOL", test_output_answered_twice },
	{ "an output answered again once done: PROTOCOL", test_output_answered_again_later },
	{ "an output answer of another length: PROTOCOL", test_output_length_differs },
	{ "output answered out of order", test_output_out_of_order },
	{ "input above 56 bytes: PROTOCOL", test_input_too_long },
	{ "input for a request not posted: PROTOCOL", test_input_not_posted },
	{ "input answered twice: PROTOCOL", test_input_answered_twice },
	{ "no F_SIZE: 80 x 25, be_config ignored", test_no_f_size },
	{ "F_SIZE: the size, live", test_size_live },
	{ "a backend without end: a ring's worth per run", test_endless_backend },
	{ "after an error the next backend gets all output", test_error_then_a_new_backend },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo console_bad_backend_suite = { "console_bad_backend", NULL, NULL, setup, teardown,
					   tests };
