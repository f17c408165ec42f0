/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_console_reconnect.c - the console across
 * reconnects (console.md, "On reconnect"): whatever happens to the backend
 * (an orderly close, a crash, its domain destroyed) the output stream
 * reaches the next one whole and in order, at worst with a few bytes twice;
 * the input slots are posted again on the new rings; a frontend that
 * restarts is served afresh; a removed device leaves both ends clean.
 */
#include "con_pair.h"
#include "suites.h"

#define STREAM	20000u

static struct con_pair P;
static uint8_t buf[STREAM];

static void setup(void)
{
	harness_begin();
	con_pattern(buf, 0, STREAM);
}

static void teardown(void)
{
	harness_end();
}

/*
 * The sink saw the stream's first @total bytes with nothing lost: a prefix,
 * then (after a reconnect) a suffix that starts no later than the prefix
 * ended. Returns the bytes seen twice.
 */
static size_t assert_whole(size_t total)
{
	size_t len = P.be.out_len, head = 0, tail;

	while (head < len && head < total && P.be.out[head] == con_byte(head)) {
		head++;
	}
	tail = len - head;
	CU_ASSERT(tail <= total && total - tail <= head);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out + head, total - tail, tail));
	return len - total;
}

static bool fe_down(void *ctx)
{
	(void)ctx;
	return P.fe.downs > 0;
}

/* Output in flight when the backend goes (@lose), then more than the FIFO has room for. */
static void write_across_a_loss(void (*lose)(void))
{
	con_connect(&P);
	con_write_all(&P, buf, 3000, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, 3000);
	harness_use(P.t.fdom);
	/* Pushed, not served yet. */
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf + 3000, 3500), 3500);
	lose();
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf + 6500, 1000), KPV_CON_FE_BUF - 3500);
}

static uint64_t resent(void)
{
	struct kpv_con_fe_stats fs;

	kpv_con_fe_stats(P.fe.c, &fs);
	return fs.resent;
}

/* A new backend connects: the rest of the stream, whole; input works on the new rings. */
static void write_the_rest(void)
{
	struct kpv_ring *in;
	size_t want = KPV_CON_FE_BUF - 3500;

	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(con_both_connected, &P, 10 * T_SECOND));
	in = kpv_dev_ring(kpv_con_fe_dev(P.fe.c), KEEL_IO_CONSOLE_RING_INPUT);
	CU_ASSERT_EQUAL(in->hdr->req_prod, 64);
	con_write_all(&P, buf + 6500 + want, STREAM - 6500 - want, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(assert_whole(STREAM), 0);
	CU_ASSERT_EQUAL(P.fe.ups, 2);
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, "hi", 2), 2);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.in_len, 2);
}

static bool be_released(void *ctx)
{
	(void)ctx;
	return P.be.released > 0;
}

static void close_backend(void)
{
	harness_use(P.t.bdom);
	kpv_con_be_close(P.be.b, false);
	CU_ASSERT_TRUE(harness_run(be_released, NULL, T_SECOND));
	CU_ASSERT_TRUE(harness_run(fe_down, NULL, T_SECOND));
}

/* What was pushed and not answered when the backend closed is sent to the next one. */
static void test_backend_closes(void)
{
	write_across_a_loss(close_backend);
	CU_ASSERT_EQUAL(P.be.out_len, 3000);
	CU_ASSERT_EQUAL(resent(), 3500);
	write_the_rest();
	con_finish(&P);
}

/*
 * The backend's OS reloads its driver without closing anything: the
 * frontend learns of it only from the new instance, and sends everything
 * unanswered again, the bytes written in between too.
 */
static void crash_backend(void)
{
	harness_forget(P.t.bdom);
	P.t.bk = t_start(P.t.bdom);
	P.be.b = NULL;
}

static void test_backend_crashes(void)
{
	write_across_a_loss(crash_backend);
	write_the_rest();
	/* The 3500 bytes, and what of the later 596 found a slot before the loss was seen. */
	CU_ASSERT(resent() > 3500 && resent() <= KPV_CON_FE_BUF);
	con_end(&P);
	t_assert_clean(P.t.fdom, 1);	/* the crashed instance's leftovers are the backend's */
}

/*
 * A frontend that restarts (kexec) knows nothing of the old connection: the
 * backend lets the old rings go and serves the new one.
 */
static void test_frontend_restarts(void)
{
	con_connect(&P);
	con_write_all(&P, "before\n", 7, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	harness_forget(P.t.fdom);
	P.t.fk = t_start(P.t.fdom);
	memset(&P.fe, 0, sizeof(P.fe));
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(con_both_connected, &P, 10 * T_SECOND));
	CU_ASSERT_EQUAL(P.be.downs, 1);
	CU_ASSERT_EQUAL(P.be.ups, 2);
	con_write_all(&P, "after\n", 6, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, 13);
	CU_ASSERT_EQUAL(memcmp(P.be.out, "before\nafter\n", 13), 0);
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, "x", 1), 1);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.in_len, 1);
	con_end(&P);
	t_assert_clean(P.t.bdom, 0);	/* the frontend's crashed instance left its ring ports */
}

/* Removed under both ends: each closes at once, and nothing is left on either side. */
static void test_removed(void)
{
	con_connect(&P);
	con_write_all(&P, "bye", 3, T_SECOND);
	CU_ASSERT_EQUAL(harness_device_remove(P.t.id), 0);
	con_close_fe(&P, true);
	con_close_be(&P, true);
	con_end(&P);
	CU_ASSERT_EQUAL(P.fe.released, 1);
	CU_ASSERT_EQUAL(P.be.released, 1);
	t_assert_clean(P.t.fdom, 0);
	t_assert_clean(P.t.bdom, 0);
}

/* The backend domain is destroyed: the frontend keeps its output for a backend to come. */
static void test_backend_domain_destroyed(void)
{
	struct kpv_con_fe_stats fs;

	con_connect(&P);
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf, 500), 500);
	harness_destroy(P.t.bdom);
	P.be.b = NULL;
	CU_ASSERT_TRUE(harness_run(fe_down, NULL, T_SECOND));
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), 500);
	kpv_con_fe_stats(P.fe.c, &fs);
	CU_ASSERT_EQUAL(fs.resent, 500);
	CU_ASSERT_EQUAL(harness_grants_permitted(P.t.fdom), 0);
	con_close_fe(&P, true);
	t_stop(P.t.fdom, P.t.fk);
	t_assert_clean(P.t.fdom, 0);
}

static CU_TestInfo tests[] = {
	{ "the backend closes mid-stream: nothing lost", test_backend_closes },
	{ "the backend crashes mid-stream: nothing lost", test_backend_crashes },
	{ "the frontend restarts (kexec)", test_frontend_restarts },
	{ "the device is removed under both ends", test_removed },
	{ "the backend domain is destroyed: output kept", test_backend_domain_destroyed },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo console_reconnect_suite = { "console_reconnect", NULL, NULL, setup, teardown,
					 tests };
