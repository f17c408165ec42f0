/* SPDX-License-Identifier: MIT */
/*
 * selftest.c - the shim checked on its own, before any device is used:
 * memory (blocks, runs, pages, the map window), locks, work and timers
 * through the main loop, which must sleep rather than spin. A porter's
 * first milestone is this group passing on the new OS.
 */
#include "ref.h"

#define TIMERS		4

static const size_t sizes[] = { 1, 64, 65, 200, 4032, 4096, 640, 0 };

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

static void check_blocks(void)
{
	void *p[KT_ARRAY_SIZE(sizes)];
	size_t i;

	for (i = 0; i < KT_ARRAY_SIZE(sizes); i++) {
		uint64_t a;

		p[i] = kpv_shim_alloc(sizes[i]);
		a = KT_GPA(p[i]);
		kt_check(p[i] != NULL && a % 64 == 0, "alloc aligned", "%zu bytes at %p", sizes[i],
			 p[i]);
		kt_check(sizes[i] == 0 || a / KPV_PAGE_SIZE == (a + sizes[i] - 1) / KPV_PAGE_SIZE,
			 "alloc in one page",
			 "%zu bytes at %p", sizes[i], p[i]);
		kt_check(kpv_shim_virt_to_gpa(p[i]) == a, "gpa", "%p", p[i]);
		kt_check(all_zero(p[i], sizes[i]), "alloc zeroed", "%zu bytes at %p", sizes[i], p[i]);
		memset(p[i], (int)i + 1, sizes[i]);
	}
	/* Each block still holds its own pattern: none overlaps another. */
	for (i = 0; i < KT_ARRAY_SIZE(sizes); i++) {
		const uint8_t *b = p[i];
		size_t j = 0;

		while (j < sizes[i] && b[j] == (uint8_t)(i + 1)) {
			j++;
		}
		kt_check(j == sizes[i], "blocks disjoint", "block %zu overwritten at +%zu", i, j);
	}
	for (i = 0; i < KT_ARRAY_SIZE(sizes); i++) {
		kpv_shim_free(p[i]);
	}
	kpv_shim_free(NULL);
	kt_check(kpv_shim_alloc(KPV_PAGE_SIZE + 1) == NULL, "alloc over a page", "not refused");
}

static void check_map(const char *what, uint64_t gpa, uint32_t nr, const void *want)
{
	void *got = kpv_shim_map_gpa(gpa, nr);

	kt_check(got == want, what, "%u pages at 0x%lx mapped at %p", nr, gpa, got);
}

static void check_pages(void)
{
	void *pg[8];
	uint64_t base = kt_boot.si.map_window_gpa;
	uint64_t end = base + kt_boot.si.map_window_size;

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(pg); i++) {
		pg[i] = kpv_shim_page_alloc();
		kt_check(pg[i] != NULL && KT_GPA(pg[i]) % KPV_PAGE_SIZE == 0, "page aligned", "%p",
			 pg[i]);
		kt_check(pg[i] != NULL && all_zero(pg[i], KPV_PAGE_SIZE), "page zeroed", "%p", pg[i]);
		kt_check(pg[i] != NULL && kt_is_ram(KT_GPA(pg[i]), KPV_PAGE_SIZE), "page is RAM",
			 "%p", pg[i]);
		if (pg[i] != NULL) {
			memset(pg[i], 0xa5, KPV_PAGE_SIZE);
		}
	}
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(pg); i++) {
		kpv_shim_page_free(pg[i]);
	}
	kpv_shim_page_free(NULL);	/* shim.h: ignored, like kpv_shim_free(NULL) */
	check_map("map window start", base, 2, KT_PTR(base));
	check_map("map window end", end - KPV_PAGE_SIZE, 1, KT_PTR(end - KPV_PAGE_SIZE));
	check_map("past the window", end - KPV_PAGE_SIZE, 2, NULL);
	check_map("RAM is not the window", 0x100000, 1, NULL);
}

static void check_lock(void)
{
	struct kpv_lock *l = kpv_shim_lock_create();
	unsigned long flags, inner;

	if (!kt_check(l != NULL, "lock create", "out of memory")) {
		return;
	}
	flags = kpv_shim_lock(l);
	inner = ref_irq_save();
	kt_check((flags & KT_RFLAGS_IF) != 0 && (inner & KT_RFLAGS_IF) == 0,
		 "lock disables interrupts", "flags 0x%lx, inside 0x%lx", flags, inner);
	kpv_shim_unlock(l, flags);
	flags = ref_irq_save();
	ref_irq_restore(flags);
	kt_check((flags & KT_RFLAGS_IF) != 0, "unlock restores them", "flags 0x%lx", flags);
	kpv_shim_lock_destroy(l);
}

struct sched_test;

struct tick {
	struct sched_test *s;
	struct kpv_timer *timer;
	uint64_t due;		/* no earlier than its deadline */
	uint64_t fired;
};

struct sched_test {
	struct kpv_work *work;
	unsigned int work_runs;
	struct tick ticks[TIMERS];
	unsigned int order[TIMERS];
	unsigned int nr_fired;
};

