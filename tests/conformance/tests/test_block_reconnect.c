/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_block_reconnect.c - block.md "Reconnect":
 * requests in flight when the backend closes, crashes or dies are kept,
 * their grants taken back, and sent again on the next connection, checked
 * against its config (what it can no longer serve ends S_IOERR); nothing
 * completes without a backend's S_OK, nothing twice, and the data ends up
 * right. A removed device and a closing frontend end what is left S_IOERR.
 */
#include <stdlib.h>
#include "block_common.h"
#include "suites.h"

#define NX	100u

static struct tb_pair B;
static struct tb_io X[NX];
static uint64_t want;			/* ring requests sent, for sent() */

static void setup(void)
{
	harness_begin();
	tb_init(&B, TB_SECTORS);
}

static void teardown(void)
{
	harness_end();
}

static uint64_t ring_requests(void)
{
	struct kpv_blkfront_stats s;

	kpv_blkfront_stats(B.os.fe, &s);
	return s.ring_requests;
}

/* The frontend has put @want ring requests on its rings (the backend has not seen them yet). */
static bool sent(void *ctx)
{
	(void)ctx;
	return ring_requests() >= want;
}

/* Submit X[0 .. n-1] and run only until the frontend has sent @parts ring requests. */
static void submit_until_sent(uint32_t n, uint64_t parts)
{
	want = ring_requests() + parts;
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &X[i]), 0);
	}
	CU_ASSERT_TRUE_FATAL(harness_run(sent, NULL, T_SECOND));
}

static uint32_t completed(uint32_t n)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < n; i++) {
		c += X[i].completions;
	}
	return c;
}

/* X[i]: a 4 KiB write of sector 8 * i from page i, data from @seed + i. */
static void writes(uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++) {
		tb_rw(&B, &X[i], KEEL_IO_BLOCK_OP_WRITE, 0, 8 * i, i, 0, 4096, 4096);
		tb_fill(&X[i], seed + i);
	}
}

/* All of X[0 .. n-1] completed once, S_OK, the disk holding what they wrote. */
static void assert_written(uint32_t n, uint32_t seed)
{
	CU_ASSERT_TRUE(tb_run_all(X, n, 5 * T_SECOND));
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(X[i].completions, 1);
		CU_ASSERT_EQUAL(X[i].status, KEEL_IO_BLOCK_S_OK);
		CU_ASSERT(tb_disk_is(&B.store, 8 * i, 8, seed + i));
	}
}

static bool fe_lost(void *ctx)
{
	(void)ctx;
	return !tb_fe_connected(&B) && harness_grants_permitted(B.t.fdom) == 0;
}

/* The backend closes with requests on the ring; they wait, holding no grant. */
static void backend_closes(void)
{
	harness_use(B.t.bdom);
	kpv_blkback_close(B.be, false);
	CU_ASSERT_TRUE(harness_run(tb_be_released, &B, T_SECOND));
	B.be = NULL;
	CU_ASSERT_TRUE(harness_run(fe_lost, NULL, T_SECOND));
}

static void backend_returns(void)
{
	CU_ASSERT_EQUAL_FATAL(tb_be_open(&B), 0);
	CU_ASSERT_TRUE(harness_run(tb_fe_connected, &B, T_SECOND));
}

static void test_backend_closes(void)
{
	struct kpv_blkfront_stats s;

	tb_connect(&B);
	writes(20, 100);
	for (uint32_t i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(tb_do(&B, &X[i]), KEEL_IO_BLOCK_S_OK);
	}
	writes(20, 200);
	submit_until_sent(20, 20);
	backend_closes();
	harness_run(NULL, NULL, 10 * T_SECOND);
	CU_ASSERT_EQUAL(completed(20), 0);
	CU_ASSERT(tb_disk_is(&B.store, 0, 8, 100));	/* the old data until a backend writes */
	backend_returns();
	assert_written(20, 200);
	kpv_blkfront_stats(B.os.fe, &s);
	CU_ASSERT_EQUAL(s.resent, 20);
	tb_finish(&B);
}

static bool served_a_ring(void *ctx)
{
	(void)ctx;
	return B.store.writes >= 32;
}

