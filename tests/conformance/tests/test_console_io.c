/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_console_io.c - pvdrivers' console frontend
 * and backend together (docs/abi/devices/console.md): two rings and F_SIZE
 * agreed; output whole and in order however it is written, with the
 * frontend's bounded FIFO pushing back; output held before the connection;
 * the backend keeping the last 4 KiB with no sink; input before and after
 * the frontend posts, in order; the size followed live; an echo; writes
 * from interrupt context.
 */
#include "con_pair.h"
#include "suites.h"

static struct con_pair P;
static uint8_t buf[CON_REC_MAX];

static void setup(void)
{
	harness_begin();
}

static void teardown(void)
{
	harness_end();
}

static struct kpv_ring *fe_ring(unsigned int i)
{
	return kpv_dev_ring(kpv_con_fe_dev(P.fe.c), i);
}

static bool input_arrived(void *want)
{
	return P.fe.in_len >= *(size_t *)want;
}

static void test_connect(void)
{
	struct keel_io_device_page *pg;
	struct kpv_ring *in;

	con_connect(&P);
	pg = t_page(P.t.id);
	/* console.md: be_max_rings at least 2, fe_nr_rings 2; F_SIZE offered and taken. */
	CU_ASSERT(pg->be_max_rings >= KEEL_IO_CONSOLE_NR_RINGS);
	CU_ASSERT_EQUAL(pg->be_features, KEEL_IO_CONSOLE_F_SIZE);
	CU_ASSERT_EQUAL(pg->fe_nr_rings, KEEL_IO_CONSOLE_NR_RINGS);
	CU_ASSERT_EQUAL(pg->fe_features, KEEL_IO_CONSOLE_F_SIZE);
	CU_ASSERT_EQUAL(kpv_dev_ring(kpv_con_be_dev(P.be.b), 1)->nr_slots, 64);
	/* The frontend keeps every input slot posted. */
	in = fe_ring(KEEL_IO_CONSOLE_RING_INPUT);
	CU_ASSERT_EQUAL(in->hdr->req_prod, in->nr_slots);
	CU_ASSERT_EQUAL(in->hdr->rsp_prod, 0);
	/* Both OSes were told; the size is unknown (0 x 0) until the backend says. */
	CU_ASSERT_EQUAL(P.fe.ups, 1);
	CU_ASSERT_EQUAL(P.be.ups, 1);
	CU_ASSERT_EQUAL(P.fe.sizes, 1);
	CU_ASSERT_EQUAL(P.fe.cols, 0);
	CU_ASSERT_EQUAL(P.fe.rows, 0);
	con_finish(&P);
	CU_ASSERT_EQUAL(P.fe.downs, 1);
	CU_ASSERT_EQUAL(P.be.downs, 1);
}

static void test_a_line(void)
{
	static const char line[] = "hello, console\n";
	struct kpv_con_fe_stats fs;
	struct kpv_con_be_stats bs;

	con_connect(&P);
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, line, sizeof(line) - 1), sizeof(line) - 1);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), sizeof(line) - 1);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, sizeof(line) - 1);
	CU_ASSERT_EQUAL(memcmp(P.be.out, line, sizeof(line) - 1), 0);
	CU_ASSERT_EQUAL(kpv_con_fe_room(P.fe.c), KPV_CON_FE_BUF);
	kpv_con_fe_stats(P.fe.c, &fs);
	kpv_con_be_stats(P.be.b, &bs);
	CU_ASSERT_EQUAL(fs.written, sizeof(line) - 1);
	CU_ASSERT_EQUAL(fs.answered, sizeof(line) - 1);
	CU_ASSERT_EQUAL(bs.output, sizeof(line) - 1);
	CU_ASSERT_EQUAL(fs.errors + bs.errors, 0);
	con_finish(&P);
}

