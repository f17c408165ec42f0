/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_net_io.c - the net class end to end: real
 * netfronts in their own domains, each served by a real netback in one
 * switch domain, the netbacks joined by the learning switch. Packets of
 * many sizes and fragment counts arrive byte for byte and in order;
 * broadcast floods, unicast follows what the switch learnt; offloads reach
 * a frontend that accepted them and are completed or dropped for one that
 * did not; the OS's RX buffers and the bounded queues apply back pressure;
 * two queues work; the MAC a frontend makes up.
 */
#include <stdlib.h>
#include "net_common.h"
#include "suites.h"

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

/* Sent everything, and the other end has @n packets. */
static struct tnf *rx_end;
static uint32_t rx_want;

static bool delivered(void *ctx)
{
	return all_done(ctx) && rx_end->nr_rx >= rx_want;
}

static void run_until_received(struct tnf *from, struct tnf *to, uint32_t n)
{
	rx_end = to;
	rx_want = n;
	CU_ASSERT_TRUE(harness_run(delivered, from, T_SECOND));
}

/* @from sends its packets to @to, in batches the rings and queues take; byte-for-byte checked. */
static void sizes_one_way(struct tnf *from, struct tnf *to)
{
	static const uint32_t sizes[] = { 14,   15,   60,   64,   100,  1000, 1514, 1518, 2000,
					  4095, 4096, 4097, 8191, 8192, 8193, 9000, 9018 };
	static const uint32_t frags[] = { 1, 2, 3, 5, 17, 18 };
	uint32_t want = 0, seed = 1;

	tnf_forget_rx(to);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t f = 0; f < sizeof(frags) / sizeof(frags[0]); f++) {
			uint32_t len = sizes[s], n = frags[f];

			if (n > len || len / n >= KPV_PAGE_SIZE) {
				continue;
			}
			tnf_send_frame(from, to->link.mac, len, n, seed);
			run_until_received(from, to, want + 1);
			CU_ASSERT_FATAL(to->nr_rx == want + 1);
			CU_ASSERT(tnf_rx_is(to, want, len, to->link.mac, from->link.mac, seed));
			CU_ASSERT_EQUAL(to->rx[want].nr_frags, NET_PAGES_T(len));
			CU_ASSERT_EQUAL(to->rx[want].meta.flags, 0);
			want++;
			seed++;
		}
	}
	CU_ASSERT_EQUAL(from->tx_dropped, 0);
	CU_ASSERT(want > 60);
}

static void test_sizes_and_fragments(void)
{
	tnet_init(&T, 2);
	T.be[0].cfg.mtu = T.be[1].cfg.mtu = 9000;
	tnet_open(&T);
	CU_ASSERT_EQUAL(T.fe[0].link.mtu, 9000);
	sizes_one_way(&T.fe[0], &T.fe[1]);
	sizes_one_way(&T.fe[1], &T.fe[0]);
	/* Many at once: in order, none lost. */
	tnf_forget_rx(&T.fe[1]);
	for (uint32_t i = 0; i < 60; i++) {
		tnf_send_frame(&T.fe[0], T.fe[1].link.mac, 60 + i * 23, 1 + i % 4, 1000 + i);
	}
	run_until_received(&T.fe[0], &T.fe[1], 60);
	CU_ASSERT_EQUAL_FATAL(T.fe[1].nr_rx, 60);
	for (uint32_t i = 0; i < 60; i++) {
		CU_ASSERT(tnf_rx_is(&T.fe[1], i, 60 + i * 23, T.fe[1].link.mac, T.fe[0].link.mac,
				    1000 + i));
	}
	tnet_finish(&T);
}

