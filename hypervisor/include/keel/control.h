/* SPDX-License-Identifier: MIT */
/*
 * keel/control.h - the control interface (KEEL_HC_CTL_*, docs/abi/control.md):
 * one function per call, arguments already decoded.
 *
 * The dispatcher has done checks 1-3 of docs/abi/errors.md and refused
 * 32-bit arguments (the uint32_t parameters below) with bits 63:32 set;
 * each function does the rest in the same order. "Control over D": the
 * caller holds KEEL_CAP_CONTROL, or holds KEEL_CAP_CREATE and created D.
 * Where a call takes a domid, KEEL_DOMID_SELF names the caller; calls marked
 * (not self) refuse the caller with -KEEL_EINVAL before any other check.
 * Every call but DOMAIN_INFO and SET_CAPS on the caller itself first needs
 * KEEL_CAP_CONTROL or KEEL_CAP_CREATE (or KEEL_CAP_LOG for LOG_READ):
 * -KEEL_EPERM. Then, for a target domain: -KEEL_ESRCH (none, or dying),
 * -KEEL_EPERM (no control over it). Structs passed by address must be
 * 8-byte aligned, within one page of the caller's RAM: else -KEEL_EFAULT.
 * A failed call changes nothing.
 *
 * DEVICE_SETUP and DEVICE_REMOVE live in keel/device.h.
 *
 * Context: a hypercall of @caller, no lock held.
 */
#ifndef KEEL_CONTROL_H
#define KEEL_CONTROL_H

#include <keel/domain.h>
#include <keel/types.h>

/** KEEL_HC_CTL_HOST_INFO: fill the struct keel_ctl_host_info at @gpa. */
long ctl_hc_host_info(struct domain *caller, uint64_t gpa);

/**
 * KEEL_HC_CTL_DOMAIN_CREATE: a domain as the struct keel_ctl_domain_create
 * at @gpa asks, the caller its parent: paused, no RAM (but the firmware
 * area of an ACPI platform, which Keel populates and writes), vCPU 0 online
 * in its reset state. Writes back the OUT domid only and raises
 * KEEL_VIRQ_DOMAIN_STATE. Any failure destroys what was made.
 *
 * Return: 0; -KEEL_EPERM (neither CONTROL nor CREATE, or caps not a subset
 *         of the caller's); -KEEL_EFAULT; -KEEL_EINVAL (name empty,
 *         unterminated or not printable ASCII without spaces, nr_vcpus,
 *         unknown flag or cap bit, max_evtchn_ports, weight, pad0);
 *         -KEEL_EEXIST (name in use); -KEEL_ENOSPC (no domain id left);
 *         -KEEL_ENOMEM.
 */
long ctl_hc_domain_create(struct domain *caller, uint64_t gpa);

/**
 * KEEL_HC_CTL_DOMAIN_POPULATE (batched): KEEL_HC_MEMORY_POPULATE with the
 * extents in the caller's RAM and the memory going to @domid, counted
 * against its max_pages (keel/memory_ops.h has the checks and errors).
 * KEEL_HC_CTL_DOMAIN_LOAD (batched): each struct keel_ctl_load_page copies
 * the caller's whole RAM page src_gfn to @domid's RAM page dst_gfn;
 * element errors -KEEL_EINVAL (pad0), -KEEL_EFAULT (src_gfn not the
 * caller's RAM), -KEEL_ENOENT (dst_gfn not the target's RAM). A call stops
 * early after 64 pages (the caller calls again with the rest).
 *
 * Return: n processed; -KEEL_EINVAL (@count 0); -KEEL_EPERM; -KEEL_ESRCH;
 *         the batch errors -KEEL_EFAULT, -KEEL_E2BIG.
 */
long ctl_hc_domain_populate(struct domain *caller, uint32_t domid, uint64_t gpa,
			    uint64_t count);
long ctl_hc_domain_load(struct domain *caller, uint32_t domid, uint64_t gpa,
			uint64_t count);

/**
 * KEEL_HC_CTL_VCPU_SET_CONTEXT / _GET_CONTEXT (not self): load vCPU @vcpu
 * of @domid from the arch's context struct at @gpa and bring it online, or
 * write its registers there. @domid must be paused or shut down; its state
 * is checked before the struct is read (a vCPU that may not be touched
 * has its struct ignored).
 *
 * Return: 0; -KEEL_EINVAL (self, @vcpu out of range, context rejected);
 *         -KEEL_EPERM; -KEEL_ESRCH; -KEEL_EBUSY (the domain runs, or a
 *         VCPU_UP of its own is loading that vCPU); -KEEL_EFAULT.
 */
long ctl_hc_vcpu_set_context(struct domain *caller, uint32_t domid, uint32_t vcpu,
			     uint64_t gpa);
long ctl_hc_vcpu_get_context(struct domain *caller, uint32_t domid, uint32_t vcpu,
			     uint64_t gpa);

/**
 * KEEL_HC_CTL_DOMAIN_DESTROY (not self): @domid leaves the domain table at
 * once; its memory goes with the last reference.
 *
 * Return: 0 (also when another call destroyed it meanwhile); -KEEL_EINVAL
 *         (self); -KEEL_EPERM; -KEEL_ESRCH (unknown or already gone).
 */
long ctl_hc_domain_destroy(struct domain *caller, uint32_t domid);

