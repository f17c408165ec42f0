/* SPDX-License-Identifier: MIT */
/*
 * core/vcpu.c - the vCPU layer: what a vCPU is doing beyond the scheduler's
 * view (online, waiting for what, its keel_vcpu_info, its timers), and the
 * scheduling and vCPU hypercalls built on that.
 *
 * Wake-ups never get lost: a waiting vCPU first tells the scheduler it
 * blocks, then checks its wake condition again and wakes itself if it
 * already holds. A waker that comes in between finds it BLOCKED and wakes
 * it, or finds it still running and cancels the block (sched_wake()).
 */
#include <arch/arch.h>
#include <keel/evtchn.h>
#include <keel/heap.h>
#include <keel/string.h>
#include <keel/timer.h>
#include <keel/vcpu.h>
#include <public/keel/errno.h>
#include <public/keel/sched.h>

#define VCPU_INFO_ALIGN		64u

struct vcpu_state {
	struct spinlock lock;		/* guards what is marked [l] */
	struct vcpu *vcpu;		/* (c) */
	bool online;			/* [o] in the scheduler */
	bool starting;			/* [o] VCPU_UP is loading a context into it */
	uint64_t info_gpa;		/* [l] registered keel_vcpu_info, or 0 */
	struct keel_vcpu_info *info;	/* [l] Keel's view of it */
	int last_cpu;			/* CPU its time info was written on */
	bool ever_ran;			/* entered its guest at least once */

	struct timer timer;		/* the guest's single-shot timer */
	bool timer_fired;		/* (atomic) since it was last armed or consumed */

	struct timer poll_timer;	/* KEEL_HC_SCHED_POLL's deadline */
	bool polling;			/* (atomic) waiting in SCHED_POLL */
	bool poll_timed_out;		/* (atomic) */
};
/* [o] online_lock */

/*
 * Serialises online changes, in every domain. VCPU_DOWN counts the online
 * vCPUs and takes one offline in one step, so two vCPUs taking each other
 * down at once cannot both succeed and leave none running; and a vCPU's
 * online flag changes together with its scheduler state, so a VCPU_UP
 * racing a VCPU_DOWN cannot leave it marked online but off the scheduler.
 * UP and DOWN are rare: one lock for all domains is enough. Taken before
 * the scheduler's locks.
 */
static struct spinlock online_lock = SPINLOCK_INIT;

static uint64_t now_ns(void)
{
	return arch_time_ns();
}

uint64_t vcpu_domain_time(const struct domain *d)
{
	return now_ns() - d->time_origin_ns;
}

static void wake(struct vcpu *v)
{
	sched_wake(&v->sched, now_ns());
}

static void guest_timer_fired(struct timer *t)
{
	struct vcpu_state *s = container_of(t, struct vcpu_state, timer);
	struct vcpu *v = s->vcpu;

	__atomic_store_n(&s->timer_fired, true, __ATOMIC_SEQ_CST);
	if (v->domain->evtchn) {
		evtchn_raise_virq(v->domain->evtchn, v->id, KEEL_VIRQ_TIMER);
	}
	wake(v);
}

static void poll_timer_fired(struct timer *t)
{
	struct vcpu_state *s = container_of(t, struct vcpu_state, poll_timer);

	__atomic_store_n(&s->poll_timed_out, true, __ATOMIC_SEQ_CST);
	wake(s->vcpu);
}