/* 256 KiB through a 4 KiB FIFO and 64 slots: whole, in order, the writer held back. */
static void test_large_output(void)
{
	const size_t n = 256 * 1024;
	struct kpv_con_fe_stats fs;
	struct kpv_con_be_stats bs;

	con_connect(&P);
	con_pattern(buf, 0, n);
	/* Some writes come up short: the writer is held back. */
	CU_ASSERT(con_write_all(&P, buf, n, 10 * T_SECOND) > 0);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, n);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 0, P.be.out_len));
	CU_ASSERT(P.fe.writable > 0);
	kpv_con_fe_stats(P.fe.c, &fs);
	kpv_con_be_stats(P.be.b, &bs);
	CU_ASSERT_EQUAL(fs.answered, n);
	CU_ASSERT_EQUAL(bs.output, n);
	CU_ASSERT_EQUAL(bs.output_dropped, 0);
	con_finish(&P);
}

/* Many writes of every size from 1 to 97 bytes, with the harness running in between. */
static void test_small_writes_in_order(void)
{
	size_t at = 0;

	con_connect(&P);
	con_pattern(buf, 0, 120000);
	for (uint32_t i = 0; at < 100000; i++) {
		uint32_t len = 1 + i % 97;

		harness_use(P.t.fdom);
		at += kpv_con_fe_write(P.fe.c, buf + at, len);
		if (i % 7 == 0) {
			harness_settle();
		}
	}
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, at);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 0, P.be.out_len));
	con_finish(&P);
}

/* Before any backend: the FIFO takes 4 KiB, says so, and all of it goes out once connected. */
static void test_output_before_connection(void)
{
	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	con_pattern(buf, 0, 6000);
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf, 3000), 3000);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_FALSE(kpv_con_fe_connected(P.fe.c));
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_room(P.fe.c), KPV_CON_FE_BUF - 3000);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf + 3000, 3000), KPV_CON_FE_BUF - 3000);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf, 1), 0);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), KPV_CON_FE_BUF);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, KPV_CON_FE_BUF);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 0, P.be.out_len));
	CU_ASSERT(P.fe.writable > 0);
	con_finish(&P);
}

/* No sink: the guest is not held up, and the last 4 KiB wait for one. */
static void test_no_sink_keeps_the_last_4k(void)
{
	const size_t n = 10000;
	struct kpv_con_be_stats bs;

	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, false), 0);
	t_run(con_both_connected, &P, T_SECOND);
	con_pattern(buf, 0, n);
	con_write_all(&P, buf, n, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	kpv_con_be_stats(P.be.b, &bs);
	CU_ASSERT_EQUAL(bs.output, n);
	CU_ASSERT_EQUAL(bs.output_dropped, n - KPV_CON_BE_OUT_BUF);
	CU_ASSERT_EQUAL(P.be.out_len, 0);
	harness_use(P.t.bdom);
	kpv_con_be_sink(P.be.b, con_sink, &P.be);
	harness_settle();
	CU_ASSERT_EQUAL(P.be.out_len, KPV_CON_BE_OUT_BUF);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, n - KPV_CON_BE_OUT_BUF, P.be.out_len));
	/* Detached again: nothing more reaches it. */
	kpv_con_be_sink(P.be.b, NULL, NULL);
	con_write_all(&P, "x", 1, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, KPV_CON_BE_OUT_BUF);
	con_finish(&P);
}

/*
 * A sink attached to a full FIFO while more output arrives: the backend
 * gives the sink what it holds before taking more, so nothing else is lost.
 */
static void test_sink_attached_under_load(void)
{
	struct kpv_con_be_stats bs;

	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, false), 0);
	t_run(con_both_connected, &P, T_SECOND);
	con_pattern(buf, 0, 13000);
	con_write_all(&P, buf, 10000, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf + 10000, 3000), 3000);
	harness_use(P.t.bdom);
	kpv_con_be_sink(P.be.b, con_sink, &P.be);
	t_run(con_fe_drained, &P, T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(P.be.out_len, KPV_CON_BE_OUT_BUF + 3000);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 10000 - KPV_CON_BE_OUT_BUF, P.be.out_len));
	kpv_con_be_stats(P.be.b, &bs);
	CU_ASSERT_EQUAL(bs.output_dropped, 10000 - KPV_CON_BE_OUT_BUF);
	con_finish(&P);
}

