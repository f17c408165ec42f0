/* SPDX-License-Identifier: MIT */
/*
 * role_serve.c - role=serve: a long-lived backend domain for real guests
 * (the Linux tests, tests/linux/module/). Unlike the test roles it never
 * ends by itself and checks nothing: it serves every device it backs until
 * Keel stops it.
 *   console  each frontend's output goes to our hypervisor console a line at
 *            a time behind "[d<domid> <label>] "; what the operator types on
 *            our console (console = "serial") goes to the first connected
 *            frontend, so a shell on the guest's hvc0 can be driven.
 *   block    one RAM disk of disk_mib= MiB (default 64) behind every block
 *            device, served one device at a time in table order: when a
 *            frontend has come and gone the next device gets the disk. With
 *            one device the same guest gets it back after a reboot; with two
 *            a second guest sees what the first one wrote.
 *   net      every net device on one learning switch, checksum offload
 *            offered both ways (a frontend that declines it gets its
 *            checksums completed); each port's counters are printed when
 *            the domain powers off.
 * crash_after_mib=N crashes this domain on purpose once N MiB have been
 * written to the disk (the frontend must see its backend go away mid-I/O).
 * idle_exit_s=N (default 20, 0 never) powers it off once frontends have come
 * and none has been connected for N seconds, so a test run can end.
 * pvdrivers re-offers a device by itself when its frontend leaves, so a
 * reloaded frontend connects again; the device table is read again every
 * second, so a frontend domain Keel restarted (with new devices) is served
 * too, and the disk passes to it.
 */
#include "ref.h"

#include <keel_pv/block.h>
#include <keel_pv/console.h>
#include <keel_pv/net.h>

#define SERVE_MAX	8			/* devices of each class */
#define DISK_MAX_MIB	128u
#define PAGES_PER_MIB	256u
#define CON_LINE	160			/* longer output lines go out in pieces */
#define POLL_NS		(50 * KT_NS_PER_MS)	/* console input is polled this often */

static struct kpv_device_info table[3 * SERVE_MAX];
static int nr_table;

/* --- block: the RAM disk ------------------------------------------------------------- */

static uint8_t *disk_pages[DISK_MAX_MIB * PAGES_PER_MIB];
static uint64_t disk_sectors;
static uint64_t written_bytes, crash_after_bytes;

struct serve_blk {
	const struct kpv_device_info *info;
	struct kpv_blkback *be;
	bool open, up, left, released;
	bool dead;			/* its frontend domain is gone: the device cannot be opened */
};

static struct serve_blk blks[SERVE_MAX];
static unsigned int nr_blks, cur_blk;
static struct serve_blk *closing;	/* closed, its release not yet seen */

/*
 * Copy @iov to (@to_disk) or from the disk from @sector; the disk is pages,
 * so each piece is cut at page boundaries. The backend checked the range.
 */
static void disk_copy(uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n, bool to_disk)
{
	uint64_t at = sector * 512;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t *buf = iov[i].base;

		for (uint32_t done = 0; done < iov[i].len;) {
			uint32_t off = (uint32_t)(at % KPV_PAGE_SIZE);
			uint32_t len = KPV_PAGE_SIZE - off;
			uint8_t *page = disk_pages[at / KPV_PAGE_SIZE];

			len = len < iov[i].len - done ? len : iov[i].len - done;
			memcpy(to_disk ? page + off : buf + done, to_disk ? buf + done : page + off,
			       len);
			done += len;
			at += len;
		}
	}
}

static void disk_fill(uint64_t sector, uint32_t sectors, uint8_t value)
{
	for (uint64_t at = sector * 512, end = at + (uint64_t)sectors * 512; at < end;) {
		uint32_t off = (uint32_t)(at % KPV_PAGE_SIZE);
		uint64_t len = KPV_PAGE_SIZE - off;

		len = len < end - at ? len : end - at;
		memset(disk_pages[at / KPV_PAGE_SIZE] + off, value, len);
		at += len;
	}
}

static void disk_geometry(void *ctx, struct kpv_blk_geometry *g)
{
	*g = (struct kpv_blk_geometry){ disk_sectors, 512, 4096, false };
}

