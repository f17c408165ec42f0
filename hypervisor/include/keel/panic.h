/* SPDX-License-Identifier: MIT */
/*
 * keel/panic.h - stopping the hypervisor on an internal error, and verdicts.
 *
 * panic() is for broken invariants inside Keel only. Nothing a guest does may
 * reach it: guest mistakes get error codes. A panic logs the reason and a
 * backtrace, stops every CPU, reports the PANIC verdict and halts.
 */
#ifndef KEEL_PANIC_H
#define KEEL_PANIC_H

#include <keel/compiler.h>
#include <keel/types.h>

/*
 * The outcome of a boot, as a marker line "KEEL-VERDICT: <NAME> <message>"
 * and, when the test option qemu_exit is on, an isa-debug-exit code. The
 * runner (tests/runner) maps both back to a pass or a failure.
 */
enum verdict {
	VERDICT_SUCCESS = 0,	/* boot and self-tests passed */
	VERDICT_FAILURE = 1,	/* a self-test found a hypervisor bug */
	VERDICT_ERROR = 2,	/* a test could not run (broken test or setup) */
	VERDICT_SKIP = 3,	/* a test does not apply here */
	VERDICT_HALTED = 4,	/* stopped cleanly: unusable machine or input */
	VERDICT_PANIC = 5,	/* internal error or unexpected exception */
};

/* Print the marker line and signal the emulator; returns (caller halts). */
void verdict_report(enum verdict v, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Whether verdicts also go out through the emulator's exit device. */
void verdict_set_emulator_exit(bool on);

/* Stop cleanly with a clear message: the machine or an input is unusable. */
NORETURN void halt_cleanly(const char *fmt, ...) PRINTF_LIKE(1, 2);

NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Backtrace of the caller, symbolized, on the console. */
void panic_backtrace(void);
/* @first_is_exact: pcs[0] is a faulting instruction, not a return address. */
void backtrace_print(const uintptr_t *pcs, size_t n, bool first_is_exact);

/*
 * Start a panic report (used by panic() and the exception handlers): turns
 * interrupts off, takes over the console and stops the other CPUs. Returns
 * false if another panic is already under way; the caller then just halts.
 */
bool panic_enter(void);

#define ASSERT(cond)							\
	do {								\
		if (unlikely(!(cond))) {				\
			panic("assertion failed: %s (%s:%d)", #cond,	\
			      __FILE__, __LINE__);			\
		}							\
	} while (0)

#endif
