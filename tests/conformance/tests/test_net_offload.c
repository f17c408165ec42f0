/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_net_offload.c - checksum offload across the
 * switch, as the serving backends use it (role=serve, keel-backendd): every
 * backend offers F_CSUM_TX/RX, some frontends accept it and some do not. A
 * CSUM_PARTIAL packet reaches a frontend that accepted F_CSUM_RX as it was
 * sent, and one that did not with its checksum completed by its backend
 * (counted in rx_csum_completed), also where the checksum field straddles
 * two pages or ends the packet. What comes from outside the class with
 * offload metadata net.md forbids (an unknown flag, a checksum field
 * beyond the packet, bad GSO) is refused and counted (rx_malformed) by
 * kpv_netback_receive(), and through the switch dropped at every port,
 * never delivered, never a disconnection.
 */
#include <stdlib.h>
#include "net_common.h"
#include "suites.h"

#define CSUM		KEEL_IO_NET_PF_CSUM_PARTIAL
#define F_CSUM		(KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX)
#define BIG_MTU		9000

static struct tnet T;

static void setup(void)
{
	harness_begin();
}

static void teardown(void)
{
	harness_end();
}

static bool all_done(void *ctx)
{
	struct tnf *f = ctx;

	return f->tx_ok + f->tx_dropped == f->sent;
}

/*
 * The receiver's check: the pseudo-header sum (which the sender had left in
 * the field, now replaced by the checksum) plus the bytes from @start fold
 * to 0xffff.
 */
static bool csum_verifies(const uint8_t *d, uint32_t len, uint32_t start, uint16_t pseudo)
{
	uint32_t sum = pseudo;

	for (uint32_t i = start; i < len; i++) {
		sum += (i - start) % 2 ? d[i] : (uint32_t)d[i] << 8;
	}
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum == 0xffff;
}

static uint64_t completed(uint32_t be)
{
	struct kpv_netback_stats st;

	harness_use(T.swdom);
	kpv_netback_stats(T.be[be].nb, &st);
	return st.rx_csum_completed;
}

/* Three frontends on the switch, all backends offering checksum offload; fe 2 declines it. */
static void open_mixed(void)
{
	tnet_init(&T, 3);
	for (int i = 0; i < 3; i++) {
		T.be[i].cfg.features = F_CSUM;
		T.be[i].cfg.mtu = BIG_MTU;
	}
	T.fe[0].cfg.features = F_CSUM;
	T.fe[1].cfg.features = F_CSUM;
	tnet_open(&T);
	CU_ASSERT_EQUAL(T.fe[0].link.features & NET_F_OFFLOADS_T, F_CSUM);
	CU_ASSERT_EQUAL(T.fe[1].link.features & NET_F_OFFLOADS_T, F_CSUM);
	CU_ASSERT_EQUAL(T.fe[2].link.features & NET_F_OFFLOADS_T, 0);
}

