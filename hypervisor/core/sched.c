/* SPDX-License-Identifier: MIT */
/*
 * core/sched.c - the vCPU scheduler: weighted fair share, caps, affinity.
 *
 * Algorithm: weighted fair queuing by virtual run time on per-CPU run
 * queues, kept fair across CPUs by migration.
 *
 *   - Each CPU has a run queue of RUNNABLE entities sorted by vruntime. It
 *     runs the first one that its affinity allows there and whose group's
 *     cap is not spent, for SCHED_SLICE_NS. Running costs vruntime at
 *     SCHED_WEIGHT_DEFAULT * active / weight per ns, weight and active
 *     (RUNNABLE or RUNNING members) being the group's: a group's share is
 *     split between its runnable vCPUs, and blocked ones cost nothing.
 *   - vruntimes of all CPUs are on one scale. A CPU that picks looks at the
 *     other queues (a hint each publishes) and takes one waiting entity
 *     that is more than MIGRATE_LAG_NS worth behind what it would run
 *     itself, or any waiting entity if it has nothing to run (idle pull).
 *     So no waiting entity falls far behind a CPU that could run it, and
 *     long-run shares follow the weights across CPUs whatever the
 *     placement. Of the entities it could take, it takes the one that best
 *     evens out the two CPUs' weight, so that placements settle instead of
 *     moving entities back and forth.
 *   - Each queue's vruntimes (its frame) are kept within FRAME_SPREAD_NS
 *     worth of the most advanced queue's by shifting the whole queue
 *     forward, which leaves fairness on that CPU alone: an entity that
 *     cannot use more than one CPU, or that affinity keeps on a busy one,
 *     builds up no claim that other CPUs would later have to repay.
 *   - An entity that sleeps (blocks, is paused or removed) keeps its lag,
 *     its vruntime minus its queue's min_vruntime. On waking, the lag is
 *     reduced by what the sleep is worth and kept at or above
 *     -WAKE_CREDIT_NS worth: a sleeper comes back near the front but cannot
 *     use its sleep to monopolise a CPU, and one that was ahead when it
 *     blocked stays ahead after a short sleep. No entity starts running
 *     more than MIGRATE_CLAMP_NS worth behind its queue (so a capped group
 *     does not bank the time it sat out).
 *   - Wake-up places an entity on the allowed CPU with the fewest entities,
 *     idle ones and its last CPU first on a tie, and kicks that CPU if it
 *     is idle or the newcomer is WAKE_GRAN_NS worth ahead of what it runs.
 *     Whenever entities wait on a CPU that idle CPUs could run, those are
 *     kicked to come and take them.
 *   - Caps: a group's budget (cap% of SCHED_CAP_PERIOD_NS) is charged by all
 *     its entities on all CPUs; once spent, none of them is picked until the
 *     period ends. Slices are cut to the budget left and to the next refill
 *     of a capped entity waiting; an overrun (several CPUs at once) is
 *     carried into the next period.
 *   - Affinity: an entity waiting on a CPU it may no longer use (a "stray")
 *     is taken by a CPU it may use, which is kicked for it.
 *
 * Overflow: times and vruntimes are compared as signed differences, so they
 * may wrap; vruntime starts VRUNTIME_START short of the wrap so that the
 * unit tests cross it. Every live vruntime stays within about 2^60 of the
 * others (increments and lags are bounded by LAG_MAX, frames by
 * FRAME_SPREAD_NS worth, at most LAG_MAX), well inside the 2^63 that signed
 * comparison needs. Products go through mul_div(), which saturates.
 *
 * Switching: an entity that a CPU stops running stays on_cpu until that CPU
 * calls sched_switch_done(). Until then it may be queued on that CPU only
 * (a wake-up puts it back there), and no other CPU takes it. An entity
 * the caller did not pass in (the one a CPU switched away from, those
 * waiting in other queues) is only touched under its run queue's lock, so
 * that the vCPU layer may free one as soon as sched_entity_fini() agrees.
 *
 * Cost: picks, wake-ups and stealing walk the run queues concerned (short:
 * the vCPUs of one CPU) and read one hint per CPU.
 *
 * Lock order: group->members_lock -> run queue locks, lower CPU first ->
 * group->budget_lock. Every run queue lock is taken with interrupts off (the
 * timer interrupt calls in). kick_cpu is only called with no lock held but
 * members_lock.
 */
#include <arch/arch.h>
#include <keel/panic.h>
#include <keel/sched.h>
#include <keel/spinlock.h>
#include <public/keel/errno.h>

#define NS_PER_US		1000ull
#define NS_PER_MS		1000000ull

/* Credit of a waking sleeper; also the floor after sitting out a cap period. */
#define WAKE_CREDIT_NS		(SCHED_SLICE_NS / 2)
/* A woken entity this far ahead of the running one preempts it. */
#define WAKE_GRAN_NS		(1 * NS_PER_MS)
/* A waiting entity this far behind another CPU's next one moves there. */
#define MIGRATE_LAG_NS		(2 * SCHED_SLICE_NS)
/* No entity starts running more than this far behind its queue. */
#define MIGRATE_CLAMP_NS	(5 * SCHED_SLICE_NS)
/* No queue stays more than this far behind the most advanced one. */
#define FRAME_SPREAD_NS		(10 * SCHED_SLICE_NS)
/* The shortest slice armed when a cap's budget is nearly spent. */
#define SLICE_MIN_NS		(50 * NS_PER_US)

/* Bounds that keep vruntime comparisons valid (see the top of the file). */
#define LAG_MAX			((int64_t)1 << 58)
#define VRUNTIME_START		((uint64_t)0 - ((uint64_t)1 << 40))
/* The weight split stops at this many runnable vCPUs per group. */
#define ACTIVE_MAX		4096u

