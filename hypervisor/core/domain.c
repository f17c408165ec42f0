/* SPDX-License-Identifier: MIT */
/*
 * core/domain.c - the domain table and the domain lifecycle.
 *
 * Lock order: table_lock -> domain->lock -> domain->mem.lock. References
 * are atomic counters; the table holds one reference per live domain, and
 * the memory of a domain is released only when its count drops to zero,
 * so a lookup that won the race with destroy can finish its work safely.
 */
#include <arch/arch.h>
#include <keel/console.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/grant_table.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/sched.h>
#include <public/keel/shared_info.h>

static struct spinlock table_lock = SPINLOCK_INIT;
static struct domain *slots[DOMAIN_SLOTS];	/* [table_lock] */
static uint32_t next_domid = 1;			/* [table_lock] */
static unsigned int live;			/* [table_lock] */
static unsigned int objects;			/* (atomic) allocated, not yet freed */

static bool name_valid(const char *name)
{
	size_t len = name ? strnlen(name, DOMAIN_NAME_MAX) : 0;

	if (len == 0 || len == DOMAIN_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (name[i] <= ' ' || name[i] > '~') {
			return false;	/* printable ASCII, no spaces */
		}
	}
	return true;
}

/* Called with table_lock held. */
static bool name_in_use(const char *name)
{
	for (unsigned int i = 0; i < DOMAIN_SLOTS; i++) {
		if (slots[i] && strcmp(slots[i]->name, name) == 0) {
			return true;
		}
	}
	return false;
}

/* The next id whose slot is free, or 0. Called with table_lock held. */
static uint32_t claim_domid(void)
{
	for (unsigned int tries = 0; tries < DOMAIN_SLOTS; tries++) {
		uint32_t id = next_domid;

		if (id == 0 || id >= 0xfff00000u) {
			return 0;	/* ids exhausted: never wrap onto old ones */
		}
		next_domid++;
		if (!slots[id % DOMAIN_SLOTS]) {
			return id;
		}
	}
	return 0;
}

/*
 * Event channels reach other domains and vCPUs through the domain and vCPU
 * layers (keel/evtchn.h).
 */
static struct evtchn_domain *evtchn_get_domain(uint32_t domid)
{
	struct domain *d = domain_get(domid);

	return d ? d->evtchn : NULL;
}

static void evtchn_put_domain(struct evtchn_domain *ed)
{
	domain_put(evtchn_domain_owner(ed));
}

static void evtchn_kick_vcpu(struct evtchn_domain *ed, uint32_t vcpu)
{
	struct domain *d = evtchn_domain_owner(ed);

	vcpu_upcall_kick(d->vcpus[vcpu]);
}

static void evtchn_port_raised(struct evtchn_domain *ed, uint32_t port)
{
	vcpu_port_raised(evtchn_domain_owner(ed), port);
}

/* The platform device's interrupt is the architecture's business. */
static long evtchn_check_platform_upcall(struct evtchn_domain *ed, uint32_t vcpu,
					 uint32_t entry)
{
	return arch_platform_upcall_check(evtchn_domain_owner(ed), vcpu, entry);
}

static const struct evtchn_env domain_evtchn_env = {
	.get_domain = evtchn_get_domain,
	.put_domain = evtchn_put_domain,
	.kick_vcpu = evtchn_kick_vcpu,
	.port_raised = evtchn_port_raised,
	.check_platform_upcall = evtchn_check_platform_upcall,
};

/*
 * Tear down whatever of @d exists, in the reverse order of build_parts().
 * Runs when the last reference is gone: no vCPU of @d runs and no
 * hypercall of @d is under way.
 */
