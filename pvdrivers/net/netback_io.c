/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/netback_io.c - the backend's rings (docs/abi/devices/
 * net.md). TX: each request copied once and checked as it comes, a packet
 * copied out of the frontend's pages with grant copies (so TX pages are
 * never written, and may be read-only), handed to the outside, every
 * fragment answered with one status. RX: packets queued by
 * kpv_netback_receive() copied into posted pages from offset 0 with grant
 * copies that cover exactly the bytes answered. A work run does at most a
 * ring's worth per ring and comes back for the rest.
 */
#include "netback.h"

void nb_count(struct kpv_netback *nb, uint64_t *counter)
{
	unsigned long flags = kpv_shim_lock(nb->lock);

	(*counter)++;
	kpv_shim_unlock(nb->lock, flags);
}

static void nb_fail(struct kpv_netback *nb, uint32_t err)
{
	nb->failed = true;
	kpv_dev_fail(nb->dev, err);
}

static bool link_up(struct kpv_netback *nb)
{
	unsigned long flags = kpv_shim_lock(nb->lock);
	bool up = nb->link_up;

	kpv_shim_unlock(nb->lock, flags);
	return up;
}

/*
 * Run the copies; KPV_NET_OK, KPV_NET_DROPPED when we had no memory for
 * them, or a grant the frontend gave that cannot be copied (-1).
 */
static int copy_run(struct kpv_netback *nb, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		nb->copies[i].status = 1;	/* untouched when the batch could not start */
	}
	if (kpv_grant_copy(nb->k, nb->copies, n) == 0) {
		return KPV_NET_OK;
	}
	return nb->copies[0].status == 1 ? KPV_NET_DROPPED : -1;
}

/* --- TX ---------------------------------------------------------------------------- */

static void respond_tx(struct kpv_netback *nb, struct nb_queue *q, uint16_t status)
{
	for (uint32_t i = 0; i < q->nr; i++) {
		struct keel_io_net_tx_response *rsp = kpv_ring_be_next(q->tx);

		*rsp = (struct keel_io_net_tx_response){ .id = q->reqs[i].id, .status = status };
	}
	q->nr = 0;
}

static struct kpv_net_meta tx_meta(const struct keel_io_net_tx_request *r)
{
	return (struct kpv_net_meta){
		.flags = (uint16_t)(r->flags & ~KEEL_IO_NET_PF_MORE),
		.csum_start = r->csum_start,
		.csum_offset = r->csum_offset,
		.gso_size = r->gso_size,
		.gso_type = r->gso_type,
	};
}

/* Copies of every fragment into @pkt (a fragment may cross one of its pages). */
static unsigned int tx_copies(struct kpv_netback *nb, struct nb_queue *q, struct kpv_net_pkt *pkt)
{
	uint32_t peer = kpv_dev_peer(nb->dev), at = 0;
	unsigned int n = 0;

	for (uint32_t i = 0; i < q->nr; i++) {
		const struct keel_io_net_tx_request *r = &q->reqs[i];

		for (uint32_t done = 0; done < r->len;) {
			uint32_t in = at & (KPV_PAGE_SIZE - 1);
			uint32_t len = NET_MIN(r->len - done, KPV_PAGE_SIZE - in);

			nb->copies[n++] = (struct kpv_copy){
				.src_domid = peer, .src_ref = r->gref,
				.src_offset = (uint16_t)(r->offset + done),
				.dst_domid = KEEL_DOMID_SELF, .dst_va = pkt->pages[at >> KPV_PAGE_SHIFT],
				.dst_offset = (uint16_t)in, .len = (uint16_t)len,
			};
			done += len;
			at += len;
		}
	}
	return n;
}

/* A whole, valid packet: out to the outside, or dropped. Negative: the frontend's grant is bad. */
static int tx_packet(struct kpv_netback *nb, struct nb_queue *q)
{
	const struct keel_io_net_tx_request *first = &q->reqs[0];
	struct kpv_net_pkt *pkt;
	int rc;

	if (!link_up(nb) ||
	    (!(first->flags & KEEL_IO_NET_PF_GSO) && first->total_len > nb->mtu + KPV_NET_HDR_MAX)) {
		return KPV_NET_DROPPED;
	}
	pkt = kpv_net_pkt_alloc(first->total_len);
	if (!pkt) {
		return KPV_NET_DROPPED;
	}
	pkt->meta = tx_meta(first);
	rc = copy_run(nb, tx_copies(nb, q, pkt));
	if (rc == KPV_NET_OK) {
		rc = (int)nb->ops.deliver(nb->os, pkt);
	}
	kpv_net_pkt_put(pkt);
	return rc;
}

