/* SPDX-License-Identifier: MIT */
/* tests/unit/core/test_log.c - unit tests for core/log.c: line format, levels, the ring. */
#include <stdio.h>
#include <keel/log.h>
#include "fake_arch.h"
#include "unit.h"

static char ring_copy[LOG_RING_SIZE + 1];

static void setup(void)
{
	fake_arch_reset();
	log_set_level(LOG_INFO);
}

static void teardown(void)
{
	log_set_level(LOG_INFO);
}

/* The newest @len bytes of the ring (NUL-terminated in ring_copy). */
static const char *ring_tail(size_t len)
{
	size_t n = log_ring_read(ring_copy, LOG_RING_SIZE);

	ring_copy[n] = '\0';
	return n >= len ? ring_copy + n - len : ring_copy;
}

static void test_line_has_time_cpu_and_level(void)
{
	fake.cpu_index = 3;
	fake.time_ns = 1623456789;	/* 1.623456 s */
	log_info("hello %d", 42);
	CU_ASSERT_STRING_EQUAL(fake_console(), "[    1.623456] cpu3 info: hello 42\n");

	fake_console_clear();
	fake.cpu_index = 0;
	fake.time_ns = 123456ull * 1000000000ull + 7000;
	log_err("late");
	CU_ASSERT_STRING_EQUAL(fake_console(), "[123456.000007] cpu0 error: late\n");
}

static void test_every_level_is_named(void)
{
	log_set_level(LOG_DEBUG);
	log_err("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	CU_ASSERT_STRING_EQUAL(fake_console(),
			       "[    0.000000] cpu0 error: e\n"
			       "[    0.000000] cpu0 warn: w\n"
			       "[    0.000000] cpu0 info: i\n"
			       "[    0.000000] cpu0 debug: d\n");
}

static void test_console_threshold_filters_but_ring_keeps_all(void)
{
	const char *quiet = "[    0.000000] cpu0 info: quiet info 1\n"
			    "[    0.000000] cpu0 debug: quiet debug 2\n";

	log_set_level(LOG_WARN);
	CU_ASSERT_EQUAL(log_get_level(), LOG_WARN);
	log_info("quiet info %d", 1);
	log_debug("quiet debug %d", 2);
	CU_ASSERT_EQUAL(fake_console_len(), 0);
	CU_ASSERT_STRING_EQUAL(ring_tail(strlen(quiet)), quiet);

	log_warn("loud");
	log_err("louder");
	CU_ASSERT_TRUE(fake_console_has("cpu0 warn: loud\n"));
	CU_ASSERT_TRUE(fake_console_has("cpu0 error: louder\n"));

	log_set_level(LOG_ERROR);
	fake_console_clear();
	log_warn("now quiet");
	CU_ASSERT_EQUAL(fake_console_len(), 0);
	CU_ASSERT_STRING_EQUAL(ring_tail(10), "now quiet\n");
}

static void test_level_names_parse(void)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum log_level l = LOG_INFO;

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		CU_ASSERT_TRUE(log_level_parse(names[i], &l));
		CU_ASSERT_EQUAL(l, (enum log_level)i);
	}
	CU_ASSERT_FALSE(log_level_parse("verbose", &l));
	CU_ASSERT_FALSE(log_level_parse("", &l));
	CU_ASSERT_FALSE(log_level_parse("INFO", &l));
	CU_ASSERT_EQUAL(l, LOG_DEBUG);		/* untouched on failure */
}

static void test_raw_output_has_no_prefix(void)
{
	log_set_level(LOG_ERROR);		/* raw output ignores the level */
	log_raw("raw %d\n", 7);
	CU_ASSERT_STRING_EQUAL(fake_console(), "raw 7\n");
	CU_ASSERT_STRING_EQUAL(ring_tail(6), "raw 7\n");
}

static void test_long_lines_are_cut_and_terminated(void)
{
	char msg[1001];

	memset(msg, 'x', 1000);
	msg[1000] = '\0';
	log_info("%s", msg);
	CU_ASSERT_EQUAL(fake_console_len(), 511);
	CU_ASSERT_EQUAL(strlen(fake_console()), 511);
	CU_ASSERT_EQUAL(fake_console()[510], '\n');
	CU_ASSERT_EQUAL(fake_console()[509], 'x');
}

#define RING_LINES	3500
#define RING_LINE_LEN	(sizeof("[    0.000000] cpu0 debug: ring line 000000\n") - 1)

static void test_ring_wraps_and_reads_oldest_first(void)
{
	char first[100];
	const char *p;
	unsigned int n, expect;
	size_t got;

	for (unsigned int i = 0; i < RING_LINES; i++) {
		log_debug("ring line %06u", i);	/* not on the console */
	}
	CU_ASSERT_EQUAL(fake_console_len(), 0);

	got = log_ring_read(ring_copy, sizeof(ring_copy));
	CU_ASSERT_EQUAL_FATAL(got, LOG_RING_SIZE);
	ring_copy[got] = '\0';
	/* The newest line is last; the oldest is cut at the ring's start. */
	CU_ASSERT_STRING_EQUAL(ring_copy + got - 17, "ring line 003499\n");
	p = strchr(ring_copy, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p++;
	CU_ASSERT_EQUAL_FATAL(sscanf(p, "[    0.000000] cpu0 debug: ring line %u", &n), 1);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(RING_LINES - n,
			(LOG_RING_SIZE - (size_t)(p - ring_copy)) / RING_LINE_LEN);
	/* Every whole line that follows is the next one, in order. */
	for (expect = n; (p = strstr(p, "ring line ")) != NULL; expect++) {
		CU_ASSERT_EQUAL_FATAL(sscanf(p, "ring line %u", &n), 1);
		CU_ASSERT_EQUAL_FATAL(n, expect);
		p++;
	}
	CU_ASSERT_EQUAL(expect, RING_LINES);

	/* A short read is the oldest bytes. */
	CU_ASSERT_EQUAL(log_ring_read(first, sizeof(first)), sizeof(first));
	CU_ASSERT_EQUAL(memcmp(first, ring_copy, sizeof(first)), 0);
}

static CU_TestInfo log_tests[] = {
	{ "a line has time, cpu and level", test_line_has_time_cpu_and_level },
	{ "every level is named", test_every_level_is_named },
	{ "console threshold filters, ring keeps all",
	  test_console_threshold_filters_but_ring_keeps_all },
	{ "level names parse", test_level_names_parse },
	{ "raw output has no prefix", test_raw_output_has_no_prefix },
	{ "long lines are cut and terminated", test_long_lines_are_cut_and_terminated },
	{ "the ring wraps and reads oldest first", test_ring_wraps_and_reads_oldest_first },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo log_suite = {
	.pName = "log",
	.pSetUpFunc = setup,
	.pTearDownFunc = teardown,
	.pTests = log_tests,
};
