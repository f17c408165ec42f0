/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_block_io.c - a real blkfront against a real
 * blkback over a RAM store (docs/abi/devices/block.md): what the OS is
 * told, data written and read back at many sizes, offsets and segment
 * shapes, direct and indirect, split where the connection needs it; flush,
 * FUA, discard, write-zeroes; read-only devices, features not negotiated,
 * ranges, failing media; a full ring, requests before the connection,
 * live resize, several queues; requests refused outright. Run twice: with
 * F_PERSISTENT (block_io, the default) and with the frontend declining it,
 * every page granted per request (block_io_copy).
 */
#include <stdlib.h>
#include "block_common.h"
#include "suites.h"

static struct tb_pair B;
static struct tb_io W, R, X[300];
static bool copy_mode;			/* block_io_copy: the frontend declines F_PERSISTENT */

static void setup(void)
{
	harness_begin();
	tb_init(&B, TB_SECTORS);
	copy_mode = false;
}

static void setup_copy(void)
{
	setup();
	copy_mode = true;
	B.fopts.features &= ~(uint64_t)KEEL_IO_BLOCK_F_PERSISTENT;
}

static void teardown(void)
{
	tb_finish(&B);
	harness_end();
}

static struct kpv_blkfront_stats stats(void)
{
	return tb_fe_stats(&B);
}

/* Write @bytes at @sector from page 0 at @offset in @seglen segments; read it back elsewhere. */
static void write_read(uint64_t sector, uint32_t offset, uint32_t bytes, uint32_t seglen,
		       uint32_t seed)
{
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, sector, 0, offset, bytes, seglen);
	tb_fill(&W, seed);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, sector, bytes / 512, seed));
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, sector, 0, (offset + 1024) % 4096, bytes, seglen);
	for (uint32_t p = 0; p < TB_PAGES; p++) {
		memset(B.buf[p], 0x5a, 4096);
	}
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_check(&R, seed));
}

static void test_info(void)
{
	const struct kpv_blk_info *i = &B.os.info;

	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.changes, 1);
	CU_ASSERT_EQUAL(i->capacity_sectors, TB_SECTORS);
	CU_ASSERT_EQUAL(i->logical_block_size, 512);
	CU_ASSERT_EQUAL(i->physical_block_size, 4096);
	CU_ASSERT_FALSE(i->read_only);
	CU_ASSERT_EQUAL(i->features, KEEL_IO_BLOCK_F_FLUSH | KEEL_IO_BLOCK_F_FUA |
					     KEEL_IO_BLOCK_F_DISCARD | KEEL_IO_BLOCK_F_WRITE_ZEROES |
					     KEEL_IO_BLOCK_F_INDIRECT |
					     (copy_mode ? 0 : KEEL_IO_BLOCK_F_PERSISTENT));
	CU_ASSERT(t_page(B.t.id)->be_features & KEEL_IO_BLOCK_F_PERSISTENT);	/* offered */
	CU_ASSERT_EQUAL(i->max_segments, 1024);
	CU_ASSERT_EQUAL(i->nr_queues, 1);
	CU_ASSERT_EQUAL(i->discard_granularity, 4096);
	CU_ASSERT_EQUAL(i->max_discard_sectors, 1024);
	CU_ASSERT_EQUAL(i->max_write_zeroes_sectors, 2048);
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_nr_rings, 1);
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_rings[0].order, 1);
	CU_ASSERT_EQUAL(B.store.connects, 1);
	/* The frontend leaves: the backend's OS hears it. */
	tb_close_fe(&B, false);
	CU_ASSERT_EQUAL(B.store.disconnects, 1);
}

static void test_sizes_and_offsets(void)
{
	static const struct {
		uint64_t sector;
		uint32_t offset, bytes, seglen;
	} cases[] = {
		{ 0, 0, 512, 4096 },		/* the first sector */
		{ 7, 512, 4096, 4096 },		/* one page's worth across two pages */
		{ 100, 1536, 65536, 1024 },	/* 64 segments: indirect */
		{ 8191, 3584, 512, 512 },	/* the last sector */
		{ 4000, 0, 53248, 4096 },	/* 13 full pages: direct, the most */
		{ 4200, 0, 57344, 4096 },	/* 14: indirect */
		{ 1, 2048, 6656, 512 },		/* 13 segments of a sector */
		{ 3, 0, 512 * 255, 3584 },	/* odd lengths */
	};

	tb_connect(&B);
	for (uint32_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		write_read(cases[c].sector, cases[c].offset, cases[c].bytes, cases[c].seglen, c + 1);
	}
	CU_ASSERT(tb_disk_is(&B.store, 8191, 1, 4));
	CU_ASSERT(stats().indirect > 0);
}

