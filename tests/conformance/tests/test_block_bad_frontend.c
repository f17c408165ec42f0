/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_block_bad_frontend.c - blkback against a raw
 * frontend writing block requests itself (block.md "Validation", the BE's
 * MUSTs): each protocol error ends in ERROR with PROTOCOL or GRANT, no
 * answer and nothing of the frontend's kept; each request the device
 * merely cannot serve is answered (S_NOTSUPP, S_RANGE, S_READONLY) and the
 * connection stays; no byte outside the segments is read or written, a
 * read-only grant is never written; requests and indirect pages are used
 * from one copy; work per run is bounded. With F_PERSISTENT: a grant is
 * mapped once and unmapped when the frontend leaves, grants beyond what
 * the backend maps are copied, a read-only one is GRANT, a revoked one
 * harms nothing.
 */
#include <stdio.h>
#include "block_common.h"
#include "suites.h"

#define ALL_F	(KEEL_IO_BLOCK_F_FLUSH | KEEL_IO_BLOCK_F_FUA | KEEL_IO_BLOCK_F_DISCARD | \
		 KEEL_IO_BLOCK_F_WRITE_ZEROES | KEEL_IO_BLOCK_F_INDIRECT)

static struct tb_pair B;
static struct raw_fe F;
static struct kpv_ring ring;		/* the raw frontend's view of ring 0 */
static uint32_t gen;
static uint64_t next_id;
/* Frontend pages granted to the backend: data (writable, read-only), two indirect pages. */
static uint32_t g_rw, g_ro, g_ind[2];
static struct keel_io_block_segment *ind[2];

union slot {
	struct keel_io_block_request rq;
	struct keel_io_block_response rsp;
	uint8_t bytes[KEEL_IO_BLOCK_SLOT_SIZE];
};

static uint32_t grant(uint8_t *page, bool ro)
{
	uint32_t ref;

	harness_use(B.t.fdom);
	CU_ASSERT_EQUAL_FATAL(kpv_grant(B.t.fk, harness_domid(B.t.bdom), page, ro, &ref), 0);
	return ref;
}

static void setup(void)
{
	harness_begin();
	tb_init(&B, TB_SECTORS);
	raw_fe_attach(&F, &B.t);
	gen = 0;
	next_id = 0x100;
	g_rw = grant(B.buf[0], false);
	g_ro = grant(B.buf[1], true);
	g_ind[0] = grant(B.buf[2], true);
	g_ind[1] = grant(B.buf[3], true);
	ind[0] = (void *)B.buf[2];
	ind[1] = (void *)B.buf[3];
}

static void teardown(void)
{
	const uint32_t refs[] = { g_rw, g_ro, g_ind[0], g_ind[1] };

	harness_use(B.t.fdom);
	for (uint32_t i = 0; i < 4; i++) {
		if (!kpv_grant_end(B.t.fk, refs[i])) {
			kpv_grant_revoke(B.t.fk, refs[i]);
		}
	}
	raw_fe_release(&F);
	tb_finish(&B);
	harness_end();
}

static bool be_connected(void *ctx)
{
	(void)ctx;
	return t_page(B.t.id)->be_state == KEEL_IO_STATE_CONNECTED;
}

/* A fresh commit of ring 0 (order 0: 32 slots) with @features; the backend connects. */
static void commit(uint64_t features)
{
	if (!B.be) {
		CU_ASSERT_EQUAL_FATAL(tb_be_open(&B), 0);
		raw_fe_ring(&F, 0, 0, false);
	} else {
		raw_fe_state(&F, KEEL_IO_STATE_CLOSED);	/* start afresh, as after an ERROR */
	}
	harness_settle();
	raw_fe_view(&F, 0, KEEL_IO_BLOCK_SLOT_SIZE, &ring);
	raw_fe_commit(&F, ++gen, 1, features);
	CU_ASSERT_TRUE_FATAL(harness_run(be_connected, NULL, T_SECOND));
}

static struct keel_io_block_request *next_rq(uint8_t op, uint64_t sector)
{
	struct keel_io_block_request *rq = kpv_ring_fe_next(&ring);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rq);
	memset(rq, 0, sizeof(*rq));
	rq->id = next_id++;
	rq->op = op;
	rq->sector = sector;
	return rq;
}

