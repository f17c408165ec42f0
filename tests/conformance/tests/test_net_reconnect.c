/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_net_reconnect.c - net.md "Reconnect" and the
 * live link: on backend loss (a crash, an orderly close, the backend's
 * domain destroyed) the frontend reports TX in flight dropped, takes its
 * RX pages back and connects again on fresh rings, with the MAC and MTU of
 * the new offer; link state changes reach the OS live; either end may
 * leave and come back.
 */
#include "net_common.h"
#include "suites.h"

static struct t_pair P;
static struct tnf F;
static struct tnb B;
static struct tnet T;
static const uint8_t mac_x[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

static void setup(void)
{
	harness_begin();
}

static void teardown(void)
{
	harness_end();
}

/* A pair with a real netfront and a recording netback, both up. */
static void connect(void)
{
	tn_pair_init(&P);
	tn_pair_fe(&P, &F);
	tn_pair_be(&P, &B);
	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	CU_ASSERT_EQUAL_FATAL(tnf_open(&F), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tn_nonzero, &F.ups, T_SECOND));
}

static bool ups_at_least(void *ctx)
{
	return F.ups >= *(unsigned int *)ctx;
}

/* Packets flow both ways on the connection there is now. */
static void assert_traffic(void)
{
	uint8_t frame[300];
	uint32_t got = B.nr_got, rx = F.nr_rx;

	tnf_send_frame(&F, tn_broadcast, 300, 2, 5);
	tn_frame(frame, sizeof(frame), F.link.mac, tn_broadcast, 6);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), 0);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(B.nr_got, got + 1);
	CU_ASSERT_EQUAL(F.nr_rx, rx + 1);
	CU_ASSERT(tnf_rx_is(&F, rx, 300, F.link.mac, tn_broadcast, 6));
}

static void finish(bool be_clean)
{
	tnf_close(&F);
	tnb_close(&B);
	harness_settle();
	t_stop(P.fdom, P.fk);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.fdom, 1);
	if (be_clean) {
		t_assert_clean(P.bdom, 0);
	}
}

static void test_backend_crash_with_tx_in_flight(void)
{
	unsigned int two = 2;

	connect();
	CU_ASSERT_EQUAL(F.link.mtu, KEEL_IO_NET_MTU_DEFAULT);
	for (uint32_t i = 0; i < 5; i++) {
		tnf_send_frame(&F, tn_broadcast, 100, 1 + i, i);
	}
	/* The backend's OS reloads its drivers before it ever saw them. */
	harness_forget(P.bdom);
	P.bk = t_start(P.bdom);
	tn_pair_be(&P, &B);
	B.cfg.has_mac = true;
	memcpy(B.cfg.mac, mac_x, 6);
	B.cfg.mtu = 9000;
	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(ups_at_least, &two, T_SECOND));
	CU_ASSERT_EQUAL(F.downs, 1);
	CU_ASSERT_EQUAL(F.tx_dropped, 5);
	CU_ASSERT_EQUAL(F.tx_ok, 0);
	/* The new offer read afresh. */
	CU_ASSERT(memcmp(F.link.mac, mac_x, 6) == 0);
	CU_ASSERT_EQUAL(F.link.mtu, 9000);
	/* Fresh rings: their four pages and the posted RX pages granted, only the rings mapped. */
	harness_settle();
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 4 + 128);
	CU_ASSERT_EQUAL(harness_grants_busy(P.fdom), 4);
	assert_traffic();
	finish(false);		/* the crashed instance's memory stays taken, as a crash's would */
}

static void test_backend_closes_and_returns(void)
{
	unsigned int two = 2;
	uint8_t frame[100];

	connect();
	tn_frame(frame, sizeof(frame), F.link.mac, tn_broadcast, 1);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), 0);
	harness_settle();
	CU_ASSERT_EQUAL(F.nr_rx, 1);
	tnb_close(&B);
	harness_settle();
	CU_ASSERT_EQUAL(F.downs, 1);
	CU_ASSERT_FALSE(F.is_up);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);	/* RX pages and rings back */
	CU_ASSERT_EQUAL(tnf_send(&F, frame, sizeof(frame), 1, NULL, 0), -KEEL_EBUSY);
	B.cfg.has_mac = true;
	memcpy(B.cfg.mac, mac_x, 6);
	B.cfg.mtu = 4000;
	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(ups_at_least, &two, T_SECOND));
	CU_ASSERT(memcmp(F.link.mac, mac_x, 6) == 0);
	CU_ASSERT_EQUAL(F.link.mtu, 4000);
	assert_traffic();
	finish(true);
}

