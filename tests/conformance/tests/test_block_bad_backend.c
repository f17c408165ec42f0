/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_block_bad_backend.c - blkfront against a raw
 * backend that offers, reads requests and writes responses itself
 * (block.md, the FE's MUSTs): offers it cannot use and non-live config
 * changes are CONFIG errors; a response to nothing in flight, answered
 * twice, with another op or on another ring is a PROTOCOL error, and the
 * request stays unfinished until a real backend answers it; an unknown
 * status is S_IOERR; a page the backend still holds is taken back before
 * the OS gets it; grants and requests keep block.md's shapes. With
 * F_PERSISTENT: data only through writable pool pages, copied in before a
 * WRITE and out after a READ's S_OK, at most the pool's size of them, all
 * taken back (by force) when the backend leaves.
 */
#include "block_common.h"
#include "suites.h"

#define ALL_F	(KEEL_IO_BLOCK_F_FLUSH | KEEL_IO_BLOCK_F_FUA | KEEL_IO_BLOCK_F_DISCARD | \
		 KEEL_IO_BLOCK_F_WRITE_ZEROES | KEEL_IO_BLOCK_F_INDIRECT)

static struct tb_pair B;
static struct raw_be RB;
static struct raw_ring RR[2];
static struct keel_io_block_config cfg;
static uint32_t gen;
static struct tb_io W, W2, R;

static void setup(void)
{
	harness_begin();
	tb_init(&B, TB_SECTORS);
	raw_be_bind(&RB, &B.t);
	gen = 0;
	cfg = (struct keel_io_block_config){
		.capacity_sectors = TB_SECTORS, .logical_block_size = 512,
		.physical_block_size = 4096, .max_segments = 1024, .discard_granularity = 4096,
		.max_discard_sectors = 1024, .max_write_zeroes_sectors = 2048,
	};
}

static void release_raw(void)
{
	for (uint32_t i = 0; i < 2; i++) {
		if (RR[i].maps[0].gfn) {
			raw_be_unmap_ring(&RB, &RR[i]);
		}
	}
	if (RB.port) {
		raw_be_release(&RB);
	}
}

static void teardown(void)
{
	release_raw();
	tb_finish(&B);
	harness_end();
}

static void offer(uint64_t features, uint32_t rings)
{
	raw_be_offer_as(&RB, ++gen, rings, 0, features, &cfg, sizeof(cfg));
}

static bool fe_committed(void *ctx)
{
	(void)ctx;
	return t_page(B.t.id)->fe_state == KEEL_IO_STATE_READY;
}

static bool fe_error(void *ctx)
{
	(void)ctx;
	return t_page(B.t.id)->fe_state == KEEL_IO_STATE_ERROR;
}

/* Offer, let the frontend commit, map its rings and say CONNECTED. */
static void connect(uint64_t features, uint32_t rings)
{
	offer(features, rings);
	CU_ASSERT_EQUAL_FATAL(tb_fe_open(&B), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(fe_committed, NULL, T_SECOND));
	for (uint32_t i = 0; i < t_page(B.t.id)->fe_nr_rings; i++) {
		raw_be_map_ring(&RB, i, KEEL_IO_BLOCK_SLOT_SIZE, &RR[i]);
	}
	raw_be_state(&RB, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tb_fe_connected, &B, T_SECOND));
}

static bool take_rq(uint32_t ring, struct keel_io_block_request *rq)
{
	harness_settle();
	if (kpv_ring_be_available(&RR[ring].ring) < 0 || !kpv_ring_be_take(&RR[ring].ring, rq)) {
		return false;
	}
	/* MBZ written zero (ring.md), also into slots our answers left dirty (test_any_order). */
	if (rq->op != KEEL_IO_BLOCK_OP_DISCARD && rq->op != KEEL_IO_BLOCK_OP_WRITE_ZEROES) {
		CU_ASSERT_EQUAL(rq->nr_sectors, 0);
	}
	return true;
}

