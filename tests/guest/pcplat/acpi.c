/* SPDX-License-Identifier: MIT */
/* acpi.c: the ACPI tables at 0xe0000 as a guest's OS finds them, and a domain without a platform. */
#include "pcplat.h"

#define RSDP_GPA	0xe0000ull

static uint64_t le(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

static bool sums_to_zero(const uint8_t *p, uint64_t n)
{
	uint8_t s = 0;

	for (uint64_t i = 0; i < n; i++) {
		s = (uint8_t)(s + p[i]);
	}
	return s == 0;
}

/* A table the OS would accept at @gpa: signature and checksum. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = KT_PTR(gpa);
	bool ok = gpa >= RSDP_GPA && gpa < RSDP_GPA + 0x20000 && memcmp(t, sig, 4) == 0;

	kt_check(ok, "table signature", "%s at %#llx", sig, (unsigned long long)gpa);
	if (!ok) {
		return NULL;
	}
	kt_check(sums_to_zero(t, le(t + 4, 4)), "table checksum", "%s", sig);
	return t;
}

static bool contains(const uint8_t *t, const char *what)
{
	uint64_t len = le(t + 4, 4), n = kt_strlen(what);

	for (uint64_t i = 36; i + n <= len; i++) {
		if (memcmp((t + i), what, n) == 0) {
			return true;
		}
	}
	return false;
}

static void madt(const uint8_t *m)
{
	uint64_t len = le(m + 4, 4);
	uint32_t lapics = 0, ioapics = 0, nmis = 0;
	bool ids = true;

	kt_check_eq("MADT revision 5", m[8], 5);
	kt_check_eq("MADT local APIC address", le(m + 36, 4), 0xfee00000u);
	kt_check_eq("MADT flags: no PC-AT 8259s", le(m + 40, 4), 0);
	for (uint64_t off = 44; off + 2 <= len && m[off + 1] >= 2; off += m[off + 1]) {
		if (m[off] == 0) {
			ids &= m[off + 3] == lapics && (le(m + off + 4, 4) & 1);
			lapics++;
		} else if (m[off] == 1) {
			ioapics++;
			kt_check_eq("IOAPIC at 0xfec00000", le(m + off + 4, 4), 0xfec00000u);
			kt_check_eq("IOAPIC GSI base 0", le(m + off + 8, 4), 0);
		} else if (m[off] == 4) {
			nmis++;
			kt_check(m[off + 2] == 0xff && m[off + 5] == 1, "NMI on LINT1 of every CPU",
				 "uid %#x lint %u", m[off + 2], m[off + 5]);
		}
	}
	kt_check_eq("one local APIC per vCPU", lapics, kt_boot.nr_vcpus);
	kt_check(ids, "APIC id = vCPU index, enabled", "no");
	kt_check_eq("one IOAPIC", ioapics, 1);
	kt_check_eq("one NMI entry", nmis, 1);
}

void test_acpi(void)
{
	const uint8_t *r = KT_PTR(RSDP_GPA), *x, *f = NULL, *m = NULL, *d;

	kt_group_begin("pcplat-acpi");
	if (!kt_check(memcmp(r, "RSD PTR ", 8) == 0, "RSDP at 0xe0000", "no")) {
		kt_group_end();
		return;
	}
	kt_check_eq("VGA memory reads as nothing", mmio_read32(0xa0000), 0xffffffffu);
	kt_check_eq("the option ROM area holds no ROM", mmio_read32(0xc0000), 0);
	kt_check(sums_to_zero(r, 20), "RSDP checksum", "bad");
	kt_check(sums_to_zero(r, 36), "RSDP extended checksum", "bad");
	kt_check_eq("RSDP revision 2", r[15], 2);
	x = table(le(r + 24, 8), "XSDT");
	for (uint64_t off = 36; x && off + 8 <= le(x + 4, 4); off += 8) {
		const uint8_t *t = KT_PTR(le(x + off, 8));

		if (memcmp(t, "FACP", 4) == 0) {
			f = table(le(x + off, 8), "FACP");
		} else if (memcmp(t, "APIC", 4) == 0) {
			m = table(le(x + off, 8), "APIC");
		}
	}
	if (!kt_check(f && m, "the XSDT lists the FADT and the MADT", "no")) {
		kt_group_end();
		return;
	}
	kt_check_eq("FADT revision 6", f[8], 6);
	kt_check(le(f + 112, 4) & (1u << 20), "FADT: hardware-reduced", "flags %#llx",
		 (unsigned long long)le(f + 112, 4));
	kt_check_eq("FADT boot flags: no VGA, no 8042, an RTC", le(f + 109, 2), 0x4);
	kt_check(memcmp((f + 268), "KEEL", 4) == 0, "FADT: hypervisor KEEL", "no");
	madt(m);
	d = table(le(f + 140, 8), "DSDT");
	if (d) {
		kt_check(contains(d, "COM1") && contains(d, "PCI0") && contains(d, "RTC_") &&
			 contains(d, "_PRT") && contains(d, "_S5_"), "the DSDT names its devices",
			 "no");
	}
	kt_group_end();
}

void test_absent(void)
{
	bool ones = true;

	kt_group_begin("pcplat-absent");
	for (uint16_t p = COM1; p < COM1 + 8; p++) {
		ones &= inb(p) == 0xff;
	}
	kt_check(ones, "no UART: 0x3f8..0x3ff read 0xff", "no");
	outb(0x70, 0);
	kt_check_eq("no RTC: 0x71 reads 0xff", inb(0x71), 0xff);
	outl(0xcf8, 0x80000000u);
	kt_check_eq("no PCI: 0xcf8 reads all ones", inl(0xcf8), 0xffffffffu);
	kt_check_eq("no PCI: 0xcfc reads all ones", inl(0xcfc), 0xffffffffu);
	kt_check_eq("port 0x42 (no PIT) reads 0", inb(0x42), 0);
	kt_check(!kt_is_ram(RSDP_GPA, 1), "no firmware area in the memory map", "it is RAM");
	kt_check(!(kt_boot.features[0] & KEEL_F0_UPCALL_PLATFORM), "no UPCALL_PLATFORM feature",
		 "%#x", kt_boot.features[0]);
	kt_check_rc("SET_UPCALL PLATFORM without the device",
		    kt_set_upcall(0, KEEL_UPCALL_PLATFORM, 0), -KEEL_EOPNOTSUPP);
	kt_group_end();
}