/* One data segment of @rq. */
static void seg(struct keel_io_block_request *rq, uint32_t gref, uint16_t off, uint16_t len)
{
	rq->seg[rq->nr_segments++] = (struct keel_io_block_segment){ gref, off, len };
}

/* Publish and notify, then let everything run. */
static void push(void)
{
	harness_use(B.t.fdom);
	kpv_ring_fe_push(&ring);
	kpv_evtchn_notify(B.t.fk, F.ports[0]);
	harness_settle();
}

static bool take_rsp(struct keel_io_block_response *out)
{
	union slot u;

	if (kpv_ring_fe_available(&ring) < 0 || !kpv_ring_fe_take(&ring, &u)) {
		return false;
	}
	*out = u.rsp;
	return true;
}

/* The answer to the request just pushed: @status, echoing its id and op; still connected. */
static void expect(uint8_t op, uint16_t status)
{
	struct keel_io_block_response r;

	CU_ASSERT_TRUE_FATAL(take_rsp(&r));
	CU_ASSERT_EQUAL(r.id, next_id - 1);
	CU_ASSERT_EQUAL(r.op, op);
	CU_ASSERT_EQUAL(r.status, status);
	CU_ASSERT_EQUAL(r.pad0, 0);
	CU_ASSERT_EQUAL(r.pad1, 0);
	CU_ASSERT_EQUAL(t_page(B.t.id)->be_state, KEEL_IO_STATE_CONNECTED);
}

/* The backend stopped with @err: no answer, nothing of ours mapped, quiet. */
static void expect_error(uint32_t err, const char *what)
{
	struct keel_io_block_response r;
	char msg[128];

	snprintf(msg, sizeof(msg), "%s: backend state %u error %u", what,
		 t_page(B.t.id)->be_state, t_page(B.t.id)->be_error);
	CU_assertImplementation(t_page(B.t.id)->be_state == KEEL_IO_STATE_ERROR &&
					t_page(B.t.id)->be_error == err,
				__LINE__, msg, __FILE__, "", CU_FALSE);
	CU_ASSERT_FALSE(take_rsp(&r));
	CU_ASSERT_EQUAL(harness_foreign_maps(B.t.bdom), 0);
	CU_ASSERT(t_quiet_steps() < 5);
}

/* --- protocol errors ------------------------------------------------------------------- */

enum bad {
	BAD_OP, BAD_FLAG, IND_NOT_NEGOTIATED, IND_ON_FLUSH, IND_ON_DISCARD, NO_SEGMENTS,
	DIRECT_14, IND_TOO_MANY, SEG_OFFSET, SEG_LENGTH, SEG_EMPTY, SEG_PAST_PAGE,
	IND_DESC_OFFSET, IND_DESC_LENGTH, READ_SECTORS, WRITE_SECTORS, FLUSH_SECTORS,
	FLUSH_SEGMENT, DISCARD_SEGMENT, ZEROES_SEGMENT, SECOND_SEG_BAD, IND_ENTRY_EMPTY,
	BAD_GREF_WRITE, BAD_GREF_READ, READ_INTO_RO, IND_PAGE_GREF, IND_ENTRY_GREF, NR_BAD,
};