/* Write a response on @ring (for any consumed request there), notify, run. */
static void answer(uint32_t ring, uint64_t id, uint8_t op, uint16_t status)
{
	struct keel_io_block_response *rsp = kpv_ring_be_next(&RR[ring].ring);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rsp);
	*rsp = (struct keel_io_block_response){ .id = id, .op = op, .status = status };
	kpv_ring_be_push(&RR[ring].ring);
	harness_use(B.t.bdom);
	kpv_evtchn_notify(B.t.bk, RR[ring].port);
	harness_settle();
}

/* A one-page WRITE of sector @sector from buffer page @page, filled from @seed. */
static void write_io(struct tb_io *io, uint64_t sector, uint32_t page, uint32_t seed)
{
	tb_rw(&B, io, KEEL_IO_BLOCK_OP_WRITE, 0, sector, page, 0, 4096, 4096);
	tb_fill(io, seed);
	CU_ASSERT_EQUAL_FATAL(tb_submit(&B, io), 0);
}

/* The frontend stopped on a protocol error, holding no grant but its control port. */
static void expect_fe_error(uint32_t err)
{
	CU_ASSERT_TRUE(harness_run(fe_error, NULL, T_SECOND));
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_error, err);
	CU_ASSERT_EQUAL(harness_grants_permitted(B.t.fdom), 0);
	CU_ASSERT(t_quiet_steps() < 5);
}

/*
 * The raw backend goes; a real one comes (a new generation): whatever the
 * frontend kept is sent again and answered for real.
 */
static void real_backend_takes_over(void)
{
	release_raw();
	CU_ASSERT_EQUAL_FATAL(tb_be_open(&B), 0);
	CU_ASSERT_TRUE(harness_run(tb_fe_connected, &B, 5 * T_SECOND));
}

static void test_bad_offers(void)
{
	static const uint32_t sizes[][3] = {	/* logical, physical, max_segments */
		{ 1000, 4096, 13 }, { 256, 4096, 13 }, { 8192, 8192, 13 }, { 4096, 512, 13 },
		{ 512, 3000, 13 }, { 512, 4096, 12 }, { 512, 4096, 4097 }, { 0, 0, 0 },
	};

	CU_ASSERT_EQUAL_FATAL(tb_fe_open(&B), 0);
	for (uint32_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cfg.logical_block_size = sizes[i][0];
		cfg.physical_block_size = sizes[i][1];
		cfg.max_segments = sizes[i][2];
		harness_log_clear(B.t.fdom);
		offer(0, 1);
		harness_settle();
		CU_ASSERT(harness_log_has(B.t.fdom, "offer refused"));
		CU_ASSERT_EQUAL(t_page(B.t.id)->fe_state, KEEL_IO_STATE_ERROR);
		CU_ASSERT_EQUAL(t_page(B.t.id)->fe_error, KEEL_IO_ERR_CONFIG);
		CU_ASSERT_EQUAL(harness_grants_permitted(B.t.fdom), 0);
	}
	CU_ASSERT_EQUAL(B.os.changes, 0);
	/* A good one after all: connected. */
	cfg.logical_block_size = 4096;
	cfg.physical_block_size = 4096;
	cfg.max_segments = 13;
	offer(KEEL_IO_BLOCK_F_FLUSH, 1);
	CU_ASSERT_TRUE(harness_run(fe_committed, NULL, T_SECOND));
}

static void test_unknown_id(void)
{
	struct keel_io_block_request rq;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 16, 0, 1);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	answer(0, rq.id ^ 0x5a5a, rq.op, KEEL_IO_BLOCK_S_OK);
	expect_fe_error(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(W.completions, 0);
	real_backend_takes_over();
	CU_ASSERT_TRUE(harness_run(tb_io_done, &W, T_SECOND));
	CU_ASSERT_EQUAL(W.status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, 16, 8, 1));
}

