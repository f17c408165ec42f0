/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/net.h - the PV network class (docs/abi/devices/net.md) for OS
 * ports: packet buffers, the frontend (netfront: an Ethernet interface of
 * the OS), the backend (netback: serves a frontend and connects it to an
 * abstract packet interface) and a small learning switch that several
 * backends (and, say, a TAP device in a daemon) attach to.
 *
 * Contexts as in kpv.h: thread context unless marked [any]. Callbacks into
 * the OS run in thread context with no kpv lock held, one at a time per
 * netfront or netback instance.
 */
#ifndef KEEL_PV_NET_H
#define KEEL_PV_NET_H

#include <keel_pv/device.h>
#include <keel/io/net.h>

/* Queues (ring pairs) a frontend or backend uses at most. */
#define KPV_NET_MAX_QUEUES	4u
/* Pages of a packet buffer: KEEL_IO_NET_MAX_PACKET bytes fit. */
#define KPV_NET_PKT_PAGES	16u
/* Ethernet header plus one VLAN tag: a non-GSO packet is at most MTU + this. */
#define KPV_NET_HDR_MAX		18u

/* Offload metadata of one packet, in the ABI's terms (keel/io/net.h). */
struct kpv_net_meta {
	uint16_t flags;			/* KEEL_IO_NET_PF_CSUM_PARTIAL, _DATA_VALID (rx), _GSO */
	uint16_t csum_start;		/* with CSUM_PARTIAL: where the summed bytes start */
	uint16_t csum_offset;		/* from csum_start to the 16-bit checksum field */
	uint16_t gso_size;		/* with GSO: payload bytes per segment */
	uint8_t gso_type;		/* with GSO: KEEL_IO_NET_GSO_TCPV4 or _TCPV6 */
};

enum kpv_net_status {
	KPV_NET_OK,
	KPV_NET_DROPPED,		/* not delivered: no route, too large, no room, link gone */
};

/* --- Packet buffers (the backend and the switch) ------------------------------------ */

/*
 * A packet in pvdrivers' own pages, reference counted so that one copy can
 * wait in several queues (flooding). Byte i is pages[i / 4096][i % 4096].
 */
struct kpv_net_pkt {
	uint32_t len;			/* 1 .. KEEL_IO_NET_MAX_PACKET */
	uint32_t refs;			/* atomic */
	struct kpv_net_meta meta;
	uint8_t *pages[KPV_NET_PKT_PAGES];
};

/* A packet of @len bytes (contents undefined), one reference; NULL if out of memory or @len is not 1 .. MAX_PACKET. */
struct kpv_net_pkt *kpv_net_pkt_alloc(uint32_t len);
/* [any] */
void kpv_net_pkt_get(struct kpv_net_pkt *pkt);
/* Drop a reference; the last one frees the pages. */
void kpv_net_pkt_put(struct kpv_net_pkt *pkt);
/* [any] Copy @len bytes at @off in or out (the range must lie inside the packet). */
void kpv_net_pkt_write(struct kpv_net_pkt *pkt, uint32_t off, const void *src, uint32_t len);
void kpv_net_pkt_read(const struct kpv_net_pkt *pkt, uint32_t off, void *dst, uint32_t len);
/*
 * [any] The Internet checksum a CSUM_PARTIAL packet still needs: the sum
 * from meta.csum_start to the end (the field holds the pseudo-header sum),
 * folded and complemented (0xffff for 0, as Linux stores it).
 */
uint16_t kpv_net_pkt_csum(const struct kpv_net_pkt *pkt);

/* --- Frontend ------------------------------------------------------------------------ */

struct kpv_netfront;

/* What the OS asks of its interface. Zero fields take the defaults. */
struct kpv_netfront_config {
	uint64_t features;		/* offloads the OS can use: KEEL_IO_NET_F_CSUM_*, _GSO_* */
	uint32_t queues;		/* 1 .. KPV_NET_MAX_QUEUES (more need F_MULTI_QUEUE); 0: 1 */
	uint32_t ring_order;		/* of every ring, capped by the offer and at 2; 0: 0 */
	uint32_t rx_buffers;		/* RX pages posted per queue; 0: a ring's worth; all queues <= 256 */
	uint32_t tx_packets;		/* packets queued or in flight at most, <= 256; 0: 64 */
};

/* The interface as the OS sees it once connected. */
struct kpv_net_link {
	uint8_t mac[6];			/* the backend's (F_MAC) or one we made up (below) */
	uint16_t mtu;			/* F_MTU's, or 1500 */
	bool up;			/* link state (always up without F_LINK_STATE) */
	uint64_t features;		/* negotiated KEEL_IO_NET_F_* */
	uint32_t queues;
};

/* A part of a packet to send, in guest RAM, inside one page. */
struct kpv_net_frag {
	const void *va;
	uint32_t len;			/* >= 1 */
};

