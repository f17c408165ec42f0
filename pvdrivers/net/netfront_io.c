/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/netfront_io.c - the frontend's rings (docs/abi/devices/
 * net.md): packets onto the TX ring with a read-only grant per fragment,
 * their responses back to tx_done(); RX pages kept posted, and responses
 * assembled into packets, every one checked before the OS sees it. Each
 * work run does at most a ring's worth of responses per ring and comes
 * back for the rest (ring.md: bounded work per notification).
 */
#include "netfront.h"

void nf_ungrant(struct kpv_netfront *nf, uint32_t gref)
{
	if (!kpv_grant_end(nf->k, gref)) {
		kpv_grant_revoke(nf->k, gref);
	}
}

void nf_fail(struct kpv_netfront *nf, uint32_t err)
{
	nf->failed = true;
	kpv_dev_fail(nf->dev, err);
}

void nf_rx_free(struct kpv_netfront *nf, uint32_t b)
{
	unsigned long flags = kpv_shim_lock(nf->lock);

	nf->rxb[b].state = RXB_FREE;
	nf->rxb[b].next = nf->rx_free;
	nf->rx_free = (uint16_t)b;
	kpv_shim_unlock(nf->lock, flags);
}

void nf_tx_finish(struct kpv_netfront *nf, uint16_t idx, enum kpv_net_status status)
{
	struct nf_txpkt *p = nf->txp[idx];
	void *cookie = p->tx.cookie;
	unsigned long flags;

	flags = kpv_shim_lock(nf->lock);
	p->next = nf->tx_free;
	nf->tx_free = idx;
	kpv_shim_unlock(nf->lock, flags);
	nf->ops.tx_done(nf->os, cookie, status);
}

/* --- TX ---------------------------------------------------------------------------- */

/* The next packet waiting for queue @q if the ring has room for all of it, taken off the list. */
static uint16_t tx_next(struct kpv_netfront *nf, struct nf_queue *q)
{
	unsigned long flags = kpv_shim_lock(nf->lock);
	uint16_t idx = q->pend_head;

	if (idx != NF_NONE && kpv_ring_fe_space(q->tx) >= nf->txp[idx]->tx.nr_frags) {
		q->pend_head = nf->txp[idx]->next;
		if (q->pend_head == NF_NONE) {
			q->pend_tail = NF_NONE;
		}
	} else {
		idx = NF_NONE;
	}
	kpv_shim_unlock(nf->lock, flags);
	return idx;
}

/* Grant every fragment (read-only: the backend only reads them), then fill one request each. */
static bool tx_post(struct kpv_netfront *nf, struct nf_queue *q, uint16_t idx)
{
	struct nf_txpkt *p = nf->txp[idx];
	const struct kpv_net_tx *t = &p->tx;
	uint32_t grefs[KEEL_IO_NET_MAX_FRAGS], total = 0, peer = kpv_dev_peer(nf->dev);

	for (uint32_t i = 0; i < t->nr_frags; i++) {
		uintptr_t va = (uintptr_t)t->frags[i].va;

		if (kpv_grant(nf->k, peer, (const void *)(va & ~(uintptr_t)(KPV_PAGE_SIZE - 1)), true,
			      &grefs[i]) != 0) {
			while (i--) {
				nf_ungrant(nf, grefs[i]);
			}
			return false;
		}
		total += t->frags[i].len;
	}
	for (uint32_t i = 0; i < t->nr_frags; i++) {
		struct keel_io_net_tx_request *req = kpv_ring_fe_next(q->tx);
		uint16_t id = q->id_free;
		bool first = i == 0;

		q->id_free = q->ids[id].next;
		q->ids[id].pkt = idx;
		q->ids[id].gref = grefs[i];
		*req = (struct keel_io_net_tx_request){
			.gref = grefs[i],
			.offset = (uint16_t)((uintptr_t)t->frags[i].va & (KPV_PAGE_SIZE - 1)),
			.len = (uint16_t)t->frags[i].len,
			.id = id,
			.flags = (uint16_t)((i + 1 < t->nr_frags ? KEEL_IO_NET_PF_MORE : 0) |
					    (first ? t->meta.flags : 0)),
			.total_len = first ? total : 0,
			.csum_start = first ? t->meta.csum_start : 0,
			.csum_offset = first ? t->meta.csum_offset : 0,
			.gso_size = first ? t->meta.gso_size : 0,
			.gso_type = first ? t->meta.gso_type : 0,
		};
	}
	p->remaining = (uint16_t)t->nr_frags;
	p->dropped = false;
	p->posted = true;
	return true;
}

static void tx_push(struct kpv_netfront *nf, struct nf_queue *q, unsigned int ring)
{
	uint16_t idx;

	while ((idx = tx_next(nf, q)) != NF_NONE) {
		if (!tx_post(nf, q, idx)) {
			nf_tx_finish(nf, idx, KPV_NET_DROPPED);	/* out of grants */
		}
	}
	if (kpv_ring_fe_push(q->tx)) {
		kpv_dev_notify(nf->dev, ring);
	}
}

