/* SPDX-License-Identifier: MIT */
/*
 * core/hypercall.c - the hypercall dispatcher and the discovery calls.
 *
 * Each number maps to a handler that receives the raw register arguments
 * and a mask of which of them are 32-bit values. The dispatcher applies the
 * checks every call shares, in the order of docs/abi/errors.md: unknown
 * number (2), identification (3), 32-bit arguments with bits 63:32 set
 * (the first part of 4). Handlers do the rest in the same order. Handlers
 * live with the subsystem they belong to; the thin ones here only decode.
 */
#include <keel/console.h>
#include <keel/control.h>
#include <keel/device.h>
#include <keel/evtchn.h>
#include <keel/grant_table.h>
#include <keel/hypercall.h>
#include <keel/memory_ops.h>
#include <keel/schedule.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <public/keel/abi.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/hypercall.h>
#include <public/keel/sched.h>

#define TABLE_SIZE	0x200u		/* every number in use is below this */
#define A(n)		(1u << (n))	/* argument n is 32-bit */

typedef long (*hc_handler)(struct vcpu *v, const uint64_t *a);

struct hc_entry {
	hc_handler fn;
	uint8_t narrow;			/* A(n) for each 32-bit argument */
	bool before_identify;		/* allowed before KEEL_HC_IDENTIFY */
};

static uint64_t calls;

uint64_t hypercall_count(void)
{
	return __atomic_load_n(&calls, __ATOMIC_RELAXED);
}

/* A struct the guest passes by address: 8-byte aligned, in one page, RAM. */
static long copy_in(struct domain *d, uint64_t gpa, void *buf, size_t len)
{
	if ((gpa & 7) || !guest_range_in_page(gpa, len) || guest_copy_from(d, gpa, buf, len) != 0) {
		return -KEEL_EFAULT;
	}
	return 0;
}

static long copy_out(struct domain *d, uint64_t gpa, const void *buf, size_t len)
{
	return guest_copy_to(d, gpa, buf, len) == 0 ? 0 : -KEEL_EFAULT;
}

/* Handlers that only decode the registers. */
#define CTL0(name, fn)								\
	static long name(struct vcpu *v, const uint64_t *a)			\
	{									\
		return fn(v->domain, a[0]);					\
	}
#define CTL1(name, fn, t0)							\
	static long name(struct vcpu *v, const uint64_t *a)			\
	{									\
		return fn(v->domain, (t0)a[0]);					\
	}
#define CTL3(name, fn, t0, t1, t2)						\
	static long name(struct vcpu *v, const uint64_t *a)			\
	{									\
		return fn(v->domain, (t0)a[0], (t1)a[1], (t2)a[2]);		\
	}

#define MEM2(name, fn)								\
	static long name(struct vcpu *v, const uint64_t *a)			\
	{									\
		return fn(v->domain, a[0], a[1]);				\
	}

/* ---- Discovery ---------------------------------------------------------- */

static long hc_version(struct vcpu *v, const uint64_t *a)
{
	(void)v;
	(void)a;
	return ((long)KEEL_ABI_MAJOR << 16) | KEEL_ABI_MINOR;
}

static long hc_features(struct vcpu *v, const uint64_t *a)
{
	return a[0] == 0 ? (long)v->domain->features : 0;
}

static long hc_identify(struct vcpu *v, const uint64_t *a)
{
	struct domain *d = v->domain;
	struct keel_identity id;
	unsigned long flags;
	long rc = copy_in(d, a[0], &id, sizeof(id));

	if (rc != 0) {
		return rc;
	}
	if (id.os_id == KEEL_OS_UNKNOWN) {
		return -KEEL_EINVAL;
	}
	if (id.abi_major != KEEL_ABI_MAJOR || id.abi_minor > KEEL_ABI_MINOR) {
		return -KEEL_EVERSION;
	}
	flags = spin_lock_irqsave(&d->lock);
	d->identity = id;
	spin_unlock_irqrestore(&d->lock, flags);
	__atomic_store_n(&d->identified, true, __ATOMIC_RELEASE);
	return 0;
}

/* ---- Hypervisor console (core/console.c) ------------------------------------ */

MEM2(hc_console_write, console_hc_write)
MEM2(hc_console_read, console_hc_read)
CTL0(hc_console_read_domain, console_hc_read_domain)

