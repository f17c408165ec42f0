/* SPDX-License-Identifier: MIT */
/* main.c: the pcplat kernel: Keel's emulated PC platform seen from a guest. */
#include "pcplat.h"

/*
 * A Keel-native kernel that checks the devices of docs/platform.md from the
 * inside. Command line: devices=all (the domain has platform = "acpi",
 * "uart", "rtc", "pci") or devices=none (no platform flags: nothing of it
 * may exist). Tests, one result line each:
 *
 *   pcplat-uart      16550A registers, DLAB, FIFOs, loopback, overrun, modem
 *                    lines, interrupt identification, output to the console,
 *                    input from the console queue
 *   pcplat-uart-irq  THRE and received-data interrupts through IOAPIC pin 4
 *   pcplat-rtc       the CMOS clock: sane, advancing, BCD/binary, 12/24 h, set
 *   pcplat-pci       bus 0: exactly the host bridge and Keel's device, their
 *                    ids, class, BAR sizing, capabilities, read-only fields
 *   pcplat-msix      upcalls in KEEL_UPCALL_PLATFORM mode through MSI-X (and
 *                    masked: PBA pending, delivered on unmask), then MSI
 *   pcplat-intx      the same through INTx on GSI 16, level, re-sampled at EOI
 *   pcplat-acpi      RSDP, XSDT, FADT, MADT, DSDT at 0xe0000: checksums,
 *                    flags, one MADT entry per vCPU
 *   pcplat-typed     (typed=1) a line the operator types on Keel's serial
 *                    console, once switched to this domain, arrives in the UART
 *   pcplat-absent    (devices=none) ports read as nothing, no tables
 */
const char test_name[] = "pcplat";

static void ioapic_write(unsigned int reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE, reg);
	mmio_write32(IOAPIC_BASE + 0x10, v);
}

void ioapic_route(unsigned int pin, uint8_t vector, bool level)
{
	uint32_t low = vector | (level ? (1u << 13) | (1u << 15) : 0);	/* fixed, physical */

	ioapic_write(0x11 + 2 * pin, 0);		/* destination APIC 0 */
	ioapic_write(0x10 + 2 * pin, low);
}

void ioapic_mask(unsigned int pin)
{
	ioapic_write(0x10 + 2 * pin, 1u << 16);
}

bool wait_interrupts(uint64_t count, uint64_t timeout_ns)
{
	uint64_t end = kt_now_ns() + timeout_ns;
	bool ok;

	kt_irq_enable();
	while (__atomic_load_n(&kt_upcall_count, __ATOMIC_SEQ_CST) <= count &&
	       kt_now_ns() < end) {
		kt_cpu_relax();
	}
	kt_irq_disable();
	ok = __atomic_load_n(&kt_upcall_count, __ATOMIC_SEQ_CST) > count;
	return ok;
}

void test_main(void)
{
	char devices[16] = "all";

	kt_cmdline_str("devices", devices, sizeof(devices));
	if (kt_strcmp(devices, "none") == 0) {
		test_absent();
		return;
	}
	kt_lapic_enable();
	test_acpi();
	test_uart();
	test_uart_irq();
	test_rtc();
	test_pci();
	test_msix();
	test_intx();
	if (kt_cmdline_u64("typed", 0)) {
		test_uart_typed();
	}
}
