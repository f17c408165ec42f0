/* SPDX-License-Identifier: MIT */
/*
 * role_block.c - the PV block roles (pvdrivers/block). blkback serves its
 * block device from a RAM disk until its frontend has come and gone; the
 * disk lives in the kernel image, so it outlives a round: a frontend that
 * meets the previous round's backend just before it closes finds its data
 * again on the next one. blkfront zeroes the disk, writes a known pattern
 * at several sizes and offsets (one sector to 252 KiB, direct and
 * indirect, FUA, many at once on two queues), flushes, reads everything
 * back and compares it, checks the last sectors, a request beyond the end,
 * DISCARD and WRITE_ZEROES, and closes. Even rounds serve the disk as
 * memory (kpv_blk_store.memory: grant copies straight to and from it).
 * One keeltest group each:
 *   keeltest: reference-block-blkback: SUCCESS n checks
 *   keeltest: reference-block-blkfront: SUCCESS n checks
 */
#include "ref.h"

#include <keel_pv/block.h>

#define DISK_SECTORS	4096u			/* a 2 MiB RAM disk */
#define BUF_PAGES	64u			/* the frontend's buffers: 256 KiB */
#define MAX_SEGS	(BUF_PAGES * 8u)
#define PARALLEL	32u			/* writes in flight at once */
#define CONNECT_WAIT	(60 * KT_NS_PER_S)	/* the other domain may still be booting */
#define IO_WAIT		(30 * KT_NS_PER_S)

/* The device of class block in which we are @backend, from the device table. */
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

static uint8_t pattern(uint64_t addr, uint32_t seed)
{
	return (uint8_t)((addr >> 9) * 131u + (addr & 511u) * 7u + seed * 29u + 1u);
}

/* --- blkback: a RAM disk ----------------------------------------------------------------- */

struct ramdisk {
	uint32_t reads, writes, fua, flushes, discards, zeroes, bad;
	uint32_t memory;		/* rd_memory() calls */
	bool up, left, released;
};

static uint8_t disk[DISK_SECTORS * 512] __attribute__((aligned(4096)));

/* Sectors [@sector, + @n) of the disk, or NULL if they do not fit (never: blkback checks). */
static uint8_t *rd_at(struct ramdisk *rd, uint64_t sector, uint64_t n)
{
	if (sector > DISK_SECTORS || n > DISK_SECTORS - sector) {
		rd->bad++;
		return NULL;
	}
	return disk + sector * 512;
}

/* Copy @iov to (or from) the disk from @sector. */
static bool rd_copy(struct ramdisk *rd, uint64_t sector, const struct kpv_blk_iov *iov,
		    unsigned int n, bool to_disk)
{
	uint64_t len = 0;
	uint8_t *p;

	for (unsigned int i = 0; i < n; i++) {
		len += iov[i].len;
	}
	p = rd_at(rd, sector, len / 512);
	for (unsigned int i = 0; p && i < n; p += iov[i++].len) {
		memcpy(to_disk ? p : iov[i].base, to_disk ? iov[i].base : p, iov[i].len);
	}
	return p != NULL;
}

static void rd_geometry(void *ctx, struct kpv_blk_geometry *g)
{
	*g = (struct kpv_blk_geometry){ DISK_SECTORS, 512, 4096, false };
}

static int rd_read(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n)
{
	struct ramdisk *rd = ctx;

	rd->reads++;
	return rd_copy(rd, sector, iov, n, false) ? 0 : -1;
}

static int rd_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		    bool fua)
{
	struct ramdisk *rd = ctx;

	rd->writes++;
	rd->fua += fua;
	return rd_copy(rd, sector, iov, n, true) ? 0 : -1;
}

/* RAM is as durable as it gets: a flush has nothing to do but be counted. */
static int rd_flush(void *ctx)
{
	((struct ramdisk *)ctx)->flushes++;
	return 0;
}