static int disk_read(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n)
{
	disk_copy(sector, iov, n, false);
	return 0;
}

static int disk_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		      bool fua)
{
	disk_copy(sector, iov, n, true);
	for (unsigned int i = 0; i < n; i++) {
		written_bytes += iov[i].len;
	}
	if (crash_after_bytes && written_bytes >= crash_after_bytes) {
		/* Mid-I/O on purpose: this request is never answered. */
		kt_printf("serve: %lu MiB written: crashing on purpose (crash_after_mib)\n",
			  written_bytes >> 20);
		kt_shutdown(KEEL_SHUTDOWN_CRASH);
	}
	return 0;
}

/* RAM keeps what it was given: a flush has nothing to do. */
static int disk_flush(void *ctx)
{
	return 0;
}

static int disk_discard(void *ctx, uint64_t sector, uint32_t sectors)
{
	disk_fill(sector, sectors, 0);
	return 0;
}

static const struct kpv_blk_store disk_store = {
	.geometry = disk_geometry,
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
	.discard = disk_discard,
	.write_zeroes = disk_discard,
};

static void blk_connection(void *ctx, bool up)
{
	struct serve_blk *b = ctx;

	b->left = b->left || (b->up && !up);
	b->up = b->up || up;
}

static void blk_released(void *ctx)
{
	((struct serve_blk *)ctx)->released = true;
}

static const struct kpv_blkback_ops blk_ops = {
	.connection = blk_connection,
	.released = blk_released,
};

static void blk_open(struct kpv *k, struct serve_blk *b)
{
	const struct kpv_blkback_opts opts = { .features = ~0ull, .max_rings = 4,
					       .max_ring_order = 2, .max_segments = 256 };
	int rc;

	b->up = b->left = b->released = false;
	rc = kpv_blkback_open(k, b->info, &disk_store, b, &opts, &blk_ops, &b->be);
	b->open = rc == 0;
	kt_printf("serve: disk %s of d%u: %s (%d)\n", b->info->label, b->info->peer_domid,
		  b->open ? "offered" : "not offered", rc);
}

/* Allocate the disk; false if there is not enough memory. */
static bool disk_create(uint64_t mib)
{
	uint64_t pages = mib * PAGES_PER_MIB;

	if (mib == 0 || mib > DISK_MAX_MIB) {
		kt_printf("serve: disk_mib=%lu out of range 1..%u\n", mib, DISK_MAX_MIB);
		return false;
	}
	for (uint64_t i = 0; i < pages; i++) {
		disk_pages[i] = kpv_shim_page_alloc();
		if (!disk_pages[i]) {
			kt_printf("serve: only %lu of %lu disk pages\n", i, pages);
			return false;
		}
	}
	disk_sectors = pages * (KPV_PAGE_SIZE / 512);
	return true;
}

/*
 * With several block devices, one has the disk at a time: once its frontend
 * left, the next one that can still be opened (its domain alive) gets it.
 * A frontend that only reloaded finds its device offered again when the
 * turn comes back to it.
 */
static void blk_step(struct kpv *k)
{
	struct serve_blk *b = &blks[cur_blk];

	if (nr_blks < 2 || !b->open || !b->left) {
		return;
	}
	kt_printf("serve: d%u left disk %s: handing the disk on\n", b->info->peer_domid,
		  b->info->label);
	kpv_blkback_close(b->be, false);
	b->open = false;
	closing = b;
	cur_blk = (cur_blk + 1) % nr_blks;
}

static void blk_reopen(struct kpv *k)
{
	if (closing && !closing->released) {
		return;
	}
	closing = NULL;
	for (unsigned int tries = 0; tries < nr_blks && !blks[cur_blk].open; tries++) {
		struct serve_blk *b = &blks[cur_blk];

		if (!b->dead) {
			blk_open(k, b);
			if (b->open) {
				return;
			}
			b->dead = true;
		}
		cur_blk = (cur_blk + 1) % nr_blks;
	}
}

/* --- console ----------------------------------------------------------------------------- */

