/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_net_bad_frontend.c - pvdrivers' netback
 * against a raw frontend (peer.h) that writes its own requests: every TX
 * request net.md calls a protocol error ends in ERROR with the right code,
 * nothing of the frontend's kept; packets it cannot deliver are answered
 * S_DROPPED without disconnecting; TX pages are only read (granted
 * read-only, left untouched); RX pages are written only inside the bytes
 * answered, with whole packets or nothing.
 */
#include <stdlib.h>
#include "net_common.h"
#include "suites.h"

#define F_ALL	(KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX | KEEL_IO_NET_F_GSO_TCPV4_TX | \
		 KEEL_IO_NET_F_GSO_TCPV4_RX | KEEL_IO_NET_F_MTU)
#define MORE	KEEL_IO_NET_PF_MORE
#define CSUM	KEEL_IO_NET_PF_CSUM_PARTIAL
#define GSO	KEEL_IO_NET_PF_GSO
#define NBUF	40

static struct t_pair P;
static struct raw_fe R;
static struct tnb B;
static struct kpv_ring TX, RX;		/* the raw frontend's view of rings 0 and 1 */
static uint8_t *data;			/* a page of the frontend's, granted read-only */
static uint32_t data_gref;
static uint8_t *bufs[NBUF];		/* RX pages, granted writable */
static uint32_t buf_grefs[NBUF];
static uint16_t next_id;

static void setup(void)
{
	harness_begin();
	tn_pair_init(&P);
	tn_pair_be(&P, &B);
	B.cfg.features = F_ALL;
	B.cfg.mtu = 1500;
	raw_fe_attach(&R, &P);
	memset(bufs, 0, sizeof(bufs));
	data = NULL;
	next_id = 0;
}

static void ungrant(uint32_t gref)
{
	if (!kpv_grant_end(P.fk, gref)) {
		kpv_grant_revoke(P.fk, gref);
	}
}

static void teardown(void)
{
	tnb_close(&B);
	harness_use(P.fdom);
	if (data) {
		ungrant(data_gref);
		kpv_shim_page_free(data);
	}
	for (int i = 0; i < NBUF; i++) {
		if (bufs[i]) {
			ungrant(buf_grefs[i]);
			kpv_shim_page_free(bufs[i]);
		}
	}
	raw_fe_release(&R);
	tn_pair_finish(&P);
	harness_end();
}

static bool be_connected(void *ctx)
{
	(void)ctx;
	return B.connects > B.disconnects;
}

/* The backend open, and the raw frontend committed with @features: two fresh rings. */
static void connect(uint64_t features)
{
	uint32_t be = harness_domid(P.bdom);

	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	harness_settle();
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_ring(&R, 1, 0, false);
	raw_fe_view(&R, 0, KEEL_IO_NET_SLOT_SIZE, &TX);
	raw_fe_view(&R, 1, KEEL_IO_NET_SLOT_SIZE, &RX);
	harness_use(P.fdom);
	data = kpv_shim_page_alloc();
	for (uint32_t i = 0; i < KPV_PAGE_SIZE; i++) {
		data[i] = (uint8_t)(i * 13 + 5);
	}
	CU_ASSERT_EQUAL_FATAL(kpv_grant(P.fk, be, data, true, &data_gref), 0);
	raw_fe_commit(&R, 1, 2, features);
	CU_ASSERT_TRUE_FATAL(harness_run(be_connected, NULL, T_SECOND));
}

/* Publish @n requests (a zero gref means the data page; ids are numbered here). */
static void put_tx(struct keel_io_net_tx_request *reqs, uint32_t n)
{
	harness_use(P.fdom);
	for (uint32_t i = 0; i < n; i++) {
		struct keel_io_net_tx_request *slot = kpv_ring_fe_next(&TX);

		CU_ASSERT_PTR_NOT_NULL_FATAL(slot);
		reqs[i].gref = reqs[i].gref ? reqs[i].gref : data_gref;
		reqs[i].id = next_id++;
		*slot = reqs[i];
	}
	if (kpv_ring_fe_push(&TX)) {
		kpv_evtchn_notify(P.fk, R.ports[0]);
	}
	harness_settle();
}

/* The next TX response, or false. */
static bool take_tx(struct keel_io_net_tx_response *out)
{
	uint8_t slot[KEEL_IO_NET_SLOT_SIZE];

	if (kpv_ring_fe_available(&TX) <= 0 || !kpv_ring_fe_take(&TX, slot)) {
		return false;
	}
	memcpy(out, slot, sizeof(*out));
	CU_ASSERT_EQUAL(out->pad0, 0);	/* ring.md: a sender writes zero in MBZ fields */
	return true;
}

