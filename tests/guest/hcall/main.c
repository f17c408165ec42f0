/* SPDX-License-Identifier: MIT */
/* main.c: the hcall test kernel: every guest hypercall, with good and bad arguments. */
#include "hcall.h"

/*
 * One keeltest line per group, each with numbered checks (a failure names
 * its number and what was checked):
 *   entry-state   the LONG64 entry state of docs/abi/boot.md
 *   discovery     CPUID leaves, the hypercall page MSR, VERSION, FEATURES,
 *                 IDENTIFY and its errors, ENOTIDENT before it, ENOSYS,
 *                 32-bit arguments with high bits, preserved registers
 *   hcall-console, hcall-sched, hcall-evtchn, hcall-gnttab, hcall-memory,
 *   hcall-vcpu, hcall-devtable, hcall-control
 * Every expected value comes from the spec, not from what Keel does today.
 * The boot configuration (tests/configs/hcall.dts) gives this domain one
 * vCPU, no capabilities and no devices; the checks rely on that.
 */
const char test_name[] = "hcall";

uint8_t hc_page[4][KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;

uint64_t hc_empty_gfn(void)
{
	return (kt_ram_end() >> KEEL_PAGE_SHIFT) + 256;
}

/* Discovery and identification errors must be checked while the domain is not identified. */
void test_pre_identify(void)
{
	hc_discovery_pre();
}

void test_main(void)
{
	hc_discovery_post();
	hc_entry_state();
	hc_console();
	hc_sched();
	hc_evtchn();
	hc_gnttab();
	hc_memory();
	hc_vcpu();
	hc_devtable();
	hc_control();
}
