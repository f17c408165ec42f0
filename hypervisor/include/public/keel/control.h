/* SPDX-License-Identifier: MIT */
/* keel/control.h: the stable, capability-based control interface (domains, memory, vCPUs, devices, log). */
#ifndef KEEL_PUBLIC_CONTROL_H
#define KEEL_PUBLIC_CONTROL_H

#include "abi.h"
#include "console.h"
#include "memory.h"

/*
 * The control interface is part of the stable ABI: the same rules as every
 * other call (append-only numbers, no layout change, feature bits). It is
 * guarded by capabilities, never by "being domain 0".
 *
 * "Control over D" means: the caller holds KEEL_CAP_CONTROL, or it holds
 * KEEL_CAP_CREATE and created D. Calls marked (not self) fail with
 * KEEL_EINVAL when D is the caller. Common errors of every call here:
 * KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0, or the capability/control below is
 * missing), KEEL_ESRCH (D does not exist or is dying), except where a call
 * says otherwise.
 *
 * KEEL_HC_CTL_HOST_INFO: arg0: IN GPA of a struct keel_ctl_host_info.
 *   cap: CONTROL or CREATE.  return: 0.  errors: KEEL_EFAULT.
 *
 * KEEL_HC_CTL_DOMAIN_CREATE: arg0: IN GPA of a struct keel_ctl_domain_create.
 *   The domain starts paused, with no RAM, vCPU 0 online in its reset state
 *   and the other vCPUs offline. Its parent is the caller.
 *   cap: CONTROL or CREATE; caps must be a subset of the caller's.
 *   return: 0 (domid filled in).
 *   errors: KEEL_EFAULT, KEEL_EPERM (caps not a subset), KEEL_EINVAL (empty
 *   or unterminated name, nr_vcpus 0 or > max_vcpus, unknown flag or cap
 *   bit, max_evtchn_ports not 0 and outside 4096 .. KEEL_EVTCHN_MAX_PORTS,
 *   weight > 65535, pad0 != 0), KEEL_EEXIST (name in use), KEEL_ENOSPC (no
 *   domain id left), KEEL_ENOMEM.
 *
 * KEEL_HC_CTL_DOMAIN_DESTROY: arg0: IN domid (not self). Force-revokes the
 *   domain's grants, drops its maps, closes its ports (peers see them go
 *   UNBOUND and pending), removes its devices, frees all its memory.
 *   return: 0 when the domain is gone.  errors: KEEL_EAGAIN (progress made,
 *   call again), KEEL_EINVAL (self); KEEL_ESRCH only for an unknown id (a
 *   dying domain's destruction continues).
 *
 * KEEL_HC_CTL_DOMAIN_PAUSE / _UNPAUSE: arg0: IN domid (not self). Pause is a
 *   flag, not a count; both are idempotent. UNPAUSE of a domain shut down
 *   with KEEL_SHUTDOWN_SUSPEND resumes it (its SHUTDOWN call returns 1).
 *   return: 0.  errors: KEEL_EINVAL (self), KEEL_EBUSY (UNPAUSE of a domain
 *   shut down for another reason).
 *
 * KEEL_HC_CTL_DOMAIN_SHUTDOWN: arg0: IN domid (not self); arg1: IN reason
 *   (KEEL_SHUTDOWN_*); arg2: IN flags (KEEL_CTL_SHUTDOWN_F_*). Without FORCE
 *   Keel sets keel_shared_info.shutdown_request and sends
 *   KEEL_VIRQ_SHUTDOWN_REQUEST (POWEROFF, REBOOT, SUSPEND only); with FORCE
 *   the domain stops now as if it had called KEEL_HC_SCHED_SHUTDOWN.
 *   return: 0.  errors: KEEL_EINVAL (self, unknown reason or flag, CRASH
 *   without FORCE), KEEL_EBUSY (already shut down).
 *
 * KEEL_HC_CTL_DOMAIN_INFO: arg0: IN GPA of a struct keel_ctl_domain_info
 *   (domid IN). cap: control over domid, or domid is the caller. Also
 *   describes a dying domain (KEEL_DOMINFO_F_DYING).
 *   return: 0.  errors: KEEL_EFAULT.
 *
 * KEEL_HC_CTL_DOMAIN_LIST: arg0: IN GPA of a struct keel_ctl_domain_list;
 *   Keel reads and writes the header and the first max entries, which must
 *   lie in one page. Lists, in increasing order from start_domid, the domains
 *   the caller has control over (and itself).
 *   cap: CONTROL or CREATE.  return: 0.
 *   errors: KEEL_EFAULT, KEEL_E2BIG (max > 1020), KEEL_EINVAL (pad0 != 0);
 *   no KEEL_ESRCH.
 *
 * KEEL_HC_CTL_DOMAIN_SET_MEMORY: arg0: IN domid; arg1: IN max_pages; arg2:
 *   IN target_pages (either 0 = unchanged). A new target is written to the
 *   domain's shared info and KEEL_VIRQ_MEMORY_TARGET sent. Lowering max
 *   below current only stops further growth.
 *   return: 0.  errors: KEEL_EINVAL (target > max).
 *
 * KEEL_HC_CTL_DOMAIN_POPULATE: arg0: IN domid; arg1: IN GPA of an array of
 *   struct keel_memory_extent; arg2: IN count. Batched like
 *   KEEL_HC_MEMORY_POPULATE, on the target's physical address space.
 *   return: n processed.  batch errors: KEEL_EFAULT, KEEL_EINVAL (count 0),
 *   KEEL_E2BIG. element errors: as KEEL_HC_MEMORY_POPULATE.
 *
 * KEEL_HC_CTL_DOMAIN_LOAD: arg0: IN domid; arg1: IN GPA of an array of
 *   struct keel_ctl_load_page; arg2: IN count. Batched; each element copies
 *   one whole page from the caller to the target.
 *   return: n processed.  batch errors: as POPULATE. element errors:
 *   KEEL_EFAULT (src_gfn not the caller's RAM), KEEL_ENOENT (dst_gfn not
 *   the target's RAM), KEEL_EINVAL (pad0 != 0).
 *
 * KEEL_HC_CTL_DOMAIN_SET_CAPS: arg0: IN domid; arg1: IN new capability set.
 *   The set must be a subset of the caller's own; a domain may also drop
 *   its own capabilities (domid = caller).
 *   return: 0.  errors: KEEL_EPERM (not a subset), KEEL_EINVAL (unknown bit).
 *
 * KEEL_HC_CTL_DOMAIN_SET_SCHED: arg0: IN domid; arg1: IN weight (1 ..
 *   65535); arg2: IN cap in percent of one CPU (0 = no cap, at most 100 *
 *   nr_vcpus). KEEL_CTL_SCHED_UNCHANGED leaves either as it is.
 *   return: 0.  errors: KEEL_EINVAL (out of range).
 *
 * KEEL_HC_CTL_VCPU_SET_CONTEXT / _GET_CONTEXT: arg0: IN domid (not self);
 *   arg1: IN vCPU; arg2: IN GPA of the arch context (struct
 *   keel_x86_vcpu_context), IN for SET, OUT for GET. The domain must be
 *   paused or shut down. SET also brings the vCPU online.
 *   return: 0.  errors: KEEL_EFAULT, KEEL_EINVAL (self, vCPU out of range,
 *   context rejected), KEEL_EBUSY (domain running).
 *
 * KEEL_HC_CTL_VCPU_SET_AFFINITY: arg0: IN domid; arg1: IN vCPU; arg2: IN GPA
 *   of a struct keel_ctl_cpumap (bit n = physical CPU n may run it).
 *   return: 0.  errors: KEEL_EFAULT, KEEL_EINVAL (vCPU out of range, no
 *   existing CPU in the map).
 *
 * KEEL_HC_CTL_DEVICE_SETUP: arg0: IN GPA of a struct keel_ctl_device.
 *   Creates a PV device between a frontend and a backend domain: a device
 *   control page (keel/io/device.h), a control port in the frontend that is
 *   UNBOUND for the backend, and a node in both device tables (both get
 *   KEEL_VIRQ_DEVICE_TABLE). cap: control over the frontend; the backend
 *   must hold the class's KEEL_CAP_BACKEND_*.
 *   return: 0 (device_id and frontend_port filled in).
 *   errors: KEEL_EFAULT, KEEL_EPERM (control, or backend capability),
 *   KEEL_EINVAL (unknown class, frontend == backend, unterminated label,
 *   pad), KEEL_EEXIST (the frontend already has this class and index),
 *   KEEL_ENOSPC (frontend out of ports, or no device id left), KEEL_ENOMEM.
 *
 * KEEL_HC_CTL_DEVICE_REMOVE: arg0: IN device id. Removes the device from
 *   both device tables (both get KEEL_VIRQ_DEVICE_TABLE). The control page
 *   is freed when neither side has it mapped any more.
 *   cap: control over the frontend.  return: 0.
 *   errors: KEEL_ENOENT (no such device); no KEEL_ESRCH.
 *
 * KEEL_HC_CTL_LOG_READ: arg0: IN GPA of a struct keel_stream_read (domid
 *   MBZ) for the hypervisor log.
 *   cap: LOG.  return: 0.
 *   errors: KEEL_EFAULT, KEEL_E2BIG (buf_len > KEEL_PAGE_SIZE), KEEL_EINVAL
 *   (domid or pad0 != 0, buf_len == 0); no KEEL_ESRCH.
 */

