/* SPDX-License-Identifier: MIT */
/*
 * core/control.c - the control interface's calls (KEEL_HC_CTL_*) on top of
 * the domain, scheduler and log layers.
 *
 * Checks follow docs/abi/errors.md from step 4 on. "Control over D" needs
 * D's creator, so step 5 comes in two halves around the lookup (step 6):
 * first whether the caller holds KEEL_CAP_CONTROL or KEEL_CAP_CREATE at
 * all, then, once D is found, whether it controls this D (as core/device.c
 * does for devices).
 *
 * No lock is held across a call into another module: d->lock and
 * d->mem.lock are only taken alone, for a consistent snapshot.
 */
#include <arch/arch.h>
#include <keel/control.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/format.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/memory_ops.h>
#include <keel/page_alloc.h>
#include <keel/schedule.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <keel/version.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/sched.h>
#include <public/keel/shared_info.h>
#include <public/keel/vcpu.h>

_Static_assert(sizeof(KEEL_VERSION) <= sizeof(((struct keel_ctl_host_info *)0)->version),
	       "the release string fits keel_ctl_host_info.version with its NUL");

_Static_assert(sizeof(((struct keel_ctl_domain_create *)0)->uuid) == DOMAIN_UUID_SIZE &&
	       sizeof(((struct keel_ctl_domain_info *)0)->uuid) == DOMAIN_UUID_SIZE,
	       "a domain keeps the uuid the control ABI carries");

/* The header of struct keel_ctl_domain_list, which is a whole page. */
struct list_header {
	uint32_t start_domid;
	uint32_t max;
	uint32_t count;
	uint32_t pad0;
};
#define LIST_FIELD_SAME(f) \
	(offsetof(struct list_header, f) == offsetof(struct keel_ctl_domain_list, f))
_Static_assert(sizeof(struct list_header) == offsetof(struct keel_ctl_domain_list, domids) &&
	       LIST_FIELD_SAME(start_domid) && LIST_FIELD_SAME(max) &&
	       LIST_FIELD_SAME(count) && LIST_FIELD_SAME(pad0),
	       "list_header mirrors keel_ctl_domain_list");

/* --- rights and lookups --------------------------------------------------- */

static uint32_t caps_of(const struct domain *d)
{
	return __atomic_load_n(&d->caps, __ATOMIC_ACQUIRE);
}

/* The first half of step 5: whether @caller can control any domain at all. */
static bool may_control(const struct domain *caller)
{
	return (caps_of(caller) & (KEEL_CAP_CONTROL | KEEL_CAP_CREATE)) != 0;
}

/* Control over @d (docs/abi/control.md, "Capabilities"). */
static bool has_control(const struct domain *caller, const struct domain *d)
{
	uint32_t caps = caps_of(caller);

	return (caps & KEEL_CAP_CONTROL) ||
	       ((caps & KEEL_CAP_CREATE) && d->creator == caller->domid);
}

static bool is_self(const struct domain *caller, uint32_t domid)
{
	return domid == KEEL_DOMID_SELF || domid == caller->domid;
}

/*
 * Steps 5 and 6 for a call on @domid: 0 with a reference to the domain in
 * *@out, or -KEEL_EPERM / -KEEL_ESRCH.
 */
static long get_controlled(struct domain *caller, uint32_t domid, struct domain **out)
{
	struct domain *d;

	if (!may_control(caller)) {
		return -KEEL_EPERM;
	}
	d = domain_get(domid == KEEL_DOMID_SELF ? caller->domid : domid);
	if (!d) {
		return -KEEL_ESRCH;
	}
	if (!has_control(caller, d)) {
		domain_put(d);
		return -KEEL_EPERM;
	}
	*out = d;
	return 0;
}

static enum domain_state state_of(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&d->lock);
	enum domain_state st = d->state;

	spin_unlock_irqrestore(&d->lock, flags);
	return st;
}

void ctl_domain_state_changed(struct domain *d)
{
	uint32_t ids[DOMAIN_SLOTS];
	unsigned int n = domain_list(ids, DOMAIN_SLOTS);

	for (unsigned int i = 0; i < n; i++) {
		struct domain *c = domain_get(ids[i]);

		if (!c) {
			continue;	/* destroyed since the list was taken */
		}
		if (has_control(c, d)) {
			/* -KEEL_ENOENT: not bound, so not wanted. */
			(void)evtchn_raise_virq(c->evtchn, 0, KEEL_VIRQ_DOMAIN_STATE);
		}
		domain_put(c);
	}
}