static void free_domain(struct domain *d)
{
	/*
	 * The vCPUs' timers before anything else: a timer that fires raises
	 * KEEL_VIRQ_TIMER through d->evtchn, so one still armed would use
	 * the event channels freed below (and timer_cancel() would wait, with
	 * interrupts off, for a function spinning on their freed lock).
	 */
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		if (d->vcpus[i] && d->vcpus[i]->state) {
			vcpu_state_stop_timers(d->vcpus[i]);
		}
	}
	/* Subsystems first: they may still write guest pages of @d or peers. */
	if (d->devices) {
		device_domain_destroy(d);	/* before the ports its devices name */
	}
	if (d->evtchn) {
		evtchn_domain_destroy(d->evtchn);
	}
	console_domain_destroy(d);	/* writes out its last partial line */
	/* Revokes its grants and drops its maps before its memory goes. */
	gnttab_domain_destroy(d);
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		struct vcpu *v = d->vcpus[i];

		if (!v) {
			continue;
		}
		if (v->state) {
			vcpu_state_destroy(v);
		}
		if (v->sched.group) {
			/* Offline and off every CPU by now: cannot fail. */
			int rc = sched_entity_fini(&v->sched);

			ASSERT(rc == 0);
			(void)rc;
		}
		if (v->arch) {
			arch_vcpu_destroy(v);
		}
		heap_free(v);
	}
	if (d->sched.weight) {
		sched_group_fini(&d->sched);
	}
	guest_memory_release_all(d);
	if (d->shared_info_pa) {
		page_free(d->shared_info_pa, 1);
	}
	if (d->arch) {
		arch_domain_destroy(d);
	}
	heap_free(d);
	__atomic_fetch_sub(&objects, 1, __ATOMIC_RELEASE);
}

static int create_vcpus(struct domain *d)
{
	uint64_t now = arch_time_ns();

	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		struct vcpu *v = heap_alloc(sizeof(*v));

		if (!v) {
			return -KEEL_ENOMEM;
		}
		memset(v, 0, sizeof(*v));
		v->domain = d;
		v->id = i;
		d->vcpus[i] = v;
		if (arch_vcpu_create(v) != 0) {
			return -KEEL_ENOMEM;
		}
		if (sched_entity_init(&v->sched, &d->sched, ~0ull, now) != 0) {
			return -KEEL_EINVAL;
		}
		if (vcpu_state_create(v) != 0) {
			return -KEEL_ENOMEM;
		}
	}
	return 0;
}

/* Everything a domain is made of, now that it has its id. */
static int build_parts(struct domain *d, const struct domain_params *p)
{
	struct evtchn_domain_config ec = {
		.env = &domain_evtchn_env,
		.owner = d,
		.domid = d->domid,
		.vcpu_count = d->vcpu_count,
		.features = d->features,
		.caps = d->caps,
		.max_ports = p->max_evtchn_ports,
	};
	int rc;

	rc = arch_domain_create(d);
	if (rc != 0) {
		return rc;
	}
	d->shared_info_pa = page_alloc(1);
	if (!d->shared_info_pa) {
		return -KEEL_ENOMEM;
	}
	d->shared_info = arch_phys_to_virt(d->shared_info_pa);
	d->shared_info->domid = d->domid;
	d->shared_info->nr_vcpus = d->vcpu_count;
	ec.shared_info = d->shared_info;
	if (evtchn_domain_create(&ec, &d->evtchn) != 0) {
		d->evtchn = NULL;
		return -KEEL_ENOMEM;
	}
	rc = sched_group_init(&d->sched, p->weight ? p->weight : SCHED_WEIGHT_DEFAULT,
			      p->cap, d->time_origin_ns);
	if (rc != 0) {
		return rc;
	}
	sched_pause(&d->sched, d->time_origin_ns);	/* a domain starts paused */
	/* Subsystem parts (grant table, console): each undone in free_domain(). */
	rc = gnttab_domain_create(d, p->max_grant_frames, p->max_maps);
	if (rc != 0) {
		return rc;
	}
	rc = device_domain_create(d);
	if (rc != 0) {
		return rc;
	}
	rc = console_domain_create(d);
	if (rc != 0) {
		return rc;
	}
	return create_vcpus(d);
}

static struct domain *new_domain(const struct domain_params *p)
{
	struct domain *d = heap_alloc(sizeof(*d));