static void test_answered_twice(void)
{
	struct keel_io_block_request a, b;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 0, 0, 1);
	write_io(&W2, 8, 1, 2);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &a));
	CU_ASSERT_TRUE_FATAL(take_rq(0, &b));
	answer(0, a.id, a.op, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(W.completions, 1);
	CU_ASSERT_EQUAL(W.status, KEEL_IO_BLOCK_S_OK);
	answer(0, a.id, a.op, KEEL_IO_BLOCK_S_OK);
	expect_fe_error(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(W.completions, 1);
	CU_ASSERT_EQUAL(W2.completions, 0);
}

static void test_wrong_op(void)
{
	struct keel_io_block_request rq;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 0, 0, 1);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	answer(0, rq.id, KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_OK);
	expect_fe_error(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(W.completions, 0);
}

static void test_other_ring(void)
{
	struct keel_io_block_request a, b;

	B.fopts.queues = 2;
	connect(KEEL_IO_BLOCK_F_MULTI_QUEUE, 2);
	CU_ASSERT_EQUAL_FATAL(t_page(B.t.id)->fe_nr_rings, 2);
	write_io(&W, 0, 0, 1);
	tb_rw(&B, &W2, KEEL_IO_BLOCK_OP_WRITE, 0, 8, 1, 0, 4096, 4096);
	W2.req.queue = 1;
	CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &W2), 0);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &a));
	CU_ASSERT_TRUE_FATAL(take_rq(1, &b));
	/* Ring 0's request answered on ring 1. */
	answer(1, a.id, a.op, KEEL_IO_BLOCK_S_OK);
	expect_fe_error(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(W.completions + W2.completions, 0);
}

static void test_unknown_status(void)
{
	struct keel_io_block_request rq;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 0, 0, 1);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	answer(0, rq.id, rq.op, 77);
	CU_ASSERT_EQUAL(W.completions, 1);
	CU_ASSERT_EQUAL(W.status, KEEL_IO_BLOCK_S_IOERR);
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_state, KEEL_IO_STATE_CONNECTED);
}

/* block.md: responses come in any order; MBZ fields a 1.0 receiver ignores. */
static void test_any_order(void)
{
	static const uint16_t st[3] = { KEEL_IO_BLOCK_S_RANGE, KEEL_IO_BLOCK_S_OK,
					KEEL_IO_BLOCK_S_IOERR };
	struct keel_io_block_request rq[3];
	struct keel_io_block_response *rsp;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 0, 0, 1);
	write_io(&W2, 8, 1, 2);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 16, 2, 0, 4096, 4096);
	CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &R), 0);
	for (uint32_t i = 0; i < 3; i++) {
		CU_ASSERT_TRUE_FATAL(take_rq(0, &rq[i]));
	}
	for (uint32_t i = 3; i-- > 0;) {
		rsp = kpv_ring_be_next(&RR[0].ring);
		*rsp = (struct keel_io_block_response){ .id = rq[i].id, .op = rq[i].op,
							.status = st[i], .pad0 = 0xff,
							.pad1 = 0xffffffff };
	}
	kpv_ring_be_push(&RR[0].ring);
	harness_use(B.t.bdom);
	kpv_evtchn_notify(B.t.bk, RR[0].port);
	harness_settle();
	CU_ASSERT_EQUAL(W.completions + W2.completions + R.completions, 3);
	CU_ASSERT_EQUAL(W.status, st[0]);
	CU_ASSERT_EQUAL(W2.status, st[1]);
	CU_ASSERT_EQUAL(R.status, st[2]);
	CU_ASSERT_EQUAL(t_page(B.t.id)->fe_state, KEEL_IO_STATE_CONNECTED);
}

static void test_too_many_responses(void)
{
	struct keel_io_ring_header *hdr;
	struct keel_io_block_request rq;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 0, 0, 1);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	*(struct keel_io_block_response *)kpv_ring_be_next(&RR[0].ring) =
		(struct keel_io_block_response){ .id = rq.id, .op = rq.op };
	hdr = RR[0].maps[0].va;
	hdr->rsp_prod = 3;		/* one request, three responses */
	harness_use(B.t.bdom);
	kpv_evtchn_notify(B.t.bk, RR[0].port);
	expect_fe_error(KEEL_IO_ERR_PROTOCOL);
	CU_ASSERT_EQUAL(W.completions, 0);
}

