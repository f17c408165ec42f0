/* SPDX-License-Identifier: MIT */
/*
 * role_bench_block.c - the PV block benchmark roles (tests/bench/keel-bench,
 * tests/configs/bench-block.dts). bench-blkback owns a RAM disk and first
 * measures it directly, in-domain, through the same store functions its
 * backend then serves it with; bench-blkfront measures the same patterns
 * through PV. The ratio of the two is what the PV path costs. Patterns:
 * sequential reads and writes of SEQ_BYTES per request, random reads and
 * writes of 4 KiB; each runs for at least PHASE_NS. Figures, one line per
 * pattern and side:
 *   keelbench: blk-<direct|pv>-<seq|rand>-<read|write>: BYTES bytes NS ns
 * and one keeltest group each: reference-bench-<role>: SUCCESS n checks.
 */
#include "ref.h"

#include <keel_pv/block.h>

#define DISK_PAGES	4096u			/* a 16 MiB RAM disk */
#define SEQ_BYTES	(64u * 1024u)
#define SEQ_PAGES	(SEQ_BYTES / KPV_PAGE_SIZE)
#define QUEUE_DEPTH	32u			/* the frontend's requests in flight */
#define PHASE_NS	(1 * KT_NS_PER_S)
#define CONNECT_WAIT	(60 * KT_NS_PER_S)	/* the other domain may still be booting */
#define IO_WAIT		(30 * KT_NS_PER_S)
/* Each side has a CPU of its own (bench-block.dts): both poll their rings this long. */
#define POLL_NS		(1000 * 1000u)

enum { SEQ_READ, SEQ_WRITE, RAND_READ, RAND_WRITE, PATTERNS };
static const char *const pattern_name[PATTERNS] = {
	"seq-read", "seq-write", "rand-read", "rand-write",
};

static bool is_write(int p)
{
	return p == SEQ_WRITE || p == RAND_WRITE;
}

static uint32_t request_bytes(int p)
{
	return p == SEQ_READ || p == SEQ_WRITE ? SEQ_BYTES : KPV_PAGE_SIZE;
}

/* The first sector of request @n of pattern @p: in order, or anywhere 4 KiB-aligned. */
static uint64_t request_sector(int p, uint64_t n)
{
	uint64_t blocks = DISK_PAGES, per = request_bytes(p) / KPV_PAGE_SIZE;

	if (p == SEQ_READ || p == SEQ_WRITE) {
		return (n * per % blocks) * 8;
	}
	/* A fixed multiplicative hash of n: the same "random" sequence on both sides. */
	return ((n * 2654435761u) >> 7) % blocks * 8;
}

