/* SPDX-License-Identifier: MIT */
/* crash.c: a guest that crashes itself as its command line says; Keel must contain it. */
#include "keeltest64.h"

/*
 * Command line: mode=triple-fault | bad-access | crash-call | wild-write.
 *   triple-fault  load an IDT with limit 0 and raise #UD: #UD, #GP, #DF, shutdown
 *   bad-access    read guest-physical 0xd0000000, which is not RAM (the hole
 *                 below the PCI range in the Keel 1.0 layout)
 *   crash-call    KEEL_HC_SCHED_SHUTDOWN(KEEL_SHUTDOWN_CRASH)
 *   wild-write    write 16 MiB above the end of RAM (identity-mapped, but no RAM there)
 * Before crashing it prints
 *   keeltest: crash-<mode>: SUCCESS about to crash
 * and if it is still running afterwards, a FAILURE line. Keel must report the
 * crash and keep every other domain running.
 */
const char test_name[] = "crash";

static char name[48];

static void triple_fault(void)
{
	keeltest_result(name, KEELTEST_SUCCESS, "about to crash");
	kt_triple_fault();
}

static void bad_access(void)
{
	volatile uint32_t *p = KT_PTR(KT_GPA_NOT_RAM);
	uint32_t v;

	keeltest_result(name, KEELTEST_SUCCESS, "about to crash");
	v = *p;
	keeltest_result(name, KEELTEST_FAILURE, "a read of 0x%lx (not RAM) returned 0x%x",
			KT_GPA_NOT_RAM, v);
}

static void crash_call(void)
{
	long rc;

	keeltest_result(name, KEELTEST_SUCCESS, "about to crash");
	rc = keel_hypercall1(KEEL_HC_SCHED_SHUTDOWN, KEEL_SHUTDOWN_CRASH);
	keeltest_result(name, KEELTEST_FAILURE, "SCHED_SHUTDOWN(CRASH) returned %ld (%s)", rc,
			kt_errname(rc));
}

static void wild_write(void)
{
	uint64_t gpa = kt_ram_end() + 16 * 1024 * 1024;
	volatile uint64_t *p = KT_PTR(gpa);

	if (gpa >= KEEL_X86_GPA_MMIO_HOLE) {
		keeltest_result(name, KEELTEST_ERROR, "RAM ends too high (0x%lx) for this test",
				kt_ram_end());
		return;
	}
	keeltest_result(name, KEELTEST_SUCCESS, "about to crash");
	*p = 0x5741524e494e4721ull;
	keeltest_result(name, KEELTEST_FAILURE,
			"a write to 0x%lx (above RAM) did not crash the domain", gpa);
}

void test_main(void)
{
	char mode[24];

	if (!kt_cmdline_str("mode", mode, sizeof(mode))) {
		keeltest_result(test_name, KEELTEST_ERROR, "no mode= on the command line");
		return;
	}
	kt_snprintf(name, sizeof(name), "crash-%s", mode);
	if (kt_strcmp(mode, "triple-fault") == 0) {
		triple_fault();
	} else if (kt_strcmp(mode, "bad-access") == 0) {
		bad_access();
	} else if (kt_strcmp(mode, "crash-call") == 0) {
		crash_call();
	} else if (kt_strcmp(mode, "wild-write") == 0) {
		wild_write();
	} else {
		keeltest_result(test_name, KEELTEST_ERROR, "unknown mode '%s'", mode);
	}
	/* Still here: the runtime powers the domain off, so the run ends instead of hanging. */
}