struct serve_con {
	const struct kpv_device_info *info;
	struct kpv_con_be *b;
	char line[CON_LINE + 1];
	uint32_t len;
};

static struct serve_con cons[SERVE_MAX];
static unsigned int nr_cons;
static char input[KPV_PAGE_SIZE] KT_PAGE_ALIGNED;

static void con_line(struct serve_con *c)
{
	c->line[c->len] = '\0';
	c->len = 0;
	kt_printf("[d%u %s] %s\n", c->info->peer_domid, c->info->label, c->line);
}

static void con_sink(void *ctx, const uint8_t *data, uint32_t len)
{
	struct serve_con *c = ctx;

	for (uint32_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			con_line(c);
		} else if (data[i] != '\r') {
			c->line[c->len++] = (char)data[i];
			if (c->len == CON_LINE) {
				con_line(c);
			}
		}
	}
}

static const struct kpv_con_be_ops con_ops = { 0 };

/* What was typed on our console goes to the first frontend connected (dropped if none). */
static void con_input(void)
{
	long n = keel_hypercall2(KEEL_HC_CONSOLE_READ, KT_GPA(input), sizeof(input));

	if (n <= 0) {
		return;
	}
	for (unsigned int i = 0; i < nr_cons; i++) {
		if (kpv_con_be_connected(cons[i].b)) {
			kpv_con_be_input(cons[i].b, input, (uint32_t)n);
			return;
		}
	}
}

/* --- net ------------------------------------------------------------------------------------ */

static struct kpv_net_switch *sw;

struct serve_port {
	const struct kpv_device_info *info;
	struct kpv_netback *nb;
	uint32_t port;
	bool connected;
};

static struct serve_port ports[SERVE_MAX];
static unsigned int nr_ports;

static enum kpv_net_status port_deliver(void *os, struct kpv_net_pkt *pkt)
{
	kpv_net_switch_input(sw, ((struct serve_port *)os)->port, pkt);
	return KPV_NET_OK;
}

static void port_state(void *os, bool connected)
{
	((struct serve_port *)os)->connected = connected;
}

/* Ports are never closed (the domain ends with them), but pvdrivers wants the callback. */
static void port_released(void *os)
{
}

static const struct kpv_netback_ops port_ops = {
	.deliver = port_deliver,
	.state = port_state,
	.released = port_released,
};

static void net_open(struct kpv *k, const struct kpv_device_info *info)
{
	/*
	 * Checksum offload both ways: a CSUM_PARTIAL frame crosses the switch
	 * as it is, to be passed on to a frontend that accepted F_CSUM_RX and
	 * completed by its netback for one that did not.
	 */
	const struct kpv_netback_config cfg = {
		.features = KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX,
		.link_state = true,
		.max_queues = 1,
	};
	struct serve_port *p = &ports[nr_ports];
	int rc;

	if (!sw && !(sw = kpv_net_switch_create(SERVE_MAX, 0))) {
		kt_printf("serve: no switch\n");
		return;
	}
	p->info = info;
	rc = kpv_netback_open(k, info, &cfg, &port_ops, p, &p->nb);
	if (rc == 0) {
		rc = kpv_net_switch_attach(sw, kpv_netback_port, p->nb, &p->port);
	}
	kt_printf("serve: net %s of d%u: %s (%d)\n", info->label, info->peer_domid,
		  rc == 0 ? "on the switch" : "not served", rc);
	nr_ports += rc == 0;
}

/* Each port's counters, for the tests: what crossed, what was dropped, what we summed. */
static void net_report(void)
{
	for (unsigned int i = 0; i < nr_ports; i++) {
		const struct kpv_device_info *info = ports[i].info;
		struct kpv_netback_stats st;

		kpv_netback_stats(ports[i].nb, &st);
		kt_printf("serve: net %s of d%u: tx %lu rx %lu dropped %lu/%lu csum-completed %lu "
			  "malformed %lu\n", info->label, info->peer_domid, st.tx_packets,
			  st.rx_packets, st.tx_dropped, st.rx_dropped, st.rx_csum_completed,
			  st.rx_malformed);
	}
}

