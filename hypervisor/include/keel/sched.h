/* SPDX-License-Identifier: MIT */
/*
 * keel/sched.h - the vCPU scheduler: weighted fair share, caps, affinity.
 *
 * The scheduler knows nothing of domains or vCPUs. It schedules
 * struct sched_entity objects (one per vCPU, embedded in the vCPU layer's
 * struct vcpu and found again with container_of) that belong to a
 * struct sched_group (one per domain):
 *
 *   - A group's weight (1..65535, SCHED_WEIGHT_DEFAULT for "normal") sets its
 *     share of the CPUs against the other groups with runnable vCPUs; the
 *     share is split evenly between the group's runnable vCPUs, so a domain
 *     does not get more by having more vCPUs. Blocked vCPUs cost nothing.
 *   - A cap (percent of one CPU, 0 = none; 150 = one and a half CPUs) limits
 *     a group to that much CPU time per SCHED_CAP_PERIOD_NS, even when CPUs
 *     are otherwise idle.
 *   - Each entity may run only on the CPUs of its affinity mask.
 *
 * Time is whatever the caller passes as @now (nanoseconds, arch_time_ns() in
 * the hypervisor, simulated in the unit tests); it may wrap, and CPUs may
 * disagree by a little. The core/sched.c header comment describes the
 * algorithm.
 *
 * How the vCPU and arch layers drive it:
 *
 *   - sched_init() once with the CPU count and a kick function, before any
 *     group exists. kick(cpu) is called whenever the scheduler sets @cpu's
 *     resched flag (a wake-up put work there, its entity was paused, ...):
 *     the arch sends that CPU an IPI, or for the current CPU just makes sure
 *     sched_need_resched() is looked at before it enters a guest again.
 *     kick is called with no scheduler lock held, interrupts as the caller
 *     of the scheduler function had them.
 *   - Per domain, sched_group_init(); per vCPU, sched_entity_init(). A vCPU
 *     is OFFLINE until sched_add() (vCPU up); sched_remove() takes it down.
 *   - Each CPU loops: e = sched_pick(cpu, now, &slice); switch from the
 *     entity it ran before (if any and different) to @e, saving the old
 *     one's state completely; sched_switch_done(cpu); arm the one-shot
 *     timer for @slice ns (0: none needed); run @e's guest, or halt if @e is
 *     NULL. The timer interrupt calls sched_tick(); an IPI or any exit
 *     checks sched_need_resched(); either being true means call
 *     sched_pick() again.
 *   - The guest's own actions map to sched_block() (HLT, SCHED_BLOCK,
 *     SCHED_POLL), sched_yield_slice() (SCHED_YIELD), and its wake-ups
 *     (event, timer) to sched_wake(). A vCPU that blocks or yields calls
 *     sched_pick() on its CPU right after.
 *   - Domain pause/unpause are sched_pause()/sched_unpause() of its group;
 *     destruction is sched_remove() of every entity, sched_entity_fini() of
 *     each once it is off its CPU (-KEEL_EBUSY until then), sched_group_fini().
 *   - The runstate of keel_vcpu_info (docs/abi/hypercalls.md, "Runstate")
 *     comes from sched_entity_runstate(), in hypervisor time: the vCPU layer
 *     subtracts the domain's time origin.
 *
 * Context: every function may be called from any CPU, in interrupt context
 * too, with interrupts on or off, and no scheduler lock held; they take the
 * locks they need with interrupts off. Nothing sleeps or allocates.
 * sched_pick(), sched_switch_done() and sched_tick() must run on the CPU
 * they name (only it may change what it runs). Functions that return an
 * error change nothing when they do.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <keel/spinlock.h>
#include <keel/types.h>
#include <public/keel/vcpu.h>

/* CPU indexes are below this (affinity masks are one 64-bit word). */
#define SCHED_CPUS_MAX		64u

#define SCHED_WEIGHT_MIN	1u
#define SCHED_WEIGHT_MAX	65535u
#define SCHED_WEIGHT_DEFAULT	256u

/* Caps are in percent of one CPU. */
#define SCHED_CAP_NONE		0u
#define SCHED_CAP_MAX		(100u * SCHED_CPUS_MAX)

/* How long an entity runs before others on its CPU get a turn. */
#define SCHED_SLICE_NS		10000000ull		/* 10 ms */
/* A capped group's budget is cap% of this, refilled each period. */
#define SCHED_CAP_PERIOD_NS	100000000ull		/* 100 ms */

/** What an entity is doing; guarded by its run queue's lock. */
enum sched_state {
	SCHED_OFFLINE,	/* before sched_add(), after sched_remove() */
	SCHED_BLOCKED,	/* waiting for sched_wake(); costs nothing */
	SCHED_RUNNABLE,	/* waiting in its CPU's run queue */
	SCHED_RUNNING,	/* running on its CPU */
	SCHED_PAUSED,	/* runnable, but its group is paused */
};

