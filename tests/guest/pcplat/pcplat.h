/* SPDX-License-Identifier: MIT */
/* pcplat.h: what the pcplat kernel's tests share: port I/O, PCI configuration, the IOAPIC. */
#ifndef PCPLAT_H
#define PCPLAT_H

#include "keeltest64.h"

#define COM1			0x3f8
#define IOAPIC_BASE		0xfec00000ull
#define WAIT_NS			(2 * KT_NS_PER_S)	/* for anything that should happen at once */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read32(uint64_t gpa)
{
	return *(volatile uint32_t *)KT_PTR(gpa);
}

static inline void mmio_write32(uint64_t gpa, uint32_t v)
{
	*(volatile uint32_t *)KT_PTR(gpa) = v;
}

/* PCI configuration mechanism #1 (pci.c). */
uint32_t pci_read32(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg);
uint16_t pci_read16(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg);
uint8_t pci_read8(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg);
void pci_write32(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg,
		 uint32_t v);
void pci_write16(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg,
		 uint16_t v);

/* IOAPIC pin @pin to @vector on APIC 0 (level: level-triggered, active low), or masked. */
void ioapic_route(unsigned int pin, uint8_t vector, bool level);
void ioapic_mask(unsigned int pin);

/* Wait until kt_upcall_count passes @count (interrupts on meanwhile); false on timeout. */
bool wait_interrupts(uint64_t count, uint64_t timeout_ns);

/* The tests (one result line each). */
void test_uart(void);
void test_uart_irq(void);
void test_uart_typed(void);
void test_rtc(void);
void test_pci(void);
void test_msix(void);
void test_intx(void);
void test_acpi(void);
void test_absent(void);

#endif