/* Segments in any order of the pages, two in one page: the disk follows the segment order. */
static void test_segments_share_pages(void)
{
	uint8_t *p = B.buf[3], *q = B.buf[9];

	tb_connect(&B);
	memset(&W, 0, sizeof(W));
	W.segs[0] = (struct kpv_blk_seg){ q, 3072, 1024 };
	W.segs[1] = (struct kpv_blk_seg){ p, 0, 512 };
	W.segs[2] = (struct kpv_blk_seg){ q, 0, 2048 };
	W.segs[3] = (struct kpv_blk_seg){ p, 512, 512 };
	W.req = (struct kpv_blk_req){ .op = KEEL_IO_BLOCK_OP_WRITE, .sector = 64, .segs = W.segs,
				      .nr_segs = 4, .os = &W };
	memset(q, 1, 4096);
	memset(p, 2, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_all(&B.store, 64, 2, 1));
	CU_ASSERT(tb_disk_all(&B.store, 66, 1, 2));
	CU_ASSERT(tb_disk_all(&B.store, 67, 4, 1));
	CU_ASSERT(tb_disk_all(&B.store, 71, 1, 2));
}

static void test_indirect_two_pages(void)
{
	struct kpv_blkfront_stats before;

	tb_connect(&B);
	before = stats();
	/* 1024 segments of 1 KiB: two indirect pages, one ring request. */
	write_read(512, 0, 1024 * 1024, 1024, 9);
	CU_ASSERT_EQUAL(stats().ring_requests - before.ring_requests, 2);
	CU_ASSERT_EQUAL(stats().indirect - before.indirect, 2);
	/* 1100 segments: cut in two, the first of 1024. */
	before = stats();
	write_read(0, 0, 1100 * 512, 512, 10);
	CU_ASSERT_EQUAL(stats().ring_requests - before.ring_requests, 4);
}

static void test_split_without_indirect(void)
{
	B.fopts.features &= ~(uint64_t)KEEL_IO_BLOCK_F_INDIRECT;
	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.info.max_segments, 13);
	CU_ASSERT_FALSE(B.os.info.features & KEEL_IO_BLOCK_F_INDIRECT);
	write_read(10, 512, 100 * 512, 512, 3);		/* 8 ring requests each way */
	CU_ASSERT_EQUAL(stats().ring_requests, 16);
	CU_ASSERT_EQUAL(stats().indirect, 0);
	CU_ASSERT_EQUAL(B.store.writes, 8);
}

/* A 4096-byte block: parts are cut at whole blocks, whatever the segments. */
static void test_split_at_blocks(void)
{
	B.store.lbs = 4096;
	B.fopts.features &= ~(uint64_t)KEEL_IO_BLOCK_F_INDIRECT;
	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.info.logical_block_size, 4096);
	/* 64 sectors of 512-byte segments: 13 of them are 6656 bytes, cut back to 4096. */
	write_read(8, 0, 64 * 512, 512, 4);
	CU_ASSERT_EQUAL(B.store.writes, 8);
	CU_ASSERT_EQUAL(B.store.reads, 8);
}

static void test_block_alignment(void)
{
	B.store.lbs = 4096;
	tb_connect(&B);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 1, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_READ, 0, 8, 0, 0, 512, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	CU_ASSERT_EQUAL(B.store.writes + B.store.reads, 0);
	write_read(16, 0, 8192, 4096, 5);
}

static void test_range(void)
{
	tb_connect(&B);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, TB_SECTORS - 1, 0, 0, 1024, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_READ, 0, TB_SECTORS, 0, 0, 512, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_READ, 0, ~0ull - 1, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_DISCARD, TB_SECTORS - 8, 9);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_WRITE_ZEROES, ~0ull, 2);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	CU_ASSERT_EQUAL(B.store.writes + B.store.reads + B.store.discards + B.store.zeroes, 0);
	write_read(TB_SECTORS - 8, 0, 4096, 4096, 6);
}

