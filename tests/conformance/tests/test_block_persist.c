/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_block_persist.c - block.md "Persistent
 * grants" with a real blkfront and blkback: the frontend grants a pool of
 * pages once per ring and reuses it, the backend maps each once and keeps
 * it, neither grows with more I/O; a small pool makes requests wait (and
 * cut), never fail; a backend mapping fewer copies the rest; a store
 * without memory gets the mapped pages in place; a failed READ leaves the
 * OS's buffer alone; connections end with every mapping and pool grant
 * gone, and the next one starts a new pool. (block_io runs every data
 * test with the feature too.)
 */
#include <stdlib.h>
#include "block_common.h"
#include "suites.h"

static struct tb_pair B;
static struct tb_io W, R, X[64];

static void setup(void)
{
	harness_begin();
	tb_init(&B, TB_SECTORS);
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

/* Write @bytes at @sector from page 0 in @seglen segments, read it back into page 64. */
static void write_read(uint64_t sector, uint32_t bytes, uint32_t seglen, uint32_t seed)
{
	tb_rw(&B, &W, KEEL_IO_BLOCK_OP_WRITE, 0, sector, 0, 0, bytes, seglen);
	tb_fill(&W, seed);
	CU_ASSERT_EQUAL(tb_do(&B, &W), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, sector, bytes / 512, seed));
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, sector, 64, 0, bytes, seglen);
	for (uint32_t p = 64; p < 64 + bytes / 4096 + 1 && p < TB_PAGES; p++) {
		memset(B.buf[p], 0x5a, 4096);
	}
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_check(&R, seed));
}

/* Grants the frontend gives, mappings the backend holds (ring pages included). */
static unsigned int fe_grants(void)
{
	return harness_grants_permitted(B.t.fdom);
}

static unsigned int be_maps(void)
{
	return harness_foreign_maps(B.t.bdom);
}

static void test_granted_once(void)
{
	unsigned int g0, m0, g1, m1;

	tb_connect(&B);
	CU_ASSERT(B.os.info.features & KEEL_IO_BLOCK_F_PERSISTENT);
	g0 = fe_grants();
	m0 = be_maps();
	write_read(0, 65536, 4096, 1);
	g1 = fe_grants();
	m1 = be_maps();
	CU_ASSERT_EQUAL(g1 - g0, 16);		/* one request at a time: 16 pages */
	CU_ASSERT_EQUAL(m1 - m0, g1 - g0);	/* each mapped by the backend */
	for (uint32_t i = 0; i < 20; i++) {
		write_read(128 * i, 65536, 4096, 2 + i);
		write_read(3000 + i, 4096 + 512 * i, 1024, 40 + i);	/* other shapes */
	}
	CU_ASSERT_EQUAL(fe_grants(), g1);
	CU_ASSERT_EQUAL(be_maps(), m1);
	/* 512-byte segments share pool pages: 64 of them take 8. */
	write_read(100, 64 * 512, 512, 70);
	CU_ASSERT_EQUAL(fe_grants(), g1);
	/* A request at a time never needs more than the biggest one did. */
	write_read(200, 256 * 1024, 4096, 71);
	CU_ASSERT_EQUAL(fe_grants() - g0, 64);
	CU_ASSERT_EQUAL(be_maps() - m0, 64);
}

/* @n writes of 16 KiB (four pages each, sector 32 * i, seed i), submitted at once. */
static void submit_writes(uint32_t n)
{
	CU_ASSERT_TRUE_FATAL(tb_submit_writes(&B, X, n, 16384, 1));
}

static void check_writes(uint32_t n)
{
	CU_ASSERT_TRUE(tb_writes_landed(&B, X, n, 16384));
}

static void test_small_pool(void)
{
	unsigned int g0;

	B.fopts.persistent_pages = KPV_BLKFRONT_MIN_PERSISTENT;
	tb_connect(&B);
	CU_ASSERT_EQUAL(B.os.info.max_segments, KPV_BLKFRONT_MIN_PERSISTENT);
	g0 = fe_grants();
	/* 64 pages of data at once with a pool of 16: they wait for each other. */
	submit_writes(16);
	check_writes(16);
	CU_ASSERT_EQUAL(fe_grants() - g0, 16);
	CU_ASSERT(B.store.max_in_step <= 4);
	/* 1 MiB in one request: cut into ring requests of 16 pages. */
	write_read(0, 1024 * 1024, 4096, 5);
	CU_ASSERT_EQUAL(stats().ring_requests, 16 + 16 + 16);
	CU_ASSERT_EQUAL(fe_grants() - g0, 16);
}

/* A pool size out of range is refused at open. */
static void test_pool_limits(void)
{
	static const uint32_t bad[] = { 1, KPV_BLKFRONT_MIN_PERSISTENT - 1,
					KEEL_IO_BLOCK_PERSISTENT_MAX + 1 };

	harness_use(B.t.fdom);
	for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		B.fopts.persistent_pages = bad[i];
		CU_ASSERT_EQUAL(tb_fe_open(&B), -KEEL_EINVAL);
	}
	B.bopts.persistent_maps = KEEL_IO_BLOCK_PERSISTENT_MAX + 1;
	CU_ASSERT_EQUAL(tb_be_open(&B), -KEEL_EINVAL);
	B.os.fe = NULL;
	B.be = NULL;
}

