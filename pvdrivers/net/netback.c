/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/netback.c - the net backend: serves one frontend
 * (docs/abi/devices/net.md) and connects it to an abstract packet
 * interface: ops->deliver() takes what the frontend sends, and
 * kpv_netback_receive() queues what the outside sends it, in a queue
 * bounded by packets and pages. Offers MAC, MTU, offloads and a live link
 * state; checks the frontend's choice. The rings are netback_io.c's.
 */
#include "netback.h"

/* --- the class ---------------------------------------------------------------------- */

static void nb_offer(void *drv, struct kpv_offer *o)
{
	struct kpv_netback *nb = drv;
	const struct kpv_netback_config *c = &nb->cfg;
	unsigned long flags = kpv_shim_lock(nb->lock);
	struct keel_io_net_config config = {
		.mtu = c->mtu,
		.link_flags = nb->link_up ? KEEL_IO_NET_LINK_UP : 0,
	};

	kpv_shim_unlock(nb->lock, flags);
	net_memcpy(config.mac, c->mac, 6);
	o->features = net_features_consistent(c->features & NET_F_OFFLOADS) |
		      (c->mtu ? KEEL_IO_NET_F_MTU : 0) | (c->has_mac ? KEEL_IO_NET_F_MAC : 0) |
		      (c->link_state ? KEEL_IO_NET_F_LINK_STATE : 0) |
		      (c->max_queues > 1 ? KEEL_IO_NET_F_MULTI_QUEUE : 0);
	o->max_rings = 2 * c->max_queues;
	o->max_ring_order = c->max_ring_order;
	net_memcpy(o->config, &config, sizeof(config));
}

/* Rings in TX/RX pairs, one pair without F_MULTI_QUEUE; GSO only with its checksum offload. */
static uint32_t nb_check_commit(void *drv, const struct kpv_offer *offer,
				const struct kpv_commit *c)
{
	if (c->nr_rings % 2 != 0 ||
	    (!(c->features & KEEL_IO_NET_F_MULTI_QUEUE) && c->nr_rings != 2)) {
		return KEEL_IO_ERR_RINGS;
	}
	if (net_features_consistent(c->features) != c->features) {
		return KEEL_IO_ERR_FEATURES;
	}
	return 0;
}

static void nb_connected(void *drv, struct kpv_dev *dev)
{
	struct kpv_netback *nb = drv;
	struct kpv_work *work = kpv_shim_work_create(nb_work, nb);
	unsigned long flags;

	nb->dev = dev;
	nb->failed = false;
	if (!work) {
		nb->failed = true;
		kpv_dev_fail(dev, KEEL_IO_ERR_RESOURCE);
		return;
	}
	nb->features = kpv_dev_features(dev);
	nb->mtu = nb->cfg.mtu ? nb->cfg.mtu : KEEL_IO_NET_MTU_DEFAULT;
	nb->nq = kpv_dev_nr_rings(dev) / 2;
	for (unsigned int i = 0; i < nb->nq; i++) {
		nb->q[i]->tx = kpv_dev_ring(dev, 2 * i);
		nb->q[i]->rx = kpv_dev_ring(dev, 2 * i + 1);
		nb->q[i]->nr = 0;
	}
	flags = kpv_shim_lock(nb->lock);
	nb->work = work;
	nb->connected = true;
	nb->live_link = (nb->features & KEEL_IO_NET_F_LINK_STATE) != 0;
	if (nb->live_link) {
		/* The link may have changed since the offer was written. */
		kpv_dev_config_update(dev, offsetof(struct keel_io_net_config, link_flags),
				      nb->link_up ? KEEL_IO_NET_LINK_UP : 0, 4);
	}
	kpv_shim_unlock(nb->lock, flags);
	if (nb->ops.state) {
		nb->ops.state(nb->os, true);
	}
	kpv_shim_work_schedule(work);
}

/* Answer what is half-taken, drop what waits for the frontend. */
static void nb_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct kpv_netback *nb = drv;
	unsigned long flags = kpv_shim_lock(nb->lock);
	struct kpv_work *work = nb->work;
	bool was = nb->connected;

	nb->work = NULL;
	nb->connected = false;
	nb->live_link = false;
	kpv_shim_unlock(nb->lock, flags);
	if (work) {
		kpv_shim_work_destroy(work);
	}
	for (unsigned int i = 0; i < nb->nq; i++) {
		nb_queue_stop(nb, nb->q[i], i);
	}
	nb->nq = 0;
	while (nb->rxq_count) {
		nb_count(nb, &nb->stats.rx_dropped);
		nb_rxq_pop(nb);
	}
	if (was && nb->ops.state) {
		nb->ops.state(nb->os, false);
	}
}

static void nb_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct kpv_netback *nb = drv;
	unsigned long flags = kpv_shim_lock(nb->lock);

	if (nb->work) {
		kpv_shim_work_schedule(nb->work);
	}
	kpv_shim_unlock(nb->lock, flags);
}

static void nb_free(struct kpv_netback *nb)
{
	for (unsigned int i = 0; i < KPV_NET_MAX_QUEUES; i++) {
		kpv_shim_free(nb->q[i]);
	}
	kpv_shim_free(nb->rxq);
	kpv_shim_free(nb->copies);
	kpv_shim_free(nb->csum);
	if (nb->lock) {
		kpv_shim_lock_destroy(nb->lock);
	}
	kpv_shim_free(nb);
}

static void nb_released(void *drv)
{
	struct kpv_netback *nb = drv;
	void (*released)(void *os) = nb->ops.released;
	void *os = nb->os;

	nb_free(nb);
	released(os);
}

