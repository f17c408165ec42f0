/* SPDX-License-Identifier: MIT */
/*
 * core/evtchn.c - event channels: port tables, binding and delivery.
 *
 * Implements docs/abi/hypercalls.md, "Event channels". Every number a guest
 * passes (port, vCPU, domid, VIRQ, expansion index) is range-checked before
 * use, and nothing here panics or logs on a guest's behalf.
 *
 * Port table: a fixed array of buckets sized for the domain's configured
 * maximum (at most KEEL_EVTCHN_MAX_PORTS / PORTS_PER_BUCKET = 1024 entries),
 * each bucket one page of 256 struct evtchn_port, allocated when a port in
 * it is first handed out (bucket 0 at creation). Lookup is two array
 * indexes; a bucket never moves or goes away before the domain does.
 *
 * Lock order:
 *   1. Two domains' evtchn locks: lower domid first. (Domain ids are never
 *      reused, so the order is total.) A domain's lock is never taken twice.
 *   2. evtchn lock -> page allocator and heap locks (a bucket is allocated
 *      under the lock).
 *   3. evtchn lock -> whatever env->kick_vcpu takes; it never calls back in.
 * Every evtchn lock is taken with interrupts off: Keel raises VIRQs (the
 * timer) from interrupt context. env->get_domain and env->put_domain are
 * only called with no evtchn lock held.
 *
 * An INTERDOMAIN link is symmetric - port p of A names (B, q) iff q of B
 * names (A, p) - and is only made or broken with both domains' locks held,
 * so holding either lock is enough to trust it. (The one exception: a port
 * linked to a dying domain is freed without touching the dying side, which
 * nobody can reach any more; its teardown checks the link before using it.)
 * Closing a port connected to another domain looks the peer up without any
 * lock, then takes both locks and checks the port again: if it changed in
 * between in a way only a close can explain, the port was FREE at some
 * moment of the call and the call reports exactly that (-KEEL_ENOENT).
 * Sending re-checks the peer's end under its lock the same way. So no
 * operation ever retries or loops on what guests do.
 *
 * Allocation hands out the lowest free port, skipping full buckets:
 * O(buckets + 256) at worst.
 *
 * Delivery (hypercalls.md, "Delivery") is O(1): a few atomic ORs on the
 * guest's bitmaps and selectors. Only registration of a keel_vcpu_info and
 * domain teardown walk the ports, bounded by the port limit.
 */
#include <arch/arch.h>
#include <keel/evtchn.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>

#define BASE_PORTS		KEEL_EVTCHN_BASE_PORTS
#define PAGE_PORTS		KEEL_EVTCHN_PORTS_PER_PAGE
#define EXPAND_MAX		KEEL_EVTCHN_EXPAND_PAGES_MAX
#define PORTS_PER_BUCKET	((uint32_t)(PAGE_SIZE / sizeof(struct evtchn_port)))
#define VECTOR_MIN		0x20u
#define VECTOR_MAX		0xffu
#define VCPU_INFO_ALIGN		64u

#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))

/* One port. A FREE port is all zeros; fields that do not apply are 0. */
struct evtchn_port {
	uint8_t state;			/* KEEL_EVTCHN_STATE_* */
	uint8_t virq;			/* VIRQ: KEEL_VIRQ_* */
	uint16_t pad0;
	uint32_t vcpu;			/* vCPU notified, < vcpu_count */
	uint32_t remote_domid;		/* UNBOUND: who may bind; INTERDOMAIN: peer */
	uint32_t remote_port;		/* INTERDOMAIN: the peer's port */
};

_Static_assert(sizeof(struct evtchn_port) == 16, "256 ports per bucket page");

struct evtchn_bucket {
	struct evtchn_port *ports;	/* [l] a page of ports, or NULL */
	uint32_t used;			/* [l] ports not FREE (bucket 0: + port 0) */
	uint32_t pad0;
};

/* An expansion page pair (guest RAM, pinned by the caller). */
struct evtchn_bitmaps {
	uint64_t *pending;
	uint64_t *mask;
};

struct evtchn_vcpu {
	struct keel_vcpu_info *info;	/* [l] NULL until registered */
	uint32_t timer_port;		/* [l] KEEL_VIRQ_TIMER port, or 0 */
	uint32_t upcall_mode;		/* [l] KEEL_UPCALL_* */
	uint32_t upcall_vector;		/* [l] */
	uint32_t pad0;
};

/*
 * (c) set at creation, constant after  [l] guarded by lock
 * port_limit is written under lock and may be read without it: it only grows.
 */