static int rd_discard(void *ctx, uint64_t sector, uint32_t sectors)
{
	struct ramdisk *rd = ctx;
	uint8_t *p = rd_at(rd, sector, sectors);

	rd->discards++;
	if (p) {
		memset(p, 0xdd, (size_t)sectors * 512);
	}
	return p ? 0 : -1;
}

static int rd_zeroes(void *ctx, uint64_t sector, uint32_t sectors)
{
	struct ramdisk *rd = ctx;
	uint8_t *p = rd_at(rd, sector, sectors);

	rd->zeroes++;
	if (p) {
		memset(p, 0, (size_t)sectors * 512);
	}
	return p ? 0 : -1;
}

static const struct kpv_blk_store rd_store = {
	.geometry = rd_geometry,
	.read = rd_read,
	.write = rd_write,
	.flush = rd_flush,
	.discard = rd_discard,
	.write_zeroes = rd_zeroes,
};

/* Where @sector is: in even rounds the backend copies straight to and from the disk. */
static void *rd_memory(void *ctx, uint64_t sector, bool write)
{
	struct ramdisk *rd = ctx;
	uint8_t *p = rd_at(rd, sector, 1);

	rd->memory++;
	rd->reads += !write;
	rd->writes += write;
	return p;
}

static const struct kpv_blk_store rd_store_memory = {
	.geometry = rd_geometry,
	.read = rd_read,
	.write = rd_write,
	.flush = rd_flush,
	.discard = rd_discard,
	.write_zeroes = rd_zeroes,
	.memory = rd_memory,
};

static void rd_connection(void *ctx, bool up)
{
	struct ramdisk *rd = ctx;

	rd->left = rd->left || (rd->up && !up);
	rd->up = rd->up || up;
}

static void rd_released(void *ctx)
{
	((struct ramdisk *)ctx)->released = true;
}

static const struct kpv_blkback_ops rd_ops = {
	.connection = rd_connection,
	.released = rd_released,
};

static bool rd_up(void *ctx)
{
	return ((struct ramdisk *)ctx)->up;
}

static bool rd_left(void *ctx)
{
	return ((struct ramdisk *)ctx)->left;
}

static bool rd_gone(void *ctx)
{
	return ((struct ramdisk *)ctx)->released;
}

static void back_run(struct kpv *k)
{
	static struct ramdisk rd;
	static uint32_t rounds;
	bool memory = ++rounds % 2 == 0;	/* the data path of kpv_blk_store.memory */
	const struct kpv_blkback_opts opts = {
		.features = ~0ull, .max_rings = 2, .max_ring_order = 1, .max_segments = 256,
		.max_discard_sectors = 1024, .max_write_zeroes_sectors = 1024,
	};
	struct kpv_device_info dev;
	struct kpv_blkback *be = NULL;

	memset(&rd, 0, sizeof(rd));
	if (!kt_check(find_device(k, true, &dev), "a block device to serve", "none") ||
	    !kt_check_rc("kpv_blkback_open",
			 kpv_blkback_open(k, &dev, memory ? &rd_store_memory : &rd_store, &rd, &opts,
					  &rd_ops, &be), 0)) {
		return;
	}
	kt_check(ref_wait(rd_up, &rd, CONNECT_WAIT), "frontend connected", "not in 60 s");
	kt_check(ref_wait(rd_left, &rd, 2 * CONNECT_WAIT), "frontend done", "still there");
	kt_note("served %u reads, %u writes (%u FUA), %u flushes, %u discards, %u write-zeroes"
		"%s", rd.reads, rd.writes, rd.fua, rd.flushes, rd.discards, rd.zeroes,
		memory ? " (as memory: reads and writes count pages)" : "");
	/* As memory, the store is not told of FUA: its writes are durable as they land. */
	kt_check(rd.reads > 0 && rd.writes > 0 && (rd.fua > 0 || memory) && rd.flushes > 0 &&
			 rd.discards > 0 && rd.zeroes > 0,
		 "every kind of request", "one kind never came");
	kt_check(memory == (rd.memory > 0), "data path", "store.memory %s",
		 memory ? "never used" : "used unasked");
	kt_check_eq("out of range calls", rd.bad, 0);
	kpv_blkback_close(be, false);
	kt_check(ref_wait(rd_gone, &rd, IO_WAIT), "released", "not in 30 s");
}