static void test_flood_and_learn(void)
{
	struct kpv_net_port_stats st;
	uint8_t nobody[6] = { 0x02, 0, 0, 0, 0, 0x99 };

	tnet_init(&T, 3);
	tnet_open(&T);
	/* Broadcast: everybody but the sender. */
	tnf_send_frame(&T.fe[0], tn_broadcast, 100, 1, 7);
	t_run(all_done, &T.fe[0], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(T.fe[0].nr_rx, 0);
	CU_ASSERT_EQUAL(T.fe[1].nr_rx, 1);
	CU_ASSERT_EQUAL(T.fe[2].nr_rx, 1);
	CU_ASSERT(tnf_rx_is(&T.fe[2], 0, 100, tn_broadcast, T.fe[0].link.mac, 7));
	harness_use(T.swdom);
	CU_ASSERT_EQUAL(kpv_net_switch_lookup(T.sw, T.fe[0].link.mac), (int)T.be[0].port);
	CU_ASSERT_EQUAL(kpv_net_switch_lookup(T.sw, T.fe[1].link.mac), -KEEL_ENOENT);
	/* Unicast to a learnt address: that port only. */
	tnf_send_frame(&T.fe[1], T.fe[0].link.mac, 200, 2, 8);
	t_run(all_done, &T.fe[1], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(T.fe[0].nr_rx, 1);
	CU_ASSERT_EQUAL(T.fe[2].nr_rx, 1);
	CU_ASSERT(tnf_rx_is(&T.fe[0], 0, 200, T.fe[0].link.mac, T.fe[1].link.mac, 8));
	/* An unknown destination floods; a known one on the sender's own port goes nowhere. */
	tnf_send_frame(&T.fe[2], nobody, 300, 3, 9);
	tnf_send_frame(&T.fe[2], T.fe[2].link.mac, 64, 1, 10);
	t_run(all_done, &T.fe[2], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(T.fe[0].nr_rx, 2);
	CU_ASSERT_EQUAL(T.fe[1].nr_rx, 2);
	CU_ASSERT_EQUAL(T.fe[2].nr_rx, 1);	/* only the broadcast */
	CU_ASSERT(tnf_rx_is(&T.fe[1], 1, 300, nobody, T.fe[2].link.mac, 9));
	harness_use(T.swdom);
	kpv_net_switch_stats(T.sw, T.be[2].port, &st);
	CU_ASSERT_EQUAL(st.in, 2);
	CU_ASSERT_EQUAL(st.flooded, 1);
	CU_ASSERT_EQUAL(st.out, 1);
	tnet_finish(&T);
}

/* The Internet checksum check a receiver does: pseudo-header sum plus the bytes from @start. */
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

static void test_checksum_offload(void)
{
	struct kpv_net_meta m = { .flags = KEEL_IO_NET_PF_CSUM_PARTIAL, .csum_start = 34,
				  .csum_offset = 16 };
	uint8_t frame[1000];

	tnet_init(&T, 3);
	for (int i = 0; i < 3; i++) {
		T.be[i].cfg.features = KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX;
	}
	T.fe[0].cfg.features = KEEL_IO_NET_F_CSUM_TX;
	T.fe[1].cfg.features = KEEL_IO_NET_F_CSUM_RX;
	tnet_open(&T);
	CU_ASSERT_EQUAL(T.fe[0].link.features & NET_F_OFFLOADS_T, KEEL_IO_NET_F_CSUM_TX);
	CU_ASSERT_EQUAL(T.fe[2].link.features & NET_F_OFFLOADS_T, 0);
	/* Odd lengths and a start at an odd offset too; the field holds the pseudo-header sum. */
	for (uint32_t k = 0; k < 3; k++) {
		uint32_t len = 999 - k * 300;

		m.csum_start = (uint16_t)(34 + k);
		tn_frame(frame, len, tn_broadcast, T.fe[0].link.mac, 50 + k);
		frame[m.csum_start + 16] = 0x12;
		frame[m.csum_start + 17] = (uint8_t)(0x34 + k);
		CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, len, 2, &m, 0), 0);
		t_run(all_done, &T.fe[0], T_SECOND);
		harness_settle();
		/* Accepted CSUM_RX: passed on, bytes as sent. */
		CU_ASSERT_EQUAL_FATAL(T.fe[1].nr_rx, k + 1);
		CU_ASSERT_EQUAL(T.fe[1].rx[k].meta.flags, KEEL_IO_NET_PF_CSUM_PARTIAL);
		CU_ASSERT_EQUAL(T.fe[1].rx[k].meta.csum_start, m.csum_start);
		CU_ASSERT_EQUAL(T.fe[1].rx[k].meta.csum_offset, 16);
		CU_ASSERT(memcmp(T.fe[1].rx[k].data, frame, len) == 0);
		/* Did not: completed by the backend, and correct. */
		CU_ASSERT_EQUAL_FATAL(T.fe[2].nr_rx, k + 1);
		CU_ASSERT_EQUAL(T.fe[2].rx[k].meta.flags, 0);
		CU_ASSERT(csum_verifies(T.fe[2].rx[k].data, len, m.csum_start,
					(uint16_t)(0x1234 + k)));
		CU_ASSERT(memcmp(T.fe[2].rx[k].data, frame, m.csum_start + 16u) == 0);
	}
	/* Not negotiated: refused by the frontend itself. */
	CU_ASSERT_EQUAL(tnf_send(&T.fe[1], frame, 100, 1, &m, 0), -KEEL_EINVAL);
	tnet_finish(&T);
}

static void test_segmentation_offload(void)
{
	const uint64_t all = KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX |
			     KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV4_RX;
	struct kpv_net_meta m = { .flags = KEEL_IO_NET_PF_CSUM_PARTIAL | KEEL_IO_NET_PF_GSO,
				  .csum_start = 34, .csum_offset = 16, .gso_size = 1448,
				  .gso_type = KEEL_IO_NET_GSO_TCPV4 };
	struct kpv_netback_stats st;
	uint32_t len = 40000;
	uint8_t *frame = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(frame);
	tnet_init(&T, 3);
	for (int i = 0; i < 3; i++) {
		T.be[i].cfg.features = all;
	}
	T.fe[0].cfg.features = all;
	T.fe[1].cfg.features = all;
	T.fe[2].cfg.features = KEEL_IO_NET_F_CSUM_RX;
	tnet_open(&T);
	tn_frame(frame, len, tn_broadcast, T.fe[0].link.mac, 77);
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, len, 10, &m, 0), 0);
	/* Without GSO the same packet is too large for the MTU. */
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, len, 10, NULL, 0), -KEEL_EINVAL);
	t_run(all_done, &T.fe[0], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(T.fe[0].tx_ok, 1);
	CU_ASSERT_EQUAL_FATAL(T.fe[1].nr_rx, 1);
	CU_ASSERT_EQUAL(T.fe[1].rx[0].meta.flags, m.flags);
	CU_ASSERT_EQUAL(T.fe[1].rx[0].meta.gso_size, 1448);
	CU_ASSERT_EQUAL(T.fe[1].rx[0].meta.gso_type, KEEL_IO_NET_GSO_TCPV4);
	CU_ASSERT_EQUAL(T.fe[1].rx[0].nr_frags, 10);
	CU_ASSERT(tnf_rx_is(&T.fe[1], 0, len, tn_broadcast, T.fe[0].link.mac, 77));
	/* The frontend that did not accept GSO gets nothing, never a truncated packet. */
	CU_ASSERT_EQUAL(T.fe[2].nr_rx, 0);
	harness_use(T.swdom);
	kpv_netback_stats(T.be[2].nb, &st);
	CU_ASSERT_EQUAL(st.rx_dropped, 1);
	CU_ASSERT_EQUAL(st.rx_packets, 0);
	free(frame);
	tnet_finish(&T);
}