static void test_flush_and_fua(void)
{
	tb_connect(&B);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.writes_since_flush, 1);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.flushes, 1);
	CU_ASSERT_EQUAL(B.store.writes_since_flush, 0);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, KPV_BLK_FUA, 8, 0, 0, 8192, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.fua_writes, 1);
	CU_ASSERT_EQUAL(B.store.writes_since_flush, 0);
}

/* block.md F_FLUSH: a backend without it makes every write durable; a FLUSH has nothing to do. */
static void test_no_flush_feature(void)
{
	struct kpv_blkfront_stats before;

	B.ops.flush = NULL;
	B.fopts.features &= ~(uint64_t)KEEL_IO_BLOCK_F_FUA;
	tb_connect(&B);
	CU_ASSERT_FALSE(B.os.info.features & KEEL_IO_BLOCK_F_FLUSH);
	write_read(0, 0, 40960, 4096, 7);
	CU_ASSERT_EQUAL(B.store.fua_writes, B.store.writes);
	CU_ASSERT_EQUAL(B.store.writes_since_flush, 0);
	before = stats();
	tb_cmd(&W, KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(stats().ring_requests, before.ring_requests);
	/* FUA without F_FUA is no more than that either. */
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, KPV_BLK_FUA, 0, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.fua_writes, B.store.writes);
}

static void test_discard_and_write_zeroes(void)
{
	tb_connect(&B);
	write_read(0, 0, 1024 * 1024, 4096, 8);
	/* 3000 sectors with at most 1024 per request: three requests. */
	tb_cmd(&W, KEEL_IO_BLOCK_OP_DISCARD, 10, 3000);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.discards, 3);
	CU_ASSERT(tb_disk_all(&B.store, 10, 3000, 0xdd));
	CU_ASSERT(tb_disk_is(&B.store, 9, 1, 8));
	/* 5000 with at most 2048: three; read back as zeroes through the frontend. */
	tb_cmd(&W, KEEL_IO_BLOCK_OP_WRITE_ZEROES, 100, 5000);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.zeroes, 3);
	CU_ASSERT_EQUAL(B.store.last_sector + B.store.last_sectors, 5100);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 99, 0, 0, 8192, 4096);
	memset(B.buf[0], 0x77, 4096);
	memset(B.buf[1], 0x77, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.buf[0][0], 0xdd);	/* sector 99 was discarded */
	for (uint32_t i = 512; i < 8192; i++) {
		CU_ASSERT_EQUAL_FATAL(B.buf[i / 4096][i % 4096], 0);
	}
}

static void test_read_only(void)
{
	B.store.ro = true;
	tb_connect(&B);
	CU_ASSERT_TRUE(B.os.info.read_only);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_READONLY);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_DISCARD, 0, 8);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_READONLY);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, 8);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_READONLY);
	CU_ASSERT_EQUAL(B.store.writes + B.store.discards + B.store.zeroes, 0);
	memset(B.store.data, 0x33, 4096);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 0, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.buf[0][4095], 0x33);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
}

static void test_not_negotiated(void)
{
	B.ops.discard = NULL;				/* the store has none */
	B.fopts.features = KEEL_IO_BLOCK_F_FLUSH;	/* the OS takes FLUSH only */
	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.info.features, KEEL_IO_BLOCK_F_FLUSH);
	CU_ASSERT_FALSE(t_page(B.t.id)->be_features & KEEL_IO_BLOCK_F_DISCARD);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_DISCARD, 0, 8);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_NOTSUPP);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, 8);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_NOTSUPP);
	/* With a volatile cache and no FUA, a FUA write cannot be honoured. */
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, KPV_BLK_FUA, 0, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_NOTSUPP);
	CU_ASSERT_EQUAL(B.store.writes + B.store.zeroes, 0);
}

static void test_media_error(void)
{
	tb_connect(&B);
	B.store.fail = true;
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 0, 65536, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_IOERR);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 0, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_IOERR);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_IOERR);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_DISCARD, 0, 8);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_IOERR);
	B.store.fail = false;
	write_read(0, 0, 4096, 4096, 11);
}

/* @n writes of 4 KiB (each its own page, sector 8 * i, seed i), submitted at once. */
static void submit_writes(uint32_t n, uint16_t queues)
{
	CU_ASSERT_TRUE_FATAL(tb_submit_writes(&B, X, n, 4096, queues));
}

