/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vioapic.c - the domain's IOAPIC (82093AA-style, version 0x11,
 * 24 pins) at 0xfec00000: IOREGSEL/IOWIN, the ID, version and arbitration
 * registers, the redirection table, and the pins' edge and level logic.
 *
 * Callers pass a pin's logical state (asserted or not); the polarity bit
 * is kept for the guest to read but the devices behind the pins already
 * speak in assertions. An edge pin fires when it goes from deasserted to
 * asserted while unmasked (an edge while masked is lost, as on hardware).
 * A level pin fires while asserted, unmasked and without remote IRR; the
 * local APIC's EOI of its vector clears remote IRR, and a pin still
 * asserted then fires again. ExtINT, SMI and INIT entries deliver nothing:
 * there is no 8259 and no SMM.
 *
 * Lock order: a device's lock, then this one, then local APIC locks.
 */
#include <keel/heap.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <x86/vdevices.h>
#include <x86/vplatform.h>

#define IOAPIC_VERSION_VALUE	(0x11u | ((VIOAPIC_PINS - 1u) << 16))
#define REG_ID			0x00
#define REG_VERSION		0x01
#define REG_ARBITRATION		0x02
#define REG_RTE_FIRST		0x10
#define MMIO_IOREGSEL		0x00
#define MMIO_IOWIN		0x10

#define RTE_VECTOR		0xffull
#define RTE_DM_SHIFT		8
#define RTE_LOGICAL		(1ull << 11)
#define RTE_REMOTE_IRR		(1ull << 14)
#define RTE_LEVEL		(1ull << 15)
#define RTE_MASKED		(1ull << 16)
#define RTE_WRITABLE		(0x1afffull | (0xffull << 56))	/* all but status and remote IRR */
#define DM_FIXED		0u
#define DM_LOWEST		1u
#define DM_NMI			4u

struct vioapic {
	struct spinlock lock;
	struct domain *d;		/* (c) */
	uint32_t ioregsel;		/* [lock] */
	uint32_t id;			/* [lock] bits 27:24 */
	uint64_t rte[VIOAPIC_PINS];	/* [lock] */
	uint32_t asserted;		/* [lock] one bit per pin */
};

static struct vioapic *ioapic_of(struct domain *d)
{
	return vplatform_of(d)->ioapic;
}

/* Send pin @pin's interrupt if its state says so; [lock] held. */
static void service_locked(struct vioapic *io, unsigned int pin)
{
	uint64_t rte = io->rte[pin];
	unsigned int mode = (rte >> RTE_DM_SHIFT) & 7;
	bool level = rte & RTE_LEVEL;

	if ((rte & RTE_MASKED) || !(io->asserted & (1u << pin)) ||
	    (level && (rte & RTE_REMOTE_IRR))) {
		return;
	}
	if (mode != DM_FIXED && mode != DM_LOWEST && mode != DM_NMI) {
		return;
	}
	if (vlapic_deliver(io->d, (uint8_t)(rte >> 56), rte & RTE_LOGICAL, mode,
			   (uint8_t)(rte & RTE_VECTOR), level) &&
	    level && mode != DM_NMI) {
		io->rte[pin] |= RTE_REMOTE_IRR;	/* until the EOI */
	}
}

void vioapic_set_irq(struct domain *d, unsigned int gsi, bool level)
{
	struct vioapic *io = ioapic_of(d);
	unsigned long flags;
	bool rising;

	if (!io || gsi >= VIOAPIC_PINS) {
		return;
	}
	flags = spin_lock_irqsave(&io->lock);
	rising = level && !(io->asserted & (1u << gsi));
	if (level) {
		io->asserted |= 1u << gsi;
	} else {
		io->asserted &= ~(1u << gsi);
	}
	if (rising || (level && (io->rte[gsi] & RTE_LEVEL))) {
		service_locked(io, gsi);
	}
	spin_unlock_irqrestore(&io->lock, flags);
}

