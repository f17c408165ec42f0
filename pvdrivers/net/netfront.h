/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/netfront.h - struct kpv_netfront and what netfront.c (the
 * connection's life, the OS's calls) and netfront_io.c (the rings) share.
 *
 * Locking: [lock] fields are taken under nf->lock, since kpv_netfront_send()
 * and _rx_return() may come from any context. Ring work runs in nf->work,
 * one per connection: made in connected(), destroyed (which waits for a
 * running call) at the start of disconnected(), so no ring is touched once
 * the device core tears the rings down. [work] fields belong to that work,
 * or to connected()/disconnected() while no work exists.
 */
#ifndef KPV_NET_NETFRONT_H
#define KPV_NET_NETFRONT_H

#include "net_priv.h"

#define NF_NONE		0xffffu		/* end of an index list */
#define NF_RX_MAX	256u		/* RX buffers of all queues: one page of struct nf_rxbuf */
#define NF_TX_MAX	256u
#define NF_MAX_ORDER	2u		/* a TX ring's ids fit one page */

enum nf_rxb_state {
	RXB_FREE,			/* ours, not granted */
	RXB_POSTED,			/* granted, in an RX ring */
	RXB_CHAIN,			/* answered, part of a packet being assembled */
	RXB_OS,				/* lent to the OS by rx() */
};

struct nf_rxbuf {
	void *page;
	uint32_t gref;
	uint8_t state;			/* [lock] for FREE <-> other states, else [work] */
	uint8_t queue;			/* [work] where it is posted */
	uint16_t next;			/* [lock] free list */
};

/* One packet of kpv_netfront_send(), from send to tx_done(). */
struct nf_txpkt {
	struct kpv_net_tx tx;
	uint16_t next;			/* [lock] free or pending list */
	uint16_t remaining;		/* [work] responses still due */
	bool dropped;			/* [work] a response said so */
	bool posted;			/* [work] its requests are in the ring */
};

/* A TX request in flight: its id is the index. */
struct nf_txid {
	uint32_t gref;
	uint16_t pkt;			/* NF_NONE: free */
	uint16_t next;			/* free list */
};

struct nf_queue {
	struct kpv_ring *tx, *rx;	/* [work] this connection's rings 2q and 2q+1 */
	struct nf_txid *ids;		/* [work] one per TX slot */
	uint16_t id_free;		/* [work] */
	uint16_t pend_head, pend_tail;	/* [lock] packets not yet in the ring */
	uint32_t rx_posted, rx_want;	/* [work] */
	struct kpv_net_rx chain;	/* [work] the packet being assembled */
	bool chain_open;
};

struct kpv_netfront {
	struct kpv *k;
	struct kpv_dev *dev;
	struct kpv_netfront_config cfg;	/* (c) defaults filled in */
	struct kpv_netfront_ops ops;	/* (c) */
	void *os;
	uint8_t own_mac[6];		/* (c) made up at open, for offers without F_MAC */

	struct kpv_lock *lock;
	struct kpv_work *work;		/* [lock] this connection's ring work */
	bool up;			/* [lock] connected: sending allowed */
	bool link_up;			/* [lock] the latest link state seen */
	bool link_told;			/* [work] the link state the OS last heard */
	uint16_t rx_free;		/* [lock] free RX buffers */
	uint32_t rx_lent;		/* [lock] buffers the OS holds */
	uint16_t tx_free;		/* [lock] free packet records */

	struct kpv_net_link link;	/* [work] this connection */
	struct keel_io_net_config config;	/* [work] the offer we connected on */
	bool failed;			/* [work] a protocol error: rings left alone */
	uint32_t nq;
	struct nf_queue *q[KPV_NET_MAX_QUEUES];
	struct nf_rxbuf *rxb;		/* NF_RX_MAX entries, nr_rxb with pages */
	uint32_t nr_rxb;
	struct nf_txpkt *txp[NF_TX_MAX];	/* cfg.tx_packets of them */
};

/* netfront_io.c: the ring work, and the queues' set-up and teardown. */
void nf_work(void *ctx);
void nf_queue_start(struct kpv_netfront *nf, struct nf_queue *q, unsigned int index);
/* Disconnected: every TX grant ended, packets not yet in the ring dropped (tx_done). */
void nf_queue_stop(struct kpv_netfront *nf, struct nf_queue *q);
/* A buffer back to the free list. [any] */
void nf_rx_free(struct kpv_netfront *nf, uint32_t b);
/* A packet record back to the free list, after tx_done(). */
void nf_tx_finish(struct kpv_netfront *nf, uint16_t idx, enum kpv_net_status status);
/* Stop the connection on a protocol error of the backend's. */
void nf_fail(struct kpv_netfront *nf, uint32_t err);
/* End a grant we gave, by force if the backend still holds it. */
void nf_ungrant(struct kpv_netfront *nf, uint32_t gref);

#endif /* KPV_NET_NETFRONT_H */
