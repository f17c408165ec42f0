/* SPDX-License-Identifier: MIT */
/* hcbench.c: costs of the guest's basic ways into Keel, measured side by side in one domain. */
#include "keeltest64.h"

/*
 * A benchmark kernel, not a test: tests/bench/keel-bench boots it and reads
 *   keelbench: NAME: AVG_NS ns (N runs)
 * lines. Each figure is an average over N back-to-back operations, timed
 * with the TSC; all of them come from the same boot, so their ratios hold
 * even though TCG's absolute speed swings with the host's load:
 *   cpuid-exit        CPUID: one exit and re-entry, no hypercall dispatch
 *   hypercall         KEEL_HC_VERSION through the hypercall page: a null
 *                     hypercall round trip
 *   evtchn-send-self  KEEL_HC_EVTCHN_SEND on an IPI port of this vCPU that
 *                     is masked, so no upcall follows
 * Command line: runs=<n> (default 2000).
 */
const char test_name[] = "hcbench";

static void report(const char *name, uint64_t ticks, uint64_t runs)
{
	kt_printf("keelbench: %s: %lu ns (%lu runs)\n", name, kt_tsc_to_ns(ticks / runs), runs);
}

static uint64_t time_cpuid(uint64_t runs)
{
	uint64_t t0 = kt_rdtsc();

	for (uint64_t i = 0; i < runs; i++) {
		(void)kt_cpuid(0, 0);
	}
	return kt_rdtsc() - t0;
}

static uint64_t time_null_hypercall(uint64_t runs)
{
	uint64_t t0 = kt_rdtsc();

	for (uint64_t i = 0; i < runs; i++) {
		(void)keel_hypercall0(KEEL_HC_VERSION);
	}
	return kt_rdtsc() - t0;
}

static bool time_sends(uint32_t port, uint64_t runs, uint64_t *ticks)
{
	uint64_t t0 = kt_rdtsc();

	for (uint64_t i = 0; i < runs; i++) {
		long rc = kt_evtchn_send(port);

		if (rc != 0) {
			keeltest_result(test_name, KEELTEST_FAILURE, "SEND: %ld (%s)", rc,
					kt_errname(rc));
			return false;
		}
	}
	*ticks = kt_rdtsc() - t0;
	return true;
}

void test_main(void)
{
	uint64_t runs = kt_cmdline_u64("runs", 2000), ticks;
	long port = kt_evtchn_bind_ipi(0);

	if (runs == 0 || port < 0) {
		keeltest_result(test_name, KEELTEST_ERROR, "runs=%lu, BIND_IPI: %ld", runs, port);
		return;
	}
	/* Warm up both paths so the first figures do not include TCG's translation. */
	(void)time_cpuid(100);
	(void)time_null_hypercall(100);

	report("cpuid-exit", time_cpuid(runs), runs);
	report("hypercall", time_null_hypercall(runs), runs);

	kt_port_mask((uint32_t)port);
	if (!time_sends((uint32_t)port, runs, &ticks)) {
		return;
	}
	report("evtchn-send-self", ticks, runs);
	kt_port_clear((uint32_t)port);
	keeltest_result(test_name, KEELTEST_SUCCESS, "%lu runs of each", runs);
}
