/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_reconnect.c - handshake.md, "Reconnect":
 * every sign of backend loss (its control port gone, a new generation, its
 * state leaving CONNECTED) makes the frontend take its grants back and
 * connect again on fresh rings when a backend offers; a frontend that
 * restarts (kexec) finds its way back; either domain destroyed mid-
 * connection leaves the survivor clean.
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

static bool fe_waiting(void *ctx)
{
	(void)ctx;
	return P.fe.end.disconnected > 0 && kpv_dev_state(P.fe.end.dev) == KEEL_IO_STATE_CLOSED;
}

static bool reconnected(void *ctx)
{
	(void)ctx;
	return P.fe.end.connected == 2 && t_both_connected(&P);
}

/* After a loss: the class was told, and nothing of the old rings is out. */
static void assert_fe_let_go(void)
{
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_PEER_GONE);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);
	CU_ASSERT_EQUAL(harness_grants_busy(P.fdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.fdom), 1);
}

/* Connected again on fresh rings (indexes from 0), and I/O works. */
static void assert_fresh_connection(uint32_t fe_gen)
{
	struct kpv_ring *r = P.fe.end.dev ? kpv_dev_ring(P.fe.end.dev, 0) : NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_generation, fe_gen);
	CU_ASSERT_EQUAL(r->req_prod_pvt, 0);
	CU_ASSERT_EQUAL(r->rsp_cons, 0);
	t_send(&P, 0, 20);
	t_send(&P, 1, 20);
	t_run(t_all_answered, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.wrong, 0);
}

static void test_backend_closes_and_returns(void)
{
	t_pair_connect(&P);
	t_send(&P, 0, 5);
	t_run(t_all_answered, &P, T_SECOND);
	t_close_be(&P, false);
	CU_ASSERT_TRUE(harness_run(fe_waiting, NULL, T_SECOND));
	assert_fe_let_go();
	/* A new backend instance in the same domain. */
	P.be.end.released = 0;
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	CU_ASSERT_TRUE(harness_run(reconnected, NULL, T_SECOND));
	CU_ASSERT_EQUAL(t_page(P.id)->be_generation, 2);
	assert_fresh_connection(2);
	t_pair_finish(&P);
}

static void test_backend_crashes_and_restarts(void)
{
	t_pair_connect(&P);
	/* The backend's OS reloads its driver without closing anything. */
	harness_forget(P.bdom);
	P.bk = t_start(P.bdom);
	P.be.end.dev = NULL;
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);	/* takes over the control port */
	CU_ASSERT(harness_log_has(P.bdom, "a previous backend left"));
	CU_ASSERT_TRUE(harness_run(reconnected, NULL, T_SECOND));
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_PEER_GONE);
	CU_ASSERT_EQUAL(t_page(P.id)->be_generation, 2);
	assert_fresh_connection(2);
	/* The crashed instance's mappings were revoked under it. */
	CU_ASSERT_EQUAL(harness_grants_busy(P.fdom), 6);	/* only the new rings' */
	t_close_fe(&P, false);
	t_close_be(&P, false);
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.fdom, 1);
}

static void test_backend_state_leaves_connected(void)
{
	t_pair_connect(&P);
	/* Someone makes the backend area say READY; a config notification shows it. */
	t_page(P.id)->be_state = KEEL_IO_STATE_READY;
	harness_use(P.bdom);
	kpv_dev_config_update(P.be.end.dev, 200, 0, 1);
	CU_ASSERT_TRUE(harness_run(reconnected, NULL, T_SECOND));
	CU_ASSERT_EQUAL(P.fe.end.disconnected, 1);
	CU_ASSERT_EQUAL(P.be.end.disconnected, 1);	/* the backend saw the frontend start over */
	CU_ASSERT_EQUAL(P.be.end.connected, 2);
	assert_fresh_connection(2);
	t_pair_finish(&P);
}

