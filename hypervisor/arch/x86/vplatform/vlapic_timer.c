/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vlapic_timer.c - the local APIC timer of a vCPU: one-shot,
 * periodic and TSC-deadline modes on one of Keel's core timers.
 *
 * The timer counts at vlapic_timer_hz() (what CPUID B+3 EBX tells the
 * guest, docs/abi/README.md) divided by the divide configuration. Nothing
 * ticks: the current count is computed from the time counting started,
 * and the core timer is armed for the moment the count reaches zero (or
 * the TSC reaches the deadline).
 *
 * The core timer is only armed from the vCPU's own context (its register
 * writes and its run loop), never from the timer's function: timer_set()
 * waits for a running function, so the function re-arming itself would
 * wait for itself. A periodic timer is therefore re-armed before the
 * vCPU's next entry; the interrupt it raised wakes the vCPU for that. A
 * period is never shorter than VLAPIC_MIN_PERIOD_NS, so a guest cannot
 * make Keel take timer interrupts faster than that.
 */
#include <arch/arch.h>
#include <keel/compiler.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/time.h>
#include <x86/vplatform.h>
#include "vlapic_state.h"

#define NS_PER_S		1000000000ull
#define VLAPIC_MIN_PERIOD_NS	100000ull	/* 100 us */
#define FAR_FUTURE_NS		(1ull << 62)

uint64_t vlapic_timer_hz(void)
{
	return lapic_timer_hz / 1000u * 1000u;	/* what B+3 EBX says, in kHz */
}

static uint32_t mode_of(const struct vlapic *vl)
{
	return (vl->lvt[LVT_TIMER] >> LVT_TIMER_MODE_SHIFT) & 3;
}

/* The divide configuration register's bits 3, 1, 0 encode 2, 4, ... 128, 1. */
static uint64_t divisor(uint32_t dcr)
{
	uint32_t code = ((dcr & 8) >> 1) | (dcr & 3);

	return 1ull << ((code + 1) & 7);
}

static uint64_t counts_to_ns(const struct vlapic *vl, uint64_t counts)
{
	uint64_t hz = vlapic_timer_hz();
	unsigned __int128 scaled = (unsigned __int128)counts * divisor(vl->timer_divide) * NS_PER_S;

	if (hz == 0) {
		return FAR_FUTURE_NS;
	}
	scaled = (scaled + hz - 1) / hz;
	return scaled > FAR_FUTURE_NS ? FAR_FUTURE_NS : (uint64_t)scaled;
}

static uint64_t ns_to_counts(const struct vlapic *vl, uint64_t ns)
{
	unsigned __int128 counts = (unsigned __int128)ns * vlapic_timer_hz();

	return (uint64_t)(counts / ((unsigned __int128)divisor(vl->timer_divide) * NS_PER_S));
}

static uint64_t period_ns(const struct vlapic *vl)
{
	uint64_t ns = counts_to_ns(vl, vl->timer_initial);

	return ns < VLAPIC_MIN_PERIOD_NS ? VLAPIC_MIN_PERIOD_NS : ns;
}

/* Keel time at which the guest's TSC reaches @tsc (guest TSC = host TSC). */
static uint64_t tsc_to_ns(uint64_t tsc, uint64_t now)
{
	uint64_t cur = rdtsc();
	unsigned __int128 delta;

	if ((int64_t)(tsc - cur) <= 0 || tsc_hz == 0) {
		return now;
	}
	delta = (unsigned __int128)(tsc - cur) * NS_PER_S / tsc_hz;
	return now + (delta > FAR_FUTURE_NS ? FAR_FUTURE_NS : (uint64_t)delta);
}

uint32_t vlapic_timer_current(struct vlapic *vl)
{
	uint64_t elapsed;

	if (mode_of(vl) == LVT_TIMER_TSC_DEADLINE || vl->timer_initial == 0 || vl->timer_expired) {
		return 0;	/* a one-shot count that reached zero stays there */
	}
	elapsed = ns_to_counts(vl, arch_time_ns() - vl->timer_start_ns);
	if (mode_of(vl) == LVT_TIMER_PERIODIC) {
		return vl->timer_initial - (uint32_t)(elapsed % vl->timer_initial);
	}
	return elapsed >= vl->timer_initial ? 0 : vl->timer_initial - (uint32_t)elapsed;
}