static const struct kpv_be_class netback_class = {
	.device_class = KEEL_IO_CLASS_NET,
	.slot_size = KEEL_IO_NET_SLOT_SIZE,
	.offer = nb_offer,
	.check_commit = nb_check_commit,
	.connected = nb_connected,
	.disconnected = nb_disconnected,
	.ring_event = nb_ring_event,
	.released = nb_released,
};

/* --- open and close ------------------------------------------------------------------ */

static bool config_fill(struct kpv_netback_config *c)
{
	c->max_queues = c->max_queues ? c->max_queues : 1;
	c->rxq_packets = c->rxq_packets ? NET_MIN(c->rxq_packets, NB_RXQ_MAX) : 64;
	c->rxq_pages = c->rxq_pages ? c->rxq_pages : 256;
	return c->max_queues <= KPV_NET_MAX_QUEUES && c->max_ring_order <= KEEL_IO_RING_MAX_ORDER &&
	       (!c->mtu || (c->mtu >= NET_MTU_MIN && c->mtu <= NET_MTU_MAX)) &&
	       (!c->has_mac || !(c->mac[0] & 1));
}

static bool nb_alloc(struct kpv_netback *nb)
{
	nb->lock = kpv_shim_lock_create();
	nb->rxq = kpv_shim_alloc(nb->cfg.rxq_packets * sizeof(*nb->rxq));
	nb->copies = kpv_shim_alloc(NB_COPIES * sizeof(*nb->copies));
	nb->csum = kpv_shim_alloc(2);
	for (unsigned int i = 0; i < nb->cfg.max_queues; i++) {
		nb->q[i] = kpv_shim_alloc(sizeof(*nb->q[i]));
		if (!nb->q[i]) {
			return false;
		}
	}
	return nb->lock && nb->rxq && nb->copies && nb->csum;
}

int kpv_netback_open(struct kpv *k, const struct kpv_device_info *info,
		     const struct kpv_netback_config *cfg, const struct kpv_netback_ops *ops,
		     void *os, struct kpv_netback **out)
{
	struct kpv_netback *nb;
	int rc;

	if (!ops->deliver || !ops->released) {
		return -KEEL_EINVAL;
	}
	nb = kpv_shim_alloc(sizeof(*nb));
	if (!nb) {
		return -KEEL_ENOMEM;
	}
	nb->k = k;
	nb->cfg = *cfg;
	nb->ops = *ops;
	nb->os = os;
	nb->link_up = true;
	if (!config_fill(&nb->cfg)) {
		nb_free(nb);
		return -KEEL_EINVAL;
	}
	if (!nb_alloc(nb)) {
		nb_free(nb);
		return -KEEL_ENOMEM;
	}
	rc = kpv_be_open(k, info, &netback_class, nb, &nb->dev);
	if (rc != 0) {
		nb_free(nb);
		return rc;
	}
	*out = nb;
	return 0;
}

void kpv_netback_close(struct kpv_netback *nb, bool removed)
{
	unsigned long flags = kpv_shim_lock(nb->lock);

	nb->closing = true;	/* the control page goes: no more live updates */
	kpv_shim_unlock(nb->lock, flags);
	kpv_dev_close(nb->dev, removed);
}

struct kpv_dev *kpv_netback_dev(const struct kpv_netback *nb)
{
	return nb->dev;
}

/* --- the outside's calls --------------------------------------------------------------- */

int kpv_netback_receive(struct kpv_netback *nb, struct kpv_net_pkt *pkt)
{
	uint32_t pages = NET_PAGES(pkt->len);
	unsigned long flags;
	int rc = 0;

	/* Offloads the frontend could not parse would be its protocol error: not sent. */
	if (!net_meta_ok(&pkt->meta, pkt->len, ~0ull, NET_RX)) {
		nb_count(nb, &nb->stats.rx_malformed);
		return -KEEL_EINVAL;
	}
	flags = kpv_shim_lock(nb->lock);
	if (!nb->connected || !nb->link_up) {
		rc = -KEEL_EBUSY;
	} else if (nb->rxq_count == nb->cfg.rxq_packets ||
		   nb->rxq_pages + pages > nb->cfg.rxq_pages) {
		rc = -KEEL_EAGAIN;
		nb->stats.rx_dropped++;
	} else {
		kpv_net_pkt_get(pkt);
		nb->rxq[(nb->rxq_head + nb->rxq_count) % nb->cfg.rxq_packets] = pkt;
		nb->rxq_count++;
		nb->rxq_pages += pages;
		kpv_shim_work_schedule(nb->work);
	}
	kpv_shim_unlock(nb->lock, flags);
	return rc;
}

int kpv_netback_port(void *nb, struct kpv_net_pkt *pkt)
{
	return kpv_netback_receive(nb, pkt);
}

void kpv_netback_set_link(struct kpv_netback *nb, bool up)
{
	unsigned long flags = kpv_shim_lock(nb->lock);

	nb->link_up = up;
	/* Connected with F_LINK_STATE: live. Offered: the offer changes too (connecting re-publishes). */
	if ((nb->live_link || nb->cfg.link_state) && !nb->closing) {
		kpv_dev_config_update(nb->dev, offsetof(struct keel_io_net_config, link_flags),
				      up ? KEEL_IO_NET_LINK_UP : 0, 4);
	}
	if (nb->work) {
		kpv_shim_work_schedule(nb->work);
	}
	kpv_shim_unlock(nb->lock, flags);
}

void kpv_netback_stats(struct kpv_netback *nb, struct kpv_netback_stats *out)
{
	unsigned long flags = kpv_shim_lock(nb->lock);

	*out = nb->stats;
	kpv_shim_unlock(nb->lock, flags);
}