/* Capabilities (64-bit set; bits not listed are reserved). */
#define KEEL_CAP_CONTROL		0x00000001u	/* control over every domain */
#define KEEL_CAP_CREATE			0x00000002u	/* create domains; control over them */
#define KEEL_CAP_BACKEND_CONSOLE	0x00000004u	/* may be a console backend */
#define KEEL_CAP_BACKEND_BLOCK		0x00000008u	/* may be a block backend */
#define KEEL_CAP_BACKEND_NET		0x00000010u	/* may be a net backend */
#define KEEL_CAP_CONSOLE		0x00000020u	/* read/write any domain's hypervisor console */
#define KEEL_CAP_LOG			0x00000040u	/* read the hypervisor log */
#define KEEL_CAP_ALL_V1			0x0000007fu

/* keel_ctl_domain_create.flags: platform pieces the domain gets (x86). */
#define KEEL_DOMCREATE_F_ACPI		0x00000001u	/* Keel writes ACPI tables (docs/abi/boot.md) */
#define KEEL_DOMCREATE_F_PLATFORM_PCI	0x00000002u	/* PCI host bridge + Keel platform device */
#define KEEL_DOMCREATE_F_UART		0x00000004u	/* 16550 UART at 0x3f8, GSI 4 */
#define KEEL_DOMCREATE_F_RTC		0x00000008u	/* CMOS RTC at 0x70 */

