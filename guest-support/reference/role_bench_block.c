/* SPDX-License-Identifier: MIT */
/*
 * role_bench_block.c - the PV block benchmark roles (tests/bench/keel-bench,
 * tests/configs/bench-block.dts): bench-blkback owns a RAM disk, measures
 * it directly and serves it; bench-blkfront measures the same work through
 * PV. The two alternate within one boot, so that each PV figure has a
 * direct one taken moments before or after it on the same loaded host.
 *
 * The in-band protocol: the disk has a control area after its data. A
 * READ of control sector ROUNDS_MAX * p + r asks the backend to measure
 * pattern p directly for round r; it answers when that is done. The
 * frontend runs, per round and pattern, that READ and then its own PV
 * measurement (even rounds) or the other way round (odd rounds), so that
 * a drift of the host's speed does not favour one side.
 *
 * Each measurement is a fixed amount of work (pattern.requests requests
 * of pattern.bytes), timed from the first request to the last completion.
 * Figures, one line each:
 *   keelbench: blk-<direct|pv> <pattern> round R: BYTES bytes NS ns
 *   keelbench: blk-memcpy: BYTES bytes NS ns      (the backend's memcpy alone)
 * and one keeltest group per role: reference-bench-<role>: SUCCESS n checks.
 * Command line knobs, for comparing backend and frontend options:
 * poll_us=N (both sides poll their rings N us, default 0), bounce=1 (the
 * backend copies through bounce pages and read()/write() instead of the
 * store's memory), persistent=0 (neither side uses F_PERSISTENT: every
 * page goes by Keel's grant copy, as before the feature).
 */
#include "ref.h"

#include <keel_pv/block.h>

#include "bench_block_protocol.h"

_Static_assert(BENCH_BLOCK_PAGE == KPV_PAGE_SIZE, "the benchmark's pages are the kit's");

#define MAX_BYTES	(128u * 1024u)		/* the largest request */
#define MAX_PAGES	(MAX_BYTES / KPV_PAGE_SIZE)
#define MAX_DEPTH	64u			/* the most requests in flight: a ring of order 1 */
#define CONNECT_WAIT	(60 * KT_NS_PER_S)	/* the other domain may still be booting */
#define IO_WAIT		(60 * KT_NS_PER_S)

static void report(const char *side, uint32_t p, uint32_t round, uint64_t bytes, uint64_t ns)
{
	kt_printf("keelbench: blk-%s %s round %u: %lu bytes %lu ns\n", side, patterns[p].name,
		  round, bytes, ns);
}

static bool find_device(struct kpv *k, bool backend, struct kpv_device_info *out)
{
	static struct kpv_device_info table[8];
	int n = kpv_devices(k, table, 8);

	for (int i = 0; i < n && i < 8; i++) {
		if (table[i].device_class == KEEL_IO_CLASS_BLOCK && table[i].backend == backend) {
			*out = table[i];
			return true;
		}
	}
	return false;
}

/* --- bench-blkback: the RAM disk, served, measured directly when asked ------------- */

struct ramdisk {
	uint8_t *page[DISK_PAGES];	/* the disk's 4 KiB blocks, from the page pool */
	struct kpv_blk_iov iov[MAX_PAGES];	/* the direct path's buffer, a bounce page's peer */
	uint32_t bad;			/* out-of-range or malformed calls */
	uint32_t direct_rc;		/* failed direct requests */
	uint32_t measured;		/* direct measurements done */
	bool up, left, released;
};

static struct ramdisk rd;

/* Copy @iov to (or from) the disk from @sector, a page at a time where it crosses one. */
static int rd_copy(uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n, bool to_disk)
{
	uint64_t at = sector * 512;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t *buf = iov[i].base;

		for (uint32_t done = 0; done < iov[i].len;) {
			uint64_t page = at / KPV_PAGE_SIZE, off = at % KPV_PAGE_SIZE;
			uint32_t len = iov[i].len - done;

			if (page >= DISK_PAGES) {
				rd.bad++;
				return -1;
			}
			len = len < KPV_PAGE_SIZE - off ? len : (uint32_t)(KPV_PAGE_SIZE - off);
			memcpy(to_disk ? rd.page[page] + off : buf + done,
			       to_disk ? buf + done : rd.page[page] + off, len);
			done += len;
			at += len;
		}
	}
	return 0;
}

/*
 * Pattern @p's work straight through the store's functions, one request
 * at a time from the backend's own buffer (as its bounce pages are): the
 * most the disk gives anyone in this domain.
 */
