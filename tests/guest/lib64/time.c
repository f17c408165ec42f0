/* SPDX-License-Identifier: MIT */
/* time.c: domain system time from keel_vcpu_info.time, runstate, timers and sleeping. */
#include "keeltest64.h"

static inline void read_barrier(void)
{
	/* x86 keeps loads in order; the compiler must too. */
	__asm__ volatile("" ::: "memory");
}

/* The algorithm of docs/abi/hypercalls.md "Domain system time", on any vCPU's time info. */
uint64_t kt_time_ns(const volatile struct keel_vcpu_time_info *t)
{
	uint64_t t0, s0, d;
	uint32_t v, mul;
	int8_t shift;

	do {
		v = t->version;
		read_barrier();
		t0 = t->tsc_timestamp;
		s0 = t->system_time_ns;
		mul = t->tsc_to_ns_mul;
		shift = t->tsc_shift;
		read_barrier();
	} while ((v & 1) != 0 || t->version != v);
	d = kt_rdtsc() - t0;
	d = shift >= 0 ? d << shift : d >> -shift;
	return s0 + (uint64_t)(((unsigned __int128)d * mul) >> 32);
}

uint64_t kt_now_ns(void)
{
	return kt_time_ns(&kt_vcpu_info[0].time);
}

uint64_t kt_tsc_to_ns(uint64_t ticks)
{
	if (kt_boot.tsc_khz == 0) {
		return 0;
	}
	/* Split so that no 128-bit division (a libgcc call) is needed. */
	return (ticks / kt_boot.tsc_khz) * 1000000u +
	       ((ticks % kt_boot.tsc_khz) * 1000000u) / kt_boot.tsc_khz;
}

void kt_runstate(struct keel_vcpu_runstate *out)
{
	volatile struct keel_vcpu_runstate *r = &kt_vcpu_info[0].runstate;
	uint32_t v;

	do {
		v = r->version;
		read_barrier();
		out->version = v;
		out->state = r->state;
		out->state_entry_ns = r->state_entry_ns;
		for (int i = 0; i < KEEL_RUNSTATE_COUNT; i++) {
			out->time_ns[i] = r->time_ns[i];
		}
		read_barrier();
	} while ((v & 1) != 0 || r->version != v);
}

/* RUNNING time including the current stint, which the totals only count once it ends. */
uint64_t kt_running_ns(void)
{
	struct keel_vcpu_runstate rs;
	uint64_t now, t;

	kt_runstate(&rs);
	now = kt_now_ns();
	t = rs.time_ns[KEEL_RUNSTATE_RUNNING];
	if (rs.state == KEEL_RUNSTATE_RUNNING && now > rs.state_entry_ns) {
		t += now - rs.state_entry_ns;
	}
	return t;
}

long kt_set_timer(uint64_t deadline_ns)
{
	return keel_hypercall1(KEEL_HC_SCHED_SET_TIMER, deadline_ns);
}

long kt_block(void)
{
	return keel_hypercall0(KEEL_HC_SCHED_BLOCK);
}

/* Sleep with SET_TIMER + BLOCK; BLOCK may return early (an upcall is pending), so loop. */
long kt_sleep_ns(uint64_t ns)
{
	uint64_t deadline = kt_now_ns() + ns;
	long rc;

	while (kt_now_ns() < deadline) {
		rc = kt_set_timer(deadline);
		if (rc != 0) {
			return rc;
		}
		rc = kt_block();
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

void kt_spin_ns(uint64_t ns)
{
	uint64_t deadline = kt_now_ns() + ns;

	while (kt_now_ns() < deadline) {
		kt_cpu_relax();
	}
}