static const struct {
	const char *what;
	uint32_t err;
} bad[NR_BAD] = {
	[BAD_OP] = { "an unknown op", KEEL_IO_ERR_PROTOCOL },
	[BAD_FLAG] = { "an unknown flag", KEEL_IO_ERR_PROTOCOL },
	[IND_NOT_NEGOTIATED] = { "INDIRECT without F_INDIRECT", KEEL_IO_ERR_PROTOCOL },
	[IND_ON_FLUSH] = { "INDIRECT on FLUSH", KEEL_IO_ERR_PROTOCOL },
	[IND_ON_DISCARD] = { "INDIRECT on DISCARD", KEEL_IO_ERR_PROTOCOL },
	[NO_SEGMENTS] = { "a READ without segments", KEEL_IO_ERR_PROTOCOL },
	[DIRECT_14] = { "14 direct segments", KEEL_IO_ERR_PROTOCOL },
	[IND_TOO_MANY] = { "more indirect segments than max_segments", KEEL_IO_ERR_PROTOCOL },
	[SEG_OFFSET] = { "a segment offset not a multiple of 512", KEEL_IO_ERR_PROTOCOL },
	[SEG_LENGTH] = { "a segment length not a multiple of 512", KEEL_IO_ERR_PROTOCOL },
	[SEG_EMPTY] = { "a segment of length 0", KEEL_IO_ERR_PROTOCOL },
	[SEG_PAST_PAGE] = { "a segment past its page", KEEL_IO_ERR_PROTOCOL },
	[IND_DESC_OFFSET] = { "an indirect page with an offset", KEEL_IO_ERR_PROTOCOL },
	[IND_DESC_LENGTH] = { "an indirect page with a length", KEEL_IO_ERR_PROTOCOL },
	[READ_SECTORS] = { "nr_sectors on READ", KEEL_IO_ERR_PROTOCOL },
	[WRITE_SECTORS] = { "nr_sectors on WRITE", KEEL_IO_ERR_PROTOCOL },
	[FLUSH_SECTORS] = { "nr_sectors on FLUSH", KEEL_IO_ERR_PROTOCOL },
	[FLUSH_SEGMENT] = { "a segment on FLUSH", KEEL_IO_ERR_PROTOCOL },
	[DISCARD_SEGMENT] = { "a segment on DISCARD", KEEL_IO_ERR_PROTOCOL },
	[ZEROES_SEGMENT] = { "a segment on WRITE_ZEROES", KEEL_IO_ERR_PROTOCOL },
	[SECOND_SEG_BAD] = { "a bad second segment", KEEL_IO_ERR_PROTOCOL },
	[IND_ENTRY_EMPTY] = { "an empty segment in an indirect page", KEEL_IO_ERR_PROTOCOL },
	[BAD_GREF_WRITE] = { "a WRITE from a grant that does not exist", KEEL_IO_ERR_GRANT },
	[BAD_GREF_READ] = { "a READ into a grant that does not exist", KEEL_IO_ERR_GRANT },
	[READ_INTO_RO] = { "a READ into a read-only grant", KEEL_IO_ERR_GRANT },
	[IND_PAGE_GREF] = { "an indirect page that is not granted", KEEL_IO_ERR_GRANT },
	[IND_ENTRY_GREF] = { "an indirect entry that is not granted", KEEL_IO_ERR_GRANT },
};

/* An indirect WRITE of @n 512-byte segments of the writable page, at sector 0. */
static struct keel_io_block_request *indirect_write(uint32_t n)
{
	struct keel_io_block_request *rq = next_rq(KEEL_IO_BLOCK_OP_WRITE, 0);

	for (uint32_t i = 0; i < n && i < 1024; i++) {
		ind[i / 512][i % 512] = (struct keel_io_block_segment){ g_rw, 0, 512 };
	}
	rq->flags = KEEL_IO_BLOCK_RQ_INDIRECT;
	rq->nr_segments = (uint16_t)n;
	rq->seg[0].gref = g_ind[0];
	rq->seg[1].gref = g_ind[1];
	return rq;
}