#define CPU_BIT(cpu)		((uint64_t)1 << (cpu))
#define FROM(state)		(1u << (state))	/* a set of sched_states */
#define NO_CPU			UINT32_MAX

/* One CPU's run queue. */
struct run_queue {
	struct spinlock lock;
	uint32_t cpu;			/* (c) */
	uint32_t nr_queued;		/* [l] RUNNABLE; a hint elsewhere */
	struct sched_node queue;	/* [l] by vruntime, ties first-come */
	struct sched_entity *curr;	/* [l] what it runs; a hint elsewhere */
	struct sched_entity *prev;	/* [l] switched from, still on_cpu */
	uint64_t min_vruntime;		/* [l] only grows (in wrapping order) */
	uint64_t slice_end;		/* [l] */
	bool need_resched;		/* (atomic) */
	/* [l] written; read without: for the first waiting entity another
	 * CPU could take, its vruntime plus MIGRATE_LAG_NS worth; which CPUs
	 * could take one (0: none); which CPUs should take one because this
	 * CPU may not run it (affinity changed). */
	uint64_t hint_vruntime;
	uint64_t hint_cpus;
	uint64_t hint_stray_cpus;
	uint32_t hint_count;		/* how many others could take */
} ALIGNED(64);
/* (c) set by sched_init()  [l] lock */

static struct run_queue run_queues[SCHED_CPUS_MAX];
static unsigned int cpu_count;
static uint64_t online_mask;
static void (*kick_cpu)(unsigned int cpu);
/* The most advanced min_vruntime of any queue (atomic). */
static uint64_t vruntime_lead;

/* ---- Time and arithmetic ---- */

static bool before(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b) < 0;
}

static uint64_t later_of(uint64_t a, uint64_t b)
{
	return before(a, b) ? b : a;
}

/* @to - @from, or 0 if @to is not after @from. */
static uint64_t elapsed(uint64_t from, uint64_t to)
{
	return (int64_t)(to - from) > 0 ? to - from : 0;
}

/* @a * @b / @c, saturating; (@c - 1) * @b must fit in 64 bits. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t whole, part;

	if (__builtin_mul_overflow(a / c, b, &whole)) {
		return UINT64_MAX;
	}
	part = (a % c) * b / c;
	if (__builtin_add_overflow(whole, part, &whole)) {
		return UINT64_MAX;
	}
	return whole;
}

static int64_t clamp_lag(int64_t lag, int64_t lo, int64_t hi)
{
	return lag < lo ? lo : (lag > hi ? hi : lag);
}

/* The vruntime that @ns of running costs an entity of @g, at most LAG_MAX. */
static uint64_t vcost(uint64_t ns, const struct sched_group *g)
{
	uint32_t active = __atomic_load_n(&g->active, __ATOMIC_RELAXED);
	uint32_t weight = READ_ONCE(g->weight);
	uint64_t v;

	active = active < 1 ? 1 : (active > ACTIVE_MAX ? ACTIVE_MAX : active);
	v = mul_div(ns, (uint64_t)SCHED_WEIGHT_DEFAULT * active, weight);
	return v > (uint64_t)LAG_MAX ? (uint64_t)LAG_MAX : v;
}

static uint64_t vcost_of(uint64_t ns, const struct sched_entity *e)
{
	return vcost(ns, e->group);
}

/* ---- Lists ---- */

static void node_init(struct sched_node *n)
{
	n->next = n;
	n->prev = n;
}

static void node_insert_before(struct sched_node *pos, struct sched_node *n)
{
	n->prev = pos->prev;
	n->next = pos;
	pos->prev->next = n;
	pos->prev = n;
}

static void node_remove(struct sched_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	node_init(n);
}

#define queue_entity(n)		container_of(n, struct sched_entity, queue)
#define member_entity(n)	container_of(n, struct sched_entity, member)

#define for_each_queued(e, rq)						\
	for (struct sched_node *n_ = (rq)->queue.next;			\
	     n_ != &(rq)->queue && ((e) = queue_entity(n_), true);	\
	     n_ = n_->next)

/* ---- Locks ---- */

static unsigned long rq_lock(struct run_queue *rq)
{
	return spin_lock_irqsave(&rq->lock);
}

static void rq_unlock(struct run_queue *rq, unsigned long flags)
{
	spin_unlock_irqrestore(&rq->lock, flags);
}

static unsigned long rq_lock_two(struct run_queue *a, struct run_queue *b)
{
	unsigned long flags;

	if (a == b) {
		return rq_lock(a);
	}
	if (a->cpu > b->cpu) {
		struct run_queue *t = a;

		a = b;
		b = t;
	}
	flags = rq_lock(a);
	spin_lock(&b->lock);
	return flags;
}

static void rq_unlock_two(struct run_queue *a, struct run_queue *b,
			  unsigned long flags)
{
	if (a != b) {
		spin_unlock(&b->lock);
	}
	rq_unlock(a, flags);
}

/* Lock the run queue that @e belongs to; it cannot change while held. */
static struct run_queue *entity_lock(struct sched_entity *e,
				     unsigned long *flags)
{
	for (;;) {
		uint32_t cpu = READ_ONCE(e->cpu);
		struct run_queue *rq = &run_queues[cpu];

		*flags = rq_lock(rq);
		if (READ_ONCE(e->cpu) == cpu) {
			return rq;
		}
		rq_unlock(rq, *flags);
	}
}

static void kick(uint32_t cpu)
{
	if (cpu != NO_CPU && kick_cpu) {
		kick_cpu(cpu);
	}
}