/* block.md: not complete before an S_OK response; a lost backend is no success. */
static void test_backend_leaves_with_writes(void)
{
	struct keel_io_block_request rq;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	write_io(&W, 24, 0, 3);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	raw_be_state(&RB, KEEL_IO_STATE_CLOSED, 0);
	harness_run(NULL, NULL, 10 * T_SECOND);
	CU_ASSERT_EQUAL(W.completions, 0);
	CU_ASSERT_EQUAL(harness_grants_permitted(B.t.fdom), 0);
	/* A late answer on the old ring reaches nobody. */
	answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(W.completions, 0);
	real_backend_takes_over();
	CU_ASSERT_TRUE(harness_run(tb_io_done, &W, T_SECOND));
	CU_ASSERT_EQUAL(W.status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, 24, 8, 3));
}

/* A backend that answers a READ but keeps its page mapped loses it before the OS gets the data. */
static void test_page_kept_after_answer(void)
{
	struct keel_io_block_request rq;
	struct kpv_mapping m;
	uint8_t *view;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 0, 5, 0, 4096, 4096);
	CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &R), 0);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	harness_use(B.t.bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(B.t.bk, harness_domid(B.t.fdom), rq.seg[0].gref,
					    false, &m), 0);
	memset(m.va, 0x3c, 4096);
	answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(R.completions, 1);
	CU_ASSERT_EQUAL(R.status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.buf[5][4095], 0x3c);
	CU_ASSERT_EQUAL(harness_grants_busy(B.t.fdom), 2);	/* the ring's two pages only */
	view = harness_gfn_view(B.t.bdom, m.gfn);
	CU_ASSERT(view != B.buf[5]);
	harness_use(B.t.bdom);
	kpv_unmap_grant(B.t.bk, &m);
}

/* Map @gref of the frontend as the backend: 0 or the error. */
static int try_map(uint32_t gref, bool readonly, struct kpv_mapping *m)
{
	int rc;

	harness_use(B.t.bdom);
	rc = kpv_map_grant(B.t.bk, harness_domid(B.t.fdom), gref, readonly, m);
	if (rc == 0) {
		kpv_unmap_grant(B.t.bk, m);
	}
	return rc;
}

/* The shapes of @n segments; the first one's grant is read-only for a WRITE. Their bytes. */
static uint32_t segs_bytes(const struct keel_io_block_segment *s, uint32_t n, bool write)
{
	struct kpv_mapping m;
	uint32_t bytes = 0;

	for (uint32_t i = 0; i < n; i++) {
		CU_ASSERT(s[i].offset % 512 == 0 && s[i].length % 512 == 0 && s[i].length &&
			  s[i].offset + s[i].length <= 4096);
		bytes += s[i].length;
	}
	CU_ASSERT_EQUAL(try_map(s[0].gref, false, &m), write ? -KEEL_EACCES : 0);
	CU_ASSERT_EQUAL(try_map(s[0].gref, true, &m), 0);
	return bytes;
}

/* Check a READ/WRITE the frontend sent, indirect pages read-only; the sectors it covers. */
static uint32_t rw_sectors(const struct keel_io_block_request *rq, bool write)
{
	bool ind = rq->flags & KEEL_IO_BLOCK_RQ_INDIRECT;
	uint32_t pages = ind ? (rq->nr_segments + 511) / 512 : 1, bytes = 0;
	struct kpv_mapping m;

	CU_ASSERT_EQUAL(rq->nr_sectors, 0);
	CU_ASSERT(ind ? rq->nr_segments > 13 && rq->nr_segments <= 1024
		      : rq->nr_segments >= 1 && rq->nr_segments <= 13);
	for (uint32_t p = 0; p < pages; p++) {
		uint32_t left = rq->nr_segments - p * 512, n = ind && left > 512 ? 512 : left;

		if (!ind) {
			bytes += segs_bytes(rq->seg, n, write);
			continue;
		}
		CU_ASSERT_EQUAL(rq->seg[p].offset + rq->seg[p].length, 0);
		CU_ASSERT_EQUAL(try_map(rq->seg[p].gref, false, &m), -KEEL_EACCES);
		harness_use(B.t.bdom);
		CU_ASSERT_EQUAL_FATAL(kpv_map_grant(B.t.bk, harness_domid(B.t.fdom), rq->seg[p].gref,
						    true, &m), 0);
		bytes += segs_bytes(m.va, n, write);
		harness_use(B.t.bdom);
		kpv_unmap_grant(B.t.bk, &m);
	}
	return bytes / 512;
}