/* Defaults used when a keel_ctl_domain_create limit is 0. */
#define KEEL_CTL_EVTCHN_PORTS_DEFAULT	4096
#define KEEL_CTL_GRANT_FRAMES_DEFAULT	32
#define KEEL_CTL_MAPS_DEFAULT		16384
#define KEEL_CTL_WEIGHT_DEFAULT		256
#define KEEL_CTL_SCHED_UNCHANGED	0xffffffffu

/* keel_ctl_domain_info.flags */
#define KEEL_DOMINFO_F_PAUSED		0x00000001u	/* paused by a controller */
#define KEEL_DOMINFO_F_SHUTDOWN		0x00000002u	/* stopped; shutdown_reason is valid */
#define KEEL_DOMINFO_F_DYING		0x00000004u	/* being destroyed */
#define KEEL_DOMINFO_F_IDENTIFIED	0x00000008u	/* identity is valid */
#define KEEL_DOMINFO_F_BLOCKED		0x00000010u	/* every online vCPU is blocked */
#define KEEL_DOMINFO_F_BOOT		0x00000020u	/* started by Keel from its boot config */

/* KEEL_HC_CTL_DOMAIN_SHUTDOWN flags. */
#define KEEL_CTL_SHUTDOWN_F_FORCE	0x00000001u

#define KEEL_CTL_DOMAIN_LIST_MAX	1020

