/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/netfront.c - the net frontend: the OS's interface on a PV
 * net device (docs/abi/devices/net.md). Chooses features and queues from
 * the offer, tells the OS its MAC, MTU and link on every connection, takes
 * packets to send from any context, and on backend loss drops what was in
 * flight and takes its RX pages back before reconnecting on fresh rings.
 * The rings themselves are netfront_io.c's.
 */
#include "netfront.h"

/* --- the class ---------------------------------------------------------------------- */

/* The offer's config must be usable: an MTU in range, a unicast MAC. */
static bool config_ok(uint64_t f, const struct keel_io_net_config *c)
{
	static const uint8_t zero[6];

	if ((f & KEEL_IO_NET_F_MTU) && (c->mtu < NET_MTU_MIN || c->mtu > NET_MTU_MAX)) {
		return false;
	}
	return !(f & KEEL_IO_NET_F_MAC) || (!(c->mac[0] & 1) && net_memcmp(c->mac, zero, 6) != 0);
}

static uint32_t nf_choose(void *drv, const struct kpv_offer *offer, struct kpv_commit *commit)
{
	struct kpv_netfront *nf = drv;
	struct keel_io_net_config c;
	uint64_t f = offer->features, accept;
	uint32_t nq = 1, order = NET_MIN(NET_MIN(nf->cfg.ring_order, offer->max_ring_order),
					 NF_MAX_ORDER);

	net_config_read(offer->config, &c);
	if (!config_ok(f, &c)) {
		return KEEL_IO_ERR_CONFIG;
	}
	if (offer->max_rings < 2) {
		return KEEL_IO_ERR_RINGS;
	}
	/* What the OS can use, and a GSO type only with its checksum offload (net.md). */
	accept = f & ((nf->cfg.features & NET_F_OFFLOADS) | KEEL_IO_NET_F_MTU | KEEL_IO_NET_F_MAC |
		      KEEL_IO_NET_F_LINK_STATE);
	accept = net_features_consistent(accept);
	if ((f & KEEL_IO_NET_F_MULTI_QUEUE) && nf->cfg.queues > 1) {
		nq = NET_MIN(nf->cfg.queues, offer->max_rings / 2);
		accept |= nq > 1 ? KEEL_IO_NET_F_MULTI_QUEUE : 0;
	}
	commit->features = accept;
	commit->nr_rings = 2 * nq;
	for (uint32_t i = 0; i < commit->nr_rings; i++) {
		commit->ring_order[i] = order;
	}
	return 0;
}

/* The interface of this connection, read afresh from the offer it was made on. */
static void read_link(struct kpv_netfront *nf)
{
	struct kpv_net_link *l = &nf->link;
	uint64_t f = kpv_dev_features(nf->dev);

	net_config_read(kpv_dev_config(nf->dev), &nf->config);
	net_memcpy(l->mac, (f & KEEL_IO_NET_F_MAC) ? nf->config.mac : nf->own_mac, 6);
	l->mtu = (f & KEEL_IO_NET_F_MTU) ? nf->config.mtu : KEEL_IO_NET_MTU_DEFAULT;
	l->up = !(f & KEEL_IO_NET_F_LINK_STATE) || (nf->config.link_flags & KEEL_IO_NET_LINK_UP);
	l->features = f;
	l->queues = kpv_dev_nr_rings(nf->dev) / 2;
}

/* RX pages for @want buffers (a reconnect may want more); false if out of memory. */
static bool rx_pool(struct kpv_netfront *nf, uint32_t want)
{
	while (nf->nr_rxb < want) {
		uint32_t b = nf->nr_rxb;

		nf->rxb[b].page = kpv_shim_page_alloc();
		if (!nf->rxb[b].page) {
			return false;
		}
		nf->nr_rxb++;
		nf_rx_free(nf, b);
	}
	return true;
}