/* --- guest structs -------------------------------------------------------- */

/* Step 7 for a struct: 8-byte aligned and within one page (RAM: the copy). */
static bool struct_ok(uint64_t gpa, size_t len)
{
	return IS_ALIGNED(gpa, 8) && guest_range_in_page(gpa, len);
}

static long copy_in(struct domain *caller, uint64_t gpa, void *buf, size_t len)
{
	if (!struct_ok(gpa, len) || guest_copy_from(caller, gpa, buf, len) != 0) {
		return -KEEL_EFAULT;
	}
	return 0;
}

static long copy_out(struct domain *caller, uint64_t gpa, const void *buf, size_t len)
{
	return guest_copy_to(caller, gpa, buf, len) == 0 ? 0 : -KEEL_EFAULT;
}

/* --- host ----------------------------------------------------------------- */

long ctl_hc_host_info(struct domain *caller, uint64_t gpa)
{
	struct keel_ctl_host_info info;

	if (!may_control(caller)) {
		return -KEEL_EPERM;
	}
	if (!struct_ok(gpa, sizeof(info))) {
		return -KEEL_EFAULT;
	}
	memset(&info, 0, sizeof(info));
	info.abi_major = KEEL_ABI_MAJOR;
	info.abi_minor = KEEL_ABI_MINOR;
	info.nr_pcpus = arch_cpu_count();
	info.total_pages = page_alloc_total_count();
	info.free_pages = page_alloc_free_count();
	info.tsc_khz = arch_tsc_khz();
	info.nr_domains = domain_objects();
	memcpy(info.version, KEEL_VERSION, sizeof(KEEL_VERSION) - 1);
	/* As CPUID B+2 shows them to the caller. */
	info.features[0] = caller->features;
	info.max_vcpus = DOMAIN_MAX_VCPUS;
	return copy_out(caller, gpa, &info, sizeof(info));
}

/* --- building a domain ----------------------------------------------------- */

/* Pages one DOMAIN_LOAD call copies at most: bounds the time of one call. */
#define LOAD_BATCH_PAGES	64

/* Step 8 of DOMAIN_CREATE: the struct's contents. */
static bool create_args_ok(const struct keel_ctl_domain_create *c)
{
	size_t len = strnlen((const char *)c->name, sizeof(c->name));
	uint32_t ports = c->max_evtchn_ports;

	return len > 0 && len < sizeof(c->name) &&
	       c->nr_vcpus >= 1 && c->nr_vcpus <= DOMAIN_MAX_VCPUS &&
	       !(c->flags & ~DOMAIN_PLATFORM_FLAGS) && !(c->caps & ~(uint64_t)KEEL_CAP_ALL_V1) &&
	       (ports == 0 || (ports >= KEEL_EVTCHN_BASE_PORTS && ports <= KEEL_EVTCHN_MAX_PORTS)) &&
	       c->weight <= SCHED_WEIGHT_MAX && c->pad0 == 0;
}

/*
 * What the creator does not see done: vCPU 0 online (it runs from its
 * reset state, or the context SET_CONTEXT gives it, once unpaused) and
 * the firmware tables of an ACPI platform.
 */
static long create_finish(struct domain *d)
{
	if (vcpu_online(d->vcpus[0]) != 0 || arch_platform_populate(d) != 0) {
		return -KEEL_ENOMEM;
	}
	return 0;
}

