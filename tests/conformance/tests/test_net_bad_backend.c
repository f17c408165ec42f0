/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_net_bad_backend.c - pvdrivers' netfront
 * against a raw backend (peer.h) that writes its own responses: each RX or
 * TX response net.md calls a protocol error ends in ERROR, with every grant
 * revoked, TX in flight reported dropped and the OS told; unknown statuses
 * count as dropped; offers with a bad config are refused, a GSO feature
 * without its checksum feature is not accepted; grants are read-only for
 * TX, writable for RX, and as many RX pages are posted as asked.
 */
#include "net_common.h"
#include "suites.h"

#define MORE	KEEL_IO_NET_PF_MORE
#define CSUM	KEEL_IO_NET_PF_CSUM_PARTIAL
#define GSO	KEEL_IO_NET_PF_GSO

static struct t_pair P;
static struct raw_be R;
static struct raw_ring TXR, RXR;	/* the raw backend's view of rings 0 and 1 */
static struct tnf F;
static struct keel_io_net_rx_request posted[128];
static uint32_t nr_posted;

static void setup(void)
{
	harness_begin();
	tn_pair_init(&P);
	tn_pair_fe(&P, &F);
	F.cfg.rx_buffers = 24;
	CU_ASSERT_EQUAL_FATAL(tnf_open(&F), 0);
	raw_be_bind(&R, &P);
	harness_settle();
	memset(&TXR, 0, sizeof(TXR));
	memset(&RXR, 0, sizeof(RXR));
	nr_posted = 0;
}

static void teardown(void)
{
	if (TXR.port) {
		raw_be_unmap_ring(&R, &TXR);
	}
	if (RXR.port) {
		raw_be_unmap_ring(&R, &RXR);
	}
	raw_be_release(&R);
	tnf_close(&F);
	tn_pair_finish(&P);
	harness_end();
}

static bool fe_committed(void *ctx)
{
	(void)ctx;
	return t_page(P.id)->fe_state == KEEL_IO_STATE_READY;
}

/* Take every RX request the frontend posted. */
static void take_posted(void)
{
	uint8_t slot[KEEL_IO_NET_SLOT_SIZE];

	harness_use(P.bdom);
	CU_ASSERT(kpv_ring_be_available(&RXR.ring) >= 0);
	while (kpv_ring_be_take(&RXR.ring, slot)) {
		CU_ASSERT_FATAL(nr_posted < 128);
		memcpy(&posted[nr_posted], slot, sizeof(posted[0]));
		CU_ASSERT_EQUAL(posted[nr_posted].pad0, 0);	/* MBZ (ring.md) */
		nr_posted++;
	}
}

/* Offer @features with @cfg; map both rings of the commit; CONNECTED; the frontend is up. */
static void connect(uint64_t features, const struct keel_io_net_config *cfg)
{
	static const struct keel_io_net_config none;

	raw_be_offer_as(&R, 1, 2, 0, features, cfg ? cfg : &none, sizeof(*cfg));
	CU_ASSERT_TRUE_FATAL(harness_run(fe_committed, NULL, T_SECOND));
	CU_ASSERT_EQUAL_FATAL(t_page(P.id)->fe_nr_rings, 2);
	raw_be_map_ring(&R, 0, KEEL_IO_NET_SLOT_SIZE, &TXR);
	raw_be_map_ring(&R, 1, KEEL_IO_NET_SLOT_SIZE, &RXR);
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tn_nonzero, &F.ups, T_SECOND));
	harness_settle();
	take_posted();
}

/* Publish RX responses and notify. */
static void put_rx(const struct keel_io_net_rx_response *rsp, uint32_t n)
{
	harness_use(P.bdom);
	for (uint32_t i = 0; i < n; i++) {
		struct keel_io_net_rx_response *slot = kpv_ring_be_next(&RXR.ring);

		CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
		*slot = rsp[i];
	}
	if (kpv_ring_be_push(&RXR.ring)) {
		kpv_evtchn_notify(P.bk, RXR.port);
	}
	harness_settle();
}

static void put_tx(const struct keel_io_net_tx_response *rsp, uint32_t n)
{
	uint8_t slot[KEEL_IO_NET_SLOT_SIZE];

	harness_use(P.bdom);
	kpv_ring_be_available(&TXR.ring);
	for (uint32_t i = 0; i < n; i++) {
		struct keel_io_net_tx_response *out;

		kpv_ring_be_take(&TXR.ring, slot);
		out = kpv_ring_be_next(&TXR.ring);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		*out = rsp[i];
	}
	if (kpv_ring_be_push(&TXR.ring)) {
		kpv_evtchn_notify(P.bk, TXR.port);
	}
	harness_settle();
}

