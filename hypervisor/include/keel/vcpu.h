/* SPDX-License-Identifier: MIT */
/*
 * keel/vcpu.h - the vCPU layer: online/offline, blocking and waking, upcall
 * kicks, the registered keel_vcpu_info, per-vCPU time and timers.
 *
 * Sits between the scheduler (which only sees struct sched_entity), event
 * channels (which ask for kicks) and the architecture (which runs the guest
 * and reports HLT, hypercalls and crashes here).
 *
 * Blocking calls (KEEL_HC_SCHED_BLOCK, _POLL, HLT) are restartable: when
 * the vCPU must wait, the handler blocks it and returns HYPERCALL_RESTART
 * (or false for HLT); the arch then leaves the guest's RIP on the
 * instruction, so it executes again when the vCPU is woken, and the call
 * re-checks its condition. Nothing of a waiting call is kept in Keel but
 * its wake-up sources.
 */
#ifndef KEEL_VCPU_H
#define KEEL_VCPU_H

#include <keel/domain.h>
#include <keel/types.h>
#include <public/keel/vcpu.h>

/*
 * Returned by a hypercall handler whose vCPU now waits: the arch neither
 * writes a result nor moves RIP. Outside the ABI's error range.
 */
#define HYPERCALL_RESTART	(-0x10000l)

/* Per-vCPU state of this layer, created and destroyed with the vCPU. */
int vcpu_state_create(struct vcpu *v);
void vcpu_state_destroy(struct vcpu *v);
/*
 * Disarm @v's timers and wait until their functions are not running: they
 * raise events through the domain's event channels and wake @v, so the
 * domain's teardown calls this before it destroys those.
 */
void vcpu_state_stop_timers(struct vcpu *v);

/*
 * Put an offline vCPU online (into the scheduler); its registers were set
 * by the arch (boot or KEEL_HC_VCPU_UP). Returns 0 or -KEEL_EBUSY.
 */
int vcpu_online(struct vcpu *v);
bool vcpu_is_online(struct vcpu *v);

/*
 * Event channels raised @v's upcall_pending (or its upcall mode changed with
 * it set): wake @v if it is blocked, and have the architecture deliver the
 * interrupt of its upcall mode. Any context, interrupts off.
 */
void vcpu_upcall_kick(struct vcpu *v);

/* A port of @d became pending: wake vCPUs polling for it. */
void vcpu_port_raised(struct domain *d, uint32_t port);

/*
 * HLT from the guest: true if it completes now (an upcall is pending or the
 * single-shot timer fired since it was armed), false if @v now waits. The
 * arch moves past the HLT either way: it completes when @v is woken.
 */
bool vcpu_halt(struct vcpu *v);

/* Just before @v enters its guest on this CPU: refresh its shared time info. */
void vcpu_before_entry(struct vcpu *v);

/* The domain's system time now (ns since it was created). */
uint64_t vcpu_domain_time(const struct domain *d);

/*
 * The vCPU part of KEEL_HC_CTL_VCPU_SET_CONTEXT and _GET_CONTEXT, once the
 * control call has checked its rights and found @v's domain paused or shut
 * down. SET takes @v off the scheduler, loads the arch's context struct at
 * @gpa of @from's RAM (arch_vcpu_load_context()) and puts @v online (back
 * online if it was and the load failed; not at all if the domain is being
 * destroyed). GET writes @v's registers to @gpa of @to's RAM once @v is
 * off its CPU. Both return 0, -KEEL_EFAULT, -KEEL_EINVAL (SET: rejected)
 * or -KEEL_EBUSY (SET: a VCPU_UP or another SET is loading @v; GET: the
 * domain runs again and @v with it).
 */
long vcpu_ctl_set_context(struct vcpu *v, struct domain *from, uint64_t gpa);
long vcpu_ctl_get_context(struct vcpu *v, struct domain *to, uint64_t gpa);

/* Hypercalls of the scheduling and vCPU groups; arguments already decoded. */
long vcpu_hc_yield(struct vcpu *v);
long vcpu_hc_block(struct vcpu *v);
long vcpu_hc_poll(struct vcpu *v, uint64_t gpa);
long vcpu_hc_set_timer(struct vcpu *v, uint64_t deadline);
long vcpu_hc_register_info(struct vcpu *v, uint32_t target, uint64_t gpa);
long vcpu_hc_up(struct vcpu *v, uint32_t target, uint64_t context_gpa);
long vcpu_hc_down(struct vcpu *v, uint32_t target);
long vcpu_hc_info(struct vcpu *v, uint64_t gpa);

#endif
