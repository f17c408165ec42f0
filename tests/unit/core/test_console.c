/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_console.c - unit tests for core/console.c: the output
 * ring and its stream positions, the four console calls with every error in
 * the documented order, the serial side (prefix, escaping, partial lines,
 * rate limit), the input queue and its VIRQ, switching the serial input with
 * Ctrl-A, Keel's console keys, and that every page comes back.
 *
 * Domains are real ones from domain_create() with a little RAM: guest page
 * 1 holds bytes to write, page 2 is a read buffer, page 3 holds the
 * struct keel_stream_read. The calls are made as the dispatcher would,
 * after its checks 1-3.
 */
#include <stdio.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <public/keel/console.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/shared_info.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	16
#define SRC_GPA		0x1000ull	/* bytes the guest writes */
#define DST_GPA		0x2000ull	/* a buffer Keel fills */
#define SR_GPA		0x3000ull	/* the struct keel_stream_read */
#define NO_RAM_GPA	((uint64_t)RAM_PAGES << PAGE_SHIFT)	/* just past the RAM */
#define UNKNOWN		0x7ffffff0u	/* a domid nobody has */
#define MS		1000000ull	/* ns */

static char text[4 * CONSOLE_RING_SIZE];	/* scratch for expected output */
static uint8_t bytes[CONSOLE_RING_SIZE + 1];

static void setup(void)
{
	unit_reset_counted();
	/* At time 0, so that the next poll's periodic work is due again. */
	console_poll_input();
}

static struct domain *make(const char *name, uint32_t caps)
{
	struct domain_params p = {
		.name = name, .caps = caps, .vcpu_count = 1, .max_pages = RAM_PAGES,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	fake_console_clear();	/* tests look at what the console says after this */
	return d;
}

static void finish(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

/* "[d<id> <name>] " */
static const char *prefix(const struct domain *d)
{
	static char p[64];

	snprintf(p, sizeof(p), "[d%u %s] ", d->domid, d->name);
	return p;
}

static void put(struct domain *d, uint64_t gpa, const void *buf, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(d, gpa, buf, len), 0);
}

/* KEEL_HC_CONSOLE_WRITE of @s from the guest's page SRC_GPA. */
static long write_str(struct domain *d, const char *s)
{
	put(d, SRC_GPA, s, strlen(s));
	return console_hc_write(d, SRC_GPA, strlen(s));
}

/* KEEL_HC_CONSOLE_READ_DOMAIN of up to @len bytes at @pos into DST_GPA. */
static long read_domain(struct domain *d, uint32_t domid, uint64_t pos, uint32_t len,
			struct keel_stream_read *out)
{
	struct keel_stream_read sr = {
		.domid = domid, .buf_len = len, .buf_gpa = DST_GPA, .pos = pos,
	};
	long rc;

