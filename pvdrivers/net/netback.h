/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/netback.h - struct kpv_netback and what netback.c (the
 * connection's life, the outside's calls) and netback_io.c (the rings)
 * share.
 *
 * Locking as in netfront.h: [lock] fields under nb->lock (the outside calls
 * kpv_netback_receive() and _set_link() from any context); ring work in
 * nb->work, one per connection, destroyed at the start of disconnected().
 */
#ifndef KPV_NET_NETBACK_H
#define KPV_NET_NETBACK_H

#include "net_priv.h"

#define NB_RXQ_MAX	256u
/* Copies of one packet: a fragment splits over two pages, a checksum adds two per buffer. */
#define NB_COPIES	(2u * KEEL_IO_NET_MAX_FRAGS + 4u)

/* A queue's TX side: the fragments of a packet taken so far (copied once, ring.md rule 10). */
struct nb_queue {
	struct kpv_ring *tx, *rx;	/* [work] rings 2q and 2q+1 */
	struct keel_io_net_tx_request reqs[KEEL_IO_NET_MAX_FRAGS];
	uint32_t nr;			/* [work] fragments in reqs */
	uint32_t sum;			/* [work] their bytes */
};

struct kpv_netback {
	struct kpv *k;
	struct kpv_dev *dev;
	struct kpv_netback_config cfg;	/* (c) defaults filled in */
	struct kpv_netback_ops ops;	/* (c) */
	void *os;

	struct kpv_lock *lock;
	struct kpv_work *work;		/* [lock] this connection's ring work */
	bool connected;			/* [lock] */
	bool link_up;			/* [lock] */
	bool live_link;			/* [lock] F_LINK_STATE negotiated: link_up is published live */
	bool closing;			/* [lock] kpv_netback_close() was called */
	struct kpv_net_pkt **rxq;	/* [lock] toward the frontend: a FIFO of cfg.rxq_packets */
	uint32_t rxq_head, rxq_count, rxq_pages;	/* [lock] */
	struct kpv_netback_stats stats;	/* [lock] */

	uint64_t features;		/* [work] this connection's */
	uint32_t mtu;			/* [work] the one offered */
	uint32_t nq;
	bool failed;			/* [work] a protocol error: rings left alone */
	struct nb_queue *q[KPV_NET_MAX_QUEUES];
	struct kpv_copy *copies;	/* [work] NB_COPIES */
	uint8_t *csum;			/* [work] a completed checksum, in guest RAM for grant copy */
};

/* netback_io.c */
void nb_work(void *ctx);
/* Answer the fragments of a packet left half-taken with S_DROPPED (disconnecting). */
void nb_queue_stop(struct kpv_netback *nb, struct nb_queue *q, unsigned int index);
/* The head of the queue toward the frontend is done with. */
void nb_rxq_pop(struct kpv_netback *nb);
/* Count under the lock. */
void nb_count(struct kpv_netback *nb, uint64_t *counter);

#endif /* KPV_NET_NETBACK_H */