/* Set @rq's resched flag; returns the CPU to kick, or NO_CPU if it was set. */
static uint32_t set_resched(struct run_queue *rq)
{
	if (__atomic_exchange_n(&rq->need_resched, true, __ATOMIC_SEQ_CST)) {
		return NO_CPU;
	}
	return rq->cpu;
}

/* ---- Caps ---- */

/* Start the period that contains @now, carrying any overrun. [b] */
static void budget_refill(struct sched_group *g, uint64_t now)
{
	uint64_t since = elapsed(g->period_start, now);
	uint64_t periods;

	if (since < SCHED_CAP_PERIOD_NS) {
		return;
	}
	periods = since / SCHED_CAP_PERIOD_NS;
	g->period_start += periods * SCHED_CAP_PERIOD_NS;
	if (g->budget_ns == 0 || periods > g->used_ns / g->budget_ns) {
		g->used_ns = 0;
	} else {
		g->used_ns -= periods * g->budget_ns;
	}
	WRITE_ONCE(g->throttled, g->used_ns >= g->budget_ns && g->budget_ns);
}

/*
 * Whether entities of @g may run at @now, and how much of the budget is
 * left (UINT64_MAX without a cap); if not, *@refill_at is when they may.
 */
static bool group_may_run(struct sched_group *g, uint64_t now,
			  uint64_t *left, uint64_t *refill_at)
{
	bool ok = true;

	if (left) {
		*left = UINT64_MAX;
	}
	if (READ_ONCE(g->budget_ns) == 0) {
		return true;
	}
	spin_lock(&g->budget_lock);
	if (g->budget_ns) {
		budget_refill(g, now);
		ok = g->used_ns < g->budget_ns;
		if (left) {
			*left = ok ? g->budget_ns - g->used_ns : 0;
		}
		if (!ok && refill_at) {
			*refill_at = g->period_start + SCHED_CAP_PERIOD_NS;
		}
	}
	spin_unlock(&g->budget_lock);
	return ok;
}

static void budget_charge(struct sched_group *g, uint64_t ns, uint64_t now)
{
	uint64_t used;

	if (READ_ONCE(g->budget_ns) == 0) {
		return;
	}
	spin_lock(&g->budget_lock);
	if (g->budget_ns) {
		budget_refill(g, now);
		if (__builtin_add_overflow(g->used_ns, ns, &used)) {
			used = UINT64_MAX;
		}
		g->used_ns = used;
		WRITE_ONCE(g->throttled, g->used_ns >= g->budget_ns);
	}
	spin_unlock(&g->budget_lock);
}

/* ---- Entity state and accounting (entity's run queue locked) ---- */

static bool state_is_active(enum sched_state s)
{
	return s == SCHED_RUNNABLE || s == SCHED_RUNNING;
}

static uint32_t runstate_of(enum sched_state s)
{
	switch (s) {
	case SCHED_RUNNING:
		return KEEL_RUNSTATE_RUNNING;
	case SCHED_RUNNABLE:
		return KEEL_RUNSTATE_RUNNABLE;
	case SCHED_BLOCKED:
		return KEEL_RUNSTATE_BLOCKED;
	default:
		return KEEL_RUNSTATE_OFFLINE;
	}
}