static void report(const char *side, int p, uint64_t bytes, uint64_t ns)
{
	kt_printf("keelbench: blk-%s-%s: %lu bytes %lu ns\n", side, pattern_name[p], bytes, ns);
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

/* --- bench-blkback: the RAM disk, measured directly, then served ------------------- */

struct ramdisk {
	uint8_t *page[DISK_PAGES];	/* the disk's 4 KiB blocks, from the page pool */
	uint32_t bad;
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

static void rd_geometry(void *ctx, struct kpv_blk_geometry *g)
{
	*g = (struct kpv_blk_geometry){ DISK_PAGES * 8ull, 512, 4096, false };
}

static int rd_read(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n)
{
	return rd_copy(sector, iov, n, false);
}

static int rd_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		    bool fua)
{
	return rd_copy(sector, iov, n, true);
}

/* Where @sector lives: the backend copies between it and the frontend's pages. */
static void *rd_memory(void *ctx, uint64_t sector, bool write)
{
	if (sector / 8 >= DISK_PAGES) {
		rd.bad++;
		return NULL;
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

/*
 * Each pattern straight through the store functions, one request at a time
 * from a buffer of the backend's own (as its bounce pages are), for at
 * least PHASE_NS: the most the disk can give anyone in this domain.
 */
static void back_direct(void)
{
	static struct kpv_blk_iov iov[SEQ_PAGES];
	uint8_t *buf[SEQ_PAGES];
	uint32_t got = 0;

	while (got < SEQ_PAGES && (buf[got] = kpv_shim_page_alloc()) != NULL) {
		memset(buf[got], 0x5a, KPV_PAGE_SIZE);
		iov[got] = (struct kpv_blk_iov){ buf[got], KPV_PAGE_SIZE };
		got++;
	}
	if (kt_check_eq("direct buffers", got, SEQ_PAGES)) {
		for (int p = 0; p < PATTERNS; p++) {
			uint32_t pages = request_bytes(p) / KPV_PAGE_SIZE;
			uint64_t start = kpv_shim_now_ns(), n = 0, now;
			int rc = 0;

			do {
				uint64_t sector = request_sector(p, n++);

				rc |= is_write(p) ? rd_write(&rd, sector, iov, pages, false)
						  : rd_read(&rd, sector, iov, pages);
				now = kpv_shim_now_ns();
			} while (now - start < PHASE_NS);
			kt_check_eq(pattern_name[p], rc, 0);
			report("direct", p, n * request_bytes(p), now - start);
		}
	}
	while (got > 0) {
		kpv_shim_page_free(buf[--got]);
	}
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

static void back_run(struct kpv *k)
{
	const struct kpv_blkback_opts opts = {
		.features = ~0ull, .max_rings = 1, .max_ring_order = 1, .max_segments = 256,
		.poll_ns = POLL_NS,
	};
	struct kpv_device_info dev;
	struct kpv_blkback *be = NULL;
	uint32_t pages = 0;

	memset(&rd, 0, sizeof(rd));
	while (pages < DISK_PAGES && (rd.page[pages] = kpv_shim_page_alloc()) != NULL) {
		memset(rd.page[pages++], 0, KPV_PAGE_SIZE);
	}
	if (kt_check_eq("disk pages", pages, DISK_PAGES)) {
		back_direct();
		/* Opened only now: the frontend starts once the direct figures are in. */
		if (kt_check(find_device(k, true, &dev), "a block device to serve", "none") &&
		    kt_check_rc("kpv_blkback_open",
				kpv_blkback_open(k, &dev, &rd_store, &rd, &opts, &rd_ops, &be), 0)) {
			kt_check(ref_wait(rd_up, NULL, CONNECT_WAIT), "frontend connected",
				 "not in 60 s");
			kt_check(ref_wait(rd_left, NULL, 4 * CONNECT_WAIT), "frontend done",
				 "still there");
			kt_check_eq("out of range calls", rd.bad, 0);
			kpv_blkback_close(be, false);
			kt_check(ref_wait(rd_gone, NULL, IO_WAIT), "released", "not in 30 s");
		}
	}
	while (pages > 0) {
		kpv_shim_page_free(rd.page[--pages]);
	}
}

/* --- bench-blkfront: the same patterns through PV, QUEUE_DEPTH requests in flight ---- */

struct io {
	struct kpv_blk_req req;
	struct kpv_blk_seg segs[SEQ_PAGES];
	bool done;
	uint16_t status;
};

struct front {
	struct kpv_blkfront *fe;
	struct kpv_blk_info info;
	bool up, released;
	uint32_t completed;		/* completions not yet looked at by the submit loop */
	uint8_t *buf[QUEUE_DEPTH * SEQ_PAGES];
	struct io io[QUEUE_DEPTH];
};

static struct front f;

static void fe_changed(void *os, const struct kpv_blk_info *info)
{
	f.info = *info;
	f.up = true;
}

static void fe_complete(void *os, struct kpv_blk_req *req, uint16_t status)
{
	struct io *io = req->os;

	io->status = status;
	io->done = true;
	f.completed++;
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

/* Slot @slot's request @n of pattern @p, over its own buffer pages. */
static bool submit(int p, uint32_t slot, uint64_t n)
{
	struct io *io = &f.io[slot];
	uint32_t pages = request_bytes(p) / KPV_PAGE_SIZE;

	memset(&io->req, 0, sizeof(io->req));
	for (uint32_t i = 0; i < pages; i++) {
		io->segs[i] = (struct kpv_blk_seg){ f.buf[slot * SEQ_PAGES + i], 0, KPV_PAGE_SIZE };
	}
	io->req.op = is_write(p) ? KEEL_IO_BLOCK_OP_WRITE : KEEL_IO_BLOCK_OP_READ;
	io->req.sector = request_sector(p, n);
	io->req.segs = io->segs;
	io->req.nr_segs = pages;
	io->req.os = io;
	io->done = false;
	return kpv_blkfront_submit(f.fe, &io->req) == 0;
}

/*
 * Keep QUEUE_DEPTH requests of pattern @p in flight for PHASE_NS, then let
 * them drain; the time runs to the last completion. Failed requests count
 * as errors and not as bytes.
 */
static void front_pattern(int p)
{
	uint64_t start = kpv_shim_now_ns(), n = 0, bytes = 0, now = start;
	uint32_t in_flight = 0, errors = 0;

	for (uint32_t s = 0; s < QUEUE_DEPTH; s++) {
		if (submit(p, s, n++)) {
			in_flight++;
		} else {
			errors++;
		}
	}
	while (in_flight > 0 && ref_wait(some_completed, NULL, IO_WAIT)) {
		f.completed = 0;	/* complete() runs in this loop's work items, not in an interrupt */
		now = kpv_shim_now_ns();
		for (uint32_t s = 0; s < QUEUE_DEPTH; s++) {
			struct io *io = &f.io[s];

			if (!io->done || io->req.os == NULL) {
				continue;
			}
			io->req.os = NULL;	/* accounted */
			in_flight--;
			if (io->status == KEEL_IO_BLOCK_S_OK) {
				bytes += request_bytes(p);
			} else {
				errors++;
			}
			if (now - start < PHASE_NS) {
				if (submit(p, s, n++)) {
					in_flight++;
				} else {
					errors++;
				}
			}
		}
	}
	kt_check(in_flight == 0, pattern_name[p], "%u requests never completed", in_flight);
	kt_check_eq(pattern_name[p], errors, 0);
	report("pv", p, bytes, now - start);
}

static void front_run(struct kpv *k)
{
	static const struct kpv_blkfront_opts opts = {
		.features = ~0ull, .queues = 1, .ring_order = 1, .poll_ns = POLL_NS,
	};
	const uint32_t want = QUEUE_DEPTH * SEQ_PAGES;
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
		/* The backend measures its disk before it opens: allow for that. */
		if (kt_check(ref_wait(front_up, NULL, 2 * CONNECT_WAIT), "connected",
			     "not in 120 s")) {
			kt_check_eq("capacity", f.info.capacity_sectors, DISK_PAGES * 8ull);
			for (int p = 0; p < PATTERNS; p++) {
				front_pattern(p);
			}
		}
		kpv_blkfront_close(f.fe, false);
		kt_check(ref_wait(front_gone, NULL, IO_WAIT), "released", "not in 30 s");
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