static void nf_connected(void *drv, struct kpv_dev *dev)
{
	struct kpv_netfront *nf = drv;
	struct kpv_work *work;
	unsigned long flags;

	nf->dev = dev;
	nf->failed = false;
	read_link(nf);
	nf->nq = nf->link.queues;
	work = kpv_shim_work_create(nf_work, nf);
	if (!work || !rx_pool(nf, nf->nq * nf->cfg.rx_buffers)) {
		if (work) {
			kpv_shim_work_destroy(work);
		}
		nf_fail(nf, KEEL_IO_ERR_RESOURCE);
		return;
	}
	for (unsigned int i = 0; i < nf->nq; i++) {
		nf_queue_start(nf, nf->q[i], i);
	}
	nf->link_told = nf->link.up;
	flags = kpv_shim_lock(nf->lock);
	nf->work = work;
	nf->up = true;
	nf->link_up = nf->link.up;
	kpv_shim_unlock(nf->lock, flags);
	nf->ops.up(nf->os, &nf->link);
	kpv_shim_work_schedule(work);
}

/* handshake.md "Reconnect", net.md: TX in flight dropped, RX pages taken back. */
static void nf_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct kpv_netfront *nf = drv;
	unsigned long flags = kpv_shim_lock(nf->lock);
	struct kpv_work *work = nf->work;
	bool was_up = nf->up;

	nf->work = NULL;
	nf->up = false;
	kpv_shim_unlock(nf->lock, flags);
	if (work) {
		kpv_shim_work_destroy(work);
	}
	if (was_up) {
		nf->ops.down(nf->os);
	}
	for (unsigned int i = 0; i < nf->nq; i++) {
		nf_queue_stop(nf, nf->q[i]);
	}
	for (uint32_t i = 0; i < nf->cfg.tx_packets; i++) {
		if (nf->txp[i]->posted) {
			nf->txp[i]->posted = false;
			nf_tx_finish(nf, (uint16_t)i, KPV_NET_DROPPED);
		}
	}
	for (uint32_t b = 0; b < nf->nr_rxb; b++) {
		if (nf->rxb[b].state == RXB_POSTED) {
			nf_ungrant(nf, nf->rxb[b].gref);
		}
		if (nf->rxb[b].state == RXB_POSTED || nf->rxb[b].state == RXB_CHAIN) {
			nf_rx_free(nf, b);
		}
	}
	nf->nq = 0;
}

/*
 * A live field changed. Only link_flags may (handshake.md); anything else
 * in a connected offer changing is the backend's error.
 */
static void nf_config_changed(void *drv, struct kpv_dev *dev, const uint8_t *config)
{
	struct kpv_netfront *nf = drv;
	struct keel_io_net_config c;
	unsigned long flags;
	struct kpv_work *work;

	net_config_read(config, &c);
	c.link_flags = nf->config.link_flags;
	if (net_memcmp(&c, &nf->config, sizeof(c)) != 0) {
		kpv_dev_fail(dev, KEEL_IO_ERR_CONFIG);	/* the work stops when disconnected() destroys it */
		return;
	}
	net_config_read(config, &c);
	if (!(nf->link.features & KEEL_IO_NET_F_LINK_STATE)) {
		return;
	}
	flags = kpv_shim_lock(nf->lock);
	nf->link_up = (c.link_flags & KEEL_IO_NET_LINK_UP) != 0;
	work = nf->work;
	if (work) {
		kpv_shim_work_schedule(work);	/* the OS hears it from the work, in turn */
	}
	kpv_shim_unlock(nf->lock, flags);
}

static void nf_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct kpv_netfront *nf = drv;
	unsigned long flags = kpv_shim_lock(nf->lock);

	if (nf->work) {
		kpv_shim_work_schedule(nf->work);
	}
	kpv_shim_unlock(nf->lock, flags);
}

static void nf_free(struct kpv_netfront *nf)
{
	for (uint32_t i = 0; i < KPV_NET_MAX_QUEUES; i++) {
		if (nf->q[i]) {
			kpv_shim_free(nf->q[i]->ids);
			kpv_shim_free(nf->q[i]);
		}
	}
	for (uint32_t i = 0; i < NF_TX_MAX; i++) {
		kpv_shim_free(nf->txp[i]);
	}
	for (uint32_t b = 0; nf->rxb && b < nf->nr_rxb; b++) {
		kpv_shim_page_free(nf->rxb[b].page);
	}
	kpv_shim_free(nf->rxb);
	if (nf->lock) {
		kpv_shim_lock_destroy(nf->lock);
	}
	kpv_shim_free(nf);
}