static void test_generation_change(void)
{
	t_pair_connect(&P);
	t_page(P.id)->be_generation = 77;
	harness_use(P.bdom);
	kpv_dev_config_update(P.be.end.dev, 200, 0, 1);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.end.disconnected, 1);
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_PEER_GONE);
	t_pair_finish(&P);
}

static void test_frontend_restarts(void)
{
	uint64_t start;

	t_pair_connect(&P);
	t_send(&P, 0, 5);
	t_run(t_all_answered, &P, T_SECOND);
	/* kexec: the frontend's OS starts over and knows nothing. */
	harness_forget(P.fdom);
	P.fk = t_start(P.fdom);			/* revokes the old rings' grants */
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);
	P.fe = (struct tfe){ .end.dom = P.fdom, .features = ~0ull, .rings = 2, .order = 1 };
	start = harness_now();
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_state, KEEL_IO_STATE_CLOSING);
	CU_ASSERT_TRUE(harness_run(t_both_connected, &P, 10 * T_SECOND));
	CU_ASSERT(harness_now() - start < T_SECOND);	/* the backend let go at once */
	CU_ASSERT_EQUAL(P.be.end.disconnected, 1);
	CU_ASSERT_EQUAL(P.be.end.last_end, KPV_END_PEER_GONE);
	CU_ASSERT_EQUAL(P.be.end.connected, 2);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_generation, 2);
	t_send(&P, 1, 10);
	t_run(t_all_answered, &P, T_SECOND);
	t_close_fe(&P, false);
	t_close_be(&P, false);
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.bdom, 0);
	/* What the crashed instance held in Keel: its ring ports (now UNBOUND). */
	CU_ASSERT_EQUAL(harness_ports_in_use(P.fdom), 1 + 2);
}

/* The device left @d's table with the other domain: its end closes at once, cleanly. */
static void close_removed(struct hdom *d, struct kpv *k, struct t_end *e, unsigned int ports)
{
	struct kpv_device_info left[2];

	harness_use(d);
	CU_ASSERT_EQUAL(kpv_devices(k, left, 2), 0);
	kpv_dev_close(e->dev, true);
	CU_ASSERT_TRUE(harness_run(t_released, e, 100 * T_MS));
	CU_ASSERT_EQUAL(e->disconnected, 1);
	t_stop(d, k);
	t_assert_clean(d, ports);
}

static void test_backend_domain_destroyed(void)
{
	t_pair_connect(&P);
	t_send(&P, 0, 3);
	harness_destroy(P.bdom);
	CU_ASSERT_TRUE(harness_run(fe_waiting, NULL, T_SECOND));
	assert_fe_let_go();
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_CLOSED);	/* Keel wrote it */
	close_removed(P.fdom, P.fk, &P.fe.end, 0);	/* the control port went with it */
}

static bool be_idle(void *ctx)
{
	(void)ctx;
	return P.be.end.disconnected > 0 && harness_foreign_maps(P.bdom) == 0;
}

static void test_frontend_domain_destroyed(void)
{
	t_pair_connect(&P);
	t_send(&P, 1, 3);
	harness_destroy(P.fdom);
	CU_ASSERT_TRUE(harness_run(be_idle, NULL, T_SECOND));
	CU_ASSERT_EQUAL(P.be.end.last_end, KPV_END_PEER_GONE);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.bdom), 0);
	CU_ASSERT(t_quiet_steps() < 5);
	close_removed(P.bdom, P.bk, &P.be.end, 0);
}

static CU_TestInfo tests[] = {
	{ "the backend closes, and comes back", test_backend_closes_and_returns },
	{ "the backend crashes and restarts", test_backend_crashes_and_restarts },
	{ "the backend's state leaves CONNECTED", test_backend_state_leaves_connected },
	{ "the backend's generation changes", test_generation_change },
	{ "the frontend restarts (kexec)", test_frontend_restarts },
	{ "the backend domain is destroyed mid-connection", test_backend_domain_destroyed },
	{ "the frontend domain is destroyed mid-connection", test_frontend_domain_destroyed },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo reconnect_suite = { "reconnect", NULL, NULL, setup, teardown, tests };