static bool answer_all(uint32_t *sectors, uint32_t *requests)
{
	struct keel_io_block_request rq;
	bool any = false;

	while (take_rq(0, &rq)) {
		bool rw = rq.op == KEEL_IO_BLOCK_OP_READ || rq.op == KEEL_IO_BLOCK_OP_WRITE;

		CU_ASSERT_EQUAL(rq.flags & ~(rq.op == KEEL_IO_BLOCK_OP_WRITE
						     ? KEEL_IO_BLOCK_RQ_FUA | KEEL_IO_BLOCK_RQ_INDIRECT
						     : rw ? KEEL_IO_BLOCK_RQ_INDIRECT : 0), 0);
		if (rw) {
			sectors[rq.op] += rw_sectors(&rq, rq.op == KEEL_IO_BLOCK_OP_WRITE);
		} else {
			CU_ASSERT_EQUAL(rq.nr_segments, 0);
			CU_ASSERT(rq.op == KEEL_IO_BLOCK_OP_FLUSH ? rq.nr_sectors == 0
								  : rq.nr_sectors >= 1 && rq.nr_sectors <= 1024);
			sectors[rq.op] += rq.nr_sectors;
		}
		requests[rq.op]++;
		answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
		any = true;
	}
	return any;
}

/* block.md's shapes, seen from the backend; grants read-only where a backend only reads. */
static void test_request_shapes(void)
{
	static struct tb_io io[6];
	uint32_t sectors[5] = { 0 }, requests[5] = { 0 };

	connect(ALL_F, 1);
	tb_rw(&B, &io[0], KEEL_IO_BLOCK_OP_READ, 0, 0, 0, 512, 13 * 512, 512);
	tb_rw(&B, &io[1], KEEL_IO_BLOCK_OP_WRITE, KPV_BLK_FUA, 64, 10, 0, 100 * 1024, 1024);
	tb_rw(&B, &io[2], KEEL_IO_BLOCK_OP_WRITE, 0, 1024, 40, 0, 700 * 1024, 1024);
	tb_cmd(&io[3], KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	tb_cmd(&io[4], KEEL_IO_BLOCK_OP_DISCARD, 100, 3000);
	tb_cmd(&io[5], KEEL_IO_BLOCK_OP_WRITE_ZEROES, 10, 1000);
	for (uint32_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &io[i]), 0);
	}
	while (answer_all(sectors, requests)) {
	}
	for (uint32_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(io[i].completions, 1);
		CU_ASSERT_EQUAL(io[i].status, KEEL_IO_BLOCK_S_OK);
	}
	CU_ASSERT_EQUAL(sectors[KEEL_IO_BLOCK_OP_READ], 13);
	CU_ASSERT_EQUAL(sectors[KEEL_IO_BLOCK_OP_WRITE], 200 + 1400);
	CU_ASSERT_EQUAL(requests[KEEL_IO_BLOCK_OP_WRITE], 2);	/* indirect: one and two pages */
	CU_ASSERT_EQUAL(sectors[KEEL_IO_BLOCK_OP_DISCARD], 3000);
	CU_ASSERT_EQUAL(requests[KEEL_IO_BLOCK_OP_DISCARD], 3);
	CU_ASSERT_EQUAL(sectors[KEEL_IO_BLOCK_OP_WRITE_ZEROES], 1000);
	CU_ASSERT_EQUAL(requests[KEEL_IO_BLOCK_OP_FLUSH], 1);
}

static bool changed_twice(void *ctx)
{
	(void)ctx;
	return B.os.changes >= 2;
}

