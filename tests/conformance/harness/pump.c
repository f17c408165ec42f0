/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/pump.c - the deterministic scheduler of the
 * harness: the shim's work items and timers, the fake clock, and
 * harness_run(), which delivers upcalls, runs work and fires timers, one
 * callback at a time, each in its domain's context.
 *
 * An upcall is delivered while a vCPU has an upcall mode and its
 * keel_vcpu_info shows upcall_pending: the level the interrupt follows on a
 * real machine, where a 0 -> 1 during the handler raises it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <keel_pv/kpv.h>
#include "harness_priv.h"

/* Callbacks one harness_run() may make without the clock moving: more is a tight loop. */
#define STEPS_WITHOUT_TIME	1000000u

struct kpv_work {
	struct hobj obj;
	void (*fn)(void *ctx);
	void *ctx;
	bool pending;
	bool running;
	struct kpv_work *qnext;
};

struct kpv_timer {
	struct hobj obj;
	void (*fn)(void *ctx);
	void *ctx;
	bool armed;
	bool running;
	uint64_t deadline;
	struct kpv_timer *all_next;
};

static struct kpv_work *queue_head, *queue_tail;
static struct kpv_timer *timers;
static unsigned int next_domain;	/* round robin for upcalls */

/* --- Work ------------------------------------------------------------------------- */

struct kpv_work *kpv_shim_work_create(void (*fn)(void *ctx), void *ctx)
{
	struct hdom *d = shim_current(__func__, true);
	struct kpv_work *w = calloc(1, sizeof(*w));

	if (w) {
		w->fn = fn;
		w->ctx = ctx;
		hobj_link(&w->obj, OBJ_WORK, d);
		d->usage.works++;
	}
	return w;
}

void kpv_shim_work_schedule(struct kpv_work *work)
{
	shim_current(__func__, false);
	if (work->pending) {
		return;
	}
	work->pending = true;
	work->qnext = NULL;
	if (queue_tail) {
		queue_tail->qnext = work;
	} else {
		queue_head = work;
	}
	queue_tail = work;
}

static void dequeue(struct kpv_work *work)
{
	struct kpv_work *prev = NULL;

	for (struct kpv_work *w = queue_head; w; prev = w, w = w->qnext) {
		if (w != work) {
			continue;
		}
		if (prev) {
			prev->qnext = w->qnext;
		} else {
			queue_head = w->qnext;
		}
		if (queue_tail == w) {
			queue_tail = prev;
		}
		break;
	}
	work->pending = false;
}

void kpv_shim_work_destroy(struct kpv_work *work)
{
	struct hdom *d = shim_current(__func__, true);

	if (work->running) {
		/* A real OS would wait for the call it is making: a deadlock. */
		harness_violation("%s: work destroyed from its own function", d->name);
		return;
	}
	dequeue(work);
	hobj_unlink(&work->obj);
	work->obj.owner->usage.works--;
	free(work);
}

/* --- Timers -------------------------------------------------------------------------- */

struct kpv_timer *kpv_shim_timer_create(void (*fn)(void *ctx), void *ctx)
{
	struct hdom *d = shim_current(__func__, true);
	struct kpv_timer *t = calloc(1, sizeof(*t));

	if (t) {
		t->fn = fn;
		t->ctx = ctx;
		t->all_next = timers;
		timers = t;
		hobj_link(&t->obj, OBJ_TIMER, d);
		d->usage.timers++;
	}
	return t;
}

void kpv_shim_timer_arm(struct kpv_timer *timer, uint64_t delay_ns)
{
	shim_current(__func__, false);
	timer->armed = true;
	timer->deadline = H.now + delay_ns;
}

void kpv_shim_timer_cancel(struct kpv_timer *timer)
{
	shim_current(__func__, false);
	timer->armed = false;
}

static void timer_unlist(struct kpv_timer *timer)
{
	for (struct kpv_timer **pp = &timers; *pp; pp = &(*pp)->all_next) {
		if (*pp == timer) {
			*pp = timer->all_next;
			return;
		}
	}
}

void kpv_shim_timer_destroy(struct kpv_timer *timer)
{
	struct hdom *d = shim_current(__func__, true);

	if (timer->running) {
		harness_violation("%s: timer destroyed from its own function", d->name);
		return;
	}
	timer_unlist(timer);
	hobj_unlink(&timer->obj);
	timer->obj.owner->usage.timers--;
	free(timer);
}

