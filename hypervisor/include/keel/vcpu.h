/* SPDX-License-Identifier: MIT */
/*
 * keel/vcpu.h - the vCPU layer: online/offline, blocking and waking, upcall
 * kicks, the registered keel_vcpu_info, per-vCPU time and timers.
 *
 * Sits between the scheduler (which only sees struct sched_entity), event
 * channels (which ask for kicks) and the architecture (which runs the guest
 * and reports HLT, hypercalls and crashes here).
 */
#ifndef KEEL_VCPU_H
#define KEEL_VCPU_H

#include <keel/domain.h>
#include <keel/types.h>

/* Per-vCPU state of this layer, created with the vCPU. */
int vcpu_state_create(struct vcpu *v);
void vcpu_state_destroy(struct vcpu *v);

/*
 * Event channels raised @v's upcall_pending (or its upcall mode changed with
 * it set): wake @v if it is blocked, and have the architecture deliver the
 * interrupt of its upcall mode. Any context, interrupts off.
 */
void vcpu_upcall_kick(struct vcpu *v);

#endif