static void direct_measure(uint32_t p, uint32_t round)
{
	const struct pattern *pat = &patterns[p];
	uint32_t pages = pat->bytes / KPV_PAGE_SIZE;
	uint64_t start = kpv_shim_now_ns();

	for (uint32_t n = 0; n < pat->requests; n++) {
		if (rd_copy(request_sector(pat, n), rd.iov, pages, pat->write) != 0) {
			rd.direct_rc++;
		}
	}
	report("direct", p, round, (uint64_t)pat->requests * pat->bytes,
	       kpv_shim_now_ns() - start);
	rd.measured++;
}

/*
 * A READ at @sector in the control area: a request to measure (above).
 * Malformed ones (a write, a pattern or round out of range) only count as
 * bad; the frontend is the benchmark's own, but the disk trusts no one.
 */
static void control(uint64_t sector, bool write)
{
	uint64_t i = sector - DATA_SECTORS;

	if (write || i % ROUNDS_MAX >= ROUNDS || i / ROUNDS_MAX >= PATTERNS) {
		rd.bad++;
		return;
	}
	direct_measure((uint32_t)(i / ROUNDS_MAX), (uint32_t)(i % ROUNDS_MAX));
}

static void rd_geometry(void *ctx, struct kpv_blk_geometry *g)
{
	*g = (struct kpv_blk_geometry){ DISK_PAGES * 8ull, 512, 4096, false };
}

static int rd_read(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n)
{
	if (sector >= DATA_SECTORS) {
		control(sector, false);
	}
	return rd_copy(sector, iov, n, false);
}

static int rd_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		    bool fua)
{
	if (sector >= DATA_SECTORS) {
		control(sector, true);
	}
	return rd_copy(sector, iov, n, true);
}

/* Where @sector lives: the backend copies between it and the frontend's pages. */
static void *rd_memory(void *ctx, uint64_t sector, bool write)
{
	if (sector / 8 >= DISK_PAGES) {
		rd.bad++;
		return NULL;
	}
	if (sector >= DATA_SECTORS) {
		control(sector, write);
	}
	return rd.page[sector / 8] + sector % 8 * 512;
}

/* No flush, discard or write-zeroes: the benchmark moves data only. */
static const struct kpv_blk_store rd_store = {
	.geometry = rd_geometry,
	.read = rd_read,
	.write = rd_write,
	.memory = rd_memory,
};

static const struct kpv_blk_store rd_bounce_store = {
	.geometry = rd_geometry,
	.read = rd_read,
	.write = rd_write,
};

/* The backend's memcpy alone, 64 KiB at a time: what a copy-bound path cannot beat. */
static void memcpy_measure(void)
{
	const uint32_t rounds = 256;
	uint64_t start = kpv_shim_now_ns();

	for (uint32_t n = 0; n < rounds; n++) {
		for (uint32_t i = 0; i < 16; i++) {
			memcpy(rd.page[(n * 16 + i) % DATA_PAGES], rd.iov[i].base, KPV_PAGE_SIZE);
		}
	}
	kt_printf("keelbench: blk-memcpy: %lu bytes %lu ns\n", rounds * 64ul * 1024,
		  kpv_shim_now_ns() - start);
}

static void rd_connection(void *ctx, bool up)
{
	rd.left = rd.left || (rd.up && !up);
	rd.up = rd.up || up;
}

static void rd_released(void *ctx)
{
	rd.released = true;
}

static const struct kpv_blkback_ops rd_ops = {
	.connection = rd_connection,
	.released = rd_released,
};

static bool rd_up(void *ctx)
{
	return rd.up;
}

static bool rd_left(void *ctx)
{
	return rd.left;
}

static bool rd_gone(void *ctx)
{
	return rd.released;
}

/* The features both sides use: every one, or all but F_PERSISTENT with persistent=0. */
static uint64_t bench_features(void)
{
	return kt_cmdline_u64("persistent", 1) ? ~0ull : ~(uint64_t)KEEL_IO_BLOCK_F_PERSISTENT;
}

