/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_connect.c - the handshake that goes right:
 * offer, commit and connect with the test class on both sides, whoever
 * opens first; what each class saw; I/O over every ring; the frontend that
 * waits for a backend without blocking (and says so after 10 s); a live
 * config change; and the header and class checks at open.
 */
#include "common.h"
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

static void test_connect_and_echo(void)
{
	struct keel_io_device_page *pg;

	t_pair_connect(&P);
	/* What the frontend was offered, and what the backend was asked for. */
	CU_ASSERT_EQUAL(P.fe.offer.features, T_FEATURES);
	CU_ASSERT_EQUAL(P.fe.offer.max_rings, 4);
	CU_ASSERT_EQUAL(P.fe.offer.max_ring_order, 2);
	CU_ASSERT_EQUAL(P.fe.offer.config[15], 0x42);
	CU_ASSERT_EQUAL(P.fe.offer.config[16], 0);
	CU_ASSERT_EQUAL(P.be.commit.features, T_FEATURES);
	CU_ASSERT_EQUAL(P.be.commit.nr_rings, 2);
	CU_ASSERT_EQUAL(P.be.commit.ring_order[0], 1);
	CU_ASSERT_EQUAL(P.be.commit.ring_order[1], 1);
	CU_ASSERT_EQUAL(P.be.commit.config[0], 0xfe);
	/* The connection as each side's driver sees it. */
	CU_ASSERT_EQUAL(kpv_dev_nr_rings(P.fe.end.dev), 2);
	CU_ASSERT_EQUAL(kpv_dev_nr_rings(P.be.end.dev), 2);
	CU_ASSERT_EQUAL(kpv_dev_features(P.be.end.dev), T_FEATURES);
	CU_ASSERT_EQUAL(kpv_dev_config(P.fe.end.dev)[0], 0x42);
	CU_ASSERT_EQUAL(kpv_dev_config(P.be.end.dev)[0], 0xfe);
	CU_ASSERT_EQUAL(kpv_dev_peer(P.fe.end.dev), harness_domid(P.bdom));
	CU_ASSERT_PTR_EQUAL(kpv_dev_kpv(P.be.end.dev), P.bk);
	CU_ASSERT_EQUAL(kpv_dev_ring(P.fe.end.dev, 0)->nr_slots, 128);
	CU_ASSERT_PTR_NULL(kpv_dev_ring(P.fe.end.dev, 2));
	pg = t_page(P.id);
	CU_ASSERT_EQUAL(pg->fe_state, KEEL_IO_STATE_CONNECTED);
	CU_ASSERT_EQUAL(pg->be_state, KEEL_IO_STATE_CONNECTED);
	CU_ASSERT_EQUAL(pg->fe_generation, 1);
	CU_ASSERT_EQUAL(pg->be_generation, 1);
	CU_ASSERT_EQUAL(pg->fe_rings[0].order, 1);
	CU_ASSERT_EQUAL(pg->fe_rings[0].data_gref[2], 0);
	CU_ASSERT_EQUAL(pg->fe_rings[2].header_gref, 0);
	/* Requests on both rings, and many more than fit at once. */
	t_send(&P, 0, 10);
	t_send(&P, 1, 100);
	t_run(t_all_answered, &P, T_SECOND);
	for (int i = 0; i < 20; i++) {
		t_send(&P, i % 2, 128);
		t_run(t_all_answered, &P, T_SECOND);
	}
	CU_ASSERT_EQUAL(P.fe.answered, 110 + 20 * 128);
	CU_ASSERT_EQUAL(P.fe.wrong, 0);
	CU_ASSERT_EQUAL(P.be.served, P.fe.answered);
	CU_ASSERT_EQUAL(P.be.backlog, 0);
	t_pair_finish(&P);
	CU_ASSERT_EQUAL(P.fe.end.disconnected, 1);
	CU_ASSERT_EQUAL(P.fe.end.last_end, KPV_END_CLOSE);
	CU_ASSERT_EQUAL(P.fe.end.released, 1);
	CU_ASSERT_EQUAL(P.be.end.released, 1);
}

static void test_feature_subset(void)
{
	t_pair_init(&P);
	P.fe.features = 0x4 | 0x8;	/* 0x8 is not offered */
	P.fe.rings = 9;			/* more than offered: capped by the class */
	P.fe.order = 0;
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	t_run(t_both_connected, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.commit.features, 0x4);
	CU_ASSERT_EQUAL(kpv_dev_features(P.fe.end.dev), 0x4);
	CU_ASSERT_EQUAL(kpv_dev_nr_rings(P.be.end.dev), 4);
	t_send(&P, 3, 5);
	t_run(t_all_answered, &P, T_SECOND);
	t_pair_finish(&P);
}

static bool fe_committed(void *pair)
{
	struct t_pair *p = pair;

	return p->fe.end.dev && kpv_dev_state(p->fe.end.dev) == KEEL_IO_STATE_READY;
}

static void test_frontend_waits_for_backend(void)
{
	struct harness_usage u;

	t_pair_init(&P);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	/* No backend: the frontend waits without blocking, logs once, and sleeps. */
	CU_ASSERT_FALSE(harness_run(t_both_connected, &P, 9 * T_SECOND));
	CU_ASSERT_FALSE(harness_log_has(P.fdom, "still waiting"));
	harness_run(NULL, NULL, 60 * T_SECOND);
	CU_ASSERT(harness_log_has(P.fdom, "still waiting for backend"));
	harness_usage(P.fdom, &u);
	CU_ASSERT_EQUAL(u.armed, 0);		/* no periodic wake-ups */
	CU_ASSERT_EQUAL(kpv_dev_state(P.fe.end.dev), KEEL_IO_STATE_CLOSED);
	CU_ASSERT_EQUAL(P.fe.chooses, 0);
	/* The backend comes at last. */
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	t_run(t_both_connected, &P, T_SECOND);
	t_send(&P, 0, 3);
	t_run(t_all_answered, &P, T_SECOND);
	t_pair_finish(&P);
}