static void work_fn(void *ctx)
{
	struct sched_test *s = ctx;

	/* Scheduled again from its own run: it runs once more. */
	if (++s->work_runs == 1) {
		kpv_shim_work_schedule(s->work);
	}
}

static void timer_fn(void *ctx)
{
	struct tick *t = ctx;

	t->fired = kpv_shim_now_ns();
	t->s->order[t->s->nr_fired++] = (unsigned int)(t - t->s->ticks);
}

static bool timers_done(void *ctx)
{
	const struct sched_test *s = ctx;

	return s->nr_fired == TIMERS - 1;
}

static bool never(void *ctx)
{
	return false;
}

static uint64_t blocked_ns(void)
{
	static struct keel_vcpu_status st __attribute__((aligned(64)));

	st.vcpu = 0;
	return keel_hypercall1(KEEL_HC_VCPU_INFO, KT_GPA(&st)) == 0 ?
		       st.runstate.time_ns[KEEL_RUNSTATE_BLOCKED] : 0;
}

static void arm(struct tick *t, uint64_t delay_ns)
{
	t->due = kpv_shim_now_ns() + delay_ns;
	kpv_shim_timer_arm(t->timer, delay_ns);
}

/*
 * Work scheduled three times runs once (then once more, rescheduling
 * itself); timers armed at 30, 10, 40 and 20 ms, the 40 ms one cancelled
 * and the 30 ms one moved to 25 ms, fire in deadline order, never early,
 * while the loop sleeps.
 */
static void check_sched(void)
{
	static struct sched_test s;
	static const unsigned int delay_ms[TIMERS] = { 30, 10, 40, 20 };
	uint64_t waited, blocked, idles;
	bool ok;

	memset(&s, 0, sizeof(s));
	s.work = kpv_shim_work_create(work_fn, &s);
	for (unsigned int i = 0; i < TIMERS; i++) {
		s.ticks[i].s = &s;
		s.ticks[i].timer = kpv_shim_timer_create(timer_fn, &s.ticks[i]);
		if (!kt_check(s.ticks[i].timer != NULL, "timer create", "out of memory")) {
			return;
		}
	}
	if (!kt_check(s.work != NULL, "work create", "out of memory")) {
		return;
	}
	for (unsigned int i = 0; i < 3; i++) {
		kpv_shim_work_schedule(s.work);
	}
	waited = kpv_shim_now_ns();
	blocked = blocked_ns();
	idles = ref_idle_count();
	for (unsigned int i = 0; i < TIMERS; i++) {
		arm(&s.ticks[i], delay_ms[i] * KT_NS_PER_MS);
	}
	kpv_shim_timer_cancel(s.ticks[2].timer);
	arm(&s.ticks[0], 25 * KT_NS_PER_MS);
	ok = ref_wait(timers_done, &s, 5 * KT_NS_PER_S);
	ref_wait(never, NULL, 30 * KT_NS_PER_MS);	/* past the cancelled one's deadline */
	waited = kpv_shim_now_ns() - waited;
	blocked = blocked_ns() - blocked;
	idles = ref_idle_count() - idles;
	kt_check(ok, "timers fired", "%u of %u in 5 s", s.nr_fired, TIMERS - 1);
	kt_check_eq("work runs", s.work_runs, 2);
	kt_check(s.order[0] == 1 && s.order[1] == 3 && s.order[2] == 0, "timer order",
		 "%u %u %u", s.order[0], s.order[1], s.order[2]);
	kt_check(s.ticks[2].fired == 0 && s.nr_fired == TIMERS - 1, "cancelled timer", "fired");
	for (unsigned int i = 0; i < TIMERS; i++) {
		const struct tick *t = &s.ticks[i];

		kt_check(t->fired == 0 || t->fired >= t->due, "timer not early",
			 "timer %u fired %lu ns early", i, t->due - t->fired);
		kpv_shim_timer_destroy(t->timer);
	}
	kpv_shim_work_destroy(s.work);
	/*
	 * The loop slept until each deadline instead of spinning: it went idle
	 * about once per timer (a spinning loop goes idle thousands of times in
	 * these 55 ms), and Keel saw the vCPU blocked. Counted, not timed: a
	 * loaded host stretches the wall time spent running, not the count.
	 */
	kt_check(idles <= 64 && blocked > 0, "loop blocks", "idle %lu times, blocked %lu of %lu us",
		 idles, blocked / 1000, waited / 1000);
	kt_note("timers: waited %lu us, blocked %lu us, idle %lu times", waited / 1000,
		blocked / 1000, idles);
}

void ref_selftest(const char *name)
{
	uint32_t tasks = ref_sched_objects();	/* pvdrivers' own */
	struct ref_mem_usage before, after;

	kt_group_begin(name);
	ref_mem_usage(&before);
	check_blocks();
	check_pages();
	check_lock();
	check_sched();
	ref_mem_usage(&after);
	kt_check(after.pages == before.pages && after.blocks == before.blocks, "nothing leaked",
		 "pages %u -> %u, blocks %u -> %u", before.pages, after.pages, before.blocks,
		 after.blocks);
	kt_check_eq("work and timers left", ref_sched_objects(), tasks);
	kt_group_end();
}