/* Every request of @reqs answered, in order, with @status; still connected. */
static void assert_answered(const struct keel_io_net_tx_request *reqs, uint32_t n, uint16_t status)
{
	struct keel_io_net_tx_response rsp;

	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_TRUE_FATAL(take_tx(&rsp));
		CU_ASSERT_EQUAL(rsp.id, reqs[i].id);
		CU_ASSERT_EQUAL(rsp.status, status);
	}
	CU_ASSERT_FALSE(take_tx(&rsp));
	CU_ASSERT_EQUAL(kpv_dev_state(kpv_netback_dev(B.nb)), KEEL_IO_STATE_CONNECTED);
}

/* The backend stopped with @err, holds nothing of the frontend's, and stays quiet. */
static void assert_be_stopped(uint32_t err)
{
	harness_settle();
	CU_ASSERT_EQUAL(kpv_dev_state(kpv_netback_dev(B.nb)), KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.id)->be_error, err);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(P.bdom), 1);
	CU_ASSERT_EQUAL(B.disconnects, 1);
	CU_ASSERT_EQUAL(B.nr_got, 0);
	CU_ASSERT(t_quiet_steps() < 5);
}

/* --- TX requests that are protocol errors ------------------------------------------ */

static void bad_tx(uint64_t features, struct keel_io_net_tx_request *reqs, uint32_t n,
		   uint32_t err)
{
	connect(features);
	put_tx(reqs, n);
	assert_be_stopped(err);
}

#define BAD_TX(fn, features, err, ...)							\
	static void fn(void)								\
	{										\
		struct keel_io_net_tx_request r[] = { __VA_ARGS__ };			\
		bad_tx(features, r, sizeof(r) / sizeof(r[0]), err);			\
	}

#define PROTO	KEEL_IO_ERR_PROTOCOL
BAD_TX(test_len_zero, F_ALL, PROTO, { .len = 0, .total_len = 10 })
BAD_TX(test_beyond_page, F_ALL, PROTO, { .offset = 4000, .len = 200, .total_len = 200 })
BAD_TX(test_total_short, F_ALL, PROTO, { .len = 100, .total_len = 50 })
BAD_TX(test_total_long, F_ALL, PROTO, { .len = 100, .total_len = 150 })
BAD_TX(test_total_max, F_ALL, PROTO, { .len = 100, .flags = MORE, .total_len = 70000 },
       { .len = 100 })
BAD_TX(test_csum_not_negotiated, KEEL_IO_NET_F_MTU, PROTO,
       { .len = 100, .flags = CSUM, .total_len = 100, .csum_start = 14, .csum_offset = 16 })
BAD_TX(test_unknown_flag, F_ALL, PROTO, { .len = 100, .flags = 0x40, .total_len = 100 })
BAD_TX(test_data_valid, F_ALL, PROTO,
       { .len = 100, .flags = KEEL_IO_NET_PF_DATA_VALID, .total_len = 100 })
BAD_TX(test_gso_without_csum, F_ALL, PROTO,
       { .len = 100, .flags = GSO, .total_len = 100, .gso_size = 10, .gso_type = 1 })
BAD_TX(test_gso_unknown_type, F_ALL, PROTO,
       { .len = 100, .flags = GSO | CSUM, .total_len = 100, .csum_start = 14, .gso_size = 10,
	 .gso_type = 7 })
BAD_TX(test_gso_not_negotiated, F_ALL, PROTO,
       { .len = 100, .flags = GSO | CSUM, .total_len = 100, .csum_start = 14, .gso_size = 10,
	 .gso_type = KEEL_IO_NET_GSO_TCPV6 })
BAD_TX(test_gso_size_zero, F_ALL, PROTO,
       { .len = 100, .flags = GSO | CSUM, .total_len = 100, .csum_start = 14, .gso_type = 1 })
BAD_TX(test_csum_beyond, F_ALL, PROTO,
       { .len = 100, .flags = CSUM, .total_len = 100, .csum_start = 90, .csum_offset = 9 })
BAD_TX(test_later_total, F_ALL, PROTO, { .len = 50, .flags = MORE, .total_len = 100 },
       { .len = 50, .total_len = 100 })
