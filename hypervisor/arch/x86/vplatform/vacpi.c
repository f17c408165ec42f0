/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vacpi.c - the ACPI tables of a domain: RSDP (revision 2), XSDT,
 * FADT (revision 6, hardware-reduced), MADT (revision 5) and a DSDT whose
 * AML describes the emulated devices. Contents follow docs/abi/boot.md
 * "Platform" and the measurements of a stock Linux 6.1 guest in
 * ../shared/research/linux-guest-platform.md §6.3: COM1 must be in the
 * DSDT (hardware-reduced ACPI has no ISA interrupt mapping), the MADT has
 * no PC-AT compatibility flag (there is no 8259).
 */
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <x86/aml.h>
#include <x86/vacpi.h>

#define HEADER_SIZE		36
#define RSDP_SIZE		36
#define FADT_SIZE		276	/* revision 6 */
#define TABLE_ALIGN		16
#define DSDT_MAX		2048

#define OEM_ID			"KEEL  "
#define OEM_TABLE_ID		"KEELVM  "
#define CREATOR_ID		"KEEL"

/* FADT fields (ACPI 6.x, 5.2.9), offsets from the table's start. */
#define FADT_DSDT		40
#define FADT_CENTURY		108
#define FADT_BOOT_ARCH		109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR		131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL	244
#define FADT_SLEEP_STATUS	256
#define FADT_HYPERVISOR_ID	268
#define BOOT_ARCH_NO_VGA	(1u << 2)
#define BOOT_ARCH_NO_CMOS_RTC	(1u << 5)
#define FLAG_RESET_REG_SUP	(1u << 10)
#define FLAG_HW_REDUCED		(1u << 20)
#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

/* MADT entries. */
#define MADT_LOCAL_APIC		0
#define MADT_IOAPIC		1
#define MADT_LAPIC_NMI		4
#define LAPIC_ENABLED		1
#define NMI_ALL_CPUS		0xff
#define IOAPIC_ID		0

/* The PCI device of Keel's platform device and its _PRT address (device << 16 | 0xffff). */
#define PRT_ADDRESS		(((uint32_t)(KEEL_PCI_PLATFORM_DEVFN >> 3) << 16) | 0xffff)
#define PCI_GSI			16

static void le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		sum = (uint8_t)(sum + p[i]);
	}
	return (uint8_t)-sum;
}

/* The common header; the checksum is set by seal() once the body is there. */
static void header(uint8_t *t, const char *sig, uint32_t length, uint8_t revision)
{
	memcpy(t, sig, 4);
	le(t + 4, length, 4);
	t[8] = revision;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	le(t + 24, 1, 4);		/* OEM revision */
	memcpy(t + 28, CREATOR_ID, 4);
	le(t + 32, 1, 4);		/* creator revision */
}

static void seal(uint8_t *t)
{
	uint32_t length = (uint32_t)(t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24);

	t[9] = 0;
	t[9] = checksum(t, length);
}

static void gas_io_byte(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;			/* register width in bits */
	g[2] = 0;
	g[3] = GAS_ACCESS_BYTE;
	le(g + 4, port, 8);
}

static size_t build_fadt(const struct vacpi_config *c, uint8_t *t, uint64_t dsdt)
{
	uint16_t boot_arch = BOOT_ARCH_NO_VGA;	/* and no 8042, no legacy ISA devices */

	header(t, "FACP", FADT_SIZE, 6);
	le(t + FADT_DSDT, dsdt, 4);
	le(t + FADT_X_DSDT, dsdt, 8);
	if (c->rtc) {
		t[FADT_CENTURY] = VACPI_RTC_CENTURY;
	} else {
		boot_arch |= BOOT_ARCH_NO_CMOS_RTC;
	}
	le(t + FADT_BOOT_ARCH, boot_arch, 2);
	/* No SCI, no PM blocks, no GPEs, no PM timer, no FACS: none exist. */
	le(t + FADT_FLAGS, FLAG_HW_REDUCED | FLAG_RESET_REG_SUP, 4);
	/* How a stock kernel reboots first (its ACPI reset), vplatform/vsleep.c. */
	gas_io_byte(t + FADT_RESET_REG, VACPI_RESET_PORT);
	t[FADT_RESET_VALUE] = VACPI_RESET_VALUE;
	t[FADT_MINOR] = 0;
	gas_io_byte(t + FADT_SLEEP_CONTROL, VACPI_SLEEP_CONTROL_PORT);
	gas_io_byte(t + FADT_SLEEP_STATUS, VACPI_SLEEP_STATUS_PORT);
	memcpy(t + FADT_HYPERVISOR_ID, "KEEL\0\0\0\0", 8);
	seal(t);
	return FADT_SIZE;
}

static size_t build_madt(const struct vacpi_config *c, uint8_t *t)
{
	size_t n = HEADER_SIZE;

	le(t + n, KEEL_X86_GPA_LAPIC, 4);
	le(t + n + 4, 0, 4);		/* flags: no PC-AT dual 8259 */
	n += 8;
	for (uint32_t i = 0; i < c->vcpus; i++) {
		t[n] = MADT_LOCAL_APIC;
		t[n + 1] = 8;
		t[n + 2] = (uint8_t)i;	/* processor UID */
		t[n + 3] = (uint8_t)i;	/* APIC id = vCPU index */
		le(t + n + 4, LAPIC_ENABLED, 4);
		n += 8;
	}
	t[n] = MADT_IOAPIC;
	t[n + 1] = 12;
	t[n + 2] = IOAPIC_ID;
	t[n + 3] = 0;
	le(t + n + 4, KEEL_X86_GPA_IOAPIC, 4);
	le(t + n + 8, 0, 4);		/* GSI base */
	n += 12;
	t[n] = MADT_LAPIC_NMI;
	t[n + 1] = 6;
	t[n + 2] = NMI_ALL_CPUS;
	le(t + n + 3, 0, 2);		/* flags: conforming polarity and trigger */
	t[n + 5] = 1;			/* LINT1 */
	n += 6;
	header(t, "APIC", (uint32_t)n, 5);
	seal(t);
	return n;
}