static void nf_released(void *drv)
{
	struct kpv_netfront *nf = drv;
	void (*released)(void *os) = nf->ops.released;
	void *os = nf->os;

	nf_free(nf);
	released(os);
}

static const struct kpv_fe_class netfront_class = {
	.device_class = KEEL_IO_CLASS_NET,
	.slot_size = KEEL_IO_NET_SLOT_SIZE,
	.choose = nf_choose,
	.connected = nf_connected,
	.disconnected = nf_disconnected,
	.ring_event = nf_ring_event,
	.config_changed = nf_config_changed,
	.released = nf_released,
};

/* --- open and close ------------------------------------------------------------------ */

/* Defaults for zero fields, limits for the rest. */
static void config_fill(struct kpv_netfront_config *c)
{
	c->queues = c->queues ? NET_MIN(c->queues, KPV_NET_MAX_QUEUES) : 1;
	c->ring_order = NET_MIN(c->ring_order, NF_MAX_ORDER);
	if (!c->rx_buffers || c->rx_buffers > NET_SLOTS(c->ring_order)) {
		c->rx_buffers = NET_SLOTS(c->ring_order);
	}
	c->rx_buffers = NET_MIN(c->rx_buffers, NF_RX_MAX / c->queues);
	c->tx_packets = c->tx_packets ? NET_MIN(c->tx_packets, NF_TX_MAX) : 64;
}

/* The made-up address (net.h says why this shape). */
static void make_mac(struct kpv_netfront *nf, uint32_t domid, uint32_t device_id)
{
	uint64_t t = kpv_shim_now_ns();
	uint8_t mix = 0;

	for (int i = 0; i < 8; i++) {
		mix ^= (uint8_t)(t >> (8 * i));
	}
	nf->own_mac[0] = 0x02;		/* locally administered, unicast */
	nf->own_mac[1] = mix;
	nf->own_mac[2] = (uint8_t)(domid >> 8);
	nf->own_mac[3] = (uint8_t)domid;
	nf->own_mac[4] = (uint8_t)(device_id >> 8);
	nf->own_mac[5] = (uint8_t)device_id;
}

static bool nf_alloc(struct kpv_netfront *nf)
{
	nf->lock = kpv_shim_lock_create();
	nf->rxb = kpv_shim_alloc(NF_RX_MAX * sizeof(*nf->rxb));
	if (!nf->lock || !nf->rxb) {
		return false;
	}
	for (uint32_t i = 0; i < nf->cfg.queues; i++) {
		nf->q[i] = kpv_shim_alloc(sizeof(*nf->q[i]));
		if (!nf->q[i]) {
			return false;
		}
		nf->q[i]->pend_head = nf->q[i]->pend_tail = NF_NONE;
		nf->q[i]->ids = kpv_shim_alloc(NET_SLOTS(NF_MAX_ORDER) * sizeof(struct nf_txid));
		if (!nf->q[i]->ids) {
			return false;
		}
	}
	nf->rx_free = nf->tx_free = NF_NONE;
	for (uint32_t i = nf->cfg.tx_packets; i-- > 0;) {
		nf->txp[i] = kpv_shim_alloc(sizeof(*nf->txp[i]));
		if (!nf->txp[i]) {
			return false;
		}
		nf->txp[i]->next = nf->tx_free;
		nf->tx_free = (uint16_t)i;
	}
	return true;
}

int kpv_netfront_open(struct kpv *k, const struct kpv_device_info *info,
		      const struct kpv_netfront_config *cfg, const struct kpv_netfront_ops *ops,
		      void *os, struct kpv_netfront **out)
{
	struct kpv_netfront *nf;
	int rc;

	if (!ops->up || !ops->down || !ops->tx_done || !ops->rx || !ops->released) {
		return -KEEL_EINVAL;
	}
	nf = kpv_shim_alloc(sizeof(*nf));
	if (!nf) {
		return -KEEL_ENOMEM;
	}
	nf->k = k;
	nf->cfg = *cfg;
	nf->ops = *ops;
	nf->os = os;
	config_fill(&nf->cfg);
	make_mac(nf, kpv_domid(k), info->device_id);
	if (!nf_alloc(nf)) {
		nf_free(nf);
		return -KEEL_ENOMEM;
	}
	rc = kpv_fe_open(k, info, &netfront_class, nf, &nf->dev);
	if (rc != 0) {
		nf_free(nf);
		return rc;
	}
	*out = nf;
	return 0;
}