BAD_TX(test_later_csum, F_ALL, PROTO, { .len = 50, .flags = MORE, .total_len = 100 },
       { .len = 50, .csum_start = 3 })
BAD_TX(test_later_flag, F_ALL, PROTO,
       { .len = 50, .flags = MORE | CSUM, .total_len = 100, .csum_start = 14 },
       { .len = 50, .flags = CSUM })
BAD_TX(test_grant_unusable, F_ALL, KEEL_IO_ERR_GRANT, { .gref = 999, .len = 100, .total_len = 100 })

static void test_nineteen_fragments(void)
{
	struct keel_io_net_tx_request r[19] = { 0 };

	for (int i = 0; i < 19; i++) {
		r[i] = (struct keel_io_net_tx_request){ .offset = (uint16_t)(i * 10), .len = 10,
							.flags = i < 18 ? MORE : 0 };
	}
	r[0].total_len = 190;
	bad_tx(F_ALL, r, 19, PROTO);
}

/* --- TX packets dropped, and TX pages ------------------------------------------------- */

static void test_too_large_dropped(void)
{
	struct keel_io_net_tx_request r[] = { { .len = 800, .flags = MORE, .total_len = 1600 },
					      { .offset = 800, .len = 800 } };
	struct kpv_netback_stats st;

	connect(F_ALL);
	put_tx(r, 2);
	assert_answered(r, 2, KEEL_IO_NET_S_DROPPED);
	/* 1518 = MTU + 18 is fine. */
	r[0].total_len = 1518;
	r[1].len = 718;
	put_tx(r, 2);
	assert_answered(r, 2, KEEL_IO_NET_S_OK);
	harness_use(P.bdom);
	kpv_netback_stats(B.nb, &st);
	CU_ASSERT_EQUAL(st.tx_dropped, 1);
	CU_ASSERT_EQUAL(st.tx_packets, 1);
	CU_ASSERT_EQUAL(B.nr_got, 1);
}

static void test_outside_refuses_or_link_down(void)
{
	struct keel_io_net_tx_request r[] = { { .len = 100, .total_len = 100 } };
	uint8_t frame[60] = { 0 };

	connect(F_ALL);
	B.verdict = KPV_NET_DROPPED;
	put_tx(r, 1);
	assert_answered(r, 1, KEEL_IO_NET_S_DROPPED);
	B.verdict = KPV_NET_OK;
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, false);
	put_tx(r, 1);
	assert_answered(r, 1, KEEL_IO_NET_S_DROPPED);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), -KEEL_EBUSY);
	harness_use(P.bdom);
	kpv_netback_set_link(B.nb, true);
	put_tx(r, 1);
	assert_answered(r, 1, KEEL_IO_NET_S_OK);
	CU_ASSERT_EQUAL(B.nr_got, 1);
}

static void test_tx_pages_read_only(void)
{
	struct keel_io_net_tx_request r[] = { { .offset = 100, .len = 1, .flags = MORE, .total_len = 1301 },
					      { .offset = 3000, .len = 1096, .flags = MORE },
					      { .offset = 0, .len = 204 } };
	uint8_t before[KPV_PAGE_SIZE];

	connect(F_ALL);
	memcpy(before, data, sizeof(before));
	put_tx(r, 3);
	assert_answered(r, 3, KEEL_IO_NET_S_OK);
	CU_ASSERT(memcmp(before, data, sizeof(before)) == 0);
	CU_ASSERT_EQUAL_FATAL(B.nr_got, 1);
	CU_ASSERT_EQUAL_FATAL(B.got[0].len, 1301);
	CU_ASSERT_EQUAL(B.got[0].data[0], data[100]);
	CU_ASSERT(memcmp(B.got[0].data + 1, data + 3000, 1096) == 0);
	CU_ASSERT(memcmp(B.got[0].data + 1097, data, 204) == 0);
}

static void test_half_packet_waits(void)
{
	struct keel_io_net_tx_request r[] = { { .len = 60, .flags = MORE, .total_len = 120 },
					      { .offset = 60, .len = 60 } };
	struct keel_io_net_tx_response rsp;

	connect(F_ALL);
	put_tx(&r[0], 1);
	CU_ASSERT_FALSE(take_tx(&rsp));
	CU_ASSERT_EQUAL(B.nr_got, 0);
	put_tx(&r[1], 1);
	assert_answered(r, 2, KEEL_IO_NET_S_OK);
	CU_ASSERT_EQUAL_FATAL(B.nr_got, 1);
	CU_ASSERT(memcmp(B.got[0].data, data, 120) == 0);
}

