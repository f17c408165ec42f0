/* SPDX-License-Identifier: MIT */
/*
 * role_net.c - the PV network roles (pvdrivers/net). netsw serves every net
 * device this domain backs, a netback each, joined by the learning switch,
 * until every frontend has come and gone. netping and netpong are
 * frontends on that switch: ping finds pong with broadcast hellos, then
 * sends NET_FRAMES frames of varying sizes in 1..4 fragments, each with its
 * sequence number and a checksum of its payload; pong checks each and
 * answers with a frame of another size, which ping checks. A frame lost
 * (a port not yet connected) is sent again after NET_RETRY. One group each:
 *   keeltest: reference-net-netsw: SUCCESS n checks
 *   keeltest: reference-net-netping: SUCCESS n checks
 *   keeltest: reference-net-netpong: SUCCESS n checks
 */
#include "ref.h"

#include <keel_pv/net.h>

#define NET_MAX_PORTS	8
#define NET_FRAMES	300u
#define NET_WAIT	(60 * KT_NS_PER_S)	/* the other domains may still be booting */
#define NET_RETRY	(200 * KT_NS_PER_MS)
#define NET_TX_SLOTS	8			/* frames in flight, each in up to 4 pages */
#define NET_TX_FRAGS	4
#define ETH_LEN		14
#define ETHERTYPE	0x88b5			/* IEEE local experimental */

/* What follows the Ethernet header. */
enum { F_HELLO = 1, F_HELLO_ACK, F_PING, F_PONG, F_BYE };
#define HDR_LEN		(ETH_LEN + 13)		/* type, seq, len, checksum */

/* --- frames ------------------------------------------------------------------------ */

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint8_t pattern(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 37u + i * 11u + (i >> 7));
}

/* FNV-1a of the payload. */
static uint32_t payload_sum(const uint8_t *f, uint32_t len)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = HDR_LEN; i < len; i++) {
		h = (h ^ f[i]) * 16777619u;
	}
	return h;
}

/* The frame sizes: 60 .. 1514, different for each direction. */
static uint32_t ping_len(uint32_t seq)
{
	return 60 + (seq * 397u) % 1455u;
}

static uint32_t pong_len(uint32_t seq)
{
	return 1514 - (seq * 211u) % 1455u;
}

static void build(uint8_t *f, uint32_t len, const uint8_t *dst, const uint8_t *src, uint8_t type,
		  uint32_t seq)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	f[14] = type;
	put32(f + 15, seq);
	put32(f + 19, len);
	for (uint32_t i = HDR_LEN; i < len; i++) {
		f[i] = pattern(seq, i);
	}
	put32(f + 23, payload_sum(f, len));
}

/* A frame that is ours and whole: type, seq, length, checksum and pattern all agree. */
static bool valid(const uint8_t *f, uint32_t len)
{
	if (len < HDR_LEN || f[12] != (ETHERTYPE >> 8) || f[13] != (ETHERTYPE & 0xff) ||
	    get32(f + 19) != len || get32(f + 23) != payload_sum(f, len)) {
		return false;
	}
	for (uint32_t i = HDR_LEN; i < len; i++) {
		if (f[i] != pattern(get32(f + 15), i)) {
			return false;
		}
	}
	return true;
}

/* --- a frontend ----------------------------------------------------------------------- */

struct tx_slot {
	uint8_t *pages[NET_TX_FRAGS];
	bool busy;
};

struct nfe {
	struct kpv_netfront *nf;
	bool ping, up, released;
	struct kpv_net_link link;
	uint8_t peer[6];
	bool peer_known, bye;
	uint32_t seq;			/* ping: the frame waiting for its answer; pong: the next expected */
	uint32_t answered, dups, bad, retries;
	uint32_t tx_ok, tx_dropped;
	struct tx_slot tx[NET_TX_SLOTS];
	uint8_t frame[1514];		/* a received frame, copied out */
	char first_bad[64];
};

static struct nfe fe;

static void nfe_bad(struct nfe *n, const char *what, uint32_t seq)
{
	if (n->bad++ == 0) {
		kt_snprintf(n->first_bad, sizeof(n->first_bad), "%s (seq %u)", what, seq);
	}
}