static void make_bad(enum bad c)
{
	struct keel_io_block_request *rq = next_rq(KEEL_IO_BLOCK_OP_WRITE, 0);

	if (c != NO_SEGMENTS) {
		seg(rq, g_rw, 0, 512);
	}
	switch (c) {
	case BAD_OP:
		rq->op = 5;
		break;
	case BAD_FLAG:
		rq->flags = 0x04;
		break;
	case IND_NOT_NEGOTIATED:
		rq->seg[0] = (struct keel_io_block_segment){ g_ind[0], 0, 0 };
		ind[0][0] = (struct keel_io_block_segment){ g_rw, 0, 512 };
		rq->flags = KEEL_IO_BLOCK_RQ_INDIRECT;
		break;
	case IND_ON_FLUSH:
	case IND_ON_DISCARD:
		rq->op = c == IND_ON_FLUSH ? KEEL_IO_BLOCK_OP_FLUSH : KEEL_IO_BLOCK_OP_DISCARD;
		rq->nr_sectors = c == IND_ON_FLUSH ? 0 : 8;
		rq->nr_segments = 0;
		rq->seg[0] = (struct keel_io_block_segment){ g_ind[0], 0, 0 };
		rq->flags = KEEL_IO_BLOCK_RQ_INDIRECT;
		break;
	case NO_SEGMENTS:
		rq->op = KEEL_IO_BLOCK_OP_READ;
		break;
	case DIRECT_14:
		while (rq->nr_segments < 13) {
			seg(rq, g_rw, 0, 512);
		}
		rq->nr_segments = 14;
		break;
	case SEG_OFFSET:
	case SEG_LENGTH:
	case SEG_EMPTY:
	case SEG_PAST_PAGE:
		rq->seg[0].offset = c == SEG_OFFSET ? 100 : c == SEG_PAST_PAGE ? 3584 : 0;
		rq->seg[0].length = c == SEG_LENGTH ? 700 : c == SEG_EMPTY ? 0 : 1024;
		break;
	case READ_SECTORS:
	case WRITE_SECTORS:
		rq->op = c == READ_SECTORS ? KEEL_IO_BLOCK_OP_READ : KEEL_IO_BLOCK_OP_WRITE;
		rq->nr_sectors = 1;
		break;
	case FLUSH_SECTORS:
		rq->op = KEEL_IO_BLOCK_OP_FLUSH;
		rq->nr_segments = 0;
		rq->nr_sectors = 1;
		break;
	case FLUSH_SEGMENT:
	case DISCARD_SEGMENT:
	case ZEROES_SEGMENT:
		rq->op = c == FLUSH_SEGMENT	? KEEL_IO_BLOCK_OP_FLUSH
			 : c == DISCARD_SEGMENT ? KEEL_IO_BLOCK_OP_DISCARD
						: KEEL_IO_BLOCK_OP_WRITE_ZEROES;
		rq->nr_sectors = c == FLUSH_SEGMENT ? 0 : 1;
		break;
	case SECOND_SEG_BAD:
		seg(rq, g_rw, 512, 0);
		break;
	case BAD_GREF_WRITE:
	case BAD_GREF_READ:
		rq->op = c == BAD_GREF_READ ? KEEL_IO_BLOCK_OP_READ : KEEL_IO_BLOCK_OP_WRITE;
		rq->seg[0].gref = 4000;
		break;
	case READ_INTO_RO:
		rq->op = KEEL_IO_BLOCK_OP_READ;
		rq->seg[0].gref = g_ro;
		break;
	default:
		break;
	}
}

/* The cases that need an indirect request of their own. */
static void make_bad_indirect(enum bad c)
{
	struct keel_io_block_request *rq = indirect_write(c == IND_TOO_MANY ? 1025 : 600);

	switch (c) {
	case IND_DESC_OFFSET:
		rq->seg[1].offset = 512;
		break;
	case IND_DESC_LENGTH:
		rq->seg[0].length = 512;
		break;
	case IND_ENTRY_EMPTY:
		ind[1][50].length = 0;
		break;
	case IND_PAGE_GREF:
		rq->seg[1].gref = 4001;
		break;
	case IND_ENTRY_GREF:
		ind[0][7].gref = 4002;
		break;
	default:
		break;
	}
}

static void test_protocol_errors(void)
{
	for (uint32_t c = 0; c < NR_BAD; c++) {
		bool indirect = c == IND_TOO_MANY || c == IND_DESC_OFFSET || c == IND_DESC_LENGTH ||
				c == IND_ENTRY_EMPTY || c == IND_PAGE_GREF || c == IND_ENTRY_GREF;
		unsigned int writes = B.store.writes;

		commit(c == IND_NOT_NEGOTIATED ? ALL_F & ~(uint64_t)KEEL_IO_BLOCK_F_INDIRECT : ALL_F);
		memset(B.buf[1], 0x6b, 4096);
		if (indirect) {
			make_bad_indirect(c);
		} else {
			make_bad(c);
		}
		push();
		expect_error(bad[c].err, bad[c].what);
		/* Checked before use: nothing of a refused write reached the store. */
		CU_ASSERT_EQUAL(B.store.writes, writes);
		CU_ASSERT_EQUAL(B.buf[1][100], 0x6b);
	}
}