int vcpu_state_create(struct vcpu *v)
{
	struct vcpu_state *s = heap_alloc(sizeof(*s));

	if (!s) {
		return -KEEL_ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	s->lock = (struct spinlock)SPINLOCK_INIT;
	s->vcpu = v;
	s->last_cpu = -1;
	timer_init(&s->timer, guest_timer_fired);
	timer_init(&s->poll_timer, poll_timer_fired);
	v->state = s;
	return 0;
}

void vcpu_state_stop_timers(struct vcpu *v)
{
	struct vcpu_state *s = v->state;

	timer_cancel(&s->timer);
	timer_cancel(&s->poll_timer);
}

void vcpu_state_destroy(struct vcpu *v)
{
	struct vcpu_state *s = v->state;

	vcpu_state_stop_timers(v);
	if (s->info) {
		guest_memory_unpin(v->domain, s->info_gpa >> PAGE_SHIFT);
	}
	heap_free(s);
	v->state = NULL;
}

/* @pre online_lock held, @v offline and not starting. */
static int go_online(struct vcpu *v)
{
	int rc = sched_add(&v->sched, now_ns());

	if (rc == 0) {
		WRITE_ONCE(v->state->online, true);
	}
	return rc;
}

int vcpu_online(struct vcpu *v)
{
	struct vcpu_state *s = v->state;
	unsigned long flags = spin_lock_irqsave(&online_lock);
	int rc = -KEEL_EBUSY;

	if (!s->online && !s->starting) {
		rc = go_online(v);
	}
	spin_unlock_irqrestore(&online_lock, flags);
	return rc;
}

bool vcpu_is_online(struct vcpu *v)
{
	return READ_ONCE(v->state->online);
}

void vcpu_upcall_kick(struct vcpu *v)
{
	/*
	 * Interrupt first, then wake: woken the other way round, @v could
	 * enter its guest before the upcall is marked for injection, leave
	 * its HLT and run on with the interrupt arriving only later.
	 */
	arch_vcpu_notify(v);
	wake(v);
}

void vcpu_port_raised(struct domain *d, uint32_t port)
{
	(void)port;	/* pollers re-check their own list when they run */
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		struct vcpu *v = d->vcpus[i];

		if (v && __atomic_load_n(&v->state->polling, __ATOMIC_SEQ_CST)) {
			wake(v);
		}
	}
}

static bool upcall_pending(struct vcpu_state *s)
{
	struct keel_vcpu_info *info = READ_ONCE(s->info);

	return info && __atomic_load_n(&info->upcall_pending, __ATOMIC_SEQ_CST);
}

/* Block @v, then wake it again at once if @ready says it need not wait. */
static void wait_unless(struct vcpu *v, bool (*ready)(struct vcpu_state *s))
{
	sched_block(&v->sched, now_ns());
	if (ready(v->state)) {
		wake(v);
	}
}

static bool block_ready(struct vcpu_state *s)
{
	return upcall_pending(s) || __atomic_load_n(&s->timer_fired, __ATOMIC_SEQ_CST);
}

bool vcpu_halt(struct vcpu *v)
{
	struct vcpu_state *s = v->state;

	if (block_ready(s)) {
		__atomic_store_n(&s->timer_fired, false, __ATOMIC_SEQ_CST);
		return true;
	}
	wait_unless(v, block_ready);
	return false;
}

long vcpu_hc_block(struct vcpu *v)
{
	return vcpu_halt(v) ? 0 : HYPERCALL_RESTART;
}

long vcpu_hc_yield(struct vcpu *v)
{
	sched_yield_slice(&v->sched, now_ns());
	return 0;
}

long vcpu_hc_set_timer(struct vcpu *v, uint64_t deadline)
{
	struct vcpu_state *s = v->state;
	struct domain *d = v->domain;

	timer_cancel(&s->timer);
	__atomic_store_n(&s->timer_fired, false, __ATOMIC_SEQ_CST);
	if (deadline == 0) {
		return 0;
	}
	/* Domain time to Keel time; a deadline in the past fires at once. */
	timer_set(&s->timer, d->time_origin_ns + deadline);
	return 0;
}

/*
 * Checks of a KEEL_HC_SCHED_POLL request in the order of errors.md; then
 * 1 if a listed port is pending, else 0.
 */
