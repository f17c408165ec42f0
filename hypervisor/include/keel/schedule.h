/* SPDX-License-Identifier: MIT */
/*
 * keel/schedule.h - each CPU's scheduling loop, and what happens when a
 * domain ends (boot-time policy, core/restart.c).
 */
#ifndef KEEL_SCHEDULE_H
#define KEEL_SCHEDULE_H

#include <keel/compiler.h>
#include <keel/domain.h>

/* sched_init()'s kick: make @cpu call sched_pick() soon. */
void schedule_kick(unsigned int cpu);

/*
 * Let every CPU enter its loop (called by the boot CPU once the boot-time
 * domains are built), then enter the boot CPU's.
 */
NORETURN void schedule_start(void);

/* Secondary CPUs: whether schedule_start() was called; then enter the loop. */
bool schedule_started(void);
NORETURN void schedule_enter(void);

/*
 * Domain end. The guest shut itself down (KEEL_HC_SCHED_SHUTDOWN) or Keel
 * crashed it (a bad access, a triple fault): record it, tell its
 * controllers (KEEL_VIRQ_DOMAIN_STATE) and apply the boot policy:
 * boot-time domains are destroyed, restarted or kept as their boot
 * configuration says (core/restart.c); a domain a controller created
 * waits, shut down, for that controller to destroy it.
 * May be called from @d's own vCPU; that vCPU stops at its next check.
 */
void domain_ended(struct domain *d, uint32_t reason, const char *why);

/* Crash @d from one of its own exits: report, then domain_ended(). */
void domain_crash(struct domain *d, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * The free-page count before the boot-time domains were built; once they
 * are all gone Keel checks that every page came back (and, with
 * qemu_exit=1, reports the verdict and ends the run).
 */
void schedule_set_page_baseline(uint64_t free_pages, unsigned int domains);

#endif