/* A request behind a bad one is never served: the backend stops at the first. */
static void test_nothing_after_an_error(void)
{
	struct keel_io_block_request *rq;

	commit(ALL_F);
	make_bad(BAD_OP);
	rq = next_rq(KEEL_IO_BLOCK_OP_WRITE, 0);
	seg(rq, g_rw, 0, 512);
	push();
	expect_error(KEEL_IO_ERR_PROTOCOL, "a bad op first");
	CU_ASSERT_EQUAL(B.store.writes, 0);
}

/* --- answers ------------------------------------------------------------------------- */

static void cmd(uint8_t op, uint64_t sector, uint32_t n)
{
	next_rq(op, sector)->nr_sectors = n;
	push();
}

static void rw(uint8_t op, uint8_t flags, uint64_t sector, uint16_t off, uint16_t len)
{
	struct keel_io_block_request *rq = next_rq(op, sector);

	rq->flags = flags;
	seg(rq, op == KEEL_IO_BLOCK_OP_READ ? g_rw : g_ro, off, len);
	push();
}

static void test_not_negotiated(void)
{
	commit(KEEL_IO_BLOCK_F_INDIRECT);
	cmd(KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	expect(KEEL_IO_BLOCK_OP_FLUSH, KEEL_IO_BLOCK_S_NOTSUPP);
	cmd(KEEL_IO_BLOCK_OP_DISCARD, 0, 8);
	expect(KEEL_IO_BLOCK_OP_DISCARD, KEEL_IO_BLOCK_S_NOTSUPP);
	cmd(KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, 8);
	expect(KEEL_IO_BLOCK_OP_WRITE_ZEROES, KEEL_IO_BLOCK_S_NOTSUPP);
	rw(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_RQ_FUA, 0, 0, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_NOTSUPP);
	CU_ASSERT_EQUAL(B.store.flushes + B.store.discards + B.store.zeroes + B.store.writes, 0);
	/* Still serving, and, without F_FLUSH, durably. */
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.fua_writes, 1);
}

static void test_range(void)
{
	commit(ALL_F);
	rw(KEEL_IO_BLOCK_OP_READ, 0, TB_SECTORS, 0, 512);
	expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_RANGE);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, TB_SECTORS - 1, 0, 1024);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_RANGE);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, ~0ull, 0, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_RANGE);
	cmd(KEEL_IO_BLOCK_OP_DISCARD, TB_SECTORS - 1, 2);
	expect(KEEL_IO_BLOCK_OP_DISCARD, KEEL_IO_BLOCK_S_RANGE);
	cmd(KEEL_IO_BLOCK_OP_WRITE_ZEROES, ~0ull - 1, 4);
	expect(KEEL_IO_BLOCK_OP_WRITE_ZEROES, KEEL_IO_BLOCK_S_RANGE);
	/* A length the device cannot take in one request: not possible. */
	cmd(KEEL_IO_BLOCK_OP_DISCARD, 0, 1025);
	expect(KEEL_IO_BLOCK_OP_DISCARD, KEEL_IO_BLOCK_S_NOTSUPP);
	cmd(KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, 0);
	expect(KEEL_IO_BLOCK_OP_WRITE_ZEROES, KEEL_IO_BLOCK_S_NOTSUPP);
	CU_ASSERT_EQUAL(B.store.reads + B.store.writes + B.store.discards + B.store.zeroes, 0);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, TB_SECTORS - 1, 0, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
}

static void test_unaligned(void)
{
	B.store.lbs = 4096;
	commit(ALL_F);
	rw(KEEL_IO_BLOCK_OP_READ, 0, 4, 0, 4096);
	expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_RANGE);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, 8, 0, 3584);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_RANGE);
	CU_ASSERT_EQUAL(B.store.reads + B.store.writes, 0);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, 8, 0, 4096);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
}

static void test_read_only(void)
{
	B.store.ro = true;
	commit(ALL_F);
	CU_ASSERT(((struct keel_io_block_config *)t_page(B.t.id)->be_config)->flags &
		  KEEL_IO_BLOCK_CFG_READ_ONLY);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_READONLY);
	cmd(KEEL_IO_BLOCK_OP_DISCARD, 0, 8);
	expect(KEEL_IO_BLOCK_OP_DISCARD, KEEL_IO_BLOCK_S_READONLY);
	cmd(KEEL_IO_BLOCK_OP_WRITE_ZEROES, 0, 8);
	expect(KEEL_IO_BLOCK_OP_WRITE_ZEROES, KEEL_IO_BLOCK_S_READONLY);
	CU_ASSERT_EQUAL(B.store.writes + B.store.discards + B.store.zeroes, 0);
	cmd(KEEL_IO_BLOCK_OP_FLUSH, 0, 0);
	expect(KEEL_IO_BLOCK_OP_FLUSH, KEEL_IO_BLOCK_S_OK);
	rw(KEEL_IO_BLOCK_OP_READ, 0, 0, 0, 512);
	expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_OK);
}

