/* SPDX-License-Identifier: MIT */
/*
 * role_bench_net.c - the PV network benchmark roles (tests/bench/keel-bench,
 * tests/configs/bench-net.dts): bench-netsend streams frames to
 * bench-netrecv through the switch domain (role netsw, role_net.c), first
 * full-size frames for throughput, then minimum-size ones for the packet
 * rate, each for PHASE_NS or longer. The receiver acknowledges every
 * ACK_EVERY-th frame; the sender keeps at most WINDOW frames unacknowledged, so the
 * figures are what flows end to end, not what the switch had to drop. A
 * window that stalls (frames lost) is reopened after STALL_NS. The
 * receiver measures, from the first to the last frame of a phase:
 *   keelbench: net-<frame bytes>: F frames B bytes T ns, S sent
 * and each role ends one keeltest group: reference-bench-net<role>: ...
 */
#include "ref.h"

#include <keel_pv/net.h>

#define PHASE_NS	(2 * KT_NS_PER_S)
#define WAIT_NS		(60 * KT_NS_PER_S)	/* the other domains may still be booting */
#define RETRY_NS	(100 * KT_NS_PER_MS)
#define STALL_NS	(200 * KT_NS_PER_MS)
#define SLOTS		64u			/* frames in flight from one frontend, one page each */
#define WINDOW		56u			/* under the netback's queue of 64: no drops there */
#define ACK_EVERY	2u
/*
 * A phase also runs until MIN_FRAMES were acknowledged (at most MAX_PHASE_NS):
 * netsw checks that each of its ports carried 300 frames both ways.
 */
#define MIN_FRAMES	400u
#define MAX_PHASE_NS	(30 * KT_NS_PER_S)
#define ETH_LEN		14u
#define ETHERTYPE	0x88b5			/* IEEE local experimental */
#define HDR_LEN		(ETH_LEN + 14u)		/* type, phase, then three 32-bit values */

enum { T_HELLO = 1, T_HELLO_ACK, T_DATA, T_ACK, T_END, T_RESULT, T_BYE };
static const uint32_t phase_len[] = { 1514, 60 };
#define PHASES		(sizeof(phase_len) / sizeof(phase_len[0]))

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

struct bench {
	struct kpv_netfront *nf;
	struct kpv_net_link link;
	bool up, released, sender;
	uint8_t peer[6];
	bool peer_known, bye;
	uint8_t *slot[SLOTS];
	bool busy[SLOTS];
	uint32_t tx_dropped, bad;
	/* sender: what the receiver acknowledged and reported, per phase */
	uint32_t acked[PHASES];
	bool result[PHASES];
	/* receiver: the phase being counted */
	uint32_t phase, frames, sent;
	uint64_t bytes, first_ns, last_ns;
	bool reported[PHASES];
};

static struct bench b;