static void test_send_refusals(void)
{
	struct kpv_net_meta m = { 0 };
	uint8_t frame[2000];
	struct kpv_net_tx t = { 0 };
	uint8_t *page;

	tnet_init(&T, 2);
	T.fe[0].cfg.tx_packets = 4;
	CU_ASSERT_EQUAL_FATAL(tnb_open(&T.be[0]), 0);
	CU_ASSERT_EQUAL_FATAL(tnf_open(&T.fe[0]), 0);
	tn_frame(frame, sizeof(frame), tn_broadcast, tn_broadcast, 1);
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 1, NULL, 0), -KEEL_EBUSY);	/* not up */
	CU_ASSERT_EQUAL_FATAL(tnb_open(&T.be[1]), 0);
	CU_ASSERT_EQUAL_FATAL(tnf_open(&T.fe[1]), 0);
	t_run(tnet_all_up, &T, T_SECOND);
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 1519, 1, NULL, 0), -KEEL_EINVAL);	/* > MTU + 18 */
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 1518, 1, NULL, 0), 0);
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 0, NULL, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 19, NULL, 0), -KEEL_EINVAL);
	m.flags = KEEL_IO_NET_PF_DATA_VALID;
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 1, &m, 0), -KEEL_EINVAL);
	m.flags = KEEL_IO_NET_PF_MORE;
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 1, &m, 0), -KEEL_EINVAL);
	/* A fragment that crosses its page, and an empty one. */
	harness_use(T.fe[0].dom);
	page = kpv_shim_page_alloc();
	t.nr_frags = 1;
	t.frags[0] = (struct kpv_net_frag){ .va = page + 4000, .len = 200 };
	CU_ASSERT_EQUAL(kpv_netfront_send(T.fe[0].nf, &t), -KEEL_EINVAL);
	t.frags[0] = (struct kpv_net_frag){ .va = page, .len = 0 };
	CU_ASSERT_EQUAL(kpv_netfront_send(T.fe[0].nf, &t), -KEEL_EINVAL);
	kpv_shim_page_free(page);
	/* tx_packets in flight: the fifth waits for a tx_done(). */
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 1, NULL, 0), 0);
	}
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 1, NULL, 0), -KEEL_EAGAIN);
	t_run(all_done, &T.fe[0], T_SECOND);
	CU_ASSERT_EQUAL(tnf_send(&T.fe[0], frame, 100, 1, NULL, 0), 0);
	t_run(all_done, &T.fe[0], T_SECOND);
	CU_ASSERT_EQUAL(T.fe[0].tx_ok, 5);
	tnet_finish(&T);
}

