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
 *   vlapic.c     local APIC: registers, IRR/ISR priority, EOI
 *   vlapic_timer.c  its timer (one-shot, periodic, TSC-deadline)
 *   vlapic_ipi.c    ICR, MSI and IOAPIC delivery: destinations, INIT/SIPI
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
/*
 * The local APIC's power-up state (registers and timer; the INIT/SIPI
 * state is vlapic_startup()'s). @v is not running.
 */
void vlapic_reset(struct vcpu *v);

/*
 * Exit dispatch. An IN or OUT of @size (1, 2 or 4) bytes at @port: true if
 * a device took it (an IN's result in *@value). An MMIO access of @size
 * (1, 2, 4 or 8) bytes at @gpa: true if a device took it. Unclaimed ports
 * and the unclaimed legacy hole below 1 MiB read as absent devices do, all
 * ones (docs/platform.md); other unbacked addresses crash the domain with
 * a report (the caller's business: svm/exits.c, svm/mmio.c).
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
 * send the EOI to the IOAPIC). Any context, any CPU: the target is woken
 * from HLT and, running elsewhere, made to exit so it sees the interrupt.
 */
void vioapic_set_irq(struct domain *d, unsigned int gsi, bool level);
void vlapic_msi(struct domain *d, uint64_t addr, uint32_t data);
void vlapic_set_irq(struct vcpu *v, uint8_t vector, bool level);
/*
 * An interrupt message (IOAPIC redirection entry or MSI) for the local
 * APICs of @d that @dest in @logical or physical mode addresses, in
 * delivery mode @mode (fixed, lowest priority, NMI, INIT, startup).
 * Returns whether any APIC was addressed.
 */
bool vlapic_deliver(struct domain *d, uint8_t dest, bool logical, unsigned int mode,
		    uint8_t vector, bool level);
/* The local APIC of @v retired a level-triggered @vector. */
void vioapic_eoi(struct domain *d, uint8_t vector);

/*
 * For the SVM run loop: the highest-priority vector @v's local APIC would
 * deliver now (IRR above ISR and TPR, APIC software-enabled), or -1; and
 * acknowledge it (IRR -> ISR) when it is injected. Only @v's own run loop
 * calls these (and every function below that takes a vCPU), so nothing
 * but new requests can change the answer in between.
 */
int vlapic_pending_vector(struct vcpu *v);
void vlapic_ack(struct vcpu *v, uint8_t vector);
/* Take @v's pending NMI (ICR or LVT delivery mode NMI): true once per NMI. */
bool vlapic_take_nmi(struct vcpu *v);
/* Whether an interrupt would end @v's HLT now (@rflags_if: the guest's IF). */
bool vlapic_wakes_hlt(struct vcpu *v, bool rflags_if);
/* TPR (bits 7:0) for CR8/V_TPR: read before entry, written by MOV to CR8. */
uint8_t vlapic_tpr(struct vcpu *v);
void vlapic_set_tpr(struct vcpu *v, uint8_t tpr);
/* Before each entry: re-arm a periodic timer that fired. */
void vlapic_before_entry(struct vcpu *v);

/*
 * INIT and SIPI of a vCPU that is online (for one still offline the
 * sender does everything). vlapic_startup() says what its run loop must do
 * before entering: VLAPIC_RUN as usual; VLAPIC_INIT: it was INITed (reset
 * its registers, then ask again); VLAPIC_SIPI: start in real mode at
 * *@vector << 12; VLAPIC_WAIT: block until a SIPI comes.
 */
enum vlapic_startup { VLAPIC_RUN, VLAPIC_INIT, VLAPIC_SIPI, VLAPIC_WAIT };
enum vlapic_startup vlapic_startup(struct vcpu *v, uint8_t *vector);
/* Still in wait-for-SIPI with nothing to act on (the check after blocking). */
bool vlapic_sipi_waiting(struct vcpu *v);
/* @v got registers to run from (a SIPI or KEEL_HC_VCPU_UP): no longer waiting. */
void vlapic_started(struct vcpu *v);

/*
 * MSRs: IA32_APIC_BASE (false: the write is refused, #GP) and
 * IA32_TSC_DEADLINE (reads 0 unless armed; writes count only in
 * TSC-deadline mode, as on hardware).
 */
uint64_t vlapic_apic_base(struct vcpu *v);
bool vlapic_set_apic_base(struct vcpu *v, uint64_t value);
uint64_t vlapic_tsc_deadline(struct vcpu *v);
void vlapic_set_tsc_deadline(struct vcpu *v, uint64_t tsc);

/*
 * The devices' MMIO pages, @offset into the page (vplatform_mmio
 * dispatches here). Always true: an access to their page is theirs.
 */
bool vlapic_mmio(struct vcpu *v, uint32_t offset, unsigned int size, bool write,
		 uint64_t *value);
bool vioapic_mmio(struct domain *d, uint32_t offset, unsigned int size, bool write,
		  uint64_t *value);
/* Whether an emulated device of @d decodes guest-physical @gpa. */
bool vplatform_claims_mmio(struct domain *d, uint64_t gpa);

int vioapic_create(struct domain *d);
void vioapic_destroy(struct domain *d);

/* The ACPI tables for @d, written into its firmware area (vacpi.c). */
int vacpi_write(struct domain *d);

#endif