/* Only capacity_sectors is live: a resize is told to the OS; any other change is CONFIG. */
static void test_config_changes(void)
{
	struct keel_io_block_config *live = (void *)t_page(B.t.id)->be_config;

	connect(KEEL_IO_BLOCK_F_FLUSH, 1);
	live->capacity_sectors = 3 * TB_SECTORS;
	raw_be_state(&RB, KEEL_IO_STATE_CONNECTED, 0);
	CU_ASSERT_TRUE(harness_run(changed_twice, NULL, T_SECOND));
	CU_ASSERT_EQUAL(B.os.info.capacity_sectors, 3 * TB_SECTORS);
	live->max_segments = 13;
	raw_be_state(&RB, KEEL_IO_STATE_CONNECTED, 0);
	expect_fe_error(KEEL_IO_ERR_CONFIG);
	CU_ASSERT_EQUAL(B.os.changes, 2);
}

/* --- persistent grants (block.md F_PERSISTENT) ------------------------------------------ */

#define PERSIST_F	(ALL_F | KEEL_IO_BLOCK_F_PERSISTENT)

/* Every byte of @p is @v. */
static bool all_is(const uint8_t *p, uint32_t len, uint8_t v)
{
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] != v) {
			return false;
		}
	}
	return true;
}

/*
 * The data goes through pool pages granted writable, not the OS's buffers:
 * copied in before a WRITE is sent, out only after a READ's S_OK; the next
 * request reuses the page.
 */
static void test_persistent_pool_pages(void)
{
	struct keel_io_block_request rq;
	struct kpv_mapping m;
	uint32_t gref;
	bool data_ok = true;

	connect(PERSIST_F, 1);
	CU_ASSERT(B.os.info.features & KEEL_IO_BLOCK_F_PERSISTENT);
	write_io(&W, 0, 0, 1);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	CU_ASSERT_EQUAL(rq.nr_segments, 1);
	gref = rq.seg[0].gref;
	harness_use(B.t.bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(B.t.bk, harness_domid(B.t.fdom), gref, false, &m), 0);
	for (uint32_t i = 0; i < 4096; i++) {
		data_ok = data_ok && ((uint8_t *)m.va)[i] == tb_byte(i, 1);
	}
	CU_ASSERT(data_ok);
	memset(m.va, 0xee, 4096);
	CU_ASSERT(tb_check(&W, 1));		/* not the OS's page */
	answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(W.status, KEEL_IO_BLOCK_S_OK);
	write_io(&W2, 8, 1, 2);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	CU_ASSERT_EQUAL(rq.seg[0].gref, gref);	/* the page again */
	CU_ASSERT_EQUAL(((uint8_t *)m.va)[100], tb_byte(8 * 512 + 100, 2));
	answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
	/* A READ: nothing reaches the OS before the S_OK, all of it after. */
	tb_rw(&B, &R, KEEL_IO_BLOCK_OP_READ, 0, 16, 2, 0, 4096, 4096);
	memset(B.buf[2], 0, 4096);
	CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &R), 0);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	CU_ASSERT_EQUAL(rq.seg[0].gref, gref);
	memset(m.va, 0x3c, 4096);
	harness_settle();
	CU_ASSERT(all_is(B.buf[2], 4096, 0));
	answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(R.status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(all_is(B.buf[2], 4096, 0x3c));
	/* A READ that failed: the OS's buffer stays as it was. */
	memset(B.buf[2], 0, 4096);
	CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &R), 0);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	memset(m.va, 0x99, 4096);
	answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_IOERR);
	CU_ASSERT_EQUAL(R.status, KEEL_IO_BLOCK_S_IOERR);
	CU_ASSERT(all_is(B.buf[2], 4096, 0));
	harness_use(B.t.bdom);
	kpv_unmap_grant(B.t.bk, &m);
}