static void test_offloads_to_outside(void)
{
	struct keel_io_net_tx_request r[] = {
		{ .len = 4000, .flags = MORE | CSUM | GSO, .total_len = 6000, .csum_start = 34,
		  .csum_offset = 16, .gso_size = 1448, .gso_type = KEEL_IO_NET_GSO_TCPV4 },
		{ .len = 2000 },
	};

	connect(F_ALL);
	put_tx(r, 2);
	assert_answered(r, 2, KEEL_IO_NET_S_OK);
	CU_ASSERT_EQUAL_FATAL(B.nr_got, 1);
	CU_ASSERT_EQUAL(B.got[0].meta.flags, CSUM | GSO);
	CU_ASSERT_EQUAL(B.got[0].meta.csum_start, 34);
	CU_ASSERT_EQUAL(B.got[0].meta.gso_size, 1448);
	CU_ASSERT_EQUAL(B.got[0].meta.gso_type, KEEL_IO_NET_GSO_TCPV4);
}

/* --- RX -------------------------------------------------------------------------------- */

/* Post buffers @from .. @to - 1 (pages full of 0xa5, granted writable; a zero gref: @bad). */
static void post(uint32_t from, uint32_t to, uint32_t bad)
{
	uint32_t be = harness_domid(P.bdom);

	harness_use(P.fdom);
	for (uint32_t i = from; i < to; i++) {
		struct keel_io_net_rx_request *req = kpv_ring_fe_next(&RX);

		if (!bufs[i]) {
			bufs[i] = kpv_shim_page_alloc();
			CU_ASSERT_EQUAL_FATAL(kpv_grant(P.fk, be, bufs[i], false, &buf_grefs[i]), 0);
		}
		memset(bufs[i], 0xa5, KPV_PAGE_SIZE);
		CU_ASSERT_PTR_NOT_NULL_FATAL(req);
		*req = (struct keel_io_net_rx_request){ .id = (uint16_t)i,
							.gref = bad ? bad : buf_grefs[i] };
	}
	if (kpv_ring_fe_push(&RX)) {
		kpv_evtchn_notify(P.fk, R.ports[1]);
	}
	harness_settle();
}

static bool take_rx(struct keel_io_net_rx_response *out)
{
	uint8_t slot[KEEL_IO_NET_SLOT_SIZE];

	if (kpv_ring_fe_available(&RX) <= 0 || !kpv_ring_fe_take(&RX, slot)) {
		return false;
	}
	memcpy(out, slot, sizeof(*out));
	CU_ASSERT(out->pad0[0] == 0 && out->pad0[1] == 0 && out->pad0[2] == 0);
	return true;
}

/*
 * The next packet from the RX ring: whole, a chain of pages from offset 0,
 * each page untouched beyond its fragment. Its bytes into @out; its flags.
 */
static uint16_t read_packet(uint8_t *out, uint32_t len, struct keel_io_net_rx_response *first)
{
	struct keel_io_net_rx_response rsp;
	uint32_t at = 0, n = 0;

	do {
		CU_ASSERT_TRUE_FATAL(take_rx(&rsp));
		if (n++ == 0) {
			*first = rsp;
			CU_ASSERT_EQUAL(rsp.total_len, len);
		} else {
			CU_ASSERT_EQUAL(rsp.total_len, 0);
		}
		CU_ASSERT_EQUAL(rsp.status, KEEL_IO_NET_S_OK);
		CU_ASSERT_EQUAL(rsp.offset, 0);
		CU_ASSERT_FATAL(rsp.id < NBUF && at + rsp.len <= len);
		memcpy(out + at, bufs[rsp.id], rsp.len);
		for (uint32_t i = rsp.len; i < KPV_PAGE_SIZE; i++) {
			if (bufs[rsp.id][i] != 0xa5) {
				CU_FAIL("written outside [offset, offset + len)");
				break;
			}
		}
		at += rsp.len;
	} while (rsp.flags & MORE);
	CU_ASSERT_EQUAL(at, len);
	CU_ASSERT_EQUAL(n, NET_PAGES_T(len));
	return first->flags & ~MORE;
}