/* Exactly the segment's bytes move: out of a read-only grant, into a writable one. */
static void test_exact_bytes(void)
{
	commit(ALL_F);
	memset(B.store.data, 0x11, 8 * 512);
	memset(B.buf[1], 0xee, 4096);
	memset(B.buf[1] + 1536, 0xab, 512);
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, 2, 1536, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT(tb_disk_all(&B.store, 0, 2, 0x11));
	CU_ASSERT(tb_disk_all(&B.store, 2, 1, 0xab));
	CU_ASSERT(tb_disk_all(&B.store, 3, 5, 0x11));
	memset(B.buf[0], 0xcc, 4096);
	rw(KEEL_IO_BLOCK_OP_READ, 0, 1, 3072, 1024);
	expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_OK);
	for (uint32_t i = 0; i < 4096; i++) {
		uint8_t want = i < 3072 ? 0xcc : i < 3584 ? 0x11 : 0xab;

		CU_ASSERT_EQUAL_FATAL(B.buf[0][i], want);
	}
}

/* The store's hook, in the backend's work: the frontend rewrites what it sent. */
static void scribble(void *ctx)
{
	struct keel_io_block_request *slot = ctx;

	for (uint32_t i = 0; i < 1024; i++) {
		ind[i / 512][i % 512] = (struct keel_io_block_segment){ 4003, 100, 0 };
	}
	memset(slot, 0xff, sizeof(*slot));
}

/* block.md: each request and each indirect page is copied once before it is used. */
static void test_copied_once(void)
{
	struct keel_io_block_request *rq;

	commit(ALL_F);
	for (uint32_t i = 0; i < 8; i++) {
		memset(B.buf[0] + 512 * i, (int)i, 512);
	}
	rq = indirect_write(600);		/* 600 sectors, two bounce loads, two pages */
	for (uint32_t i = 0; i < 600; i++) {
		ind[i / 512][i % 512].offset = (uint16_t)(512 * (i % 8));
	}
	B.store.hook = scribble;
	B.store.hook_ctx = rq;
	push();
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	CU_ASSERT_EQUAL(B.store.writes, 10);	/* 300 KiB, 32 KiB a time */
	for (uint32_t s = 0; s < 600; s++) {
		CU_ASSERT_FATAL(tb_disk_all(&B.store, s, 1, (uint8_t)(s % 8)));
	}
}

/* The hook again: the frontend keeps producing while the backend serves. */
static uint32_t produced;

static void produce(void *ctx)
{
	struct keel_io_block_response r;
	struct keel_io_block_request *rq;

	(void)ctx;
	while (take_rsp(&r)) {
	}
	if (produced < 200 && (rq = kpv_ring_fe_next(&ring)) != NULL) {
		memset(rq, 0, sizeof(*rq));
		rq->op = KEEL_IO_BLOCK_OP_WRITE;
		rq->id = produced++;
		seg(rq, g_ro, 0, 512);
		kpv_ring_fe_push(&ring);
	}
}

static bool all_written(void *ctx)
{
	(void)ctx;
	return B.store.writes >= 201;
}

/* ring.md: bounded work per notification, whatever the frontend produces meanwhile. */
static void test_bounded_work(void)
{
	commit(ALL_F);
	B.store.hook = produce;
	rw(KEEL_IO_BLOCK_OP_WRITE, 0, 0, 0, 512);
	CU_ASSERT_TRUE(harness_run(all_written, NULL, T_SECOND));
	CU_ASSERT(B.store.max_in_step <= 32);
	CU_ASSERT(B.store.max_in_step >= 16);
	CU_ASSERT_EQUAL(harness_violations(), 0);
	CU_ASSERT_EQUAL(t_page(B.t.id)->be_state, KEEL_IO_STATE_CONNECTED);
}