/* Send a frame of @type and @seq to @dst in 1 + seq % 4 fragments, one page each. */
static void send_frame(struct nfe *n, const uint8_t *dst, uint8_t type, uint32_t seq, uint32_t len)
{
	struct kpv_net_tx t = { .nr_frags = 1 + seq % NET_TX_FRAGS };
	uint8_t f[1514];
	uint32_t at = 0;
	int s = 0;

	while (s < NET_TX_SLOTS && n->tx[s].busy) {
		s++;
	}
	if (s == NET_TX_SLOTS) {
		return;		/* all in flight: the retry sends it again */
	}
	build(f, len, dst, n->link.mac, type, seq);
	for (uint32_t i = 0; i < t.nr_frags; i++) {
		uint32_t part = len / t.nr_frags + (i < len % t.nr_frags), off = 64 * i;

		memcpy(n->tx[s].pages[i] + off, f + at, part);
		t.frags[i] = (struct kpv_net_frag){ .va = n->tx[s].pages[i] + off, .len = part };
		at += part;
	}
	t.cookie = &n->tx[s];
	if (kpv_netfront_send(n->nf, &t) == 0) {
		n->tx[s].busy = true;
	}
}

static void on_up(void *os, const struct kpv_net_link *link)
{
	struct nfe *n = os;

	n->link = *link;
	n->up = true;
}

static void on_down(void *os)
{
	((struct nfe *)os)->up = false;
}

static void on_tx_done(void *os, void *cookie, enum kpv_net_status status)
{
	struct nfe *n = os;

	((struct tx_slot *)cookie)->busy = false;
	if (status == KPV_NET_OK) {
		n->tx_ok++;
	} else {
		n->tx_dropped++;
	}
}

/* Pong: answer hellos and pings (again, for one whose answer was lost). */
static void pong_rx(struct nfe *n, const uint8_t *f, uint32_t seq)
{
	memcpy(n->peer, f + 6, 6);
	n->peer_known = true;
	if (f[14] == F_HELLO) {
		send_frame(n, n->peer, F_HELLO_ACK, 0, 60);
	} else if (f[14] == F_PING) {
		if (seq == n->seq) {
			n->seq++;
		} else if (seq < n->seq) {
			n->dups++;
		} else {
			nfe_bad(n, "ping out of order", seq);
		}
		if (get32(f + 19) != ping_len(seq)) {
			nfe_bad(n, "ping length", seq);
		}
		send_frame(n, n->peer, F_PONG, seq, pong_len(seq));
	} else if (f[14] == F_BYE) {
		n->bye = true;
	}
}

/* Ping: the hello's answer names pong; an answer to the frame in flight moves on. */
static void ping_rx(struct nfe *n, const uint8_t *f, uint32_t seq)
{
	if (f[14] == F_HELLO_ACK && !n->peer_known) {
		memcpy(n->peer, f + 6, 6);
		n->peer_known = true;
	} else if (f[14] == F_PONG && seq == n->seq && n->peer_known) {
		if (get32(f + 19) != pong_len(seq)) {
			nfe_bad(n, "pong length", seq);
		}
		n->answered++;
		n->seq++;
	}
}

static bool on_rx(void *os, const struct kpv_net_rx *pkt)
{
	struct nfe *n = os;
	uint32_t at = 0;

	if (pkt->len > sizeof(n->frame)) {
		nfe_bad(n, "frame too long", 0);
		return false;
	}
	for (uint32_t i = 0; i < pkt->nr_frags; i++) {
		memcpy(n->frame + at, pkt->frags[i].va, pkt->frags[i].len);
		at += pkt->frags[i].len;
	}
	if (!valid(n->frame, pkt->len)) {
		nfe_bad(n, "frame damaged", get32(n->frame + 15));
		return false;
	}
	if (n->ping) {
		ping_rx(n, n->frame, get32(n->frame + 15));
	} else {
		pong_rx(n, n->frame, get32(n->frame + 15));
	}
	return false;	/* copied out: the buffers go straight back */
}

static void on_released(void *os)
{
	((struct nfe *)os)->released = true;
}

static const struct kpv_netfront_ops nfe_ops = {
	.up = on_up,
	.down = on_down,
	.tx_done = on_tx_done,
	.rx = on_rx,
	.released = on_released,
};

static bool is_up(void *ctx)
{
	return ((struct nfe *)ctx)->up;
}

