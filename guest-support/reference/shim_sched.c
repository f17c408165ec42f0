/* SPDX-License-Identifier: MIT */
/*
 * shim_sched.c - time, deferred work, timers and the main loop that runs
 * them. The reference guest has one thread, the main loop (ref_wait()):
 * it runs queued work, then due timers, and when nothing is left arms
 * Keel's single-shot timer (KEEL_HC_SCHED_SET_TIMER) for the next deadline
 * and blocks (KEEL_HC_SCHED_BLOCK) until an event or the timer wakes it.
 *
 * A work item and a timer are the same thing here, a task on a list sorted
 * by deadline: work is always due (deadline 0, kept in FIFO order), a timer
 * at now + delay. Both lists and every task's flags are under sched_lock;
 * a task's fn runs without it.
 */
#include "ref.h"

struct ref_task {
	void (*fn)(void *ctx);
	void *ctx;
	struct ref_task *next;	/* on its list, while queued */
	uint64_t deadline;	/* domain system time; 0 for work */
	bool queued;
	bool running;		/* fn is being called */
	bool destroyed;		/* destroyed from inside fn: freed when fn returns */
};

struct kpv_work {
	struct ref_task task;
};

struct kpv_timer {
	struct ref_task task;
};

static struct kpv_lock sched_lock;
static struct ref_task *work_list;	/* due now, in schedule order */
static struct ref_task *timer_list;	/* by deadline */
static uint32_t tasks;			/* created and not yet freed */
static const volatile struct keel_vcpu_time_info *clock;

/*
 * The time info Keel keeps in the keel_vcpu_info kpv_start() registered for
 * vCPU 0: pvdrivers owns the registration, so Keel says where it is
 * (KEEL_HC_VCPU_INFO). It stays valid after kpv_stop(), which keeps it, and
 * is looked up again after the next kpv_start() moved it (ref_clock_reset).
 */
static const volatile struct keel_vcpu_time_info *clock_find(void)
{
	static struct keel_vcpu_status st __attribute__((aligned(64)));
	const volatile struct keel_vcpu_info *vi;
	unsigned long irq = ref_irq_save();	/* st is shared: no upcall in between */
	long rc;

	st.vcpu = 0;
	rc = keel_hypercall1(KEEL_HC_VCPU_INFO, KT_GPA(&st));
	if (rc != 0 || st.info_gpa == 0) {
		kt_crash("the clock needs a registered keel_vcpu_info (KEEL_HC_VCPU_INFO: %ld)",
			 rc);
	}
	vi = KT_PTR(st.info_gpa);
	ref_irq_restore(irq);
	return &vi->time;
}

/* Domain system time: the clock Keel's timer deadlines are in. */
uint64_t kpv_shim_now_ns(void)
{
	const volatile struct keel_vcpu_time_info *c = __atomic_load_n(&clock, __ATOMIC_ACQUIRE);

	if (c == NULL) {
		c = clock_find();
		__atomic_store_n(&clock, c, __ATOMIC_RELEASE);
	}
	return kt_time_ns(c);
}

void ref_clock_reset(void)
{
	__atomic_store_n(&clock, NULL, __ATOMIC_RELEASE);
}

static struct ref_task *task_create(void (*fn)(void *ctx), void *ctx)
{
	struct ref_task *t = kpv_shim_alloc(sizeof(*t));
	unsigned long flags;

	if (t == NULL) {
		return NULL;
	}
	t->fn = fn;
	t->ctx = ctx;
	flags = kpv_shim_lock(&sched_lock);
	tasks++;
	kpv_shim_unlock(&sched_lock, flags);
	return t;
}

/* Under sched_lock. */
static void task_unlink(struct ref_task **list, struct ref_task *t)
{
	struct ref_task **p = list;

	if (!t->queued) {
		return;
	}
	while (*p != t) {
		p = &(*p)->next;
	}
	*p = t->next;
	t->next = NULL;
	t->queued = false;
}

/* Under sched_lock: after every task due no later than @t. */
static void task_insert(struct ref_task **list, struct ref_task *t)
{
	struct ref_task **p = list;

	while (*p != NULL && (*p)->deadline <= t->deadline) {
		p = &(*p)->next;
	}
	t->next = *p;
	*p = t;
	t->queued = true;
}

static void task_destroy(struct ref_task **list, struct ref_task *t)
{
	unsigned long flags;
	bool running;

	if (t == NULL) {
		return;
	}
	flags = kpv_shim_lock(&sched_lock);
	task_unlink(list, t);
	running = t->running;
	t->destroyed = running;
	if (!running) {
		tasks--;
	}
	kpv_shim_unlock(&sched_lock, flags);
	/*
	 * With one thread, fn can only be running if it is our caller (a timer
	 * destroyed from its own fn): waiting for it to return means leaving
	 * the free to the loop.
	 */
	if (!running) {
		kpv_shim_free(t);
	}
}

