/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_sched.c - unit tests for core/sched.c.
 *
 * A small simulator drives the scheduler the way the arch layer will: each
 * simulated CPU calls sched_pick() when its one-shot timer fires
 * (sched_tick() says so) or it was kicked, "runs" what it got until then,
 * and calls sched_switch_done(). Time is simulated, vCPUs are busy loops
 * unless a test blocks them, and the simulator checks on every pick that
 * no entity runs on two CPUs at once or on a CPU its affinity excludes.
 * Shares are measured by the simulator; a randomized test also checks
 * after every step that the scheduler's runstate accounting agrees, that
 * runnable counts are right, and that no CPU idles while a vCPU it could
 * run waits. Each test leaves interrupts as it found them.
 * KEEL_TEST_VERBOSE=1 prints the measured shares and migration counts.
 */
#include <stdio.h>
#include <keel/sched.h>
#include <public/keel/errno.h>
#include "fake_arch.h"
#include "unit.h"

#define MS		1000000ull
#define SEC		1000000000ull
#define T0		(5 * SEC)		/* simulated boot-to-test time */
#define VCPUS		12
#define GROUPS		4
#define KICK_ROUNDS	100			/* kicks answered at one instant */

/* A vCPU as the vCPU layer will have it: the entity embedded. */
struct tvcpu {
	struct sched_entity se;
	uint64_t ran_ns;		/* measured by the simulator */
	uint64_t cpus_seen;		/* CPUs it ran on */
	uint64_t run_start;		/* start of its current stretch */
	uint64_t longest_ns;		/* longest stretch without a switch */
	unsigned int last_cpu;		/* + 1; 0: never ran */
	unsigned int migrations;	/* ran on another CPU than last time */
};

struct sim_cpu {
	struct tvcpu *running;
	uint64_t since;			/* running has been charged until */
	bool armed;			/* one-shot timer */
	uint64_t deadline;
	bool kicked;
	unsigned int kicks;
	unsigned int picks;
};

static struct {
	unsigned int cpu_count;
	uint64_t now;
	struct sim_cpu cpu[SCHED_CPUS_MAX];
} sim;

static struct tvcpu vcpus[VCPUS];
static struct sched_group groups[GROUPS];

static void sim_kick(unsigned int cpu)
{
	CU_ASSERT_FATAL(cpu < sim.cpu_count);
	sim.cpu[cpu].kicked = true;
	sim.cpu[cpu].kicks++;
}

static struct tvcpu *tv(struct sched_entity *e)
{
	return e ? container_of(e, struct tvcpu, se) : NULL;
}

static void sim_start(unsigned int cpu_count, uint64_t t0)
{
	fake_arch_reset();
	memset(&sim, 0, sizeof(sim));
	memset(vcpus, 0, sizeof(vcpus));
	memset(groups, 0, sizeof(groups));
	sim.cpu_count = cpu_count;
	sim.now = t0;
	CU_ASSERT_EQUAL_FATAL(sched_init(cpu_count, sim_kick), 0);
}

static void setup(void)
{
	sim_start(1, T0);
}

static void teardown(void)
{
	CU_ASSERT_FALSE(fake.irqs_off);
}

/* Charge what @c runs up to now. */
static void sim_account(struct sim_cpu *c)
{
	if (c->running) {
		c->running->ran_ns += sim.now - c->since;
	}
	c->since = sim.now;
}

/* The vCPU that CPU @cpu runs now, or NULL. */
static struct tvcpu *running_on(unsigned int cpu)
{
	return sim.cpu[cpu].running;
}

/* Where @v runs, or -1. */
static int cpu_of(const struct tvcpu *v)
{
	for (unsigned int c = 0; c < sim.cpu_count; c++) {
		if (sim.cpu[c].running == v) {
			return (int)c;
		}
	}
	return -1;
}

static void sim_pick(unsigned int cpu)
{
	struct sim_cpu *c = &sim.cpu[cpu];
	struct tvcpu *prev = c->running, *next;
	uint64_t slice = 0;

	sim_account(c);
	c->kicked = false;
	c->picks++;
	next = tv(sched_pick(cpu, sim.now, &slice));
	if (prev && prev != next) {
		prev->longest_ns = MAX(prev->longest_ns, sim.now - prev->run_start);
	}
	c->running = NULL;
	sched_switch_done(cpu);
	if (next) {
		CU_ASSERT_FATAL(cpu_of(next) < 0);	/* not on two CPUs */
		CU_ASSERT_FATAL(next->se.affinity & (1ull << cpu));
		CU_ASSERT_EQUAL_FATAL(sched_entity_state(&next->se), SCHED_RUNNING);
		CU_ASSERT_FATAL(slice > 0 && slice <= SCHED_SLICE_NS);
		next->cpus_seen |= 1ull << cpu;
		if (next->last_cpu && next->last_cpu != cpu + 1) {
			next->migrations++;
		}
		next->last_cpu = cpu + 1;
		if (next != prev) {
			next->run_start = sim.now;
		}
	}
	c->running = next;
	c->armed = slice != 0;
	c->deadline = sim.now + slice;
}

/* Let every kicked CPU pick (kicks may kick more). */
static void sim_answer_kicks(void)
{
	for (unsigned int round = 0; round < KICK_ROUNDS; round++) {
		bool any = false;

		for (unsigned int cpu = 0; cpu < sim.cpu_count; cpu++) {
			if (sim.cpu[cpu].kicked) {
				any = true;
				sim_pick(cpu);
			}
		}
		if (!any) {
			return;
		}
	}
	CU_FAIL_FATAL("kicks do not settle");
}