/** A link in the scheduler's circular lists (group members, run queues). */
struct sched_node {
	struct sched_node *next;
	struct sched_node *prev;
};

/**
 * Runstate accounting (KEEL_RUNSTATE_*), in the ABI's sense: OFFLINE covers
 * SCHED_OFFLINE and SCHED_PAUSED. time_ns[] counts up to entry_ns, so the
 * total at @now is time_ns[state] + (now - entry_ns), and the sum of all of
 * them plus that is now minus the time passed to sched_entity_init().
 */
struct sched_runstate {
	uint32_t state;				/* KEEL_RUNSTATE_* */
	uint32_t pad0;
	uint64_t entry_ns;			/* time of the last change */
	uint64_t time_ns[KEEL_RUNSTATE_COUNT];
};

/**
 * One per domain. The fields belong to core/sched.c: set them through the
 * functions below only.
 */
struct sched_group {
	struct spinlock members_lock;
	struct sched_node members;	/* [m] its entities */
	bool paused;			/* [m] set; read anywhere */
	uint32_t weight;		/* set by init/set; read anywhere */
	uint32_t active;		/* (atomic) RUNNABLE and RUNNING ones */
	struct spinlock budget_lock;
	uint32_t cap;			/* [b] percent of one CPU, 0 = none */
	bool throttled;			/* [b] budget spent; a hint elsewhere */
	uint64_t budget_ns;		/* [b] per period; 0: no cap */
	uint64_t used_ns;		/* [b] run time in this period */
	uint64_t period_start;		/* [b] start of the current period */
};
/* [m] members_lock  [b] budget_lock (inside run queue locks) */

/**
 * One per vCPU, embedded in the vCPU layer's object. The fields belong to
 * core/sched.c; read the state through the accessors below.
 */
struct sched_entity {
	struct sched_group *group;	/* (c) owning group, never changes */
	struct sched_node member;	/* [m] in group->members */
	struct sched_node queue;	/* [q] in the run queue if RUNNABLE */
	uint64_t affinity;		/* [q] CPUs it may run on */
	enum sched_state state;		/* [q] */
	uint32_t cpu;			/* [q] its run queue (see below) */
	bool on_cpu;			/* [q] run or being switched from */
	bool yielded;			/* [q] others first at the next pick */
	uint64_t vruntime;		/* [q] weighted run time; wraps */
	int64_t lag;			/* [q] vruntime ahead of its queue */
	uint64_t exec_start;		/* [q] when run time was charged */
	struct sched_runstate runstate;	/* [q] */
};
/* (c) set by sched_entity_init()  [m] group->members_lock
 * [q] the lock of the run queue of CPU @cpu; changing @cpu takes both
 *     run queues' locks */

/**
 * Set up the scheduler for CPUs 0..@cpu_count-1, all online, with nothing to
 * run. @kick (may be NULL) is told when a CPU should call sched_pick().
 * Called once at boot, before any group is created (the unit tests call it
 * again to start afresh).
 *
 * Return: 0; -KEEL_EINVAL if @cpu_count is 0 or above SCHED_CPUS_MAX.
 */
int sched_init(unsigned int cpu_count, void (*kick)(unsigned int cpu));

/**
 * Initialise @g with @weight and @cap, not paused, with no members; the cap
 * period starts at @now.
 *
 * Return: 0; -KEEL_EINVAL if @weight is outside SCHED_WEIGHT_MIN..MAX or
 *         @cap above SCHED_CAP_MAX.
 */
int sched_group_init(struct sched_group *g, uint32_t weight, uint32_t cap,
		     uint64_t now);

/**
 * Change @g's weight and cap; effective from the next accounting of each of
 * its entities. A cap set where there was none counts from now on.
 *
 * Return: 0; -KEEL_EINVAL as for sched_group_init().
 */
int sched_group_set(struct sched_group *g, uint32_t weight, uint32_t cap);

/** Return: 0; -KEEL_EBUSY if @g still has entities (sched_entity_fini()). */
int sched_group_fini(struct sched_group *g);

/**
 * Initialise @e as an OFFLINE member of @g that may run on @affinity (bit i:
 * CPU i); its runstate accounting starts at @now.
 *
 * Return: 0; -KEEL_EINVAL if @affinity has no online CPU.
 */
int sched_entity_init(struct sched_entity *e, struct sched_group *g,
		      uint64_t affinity, uint64_t now);