/* block.md: a backend maps what it wants and copies the rest; the data is right either way. */
static void fewer_maps(bool memory)
{
	unsigned int m0;

	if (memory) {
		tb_store_memory_on(&B);
	}
	B.bopts.persistent_maps = 8;
	tb_connect(&B);
	m0 = be_maps();
	write_read(16, 128 * 1024, 4096, 7);		/* 32 pages: batched */
	write_read(300, 300 * 1024, 2048, 8);		/* 150 segments of 2 KiB: served alone */
	CU_ASSERT_EQUAL(be_maps() - m0, 8);
	submit_writes(8);
	check_writes(8);
	CU_ASSERT_EQUAL(be_maps() - m0, 8);
	CU_ASSERT_EQUAL(t_page(B.t.id)->be_state, KEEL_IO_STATE_CONNECTED);
}

static void test_fewer_maps_memory(void)
{
	fewer_maps(true);
}

static void test_fewer_maps_bounce(void)
{
	fewer_maps(false);
}

/* A store without memory is handed the mapped pages: one call per request, no bounce load. */
static void test_in_place(void)
{
	tb_connect(&B);
	write_read(0, 65536, 4096, 9);
	CU_ASSERT_EQUAL(B.store.writes, 1);	/* through bounce pages: two of 32 KiB */
	CU_ASSERT_EQUAL(B.store.reads, 1);
	/* Served alone (more segments than a batch takes): still one call per page of pieces. */
	write_read(1024, 600 * 1024, 4096, 10);
	CU_ASSERT_EQUAL(B.store.writes, 2);
	CU_ASSERT_EQUAL(B.store.reads, 2);
}

/* A READ that fails leaves the OS's buffer as it was: nothing is copied out. */
static void test_failed_read(void)
{
	tb_connect(&B);
	write_read(8, 8192, 4096, 11);
	B.store.fail = true;
	memset(B.buf[64], 0x5a, 4096);
	memset(B.buf[65], 0x5a, 4096);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 8, 64, 0, 8192, 4096);
	CU_ASSERT_EQUAL(tb_do(&B, &R), KEEL_IO_BLOCK_S_IOERR);
	for (uint32_t i = 0; i < 8192; i++) {
		CU_ASSERT_EQUAL_FATAL(B.buf[64 + i / 4096][i % 4096], 0x5a);
	}
}

/*
 * block.md: the backend unmaps the set when the connection ends; the
 * frontend ends its grants; the next connection starts a new pool.
 */
static void test_connection_ends(void)
{
	unsigned int g0, m0;

	tb_connect(&B);
	g0 = fe_grants();
	m0 = be_maps();
	write_read(0, 65536, 4096, 12);
	CU_ASSERT(be_maps() > m0);
	/* The backend closes and comes back: the old pool is gone, a new one grows. */
	tb_close_be(&B, false);
	CU_ASSERT_EQUAL(be_maps(), 0);
	harness_settle();
	CU_ASSERT_EQUAL(fe_grants(), 0);
	CU_ASSERT_EQUAL(tb_be_open(&B), 0);
	CU_ASSERT_TRUE(harness_run(tb_fe_connected, &B, 5 * T_SECOND));
	harness_settle();
	CU_ASSERT_EQUAL(fe_grants(), g0);
	write_read(0, 65536, 4096, 13);
	CU_ASSERT_EQUAL(fe_grants() - g0, 16);
	/* The frontend leaves: the backend keeps nothing of it. */
	tb_close_fe(&B, false);
	CU_ASSERT_EQUAL(be_maps(), 0);
	CU_ASSERT_EQUAL(fe_grants(), 0);
}

static bool some_sent(void *ctx)
{
	(void)ctx;
	return stats().ring_requests >= 4;
}

/* Requests in flight when the backend closes go again on the new pool, data right. */
static void test_backend_closes(void)
{
	tb_connect(&B);
	submit_writes(8);
	CU_ASSERT_TRUE_FATAL(harness_run(some_sent, NULL, T_SECOND));
	harness_use(B.t.bdom);
	kpv_blkback_close(B.be, false);		/* mid-I/O: the requests may be answered or not */
	CU_ASSERT_TRUE(harness_run(tb_be_released, &B, 30 * T_SECOND));
	B.be = NULL;
	CU_ASSERT_EQUAL(tb_be_open(&B), 0);
	check_writes(8);
	for (uint32_t i = 0; i < 8; i++) {
		tb_rw(&B, &X[i], KEEL_IO_BLOCK_OP_READ, 0, 32 * i, 100 + 4 * i, 0, 16384, 4096);
		CU_ASSERT_EQUAL(tb_submit(&B, &X[i]), 0);
	}
	CU_ASSERT_TRUE(tb_run_all(X, 8, 5 * T_SECOND));
	for (uint32_t i = 0; i < 8; i++) {
		CU_ASSERT(tb_check(&X[i], i));
	}
}

static CU_TestInfo tests[] = {
	{ "pages granted once and reused; the backend maps each once", test_granted_once },
	{ "a small pool: requests wait and are cut, none fails", test_small_pool },
	{ "pool and mapping limits out of range are refused", test_pool_limits },
	{ "a backend mapping fewer copies the rest: store memory", test_fewer_maps_memory },
	{ "a backend mapping fewer copies the rest: bounce store", test_fewer_maps_bounce },
	{ "a store without memory gets the mapped pages in place", test_in_place },
	{ "a failed READ leaves the OS's buffer alone", test_failed_read },
	{ "connections end with every mapping and grant; a new pool", test_connection_ends },
	{ "the backend closing mid-I/O: sent again on a new pool", test_backend_closes },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo block_persist_suite = { "block_persist", NULL, NULL, setup, teardown, tests };
