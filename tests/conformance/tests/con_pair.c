/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/con_pair.c - the console suites' pair: pvdrivers'
 * console class on both ends of a t_pair, and the recording "OS" each side
 * reports to.
 */
#include "con_pair.h"

/* --- the frontend's OS ------------------------------------------------------------ */

static void fe_input(void *ctx, const uint8_t *data, uint32_t len)
{
	struct con_fe_os *os = ctx;

	CU_ASSERT_FATAL(os->in_len + len <= CON_REC_MAX);
	memcpy(os->in + os->in_len, data, len);
	os->in_len += len;
	os->in_calls++;
	if (os->echo) {
		CU_ASSERT_EQUAL(kpv_con_fe_write(os->c, data, len), len);
	}
}

static void fe_size(void *ctx, uint16_t cols, uint16_t rows)
{
	struct con_fe_os *os = ctx;

	os->cols = cols;
	os->rows = rows;
	os->sizes++;
}

static void fe_writable(void *ctx)
{
	((struct con_fe_os *)ctx)->writable++;
}

static void fe_connection(void *ctx, bool up)
{
	struct con_fe_os *os = ctx;

	os->ups += up;
	os->downs += !up;
}

static void fe_released(void *ctx)
{
	struct con_fe_os *os = ctx;

	os->released++;
	os->c = NULL;
}

const struct kpv_con_fe_ops con_fe_ops = {
	.input = fe_input,
	.size = fe_size,
	.writable = fe_writable,
	.connection = fe_connection,
	.released = fe_released,
};

/* --- the backend's OS ------------------------------------------------------------- */

void con_sink(void *ctx, const uint8_t *data, uint32_t len)
{
	struct con_be_os *os = ctx;

	CU_ASSERT_FATAL(os->out_len + len <= CON_REC_MAX);
	memcpy(os->out + os->out_len, data, len);
	os->out_len += len;
	os->sink_calls++;
}

static void be_connection(void *ctx, bool up)
{
	struct con_be_os *os = ctx;

	os->ups += up;
	os->downs += !up;
}

static void be_released(void *ctx)
{
	struct con_be_os *os = ctx;

	os->released++;
	os->b = NULL;
}

const struct kpv_con_be_ops con_be_ops = {
	.connection = be_connection,
	.released = be_released,
};

/* --- the pair ------------------------------------------------------------------------ */

void con_init(struct con_pair *p)
{
	t_pair_init(&p->t);
	memset(&p->fe, 0, sizeof(p->fe));
	memset(&p->be, 0, sizeof(p->be));
}

int con_fe_open(struct con_pair *p)
{
	harness_use(p->t.fdom);
	return kpv_con_fe_open(p->t.fk, &p->t.finfo, &con_fe_ops, &p->fe, &p->fe.c);
}

int con_be_open(struct con_pair *p, bool sink)
{
	int rc;

	harness_use(p->t.bdom);
	rc = kpv_con_be_open(p->t.bk, &p->t.binfo, &con_be_ops, &p->be, 0, 0, &p->be.b);
	if (rc == 0 && sink) {
		kpv_con_be_sink(p->be.b, con_sink, &p->be);
	}
	return rc;
}

bool con_both_connected(void *pair)
{
	struct con_pair *p = pair;

	return p->fe.c && p->be.b && kpv_con_fe_connected(p->fe.c) &&
	       kpv_con_be_connected(p->be.b);
}

bool con_fe_drained(void *pair)
{
	struct con_pair *p = pair;

	return kpv_con_fe_unanswered(p->fe.c) == 0;
}

void con_connect(struct con_pair *p)
{
	con_init(p);
	CU_ASSERT_EQUAL_FATAL(con_fe_open(p), 0);
	CU_ASSERT_EQUAL_FATAL(con_be_open(p, true), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(con_both_connected, p, 5 * T_SECOND));
}

static bool fe_gone(void *ctx)
{
	return ((struct con_fe_os *)ctx)->released > 0;
}

static bool be_gone(void *ctx)
{
	return ((struct con_be_os *)ctx)->released > 0;
}

void con_close_fe(struct con_pair *p, bool removed)
{
	harness_use(p->t.fdom);
	kpv_con_fe_close(p->fe.c, removed);
	CU_ASSERT_TRUE(harness_run(fe_gone, &p->fe, 30 * T_SECOND));
}

void con_close_be(struct con_pair *p, bool removed)
{
	harness_use(p->t.bdom);
	kpv_con_be_close(p->be.b, removed);
	CU_ASSERT_TRUE(harness_run(be_gone, &p->be, 30 * T_SECOND));
}

void con_end(struct con_pair *p)
{
	if (p->fe.c) {
		con_close_fe(p, false);
	}
	if (p->be.b) {
		con_close_be(p, false);
	}
	harness_settle();
	t_stop(p->t.fdom, p->t.fk);
	t_stop(p->t.bdom, p->t.bk);
}

void con_finish(struct con_pair *p)
{
	con_end(p);
	t_assert_clean(p->t.fdom, 1);	/* the control port is Keel's and stays */
	t_assert_clean(p->t.bdom, 0);
}

unsigned int con_write_all(struct con_pair *p, const void *data, size_t len, uint64_t max_ns)
{
	const uint8_t *bytes = data;
	uint64_t end = harness_now() + max_ns;
	unsigned int short_writes = 0;
	size_t done = 0;

	while (done < len && harness_now() <= end) {
		uint32_t want = len - done > 65536 ? 65536 : (uint32_t)(len - done);
		uint32_t n;

		harness_use(p->t.fdom);
		n = kpv_con_fe_write(p->fe.c, bytes + done, want);
		done += n;
		if (n < want) {
			short_writes++;
			harness_run(NULL, NULL, T_MS);
		}
	}
	CU_ASSERT_EQUAL(done, len);
	return short_writes;
}

void con_pattern(uint8_t *buf, size_t from, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = con_byte(from + i);
	}
}

bool con_is_pattern(const uint8_t *buf, size_t from, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != con_byte(from + i)) {
			return false;
		}
	}
	return true;
}