/* The backend answered some, and the frontend saw none of it: those go again too, once each. */
static void test_backend_crashes_after_serving_some(void)
{

	B.fopts.ring_order = 0;			/* 32 slots */
	tb_connect(&B);
	writes(NX, 300);
	submit_until_sent(NX, 32);
	CU_ASSERT_TRUE_FATAL(harness_run(served_a_ring, NULL, T_SECOND));
	CU_ASSERT_EQUAL(completed(NX), 0);
	/* The backend's OS reloads its driver; a new instance takes over. */
	harness_forget(B.t.bdom);
	B.t.bk = t_start(B.t.bdom);
	B.be = NULL;
	CU_ASSERT_EQUAL_FATAL(tb_be_open(&B), 0);
	assert_written(NX, 300);
	tb_end(&B, TB_BE_CRASHED);
}

/*
 * A new offer checked again: beyond the new capacity, a write to a read-only
 * device, a FLUSH without F_FLUSH end S_IOERR if they went to the old
 * backend; the same requests new get their own status.
 */
static void test_new_offer_cannot_serve(void)
{
	tb_connect(&B);
	writes(3, 400);
	tb_rw(&B, &X[3], KEEL_IO_BLOCK_OP_WRITE, 0, TB_SECTORS - 8, 3, 0, 4096, 4096);
	tb_cmd(&X[4], KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	tb_rw(&B, &X[5], KEEL_IO_BLOCK_OP_READ, 0, 0, 5, 0, 4096, 4096);
	submit_until_sent(6, 6);
	backend_closes();
	B.store.sectors = TB_SECTORS / 2;
	B.store.ro = true;
	B.ops.flush = NULL;
	backend_returns();
	CU_ASSERT_TRUE(B.os.info.read_only);
	harness_settle();
	for (uint32_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(X[i].completions, 1);
		CU_ASSERT_EQUAL(X[i].status, i == 5 ? KEEL_IO_BLOCK_S_OK : KEEL_IO_BLOCK_S_IOERR);
	}
	CU_ASSERT_EQUAL(B.store.writes + B.store.flushes, 0);
	/* New requests: their own statuses; a FLUSH has nothing to do. */
	CU_ASSERT_EQUAL(tb_do(&B, &X[0]), KEEL_IO_BLOCK_S_READONLY);
	CU_ASSERT_EQUAL(tb_do(&B, &X[4]), KEEL_IO_BLOCK_S_OK);
	tb_finish(&B);
}

/* A 100-segment write went indirect; the next backend has no F_INDIRECT: cut, and done. */
static void test_new_offer_without_indirect(void)
{
	struct kpv_blkfront_stats s;

	tb_connect(&B);
	tb_rw(&B, &X[0], KEEL_IO_BLOCK_OP_WRITE, 0, 64, 0, 0, 100 * 1024, 1024);
	tb_fill(&X[0], 7);
	submit_until_sent(1, 1);
	backend_closes();
	B.bopts.max_segments = 13;
	backend_returns();
	CU_ASSERT_EQUAL(B.os.info.max_segments, 13);
	CU_ASSERT_TRUE(harness_run(tb_io_done, &X[0], T_SECOND));
	CU_ASSERT_EQUAL(X[0].status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, 64, 200, 7));
	kpv_blkfront_stats(B.os.fe, &s);
	CU_ASSERT_EQUAL(s.indirect, 1);
	CU_ASSERT_EQUAL(s.ring_requests, 1 + 8);	/* 100 segments in thirteens */
	tb_finish(&B);
}

/* A request only partly on the ring when the backend goes is sent again whole. */
static void test_partly_sent(void)
{
	B.fopts.ring_order = 0;
	tb_connect(&B);
	writes(31, 500);
	tb_rw(&B, &X[31], KEEL_IO_BLOCK_OP_WRITE, 0, 1024, 40, 0, 1100 * 512, 512);
	tb_fill(&X[31], 9);
	submit_until_sent(32, 32);		/* the big one's first 1024 segments only */
	backend_closes();
	backend_returns();
	assert_written(31, 500);
	CU_ASSERT_TRUE(harness_run(tb_io_done, &X[31], T_SECOND));
	CU_ASSERT_EQUAL(X[31].completions, 1);
	CU_ASSERT_EQUAL(X[31].status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, 1024, 1100, 9));
	tb_finish(&B);
}