static bool is_released(void *ctx)
{
	return ((struct nfe *)ctx)->released;
}

static bool tx_idle(void *ctx)
{
	const struct nfe *n = ctx;

	for (int s = 0; s < NET_TX_SLOTS; s++) {
		if (n->tx[s].busy) {
			return false;
		}
	}
	return true;
}

/* What ping waits for after sending: pong found, or the answer to frame @seq. */
struct progress {
	const struct nfe *n;
	uint32_t seq;
	bool known;
};

static bool progressed(void *ctx)
{
	const struct progress *p = ctx;

	return p->n->seq != p->seq || p->n->peer_known != p->known;
}

/* Ping's side: hellos until pong answers, then the frames one by one, then bye. */
static void ping_run(struct nfe *n, uint64_t deadline)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	while (n->seq < NET_FRAMES && kpv_shim_now_ns() < deadline) {
		struct progress p = { n, n->seq, n->peer_known };

		if (!p.known) {
			send_frame(n, broadcast, F_HELLO, 0, 60);
		} else {
			send_frame(n, n->peer, F_PING, p.seq, ping_len(p.seq));
		}
		if (!ref_wait(progressed, &p, NET_RETRY) && p.known) {
			n->retries++;
		}
	}
	kt_check_eq("frames answered", n->answered, NET_FRAMES);
	for (int i = 0; i < 3 && n->peer_known; i++) {
		send_frame(n, n->peer, F_BYE, n->seq, 60);
		ref_wait(tx_idle, n, KT_NS_PER_S);
	}
}

static bool got_bye(void *ctx)
{
	return ((struct nfe *)ctx)->bye;
}

static void frontend_run(struct kpv *k, const struct kpv_device_info *dev, bool ping)
{
	struct kpv_netfront_config cfg = { 0 };
	uint64_t deadline = kpv_shim_now_ns() + 4 * NET_WAIT;

	memset(&fe, 0, sizeof(fe));
	fe.ping = ping;
	for (int s = 0; s < NET_TX_SLOTS; s++) {
		for (int i = 0; i < NET_TX_FRAGS; i++) {
			fe.tx[s].pages[i] = kpv_shim_page_alloc();
		}
	}
	if (!kt_check_rc("kpv_netfront_open", kpv_netfront_open(k, dev, &cfg, &nfe_ops, &fe, &fe.nf),
			 0)) {
		return;
	}
	if (kt_check(ref_wait(is_up, &fe, NET_WAIT), "up", "not after 60 s")) {
		kt_check_eq("MTU", fe.link.mtu, KEEL_IO_NET_MTU_DEFAULT);
		kt_check(fe.link.up, "link up", "down");
		kt_check_eq("MAC locally administered, unicast", fe.link.mac[0] & 3, 2);
		if (ping) {
			ping_run(&fe, deadline);
		} else {
			kt_check(ref_wait(got_bye, &fe, 4 * NET_WAIT), "bye", "after %u frames",
				 fe.seq);
			kt_check_eq("frames received", fe.seq, NET_FRAMES);
		}
		kt_check(fe.bad == 0, "frames", "%u bad, the first: %s", fe.bad, fe.first_bad);
		kt_note("%u frames %s, %u retries, %u duplicates; tx %u ok, %u dropped", fe.seq,
			ping ? "answered" : "received", fe.retries, fe.dups, fe.tx_ok,
			fe.tx_dropped);
	}
	ref_wait(tx_idle, &fe, KT_NS_PER_S);
	kt_check_rc("kpv_netfront_close", kpv_netfront_close(fe.nf, false), 0);
	kt_check(ref_wait(is_released, &fe, NET_WAIT), "released", "not after 60 s");
	kt_check(tx_idle(&fe), "every frame completed", "some never were");
	for (int s = 0; s < NET_TX_SLOTS; s++) {
		for (int i = 0; i < NET_TX_FRAGS; i++) {
			kpv_shim_page_free(fe.tx[s].pages[i]);
		}
	}
}

/* --- the switch --------------------------------------------------------------------------- */

struct port {
	struct kpv_netback *nb;
	struct kpv_net_switch *sw;
	uint32_t port;
	uint32_t connects, disconnects;
	bool released;
};

static struct port ports[NET_MAX_PORTS];
static uint32_t nr_ports;

