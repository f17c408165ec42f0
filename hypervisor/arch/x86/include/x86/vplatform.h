/* SPDX-License-Identifier: MIT */
/*
 * x86/vplatform.h - the emulated PC platform of a domain (docs/abi/boot.md,
 * "Platform"): which devices it has, how port and MMIO exits reach them and
 * how their interrupts reach the vCPUs' local APICs.
 *
 * Every domain has a local APIC per vCPU. The other devices exist only with
 * the domain's creation flags (d->platform, KEEL_DOMCREATE_F_*): the IOAPIC
 * and ACPI tables with F_ACPI, the UART with F_UART, the RTC with F_RTC,
 * the PCI host bridge and Keel's platform device with F_PLATFORM_PCI.
 *
 * Files (hypervisor/arch/x86/vplatform/):
 *   vplatform.c  creation, teardown and the exit dispatch below
 *   vlapic.c     local APIC: registers, IRR/ISR priority, timer (one-shot,
 *                periodic, TSC-deadline), IPIs, INIT/SIPI, EOI
 *   vioapic.c    IOAPIC: 24 pins, redirection table, level/edge, EOI
 *   vuart.c      16550A at 0x3f8 on GSI 4
 *   vrtc.c       CMOS RTC at 0x70/0x71
 *   vpci.c       PCI host bridge (conf1 at 0xcf8/0xcfc), Keel's platform
 *                device with MSI-X (BAR0), MSI and INTx on GSI 16
 *   vacpi.c      the ACPI tables written into the firmware area
 * Everything is checked against the guest: registers a device does not
 * have read as the hardware would and writes to them are ignored.
 */
#ifndef KEEL_X86_VPLATFORM_H
#define KEEL_X86_VPLATFORM_H

#include <keel/domain.h>
#include <keel/types.h>

#define VIOAPIC_PINS		24
#define VPLATFORM_GSI_UART	4
#define VPLATFORM_GSI_PCI	16	/* the platform device's INTx (pin A) */

struct vlapic;
struct vioapic;
struct vuart;
struct vrtc;
struct vpci;

/* Per domain, behind struct svm_domain (x86/svm_domain.h). */
struct vplatform {
	struct vioapic *ioapic;		/* F_ACPI, else NULL */
	struct vuart *uart;		/* F_UART, else NULL */
	struct vrtc *rtc;		/* F_RTC, else NULL */
	struct vpci *pci;		/* F_PLATFORM_PCI, else NULL */
};

/* Domain and vCPU lifetime (from arch_domain_create / arch_vcpu_create). */
int vplatform_create(struct domain *d);
void vplatform_destroy(struct domain *d);
int vlapic_create(struct vcpu *v);
void vlapic_destroy(struct vcpu *v);
/* INIT: the local APIC's power-up state (and the vCPU waits for a SIPI). */
void vlapic_reset(struct vcpu *v);

/*
 * Exit dispatch. An IN or OUT of @size (1, 2 or 4) bytes at @port: true if
 * a device took it (an IN's result in *@value). An MMIO access of @size
 * (1, 2, 4 or 8) bytes at @gpa: true if a device took it. Unclaimed ports
 * read as absent devices do (docs/abi/boot.md); unclaimed MMIO crashes the
 * domain with a report (the caller's business).
 */
bool vplatform_pio(struct vcpu *v, uint16_t port, unsigned int size, bool in,
		   uint32_t *value);
bool vplatform_mmio(struct vcpu *v, uint64_t gpa, unsigned int size, bool write,
		    uint64_t *value);

/*
 * Interrupt sources. vioapic_set_irq: GSI @gsi's input line is asserted
 * (@level true) or deasserted; an edge pin fires on the rising edge.
 * vlapic_msi: an MSI write of @data to @addr (0xfeexxxxx) from a device.
 * vlapic_set_irq: vector @vector to @v's local APIC (level: remember in TMR,
 * send the EOI to the IOAPIC).
 */
void vioapic_set_irq(struct domain *d, unsigned int gsi, bool level);
void vlapic_msi(struct domain *d, uint64_t addr, uint32_t data);
void vlapic_set_irq(struct vcpu *v, uint8_t vector, bool level);
/* The local APIC of @v retired a level-triggered @vector. */
void vioapic_eoi(struct domain *d, uint8_t vector);

/*
 * For the SVM run loop: the highest-priority vector @v's local APIC would
 * deliver now (IRR above ISR and TPR), or -1; and acknowledge it (IRR ->
 * ISR) when the CPU takes it.
 */
int vlapic_pending_vector(struct vcpu *v);
void vlapic_ack(struct vcpu *v, uint8_t vector);

/* The ACPI tables for @d, written into its firmware area (vacpi.c). */
int vacpi_write(struct domain *d);

#endif