void vioapic_eoi(struct domain *d, uint8_t vector)
{
	struct vioapic *io = ioapic_of(d);
	unsigned long flags;

	if (!io) {
		return;
	}
	flags = spin_lock_irqsave(&io->lock);
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t rte = io->rte[pin];

		if (!(rte & RTE_LEVEL) || !(rte & RTE_REMOTE_IRR) || (rte & RTE_VECTOR) != vector) {
			continue;
		}
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		/* The platform device's line follows a flag the guest clears without an exit. */
		if (pin == VPLATFORM_GSI_PCI && vplatform_of(d)->pci) {
			if (vpci_intx_level(d)) {
				io->asserted |= 1u << pin;
			} else {
				io->asserted &= ~(1u << pin);
			}
		}
		service_locked(io, pin);
	}
	spin_unlock_irqrestore(&io->lock, flags);
}

static uint32_t read_reg_locked(struct vioapic *io, uint32_t index)
{
	if (index >= REG_RTE_FIRST && index < REG_RTE_FIRST + 2 * VIOAPIC_PINS) {
		uint64_t rte = io->rte[(index - REG_RTE_FIRST) / 2];

		return (index & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	switch (index) {
	case REG_ID:
		return io->id;
	case REG_VERSION:
		return IOAPIC_VERSION_VALUE;
	case REG_ARBITRATION:
		return io->id;	/* the arbitration id is the APIC id */
	default:
		return 0;	/* no such register */
	}
}

static void write_reg_locked(struct vioapic *io, uint32_t index, uint32_t value)
{
	unsigned int pin;
	uint64_t keep, rte;

	if (index == REG_ID) {
		io->id = value & 0x0f000000u;
		return;
	}
	if (index < REG_RTE_FIRST || index >= REG_RTE_FIRST + 2 * VIOAPIC_PINS) {
		return;	/* version, arbitration: read-only; others do not exist */
	}
	pin = (index - REG_RTE_FIRST) / 2;
	rte = io->rte[pin];
	if (index & 1) {
		rte = (rte & 0xffffffffull) | ((uint64_t)value << 32);
	} else {
		rte = (rte & ~0xffffffffull) | value;
	}
	keep = io->rte[pin] & RTE_REMOTE_IRR;
	if (!(rte & RTE_LEVEL)) {
		keep = 0;	/* an edge pin has no remote IRR */
	}
	io->rte[pin] = (rte & RTE_WRITABLE) | keep;
	/* Unmasking an asserted level pin delivers it now. */
	if (io->rte[pin] & RTE_LEVEL) {
		service_locked(io, pin);
	}
}

bool vioapic_mmio(struct domain *d, uint32_t offset, unsigned int size, bool write,
		  uint64_t *value)
{
	struct vioapic *io = ioapic_of(d);
	uint64_t mask = size >= 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
	unsigned long flags;

	if (!io) {
		return false;
	}
	offset &= 0xfff;
	flags = spin_lock_irqsave(&io->lock);
	if (!write) {
		uint32_t reg = 0;

		if (offset == MMIO_IOREGSEL) {
			reg = io->ioregsel;
		} else if (offset == MMIO_IOWIN) {
			reg = read_reg_locked(io, io->ioregsel);
		}
		*value = reg & mask;	/* other offsets and the upper half of 8 bytes: zero */
	} else if (size == 4 && offset == MMIO_IOREGSEL) {
		io->ioregsel = (uint32_t)*value & 0xff;
	} else if (size == 4 && offset == MMIO_IOWIN) {
		write_reg_locked(io, io->ioregsel, (uint32_t)*value);
	}
	/* Other writes (sizes, offsets) change nothing: the chip decodes only those two. */
	spin_unlock_irqrestore(&io->lock, flags);
	return true;
}

int vioapic_create(struct domain *d)
{
	struct vioapic *io;

	if (!(d->platform & KEEL_DOMCREATE_F_ACPI)) {
		return 0;
	}
	io = heap_alloc(sizeof(*io));
	if (!io) {
		return -KEEL_ENOMEM;
	}
	memset(io, 0, sizeof(*io));
	io->lock = (struct spinlock)SPINLOCK_INIT;
	io->d = d;
	for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
		io->rte[pin] = RTE_MASKED;
	}
	vplatform_of(d)->ioapic = io;
	return 0;
}

void vioapic_destroy(struct domain *d)
{
	struct vplatform *p = vplatform_of(d);

	heap_free(p->ioapic);
	p->ioapic = NULL;
}
