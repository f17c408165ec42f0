// SPDX-License-Identifier: MIT
/*
 * keel_net.c - the PV network frontend as an Ethernet net_device (kethN),
 * one per net device, on pvdrivers' netfront (keel_pv/net.h).
 *
 * Transmit hands the skb's pieces (each within a page) to
 * kpv_netfront_send() and frees the skb in tx_done(). Receive: pvdrivers
 * delivers each validated packet in thread context; it is copied into an
 * skb (its buffers go straight back to the ring) and queued for NAPI, whose
 * poll hands the batch to GRO in softirq context.
 *
 * The interface is registered at the first connection, when the MAC and
 * MTU are known; carrier follows the connection and the backend's link
 * state. Checksum offload is used only when negotiated (F_CSUM_TX: we send
 * CHECKSUM_PARTIAL; F_CSUM_RX: the backend's PARTIAL/DATA_VALID are passed
 * on), and asked for only with net_csum=1 (the default). What was
 * negotiated and how often each offload was used is in sysfs,
 * /sys/class/net/kethN/keel/. Registration, carrier and feature changes
 * need RTNL, so callbacks only record the state and a work item applies it.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/etherdevice.h>
#include <linux/idr.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>

#include <keel_pv/net.h>

#include "keel_linux.h"

#define KEEL_NET_MTU		1500
/* Received packets waiting for NAPI at most; more are dropped (and counted). */
#define KEEL_NET_RX_BACKLOG	1024

/* Read at each device's open: a backend's checksum offload is accepted only with it. */
static bool net_csum = true;
module_param(net_csum, bool, 0444);
MODULE_PARM_DESC(net_csum, "Accept the backend's checksum offload (default 1; 0 sums every packet in the guest)");

struct keel_net {
	struct keel_frontend fe;
	struct net_device *dev;
	struct kpv_netfront *nf;
	int index;

	spinlock_t state_lock;		/* guards the state below */
	bool connected;
	bool link_up;
	bool removing;			/* no more sync work may be queued */
	struct kpv_net_link link;	/* of the last connection */
	struct work_struct sync_work;	/* applies the state under RTNL */
	bool registered;		/* sync_work and remove only */

	struct napi_struct napi;
	struct sk_buff_head rx_queue;

	atomic64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	atomic64_t rx_packets, rx_bytes, rx_dropped;
	/* Offloads used, per packet (sysfs keel/): sent PARTIAL, received PARTIAL or DATA_VALID. */
	atomic64_t tx_csum_partial, rx_csum_partial, rx_csum_valid;

	struct completion released;
};

static DEFINE_IDA(keel_net_ida);

static u64 keel_net_negotiated(struct keel_net *n)
{
	unsigned long flags;
	u64 features;

	spin_lock_irqsave(&n->state_lock, flags);
	features = n->connected ? n->link.features : 0;
	spin_unlock_irqrestore(&n->state_lock, flags);
	return features;
}

/* --- Transmit ------------------------------------------------------------------- */

/* Add [va, va + len) as fragments that each stay inside one page. */
static int keel_net_add(struct kpv_net_tx *tx, const u8 *va, unsigned int len)
{
	while (len) {
		unsigned int piece = min_t(unsigned int, len, PAGE_SIZE - offset_in_page(va));

		if (tx->nr_frags == KEEL_IO_NET_MAX_FRAGS)
			return -E2BIG;
		tx->frags[tx->nr_frags].va = va;
		tx->frags[tx->nr_frags].len = piece;
		tx->nr_frags++;
		va += piece;
		len -= piece;
	}
	return 0;
}

static int keel_net_frags(struct sk_buff *skb, struct kpv_net_tx *tx)
{
	int rc = keel_net_add(tx, skb->data, skb_headlen(skb));

	for (int i = 0; rc == 0 && i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *f = &skb_shinfo(skb)->frags[i];

		rc = keel_net_add(tx, skb_frag_address(f), skb_frag_size(f));
	}
	return rc;
}

/* The packet as pvdrivers wants it; an skb in too many pieces is made linear once. */
static int keel_net_tx_prepare(struct keel_net *n, struct sk_buff *skb, struct kpv_net_tx *tx)
{
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		if (keel_net_negotiated(n) & KEEL_IO_NET_F_CSUM_TX) {
			tx->meta.flags = KEEL_IO_NET_PF_CSUM_PARTIAL;
			tx->meta.csum_start = skb_checksum_start_offset(skb);
			tx->meta.csum_offset = skb->csum_offset;
			atomic64_inc(&n->tx_csum_partial);
		} else if (skb_checksum_help(skb)) {
			return -EINVAL;	/* offload not (or no longer) negotiated: sum it here */
		}
	}
	tx->cookie = skb;
	if (keel_net_frags(skb, tx) == 0)
		return 0;
	if (skb_linearize(skb))
		return -ENOMEM;
	tx->nr_frags = 0;
	return keel_net_frags(skb, tx);
}