int kpv_netfront_close(struct kpv_netfront *nf, bool removed)
{
	unsigned long flags = kpv_shim_lock(nf->lock);
	uint32_t lent = nf->rx_lent;

	kpv_shim_unlock(nf->lock, flags);
	if (lent) {
		return -KEEL_EBUSY;
	}
	kpv_dev_close(nf->dev, removed);
	return 0;
}

struct kpv_dev *kpv_netfront_dev(const struct kpv_netfront *nf)
{
	return nf->dev;
}

/* --- the OS's calls ------------------------------------------------------------------ */

/* What send() checks before taking a packet (the backend would call it a protocol error). */
static bool tx_ok(const struct kpv_netfront *nf, const struct kpv_net_tx *t)
{
	uint32_t total = 0;

	if (t->nr_frags < 1 || t->nr_frags > KEEL_IO_NET_MAX_FRAGS) {
		return false;
	}
	for (uint32_t i = 0; i < t->nr_frags; i++) {
		uint32_t off = (uint32_t)((uintptr_t)t->frags[i].va & (KPV_PAGE_SIZE - 1));

		if (t->frags[i].len < 1 || t->frags[i].len > KPV_PAGE_SIZE - off) {
			return false;
		}
		total += t->frags[i].len;
	}
	if (total > KEEL_IO_NET_MAX_PACKET ||
	    !net_meta_ok(&t->meta, total, nf->link.features, NET_TX)) {
		return false;
	}
	return (t->meta.flags & KEEL_IO_NET_PF_GSO) || total <= nf->link.mtu + KPV_NET_HDR_MAX;
}

int kpv_netfront_send(struct kpv_netfront *nf, const struct kpv_net_tx *pkt)
{
	unsigned long flags = kpv_shim_lock(nf->lock);
	struct nf_queue *q;
	uint16_t idx;
	int rc = 0;

	if (!nf->up) {
		rc = -KEEL_EBUSY;
	} else if (!tx_ok(nf, pkt)) {
		rc = -KEEL_EINVAL;
	} else if (nf->tx_free == NF_NONE) {
		rc = -KEEL_EAGAIN;
	}
	if (rc != 0) {
		kpv_shim_unlock(nf->lock, flags);
		return rc;
	}
	idx = nf->tx_free;
	nf->tx_free = nf->txp[idx]->next;
	nf->txp[idx]->tx = *pkt;
	nf->txp[idx]->next = NF_NONE;
	q = nf->q[pkt->queue % nf->nq];
	if (q->pend_tail == NF_NONE) {
		q->pend_head = idx;
	} else {
		nf->txp[q->pend_tail]->next = idx;
	}
	q->pend_tail = idx;
	kpv_shim_work_schedule(nf->work);
	kpv_shim_unlock(nf->lock, flags);
	return 0;
}

void kpv_netfront_rx_return(struct kpv_netfront *nf, uint32_t buf)
{
	unsigned long flags = kpv_shim_lock(nf->lock);

	if (buf >= nf->nr_rxb || nf->rxb[buf].state != RXB_OS) {
		kpv_shim_unlock(nf->lock, flags);
		kpv_log(KPV_LOG_ERROR, "kpv-net: buffer %u given back but not lent", buf);
		return;
	}
	nf->rx_lent--;
	nf->rxb[buf].state = RXB_FREE;
	nf->rxb[buf].next = nf->rx_free;
	nf->rx_free = (uint16_t)buf;
	if (nf->work) {
		kpv_shim_work_schedule(nf->work);
	}
	kpv_shim_unlock(nf->lock, flags);
}