/* One packet to send: its fragments in order and its offloads. */
struct kpv_net_tx {
	struct kpv_net_frag frags[KEEL_IO_NET_MAX_FRAGS];
	uint32_t nr_frags;		/* 1 .. KEEL_IO_NET_MAX_FRAGS */
	struct kpv_net_meta meta;	/* only CSUM_PARTIAL and GSO, as negotiated */
	uint32_t queue;			/* the flow's queue (taken modulo the queues in use) */
	void *cookie;			/* handed back to tx_done() */
};

/* A received fragment: lent to the OS until kpv_netfront_rx_return(@buf). */
struct kpv_net_rx_frag {
	void *va;			/* inside a page we posted */
	uint32_t len;
	uint32_t buf;
};

/* A received packet, validated (net.md, "Validation"). */
struct kpv_net_rx {
	struct kpv_net_rx_frag frags[KEEL_IO_NET_MAX_FRAGS];
	uint32_t nr_frags;
	uint32_t len;			/* the sum of the fragments */
	struct kpv_net_meta meta;	/* as negotiated: CSUM_PARTIAL, DATA_VALID, GSO */
	uint32_t queue;
};

struct kpv_netfront_ops {
	/* Connected (again): MAC and MTU are read afresh each time; sending may start. */
	void (*up)(void *os, const struct kpv_net_link *link);
	/* The connection is gone (backend loss, error, close): sending stops until up(). */
	void (*down)(void *os);
	/* The live link state changed while connected (F_LINK_STATE). Optional. */
	void (*link)(void *os, bool up);
	/* A packet of kpv_netfront_send() is done: sent (KPV_NET_OK) or dropped. Once per packet. */
	void (*tx_done)(void *os, void *cookie, enum kpv_net_status status);
	/*
	 * A packet arrived. Return false to have its buffers posted again at
	 * once (the OS copied what it needs), true to keep them: then every
	 * fragment's buf goes back with kpv_netfront_rx_return().
	 */
	bool (*rx)(void *os, const struct kpv_net_rx *pkt);
	/* After kpv_netfront_close(): the instance is gone. */
	void (*released)(void *os);
};

/*
 * Open the net device @info (from kpv_devices()) as its frontend. Returns at
 * once; up() follows when the backend connects. The MAC without F_MAC is
 * made up once per instance and kept across reconnects: 02:xx:dd:dd:ii:ii,
 * a locally administered unicast address whose domain id (dd) and device id
 * (ii) bytes keep it unique among Keel's guests, and whose second byte comes
 * from the clock (the shim has no random numbers), so it differs between
 * boots.
 */
int kpv_netfront_open(struct kpv *k, const struct kpv_device_info *info,
		      const struct kpv_netfront_config *cfg, const struct kpv_netfront_ops *ops,
		      void *os, struct kpv_netfront **out);
/*
 * [any] Queue a packet: 0 (tx_done() follows exactly once), -KEEL_EINVAL
 * (malformed: a fragment empty or crossing a page, too many, an offload not
 * negotiated, longer than MTU + 18 without GSO), -KEEL_EBUSY (not up),
 * -KEEL_EAGAIN (tx_packets in flight: send again after a tx_done()).
 */
int kpv_netfront_send(struct kpv_netfront *nf, const struct kpv_net_tx *pkt);
/* [any] Give back a buffer rx() kept. */
void kpv_netfront_rx_return(struct kpv_netfront *nf, uint32_t buf);
/*
 * Leave the device (@removed: it left the device table, as kpv_dev_close()
 * says); released() follows. Packets in flight are dropped. Every buffer
 * rx() kept must be back: -KEEL_EBUSY otherwise (nothing done).
 */
int kpv_netfront_close(struct kpv_netfront *nf, bool removed);
/* The device connection (states, for tests and diagnostics). */
struct kpv_dev *kpv_netfront_dev(const struct kpv_netfront *nf);

/* --- Backend ------------------------------------------------------------------------- */

struct kpv_netback;

/* What a backend offers. Zero fields take the defaults. */
struct kpv_netback_config {
	uint64_t features;		/* offloads offered: KEEL_IO_NET_F_CSUM_*, _GSO_* */
	uint8_t mac[6];			/* offered with F_MAC if has_mac */
	bool has_mac;
	uint16_t mtu;			/* offered with F_MTU unless 0 (68 .. 65521) */
	bool link_state;		/* offer F_LINK_STATE (the link starts up) */
	uint32_t max_queues;		/* 1 .. KPV_NET_MAX_QUEUES; more than 1 offers F_MULTI_QUEUE */
	uint32_t max_ring_order;	/* 0 .. KEEL_IO_RING_MAX_ORDER */
	uint32_t rxq_packets;		/* packets waiting for the frontend at most, <= 256; 0: 64 */
	uint32_t rxq_pages;		/* ... and their pages at most; 0: 256 */
};