static void back_serve(struct kpv *k)
{
	/* As many persistent mappings as a frontend may grant: its 2 MiB in flight always fit. */
	const struct kpv_blkback_opts opts = {
		.features = bench_features(), .max_rings = 1, .max_ring_order = 1, .max_segments = 256,
		.poll_ns = (uint32_t)kt_cmdline_u64("poll_us", 0) * 1000u,
		.persistent_maps = KEEL_IO_BLOCK_PERSISTENT_MAX,
	};
	bool bounce = kt_cmdline_u64("bounce", 0) != 0;
	struct kpv_device_info dev;
	struct kpv_blkback *be = NULL;

	kt_note("bench-blkback: %s store, polling %u us, persistent grants %s",
		bounce ? "bounce" : "memory", opts.poll_ns / 1000,
		opts.features & KEEL_IO_BLOCK_F_PERSISTENT ? "offered" : "off");
	if (kt_check(find_device(k, true, &dev), "a block device to serve", "none") &&
	    kt_check_rc("kpv_blkback_open",
			kpv_blkback_open(k, &dev, bounce ? &rd_bounce_store : &rd_store, &rd,
					 &opts, &rd_ops, &be), 0)) {
		kt_check(ref_wait(rd_up, NULL, CONNECT_WAIT), "frontend connected", "not in 60 s");
		kt_check(ref_wait(rd_left, NULL, 20 * CONNECT_WAIT), "frontend done",
			 "still there");
		kt_check_eq("out of range or malformed calls", rd.bad, 0);
		kt_check_eq("failed direct requests", rd.direct_rc, 0);
		kt_check_eq("direct measurements", rd.measured, PATTERNS * ROUNDS);
		kpv_blkback_close(be, false);
		kt_check(ref_wait(rd_gone, NULL, IO_WAIT), "released", "not in 60 s");
	}
}

static void back_run(struct kpv *k)
{
	uint32_t pages = 0, bufs = 0;

	memset(&rd, 0, sizeof(rd));
	while (pages < DISK_PAGES && (rd.page[pages] = kpv_shim_page_alloc()) != NULL) {
		memset(rd.page[pages++], 0, KPV_PAGE_SIZE);
	}
	while (bufs < MAX_PAGES && (rd.iov[bufs].base = kpv_shim_page_alloc()) != NULL) {
		memset(rd.iov[bufs].base, 0x5a, KPV_PAGE_SIZE);
		rd.iov[bufs++].len = KPV_PAGE_SIZE;
	}
	if (kt_check_eq("disk pages", pages, DISK_PAGES) &&
	    kt_check_eq("direct buffers", bufs, MAX_PAGES)) {
		memcpy_measure();
		back_serve(k);
	}
	while (bufs > 0) {
		kpv_shim_page_free(rd.iov[--bufs].base);
	}
	while (pages > 0) {
		kpv_shim_page_free(rd.page[--pages]);
	}
}

/* --- bench-blkfront: the same work through PV, with the pattern's depth in flight --- */

struct io {
	struct kpv_blk_req req;
	struct kpv_blk_seg segs[MAX_PAGES];
	bool done;
	uint16_t status;
};

/* One PV measurement under way: the next request's number, what came back. */
struct run {
	const struct pattern *p;
	uint64_t next, bytes;
	uint32_t in_flight, errors;
	uint64_t end;			/* the last completion */
};

struct front {
	struct kpv_blkfront *fe;
	struct kpv_blk_info info;
	bool up, released;
	uint32_t completed;		/* control reads completed, for front_ask_direct() */
	struct run *run;		/* the measurement under way, or NULL */
	uint8_t *buf[MAX_DEPTH * MAX_PAGES];
	struct io io[MAX_DEPTH];
};

static struct front f;

static void start_next(struct run *r, uint32_t slot);

/*
 * A completion. During a measurement the slot's next request goes from
 * here, as an OS's block layer submits from its completion path: the
 * pattern's depth stays in flight, whether or not the main loop runs.
 */
static void fe_complete(void *os, struct kpv_blk_req *req, uint16_t status)
{
	struct io *io = req->os;
	struct run *r = f.run;

	io->status = status;
	io->done = true;
	f.completed++;
	if (!r) {
		return;
	}
	r->end = kpv_shim_now_ns();
	r->in_flight--;
	if (status == KEEL_IO_BLOCK_S_OK) {
		r->bytes += r->p->bytes;
	} else {
		r->errors++;
	}
	start_next(r, (uint32_t)(io - f.io));
}

static void fe_changed(void *os, const struct kpv_blk_info *info)
{
	f.info = *info;
	f.up = true;
}

static void fe_released(void *os)
{
	f.released = true;
}

static const struct kpv_blkfront_ops fe_ops = {
	.changed = fe_changed,
	.complete = fe_complete,
	.released = fe_released,
};

static bool front_up(void *ctx)
{
	return f.up;
}

static bool front_gone(void *ctx)
{
	return f.released;
}

static bool some_completed(void *ctx)
{
	return f.completed != 0;
}

/* Slot @slot's request: @bytes at @sector, over the slot's own buffer pages. */
static bool submit(uint32_t slot, uint64_t sector, uint32_t bytes, bool write)
{
	struct io *io = &f.io[slot];
	uint32_t pages = (bytes + KPV_PAGE_SIZE - 1) / KPV_PAGE_SIZE;

	memset(&io->req, 0, sizeof(io->req));
	for (uint32_t i = 0; i < pages; i++) {
		uint32_t len = bytes - i * KPV_PAGE_SIZE;

		io->segs[i] = (struct kpv_blk_seg){ f.buf[slot * MAX_PAGES + i], 0,
						    len < KPV_PAGE_SIZE ? len : KPV_PAGE_SIZE };
	}
	io->req.op = write ? KEEL_IO_BLOCK_OP_WRITE : KEEL_IO_BLOCK_OP_READ;
	io->req.sector = sector;
	io->req.segs = io->segs;
	io->req.nr_segs = pages;
	io->req.os = io;
	io->done = false;
	return kpv_blkfront_submit(f.fe, &io->req) == 0;
}