struct evtchn_domain {
	struct spinlock lock;
	const struct evtchn_env *env;		/* (c) */
	void *owner;				/* (c) */
	struct keel_shared_info *shared;	/* (c) */
	uint64_t caps;				/* (atomic) KEEL_CAP_*: evtchn_set_caps() */
	uint32_t domid;				/* (c) */
	uint32_t vcpu_count;			/* (c) */
	uint32_t max_ports;			/* (c) configured maximum */
	uint32_t features;			/* (c) feature word 0 */
	uint32_t bucket_count;			/* (c) entries in buckets[] */
	uint32_t port_limit;			/* [l] ports are 1 .. limit - 1 */
	uint32_t expand_count;			/* [l] pairs registered */
	uint32_t free_hint;			/* [l] buckets below are full */
	bool dying;				/* [l] teardown: kick nobody */
	uint32_t virq_port[KEEL_VIRQ_COUNT_V1];	/* [l] per-domain VIRQs */
	struct evtchn_bitmaps expand[EXPAND_MAX];	/* [l] */
	struct evtchn_bucket *buckets;		/* (c) the array; entries [l] */
	struct evtchn_vcpu *vcpus;		/* (c) the array; entries [l] */
};

/* Locking. */

static unsigned long lock_one(struct evtchn_domain *d)
{
	return spin_lock_irqsave(&d->lock);
}

static void unlock_one(struct evtchn_domain *d, unsigned long flags)
{
	spin_unlock_irqrestore(&d->lock, flags);
}

/* Lock @a and @b (NULL or @a: just @a), lower domid first. */
static unsigned long lock_two(struct evtchn_domain *a, struct evtchn_domain *b)
{
	return spin_lock_pair_irqsave(&a->lock, a->domid, b ? &b->lock : NULL,
				      b ? b->domid : 0);
}

static void unlock_two(struct evtchn_domain *a, struct evtchn_domain *b,
		       unsigned long flags)
{
	spin_unlock_pair_irqrestore(&a->lock, b ? &b->lock : NULL, flags);
}

/*
 * The domain @domid as @d sees it: @d itself for its own id or
 * KEEL_DOMID_SELF (no reference taken), else a referenced domain from the
 * env. NULL: no such live domain.
 */
static struct evtchn_domain *domain_get(struct evtchn_domain *d,
					uint32_t domid)
{
	if (domid == KEEL_DOMID_SELF || domid == d->domid) {
		return d;
	}
	if (domid < KEEL_DOMID_FIRST || domid > KEEL_DOMID_LAST) {
		return NULL;
	}
	return d->env->get_domain(domid);
}

static void domain_put(struct evtchn_domain *d, struct evtchn_domain *r)
{
	if (r && r != d) {
		d->env->put_domain(r);
	}
}

/* The guest's bits. @port must be below the port limit. */

static uint64_t port_bit(uint32_t port)
{
	return (uint64_t)1 << (port % 64);
}

/* The word of @port in its pending (or, with @mask, its mask) bitmap. */
static uint64_t *bitmap_word(struct evtchn_domain *d, uint32_t port, bool mask)
{
	uint32_t q;

	if (port < BASE_PORTS) {
		return mask ? &d->shared->evtchn_mask[port / 64]
			    : &d->shared->evtchn_pending[port / 64];
	}
	q = port - BASE_PORTS;
	return mask ? &d->expand[q / PAGE_PORTS].mask[(q % PAGE_PORTS) / 64]
		    : &d->expand[q / PAGE_PORTS].pending[(q % PAGE_PORTS) / 64];
}

static uint64_t *pending_word(struct evtchn_domain *d, uint32_t port)
{
	return bitmap_word(d, port, false);
}

static uint64_t *mask_word(struct evtchn_domain *d, uint32_t port)
{
	return bitmap_word(d, port, true);
}

static bool port_is_pending(struct evtchn_domain *d, uint32_t port)
{
	return __atomic_load_n(pending_word(d, port), __ATOMIC_SEQ_CST) &
	       port_bit(port);
}

static bool port_is_masked(struct evtchn_domain *d, uint32_t port)
{
	return __atomic_load_n(mask_word(d, port), __ATOMIC_SEQ_CST) &
	       port_bit(port);
}

/*
 * Delivery step 3 for pending word @w on @vcpu: selector and top bits, then
 * upcall_pending, kicking the vCPU if that went 0 -> 1.
 * @pre d->lock held.
 */
static void notify(struct evtchn_domain *d, uint32_t vcpu, uint32_t w)
{
	struct keel_vcpu_info *vi = d->vcpus[vcpu].info;

	if (!vi) {
		return;
	}
	__atomic_fetch_or(&vi->evtchn_pending_sel[w / 64],
			  (uint64_t)1 << (w % 64), __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&vi->evtchn_pending_top, (uint64_t)1 << (w / 64),
			  __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&vi->upcall_pending, 1, __ATOMIC_SEQ_CST) == 0 &&
	    !d->dying) {
		d->env->kick_vcpu(d, vcpu);
	}
}