static long hc_console_write_domain(struct vcpu *v, const uint64_t *a)
{
	return console_hc_write_domain(v->domain, (uint32_t)a[0], a[1], a[2]);
}

/* ---- Scheduling ---------------------------------------------------------- */

static long hc_yield(struct vcpu *v, const uint64_t *a)
{
	(void)a;
	return vcpu_hc_yield(v);
}

static long hc_block(struct vcpu *v, const uint64_t *a)
{
	(void)a;
	return vcpu_hc_block(v);
}

static long hc_poll(struct vcpu *v, const uint64_t *a)
{
	return vcpu_hc_poll(v, a[0]);
}

static long hc_shutdown(struct vcpu *v, const uint64_t *a)
{
	uint32_t reason = (uint32_t)a[0];

	if (reason < KEEL_SHUTDOWN_POWEROFF || reason > KEEL_SHUTDOWN_CRASH) {
		return -KEEL_EINVAL;
	}
	if (reason == KEEL_SHUTDOWN_SUSPEND) {
		/* Save and restore are not implemented: cancelled at once. */
		return 1;
	}
	domain_ended(v->domain, reason,
		     reason == KEEL_SHUTDOWN_CRASH ? "the guest reported a crash" : "");
	return 0;
}

static long hc_set_timer(struct vcpu *v, const uint64_t *a)
{
	return vcpu_hc_set_timer(v, a[0]);
}

/* ---- Event channels -------------------------------------------------------- */

static struct evtchn_domain *ev(struct vcpu *v)
{
	return v->domain->evtchn;
}

static long hc_evtchn_alloc_unbound(struct vcpu *v, const uint64_t *a)
{
	return evtchn_alloc_unbound(ev(v), (uint32_t)a[0]);
}

static long hc_evtchn_bind_interdomain(struct vcpu *v, const uint64_t *a)
{
	return evtchn_bind_interdomain(ev(v), (uint32_t)a[0], (uint32_t)a[1]);
}

static long hc_evtchn_bind_virq(struct vcpu *v, const uint64_t *a)
{
	return evtchn_bind_virq(ev(v), (uint32_t)a[0], (uint32_t)a[1]);
}

static long hc_evtchn_bind_ipi(struct vcpu *v, const uint64_t *a)
{
	return evtchn_bind_ipi(ev(v), (uint32_t)a[0]);
}

static long hc_evtchn_send(struct vcpu *v, const uint64_t *a)
{
	return evtchn_send(ev(v), (uint32_t)a[0]);
}

static long hc_evtchn_close(struct vcpu *v, const uint64_t *a)
{
	return evtchn_close(ev(v), (uint32_t)a[0]);
}

static long hc_evtchn_status(struct vcpu *v, const uint64_t *a)
{
	struct keel_evtchn_status st;
	long rc = copy_in(v->domain, a[0], &st, sizeof(st));

	if (rc != 0) {
		return rc;
	}
	rc = evtchn_status(ev(v), &st);
	if (rc != 0) {
		return rc;
	}
	return copy_out(v->domain, a[0], &st, sizeof(st));
}

static long hc_evtchn_mask(struct vcpu *v, const uint64_t *a)
{
	return evtchn_mask(ev(v), (uint32_t)a[0]);
}

static long hc_evtchn_unmask(struct vcpu *v, const uint64_t *a)
{
	return evtchn_unmask(ev(v), (uint32_t)a[0]);
}

static long hc_evtchn_bind_vcpu(struct vcpu *v, const uint64_t *a)
{
	return evtchn_bind_vcpu(ev(v), (uint32_t)a[0], (uint32_t)a[1]);
}

static long hc_evtchn_set_upcall(struct vcpu *v, const uint64_t *a)
{
	struct keel_evtchn_upcall req;
	long rc = copy_in(v->domain, a[0], &req, sizeof(req));

	if (rc != 0) {
		return rc;
	}
	return evtchn_set_upcall(ev(v), &req);
}