struct keel_ctl_host_info {
	uint16_t abi_major;		/* OUT */
	uint16_t abi_minor;		/* OUT */
	uint32_t nr_pcpus;		/* OUT: physical CPUs Keel runs on */
	uint64_t total_pages;		/* OUT: RAM Keel manages */
	uint64_t free_pages;		/* OUT: not given to any domain or to Keel */
	uint32_t tsc_khz;		/* OUT */
	uint32_t nr_domains;		/* OUT: existing domains, dying included */
	uint8_t version[32];		/* OUT: Keel release, ASCII, NUL-padded */
	uint32_t features[4];		/* OUT: feature words, as CPUID B+2 */
	uint32_t max_vcpus;		/* OUT: vCPUs per domain, at most */
	uint32_t pad0;			/* OUT: zero */
};

struct keel_ctl_domain_create {
	uint8_t name[32];		/* IN: ASCII, NUL-terminated, unique among live domains */
	uint8_t uuid[16];		/* IN: opaque to Keel, reported back */
	uint64_t max_pages;		/* IN: memory limit in pages */
	uint64_t caps;			/* IN: KEEL_CAP_* */
	uint32_t nr_vcpus;		/* IN: 1 .. host max_vcpus */
	uint32_t flags;			/* IN: KEEL_DOMCREATE_F_* */
	uint32_t max_evtchn_ports;	/* IN: 0 = KEEL_CTL_EVTCHN_PORTS_DEFAULT */
	uint32_t max_grant_frames;	/* IN: 0 = KEEL_CTL_GRANT_FRAMES_DEFAULT */
	uint32_t max_maps;		/* IN: live grant maps; 0 = KEEL_CTL_MAPS_DEFAULT */
	uint32_t weight;		/* IN: scheduler weight; 0 = KEEL_CTL_WEIGHT_DEFAULT */
	uint32_t domid;			/* OUT */
	uint32_t pad0;			/* MBZ */
};

struct keel_ctl_domain_info {
	uint32_t domid;			/* IN */
	uint32_t flags;			/* OUT: KEEL_DOMINFO_F_* */
	uint32_t shutdown_reason;	/* OUT: KEEL_SHUTDOWN_* */
	uint32_t nr_vcpus;		/* OUT */
	uint32_t nr_vcpus_online;	/* OUT */
	uint32_t parent_domid;		/* OUT: creator; KEEL_DOMID_NONE for boot domains */
	uint64_t caps;			/* OUT */
	uint64_t current_pages;		/* OUT */
	uint64_t max_pages;		/* OUT */
	uint64_t target_pages;		/* OUT */
	uint64_t cpu_time_ns;		/* OUT: sum over vCPUs of RUNNING time */
	uint8_t name[32];		/* OUT */
	uint8_t uuid[16];		/* OUT */
	uint32_t weight;		/* OUT */
	uint32_t cap_percent;		/* OUT: 0 = uncapped */
	struct keel_identity identity;	/* OUT: as the guest sent it (zero if none) */
};

struct keel_ctl_domain_list {
	uint32_t start_domid;		/* IN: list ids >= this */
	uint32_t max;			/* IN: capacity of domids[], 0 .. 1020 */
	uint32_t count;			/* OUT: entries written */
	uint32_t pad0;			/* MBZ */
	uint32_t domids[1020];		/* OUT */
};

struct keel_ctl_load_page {
	uint64_t src_gfn;		/* IN: caller's page */
	uint64_t dst_gfn;		/* IN: target's page (must be RAM) */
	int32_t status;			/* OUT */
	uint32_t pad0;			/* MBZ */
};

struct keel_ctl_cpumap {
	uint64_t bits[16];		/* IN: physical CPUs 0 .. 1023 */
};

struct keel_ctl_device {
	uint32_t device_class;		/* IN: KEEL_IO_CLASS_* */
	uint32_t frontend_domid;	/* IN */
	uint32_t backend_domid;		/* IN */
	uint32_t index;			/* IN: instance within the class for this frontend */
	uint8_t label[16];		/* IN: ASCII hint for the guest (e.g. "xvda"), NUL-padded */
	uint32_t device_id;		/* OUT */
	uint32_t frontend_port;		/* OUT: control port in the frontend */
};

#endif /* KEEL_PUBLIC_CONTROL_H */