/* --- the role ---------------------------------------------------------------------------- */

static bool never(void *ctx)
{
	return false;
}

/* Some frontend is connected to some device of ours. */
static bool any_connected(void)
{
	for (unsigned int i = 0; i < nr_blks; i++) {
		if (blks[i].open && blks[i].up && !blks[i].left) {
			return true;
		}
	}
	for (unsigned int i = 0; i < nr_cons; i++) {
		if (kpv_con_be_connected(cons[i].b)) {
			return true;
		}
	}
	for (unsigned int i = 0; i < nr_ports; i++) {
		if (ports[i].connected) {
			return true;
		}
	}
	return false;
}

/* Power off once frontends came and none has been there for @idle_ns (0: never). */
static void idle_check(uint64_t idle_ns)
{
	static bool seen;
	static uint64_t alone_since;
	uint64_t now = kpv_shim_now_ns();

	if (idle_ns == 0) {
		return;
	}
	if (any_connected()) {
		seen = true;
		alone_since = 0;
		return;
	}
	if (!seen) {
		return;
	}
	if (alone_since == 0) {
		alone_since = now;
	} else if (now - alone_since >= idle_ns) {
		net_report();
		kt_printf("serve: no frontend for %lu s: powering off\n", idle_ns / KT_NS_PER_S);
		kt_shutdown(KEEL_SHUTDOWN_POWEROFF);
	}
}

/* Whether device @id is one we know already. */
static bool known(uint32_t id)
{
	for (int i = 0; i < nr_table; i++) {
		if (table[i].device_id == id) {
			return true;
		}
	}
	return false;
}

/*
 * Serve the devices of the table we back and do not know yet: all of them
 * at start, later the devices of a frontend domain Keel restarted (it
 * comes back with new devices).
 */
static void serve_new_devices(struct kpv *k)
{
	static struct kpv_device_info now[3 * SERVE_MAX];
	int n = kpv_devices(k, now, (int)(sizeof(now) / sizeof(now[0])));

	for (int i = 0; i < n && i < (int)(sizeof(now) / sizeof(now[0])); i++) {
		struct kpv_device_info *d = &table[nr_table];

		if (!now[i].backend || known(now[i].device_id) ||
		    nr_table == (int)(sizeof(table) / sizeof(table[0]))) {
			continue;
		}
		*d = now[i];
		nr_table++;
		if (d->device_class == KEEL_IO_CLASS_CONSOLE && nr_cons < SERVE_MAX) {
			struct serve_con *c = &cons[nr_cons];

			c->info = d;
			if (kpv_con_be_open(k, d, &con_ops, c, 100, 40, &c->b) == 0) {
				kpv_con_be_sink(c->b, con_sink, c);
				nr_cons++;
			}
		} else if (d->device_class == KEEL_IO_CLASS_BLOCK && nr_blks < SERVE_MAX) {
			blks[nr_blks++].info = d;
		} else if (d->device_class == KEEL_IO_CLASS_NET && nr_ports < SERVE_MAX) {
			net_open(k, d);
		}
	}
}

void ref_serve_run(struct kpv *k)
{
	uint64_t idle_ns = kt_cmdline_u64("idle_exit_s", 20) * KT_NS_PER_S;
	bool have_disk = false;

	crash_after_bytes = kt_cmdline_u64("crash_after_mib", 0) << 20;
	serve_new_devices(k);
	if (nr_blks > 0) {
		have_disk = disk_create(kt_cmdline_u64("disk_mib", 64));
		if (have_disk) {
			blk_open(k, &blks[0]);
		}
	}
	kt_printf("serve: %u console(s), %u disk(s) of %lu MiB, %u net port(s); serving\n",
		  nr_cons, have_disk ? nr_blks : 0, disk_sectors >> 11, nr_ports);
	for (uint64_t polls = 1;; polls++) {
		ref_wait(never, NULL, POLL_NS);
		con_input();
		if (polls % 20 == 0) {
			serve_new_devices(k);
		}
		if (have_disk) {
			blk_step(k);
			blk_reopen(k);
		}
		idle_check(idle_ns);
	}
}