static void set_state(struct sched_entity *e, enum sched_state s, uint64_t now)
{
	struct sched_runstate *rs = &e->runstate;
	uint32_t next = runstate_of(s);

	if (state_is_active(e->state) != state_is_active(s)) {
		uint32_t *active = &e->group->active;

		if (state_is_active(s)) {
			__atomic_add_fetch(active, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_sub_fetch(active, 1, __ATOMIC_RELAXED);
		}
	}
	if (next != rs->state) {
		uint64_t d = elapsed(rs->entry_ns, now);

		rs->time_ns[rs->state] += d;
		rs->entry_ns += d;
		rs->state = next;
	}
	WRITE_ONCE(e->state, s);
}

/* Charge running @e for its time up to @now. */
static void charge(struct sched_entity *e, uint64_t now)
{
	uint64_t d = elapsed(e->exec_start, now);

	if (d == 0) {
		return;
	}
	e->exec_start += d;
	e->vruntime += vcost_of(d, e);
	budget_charge(e->group, d, now);
}

/* ---- Run queues (locked) ---- */

/*
 * Keep @rq's frame within reach of the most advanced queue's: if its
 * min_vruntime is more than FRAME_SPREAD_NS worth (for the fastest of its
 * entities) behind, shift the queue and what the CPU runs forward as a
 * whole. They keep their order and distances, so fairness on this CPU is
 * unchanged; what is dropped is a claim no other CPU could ever settle
 * (lag built up under affinity, or by an entity alone on its CPU). An
 * empty queue joins the lead.
 */
static void rq_sync_frame(struct run_queue *rq)
{
	struct sched_entity *e, *curr = rq->curr;
	uint64_t spread = 0, target, shift;

	if (curr && curr->state != SCHED_RUNNING) {
		curr = NULL;
	}
	if (curr) {
		spread = vcost_of(FRAME_SPREAD_NS, curr);
	}
	for_each_queued(e, rq) {
		spread = MAX(spread, vcost_of(FRAME_SPREAD_NS, e));
	}
	target = __atomic_load_n(&vruntime_lead, __ATOMIC_RELAXED) - spread;
	if (!before(rq->min_vruntime, target)) {
		return;
	}
	shift = target - rq->min_vruntime;
	rq->min_vruntime = target;
	if (curr) {
		curr->vruntime += shift;
	}
	for_each_queued(e, rq) {
		e->vruntime += shift;
	}
}

static void rq_advance(struct run_queue *rq, uint64_t v)
{
	uint64_t lead = __atomic_load_n(&vruntime_lead, __ATOMIC_RELAXED);

	if (!before(rq->min_vruntime, v)) {
		return;
	}
	rq->min_vruntime = v;
	while (before(lead, v) &&
	       !__atomic_compare_exchange_n(&vruntime_lead, &lead, v, false,
					    __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED)) {
	}
}

static void rq_enqueue(struct run_queue *rq, struct sched_entity *e)
{
	struct sched_node *pos = rq->queue.next;

	while (pos != &rq->queue &&
	       !before(e->vruntime, queue_entity(pos)->vruntime)) {
		pos = pos->next;
	}
	node_insert_before(pos, &e->queue);
	WRITE_ONCE(rq->nr_queued, rq->nr_queued + 1);
}

static void rq_dequeue(struct run_queue *rq, struct sched_entity *e)
{
	node_remove(&e->queue);
	WRITE_ONCE(rq->nr_queued, rq->nr_queued - 1);
}

/* Is @e waiting on @rq although it may not run there (affinity changed)? */
static bool stray(const struct run_queue *rq, const struct sched_entity *e)
{
	return e->state == SCHED_RUNNABLE && !e->on_cpu &&
	       !(e->affinity & CPU_BIT(rq->cpu));
}

/* Whether another CPU could take @e from @rq. */
static bool stealable(const struct run_queue *rq, const struct sched_entity *e)
{
	return !e->on_cpu && !READ_ONCE(e->group->throttled) &&
	       (e->affinity & online_mask & ~CPU_BIT(rq->cpu));
}

/* Publish what other CPUs could take from @rq, for their lock-free looks. */
static void rq_publish(struct run_queue *rq)
{
	struct sched_entity *e;
	uint64_t cpus = 0, stray_cpus = 0;
	uint32_t count = 0;

	for_each_queued(e, rq) {
		if (stray(rq, e)) {
			stray_cpus |= e->affinity & online_mask;
		}
		if (!stealable(rq, e)) {
			continue;
		}
		if (!cpus) {
			WRITE_ONCE(rq->hint_vruntime,
				   e->vruntime + vcost_of(MIGRATE_LAG_NS, e));
		}
		cpus |= e->affinity & online_mask & ~CPU_BIT(rq->cpu);
		count++;
	}
	WRITE_ONCE(rq->hint_cpus, cpus);
	WRITE_ONCE(rq->hint_stray_cpus, stray_cpus);
	WRITE_ONCE(rq->hint_count, count);
}

/* Remember how far @e (leaving the running) is ahead of its queue. */
static void save_lag(struct run_queue *rq, struct sched_entity *e)
{
	e->lag = clamp_lag((int64_t)(e->vruntime - rq->min_vruntime), -LAG_MAX,
			   LAG_MAX);
}

/*
 * The entity @rq's CPU should run next at @now: the first in vruntime order
 * that it may run, @yielded only if there is no other. *@refill_at is
 * lowered to the earliest time a waiting entity whose cap is spent may
 * run again (0: none), so that the CPU can look again then.
 */
static struct sched_entity *rq_choose(struct run_queue *rq, uint64_t now,
				      const struct sched_entity *yielded,
				      uint64_t *refill_at)
{
	struct sched_entity *e, *next = NULL, *fallback = NULL;

	for_each_queued(e, rq) {
		uint64_t refill = 0;

		if (!(e->affinity & CPU_BIT(rq->cpu))) {
			continue;
		}
		if (!group_may_run(e->group, now, NULL, &refill)) {
			if (*refill_at == 0 || before(refill, *refill_at)) {
				*refill_at = refill;
			}
		} else if (e == yielded) {
			fallback = e;
		} else if (!next) {
			next = e;
		}
	}
	return next ? next : fallback;
}

/* A previous switch away is complete: the entity may move again. */
static struct sched_entity *rq_finish_switch(struct run_queue *rq)
{
	struct sched_entity *prev = rq->prev;

	if (prev) {
		prev->on_cpu = false;
		rq->prev = NULL;
	}
	return prev;
}

/* ---- Placement ---- */

static bool rq_idle(const struct run_queue *rq)
{
	return __atomic_load_n(&rq->curr, __ATOMIC_RELAXED) == NULL;
}

/*
 * How busy @rq's CPU is, lock-free, for placement: by the entities waiting
 * and running there, and on a tie, a CPU running nothing (its waiting
 * entities' caps may be spent) before one that runs something.
 */
static unsigned int rq_load(const struct run_queue *rq)
{
	unsigned int busy = rq_idle(rq) ? 0 : 1;

	return 2 * (READ_ONCE(rq->nr_queued) + busy) + busy;
}

/*
 * If entities wait on @rq that idle CPUs could run, kick as many of those
 * CPUs: each takes one when it picks. (Wake-ups prefer idle CPUs, but one
 * may have gone idle just after a wake-up placed work elsewhere, or the
 * cap of an entity waiting here may have been refilled.)
 */
static void kick_idle(const struct run_queue *rq)
{
	unsigned int waiting = READ_ONCE(rq->hint_count);

	/* Empty CPUs first: the others may have capped work of their own. */
	for (int pass = 0; pass < 2; pass++) {
		uint64_t cpus = READ_ONCE(rq->hint_cpus);

		for (; cpus && waiting; cpus &= cpus - 1) {
			struct run_queue *idle =
				&run_queues[__builtin_ctzll(cpus)];

			if (rq_idle(idle) &&
			    (pass || READ_ONCE(idle->nr_queued) == 0)) {
				kick(set_resched(idle));
				waiting--;
			}
		}
	}
}

/* The allowed CPU with the least load, @e's last CPU on a tie. Lock-free. */
static uint32_t select_cpu(const struct sched_entity *e)
{
	uint64_t allowed = READ_ONCE(e->affinity) & online_mask;
	uint32_t last = READ_ONCE(e->cpu), best = last;
	unsigned int best_load = UINT32_MAX;

	for (unsigned int i = 0; i < cpu_count; i++) {
		uint32_t cpu = (last + i) % cpu_count;
		unsigned int load;

		if (!(allowed & CPU_BIT(cpu))) {
			continue;
		}
		load = rq_load(&run_queues[cpu]);
		if (load < best_load) {
			best = cpu;
			best_load = load;
		}
	}
	return best;
}

/* Should waiting @e preempt what @rq runs? Returns a CPU to kick. */
static uint32_t check_preempt(struct run_queue *rq, struct sched_entity *e,
			      uint64_t now)
{
	struct sched_entity *curr = rq->curr;

	if (!curr) {
		return set_resched(rq);
	}
	if (curr->state != SCHED_RUNNING) {
		return NO_CPU;
	}
	charge(curr, now);
	if ((int64_t)(curr->vruntime - e->vruntime) >
		    (int64_t)vcost_of(WAKE_GRAN_NS, e) &&
	    group_may_run(e->group, now, NULL, NULL)) {
		return set_resched(rq);
	}
	return NO_CPU;
}

/* Put sleeping @e into @rq, runnable, with its lag; returns a CPU to kick. */
static uint32_t rq_place(struct run_queue *rq, struct sched_entity *e,
			 uint64_t now)
{
	int64_t credit = (int64_t)vcost_of(WAKE_CREDIT_NS, e);
	uint64_t slept = elapsed(e->runstate.entry_ns, now);
	int64_t lag = e->lag - (int64_t)vcost_of(slept, e);

	/* Sleeping pays off a lead; it earns at most the wake-up credit. */
	rq_sync_frame(rq);
	e->vruntime = rq->min_vruntime + (uint64_t)clamp_lag(lag, -credit,
							     LAG_MAX);
	WRITE_ONCE(e->cpu, rq->cpu);
	rq_enqueue(rq, e);
	set_state(e, SCHED_RUNNABLE, now);
	rq_publish(rq);
	return check_preempt(rq, e, now);
}

/*
 * Make @e runnable if its state is in @from (FROM() bits), as wake-up,
 * sched_add() and unpause do. Returns whether it was.
 */
static bool make_runnable(struct sched_entity *e, unsigned int from,
			  uint64_t now)
{
	struct run_queue *src, *dst, *placed = NULL;
	unsigned long flags;
	uint32_t to_kick = NO_CPU;

	for (;;) {
		src = &run_queues[READ_ONCE(e->cpu)];
		dst = &run_queues[select_cpu(e)];
		flags = rq_lock_two(src, dst);
		if (e->cpu == src->cpu &&
		    (e->on_cpu || (e->affinity & CPU_BIT(dst->cpu)))) {
			break;
		}
		rq_unlock_two(src, dst, flags);
	}
	if (!(from & FROM(e->state))) {
		rq_unlock_two(src, dst, flags);
		return false;
	}
	if (READ_ONCE(e->group->paused)) {
		set_state(e, SCHED_PAUSED, now);
	} else if (src->curr == e) {
		/* It left, but its CPU has not switched away yet: go on. */
		e->exec_start = now;
		set_state(e, SCHED_RUNNING, now);
	} else {
		/* An entity still being switched away from stays on its CPU. */
		placed = e->on_cpu ? src : dst;
		to_kick = rq_place(placed, e, now);
	}
	rq_unlock_two(src, dst, flags);
	kick(to_kick);
	if (placed) {
		kick_idle(placed);
	}
	return true;
}

/*
 * Move waiting @e from @from to @to (both locked). One that is behind keeps
 * its vruntime, clamped to MIGRATE_CLAMP_NS worth behind its new queue; a
 * stray keeps its place relative to its queue instead.
 */
static void migrate(struct run_queue *from, struct run_queue *to,
		    struct sched_entity *e)
{
	int64_t clamp = (int64_t)vcost_of(MIGRATE_CLAMP_NS, e);

	if (stray(from, e)) {
		save_lag(from, e);
		e->vruntime = to->min_vruntime +
			      (uint64_t)clamp_lag(e->lag, -clamp, clamp);
	} else {
		e->vruntime = later_of(e->vruntime,
				       to->min_vruntime - (uint64_t)clamp);
	}
	rq_dequeue(from, e);
	WRITE_ONCE(e->cpu, to->cpu);
	rq_enqueue(to, e);
	rq_publish(from);
	rq_publish(to);
}

/*
 * @e waits on @rq (locked) although it may not run there: ask a CPU it may
 * run on to take it (steal_one()). Returns the CPU to kick.
 */
static uint32_t call_for_stray(struct run_queue *rq, struct sched_entity *e)
{
	rq_publish(rq);
	return set_resched(&run_queues[select_cpu(e)]);
}

/* ---- Stealing ---- */

/* @e's share of its group's weight, in 1/65536ths. */
static uint64_t share_of(const struct sched_entity *e)
{
	uint32_t active = __atomic_load_n(&e->group->active, __ATOMIC_RELAXED);

	return ((uint64_t)READ_ONCE(e->group->weight) << 16) / MAX(active, 1u);
}

/* The weight @rq's CPU serves: its waiting and running entities. */
static uint64_t rq_weight(const struct run_queue *rq)
{
	const struct sched_entity *curr = rq->curr;
	struct sched_entity *e;
	uint64_t sum = 0;

	if (curr && curr->state == SCHED_RUNNING) {
		sum = share_of(curr);
	}
	for_each_queued(e, rq) {
		sum += share_of(e);
	}
	return sum;
}

static uint64_t gap_after(int64_t diff, const struct sched_entity *e)
{
	int64_t after = diff - 2 * (int64_t)share_of(e);

	return (uint64_t)(after < 0 ? -after : after);
}

/*
 * Under both locks: move a stray of @from that @to may run to @to. Else, if
 * an entity of @from that @to may run is behind @best (or @to has nothing,
 * !@have_best), move one to @to. Not necessarily that one: the one that
 * evens out the two CPUs' weights best, if that makes them more even, so
 * that the next look finds no reason to move one back. Returns whether it
 * moved one.
 */
static bool steal_one(struct run_queue *to, struct run_queue *from,
		      bool have_best, uint64_t best, uint64_t now)
{
	int64_t diff = (int64_t)(rq_weight(from) - rq_weight(to));
	struct sched_entity *e, *behind = NULL, *even = NULL;

	for_each_queued(e, from) {
		if (stray(from, e) && (e->affinity & CPU_BIT(to->cpu))) {
			migrate(from, to, e);
			return true;
		}
	}
	for_each_queued(e, from) {
		if (e->on_cpu || !(e->affinity & CPU_BIT(to->cpu)) ||
		    !group_may_run(e->group, now, NULL, NULL)) {
			continue;
		}
		if (!behind && (!have_best ||
				before(e->vruntime +
				       vcost_of(MIGRATE_LAG_NS, e), best))) {
			behind = e;
		}
		if (!even || gap_after(diff, e) < gap_after(diff, even)) {
			even = e;
		}
	}
	if (!behind) {
		return false;
	}
	if (gap_after(diff, even) < (uint64_t)(diff < 0 ? -diff : diff)) {
		behind = even;
	}
	migrate(from, to, behind);
	return true;
}

/* Take a waiting entity from another CPU if the hints say one is due. */
static void steal(struct run_queue *rq, bool have_best, uint64_t best,
		  uint64_t now)
{
	for (unsigned int i = 1; i < cpu_count; i++) {
		struct run_queue *from = &run_queues[(rq->cpu + i) % cpu_count];
		unsigned long flags;
		bool moved;
		bool due = !have_best ||
			   before(READ_ONCE(from->hint_vruntime), best);

		if (!(READ_ONCE(from->hint_stray_cpus) & CPU_BIT(rq->cpu)) &&
		    !(due && (READ_ONCE(from->hint_cpus) & CPU_BIT(rq->cpu)))) {
			continue;
		}
		flags = rq_lock_two(rq, from);
		moved = steal_one(rq, from, have_best, best, now);
		rq_unlock_two(rq, from, flags);
		if (moved) {
			return;
		}
	}
}

/* ---- Initialisation ---- */

int sched_init(unsigned int count, void (*kick_fn)(unsigned int cpu))
{
	if (count == 0 || count > SCHED_CPUS_MAX) {
		return -KEEL_EINVAL;
	}
	for (unsigned int cpu = 0; cpu < SCHED_CPUS_MAX; cpu++) {
		struct run_queue *rq = &run_queues[cpu];

		*rq = (struct run_queue){ .lock = SPINLOCK_INIT, .cpu = cpu,
					  .min_vruntime = VRUNTIME_START };
		node_init(&rq->queue);
	}
	cpu_count = count;
	online_mask = count == 64 ? UINT64_MAX : CPU_BIT(count) - 1;
	kick_cpu = kick_fn;
	vruntime_lead = VRUNTIME_START;
	return 0;
}

static bool group_args_ok(uint32_t weight, uint32_t cap)
{
	return weight >= SCHED_WEIGHT_MIN && weight <= SCHED_WEIGHT_MAX &&
	       cap <= SCHED_CAP_MAX;
}

int sched_group_init(struct sched_group *g, uint32_t weight, uint32_t cap,
		     uint64_t now)
{
	if (!group_args_ok(weight, cap)) {
		return -KEEL_EINVAL;
	}
	*g = (struct sched_group){ .members_lock = SPINLOCK_INIT,
				   .budget_lock = SPINLOCK_INIT,
				   .period_start = now };
	node_init(&g->members);
	return sched_group_set(g, weight, cap);
}

int sched_group_set(struct sched_group *g, uint32_t weight, uint32_t cap)
{
	unsigned long flags;

	if (!group_args_ok(weight, cap)) {
		return -KEEL_EINVAL;
	}
	WRITE_ONCE(g->weight, weight);
	flags = spin_lock_irqsave(&g->budget_lock);
	if (g->cap == 0) {
		g->used_ns = 0;		/* not counted while there was no cap */
	}
	g->cap = cap;
	WRITE_ONCE(g->budget_ns, cap * SCHED_CAP_PERIOD_NS / 100);
	WRITE_ONCE(g->throttled, g->budget_ns && g->used_ns >= g->budget_ns);
	spin_unlock_irqrestore(&g->budget_lock, flags);
	return 0;
}

int sched_group_fini(struct sched_group *g)
{
	unsigned long flags = spin_lock_irqsave(&g->members_lock);
	bool empty = g->members.next == &g->members;

	spin_unlock_irqrestore(&g->members_lock, flags);
	return empty ? 0 : -KEEL_EBUSY;
}

int sched_entity_init(struct sched_entity *e, struct sched_group *g,
		      uint64_t affinity, uint64_t now)
{
	unsigned long flags;

	if (!(affinity & online_mask)) {
		return -KEEL_EINVAL;
	}
	*e = (struct sched_entity){
		.group = g,
		.affinity = affinity,
		.state = SCHED_OFFLINE,
		.cpu = (uint32_t)__builtin_ctzll(affinity & online_mask),
		.runstate = { .state = KEEL_RUNSTATE_OFFLINE, .entry_ns = now },
	};
	node_init(&e->queue);
	flags = spin_lock_irqsave(&g->members_lock);
	node_insert_before(&g->members, &e->member);
	spin_unlock_irqrestore(&g->members_lock, flags);
	return 0;
}

int sched_entity_fini(struct sched_entity *e)
{
	struct sched_group *g = e->group;
	unsigned long gflags = spin_lock_irqsave(&g->members_lock);
	unsigned long flags;
	struct run_queue *rq = entity_lock(e, &flags);
	bool busy = e->state != SCHED_OFFLINE || e->on_cpu;

	rq_unlock(rq, flags);
	if (!busy) {
		node_remove(&e->member);
	}
	spin_unlock_irqrestore(&g->members_lock, gflags);
	return busy ? -KEEL_EBUSY : 0;
}

/* ---- State changes ---- */

int sched_add(struct sched_entity *e, uint64_t now)
{
	unsigned long flags;
	struct run_queue *rq = entity_lock(e, &flags);
	bool offline = e->state == SCHED_OFFLINE;

	if (offline) {
		e->lag = 0;
	}
	rq_unlock(rq, flags);
	if (!offline || !make_runnable(e, FROM(SCHED_OFFLINE), now)) {
		return -KEEL_EBUSY;
	}
	return 0;
}

bool sched_wake(struct sched_entity *e, uint64_t now)
{
	return make_runnable(e, FROM(SCHED_BLOCKED), now);
}

/*
 * Take @e out of the running into @to (BLOCKED, PAUSED, OFFLINE), from
 * the states in @from. Returns a CPU to kick.
 */
static uint32_t leave(struct sched_entity *e, enum sched_state to,
		      unsigned int from, uint64_t now)
{
	unsigned long flags;
	struct run_queue *rq = entity_lock(e, &flags);
	uint32_t to_kick = NO_CPU;

	if (!(from & FROM(e->state))) {
		rq_unlock(rq, flags);
		return NO_CPU;
	}
	if (e->state == SCHED_RUNNING) {
		charge(e, now);
		to_kick = set_resched(rq);
	}
	if (state_is_active(e->state)) {
		save_lag(rq, e);
	}
	if (e->state == SCHED_RUNNABLE) {
		rq_dequeue(rq, e);
		rq_publish(rq);
	}
	e->yielded = false;
	set_state(e, to, now);
	rq_unlock(rq, flags);
	return to_kick;
}

void sched_block(struct sched_entity *e, uint64_t now)
{
	kick(leave(e, SCHED_BLOCKED,
		   FROM(SCHED_RUNNING) | FROM(SCHED_RUNNABLE) |
		   FROM(SCHED_PAUSED),
		   now));
}

void sched_remove(struct sched_entity *e, uint64_t now)
{
	kick(leave(e, SCHED_OFFLINE,
		   FROM(SCHED_RUNNING) | FROM(SCHED_RUNNABLE) |
		   FROM(SCHED_PAUSED) | FROM(SCHED_BLOCKED),
		   now));
}

void sched_yield_slice(struct sched_entity *e, uint64_t now)
{
	unsigned long flags;
	struct run_queue *rq = entity_lock(e, &flags);
	uint32_t to_kick = NO_CPU;

	if (e->state == SCHED_RUNNING) {
		e->yielded = true;
		to_kick = set_resched(rq);
	}
	rq_unlock(rq, flags);
	kick(to_kick);
}

void sched_pause(struct sched_group *g, uint64_t now)
{
	unsigned long flags = spin_lock_irqsave(&g->members_lock);

	WRITE_ONCE(g->paused, true);
	for (struct sched_node *n = g->members.next; n != &g->members;
	     n = n->next) {
		kick(leave(member_entity(n), SCHED_PAUSED,
			   FROM(SCHED_RUNNING) | FROM(SCHED_RUNNABLE), now));
	}
	spin_unlock_irqrestore(&g->members_lock, flags);
}

void sched_unpause(struct sched_group *g, uint64_t now)
{
	unsigned long flags = spin_lock_irqsave(&g->members_lock);

	WRITE_ONCE(g->paused, false);
	for (struct sched_node *n = g->members.next; n != &g->members;
	     n = n->next) {
		make_runnable(member_entity(n), FROM(SCHED_PAUSED), now);
	}
	spin_unlock_irqrestore(&g->members_lock, flags);
}

int sched_set_affinity(struct sched_entity *e, uint64_t mask, uint64_t now)
{
	unsigned long flags;
	struct run_queue *rq;
	uint32_t to_kick = NO_CPU;

	if (!(mask & online_mask)) {
		return -KEEL_EINVAL;
	}
	rq = entity_lock(e, &flags);
	e->affinity = mask;
	if (stray(rq, e)) {
		to_kick = call_for_stray(rq, e);
	} else if (e->state == SCHED_RUNNING && !(mask & CPU_BIT(rq->cpu))) {
		to_kick = set_resched(rq);	/* moves once switched from */
	} else {
		rq_publish(rq);
	}
	rq_unlock(rq, flags);
	kick(to_kick);
	kick_idle(rq);
	return 0;
}

/* ---- Picking ---- */

/* The run queue of @cpu, which the arch passes: a bad index is Keel's bug. */
static struct run_queue *cpu_rq(unsigned int cpu)
{
	ASSERT(cpu < cpu_count);
	return &run_queues[cpu];
}

/*
 * First half of a pick: the running entity becomes the one being switched
 * away from (back in the queue if it still may run); *@best is the
 * vruntime of what the CPU would run next. If an entity switched away
 * from earlier has to move, *@to_kick is the CPU asked to take it.
 */
static bool pick_prepare(struct run_queue *rq, uint64_t now, uint64_t *best,
			 uint32_t *to_kick)
{
	unsigned long flags = rq_lock(rq);
	struct sched_entity *curr = rq->curr, *next;
	struct sched_entity *prev = rq_finish_switch(rq);
	uint64_t refill_at = 0;

	if (prev && prev->cpu == rq->cpu && stray(rq, prev)) {
		/* sched_switch_done() was not called */
		*to_kick = call_for_stray(rq, prev);
	}
	if (curr) {
		if (curr->state == SCHED_RUNNING) {
			charge(curr, now);
			rq_enqueue(rq, curr);
			set_state(curr, SCHED_RUNNABLE, now);
		}
		rq->prev = curr;
		__atomic_store_n(&rq->curr, NULL, __ATOMIC_RELAXED);
	}
	next = rq_choose(rq, now, curr && curr->yielded ? curr : NULL,
			 &refill_at);
	if (next) {
		*best = next->vruntime;
	}
	rq_unlock(rq, flags);
	return next != NULL;
}

/* The slice for @next starting at @now: cut to its group's budget. */
static uint64_t slice_for(struct sched_entity *next, uint64_t now)
{
	uint64_t left;

	group_may_run(next->group, now, &left, NULL);
	if (left >= SCHED_SLICE_NS) {
		return SCHED_SLICE_NS;
	}
	return MAX(left, SLICE_MIN_NS);
}

/* Make @next (dequeued) the running entity of @rq. */
static void run(struct run_queue *rq, struct sched_entity *next, uint64_t now)
{
	uint64_t floor;

	floor = rq->min_vruntime - vcost_of(MIGRATE_CLAMP_NS, next);
	next->vruntime = later_of(next->vruntime, floor);
	rq_advance(rq, next->vruntime);
	next->exec_start = now;
	next->on_cpu = true;
	set_state(next, SCHED_RUNNING, now);
	__atomic_store_n(&rq->curr, next, __ATOMIC_RELAXED);
}

/*
 * Second half of a pick: choose, and set the timer. Anything that became
 * runnable here since the first half is in the queue, so the resched flag
 * is cleared now.
 */
static struct sched_entity *pick_next(struct run_queue *rq, uint64_t now,
				      uint64_t *slice_ns)
{
	unsigned long flags = rq_lock(rq);
	struct sched_entity *prev = rq->prev, *next;
	uint64_t refill_at = 0;

	__atomic_store_n(&rq->need_resched, false, __ATOMIC_SEQ_CST);
	rq_sync_frame(rq);
	next = rq_choose(rq, now, prev && prev->yielded ? prev : NULL,
			 &refill_at);
	if (prev) {
		prev->yielded = false;
	}
	if (next) {
		if (next == prev) {
			rq->prev = NULL;	/* no switch */
		}
		rq_dequeue(rq, next);
		run(rq, next, now);
		*slice_ns = slice_for(next, now);
		if (refill_at) {
			/* Look again when a capped entity here may run. */
			*slice_ns = MIN(*slice_ns, MAX(elapsed(now, refill_at),
						       SLICE_MIN_NS));
		}
		rq->slice_end = now + *slice_ns;
	} else {
		*slice_ns = refill_at ? MAX(elapsed(now, refill_at), 1) : 0;
	}
	rq_publish(rq);
	rq_unlock(rq, flags);
	return next;
}

struct sched_entity *sched_pick(unsigned int cpu, uint64_t now,
				uint64_t *slice_ns)
{
	struct run_queue *rq = cpu_rq(cpu);
	struct sched_entity *next;
	uint32_t to_kick = NO_CPU;
	uint64_t best = 0;
	bool have_best;

	have_best = pick_prepare(rq, now, &best, &to_kick);
	kick(to_kick);
	steal(rq, have_best, best, now);
	next = pick_next(rq, now, slice_ns);
	kick_idle(rq);
	return next;
}

void sched_switch_done(unsigned int cpu)
{
	struct run_queue *rq = cpu_rq(cpu);
	unsigned long flags = rq_lock(rq);
	struct sched_entity *prev = rq_finish_switch(rq);
	uint32_t to_kick = NO_CPU;

	if (prev && prev->cpu == cpu && stray(rq, prev)) {
		to_kick = call_for_stray(rq, prev);
	} else {
		rq_publish(rq);
	}
	rq_unlock(rq, flags);
	kick(to_kick);
	kick_idle(rq);
}

bool sched_tick(unsigned int cpu, uint64_t now)
{
	struct run_queue *rq = cpu_rq(cpu);
	unsigned long flags = rq_lock(rq);
	struct sched_entity *curr = rq->curr;
	bool resched;

	if (curr && curr->state == SCHED_RUNNING) {
		charge(curr, now);
		if (!before(now, rq->slice_end) ||
		    !group_may_run(curr->group, now, NULL, NULL)) {
			set_resched(rq);
		}
	} else if (curr || rq->nr_queued) {
		set_resched(rq);
	}
	resched = __atomic_load_n(&rq->need_resched, __ATOMIC_SEQ_CST);
	rq_unlock(rq, flags);
	return resched;
}

bool sched_need_resched(unsigned int cpu)
{
	return __atomic_load_n(&cpu_rq(cpu)->need_resched, __ATOMIC_SEQ_CST);
}

/* ---- Queries ---- */

void sched_entity_runstate(struct sched_entity *e, struct sched_runstate *out)
{
	unsigned long flags;
	struct run_queue *rq = entity_lock(e, &flags);

	*out = e->runstate;
	rq_unlock(rq, flags);
}

enum sched_state sched_entity_state(const struct sched_entity *e)
{
	return READ_ONCE(e->state);
}

unsigned int sched_entity_cpu(const struct sched_entity *e)
{
	return READ_ONCE(e->cpu);
}

bool sched_entity_on_cpu(const struct sched_entity *e)
{
	return READ_ONCE(e->on_cpu);
}