long ctl_hc_domain_create(struct domain *caller, uint64_t gpa)
{
	struct keel_ctl_domain_create c;
	struct domain_params p;
	struct domain *d;
	long rc;

	if (!may_control(caller)) {
		return -KEEL_EPERM;
	}
	rc = copy_in(caller, gpa, &c, sizeof(c));
	if (rc != 0) {
		return rc;
	}
	if (!create_args_ok(&c)) {
		return -KEEL_EINVAL;
	}
	if (c.caps & ~(uint64_t)caps_of(caller)) {
		return -KEEL_EPERM;	/* no escalation */
	}
	p = (struct domain_params){
		.name = (const char *)c.name,	/* NUL-terminated: checked above */
		.uuid = c.uuid,
		.caps = (uint32_t)c.caps,
		.creator = caller->domid,
		.vcpu_count = c.nr_vcpus,
		.max_pages = c.max_pages,
		.weight = c.weight,
		.max_grant_frames = c.max_grant_frames,
		.max_maps = c.max_maps,
		.max_evtchn_ports = c.max_evtchn_ports,
		.platform = c.flags,
	};
	/* -KEEL_EINVAL here: a name of other than printable ASCII. */
	rc = domain_create(&p, &d);
	if (rc != 0) {
		return rc;
	}
	rc = create_finish(d);
	if (rc == 0) {
		/* The OUT field only: the caller's other fields stay as they were. */
		rc = copy_out(caller, gpa + offsetof(struct keel_ctl_domain_create, domid),
			      &d->domid, sizeof(d->domid));
	}
	if (rc != 0) {
		/* Nothing half-created: every page goes with the last reference. */
		(void)domain_destroy(d);
		domain_put(d);
		return rc;
	}
	ctl_domain_state_changed(d);
	domain_put(d);	/* the table keeps it */
	return 0;
}

