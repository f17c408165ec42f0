/* SPDX-License-Identifier: MIT */
/*
 * x86/vdevices.h - the emulated PC devices behind x86/vplatform.h that are
 * not interrupt controllers: the 16550A UART, the CMOS RTC, the PCI host
 * bridge with Keel's platform device, and the ACPI tables (docs/platform.md).
 *
 * vplatform.c creates each device that the domain's flags ask for, sends
 * it the port and MMIO exits it claims and destroys it with the domain.
 * A device's functions are only called for a domain that has it.
 */
#ifndef KEEL_X86_VDEVICES_H
#define KEEL_X86_VDEVICES_H

#include <keel/domain.h>
#include <keel/types.h>
#include <x86/svm_domain.h>
#include <x86/vplatform.h>

/* @d's emulated platform (which lives in its struct svm_domain). */
static inline struct vplatform *vplatform_of(struct domain *d)
{
	return &svm_domain(d)->platform;
}

/* Port ranges the devices claim. */
#define VUART_PORT		0x3f8	/* 8 ports */
#define VUART_PORTS		8
#define VRTC_PORT		0x70	/* index and data */
#define VPCI_CONF_ADDR		0xcf8	/* CONFIG_ADDRESS, a 32-bit register */
#define VPCI_CONF_DATA		0xcfc	/* CONFIG_DATA, bytes 0xcfc..0xcff */

/*
 * Each *_create() returns 0 or -KEEL_ENOMEM and stores the device in
 * d's struct vplatform; *_destroy() frees it (nothing if absent). The
 * *_pio() functions take an IN or OUT of @size bytes at @port (already
 * known to be in the device's range) and return true when handled.
 */
int vuart_create(struct domain *d);
void vuart_destroy(struct domain *d);
bool vuart_pio(struct domain *d, uint16_t port, unsigned int size, bool in, uint32_t *value);

int vrtc_create(struct domain *d);
void vrtc_destroy(struct domain *d);
bool vrtc_pio(struct domain *d, uint16_t port, unsigned int size, bool in, uint32_t *value);

int vpci_create(struct domain *d);
void vpci_destroy(struct domain *d);
bool vpci_pio(struct domain *d, uint16_t port, unsigned int size, bool in, uint32_t *value);
/* BAR0 (MSI-X table and PBA) while decoded; false for any other address. */
bool vpci_mmio(struct domain *d, uint64_t gpa, unsigned int size, bool write, uint64_t *value);

/*
 * VGA memory (0xa0000..0xbffff) of a domain with ACPI: nothing decodes it,
 * so reads return all ones, as the floating bus does, and writes vanish.
 * False for any other address.
 */
bool vfirmware_legacy_mmio(struct domain *d, uint64_t gpa, unsigned int size, bool write,
			   uint64_t *value);

/*
 * KEEL_UPCALL_PLATFORM delivery for @v (called by the SVM run loop when
 * @v has an upcall to deliver in that mode): MSI-X entry, MSI or INTx,
 * per docs/abi/hypercalls.md "Upcall delivery modes".
 */
void vpci_upcall(struct vcpu *v, uint32_t entry);

/*
 * The level of the platform device's INTx line (GSI VPLATFORM_GSI_PCI)
 * now: for the IOAPIC, which must re-sample it when the guest EOIs that
 * level-triggered vector, because the guest clears vCPU 0's upcall_pending
 * without an exit. Takes no lock of the platform's, so the IOAPIC may call
 * it under its own.
 */
bool vpci_intx_level(struct domain *d);

#endif