static netdev_tx_t keel_net_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct keel_net *n = netdev_priv(dev);
	struct kpv_net_tx tx = { 0 };
	int rc = keel_net_tx_prepare(n, skb, &tx);

	if (rc == 0) {
		rc = kpv_netfront_send(n->nf, &tx);
		if (rc == -KEEL_EAGAIN) {
			/* Full: stop, then look again, so a tx_done() in between is not missed. */
			netif_stop_queue(dev);
			rc = kpv_netfront_send(n->nf, &tx);
			if (rc == -KEEL_EAGAIN)
				return NETDEV_TX_BUSY;
			netif_wake_queue(dev);
		}
	}
	if (rc) {
		/* -EBUSY (not connected) drops like a cable pulled; the rest is malformed. */
		atomic64_inc(rc == -KEEL_EBUSY ? &n->tx_dropped : &n->tx_errors);
		dev_kfree_skb_any(skb);
	}
	return NETDEV_TX_OK;
}

static void net_tx_done(void *os, void *cookie, enum kpv_net_status status)
{
	struct keel_net *n = os;
	struct sk_buff *skb = cookie;

	if (status == KPV_NET_OK) {
		atomic64_inc(&n->tx_packets);
		atomic64_add(skb->len, &n->tx_bytes);
		dev_consume_skb_any(skb);
	} else {
		atomic64_inc(&n->tx_dropped);
		dev_kfree_skb_any(skb);
	}
	/* During removal the interface may be unregistered already: leave its queue alone. */
	if (!READ_ONCE(n->removing) && netif_queue_stopped(n->dev))
		netif_wake_queue(n->dev);
}

/* --- Receive ------------------------------------------------------------------------ */

static bool net_rx(void *os, const struct kpv_net_rx *pkt)
{
	struct keel_net *n = os;
	struct sk_buff *skb;

	if (skb_queue_len(&n->rx_queue) >= KEEL_NET_RX_BACKLOG ||
	    !(skb = netdev_alloc_skb_ip_align(n->dev, pkt->len))) {
		atomic64_inc(&n->rx_dropped);
		return false;
	}
	for (u32 i = 0; i < pkt->nr_frags; i++)
		skb_put_data(skb, pkt->frags[i].va, pkt->frags[i].len);
	/* pvdrivers passes only what was negotiated (F_CSUM_RX) and has checked the offsets. */
	if (pkt->meta.flags & KEEL_IO_NET_PF_DATA_VALID) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		atomic64_inc(&n->rx_csum_valid);
	} else if (pkt->meta.flags & KEEL_IO_NET_PF_CSUM_PARTIAL) {
		if (!skb_partial_csum_set(skb, pkt->meta.csum_start, pkt->meta.csum_offset)) {
			atomic64_inc(&n->rx_dropped);
			kfree_skb(skb);
			return false;
		}
		atomic64_inc(&n->rx_csum_partial);
	}
	skb->protocol = eth_type_trans(skb, n->dev);
	skb_queue_tail(&n->rx_queue, skb);
	/* From thread context: with BHs off, NET_RX runs when they come back on. */
	local_bh_disable();
	napi_schedule(&n->napi);
	local_bh_enable();
	return false;	/* copied: the buffers go back to the ring now */
}

static int keel_net_poll(struct napi_struct *napi, int budget)
{
	struct keel_net *n = container_of(napi, struct keel_net, napi);
	struct sk_buff *skb;
	int done = 0;

	while (done < budget && (skb = skb_dequeue(&n->rx_queue))) {
		atomic64_inc(&n->rx_packets);
		atomic64_add(skb->len + ETH_HLEN, &n->rx_bytes);
		napi_gro_receive(napi, skb);
		done++;
	}
	if (done < budget && napi_complete_done(napi, done) && !skb_queue_empty(&n->rx_queue))
		napi_schedule(napi);	/* one came in between the last dequeue and complete */
	return done;
}

/* --- The net_device ---------------------------------------------------------------- */

static int keel_net_open_dev(struct net_device *dev)
{
	struct keel_net *n = netdev_priv(dev);

	skb_queue_purge(&n->rx_queue);	/* what came while it was down is stale */
	napi_enable(&n->napi);
	netif_start_queue(dev);
	return 0;
}