/* block.md: at most persistent_pages grants per ring, each writable, whatever is queued. */
static void test_persistent_limit(void)
{
	static struct tb_io P[20];
	uint32_t seen[64], nr_seen = 0, left = 20;
	struct keel_io_block_request rq;
	struct kpv_mapping m;

	B.fopts.persistent_pages = 16;
	connect(PERSIST_F, 1);
	for (uint32_t i = 0; i < 20; i++) {
		tb_rw(&B, &P[i], i % 2 ? KEEL_IO_BLOCK_OP_READ : KEEL_IO_BLOCK_OP_WRITE, 0, 32 * i,
		      4 * i, 0, 16384, 4096);
		CU_ASSERT_EQUAL_FATAL(tb_submit(&B, &P[i]), 0);
	}
	while (left && take_rq(0, &rq)) {
		CU_ASSERT(rq.nr_segments <= 16 && !(rq.flags & KEEL_IO_BLOCK_RQ_INDIRECT));
		for (uint32_t s = 0; s < rq.nr_segments && s < 13; s++) {
			uint32_t k = 0;

			while (k < nr_seen && seen[k] != rq.seg[s].gref) {
				k++;
			}
			if (k == nr_seen && nr_seen < 64) {
				seen[nr_seen++] = rq.seg[s].gref;
				CU_ASSERT_EQUAL(try_map(rq.seg[s].gref, false, &m), 0);
			}
		}
		answer(0, rq.id, rq.op, KEEL_IO_BLOCK_S_OK);
		left--;
	}
	CU_ASSERT_EQUAL(left, 0);
	CU_ASSERT_EQUAL(nr_seen, 16);
	CU_ASSERT_TRUE(tb_run_all(P, 20, T_SECOND));
}

/* The backend leaves holding a pool page: the frontend takes the pool back by force. */
static void test_persistent_backend_leaves(void)
{
	struct keel_io_block_request rq;
	struct kpv_mapping m;

	connect(PERSIST_F, 1);
	write_io(&W, 24, 0, 3);
	CU_ASSERT_TRUE_FATAL(take_rq(0, &rq));
	harness_use(B.t.bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(B.t.bk, harness_domid(B.t.fdom), rq.seg[0].gref,
					    false, &m), 0);
	raw_be_state(&RB, KEEL_IO_STATE_CLOSED, 0);
	harness_run(NULL, NULL, 10 * T_SECOND);
	CU_ASSERT_EQUAL(W.completions, 0);
	CU_ASSERT_EQUAL(harness_grants_permitted(B.t.fdom), 0);
	harness_use(B.t.bdom);
	kpv_unmap_grant(B.t.bk, &m);
	real_backend_takes_over();
	CU_ASSERT_TRUE(harness_run(tb_io_done, &W, T_SECOND));
	CU_ASSERT_EQUAL(W.status, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_is(&B.store, 24, 8, 3));
}

static CU_TestInfo tests[] = {
	{ "offers the frontend cannot use: CONFIG", test_bad_offers },
	{ "a response to no request: PROTOCOL, the request kept", test_unknown_id },
	{ "a request answered twice: PROTOCOL", test_answered_twice },
	{ "a response with another op: PROTOCOL", test_wrong_op },
	{ "a response on another ring: PROTOCOL", test_other_ring },
	{ "an unknown status: S_IOERR", test_unknown_status },
	{ "responses in any order; MBZ fields ignored", test_any_order },
	{ "more responses than requests: PROTOCOL", test_too_many_responses },
	{ "a backend gone with writes in flight: no success without S_OK",
	  test_backend_leaves_with_writes },
	{ "a page kept after the answer is taken back first", test_page_kept_after_answer },
	{ "requests and grants keep block.md's shapes", test_request_shapes },
	{ "only the capacity is live: other changes are CONFIG", test_config_changes },
	{ "persistent: data through pool pages, copied in and out, reused",
	  test_persistent_pool_pages },
	{ "persistent: at most persistent_pages grants per ring, writable", test_persistent_limit },
	{ "persistent: a backend leaving with a pool page mapped loses it",
	  test_persistent_backend_leaves },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo block_bad_backend_suite = { "block_bad_backend", NULL, NULL, setup, teardown,
					 tests };