/* The CPU whose timer fires first, before @end; -1 if none does. */
static int next_timer(uint64_t end)
{
	int best = -1;

	for (unsigned int cpu = 0; cpu < sim.cpu_count; cpu++) {
		const struct sim_cpu *c = &sim.cpu[cpu];

		if (c->armed && c->deadline - sim.now <= end - sim.now &&
		    (best < 0 ||
		     c->deadline - sim.now < sim.cpu[best].deadline - sim.now)) {
			best = (int)cpu;
		}
	}
	return best;
}

/* Run the simulation for @ns. */
static void sim_run(uint64_t ns)
{
	uint64_t end = sim.now + ns;

	for (;;) {
		int cpu;

		sim_answer_kicks();
		cpu = next_timer(end);
		if (cpu < 0) {
			break;
		}
		sim.now = sim.cpu[cpu].deadline;
		sim.cpu[cpu].armed = false;
		if (sched_tick((unsigned int)cpu, sim.now)) {
			sim_pick((unsigned int)cpu);
		}
	}
	sim.now = end;
	for (unsigned int cpu = 0; cpu < sim.cpu_count; cpu++) {
		sim_account(&sim.cpu[cpu]);
	}
}

static void reset_counters(void)
{
	for (unsigned int i = 0; i < VCPUS; i++) {
		vcpus[i].ran_ns = 0;
		vcpus[i].cpus_seen = 0;
		vcpus[i].longest_ns = 0;
		vcpus[i].migrations = 0;
	}
}

static void group(unsigned int i, uint32_t weight, uint32_t cap)
{
	CU_ASSERT_EQUAL_FATAL(sched_group_init(&groups[i], weight, cap, sim.now), 0);
}

/* vCPU @i of group @g, online and runnable on @affinity. */
static struct tvcpu *vcpu(unsigned int i, unsigned int g, uint64_t affinity)
{
	struct tvcpu *v = &vcpus[i];

	CU_ASSERT_EQUAL_FATAL(sched_entity_init(&v->se, &groups[g], affinity,
						sim.now), 0);
	CU_ASSERT_EQUAL_FATAL(sched_add(&v->se, sim.now), 0);
	return v;
}

/* The running @v blocks (HLT) and its CPU picks again; or a waiting one. */
static void sim_block(struct tvcpu *v)
{
	int cpu = cpu_of(v);

	sched_block(&v->se, sim.now);
	if (cpu >= 0) {
		sim_pick((unsigned int)cpu);
	}
}

static bool verbose(void)
{
	const char *v = getenv("KEEL_TEST_VERBOSE");

	return v && *v == '1';
}

static unsigned int sum_migrations(unsigned int first, unsigned int count)
{
	unsigned int sum = 0;

	for (unsigned int i = first; i < first + count; i++) {
		sum += vcpus[i].migrations;
	}
	if (verbose()) {
		printf("\n    migrations: %u", sum);
	}
	return sum;
}

static uint64_t sum_ran(unsigned int first, unsigned int count)
{
	uint64_t sum = 0;

	for (unsigned int i = first; i < first + count; i++) {
		sum += vcpus[i].ran_ns;
	}
	return sum;
}

/* @part is @num/@den of @whole, within @tolerance percent of that. */
static bool share_is(const char *what, uint64_t part, uint64_t whole,
		     double num, double den, double tolerance)
{
	double got = (double)part / (double)whole, want = num / den;

	if (verbose()) {
		printf("\n    %s: %.4f (want %.4f)", what, got, want);
	}
	return got > want * (1 - tolerance / 100) &&
	       got < want * (1 + tolerance / 100);
}

static void check_runstate_matches(struct tvcpu *v, uint64_t since)
{
	struct sched_runstate rs;
	uint64_t sum = 0;

	sched_entity_runstate(&v->se, &rs);
	for (unsigned int s = 0; s < KEEL_RUNSTATE_COUNT; s++) {
		sum += rs.time_ns[s];
	}
	CU_ASSERT_EQUAL(sum + (sim.now - rs.entry_ns), sim.now - since);
}

/* ---- Arguments and the simplest cases ---- */