long ctl_hc_domain_populate(struct domain *caller, uint32_t domid, uint64_t gpa,
			    uint64_t count)
{
	struct domain *d;
	long rc;

	if (count == 0) {
		return -KEEL_EINVAL;	/* a register argument: step 4 */
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	rc = memory_populate_extents(caller, d, gpa, count);
	domain_put(d);
	return rc;
}

/* One DOMAIN_LOAD element: a whole page of the caller's RAM into @d's RAM. */
static int32_t load_one(struct domain *caller, struct domain *d,
			const struct keel_ctl_load_page *e)
{
	if (e->pad0 != 0) {
		return -KEEL_EINVAL;
	}
	switch (guest_memory_copy_pages(d, e->dst_gfn, 0, caller, e->src_gfn, 0, PAGE_SIZE)) {
	case 0:
		return 0;
	case GUEST_COPY_BAD_SRC:
		return -KEEL_EFAULT;
	default:
		return -KEEL_ENOENT;
	}
}

long ctl_hc_domain_load(struct domain *caller, uint32_t domid, uint64_t gpa,
			uint64_t count)
{
	struct keel_ctl_load_page e;
	struct guest_batch b;
	struct domain *d;
	long rc;

	if (count == 0) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	rc = guest_batch_start(&b, caller, gpa, count, sizeof(e), LOAD_BATCH_PAGES);
	if (rc == 0) {
		while (guest_batch_next(&b, &e)) {
			e.status = load_one(caller, d, &e);
			guest_batch_done(&b, &e, offsetof(struct keel_ctl_load_page, status),
					 sizeof(e.status), 1);
		}
		rc = guest_batch_end(&b);
	}
	domain_put(d);
	return rc;
}

/*
 * The checks the two context calls share, up to step 9: not self, the vCPU
 * in range, control over @domid, which is paused or shut down. 0 with a
 * reference to it in *@out.
 */
static long context_target(struct domain *caller, uint32_t domid, uint32_t vcpu,
			   struct domain **out)
{
	struct domain *d;
	long rc;

	if (is_self(caller, domid) || vcpu >= DOMAIN_MAX_VCPUS) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	if (vcpu >= d->vcpu_count) {
		rc = -KEEL_EINVAL;	/* the range check, now that D is known */
	} else {
		/*
		 * The state before the struct (steps 7 and 8): whether the vCPU
		 * may be touched at all decides whether its struct is read.
		 */
		switch (state_of(d)) {
		case DOMAIN_PAUSED:
		case DOMAIN_SHUTDOWN:
			break;
		case DOMAIN_DYING:
			rc = -KEEL_ESRCH;
			break;
		default:
			rc = -KEEL_EBUSY;
			break;
		}
	}
	if (rc != 0) {
		domain_put(d);
		return rc;
	}
	*out = d;
	return 0;
}

long ctl_hc_vcpu_set_context(struct domain *caller, uint32_t domid, uint32_t vcpu,
			     uint64_t gpa)
{
	struct domain *d;
	long rc = context_target(caller, domid, vcpu, &d);

	if (rc != 0) {
		return rc;
	}
	rc = vcpu_ctl_set_context(d->vcpus[vcpu], caller, gpa);
	domain_put(d);
	return rc;
}

long ctl_hc_vcpu_get_context(struct domain *caller, uint32_t domid, uint32_t vcpu,
			     uint64_t gpa)
{
	struct domain *d;
	long rc = context_target(caller, domid, vcpu, &d);

	if (rc != 0) {
		return rc;
	}
	rc = vcpu_ctl_get_context(d->vcpus[vcpu], caller, gpa);
	domain_put(d);
	return rc;
}

/* --- lifecycle ------------------------------------------------------------ */

long ctl_hc_domain_destroy(struct domain *caller, uint32_t domid)
{
	struct domain *d;
	long rc;

	if (is_self(caller, domid)) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	/*
	 * -KEEL_EBUSY: another call destroyed it since the lookup; the domain is
	 * gone all the same, which is what the caller asked for.
	 */
	if (domain_destroy(d) == 0) {
		ctl_domain_state_changed(d);
	}
	domain_put(d);
	return 0;
}

long ctl_hc_domain_pause(struct domain *caller, uint32_t domid)
{
	struct domain *d;
	long rc;

	if (is_self(caller, domid)) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	if (domain_pause(d) == 0) {
		ctl_domain_state_changed(d);
	} else if (state_of(d) == DOMAIN_DYING) {
		rc = -KEEL_ESRCH;
	}
	/* Otherwise it was paused or shut down already: none of its vCPUs runs. */
	domain_put(d);
	return rc;
}

long ctl_hc_domain_unpause(struct domain *caller, uint32_t domid)
{
	struct domain *d;
	long rc;

	if (is_self(caller, domid)) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	if (domain_unpause(d) == 0 || domain_resume(d) == 0) {
		ctl_domain_state_changed(d);
	} else {
		switch (state_of(d)) {
		case DOMAIN_SHUTDOWN:
			rc = -KEEL_EBUSY;	/* not suspended: only destroy is left */
			break;
		case DOMAIN_DYING:
			rc = -KEEL_ESRCH;
			break;
		default:
			break;			/* running already */
		}
	}
	domain_put(d);
	return rc;
}

/* DOMAIN_SHUTDOWN without FORCE: ask the guest. */
static long request_shutdown(struct domain *d, uint32_t reason)
{
	switch (state_of(d)) {
	case DOMAIN_SHUTDOWN:
		return -KEEL_EBUSY;
	case DOMAIN_DYING:
		return -KEEL_ESRCH;
	default:
		break;
	}
	__atomic_store_n(&d->shared_info->shutdown_request, reason, __ATOMIC_RELEASE);
	/* -KEEL_ENOENT: not bound; the guest may still poll the field. */
	(void)evtchn_raise_virq(d->evtchn, 0, KEEL_VIRQ_SHUTDOWN_REQUEST);
	return 0;
}

/* DOMAIN_SHUTDOWN with FORCE: as if the guest had called SCHED_SHUTDOWN. */
static long force_shutdown(struct domain *caller, struct domain *d, uint32_t reason)
{
	char why[48];

	switch (state_of(d)) {
	case DOMAIN_SHUTDOWN:
		return -KEEL_EBUSY;
	case DOMAIN_DYING:
		return -KEEL_ESRCH;
	default:
		break;
	}
	/*
	 * domain_ended() only ends a running domain (via domain_shutdown(), as
	 * for a guest's own call), so a paused one is stopped here; it then
	 * waits for its controller to destroy it.
	 */
	if (domain_shutdown_paused(d, reason) == 0) {
		log_info("domain %u '%s' shut down (reason %u) by domain %u while paused",
			 d->domid, d->name, reason, caller->domid);
	} else {
		format(why, sizeof(why), "shut down by domain %u", caller->domid);
		domain_ended(d, reason, why);
	}
	ctl_domain_state_changed(d);
	return 0;
}

long ctl_hc_domain_shutdown(struct domain *caller, uint32_t domid, uint32_t reason,
			    uint32_t flags)
{
	bool force = (flags & KEEL_CTL_SHUTDOWN_F_FORCE) != 0;
	struct domain *d;
	long rc;

	if (reason < KEEL_SHUTDOWN_POWEROFF || reason > KEEL_SHUTDOWN_CRASH ||
	    (reason == KEEL_SHUTDOWN_CRASH && !force) ||
	    (flags & ~KEEL_CTL_SHUTDOWN_F_FORCE) || is_self(caller, domid)) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	rc = force ? force_shutdown(caller, d, reason) : request_shutdown(d, reason);
	domain_put(d);
	return rc;
}

/* --- information ---------------------------------------------------------- */

/* The vCPU part of DOMAIN_INFO: counts, BLOCKED, run time. */
static void info_vcpus(struct domain *d, struct keel_ctl_domain_info *info)
{
	uint64_t now = arch_time_ns();
	bool busy = false;

	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		struct vcpu *v = d->vcpus[i];
		struct sched_runstate rs;

		sched_entity_runstate(&v->sched, &rs);
		info->cpu_time_ns += rs.time_ns[KEEL_RUNSTATE_RUNNING];
		if (rs.state == KEEL_RUNSTATE_RUNNING) {
			info->cpu_time_ns += now - rs.entry_ns;	/* not yet accounted */
		}
		if (vcpu_is_online(v)) {
			info->nr_vcpus_online++;
			busy |= rs.state != KEEL_RUNSTATE_BLOCKED;
		}
	}
	info->nr_vcpus = d->vcpu_count;
	if (info->nr_vcpus_online && !busy) {
		info->flags |= KEEL_DOMINFO_F_BLOCKED;
	}
}