/**
 * KEEL_HC_CTL_DOMAIN_PAUSE / _UNPAUSE (not self). Both are idempotent; pausing
 * a shut-down domain changes nothing (none of its vCPUs runs); unpausing one
 * shut down with KEEL_SHUTDOWN_SUSPEND resumes it.
 *
 * Return: 0; -KEEL_EINVAL (self); -KEEL_EPERM; -KEEL_ESRCH; -KEEL_EBUSY
 *         (UNPAUSE of a domain shut down for another reason).
 */
long ctl_hc_domain_pause(struct domain *caller, uint32_t domid);
long ctl_hc_domain_unpause(struct domain *caller, uint32_t domid);

/**
 * KEEL_HC_CTL_DOMAIN_SHUTDOWN (not self). Without KEEL_CTL_SHUTDOWN_F_FORCE:
 * write @reason to the domain's shutdown_request and raise its
 * KEEL_VIRQ_SHUTDOWN_REQUEST. With it: stop the domain as if it had called
 * KEEL_HC_SCHED_SHUTDOWN with @reason.
 *
 * Return: 0; -KEEL_EINVAL (unknown reason or flag, CRASH without FORCE,
 *         self); -KEEL_EPERM; -KEEL_ESRCH; -KEEL_EBUSY (already shut down).
 */
long ctl_hc_domain_shutdown(struct domain *caller, uint32_t domid, uint32_t reason,
			    uint32_t flags);

/**
 * KEEL_HC_CTL_DOMAIN_INFO: describe the domain named in the struct
 * keel_ctl_domain_info at @gpa (no capability needed for the caller itself).
 * The struct is read first, since it names the target.
 *
 * Return: 0; -KEEL_EFAULT; -KEEL_EPERM; -KEEL_ESRCH.
 */
long ctl_hc_domain_info(struct domain *caller, uint64_t gpa);

/**
 * KEEL_HC_CTL_DOMAIN_LIST: the ids >= start_domid, ascending, of the caller
 * and of the domains it has control over, into the struct
 * keel_ctl_domain_list at @gpa (header and the first max entries).
 *
 * Return: 0; -KEEL_EPERM; -KEEL_EFAULT; -KEEL_E2BIG (max > 1020);
 *         -KEEL_EINVAL (pad0 set).
 */
long ctl_hc_domain_list(struct domain *caller, uint64_t gpa);

/**
 * KEEL_HC_CTL_DOMAIN_SET_MEMORY: new @max_pages and balloon @target_pages (0:
 * unchanged). A new target goes to the domain's memory_target_pages and
 * raises its KEEL_VIRQ_MEMORY_TARGET.
 *
 * Return: 0; -KEEL_EINVAL (target above the new or current max);
 *         -KEEL_EPERM; -KEEL_ESRCH.
 */
long ctl_hc_domain_set_memory(struct domain *caller, uint32_t domid, uint64_t max_pages,
			      uint64_t target_pages);

/**
 * KEEL_HC_CTL_DOMAIN_SET_CAPS: @domid's capabilities become @caps, a subset
 * of the caller's; the caller itself needs no right to shrink its own set.
 * The domain's device table is rebuilt (it shows them).
 *
 * Return: 0; -KEEL_EINVAL (unknown bit); -KEEL_EPERM (not a subset, or no
 *         control); -KEEL_ESRCH.
 */
long ctl_hc_domain_set_caps(struct domain *caller, uint32_t domid, uint64_t caps);

/**
 * KEEL_HC_CTL_DOMAIN_SET_SCHED: @weight (1..65535) and @cap (percent of one
 * CPU, 0 = none, at most 100 per vCPU); KEEL_CTL_SCHED_UNCHANGED keeps one.
 *
 * Return: 0; -KEEL_EINVAL (out of range); -KEEL_EPERM; -KEEL_ESRCH.
 */
long ctl_hc_domain_set_sched(struct domain *caller, uint32_t domid, uint32_t weight,
			     uint32_t cap);

/**
 * KEEL_HC_CTL_VCPU_SET_AFFINITY: vCPU @vcpu of @domid may run only on the
 * existing physical CPUs of the struct keel_ctl_cpumap at @gpa.
 *
 * Return: 0; -KEEL_EINVAL (@vcpu out of range, no existing CPU in the map);
 *         -KEEL_EPERM; -KEEL_ESRCH; -KEEL_EFAULT.
 */
long ctl_hc_vcpu_set_affinity(struct domain *caller, uint32_t domid, uint32_t vcpu,
			      uint64_t gpa);

/**
 * KEEL_HC_CTL_LOG_READ: read the hypervisor log stream per the struct
 * keel_stream_read at @gpa (positions as KEEL_HC_CONSOLE_READ_DOMAIN).
 *
 * Return: 0; -KEEL_EPERM (no KEEL_CAP_LOG); -KEEL_EFAULT (struct or buffer);
 *         -KEEL_E2BIG (buf_len > KEEL_PAGE_SIZE); -KEEL_EINVAL (domid or
 *         pad0 set, buf_len 0); -KEEL_ENOMEM.
 */
long ctl_hc_log_read(struct domain *caller, uint64_t gpa);

/*
 * @d changed state (paused, running, shut down, dying): raise
 * KEEL_VIRQ_DOMAIN_STATE in every live domain with control over it that
 * bound it. The control calls do this for the changes they make; a change
 * the guest makes (domain_ended()) should call it too.
 */
void ctl_domain_state_changed(struct domain *d);

#endif
