/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/x86/vacpi_dump.c - builds a domain's ACPI tables on the host
 * (vplatform/vacpi.c) for one configuration, checks their structure and
 * checksums by following RSDP -> XSDT -> FADT/MADT -> DSDT as a guest
 * would, and writes each table to DIR/NAME-<sig>.dat for iasl -d
 * (tests/unit/x86/check_vacpi.sh).
 *
 * usage: vacpi-dump DIR NAME VCPUS [uart] [rtc] [pci]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86/vacpi.h>

#define BASE		0xe0000u
#define AREA		0x20000u

static uint8_t area[AREA];
static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "vacpi-dump: FAILED: %s\n", what);
		failures++;
	}
}

static uint64_t rd(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--) {
		s = (uint8_t)(s + *p++);
	}
	return s;
}

/* The table at guest-physical @gpa, checked; NULL if it is not in the area. */
static const uint8_t *table(uint64_t gpa, const char *sig, size_t used)
{
	const uint8_t *t;
	uint32_t len;

	if (gpa < BASE || gpa - BASE + 36 > used) {
		check(0, sig);
		return NULL;
	}
	t = area + (gpa - BASE);
	len = (uint32_t)rd(t + 4, 4);
	check(memcmp(t, sig, 4) == 0, "signature");
	check(gpa - BASE + len <= used, "length within the area");
	check(sum(t, len) == 0, "table checksum");
	return t;
}

static void write_file(const char *dir, const char *name, const char *sig, const uint8_t *t,
		       size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s.dat", dir, name, sig);
	f = fopen(path, "wb");
	if (!f || fwrite(t, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "vacpi-dump: cannot write %s\n", path);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct vacpi_config c = { 0 };
	const uint8_t *xsdt, *fadt = NULL, *madt = NULL, *dsdt;
	size_t used;
	unsigned int lapics = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: vacpi-dump DIR NAME VCPUS [uart] [rtc] [pci]\n");
		return 2;
	}
	c.vcpus = (uint32_t)strtoul(argv[3], NULL, 0);
	for (int i = 4; i < argc; i++) {
		c.uart |= strcmp(argv[i], "uart") == 0;
		c.rtc |= strcmp(argv[i], "rtc") == 0;
		c.pci |= strcmp(argv[i], "pci") == 0;
	}
	memset(area, 0xa5, sizeof(area));	/* whatever was there: the builder must write all it uses */
	used = vacpi_build(&c, BASE, area, sizeof(area));
	if (!used) {
		fprintf(stderr, "vacpi-dump: vacpi_build refused the configuration\n");
		return 1;
	}
	/* RSDP: both checksums, revision 2, the XSDT. */
	check(memcmp(area, "RSD PTR ", 8) == 0, "RSDP signature");
	check(sum(area, 20) == 0, "RSDP 1.0 checksum");
	check(sum(area, 36) == 0, "RSDP extended checksum");
	check(area[15] == 2 && rd(area + 20, 4) == 36, "RSDP revision 2, length 36");
	write_file(argv[1], argv[2], "rsdp", area, 36);
	xsdt = table(rd(area + 24, 8), "XSDT", used);
	if (!xsdt) {
		return 1;
	}
	write_file(argv[1], argv[2], "xsdt", xsdt, rd(xsdt + 4, 4));
	for (uint32_t off = 36; off + 8 <= rd(xsdt + 4, 4); off += 8) {
		uint64_t gpa = rd(xsdt + off, 8);
		const uint8_t *t = gpa >= BASE && gpa - BASE < used ? area + (gpa - BASE) : NULL;

		if (t && memcmp(t, "FACP", 4) == 0) {
			fadt = table(gpa, "FACP", used);
		} else if (t && memcmp(t, "APIC", 4) == 0) {
			madt = table(gpa, "APIC", used);
		} else {
			check(0, "XSDT entry is the FADT or the MADT");
		}
	}
	if (!fadt || !madt) {
		check(0, "FADT and MADT present");
		return 1;
	}
	check(rd(fadt + 4, 4) == 276 && fadt[8] == 6, "FADT revision 6, 276 bytes");
	check(rd(fadt + 112, 4) & (1u << 20), "FADT HW_REDUCED_ACPI");
	check((rd(fadt + 109, 2) & 0x3) == 0 && (rd(fadt + 109, 2) & 0x4), "no 8042, no VGA");
	check(!!(rd(fadt + 109, 2) & 0x20) == !c.rtc, "CMOS RTC flag matches");
	check(memcmp(fadt + 268, "KEEL", 4) == 0, "hypervisor vendor identity");
	check(rd(fadt + 40, 4) == rd(fadt + 140, 8), "DSDT and X_DSDT agree");
	write_file(argv[1], argv[2], "facp", fadt, 276);
	/* MADT: one enabled LAPIC per vCPU with APIC id = index, the IOAPIC, LINT1 NMI. */
	check(madt[8] == 5 && rd(madt + 36, 4) == 0xfee00000u && rd(madt + 40, 4) == 0,
	      "MADT revision 5, LAPIC address, no PC-AT flag");
	for (uint32_t off = 44; off + 2 <= rd(madt + 4, 4) && madt[off + 1]; off += madt[off + 1]) {
		if (madt[off] == 0) {
			check(madt[off + 3] == lapics && (rd(madt + off + 4, 4) & 1), "LAPIC entry");
			lapics++;
		} else if (madt[off] == 1) {
			check(madt[off + 2] == 0 && rd(madt + off + 4, 4) == 0xfec00000u &&
			      rd(madt + off + 8, 4) == 0, "IOAPIC entry");
		} else if (madt[off] == 4) {
			check(madt[off + 2] == 0xff && madt[off + 5] == 1, "LAPIC NMI entry");
		}
	}
	check(lapics == c.vcpus, "one LAPIC entry per vCPU");
	write_file(argv[1], argv[2], "apic", madt, rd(madt + 4, 4));
	dsdt = table(rd(fadt + 140, 8), "DSDT", used);
	if (dsdt) {
		write_file(argv[1], argv[2], "dsdt", dsdt, rd(dsdt + 4, 4));
	}
	printf("vacpi-dump: %s: %zu bytes, %u vCPU(s)%s%s%s: %s\n", argv[2], used, c.vcpus,
	       c.uart ? " uart" : "", c.rtc ? " rtc" : "", c.pci ? " pci" : "",
	       failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