static int keel_net_stop_dev(struct net_device *dev)
{
	struct keel_net *n = netdev_priv(dev);

	netif_stop_queue(dev);
	napi_disable(&n->napi);
	skb_queue_purge(&n->rx_queue);
	return 0;
}

static void keel_net_stats(struct net_device *dev, struct rtnl_link_stats64 *s)
{
	struct keel_net *n = netdev_priv(dev);

	s->tx_packets = atomic64_read(&n->tx_packets);
	s->tx_bytes = atomic64_read(&n->tx_bytes);
	s->tx_dropped = atomic64_read(&n->tx_dropped);
	s->tx_errors = atomic64_read(&n->tx_errors);
	s->rx_packets = atomic64_read(&n->rx_packets);
	s->rx_bytes = atomic64_read(&n->rx_bytes);
	s->rx_dropped = atomic64_read(&n->rx_dropped);
}

/* Transmit checksum offload only while negotiated. */
static netdev_features_t keel_net_fix_features(struct net_device *dev, netdev_features_t f)
{
	if (!(keel_net_negotiated(netdev_priv(dev)) & KEEL_IO_NET_F_CSUM_TX))
		f &= ~NETIF_F_HW_CSUM;
	return f;
}

/* --- sysfs: /sys/class/net/kethN/keel/ --------------------------------------------- */

/* The KEEL_IO_NET_F_* of the current connection (0 while not connected). */
static ssize_t features_show(struct device *d, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%#llx\n", keel_net_negotiated(netdev_priv(to_net_dev(d))));
}
static DEVICE_ATTR_RO(features);

#define KEEL_NET_COUNTER(name)									\
static ssize_t name##_show(struct device *d, struct device_attribute *attr, char *buf)		\
{												\
	struct keel_net *n = netdev_priv(to_net_dev(d));					\
												\
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&n->name));			\
}												\
static DEVICE_ATTR_RO(name)

KEEL_NET_COUNTER(tx_csum_partial);
KEEL_NET_COUNTER(rx_csum_partial);
KEEL_NET_COUNTER(rx_csum_valid);

static struct attribute *keel_net_attrs[] = {
	&dev_attr_features.attr,
	&dev_attr_tx_csum_partial.attr,
	&dev_attr_rx_csum_partial.attr,
	&dev_attr_rx_csum_valid.attr,
	NULL,
};

static const struct attribute_group keel_net_group = {
	.name = "keel",
	.attrs = keel_net_attrs,
};

static const struct net_device_ops keel_net_ops = {
	.ndo_open = keel_net_open_dev,
	.ndo_stop = keel_net_stop_dev,
	.ndo_start_xmit = keel_net_xmit,
	.ndo_get_stats64 = keel_net_stats,
	.ndo_fix_features = keel_net_fix_features,
	.ndo_validate_addr = eth_validate_addr,
};

/* Under RTNL: register at the first connection, then keep MAC, features and carrier current. */
static void keel_net_apply(struct keel_net *n, const struct kpv_net_link *link, bool carrier)
{
	struct net_device *dev = n->dev;
	int rc;

	if (!n->registered) {
		eth_hw_addr_set(dev, link->mac);
		dev->max_mtu = link->mtu;
		dev->mtu = min_t(unsigned int, KEEL_NET_MTU, link->mtu);
		if (!(link->features & KEEL_IO_NET_F_CSUM_TX))
			dev->features &= ~NETIF_F_HW_CSUM;
		netif_carrier_off(dev);
		rc = register_netdevice(dev);
		if (rc) {
			pr_err("%s: not registered (%d)\n", dev->name, rc);
			return;
		}
		n->registered = true;
		netdev_info(dev, "MAC %pM, MTU %u (backend allows %u), features %#llx\n",
			    link->mac, dev->mtu, link->mtu, link->features);
	} else if (!ether_addr_equal(dev->dev_addr, link->mac)) {
		netdev_warn(dev, "the backend now offers MAC %pM; keeping %pM\n", link->mac,
			    dev->dev_addr);
	}
	if (dev->max_mtu != link->mtu) {
		dev->max_mtu = link->mtu;
		if (dev->mtu > link->mtu)
			dev_set_mtu(dev, link->mtu);
	}
	netdev_update_features(dev);
	if (carrier && !netif_carrier_ok(dev))
		netif_carrier_on(dev);
	else if (!carrier && netif_carrier_ok(dev))
		netif_carrier_off(dev);
}

