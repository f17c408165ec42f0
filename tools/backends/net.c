/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/net.c - the net class: pvdrivers' netback per device, its
 * frames exchanged with a TAP interface vif<domid>.<index> on the bridge the
 * state directory names (net-<index>: bridge=, mac=). The bridge does the
 * switching. Checksum offload is offered both ways when the TAP carries it
 * (os.h): a frontend's CHECKSUM_PARTIAL frame goes into the host's stack
 * as one, which sums it only if it leaves the host, and the host's
 * partial or verified frames reach a frontend that accepted F_CSUM_RX as
 * such (pvdrivers completes them for one that did not).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <keel_pv/net.h>
#include "backends.h"
#include "loop.h"
#include "os.h"
#include "statedir.h"

#define FRAME_MAX	65536u
#define READS_PER_RUN	64	/* frames taken from the TAP per wake-up, so others get a turn */

struct vif {
	struct kb_dev *dev;
	struct kpv_netback *nb;
	int tap;
	bool csum;			/* the TAP carries checksum offload */
	char ifname[16];
	char bridge[64];
	uint64_t tap_dropped;
};

static uint8_t frame[FRAME_MAX];

/* A frame from the guest: out through the TAP. */
static enum kpv_net_status deliver(void *os, struct kpv_net_pkt *pkt)
{
	struct vif *v = os;

	if (pkt->len > FRAME_MAX || v->tap < 0) {
		return KPV_NET_DROPPED;
	}
	kpv_net_pkt_read(pkt, 0, frame, pkt->len);
	return kb_os_tap_write(v->tap, v->csum, frame, pkt->len, &pkt->meta) == 0 ? KPV_NET_OK
										     : KPV_NET_DROPPED;
}

/* Frames from the bridge: to the guest, or dropped (no frontend, queue full) as a wire would. */
static void tap_readable(void *ctx, int fd, short revents)
{
	struct vif *v = ctx;

	(void)revents;
	for (int i = 0; i < READS_PER_RUN; i++) {
		struct kpv_net_meta meta;
		ssize_t n = kb_os_tap_read(fd, v->csum, frame, sizeof(frame), &meta);
		struct kpv_net_pkt *pkt;

		if (n < 0) {
			return;
		}
		pkt = n > 0 ? kpv_net_pkt_alloc((uint32_t)n) : NULL;
		if (!pkt) {
			v->tap_dropped++;
			continue;
		}
		kpv_net_pkt_write(pkt, 0, frame, (uint32_t)n);
		pkt->meta = meta;
		if (kpv_netback_receive(v->nb, pkt) != 0) {
			v->tap_dropped++;
		}
		kpv_net_pkt_put(pkt);
	}
}

static void state(void *os, bool connected)
{
	struct vif *v = os;

	kb_info("vif %s of d%u (%s on %s): frontend %s", v->dev->info.label, v->dev->info.peer_domid,
		v->ifname, v->bridge[0] ? v->bridge : "no bridge", connected ? "connected" : "gone");
}

static void released(void *os)
{
	struct vif *v = os;
	struct kb_dev *dev = v->dev;

	free(v);
	kb_dev_released(dev);
}

static const struct kpv_netback_ops ops = {
	.deliver = deliver,
	.state = state,
	.released = released,
};

static bool parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) {
		return false;
	}
	for (int i = 0; i < 6; i++) {
		mac[i] = (uint8_t)b[i];
	}
	return true;
}

int kb_net_open(struct kpv *k, struct kb_dev *dev)
{
	struct kpv_netback_config cfg = { .link_state = true, .max_queues = 1 };
	char file[32], domid[16], mac[32], why[160];
	struct vif *v = calloc(1, sizeof(*v));
	int rc;

	if (!v) {
		return -KEEL_ENOMEM;
	}
	v->dev = dev;
	v->tap = -1;
	snprintf(file, sizeof(file), "net-%u", dev->info.index);
	if (kb_state_get(dev->domain, file, "domid", domid, sizeof(domid)) != 0 ||
	    strtoul(domid, NULL, 10) != dev->info.peer_domid) {
		free(v);
		return -KEEL_ENOENT;
	}
	kb_state_get(dev->domain, file, "bridge", v->bridge, sizeof(v->bridge));
	if (kb_state_get(dev->domain, file, "mac", mac, sizeof(mac)) == 0 && mac[0]) {
		cfg.has_mac = parse_mac(mac, cfg.mac);
	}
	snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", dev->info.peer_domid, dev->info.index);
	v->tap = kb_os_tap_open(v->ifname, v->bridge, &v->csum, why, sizeof(why));
	if (v->tap < 0) {
		/* Tried again every second: say it once per reason. */
		static char last[160];

		if (strcmp(last, why) != 0) {
			kb_err("vif %s of %s: %s", dev->info.label, dev->domain, why);
			memcpy(last, why, sizeof(last));
		}
		free(v);
		return -KEEL_EINVAL;
	}
	if (v->csum) {
		cfg.features = KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX;
	}
	rc = kb_loop_watch(v->tap, POLLIN, tap_readable, v) == 0 ? 0 : -KEEL_ENOSPC;
	if (rc == 0) {
		rc = kpv_netback_open(k, &dev->info, &cfg, &ops, v, &v->nb);
		if (rc != 0) {
			kb_loop_unwatch(v->tap);
		}
	}
	if (rc != 0) {
		kb_os_tap_close(v->tap, v->ifname);
		free(v);
		return rc;
	}
	dev->impl = v;
	return 0;
}

void kb_net_close(struct kb_dev *dev, bool removed)
{
	struct vif *v = dev->impl;

	kb_loop_unwatch(v->tap);
	kb_os_tap_close(v->tap, v->ifname);
	v->tap = -1;
	kpv_netback_close(v->nb, removed);
}