static long poll_check(struct domain *d, const struct keel_sched_poll *req)
{
	long pending = 0;

	for (uint32_t i = 0; i < req->nr_ports; i++) {
		long r = evtchn_port_pending(d->evtchn, req->ports[i]);

		if (r < 0) {
			return r;
		}
		pending |= r;
	}
	return pending;
}

long vcpu_hc_poll(struct vcpu *v, uint64_t gpa)
{
	struct vcpu_state *s = v->state;
	struct domain *d = v->domain;
	struct keel_sched_poll req;
	size_t header = offsetof(struct keel_sched_poll, ports);
	long r;

	if ((gpa & 7) || !guest_range_in_page(gpa, header) ||
	    guest_copy_from(d, gpa, &req, header) != 0) {
		return -KEEL_EFAULT;
	}
	if (req.nr_ports > KEEL_SCHED_POLL_MAX) {
		return -KEEL_E2BIG;
	}
	if (!guest_range_in_page(gpa, header + (uint64_t)req.nr_ports * sizeof(uint32_t)) ||
	    guest_copy_from(d, gpa + header, req.ports, req.nr_ports * sizeof(uint32_t)) != 0) {
		return -KEEL_EFAULT;
	}
	if (req.nr_ports == 0 || req.pad0 != 0) {
		return -KEEL_EINVAL;
	}
	for (uint32_t i = 0; i < req.nr_ports; i++) {
		if (req.ports[i] == 0 || req.ports[i] >= evtchn_port_limit(d->evtchn)) {
			return -KEEL_EINVAL;
		}
	}
	/* Mark us a poller before looking, so a raise in between wakes us. */
	__atomic_store_n(&s->polling, true, __ATOMIC_SEQ_CST);
	r = poll_check(d, &req);
	if (r != 0) {
		goto done;
	}
	if (req.deadline_ns && (int64_t)(vcpu_domain_time(d) - req.deadline_ns) >= 0) {
		goto done;	/* timed out: r is 0 */
	}
	if (__atomic_exchange_n(&s->poll_timed_out, false, __ATOMIC_SEQ_CST)) {
		goto done;
	}
	if (req.deadline_ns) {
		timer_set(&s->poll_timer, d->time_origin_ns + req.deadline_ns);
	}
	/* Block, then look again: a port raised in between wakes us below. */
	sched_block(&v->sched, now_ns());
	r = poll_check(d, &req);
	if (r == 0) {
		return HYPERCALL_RESTART;	/* stays a poller until it returns */
	}
	wake(v);
done:
	__atomic_store_n(&s->polling, false, __ATOMIC_SEQ_CST);
	timer_cancel(&s->poll_timer);
	__atomic_store_n(&s->poll_timed_out, false, __ATOMIC_SEQ_CST);
	return r;
}