static void keel_net_sync_work(struct work_struct *w)
{
	struct keel_net *n = container_of(w, struct keel_net, sync_work);
	struct kpv_net_link link;
	unsigned long flags;
	bool connected, carrier;

	spin_lock_irqsave(&n->state_lock, flags);
	connected = n->connected;
	carrier = connected && n->link_up;
	link = n->link;
	spin_unlock_irqrestore(&n->state_lock, flags);
	rtnl_lock();
	if (n->registered || connected)
		keel_net_apply(n, &link, carrier);
	rtnl_unlock();
}

/* Record what pvdrivers said and have the work apply it (unless removal began). */
static void keel_net_state(struct keel_net *n, const struct kpv_net_link *link, int connected,
			   int link_up)
{
	unsigned long flags;

	spin_lock_irqsave(&n->state_lock, flags);
	if (link)
		n->link = *link;
	if (connected >= 0)
		n->connected = connected;
	if (link_up >= 0)
		n->link_up = link_up;
	if (!n->removing)
		schedule_work(&n->sync_work);
	spin_unlock_irqrestore(&n->state_lock, flags);
}

static void net_up(void *os, const struct kpv_net_link *link)
{
	keel_net_state(os, link, 1, link->up);
}

static void net_down(void *os)
{
	keel_net_state(os, NULL, 0, -1);
}

static void net_link(void *os, bool up)
{
	keel_net_state(os, NULL, -1, up);
}

static void net_released(void *os)
{
	struct keel_net *n = os;

	complete(&n->released);
}

static const struct kpv_netfront_ops keel_netfront_ops = {
	.up = net_up,
	.down = net_down,
	.link = net_link,
	.tx_done = net_tx_done,
	.rx = net_rx,
	.released = net_released,
};

/* --- Open and remove ------------------------------------------------------------- */

static void keel_net_remove(struct keel_frontend *fe)
{
	struct keel_net *n = container_of(fe, struct keel_net, fe);
	unsigned long flags;
	int rc;

	spin_lock_irqsave(&n->state_lock, flags);
	n->removing = true;
	spin_unlock_irqrestore(&n->state_lock, flags);
	cancel_work_sync(&n->sync_work);
	/* After this no xmit, open or NAPI poll runs; pvdrivers' callbacks still may. */
	if (n->registered)
		unregister_netdev(n->dev);
	rc = kpv_netfront_close(n->nf, false);
	if (rc)	/* we keep no rx buffers, so this is a bug worth a trace */
		WARN(1, "keel: kpv_netfront_close failed (%d)\n", rc);
	else
		wait_for_completion(&n->released);
	skb_queue_purge(&n->rx_queue);
	netif_napi_del(&n->napi);
	ida_free(&keel_net_ida, n->index);
	free_netdev(n->dev);
}

int keel_net_open(struct kpv *k, const struct kpv_device_info *info, struct keel_frontend **out)
{
	struct kpv_netfront_config cfg = {
		.features = net_csum ? KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX : 0,
		.queues = 1,
	};
	struct net_device *dev;
	struct keel_net *n;
	int index, rc;

	index = ida_alloc(&keel_net_ida, GFP_KERNEL);
	if (index < 0)
		return index;
	dev = alloc_netdev(sizeof(*n), "keth%d", NET_NAME_ENUM, ether_setup);
	if (!dev) {
		ida_free(&keel_net_ida, index);
		return -ENOMEM;
	}
	n = netdev_priv(dev);
	n->dev = dev;
	n->index = index;
	spin_lock_init(&n->state_lock);
	INIT_WORK(&n->sync_work, keel_net_sync_work);
	skb_queue_head_init(&n->rx_queue);
	init_completion(&n->released);
	n->fe.remove = keel_net_remove;
	dev->netdev_ops = &keel_net_ops;
	dev->min_mtu = ETH_MIN_MTU;
	dev->hw_features = NETIF_F_SG | NETIF_F_HW_CSUM;
	dev->features = dev->hw_features | NETIF_F_RXCSUM;
	dev->sysfs_groups[0] = &keel_net_group;	/* the device-specific slot */
	SET_NETDEV_DEV(dev, keel_parent());
	netif_napi_add(dev, &n->napi, keel_net_poll);
	rc = kpv_netfront_open(k, info, &cfg, &keel_netfront_ops, n, &n->nf);
	if (rc) {
		netif_napi_del(&n->napi);
		ida_free(&keel_net_ida, index);
		free_netdev(dev);
		return keel_errno(rc);
	}
	pr_info("net device %u (%s): waiting for its backend\n", info->device_id, info->label);
	*out = &n->fe;
	return 0;
}