static uint32_t state_flags(enum domain_state st)
{
	switch (st) {
	case DOMAIN_PAUSED:
		return KEEL_DOMINFO_F_PAUSED;
	case DOMAIN_SHUTDOWN:
		return KEEL_DOMINFO_F_SHUTDOWN;
	case DOMAIN_DYING:
		return KEEL_DOMINFO_F_DYING;
	default:
		return 0;
	}
}

/* Everything but the IN domid, which the caller gets back as it sent it. */
static void info_fill(struct domain *d, struct keel_ctl_domain_info *info)
{
	unsigned long flags = spin_lock_irqsave(&d->lock);

	info->flags = state_flags(d->state);
	if (d->state == DOMAIN_SHUTDOWN) {
		info->shutdown_reason = d->shutdown_reason;
	}
	info->identity = d->identity;
	spin_unlock_irqrestore(&d->lock, flags);
	if (__atomic_load_n(&d->identified, __ATOMIC_ACQUIRE)) {
		info->flags |= KEEL_DOMINFO_F_IDENTIFIED;
	}
	if (d->creator == KEEL_DOMID_NONE) {
		info->flags |= KEEL_DOMINFO_F_BOOT;
	}
	info->parent_domid = d->creator;
	info->caps = caps_of(d);
	flags = spin_lock_irqsave(&d->mem.lock);
	info->current_pages = d->mem.ram_pages;
	info->max_pages = d->mem.max_pages;
	info->target_pages = d->mem.target_pages;
	spin_unlock_irqrestore(&d->mem.lock, flags);
	memcpy(info->name, d->name, strnlen(d->name, DOMAIN_NAME_MAX));
	memcpy(info->uuid, d->uuid, sizeof(info->uuid));
	/* The scheduler's own snapshot fields: single aligned words. */
	info->weight = READ_ONCE(d->sched.weight);
	info->cap_percent = READ_ONCE(d->sched.cap);
	info_vcpus(d, info);
}

long ctl_hc_domain_info(struct domain *caller, uint64_t gpa)
{
	struct keel_ctl_domain_info info;
	struct domain *d;
	uint32_t domid;
	long rc;

	/* The struct names the target, so it is read before the rights. */
	rc = copy_in(caller, gpa, &info, sizeof(info));
	if (rc != 0) {
		return rc;
	}
	domid = info.domid;
	if (is_self(caller, domid)) {
		domain_ref(caller);
		d = caller;
	} else {
		rc = get_controlled(caller, domid, &d);
		if (rc != 0) {
			return rc;
		}
	}
	memset(&info, 0, sizeof(info));
	info.domid = domid;
	info_fill(d, &info);
	domain_put(d);
	return copy_out(caller, gpa, &info, sizeof(info));
}

/* Whether @caller lists @domid: itself, or a live domain it controls. */
static bool lists(struct domain *caller, uint32_t domid)
{
	struct domain *d;
	bool yes;

	if (domid == caller->domid) {
		return true;
	}
	d = domain_get(domid);
	if (!d) {
		return false;	/* destroyed since the list was taken */
	}
	yes = has_control(caller, d);
	domain_put(d);
	return yes;
}