	if (!d) {
		return NULL;
	}
	__atomic_fetch_add(&objects, 1, __ATOMIC_RELAXED);
	memset(d, 0, sizeof(*d));
	memcpy(d->name, p->name, strlen(p->name) + 1);
	if (p->uuid) {
		memcpy(d->uuid, p->uuid, DOMAIN_UUID_SIZE);
	}
	d->caps = p->caps;
	d->creator = p->creator;
	d->state = DOMAIN_CREATING;
	d->refs = 2;	/* the table's and the caller's */
	d->vcpu_count = p->vcpu_count;
	d->lock = (struct spinlock)SPINLOCK_INIT;
	d->time_origin_ns = arch_time_ns();
	d->features = KEEL_F0_UPCALL_VECTOR | KEEL_F0_EVTCHN_EXPAND | KEEL_F0_DEVICE_TABLE |
		      ((p->caps & KEEL_CAP_CONTROL) ? KEEL_F0_CONTROL : 0) |
		      ((p->platform & KEEL_DOMCREATE_F_PLATFORM_PCI) ? KEEL_F0_UPCALL_PLATFORM : 0);
	d->platform = p->platform;
	guest_memory_init(&d->mem, p->max_pages);
	return d;
}

static bool params_valid(const struct domain_params *p)
{
	return name_valid(p->name) && !(p->platform & ~DOMAIN_PLATFORM_FLAGS) &&
	       p->vcpu_count >= 1 && p->vcpu_count <= DOMAIN_MAX_VCPUS &&
	       p->weight <= SCHED_WEIGHT_MAX && p->cap <= SCHED_CAP_MAX &&
	       (p->max_evtchn_ports == 0 || (p->max_evtchn_ports >= KEEL_EVTCHN_BASE_PORTS &&
					     p->max_evtchn_ports <= KEEL_EVTCHN_MAX_PORTS));
}

static void unpublish(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&table_lock);

	slots[d->domid % DOMAIN_SLOTS] = NULL;
	live--;
	spin_unlock_irqrestore(&table_lock, flags);
}

int domain_create(const struct domain_params *p, struct domain **out)
{
	struct domain *d;
	unsigned long flags;
	uint32_t id;
	int rc;

	if (!params_valid(p)) {
		return -KEEL_EINVAL;
	}
	d = new_domain(p);
	if (!d) {
		return -KEEL_ENOMEM;
	}
	/* Reserve the name and the id first: the parts need the id. */
	flags = spin_lock_irqsave(&table_lock);
	if (name_in_use(p->name)) {
		spin_unlock_irqrestore(&table_lock, flags);
		free_domain(d);
		return -KEEL_EEXIST;
	}
	id = claim_domid();
	if (!id) {
		spin_unlock_irqrestore(&table_lock, flags);
		free_domain(d);
		return -KEEL_ENOSPC;
	}
	d->domid = id;
	slots[id % DOMAIN_SLOTS] = d;
	live++;
	spin_unlock_irqrestore(&table_lock, flags);

	rc = build_parts(d, p);
	if (rc != 0) {
		unpublish(d);
		free_domain(d);
		return rc == -KEEL_EINVAL ? -KEEL_EINVAL : -KEEL_ENOMEM;
	}
	flags = spin_lock_irqsave(&d->lock);
	d->state = DOMAIN_PAUSED;
	spin_unlock_irqrestore(&d->lock, flags);
	log_info("domain %u '%s' created: %u vCPU(s), up to %llu MiB", id, d->name,
		 d->vcpu_count, (unsigned long long)(p->max_pages >> (20 - PAGE_SHIFT)));
	*out = d;
	return 0;
}

void domain_ref(struct domain *d)
{
	__atomic_fetch_add(&d->refs, 1, __ATOMIC_RELAXED);
}

struct domain *domain_get(uint32_t domid)
{
	struct domain *d;
	unsigned long flags = spin_lock_irqsave(&table_lock);

	d = slots[domid % DOMAIN_SLOTS];
	if (d && (d->domid != domid || d->state == DOMAIN_DYING ||
		  d->state == DOMAIN_CREATING)) {
		d = NULL;
	}
	if (d) {
		domain_ref(d);
	}
	spin_unlock_irqrestore(&table_lock, flags);
	return d;
}