/*
 * The request just copied into q->reqs[q->nr], checked against those
 * before it (net.md, "Validation"); a packet's last one sends it. False: a
 * protocol error (@err says which).
 */
static bool tx_take(struct kpv_netback *nb, struct nb_queue *q, uint32_t *err)
{
	const struct keel_io_net_tx_request *r = &q->reqs[q->nr];
	const struct keel_io_net_tx_request *first = &q->reqs[0];
	struct kpv_net_meta meta = tx_meta(r);
	int rc;

	if (r->len == 0 || (uint32_t)r->offset + r->len > KPV_PAGE_SIZE) {
		return false;
	}
	if (q->nr == 0 && (r->total_len == 0 || r->total_len > KEEL_IO_NET_MAX_PACKET ||
			   !net_meta_ok(&meta, r->total_len, nb->features, NET_TX))) {
		return false;
	}
	if (q->nr > 0 && !net_later_ok(r->flags, r->total_len, r->csum_start, r->csum_offset,
				       r->gso_size, r->gso_type)) {
		return false;
	}
	q->sum = (q->nr == 0 ? 0 : q->sum) + r->len;
	q->nr++;
	if (q->sum > first->total_len) {
		return false;
	}
	if (r->flags & KEEL_IO_NET_PF_MORE) {
		return q->nr < KEEL_IO_NET_MAX_FRAGS;
	}
	if (q->sum != first->total_len) {
		return false;
	}
	rc = tx_packet(nb, q);
	if (rc < 0) {
		*err = KEEL_IO_ERR_GRANT;
		return false;
	}
	nb_count(nb, rc == KPV_NET_OK ? &nb->stats.tx_packets : &nb->stats.tx_dropped);
	respond_tx(nb, q, rc == KPV_NET_OK ? KEEL_IO_NET_S_OK : KEEL_IO_NET_S_DROPPED);
	return true;
}

/* At most a ring's worth of requests; true if more may wait. */
static bool tx_serve(struct kpv_netback *nb, struct nb_queue *q, unsigned int ring)
{
	uint32_t budget = q->tx->nr_slots, err;

	do {
		if (kpv_ring_be_available(q->tx) < 0) {
			nb_fail(nb, KEEL_IO_ERR_PROTOCOL);
			return false;
		}
		while (budget && kpv_ring_be_take(q->tx, &q->reqs[q->nr])) {
			budget--;
			err = KEEL_IO_ERR_PROTOCOL;
			if (!tx_take(nb, q, &err)) {
				nb_fail(nb, err);
				return false;
			}
		}
		if (kpv_ring_be_push(q->tx)) {
			kpv_dev_notify(nb->dev, ring);
		}
		if (!budget) {
			return true;
		}
	} while (kpv_ring_be_arm(q->tx));
	return false;
}

void nb_queue_stop(struct kpv_netback *nb, struct nb_queue *q, unsigned int index)
{
	if (q->tx && q->nr && !q->tx->broken) {
		respond_tx(nb, q, KEEL_IO_NET_S_DROPPED);
		if (kpv_ring_be_push(q->tx)) {
			kpv_dev_notify(nb->dev, 2 * index);
		}
	}
	q->nr = 0;
	q->tx = q->rx = NULL;
}

/* --- RX ---------------------------------------------------------------------------- */

enum rx_result {
	RX_DONE,			/* delivered or dropped */
	RX_WAIT,			/* too few buffers posted: armed, their post wakes us */
	RX_BUDGET,			/* this run has done enough */
	RX_FAIL,			/* a protocol error */
};

/* The queue of a packet: by its source address, so that a flow keeps to one queue. */
static struct nb_queue *rx_queue(struct kpv_netback *nb, const struct kpv_net_pkt *pkt,
				 unsigned int *index)
{
	uint32_t h = 0;

	for (uint32_t i = 6; i < 12 && i < pkt->len; i++) {
		h = h * 31u + pkt->pages[0][i];
	}
	*index = h % nb->nq;
	return nb->q[*index];
}