static void dsdt_uart(struct aml *a)
{
	aml_device(a, "COM1");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_io(a, KEEL_X86_UART_PORT, 8);
	aml_irq_noflags(a, KEEL_X86_UART_GSI);
	aml_end_tag(a);
	aml_end(a);
	aml_end(a);
}

/* No interrupt: the RTC raises none (docs/platform.md). */
static void dsdt_rtc(struct aml *a)
{
	aml_device(a, "RTC");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_io(a, 0x70, 2);
	aml_end_tag(a);
	aml_end(a);
	aml_end(a);
}

static void dsdt_pci(struct aml *a)
{
	aml_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	aml_buffer(a);
	aml_word_bus_number(a, 0, 0);
	aml_io(a, 0xcf8, 8);
	aml_dword_memory(a, KEEL_X86_GPA_PCI_MMIO,
			 KEEL_X86_GPA_PCI_MMIO + KEEL_X86_GPA_PCI_MMIO_SIZE - 1, false);
	aml_qword_memory(a, KEEL_X86_GPA_MAP_WINDOW,
			 (uint64_t)KEEL_X86_GPA_MAP_WINDOW + KEEL_X86_GPA_MAP_WINDOW_SIZE - 1, true);
	aml_end_tag(a);
	aml_end(a);
	/*
	 * Pin A of device 1 to GSI 16. An entry whose source is 0 names a
	 * global interrupt, which is level-triggered and active-low.
	 */
	aml_name(a, "_PRT");
	aml_package(a, 1);
	aml_package(a, 4);
	aml_integer(a, PRT_ADDRESS);
	aml_integer(a, 0);		/* pin A */
	aml_integer(a, 0);		/* source: none */
	aml_integer(a, PCI_GSI);
	aml_end(a);
	aml_end(a);
	aml_end(a);
}

static size_t build_dsdt(const struct vacpi_config *c, uint8_t *t, size_t room)
{
	struct aml a;
	size_t len;

	if (room < HEADER_SIZE) {
		return 0;
	}
	aml_init(&a, t + HEADER_SIZE, room - HEADER_SIZE);
	aml_scope(&a, "\\_SB");
	if (c->uart) {
		dsdt_uart(&a);
	}
	if (c->rtc) {
		dsdt_rtc(&a);
	}
	if (c->pci) {
		dsdt_pci(&a);
	}
	aml_end(&a);
	/* S5 (soft off) for the FADT's sleep control register: SLP_TYPa, SLP_TYPb. */
	aml_name(&a, "\\_S5");
	aml_package(&a, 2);
	aml_integer(&a, VACPI_SLP_TYP_S5);
	aml_integer(&a, VACPI_SLP_TYP_S5);
	aml_end(&a);
	len = aml_finish(&a);
	if (!len) {
		return 0;
	}
	header(t, "DSDT", (uint32_t)(HEADER_SIZE + len), 2);	/* 2: 64-bit integers */
	seal(t);
	return HEADER_SIZE + len;
}

static size_t build_xsdt(uint8_t *t, uint64_t fadt, uint64_t madt)
{
	size_t n = HEADER_SIZE + 16;

	le(t + HEADER_SIZE, fadt, 8);
	le(t + HEADER_SIZE + 8, madt, 8);
	header(t, "XSDT", (uint32_t)n, 1);
	seal(t);
	return n;
}

static void build_rsdp(uint8_t *t, uint64_t xsdt)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2;			/* revision: ACPI 2.0 and later, with the XSDT */
	le(t + 16, 0, 4);		/* no RSDT */
	le(t + 20, RSDP_SIZE, 4);
	le(t + 24, xsdt, 8);
	t[8] = checksum(t, 20);		/* the ACPI 1.0 part */
	t[32] = checksum(t, RSDP_SIZE);	/* all of it */
}

static size_t align_up(size_t n)
{
	return (n + TABLE_ALIGN - 1) & ~(size_t)(TABLE_ALIGN - 1);
}

size_t vacpi_build(const struct vacpi_config *c, uint64_t base, uint8_t *buf, size_t size)
{
	size_t rsdp = 0, xsdt = align_up(RSDP_SIZE), fadt = align_up(xsdt + HEADER_SIZE + 16);
	size_t madt = align_up(fadt + FADT_SIZE);
	size_t madt_len = HEADER_SIZE + 8 + 8 * (size_t)c->vcpus + 12 + 6;
	size_t dsdt = align_up(madt + madt_len), dsdt_len;

	if (c->vcpus == 0 || c->vcpus > 255 || dsdt + DSDT_MAX > size) {
		return 0;
	}
	memset(buf, 0, dsdt + DSDT_MAX);
	dsdt_len = build_dsdt(c, buf + dsdt, DSDT_MAX);
	if (!dsdt_len) {
		return 0;
	}
	build_fadt(c, buf + fadt, base + dsdt);
	build_madt(c, buf + madt);
	build_xsdt(buf + xsdt, base + fadt, base + madt);
	build_rsdp(buf + rsdp, base + xsdt);
	return dsdt + dsdt_len;
}
