/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_shim.c - the shim itself held to what
 * keel_pv/shim.h promises, whichever shim the suite is linked with (the
 * hosted one here, a port's own when it runs the suite): blocks and pages
 * zeroed, aligned, within a page, at their GPA, NULL frees ignored; locks;
 * work once per pending schedule, in thread context; timers that move,
 * cancel and fire once; a clock that never goes back.
 */
#include <keel_pv/shim.h>
#include "common.h"
#include "suites.h"

static struct hdom *D;

static void setup(void)
{
	harness_begin();
	D = harness_domain("shim", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(D);
	harness_use(D);
}

static void teardown(void)
{
	CU_ASSERT_EQUAL(harness_violations(), 0);
	harness_end();
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i]) {
			return false;
		}
	}
	return true;
}

static void test_blocks(void)
{
	static const size_t sizes[] = { 1, 8, 64, 65, 200, 640, 4032, 4096 };
	uint8_t *p[sizeof(sizes) / sizeof(sizes[0])];
	struct harness_usage u;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t gpa;

		p[i] = kpv_shim_alloc(sizes[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
		gpa = kpv_shim_virt_to_gpa(p[i]);
		CU_ASSERT_EQUAL(gpa % 64, 0);
		CU_ASSERT_EQUAL(gpa / KPV_PAGE_SIZE, (gpa + sizes[i] - 1) / KPV_PAGE_SIZE);
		CU_ASSERT_EQUAL(kpv_shim_virt_to_gpa(p[i] + sizes[i] - 1), gpa + sizes[i] - 1);
		CU_ASSERT_TRUE(all_zero(p[i], sizes[i]));
		memset(p[i], (int)i + 1, sizes[i]);
	}
	/* Each keeps its own bytes: no block overlaps another. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CU_ASSERT(p[i][0] == i + 1 && p[i][sizes[i] - 1] == i + 1);
		kpv_shim_free(p[i]);
	}
	kpv_shim_free(NULL);
	harness_usage(D, &u);
	CU_ASSERT_EQUAL(u.allocs, 0);
}

static void test_pages(void)
{
	uint8_t *pg[8];
	struct harness_usage u;

	for (unsigned int i = 0; i < 8; i++) {
		pg[i] = kpv_shim_page_alloc();
		CU_ASSERT_PTR_NOT_NULL_FATAL(pg[i]);
		CU_ASSERT_EQUAL(kpv_shim_virt_to_gpa(pg[i]) % KPV_PAGE_SIZE, 0);
		CU_ASSERT_TRUE(all_zero(pg[i], KPV_PAGE_SIZE));
		memset(pg[i], 0xa5, KPV_PAGE_SIZE);
	}
	for (unsigned int i = 0; i < 8; i++) {
		for (unsigned int j = i + 1; j < 8; j++) {
			CU_ASSERT_NOT_EQUAL(kpv_shim_virt_to_gpa(pg[i]), kpv_shim_virt_to_gpa(pg[j]));
		}
		kpv_shim_page_free(pg[i]);
	}
	/* shim.h: NULL is ignored, as by kpv_shim_free(); pvdrivers' error paths rely on it. */
	kpv_shim_page_free(NULL);
	harness_usage(D, &u);
	CU_ASSERT_EQUAL(u.pages, 0);
	/* A page freed and taken again comes back zeroed. */
	pg[0] = kpv_shim_page_alloc();
	CU_ASSERT_PTR_NOT_NULL_FATAL(pg[0]);
	CU_ASSERT_TRUE(all_zero(pg[0], KPV_PAGE_SIZE));
	kpv_shim_page_free(pg[0]);
}

struct counted {
	unsigned int runs;
	struct kpv_lock *lock;
};

/* A work item: thread context, so it may take a page and a lock (the shim checks). */
static void work_fn(void *ctx)
{
	struct counted *c = ctx;
	unsigned long flags;

	kpv_shim_page_free(kpv_shim_page_alloc());
	flags = kpv_shim_lock(c->lock);
	c->runs++;
	kpv_shim_unlock(c->lock, flags);
}

static void timer_fn(void *ctx)
{
	((struct counted *)ctx)->runs++;
}

static bool ran(void *ctx)
{
	return ((struct counted *)ctx)->runs > 0;
}

static void test_locks_and_work(void)
{
	struct counted c = { 0 };
	struct kpv_work *w;
	unsigned long flags;

	c.lock = kpv_shim_lock_create();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.lock);
	flags = kpv_shim_lock(c.lock);
	kpv_shim_unlock(c.lock, flags);
	w = kpv_shim_work_create(work_fn, &c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	/* Scheduled three times while pending: it runs once. */
	kpv_shim_work_schedule(w);
	kpv_shim_work_schedule(w);
	kpv_shim_work_schedule(w);
	CU_ASSERT_TRUE(harness_run(ran, &c, T_SECOND));
	harness_settle();
	CU_ASSERT_EQUAL(c.runs, 1);
	kpv_shim_work_schedule(w);
	harness_settle();
	CU_ASSERT_EQUAL(c.runs, 2);
	/* Destroyed while pending: it never runs. */
	harness_use(D);
	kpv_shim_work_schedule(w);
	kpv_shim_work_destroy(w);
	harness_settle();
	CU_ASSERT_EQUAL(c.runs, 2);
	kpv_shim_lock_destroy(c.lock);
}

static void test_timers_and_clock(void)
{
	struct counted c = { 0 };
	struct kpv_timer *t = kpv_shim_timer_create(timer_fn, &c);
	uint64_t t0 = kpv_shim_now_ns();

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* Armed for 10 ms, then moved to 50 ms: nothing at 30 ms, one call by 50. */
	kpv_shim_timer_arm(t, 10 * T_MS);
	kpv_shim_timer_arm(t, 50 * T_MS);
	CU_ASSERT_FALSE(harness_run(ran, &c, 30 * T_MS));
	CU_ASSERT_TRUE(harness_run(ran, &c, 30 * T_MS));
	harness_use(D);
	CU_ASSERT(kpv_shim_now_ns() - t0 >= 50 * T_MS);
	CU_ASSERT_TRUE(harness_run(NULL, NULL, T_SECOND));
	CU_ASSERT_EQUAL(c.runs, 1);
	/* Cancelled: it does not fire. */
	harness_use(D);
	kpv_shim_timer_arm(t, 5 * T_MS);
	kpv_shim_timer_cancel(t);
	kpv_shim_timer_cancel(t);	/* nothing pending: nothing happens */
	harness_run(NULL, NULL, T_SECOND);
	CU_ASSERT_EQUAL(c.runs, 1);
	/* 0: as soon as possible. */
	harness_use(D);
	kpv_shim_timer_arm(t, 0);
	CU_ASSERT_TRUE(harness_run(NULL, NULL, T_MS));
	CU_ASSERT_EQUAL(c.runs, 2);
	harness_use(D);
	CU_ASSERT(kpv_shim_now_ns() >= t0);
	kpv_shim_timer_destroy(t);
}

static CU_TestInfo tests[] = {
	{ "blocks: zeroed, aligned, in one page, free(NULL) ignored", test_blocks },
	{ "pages: zeroed, aligned, distinct, page_free(NULL) ignored", test_pages },
	{ "locks, and work once per pending schedule in thread context", test_locks_and_work },
	{ "timers move, cancel and fire once; the clock goes on", test_timers_and_clock },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo shim_suite = { "shim", NULL, NULL, setup, teardown, tests };
