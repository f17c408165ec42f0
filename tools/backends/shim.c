/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/shim.c - keel_pv/shim.h for a user-space process: the
 * "OS" pvdrivers' backends run in inside the backend daemon. Memory is the
 * process's (its GPA is its address: hcall.c reads it back as a pointer),
 * locks, work items and timers belong to the daemon's single thread
 * (loop.c runs them), and hypercalls are emulated or forwarded to the
 * privileged driver by hcall.c.
 *
 * One thread means a lock can never be contended: taking one that is held
 * is a recursion bug in the caller, which the shim reports and aborts on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel_pv/kpv.h>
#include "hcall.h"
#include "loop.h"

/* --- Memory ----------------------------------------------------------------------- */

/*
 * A block aligned to its own size rounded up to a power of two (>= 64)
 * never crosses a page, as the shim's contract asks.
 */
void *kpv_shim_alloc(size_t size)
{
	size_t align = 64;
	void *p = NULL;

	if (size == 0 || size > KPV_PAGE_SIZE) {
		return NULL;
	}
	while (align < size) {
		align *= 2;
	}
	if (posix_memalign(&p, align, align) != 0) {
		return NULL;
	}
	memset(p, 0, align);
	return p;
}

void kpv_shim_free(void *p)
{
	free(p);
}

void *kpv_shim_page_alloc(void)
{
	return kpv_shim_alloc(KPV_PAGE_SIZE);
}

void kpv_shim_page_free(void *page)
{
	free(page);
}

uint64_t kpv_shim_virt_to_gpa(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}

void *kpv_shim_map_gpa(uint64_t gpa, uint32_t pages)
{
	return pages == 1 ? kb_hcall_window_view(gpa >> KPV_PAGE_SHIFT) : NULL;
}

void kpv_shim_unmap_gpa(void *va, uint32_t pages)
{
	(void)pages;
	kb_hcall_window_unview(va);
}

/* --- CPU and upcall ----------------------------------------------------------------- */

uint32_t kpv_shim_cpu(void)
{
	return 0;	/* one thread: the emulated domain has one vCPU */
}

int kpv_shim_upcall_connect(struct kpv *k, uint32_t *vector)
{
	kb_hcall_upcall_connect(k);
	*vector = 0xf0;	/* any valid vector: the emulated SET_UPCALL only records it */
	return KEEL_UPCALL_VECTOR;
}

void kpv_shim_upcall_disconnect(struct kpv *k)
{
	(void)k;
	kb_hcall_upcall_connect(NULL);
}

long kpv_shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4)
{
	return kb_hcall(nr, a0, a1, a2, a3, a4);
}

/* --- Locks ------------------------------------------------------------------------------ */

struct kpv_lock {
	bool held;
};

struct kpv_lock *kpv_shim_lock_create(void)
{
	return calloc(1, sizeof(struct kpv_lock));
}

void kpv_shim_lock_destroy(struct kpv_lock *lock)
{
	free(lock);
}

unsigned long kpv_shim_lock(struct kpv_lock *lock)
{
	if (lock->held) {
		kb_err("shim: pvdrivers took a lock it holds");
		abort();
	}
	lock->held = true;
	return 0;
}

void kpv_shim_unlock(struct kpv_lock *lock, unsigned long flags)
{
	(void)flags;
	lock->held = false;
}

/* --- Work items ------------------------------------------------------------------------- */

struct kpv_work {
	void (*fn)(void *ctx);
	void *ctx;
	bool queued;
	struct kpv_work *next;
};

static struct kpv_work *work_head, *work_tail;

struct kpv_work *kpv_shim_work_create(void (*fn)(void *ctx), void *ctx)
{
	struct kpv_work *w = calloc(1, sizeof(*w));

	if (w) {
		w->fn = fn;
		w->ctx = ctx;
	}
	return w;
}

void kpv_shim_work_schedule(struct kpv_work *work)
{
	if (work->queued) {
		return;
	}
	work->queued = true;
	work->next = NULL;
	if (work_tail) {
		work_tail->next = work;
	} else {
		work_head = work;
	}
	work_tail = work;
}

static void work_unlink(struct kpv_work *work)
{
	struct kpv_work **link = &work_head, *prev = NULL;

	while (*link && *link != work) {
		prev = *link;
		link = &(*link)->next;
	}
	if (*link) {
		*link = work->next;
		if (work_tail == work) {
			work_tail = prev;
		}
	}
	work->queued = false;
}

void kpv_shim_work_destroy(struct kpv_work *work)
{
	if (work->queued) {
		work_unlink(work);
	}
	free(work);
}

/* Run the work queued now (not what these runs queue again): true if any ran. */
bool kb_shim_run_work(void)
{
	struct kpv_work *last = work_tail;
	bool ran = false;

	while (work_head) {
		struct kpv_work *w = work_head;
		bool was_last = w == last;

		work_unlink(w);
		w->fn(w->ctx);	/* may destroy other items, never itself */
		ran = true;
		if (was_last) {
			break;
		}
	}
	return ran;
}

bool kb_shim_work_pending(void)
{
	return work_head != NULL;
}

/* --- Timers ----------------------------------------------------------------------------- */

struct kpv_timer {
	void (*fn)(void *ctx);
	void *ctx;
	bool armed;
	uint64_t due;
	struct kpv_timer *next;	/* every timer, armed or not */
};

static struct kpv_timer *timers;

struct kpv_timer *kpv_shim_timer_create(void (*fn)(void *ctx), void *ctx)
{
	struct kpv_timer *t = calloc(1, sizeof(*t));

	if (t) {
		t->fn = fn;
		t->ctx = ctx;
		t->next = timers;
		timers = t;
	}
	return t;
}

void kpv_shim_timer_arm(struct kpv_timer *timer, uint64_t delay_ns)
{
	timer->armed = true;
	timer->due = kb_now_ns() + delay_ns;
}

void kpv_shim_timer_cancel(struct kpv_timer *timer)
{
	timer->armed = false;
}

void kpv_shim_timer_destroy(struct kpv_timer *timer)
{
	struct kpv_timer **link = &timers;

	while (*link && *link != timer) {
		link = &(*link)->next;
	}
	if (*link) {
		*link = timer->next;
	}
	free(timer);
}

uint64_t kpv_shim_now_ns(void)
{
	return kb_now_ns();
}

/*
 * Fire the timers due now, one at a time (a callback may destroy or arm
 * any timer, so the list is searched again after each). Returns the
 * nanoseconds until the next one, or UINT64_MAX.
 */
uint64_t kb_shim_run_timers(void)
{
	for (;;) {
		uint64_t now = kb_now_ns(), next = UINT64_MAX;
		struct kpv_timer *due = NULL;

		for (struct kpv_timer *t = timers; t; t = t->next) {
			if (t->armed && t->due <= now) {
				due = t;
				break;
			}
			if (t->armed && t->due - now < next) {
				next = t->due - now;
			}
		}
		if (!due) {
			return next;
		}
		due->armed = false;
		due->fn(due->ctx);
	}
}

/* --- Logging ----------------------------------------------------------------------------- */

void kpv_shim_log(enum kpv_log_level level, const char *line)
{
	kb_log((int)level, "%s", line);
}
