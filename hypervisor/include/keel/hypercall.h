/* SPDX-License-Identifier: MIT */
/*
 * keel/hypercall.h - the hypercall dispatcher: number to handler, with the
 * common checks of docs/abi/errors.md done once for every call.
 */
#ifndef KEEL_HYPERCALL_H
#define KEEL_HYPERCALL_H

#include <keel/domain.h>
#include <keel/types.h>

#define HYPERCALL_ARGS		6

/*
 * Run hypercall @nr for @v with register arguments @args. The architecture
 * has already refused calls from CPL > 0 (check 1). Returns the value for
 * the guest's return register (>= 0 or -KEEL_E*), or HYPERCALL_RESTART
 * (keel/vcpu.h) when @v now waits and must execute the call again.
 */
long hypercall_dispatch(struct vcpu *v, uint64_t nr, const uint64_t args[HYPERCALL_ARGS]);

/* Calls made, per vCPU-independent counter (for the log and benchmarks). */
uint64_t hypercall_count(void);

#endif
