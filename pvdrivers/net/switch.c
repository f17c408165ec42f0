/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/switch.c - a small learning Ethernet switch, OS-independent:
 * ports are functions that send a packet out (a netback's
 * kpv_netback_receive(), a TAP device in a daemon), each with its own
 * bounded queue; the switch learns which port each source address lives
 * behind, sends unicast to that port, and floods broadcast, multicast and
 * unknown destinations to every other port. It never blocks or waits: a
 * port that refuses a packet (its queue full, its frontend gone) has it
 * dropped and counted.
 *
 * One lock covers the table and the ports; a port's function runs under
 * it (lock order: the switch, then the port's own lock).
 */
#include "net_priv.h"

#define SW_MAX_PORTS	32u
#define SW_AGE_NS	300000000000ull		/* addresses not seen for 300 s are forgotten */

struct sw_mac {
	uint8_t mac[6];
	uint8_t port;
	bool used;
	uint64_t seen;			/* kpv_shim_now_ns() */
};

struct sw_port {
	kpv_net_port_fn out;		/* NULL: free */
	void *ctx;
	struct kpv_net_port_stats stats;
};

struct kpv_net_switch {
	struct kpv_lock *lock;
	uint32_t max_ports, nr_macs;
	struct sw_port ports[SW_MAX_PORTS];
	struct sw_mac *macs;		/* nr_macs entries */
};

struct kpv_net_switch *kpv_net_switch_create(uint32_t max_ports, uint32_t macs)
{
	struct kpv_net_switch *sw;

	macs = macs ? macs : 256;
	if (max_ports < 1 || max_ports > SW_MAX_PORTS ||
	    macs > KPV_PAGE_SIZE / sizeof(struct sw_mac)) {
		return NULL;
	}
	sw = kpv_shim_alloc(sizeof(*sw));
	if (!sw) {
		return NULL;
	}
	sw->max_ports = max_ports;
	sw->nr_macs = macs;
	sw->lock = kpv_shim_lock_create();
	sw->macs = kpv_shim_alloc(macs * sizeof(*sw->macs));
	if (!sw->lock || !sw->macs) {
		kpv_net_switch_destroy(sw);
		return NULL;
	}
	return sw;
}

void kpv_net_switch_destroy(struct kpv_net_switch *sw)
{
	if (sw->lock) {
		kpv_shim_lock_destroy(sw->lock);
	}
	kpv_shim_free(sw->macs);
	kpv_shim_free(sw);
}

int kpv_net_switch_attach(struct kpv_net_switch *sw, kpv_net_port_fn out, void *ctx,
			  uint32_t *port)
{
	unsigned long flags = kpv_shim_lock(sw->lock);
	int rc = -KEEL_ENOSPC;

	for (uint32_t p = 0; p < sw->max_ports; p++) {
		if (!sw->ports[p].out) {
			sw->ports[p] = (struct sw_port){ .out = out, .ctx = ctx };
			*port = p;
			rc = 0;
			break;
		}
	}
	kpv_shim_unlock(sw->lock, flags);
	return rc;
}

void kpv_net_switch_detach(struct kpv_net_switch *sw, uint32_t port)
{
	unsigned long flags = kpv_shim_lock(sw->lock);

	if (port < sw->max_ports) {
		sw->ports[port].out = NULL;
		for (uint32_t i = 0; i < sw->nr_macs; i++) {
			if (sw->macs[i].used && sw->macs[i].port == port) {
				sw->macs[i].used = false;
			}
		}
	}
	kpv_shim_unlock(sw->lock, flags);
}

/* The live entry for @mac, or NULL. [lock] */
static struct sw_mac *find(struct kpv_net_switch *sw, const uint8_t *mac, uint64_t now)
{
	for (uint32_t i = 0; i < sw->nr_macs; i++) {
		struct sw_mac *e = &sw->macs[i];

		if (e->used && now - e->seen >= SW_AGE_NS) {
			e->used = false;
		}
		if (e->used && net_memcmp(e->mac, mac, 6) == 0) {
			return e;
		}
	}
	return NULL;
}

/* @mac lives behind @port: a new entry, or the oldest one when the table is full. [lock] */
static void learn(struct kpv_net_switch *sw, const uint8_t *mac, uint32_t port, uint64_t now)
{
	struct sw_mac *e = find(sw, mac, now);

	for (uint32_t i = 0; !e && i < sw->nr_macs; i++) {
		if (!sw->macs[i].used) {
			e = &sw->macs[i];
		}
	}
	if (!e) {
		e = &sw->macs[0];
		for (uint32_t i = 1; i < sw->nr_macs; i++) {
			if (sw->macs[i].seen < e->seen) {
				e = &sw->macs[i];
			}
		}
	}
	net_memcpy(e->mac, mac, 6);
	e->port = (uint8_t)port;
	e->used = true;
	e->seen = now;
}

static void port_send(struct kpv_net_switch *sw, uint32_t port, struct kpv_net_pkt *pkt)
{
	struct sw_port *p = &sw->ports[port];

	if (p->out(p->ctx, pkt) == 0) {
		p->stats.out++;
	} else {
		p->stats.dropped++;
	}
}

void kpv_net_switch_input(struct kpv_net_switch *sw, uint32_t port, struct kpv_net_pkt *pkt)
{
	uint8_t hdr[12];
	uint64_t now = kpv_shim_now_ns();
	unsigned long flags;
	struct sw_mac *dst;

	if (pkt->len < sizeof(hdr) || port >= sw->max_ports) {
		return;
	}
	kpv_net_pkt_read(pkt, 0, hdr, sizeof(hdr));
	flags = kpv_shim_lock(sw->lock);
	if (!sw->ports[port].out) {
		kpv_shim_unlock(sw->lock, flags);
		return;
	}
	sw->ports[port].stats.in++;
	if (!(hdr[6] & 1)) {
		learn(sw, hdr + 6, port, now);	/* only unicast sources are addresses */
	}
	dst = (hdr[0] & 1) ? NULL : find(sw, hdr, now);
	if (dst && dst->port != port) {
		port_send(sw, dst->port, pkt);
	} else if (!dst) {
		sw->ports[port].stats.flooded++;
		for (uint32_t p = 0; p < sw->max_ports; p++) {
			if (p != port && sw->ports[p].out) {
				port_send(sw, p, pkt);
			}
		}
	}
	kpv_shim_unlock(sw->lock, flags);
}

int kpv_net_switch_lookup(struct kpv_net_switch *sw, const uint8_t mac[6])
{
	unsigned long flags = kpv_shim_lock(sw->lock);
	struct sw_mac *e = find(sw, mac, kpv_shim_now_ns());
	int rc = e ? e->port : -KEEL_ENOENT;

	kpv_shim_unlock(sw->lock, flags);
	return rc;
}

void kpv_net_switch_stats(struct kpv_net_switch *sw, uint32_t port, struct kpv_net_port_stats *out)
{
	unsigned long flags = kpv_shim_lock(sw->lock);

	*out = port < sw->max_ports ? sw->ports[port].stats : (struct kpv_net_port_stats){ 0 };
	kpv_shim_unlock(sw->lock, flags);
}