/* Send a frame of @len bytes (its payload whatever the slot page holds) to @dst. */
static bool send(const uint8_t *dst, uint8_t type, uint8_t phase, uint32_t a, uint32_t c,
		 uint32_t len)
{
	struct kpv_net_tx t = { .nr_frags = 1 };
	uint32_t s = 0;
	uint8_t *f;

	while (s < SLOTS && b.busy[s]) {
		s++;
	}
	if (s == SLOTS) {
		return false;
	}
	f = b.slot[s];
	memcpy(f, dst, 6);
	memcpy(f + 6, b.link.mac, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	f[14] = type;
	f[15] = phase;
	put32(f + 16, a);
	put32(f + 20, c);
	put32(f + 24, len);
	t.frags[0] = (struct kpv_net_frag){ .va = f, .len = len };
	t.cookie = &b.busy[s];
	if (kpv_netfront_send(b.nf, &t) != 0) {
		return false;
	}
	b.busy[s] = true;
	return true;
}

static void on_up(void *os, const struct kpv_net_link *link)
{
	b.link = *link;
	b.up = true;
}

static void on_down(void *os)
{
	b.up = false;
}

static void on_tx_done(void *os, void *cookie, enum kpv_net_status status)
{
	*(bool *)cookie = false;
	b.tx_dropped += status != KPV_NET_OK;
}

/* The receiver: count the phase's frames; say how many at the end. */
static void recv_frame(const uint8_t *f, uint32_t len, uint8_t type, uint8_t phase)
{
	uint64_t now = kpv_shim_now_ns();

	if (type == T_HELLO) {
		memcpy(b.peer, f + 6, 6);
		b.peer_known = true;
		send(b.peer, T_HELLO_ACK, 0, 0, 0, 60);
	} else if (type == T_DATA && phase < PHASES) {
		if (phase != b.phase || b.frames == 0) {
			b.phase = phase;
			b.frames = 0;
			b.bytes = 0;
			b.first_ns = now;
		}
		b.frames++;
		b.bytes += len;
		b.last_ns = now;
		if (b.frames % ACK_EVERY == 0) {
			send(b.peer, T_ACK, phase, b.frames, 0, 60);
		}
	} else if (type == T_END && phase < PHASES) {
		if (!b.reported[phase] && phase == b.phase) {
			b.reported[phase] = true;
			b.sent = get32(f + 20);
			kt_printf("keelbench: net-%u: %u frames %lu bytes %lu ns, %u sent\n",
				  phase_len[phase], b.frames, b.bytes, b.last_ns - b.first_ns, b.sent);
		}
		send(b.peer, T_RESULT, phase, b.frames, 0, 60);
	} else if (type == T_BYE) {
		b.bye = true;
	}
}

/* The sender: the receiver's answers. */
static void send_frame_in(const uint8_t *f, uint8_t type, uint8_t phase)
{
	if (type == T_HELLO_ACK && !b.peer_known) {
		memcpy(b.peer, f + 6, 6);
		b.peer_known = true;
	} else if (type == T_ACK && phase < PHASES && get32(f + 16) > b.acked[phase]) {
		b.acked[phase] = get32(f + 16);
	} else if (type == T_RESULT && phase < PHASES) {
		b.result[phase] = true;
	}
}

static bool on_rx(void *os, const struct kpv_net_rx *pkt)
{
	const uint8_t *f = pkt->frags[0].va;

	if (pkt->frags[0].len < HDR_LEN || f[12] != (ETHERTYPE >> 8) ||
	    f[13] != (ETHERTYPE & 0xff) || get32(f + 24) != pkt->len) {
		b.bad++;
		return false;
	}
	if (b.sender) {
		send_frame_in(f, f[14], f[15]);
	} else {
		recv_frame(f, pkt->len, f[14], f[15]);
	}
	return false;	/* looked at: the buffers go straight back */
}

static void on_released(void *os)
{
	b.released = true;
}

static const struct kpv_netfront_ops ops = {
	.up = on_up,
	.down = on_down,
	.tx_done = on_tx_done,
	.rx = on_rx,
	.released = on_released,
};

static bool is_up(void *ctx)
{
	return b.up;
}

static bool is_released(void *ctx)
{
	return b.released;
}

static bool peer_known(void *ctx)
{
	return b.peer_known;
}

static bool got_bye(void *ctx)
{
	return b.bye;
}

static bool tx_idle(void *ctx)
{
	for (uint32_t s = 0; s < SLOTS; s++) {
		if (b.busy[s]) {
			return false;
		}
	}
	return true;
}

static bool got_result(void *ctx)
{
	return b.result[*(const uint32_t *)ctx];
}

/* A phase's sending window: frames sent, and those given up for lost. */
struct window {
	uint32_t phase, sent, lost;
};

/* Frames sent and neither acknowledged nor given up for lost. */
static uint32_t unacked(const struct window *w)
{
	int64_t n = (int64_t)w->sent - b.acked[w->phase] - w->lost;

	return n > 0 ? (uint32_t)n : 0;
}

/* Room to send: the window open and a slot free. */
static bool can_send(void *ctx)
{
	if (unacked(ctx) >= WINDOW) {
		return false;
	}
	for (uint32_t s = 0; s < SLOTS; s++) {
		if (!b.busy[s]) {
			return true;
		}
	}
	return false;
}

/* One phase: stream DATA frames for PHASE_NS, then END until the receiver reports. */
static void send_phase(uint32_t p)
{
	uint64_t start = kpv_shim_now_ns(), stall_since = start;
	struct window w = { .phase = p };
	uint32_t last_acked = 0;
	char what[32];

	while ((kpv_shim_now_ns() - start < PHASE_NS || b.acked[p] < MIN_FRAMES) &&
	       kpv_shim_now_ns() - start < MAX_PHASE_NS) {
		while (unacked(&w) < WINDOW && send(b.peer, T_DATA, (uint8_t)p, w.sent, 0,
						    phase_len[p])) {
			w.sent++;
		}
		ref_wait(can_send, &w, KT_NS_PER_MS);
		if (b.acked[p] != last_acked) {
			last_acked = b.acked[p];
			stall_since = kpv_shim_now_ns();
		} else if (kpv_shim_now_ns() - stall_since > STALL_NS) {
			w.lost = w.sent - b.acked[p];	/* what is missing will not come: reopen */
			stall_since = kpv_shim_now_ns();
		}
	}
	kt_snprintf(what, sizeof(what), "result %u", phase_len[p]);
	for (int i = 0; i < 100 && !b.result[p]; i++) {
		send(b.peer, T_END, (uint8_t)p, 0, w.sent, 60);
		ref_wait(got_result, &p, RETRY_NS);
	}
	kt_check(b.result[p], what, "no answer to END");
	kt_note("%u-byte frames: %u sent, %u acknowledged", phase_len[p], w.sent, b.acked[p]);
}

static void sender_run(void)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t deadline = kpv_shim_now_ns() + WAIT_NS;

	while (!b.peer_known && kpv_shim_now_ns() < deadline) {
		send(broadcast, T_HELLO, 0, 0, 0, 60);
		ref_wait(peer_known, NULL, RETRY_NS);
	}
	if (!kt_check(b.peer_known, "receiver found", "no answer in 60 s")) {
		return;
	}
	for (uint32_t p = 0; p < PHASES; p++) {
		send_phase(p);
	}
	for (int i = 0; i < 3; i++) {
		send(b.peer, T_BYE, 0, 0, 0, 60);
		ref_wait(tx_idle, NULL, KT_NS_PER_S);
	}
}