/* block.md "Rings": one ring unless F_MULTI_QUEUE was accepted. */
static void test_rings_without_multi_queue(void)
{
	CU_ASSERT_EQUAL_FATAL(tb_be_open(&B), 0);
	harness_settle();
	raw_fe_ring(&F, 0, 0, false);
	raw_fe_ring(&F, 1, 0, false);
	raw_fe_view(&F, 0, KEEL_IO_BLOCK_SLOT_SIZE, &ring);
	raw_fe_commit(&F, ++gen, 2, ALL_F);
	harness_settle();
	expect_error(KEEL_IO_ERR_RINGS, "two rings without F_MULTI_QUEUE");
	/* With it, two rings are fine. */
	raw_fe_state(&F, KEEL_IO_STATE_CLOSED);
	harness_settle();
	raw_fe_commit(&F, ++gen, 2, ALL_F | KEEL_IO_BLOCK_F_MULTI_QUEUE);
	CU_ASSERT_TRUE(harness_run(be_connected, NULL, T_SECOND));
	CU_ASSERT_EQUAL(B.store.connects, 1);
}

/* --- persistent grants (block.md F_PERSISTENT) ------------------------------------------ */

#define PERSIST_F	(ALL_F | KEEL_IO_BLOCK_F_PERSISTENT)

/* @op of @len bytes at @sector, one segment of grant @gref at @off. */
static void rw_ref(uint8_t op, uint64_t sector, uint32_t gref, uint16_t off, uint16_t len)
{
	seg(next_rq(op, sector), gref, off, len);
	push();
}

static unsigned int be_maps(void)
{
	return harness_foreign_maps(B.t.bdom);
}

/* The raw frontend leaves; the backend must keep nothing of it. */
static void leave(void)
{
	raw_fe_state(&F, KEEL_IO_STATE_CLOSED);
	harness_settle();
	CU_ASSERT_EQUAL(be_maps(), 0);
	CU_ASSERT_EQUAL(t_page(B.t.id)->be_state, KEEL_IO_STATE_READY);	/* offering again */
}

/* One grant serves many requests, both ways, direct and indirect: mapped once, unmapped after. */
static void test_persistent_mapped_once(void)
{
	unsigned int m0;

	commit(PERSIST_F);
	m0 = be_maps();
	for (uint32_t i = 0; i < 8; i++) {
		memset(B.buf[0], 0x10 + (int)i, 4096);
		rw_ref(KEEL_IO_BLOCK_OP_WRITE, 8 * i, g_rw, 0, 4096);
		expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
		CU_ASSERT(tb_disk_all(&B.store, 8 * i, 8, (uint8_t)(0x10 + i)));
	}
	CU_ASSERT_EQUAL(be_maps(), m0 + 1);
	/* Exactly the segment's bytes, out of the mapping too. */
	memset(B.buf[0], 0xcc, 4096);
	rw_ref(KEEL_IO_BLOCK_OP_READ, 24, g_rw, 1024, 512);
	expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_OK);
	for (uint32_t i = 0; i < 4096; i++) {
		CU_ASSERT_EQUAL_FATAL(B.buf[0][i], i >= 1024 && i < 1536 ? 0x13 : 0xcc);
	}
	/* 600 segments: served alone, each a piece of the one mapping. */
	for (uint32_t i = 0; i < 8; i++) {
		memset(B.buf[0] + 512 * i, (int)i, 512);
	}
	indirect_write(600);
	for (uint32_t i = 0; i < 600; i++) {
		ind[i / 512][i % 512].offset = (uint16_t)(512 * (i % 8));
	}
	push();
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	for (uint32_t s = 0; s < 600; s++) {
		CU_ASSERT_FATAL(tb_disk_all(&B.store, s, 1, (uint8_t)(s % 8)));
	}
	CU_ASSERT_EQUAL(be_maps(), m0 + 1);
	leave();
}

