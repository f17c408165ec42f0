/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_close.c - handshake.md, "Disconnecting":
 * orderly close from either end, ending in released() with nothing left;
 * the frontend opening again afterwards; a device removed under both; and
 * the bounded waits: a backend that never lets go, a frontend restart the
 * backend never answers. Nothing blocks and nothing waits for ever.
 */
#include "peer.h"
#include "suites.h"

static struct t_pair P;

static void setup(void)
{
	harness_begin();
}

static void teardown(void)
{
	harness_end();
}

static void test_frontend_closes_then_reopens(void)
{
	uint64_t start;

	t_pair_connect(&P);
	t_send(&P, 0, 8);
	t_run(t_all_answered, &P, T_SECOND);
	start = harness_now();
	t_close_fe(&P, false);
	CU_ASSERT(harness_now() - start < T_SECOND);	/* the backend let go: no time-out */
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_CLOSE);
	CU_ASSERT_EQUAL(P.be.end.last_end, KPV_END_PEER_GONE);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_state, KEEL_IO_STATE_CLOSED);
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_READY);	/* offered again */
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	/* The frontend comes back to the same backend. */
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	t_run(t_both_connected, &P, T_SECOND);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_generation, 2);
	t_send(&P, 1, 8);
	t_run(t_all_answered, &P, T_SECOND);
	t_pair_finish(&P);
}

static void test_backend_closes_first(void)
{
	t_pair_connect(&P);
	t_close_be(&P, false);
	CU_ASSERT_EQUAL(P.be.end.last_end, KPV_END_CLOSE);
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_CLOSED);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.bdom), 0);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_PEER_GONE);
	t_pair_finish(&P);
}

static void test_device_removed(void)
{
	t_pair_connect(&P);
	t_send(&P, 0, 4);
	CU_ASSERT_EQUAL(harness_device_remove(P.id), 0);
	/* Both ends tear down at once, without waiting for the other. */
	harness_use(P.fdom);
	kpv_dev_close(P.fe.end.dev, true);
	harness_use(P.bdom);
	kpv_dev_close(P.be.end.dev, true);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.end.released, 1);
	CU_ASSERT_EQUAL(P.be.end.released, 1);
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_REMOVED);
	CU_ASSERT_EQUAL(P.be.end.last_end, KPV_END_REMOVED);
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.fdom, 0);	/* a removed device's control port is closed too */
	t_assert_clean(P.bdom, 0);
}

static void test_backend_never_lets_go(void)
{
	struct raw_be r;
	uint64_t start;
	struct harness_usage u;

	t_pair_init(&P);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	raw_be_bind(&r, &P);
	raw_be_offer(&r, 1, 4, 2);
	harness_settle();
	raw_be_take_ring0(&r);
	raw_be_state(&r, KEEL_IO_STATE_CONNECTED, 0);
	harness_settle();
	CU_ASSERT_EQUAL_FATAL(P.fe.end.connected, 1);
	/* The frontend closes; the backend stays CONNECTED and maps the ring for ever. */
	start = harness_now();
	harness_use(P.fdom);
	kpv_dev_close(P.fe.end.dev, false);
	CU_ASSERT_TRUE(harness_run(t_released, &P.fe.end, 60 * T_SECOND));
	CU_ASSERT(harness_now() - start >= 5 * T_SECOND);
	CU_ASSERT(harness_now() - start < 6 * T_SECOND);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_state, KEEL_IO_STATE_CLOSED);
	CU_ASSERT_EQUAL(harness_grants_busy(P.fdom), 0);	/* revoked by force */
	harness_usage(P.fdom, &u);
	CU_ASSERT_EQUAL(u.armed, 0);
	raw_be_release(&r);
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.fdom, 1);
}

static bool fe_closed(void *ctx)
{
	(void)ctx;
	return t_page(P.id)->fe_state == KEEL_IO_STATE_CLOSED;
}

static void test_restart_without_answer(void)
{
	struct raw_be r;
	uint64_t start;

	t_pair_init(&P);
	raw_be_bind(&r, &P);
	raw_be_offer(&r, 1, 4, 2);
	/* As if a frontend had been connected and crashed; the backend never answers. */
	t_page(P.id)->fe_state = KEEL_IO_STATE_CONNECTED;
	t_page(P.id)->be_state = KEEL_IO_STATE_CONNECTED;
	start = harness_now();
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_state, KEEL_IO_STATE_CLOSING);
	CU_ASSERT_TRUE(harness_run(fe_closed, NULL, 30 * T_SECOND));	/* gave up waiting */
	CU_ASSERT(harness_now() - start >= 5 * T_SECOND);
	CU_ASSERT(harness_now() - start < 6 * T_SECOND);
	CU_ASSERT(t_quiet_steps() < 5);
	/* And a backend that shows up later is served. */
	raw_be_offer(&r, 2, 4, 2);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.id)->fe_state, KEEL_IO_STATE_READY);
	harness_use(P.fdom);
	kpv_dev_close(P.fe.end.dev, false);
	CU_ASSERT_TRUE(harness_run(t_released, &P.fe.end, 10 * T_SECOND));
	raw_be_release(&r);
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.fdom, 1);
}

static CU_TestInfo tests[] = {
	{ "the frontend closes in order, then opens again", test_frontend_closes_then_reopens },
	{ "the backend closes first", test_backend_closes_first },
	{ "the device is removed under both ends", test_device_removed },
	{ "a backend that never lets go: closed after 5 s", test_backend_never_lets_go },
	{ "a frontend restart nobody answers: bounded", test_restart_without_answer },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo close_suite = { "close", NULL, NULL, setup, teardown, tests };