/* Delivery steps 1 to 3 for @port, bound to @vcpu. @pre d->lock held. */
static void deliver(struct evtchn_domain *d, uint32_t port, uint32_t vcpu)
{
	uint64_t bit = port_bit(port);

	if (__atomic_fetch_or(pending_word(d, port), bit, __ATOMIC_SEQ_CST) & bit) {
		return;
	}
	/*
	 * Pollers wait for the pending bit alone, masked or not
	 * (KEEL_HC_SCHED_POLL). notify() is no substitute for an unmasked
	 * port: it kicks only the vCPU the port is bound to, and only when
	 * that vCPU's upcall_pending goes 0 -> 1, so a poller on another
	 * vCPU, or one that left upcall_pending at 1, would sleep on.
	 */
	if (d->env->port_raised) {
		d->env->port_raised(d, port);
	}
	if (port_is_masked(d, port)) {
		return;
	}
	notify(d, vcpu, port / 64);
}

/* The port table. All of these but port_in_range() run with d->lock held. */

static bool port_in_range(struct evtchn_domain *d, uint32_t port)
{
	return port != 0 && port < READ_ONCE(d->port_limit);
}

/* Port @port of @d, or NULL if it is FREE or out of range. */
static struct evtchn_port *port_get(struct evtchn_domain *d, uint32_t port)
{
	struct evtchn_bucket *b;
	struct evtchn_port *p;

	if (port == 0 || port >= d->port_limit) {
		return NULL;
	}
	b = &d->buckets[port / PORTS_PER_BUCKET];
	if (!b->ports) {
		return NULL;
	}
	p = &b->ports[port % PORTS_PER_BUCKET];
	return p->state == KEEL_EVTCHN_STATE_FREE ? NULL : p;
}

static bool bucket_alloc(struct evtchn_bucket *b)
{
	paddr_t pa = page_alloc(1);

	if (!pa) {
		return false;
	}
	b->ports = arch_phys_to_virt(pa);	/* zeroed: all FREE */
	return true;
}

/* The first FREE port of bucket @bi below @limit, or 0. */
static uint32_t bucket_find_free(struct evtchn_domain *d, uint32_t bi,
				 uint32_t limit)
{
	const struct evtchn_port *ports = d->buckets[bi].ports;
	uint32_t first = bi * PORTS_PER_BUCKET;

	for (uint32_t i = bi == 0 ? 1 : 0;
	     i < PORTS_PER_BUCKET && first + i < limit; i++) {
		if (ports[i].state == KEEL_EVTCHN_STATE_FREE) {
			return first + i;
		}
	}
	return 0;
}

/*
 * Hand out the lowest free port as @state, notifying @vcpu, with its pending
 * bit cleared. Skips full buckets, so the cost is O(buckets + 256).
 * Return: the port; -KEEL_ENOSPC; -KEEL_ENOMEM.
 */
static long port_alloc(struct evtchn_domain *d, uint8_t state, uint32_t vcpu)
{
	uint32_t limit = d->port_limit;
	uint32_t port = 0;
	uint32_t bi;

	for (bi = d->free_hint; bi < DIV_ROUND_UP(limit, PORTS_PER_BUCKET); bi++) {
		struct evtchn_bucket *b = &d->buckets[bi];

		if (!b->ports) {
			if (!bucket_alloc(b)) {
				return -KEEL_ENOMEM;
			}
			port = bi * PORTS_PER_BUCKET;	/* bucket 0 always exists */
		} else if (b->used < PORTS_PER_BUCKET) {
			port = bucket_find_free(d, bi, limit);
		}
		if (port) {
			break;
		}
	}
	if (!port) {
		return -KEEL_ENOSPC;
	}
	d->free_hint = bi;
	d->buckets[bi].used++;
	d->buckets[bi].ports[port % PORTS_PER_BUCKET] =
		(struct evtchn_port){ .state = state, .vcpu = vcpu };
	__atomic_fetch_and(pending_word(d, port), ~port_bit(port),
			   __ATOMIC_SEQ_CST);
	return port;
}

static void port_free(struct evtchn_domain *d, uint32_t port,
		      struct evtchn_port *p)
{
	uint32_t bi = port / PORTS_PER_BUCKET;

	memset(p, 0, sizeof(*p));
	d->buckets[bi].used--;
	if (bi < d->free_hint) {
		d->free_hint = bi;
	}
}