static void run(struct kpv *k, const struct kpv_device_info *dev, bool sender)
{
	const struct kpv_netfront_config cfg = { .tx_packets = SLOTS };
	uint32_t pages = 0;

	memset(&b, 0, sizeof(b));
	b.sender = sender;
	while (pages < SLOTS && (b.slot[pages] = kpv_shim_page_alloc()) != NULL) {
		memset(b.slot[pages++], 0x3c, KPV_PAGE_SIZE);
	}
	if (!kt_check_eq("frame pages", pages, SLOTS) ||
	    !kt_check_rc("kpv_netfront_open", kpv_netfront_open(k, dev, &cfg, &ops, &b, &b.nf), 0)) {
		goto out;
	}
	if (kt_check(ref_wait(is_up, NULL, WAIT_NS), "up", "not after 60 s")) {
		if (sender) {
			sender_run();
		} else {
			kt_check(ref_wait(got_bye, NULL, 5 * WAIT_NS), "bye", "none");
			for (uint32_t p = 0; p < PHASES; p++) {
				kt_check(b.reported[p], "phase reported", "phase %u never ended", p);
			}
		}
		kt_check_eq("frames not ours", b.bad, 0);
	}
	ref_wait(tx_idle, NULL, KT_NS_PER_S);
	kt_check_rc("kpv_netfront_close", kpv_netfront_close(b.nf, false), 0);
	kt_check(ref_wait(is_released, NULL, WAIT_NS), "released", "not after 60 s");
out:
	while (pages > 0) {
		kpv_shim_page_free(b.slot[--pages]);
	}
}

void ref_bench_net_run(struct kpv *k, const char *role, const char *name)
{
	static struct kpv_device_info devs[4];
	int n = kpv_devices(k, devs, 4);

	kt_group_begin(name);
	if (kt_check(n > 0 && !devs[0].backend && devs[0].device_class == KEEL_IO_CLASS_NET,
		     "a net frontend", "device 0 is not one")) {
		run(k, &devs[0], kt_strcmp(role, "bench-netsend") == 0);
	}
	kt_group_end();
}
