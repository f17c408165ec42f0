/* SPDX-License-Identifier: MIT */
/*
 * keel/restart.h - what Keel does with a boot-time domain that ends: the
 * boot configuration's on-poweroff / on-reboot / on-crash action, the
 * restart limit, and the restart worker that builds the domain again
 * (docs/boot-config.md, "When a domain ends").
 */
#ifndef KEEL_RESTART_H
#define KEEL_RESTART_H

#include <keel/domain.h>
#include <keel/sched.h>

/* Set up the restart worker; once, after sched_init(), before domains run. */
void restart_init(void);

/*
 * @d has just shut down with @reason (KEEL_SHUTDOWN_*). Returns what to do
 * with it, an END_* of keel/bootcfg.h: END_DESTROY (also for domains that
 * are not boot-time ones, and for a restart over the limit, which is
 * logged); END_RESTART, for which a rebuild is queued, holding a reference
 * to @d until its last other reference is gone, and the caller destroys
 * @d; END_PRESERVE, the caller leaves @d shut down.
 */
unsigned int restart_on_end(struct domain *d, uint32_t reason);

/* Restarts queued or being built: those domains are not over yet. */
unsigned int restart_outstanding(void);

/*
 * The scheduling loop (core/schedule.c): whether @e is the restart worker,
 * which it runs with restart_worker_run() (interrupts on, no vCPU current)
 * instead of a vCPU.
 */
bool restart_is_worker(const struct sched_entity *e);
void restart_worker_run(void);

#endif