long ctl_hc_domain_list(struct domain *caller, uint64_t gpa)
{
	uint32_t ids[DOMAIN_SLOTS];
	struct list_header h;
	unsigned int n;
	long rc;

	if (!may_control(caller)) {
		return -KEEL_EPERM;
	}
	rc = copy_in(caller, gpa, &h, sizeof(h));
	if (rc != 0) {
		return rc;
	}
	if (h.max > KEEL_CTL_DOMAIN_LIST_MAX) {
		return -KEEL_E2BIG;
	}
	/* The entries share the header's page, which is RAM: only the range. */
	if (!guest_range_in_page(gpa, sizeof(h) + (uint64_t)h.max * sizeof(uint32_t))) {
		return -KEEL_EFAULT;
	}
	if (h.pad0 != 0) {
		return -KEEL_EINVAL;
	}
	n = domain_list(ids, DOMAIN_SLOTS);
	h.count = 0;
	for (unsigned int i = 0; i < n && h.count < h.max; i++) {
		if (ids[i] >= h.start_domid && lists(caller, ids[i])) {
			ids[h.count++] = ids[i];	/* in place: h.count <= i */
		}
	}
	rc = copy_out(caller, gpa + sizeof(h), ids, h.count * sizeof(ids[0]));
	if (rc == 0) {
		rc = copy_out(caller, gpa, &h, sizeof(h));
	}
	return rc;
}

/* --- settings ------------------------------------------------------------- */

static uint64_t max_pages_of(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);
	uint64_t max = d->mem.max_pages;

	spin_unlock_irqrestore(&d->mem.lock, flags);
	return max;
}

long ctl_hc_domain_set_memory(struct domain *caller, uint32_t domid, uint64_t max_pages,
			      uint64_t target_pages)
{
	struct domain *d;
	long rc;

	if (max_pages && target_pages > max_pages) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	/*
	 * Against the current max when it stays. A concurrent change of the max
	 * may slip in between; the target is only the balloon's goal, and the
	 * max alone limits POPULATE, so nothing depends on the order.
	 */
	if (!max_pages && target_pages > max_pages_of(d)) {
		rc = -KEEL_EINVAL;
		goto out;
	}
	guest_memory_set_limits(d, max_pages, target_pages);
	if (target_pages) {
		__atomic_store_n(&d->shared_info->memory_target_pages, target_pages,
				 __ATOMIC_RELEASE);
		/* -KEEL_ENOENT: no balloon driver bound it; it may read the field. */
		(void)evtchn_raise_virq(d->evtchn, 0, KEEL_VIRQ_MEMORY_TARGET);
	}
out:
	domain_put(d);
	return rc;
}

/*
 * Store @caps in @d, still a subset of the caller's set at that moment: a
 * compare-and-swap, so a domain that shrinks its own set cannot undo a
 * concurrent shrink by its controller.
 */
