/* SPDX-License-Identifier: MIT */
/*
 * core/timer.c - per-CPU sorted timer lists and the slice deadline, folded
 * into one hardware one-shot per CPU.
 *
 * Lists are short (one timer per vCPU that armed one, on the CPU it ran
 * on), so a sorted singly linked list is enough. Each CPU's list has its
 * own lock, taken with interrupts off.
 */
#include <arch/arch.h>
#include <keel/compiler.h>
#include <keel/sched.h>
#include <keel/spinlock.h>
#include <keel/timer.h>

struct cpu_timers {
	struct spinlock lock;
	struct timer *head;		/* [lock] sorted by deadline */
	uint64_t slice_end;		/* [lock] 0: none */
};

static struct cpu_timers cpus[SCHED_CPUS_MAX];

static bool expired(uint64_t deadline, uint64_t now)
{
	return (int64_t)(now - deadline) >= 0;
}

static struct cpu_timers *this_cpu_timers(void)
{
	return &cpus[arch_cpu_index()];
}

/* Called with @ct->lock held: program the earliest deadline. */
static void reprogram(struct cpu_timers *ct)
{
	uint64_t next = ct->head ? ct->head->deadline : 0;

	if (ct->slice_end && (!next || (int64_t)(ct->slice_end - next) < 0)) {
		next = ct->slice_end;
	}
	arch_timer_program(next);
}

/* Called with the lock of @t's list held. */
static void unlink(struct timer *t)
{
	struct cpu_timers *ct = &cpus[t->cpu];

	for (struct timer **p = &ct->head; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->next = NULL;
	t->cpu = -1;
}

void timer_init(struct timer *t, void (*fn)(struct timer *t))
{
	t->deadline = 0;
	t->fn = fn;
	t->next = NULL;
	t->cpu = -1;
	t->running = false;
}

/*
 * Lock the list @t is on, if any. The list can change under us (a set on
 * another CPU), so check again once the lock is held.
 */
static struct cpu_timers *lock_timer_list(struct timer *t, unsigned long *flags)
{
	for (;;) {
		int cpu = READ_ONCE(t->cpu);
		struct cpu_timers *ct;

		if (cpu < 0) {
			return NULL;
		}
		ct = &cpus[cpu];
		*flags = spin_lock_irqsave(&ct->lock);
		if (t->cpu == cpu) {
			return ct;
		}
		spin_unlock_irqrestore(&ct->lock, *flags);
	}
}

void timer_cancel(struct timer *t)
{
	unsigned long flags;
	struct cpu_timers *ct = lock_timer_list(t, &flags);

	if (ct) {
		unlink(t);
		spin_unlock_irqrestore(&ct->lock, flags);
	}
	while (__atomic_load_n(&t->running, __ATOMIC_ACQUIRE)) {
		arch_cpu_relax();
	}
}

void timer_set(struct timer *t, uint64_t deadline)
{
	struct cpu_timers *ct;
	unsigned long flags;
	struct timer **p;

	timer_cancel(t);
	ct = this_cpu_timers();
	flags = spin_lock_irqsave(&ct->lock);
	t->deadline = deadline;
	t->cpu = (int)arch_cpu_index();
	/* After every earlier or equal deadline: equal ones fire in arming order. */
	for (p = &ct->head; *p && expired((*p)->deadline, deadline); p = &(*p)->next) {
	}
	t->next = *p;
	*p = t;
	reprogram(ct);
	spin_unlock_irqrestore(&ct->lock, flags);
}

void timer_set_slice_end(uint64_t deadline)
{
	struct cpu_timers *ct = this_cpu_timers();
	unsigned long flags = spin_lock_irqsave(&ct->lock);

	ct->slice_end = deadline;
	reprogram(ct);
	spin_unlock_irqrestore(&ct->lock, flags);
}

void timer_interrupt(void)
{
	struct cpu_timers *ct = this_cpu_timers();
	unsigned int cpu = arch_cpu_index();
	uint64_t now = arch_time_ns();
	bool slice_over = false;
	unsigned long flags;

	flags = spin_lock_irqsave(&ct->lock);
	while (ct->head && expired(ct->head->deadline, now)) {
		struct timer *t = ct->head;

		unlink(t);
		__atomic_store_n(&t->running, true, __ATOMIC_RELEASE);
		spin_unlock_irqrestore(&ct->lock, flags);
		t->fn(t);
		__atomic_store_n(&t->running, false, __ATOMIC_RELEASE);
		flags = spin_lock_irqsave(&ct->lock);
	}
	if (ct->slice_end && expired(ct->slice_end, now)) {
		ct->slice_end = 0;
		slice_over = true;
	}
	reprogram(ct);
	spin_unlock_irqrestore(&ct->lock, flags);
	if (slice_over) {
		sched_tick(cpu, now);
	}
}