	put(d, SR_GPA, &sr, sizeof(sr));
	rc = console_hc_read_domain(d, SR_GPA);
	CU_ASSERT_EQUAL(guest_copy_from(d, SR_GPA, out, sizeof(*out)), 0);
	return rc;
}

/* KEEL_HC_CONSOLE_READ_DOMAIN with the struct @sr exactly as given. */
static long read_domain_raw(struct domain *d, const struct keel_stream_read *sr)
{
	put(d, SR_GPA, sr, sizeof(*sr));
	return console_hc_read_domain(d, SR_GPA);
}

static bool port_pending(const struct domain *d, long port)
{
	return d->shared_info->evtchn_pending[port / 64] & (1ull << (port % 64));
}

static void clear_pending(struct domain *d, long port)
{
	d->shared_info->evtchn_pending[port / 64] &= ~(1ull << (port % 64));
}

static void type(const char *s)
{
	fake_console_input(s);
	console_poll_input();
}

/* --- the output ring -------------------------------------------------------- */

static void test_ring_keeps_the_newest_bytes_by_position(void)
{
	struct domain *d = make("ring", KEEL_CAP_CONSOLE);
	struct keel_stream_read sr;
	uint8_t got[KEEL_PAGE_SIZE];
	const uint64_t total = 5 * KEEL_PAGE_SIZE;	/* more than the ring */

	/* Byte at stream position p is (p * 7) & 0xff: any misplacement shows. */
	for (uint64_t pos = 0; pos < total; pos += KEEL_PAGE_SIZE) {
		for (unsigned int i = 0; i < KEEL_PAGE_SIZE; i++) {
			bytes[i] = (uint8_t)((pos + i) * 7);
		}
		put(d, SRC_GPA, bytes, KEEL_PAGE_SIZE);
		CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, KEEL_PAGE_SIZE), KEEL_PAGE_SIZE);
	}

	/* Position 0 is gone: the read starts at the oldest byte held. */
	CU_ASSERT_EQUAL(read_domain(d, d->domid, 0, 100, &sr), 0);
	CU_ASSERT_EQUAL(sr.oldest_pos, total - CONSOLE_RING_SIZE);
	CU_ASSERT_EQUAL(sr.len, 100);
	CU_ASSERT_EQUAL(sr.next_pos, sr.oldest_pos + 100);
	CU_ASSERT_EQUAL(guest_copy_from(d, DST_GPA, got, 100), 0);
	for (unsigned int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL_FATAL(got[i], (uint8_t)((sr.oldest_pos + i) * 7));
	}

	/* Following next_pos reads every held byte once, across the wrap. */
	for (uint64_t pos = sr.oldest_pos; pos < total; pos = sr.next_pos) {
		CU_ASSERT_EQUAL_FATAL(read_domain(d, d->domid, pos, 3000, &sr), 0);
		CU_ASSERT_EQUAL_FATAL(sr.len, MIN(3000, total - pos));
		CU_ASSERT_EQUAL(guest_copy_from(d, DST_GPA, got, sr.len), 0);
		for (unsigned int i = 0; i < sr.len; i++) {
			CU_ASSERT_EQUAL_FATAL(got[i], (uint8_t)((pos + i) * 7));
		}
	}

	/* At the end, and beyond it: nothing yet. */
	CU_ASSERT_EQUAL(read_domain(d, d->domid, total, 10, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, 0);
	CU_ASSERT_EQUAL(sr.next_pos, total);
	CU_ASSERT_EQUAL(read_domain(d, d->domid, total + 50, 10, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, 0);

	/* One more byte: the oldest moves by one, the new byte is there. */
	CU_ASSERT_EQUAL(write_str(d, "!"), 1);
	CU_ASSERT_EQUAL(read_domain(d, d->domid, total, 10, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, 1);
	CU_ASSERT_EQUAL(sr.oldest_pos, total + 1 - CONSOLE_RING_SIZE);
	CU_ASSERT_EQUAL(guest_copy_from(d, DST_GPA, got, 1), 0);
	CU_ASSERT_EQUAL(got[0], '!');
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_fresh_console_is_empty(void)
{
	struct domain *d = make("fresh", KEEL_CAP_CONSOLE);
	struct keel_stream_read sr;

	CU_ASSERT_EQUAL(read_domain(d, d->domid, 0, 64, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, 0);
	CU_ASSERT_EQUAL(sr.next_pos, 0);
	CU_ASSERT_EQUAL(sr.oldest_pos, 0);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 64), 0);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- the calls and their errors --------------------------------------------- */

static void test_write_errors(void)
{
	struct domain *d = make("writer", 0);

	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, 0), 0);
	CU_ASSERT_EQUAL(console_hc_write(d, NO_RAM_GPA, 0), 0);	/* nothing to check */
	/* Too long is E2BIG although it also crosses a page. */
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, KEEL_PAGE_SIZE + 1), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(console_hc_write(d, NO_RAM_GPA, 1ull << 32), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA + 1, KEEL_PAGE_SIZE), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_write(d, DST_GPA - 2, 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_write(d, NO_RAM_GPA, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_write(d, ~0ull - 1, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, KEEL_PAGE_SIZE), KEEL_PAGE_SIZE);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_read_errors_and_moves(void)
{
	struct domain *d = make("reader", KEEL_CAP_CONSOLE);
	char got[16] = { 0 };

	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, KEEL_PAGE_SIZE + 1), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA + 1, KEEL_PAGE_SIZE), -KEEL_EFAULT);
	/* A bad buffer fails even when there is nothing to move. */
	CU_ASSERT_EQUAL(console_hc_read(d, NO_RAM_GPA, 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 0), 0);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, KEEL_PAGE_SIZE), 0);

	put(d, SRC_GPA, "hello", 5);
	CU_ASSERT_EQUAL(console_hc_write_domain(d, d->domid, SRC_GPA, 5), 5);
	/* A failed read takes nothing out of the queue. */
	CU_ASSERT_EQUAL(console_hc_read(d, NO_RAM_GPA, 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 0), 0);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 2), 2);
	CU_ASSERT_EQUAL(guest_copy_from(d, DST_GPA, got, 2), 0);
	CU_ASSERT_EQUAL(memcmp(got, "he", 2), 0);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 16), 3);
	CU_ASSERT_EQUAL(guest_copy_from(d, DST_GPA, got, 3), 0);
	CU_ASSERT_EQUAL(memcmp(got, "llo", 3), 0);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 16), 0);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_read_domain_errors_in_order(void)
{
	struct domain *reader = make("rd", KEEL_CAP_CONSOLE);
	struct domain *plain = make("plain", 0);
	struct keel_stream_read good = {
		.domid = plain->domid, .buf_len = 64, .buf_gpa = DST_GPA,
	}, sr;

	/* EPERM first: even a struct that is not RAM does not matter. */
	CU_ASSERT_EQUAL(console_hc_read_domain(plain, NO_RAM_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(read_domain_raw(plain, &good), -KEEL_EPERM);

	/* The struct: misaligned, crossing a page, not RAM. */
	put(reader, SR_GPA + 4, &good, sizeof(good));
	CU_ASSERT_EQUAL(console_hc_read_domain(reader, SR_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_read_domain(reader, SR_GPA - 8), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_read_domain(reader, NO_RAM_GPA), -KEEL_EFAULT);

	/* ESRCH before any check of the struct's contents. */
	sr = good;
	sr.domid = UNKNOWN;
	sr.buf_len = KEEL_PAGE_SIZE + 1;
	sr.pad0 = 1;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_ESRCH);
	sr.domid = 0;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_ESRCH);
	sr.domid = KEEL_DOMID_SELF;	/* the call does not say it takes it */
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_ESRCH);

	/* E2BIG, then the buffer (EFAULT), then EINVAL. */
	sr = good;
	sr.buf_len = KEEL_PAGE_SIZE + 1;
	sr.buf_gpa = NO_RAM_GPA;
	sr.pad0 = 1;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_E2BIG);
	sr.buf_len = 64;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_EFAULT);
	sr.buf_gpa = DST_GPA + KEEL_PAGE_SIZE - 32;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_EFAULT);
	sr.buf_gpa = DST_GPA;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_EINVAL);
	sr.pad0 = 0;
	sr.buf_len = 0;
	CU_ASSERT_EQUAL(read_domain_raw(reader, &sr), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(read_domain_raw(reader, &good), 0);

	/* Another domain's output, read with the capability. */
	CU_ASSERT_EQUAL(write_str(plain, "from plain\n"), 11);
	CU_ASSERT_EQUAL(read_domain(reader, plain->domid, 0, 64, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, 11);
	CU_ASSERT_EQUAL(sr.domid, plain->domid);	/* IN fields as given */
	CU_ASSERT_EQUAL(guest_copy_from(reader, DST_GPA, text, 11), 0);
	CU_ASSERT_EQUAL(memcmp(text, "from plain\n", 11), 0);

	/* A dying domain is no longer there. */
	CU_ASSERT_EQUAL(domain_destroy(plain), 0);
	CU_ASSERT_EQUAL(read_domain(reader, plain->domid, 0, 64, &sr), -KEEL_ESRCH);
	domain_put(plain);
	finish(reader);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_write_domain_errors_in_order(void)
{
	struct domain *writer = make("wd", KEEL_CAP_CONSOLE);
	struct domain *plain = make("target", 0);
	char got[8];

	put(writer, SRC_GPA, "typed", 5);
	CU_ASSERT_EQUAL(console_hc_write_domain(plain, writer->domid, SRC_GPA, 5), -KEEL_EPERM);
	CU_ASSERT_EQUAL(console_hc_write_domain(plain, UNKNOWN, NO_RAM_GPA, 1ull << 40),
			-KEEL_EPERM);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, UNKNOWN, NO_RAM_GPA, 1ull << 40),
			-KEEL_ESRCH);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, KEEL_DOMID_SELF, SRC_GPA, 5), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA + 1,
						KEEL_PAGE_SIZE + 1), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA + 1,
						KEEL_PAGE_SIZE), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, NO_RAM_GPA, 1),
			-KEEL_EFAULT);
	CU_ASSERT_EQUAL(console_hc_read(plain, DST_GPA, 8), 0);	/* nothing queued */

	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA, 5), 5);
	CU_ASSERT_EQUAL(console_hc_read(plain, DST_GPA, 8), 5);
	CU_ASSERT_EQUAL(guest_copy_from(plain, DST_GPA, got, 5), 0);
	CU_ASSERT_EQUAL(memcmp(got, "typed", 5), 0);

	/* The queue holds CONSOLE_INPUT_SIZE bytes; the rest is refused. */
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA, 1000), 1000);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA, 1000),
			CONSOLE_INPUT_SIZE - 1000);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA, 10), 0);
	CU_ASSERT_EQUAL(console_hc_read(plain, DST_GPA, KEEL_PAGE_SIZE), CONSOLE_INPUT_SIZE);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, plain->domid, SRC_GPA,
						KEEL_PAGE_SIZE), CONSOLE_INPUT_SIZE);
	finish(plain);
	finish(writer);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_input_raises_virq_when_queue_was_empty(void)
{
	struct domain *writer = make("kbd", KEEL_CAP_CONSOLE);
	struct domain *d = make("listener", 0);
	long port;

	/* Not bound yet: input still queues. */
	put(writer, SRC_GPA, "abc", 3);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, d->domid, SRC_GPA, 1), 1);
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 8), 1);

	port = evtchn_bind_virq(d->evtchn, KEEL_VIRQ_CONSOLE, 0);
	CU_ASSERT_FATAL(port > 0);
	CU_ASSERT_FALSE(port_pending(d, port));
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, d->domid, SRC_GPA, 1), 1);
	CU_ASSERT_TRUE(port_pending(d, port));

	/* Non-empty -> more: no new event. */
	clear_pending(d, port);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, d->domid, SRC_GPA, 2), 2);
	CU_ASSERT_FALSE(port_pending(d, port));

	/* Drained, then input again: an event again. */
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 8), 3);
	CU_ASSERT_EQUAL(console_hc_write_domain(writer, d->domid, SRC_GPA, 3), 3);
	CU_ASSERT_TRUE(port_pending(d, port));
	finish(d);
	finish(writer);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- the serial side ----------------------------------------------------------- */