/* Where the port bound to @virq lives (@vcpu: for the timer). */
static uint32_t *virq_slot(struct evtchn_domain *d, uint32_t virq,
			   uint32_t vcpu)
{
	if (virq == KEEL_VIRQ_TIMER) {
		return &d->vcpus[vcpu].timer_port;
	}
	return &d->virq_port[virq];
}

static bool is_peer(const struct evtchn_port *p, uint32_t domid, uint32_t port)
{
	return p && p->state == KEEL_EVTCHN_STATE_INTERDOMAIN &&
	       p->remote_domid == domid && p->remote_port == port;
}

/* Raise @port of @d for the vCPU it notifies. @pre d->lock held. */
static void raise_port(struct evtchn_domain *d, uint32_t port)
{
	const struct evtchn_port *p = port_get(d, port);

	if (p) {
		deliver(d, port, p->vcpu);
	}
}

/*
 * Peer loss: @rport of @r, connected to @port of domain @domid, goes back to
 * UNBOUND (for @domid) and is raised. @pre r->lock held.
 */
static void peer_lost(struct evtchn_domain *r, uint32_t rport, uint32_t domid,
		      uint32_t port)
{
	struct evtchn_port *rp = port_get(r, rport);

	if (!is_peer(rp, domid, port)) {
		return;
	}
	rp->state = KEEL_EVTCHN_STATE_UNBOUND;
	rp->remote_port = 0;
	deliver(r, rport, rp->vcpu);
}

/*
 * Free @port (@p) of @d with what it holds inside @d: a VIRQ binding, or the
 * other end of a loopback channel. @pre d->lock held.
 */
static void port_release(struct evtchn_domain *d, uint32_t port,
			 struct evtchn_port *p)
{
	if (p->state == KEEL_EVTCHN_STATE_VIRQ) {
		*virq_slot(d, p->virq, p->vcpu) = 0;
	} else if (p->state == KEEL_EVTCHN_STATE_INTERDOMAIN &&
		   p->remote_domid == d->domid) {
		peer_lost(d, p->remote_port, d->domid, port);
	}
	port_free(d, port, p);
}

/*
 * Close @port of @d (in range). A peer in another domain needs both locks;
 * see the top of the file for why re-checking once is enough.
 * Return: 0; -KEEL_ENOENT (FREE, or freed by someone else meanwhile).
 */
static long close_port(struct evtchn_domain *d, uint32_t port)
{
	struct evtchn_domain *r;
	struct evtchn_port *p;
	unsigned long flags;
	uint32_t rdomid;
	long ret = 0;

	flags = lock_one(d);
	p = port_get(d, port);
	if (!p || p->state != KEEL_EVTCHN_STATE_INTERDOMAIN ||
	    p->remote_domid == d->domid) {
		if (p) {
			port_release(d, port, p);
		} else {
			ret = -KEEL_ENOENT;
		}
		unlock_one(d, flags);
		return ret;
	}
	rdomid = p->remote_domid;
	unlock_one(d, flags);

	r = domain_get(d, rdomid);	/* NULL: dying; it skips this port */
	flags = lock_two(d, r);
	p = port_get(d, port);
	/* Still ours, linked to rdomid or (after peer loss) UNBOUND for it? */
	if (!p || p->remote_domid != rdomid ||
	    (p->state != KEEL_EVTCHN_STATE_INTERDOMAIN &&
	     p->state != KEEL_EVTCHN_STATE_UNBOUND)) {
		ret = -KEEL_ENOENT;
		goto out_unlock;
	}
	if (p->state == KEEL_EVTCHN_STATE_INTERDOMAIN && r) {
		peer_lost(r, p->remote_port, d->domid, port);
	}
	port_free(d, port, p);

out_unlock:
	unlock_two(d, r, flags);
	domain_put(d, r);
	return ret;
}

/* Creation and teardown. */

static bool config_valid(const struct evtchn_domain_config *cfg)
{
	uint32_t max = cfg->max_ports;

	return cfg->env && cfg->env->get_domain && cfg->env->put_domain &&
	       cfg->env->kick_vcpu && cfg->shared_info &&
	       cfg->domid >= KEEL_DOMID_FIRST && cfg->domid <= KEEL_DOMID_LAST &&
	       cfg->vcpu_count >= 1 && cfg->vcpu_count <= EVTCHN_VCPUS_MAX &&
	       (max == 0 || (max >= BASE_PORTS && max <= KEEL_EVTCHN_MAX_PORTS));
}

static void domain_init(struct evtchn_domain *d,
			const struct evtchn_domain_config *cfg)
{
	d->lock = (struct spinlock)SPINLOCK_INIT;
	d->env = cfg->env;
	d->owner = cfg->owner;
	d->shared = cfg->shared_info;
	d->caps = cfg->caps;
	d->domid = cfg->domid;
	d->vcpu_count = cfg->vcpu_count;
	d->max_ports = cfg->max_ports ? cfg->max_ports : BASE_PORTS;
	d->features = cfg->features;
	d->bucket_count = DIV_ROUND_UP(d->max_ports, PORTS_PER_BUCKET);
	d->port_limit = BASE_PORTS;
}