static void check_writes(uint32_t n)
{
	CU_ASSERT_TRUE(tb_writes_landed(&B, X, n, 4096));
}

static void test_full_ring_queues(void)
{
	B.fopts.ring_order = 0;				/* 32 slots */
	tb_connect(&B);
	submit_writes(300, 1);
	check_writes(300);
	CU_ASSERT(B.store.max_in_step <= 32);
}

static void test_before_connection(void)
{
	CU_ASSERT_EQUAL_FATAL(tb_fe_open(&B), 0);
	submit_writes(40, 1);
	harness_run(NULL, NULL, 2 * T_SECOND);
	CU_ASSERT_EQUAL(B.os.completions, 0);
	CU_ASSERT_EQUAL(tb_be_open(&B), 0);
	check_writes(40);
}

static bool changed_twice(void *ctx)
{
	(void)ctx;
	return B.os.changes >= 2;
}

static void test_resize(void)
{
	tb_connect(&B);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, TB_SECTORS, 0, 0, 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	/* Grow: the frontend hears it and the new sectors work. */
	B.store.data = realloc(B.store.data, (size_t)2 * TB_SECTORS * 512);
	CU_ASSERT_PTR_NOT_NULL_FATAL(B.store.data);
	B.store.sectors = 2 * TB_SECTORS;
	harness_use(B.t.bdom);
	kpv_blkback_resize(B.be);
	CU_ASSERT_TRUE(harness_run(changed_twice, NULL, T_SECOND));
	CU_ASSERT_EQUAL(B.os.info.capacity_sectors, 2 * TB_SECTORS);
	write_read(TB_SECTORS, 0, 4096, 4096, 12);
	/* Shrink below it: out of range again, from the backend too. */
	B.store.sectors = TB_SECTORS / 2;
	harness_use(B.t.bdom);
	kpv_blkback_resize(B.be);
	harness_settle();
	CU_ASSERT_EQUAL(B.os.changes, 3);
	CU_ASSERT_EQUAL(B.os.info.capacity_sectors, TB_SECTORS / 2);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_RANGE);
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_state, KEEL_IO_STATE_CONNECTED);
}

static void test_multi_queue(void)
{
	B.fopts.queues = 4;
	B.fopts.ring_order = 0;
	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.info.nr_queues, 4);
	CU_ASSERT(B.os.info.features & KEEL_IO_BLOCK_F_MULTI_QUEUE);
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_nr_rings, 4);
	submit_writes(200, 4);
	check_writes(200);
	/* A backend allowing one ring: one queue, no F_MULTI_QUEUE. */
	tb_close_fe(&B, false);
	tb_close_be(&B, false);
	B.bopts.max_rings = 1;
	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.info.nr_queues, 1);
	CU_ASSERT_FALSE(B.os.info.features & KEEL_IO_BLOCK_F_MULTI_QUEUE);
}

/* Requests no device could serve: refused at submit, never completed. */
static void test_refused(void)
{
	static const struct kpv_blk_seg bad[] = {
		{ NULL, 0, 512 }, { NULL, 100, 512 }, { NULL, 0, 100 }, { NULL, 0, 0 },
		{ NULL, 3584, 1024 },
	};
	struct kpv_blk_seg seg;

	tb_connect(&B);
	for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 0, 512, 512);
		seg = bad[i];
		seg.page = i ? B.buf[0] : NULL;
		W.req.segs = &seg;
		CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	}
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 0, 512, 512);
	seg = (struct kpv_blk_seg){ B.buf[0] + 512, 0, 512 };	/* not a page start */
	W.req.segs = &seg;
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_rw(&B, &W, 5, 0, 0, 0, 0, 512, 512);
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0x80, 0, 0, 0, 512, 512);
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_READ, KPV_BLK_FUA, 0, 0, 0, 512, 512);
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_READ, 0, 0, 0, 0, 512, 512);
	W.req.nr_sectors = 1;
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	W.req.nr_sectors = 0;
	W.req.nr_segs = 0;
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_DISCARD, 0, 0);
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_FLUSH, 0, 1);
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	tb_cmd(&W, KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, 1);
	W.req.nr_segs = 1;
	W.req.segs = W.segs;
	CU_ASSERT_EQUAL(tb_submit(&B, &W), -KEEL_EINVAL);
	harness_settle();
	CU_ASSERT_EQUAL(B.os.completions, 0);
	CU_ASSERT_EQUAL(stats().requests, 0);
}