static void check_rx(uint32_t len)
{
	struct keel_io_net_rx_response first;
	uint8_t *frame = malloc(len), *got = malloc(len);

	tn_frame(frame, len, tn_broadcast, tn_broadcast, len);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, len, NULL), 0);
	harness_settle();
	CU_ASSERT_EQUAL(read_packet(got, len, &first), 0);
	CU_ASSERT(memcmp(frame, got, len) == 0);
	free(frame);
	free(got);
}

static void test_rx_written_inside_only(void)
{
	static const uint32_t sizes[] = { 14, 60, 1514, 4095, 4096, 4097, 8192, 9018 };

	B.cfg.mtu = 9000;
	connect(F_ALL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		post(0, NET_PAGES_T(sizes[i]), 0);	/* exactly enough, refilled with 0xa5 */
		check_rx(sizes[i]);
	}
}

static void test_rx_waits_for_buffers(void)
{
	struct keel_io_net_rx_response first, rsp;
	uint8_t frame[5000], got[5000];

	B.cfg.mtu = 9000;
	connect(F_ALL);
	post(0, 1, 0);
	tn_frame(frame, sizeof(frame), tn_broadcast, tn_broadcast, 3);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), 0);
	harness_settle();
	CU_ASSERT_FALSE(take_rx(&rsp));		/* one page is not enough: nothing, not a part */
	post(1, 2, 0);
	read_packet(got, sizeof(got), &first);
	CU_ASSERT(memcmp(frame, got, sizeof(got)) == 0);
}

static void test_rx_offloads_not_accepted(void)
{
	struct kpv_net_meta csum = { .flags = CSUM, .csum_start = 34, .csum_offset = 6 };
	struct kpv_net_meta gso = { .flags = CSUM | GSO, .csum_start = 34, .csum_offset = 16,
				    .gso_size = 1000, .gso_type = KEEL_IO_NET_GSO_TCPV4 };
	struct keel_io_net_rx_response first, rsp;
	struct kpv_netback_stats st;
	uint8_t frame[3000], got[3000];
	uint32_t sum = 0;

	connect(KEEL_IO_NET_F_MTU);	/* no CSUM_RX, no GSO */
	post(0, NBUF, 0);
	tn_frame(frame, 200, tn_broadcast, tn_broadcast, 1);
	frame[40] = 0;
	frame[41] = 0;
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, 200, &csum), 0);
	tn_frame(frame, 3000, tn_broadcast, tn_broadcast, 2);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, 3000, &gso), 0);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, 1514, NULL), 0);
	/* A packet whose offloads a frontend could not parse is not taken at all. */
	gso.gso_size = 0;
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, 3000, &gso), -KEEL_EINVAL);
	harness_settle();
	/* The checksum completed: summing from csum_start gives 0xffff. */
	CU_ASSERT_EQUAL(read_packet(got, 200, &first), 0);
	for (uint32_t i = 34; i < 200; i++) {
		sum += (i - 34) % 2 ? got[i] : (uint32_t)got[i] << 8;
	}
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	CU_ASSERT_EQUAL(sum, 0xffff);
	/* The GSO packet dropped, the next one whole. */
	CU_ASSERT_EQUAL(read_packet(got, 1514, &first), 0);
	CU_ASSERT(memcmp(frame, got, 1514) == 0);
	CU_ASSERT_FALSE(take_rx(&rsp));
	harness_use(P.bdom);
	kpv_netback_stats(B.nb, &st);
	CU_ASSERT_EQUAL(st.rx_dropped, 1);
	CU_ASSERT_EQUAL(st.rx_packets, 2);
}

static void test_rx_above_mtu_dropped(void)
{
	struct keel_io_net_rx_response rsp;
	uint8_t frame[1519];

	connect(F_ALL);
	post(0, 4, 0);
	tn_frame(frame, sizeof(frame), tn_broadcast, tn_broadcast, 1);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), 0);
	harness_settle();
	CU_ASSERT_FALSE(take_rx(&rsp));
	CU_ASSERT_EQUAL(kpv_dev_state(kpv_netback_dev(B.nb)), KEEL_IO_STATE_CONNECTED);
}

static void test_rx_grant_unusable(void)
{
	uint8_t frame[100];

	connect(F_ALL);
	post(0, 1, 999);
	tn_frame(frame, sizeof(frame), tn_broadcast, tn_broadcast, 1);
	CU_ASSERT_EQUAL(tnb_receive(&B, frame, sizeof(frame), NULL), 0);
	assert_be_stopped(KEEL_IO_ERR_GRANT);
}