/* Run the first task of @list if it is due; false if there was none. */
static bool task_run_one(struct ref_task **list, uint64_t now)
{
	unsigned long flags = kpv_shim_lock(&sched_lock);
	struct ref_task *t = *list;
	bool destroyed;

	if (t == NULL || t->deadline > now) {
		kpv_shim_unlock(&sched_lock, flags);
		return false;
	}
	task_unlink(list, t);
	t->running = true;
	kpv_shim_unlock(&sched_lock, flags);
	t->fn(t->ctx);
	flags = kpv_shim_lock(&sched_lock);
	t->running = false;
	destroyed = t->destroyed;
	if (destroyed) {
		tasks--;
	}
	kpv_shim_unlock(&sched_lock, flags);
	if (destroyed) {
		kpv_shim_free(t);
	}
	return true;
}

struct kpv_work *kpv_shim_work_create(void (*fn)(void *ctx), void *ctx)
{
	return (struct kpv_work *)task_create(fn, ctx);
}

void kpv_shim_work_schedule(struct kpv_work *work)
{
	unsigned long flags = kpv_shim_lock(&sched_lock);

	if (!work->task.queued) {
		task_insert(&work_list, &work->task);
	}
	kpv_shim_unlock(&sched_lock, flags);
}

void kpv_shim_work_destroy(struct kpv_work *work)
{
	task_destroy(&work_list, work != NULL ? &work->task : NULL);
}

struct kpv_timer *kpv_shim_timer_create(void (*fn)(void *ctx), void *ctx)
{
	return (struct kpv_timer *)task_create(fn, ctx);
}

void kpv_shim_timer_arm(struct kpv_timer *timer, uint64_t delay_ns)
{
	uint64_t deadline = kpv_shim_now_ns() + delay_ns;
	unsigned long flags = kpv_shim_lock(&sched_lock);

	task_unlink(&timer_list, &timer->task);
	timer->task.deadline = deadline;
	task_insert(&timer_list, &timer->task);
	kpv_shim_unlock(&sched_lock, flags);
}

void kpv_shim_timer_cancel(struct kpv_timer *timer)
{
	unsigned long flags = kpv_shim_lock(&sched_lock);

	task_unlink(&timer_list, &timer->task);
	kpv_shim_unlock(&sched_lock, flags);
}

void kpv_shim_timer_destroy(struct kpv_timer *timer)
{
	task_destroy(&timer_list, timer != NULL ? &timer->task : NULL);
}

uint32_t ref_sched_objects(void)
{
	return __atomic_load_n(&tasks, __ATOMIC_RELAXED);
}

/*
 * Keel's timer is left as it is while it is set no later than the deadline
 * wanted and comfortably ahead: each SET_TIMER is an exit, and a loop
 * waiting for I/O blocks again and again with the same or a slightly later
 * deadline. One that comes early only wakes the loop, which sets the next.
 * A timer that fired (and whose wake-up a BLOCK consumed) is never kept:
 * it is not ahead any more.
 */
#define TIMER_KEEP_NS	(100 * 1000u)

/*
 * Nothing to run: sleep until an event or min(@until, the next timer).
 * Interrupts stay off from the last look at the lists to the block, so an
 * upcall in between is not lost: it sets upcall_pending, which makes
 * KEEL_HC_SCHED_BLOCK return at once, and is taken when they are back on.
 */
static uint64_t idle_count;

uint64_t ref_idle_count(void)
{
	return idle_count;
}

static void idle(uint64_t until)
{
	static uint64_t timer_set;	/* the deadline last given to Keel */
	unsigned long irq = ref_irq_save();
	unsigned long flags = kpv_shim_lock(&sched_lock);
	bool nothing = work_list == NULL;
	uint64_t now;

	if (timer_list != NULL && timer_list->deadline < until) {
		until = timer_list->deadline;
	}
	kpv_shim_unlock(&sched_lock, flags);
	now = kpv_shim_now_ns();
	if (nothing && now < until) {
		if (timer_set > until || timer_set < now + TIMER_KEEP_NS) {
			keel_hypercall1(KEEL_HC_SCHED_SET_TIMER, until);
			timer_set = until;
		}
		keel_hypercall0(KEEL_HC_SCHED_BLOCK);
	}
	idle_count++;
	ref_irq_restore(irq);
}

bool ref_wait(bool (*done)(void *ctx), void *ctx, uint64_t timeout_ns)
{
	uint64_t end = kpv_shim_now_ns() + timeout_ns;

	for (;;) {
		while (task_run_one(&work_list, 0) ||
		       task_run_one(&timer_list, kpv_shim_now_ns())) {
		}
		if (done(ctx)) {
			return true;
		}
		if (kpv_shim_now_ns() >= end) {
			return false;
		}
		idle(end);
	}
}