static void test_arguments(void)
{
	struct sched_entity e;

	CU_ASSERT_EQUAL(sched_init(0, NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(sched_init(SCHED_CPUS_MAX + 1, NULL), -KEEL_EINVAL);
	sim_start(2, T0);
	CU_ASSERT_EQUAL(sched_group_init(&groups[0], 0, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(sched_group_init(&groups[0], SCHED_WEIGHT_MAX + 1, 0, 0),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(sched_group_init(&groups[0], 1, SCHED_CAP_MAX + 1, 0),
			-KEEL_EINVAL);
	group(0, SCHED_WEIGHT_MAX, SCHED_CAP_MAX);
	CU_ASSERT_EQUAL(sched_group_set(&groups[0], 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(groups[0].weight, SCHED_WEIGHT_MAX);

	/* Affinity with no online CPU (CPUs 0 and 1 are) is refused. */
	CU_ASSERT_EQUAL(sched_entity_init(&e, &groups[0], 0, sim.now), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(sched_entity_init(&e, &groups[0], 0x4, sim.now),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(sched_entity_init(&e, &groups[0], 1ull << 63, sim.now),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(sched_group_fini(&groups[0]), 0);

	vcpu(0, 0, 0x6);		/* CPU 2 does not exist; CPU 1 will do */
	CU_ASSERT_EQUAL(sched_entity_cpu(&vcpus[0].se), 1);
	CU_ASSERT_EQUAL(sched_set_affinity(&vcpus[0].se, 0x4, sim.now),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(vcpus[0].se.affinity, 0x6);
	CU_ASSERT_EQUAL(sched_add(&vcpus[0].se, sim.now), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(sched_entity_fini(&vcpus[0].se), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(sched_group_fini(&groups[0]), -KEEL_EBUSY);
}

static void test_idle_cpu_gets_null(void)
{
	uint64_t slice = 1;

	CU_ASSERT_PTR_NULL(sched_pick(0, sim.now, &slice));
	CU_ASSERT_EQUAL(slice, 0);	/* no timer: halt until kicked */
	CU_ASSERT_FALSE(sched_tick(0, sim.now));

	/* A blocked vCPU gives the CPU nothing to do either. */
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, 1);
	sim_run(50 * MS);
	sim_block(&vcpus[0]);
	CU_ASSERT_PTR_NULL(running_on(0));
	CU_ASSERT_FALSE(sim.cpu[0].armed);
	CU_ASSERT_EQUAL(sched_entity_state(&vcpus[0].se), SCHED_BLOCKED);
	CU_ASSERT_PTR_NULL(sched_pick(0, sim.now, &slice));
	CU_ASSERT_EQUAL(slice, 0);
	CU_ASSERT_FALSE(fake.irqs_off);
}

/* ---- Weighted shares ---- */

/* Two groups of weights 1 and 2, @per vCPUs each, on @cpus CPUs, 10 s. */
static void weights_1_2(unsigned int cpus, unsigned int per, uint64_t t0)
{
	uint64_t a, b;

	sim_start(cpus, t0);
	group(0, 1, 0);
	group(1, 2, 0);
	for (unsigned int i = 0; i < per; i++) {
		vcpu(i, 0, UINT64_MAX);
		vcpu(per + i, 1, UINT64_MAX);
	}
	sim_run(1 * SEC);
	reset_counters();
	sim_run(10 * SEC);
	a = sum_ran(0, per);
	b = sum_ran(per, per);
	CU_ASSERT_EQUAL(a + b, cpus * 10 * SEC);	/* no CPU idled */
	CU_ASSERT(share_is("weight 1", a, a + b, 1, 3, 2));
	CU_ASSERT(share_is("weight 2", b, a + b, 2, 3, 2));
	CU_ASSERT(sum_migrations(0, 2 * per) <= 10);	/* placement settles */
	for (unsigned int i = 0; i < 2 * per; i++) {
		/* Within a group, the vCPUs share alike. */
		CU_ASSERT(share_is("one vCPU", vcpus[i].ran_ns, i < per ? a : b,
				   1, per, 3));
	}
}

static void test_weights_1_2_one_cpu(void)
{
	weights_1_2(1, 1, T0);
}

static void test_weights_1_2_two_cpus_four_vcpus(void)
{
	weights_1_2(2, 2, T0);
}

static void test_weights_1_2_three_cpus_eight_vcpus(void)
{
	weights_1_2(3, 4, T0);
}

/* Time (and vruntime) wrap around during the run. */
static void test_weights_across_the_clock_wrap(void)
{
	weights_1_2(2, 2, UINT64_MAX - 5 * SEC);
	CU_ASSERT(sim.now < 10 * SEC);
}

/*
 * Weight 1 pinned to CPU 0 and weight 2 pinned to CPU 1 run 50:50; once
 * unpinned, migration must bring them to 1:2 although each CPU's own queue
 * was fair.
 */
static void test_weights_hold_from_a_bad_placement(void)
{
	uint64_t a, b;

	sim_start(2, T0);
	group(0, 1, 0);
	group(1, 2, 0);
	vcpu(0, 0, 0x1);
	vcpu(1, 0, 0x1);
	vcpu(2, 1, 0x2);
	vcpu(3, 1, 0x2);
	sim_run(2 * SEC);
	CU_ASSERT_EQUAL(sum_ran(0, 2), sum_ran(2, 2));
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(sched_set_affinity(&vcpus[i].se, 0x3, sim.now), 0);
	}
	reset_counters();
	sim_run(10 * SEC);
	a = sum_ran(0, 2);
	b = sum_ran(2, 2);
	CU_ASSERT_EQUAL(a + b, 20 * SEC);
	sum_migrations(0, 4);
	CU_ASSERT(share_is("weight 1 after unpinning", a, a + b, 1, 3, 3));
	CU_ASSERT(share_is("weight 2 after unpinning", b, a + b, 2, 3, 3));
}

/* Weights 1:2:3, three vCPUs each, on two CPUs. */
static void test_three_domains_nine_vcpus_two_cpus(void)
{
	uint64_t r[3], total = 0;

	sim_start(2, T0);
	for (unsigned int g = 0; g < 3; g++) {
		group(g, g + 1, 0);
		for (unsigned int i = 0; i < 3; i++) {
			vcpu(3 * g + i, g, UINT64_MAX);
		}
	}
	sim_run(1 * SEC);
	reset_counters();
	sim_run(10 * SEC);
	for (unsigned int g = 0; g < 3; g++) {
		r[g] = sum_ran(3 * g, 3);
		total += r[g];
	}
	CU_ASSERT_EQUAL(total, 20 * SEC);
	CU_ASSERT(share_is("weight 1 of 6", r[0], total, 1, 6, 3));
	CU_ASSERT(share_is("weight 2 of 6", r[1], total, 2, 6, 3));
	CU_ASSERT(share_is("weight 3 of 6", r[2], total, 3, 6, 3));
}

/* Equal vCPUs that fit the CPUs evenly stay where they are. */
static void test_even_load_does_not_migrate(void)
{
	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	group(1, SCHED_WEIGHT_DEFAULT, 0);
	for (unsigned int i = 0; i < 4; i++) {
		vcpu(i, i / 2, UINT64_MAX);
	}
	sim_run(1 * SEC);
	reset_counters();
	sim_run(10 * SEC);
	CU_ASSERT_EQUAL(sum_migrations(0, 4), 0);
	for (unsigned int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(vcpus[i].ran_ns, 5 * SEC);
	}
}

/*
 * Weights 1 and 10, one vCPU each, on two CPUs: the heavy one cannot use
 * more than a CPU, so each has one. A third vCPU of weight 1 then shares
 * the light one's CPU, and the heavy one keeps its own.
 */
static void test_no_vcpu_gets_more_than_a_cpu(void)
{
	sim_start(2, T0);
	group(0, 1, 0);
	group(1, 10, 0);
	group(2, 1, 0);
	vcpu(0, 0, UINT64_MAX);
	vcpu(1, 1, UINT64_MAX);
	sim_run(10 * SEC);
	CU_ASSERT_EQUAL(vcpus[0].ran_ns, 10 * SEC);
	CU_ASSERT_EQUAL(vcpus[1].ran_ns, 10 * SEC);

	vcpu(2, 2, UINT64_MAX);
	sim_run(1 * SEC);
	reset_counters();
	sim_run(10 * SEC);
	CU_ASSERT(share_is("heavy", vcpus[1].ran_ns, 10 * SEC, 1, 1, 1));
	CU_ASSERT(share_is("light", vcpus[0].ran_ns, 10 * SEC, 1, 2, 3));
	CU_ASSERT(share_is("light, late", vcpus[2].ran_ns, 10 * SEC, 1, 2, 3));
}

/*
 * Weights 1 and 2 pinned to CPU 1 split it 1:2 while a vCPU alone on
 * CPU 0 (its queue far ahead) runs at the same time.
 */
static void test_weights_hold_among_pinned_vcpus(void)
{
	sim_start(2, T0);
	group(0, 1, 0);
	group(1, 2, 0);
	group(2, 1, 0);
	vcpu(0, 0, 0x2);
	vcpu(1, 1, 0x2);
	vcpu(2, 2, 0x1);
	sim_run(1 * SEC);
	reset_counters();
	sim_run(10 * SEC);
	CU_ASSERT_EQUAL(vcpus[2].ran_ns, 10 * SEC);
	CU_ASSERT(share_is("pinned weight 1", vcpus[0].ran_ns, 10 * SEC, 1, 3, 1));
	CU_ASSERT(share_is("pinned weight 2", vcpus[1].ran_ns, 10 * SEC, 2, 3, 1));
}

/* ---- Caps ---- */

static void test_cap_alone_then_with_company(void)
{
	uint64_t c, u;

	group(0, SCHED_WEIGHT_DEFAULT, 25);
	group(1, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, UINT64_MAX);
	sim_run(10 * SEC);
	CU_ASSERT(share_is("capped 25% alone", vcpus[0].ran_ns, 10 * SEC,
			   1, 4, 1));
	/* It idles in between with the timer set for the refill. */
	CU_ASSERT(sim.cpu[0].picks >= 2 * 100);

	vcpu(1, 1, UINT64_MAX);
	reset_counters();
	sim_run(10 * SEC);
	c = vcpus[0].ran_ns;
	u = vcpus[1].ran_ns;
	CU_ASSERT_EQUAL(c + u, 10 * SEC);
	CU_ASSERT(share_is("capped 25% with company", c, 10 * SEC, 1, 4, 1));
	CU_ASSERT(share_is("uncapped takes the rest", u, 10 * SEC, 3, 4, 1));
}

/* A cap is per group, whichever CPUs its vCPUs run on. */
static void test_cap_across_cpus(void)
{
	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 50);
	vcpu(0, 0, UINT64_MAX);
	vcpu(1, 0, UINT64_MAX);
	sim_run(10 * SEC);
	CU_ASSERT_EQUAL(vcpus[0].cpus_seen | vcpus[1].cpus_seen, 0x3);
	CU_ASSERT(share_is("capped 50% on two CPUs", sum_ran(0, 2), 10 * SEC,
			   1, 2, 1));

	/* Raised to 150%: one and a half CPUs. */
	CU_ASSERT_EQUAL(sched_group_set(&groups[0], SCHED_WEIGHT_DEFAULT, 150), 0);
	sim_run(1 * SEC);
	reset_counters();
	sim_run(10 * SEC);
	CU_ASSERT(share_is("capped 150% on two CPUs", sum_ran(0, 2), 10 * SEC,
			   3, 2, 1));

	/* Cap removed: both CPUs. */
	CU_ASSERT_EQUAL(sched_group_set(&groups[0], SCHED_WEIGHT_DEFAULT, 0), 0);
	sim_run(1 * SEC);
	reset_counters();
	sim_run(1 * SEC);
	CU_ASSERT_EQUAL(sum_ran(0, 2), 2 * SEC);
}

/* ---- Affinity ---- */

static void test_affinity_is_respected(void)
{
	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	group(1, 1000, 0);
	vcpu(0, 0, 0x2);		/* pinned to CPU 1 */
	vcpu(1, 1, 0x1);		/* pinned to CPU 0, heavy */
	vcpu(2, 0, UINT64_MAX);
	vcpu(3, 1, UINT64_MAX);
	sim_run(5 * SEC);
	CU_ASSERT_EQUAL(vcpus[0].cpus_seen, 0x2);
	CU_ASSERT_EQUAL(vcpus[1].cpus_seen, 0x1);
	CU_ASSERT(vcpus[0].ran_ns > 0);
	CU_ASSERT_EQUAL(sum_ran(0, 4), 10 * SEC);
}

static void test_affinity_change_moves_a_running_vcpu(void)
{
	struct tvcpu *v;

	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, 0x1);
	vcpu(1, 0, 0x1);
	sim_run(50 * MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(running_on(0));
	CU_ASSERT_PTR_NULL(running_on(1));

	/* The running one may only use CPU 1 now: CPU 0 is told to switch. */
	v = running_on(0);
	sim.cpu[1].kicks = 0;
	CU_ASSERT_EQUAL(sched_set_affinity(&v->se, 0x2, sim.now), 0);
	CU_ASSERT_TRUE(sched_need_resched(0));
	CU_ASSERT_TRUE(sim.cpu[0].kicked);
	sim_answer_kicks();
	CU_ASSERT_PTR_EQUAL(running_on(1), v);
	CU_ASSERT_PTR_NOT_NULL(running_on(0));
	CU_ASSERT(running_on(0) != v);
	CU_ASSERT_EQUAL(sched_entity_cpu(&v->se), 1);
	CU_ASSERT_EQUAL(sim.cpu[1].kicks, 1);

	/* A waiting one moves as soon as the CPU it may use picks. */
	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, 0x1);
	vcpu(1, 0, 0x1);
	sim_pick(0);
	v = running_on(0) == &vcpus[0] ? &vcpus[1] : &vcpus[0];
	CU_ASSERT_EQUAL(sched_entity_state(&v->se), SCHED_RUNNABLE);
	CU_ASSERT_EQUAL(sched_set_affinity(&v->se, 0x2, sim.now), 0);
	CU_ASSERT_TRUE(sim.cpu[1].kicked);
	CU_ASSERT_FALSE(sim.cpu[0].kicked);
	sim_answer_kicks();
	CU_ASSERT_EQUAL(sched_entity_cpu(&v->se), 1);
	CU_ASSERT_PTR_EQUAL(running_on(1), v);
	CU_ASSERT_PTR_NOT_NULL(running_on(0));
}

/* ---- Blocking and waking ---- */

static void test_blocked_vcpus_cost_nothing(void)
{
	uint64_t a, b;

	group(0, 1, 0);
	group(1, 2, 0);
	group(2, 4, 0);
	vcpu(0, 0, UINT64_MAX);
	vcpu(1, 1, UINT64_MAX);
	vcpu(2, 1, UINT64_MAX);		/* blocks: group 1 is one vCPU then */
	vcpu(3, 2, UINT64_MAX);		/* blocks: group 2 is not there */
	sim_run(100 * MS);
	sim_block(&vcpus[2]);
	sim_block(&vcpus[3]);
	reset_counters();
	sim_run(10 * SEC);
	a = vcpus[0].ran_ns;
	b = vcpus[1].ran_ns;
	CU_ASSERT_EQUAL(vcpus[2].ran_ns + vcpus[3].ran_ns, 0);
	CU_ASSERT_EQUAL(a + b, 10 * SEC);
	CU_ASSERT(share_is("weight 1 next to blocked ones", a, a + b, 1, 3, 2));
	CU_ASSERT(share_is("weight 2 with a blocked vCPU", b, a + b, 2, 3, 2));
	CU_ASSERT_EQUAL(sched_entity_state(&vcpus[3].se), SCHED_BLOCKED);
	CU_ASSERT_EQUAL(groups[1].active, 1);
	CU_ASSERT_EQUAL(groups[2].active, 0);
}

static void test_long_sleeper_does_not_monopolize(void)
{
	struct tvcpu *z;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, 1);
	vcpu(1, 0, 1);
	z = vcpu(2, 0, 1);
	sim_run(20 * MS);
	sim_block(z);
	sim_run(5 * SEC);		/* the others run on */
	reset_counters();
	CU_ASSERT_TRUE(sched_wake(&z->se, sim.now));
	CU_ASSERT_FALSE(sched_wake(&z->se, sim.now));
	sim_run(300 * MS);
	/* It gets to run soon, but not for longer than its share. */
	CU_ASSERT(z->ran_ns > 0);
	CU_ASSERT(z->longest_ns <= 2 * SCHED_SLICE_NS);
	CU_ASSERT(z->ran_ns <= 300 * MS * 4 / 10);
	sim_run(3 * SEC);
	CU_ASSERT(share_is("woken sleeper", z->ran_ns, 3300 * MS, 1, 3, 3));
}

static void test_wake_kicks_an_idle_cpu(void)
{
	struct tvcpu *v;

	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, UINT64_MAX);
	v = vcpu(1, 0, UINT64_MAX);
	sim_run(10 * MS);
	CU_ASSERT_PTR_NOT_NULL(running_on(0));
	CU_ASSERT_PTR_NOT_NULL(running_on(1));
	sim_block(v);
	sim_run(10 * MS);
	CU_ASSERT_EQUAL(running_on(0) == NULL, running_on(1) != NULL);
	for (unsigned int c = 0; c < 2; c++) {
		sim.cpu[c].kicks = 0;
	}
	CU_ASSERT_TRUE(sched_wake(&v->se, sim.now));
	/* Exactly the idle CPU is kicked, and runs it. */
	CU_ASSERT_EQUAL(sim.cpu[0].kicks + sim.cpu[1].kicks, 1);
	sim_answer_kicks();
	CU_ASSERT_PTR_NOT_NULL(running_on(0));
	CU_ASSERT_PTR_NOT_NULL(running_on(1));
	CU_ASSERT(cpu_of(v) >= 0);
}

static void test_wake_preempts_a_vcpu_far_ahead(void)
{
	struct tvcpu *a, *b;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	a = vcpu(0, 0, 1);
	b = vcpu(1, 0, 1);
	sim_run(15 * MS);
	/* b blocks at once whenever it runs; a runs alone for a while. */
	if (running_on(0) == a) {
		sim_run(10 * MS);
	}
	CU_ASSERT_PTR_EQUAL_FATAL(running_on(0), b);
	sim_block(b);
	CU_ASSERT_PTR_EQUAL(running_on(0), a);
	sim_run(1 * SEC);
	sim.cpu[0].kicks = 0;
	CU_ASSERT_TRUE(sched_wake(&b->se, sim.now));
	CU_ASSERT_TRUE(sched_need_resched(0));
	CU_ASSERT_EQUAL(sim.cpu[0].kicks, 1);
	sim_answer_kicks();
	CU_ASSERT_PTR_EQUAL(running_on(0), b);
}

static void test_wake_before_the_switch_cancels_the_block(void)
{
	struct tvcpu *v;
	uint64_t slice;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	v = vcpu(0, 0, 1);
	sim_run(5 * MS);
	CU_ASSERT_PTR_EQUAL_FATAL(running_on(0), v);
	sched_block(&v->se, sim.now);
	CU_ASSERT_EQUAL(sched_entity_state(&v->se), SCHED_BLOCKED);
	CU_ASSERT_EQUAL(groups[0].active, 0);
	/* An event arrives before the CPU picked: the vCPU just runs on. */
	CU_ASSERT_TRUE(sched_wake(&v->se, sim.now));
	CU_ASSERT_EQUAL(sched_entity_state(&v->se), SCHED_RUNNING);
	CU_ASSERT_EQUAL(groups[0].active, 1);
	CU_ASSERT_PTR_EQUAL(sched_pick(0, sim.now, &slice), &v->se);
	sched_switch_done(0);

	/* Blocked, switched away from but not yet saved: it stays here. */
	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	v = vcpu(0, 0, UINT64_MAX);
	sim_run(5 * MS);
	CU_ASSERT_EQUAL_FATAL(cpu_of(v), 0);
	sched_block(&v->se, sim.now);
	CU_ASSERT_PTR_NULL(sched_pick(0, sim.now, &slice));
	CU_ASSERT_TRUE(sched_entity_on_cpu(&v->se));
	CU_ASSERT_TRUE(sched_wake(&v->se, sim.now));
	CU_ASSERT_EQUAL(sched_entity_cpu(&v->se), 0);
	/* CPU 1 is idle but must not take it before CPU 0 saved it. */
	CU_ASSERT_PTR_NULL(sched_pick(1, sim.now, &slice));
	sched_switch_done(0);
	CU_ASSERT_FALSE(sched_entity_on_cpu(&v->se));
	CU_ASSERT_PTR_EQUAL(sched_pick(1, sim.now, &slice), &v->se);
	sched_switch_done(1);
}

/* ---- Pause, yield, load balancing ---- */

static void test_pause_and_unpause(void)
{
	uint64_t a, b;
	struct sched_runstate rs;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	group(1, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, UINT64_MAX);
	vcpu(1, 0, UINT64_MAX);
	vcpu(2, 1, UINT64_MAX);
	sim_run(1 * SEC);

	sched_pause(&groups[0], sim.now);
	sched_pause(&groups[0], sim.now);
	for (unsigned int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(sched_entity_state(&vcpus[i].se), SCHED_PAUSED);
	}
	CU_ASSERT_EQUAL(groups[0].active, 0);
	reset_counters();
	sim_run(1 * SEC);
	CU_ASSERT_EQUAL(sum_ran(0, 2), 0);
	CU_ASSERT_EQUAL(vcpus[2].ran_ns, 1 * SEC);
	sched_entity_runstate(&vcpus[0].se, &rs);
	CU_ASSERT_EQUAL(rs.state, KEEL_RUNSTATE_OFFLINE);

	/* A vCPU woken while paused stays off the CPUs. */
	sched_block(&vcpus[2].se, sim.now);
	sim_pick(0);
	CU_ASSERT_PTR_NULL(running_on(0));
	sched_wake(&vcpus[2].se, sim.now);
	sim_answer_kicks();

	sched_unpause(&groups[0], sim.now);
	reset_counters();
	sim_run(4 * SEC);
	a = sum_ran(0, 2);
	b = vcpus[2].ran_ns;
	CU_ASSERT_EQUAL(a + b, 4 * SEC);
	/* Unpaused, it gets its share, and no more for having waited. */
	CU_ASSERT(share_is("unpaused group", a, a + b, 1, 2, 2));
}

static void test_pause_while_blocked(void)
{
	struct tvcpu *v;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	v = vcpu(0, 0, 1);
	sim_run(5 * MS);
	sim_block(v);
	sched_pause(&groups[0], sim.now);
	CU_ASSERT_EQUAL(sched_entity_state(&v->se), SCHED_BLOCKED);
	CU_ASSERT_TRUE(sched_wake(&v->se, sim.now));
	CU_ASSERT_EQUAL(sched_entity_state(&v->se), SCHED_PAUSED);
	sim_run(10 * MS);
	CU_ASSERT_PTR_NULL(running_on(0));
	sched_unpause(&groups[0], sim.now);
	sim_run(10 * MS);
	CU_ASSERT_PTR_EQUAL(running_on(0), v);
}

static void test_yield(void)
{
	struct tvcpu *a, *other;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	a = vcpu(0, 0, 1);
	sim_run(5 * MS);
	CU_ASSERT_PTR_EQUAL_FATAL(running_on(0), a);
	/* Alone: yielding changes nothing. */
	sched_yield_slice(&a->se, sim.now);
	CU_ASSERT_TRUE(sched_need_resched(0));
	sim_pick(0);
	CU_ASSERT_PTR_EQUAL(running_on(0), a);

	vcpu(1, 0, 1);
	sim_run(100 * MS);
	for (unsigned int i = 0; i < 10; i++) {
		struct tvcpu *cur = running_on(0);

		CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
		other = cur == a ? &vcpus[1] : a;
		sched_yield_slice(&cur->se, sim.now);
		sim_pick(0);
		CU_ASSERT_PTR_EQUAL(running_on(0), other);
		sim_run(1 * MS);
	}
	/* A vCPU that is not running cannot yield. */
	other = running_on(0) == a ? &vcpus[1] : a;
	sim.cpu[0].kicks = 0;
	sched_yield_slice(&other->se, sim.now);
	CU_ASSERT_EQUAL(sim.cpu[0].kicks, 0);
}

static void test_idle_cpu_pulls_work(void)
{
	uint64_t slice;

	sim_start(2, T0);
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, 0x1);
	vcpu(1, 0, 0x1);
	vcpu(2, 0, 0x1);
	sim_run(30 * MS);
	CU_ASSERT_PTR_NULL(running_on(1));
	CU_ASSERT_PTR_NULL(sched_pick(1, sim.now, &slice));
	CU_ASSERT_EQUAL(slice, 0);
	sched_switch_done(1);

	/* Widening waiting vCPUs' affinity does not move them... */
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(sched_set_affinity(&vcpus[i].se, 0x3, sim.now), 0);
		CU_ASSERT_EQUAL(sched_entity_cpu(&vcpus[i].se), 0);
	}
	/* ...but the idle CPU is kicked, and takes one when it picks. */
	CU_ASSERT_TRUE(sim.cpu[1].kicked);
	sim_answer_kicks();
	CU_ASSERT_PTR_NOT_NULL(running_on(1));
	CU_ASSERT_EQUAL(sched_entity_cpu(&running_on(1)->se), 1);
	reset_counters();
	sim_run(3 * SEC);
	CU_ASSERT_EQUAL(sum_ran(0, 3), 6 * SEC);
	sum_migrations(0, 3);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT(share_is("three on two CPUs", vcpus[i].ran_ns, 6 * SEC,
				   1, 3, 3));
	}
}

/* ---- Accounting and teardown ---- */

/*
 * After any step: the simulator runs exactly the RUNNING vCPUs, each
 * group counts its runnable ones, and no CPU idles while a vCPU that may
 * run there waits (unless its group's budget is spent).
 */
static void check_consistency(unsigned int count)
{
	unsigned int active[GROUPS] = { 0 };

	for (unsigned int i = 0; i < count; i++) {
		struct tvcpu *v = &vcpus[i];
		enum sched_state st = sched_entity_state(&v->se);
		unsigned int g = (unsigned int)(v->se.group - groups);

		CU_ASSERT_EQUAL(st == SCHED_RUNNING, cpu_of(v) >= 0);
		active[g] += st == SCHED_RUNNING || st == SCHED_RUNNABLE;
		if (st != SCHED_RUNNABLE || v->se.group->throttled) {
			continue;
		}
		for (unsigned int c = 0; c < sim.cpu_count; c++) {
			CU_ASSERT(!(v->se.affinity & (1ull << c)) ||
				  running_on(c) != NULL);
		}
	}
	for (unsigned int g = 0; g < GROUPS; g++) {
		CU_ASSERT_EQUAL(groups[g].active, active[g]);
	}
}

/* One random thing a guest or the toolstack does to @v. */
static void random_step(struct tvcpu *v, uint64_t *seed)
{
	switch (unit_rand(seed) % 9) {
	case 0:
	case 1:
		sim_block(v);
		break;
	case 2:
	case 3:
		sched_wake(&v->se, sim.now);
		break;
	case 4:
		sched_pause(v->se.group, sim.now);
		break;
	case 5:
		sched_unpause(v->se.group, sim.now);
		break;
	case 6:
		CU_ASSERT_EQUAL(sched_set_affinity(&v->se, 1 + unit_rand(seed) %
						   ((1u << sim.cpu_count) - 1),
						   sim.now), 0);
		break;
	case 7:
		if (sched_entity_state(&v->se) == SCHED_OFFLINE) {
			CU_ASSERT_EQUAL(sched_add(&v->se, sim.now), 0);
		} else if (unit_rand(seed) % 4 == 0) {
			sched_remove(&v->se, sim.now);
		}
		break;
	default:
		sched_yield_slice(&v->se, sim.now);
		break;
	}
}

/* 8 vCPUs in three groups (one capped) on @cpus CPUs, @steps random steps. */
static void random_run(unsigned int cpus, uint64_t seed, unsigned int steps)
{
	const unsigned int count = 8;
	struct sched_runstate rs;

	sim_start(cpus, T0);
	group(0, 3, 0);
	group(1, 700, 40);
	group(2, SCHED_WEIGHT_DEFAULT, 0);
	for (unsigned int i = 0; i < count; i++) {
		vcpu(i, i % 3, i == 5 ? 0x2 : UINT64_MAX);
	}
	for (unsigned int step = 0; step < steps; step++) {
		random_step(&vcpus[unit_rand(&seed) % count], &seed);
		sim_run(1 + unit_rand(&seed) % (20 * MS));
		check_consistency(count);
	}
	for (unsigned int i = 0; i < count; i++) {
		check_runstate_matches(&vcpus[i], T0);
		sched_entity_runstate(&vcpus[i].se, &rs);
		/* The scheduler's running time is what the simulator measured. */
		CU_ASSERT_EQUAL(rs.time_ns[KEEL_RUNSTATE_RUNNING] +
				(rs.state == KEEL_RUNSTATE_RUNNING ?
				 sim.now - rs.entry_ns : 0),
				vcpus[i].ran_ns);
	}
}

static void test_random_operations_keep_accounts(void)
{
	for (unsigned int cpus = 2; cpus <= 4; cpus++) {
		random_run(cpus, cpus, 10000);
	}
}

static void test_remove_and_fini(void)
{
	struct tvcpu *a, *b;
	struct sched_runstate rs;

	group(0, SCHED_WEIGHT_DEFAULT, 0);
	a = vcpu(0, 0, 1);
	b = vcpu(1, 0, 1);
	sim_run(5 * MS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(running_on(0));
	a = running_on(0);
	b = a == &vcpus[0] ? &vcpus[1] : &vcpus[0];

	/* The running one stays on its CPU until that CPU switches away. */
	sched_remove(&a->se, sim.now);
	CU_ASSERT_EQUAL(sched_entity_state(&a->se), SCHED_OFFLINE);
	CU_ASSERT_EQUAL(sched_entity_fini(&a->se), -KEEL_EBUSY);
	CU_ASSERT_TRUE(sim.cpu[0].kicked);
	sim_answer_kicks();
	CU_ASSERT_PTR_EQUAL(running_on(0), b);
	CU_ASSERT_EQUAL(sched_entity_fini(&a->se), 0);
	sched_entity_runstate(&b->se, &rs);
	CU_ASSERT_EQUAL(rs.state, KEEL_RUNSTATE_RUNNING);

	/* Waiting, blocked and offline ones go at once. */
	sched_remove(&b->se, sim.now);
	sim_answer_kicks();
	CU_ASSERT_PTR_NULL(running_on(0));
	sched_remove(&b->se, sim.now);
	CU_ASSERT_EQUAL(sched_entity_fini(&b->se), 0);
	CU_ASSERT_EQUAL(sched_group_fini(&groups[0]), 0);
	CU_ASSERT_EQUAL(groups[0].active, 0);

	/* Back up again. */
	group(0, SCHED_WEIGHT_DEFAULT, 0);
	vcpu(0, 0, 1);
	sim_run(5 * MS);
	CU_ASSERT_PTR_EQUAL(running_on(0), &vcpus[0]);
}

static CU_TestInfo sched_tests[] = {
	{ "arguments", test_arguments },
	{ "idle cpu gets null", test_idle_cpu_gets_null },
	{ "weights 1:2 on one cpu", test_weights_1_2_one_cpu },
	{ "weights 1:2 on two cpus, four vcpus", test_weights_1_2_two_cpus_four_vcpus },
	{ "weights 1:2 on three cpus, eight vcpus",
	  test_weights_1_2_three_cpus_eight_vcpus },
	{ "weights across the clock wrap", test_weights_across_the_clock_wrap },
	{ "weights hold from a bad placement", test_weights_hold_from_a_bad_placement },
	{ "three domains, nine vcpus, two cpus", test_three_domains_nine_vcpus_two_cpus },
	{ "even load does not migrate", test_even_load_does_not_migrate },
	{ "no vcpu gets more than a cpu", test_no_vcpu_gets_more_than_a_cpu },
	{ "weights hold among pinned vcpus", test_weights_hold_among_pinned_vcpus },
	{ "cap alone, then with company", test_cap_alone_then_with_company },
	{ "cap across cpus", test_cap_across_cpus },
	{ "affinity is respected", test_affinity_is_respected },
	{ "affinity change moves a running vcpu",
	  test_affinity_change_moves_a_running_vcpu },
	{ "blocked vcpus cost nothing", test_blocked_vcpus_cost_nothing },
	{ "long sleeper does not monopolize", test_long_sleeper_does_not_monopolize },
	{ "wake kicks an idle cpu", test_wake_kicks_an_idle_cpu },
	{ "wake preempts a vcpu far ahead", test_wake_preempts_a_vcpu_far_ahead },
	{ "wake before the switch cancels the block",
	  test_wake_before_the_switch_cancels_the_block },
	{ "pause and unpause", test_pause_and_unpause },
	{ "pause while blocked", test_pause_while_blocked },
	{ "yield", test_yield },
	{ "idle cpu pulls work", test_idle_cpu_pulls_work },
	{ "random operations keep accounts", test_random_operations_keep_accounts },
	{ "remove and fini", test_remove_and_fini },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo sched_suite = {
	.pName = "sched",
	.pSetUpFunc = setup,
	.pTearDownFunc = teardown,
	.pTests = sched_tests,
};
