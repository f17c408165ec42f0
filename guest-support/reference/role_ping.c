/* SPDX-License-Identifier: MIT */
/*
 * role_ping.c - role=ping: a host on a bridge for the control-domain tests
 * (tests/linux/ctl-io). The domain's first PV net device (of which it is
 * the frontend) gets the IPv4 address ip=A.B.C.D of its command line; it
 * answers ARP requests for that address and ICMP echo requests to it, and
 * nothing else, until it is destroyed. Lines on its console:
 *   keel-ref-ping: up: MAC xx:..., IPv4 A.B.C.D        (each time it connects)
 *   keel-ref-ping: echo reply N to A.B.C.D             (the first few per peer)
 *   keel-ref-ping: N ARP and M echo replies so far     (every 10 s when they changed)
 */
#include "ref.h"

#include <keel_pv/net.h>

#define TX_SLOTS	8
#define FRAME_MAX	1514u
#define ETH_LEN		14u
#define ETH_ARP		0x0806
#define ETH_IPV4	0x0800
#define ARP_LEN		28u
#define IP_ICMP		1
#define ICMP_ECHO	8
#define ICMP_REPLY	0
#define PEERS		8
#define SAY_PER_PEER	3
#define REPORT_NS	(10 * KT_NS_PER_S)

struct peer {
	uint8_t ip[4];
	uint32_t replies;
};

static struct {
	struct kpv_netfront *nf;
	struct kpv_net_link link;
	bool up;
	uint8_t ip[4];
	uint8_t *tx_page[TX_SLOTS];
	bool tx_busy[TX_SLOTS];
	uint8_t frame[FRAME_MAX];	/* the received frame, copied out */
	uint32_t arp_replies, echo_replies, dropped;
	struct peer peers[PEERS];
} png;

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071) of @len bytes. */
static uint16_t inet_sum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2) {
		sum += get16(p + i);
	}
	if (len & 1) {
		sum += (uint32_t)p[len - 1] << 8;
	}
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static bool parse_ip(const char *s, uint8_t out[4])
{
	for (int i = 0; i < 4; i++) {
		uint32_t v = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || v > 255 || (i < 3 && *s++ != '.')) {
			return false;
		}
		out[i] = (uint8_t)v;
	}
	return *s == '\0';
}

/* Send @len bytes of @f (padded to Ethernet's 60) from a free slot; dropped if none is free. */
static void send(const uint8_t *f, uint32_t len)
{
	struct kpv_net_tx t = { .nr_frags = 1 };
	int s = 0;

	while (s < TX_SLOTS && png.tx_busy[s]) {
		s++;
	}
	if (s == TX_SLOTS || !png.up) {
		png.dropped++;
		return;
	}
	memset(png.tx_page[s], 0, 60);
	memcpy(png.tx_page[s], f, len);
	t.frags[0] = (struct kpv_net_frag){ .va = png.tx_page[s], .len = len < 60 ? 60 : len };
	t.cookie = &png.tx_busy[s];
	if (kpv_netfront_send(png.nf, &t) == 0) {
		png.tx_busy[s] = true;
	} else {
		png.dropped++;
	}
}

/* An ARP request for our address: the answer names our MAC. */
static void arp(uint8_t *f, uint32_t len)
{
	uint8_t *a = f + ETH_LEN;

	if (len < ETH_LEN + ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_IPV4 || a[4] != 6 ||
	    a[5] != 4 || get16(a + 6) != 1 || memcmp(a + 24, png.ip, 4) != 0) {
		return;
	}
	put16(a + 6, 2);			/* a reply */
	memcpy(a + 18, a + 8, 10);		/* target: the asker's MAC and IP */
	memcpy(a + 8, png.link.mac, 6);		/* sender: us */
	memcpy(a + 14, png.ip, 4);
	memcpy(f, a + 18, 6);
	memcpy(f + 6, png.link.mac, 6);
	send(f, ETH_LEN + ARP_LEN);
	png.arp_replies++;
}

static struct peer *peer_of(const uint8_t ip[4])
{
	for (int i = 0; i < PEERS; i++) {
		if (png.peers[i].replies == 0 || memcmp(png.peers[i].ip, ip, 4) == 0) {
			memcpy(png.peers[i].ip, ip, 4);
			return &png.peers[i];
		}
	}
	return NULL;
}