static void test_lines_have_the_domain_prefix(void)
{
	struct domain *d = make("ping", 0);

	CU_ASSERT_EQUAL(write_str(d, "keeltest: x: SUCCESS\nsecond "), 28);
	snprintf(text, sizeof(text), "%skeeltest: x: SUCCESS\n", prefix(d));
	CU_ASSERT_STRING_EQUAL(fake_console(), text);
	CU_ASSERT_EQUAL(write_str(d, "line\n\n"), 6);
	snprintf(text, sizeof(text), "%skeeltest: x: SUCCESS\n%ssecond line\n%s\n", prefix(d),
		 prefix(d), prefix(d));
	CU_ASSERT_STRING_EQUAL(fake_console(), text);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_lines_are_not_in_the_log_ring(void)
{
	static char ring[LOG_RING_SIZE + 1];
	struct domain *d = make("secretive", 0);
	size_t n;

	log_info("a log line between domain lines");
	CU_ASSERT_EQUAL(write_str(d, "console-only 8d1f\n"), 18);
	n = log_ring_read(ring, LOG_RING_SIZE);
	ring[n] = '\0';
	CU_ASSERT_PTR_NULL(strstr(ring, "console-only 8d1f"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ring, "a log line between domain lines"));
	CU_ASSERT_TRUE(fake_console_has("console-only 8d1f\n"));
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_non_printable_bytes_are_escaped(void)
{
	static const uint8_t raw[] = "a\x01" "b\tc\x7f\xff\x1b[0m\r\n";
	struct domain *d = make("binary", KEEL_CAP_CONSOLE);
	struct keel_stream_read sr;
	uint8_t got[sizeof(raw)];

	put(d, SRC_GPA, raw, sizeof(raw) - 1);
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, sizeof(raw) - 1), sizeof(raw) - 1);
	snprintf(text, sizeof(text), "%sa\\x01b\tc\\x7f\\xff\\x1b[0m\n", prefix(d));
	CU_ASSERT_STRING_EQUAL(fake_console(), text);

	/* The ring keeps the raw bytes. */
	CU_ASSERT_EQUAL(read_domain(d, d->domid, 0, 64, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, sizeof(raw) - 1);
	CU_ASSERT_EQUAL(guest_copy_from(d, DST_GPA, got, sr.len), 0);
	CU_ASSERT_EQUAL(memcmp(got, raw, sizeof(raw) - 1), 0);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_long_lines_are_split(void)
{
	struct domain *d = make("long", 0);
	const char *p = prefix(d);
	char line[CONSOLE_LINE_MAX + 1];
	size_t n;

	memset(bytes, 'y', 300);
	bytes[300] = '\n';
	put(d, SRC_GPA, bytes, 301);
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, 301), 301);
	/*
	 * The line buffer's worth goes out when it is full, and the rest
	 * continues the same console line: one line of 300 characters.
	 */
	memset(line, 'y', CONSOLE_LINE_MAX);
	line[CONSOLE_LINE_MAX] = '\0';
	n = (size_t)snprintf(text, sizeof(text), "%s%s", p, line);
	snprintf(text + n, sizeof(text) - n, "%.*s\n", 300 - CONSOLE_LINE_MAX, line);
	CU_ASSERT_STRING_EQUAL(fake_console(), text);

	/* An escape that does not fit whole goes into the next part, on the same line. */
	fake_console_clear();
	memset(bytes, 'z', CONSOLE_LINE_MAX - 1);
	bytes[CONSOLE_LINE_MAX - 1] = 0x02;
	bytes[CONSOLE_LINE_MAX] = '\n';
	put(d, SRC_GPA, bytes, CONSOLE_LINE_MAX + 1);
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, CONSOLE_LINE_MAX + 1), CONSOLE_LINE_MAX + 1);
	n = (size_t)snprintf(text, sizeof(text), "%s%.*s", p, CONSOLE_LINE_MAX - 1,
			     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
			     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
			     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
			     "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
	snprintf(text + n, sizeof(text) - n, "\\x02\n");
	CU_ASSERT_STRING_EQUAL(fake_console(), text);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_partial_line_flushed_after_a_delay(void)
{
	struct domain *d = make("slow", 0);

	fake.time_ns = 1000 * MS;
	CU_ASSERT_EQUAL(write_str(d, "Loading..."), 10);
	CU_ASSERT_EQUAL(fake_console_len(), 0);
	fake.time_ns += CONSOLE_FLUSH_NS / 2;
	console_poll_input();
	CU_ASSERT_EQUAL(fake_console_len(), 0);
	fake.time_ns += CONSOLE_FLUSH_NS / 2;
	console_poll_input();
	snprintf(text, sizeof(text), "%sLoading...", prefix(d));
	CU_ASSERT_STRING_EQUAL(fake_console(), text);

	/* The rest continues the same console line; nothing is repeated. */
	CU_ASSERT_EQUAL(write_str(d, " done\n"), 6);
	snprintf(text, sizeof(text), "%sLoading... done\n", prefix(d));
	CU_ASSERT_STRING_EQUAL(fake_console(), text);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_partial_line_interrupted(void)
{
	struct domain *a = make("slow-a", 0), *b = make("fast-b", 0);
	char pa[64], pb[64];

	snprintf(pa, sizeof(pa), "%s", prefix(a));
	snprintf(pb, sizeof(pb), "%s", prefix(b));
	fake.time_ns = 1000 * MS;
	CU_ASSERT_EQUAL(write_str(a, "Loading..."), 10);
	fake.time_ns += CONSOLE_FLUSH_NS;
	console_poll_input();
	/* Another domain's line ends the open one; a's rest gets its prefix again. */
	CU_ASSERT_EQUAL(write_str(b, "hello\n"), 6);
	CU_ASSERT_EQUAL(write_str(a, " done\n"), 6);
	snprintf(text, sizeof(text), "%sLoading...\n%shello\n%s done\n", pa, pb, pa);
	CU_ASSERT_STRING_EQUAL(fake_console(), text);

	/* A bare newline after a part that other output already ended adds nothing. */
	fake_console_clear();
	CU_ASSERT_EQUAL(write_str(a, "step"), 4);
	fake.time_ns += CONSOLE_FLUSH_NS;
	console_poll_input();
	CU_ASSERT_EQUAL(write_str(b, "x\n"), 2);
	CU_ASSERT_EQUAL(write_str(a, "\n"), 1);
	snprintf(text, sizeof(text), "%sstep\n%sx\n", pa, pb);
	CU_ASSERT_STRING_EQUAL(fake_console(), text);
	finish(b);
	finish(a);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_partial_line_flushed_on_destroy(void)
{
	struct domain *d = make("last-words", 0);

	CU_ASSERT_EQUAL(write_str(d, "goodbye"), 7);
	CU_ASSERT_EQUAL(fake_console_len(), 0);
	snprintf(text, sizeof(text), "%sgoodbye\n", prefix(d));
	finish(d);
	CU_ASSERT_TRUE(fake_console_has(text));
	UNIT_CHECK_ALL_RETURNED();
}

static void test_keel_output_for_a_domain(void)
{
	struct domain *d = make("probe-like", KEEL_CAP_CONSOLE);
	struct keel_stream_read sr;

	console_domain_output(d, "keeltest: vmmcall: ", 19);
	console_domain_output(d, "SUCCESS\n", 8);
	snprintf(text, sizeof(text), "%skeeltest: vmmcall: SUCCESS\n", prefix(d));
	CU_ASSERT_STRING_EQUAL(fake_console(), text);
	CU_ASSERT_EQUAL(read_domain(d, d->domid, 0, 64, &sr), 0);
	CU_ASSERT_EQUAL(sr.len, 27);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* Count @needle in the console output. */
static unsigned int console_count(const char *needle)
{
	unsigned int n = 0;

	for (const char *p = fake_console(); (p = strstr(p, needle)) != NULL; p++) {
		n++;
	}
	return n;
}

static void test_rate_limit_suppresses_and_reports(void)
{
	struct domain *d = make("flood", KEEL_CAP_CONSOLE);
	const size_t cost = strlen(prefix(d)) + 100;	/* 99 characters and the newline */
	const unsigned int lines = 300, shown = (unsigned int)(CONSOLE_BURST / cost);
	struct keel_stream_read sr;
	char report[64];

	memset(bytes, 'f', 99);
	bytes[99] = '\n';
	put(d, SRC_GPA, bytes, 100);
	for (unsigned int i = 0; i < lines; i++) {
		CU_ASSERT_EQUAL_FATAL(console_hc_write(d, SRC_GPA, 100), 100);
	}
	/* The burst went out, then nothing; the ring has the newest of everything. */
	CU_ASSERT_EQUAL(console_count("fffff\n"), shown);
	CU_ASSERT(fake_console_len() <= CONSOLE_BURST);
	CU_ASSERT_EQUAL(read_domain(d, d->domid, 0, 16, &sr), 0);
	CU_ASSERT_EQUAL(sr.oldest_pos, lines * 100 - CONSOLE_RING_SIZE);

	/* Half a second refills 2000: not enough to resume (CONSOLE_RESUME). */
	fake.time_ns = 500 * MS;
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, 100), 100);
	console_poll_input();
	CU_ASSERT_EQUAL(console_count("fffff\n"), shown);
	CU_ASSERT_FALSE(fake_console_has("suppressed"));

	/* Two seconds: one report of everything held back, then lines again. */
	fake.time_ns = 2000 * MS;
	CU_ASSERT_EQUAL(console_hc_write(d, SRC_GPA, 100), 100);
	snprintf(report, sizeof(report), "%s(%u bytes suppressed)\n", prefix(d),
		 (lines + 1 - shown) * 100);
	CU_ASSERT_TRUE_FATAL(fake_console_has(report));
	CU_ASSERT_EQUAL(console_count("suppressed"), 1);
	CU_ASSERT_EQUAL(console_count("fffff\n"), shown + 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(strstr(fake_console(), report), "fffff\n"));
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_suppression_reported_when_output_stops(void)
{
	struct domain *d = make("burst", 0);
	const unsigned int lines = 200;
	char report[64];
	unsigned int shown;

	memset(bytes, 'g', 99);
	bytes[99] = '\n';
	put(d, SRC_GPA, bytes, 100);
	for (unsigned int i = 0; i < lines; i++) {
		CU_ASSERT_EQUAL_FATAL(console_hc_write(d, SRC_GPA, 100), 100);
	}
	shown = console_count("ggggg\n");
	CU_ASSERT(shown > 0 && shown < lines);

	/* The domain says nothing more; the periodic poll reports once it may. */
	fake.time_ns = 1500 * MS;
	console_poll_input();
	snprintf(report, sizeof(report), "%s(%u bytes suppressed)\n", prefix(d),
		 (lines - shown) * 100);
	CU_ASSERT_TRUE(fake_console_has(report));
	fake.time_ns = 3000 * MS;
	console_poll_input();
	CU_ASSERT_EQUAL(console_count("suppressed"), 1);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_domains_have_separate_buckets(void)
{
	struct domain *a = make("noisy", 0), *b = make("quiet", 0);
	char line[64];

	memset(bytes, 'n', 99);
	bytes[99] = '\n';
	put(a, SRC_GPA, bytes, 100);
	for (unsigned int i = 0; i < 400; i++) {
		CU_ASSERT_EQUAL_FATAL(console_hc_write(a, SRC_GPA, 100), 100);
	}
	CU_ASSERT_EQUAL(write_str(b, "still heard\n"), 12);
	snprintf(line, sizeof(line), "%sstill heard\n", prefix(b));
	CU_ASSERT_TRUE(fake_console_has(line));
	finish(a);
	finish(b);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- serial input ---------------------------------------------------------------- */

static void test_ctrl_a_three_times_switches_input(void)
{
	struct domain *a = make("alpha", 0), *b = make("beta", 0), *c = make("gamma", 0);
	char want[128];

	console_set_serial_input(a, true);
	console_set_serial_input(c, true);	/* beta: console = "none" */

	type("\x01\x01\x01");
	snprintf(want, sizeof(want), "[keel] console input: domain %u 'alpha' (press Ctrl-A three "
		 "times to switch)\n", a->domid);
	CU_ASSERT_STRING_EQUAL(fake_console(), want);

	/* Typed bytes go to alpha's queue; one or two Ctrl-A are typed too. */
	type("hi\r\x01\x01x");
	CU_ASSERT_EQUAL(console_hc_read(a, DST_GPA, 64), 6);
	CU_ASSERT_EQUAL(guest_copy_from(a, DST_GPA, text, 6), 0);
	CU_ASSERT_EQUAL(memcmp(text, "hi\r\x01\x01x", 6), 0);

	fake_console_clear();
	type("\x01\x01");
	type("\x01");	/* presses may come in separate polls */
	snprintf(want, sizeof(want), "[keel] console input: domain %u 'gamma'", c->domid);
	CU_ASSERT_TRUE(fake_console_has(want));
	CU_ASSERT_EQUAL(console_hc_read(a, DST_GPA, 64), 0);

	fake_console_clear();
	type("\x01\x01\x01");
	CU_ASSERT_STRING_EQUAL(fake_console(), "[keel] console input: hypervisor (press h for "
			       "help, Ctrl-A three times to switch)\n");
	CU_ASSERT_EQUAL(console_hc_read(c, DST_GPA, 64), 0);
	CU_ASSERT_EQUAL(console_hc_read(b, DST_GPA, 64), 0);

	/* Back to alpha; then alpha goes away while it has the input. */
	finish(b);
	type("\x01\x01\x01");
	fake_console_clear();
	snprintf(want, sizeof(want), "[keel] console input: hypervisor (domain %u 'alpha' is "
		 "gone)\n", a->domid);
	finish(a);	/* the domain with the input goes away */
	CU_ASSERT_TRUE(fake_console_has(want));
	type("\x01\x01\x01");
	snprintf(want, sizeof(want), "[keel] console input: domain %u 'gamma'", c->domid);
	CU_ASSERT_TRUE(fake_console_has(want));
	type("\x01\x01\x01");
	finish(c);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_typed_input_raises_the_virq(void)
{
	struct domain *d = make("typist", 0);
	long port = evtchn_bind_virq(d->evtchn, KEEL_VIRQ_CONSOLE, 0);

	CU_ASSERT_FATAL(port > 0);
	console_set_serial_input(d, true);
	type("\x01\x01\x01");
	CU_ASSERT_FALSE(port_pending(d, port));
	type("k");
	CU_ASSERT_TRUE(port_pending(d, port));
	CU_ASSERT_EQUAL(console_hc_read(d, DST_GPA, 8), 1);
	type("\x01\x01\x01");
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_no_domain_takes_input(void)
{
	struct domain *d = make("closed", 0);

	type("\x01\x01\x01");
	CU_ASSERT_STRING_EQUAL(fake_console(), "[keel] console input: hypervisor (no domain "
			       "accepts serial input; press h for help)\n");
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* The boot configuration's console-input: the input starts with a domain. */
static void test_input_given_at_boot(void)
{
	struct domain *a = make("alpha", 0), *b = make("beta", 0), *c = make("gamma", 0);
	char want[128];

	console_set_serial_input(a, true);
	console_set_serial_input(b, true);

	/* Refused for a domain that does not accept serial input: nothing said, Keel keeps it. */
	CU_ASSERT_FALSE(console_give_input(c));
	CU_ASSERT_STRING_EQUAL(fake_console(), "");
	type("m");
	CU_ASSERT_TRUE(fake_console_has("[keel] memory: "));

	fake_console_clear();
	CU_ASSERT_TRUE(console_give_input(b));
	snprintf(want, sizeof(want), "[keel] console input: domain %u 'beta' (press Ctrl-A three "
		 "times to switch)\n", b->domid);
	CU_ASSERT_STRING_EQUAL(fake_console(), want);
	type("ls\r");	/* beta's now, not Keel's keys */
	CU_ASSERT_EQUAL(console_hc_read(b, DST_GPA, 64), 3);
	CU_ASSERT_EQUAL(console_hc_read(a, DST_GPA, 64), 0);

	/* Ctrl-A three times goes on from beta, past the end, back to Keel. */
	fake_console_clear();
	type("\x01\x01\x01");
	CU_ASSERT_STRING_EQUAL(fake_console(), "[keel] console input: hypervisor (press h for "
			       "help, Ctrl-A three times to switch)\n");

	/* A domain that is going away cannot be given it. */
	CU_ASSERT_EQUAL(domain_destroy(a), 0);
	fake_console_clear();
	CU_ASSERT_FALSE(console_give_input(a));
	CU_ASSERT_STRING_EQUAL(fake_console(), "");
	domain_put(a);
	finish(b);
	finish(c);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_keel_keys(void)
{
	struct domain *a = make("web", 0), *b = make("storage", 0);
	char want[200];

	console_set_serial_input(a, true);
	CU_ASSERT_EQUAL(write_str(b, "0123456789\n"), 11);
	fake_console_clear();

	type("h");
	CU_ASSERT_TRUE(fake_console_has("[keel] console keys for the hypervisor:\n"));
	CU_ASSERT_TRUE(fake_console_has("[keel]   l  list the domains\n"));

	fake_console_clear();
	type("l");
	CU_ASSERT_TRUE(fake_console_has("[keel] domains: 2; console input: hypervisor\n"));
	CU_ASSERT_TRUE(fake_console_has("[keel]   id  name             state     vCPUs  "
					"memory         out bytes  input\n"));
	snprintf(want, sizeof(want), "[keel] %4u  web              paused        1  0/0 MiB        "
		 "        0  serial\n", a->domid);
	CU_ASSERT_TRUE(fake_console_has(want));
	snprintf(want, sizeof(want), "[keel] %4u  storage          paused        1  0/0 MiB        "
		 "       11  -\n", b->domid);
	CU_ASSERT_TRUE(fake_console_has(want));

	/* Input waiting for a domain shows in the list. */
	type("\x01\x01\x01" "abc" "\x01\x01\x01");
	fake_console_clear();
	type("l");
	CU_ASSERT_TRUE(fake_console_has("serial, 3 bytes queued\n"));

	fake_console_clear();
	type("m");
	CU_ASSERT_TRUE(fake_console_has("[keel] memory: "));
	CU_ASSERT_TRUE(fake_console_has("2 domain(s)\n"));

	fake_console_clear();
	type("\r\n q\x05");
	CU_ASSERT_STRING_EQUAL(fake_console(), "[keel] unknown key 'q': press h for help\n"
			       "[keel] unknown key '\\x05': press h for help\n");
	finish(a);
	finish(b);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_list_skips_dying_domains(void)
{
	struct domain *a = make("leaving", 0);

	CU_ASSERT_EQUAL(domain_destroy(a), 0);	/* still referenced: dying */
	fake_console_clear();
	type("l");
	CU_ASSERT_STRING_EQUAL(fake_console(), "[keel] domains: 0; console input: hypervisor\n");
	domain_put(a);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo console_tests[] = {
	{ "the ring keeps the newest bytes by position",
	  test_ring_keeps_the_newest_bytes_by_position },
	{ "a fresh console is empty", test_fresh_console_is_empty },
	{ "write: errors", test_write_errors },
	{ "read: errors, and bytes move once", test_read_errors_and_moves },
	{ "read_domain: errors in order", test_read_domain_errors_in_order },
	{ "write_domain: errors in order, queue limit", test_write_domain_errors_in_order },
	{ "input raises the VIRQ when the queue was empty",
	  test_input_raises_virq_when_queue_was_empty },
	{ "lines have the domain prefix", test_lines_have_the_domain_prefix },
	{ "domain lines are not in the log ring", test_lines_are_not_in_the_log_ring },
	{ "non-printable bytes are escaped", test_non_printable_bytes_are_escaped },
	{ "long lines are split", test_long_lines_are_split },
	{ "a partial line is flushed after a delay", test_partial_line_flushed_after_a_delay },
	{ "other output ends an open partial line", test_partial_line_interrupted },
	{ "a partial line is flushed on destroy", test_partial_line_flushed_on_destroy },
	{ "Keel's output for a domain", test_keel_output_for_a_domain },
	{ "the rate limit suppresses and reports", test_rate_limit_suppresses_and_reports },
	{ "a suppression is reported when output stops",
	  test_suppression_reported_when_output_stops },
	{ "domains have separate buckets", test_domains_have_separate_buckets },
	{ "Ctrl-A three times switches the input", test_ctrl_a_three_times_switches_input },
	{ "typed input raises the VIRQ", test_typed_input_raises_the_virq },
	{ "no domain takes input", test_no_domain_takes_input },
	{ "the input given to a domain at boot", test_input_given_at_boot },
	{ "Keel's keys: help, list, memory", test_keel_keys },
	{ "the list skips dying domains", test_list_skips_dying_domains },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo console_suite = {
	.pName = "console",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = console_tests,
};