static void test_mixed_peers(void)
{
	/*
	 * The checksum field: TCP-like, at the very end, straddling the page
	 * boundary, summing from a page's last byte; odd starts too (the field
	 * is a whole 16-bit word from the start, as in every real protocol).
	 */
	static const struct { uint32_t len, start, offset; } cases[] = {
		{ 1514, 34, 16 }, { 61, 35, 24 }, { 6000, 35, 4060 }, { 8999, 4095, 6 },
	};
	uint8_t *frame = malloc(BIG_MTU + 18);
	uint32_t n = sizeof(cases) / sizeof(cases[0]);

	CU_ASSERT_PTR_NOT_NULL_FATAL(frame);
	open_mixed();
	for (uint32_t k = 0; k < n; k++) {
		struct kpv_net_meta m = { .flags = CSUM, .csum_start = (uint16_t)cases[k].start,
					  .csum_offset = (uint16_t)cases[k].offset };
		uint32_t len = cases[k].len, field = cases[k].start + cases[k].offset;

		tn_frame(frame, len, tn_broadcast, T.fe[0].link.mac, 300 + k);
		frame[field] = 0xab;	/* a pseudo-header sum */
		frame[field + 1] = (uint8_t)k;
		CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, len, 3, &m, 0), 0);
		t_run(all_done, &T.fe[0], T_SECOND);
		harness_settle();
		CU_ASSERT_EQUAL(T.fe[0].tx_ok, k + 1);
		/* Accepted: passed on, every byte as sent. */
		CU_ASSERT_EQUAL_FATAL(T.fe[1].nr_rx, k + 1);
		CU_ASSERT_EQUAL(T.fe[1].rx[k].meta.flags, CSUM);
		CU_ASSERT_EQUAL(T.fe[1].rx[k].meta.csum_start, cases[k].start);
		CU_ASSERT_EQUAL(T.fe[1].rx[k].meta.csum_offset, cases[k].offset);
		CU_ASSERT(memcmp(T.fe[1].rx[k].data, frame, len) == 0);
		/* Declined: completed, no flags, only the two checksum bytes differ. */
		CU_ASSERT_EQUAL_FATAL(T.fe[2].nr_rx, k + 1);
		CU_ASSERT_EQUAL(T.fe[2].rx[k].meta.flags, 0);
		CU_ASSERT_EQUAL(T.fe[2].rx[k].len, len);
		CU_ASSERT(csum_verifies(T.fe[2].rx[k].data, len, cases[k].start, (uint16_t)(0xab00 | k)));
		CU_ASSERT(memcmp(T.fe[2].rx[k].data, frame, field) == 0);
		CU_ASSERT(memcmp(T.fe[2].rx[k].data + field + 2, frame + field + 2,
				 len - field - 2) == 0);
	}
	/* The flooded packet is stored once: completing it for fe 2 left fe 1's copy alone (above). */
	CU_ASSERT_EQUAL(completed(1), 0);
	CU_ASSERT_EQUAL(completed(2), n);
	/* The other way: fe 2 sends complete checksums, fe 0 gets no flags. */
	tnf_send_frame(&T.fe[2], tn_broadcast, 1000, 2, 9);
	t_run(all_done, &T.fe[2], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL_FATAL(T.fe[0].nr_rx, 1);
	CU_ASSERT_EQUAL(T.fe[0].rx[0].meta.flags, 0);
	CU_ASSERT(tnf_rx_is(&T.fe[0], 0, 1000, tn_broadcast, T.fe[2].link.mac, 9));
	free(frame);
	tnet_finish(&T);
}

/* Offload metadata no frontend may be given (net.md, "Validation"), for a packet of 200 bytes. */
static const struct kpv_net_meta malformed[] = {
	{ .flags = 0x0010 },						/* unknown flag */
	{ .flags = KEEL_IO_NET_PF_MORE },				/* not a packet's flag */
	{ .flags = CSUM, .csum_start = 198, .csum_offset = 1 },		/* field ends at 201 */
	{ .flags = CSUM, .csum_start = 200, .csum_offset = 0 },		/* field after the end */
	{ .flags = CSUM, .csum_start = 0xffff, .csum_offset = 0xffff },	/* far beyond, no wrap */
	{ .flags = KEEL_IO_NET_PF_GSO, .gso_size = 100, .gso_type = KEEL_IO_NET_GSO_TCPV4 },
	{ .flags = CSUM | KEEL_IO_NET_PF_GSO, .csum_start = 34, .csum_offset = 16, .gso_size = 100,
	  .gso_type = 7 },
	{ .flags = CSUM | KEEL_IO_NET_PF_GSO, .csum_start = 34, .csum_offset = 16,
	  .gso_type = KEEL_IO_NET_GSO_TCPV4 },				/* gso_size 0 */
};
#define NR_MALFORMED	(sizeof(malformed) / sizeof(malformed[0]))