/* Slot @slot's next request, while the measurement has requests left. */
static void start_next(struct run *r, uint32_t slot)
{
	if (r->next < r->p->requests &&
	    submit(slot, request_sector(r->p, r->next), r->p->bytes, r->p->write)) {
		r->in_flight++;
	} else if (r->next < r->p->requests) {
		r->errors++;
	}
	r->next++;
}

static bool run_over(void *ctx)
{
	const struct run *r = ctx;

	return r->in_flight == 0;
}

/* Pattern @p's work through PV with its depth in flight; the time runs to the last completion. */
static void front_measure(uint32_t p, uint32_t round)
{
	struct run r = { .p = &patterns[p] };
	uint64_t start = kpv_shim_now_ns();

	r.end = start;
	f.run = &r;
	for (uint32_t s = 0; s < r.p->depth; s++) {
		start_next(&r, s);
	}
	ref_wait(run_over, &r, IO_WAIT * 16);
	f.run = NULL;
	kt_check(r.in_flight == 0, r.p->name, "%u requests never completed", r.in_flight);
	kt_check_eq(r.p->name, r.errors, 0);
	report("pv", p, round, r.bytes, r.end - start);
}

/* Ask the backend to measure pattern @p directly for @round: one control READ, answered after. */
static void front_ask_direct(uint32_t p, uint32_t round)
{
	struct io *io = &f.io[0];

	f.completed = 0;
	if (kt_check(submit(0, DATA_SECTORS + p * ROUNDS_MAX + round, 512, false),
		     "control read", "not submitted") &&
	    kt_check(ref_wait(some_completed, NULL, IO_WAIT), "control read", "no answer")) {
		kt_check_eq("control read status", io->status, KEEL_IO_BLOCK_S_OK);
	}
	io->req.os = NULL;
	f.completed = 0;
}

static void front_rounds(void)
{
	for (uint32_t round = 0; round < ROUNDS; round++) {
		for (uint32_t p = 0; p < PATTERNS; p++) {
			/* Direct first in even rounds, PV first in odd ones. */
			if (round % 2 == 0) {
				front_ask_direct(p, round);
			}
			front_measure(p, round);
			if (round % 2 == 1) {
				front_ask_direct(p, round);
			}
		}
	}
}

static void front_run(struct kpv *k)
{
	const struct kpv_blkfront_opts opts = {
		.features = bench_features(), .queues = 1, .ring_order = 1,
		.poll_ns = (uint32_t)kt_cmdline_u64("poll_us", 0) * 1000u,
	};
	const uint32_t want = MAX_DEPTH * MAX_PAGES;
	struct kpv_device_info dev;
	uint32_t pages = 0;

	memset(&f, 0, sizeof(f));
	if (!kt_check(find_device(k, false, &dev), "a block device", "none")) {
		return;
	}
	while (pages < want && (f.buf[pages] = kpv_shim_page_alloc()) != NULL) {
		memset(f.buf[pages++], 0xa5, KPV_PAGE_SIZE);
	}
	if (kt_check_eq("buffer pages", pages, want) &&
	    kt_check_rc("kpv_blkfront_open", kpv_blkfront_open(k, &dev, &fe_ops, &f, &opts, &f.fe),
			0)) {
		if (kt_check(ref_wait(front_up, NULL, CONNECT_WAIT), "connected", "not in 60 s")) {
			kt_check_eq("capacity", f.info.capacity_sectors, DISK_PAGES * 8ull);
			kt_note("bench-blkfront: persistent grants %s",
				f.info.features & KEEL_IO_BLOCK_F_PERSISTENT ? "in use" : "off");
			front_rounds();
		}
		kpv_blkfront_close(f.fe, false);
		kt_check(ref_wait(front_gone, NULL, IO_WAIT), "released", "not in 60 s");
	}
	while (pages > 0) {
		kpv_shim_page_free(f.buf[--pages]);
	}
}

void ref_bench_block_run(struct kpv *k, const char *role, const char *name)
{
	kt_group_begin(name);
	if (kt_strcmp(role, "bench-blkback") == 0) {
		back_run(k);
	} else {
		front_run(k);
	}
	kt_group_end();
}
