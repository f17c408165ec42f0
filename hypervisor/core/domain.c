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
#include <keel/domain.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/string.h>
#include <public/keel/errno.h>

static struct spinlock table_lock = SPINLOCK_INIT;
static struct domain *slots[DOMAIN_SLOTS];	/* [table_lock] */
static uint32_t next_domid = 1;			/* [table_lock] */
static unsigned int live;			/* [table_lock] */

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

static void free_domain(struct domain *d)
{
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		if (d->vcpus[i]) {
			arch_vcpu_destroy(d->vcpus[i]);
			heap_free(d->vcpus[i]);
		}
	}
	guest_memory_release_all(d);
	arch_domain_destroy(d);
	heap_free(d);
}

static int create_vcpus(struct domain *d)
{
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		struct vcpu *v = heap_alloc(sizeof(*v));

		if (!v) {
			return -KEEL_ENOMEM;
		}
		v->domain = d;
		v->id = i;
		if (arch_vcpu_create(v) != 0) {
			heap_free(v);
			return -KEEL_ENOMEM;
		}
		d->vcpus[i] = v;
	}
	return 0;
}

static struct domain *new_domain(const struct domain_params *p)
{
	struct domain *d = heap_alloc(sizeof(*d));

	if (!d) {
		return NULL;
	}
	memcpy(d->name, p->name, strlen(p->name) + 1);
	d->caps = p->caps;
	d->creator = p->creator;
	d->state = DOMAIN_PAUSED;
	d->refs = 2;	/* the table's and the caller's */
	d->vcpu_count = p->vcpu_count;
	d->lock = (struct spinlock)SPINLOCK_INIT;
	guest_memory_init(&d->mem, p->max_pages);
	if (arch_domain_create(d) != 0) {
		heap_free(d);
		return NULL;
	}
	if (create_vcpus(d) != 0) {
		free_domain(d);
		return NULL;
	}
	return d;
}

int domain_create(const struct domain_params *p, struct domain **out)
{
	struct domain *d;
	unsigned long flags;
	uint32_t id;

	if (!name_valid(p->name) || p->vcpu_count == 0 || p->vcpu_count > DOMAIN_MAX_VCPUS) {
		return -KEEL_EINVAL;
	}
	/* Built outside the table lock; published only if the name is free. */
	d = new_domain(p);
	if (!d) {
		return -KEEL_ENOMEM;
	}
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
	if (d && (d->domid != domid || d->state == DOMAIN_DYING)) {
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
	return change_state(d, DOMAIN_RUNNING, DOMAIN_PAUSED, 0);
}

int domain_unpause(struct domain *d)
{
	return change_state(d, DOMAIN_PAUSED, DOMAIN_RUNNING, 0);
}

int domain_shutdown(struct domain *d, uint32_t reason)
{
	return change_state(d, DOMAIN_RUNNING, DOMAIN_SHUTDOWN, reason);
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
