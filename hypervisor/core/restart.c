/* SPDX-License-Identifier: MIT */
/*
 * core/restart.c - owns what happens to a boot-time domain that ends: the
 * action its configuration names for the reason (on-poweroff, on-reboot,
 * on-crash), the restart limit, and the restart worker that builds the
 * domain again.
 *
 * Where the rebuild runs. A domain ends in one of its own exits (a
 * shutdown call, a reset register, a triple fault), on the CPU that ran
 * it, often with interrupts off. Building it again can take seconds (the
 * xz vmlinux of a distribution kernel takes about ten under TCG), and the
 * old domain must first be gone, every page back, or a domain sized to the
 * machine could not be built twice. So the exit only queues a request
 * (holding a reference to the old domain) and the rebuild is done by the
 * restart worker: a scheduler entity of its own group that a CPU's loop
 * runs in place of a vCPU (core/schedule.c). While it builds, that CPU
 * runs nothing else, but the scheduler sees it busy and the other CPUs
 * take the vCPUs waiting there; no lock is held across the build (each
 * step takes its own); interrupts stay on except inside the decompressors'
 * bounded slices. With more than one CPU the worker keeps off CPU 0, whose
 * loop also polls the serial console. The worker waits, on a short retry
 * timer, until it holds the old domain's last reference, then drops it
 * (the domain is freed there) and builds the new one.
 *
 * Until the new domain exists the restart counts as outstanding, so that
 * "all domains have ended" is not concluded in between (core/schedule.c).
 */
#include <arch/arch.h>
#include <keel/bootcfg.h>
#include <keel/domain_build.h>
#include <keel/log.h>
#include <keel/restart.h>
#include <keel/spinlock.h>
#include <keel/timer.h>
#include <public/keel/sched.h>

#define NS_PER_S	1000000000ull
#define RETRY_NS	1000000ull	/* 1 ms: the old domain's last user lets go */

struct request {
	struct domain *old;	/* a reference, dropped when it is the last */
	unsigned int restarts;	/* of this spec so far, this one included */
	bool queued;
};

/* Restarts within the current window of the restart limit, per spec. */
struct restart_count {
	unsigned int total;
	unsigned int in_window;
	uint64_t window_start;
};

static struct spinlock lock = SPINLOCK_INIT;
static struct request requests[BOOTCFG_MAX_DOMAINS];		/* [lock] by spec index */
static struct restart_count counts[BOOTCFG_MAX_DOMAINS];	/* [lock] */
static unsigned int outstanding;	/* (atomic) queued or being built */
static bool worker_ready;		/* (c) after restart_init() */
static struct sched_group worker_group;
static struct sched_entity worker;
static struct timer retry;

static void retry_fire(struct timer *t)
{
	(void)t;
	sched_wake(&worker, arch_time_ns());
}

void restart_init(void)
{
	uint64_t now = arch_time_ns();
	uint64_t cpus = arch_cpu_count() >= 64 ? ~0ull : (1ull << arch_cpu_count()) - 1;
	uint64_t mask = arch_cpu_count() > 1 ? cpus & ~1ull : cpus;

	if (worker_ready) {
		return;
	}
	timer_init(&retry, retry_fire);
	if (sched_group_init(&worker_group, SCHED_WEIGHT_DEFAULT, 0, now) != 0 ||
	    sched_entity_init(&worker, &worker_group, mask, now) != 0 ||
	    sched_add(&worker, now) != 0) {
		log_err("restart worker: cannot be set up; domains that should restart are destroyed");
		return;
	}
	sched_block(&worker, now);	/* until there is a restart to do */
	worker_ready = true;
}

static unsigned int action_for(const struct domain_spec *s, uint32_t reason,
			       const char **prop)
{
	switch (reason) {
	case KEEL_SHUTDOWN_POWEROFF:
		*prop = "on-poweroff";
		return s->on_poweroff;
	case KEEL_SHUTDOWN_REBOOT:
		*prop = "on-reboot";
		return s->on_reboot;
	case KEEL_SHUTDOWN_CRASH:
		*prop = "on-crash";
		return s->on_crash;
	default:
		*prop = "suspend";	/* no save/restore: as a power off */
		return END_DESTROY;
	}
}

/* Count a restart of spec @index against its limit; false when over it. */
static bool count_restart(unsigned int index, const struct domain_spec *s, uint64_t now)
{
	struct restart_count *c = &counts[index];

	if (c->in_window == 0 || now - c->window_start > s->restart_window_s * NS_PER_S) {
		c->window_start = now;
		c->in_window = 0;
	}
	if (c->in_window >= s->restart_limit) {
		return false;
	}
	c->in_window++;
	c->total++;
	return true;
}