static void test_malformed_from_outside(void)
{
	struct kpv_net_meta ok = { .flags = CSUM, .csum_start = 198, .csum_offset = 0 };
	struct kpv_netback_stats st;
	uint8_t frame[200];

	open_mixed();
	tn_frame(frame, sizeof(frame), tn_broadcast, tn_broadcast, 5);
	for (uint32_t i = 0; i < NR_MALFORMED; i++) {
		CU_ASSERT_EQUAL(tnb_receive(&T.be[1], frame, sizeof(frame), &malformed[i]),
				-KEEL_EINVAL);
		CU_ASSERT_EQUAL(tnb_receive(&T.be[2], frame, sizeof(frame), &malformed[i]),
				-KEEL_EINVAL);
	}
	/* The last two bytes as the checksum field is the limit, and allowed. */
	CU_ASSERT_EQUAL(tnb_receive(&T.be[1], frame, sizeof(frame), &ok), 0);
	CU_ASSERT_EQUAL(tnb_receive(&T.be[2], frame, sizeof(frame), &ok), 0);
	harness_settle();
	for (uint32_t b = 1; b < 3; b++) {
		harness_use(T.swdom);
		kpv_netback_stats(T.be[b].nb, &st);
		CU_ASSERT_EQUAL(st.rx_malformed, NR_MALFORMED);
		CU_ASSERT_EQUAL(st.rx_packets, 1);
		CU_ASSERT_EQUAL(st.rx_dropped, 0);
		CU_ASSERT_TRUE(T.fe[b].is_up);
		CU_ASSERT_EQUAL_FATAL(T.fe[b].nr_rx, 1);
	}
	CU_ASSERT_EQUAL(T.fe[1].rx[0].meta.flags, CSUM);
	CU_ASSERT_EQUAL(T.fe[2].rx[0].meta.flags, 0);
	CU_ASSERT(csum_verifies(T.fe[2].rx[0].data, sizeof(frame), 198,
				(uint16_t)(frame[198] << 8 | frame[199])));
	CU_ASSERT_EQUAL(completed(2), 1);
	tnet_finish(&T);
}

/* A port of the switch that is not a netback (a TAP in a daemon) hands in a malformed packet. */
static void test_malformed_through_switch(void)
{
	struct kpv_net_port_stats in, out;
	struct kpv_net_pkt *pkt;
	uint8_t frame[200];

	open_mixed();
	tn_frame(frame, sizeof(frame), tn_broadcast, T.fe[0].link.mac, 6);
	for (uint32_t i = 0; i < NR_MALFORMED; i++) {
		harness_use(T.swdom);
		pkt = kpv_net_pkt_alloc(sizeof(frame));
		CU_ASSERT_PTR_NOT_NULL_FATAL(pkt);
		kpv_net_pkt_write(pkt, 0, frame, sizeof(frame));
		pkt->meta = malformed[i];
		kpv_net_switch_input(T.sw, T.be[0].port, pkt);
		kpv_net_pkt_put(pkt);
	}
	harness_settle();
	harness_use(T.swdom);
	kpv_net_switch_stats(T.sw, T.be[0].port, &in);
	CU_ASSERT_EQUAL(in.in, NR_MALFORMED);
	CU_ASSERT_EQUAL(in.flooded, NR_MALFORMED);
	for (uint32_t b = 1; b < 3; b++) {
		kpv_net_switch_stats(T.sw, T.be[b].port, &out);
		CU_ASSERT_EQUAL(out.dropped, NR_MALFORMED);
		CU_ASSERT_EQUAL(out.out, 0);
		CU_ASSERT_EQUAL(T.fe[b].nr_rx, 0);
		CU_ASSERT_TRUE(T.fe[b].is_up);
	}
	/* The ports still carry good traffic. */
	tnf_send_frame(&T.fe[0], tn_broadcast, 300, 1, 7);
	t_run(all_done, &T.fe[0], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(T.fe[1].nr_rx, 1);
	CU_ASSERT_EQUAL(T.fe[2].nr_rx, 1);
	tnet_finish(&T);
}

static CU_TestInfo tests[] = {
	{ "CSUM_PARTIAL: passed on, or completed per peer", test_mixed_peers },
	{ "malformed offloads from outside: refused and counted", test_malformed_from_outside },
	{ "malformed offloads into the switch: dropped at every port", test_malformed_through_switch },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo net_offload_suite = { "net_offload", NULL, NULL, setup, teardown, tests };
