/* SPDX-License-Identifier: MIT */
/* keel/sched.h: yield, block, poll, shutdown with a reason, and the single-shot vCPU timer. */
#ifndef KEEL_PUBLIC_SCHED_H
#define KEEL_PUBLIC_SCHED_H

#include "abi.h"

/*
 * All calls act on the calling vCPU (or its domain for SHUTDOWN).
 * Common errors of every call here: KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *
 * KEEL_HC_SCHED_YIELD: give up the rest of the time slice.
 *   args: none. return: 0.
 *
 * KEEL_HC_SCHED_BLOCK: sleep until the vCPU has an upcall pending
 * (keel_vcpu_info.upcall_pending == 1, whatever the delivery mode) or its
 * timer expires. Returns at once if one is already the case.
 *   args: none. return: 0.
 *
 * KEEL_HC_SCHED_POLL: sleep until one of the listed ports is pending (its
 * pending bit is set; the mask bit is ignored) or the deadline passes.
 *   arg0:   IN GPA of a struct keel_sched_poll; Keel reads the header and
 *           the first nr_ports entries, which must lie in one page.
 *   return: 1 if a listed port is pending, 0 on timeout.
 *   errors: KEEL_EFAULT, KEEL_EINVAL (nr_ports == 0, pad0 != 0, a port 0 or
 *           >= the domain's port limit), KEEL_E2BIG (nr_ports >
 *           KEEL_SCHED_POLL_MAX), KEEL_ENOENT (a port is not allocated).
 *
 * KEEL_HC_SCHED_SHUTDOWN: stop the whole domain with a reason.
 *   arg0:   IN reason, KEEL_SHUTDOWN_*.
 *   return: does not return, except for KEEL_SHUTDOWN_SUSPEND: 1 when the
 *           suspend was cancelled (the controller unpaused the domain: same
 *           instance, all state intact), 0 when the domain was restored from
 *           a saved image (every shared page, port, grant and device must be
 *           set up again).
 *   errors: KEEL_EINVAL (unknown reason).
 *
 * KEEL_HC_SCHED_SET_TIMER: arm or cancel the calling vCPU's single-shot
 * timer. At expiry Keel sends KEEL_VIRQ_TIMER if bound on this vCPU and
 * wakes the vCPU from SCHED_BLOCK in any case.
 *   arg0:   IN deadline in domain system time (ns, keel/vcpu.h); 0 cancels;
 *           a deadline in the past fires at once.
 *   return: 0.
 */
#define KEEL_SHUTDOWN_NONE		0
#define KEEL_SHUTDOWN_POWEROFF		1
#define KEEL_SHUTDOWN_REBOOT		2
#define KEEL_SHUTDOWN_SUSPEND		3
#define KEEL_SHUTDOWN_CRASH		4

#define KEEL_SCHED_POLL_MAX		128

struct keel_sched_poll {
	uint64_t deadline_ns;		/* IN: domain system time; 0 = no timeout */
	uint32_t nr_ports;		/* IN: 1 .. KEEL_SCHED_POLL_MAX */
	uint32_t pad0;			/* MBZ */
	uint32_t ports[128];		/* IN: first nr_ports entries are read */
};

#endif /* KEEL_PUBLIC_SCHED_H */