/* Whether the frontend can take @pkt at all (else it is dropped, never truncated). */
static bool rx_fits(const struct kpv_netback *nb, const struct kpv_net_pkt *pkt)
{
	if (pkt->meta.flags & KEEL_IO_NET_PF_GSO) {
		return (nb->features & net_gso_feature(pkt->meta.gso_type, NET_RX)) != 0;
	}
	return pkt->len <= nb->mtu + KPV_NET_HDR_MAX;
}

/*
 * Copies of pkt bytes [a, b) into buffer @gref from offset 0, but the two
 * bytes at @ck (if not ~0u), the checksum we completed, from nb->csum.
 */
static unsigned int rx_copies(struct kpv_netback *nb, const struct kpv_net_pkt *pkt, uint32_t gref,
			      uint32_t a, uint32_t b, uint32_t ck, unsigned int n)
{
	uint32_t peer = kpv_dev_peer(nb->dev), cut[4] = { a, b, b, b };

	if (ck != ~0u && ck < b && ck + 2u > a) {
		cut[1] = ck > a ? ck : a;
		cut[2] = NET_MIN(ck + 2u, b);
	}

	for (unsigned int i = 0; i < 3; i++) {
		bool csum = i == 1;

		if (cut[i + 1] <= cut[i]) {
			continue;
		}
		nb->copies[n++] = (struct kpv_copy){
			.src_domid = KEEL_DOMID_SELF,
			.src_va = csum ? nb->csum : pkt->pages[cut[i] >> KPV_PAGE_SHIFT],
			.src_offset = (uint16_t)(csum ? cut[i] - ck : cut[i] & (KPV_PAGE_SIZE - 1)),
			.dst_domid = peer, .dst_ref = gref, .dst_offset = (uint16_t)(cut[i] - a),
			.len = (uint16_t)(cut[i + 1] - cut[i]),
		};
	}
	return n;
}

/* The flags the frontend gets, and the checksum we complete for it (~0u: none). */
static uint16_t rx_flags(struct kpv_netback *nb, const struct kpv_net_pkt *pkt, uint32_t *ck)
{
	uint16_t f = pkt->meta.flags;

	*ck = ~0u;
	if (nb->features & KEEL_IO_NET_F_CSUM_RX) {
		return f;
	}
	if (f & KEEL_IO_NET_PF_CSUM_PARTIAL) {
		uint16_t sum = kpv_net_pkt_csum(pkt);

		*ck = (uint32_t)pkt->meta.csum_start + pkt->meta.csum_offset;
		nb->csum[0] = (uint8_t)(sum >> 8);
		nb->csum[1] = (uint8_t)sum;
	}
	return 0;
}

static void rx_respond(struct kpv_netback *nb, struct nb_queue *q, const struct kpv_net_pkt *pkt,
		       const struct keel_io_net_rx_request *reqs, uint32_t need, uint16_t flags)
{
	for (uint32_t i = 0; i < need; i++) {
		struct keel_io_net_rx_response *rsp = kpv_ring_be_next(q->rx);
		bool first = i == 0;
		uint32_t len = NET_MIN(pkt->len - i * KPV_PAGE_SIZE, KPV_PAGE_SIZE);

		*rsp = (struct keel_io_net_rx_response){
			.id = reqs[i].id,
			.flags = (uint16_t)((i + 1 < need ? KEEL_IO_NET_PF_MORE : 0) | (first ? flags : 0)),
			.len = pkt ? (uint16_t)len : 0,
			.total_len = first && pkt ? pkt->len : 0,
			.status = pkt ? KEEL_IO_NET_S_OK : KEEL_IO_NET_S_DROPPED,
		};
		if (first && pkt && (flags & KEEL_IO_NET_PF_CSUM_PARTIAL)) {
			rsp->csum_start = pkt->meta.csum_start;
			rsp->csum_offset = pkt->meta.csum_offset;
		}
		if (first && pkt && (flags & KEEL_IO_NET_PF_GSO)) {
			rsp->gso_size = pkt->meta.gso_size;
			rsp->gso_type = pkt->meta.gso_type;
		}
	}
}

/* One packet into posted buffers: one whole page each, from offset 0. */
static enum rx_result rx_one(struct kpv_netback *nb, struct kpv_net_pkt *pkt, uint32_t *budget)
{
	struct keel_io_net_rx_request reqs[KPV_NET_PKT_PAGES];
	uint32_t need = NET_PAGES(pkt->len), ck, n = 0;
	unsigned int index;
	struct nb_queue *q = rx_queue(nb, pkt, &index);
	uint16_t flags;
	int avail, rc;

