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

#endif