/* block.md: never access bytes outside the segments, either way. */
static void test_only_the_segments(void)
{
	tb_connect(&B);
	memset(B.store.data, 0x11, 16 * 512);
	memset(B.buf[0], 0xee, 4096);
	W.req = (struct kpv_blk_req){ .op = KEEL_IO_BLOCK_OP_WRITE, .sector = 4, .segs = W.segs,
				      .nr_segs = 1, .os = &W };
	W.segs[0] = (struct kpv_blk_seg){ B.buf[0], 1024, 512 };
	memset(B.buf[0] + 1024, 0x22, 512);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_all(&B.store, 0, 4, 0x11));
	CU_ASSERT(tb_disk_all(&B.store, 4, 1, 0x22));
	CU_ASSERT(tb_disk_all(&B.store, 5, 11, 0x11));
	/* Read that sector into the middle of a page: the rest of the page stays. */
	memset(B.buf[1], 0xcc, 4096);
	R.req = W.req;
	R.req.op = KEEL_IO_BLOCK_OP_READ;
	R.req.segs = R.segs;
	R.req.os = &R;
	R.segs[0] = (struct kpv_blk_seg){ B.buf[1], 2048, 512 };
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_OK);
	for (uint32_t i = 0; i < 4096; i++) {
		CU_ASSERT_EQUAL_FATAL(B.buf[1][i], i >= 2048 && i < 2560 ? 0x22 : 0xcc);
	}
}

/* Out of grants with nothing in flight to wait for: the request fails rather than stalls. */
static void test_out_of_grants(void)
{
	static uint32_t hoard[32 * 256];
	uint32_t n = 0;

	tb_connect(&B);
	harness_use(B.t.fdom);
	while (n < 32 * 256 && kpv_grant(B.t.fk, harness_domid(B.t.bdom), B.buf[0], true,
					 &hoard[n]) == 0) {
		n++;
	}
	CU_ASSERT_FATAL(n > 100 && n < 32 * 256);
	for (uint32_t i = 0; i < 10; i++) {
		CU_ASSERT(kpv_grant_end(B.t.fk, hoard[--n]));
	}
	/* 20 pages and an indirect one: 21 grants per request, or pool pages. */
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 0, 20 * 4096, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_IOERR);
	CU_ASSERT(harness_log_has(B.t.fdom, "out of grants"));
	write_read(0, 0, 4 * 512, 512, 13);				/* 4 grants */
	harness_use(B.t.fdom);
	while (n > 0) {
		CU_ASSERT(kpv_grant_end(B.t.fk, hoard[--n]));
	}
	write_read(0, 0, 20 * 512, 512, 14);
}

/*
 * A store that is memory: the data goes straight between the frontend's
 * pages and it, batched and alone, direct and indirect; read() and
 * write() are never called.
 */
static void test_store_memory(void)
{
	tb_store_memory_on(&B);
	B.fopts.ring_order = 0;				/* 32 slots: batches, and a queue */
	tb_connect(&B);
	write_read(7, 512, 4096, 4096, 1);		/* across two pages of the store */
	write_read(100, 1536, 65536, 1024, 2);		/* indirect, batched */
	write_read(3, 0, 512 * 255, 3584, 3);		/* odd lengths */
	write_read(0, 0, 1024 * 512, 512, 4);		/* 1024 segments: served alone */
	write_read(1023, 3584, 512, 512, 5);		/* the last sector */
	submit_writes(120, 1);
	check_writes(120);
	CU_ASSERT_EQUAL(B.store.reads + B.store.writes, 0);
	CU_ASSERT(B.store.memory_calls > 120 && B.store.memory_writes > 120);
	CU_ASSERT(B.store.memory_writes < B.store.memory_calls);
}

/* A store without memory for a range (its bug): S_IOERR, and the device goes on. */
static void test_store_memory_missing(void)
{
	tb_store_memory_on(&B);
	B.store.memory_limit = 512;
	tb_connect(&B);
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, 508, 0, 0, 8192, 4096);
	tb_fill(&W, 6);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_IOERR);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 600, 0, 0, 256 * 512, 512);	/* alone */
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_IOERR);
	write_read(0, 0, 4096, 4096, 7);
	CU_ASSERT_EQUAL(B.store.reads + B.store.writes, 0);
}