static bool got(void *ctx)
{
	return T.fe[1].nr_rx >= *(uint32_t *)ctx;
}

static void test_rx_buffers_and_bounded_queue(void)
{
	struct kpv_netback_stats st;
	uint32_t want;

	tnet_init(&T, 2);
	T.fe[1].cfg.rx_buffers = 8;
	T.fe[1].keep = true;
	T.be[1].cfg.rxq_packets = 4;
	tnet_open(&T);
	/* Eight, into the eight buffers, which the OS keeps: four at a time fit the queue. */
	for (uint32_t i = 0; i < 8; i++) {
		tnf_send_frame(&T.fe[0], T.fe[1].link.mac, 100 + i, 1, i);
		if (i % 4 == 3) {
			run_until_received(&T.fe[0], &T.fe[1], i + 1);
		}
	}
	/* Twelve more: four wait in the backend's queue, eight find it full. */
	for (uint32_t i = 8; i < 20; i++) {
		tnf_send_frame(&T.fe[0], T.fe[1].link.mac, 100 + i, 1, i);
	}
	t_run(all_done, &T.fe[0], T_SECOND);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(T.fe[0].tx_ok, 20);	/* the switch took them all */
	CU_ASSERT_EQUAL(T.fe[1].nr_rx, 8);
	harness_use(T.swdom);
	kpv_netback_stats(T.be[1].nb, &st);
	CU_ASSERT_EQUAL(st.rx_packets, 8);
	CU_ASSERT_EQUAL(st.rx_dropped, 8);
	harness_use(T.fe[1].dom);
	CU_ASSERT_EQUAL(kpv_netfront_close(T.fe[1].nf, false), -KEEL_EBUSY);
	/* Buffers back: the four waiting arrive, whole and in order. */
	T.fe[1].keep = false;
	tnf_return_all(&T.fe[1]);
	want = 12;
	CU_ASSERT_TRUE(harness_run(got, &want, T_SECOND));
	CU_ASSERT_EQUAL(T.fe[1].nr_rx, 12);
	for (uint32_t i = 0; i < 12; i++) {
		CU_ASSERT(tnf_rx_is(&T.fe[1], i, 100 + i, T.fe[1].link.mac, T.fe[0].link.mac, i));
	}
	tnet_finish(&T);
}