static long hc_evtchn_expand(struct vcpu *v, const uint64_t *a)
{
	struct domain *d = v->domain;
	struct keel_evtchn_expand req;
	paddr_t pending_pa, mask_pa;
	long rc = copy_in(d, a[0], &req, sizeof(req));

	if (rc != 0) {
		return rc;
	}
	/* Pinned until the domain is gone: Keel writes these bitmaps. */
	if (guest_memory_pin(d, req.pending_gfn, &pending_pa) != 0) {
		return -KEEL_EFAULT;
	}
	if (guest_memory_pin(d, req.mask_gfn, &mask_pa) != 0) {
		guest_memory_unpin(d, req.pending_gfn);
		return -KEEL_EFAULT;
	}
	rc = evtchn_expand(ev(v), &req, arch_phys_to_virt(pending_pa), arch_phys_to_virt(mask_pa));
	if (rc < 0) {
		guest_memory_unpin(d, req.mask_gfn);
		guest_memory_unpin(d, req.pending_gfn);
	}
	return rc;
}

/* ---- Grant tables and memory ------------------------------------------------- */

CTL0(hc_gnttab_setup, gnttab_hc_setup)
CTL0(hc_gnttab_query, gnttab_hc_query)
MEM2(hc_gnttab_map, gnttab_hc_map)
MEM2(hc_gnttab_unmap, gnttab_hc_unmap)
MEM2(hc_gnttab_copy, gnttab_hc_copy)
MEM2(hc_gnttab_revoke, gnttab_hc_revoke)
MEM2(hc_memory_populate, memory_hc_populate)
MEM2(hc_memory_release, memory_hc_release)
CTL0(hc_memory_query, memory_hc_query)

static long hc_memory_map_shared(struct vcpu *v, const uint64_t *a)
{
	return memory_hc_map_shared(v->domain, a[0], a[1], a[2]);
}

static long hc_memory_unmap_shared(struct vcpu *v, const uint64_t *a)
{
	return memory_hc_unmap_shared(v->domain, a[0]);
}

/* ---- vCPUs ------------------------------------------------------------------ */

static long hc_vcpu_register_info(struct vcpu *v, const uint64_t *a)
{
	return vcpu_hc_register_info(v, (uint32_t)a[0], a[1]);
}

static long hc_vcpu_up(struct vcpu *v, const uint64_t *a)
{
	return vcpu_hc_up(v, (uint32_t)a[0], a[1]);
}

static long hc_vcpu_down(struct vcpu *v, const uint64_t *a)
{
	return vcpu_hc_down(v, (uint32_t)a[0]);
}

static long hc_vcpu_info(struct vcpu *v, const uint64_t *a)
{
	return vcpu_hc_info(v, a[0]);
}

/* ---- Device table ------------------------------------------------------------ */

static long hc_device_table_read(struct vcpu *v, const uint64_t *a)
{
	return device_hc_table_read(v->domain, a[0], a[1], a[2]);
}

static long hc_ctl_device_setup(struct vcpu *v, const uint64_t *a)
{
	return device_hc_ctl_setup(v->domain, a[0]);
}

static long hc_ctl_device_remove(struct vcpu *v, const uint64_t *a)
{
	return device_hc_ctl_remove(v->domain, (uint32_t)a[0]);
}

/* ---- Control interface (core/control.c) ------------------------------------ */

CTL0(hc_ctl_host_info, ctl_hc_host_info)
CTL0(hc_ctl_domain_create, ctl_hc_domain_create)
CTL1(hc_ctl_domain_destroy, ctl_hc_domain_destroy, uint32_t)
CTL1(hc_ctl_domain_pause, ctl_hc_domain_pause, uint32_t)
CTL1(hc_ctl_domain_unpause, ctl_hc_domain_unpause, uint32_t)
CTL3(hc_ctl_domain_shutdown, ctl_hc_domain_shutdown, uint32_t, uint32_t, uint32_t)
CTL0(hc_ctl_domain_info, ctl_hc_domain_info)
CTL0(hc_ctl_domain_list, ctl_hc_domain_list)
CTL3(hc_ctl_domain_set_memory, ctl_hc_domain_set_memory, uint32_t, uint64_t, uint64_t)
CTL3(hc_ctl_domain_populate, ctl_hc_domain_populate, uint32_t, uint64_t, uint64_t)
CTL3(hc_ctl_domain_load, ctl_hc_domain_load, uint32_t, uint64_t, uint64_t)
CTL3(hc_ctl_domain_set_sched, ctl_hc_domain_set_sched, uint32_t, uint32_t, uint32_t)
CTL3(hc_ctl_vcpu_set_context, ctl_hc_vcpu_set_context, uint32_t, uint32_t, uint64_t)
CTL3(hc_ctl_vcpu_get_context, ctl_hc_vcpu_get_context, uint32_t, uint32_t, uint64_t)
CTL3(hc_ctl_vcpu_set_affinity, ctl_hc_vcpu_set_affinity, uint32_t, uint32_t, uint64_t)
CTL0(hc_ctl_log_read, ctl_hc_log_read)

