/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_bad_frontend.c - pvdrivers' backend against
 * a frontend that breaks handshake.md and ring.md: each invalid commit ends
 * in ERROR with the right KEEL_IO_ERR_*, nothing of the frontend's stays
 * mapped or bound, nothing loops; a commit left from before the backend
 * started is never mapped; a frontend that starts again is met afresh.
 */
#include "peer.h"
#include "suites.h"

static struct t_pair P;
static struct raw_fe R;

static void setup(void)
{
	harness_begin();
	t_pair_init(&P);
	raw_fe_attach(&R, &P);
}

static void open_backend(void)
{
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_READY);
}

static void teardown(void)
{
	raw_fe_release(&R);
	if (P.be.end.dev) {
		t_close_be(&P, false);
	}
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.bdom, 0);
	t_assert_clean(P.fdom, 1);
	harness_end();
}

/* The backend stopped with @err, holds nothing of the frontend's, and stays quiet. */
static void assert_be_stopped(uint32_t err)
{
	harness_settle();
	CU_ASSERT_EQUAL(kpv_dev_state(P.be.end.dev), KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.id)->be_error, err);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.bdom), 1);	/* its control port only */
	CU_ASSERT_EQUAL(harness_grants_busy(P.fdom), 0);
	CU_ASSERT_EQUAL(P.be.end.connected, 0);
	CU_ASSERT(t_quiet_steps() < 5);
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_ERROR);
}

static void test_state_out_of_range(void)
{
	open_backend();
	raw_fe_state(&R, 9);
	assert_be_stopped(KEEL_IO_ERR_PROTOCOL);
}

static void test_connected_without_commit(void)
{
	open_backend();
	t_page(P.id)->fe_generation = 7;
	raw_fe_state(&R, KEEL_IO_STATE_CONNECTED);
	assert_be_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(P.be.checks, 0);
}

static void test_features_not_offered(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_commit(&R, 1, 1, T_FEATURES | 0x100);
	assert_be_stopped(KEEL_IO_ERR_FEATURES);
}

static void test_ring_count_out_of_range(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_commit(&R, 1, 5, 0);		/* four offered */
	assert_be_stopped(KEEL_IO_ERR_RINGS);
	/* The frontend starts over (CLOSED): a new offer; zero rings is no better. */
	raw_fe_state(&R, KEEL_IO_STATE_CLOSED);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_READY);
	CU_ASSERT_EQUAL(t_page(P.id)->be_generation, 2);
	raw_fe_commit(&R, 2, 0, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

static void test_order_out_of_range(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 3, false);		/* max 2 offered */
	raw_fe_commit(&R, 1, 1, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

static void test_unused_gref_not_zero(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 0, false);
	R.pg->fe_rings[0].data_gref[1] = 7;
	raw_fe_commit(&R, 1, 1, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

static void test_grant_not_mappable(void)
{
	open_backend();
	/* Ring 0 fine, ring 1's second data page never granted: ring 0 must be let go. */
	raw_fe_ring(&R, 0, 1, false);
	raw_fe_ring(&R, 1, 1, false);
	R.pg->fe_rings[1].data_gref[1] = 4000;
	raw_fe_commit(&R, 1, 2, 0);
	assert_be_stopped(KEEL_IO_ERR_GRANT);
}

static void test_grant_read_only(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 0, true);
	raw_fe_commit(&R, 1, 1, 0);
	assert_be_stopped(KEEL_IO_ERR_GRANT);
}

static void test_port_not_bindable(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_ring(&R, 1, 0, false);
	R.pg->fe_rings[1].port = 4000;		/* FREE */
	raw_fe_commit(&R, 1, 2, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
	/* A port already bound (the control port) is no better. */
	raw_fe_state(&R, KEEL_IO_STATE_CLOSED);
	harness_settle();
	R.pg->fe_rings[1].port = P.fe_port;
	raw_fe_commit(&R, 2, 2, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

static void test_same_page_twice(void)
{
	open_backend();
	raw_fe_ring(&R, 0, 1, false);
	R.pg->fe_rings[0].data_gref[1] = R.pg->fe_rings[0].header_gref;
	raw_fe_commit(&R, 1, 1, 0);
	assert_be_stopped(KEEL_IO_ERR_RINGS);
}

static void test_class_refuses_commit(void)
{
	P.be.check_err = KEEL_IO_ERR_CONFIG;
	open_backend();
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_commit(&R, 1, 1, 0);
	assert_be_stopped(KEEL_IO_ERR_CONFIG);
	CU_ASSERT_EQUAL(P.be.checks, 1);
}

static bool be_connected(void *ctx)
{
	(void)ctx;
	return P.be.end.connected > 0;
}

static void test_commit_from_before_is_not_mapped(void)
{
	/* A commit is there before this backend starts: an earlier backend's rings. */
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_commit(&R, 3, 1, 0);
	open_backend();
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(P.be.checks, 0);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_READY);
	/* The frontend notices the new backend generation and commits again. */
	raw_fe_commit(&R, 4, 1, 0);
	CU_ASSERT_TRUE(harness_run(be_connected, NULL, T_SECOND));
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 2);	/* header and one data page */
}

static void test_too_many_requests(void)
{
	struct keel_io_ring_header *hdr;

	open_backend();
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_commit(&R, 1, 1, 0);
	CU_ASSERT_TRUE_FATAL(harness_run(be_connected, NULL, T_SECOND));
	/* 65 requests on a ring of 64 slots. */
	hdr = R.pages[0][0];
	hdr->req_prod = 65;
	harness_use(P.fdom);
	kpv_evtchn_notify(P.fk, R.ports[0]);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.id)->be_error, KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(P.be.end.last_end, KPV_END_ERROR);
	CU_ASSERT_EQUAL(P.be.served, 0);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.bdom), 1);
	CU_ASSERT(t_quiet_steps() < 5);
}

static CU_TestInfo tests[] = {
	{ "a state out of range: PROTOCOL", test_state_out_of_range },
	{ "CONNECTED without a commit: PROTOCOL", test_connected_without_commit },
	{ "features not offered: FEATURES", test_features_not_offered },
	{ "too many or no rings: RINGS", test_ring_count_out_of_range },
	{ "an order beyond the offer: RINGS", test_order_out_of_range },
	{ "an unused data_gref not zero: RINGS", test_unused_gref_not_zero },
	{ "a grant that cannot be mapped: GRANT, nothing kept", test_grant_not_mappable },
	{ "a read-only ring page: GRANT", test_grant_read_only },
	{ "a ring port that cannot be bound: RINGS", test_port_not_bindable },
	{ "one page used twice: RINGS", test_same_page_twice },
	{ "the class refuses the commit: its error", test_class_refuses_commit },
	{ "a commit from before the backend is not mapped", test_commit_from_before_is_not_mapped },
	{ "more requests than slots: PROTOCOL", test_too_many_requests },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo bad_frontend_suite = { "bad_frontend", NULL, NULL, setup, teardown, tests };
