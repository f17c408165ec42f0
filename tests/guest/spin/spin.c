/* SPDX-License-Identifier: MIT */
/* spin.c: busy-loops and reports the share of a CPU its runstate shows, against an expectation. */
#include "keeltest64.h"

/*
 * Command line:
 *   seconds=<n>          length of the measured window (default 3)
 *   warmup-ms=<n>        busy time before the window (default 1000), so that
 *                        domains started one after the other overlap fully
 *   expect-share=<pct>   the share of one CPU the scheduler should give
 *   tolerance=<pct>      allowed difference, in percentage points
 * The share is RUNNING time (keel_vcpu_info.runstate, with the current
 * stint) over elapsed domain system time in the window. One result line:
 *   keeltest: spin-<domain name>: SUCCESS share S% (expected E +- T), N loops in W s
 */
const char test_name[] = "spin";

static char name[48] = "spin";

static void read_name(void)
{
	char dom[32];

	if (kt_domain_name(dom, sizeof(dom))) {
		kt_snprintf(name, sizeof(name), "spin-%s", dom);
	}
}

void test_main(void)
{
	uint64_t seconds = kt_cmdline_u64("seconds", 3), warmup = kt_cmdline_u64("warmup-ms", 1000);
	uint64_t expect = kt_cmdline_u64("expect-share", ~0ull), tol = kt_cmdline_u64("tolerance",
										      0);
	uint64_t t0, t1, r0, r1, loops = 0, permille, elapsed, waiting, blocked;
	struct keel_vcpu_runstate rs0, rs1;
	volatile uint64_t sink = 0;

	read_name();
	kt_current = name;
	kt_spin_ns(warmup * KT_NS_PER_MS);
	kt_runstate(&rs0);
	r0 = kt_running_ns();
	t0 = kt_now_ns();
	do {
		/* Some work per iteration, and a clock read only every 1024 of them. */
		for (int i = 0; i < 1024; i++) {
			sink = sink * 6364136223846793005ull + 1442695040888963407ull;
		}
		loops++;
		t1 = kt_now_ns();
	} while (t1 - t0 < seconds * KT_NS_PER_S);
	r1 = kt_running_ns();
	kt_runstate(&rs1);
	elapsed = t1 - t0;
	permille = (r1 - r0) * 1000 / elapsed;
	waiting = rs1.time_ns[KEEL_RUNSTATE_RUNNABLE] - rs0.time_ns[KEEL_RUNSTATE_RUNNABLE];
	blocked = rs1.time_ns[KEEL_RUNSTATE_BLOCKED] - rs0.time_ns[KEEL_RUNSTATE_BLOCKED];
	kt_note("running %lu ms, runnable (waiting) %lu ms, blocked %lu ms of %lu ms",
		(r1 - r0) / KT_NS_PER_MS, waiting / KT_NS_PER_MS, blocked / KT_NS_PER_MS,
		elapsed / KT_NS_PER_MS);
	if (r1 < r0 || r1 - r0 > elapsed + KT_NS_PER_MS) {
		keeltest_result(name, KEELTEST_FAILURE,
				"RUNNING time went from %lu to %lu ns in %lu ns",
				r0, r1, elapsed);
		return;
	}
	if (expect == ~0ull) {
		keeltest_result(name, KEELTEST_SUCCESS, "share %lu.%lu%%, %lu loops in %lu s",
				permille / 10,
				permille % 10, loops, seconds);
		return;
	}
	if (permille + tol * 10 < expect * 10 || permille > expect * 10 + tol * 10) {
		keeltest_result(name, KEELTEST_FAILURE,
				"share %lu.%lu%%, expected %lu +- %lu, %lu loops in %lu s",
				permille / 10, permille % 10, expect, tol, loops, seconds);
		return;
	}
	keeltest_result(name, KEELTEST_SUCCESS,
			"share %lu.%lu%% (expected %lu +- %lu), %lu loops in %lu s",
			permille / 10, permille % 10, expect, tol, loops, seconds);
}