struct kpv_netback_ops {
	/*
	 * A packet from the frontend for the outside: KPV_NET_OK if taken
	 * (keep it with kpv_net_pkt_get()), KPV_NET_DROPPED if not.
	 */
	enum kpv_net_status (*deliver)(void *os, struct kpv_net_pkt *pkt);
	/* The frontend connected (true) or left (false). Optional. */
	void (*state)(void *os, bool connected);
	void (*released)(void *os);
};

/* Counters, for the OS's statistics and the tests. */
struct kpv_netback_stats {
	uint64_t tx_packets, tx_dropped;	/* from the frontend */
	uint64_t rx_packets, rx_dropped;	/* to the frontend */
	uint64_t work_runs, work_deferred;	/* runs, and runs that left work for the next */
	uint64_t rx_csum_completed;		/* CSUM_PARTIAL packets summed here for a frontend without F_CSUM_RX */
	uint64_t rx_malformed;			/* refused by kpv_netback_receive(): offloads no frontend may get */
};

int kpv_netback_open(struct kpv *k, const struct kpv_device_info *info,
		     const struct kpv_netback_config *cfg, const struct kpv_netback_ops *ops,
		     void *os, struct kpv_netback **out);
/*
 * [any] A packet from the outside for the frontend: queued (0, a reference
 * taken) or refused: -KEEL_EINVAL (offload metadata that breaks net.md's
 * rules, counted in rx_malformed: an unknown flag, GSO without
 * CSUM_PARTIAL or of an unknown type, a checksum field beyond the packet),
 * -KEEL_EBUSY (no frontend connected, or link down), -KEEL_EAGAIN (the
 * queue is full). What cannot be delivered later (too large for the
 * frontend, a GSO type it did not accept) is dropped and counted; a
 * CSUM_PARTIAL packet for a frontend without F_CSUM_RX is delivered with
 * its checksum completed here (rx_csum_completed).
 */
int kpv_netback_receive(struct kpv_netback *nb, struct kpv_net_pkt *pkt);
/* [any] The same as a switch port's function (kpv_net_port_fn), @nb as its ctx. */
int kpv_netback_port(void *nb, struct kpv_net_pkt *pkt);
/* [any] The link state: published live with F_LINK_STATE, and in every later offer. */
void kpv_netback_set_link(struct kpv_netback *nb, bool up);
void kpv_netback_stats(struct kpv_netback *nb, struct kpv_netback_stats *out);
/* Leave the device (@removed as for kpv_dev_close()); released() follows. */
void kpv_netback_close(struct kpv_netback *nb, bool removed);
struct kpv_dev *kpv_netback_dev(const struct kpv_netback *nb);

/* --- The learning switch --------------------------------------------------------------- */

struct kpv_net_switch;

/*
 * A port sends a packet out: [any], called with the switch's lock held (so
 * it must not call the switch). 0 if it queued it (its own reference
 * taken), negative if it refused it. Each port's queue is its own and
 * bounded: kpv_netback_port() is such a function.
 */
typedef int (*kpv_net_port_fn)(void *ctx, struct kpv_net_pkt *pkt);

struct kpv_net_port_stats {
	uint64_t in;			/* packets that came in */
	uint64_t out, dropped;		/* packets sent out, and refused by the port */
	uint64_t flooded;		/* of those that came in: sent to every other port */
};

/* A switch of up to @max_ports (<= 32) ports with a table of @macs addresses (0: 256). */
struct kpv_net_switch *kpv_net_switch_create(uint32_t max_ports, uint32_t macs);
void kpv_net_switch_destroy(struct kpv_net_switch *sw);
/* A new port: 0 and *@port, or -KEEL_ENOSPC. */
int kpv_net_switch_attach(struct kpv_net_switch *sw, kpv_net_port_fn out, void *ctx,
			  uint32_t *port);
/* The port goes, with every address learnt on it. */
void kpv_net_switch_detach(struct kpv_net_switch *sw, uint32_t port);
/*
 * A packet came in on @port: learn its source address there, then send it
 * to the port that has its destination, or to every other port (broadcast,
 * multicast, unknown). The caller keeps its reference. [any]
 */
void kpv_net_switch_input(struct kpv_net_switch *sw, uint32_t port, struct kpv_net_pkt *pkt);
/* The port that has @mac (learnt), or -KEEL_ENOENT. [any] */
int kpv_net_switch_lookup(struct kpv_net_switch *sw, const uint8_t mac[6]);
void kpv_net_switch_stats(struct kpv_net_switch *sw, uint32_t port, struct kpv_net_port_stats *out);

#endif /* KEEL_PV_NET_H */
