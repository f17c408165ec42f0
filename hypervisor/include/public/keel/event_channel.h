/* SPDX-License-Identifier: MIT */
/* keel/event_channel.h: event channel ports, virtual IRQs, upcall delivery and the event bitmaps. */
#ifndef KEEL_PUBLIC_EVENT_CHANNEL_H
#define KEEL_PUBLIC_EVENT_CHANNEL_H

#include "abi.h"

/*
 * A port is a per-domain number 1 .. limit-1 (limit is
 * keel_shared_info.evtchn_port_limit, at least KEEL_EVTCHN_BASE_PORTS). Each
 * port has a pending bit and a mask bit:
 *   ports 0 .. 4095 in keel_shared_info.evtchn_pending/evtchn_mask;
 *   ports 4096 + i * 32768 .. in the page pair registered with
 *   KEEL_HC_EVTCHN_EXPAND index i.
 * Port p is bit (p % 64) of 64-bit word (p / 64) of its bitmap. Per vCPU,
 * keel_vcpu_info holds a two-level selector over the 64-bit pending words:
 * bit j of evtchn_pending_sel[i] covers pending word i * 64 + j, and bit i of
 * evtchn_pending_top covers evtchn_pending_sel[i]. docs/abi/hypercalls.md
 * gives the delivery and the guest's scan algorithm.
 *
 * Common errors of every call here: KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 * "Bad port" below means KEEL_EINVAL for 0 or >= the port limit and
 * KEEL_ENOENT for a port in the FREE state.
 *
 * KEEL_HC_EVTCHN_ALLOC_UNBOUND: allocate a port that one remote domain may
 * bind to (the caller may name itself).
 *   arg0:   IN remote domid (or KEEL_DOMID_SELF).
 *   return: the new port (state UNBOUND, pending bit cleared).
 *   errors: KEEL_ESRCH (no such remote), KEEL_ENOSPC (no free port).
 *
 * KEEL_HC_EVTCHN_BIND_INTERDOMAIN: connect a new local port to a remote port
 * that is UNBOUND for the caller.
 *   arg0:   IN remote domid (or KEEL_DOMID_SELF).
 *   arg1:   IN remote port.
 *   return: the new local port (state INTERDOMAIN).
 *   errors: KEEL_ESRCH, KEEL_EINVAL (remote port 0 or out of range),
 *           KEEL_ENOENT (remote port FREE), KEEL_EBUSY (remote port not
 *           UNBOUND), KEEL_EPERM (remote port is unbound for another
 *           domain), KEEL_ENOSPC.
 *
 * KEEL_HC_EVTCHN_BIND_VIRQ: bind a virtual IRQ to a new port.
 *   arg0:   IN KEEL_VIRQ_*.
 *   arg1:   IN vCPU that receives it (per-vCPU VIRQs: the vCPU it is about).
 *   return: the new port (state VIRQ).
 *   errors: KEEL_EINVAL (unknown VIRQ or vCPU), KEEL_EEXIST (already bound:
 *           per-vCPU VIRQs once per vCPU, others once per domain),
 *           KEEL_EPERM (KEEL_VIRQ_DOMAIN_STATE without KEEL_CAP_CONTROL or
 *           KEEL_CAP_CREATE; KEEL_VIRQ_LOG without KEEL_CAP_LOG),
 *           KEEL_ENOSPC.
 *
 * KEEL_HC_EVTCHN_BIND_IPI: allocate a port that signals one of the caller's
 * own vCPUs.
 *   arg0:   IN target vCPU.
 *   return: the new port (state IPI).
 *   errors: KEEL_EINVAL (vCPU out of range), KEEL_ENOSPC.
 *
 * KEEL_HC_EVTCHN_SEND: signal the other end of a port. INTERDOMAIN: the peer
 * port; IPI: the port itself; UNBOUND: nothing happens (the peer has not
 * bound yet); VIRQ: KEEL_EINVAL.
 *   arg0:   IN port.  return: 0.
 *   errors: bad port, KEEL_EINVAL (VIRQ port).
 *
 * KEEL_HC_EVTCHN_CLOSE: free a port. An INTERDOMAIN peer port goes back to
 * UNBOUND for the caller's domain, and Keel sets its pending bit so that the
 * peer notices. Closing an UNBOUND port a peer might bind is allowed.
 *   arg0:   IN port.  return: 0.
 *   errors: bad port.
 *
 * KEEL_HC_EVTCHN_STATUS: describe one of the caller's ports.
 *   arg0:   IN GPA of a struct keel_evtchn_status.
 *   return: 0.
 *   errors: KEEL_EFAULT, KEEL_EINVAL (port 0 or out of range). A FREE port
 *           is not an error: state reads KEEL_EVTCHN_STATE_FREE.
 *
 * KEEL_HC_EVTCHN_MASK / KEEL_HC_EVTCHN_UNMASK: set / clear the port's mask
 * bit. UNMASK also delivers the port if its pending bit is set (the guest
 * may instead clear the bit itself and handle the pending port directly).
 *   arg0:   IN port.  return: 0.
 *   errors: bad port.
 *
 * KEEL_HC_EVTCHN_BIND_VCPU: choose which vCPU is notified for an UNBOUND or
 * INTERDOMAIN port (VIRQ and IPI ports are fixed at bind time).
 *   arg0:   IN port.  arg1: IN vCPU.  return: 0.
 *   errors: bad port, KEEL_EINVAL (vCPU out of range, or VIRQ/IPI port).
 *
 * KEEL_HC_EVTCHN_SET_UPCALL: choose how a vCPU is interrupted when its
 * upcall_pending goes from 0 to 1.
 *   arg0:   IN GPA of a struct keel_evtchn_upcall.
 *   return: 0.
 *   errors: KEEL_EFAULT, KEEL_EINVAL (vCPU out of range, unknown mode,
 *           vector outside 0x20..0xff, MSI-X entry beyond the platform
 *           device's table, INTx delivery for a vCPU other than 0, pad0 !=
 *           0), KEEL_EOPNOTSUPP (mode's feature bit clear, e.g. no platform
 *           device).
 *
 * KEEL_HC_EVTCHN_EXPAND: register one more pair of bitmap pages, raising the
 * usable ports. Pages are the caller's own RAM; Keel pins them until the
 * domain is destroyed. The caller zeroes the pending page first.
 *   arg0:   IN GPA of a struct keel_evtchn_expand.
 *   return: the new port limit.
 *   errors: KEEL_EFAULT (struct, or a GFN that is not the caller's RAM),
 *           KEEL_EINVAL (index is not the next unregistered index, pad0 !=
 *           0, both GFNs equal), KEEL_ENOSPC (the domain's port limit
 *           (control) does not reach that page), KEEL_EOPNOTSUPP
 *           (KEEL_F0_EVTCHN_EXPAND clear).
 */