/* --- blkfront ----------------------------------------------------------------------------- */

struct io {
	struct kpv_blk_req req;
	struct kpv_blk_seg segs[MAX_SEGS];
	bool done;
	uint16_t status;
};

struct front {
	struct kpv_blkfront *fe;
	struct kpv_blk_info info;
	bool up, released;
	uint8_t *buf[BUF_PAGES];
	struct io io[PARALLEL];
};

static void fe_changed(void *os, const struct kpv_blk_info *info)
{
	struct front *f = os;

	f->info = *info;
	f->up = true;
}

static void fe_complete(void *os, struct kpv_blk_req *req, uint16_t status)
{
	struct io *io = req->os;

	io->status = status;
	io->done = true;
}

static void fe_released(void *os)
{
	((struct front *)os)->released = true;
}

static const struct kpv_blkfront_ops fe_ops = {
	.changed = fe_changed,
	.complete = fe_complete,
	.released = fe_released,
};

static bool front_up(void *ctx)
{
	return ((struct front *)ctx)->up;
}

static bool front_gone(void *ctx)
{
	return ((struct front *)ctx)->released;
}

static bool io_done(void *ctx)
{
	return ((struct io *)ctx)->done;
}

/* @io as @op of @bytes at @sector over buffer page @page at @offset, in segments of @seglen. */
static void io_rw(struct front *f, struct io *io, uint8_t op, uint8_t flags, uint64_t sector,
		  uint32_t page, uint32_t offset, uint32_t bytes, uint32_t seglen)
{
	uint32_t n = 0;

	memset(&io->req, 0, sizeof(io->req));
	for (; bytes && page < BUF_PAGES && n < MAX_SEGS; n++) {
		uint32_t len = seglen < bytes ? seglen : bytes;

		len = len < KPV_PAGE_SIZE - offset ? len : KPV_PAGE_SIZE - offset;
		io->segs[n] = (struct kpv_blk_seg){ f->buf[page], (uint16_t)offset, (uint16_t)len };
		bytes -= len;
		offset = (offset + len) % KPV_PAGE_SIZE;
		page += offset == 0;
	}
	io->req.op = op;
	io->req.flags = flags;
	io->req.sector = sector;
	io->req.segs = io->segs;
	io->req.nr_segs = n;
	io->req.os = io;
}

static void io_cmd(struct io *io, uint8_t op, uint64_t sector, uint32_t nr_sectors)
{
	memset(&io->req, 0, sizeof(io->req));
	io->req.op = op;
	io->req.sector = sector;
	io->req.nr_sectors = nr_sectors;
	io->req.os = io;
}

/* Submit and wait: its status, or 0xffff if it never completed. */
static uint16_t io_do(struct front *f, struct io *io)
{
	io->done = false;
	if (kpv_blkfront_submit(f->fe, &io->req) != 0 || !ref_wait(io_done, io, IO_WAIT)) {
		return 0xffff;
	}
	return io->status;
}

/* Fill (or, with @check, compare) what @io's segments hold with the pattern of its disk range. */
static bool io_pattern(const struct io *io, uint32_t seed, bool check)
{
	uint64_t addr = io->req.sector * 512;

	for (uint32_t i = 0; i < io->req.nr_segs; i++) {
		uint8_t *p = (uint8_t *)io->segs[i].page + io->segs[i].offset;

		for (uint32_t b = 0; b < io->segs[i].length; b++, addr++) {
			if (!check) {
				p[b] = pattern(addr, seed);
			} else if (p[b] != pattern(addr, seed)) {
				return false;
			}
		}
	}
	return true;
}