static enum kpv_net_status sw_deliver(void *os, struct kpv_net_pkt *pkt)
{
	struct port *p = os;

	kpv_net_switch_input(p->sw, p->port, pkt);
	return KPV_NET_OK;
}

static void sw_state(void *os, bool connected)
{
	struct port *p = os;

	if (connected) {
		p->connects++;
	} else {
		p->disconnects++;
	}
}

static void sw_released(void *os)
{
	((struct port *)os)->released = true;
}

static const struct kpv_netback_ops port_ops = {
	.deliver = sw_deliver,
	.state = sw_state,
	.released = sw_released,
};

/* Every port has had its frontend (@gone: and seen it leave again). */
static bool all_came(void *ctx)
{
	bool gone = ctx != NULL;

	for (uint32_t i = 0; i < nr_ports; i++) {
		if (!ports[i].connects || (gone && ports[i].disconnects < ports[i].connects)) {
			return false;
		}
	}
	return true;
}

static bool all_released(void *ctx)
{
	for (uint32_t i = 0; i < nr_ports; i++) {
		if (!ports[i].released) {
			return false;
		}
	}
	return true;
}

static void switch_run(struct kpv *k, const struct kpv_device_info *devs, int n)
{
	const struct kpv_netback_config cfg = { .link_state = true, .max_queues = 1 };
	struct kpv_net_switch *sw;

	nr_ports = 0;
	memset(ports, 0, sizeof(ports));
	sw = kpv_net_switch_create(NET_MAX_PORTS, 0);
	if (!kt_check(sw != NULL, "switch", "not created")) {
		return;
	}
	for (int i = 0; i < n && nr_ports < NET_MAX_PORTS; i++) {
		struct port *p = &ports[nr_ports];

		if (!devs[i].backend || devs[i].device_class != KEEL_IO_CLASS_NET) {
			continue;
		}
		p->sw = sw;
		if (kt_check_rc("kpv_netback_open", kpv_netback_open(k, &devs[i], &cfg, &port_ops, p,
								      &p->nb), 0)) {
			kt_check_rc("attach", kpv_net_switch_attach(sw, kpv_netback_port, p->nb,
								    &p->port), 0);
			nr_ports++;
		}
	}
	kt_check(nr_ports >= 2, "net devices", "%u served", nr_ports);
	kt_check(ref_wait(all_came, NULL, NET_WAIT), "frontends connected", "not all in 60 s");
	kt_check(ref_wait(all_came, sw, 5 * NET_WAIT), "frontends left", "not all in 300 s");
	for (uint32_t i = 0; i < nr_ports; i++) {
		struct kpv_net_port_stats ps;
		struct kpv_netback_stats bs;

		kpv_net_switch_stats(sw, ports[i].port, &ps);
		kpv_netback_stats(ports[i].nb, &bs);
		kt_note("port %u: in %lu, out %lu, dropped %lu, flooded %lu; to the frontend %lu",
			ports[i].port, ps.in, ps.out, ps.dropped, ps.flooded, bs.rx_packets);
		kt_check(ps.in >= NET_FRAMES && bs.rx_packets >= NET_FRAMES, "traffic",
			 "port %u: in %lu, delivered %lu", ports[i].port, ps.in, bs.rx_packets);
		kpv_net_switch_detach(sw, ports[i].port);
		kpv_netback_close(ports[i].nb, false);
	}
	kt_check(ref_wait(all_released, NULL, NET_WAIT), "released", "not after 60 s");
	kpv_net_switch_destroy(sw);
}

/* --- the role ----------------------------------------------------------------------------- */

void ref_net_run(struct kpv *k, const char *role, const char *name)
{
	static struct kpv_device_info devs[NET_MAX_PORTS];
	int n = kpv_devices(k, devs, NET_MAX_PORTS);

	kt_group_begin(name);
	if (!kt_check(n > 0, "devices", "kpv_devices returned %d", n)) {
		kt_group_end();
		return;
	}
	if (kt_strcmp(role, "netsw") == 0) {
		switch_run(k, devs, n);
	} else if (kt_check(!devs[0].backend && devs[0].device_class == KEEL_IO_CLASS_NET,
			    "a net frontend", "device 0 is not one")) {
		frontend_run(k, &devs[0], kt_strcmp(role, "netping") == 0);
	}
	kt_group_end();
}
