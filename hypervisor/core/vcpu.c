/* SPDX-License-Identifier: MIT */
/*
 * core/vcpu.c - the vCPU layer: what a vCPU is doing beyond the scheduler's
 * view (online, blocked on what, its keel_vcpu_info, its timer).
 */
#include <arch/arch.h>
#include <keel/heap.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <public/keel/errno.h>

struct vcpu_state {
	bool online;
};

int vcpu_state_create(struct vcpu *v)
{
	struct vcpu_state *s = heap_alloc(sizeof(*s));

	if (!s) {
		return -KEEL_ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	v->state = s;
	return 0;
}

void vcpu_state_destroy(struct vcpu *v)
{
	heap_free(v->state);
	v->state = NULL;
}

void vcpu_upcall_kick(struct vcpu *v)
{
	sched_wake(&v->sched, arch_time_ns());
}