/* Input into posted requests: in order; beyond what fits, the excess is refused and counted. */
static void test_input_after_posting(void)
{
	struct kpv_con_be_stats bs;
	size_t want = 3000;
	uint32_t n;

	con_connect(&P);
	con_pattern(buf, 0, 20000);
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, buf, 1000), 1000);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, buf + 1000, 2000), 2000);
	t_run(input_arrived, &want, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.in_len, 3000);
	CU_ASSERT_TRUE(con_is_pattern(P.fe.in, 0, P.fe.in_len));
	/* More than 64 requests and the 1 KiB FIFO hold: all or nothing of each byte. */
	harness_use(P.t.bdom);
	n = kpv_con_be_input(P.be.b, buf + 3000, 10000);
	CU_ASSERT(n >= KPV_CON_BE_IN_BUF && n < 10000);
	want = 3000 + n;
	t_run(input_arrived, &want, T_SECOND);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.in_len, 3000 + n);
	CU_ASSERT_TRUE(con_is_pattern(P.fe.in, 0, P.fe.in_len));
	kpv_con_be_stats(P.be.b, &bs);
	CU_ASSERT_EQUAL(bs.input, 3000 + n);
	CU_ASSERT_EQUAL(bs.input_dropped, 10000 - n);
	/* Every slot posted again. */
	CU_ASSERT_EQUAL(fe_ring(1)->hdr->req_prod - fe_ring(1)->hdr->rsp_prod, 64);
	con_finish(&P);
}

/* Input before the frontend is there: 1 KiB is held for it, the rest refused. */
static void test_input_before_posting(void)
{
	size_t want = KPV_CON_BE_IN_BUF;

	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	con_pattern(buf, 0, 1500);
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, buf, 1000), 1000);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, buf + 1000, 500), KPV_CON_BE_IN_BUF - 1000);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	t_run(input_arrived, &want, T_SECOND);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.in_len, KPV_CON_BE_IN_BUF);
	CU_ASSERT_TRUE(con_is_pattern(P.fe.in, 0, P.fe.in_len));
	con_finish(&P);
}

static bool echoed(void *want)
{
	return P.be.out_len >= *(size_t *)want;
}

/* The frontend's OS writes back what it reads, from the input callback. */
static void test_echo(void)
{
	size_t want = 5 + 2000;

	con_connect(&P);
	P.fe.echo = true;
	con_pattern(buf, 0, 2000);
	harness_use(P.t.bdom);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, "ping\n", 5), 5);
	CU_ASSERT_EQUAL(kpv_con_be_input(P.be.b, buf, 2000), 2000);
	t_run(echoed, &want, T_SECOND);
	CU_ASSERT_EQUAL(memcmp(P.be.out, "ping\n", 5), 0);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out + 5, 0, 2000));
	con_finish(&P);
}

static bool sizes_are(void *n)
{
	return P.fe.sizes == *(unsigned int *)n;
}

/* F_SIZE: the size offered, then each change, once, as one 32-bit word in be_config. */
static void test_size_live(void)
{
	struct keel_io_console_config cfg;
	unsigned int want = 2;
	uint16_t cols, rows;

	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	harness_use(P.t.bdom);
	kpv_con_be_size(P.be.b, 100, 30);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	t_run(con_both_connected, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.sizes, 1);
	CU_ASSERT_EQUAL(P.fe.cols, 100);
	CU_ASSERT_EQUAL(P.fe.rows, 30);
	harness_use(P.t.bdom);
	kpv_con_be_size(P.be.b, 132, 50);
	t_run(sizes_are, &want, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.cols, 132);
	CU_ASSERT_EQUAL(P.fe.rows, 50);
	memcpy(&cfg, t_page(P.t.id)->be_config, sizeof(cfg));
	CU_ASSERT_EQUAL(cfg.cols, 132);
	CU_ASSERT_EQUAL(cfg.rows, 50);
	harness_use(P.t.fdom);
	kpv_con_fe_size(P.fe.c, &cols, &rows);
	CU_ASSERT_EQUAL(cols, 132);
	CU_ASSERT_EQUAL(rows, 50);
	/* The same size again changes nothing; and output still flows. */
	harness_use(P.t.bdom);
	kpv_con_be_size(P.be.b, 132, 50);
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(P.fe.sizes, 2);
	con_write_all(&P, "ok", 2, T_SECOND);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, 2);
	con_finish(&P);
}