void domain_put(struct domain *d)
{
	if (__atomic_sub_fetch(&d->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		log_info("domain %u '%s': last reference gone, memory released",
			 d->domid, d->name);
		free_domain(d);
	}
}

static int change_state(struct domain *d, enum domain_state from,
			enum domain_state to, uint32_t reason)
{
	unsigned long flags = spin_lock_irqsave(&d->lock);
	int ret = -KEEL_EBUSY;

	if (d->state == from) {
		d->state = to;
		if (to == DOMAIN_SHUTDOWN) {
			d->shutdown_reason = reason;
		}
		ret = 0;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	return ret;
}

int domain_pause(struct domain *d)
{
	int rc = change_state(d, DOMAIN_RUNNING, DOMAIN_PAUSED, 0);

	if (rc == 0) {
		sched_pause(&d->sched, arch_time_ns());
	}
	return rc;
}

int domain_unpause(struct domain *d)
{
	int rc = change_state(d, DOMAIN_PAUSED, DOMAIN_RUNNING, 0);

	if (rc == 0) {
		sched_unpause(&d->sched, arch_time_ns());
	}
	return rc;
}

int domain_shutdown(struct domain *d, uint32_t reason)
{
	int rc = change_state(d, DOMAIN_RUNNING, DOMAIN_SHUTDOWN, reason);

	if (rc == 0) {
		/* Its vCPUs stop; they run again only if it is rebuilt. */
		sched_pause(&d->sched, arch_time_ns());
	}
	return rc;
}

int domain_shutdown_paused(struct domain *d, uint32_t reason)
{
	/* Its scheduler group is paused already, and stays so. */
	return change_state(d, DOMAIN_PAUSED, DOMAIN_SHUTDOWN, reason);
}

int domain_resume(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&d->lock);
	int rc = -KEEL_EBUSY;

	if (d->state == DOMAIN_SHUTDOWN && d->shutdown_reason == KEEL_SHUTDOWN_SUSPEND) {
		d->state = DOMAIN_RUNNING;
		d->shutdown_reason = KEEL_SHUTDOWN_NONE;
		rc = 0;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (rc == 0) {
		sched_unpause(&d->sched, arch_time_ns());
	}
	return rc;
}

int domain_destroy(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&table_lock);
	unsigned long dflags = spin_lock_irqsave(&d->lock);
	bool was_dying = (d->state == DOMAIN_DYING);

	if (!was_dying) {
		d->state = DOMAIN_DYING;
		slots[d->domid % DOMAIN_SLOTS] = NULL;
		live--;
	}
	spin_unlock_irqrestore(&d->lock, dflags);
	spin_unlock_irqrestore(&table_lock, flags);
	if (was_dying) {
		return -KEEL_EBUSY;
	}
	/* Off the CPUs: a CPU still running one drops its reference after. */
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		sched_remove(&d->vcpus[i]->sched, arch_time_ns());
	}
	/* Device peers learn now, not when the last reference goes. */
	device_domain_gone(d);
	log_info("domain %u '%s' destroyed", d->domid, d->name);
	domain_put(d);	/* the table's reference */
	return 0;
}

unsigned int domain_list(uint32_t *ids, unsigned int max)
{
	uint32_t found[DOMAIN_SLOTS];
	unsigned long flags = spin_lock_irqsave(&table_lock);
	unsigned int n = 0;

	for (unsigned int i = 0; i < DOMAIN_SLOTS; i++) {
		if (slots[i]) {
			found[n++] = slots[i]->domid;
		}
	}
	spin_unlock_irqrestore(&table_lock, flags);
	/* Slots are not in id order: sort the (at most 256) ids. */
	for (unsigned int i = 1; i < n; i++) {
		uint32_t key = found[i];
		unsigned int j = i;

		while (j > 0 && found[j - 1] > key) {
			found[j] = found[j - 1];
			j--;
		}
		found[j] = key;
	}
	n = MIN(n, max);
	memcpy(ids, found, n * sizeof(*ids));
	return n;
}

unsigned int domain_count(void)
{
	return READ_ONCE(live);
}

unsigned int domain_objects(void)
{
	return __atomic_load_n(&objects, __ATOMIC_ACQUIRE);
}