/* The frontend stopped with @err: the OS told, every grant back, quiet. */
static void assert_fe_stopped(uint32_t err)
{
	harness_settle();
	CU_ASSERT_EQUAL(kpv_dev_state(kpv_netfront_dev(F.nf)), KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_error, err);
	CU_ASSERT_EQUAL(F.downs, 1);
	CU_ASSERT_FALSE(F.is_up);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 0);
	CU_ASSERT_EQUAL(F.tx_ok + F.tx_dropped, F.sent);
	CU_ASSERT(t_quiet_steps() < 5);
}

/* One good fragment: buffer @i, @len bytes, @flags, @total on the first. */
static struct keel_io_net_rx_response frag(uint32_t i, uint16_t len, uint16_t flags,
					   uint32_t total)
{
	return (struct keel_io_net_rx_response){ .id = posted[i].id, .len = len, .flags = flags,
						 .total_len = total };
}

static void bad_rx(const struct keel_io_net_rx_response *rsp, uint32_t n)
{
	put_rx(rsp, n);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(F.nr_rx, 0);
}

static void test_rx_unknown_id(void)
{
	struct keel_io_net_rx_response r[] = { { .id = 200, .len = 60, .total_len = 60 } };

	connect(0, NULL);
	bad_rx(r, 1);
}

static void test_rx_answered_twice(void)
{
	struct keel_io_net_rx_response r[2];

	connect(0, NULL);
	r[0] = frag(0, 60, 0, 60);
	r[1] = frag(0, 60, 0, 60);
	put_rx(r, 2);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(F.nr_rx, 1);	/* the first answer was a good packet */
}

static void test_rx_nineteen_fragments(void)
{
	struct keel_io_net_rx_response r[19];

	connect(0, NULL);
	take_posted();
	for (uint32_t i = 0; i < 19; i++) {
		r[i] = frag(i, 10, i < 18 ? MORE : 0, i == 0 ? 190 : 0);
	}
	bad_rx(r, 19);
}

/*
 * A bad chain: @n fragments in buffers 0.., @len bytes each (the last
 * @last), total_len @total on the first, and a change to the last one.
 */
static void bad_chain(uint32_t n, uint16_t len, uint16_t last, uint32_t total,
		      void (*spoil)(struct keel_io_net_rx_response *))
{
	struct keel_io_net_rx_response r[4];

	connect(0, NULL);
	for (uint32_t i = 0; i < n; i++) {
		r[i] = frag(i, i + 1 < n ? len : last, i + 1 < n ? MORE : 0, i ? 0 : total);
	}
	if (spoil) {
		spoil(&r[n - 1]);
	}
	bad_rx(r, n);
}

static void beyond_page(struct keel_io_net_rx_response *r)
{
	r->offset = 4000;
}

static void later_total(struct keel_io_net_rx_response *r)
{
	r->total_len = 120;
}

static void returned(struct keel_io_net_rx_response *r)
{
	r->len = 0;
	r->status = KEEL_IO_NET_S_DROPPED;
}

static void test_rx_lengths_short(void)
{
	bad_chain(2, 60, 30, 100, NULL);
}

static void test_rx_lengths_long(void)
{
	bad_chain(2, 60, 60, 100, NULL);
}

static void test_rx_beyond_page(void)
{
	bad_chain(1, 0, 200, 200, beyond_page);
}

static void test_rx_total_zero(void)
{
	bad_chain(1, 0, 0, 0, NULL);
}

static void test_rx_later_fragment_fields(void)
{
	bad_chain(2, 60, 60, 120, later_total);
}

static void test_rx_dropped_inside_chain(void)
{
	bad_chain(2, 60, 60, 120, returned);
}

static void test_rx_flags_not_negotiated(void)
{
	static const uint16_t flags[] = { CSUM, KEEL_IO_NET_PF_DATA_VALID, CSUM | GSO, 0x80 };

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct keel_io_net_rx_response r[1];

		if (i > 0) {
			teardown();
			setup();
		}
		connect(KEEL_IO_NET_F_CSUM_TX, NULL);	/* offered, not what the OS asked for */
		r[0] = frag(0, 100, flags[i], 100);
		r[0].csum_start = 14;
		r[0].gso_size = 50;
		r[0].gso_type = KEEL_IO_NET_GSO_TCPV4;
		bad_rx(r, 1);
	}
}

