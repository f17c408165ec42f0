/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_bad_backend.c - pvdrivers' frontend against
 * a backend that breaks handshake.md and ring.md: every invalid input ends
 * in ERROR with the right KEEL_IO_ERR_*, with the frontend's grants and
 * ring ports taken back and no loop; a backend that starts afresh is met
 * afresh.
 */
#include "peer.h"
#include "suites.h"

static struct t_pair P;
static struct raw_be R;

static void setup(void)
{
	harness_begin();
	t_pair_init(&P);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	raw_be_bind(&R, &P);
	harness_settle();
}

static void teardown(void)
{
	raw_be_release(&R);
	if (P.fe.end.dev) {
		t_close_fe(&P, false);
	}
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.fdom, 1);
	harness_end();
}

static bool fe_state_is(uint32_t state)
{
	return kpv_dev_state(P.fe.end.dev) == state && t_page(P.id)->fe_state == state;
}

static bool fe_committed(void *ctx)
{
	(void)ctx;
	return fe_state_is(KEEL_IO_STATE_READY);
}

/* The frontend stopped with @err, gave everything back, and stays quiet. */
static void assert_fe_stopped(uint32_t err)
{
	harness_settle();
	CU_ASSERT_TRUE(fe_state_is(KEEL_IO_STATE_ERROR));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_error, err);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);
	CU_ASSERT_EQUAL(harness_grants_busy(P.fdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.fdom), 1);	/* its control port only */
	CU_ASSERT(t_quiet_steps() < 5);
	CU_ASSERT_TRUE(fe_state_is(KEEL_IO_STATE_ERROR));
}

static void offer_and_commit(void)
{
	raw_be_offer(&R, 1, 4, 2);
	CU_ASSERT_TRUE_FATAL(harness_run(fe_committed, NULL, T_SECOND));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_nr_rings, 2);
}

static void test_state_out_of_range(void)
{
	offer_and_commit();
	CU_ASSERT(harness_grants_permitted(P.fdom) > 0);
	raw_be_state(&R, 6, 0);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(P.fe.end.connected, 0);
}

static void test_connected_without_commit(void)
{
	/* Never offered, yet CONNECTED under a generation nobody committed to. */
	t_page(P.id)->be_generation = 5;
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(P.fe.chooses, 0);
}

static void test_offer_out_of_limits(void)
{
	static const uint32_t bad[][2] = { { 0, 1 }, { KEEL_IO_MAX_RINGS + 1, 1 }, { 2, 4 } };

	for (uint32_t i = 0; i < 3; i++) {
		harness_log_clear(P.fdom);
		/* Each offer is a new backend generation, which ends the last ERROR. */
		raw_be_offer(&R, i + 1, bad[i][0], bad[i][1]);
		assert_fe_stopped(KEEL_IO_ERR_RINGS);
		CU_ASSERT(harness_log_has(P.fdom, "frontend error 3"));
	}
	CU_ASSERT_EQUAL(P.fe.chooses, 0);
}

static void test_class_refuses_offer(void)
{
	P.fe.choose_err = KEEL_IO_ERR_CONFIG;
	raw_be_offer(&R, 1, 4, 2);
	assert_fe_stopped(KEEL_IO_ERR_CONFIG);
	CU_ASSERT_EQUAL(P.fe.chooses, 1);
}

static bool fe_connected(void *ctx)
{
	(void)ctx;
	return P.fe.end.connected > 0;
}

static void test_commit_refused_then_new_backend(void)
{
	offer_and_commit();
	raw_be_state(&R, KEEL_IO_STATE_ERROR, KEEL_IO_ERR_FEATURES);
	assert_fe_stopped(KEEL_IO_ERR_FEATURES);	/* the backend's reason, kept */
	/* A new backend generation: the frontend starts again and commits afresh. */
	raw_be_offer(&R, 2, 4, 2);
	CU_ASSERT_TRUE_FATAL(harness_run(fe_committed, NULL, T_SECOND));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_generation, 2);
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE(harness_run(fe_connected, NULL, T_SECOND));
	CU_ASSERT_TRUE(fe_state_is(KEEL_IO_STATE_CONNECTED));
}

static void test_responses_never_asked_for(void)
{
	struct keel_io_ring_header *hdr;
	void *page;

	offer_and_commit();
	raw_be_take_ring0(&R);
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE_FATAL(harness_run(fe_connected, NULL, T_SECOND));
	t_send(&P, 0, 1);
	/* Fifty answers to one question. */
	hdr = R.hdr.va;
	page = R.hdr.va;
	hdr->rsp_prod = 50;
	harness_use(P.bdom);
	kpv_evtchn_notify(P.bk, R.ring_port);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_ERROR);
	/* The backend still mapped the header: revoked by force, it sees its scratch page. */
	CU_ASSERT(harness_gfn_view(P.bdom, R.hdr.gfn) != page);
	R.hdr.va = NULL;	/* our pointer is the old page's: do not touch it again */
	harness_use(P.bdom);
	kpv_unmap_grant(P.bk, &R.hdr);
}

static CU_TestInfo tests[] = {
	{ "a state out of range: PROTOCOL", test_state_out_of_range },
	{ "CONNECTED without a commit: PROTOCOL", test_connected_without_commit },
	{ "rings or orders out of range: RINGS", test_offer_out_of_limits },
	{ "the class refuses the offer: its error", test_class_refuses_offer },
	{ "a refused commit, then a new backend", test_commit_refused_then_new_backend },
	{ "responses nobody asked for: PROTOCOL, grants revoked", test_responses_never_asked_for },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo bad_backend_suite = { "bad_backend", NULL, NULL, setup, teardown, tests };