unsigned int restart_on_end(struct domain *d, uint32_t reason)
{
	int index = d->creator == KEEL_DOMID_NONE ? domain_build_index_of(d->domid) : -1;
	const struct domain_spec *s = index >= 0 ? domain_build_spec((unsigned int)index) : NULL;
	const char *prop = "";
	unsigned int action = s ? action_for(s, reason, &prop) : END_DESTROY;
	unsigned long flags;
	unsigned int n;

	if (action == END_PRESERVE) {
		log_info("domain %u '%s' is kept shut down, with its memory (%s = \"preserve\")",
			 d->domid, d->name, prop);
		return END_PRESERVE;
	}
	if (action != END_RESTART) {
		return END_DESTROY;
	}
	if (!worker_ready) {
		log_err("domain %u '%s': no restart worker; destroyed instead", d->domid, d->name);
		return END_DESTROY;
	}
	flags = spin_lock_irqsave(&lock);
	if (requests[index].queued) {
		/* Cannot happen: its successor is not built yet. Never queue two. */
		spin_unlock_irqrestore(&lock, flags);
		log_err("domain %u '%s': a restart is already queued; destroyed", d->domid, d->name);
		return END_DESTROY;
	}
	if (!count_restart((unsigned int)index, s, arch_time_ns())) {
		spin_unlock_irqrestore(&lock, flags);
		log_err("domain %u '%s': restart limit reached (%u restarts within %u s); "
			"destroyed", d->domid, d->name, s->restart_limit, s->restart_window_s);
		return END_DESTROY;
	}
	domain_ref(d);
	n = counts[index].total;
	requests[index] = (struct request){ .old = d, .restarts = n, .queued = true };
	__atomic_add_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
	spin_unlock_irqrestore(&lock, flags);
	log_info("domain %u '%s': restarting it (%s = \"restart\"; restart %u)", d->domid,
		 d->name, prop, n);
	sched_wake(&worker, arch_time_ns());
	return END_RESTART;
}

unsigned int restart_outstanding(void)
{
	return __atomic_load_n(&outstanding, __ATOMIC_SEQ_CST);
}

bool restart_is_worker(const struct sched_entity *e)
{
	return e == &worker;
}

/* Called with lock held: its old domain is down to the request's reference. */
static bool ready(const struct request *r)
{
	return r->queued && __atomic_load_n(&r->old->refs, __ATOMIC_ACQUIRE) == 1;
}

/* Called with lock held: one of its backends restarts too (build that first). */
static bool backend_queued(unsigned int index)
{
	const struct domain_spec *s = domain_build_spec(index);

	for (unsigned int j = 0; s && j < s->device_count; j++) {
		if (s->devices[j].backend < BOOTCFG_MAX_DOMAINS &&
		    requests[s->devices[j].backend].queued) {
			return true;
		}
	}
	return false;
}

/*
 * The next restart to build, or -1. Backends before their frontends; when
 * every queued restart is ready and each waits for another (domains that
 * serve each other), any of them.
 */
static int take_ready(struct request *out)
{
	unsigned long flags = spin_lock_irqsave(&lock);
	bool all_ready = true;
	int found = -1;

	for (unsigned int i = 0; i < BOOTCFG_MAX_DOMAINS && found < 0; i++) {
		if (requests[i].queued && !ready(&requests[i])) {
			all_ready = false;
		} else if (ready(&requests[i]) && !backend_queued(i)) {
			found = (int)i;
		}
	}
	for (unsigned int i = 0; i < BOOTCFG_MAX_DOMAINS && found < 0 && all_ready; i++) {
		if (ready(&requests[i])) {
			found = (int)i;
		}
	}
	if (found >= 0) {
		*out = requests[found];
		requests[found].queued = false;
	}
	spin_unlock_irqrestore(&lock, flags);
	return found;
}

static bool any_queued(void)
{
	unsigned long flags = spin_lock_irqsave(&lock);
	bool any = false;

	for (unsigned int i = 0; i < BOOTCFG_MAX_DOMAINS; i++) {
		any = any || requests[i].queued;
	}
	spin_unlock_irqrestore(&lock, flags);
	return any;
}

static void rebuild(unsigned int index, const struct request *r)
{
	const struct domain_spec *s = domain_build_spec(index);
	uint32_t domid;

	domain_put(r->old);	/* the last reference: the old domain is freed here */
	domid = domain_build_again(index, r->restarts);
	if (domid) {
		log_info("domain '%s' restarted (%u): now domain %u", s->name, r->restarts, domid);
	} else {
		log_err("domain '%s': restart %u failed (see above); it stays down", s->name,
			r->restarts);
	}
	__atomic_sub_fetch(&outstanding, 1, __ATOMIC_SEQ_CST);
}

void restart_worker_run(void)
{
	struct request r;
	int index = take_ready(&r);
	uint64_t now;

	if (index >= 0) {
		rebuild((unsigned int)index, &r);
		return;	/* still runnable: the next pick looks for more */
	}
	now = arch_time_ns();
	sched_block(&worker, now);
	/* Blocked first, then checked: a request queued meanwhile is not missed. */
	if (any_queued()) {
		timer_set(&retry, now + RETRY_NS);
	}
}