/* Write @v's time info and runstate into its keel_vcpu_info, if it has one. */
static void publish_time(struct vcpu *v, struct keel_vcpu_info *info)
{
	struct sched_runstate rs;
	uint64_t origin = v->domain->time_origin_ns;
	uint32_t version = info->time.version;

	sched_entity_runstate(&v->sched, &rs);
	WRITE_ONCE(info->time.version, version | 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	arch_time_info(&info->time, origin);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	WRITE_ONCE(info->time.version, (version | 1) + 1);

	version = info->runstate.version;
	WRITE_ONCE(info->runstate.version, version | 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	info->runstate.state = rs.state;
	info->runstate.state_entry_ns = rs.entry_ns - origin;
	for (unsigned int i = 0; i < KEEL_RUNSTATE_COUNT; i++) {
		info->runstate.time_ns[i] = rs.time_ns[i];
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	WRITE_ONCE(info->runstate.version, (version | 1) + 1);
}

void vcpu_before_entry(struct vcpu *v)
{
	struct vcpu_state *s = v->state;
	unsigned long flags = spin_lock_irqsave(&s->lock);

	if (s->info) {
		publish_time(v, s->info);
	}
	s->last_cpu = (int)arch_cpu_index();
	s->ever_ran = true;
	spin_unlock_irqrestore(&s->lock, flags);
}

long vcpu_hc_register_info(struct vcpu *v, uint32_t target, uint64_t gpa)
{
	struct domain *d = v->domain;
	struct keel_vcpu_info *info;
	struct vcpu_state *s;
	unsigned long flags;
	uint64_t old_gpa;
	bool had_old;
	paddr_t pa;
	long rc;

	if (target >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	/* Pinned: the guest cannot release a page Keel keeps writing. */
	if ((gpa & (VCPU_INFO_ALIGN - 1)) || !guest_range_in_page(gpa, sizeof(*info)) ||
	    guest_memory_pin(d, gpa >> PAGE_SHIFT, &pa) != 0) {
		return -KEEL_EFAULT;
	}
	s = d->vcpus[target]->state;
	info = (struct keel_vcpu_info *)((uint8_t *)arch_phys_to_virt(pa) + (gpa & (PAGE_SIZE - 1)));
	flags = spin_lock_irqsave(&s->lock);
	had_old = s->info != NULL;
	old_gpa = s->info_gpa;
	s->info_gpa = gpa;
	s->info = info;
	publish_time(d->vcpus[target], info);
	spin_unlock_irqrestore(&s->lock, flags);
	/* Recomputes the selectors and kicks the vCPU if anything is pending. */
	rc = evtchn_vcpu_info_registered(d->evtchn, target, info);
	if (had_old) {
		guest_memory_unpin(d, old_gpa >> PAGE_SHIFT);	/* no longer written */
	}
	return rc;
}

long vcpu_hc_up(struct vcpu *v, uint32_t target, uint64_t context_gpa)
{
	struct domain *d = v->domain;
	struct vcpu_state *s;
	unsigned long flags;
	struct vcpu *t;
	long rc = 0;

	if (target >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	t = d->vcpus[target];
	s = t->state;
	flags = spin_lock_irqsave(&online_lock);
	if (s->online || s->starting) {
		rc = -KEEL_EBUSY;
	} else if (context_gpa == 0) {
		/* Resume: its registers are still where it stopped. */
		rc = READ_ONCE(s->ever_ran) ? go_online(t) : -KEEL_EINVAL;
	} else {
		s->starting = true;	/* ours: another UP gets EBUSY meanwhile */
	}
	spin_unlock_irqrestore(&online_lock, flags);
	if (rc != 0 || context_gpa == 0) {
		return rc;
	}
	/*
	 * A vCPU just taken down may still be in guest mode or in its exit
	 * handler on its last CPU, which writes its registers back when it
	 * leaves; a context loaded before that would be overwritten and the
	 * vCPU would go on where it was. That CPU was kicked when the vCPU
	 * went down, so this wait is short.
	 */
	while (sched_entity_on_cpu(&t->sched)) {
		arch_cpu_relax();
	}
	rc = arch_vcpu_load_context(t, d, context_gpa);
	flags = spin_lock_irqsave(&online_lock);
	s->starting = false;
	if (rc == 0) {
		rc = go_online(t);
	}
	spin_unlock_irqrestore(&online_lock, flags);
	return rc;
}

/* Wait until @v is off every CPU; false if its domain runs (it may stay on). */
static bool wait_off_cpu(struct vcpu *v)
{
	while (sched_entity_on_cpu(&v->sched)) {
		if (READ_ONCE(v->domain->state) == DOMAIN_RUNNING) {
			return false;
		}
		arch_cpu_relax();
	}
	return true;
}

long vcpu_ctl_set_context(struct vcpu *v, struct domain *from, uint64_t gpa)
{
	struct vcpu_state *s = v->state;
	struct domain *d = v->domain;
	unsigned long flags, dflags;
	bool was_online = false;
	long rc = 0;

	flags = spin_lock_irqsave(&online_lock);
	if (s->starting) {
		rc = -KEEL_EBUSY;
	} else {
		/*
		 * Off the scheduler while the registers change: then not even an
		 * UNPAUSE racing this call can run @v half-loaded.
		 */
		s->starting = true;
		was_online = s->online;
		if (was_online) {
			WRITE_ONCE(s->online, false);
			sched_remove(&v->sched, now_ns());
		}
	}
	spin_unlock_irqrestore(&online_lock, flags);
	if (rc != 0) {
		return rc;
	}
	/* Its last CPU was kicked by the removal (or the pause): a short wait. */
	while (sched_entity_on_cpu(&v->sched)) {
		arch_cpu_relax();
	}
	rc = arch_vcpu_load_context(v, from, gpa);
	/*
	 * Back online (or online for the first time), unless the domain was
	 * destroyed meanwhile: its destruction took every vCPU off the
	 * scheduler for good, under the same lock order (domain, then online).
	 */
	dflags = spin_lock_irqsave(&d->lock);
	flags = spin_lock_irqsave(&online_lock);
	s->starting = false;
	if ((rc == 0 || was_online) && d->state != DOMAIN_DYING) {
		(void)go_online(v);	/* offline and not starting: cannot fail */
	}
	spin_unlock_irqrestore(&online_lock, flags);
	spin_unlock_irqrestore(&d->lock, dflags);
	return rc;
}

long vcpu_ctl_get_context(struct vcpu *v, struct domain *to, uint64_t gpa)
{
	/* A paused domain's vCPUs leave their CPUs at the next pick (kicked). */
	if (!wait_off_cpu(v)) {
		return -KEEL_EBUSY;
	}
	return arch_vcpu_save_context(v, to, gpa);
}

long vcpu_hc_down(struct vcpu *v, uint32_t target)
{
	struct domain *d = v->domain;
	struct vcpu_state *s;
	unsigned int online = 0;
	unsigned long flags;
	long rc = 0;

	if (target >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	s = d->vcpus[target]->state;
	flags = spin_lock_irqsave(&online_lock);
	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		online += d->vcpus[i]->state->online;
	}
	if (!s->online || online <= 1) {
		rc = -KEEL_EBUSY;
	} else {
		/*
		 * Off the scheduler; it keeps its registers. The calling vCPU
		 * stops right after this call, which returns 0 when it is
		 * brought up again.
		 */
		WRITE_ONCE(s->online, false);
		sched_remove(&d->vcpus[target]->sched, now_ns());
	}
	spin_unlock_irqrestore(&online_lock, flags);
	return rc;
}

long vcpu_hc_info(struct vcpu *v, uint64_t gpa)
{
	struct domain *d = v->domain;
	struct keel_vcpu_status st;
	struct sched_runstate rs;
	struct vcpu_state *s;
	unsigned long flags;

	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(st)) ||
	    guest_copy_from(d, gpa, &st, sizeof(st)) != 0) {
		return -KEEL_EFAULT;
	}
	if (st.vcpu >= d->vcpu_count) {
		return -KEEL_EINVAL;
	}
	s = d->vcpus[st.vcpu]->state;
	sched_entity_runstate(&d->vcpus[st.vcpu]->sched, &rs);
	flags = spin_lock_irqsave(&s->lock);
	st.flags = (READ_ONCE(s->online) ? KEEL_VCPU_F_ONLINE : 0) |
		   (s->info ? KEEL_VCPU_F_INFO_REGISTERED : 0);
	st.info_gpa = s->info_gpa;
	spin_unlock_irqrestore(&s->lock, flags);
	st.runstate.version = 0;
	st.runstate.state = rs.state;
	st.runstate.state_entry_ns = rs.entry_ns - d->time_origin_ns;
	for (unsigned int i = 0; i < KEEL_RUNSTATE_COUNT; i++) {
		st.runstate.time_ns[i] = rs.time_ns[i];
	}
	return guest_copy_to(d, gpa, &st, sizeof(st)) == 0 ? 0 : -KEEL_EFAULT;
}
