/* SPDX-License-Identifier: MIT */
/*
 * x86/vacpi.h - the hardware-reduced ACPI tables of a domain (RSDP, XSDT,
 * FADT, MADT, DSDT), built into a buffer that becomes its firmware area
 * (docs/abi/boot.md "Platform", docs/platform.md). Builds on the host too.
 */
#ifndef KEEL_X86_VACPI_H
#define KEEL_X86_VACPI_H

#include <keel/types.h>

/*
 * The FADT's sleep registers: a guest powers off by writing
 * (VACPI_SLP_TYP_S5 << 2) | VACPI_SLP_EN to the sleep control port (the
 * DSDT's \_S5 package gives the type); the sleep status port reads 0.
 * Emulated by the Linux boot path's power-off port.
 */
#define VACPI_SLEEP_CONTROL_PORT	0x600
#define VACPI_SLEEP_STATUS_PORT		0x601
#define VACPI_SLP_TYP_S5		5
#define VACPI_SLP_EN			0x20

/*
 * The FADT's reset register (RESET_REG_SUP set): writing VACPI_RESET_VALUE
 * to this byte port resets the domain, which Keel treats as a reboot
 * request (KEEL_SHUTDOWN_REBOOT). Next to the sleep registers.
 */
#define VACPI_RESET_PORT		0x602
#define VACPI_RESET_VALUE		0x01

/* CMOS byte of the century (FADT CENTURY), with an RTC. */
#define VACPI_RTC_CENTURY		0x32

struct vacpi_config {
	uint32_t vcpus;			/* 1 .. 255: one MADT entry each, APIC id = index */
	bool uart;			/* COM1 in the DSDT */
	bool rtc;			/* RTC in the DSDT; else FADT says there is no CMOS RTC */
	bool pci;			/* PCI root bridge with Keel's device in the DSDT */
};

/*
 * Write the tables for @c into @buf, which the guest sees at guest-physical
 * @base (the RSDP is at @base). Returns the bytes used, or 0 if @buf is too
 * small or @c is invalid.
 */
size_t vacpi_build(const struct vacpi_config *c, uint64_t base, uint8_t *buf, size_t size);

#endif