/* handshake.md "Device removed": the frontend fails every request, both ends let go. */
static void test_device_removed(void)
{
	B.fopts.ring_order = 0;
	tb_connect(&B);
	writes(50, 600);
	submit_until_sent(50, 1);
	CU_ASSERT_EQUAL(harness_device_remove(B.t.id), 0);
	/* Neither end waits for the other. */
	tb_close_fe(&B, true);
	tb_close_be(&B, true);
	for (uint32_t i = 0; i < 50; i++) {
		CU_ASSERT_EQUAL(X[i].completions, 1);
		CU_ASSERT_EQUAL(X[i].status, KEEL_IO_BLOCK_S_IOERR);
	}
	tb_end(&B, TB_REMOVED);
}

/* Closing: queued requests end S_IOERR; those on the ring are answered or fail, once each. */
static void test_frontend_closes(void)
{
	uint32_t n = 40, failed = 0;

	B.fopts.ring_order = 0;			/* 32 on the ring, 8 queued */
	tb_connect(&B);
	writes(n, 700);
	submit_until_sent(n, 32);
	harness_use(B.t.fdom);
	kpv_blkfront_close(B.os.fe, false);
	CU_ASSERT_TRUE(tb_run_all(X, n, 10 * T_SECOND));
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(X[i].completions, 1);
		if (X[i].status == KEEL_IO_BLOCK_S_OK) {
			CU_ASSERT(tb_disk_is(&B.store, 8 * i, 8, 700 + i));
		} else {
			CU_ASSERT_EQUAL(X[i].status, KEEL_IO_BLOCK_S_IOERR);
			failed++;
		}
	}
	CU_ASSERT(failed >= 8);
	CU_ASSERT_TRUE(harness_run(tb_fe_released, &B, 10 * T_SECOND));
	tb_finish(&B);
}

static void test_no_backend_closes(void)
{
	uint32_t n = 5;

	CU_ASSERT_EQUAL_FATAL(tb_fe_open(&B), 0);
	writes(n, 800);
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &X[i]), 0);
	}
	harness_run(NULL, NULL, T_SECOND);
	harness_use(B.t.fdom);
	kpv_blkfront_close(B.os.fe, false);
	CU_ASSERT_EQUAL(tb_submit(&B, &X[5]), -KEEL_EBUSY);
	CU_ASSERT_TRUE(tb_run_all(X, n, 10 * T_SECOND));
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(X[i].status, KEEL_IO_BLOCK_S_IOERR);
	}
	CU_ASSERT_TRUE(harness_run(tb_fe_released, &B, 10 * T_SECOND));
	tb_finish(&B);
}

/* The backend domain dies mid-I/O: requests wait (no success); the device's removal fails them. */
static void test_backend_domain_destroyed(void)
{
	uint32_t n = 10;

	tb_connect(&B);
	writes(n, 900);
	submit_until_sent(n, n);
	harness_destroy(B.t.bdom);
	B.be = NULL;
	CU_ASSERT_TRUE(harness_run(fe_lost, NULL, T_SECOND));
	harness_run(NULL, NULL, 30 * T_SECOND);
	CU_ASSERT_EQUAL(completed(n), 0);
	tb_close_fe(&B, true);
	CU_ASSERT_TRUE(tb_run_all(X, n, T_SECOND));
	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(X[i].status, KEEL_IO_BLOCK_S_IOERR);
	}
	tb_end(&B, TB_REMOVED | TB_BE_GONE);
}

static CU_TestInfo tests[] = {
	{ "the backend closes mid-I/O: sent again, data right", test_backend_closes },
	{ "the backend crashes after serving some: each once, data right",
	  test_backend_crashes_after_serving_some },
	{ "a new offer that cannot serve: S_IOERR for what was sent", test_new_offer_cannot_serve },
	{ "a new offer without indirect: cut and done", test_new_offer_without_indirect },
	{ "a request partly sent goes again whole", test_partly_sent },
	{ "the device removed: every request S_IOERR", test_device_removed },
	{ "the frontend closes: each request ends once", test_frontend_closes },
	{ "closed before any backend: S_IOERR", test_no_backend_closes },
	{ "the backend domain destroyed: no success, then S_IOERR", test_backend_domain_destroyed },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo block_reconnect_suite = { "block_reconnect", NULL, NULL, setup, teardown, tests };