static void test_two_queues(void)
{
	struct kpv_dev *dev;

	tnet_init(&T, 2);
	for (int i = 0; i < 2; i++) {
		T.be[i].cfg.max_queues = 2;
		T.fe[i].cfg.queues = 2;
	}
	T.fe[1].cfg.queues = 1;		/* one side asks for one: it gets one */
	tnet_open(&T);
	CU_ASSERT_EQUAL(T.fe[0].link.queues, 2);
	CU_ASSERT(T.fe[0].link.features & KEEL_IO_NET_F_MULTI_QUEUE);
	CU_ASSERT_EQUAL(T.fe[1].link.queues, 1);
	dev = kpv_netfront_dev(T.fe[0].nf);
	CU_ASSERT_EQUAL(kpv_dev_nr_rings(dev), 4);
	for (uint32_t i = 0; i < 40; i++) {
		tnf_send_frame(&T.fe[0], T.fe[1].link.mac, 200 + i, 1 + i % 3, i);	/* queue i % 2 */
	}
	t_run(all_done, &T.fe[0], T_SECOND);
	harness_settle();
	CU_ASSERT(kpv_dev_ring(dev, 0)->req_prod_pvt > 0);
	CU_ASSERT(kpv_dev_ring(dev, 2)->req_prod_pvt > 0);
	CU_ASSERT_EQUAL(T.fe[1].nr_rx, 40);
	/* Back the other way, the backend spreads by source address over both RX rings. */
	for (uint32_t i = 0; i < 10; i++) {
		tnf_send_frame(&T.fe[1], T.fe[0].link.mac, 300, 1, i);
	}
	t_run(all_done, &T.fe[1], T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(T.fe[0].nr_rx, 10);
	CU_ASSERT(tnf_rx_is(&T.fe[0], 9, 300, T.fe[0].link.mac, T.fe[1].link.mac, 9));
	tnet_finish(&T);
}

static void test_made_up_mac(void)
{
	const uint8_t given[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	tnet_init(&T, 3);
	T.be[2].cfg.has_mac = true;
	memcpy(T.be[2].cfg.mac, given, 6);
	tnet_open(&T);
	for (int i = 0; i < 2; i++) {
		const uint8_t *m = T.fe[i].link.mac;
		uint32_t domid = harness_domid(T.fe[i].dom);

		CU_ASSERT_EQUAL(m[0], 0x02);		/* locally administered, unicast */
		CU_ASSERT_EQUAL((m[2] << 8) | m[3], domid & 0xffff);
		CU_ASSERT_EQUAL((m[4] << 8) | m[5], T.ids[i] & 0xffff);
		CU_ASSERT_FALSE(T.fe[i].link.features & KEEL_IO_NET_F_MAC);
	}
	CU_ASSERT(memcmp(T.fe[0].link.mac, T.fe[1].link.mac, 6) != 0);
	CU_ASSERT(memcmp(T.fe[2].link.mac, given, 6) == 0);
	tnet_finish(&T);
}

static CU_TestInfo tests[] = {
	{ "sizes 14..9018 in 1..18 fragments, both ways, byte for byte", test_sizes_and_fragments },
	{ "broadcast floods, unicast follows what was learnt", test_flood_and_learn },
	{ "checksum offload: passed on, or completed", test_checksum_offload },
	{ "segmentation offload: passed on, or dropped", test_segmentation_offload },
	{ "what a frontend may not send is refused", test_send_refusals },
	{ "RX buffers the OS keeps; the backend's bounded queue", test_rx_buffers_and_bounded_queue },
	{ "two queues", test_two_queues },
	{ "a made-up MAC without F_MAC", test_made_up_mac },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo net_io_suite = { "net_io", NULL, NULL, setup, teardown, tests };