	if (need > *budget) {
		return RX_BUDGET;
	}
	avail = kpv_ring_be_available(q->rx);
	if (avail >= 0 && (uint32_t)avail < need) {
		/* Woken only once enough are posted: a packet is never delivered in part. */
		if (!kpv_ring_be_arm_for(q->rx, need)) {
			return RX_WAIT;
		}
		avail = kpv_ring_be_available(q->rx);
	}
	if (avail < 0) {
		nb_fail(nb, KEEL_IO_ERR_PROTOCOL);
		return RX_FAIL;
	}
	if ((uint32_t)avail < need) {
		return RX_WAIT;
	}
	*budget -= need;
	for (uint32_t i = 0; i < need; i++) {
		uint8_t slot[KEEL_IO_NET_SLOT_SIZE];	/* the ring copies whole slots */

		kpv_ring_be_take(q->rx, slot);
		net_memcpy(&reqs[i], slot, sizeof(reqs[i]));
	}
	flags = rx_flags(nb, pkt, &ck);
	for (uint32_t i = 0; i < need; i++) {
		n = rx_copies(nb, pkt, reqs[i].gref, i * KPV_PAGE_SIZE,
			      NET_MIN(pkt->len, (i + 1) * KPV_PAGE_SIZE), ck, n);
	}
	rc = copy_run(nb, n);
	if (rc < 0) {
		nb_fail(nb, KEEL_IO_ERR_GRANT);
		return RX_FAIL;
	}
	rx_respond(nb, q, rc == KPV_NET_OK ? pkt : NULL, reqs, need, flags);
	nb_count(nb, rc == KPV_NET_OK ? &nb->stats.rx_packets : &nb->stats.rx_dropped);
	if (rc == KPV_NET_OK && ck != ~0u) {
		nb_count(nb, &nb->stats.rx_csum_completed);
	}
	if (kpv_ring_be_push(q->rx)) {
		kpv_dev_notify(nb->dev, 2 * index + 1);
	}
	return RX_DONE;
}

/* The head of the queue toward the frontend, still queued. */
static struct kpv_net_pkt *rxq_head(struct kpv_netback *nb)
{
	unsigned long flags = kpv_shim_lock(nb->lock);
	struct kpv_net_pkt *pkt = nb->rxq_count ? nb->rxq[nb->rxq_head] : NULL;

	kpv_shim_unlock(nb->lock, flags);
	return pkt;
}

void nb_rxq_pop(struct kpv_netback *nb)
{
	unsigned long flags = kpv_shim_lock(nb->lock);
	struct kpv_net_pkt *pkt = nb->rxq[nb->rxq_head];

	nb->rxq_head = (nb->rxq_head + 1) % nb->cfg.rxq_packets;
	nb->rxq_count--;
	nb->rxq_pages -= NET_PAGES(pkt->len);
	kpv_shim_unlock(nb->lock, flags);
	kpv_net_pkt_put(pkt);
}

/* Packets to the frontend until it has no room or the budget is spent; true: come back. */
static bool rx_serve(struct kpv_netback *nb)
{
	uint32_t budget = nb->q[0]->rx->nr_slots * nb->nq;
	struct kpv_net_pkt *pkt;

	while ((pkt = rxq_head(nb)) != NULL) {
		enum rx_result r = RX_DONE;

		if (link_up(nb) && rx_fits(nb, pkt)) {
			r = rx_one(nb, pkt, &budget);
		} else {
			nb_count(nb, &nb->stats.rx_dropped);
		}
		if (r != RX_DONE) {
			return r == RX_BUDGET;
		}
		nb_rxq_pop(nb);
	}
	return false;
}

void nb_work(void *ctx)
{
	struct kpv_netback *nb = ctx;
	bool more = false;

	for (unsigned int i = 0; i < nb->nq && !nb->failed; i++) {
		more |= tx_serve(nb, nb->q[i], 2 * i);
	}
	if (!nb->failed) {
		more |= rx_serve(nb);
	}
	nb_count(nb, &nb->stats.work_runs);
	if (more && !nb->failed) {
		nb_count(nb, &nb->stats.work_deferred);
		kpv_shim_work_schedule(nb->work);
	}
}