#define KEEL_EVTCHN_PORT_INVALID	0
#define KEEL_EVTCHN_BASE_PORTS		4096	/* covered by keel_shared_info */
#define KEEL_EVTCHN_PORTS_PER_PAGE	32768	/* per KEEL_HC_EVTCHN_EXPAND page pair */
#define KEEL_EVTCHN_EXPAND_PAGES_MAX	8
#define KEEL_EVTCHN_MAX_PORTS		262144	/* 64 * 64 * 64: the selectors' reach */

/* Port states (struct keel_evtchn_status.state). */
#define KEEL_EVTCHN_STATE_FREE		0
#define KEEL_EVTCHN_STATE_UNBOUND	1
#define KEEL_EVTCHN_STATE_INTERDOMAIN	2
#define KEEL_EVTCHN_STATE_VIRQ		3
#define KEEL_EVTCHN_STATE_IPI		4

/* Virtual IRQs. Only KEEL_VIRQ_TIMER is per-vCPU. */
#define KEEL_VIRQ_TIMER			0	/* this vCPU's single-shot timer expired */
#define KEEL_VIRQ_CONSOLE		1	/* hypervisor console input arrived */
#define KEEL_VIRQ_DOMAIN_STATE		2	/* a domain under the caller's control changed state */
#define KEEL_VIRQ_LOG			3	/* the hypervisor log grew (rate-limited) */
#define KEEL_VIRQ_SHUTDOWN_REQUEST	4	/* keel_shared_info.shutdown_request was set */
#define KEEL_VIRQ_DEVICE_TABLE		5	/* the device table changed (new generation) */
#define KEEL_VIRQ_MEMORY_TARGET		6	/* keel_shared_info.memory_target_pages changed */
#define KEEL_VIRQ_COUNT_V1		7

/* Upcall delivery modes (struct keel_evtchn_upcall.mode). */
#define KEEL_UPCALL_NONE		0	/* no interrupt; SCHED_BLOCK/POLL still wake */
#define KEEL_UPCALL_VECTOR		1	/* inject .vector on this vCPU's local APIC */
#define KEEL_UPCALL_PLATFORM		2	/* signal the platform PCI device's interrupt */

struct keel_evtchn_status {
	uint32_t port;			/* IN */
	uint32_t state;			/* OUT: KEEL_EVTCHN_STATE_* */
	uint32_t vcpu;			/* OUT: vCPU notified */
	uint32_t remote_domid;		/* OUT: UNBOUND: who may bind; INTERDOMAIN: peer */
	uint32_t remote_port;		/* OUT: INTERDOMAIN: peer port; else 0 */
	uint32_t virq;			/* OUT: VIRQ: KEEL_VIRQ_*; else 0 */
};

struct keel_evtchn_upcall {
	uint32_t vcpu;			/* IN */
	uint32_t mode;			/* IN: KEEL_UPCALL_* */
	uint32_t vector;		/* IN: VECTOR: 0x20..0xff; PLATFORM: MSI-X entry; NONE: MBZ */
	uint32_t pad0;			/* MBZ */
};

struct keel_evtchn_expand {
	uint32_t index;			/* IN: 0 .. KEEL_EVTCHN_EXPAND_PAGES_MAX - 1, in order */
	uint32_t pad0;			/* MBZ */
	uint64_t pending_gfn;		/* IN: pending bits for ports 4096 + index * 32768 .. */
	uint64_t mask_gfn;		/* IN: mask bits for the same ports */
};

#endif /* KEEL_PUBLIC_EVENT_CHANNEL_H */
