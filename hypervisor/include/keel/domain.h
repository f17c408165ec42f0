/* SPDX-License-Identifier: MIT */
/*
 * keel/domain.h - domains and their vCPUs: identity, lifecycle, references.
 *
 * Domain ids start at 1 and are never reused while Keel runs (the ABI's
 * promise, docs/abi/README.md). A domain is found by id in O(1): it lives
 * in slot (domid % DOMAIN_SLOTS), and creation skips ids whose slot is
 * taken. Lookups take a reference; the domain's memory is freed when it
 * is destroyed and the last reference is gone.
 *
 * Lifecycle: created PAUSED -> RUNNING <-> PAUSED; RUNNING -> SHUTDOWN
 * (the guest asked, with a reason; a controller forces PAUSED ones too);
 * SHUTDOWN (suspend) -> RUNNING; any -> DYING (destroy) -> gone.
 */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <keel/guest_memory.h>
#include <keel/sched.h>
#include <keel/spinlock.h>
#include <keel/types.h>
#include <public/keel/abi.h>
#include <public/keel/control.h>

#define DOMAIN_SLOTS		256	/* live domains at most */
#define DOMAIN_NAME_MAX		32	/* with the NUL, as in the control ABI */
#define DOMAIN_UUID_SIZE	16	/* keel_ctl_domain_create.uuid */
#define DOMAIN_MAX_VCPUS	64
/* The emulated-platform flags a domain may have (public/keel/control.h). */
#define DOMAIN_PLATFORM_FLAGS	(KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_PLATFORM_PCI | \
				 KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC)

struct console_domain;
struct device_domain;
struct vcpu_state;
struct evtchn_domain;
struct gnttab_domain;
struct keel_shared_info;

enum domain_state {
	DOMAIN_CREATING,	/* id reserved, parts being built; lookups fail */
	DOMAIN_PAUSED,		/* created, or paused: no vCPU runs */
	DOMAIN_RUNNING,
	DOMAIN_SHUTDOWN,	/* the guest shut down; waits to be destroyed */
	DOMAIN_DYING,		/* being destroyed; lookups fail */
};

struct vcpu {
	struct domain *domain;		/* (c) */
	uint32_t id;			/* (c) index in domain->vcpus */
	void *arch;			/* (c) the architecture's per-vCPU state */
	struct sched_entity sched;	/* its scheduler state (core/sched.c) */
	struct vcpu_state *state;	/* (c) the vCPU layer's (core/vcpu.c) */
};

struct domain {
	uint32_t domid;			/* (c) */
	char name[DOMAIN_NAME_MAX];	/* (c) unique among live domains */
	uint8_t uuid[DOMAIN_UUID_SIZE];	/* (c) opaque, as its creator gave it */
	uint32_t caps;			/* (atomic) KEEL_CAP_*; CTL_DOMAIN_SET_CAPS */
	uint32_t creator;		/* (c) domid that created it; 0: Keel */
	struct spinlock lock;		/* guards state and shutdown_reason */
	enum domain_state state;
	uint32_t shutdown_reason;	/* KEEL_SHUTDOWN_* once SHUTDOWN */
	uint32_t refs;			/* atomic; the table holds one while live */
	struct guest_memory mem;
	struct keel_shared_info *shared_info;	/* (c) Keel's page for the domain */
	paddr_t shared_info_pa;			/* (c) */
	struct evtchn_domain *evtchn;		/* (c) its ports (core/evtchn.c) */
	struct gnttab_domain *gnttab;		/* (c) grants and maps (core/grant_table.c) */
	struct console_domain *console;	/* (c) hypervisor console (core/console.c) */
	struct device_domain *devices;	/* (c) PV devices and device table (core/device.c) */
	uint32_t vcpu_count;		/* (c) */
	struct vcpu *vcpus[DOMAIN_MAX_VCPUS];	/* (c) */
	struct sched_group sched;	/* its share of the CPUs */
	uint64_t time_origin_ns;	/* (c) arch_time_ns() at creation: system time 0 */
	uint32_t features;		/* (c) feature word 0 (KEEL_F0_*) it may use */
	uint32_t platform;		/* (c) KEEL_DOMCREATE_F_*: its emulated platform */
	bool identified;		/* KEEL_HC_IDENTIFY succeeded (atomic) */
	struct keel_identity identity;	/* [lock] the last identity record */
	void *arch;			/* (c) the architecture's per-domain state */
};
/* (c): set by domain_create(), constant afterwards. */

struct domain_params {
	const char *name;
	uint32_t caps;
	uint32_t creator;
	uint32_t vcpu_count;		/* 1 .. DOMAIN_MAX_VCPUS */
	uint64_t max_pages;		/* RAM limit */
	uint32_t weight;		/* scheduler weight; 0: SCHED_WEIGHT_DEFAULT */
	uint32_t cap;			/* CPU cap in percent of one CPU; 0: none */
	uint32_t max_grant_frames;	/* 0: the default */
	uint32_t max_maps;		/* grant maps it may hold; 0: the default */
	uint32_t platform;		/* KEEL_DOMCREATE_F_* (ACPI, UART, RTC, PLATFORM_PCI) */
	const uint8_t *uuid;		/* DOMAIN_UUID_SIZE bytes; NULL: all zero */
	uint32_t max_evtchn_ports;	/* 0: the default; else 4096..KEEL_EVTCHN_MAX_PORTS */
};

/*
 * Create a PAUSED domain with its vCPUs (no memory yet). Returns 0 and the
 * domain with a reference for the caller, or -KEEL_EINVAL (bad name or
 * vCPU count), -KEEL_EEXIST (name in use), -KEEL_ENOSPC (no free slot),
 * -KEEL_ENOMEM.
 */
int domain_create(const struct domain_params *params, struct domain **out);

/* A reference to a live (not DYING) domain, or NULL. */
struct domain *domain_get(uint32_t domid);
void domain_ref(struct domain *d);
void domain_put(struct domain *d);

/* State changes. Return 0 or -KEEL_EBUSY when the state does not allow it. */
int domain_pause(struct domain *d);
int domain_unpause(struct domain *d);
int domain_shutdown(struct domain *d, uint32_t reason);

/*
 * For the control interface: a controller forces a PAUSED domain down
 * (domain_shutdown() only stops a RUNNING one, as a guest does), or
 * resumes a domain shut down with KEEL_SHUTDOWN_SUSPEND (-KEEL_EBUSY for
 * any other state or reason).
 */
int domain_shutdown_paused(struct domain *d, uint32_t reason);
int domain_resume(struct domain *d);

/*
 * Destroy: the domain leaves the table at once (lookups fail, its name is
 * free again); its memory and vCPUs go when the last reference does.
 * Returns 0 or -KEEL_EBUSY if it is already dying.
 */
int domain_destroy(struct domain *d);

/* Up to @max live domain ids, ascending; returns how many were written. */
unsigned int domain_list(uint32_t *ids, unsigned int max);

/* Live domains right now. */
unsigned int domain_count(void);

/* Domains not yet freed: live ones plus destroyed ones still referenced. */
unsigned int domain_objects(void);

#endif
