/* SPDX-License-Identifier: MIT */
/* x86/time.h - TSC-based monotonic time and LAPIC timer calibration. */
#ifndef KEEL_X86_TIME_H
#define KEEL_X86_TIME_H

#include <x86/acpi.h>

extern uint64_t tsc_hz;

/* Calibrate the TSC and LAPIC timer (CPUID 15h, else HPET, else PIT). */
void time_init(const struct acpi_info *ai);

/* Arm a one-shot LAPIC timer on this CPU and check it fires, not early. */
bool time_selftest(uint64_t *fired_after_ns);

/* Busy-wait (TSC-based; before calibration, a rough fallback). */
void udelay(uint64_t us);

#endif