long evtchn_domain_create(const struct evtchn_domain_config *cfg,
			  struct evtchn_domain **out)
{
	struct evtchn_domain *d;

	if (!config_valid(cfg)) {
		return -KEEL_EINVAL;
	}
	d = heap_alloc(sizeof(*d));
	if (!d) {
		return -KEEL_ENOMEM;
	}
	domain_init(d, cfg);
	d->vcpus = heap_alloc(d->vcpu_count * sizeof(*d->vcpus));
	if (!d->vcpus) {
		goto err_free_domain;
	}
	d->buckets = heap_alloc(d->bucket_count * sizeof(*d->buckets));
	if (!d->buckets) {
		goto err_free_vcpus;
	}
	if (!bucket_alloc(&d->buckets[0])) {
		goto err_free_buckets;
	}
	d->buckets[0].used = 1;		/* port 0 is never handed out */

	memset(d->shared->evtchn_pending, 0, sizeof(d->shared->evtchn_pending));
	memset(d->shared->evtchn_mask, 0xff, sizeof(d->shared->evtchn_mask));
	WRITE_ONCE(d->shared->evtchn_port_limit, d->port_limit);
	*out = d;
	return 0;

err_free_buckets:
	heap_free(d->buckets);
err_free_vcpus:
	heap_free(d->vcpus);
err_free_domain:
	heap_free(d);
	return -KEEL_ENOMEM;
}

void evtchn_domain_destroy(struct evtchn_domain *d)
{
	unsigned long flags = lock_one(d);

	d->dying = true;
	unlock_one(d, flags);

	/* Close every port first: peers may look at any bucket until then. */
	for (uint32_t bi = 0; bi < d->bucket_count; bi++) {
		if (!d->buckets[bi].ports) {
			continue;
		}
		for (uint32_t i = bi == 0 ? 1 : 0; i < PORTS_PER_BUCKET; i++) {
			close_port(d, bi * PORTS_PER_BUCKET + i);
		}
	}
	for (uint32_t bi = 0; bi < d->bucket_count; bi++) {
		if (d->buckets[bi].ports) {
			page_free(arch_virt_to_phys(d->buckets[bi].ports), 1);
		}
	}
	heap_free(d->buckets);
	heap_free(d->vcpus);
	heap_free(d);
}

void evtchn_set_caps(struct evtchn_domain *d, uint64_t caps)
{
	__atomic_store_n(&d->caps, caps, __ATOMIC_RELEASE);
}

void *evtchn_domain_owner(const struct evtchn_domain *d)
{
	return d->owner;
}

uint32_t evtchn_domain_id(const struct evtchn_domain *d)
{
	return d->domid;
}

uint32_t evtchn_port_limit(const struct evtchn_domain *d)
{
	return READ_ONCE(d->port_limit);
}

/* Binding. */

long evtchn_alloc_unbound(struct evtchn_domain *d, uint32_t remote_domid)
{
	struct evtchn_domain *r = domain_get(d, remote_domid);
	unsigned long flags;
	uint32_t rdomid;
	long port;

	if (!r) {
		return -KEEL_ESRCH;
	}
	rdomid = r->domid;
	domain_put(d, r);	/* only the id is kept */

	flags = lock_one(d);
	port = port_alloc(d, KEEL_EVTCHN_STATE_UNBOUND, 0);
	if (port > 0) {
		port_get(d, (uint32_t)port)->remote_domid = rdomid;
	}
	unlock_one(d, flags);
	return port;
}

long evtchn_bind_interdomain(struct evtchn_domain *d, uint32_t remote_domid,
			     uint32_t remote_port)
{
	struct evtchn_port *rp, *lp;
	struct evtchn_domain *r;
	unsigned long flags;
	long ret;

	/* A port no domain can have is a bad argument (errors.md step 4). */
	if (remote_port == 0 || remote_port >= KEEL_EVTCHN_MAX_PORTS) {
		return -KEEL_EINVAL;
	}
	r = domain_get(d, remote_domid);
	if (!r) {
		return -KEEL_ESRCH;
	}
	flags = lock_two(d, r);
	if (remote_port >= r->port_limit) {
		ret = -KEEL_EINVAL;
		goto out_unlock;
	}
	rp = port_get(r, remote_port);
	if (!rp) {
		ret = -KEEL_ENOENT;
	} else if (rp->state != KEEL_EVTCHN_STATE_UNBOUND) {
		ret = -KEEL_EBUSY;
	} else if (rp->remote_domid != d->domid) {
		ret = -KEEL_EPERM;
	} else {
		ret = port_alloc(d, KEEL_EVTCHN_STATE_INTERDOMAIN, 0);
	}
	if (ret <= 0) {
		goto out_unlock;
	}
	/* Invoke: connect both ends; cannot fail. */
	lp = port_get(d, (uint32_t)ret);
	lp->remote_domid = r->domid;
	lp->remote_port = remote_port;
	rp->state = KEEL_EVTCHN_STATE_INTERDOMAIN;
	rp->remote_port = (uint32_t)ret;

out_unlock:
	unlock_two(d, r, flags);
	domain_put(d, r);
	return ret;
}