static const struct {
	uint64_t sector;
	uint32_t offset, bytes, seglen;
	uint8_t flags;
} shapes[] = {
	{ 0, 0, 512, 512, 0 },					/* one sector */
	{ 9, 512, 4096, 4096, 0 },				/* across two pages */
	{ 100, 1024, 65536, 1024, KPV_BLK_FUA },		/* 64 segments: indirect */
	{ 1000, 0, (BUF_PAGES - 1) * 4096, 4096, 0 },		/* 252 KiB */
	{ 3000, 2048, 13 * 512, 512, 0 },			/* 13 segments, direct */
	{ DISK_SECTORS - 8, 0, 4096, 4096, KPV_BLK_FUA },	/* the last sectors */
};

/* Each shape written, flushed, read back into a cleared buffer and compared. */
static void front_shapes(struct front *f)
{
	struct io *io = &f->io[0];
	char what[48];

	for (uint32_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		io_rw(f, io, KEEL_IO_BLOCK_OP_WRITE, shapes[i].flags, shapes[i].sector, 0,
		      shapes[i].offset, shapes[i].bytes, shapes[i].seglen);
		io_pattern(io, i, false);
		kt_snprintf(what, sizeof(what), "write %u (%u bytes)", i, shapes[i].bytes);
		kt_check_eq(what, io_do(f, io), KEEL_IO_BLOCK_S_OK);
	}
	io_cmd(io, KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	kt_check_eq("flush", io_do(f, io), KEEL_IO_BLOCK_S_OK);
	for (uint32_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (uint32_t p = 0; p < BUF_PAGES; p++) {
			memset(f->buf[p], 0xa5, KPV_PAGE_SIZE);
		}
		io_rw(f, io, KEEL_IO_BLOCK_OP_READ, 0, shapes[i].sector, 0,
		      (shapes[i].offset + 1536) % KPV_PAGE_SIZE, shapes[i].bytes, shapes[i].seglen);
		kt_snprintf(what, sizeof(what), "read %u", i);
		if (kt_check_eq(what, io_do(f, io), KEEL_IO_BLOCK_S_OK)) {
			kt_snprintf(what, sizeof(what), "data %u", i);
			kt_check(io_pattern(io, i, true), what, "differs from what was written");
		}
	}
}

static bool all_done(void *ctx)
{
	const struct front *f = ctx;

	for (uint32_t i = 0; i < PARALLEL; i++) {
		if (!f->io[i].done) {
			return false;
		}
	}
	return true;
}

/* PARALLEL writes of 4 KiB in flight at once, then each read back. */
static void front_parallel(struct front *f)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < PARALLEL; i++) {
		struct io *io = &f->io[i];

		io_rw(f, io, KEEL_IO_BLOCK_OP_WRITE, 0, 2048 + 8 * i, i, 0, 4096, 4096);
		io->req.queue = (uint16_t)i;
		io_pattern(io, 100 + i, false);
		io->done = false;
		bad += kpv_blkfront_submit(f->fe, &io->req) != 0;
	}
	kt_check_eq("submitted", bad, 0);
	kt_check(ref_wait(all_done, f, IO_WAIT), "parallel writes", "not all done in 30 s");
	for (uint32_t i = 0; i < PARALLEL; i++) {
		struct io *io = &f->io[i];

		bad += io->status != KEEL_IO_BLOCK_S_OK;
		memset(f->buf[i], 0, KPV_PAGE_SIZE);
		io->req.op = KEEL_IO_BLOCK_OP_READ;
		bad += io_do(f, io) != KEEL_IO_BLOCK_S_OK || !io_pattern(io, 100 + i, true);
	}
	kt_check_eq("parallel writes read back", bad, 0);
}

/* Sectors from @sector read back (one page) as all zero. */
static void front_zero(struct front *f, const char *what, uint64_t sector)
{
	struct io *io = &f->io[0];
	bool zero = true;

	memset(f->buf[0], 0xff, KPV_PAGE_SIZE);
	io_rw(f, io, KEEL_IO_BLOCK_OP_READ, 0, sector, 0, 0, 4096, 4096);
	kt_check_eq(what, io_do(f, io), KEEL_IO_BLOCK_S_OK);
	for (uint32_t i = 0; i < KPV_PAGE_SIZE; i++) {
		zero = zero && f->buf[0][i] == 0;
	}
	kt_check(zero, what, "not all zero");
}