uint64_t kpv_shim_now_ns(void)
{
	return H.now;
}

unsigned int pump_armed(const struct hdom *d)
{
	unsigned int n = 0;

	for (struct kpv_timer *t = timers; t; t = t->all_next) {
		n += t->obj.owner == d && t->armed;
	}
	return n;
}

void pump_domain_gone(struct hdom *d)
{
	for (struct kpv_work *w = queue_head, *next; w; w = next) {
		next = w->qnext;
		if (w->obj.owner == d) {
			dequeue(w);
		}
	}
	for (struct kpv_timer **pp = &timers; *pp;) {
		if ((*pp)->obj.owner == d) {
			*pp = (*pp)->all_next;
		} else {
			pp = &(*pp)->all_next;
		}
	}
}

void pump_reset(void)
{
	queue_head = queue_tail = NULL;
	timers = NULL;
	next_domain = 0;
}

/* --- Running ------------------------------------------------------------------------ */

void harness_run_as(struct hdom *d, uint32_t cpu, enum harness_ctx ctx, void (*fn)(void *),
		    void *arg)
{
	struct hdom *was = H.current;
	uint32_t was_cpu = H.cpu;
	enum harness_ctx was_ctx = H.ctx;

	H.current = d;
	H.cpu = cpu;
	H.ctx = ctx;
	H.steps++;
	fn(arg);
	if (H.locks_held) {
		harness_violation("%s: a callback returned with %u kpv lock(s) held", d->name,
				  H.locks_held);
		H.locks_held = 0;
	}
	H.current = was;
	H.cpu = was_cpu;
	H.ctx = was_ctx;
}

static void upcall(void *arg)
{
	struct hdom *d = arg;

	kpv_upcall(d->kpv);
}

static bool deliver_upcall(void)
{
	for (unsigned int n = 0; n < HARNESS_MAX_DOMAINS; n++) {
		struct hdom *d = H.doms[(next_domain + n) % HARNESS_MAX_DOMAINS];

		if (!d || d->dead || !d->upcall_connected) {
			continue;
		}
		for (uint32_t v = 0; v < d->vcpus; v++) {
			if (henv_upcall_pending(d->keel, v, d->scratch_gpa)) {
				next_domain = (next_domain + n + 1) % HARNESS_MAX_DOMAINS;
				harness_run_as(d, v, CTX_IRQ, upcall, d);
				return true;
			}
		}
	}
	return false;
}

static bool run_work(void)
{
	struct kpv_work *w = queue_head;

	if (!w) {
		return false;
	}
	dequeue(w);
	w->running = true;
	harness_run_as(w->obj.owner, 0, CTX_THREAD, w->fn, w->ctx);
	w->running = false;
	return true;
}

static struct kpv_timer *earliest(void)
{
	struct kpv_timer *first = NULL;

	for (struct kpv_timer *t = timers; t; t = t->all_next) {
		if (t->armed && (!first || t->deadline < first->deadline)) {
			first = t;
		}
	}
	return first;
}

static bool fire_timer(void)
{
	struct kpv_timer *t = earliest();

	if (!t || t->deadline > H.now) {
		return false;
	}
	t->armed = false;
	t->running = true;
	harness_run_as(t->obj.owner, 0, CTX_IRQ, t->fn, t->ctx);
	t->running = false;
	return true;
}

static void set_now(uint64_t ns)
{
	H.now = ns;
	henv_now(ns);
}

bool harness_run(bool (*done)(void *ctx), void *ctx, uint64_t max_ns)
{
	uint64_t end = H.now + max_ns, steps = 0;

	for (;;) {
		struct kpv_timer *t;

		if (done && done(ctx)) {
			return true;
		}
		if (deliver_upcall() || run_work() || fire_timer()) {
			if (++steps > STEPS_WITHOUT_TIME) {
				harness_violation("%llu callbacks without the clock moving: a tight loop",
						  (unsigned long long)steps);
				return false;
			}
			continue;
		}
		t = earliest();
		if (!t || t->deadline > end) {
			if (end > H.now) {
				set_now(end);
			}
			return done ? done(ctx) : true;
		}
		set_now(t->deadline);
		steps = 0;
	}
}

void harness_settle(void)
{
	harness_run(NULL, NULL, 0);
}

uint64_t harness_now(void)
{
	return H.now;
}

uint64_t harness_steps(void)
{
	return H.steps;
}