/* net.md: a BE never offers a GSO feature without its checksum feature, whatever its OS asks. */
static void test_offer_gso_needs_csum(void)
{
	uint64_t f;

	B.cfg.features = KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV6_TX |
			 KEEL_IO_NET_F_GSO_TCPV4_RX | KEEL_IO_NET_F_CSUM_RX;
	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_READY);
	f = t_page(P.id)->be_features;
	CU_ASSERT_EQUAL(f & (KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV6_TX), 0);
	CU_ASSERT_NOT_EQUAL(f & KEEL_IO_NET_F_GSO_TCPV4_RX, 0);	/* its checksum is there */
	CU_ASSERT_NOT_EQUAL(f & KEEL_IO_NET_F_CSUM_RX, 0);
}

/* net.md: a FE that accepts GSO without its checksum feature broke the handshake: FEATURES. */
static void test_commit_gso_without_csum(void)
{
	raw_fe_ring(&R, 0, 0, false);
	raw_fe_ring(&R, 1, 0, false);
	CU_ASSERT_EQUAL_FATAL(tnb_open(&B), 0);
	harness_settle();
	raw_fe_commit(&R, 1, 2, KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_CSUM_RX);
	harness_settle();
	CU_ASSERT_EQUAL(t_page(P.id)->be_state, KEEL_IO_STATE_ERROR);
	CU_ASSERT_EQUAL(t_page(P.id)->be_error, KEEL_IO_ERR_FEATURES);
	CU_ASSERT_EQUAL(harness_foreign_maps(P.bdom), 0);
	CU_ASSERT_EQUAL(B.connects, 0);
	CU_ASSERT(t_quiet_steps() < 5);
}

static CU_TestInfo tests[] = {
	{ "TX: a fragment of length 0: PROTOCOL", test_len_zero },
	{ "TX: offset + len beyond the page: PROTOCOL", test_beyond_page },
	{ "TX: 19 fragments: PROTOCOL", test_nineteen_fragments },
	{ "TX: total_len below the fragments' sum: PROTOCOL", test_total_short },
	{ "TX: total_len above the fragments' sum: PROTOCOL", test_total_long },
	{ "TX: total_len above MAX_PACKET: PROTOCOL", test_total_max },
	{ "TX: CSUM_PARTIAL not negotiated: PROTOCOL", test_csum_not_negotiated },
	{ "TX: an unknown flag: PROTOCOL", test_unknown_flag },
	{ "TX: DATA_VALID: PROTOCOL", test_data_valid },
	{ "TX: GSO without CSUM_PARTIAL: PROTOCOL", test_gso_without_csum },
	{ "TX: an unknown gso_type: PROTOCOL", test_gso_unknown_type },
	{ "TX: a GSO type not negotiated: PROTOCOL", test_gso_not_negotiated },
	{ "TX: gso_size 0: PROTOCOL", test_gso_size_zero },
	{ "TX: the checksum field beyond total_len: PROTOCOL", test_csum_beyond },
	{ "TX: total_len in a later fragment: PROTOCOL", test_later_total },
	{ "TX: an offload field in a later fragment: PROTOCOL", test_later_csum },
	{ "TX: an offload flag in a later fragment: PROTOCOL", test_later_flag },
	{ "TX: a grant that cannot be copied: GRANT", test_grant_unusable },
	{ "TX: above MTU + 18: S_DROPPED, still connected", test_too_large_dropped },
	{ "TX: refused outside, or link down: S_DROPPED", test_outside_refuses_or_link_down },
	{ "TX: read-only pages, read and never written", test_tx_pages_read_only },
	{ "TX: half a packet waits for the rest", test_half_packet_waits },
	{ "TX: offloads reach the outside", test_offloads_to_outside },
	{ "RX: only [offset, offset + len) written, whole packets", test_rx_written_inside_only },
	{ "RX: a packet waits for enough buffers, never truncated", test_rx_waits_for_buffers },
	{ "RX: offloads not accepted: completed or dropped", test_rx_offloads_not_accepted },
	{ "RX: above MTU + 18: dropped", test_rx_above_mtu_dropped },
	{ "the offer has GSO only with its checksum feature", test_offer_gso_needs_csum },
	{ "a commit of GSO without its checksum: FEATURES", test_commit_gso_without_csum },
	{ "RX: a buffer grant that cannot be copied: GRANT", test_rx_grant_unusable },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo net_bad_frontend_suite = { "net_bad_frontend", NULL, NULL, setup, teardown, tests };