/* When the core timer must fire for the current state, or 0 for never; [l] held. */
static uint64_t due_locked(const struct vlapic *vl, uint64_t now)
{
	uint64_t period;

	switch (mode_of(vl)) {
	case LVT_TIMER_TSC_DEADLINE:
		return vl->tsc_deadline ? tsc_to_ns(vl->tsc_deadline, now) : 0;
	case LVT_TIMER_ONESHOT:
		if (vl->timer_initial == 0 || vl->timer_expired) {
			return 0;
		}
		return vl->timer_start_ns + counts_to_ns(vl, vl->timer_initial);
	case LVT_TIMER_PERIODIC:
		if (vl->timer_initial == 0 || vl->timer_expired) {
			return 0;	/* a stopped count only restarts with a new initial count */
		}
		period = period_ns(vl);
		return vl->timer_start_ns + ((now - vl->timer_start_ns) / period + 1) * period;
	default:
		return 0;	/* mode 3 is reserved: the timer does not run */
	}
}

static void timer_fired(struct timer *t)
{
	struct vlapic *vl = container_of(t, struct vlapic, timer);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	bool accepted = false;

	/* A firing for a state the vCPU has changed since is stale. */
	if (vl->timer_due_ns != 0 && t->deadline == vl->timer_due_ns) {
		vl->timer_due_ns = 0;
		if (mode_of(vl) == LVT_TIMER_TSC_DEADLINE) {
			vl->tsc_deadline = 0;	/* reads 0 once it fired (SDM 10.5.4.1) */
		} else if (mode_of(vl) == LVT_TIMER_ONESHOT) {
			vl->timer_expired = true;
		}
		accepted = vlapic_lvt_fire_locked(vl, LVT_TIMER);
	}
	spin_unlock_irqrestore(&vl->lock, flags);
	if (accepted) {
		vlapic_notify(vl->vcpu);
	}
}

void vlapic_timer_init(struct vlapic *vl)
{
	timer_init(&vl->timer, timer_fired);
}

void vlapic_timer_reset(struct vlapic *vl)
{
	unsigned long flags;

	timer_cancel(&vl->timer);
	flags = spin_lock_irqsave(&vl->lock);
	vl->timer_initial = 0;
	vl->timer_divide = 0;
	vl->timer_start_ns = 0;
	vl->timer_due_ns = 0;
	vl->timer_expired = false;
	vl->tsc_deadline = 0;
	spin_unlock_irqrestore(&vl->lock, flags);
}

void vlapic_timer_write_locked(struct vlapic *vl, uint32_t offset, uint32_t value)
{
	uint32_t old_mode = mode_of(vl);
	uint32_t current;

	switch (offset) {
	case APIC_LVT_TIMER:
		current = vlapic_timer_current(vl);
		vl->lvt[LVT_TIMER] = value;
		/*
		 * Between one-shot and periodic the count goes on from where
		 * it is: start counting from the current count again.
		 */
		if (old_mode != mode_of(vl) && current != 0 && vl->timer_initial != 0) {
			vl->timer_start_ns = arch_time_ns() -
					     counts_to_ns(vl, vl->timer_initial - current);
		}
		/* Into or out of TSC-deadline mode disarms the timer (SDM 10.5.4.1). */
		if (old_mode != mode_of(vl) &&
		    (old_mode == LVT_TIMER_TSC_DEADLINE || mode_of(vl) == LVT_TIMER_TSC_DEADLINE)) {
			vl->tsc_deadline = 0;
			vl->timer_initial = 0;
		}
		break;
	case APIC_TIMER_INITIAL:
		if (mode_of(vl) != LVT_TIMER_TSC_DEADLINE) {	/* ignored in that mode */
			vl->timer_initial = value;
			vl->timer_start_ns = arch_time_ns();
			vl->timer_expired = false;
		}
		break;
	case APIC_TIMER_DIVIDE:
		vl->timer_divide = value & 0xb;
		break;
	default:
		break;
	}
}

void vlapic_timer_apply(struct vlapic *vl)
{
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	uint64_t due = due_locked(vl, arch_time_ns());

	vl->timer_due_ns = due;
	spin_unlock_irqrestore(&vl->lock, flags);
	if (due) {
		timer_set(&vl->timer, due);
	} else {
		timer_cancel(&vl->timer);
	}
}

void vlapic_before_entry(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);

	if (mode_of(vl) == LVT_TIMER_PERIODIC && READ_ONCE(vl->timer_initial) != 0 &&
	    READ_ONCE(vl->timer_due_ns) == 0) {
		vlapic_timer_apply(vl);
	}
}

uint64_t vlapic_tsc_deadline(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	uint64_t tsc = mode_of(vl) == LVT_TIMER_TSC_DEADLINE ? vl->tsc_deadline : 0;

	spin_unlock_irqrestore(&vl->lock, flags);
	return tsc;
}

void vlapic_set_tsc_deadline(struct vcpu *v, uint64_t tsc)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	bool deadline_mode = mode_of(vl) == LVT_TIMER_TSC_DEADLINE;

	if (deadline_mode) {
		vl->tsc_deadline = tsc;	/* 0 disarms */
	}
	spin_unlock_irqrestore(&vl->lock, flags);
	if (deadline_mode) {
		vlapic_timer_apply(vl);
	}
}