/* Beyond the end, DISCARD, WRITE_ZEROES read back as zeroes. */
static void front_commands(struct front *f)
{
	struct io *io = &f->io[0];

	io_rw(f, io, KEEL_IO_BLOCK_OP_WRITE, 0, DISK_SECTORS - 1, 0, 0, 1024, 1024);
	kt_check_eq("beyond the end", io_do(f, io), KEEL_IO_BLOCK_S_RANGE);
	io_cmd(io, KEEL_IO_BLOCK_OP_DISCARD, 1000, 64);
	kt_check_eq("discard", io_do(f, io), KEEL_IO_BLOCK_S_OK);
	io_cmd(io, KEEL_IO_BLOCK_OP_WRITE_ZEROES, 1100, 2000);	/* two requests */
	kt_check_eq("write zeroes", io_do(f, io), KEEL_IO_BLOCK_S_OK);
	front_zero(f, "zeroes read back", 1100);
}

/* The whole disk zeroed first: what an earlier round wrote cannot pass for this one's. */
static void front_clear(struct front *f)
{
	struct io *io = &f->io[0];

	io_cmd(io, KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, DISK_SECTORS);
	kt_check_eq("zero the disk", io_do(f, io), KEEL_IO_BLOCK_S_OK);
	front_zero(f, "zeroed at the start", 0);
	front_zero(f, "zeroed at the end", DISK_SECTORS - 8);
}

static void front_run(struct kpv *k)
{
	static const struct kpv_blkfront_opts opts = {
		.features = ~0ull, .queues = 2, .ring_order = 1,
	};
	static struct front f;
	struct kpv_device_info dev;
	struct kpv_blkfront_stats st;
	uint32_t pages = 0;

	memset(&f, 0, sizeof(f));
	if (!kt_check(find_device(k, false, &dev), "a block device", "none")) {
		return;
	}
	while (pages < BUF_PAGES && (f.buf[pages] = kpv_shim_page_alloc()) != NULL) {
		pages++;
	}
	if (kt_check_eq("buffer pages", pages, BUF_PAGES) &&
	    kt_check_rc("kpv_blkfront_open",
			kpv_blkfront_open(k, &dev, &fe_ops, &f, &opts, &f.fe), 0)) {
		if (kt_check(ref_wait(front_up, &f, CONNECT_WAIT), "connected", "not in 60 s")) {
			kt_check_eq("capacity", f.info.capacity_sectors, DISK_SECTORS);
			kt_check_eq("logical block", f.info.logical_block_size, 512);
			kt_check_eq("queues", f.info.nr_queues, 2);
			kt_check_eq("features", f.info.features,
				    KEEL_IO_BLOCK_F_FLUSH | KEEL_IO_BLOCK_F_FUA |
					    KEEL_IO_BLOCK_F_DISCARD | KEEL_IO_BLOCK_F_WRITE_ZEROES |
					    KEEL_IO_BLOCK_F_INDIRECT | KEEL_IO_BLOCK_F_MULTI_QUEUE |
					    KEEL_IO_BLOCK_F_PERSISTENT);
			front_clear(&f);
			front_shapes(&f);
			front_parallel(&f);
			front_commands(&f);
			kpv_blkfront_stats(f.fe, &st);
			kt_note("%lu requests in %lu ring requests (%lu indirect, %lu sent again)",
				st.requests, st.ring_requests, st.indirect, st.resent);
		}
		kpv_blkfront_close(f.fe, false);
		kt_check(ref_wait(front_gone, &f, IO_WAIT), "released", "not in 30 s");
	}
	while (pages > 0) {
		kpv_shim_page_free(f.buf[--pages]);
	}
}

void ref_block_run(struct kpv *k, const char *role, const char *name)
{
	kt_group_begin(name);
	if (kt_strcmp(role, "blkback") == 0) {
		back_run(k);
	} else {
		front_run(k);
	}
	kt_group_end();
}
