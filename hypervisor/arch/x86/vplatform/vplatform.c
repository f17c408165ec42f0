/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vplatform.c - a domain's emulated platform as a whole: which
 * devices it gets (its KEEL_DOMCREATE_F_* flags), and which device a port
 * or MMIO exit belongs to.
 *
 * Dispatch is by fixed address: the local APIC page, the IOAPIC page, the
 * platform device's BAR0 (where the guest put it), the UART's and RTC's
 * ports and PCI configuration mechanism #1. What no device claims is the
 * caller's business: absent ports (svm/exits.c) and a domain crash for MMIO.
 */
#include <public/keel/arch-x86_64.h>
#include <public/keel/control.h>
#include <x86/vdevices.h>
#include <x86/vplatform.h>
#include <x86/vsleep.h>

#define PAGE_OF(gpa)	((gpa) & ~0xfffull)

int vplatform_create(struct domain *d)
{
	uint32_t f = d->platform;
	int rc = vioapic_create(d);

	if (rc == 0 && (f & KEEL_DOMCREATE_F_UART)) {
		rc = vuart_create(d);
	}
	if (rc == 0 && (f & KEEL_DOMCREATE_F_RTC)) {
		rc = vrtc_create(d);
	}
	if (rc == 0 && (f & KEEL_DOMCREATE_F_PLATFORM_PCI)) {
		rc = vpci_create(d);
	}
	if (rc != 0) {
		vplatform_destroy(d);
	}
	return rc;
}

void vplatform_destroy(struct domain *d)
{
	vpci_destroy(d);
	vrtc_destroy(d);
	vuart_destroy(d);
	vioapic_destroy(d);
}

static bool in_range(uint16_t port, unsigned int size, uint16_t first, unsigned int count)
{
	return port >= first && port + size <= first + count;
}

bool vplatform_pio(struct vcpu *v, uint16_t port, unsigned int size, bool in, uint32_t *value)
{
	struct domain *d = v->domain;
	struct vplatform *p = vplatform_of(d);

	if (p->uart && in_range(port, size, VUART_PORT, VUART_PORTS)) {
		return vuart_pio(d, port, size, in, value);
	}
	if (p->rtc && in_range(port, size, VRTC_PORT, 2)) {
		return vrtc_pio(d, port, size, in, value);
	}
	if (vsleep_claims(d, port, size)) {
		return vsleep_pio(v, port, in, value);
	}
	if (p->pci && (in_range(port, size, VPCI_CONF_ADDR, 4) ||
		       in_range(port, size, VPCI_CONF_DATA, 4))) {
		return vpci_pio(d, port, size, in, value);
	}
	return false;
}

bool vplatform_claims_mmio(struct domain *d, uint64_t gpa)
{
	uint64_t ignored = 0;

	if (PAGE_OF(gpa) == KEEL_X86_GPA_LAPIC) {
		return true;
	}
	if (PAGE_OF(gpa) == KEEL_X86_GPA_IOAPIC && vplatform_of(d)->ioapic) {
		return true;
	}
	if (vfirmware_legacy_mmio(d, gpa, 1, false, &ignored)) {
		return true;	/* VGA memory: absent (firmware.c) */
	}
	/* A read of BAR0 has no side effect: the cheapest way to ask whether it decodes @gpa. */
	return vplatform_of(d)->pci && vpci_mmio(d, gpa & ~3ull, 4, false, &ignored);
}

bool vplatform_mmio(struct vcpu *v, uint64_t gpa, unsigned int size, bool write,
		    uint64_t *value)
{
	struct domain *d = v->domain;

	if (PAGE_OF(gpa) == KEEL_X86_GPA_LAPIC) {
		return vlapic_mmio(v, (uint32_t)(gpa & 0xfff), size, write, value);
	}
	if (PAGE_OF(gpa) == KEEL_X86_GPA_IOAPIC && vplatform_of(d)->ioapic) {
		return vioapic_mmio(d, (uint32_t)(gpa & 0xfff), size, write, value);
	}
	if (vfirmware_legacy_mmio(d, gpa, size, write, value)) {
		return true;
	}
	if (vplatform_of(d)->pci) {
		return vpci_mmio(d, gpa, size, write, value);
	}
	return false;
}
