/* SPDX-License-Identifier: MIT */
/* x86/smp.h - secondary CPU start-up and cross-CPU function calls. */
#ifndef KEEL_X86_SMP_H
#define KEEL_X86_SMP_H

#include <keel/types.h>

/* Start every CPU in cpus[1..cpus_present); returns how many are online. */
unsigned int smp_start(void);
unsigned int smp_online_count(void);

/* Run @fn(@arg) on CPU @index and wait for it (bounded). False on timeout. */
bool smp_call_on(unsigned int index, void (*fn)(void *), void *arg);

/* VEC_IPI_CALL handler. */
void smp_handle_call_ipi(void);

struct percpu;

/*
 * Kicks without IPIs (arch.c): a CPU running Keel's own code with a look
 * at its resched flag ahead of its next VMRUN or HLT is "watching" it,
 * and arch_cpu_kick() only sets nothing more for it. resched_watch() after
 * VMRUN and HLT; resched_unwatch() right before them (interrupts off)
 * returns whether a kick came, which must then not be slept or run through.
 */
void resched_watch(struct percpu *cpu);
bool resched_unwatch(struct percpu *cpu);

#endif