static void test_rx_unknown_status_returns_buffer(void)
{
	struct keel_io_net_rx_response r[2];

	connect(0, NULL);
	r[0] = frag(0, 0, 0, 0);
	r[0].status = 9;
	r[1] = frag(1, 60, 0, 60);
	put_rx(r, 2);
	CU_ASSERT_EQUAL(F.nr_rx, 1);
	CU_ASSERT(F.is_up);
	/* Both buffers posted again. */
	nr_posted = 0;
	take_posted();
	CU_ASSERT_EQUAL(nr_posted, 2);
}

/* TX responses: their ids must be in flight. */
static void send_two(void)
{
	uint8_t frame[100];

	tn_frame(frame, sizeof(frame), tn_broadcast, F.link.mac, 1);
	CU_ASSERT_EQUAL(tnf_send(&F, frame, sizeof(frame), 2, NULL, 0), 0);
	CU_ASSERT_EQUAL(tnf_send(&F, frame, sizeof(frame), 1, NULL, 0), 0);
	harness_settle();
}

static void test_tx_id_not_in_flight(void)
{
	struct keel_io_net_tx_response r[] = { { .id = 77 } };

	connect(0, NULL);
	send_two();
	put_tx(r, 1);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(F.tx_dropped, 2);
}

static void test_tx_answered_twice(void)
{
	struct keel_io_net_tx_response r[] = { { .id = 0 }, { .id = 0 } };

	connect(0, NULL);
	send_two();
	put_tx(r, 2);
	assert_fe_stopped(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(F.tx_ok + F.tx_dropped, 2);
}

static void test_tx_statuses(void)
{
	struct keel_io_net_tx_response r[] = { { .id = 0 }, { .id = 1, .status = 5 }, { .id = 2 } };

	connect(0, NULL);
	send_two();
	put_tx(r, 3);
	/* An unknown status in a fragment makes the whole packet dropped. */
	CU_ASSERT_EQUAL(F.tx_dropped, 1);
	CU_ASSERT_EQUAL(F.tx_ok, 1);
	CU_ASSERT(F.is_up);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.fdom), 2 * 2 + nr_posted);	/* rings, RX pages */
}

static void test_grants_and_posting(void)
{
	struct kpv_mapping m;
	uint8_t frame[100];
	uint8_t slot[KEEL_IO_NET_SLOT_SIZE];
	struct keel_io_net_tx_request req;

	connect(0, NULL);
	CU_ASSERT_EQUAL(nr_posted, 24);		/* rx_buffers */
	harness_use(P.bdom);
	CU_ASSERT_EQUAL(kpv_map_grant(P.bk, harness_domid(P.fdom), posted[0].gref, false, &m), 0);
	kpv_unmap_grant(P.bk, &m);
	/* The TX slots dirty, as a backend's answers may leave them: MBZ must still be written zero. */
	memset(TXR.maps[1].va, 0xff, KPV_PAGE_SIZE);
	tn_frame(frame, sizeof(frame), tn_broadcast, F.link.mac, 1);
	CU_ASSERT_EQUAL(tnf_send(&F, frame, sizeof(frame), 1, NULL, 0), 0);
	harness_settle();
	harness_use(P.bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_ring_be_available(&TXR.ring), 1);
	kpv_ring_be_take(&TXR.ring, slot);
	memcpy(&req, slot, sizeof(req));
	CU_ASSERT_EQUAL(req.total_len, 100);
	CU_ASSERT_EQUAL(req.flags, 0);
	CU_ASSERT(req.csum_start == 0 && req.csum_offset == 0 && req.gso_size == 0 &&
		  req.gso_type == 0);
	CU_ASSERT(req.pad0 == 0 && req.pad1 == 0);
	CU_ASSERT_NOT_EQUAL(kpv_map_grant(P.bk, harness_domid(P.fdom), req.gref, false, &m), 0);
	CU_ASSERT_EQUAL(kpv_map_grant(P.bk, harness_domid(P.fdom), req.gref, true, &m), 0);
	CU_ASSERT(memcmp((uint8_t *)m.va + req.offset, frame, 100) == 0);
	kpv_unmap_grant(P.bk, &m);
}

static bool fe_error(void *ctx)
{
	(void)ctx;
	return t_page(P.id)->fe_state == KEEL_IO_STATE_ERROR;
}

static void test_bad_config_refused(void)
{
	struct keel_io_net_config c = { .mtu = 30 };

	raw_be_offer_as(&R, 1, 2, 0, KEEL_IO_NET_F_MTU, &c, sizeof(c));
	CU_ASSERT_TRUE(harness_run(fe_error, NULL, T_SECOND));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_error, KEEL_IO_ERR_CONFIG);
	/* A new offer (generation 2): a multicast MAC is refused as well. */
	c = (struct keel_io_net_config){ .mac = { 0x01, 0, 0x5e, 0, 0, 1 } };
	raw_be_offer_as(&R, 2, 2, 0, KEEL_IO_NET_F_MAC, &c, sizeof(c));
	harness_settle();
	raw_be_state(&R, KEEL_IO_STATE_READY, 0);
	CU_ASSERT_TRUE(harness_run(fe_error, NULL, T_SECOND));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_error, KEEL_IO_ERR_CONFIG);
	CU_ASSERT_EQUAL(F.ups, 0);
}

