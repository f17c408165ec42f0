/* SPDX-License-Identifier: MIT */
/*
 * keel/timer.h - per-CPU one-shot timers on the architecture's timer.
 *
 * Each CPU keeps its armed timers in a list sorted by deadline, plus the
 * end of the scheduler's current time slice, and programs the hardware
 * one-shot (arch_timer_program()) for the earliest of them. The arch's
 * timer interrupt calls timer_interrupt(), which runs the expired timers'
 * functions (interrupt context, interrupts off: they must be short and must
 * not sleep) and tells the scheduler when the slice ended.
 *
 * A timer is armed on the CPU that calls timer_set() and fires there.
 * timer_cancel() may be called from any CPU; when it returns the function
 * is neither pending nor running, so the timer's memory may be freed.
 */
#ifndef KEEL_TIMER_H
#define KEEL_TIMER_H

#include <keel/types.h>

struct timer {
	uint64_t deadline;		/* hypervisor time, ns */
	void (*fn)(struct timer *t);	/* (c) */
	struct timer *next;		/* [cpu list lock] */
	int cpu;			/* [cpu list lock] list it is on, or -1 */
	bool running;			/* fn is running right now (atomic) */
};

void timer_init(struct timer *t, void (*fn)(struct timer *t));

/* Arm @t to fire at @deadline on this CPU, replacing any earlier arming. */
void timer_set(struct timer *t, uint64_t deadline);

/* Disarm @t and wait until its function is not running anywhere. */
void timer_cancel(struct timer *t);

/* The scheduler's slice on this CPU ends at @deadline (0: no slice timer). */
void timer_set_slice_end(uint64_t deadline);

/*
 * The arch's timer interrupt (interrupts off). Runs expired timers and, if
 * the slice ended, sched_tick(); reprograms the hardware.
 */
void timer_interrupt(void);

#endif