/* One TX response: its id must be in flight (net.md). Unknown statuses count as dropped. */
static bool tx_answer(struct kpv_netfront *nf, struct nf_queue *q,
		      const struct keel_io_net_tx_response *rsp)
{
	struct nf_txid *id;
	struct nf_txpkt *p;
	uint16_t idx;

	if (rsp->id >= q->tx->nr_slots || q->ids[rsp->id].pkt == NF_NONE) {
		return false;
	}
	id = &q->ids[rsp->id];
	idx = id->pkt;
	p = nf->txp[idx];
	nf_ungrant(nf, id->gref);
	id->pkt = NF_NONE;
	id->next = q->id_free;
	q->id_free = rsp->id;
	p->dropped = p->dropped || rsp->status != KEEL_IO_NET_S_OK;
	if (--p->remaining == 0) {
		p->posted = false;
		nf_tx_finish(nf, idx, p->dropped ? KPV_NET_DROPPED : KPV_NET_OK);
	}
	return true;
}

/* --- RX ---------------------------------------------------------------------------- */

static void rx_post(struct kpv_netfront *nf, struct nf_queue *q, unsigned int ring,
		    unsigned int index)
{
	uint32_t peer = kpv_dev_peer(nf->dev);

	while (q->rx_posted < q->rx_want && kpv_ring_fe_space(q->rx) > 0) {
		unsigned long flags = kpv_shim_lock(nf->lock);
		uint16_t b = nf->rx_free;
		struct keel_io_net_rx_request *req;

		if (b != NF_NONE) {
			nf->rx_free = nf->rxb[b].next;
			nf->rxb[b].state = RXB_POSTED;
		}
		kpv_shim_unlock(nf->lock, flags);
		if (b == NF_NONE) {
			break;
		}
		if (kpv_grant(nf->k, peer, nf->rxb[b].page, false, &nf->rxb[b].gref) != 0) {
			nf_rx_free(nf, b);
			break;
		}
		nf->rxb[b].queue = (uint8_t)index;
		req = kpv_ring_fe_next(q->rx);
		*req = (struct keel_io_net_rx_request){ .id = b, .gref = nf->rxb[b].gref };
		q->rx_posted++;
	}
	if (kpv_ring_fe_push(q->rx)) {
		kpv_dev_notify(nf->dev, ring);
	}
}

/* The packet is whole: to the OS, and its buffers back unless it keeps them. */
static void rx_deliver(struct kpv_netfront *nf, struct nf_queue *q, unsigned int index)
{
	struct kpv_net_rx *c = &q->chain;
	unsigned long flags;

	c->queue = index;
	q->chain_open = false;
	if (nf->ops.rx(nf->os, c)) {
		flags = kpv_shim_lock(nf->lock);
		for (uint32_t i = 0; i < c->nr_frags; i++) {
			nf->rxb[c->frags[i].buf].state = RXB_OS;
		}
		nf->rx_lent += c->nr_frags;
		kpv_shim_unlock(nf->lock, flags);
		return;
	}
	for (uint32_t i = 0; i < c->nr_frags; i++) {
		nf_rx_free(nf, c->frags[i].buf);
	}
}

/* The first fragment opens a chain: its offloads as negotiated, a total_len a packet can have. */
static bool rx_open(struct kpv_netfront *nf, struct nf_queue *q,
		    const struct keel_io_net_rx_response *rsp)
{
	struct kpv_net_rx *c = &q->chain;

	c->meta = (struct kpv_net_meta){
		.flags = (uint16_t)(rsp->flags & ~KEEL_IO_NET_PF_MORE),
		.csum_start = rsp->csum_start,
		.csum_offset = rsp->csum_offset,
		.gso_size = rsp->gso_size,
		.gso_type = rsp->gso_type,
	};
	if (rsp->total_len == 0 || rsp->total_len > KEEL_IO_NET_MAX_PACKET ||
	    !net_meta_ok(&c->meta, rsp->total_len, nf->link.features, NET_RX)) {
		return false;
	}
	c->len = rsp->total_len;
	c->nr_frags = 0;
	q->chain_open = true;
	return true;
}

/*
 * One RX response (net.md, "Validation"): its id a buffer posted on this
 * queue and not answered yet; within the page; chains of at most 18
 * fragments whose lengths add up to total_len. False: a protocol error.
 */
