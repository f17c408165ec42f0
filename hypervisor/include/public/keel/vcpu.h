/* SPDX-License-Identifier: MIT */
/* keel/vcpu.h: per-vCPU shared info (event selectors, time, runstate) and vCPU up/down/info. */
#ifndef KEEL_PUBLIC_VCPU_H
#define KEEL_PUBLIC_VCPU_H

#include "abi.h"

/*
 * Domain system time: nanoseconds since the domain was created, monotonic,
 * the same on every vCPU. A guest reads it without exits:
 *   do {
 *     v = time.version; (retry while v is odd); read barrier;
 *     copy tsc_timestamp, system_time_ns, tsc_to_ns_mul, tsc_shift;
 *     read barrier;
 *   } while (time.version != v);
 *   d = rdtsc() - tsc_timestamp                    (64-bit, wrapping)
 *   d = tsc_shift >= 0 ? d << tsc_shift : d >> -tsc_shift
 *   now = system_time_ns + ((d * tsc_to_ns_mul) >> 32)   (96-bit product)
 * Wall clock = keel_shared_info.wc_sec/wc_nsec + now.
 *
 * Common errors of every call here: KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0);
 * "bad vCPU" is KEEL_EINVAL for an index >= the domain's vCPU count.
 *
 * KEEL_HC_VCPU_REGISTER_INFO: tell Keel where a vCPU's keel_vcpu_info lives.
 * Until registered, events for that vCPU only set pending bits. On
 * registration Keel fills time and runstate, recomputes the selectors from
 * the pending and unmasked ports bound to the vCPU, and raises an upcall if
 * any. Registering again moves it.
 *   arg0:   IN vCPU (any vCPU of the caller's domain).
 *   arg1:   IN GPA: 64-byte aligned, the whole struct in one page of RAM;
 *           the guest zeroes it first. Keel pins the page.
 *   return: 0.
 *   errors: bad vCPU, KEEL_EFAULT (not RAM, misaligned, crosses a page).
 *
 * KEEL_HC_VCPU_UP: bring an offline vCPU online.
 *   arg0:   IN vCPU.
 *   arg1:   IN GPA of the arch's context (struct keel_x86_vcpu_context) to
 *           start from, or 0 to resume a vCPU that went down with
 *           KEEL_HC_VCPU_DOWN where it stopped.
 *   return: 0.
 *   errors: bad vCPU, KEEL_EBUSY (already online), KEEL_EFAULT,
 *           KEEL_EINVAL (context rejected: see the arch header; or arg1 == 0
 *           for a vCPU that never ran).
 *
 * KEEL_HC_VCPU_DOWN: take a vCPU offline; it keeps its registers. For the
 * calling vCPU the call returns 0 only when the vCPU is brought up again
 * with arg1 == 0.
 *   arg0:   IN vCPU.  return: 0.
 *   errors: bad vCPU, KEEL_EBUSY (already offline, or the last online
 *           vCPU).
 *
 * KEEL_HC_VCPU_INFO: arg0: IN GPA of a struct keel_vcpu_status.
 *   return: 0.  errors: bad vCPU, KEEL_EFAULT.
 */
#define KEEL_TIME_F_TSC_STABLE		0x00000001u	/* same TSC on all vCPUs, never jumps */

/* Runstates; time_ns[] is indexed by these. */
#define KEEL_RUNSTATE_RUNNING		0
#define KEEL_RUNSTATE_RUNNABLE		1	/* ready, waiting for a CPU (steal time) */
#define KEEL_RUNSTATE_BLOCKED		2	/* waiting for an event */
#define KEEL_RUNSTATE_OFFLINE		3	/* down, or the domain is paused */
#define KEEL_RUNSTATE_COUNT		4

/* keel_vcpu_status.flags */
#define KEEL_VCPU_F_ONLINE		0x00000001u
#define KEEL_VCPU_F_INFO_REGISTERED	0x00000002u

struct keel_vcpu_time_info {
	uint32_t version;		/* OUT: odd while Keel updates */
	uint32_t flags;			/* OUT: KEEL_TIME_F_* */
	uint64_t tsc_timestamp;		/* OUT: TSC value at system_time_ns */
	uint64_t system_time_ns;	/* OUT */
	uint32_t tsc_to_ns_mul;		/* OUT: 32.32 fixed-point multiplier */
	int8_t tsc_shift;		/* OUT: applied to the TSC delta first */
	uint8_t pad0[3];		/* OUT: zero */
};

struct keel_vcpu_runstate {
	uint32_t version;		/* OUT: odd while Keel updates */
	uint32_t state;			/* OUT: KEEL_RUNSTATE_* */
	uint64_t state_entry_ns;	/* OUT: system time of the last change */
	uint64_t time_ns[4];		/* OUT: total time spent in each state */
};

/*
 * One per vCPU, placed by the guest (KEEL_HC_VCPU_REGISTER_INFO).
 * upcall_pending: Keel sets it to 1 when it sets a selector bit; the guest
 * writes 0 before it scans. Selectors: Keel sets bits with atomic OR, the
 * guest takes them with atomic exchange (top first, then each selector).
 */
struct keel_vcpu_info {
	uint8_t upcall_pending;		/* Keel sets 1; guest clears */
	uint8_t pad0[7];		/* MBZ */
	uint64_t evtchn_pending_top;	/* Keel sets; guest exchanges with 0 */
	struct keel_vcpu_time_info time;	/* OUT */
	struct keel_vcpu_runstate runstate;	/* OUT */
	uint8_t reserved[32];		/* MBZ, Keel leaves it alone in 1.0 */
	uint64_t evtchn_pending_sel[64];	/* Keel sets; guest exchanges with 0 */
};

struct keel_vcpu_status {
	uint32_t vcpu;			/* IN */
	uint32_t flags;			/* OUT: KEEL_VCPU_F_* */
	uint64_t info_gpa;		/* OUT: registered keel_vcpu_info, or 0 */
	struct keel_vcpu_runstate runstate;	/* OUT: a consistent copy */
};

#endif /* KEEL_PUBLIC_VCPU_H */