/*
 * Both sides polling (ring.md rule 8): everything completes, and once the
 * polls have ended (time, or looks that found nothing) the sides arm their
 * rings and a request still wakes the backend, its answer the frontend.
 */
static void test_polling(void)
{
	B.bopts.poll_ns = 1000 * 1000;
	B.fopts.poll_ns = 1000 * 1000;
	B.fopts.ring_order = 0;
	tb_connect(&B);
	submit_writes(300, 1);
	check_writes(300);
	harness_run(NULL, NULL, T_SECOND);
	write_read(64, 0, 65536, 4096, 8);
	harness_run(NULL, NULL, T_SECOND);
	write_read(0, 512, 512, 512, 9);
}

static void no_complete(void *os, struct kpv_blk_req *req, uint16_t status)
{
	CU_FAIL("never opened");
}

static void no_release(void *ctx)
{
	CU_FAIL("never opened");
}

/* A poll longer than KPV_BLK_MAX_POLL_NS is refused on both sides. */
static void test_polling_limit(void)
{
	static const struct kpv_blkfront_ops fops = { .complete = no_complete,
						      .released = no_release };
	static const struct kpv_blkback_ops bops = { .released = no_release };
	struct kpv_blkfront *fe = NULL;
	struct kpv_blkback *be = NULL;

	B.bopts.poll_ns = B.fopts.poll_ns = KPV_BLK_MAX_POLL_NS + 1;
	harness_use(B.t.fdom);
	CU_ASSERT_EQUAL(kpv_blkfront_open(B.t.fk, &B.t.finfo, &fops, NULL, &B.fopts, &fe),
			-KEEL_EINVAL);
	harness_use(B.t.bdom);
	CU_ASSERT_EQUAL(kpv_blkback_open(B.t.bk, &B.t.binfo, &B.ops, &B.store, &B.bopts, &bops,
					 &be), -KEEL_EINVAL);
	CU_ASSERT_PTR_NULL(fe);
	CU_ASSERT_PTR_NULL(be);
}

static CU_TestInfo tests[] = {
	{ "connected: geometry and features told to the OS", test_info },
	{ "data written reads back: sizes, offsets, segment lengths", test_sizes_and_offsets },
	{ "segments sharing pages, in any order", test_segments_share_pages },
	{ "indirect: two pages, and a request cut at 1024 segments", test_indirect_two_pages },
	{ "without F_INDIRECT: 13 segments per ring request", test_split_without_indirect },
	{ "a 4096-byte block: parts cut at whole blocks", test_split_at_blocks },
	{ "unaligned to the logical block: S_RANGE", test_block_alignment },
	{ "beyond the capacity: S_RANGE; the last sectors work", test_range },
	{ "FLUSH and FUA reach the store", test_flush_and_fua },
	{ "no F_FLUSH: every write durable, FLUSH at once", test_no_flush_feature },
	{ "DISCARD and WRITE_ZEROES, cut at their limits", test_discard_and_write_zeroes },
	{ "a read-only device: S_READONLY", test_read_only },
	{ "what was not negotiated: S_NOTSUPP", test_not_negotiated },
	{ "the medium failing: S_IOERR", test_media_error },
	{ "a full ring: requests wait, all complete", test_full_ring_queues },
	{ "requests before the connection wait for it", test_before_connection },
	{ "live resize: grow and shrink", test_resize },
	{ "several queues, and a backend allowing one", test_multi_queue },
	{ "requests no device could serve are refused", test_refused },
	{ "no byte outside the segments is touched", test_only_the_segments },
	{ "out of grants: the request fails, the next goes", test_out_of_grants },
	{ "a store that is memory: data straight to it, no store calls", test_store_memory },
	{ "a store without memory for a range: S_IOERR", test_store_memory_missing },
	{ "both sides polling: all complete, and wake-ups after", test_polling },
	{ "a poll beyond the limit is refused", test_polling_limit },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo block_io_suite = { "block_io", NULL, NULL, setup, teardown, tests };
CU_SuiteInfo block_io_copy_suite = { "block_io_copy", NULL, NULL, setup_copy, teardown, tests };