static bool rx_answer(struct kpv_netfront *nf, struct nf_queue *q, unsigned int index,
		      const struct keel_io_net_rx_response *rsp)
{
	struct kpv_net_rx *c = &q->chain;
	struct nf_rxbuf *b = rsp->id < nf->nr_rxb ? &nf->rxb[rsp->id] : NULL;
	uint32_t sum = 0;

	if (!b || b->state != RXB_POSTED || b->queue != index) {
		return false;
	}
	nf_ungrant(nf, b->gref);
	b->state = RXB_CHAIN;
	q->rx_posted--;
	if (rsp->status != KEEL_IO_NET_S_OK) {
		nf_rx_free(nf, rsp->id);	/* returned unused; never inside a packet */
		return !q->chain_open;
	}
	if ((uint32_t)rsp->offset + rsp->len > KPV_PAGE_SIZE) {
		return false;
	}
	if (q->chain_open ? !net_later_ok(rsp->flags, rsp->total_len, rsp->csum_start,
					    rsp->csum_offset, rsp->gso_size, rsp->gso_type)
			   : !rx_open(nf, q, rsp)) {
		return false;
	}
	if (c->nr_frags == KEEL_IO_NET_MAX_FRAGS) {
		return false;
	}
	c->frags[c->nr_frags++] = (struct kpv_net_rx_frag){
		.va = (uint8_t *)b->page + rsp->offset, .len = rsp->len, .buf = rsp->id,
	};
	for (uint32_t i = 0; i < c->nr_frags; i++) {
		sum += c->frags[i].len;
	}
	if (sum > c->len || (!(rsp->flags & KEEL_IO_NET_PF_MORE) && sum != c->len)) {
		return false;
	}
	if (!(rsp->flags & KEEL_IO_NET_PF_MORE)) {
		rx_deliver(nf, q, index);
	}
	return true;
}

/* --- the work -------------------------------------------------------------------- */

/*
 * Consume responses of @r with @answer, at most a ring's worth. Returns
 * true if the budget ran out (come back), false when caught up or failed.
 */
static bool consume(struct kpv_netfront *nf, struct nf_queue *q, unsigned int index,
		    struct kpv_ring *r, bool rx)
{
	uint32_t budget = r->nr_slots;
	union {
		struct keel_io_net_tx_response tx;
		struct keel_io_net_rx_response rx;
		uint8_t slot[KEEL_IO_NET_SLOT_SIZE];	/* the ring copies whole slots */
	} rsp;

	do {
		if (kpv_ring_fe_available(r) < 0) {
			nf_fail(nf, KEEL_IO_ERR_PROTOCOL);
			return false;
		}
		while (budget && kpv_ring_fe_take(r, &rsp)) {
			budget--;
			if (!(rx ? rx_answer(nf, q, index, &rsp.rx) : tx_answer(nf, q, &rsp.tx))) {
				nf_fail(nf, KEEL_IO_ERR_PROTOCOL);
				return false;
			}
		}
		if (!budget) {
			return true;
		}
	} while (kpv_ring_fe_arm(r));
	return false;
}

/* Tell the OS about a link change config_changed() noted. */
static void link_news(struct kpv_netfront *nf)
{
	unsigned long flags = kpv_shim_lock(nf->lock);
	bool up = nf->link_up;

	kpv_shim_unlock(nf->lock, flags);
	if (up != nf->link_told) {
		nf->link_told = up;
		nf->link.up = up;
		if (nf->ops.link) {
			nf->ops.link(nf->os, up);
		}
	}
}

void nf_work(void *ctx)
{
	struct kpv_netfront *nf = ctx;
	bool more = false;

	link_news(nf);
	for (unsigned int i = 0; i < nf->nq && !nf->failed; i++) {
		struct nf_queue *q = nf->q[i];

		more |= consume(nf, q, i, q->tx, false);
		if (!nf->failed) {
			tx_push(nf, q, 2 * i);
			more |= consume(nf, q, i, q->rx, true);
		}
		if (!nf->failed) {
			rx_post(nf, q, 2 * i + 1, i);
		}
	}
	if (more && !nf->failed) {
		kpv_shim_work_schedule(nf->work);
	}
}

/* --- a queue's connection ---------------------------------------------------------- */

void nf_queue_start(struct kpv_netfront *nf, struct nf_queue *q, unsigned int index)
{
	uint32_t slots;

	q->tx = kpv_dev_ring(nf->dev, 2 * index);
	q->rx = kpv_dev_ring(nf->dev, 2 * index + 1);
	slots = q->tx->nr_slots;
	for (uint32_t i = 0; i < slots; i++) {
		q->ids[i] = (struct nf_txid){ .pkt = NF_NONE, .next = (uint16_t)(i + 1) };
	}
	q->ids[slots - 1].next = NF_NONE;
	q->id_free = 0;
	q->rx_posted = 0;
	q->rx_want = NET_MIN(nf->cfg.rx_buffers, q->rx->nr_slots);
	q->chain_open = false;
}

void nf_queue_stop(struct kpv_netfront *nf, struct nf_queue *q)
{
	unsigned long flags;
	uint16_t idx;

	for (uint32_t i = 0; q->tx && i < q->tx->nr_slots; i++) {
		if (q->ids[i].pkt != NF_NONE) {
			nf_ungrant(nf, q->ids[i].gref);
			q->ids[i].pkt = NF_NONE;
		}
	}
	/* Packets that never reached the ring are dropped here, those in it by the caller. */
	for (;;) {
		flags = kpv_shim_lock(nf->lock);
		idx = q->pend_head;
		if (idx != NF_NONE) {
			q->pend_head = nf->txp[idx]->next;
		} else {
			q->pend_tail = NF_NONE;
		}
		kpv_shim_unlock(nf->lock, flags);
		if (idx == NF_NONE) {
			break;
		}
		nf_tx_finish(nf, idx, KPV_NET_DROPPED);
	}
	q->tx = q->rx = NULL;
	q->chain_open = false;
}
