/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vsleep.c - the hardware-reduced ACPI sleep and reset registers
 * (ACPI 6.4, 4.8.3.6, 4.8.3.7 and 7.4.2), how a stock kernel powers a
 * domain off and resets it. Byte registers at the I/O ports the FADT names;
 * only with ACPI (there is no FADT otherwise).
 *
 * Power off: the guest writes (SLP_TYP << 2) | SLP_EN to the sleep control
 * register with the S5 type from the DSDT's \_S5 package; S5 ends the
 * domain (KEEL_SHUTDOWN_POWEROFF). Other sleep states do not exist in the
 * DSDT, so a write of them is ignored and the guest carries on, as on a
 * machine that lacks them. Reads return 0: never asleep, never waking
 * (WAK_STS clear).
 *
 * Reset: writing the FADT's RESET_VALUE to the reset register ends the
 * domain with KEEL_SHUTDOWN_REBOOT (what follows is the boot
 * configuration's on-reboot: a boot-time domain is built again by
 * default). Other values do nothing; the register reads 0.
 *
 * Reset vector: a PC's firmware at 0xffff0 resets the machine, and kernels
 * jump there to reboot. Stock Linux does so first on a hardware-reduced
 * ACPI machine without EFI (its reboot type becomes EFI, then BIOS: a jump
 * to F000:FFF0 in real mode), before ever trying the ACPI reset register.
 * So the firmware area gets a stub there that writes the reset register.
 *
 * Triple fault: a PC resets, and stock kernels use that as their last way
 * to reboot (Linux "reboot=t", or when every other method failed). So a
 * domain with the PC platform (ACPI) that triple-faults reboots too. A
 * Keel-native domain (no ACPI) has no such convention: there a triple
 * fault is a bug, and the domain is crashed.
 */
#include <keel/domain.h>
#include <keel/format.h>
#include <keel/guest_memory.h>
#include <keel/schedule.h>
#include <public/keel/control.h>
#include <public/keel/sched.h>
#include <x86/vacpi.h>
#include <x86/vsleep.h>

#define SLP_TYP(v)	(((v) >> 2) & 0x7)
#define RESET_VECTOR	0xffff0ull	/* F000:FFF0 */

/* Real-mode code at the reset vector: write RESET_VALUE to the reset register. */
static const uint8_t reset_stub[] = {
	0xb0, VACPI_RESET_VALUE,					/* mov al, value */
	0xba, VACPI_RESET_PORT & 0xff, VACPI_RESET_PORT >> 8,	/* mov dx, port */
	0xee,								/* out dx, al */
	0xf4,								/* hlt */
	0xeb, 0xfd,							/* jmp to the hlt */
};

bool vsleep_claims(const struct domain *d, uint16_t port, unsigned int size)
{
	return (d->platform & KEEL_DOMCREATE_F_ACPI) && size == 1 &&
	       (port == VACPI_SLEEP_CONTROL_PORT || port == VACPI_SLEEP_STATUS_PORT ||
		port == VACPI_RESET_PORT);
}

bool vsleep_pio(struct vcpu *v, uint16_t port, bool in, uint32_t *value)
{
	if (in) {
		*value = 0;
		return true;
	}
	if (port == VACPI_SLEEP_CONTROL_PORT && (*value & VACPI_SLP_EN) &&
	    SLP_TYP(*value) == VACPI_SLP_TYP_S5) {
		domain_ended(v->domain, KEEL_SHUTDOWN_POWEROFF, "ACPI S5");
	}
	if (port == VACPI_RESET_PORT && (*value & 0xff) == VACPI_RESET_VALUE) {
		domain_ended(v->domain, KEEL_SHUTDOWN_REBOOT, "reset register");
	}
	return true;
}

void vsleep_triple_fault(struct vcpu *v, uint64_t rip)
{
	char why[64];

	if (!(v->domain->platform & KEEL_DOMCREATE_F_ACPI)) {
		domain_crash(v->domain, "vCPU %u: triple fault (shutdown) at RIP %#llx", v->id,
			     (unsigned long long)rip);
		return;
	}
	format(why, sizeof(why), "vCPU %u: triple fault at RIP %#llx: a reset", v->id,
	       (unsigned long long)rip);
	domain_ended(v->domain, KEEL_SHUTDOWN_REBOOT, why);
}

int vsleep_write_reset_vector(struct domain *d)
{
	return guest_copy_to(d, RESET_VECTOR, reset_stub, sizeof(reset_stub)) == 0 ? 0 : -1;
}