static void test_link_state_live(void)
{
	uint8_t frame[100];

	tn_pair_init(&P);
	tn_pair_fe(&P, &F);
	tn_pair_be(&P, &B);
	B.cfg.link_state = true;
	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	CU_ASSERT_EQUAL_FATAL(tnf_open(&F), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tn_nonzero, &F.ups, T_SECOND));
	CU_ASSERT(F.link.features & KEEL_IO_NET_F_LINK_STATE);
	CU_ASSERT(F.link.up);
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, false);
	CU_ASSERT_TRUE(harness_run(tn_nonzero, &F.links, T_SECOND));
	CU_ASSERT_FALSE(F.link_up);
	/* Down: the backend drops both ways. */
	tnf_send_frame(&F, tn_broadcast, 100, 1, 1);
	tn_frame(frame, sizeof(frame), F.link.mac, tn_broadcast, 2);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), -KEEL_EBUSY);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(F.tx_dropped, 1);
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, true);
	harness_settle();
	CU_ASSERT_EQUAL(F.links, 2);
	CU_ASSERT(F.link_up);
	assert_traffic();
	/* A link that went down while no frontend was there is down at the next up(). */
	tnf_close(&F);
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, false);
	F.ups = 0;
	CU_ASSERT_EQUAL_FATAL(tnf_open(&F), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tn_nonzero, &F.ups, T_SECOND));
	CU_ASSERT_FALSE(F.link.up);
	finish(true);
}

static void test_no_link_state_always_up(void)
{
	connect();
	CU_ASSERT_FALSE(F.link.features & KEEL_IO_NET_F_LINK_STATE);
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, false);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(F.links, 0);
	CU_ASSERT(F.link_up);
	CU_ASSERT_EQUAL(t_page(P.id)->be_config[offsetof(struct keel_io_net_config, link_flags)],
			KEEL_IO_NET_LINK_UP);	/* nothing published */
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, true);
	finish(true);
}

static void test_frontend_closes_and_returns(void)
{
	connect();
	assert_traffic();
	tnf_close(&F);
	harness_settle();
	CU_ASSERT_EQUAL(B.disconnects, 1);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	F.ups = 0;
	CU_ASSERT_EQUAL_FATAL(tnf_open(&F), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tn_nonzero, &F.ups, T_SECOND));
	CU_ASSERT_EQUAL(B.connects, 2);
	assert_traffic();
	finish(true);
}

/* The device left @d's table: its end is closed as removed, at once and cleanly. */
static void close_removed_fe(struct tnf *f)
{
	struct kpv_device_info left[2];

	harness_use(f->dom);
	CU_ASSERT_EQUAL(kpv_devices(f->k, left, 2), 0);
	CU_ASSERT_EQUAL(kpv_netfront_close(f->nf, true), 0);
	CU_ASSERT_TRUE(harness_run(tn_nonzero, &f->released, 100 * T_MS));
	tnf_forget_rx(f);
	t_stop(f->dom, f->k);
	t_assert_clean(f->dom, 0);
}

static bool all_down(void *ctx)
{
	(void)ctx;
	return T.fe[0].downs && T.fe[1].downs;
}

static void test_switch_domain_destroyed(void)
{
	tnet_init(&T, 2);
	tnet_open(&T);
	tnf_send_frame(&T.fe[0], tn_broadcast, 100, 1, 1);
	harness_destroy(T.swdom);
	CU_ASSERT_TRUE(harness_run(all_down, NULL, T_SECOND));
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(harness_grants_permitted(T.fe[i].dom), 0);
		CU_ASSERT_EQUAL(T.fe[i].tx_ok + T.fe[i].tx_dropped, T.fe[i].sent);
		close_removed_fe(&T.fe[i]);
	}
}

static void test_frontend_domain_destroyed(void)
{
	struct kpv_device_info left[2];

	connect();
	tnf_send_frame(&F, tn_broadcast, 100, 3, 1);
	harness_destroy(P.fdom);
	CU_ASSERT_TRUE(harness_run(tn_nonzero, &B.disconnects, T_SECOND));
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	tnf_forget_rx(&F);
	harness_use(P.bdom);
	CU_ASSERT_EQUAL(kpv_devices(P.bk, left, 2), 0);
	kpv_netback_close(B.nb, true);
	CU_ASSERT_TRUE(harness_run(tn_nonzero, &B.released, 100 * T_MS));
	tnb_close(&B);
	t_stop(P.bdom, P.bk);
	t_assert_clean(P.bdom, 0);
}

static CU_TestInfo tests[] = {
	{ "the backend crashes with TX in flight; a new one, new MAC and MTU",
	  test_backend_crash_with_tx_in_flight },
	{ "the backend closes and returns with a new MAC and MTU", test_backend_closes_and_returns },
	{ "the link state, live", test_link_state_live },
	{ "without F_LINK_STATE the link is always up", test_no_link_state_always_up },
	{ "the frontend closes and opens again", test_frontend_closes_and_returns },
	{ "the switch domain is destroyed", test_switch_domain_destroyed },
	{ "the frontend domain is destroyed", test_frontend_domain_destroyed },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo net_reconnect_suite = { "net_reconnect", NULL, NULL, setup, teardown, tests };