static long hc_ctl_domain_set_caps(struct vcpu *v, const uint64_t *a)
{
	return ctl_hc_domain_set_caps(v->domain, (uint32_t)a[0], a[1]);
}

/* ---- The table ---------------------------------------------------------------- */

#define EARLY(f)		{ .fn = (f), .before_identify = true }
#define CALL(f, n)		{ .fn = (f), .narrow = (n) }

static const struct hc_entry table[TABLE_SIZE] = {
	[KEEL_HC_VERSION] = EARLY(hc_version),
	[KEEL_HC_FEATURES] = EARLY(hc_features),
	[KEEL_HC_IDENTIFY] = EARLY(hc_identify),

	[KEEL_HC_CONSOLE_WRITE] = CALL(hc_console_write, 0),
	[KEEL_HC_CONSOLE_READ] = CALL(hc_console_read, 0),
	[KEEL_HC_CONSOLE_READ_DOMAIN] = CALL(hc_console_read_domain, 0),
	[KEEL_HC_CONSOLE_WRITE_DOMAIN] = CALL(hc_console_write_domain, A(0)),

	[KEEL_HC_SCHED_YIELD] = CALL(hc_yield, 0),
	[KEEL_HC_SCHED_BLOCK] = CALL(hc_block, 0),
	[KEEL_HC_SCHED_POLL] = CALL(hc_poll, 0),
	[KEEL_HC_SCHED_SHUTDOWN] = CALL(hc_shutdown, A(0)),
	[KEEL_HC_SCHED_SET_TIMER] = CALL(hc_set_timer, 0),

	[KEEL_HC_EVTCHN_ALLOC_UNBOUND] = CALL(hc_evtchn_alloc_unbound, A(0)),
	[KEEL_HC_EVTCHN_BIND_INTERDOMAIN] = CALL(hc_evtchn_bind_interdomain, A(0) | A(1)),
	[KEEL_HC_EVTCHN_BIND_VIRQ] = CALL(hc_evtchn_bind_virq, A(0) | A(1)),
	[KEEL_HC_EVTCHN_BIND_IPI] = CALL(hc_evtchn_bind_ipi, A(0)),
	[KEEL_HC_EVTCHN_SEND] = CALL(hc_evtchn_send, A(0)),
	[KEEL_HC_EVTCHN_CLOSE] = CALL(hc_evtchn_close, A(0)),
	[KEEL_HC_EVTCHN_STATUS] = CALL(hc_evtchn_status, 0),
	[KEEL_HC_EVTCHN_MASK] = CALL(hc_evtchn_mask, A(0)),
	[KEEL_HC_EVTCHN_UNMASK] = CALL(hc_evtchn_unmask, A(0)),
	[KEEL_HC_EVTCHN_BIND_VCPU] = CALL(hc_evtchn_bind_vcpu, A(0) | A(1)),
	[KEEL_HC_EVTCHN_SET_UPCALL] = CALL(hc_evtchn_set_upcall, 0),
	[KEEL_HC_EVTCHN_EXPAND] = CALL(hc_evtchn_expand, 0),

	[KEEL_HC_GNTTAB_SETUP] = CALL(hc_gnttab_setup, 0),
	[KEEL_HC_GNTTAB_QUERY] = CALL(hc_gnttab_query, 0),
	[KEEL_HC_GNTTAB_MAP] = CALL(hc_gnttab_map, 0),
	[KEEL_HC_GNTTAB_UNMAP] = CALL(hc_gnttab_unmap, 0),
	[KEEL_HC_GNTTAB_COPY] = CALL(hc_gnttab_copy, 0),
	[KEEL_HC_GNTTAB_REVOKE] = CALL(hc_gnttab_revoke, 0),

	[KEEL_HC_MEMORY_POPULATE] = CALL(hc_memory_populate, 0),
	[KEEL_HC_MEMORY_RELEASE] = CALL(hc_memory_release, 0),
	[KEEL_HC_MEMORY_QUERY] = CALL(hc_memory_query, 0),
	[KEEL_HC_MEMORY_MAP_SHARED] = CALL(hc_memory_map_shared, 0),
	[KEEL_HC_MEMORY_UNMAP_SHARED] = CALL(hc_memory_unmap_shared, 0),

	[KEEL_HC_VCPU_REGISTER_INFO] = CALL(hc_vcpu_register_info, A(0)),
	[KEEL_HC_VCPU_UP] = CALL(hc_vcpu_up, A(0)),
	[KEEL_HC_VCPU_DOWN] = CALL(hc_vcpu_down, A(0)),
	[KEEL_HC_VCPU_INFO] = CALL(hc_vcpu_info, 0),

	[KEEL_HC_DEVICE_TABLE_READ] = CALL(hc_device_table_read, 0),

	[KEEL_HC_CTL_HOST_INFO] = CALL(hc_ctl_host_info, 0),
	[KEEL_HC_CTL_DOMAIN_CREATE] = CALL(hc_ctl_domain_create, 0),
	[KEEL_HC_CTL_DOMAIN_DESTROY] = CALL(hc_ctl_domain_destroy, A(0)),
	[KEEL_HC_CTL_DOMAIN_PAUSE] = CALL(hc_ctl_domain_pause, A(0)),
	[KEEL_HC_CTL_DOMAIN_UNPAUSE] = CALL(hc_ctl_domain_unpause, A(0)),
	[KEEL_HC_CTL_DOMAIN_SHUTDOWN] = CALL(hc_ctl_domain_shutdown, A(0) | A(1) | A(2)),
	[KEEL_HC_CTL_DOMAIN_INFO] = CALL(hc_ctl_domain_info, 0),
	[KEEL_HC_CTL_DOMAIN_LIST] = CALL(hc_ctl_domain_list, 0),
	[KEEL_HC_CTL_DOMAIN_SET_MEMORY] = CALL(hc_ctl_domain_set_memory, A(0)),
	[KEEL_HC_CTL_DOMAIN_POPULATE] = CALL(hc_ctl_domain_populate, A(0)),
	[KEEL_HC_CTL_DOMAIN_LOAD] = CALL(hc_ctl_domain_load, A(0)),
	[KEEL_HC_CTL_DOMAIN_SET_CAPS] = CALL(hc_ctl_domain_set_caps, A(0)),
	[KEEL_HC_CTL_DOMAIN_SET_SCHED] = CALL(hc_ctl_domain_set_sched, A(0) | A(1) | A(2)),
	[KEEL_HC_CTL_VCPU_SET_CONTEXT] = CALL(hc_ctl_vcpu_set_context, A(0) | A(1)),
	[KEEL_HC_CTL_VCPU_GET_CONTEXT] = CALL(hc_ctl_vcpu_get_context, A(0) | A(1)),
	[KEEL_HC_CTL_VCPU_SET_AFFINITY] = CALL(hc_ctl_vcpu_set_affinity, A(0) | A(1)),
	[KEEL_HC_CTL_LOG_READ] = CALL(hc_ctl_log_read, 0),
	[KEEL_HC_CTL_DEVICE_SETUP] = CALL(hc_ctl_device_setup, 0),
	[KEEL_HC_CTL_DEVICE_REMOVE] = CALL(hc_ctl_device_remove, A(0)),
};

long hypercall_dispatch(struct vcpu *v, uint64_t nr, const uint64_t args[HYPERCALL_ARGS])
{
	const struct hc_entry *e;

	__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
	if (nr >= TABLE_SIZE || !table[nr].fn) {
		return -KEEL_ENOSYS;
	}
	e = &table[nr];
	if (!e->before_identify && !__atomic_load_n(&v->domain->identified, __ATOMIC_ACQUIRE)) {
		return -KEEL_ENOTIDENT;
	}
	for (unsigned int i = 0; i < HYPERCALL_ARGS; i++) {
		if ((e->narrow & A(i)) && (args[i] >> 32)) {
			return -KEEL_EINVAL;
		}
	}
	return e->fn(v, args);
}