static long store_caps(struct domain *caller, struct domain *d, uint32_t caps)
{
	uint32_t old = caps_of(d), held;

	do {
		held = d == caller ? old : caps_of(caller);
		if (caps & ~held) {
			return -KEEL_EPERM;
		}
	} while (!__atomic_compare_exchange_n(&d->caps, &old, caps, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return 0;
}

long ctl_hc_domain_set_caps(struct domain *caller, uint32_t domid, uint64_t caps)
{
	struct domain *d;
	long rc;

	if (caps & ~(uint64_t)KEEL_CAP_ALL_V1) {
		return -KEEL_EINVAL;
	}
	if (caps & ~(uint64_t)caps_of(caller)) {
		return -KEEL_EPERM;	/* no escalation, whatever the target */
	}
	if (is_self(caller, domid)) {
		domain_ref(caller);	/* dropping one's own needs no right */
		d = caller;
	} else {
		rc = get_controlled(caller, domid, &d);
		if (rc != 0) {
			return rc;
		}
	}
	rc = store_caps(caller, d, (uint32_t)caps);
	if (rc == 0) {
		if (d->evtchn) {
			evtchn_set_caps(d->evtchn, caps);
		}
		/* -KEEL_ENOMEM keeps the old table, and the next read retries. */
		(void)device_table_update(d);
	}
	domain_put(d);
	return rc;
}

long ctl_hc_domain_set_sched(struct domain *caller, uint32_t domid, uint32_t weight,
			     uint32_t cap)
{
	struct domain *d;
	long rc;

	if (weight != KEEL_CTL_SCHED_UNCHANGED &&
	    (weight < SCHED_WEIGHT_MIN || weight > SCHED_WEIGHT_MAX)) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	/*
	 * UNCHANGED keeps the value read now: a concurrent call that changes
	 * the other one may be undone, as if it had come first.
	 */
	if (weight == KEEL_CTL_SCHED_UNCHANGED) {
		weight = READ_ONCE(d->sched.weight);
	}
	if (cap == KEEL_CTL_SCHED_UNCHANGED) {
		cap = READ_ONCE(d->sched.cap);
	} else if (cap > 100u * d->vcpu_count) {
		rc = -KEEL_EINVAL;
		goto out;
	}
	rc = sched_group_set(&d->sched, weight, cap);
out:
	domain_put(d);
	return rc;
}

/* The CPUs of @map that exist (the scheduler's masks are one word). */
static uint64_t existing_cpus(const struct keel_ctl_cpumap *map)
{
	unsigned int count = MIN(arch_cpu_count(), SCHED_CPUS_MAX);

	return map->bits[0] & (count >= 64 ? ~0ull : (1ull << count) - 1);
}

long ctl_hc_vcpu_set_affinity(struct domain *caller, uint32_t domid, uint32_t vcpu,
			      uint64_t gpa)
{
	struct keel_ctl_cpumap map;
	struct domain *d;
	uint64_t mask;
	long rc;

	if (vcpu >= DOMAIN_MAX_VCPUS) {
		return -KEEL_EINVAL;
	}
	rc = get_controlled(caller, domid, &d);
	if (rc != 0) {
		return rc;
	}
	if (vcpu >= d->vcpu_count) {
		rc = -KEEL_EINVAL;	/* the range check, now that D is known */
		goto out;
	}
	rc = copy_in(caller, gpa, &map, sizeof(map));
	if (rc != 0) {
		goto out;
	}
	mask = existing_cpus(&map);
	if (!mask) {
		rc = -KEEL_EINVAL;
		goto out;
	}
	rc = sched_set_affinity(&d->vcpus[vcpu]->sched, mask, arch_time_ns());
out:
	domain_put(d);
	return rc;
}

/* --- the hypervisor log --------------------------------------------------- */

/* The LOG_READ buffer: within one page of @d's writable RAM. */
static bool log_buffer_ok(struct domain *d, uint64_t gpa, uint32_t len)
{
	uint32_t rights;
	paddr_t pa;

	return guest_range_in_page(gpa, len) &&
	       (len == 0 || (guest_memory_translate(d, gpa >> PAGE_SHIFT, &pa, &rights) &&
			     (rights & GUEST_WRITE)));
}

long ctl_hc_log_read(struct domain *caller, uint64_t gpa)
{
	struct keel_stream_read req;
	char *buf;
	long rc;

	if (!(caps_of(caller) & KEEL_CAP_LOG)) {
		return -KEEL_EPERM;
	}
	rc = copy_in(caller, gpa, &req, sizeof(req));
	if (rc != 0) {
		return rc;
	}
	if (req.buf_len > KEEL_PAGE_SIZE) {
		return -KEEL_E2BIG;
	}
	if (!log_buffer_ok(caller, req.buf_gpa, req.buf_len)) {
		return -KEEL_EFAULT;
	}
	if (req.domid != 0 || req.pad0 != 0 || req.buf_len == 0) {
		return -KEEL_EINVAL;
	}
	/* A bounce buffer: the log lock is not held across guest copies. */
	buf = heap_alloc(req.buf_len);
	if (!buf) {
		return -KEEL_ENOMEM;
	}
	req.len = (uint32_t)log_stream_read(req.pos, buf, req.buf_len, &req.next_pos,
					    &req.oldest_pos);
	rc = copy_out(caller, req.buf_gpa, buf, req.len);
	heap_free(buf);
	if (rc == 0) {
		rc = copy_out(caller, gpa, &req, sizeof(req));
	}
	return rc;
}