static bool be_answered_all(void *ctx)
{
	struct kpv_ring *out = ctx;

	return out->hdr->rsp_prod == out->req_pushed;
}

/*
 * A panicking kernel gets no interrupts: answers that arrived unseen are
 * collected by the write itself, which then has room.
 */
static void test_write_collects_answers(void)
{
	struct kpv_ring *out;

	con_connect(&P);
	out = fe_ring(KEEL_IO_CONSOLE_RING_OUTPUT);
	con_pattern(buf, 0, KPV_CON_FE_BUF + 100);
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf, KPV_CON_FE_BUF), KPV_CON_FE_BUF);
	/* The backend answers; the run stops before the frontend's upcall. */
	t_run(be_answered_all, out, T_SECOND);
	CU_ASSERT_EQUAL(kpv_con_fe_unanswered(P.fe.c), KPV_CON_FE_BUF);
	harness_use(P.t.fdom);
	CU_ASSERT_EQUAL(kpv_con_fe_write(P.fe.c, buf + KPV_CON_FE_BUF, 100), 100);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, KPV_CON_FE_BUF + 100);
	CU_ASSERT_TRUE(con_is_pattern(P.be.out, 0, P.be.out_len));
	con_finish(&P);
}

static bool fe_committed(void *ctx)
{
	(void)ctx;
	return t_page(P.t.id)->fe_state == KEEL_IO_STATE_READY;
}

/* A size set after the frontend copied the offer, before the backend accepted. */
static void test_size_during_the_handshake(void)
{
	con_init(&P);
	CU_ASSERT_EQUAL_FATAL(con_be_open(&P, true), 0);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(&P), 0);
	t_run(fe_committed, NULL, T_SECOND);
	CU_ASSERT_FALSE(con_both_connected(&P));
	harness_use(P.t.bdom);
	kpv_con_be_size(P.be.b, 140, 60);
	t_run(con_both_connected, &P, T_SECOND);
	harness_settle();
	CU_ASSERT_EQUAL(P.fe.cols, 140);
	CU_ASSERT_EQUAL(P.fe.rows, 60);
	con_finish(&P);
}

static void write_from_timer(void *ctx)
{
	struct con_pair *p = ctx;

	CU_ASSERT_EQUAL(kpv_con_fe_write(p->fe.c, "irq\n", 4), 4);
}

/* A kernel console is written from interrupts: nothing the write does may sleep. */
static void test_write_from_interrupt(void)
{
	struct kpv_timer *t;
	unsigned int before;

	con_connect(&P);
	harness_use(P.t.fdom);
	t = kpv_shim_timer_create(write_from_timer, &P);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	before = harness_violations();
	kpv_shim_timer_arm(t, T_MS);
	harness_run(NULL, NULL, 10 * T_MS);
	CU_ASSERT_EQUAL(harness_violations(), before);
	t_run(con_fe_drained, &P, T_SECOND);
	CU_ASSERT_EQUAL(P.be.out_len, 4);
	CU_ASSERT_EQUAL(memcmp(P.be.out, "irq\n", 4), 0);
	harness_use(P.t.fdom);
	kpv_shim_timer_destroy(t);
	con_finish(&P);
}

static CU_TestInfo tests[] = {
	{ "two rings, F_SIZE, every input slot posted", test_connect },
	{ "a line reaches the sink", test_a_line },
	{ "256 KiB whole and in order, the writer held back", test_large_output },
	{ "writes of every size, in order", test_small_writes_in_order },
	{ "output before the connection waits, bounded", test_output_before_connection },
	{ "no sink: the guest goes on, the last 4 KiB wait", test_no_sink_keeps_the_last_4k },
	{ "a sink attached under load: nothing more lost", test_sink_attached_under_load },
	{ "input into posted requests, in order, excess refused", test_input_after_posting },
	{ "input before posting: 1 KiB held", test_input_before_posting },
	{ "an echo from the input callback", test_echo },
	{ "the terminal size, live", test_size_live },
	{ "a size set during the handshake", test_size_during_the_handshake },
	{ "write from interrupt context", test_write_from_interrupt },
	{ "a write collects answers itself", test_write_collects_answers },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo console_io_suite = { "console_io", NULL, NULL, setup, teardown, tests };