static void test_gso_without_csum_not_accepted(void)
{
	static const struct keel_io_net_config zero;

	raw_be_offer_as(&R, 1, 2, 0, KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV4_RX |
					     KEEL_IO_NET_F_CSUM_RX | KEEL_IO_NET_F_MULTI_QUEUE,
			&zero, sizeof(zero));
	harness_settle();
	CU_ASSERT_TRUE_FATAL(fe_committed(NULL));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_features, 0);	/* and the OS asked for no offloads */
	teardown();
	setup();
	tnf_close(&F);
	F.released = 0;
	F.cfg.features = ~0ull;
	F.cfg.queues = 4;
	CU_ASSERT_EQUAL_FATAL(tnf_open(&F), 0);
	raw_be_offer_as(&R, 1, 6, 0, KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV4_RX |
					     KEEL_IO_NET_F_CSUM_RX | KEEL_IO_NET_F_MULTI_QUEUE,
			&zero, sizeof(zero));
	harness_settle();
	CU_ASSERT_TRUE_FATAL(fe_committed(NULL));
	CU_ASSERT_EQUAL(t_page(P.id)->fe_features, KEEL_IO_NET_F_GSO_TCPV4_RX |
							   KEEL_IO_NET_F_CSUM_RX |
							   KEEL_IO_NET_F_MULTI_QUEUE);
	CU_ASSERT_EQUAL(t_page(P.id)->fe_nr_rings, 6);	/* three queues: all the offer allows */
}

static void test_live_change_not_allowed(void)
{
	struct keel_io_net_config c = { .mtu = 1500, .link_flags = KEEL_IO_NET_LINK_UP };

	connect(KEEL_IO_NET_F_MTU | KEEL_IO_NET_F_LINK_STATE, &c);
	CU_ASSERT_EQUAL(F.link.mtu, 1500);
	/* link_flags may change... */
	R.pg->be_config[offsetof(struct keel_io_net_config, link_flags)] = 0;
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE(harness_run(tn_nonzero, &F.links, T_SECOND));
	CU_ASSERT_FALSE(F.link_up);
	/* ... the MTU may not. */
	R.pg->be_config[offsetof(struct keel_io_net_config, mtu)] = 0x20;
	raw_be_state(&R, KEEL_IO_STATE_CONNECTED, 0);
	assert_fe_stopped(KEEL_IO_ERR_CONFIG);
}

static CU_TestInfo tests[] = {
	{ "RX: an id never posted: PROTOCOL", test_rx_unknown_id },
	{ "RX: a buffer answered twice: PROTOCOL", test_rx_answered_twice },
	{ "RX: a chain of 19 fragments: PROTOCOL", test_rx_nineteen_fragments },
	{ "RX: lengths short of total_len: PROTOCOL", test_rx_lengths_short },
	{ "RX: lengths beyond total_len: PROTOCOL", test_rx_lengths_long },
	{ "RX: offset + len beyond the page: PROTOCOL", test_rx_beyond_page },
	{ "RX: total_len 0: PROTOCOL", test_rx_total_zero },
	{ "RX: flags or offloads not negotiated: PROTOCOL", test_rx_flags_not_negotiated },
	{ "RX: total_len in a later fragment: PROTOCOL", test_rx_later_fragment_fields },
	{ "RX: a returned buffer inside a chain: PROTOCOL", test_rx_dropped_inside_chain },
	{ "RX: an unknown status returns the buffer", test_rx_unknown_status_returns_buffer },
	{ "TX: an id not in flight: PROTOCOL, packets dropped", test_tx_id_not_in_flight },
	{ "TX: an id answered twice: PROTOCOL", test_tx_answered_twice },
	{ "TX: an unknown status counts as dropped", test_tx_statuses },
	{ "TX read-only, RX writable, rx_buffers posted", test_grants_and_posting },
	{ "a bad MTU or MAC in the offer: CONFIG", test_bad_config_refused },
	{ "GSO offered without its checksum feature: not accepted", test_gso_without_csum_not_accepted },
	{ "only link_flags may change while connected", test_live_change_not_allowed },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo net_bad_backend_suite = { "net_bad_backend", NULL, NULL, setup, teardown, tests };
