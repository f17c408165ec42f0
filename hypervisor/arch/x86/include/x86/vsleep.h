/* SPDX-License-Identifier: MIT */
/*
 * x86/vsleep.h - the ACPI sleep and reset registers of a domain with
 * hardware-reduced ACPI (the FADT's SLEEP_CONTROL_REG, SLEEP_STATUS_REG and
 * RESET_REG, x86/vacpi.h): writing SLP_TYP = S5 with SLP_EN powers the
 * domain off; writing RESET_VALUE to RESET_REG reboots it.
 */
#ifndef KEEL_X86_VSLEEP_H
#define KEEL_X86_VSLEEP_H

#include <keel/vcpu.h>
#include <keel/types.h>

/* Whether @port/@size is one of the sleep or reset registers of @d. */
bool vsleep_claims(const struct domain *d, uint16_t port, unsigned int size);

/* An IN or OUT of @v at a port vsleep_claims(); always handled. */
bool vsleep_pio(struct vcpu *v, uint16_t port, bool in, uint32_t *value);

/*
 * Put the reset-vector stub (0xffff0: write the reset register) into @d's
 * firmware area, which must be populated. Returns 0, or -1 if it is not.
 */
int vsleep_write_reset_vector(struct domain *d);

/*
 * @v triple-faulted (VMEXIT_SHUTDOWN) at @rip: a reset, so a reboot, for a
 * domain with ACPI (the PC platform); a crash for a Keel-native one.
 */
void vsleep_triple_fault(struct vcpu *v, uint64_t rip);

#endif