/* More grants than the backend maps: the rest are copied, never a protocol error. */
static void test_persistent_beyond_maps(void)
{
	uint32_t g[6];
	unsigned int m0;

	B.bopts.persistent_maps = 2;
	commit(PERSIST_F);
	m0 = be_maps();
	for (uint32_t i = 0; i < 6; i++) {
		g[i] = grant(B.buf[4 + i], false);
		memset(B.buf[4 + i], 0x40 + (int)i, 4096);
		rw_ref(KEEL_IO_BLOCK_OP_WRITE, 8 * i, g[i], 0, 4096);
		expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
		CU_ASSERT(tb_disk_all(&B.store, 8 * i, 8, (uint8_t)(0x40 + i)));
	}
	for (uint32_t i = 0; i < 6; i++) {
		memset(B.buf[4 + i], 0, 4096);
		rw_ref(KEEL_IO_BLOCK_OP_READ, 8 * ((i + 1) % 6), g[i], 2048, 2048);
		expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_OK);
		CU_ASSERT_EQUAL(B.buf[4 + i][2048], 0x40 + (i + 1) % 6);
		CU_ASSERT_EQUAL(B.buf[4 + i][4095], 0x40 + (i + 1) % 6);
		CU_ASSERT_EQUAL(B.buf[4 + i][2047], 0);
	}
	CU_ASSERT_EQUAL(be_maps(), m0 + 2);
	leave();
	harness_use(B.t.fdom);
	for (uint32_t i = 0; i < 6; i++) {
		CU_ASSERT(kpv_grant_end(B.t.fk, g[i]));	/* nothing left mapped */
	}
}

/* block.md: persistent grants are writable; a read-only one cannot be mapped: GRANT. */
static void test_persistent_read_only(void)
{
	commit(PERSIST_F);
	memset(B.buf[1], 0x6b, 4096);
	rw_ref(KEEL_IO_BLOCK_OP_WRITE, 0, g_ro, 0, 512);
	expect_error(KEEL_IO_ERR_GRANT, "persistent: a read-only data grant");
	CU_ASSERT_EQUAL(B.store.writes, 0);
}

/* The frontend revokes a grant the backend keeps mapped: the backend goes on, unharmed. */
static void test_persistent_revoked(void)
{
	uint32_t g;

	commit(PERSIST_F);
	g = grant(B.buf[4], false);
	rw_ref(KEEL_IO_BLOCK_OP_WRITE, 0, g, 0, 4096);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	harness_use(B.t.fdom);
	kpv_grant_revoke(B.t.fk, g);
	rw_ref(KEEL_IO_BLOCK_OP_WRITE, 8, g, 0, 4096);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	rw_ref(KEEL_IO_BLOCK_OP_READ, 8, g, 0, 4096);
	expect(KEEL_IO_BLOCK_OP_READ, KEEL_IO_BLOCK_S_OK);
	rw_ref(KEEL_IO_BLOCK_OP_WRITE, 16, g_rw, 0, 512);
	expect(KEEL_IO_BLOCK_OP_WRITE, KEEL_IO_BLOCK_S_OK);
	leave();
	CU_ASSERT_FALSE(harness_log_has(B.t.bdom, "failed"));
	CU_ASSERT_EQUAL(harness_violations(), 0);
}

static CU_TestInfo tests[] = {
	{ "two rings without F_MULTI_QUEUE: RINGS", test_rings_without_multi_queue },
	{ "each protocol error: ERROR with its code, no answer", test_protocol_errors },
	{ "nothing is served behind a protocol error", test_nothing_after_an_error },
	{ "not negotiated: S_NOTSUPP, still connected", test_not_negotiated },
	{ "beyond the capacity: S_RANGE; lengths not possible: S_NOTSUPP", test_range },
	{ "unaligned to the logical block: S_RANGE", test_unaligned },
	{ "a read-only device: S_READONLY", test_read_only },
	{ "exactly the segment's bytes, either way", test_exact_bytes },
	{ "requests and indirect pages are copied once", test_copied_once },
	{ "bounded work while the frontend keeps producing", test_bounded_work },
	{ "persistent: a grant mapped once for many requests, unmapped at the end",
	  test_persistent_mapped_once },
	{ "persistent: grants beyond what the backend maps are copied", test_persistent_beyond_maps },
	{ "persistent: a read-only data grant: GRANT", test_persistent_read_only },
	{ "persistent: a grant revoked while mapped: the backend goes on", test_persistent_revoked },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo block_bad_frontend_suite = { "block_bad_frontend", NULL, NULL, setup, teardown,
					  tests };