/**
 * Take @e out of its group, for freeing.
 *
 * Return: 0; -KEEL_EBUSY if @e is not OFFLINE (sched_remove()) or a CPU
 *         still runs it or is switching away from it (retry after that CPU's
 *         next sched_pick() and sched_switch_done()).
 */
int sched_entity_fini(struct sched_entity *e);

/**
 * Bring OFFLINE @e online and runnable (PAUSED if its group is paused),
 * placed on an allowed CPU: an idle one if any, else the least loaded.
 *
 * Return: 0; -KEEL_EBUSY if @e is not OFFLINE.
 */
int sched_add(struct sched_entity *e, uint64_t now);

/**
 * Take @e offline from any state. If it is running, its CPU is kicked and
 * it stops at that CPU's next sched_pick().
 */
void sched_remove(struct sched_entity *e, uint64_t now);

/**
 * Wake BLOCKED @e: it becomes runnable on an allowed CPU (the one it last
 * ran on if that one is idle or among the least loaded; PAUSED if its group
 * is paused). A wake-up that comes before the CPU @e blocked on has
 * switched away from it just cancels the block. The target CPU is kicked if
 * it is idle or @e should preempt what it runs.
 *
 * Return: true if @e was BLOCKED; false (nothing done) otherwise.
 */
bool sched_wake(struct sched_entity *e, uint64_t now);

/**
 * @e waits for sched_wake(): from now on it costs nothing and does not count
 * towards its group's runnable vCPUs. Meant for the running entity, which
 * then calls sched_pick() on its CPU; a RUNNABLE or PAUSED entity is taken
 * out of the running as well. OFFLINE and BLOCKED entities are left alone.
 */
void sched_block(struct sched_entity *e, uint64_t now);

/**
 * Running @e gives up the rest of its slice: its CPU's next sched_pick()
 * runs another runnable entity if there is one. Nothing for an entity that
 * is not running. (Not sched_yield(): the host build links the C library,
 * which has one.)
 */
void sched_yield_slice(struct sched_entity *e, uint64_t now);

/**
 * Stop or resume every entity of @g. Pausing takes RUNNABLE and RUNNING
 * entities off the CPUs (PAUSED; running ones at their CPU's next
 * sched_pick(), which is kicked); BLOCKED ones stay blocked but are not run
 * when woken until sched_unpause(). A paused group is not counted; pausing
 * twice is the same as once.
 */
void sched_pause(struct sched_group *g, uint64_t now);
void sched_unpause(struct sched_group *g, uint64_t now);

/**
 * Let @e run only on the CPUs in @mask. If its current CPU is no longer
 * allowed, a waiting @e moves at once and a running one at its CPU's next
 * sched_pick() (which is kicked).
 *
 * Return: 0; -KEEL_EINVAL if @mask has no online CPU.
 */
int sched_set_affinity(struct sched_entity *e, uint64_t mask, uint64_t now);

/**
 * Choose what CPU @cpu (the calling CPU) runs from @now. The entity it ran
 * so far (if still runnable) goes back to the run queue; the CPU may first
 * take a waiting entity from another CPU (if it has nothing to run, or one
 * there is far behind). *@slice_ns is set to when the caller should call
 * sched_tick() (arm the one-shot timer): the time slice, less if a cap's
 * budget runs out or a capped entity waiting here may run again sooner; for
 * NULL, the time until a capped entity waiting here may run again, or 0
 * when no timer is needed (halt until kicked).
 *
 * Return: the entity to run (the previous one again, or another: switch to
 * it, then call sched_switch_done()), or NULL to idle.
 */
struct sched_entity *sched_pick(unsigned int cpu, uint64_t now,
				uint64_t *slice_ns);

/**
 * @cpu has finished switching away from the entity the last sched_pick()
 * replaced: its state is saved and another CPU may now run it (if its
 * affinity no longer allows @cpu, a CPU it may use is kicked to take it). A
 * no-op when sched_pick() returned the entity that was running already.
 */
void sched_switch_done(unsigned int cpu);

/**
 * The timer armed after sched_pick() fired (or any other time): account the
 * running entity up to @now.
 *
 * Return: true if @cpu should call sched_pick() (its slice or its group's
 *         budget ran out, or the resched flag was set).
 */
bool sched_tick(unsigned int cpu, uint64_t now);

/** Whether @cpu should call sched_pick(); cleared by sched_pick(). */
bool sched_need_resched(unsigned int cpu);

/** A consistent copy of @e's runstate accounting. */
void sched_entity_runstate(struct sched_entity *e, struct sched_runstate *out);

/* Unlocked snapshots, for assertions and reports. */
enum sched_state sched_entity_state(const struct sched_entity *e);
unsigned int sched_entity_cpu(const struct sched_entity *e);
bool sched_entity_on_cpu(const struct sched_entity *e);

#endif
