// SPDX-License-Identifier: MIT
/*
 * shim_sync.c - the shim's concurrency and time on Linux: interrupt-safe
 * spin locks, deferred work on a workqueue of our own, hrtimers, the
 * monotonic clock, and log lines through printk.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "keel_linux.h"

/*
 * The device state machines, block completions and net rings run here.
 * WQ_MEM_RECLAIM: writeback to a Keel disk may be what frees memory, so
 * this queue must make progress without allocating a worker.
 */
static struct workqueue_struct *keel_wq;

int keel_shim_init(void)
{
	keel_wq = alloc_workqueue("keel", WQ_MEM_RECLAIM, 0);
	return keel_wq ? 0 : -ENOMEM;
}

void keel_shim_exit(void)
{
	destroy_workqueue(keel_wq);
}

/* --- Locks: interrupts off on this CPU while held, as shim.h asks. --------- */

struct kpv_lock {
	spinlock_t lock;
};

struct kpv_lock *kpv_shim_lock_create(void)
{
	struct kpv_lock *l = kmalloc(sizeof(*l), GFP_KERNEL);

	if (l)
		spin_lock_init(&l->lock);
	return l;
}

void kpv_shim_lock_destroy(struct kpv_lock *lock)
{
	kfree(lock);
}

unsigned long kpv_shim_lock(struct kpv_lock *lock)
{
	unsigned long flags;

	spin_lock_irqsave(&lock->lock, flags);
	return flags;
}

void kpv_shim_unlock(struct kpv_lock *lock, unsigned long flags)
{
	spin_unlock_irqrestore(&lock->lock, flags);
}

/*
 * --- Work: the kernel's workqueues never run one work item on two CPUs at
 * once and queue_work() of a pending item does nothing: exactly shim.h's rules.
 */

struct kpv_work {
	struct work_struct work;
	void (*fn)(void *ctx);
	void *ctx;
};

static void work_run(struct work_struct *w)
{
	struct kpv_work *work = container_of(w, struct kpv_work, work);

	work->fn(work->ctx);
}

struct kpv_work *kpv_shim_work_create(void (*fn)(void *ctx), void *ctx)
{
	struct kpv_work *work = kzalloc(sizeof(*work), GFP_KERNEL);

	if (!work)
		return NULL;
	INIT_WORK(&work->work, work_run);
	work->fn = fn;
	work->ctx = ctx;
	return work;
}

void kpv_shim_work_schedule(struct kpv_work *work)
{
	queue_work(keel_wq, &work->work);
}

void kpv_shim_work_destroy(struct kpv_work *work)
{
	if (!work)
		return;
	cancel_work_sync(&work->work);
	kfree(work);
}

/* --- Timers: one-shot hrtimers; the function runs in hard interrupt context. */

struct kpv_timer {
	struct hrtimer timer;
	void (*fn)(void *ctx);
	void *ctx;
};

static enum hrtimer_restart timer_run(struct hrtimer *t)
{
	struct kpv_timer *timer = container_of(t, struct kpv_timer, timer);

	timer->fn(timer->ctx);
	return HRTIMER_NORESTART;
}

struct kpv_timer *kpv_shim_timer_create(void (*fn)(void *ctx), void *ctx)
{
	struct kpv_timer *timer = kzalloc(sizeof(*timer), GFP_KERNEL);

	if (!timer)
		return NULL;
	hrtimer_init(&timer->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	timer->timer.function = timer_run;
	timer->fn = fn;
	timer->ctx = ctx;
	return timer;
}

void kpv_shim_timer_arm(struct kpv_timer *timer, uint64_t delay_ns)
{
	/* hrtimer_start() of a queued timer moves it, as shim.h wants. */
	hrtimer_start(&timer->timer, ns_to_ktime(min_t(u64, delay_ns, KTIME_MAX)),
		      HRTIMER_MODE_REL);
}

/* [any]: must not wait, so a call already running is left to finish. */
void kpv_shim_timer_cancel(struct kpv_timer *timer)
{
	hrtimer_try_to_cancel(&timer->timer);
}

void kpv_shim_timer_destroy(struct kpv_timer *timer)
{
	if (!timer)
		return;
	hrtimer_cancel(&timer->timer);
	kfree(timer);
}

uint64_t kpv_shim_now_ns(void)
{
	return ktime_get_ns();
}

/* --- Log: pvdrivers' lines start with "kpv: "; pr_fmt adds "keel: ". ------- */

/*
 * pvdrivers may log with one of its locks held, and printk calls the
 * consoles synchronously: if one is our hvc console, its write would take
 * the same lock again. So the hvc console skips lines printed from here.
 */
static DEFINE_PER_CPU(unsigned int, keel_logging);

bool keel_in_kpv_log(void)
{
	return this_cpu_read(keel_logging) != 0;
}

void kpv_shim_log(enum kpv_log_level level, const char *line)
{
	preempt_disable();
	this_cpu_inc(keel_logging);
	switch (level) {
	case KPV_LOG_ERROR:
		pr_err("%s\n", line);
		break;
	case KPV_LOG_WARN:
		pr_warn("%s\n", line);
		break;
	case KPV_LOG_INFO:
		pr_info("%s\n", line);
		break;
	default:
		pr_debug("%s\n", line);
		break;
	}
	this_cpu_dec(keel_logging);
	preempt_enable();
}

int keel_errno(int keel_err)
{
	switch (-keel_err) {
	case 0:
		return 0;
	case KEEL_ENOMEM:
		return -ENOMEM;
	case KEEL_EINVAL:
		return -EINVAL;
	case KEEL_EBUSY:
		return -EBUSY;
	case KEEL_ENOSPC:
		return -ENOSPC;
	case KEEL_EOPNOTSUPP:
		return -EOPNOTSUPP;
	case KEEL_EVERSION:
	case KEEL_ENOENT:
		return -ENODEV;
	case KEEL_EAGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}