/* An ICMP echo request to our address: the same datagram back as a reply. */
static void ipv4(uint8_t *f, uint32_t len)
{
	uint8_t *ip = f + ETH_LEN, src[4];
	uint32_t hl, total;
	struct peer *p;

	if (len < ETH_LEN + 20) {
		return;
	}
	hl = (ip[0] & 0xf) * 4u;
	total = get16(ip + 2);
	if ((ip[0] >> 4) != 4 || hl < 20 || total < hl + 8 || ETH_LEN + total > len ||
	    ip[9] != IP_ICMP || memcmp(ip + 16, png.ip, 4) != 0 || (get16(ip + 6) & 0x3fff) != 0 ||
	    inet_sum(ip, hl) != 0 || ip[hl] != ICMP_ECHO || inet_sum(ip + hl, total - hl) != 0) {
		return;		/* not an unfragmented, intact echo request to us */
	}
	memcpy(src, ip + 12, 4);
	memcpy(ip + 12, png.ip, 4);
	memcpy(ip + 16, src, 4);
	ip[8] = 64;
	put16(ip + 10, 0);
	put16(ip + 10, inet_sum(ip, hl));
	ip[hl] = ICMP_REPLY;
	put16(ip + hl + 2, 0);
	put16(ip + hl + 2, inet_sum(ip + hl, total - hl));
	memcpy(f, f + 6, 6);
	memcpy(f + 6, png.link.mac, 6);
	send(f, ETH_LEN + total);
	png.echo_replies++;
	p = peer_of(src);
	if (p && p->replies++ < SAY_PER_PEER) {
		kt_printf("keel-ref-ping: echo reply %u to %u.%u.%u.%u\n", p->replies, src[0], src[1],
			  src[2], src[3]);
	}
}

static bool on_rx(void *os, const struct kpv_net_rx *pkt)
{
	uint32_t at = 0;

	(void)os;
	if (pkt->len > FRAME_MAX || pkt->len < ETH_LEN) {
		return false;
	}
	for (uint32_t i = 0; i < pkt->nr_frags; i++) {
		memcpy(png.frame + at, pkt->frags[i].va, pkt->frags[i].len);
		at += pkt->frags[i].len;
	}
	if (get16(png.frame + 12) == ETH_ARP) {
		arp(png.frame, pkt->len);
	} else if (get16(png.frame + 12) == ETH_IPV4) {
		ipv4(png.frame, pkt->len);
	}
	return false;	/* copied out: the buffers go straight back */
}

static void on_up(void *os, const struct kpv_net_link *link)
{
	const uint8_t *m = link->mac;

	(void)os;
	png.link = *link;
	png.up = true;
	kt_printf("keel-ref-ping: up: MAC %02x:%02x:%02x:%02x:%02x:%02x, IPv4 %u.%u.%u.%u\n", m[0],
		  m[1], m[2], m[3], m[4], m[5], png.ip[0], png.ip[1], png.ip[2], png.ip[3]);
}

static void on_down(void *os)
{
	(void)os;
	png.up = false;
}

static void on_tx_done(void *os, void *cookie, enum kpv_net_status status)
{
	(void)os;
	*(bool *)cookie = false;
	if (status != KPV_NET_OK) {
		png.dropped++;
	}
}

static void on_released(void *os)
{
	(void)os;
}

static const struct kpv_netfront_ops ping_ops = {
	.up = on_up,
	.down = on_down,
	.tx_done = on_tx_done,
	.rx = on_rx,
	.released = on_released,
};

static bool never(void *ctx)
{
	(void)ctx;
	return false;
}

void ref_ping_run(struct kpv *k)
{
	static struct kpv_device_info table[8];
	struct kpv_netfront_config cfg = { 0 };
	const struct kpv_device_info *dev = NULL;
	uint32_t reported = 0;
	char ip[20];
	int n;

	if (!kt_cmdline_str("ip", ip, sizeof(ip)) || !parse_ip(ip, png.ip)) {
		kt_crash("role=ping needs ip=A.B.C.D on its command line");
	}
	n = kpv_devices(k, table, 8);
	for (int i = 0; i < n && i < 8 && !dev; i++) {
		if (table[i].device_class == KEEL_IO_CLASS_NET && !table[i].backend) {
			dev = &table[i];
		}
	}
	if (!dev) {
		kt_crash("role=ping: no PV net device of which this domain is the frontend");
	}
	for (int s = 0; s < TX_SLOTS; s++) {
		png.tx_page[s] = kpv_shim_page_alloc();
		if (!png.tx_page[s]) {
			kt_crash("role=ping: out of memory");
		}
	}
	if (kpv_netfront_open(k, dev, &cfg, &ping_ops, NULL, &png.nf) != 0) {
		kt_crash("role=ping: cannot open net device %u", dev->device_id);
	}
	for (;;) {
		ref_wait(never, NULL, REPORT_NS);
		if (png.arp_replies + png.echo_replies != reported) {
			reported = png.arp_replies + png.echo_replies;
			kt_printf("keel-ref-ping: %u ARP and %u echo replies so far, %u dropped\n",
				  png.arp_replies, png.echo_replies, png.dropped);
		}
	}
}