static long virq_allowed(const struct evtchn_domain *d, uint32_t virq)
{
	if (virq == KEEL_VIRQ_DOMAIN_STATE &&
	    !(__atomic_load_n(&d->caps, __ATOMIC_ACQUIRE) & (KEEL_CAP_CONTROL | KEEL_CAP_CREATE))) {
		return -KEEL_EPERM;
	}
	if (virq == KEEL_VIRQ_LOG && !(__atomic_load_n(&d->caps, __ATOMIC_ACQUIRE) & KEEL_CAP_LOG)) {
		return -KEEL_EPERM;
	}
	return 0;
}

long evtchn_bind_virq(struct evtchn_domain *d, uint32_t virq, uint32_t vcpu)
{
	unsigned long flags;
	uint32_t *slot;
	long ret;

	if (virq >= KEEL_VIRQ_COUNT_V1 || vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	ret = virq_allowed(d, virq);
	if (ret) {
		return ret;
	}
	flags = lock_one(d);
	slot = virq_slot(d, virq, vcpu);
	if (*slot) {
		ret = -KEEL_EEXIST;
		goto out_unlock;
	}
	ret = port_alloc(d, KEEL_EVTCHN_STATE_VIRQ, vcpu);
	if (ret > 0) {
		port_get(d, (uint32_t)ret)->virq = (uint8_t)virq;
		*slot = (uint32_t)ret;
	}

out_unlock:
	unlock_one(d, flags);
	return ret;
}

long evtchn_bind_ipi(struct evtchn_domain *d, uint32_t vcpu)
{
	unsigned long flags;
	long port;

	if (vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	port = port_alloc(d, KEEL_EVTCHN_STATE_IPI, vcpu);
	unlock_one(d, flags);
	return port;
}

long evtchn_bind_vcpu(struct evtchn_domain *d, uint32_t port, uint32_t vcpu)
{
	struct evtchn_port *p;
	unsigned long flags;
	long ret = 0;

	if (!port_in_range(d, port) || vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	p = port_get(d, port);
	if (!p) {
		ret = -KEEL_ENOENT;
	} else if (p->state != KEEL_EVTCHN_STATE_UNBOUND &&
		   p->state != KEEL_EVTCHN_STATE_INTERDOMAIN) {
		ret = -KEEL_EINVAL;
	} else {
		p->vcpu = vcpu;
		if (port_is_pending(d, port) && !port_is_masked(d, port)) {
			notify(d, vcpu, port / 64);
		}
	}
	unlock_one(d, flags);
	return ret;
}

/* Sending, closing, status, masks. */

/* Raise @rport of @rdomid if it is still the peer of @port of @d. */
static void send_remote(struct evtchn_domain *d, uint32_t port,
			uint32_t rdomid, uint32_t rport)
{
	struct evtchn_domain *r = domain_get(d, rdomid);
	struct evtchn_port *rp;
	unsigned long flags;

	if (!r) {
		return;		/* dying: its teardown turns our port UNBOUND */
	}
	flags = lock_one(r);
	rp = port_get(r, rport);
	if (is_peer(rp, d->domid, port)) {
		deliver(r, rport, rp->vcpu);
	}
	unlock_one(r, flags);
	domain_put(d, r);
}

long evtchn_send(struct evtchn_domain *d, uint32_t port)
{
	uint32_t rdomid = KEEL_DOMID_NONE, rport = 0;
	struct evtchn_port *p;
	unsigned long flags;
	long ret = 0;

	if (!port_in_range(d, port)) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	p = port_get(d, port);
	if (!p) {
		ret = -KEEL_ENOENT;
	} else if (p->state == KEEL_EVTCHN_STATE_VIRQ) {
		ret = -KEEL_EINVAL;
	} else if (p->state == KEEL_EVTCHN_STATE_IPI) {
		deliver(d, port, p->vcpu);
	} else if (p->state == KEEL_EVTCHN_STATE_INTERDOMAIN &&
		   p->remote_domid == d->domid) {
		raise_port(d, p->remote_port);
	} else if (p->state == KEEL_EVTCHN_STATE_INTERDOMAIN) {
		rdomid = p->remote_domid;
		rport = p->remote_port;
	}
	unlock_one(d, flags);
	if (rdomid != KEEL_DOMID_NONE) {
		send_remote(d, port, rdomid, rport);
	}
	return ret;
}

long evtchn_close(struct evtchn_domain *d, uint32_t port)
{
	if (!port_in_range(d, port)) {
		return -KEEL_EINVAL;
	}
	return close_port(d, port);
}

long evtchn_status(struct evtchn_domain *d, struct keel_evtchn_status *st)
{
	const struct evtchn_port *p;
	unsigned long flags;

	if (!port_in_range(d, st->port)) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	p = port_get(d, st->port);
	if (p) {
		st->state = p->state;
		st->vcpu = p->vcpu;
		st->remote_domid = p->remote_domid;
		st->remote_port = p->remote_port;
		st->virq = p->virq;
	} else {
		st->state = KEEL_EVTCHN_STATE_FREE;
		st->vcpu = st->remote_domid = st->remote_port = st->virq = 0;
	}
	unlock_one(d, flags);
	return 0;
}

long evtchn_mask(struct evtchn_domain *d, uint32_t port)
{
	unsigned long flags;
	long ret = 0;

	if (!port_in_range(d, port)) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	if (port_get(d, port)) {
		__atomic_fetch_or(mask_word(d, port), port_bit(port),
				  __ATOMIC_SEQ_CST);
	} else {
		ret = -KEEL_ENOENT;
	}
	unlock_one(d, flags);
	return ret;
}

long evtchn_unmask(struct evtchn_domain *d, uint32_t port)
{
	struct evtchn_port *p;
	unsigned long flags;
	long ret = 0;

	if (!port_in_range(d, port)) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	p = port_get(d, port);
	if (p) {
		__atomic_fetch_and(mask_word(d, port), ~port_bit(port),
				   __ATOMIC_SEQ_CST);
		if (port_is_pending(d, port)) {
			notify(d, p->vcpu, port / 64);
		}
	} else {
		ret = -KEEL_ENOENT;
	}
	unlock_one(d, flags);
	return ret;
}

long evtchn_port_pending(struct evtchn_domain *d, uint32_t port)
{
	unsigned long flags;
	long ret;

	if (!port_in_range(d, port)) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	if (port_get(d, port)) {
		ret = port_is_pending(d, port) ? 1 : 0;
	} else {
		ret = -KEEL_ENOENT;
	}
	unlock_one(d, flags);
	return ret;
}

/* Upcalls, expansion, Keel-internal sources. */

/* The checks of SET_UPCALL that need no lock, in the spec's order. */
static long upcall_check(struct evtchn_domain *d,
			 const struct keel_evtchn_upcall *req)
{
	if (req->vcpu >= d->vcpu_count || req->pad0 != 0) {
		return -KEEL_EINVAL;
	}
	switch (req->mode) {
	case KEEL_UPCALL_NONE:
		return req->vector == 0 ? 0 : -KEEL_EINVAL;
	case KEEL_UPCALL_VECTOR:
		if (req->vector < VECTOR_MIN || req->vector > VECTOR_MAX) {
			return -KEEL_EINVAL;
		}
		return d->features & KEEL_F0_UPCALL_VECTOR ? 0 : -KEEL_EOPNOTSUPP;
	case KEEL_UPCALL_PLATFORM:
		if (!(d->features & KEEL_F0_UPCALL_PLATFORM)) {
			return -KEEL_EOPNOTSUPP;
		}
		if (d->env->check_platform_upcall &&
		    d->env->check_platform_upcall(d, req->vcpu, req->vector) != 0) {
			return -KEEL_EINVAL;
		}
		return 0;
	default:
		return -KEEL_EINVAL;
	}
}

long evtchn_set_upcall(struct evtchn_domain *d,
		       const struct keel_evtchn_upcall *req)
{
	struct evtchn_vcpu *v;
	unsigned long flags;
	long ret = upcall_check(d, req);

	if (ret) {
		return ret;
	}
	flags = lock_one(d);
	v = &d->vcpus[req->vcpu];
	v->upcall_mode = req->mode;
	v->upcall_vector = req->vector;
	if (v->info && __atomic_load_n(&v->info->upcall_pending, __ATOMIC_SEQ_CST) &&
	    !d->dying) {
		d->env->kick_vcpu(d, req->vcpu);
	}
	unlock_one(d, flags);
	return 0;
}

long evtchn_vcpu_upcall(struct evtchn_domain *d, uint32_t vcpu,
			uint32_t *mode, uint32_t *vector)
{
	unsigned long flags;

	if (vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	*mode = d->vcpus[vcpu].upcall_mode;
	*vector = d->vcpus[vcpu].upcall_vector;
	unlock_one(d, flags);
	return 0;
}

long evtchn_vcpu_upcall_pending(struct evtchn_domain *d, uint32_t vcpu)
{
	unsigned long flags;
	long pending;

	if (vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);	/* the vcpu_info may be moved under us otherwise */
	pending = d->vcpus[vcpu].info &&
		  __atomic_load_n(&d->vcpus[vcpu].info->upcall_pending, __ATOMIC_SEQ_CST);
	unlock_one(d, flags);
	return pending;
}

/* The checks of EXPAND. @pre d->lock held (for expand_count). */
static long expand_check(struct evtchn_domain *d,
			 const struct keel_evtchn_expand *req,
			 const uint64_t *pending, const uint64_t *mask)
{
	if (!pending || !mask || !IS_ALIGNED((uintptr_t)pending, PAGE_SIZE) ||
	    !IS_ALIGNED((uintptr_t)mask, PAGE_SIZE)) {
		return -KEEL_EFAULT;
	}
	if (req->index != d->expand_count || req->index >= EXPAND_MAX ||
	    req->pad0 != 0 || req->pending_gfn == req->mask_gfn ||
	    pending == mask) {
		return -KEEL_EINVAL;
	}
	if (!(d->features & KEEL_F0_EVTCHN_EXPAND)) {
		return -KEEL_EOPNOTSUPP;
	}
	if (BASE_PORTS + req->index * PAGE_PORTS >= d->max_ports) {
		return -KEEL_ENOSPC;
	}
	return 0;
}

long evtchn_expand(struct evtchn_domain *d,
		   const struct keel_evtchn_expand *req, uint64_t *pending,
		   uint64_t *mask)
{
	unsigned long flags = lock_one(d);
	long ret = expand_check(d, req, pending, mask);
	uint32_t limit;

	if (ret) {
		goto out_unlock;
	}
	d->expand[req->index] = (struct evtchn_bitmaps){ pending, mask };
	d->expand_count++;
	/* max_ports <= KEEL_EVTCHN_MAX_PORTS, so this is the spec's min(). */
	limit = MIN(BASE_PORTS + (req->index + 1) * PAGE_PORTS, d->max_ports);
	WRITE_ONCE(d->port_limit, limit);
	WRITE_ONCE(d->shared->evtchn_port_limit, limit);
	ret = limit;

out_unlock:
	unlock_one(d, flags);
	return ret;
}

long evtchn_raise_virq(struct evtchn_domain *d, uint32_t vcpu, uint32_t virq)
{
	unsigned long flags;
	uint32_t port;
	long ret = 0;

	if (virq >= KEEL_VIRQ_COUNT_V1 ||
	    (virq == KEEL_VIRQ_TIMER && vcpu >= d->vcpu_count)) {
		return -KEEL_EINVAL;
	}
	flags = lock_one(d);
	port = *virq_slot(d, virq, vcpu);
	if (port) {
		raise_port(d, port);
	} else {
		ret = -KEEL_ENOENT;
	}
	unlock_one(d, flags);
	return ret;
}

/*
 * Set the selectors of every pending, unmasked port bound to @vcpu.
 * Bounded by the port limit. @pre d->lock held.
 */
static void recompute_selectors(struct evtchn_domain *d, uint32_t vcpu)
{
	uint32_t limit = d->port_limit;

	for (uint32_t w = 0; w < DIV_ROUND_UP(limit, 64); w++) {
		uint64_t bits =
			__atomic_load_n(pending_word(d, w * 64), __ATOMIC_SEQ_CST) &
			~__atomic_load_n(mask_word(d, w * 64), __ATOMIC_SEQ_CST);

		while (bits) {
			uint32_t port = w * 64 + (uint32_t)__builtin_ctzll(bits);
			const struct evtchn_port *p = port_get(d, port);

			bits &= bits - 1;
			if (p && p->vcpu == vcpu) {
				notify(d, vcpu, w);
				break;
			}
		}
	}
}

long evtchn_vcpu_info_registered(struct evtchn_domain *d, uint32_t vcpu,
				 struct keel_vcpu_info *info)
{
	unsigned long flags;

	if (vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	if (!IS_ALIGNED((uintptr_t)info, VCPU_INFO_ALIGN)) {
		return -KEEL_EFAULT;
	}
	flags = lock_one(d);
	d->vcpus[vcpu].info = info;
	if (info) {
		recompute_selectors(d, vcpu);
	}
	unlock_one(d, flags);
	return 0;
}
