/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/net_common.h - what the net suites share: an "OS"
 * around netfront and netback that records everything the class hands it,
 * frames with a checkable pattern, a switch domain serving several
 * frontend domains, and net-class pairs for the hostile peers of peer.h.
 */
#ifndef KPV_TESTS_NET_COMMON_H
#define KPV_TESTS_NET_COMMON_H

#include <keel_pv/net.h>
#include "peer.h"

#define TN_RX_MAX	256u		/* received packets one end keeps for checking */
#define TN_ETHERTYPE	0x88b5		/* IEEE local experimental */
#define NET_PAGES_T(len)	(((len) + KPV_PAGE_SIZE - 1) / KPV_PAGE_SIZE)
#define NET_F_OFFLOADS_T	(KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX | \
				 KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV6_TX | \
				 KEEL_IO_NET_F_GSO_TCPV4_RX | KEEL_IO_NET_F_GSO_TCPV6_RX)

/* A packet as an end received it, copied out. */
struct tn_pkt {
	uint8_t *data;
	uint32_t len, nr_frags, queue;
	struct kpv_net_meta meta;
};

/* The OS around a netfront. */
struct tnf {
	struct hdom *dom;
	struct kpv *k;
	struct kpv_device_info info;
	struct kpv_netfront *nf;		/* from open until released() */
	struct kpv_netfront_config cfg;
	struct kpv_net_link link;		/* the last up() */
	bool is_up, link_up;
	unsigned int ups, downs, links, released;
	uint32_t sent, tx_ok, tx_dropped;
	bool keep;				/* rx() keeps the buffers (in kept[]) */
	uint32_t kept[512], nr_kept;
	struct tn_pkt rx[TN_RX_MAX];
	uint32_t nr_rx;				/* packets received (only the first TN_RX_MAX kept) */
};

/* The OS around a netback: a switch port, or a recorder when sw is NULL. */
struct tnb {
	struct hdom *dom;
	struct kpv *k;
	struct kpv_device_info info;
	struct kpv_netback *nb;
	struct kpv_netback_config cfg;
	struct kpv_net_switch *sw;
	uint32_t port;
	enum kpv_net_status verdict;		/* the recorder's answer to deliver() */
	unsigned int connects, disconnects, released;
	struct tn_pkt got[TN_RX_MAX];
	uint32_t nr_got;
};

extern const struct kpv_netfront_ops tnf_ops;
extern const struct kpv_netback_ops tnb_ops;

/* Predicate for harness_run(): the unsigned int at @count is not 0. */
bool tn_nonzero(void *count);

/* --- frames ------------------------------------------------------------------------- */

/* An Ethernet frame of @len (>= 14) bytes to @dst from @src, its payload made from @seed. */
void tn_frame(uint8_t *buf, uint32_t len, const uint8_t *dst, const uint8_t *src, uint32_t seed);
extern const uint8_t tn_broadcast[6];

/* --- a frontend's OS ------------------------------------------------------------------ */

int tnf_open(struct tnf *f);
/*
 * Send @len bytes of @data as @frags fragments, each in its own page of
 * the frontend's RAM at a varying offset; kpv_netfront_send()'s result.
 */
int tnf_send(struct tnf *f, const uint8_t *data, uint32_t len, uint32_t frags,
	     const struct kpv_net_meta *meta, uint32_t queue);
/* A frame of @len to @dst with seed @seed (tn_frame), in @frags fragments; asserts it was taken. */
void tnf_send_frame(struct tnf *f, const uint8_t *dst, uint32_t len, uint32_t frags,
		    uint32_t seed);
/* Give back every buffer rx() kept. */
void tnf_return_all(struct tnf *f);
/* Received packet @i is the frame tn_frame(@len, @dst, @src, @seed) would make. */
bool tnf_rx_is(const struct tnf *f, uint32_t i, uint32_t len, const uint8_t *dst,
	       const uint8_t *src, uint32_t seed);
void tnf_forget_rx(struct tnf *f);
void tnf_close(struct tnf *f);

/* --- a backend's OS -------------------------------------------------------------------- */

int tnb_open(struct tnb *b);
void tnb_close(struct tnb *b);
/* A packet from the outside: @len bytes of @data with @meta, to kpv_netback_receive(). */
int tnb_receive(struct tnb *b, const uint8_t *data, uint32_t len, const struct kpv_net_meta *meta);

/* --- a switch domain and its frontends -------------------------------------------------- */

#define TN_MAX_FE	4

struct tnet {
	struct hdom *swdom;
	struct kpv *swk;
	struct kpv_net_switch *sw;
	uint32_t n;
	struct tnb be[TN_MAX_FE];
	struct tnf fe[TN_MAX_FE];
	uint32_t ids[TN_MAX_FE];
};

/* A switch domain and @n frontend domains with a net device each; pvdrivers started; nothing open. */
void tnet_init(struct tnet *t, uint32_t n);
/* Every backend attached to the switch and every frontend opened; runs until all are up. */
void tnet_open(struct tnet *t);
bool tnet_all_up(void *t);
/* Close everything, stop pvdrivers, check each domain clean. */
void tnet_finish(struct tnet *t);

/* --- net-class pairs for the hostile peers ---------------------------------------------- */

/* Like t_pair_init(), with a net device; no driver opened. */
void tn_pair_init(struct t_pair *p);
/* The pair's frontend or backend as a tnf / tnb (not opened). */
void tn_pair_fe(struct t_pair *p, struct tnf *f);
void tn_pair_be(struct t_pair *p, struct tnb *b);
/* Stop pvdrivers in both domains and check them clean. */
void tn_pair_finish(struct t_pair *p);

#endif