static void test_backend_first(void)
{
	t_pair_init(&P);
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	harness_run(NULL, NULL, 30 * T_SECOND);
	CU_ASSERT_EQUAL(kpv_dev_state(P.be.end.dev), KEEL_IO_STATE_READY);
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_READY);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_TRUE(harness_run(fe_committed, &P, T_SECOND) || t_both_connected(&P));
	t_run(t_both_connected, &P, T_SECOND);
	t_pair_finish(&P);
}

static void test_live_config_change(void)
{
	struct keel_io_device_page *pg;

	t_pair_connect(&P);
	/* A class's live field (console: cols), changed by a single store and a notification. */
	harness_use(P.bdom);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.be.end.dev, 0, 80, 2), 0);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.be.end.dev, 1, 80, 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.be.end.dev, 256, 80, 1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.be.end.dev, 0, 80, 3), -KEEL_EINVAL);
	harness_use(P.fdom);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.fe.end.dev, 0, 80, 2), -KEEL_EINVAL);
	pg = t_page(P.id);
	CU_ASSERT_EQUAL(pg->be_config[0], 80);
	CU_ASSERT_EQUAL(pg->be_config[1], 0);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.config_changes, 1);
	CU_ASSERT_EQUAL(kpv_dev_config(P.fe.end.dev)[0], 80);
	CU_ASSERT_EQUAL(kpv_dev_config(P.fe.end.dev)[2], 0x42);
	CU_ASSERT(t_both_connected(&P));
	t_pair_finish(&P);
}

static bool be_connected_only(void *pair)
{
	struct t_pair *p = pair;

	return kpv_dev_state(p->be.end.dev) == KEEL_IO_STATE_CONNECTED &&
	       kpv_dev_state(p->fe.end.dev) != KEEL_IO_STATE_CONNECTED;
}

/*
 * A live field changed as the backend accepts, before the frontend saw it
 * connected: both events reach the frontend as one, and the class still
 * hears of the change.
 */
static void test_live_config_change_at_connect(void)
{
	t_pair_init(&P);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	t_run(be_connected_only, &P, T_SECOND);
	harness_use(P.bdom);
	CU_ASSERT_EQUAL(kpv_dev_config_update(P.be.end.dev, 0, 77, 1), 0);
	t_run(t_both_connected, &P, T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.config_changes, 1);
	CU_ASSERT_EQUAL(kpv_dev_config(P.fe.end.dev)[0], 77);
	t_pair_finish(&P);
}

static void test_header_and_class_checked(void)
{
	struct keel_io_device_page *pg, saved;
	struct kpv_dev *dev;
	uint32_t *fields[] = { NULL, NULL, NULL };

	t_pair_init(&P);
	pg = t_page(P.id);
	saved = *pg;
	fields[0] = &pg->magic;
	fields[1] = &pg->version;
	fields[2] = &pg->device_class;
	/* Whoever scribbled on it: a header we do not accept means hands off. */
	for (int i = 0; i < 3; i++) {
		*fields[i] ^= 0x100;
		harness_use(P.fdom);
		CU_ASSERT_EQUAL(kpv_fe_open(P.fk, &P.finfo, &t_fe_class, &P.fe, &dev), -KEEL_EINVAL);
		harness_use(P.bdom);
		CU_ASSERT_EQUAL(kpv_be_open(P.bk, &P.binfo, &t_be_class, &P.be, &dev), -KEEL_EINVAL);
		CU_ASSERT_EQUAL(pg->fe_state, KEEL_IO_STATE_CLOSED);	/* nothing written */
		CU_ASSERT_EQUAL(pg->be_state, KEEL_IO_STATE_CLOSED);
		*fields[i] ^= 0x100;
	}
	CU_ASSERT_EQUAL(memcmp(pg, &saved, sizeof(saved)), 0);
	/* The wrong role, or a class the driver is not for. */
	harness_use(P.fdom);
	CU_ASSERT_EQUAL(kpv_fe_open(P.fk, &P.binfo, &t_fe_class, &P.fe, &dev), -KEEL_EINVAL);
	P.finfo.device_class = KEEL_IO_CLASS_NET;
	CU_ASSERT_EQUAL(kpv_fe_open(P.fk, &P.finfo, &t_fe_class, &P.fe, &dev), -KEEL_EINVAL);
	P.finfo.device_class = T_CLASS;
	harness_use(P.bdom);
	CU_ASSERT_EQUAL(kpv_be_open(P.bk, &P.finfo, &t_be_class, &P.be, &dev), -KEEL_EINVAL);
	/* Nothing was left: the real thing still works. */
	CU_ASSERT_EQUAL_FATAL(t_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(&P), 0);
	t_run(t_both_connected, &P, T_SECOND);
	t_pair_finish(&P);
}

static CU_TestInfo tests[] = {
	{ "connect, then echo over every ring", test_connect_and_echo },
	{ "features and rings within the offer", test_feature_subset },
	{ "a frontend waits for its backend without blocking", test_frontend_waits_for_backend },
	{ "the backend may come first", test_backend_first },
	{ "a live config change reaches the frontend's class", test_live_config_change },
	{ "... also when it comes with the connection", test_live_config_change_at_connect },
	{ "a bad header, role or class is refused at open", test_header_and_class_checked },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo connect_suite = { "connect", NULL, NULL, setup, teardown, tests };
