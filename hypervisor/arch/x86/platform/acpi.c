/* SPDX-License-Identifier: MIT */
/* platform/acpi.c - finds and validates ACPI tables; extracts CPUs, IOAPICs, HPET. */
#include <keel/string.h>
#include <x86/acpi.h>

#define SDT_HEADER_LEN	36
#define MAX_TABLE_LEN	(1u << 20)

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool checksum_ok(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++) {
		sum = (uint8_t)(sum + p[i]);
	}
	return sum == 0;
}

static bool rsdp_valid(const uint8_t *p)
{
	return memcmp(p, "RSD PTR ", 8) == 0 && checksum_ok(p, 20);
}

static paddr_t scan(acpi_reader read, paddr_t start, size_t len)
{
	for (paddr_t pa = start; pa + 20 <= start + len; pa += 16) {
		const uint8_t *p = read(pa, 20);

		if (p && rsdp_valid(p)) {
			return pa;
		}
	}
	return 0;
}

paddr_t acpi_find_rsdp(acpi_reader read)
{
	const uint8_t *bda = read(0x40e, 2);
	paddr_t found = 0;

	if (bda) {
		paddr_t ebda = (paddr_t)(bda[0] | bda[1] << 8) << 4;

		if (ebda >= 0x80000 && ebda < 0xa0000) {
			found = scan(read, ebda, 1024);
		}
	}
	return found ? found : scan(read, 0xe0000, 0x20000);
}

/* Map a whole table after checking its header; NULL if it is not sound. */
static const uint8_t *read_table(acpi_reader read, paddr_t pa)
{
	const uint8_t *h = read(pa, SDT_HEADER_LEN);
	uint32_t len;

	if (!h) {
		return NULL;
	}
	len = rd32(h + 4);
	if (len < SDT_HEADER_LEN || len > MAX_TABLE_LEN) {
		return NULL;
	}
	h = read(pa, len);
	return (h && checksum_ok(h, len)) ? h : NULL;
}

static void parse_madt(const uint8_t *t, struct acpi_info *out)
{
	uint32_t len = rd32(t + 4);

	out->lapic_base = rd32(t + 36);
	for (uint32_t off = 44; off + 2 <= len;) {
		uint8_t type = t[off], elen = t[off + 1];
		const uint8_t *e = t + off;
		uint32_t id = UINT32_MAX, flags = 0;

		if (elen < 2 || off + elen > len) {
			break;	/* malformed entry: keep what we have */
		}
		if (type == 0 && elen >= 8) {
			id = e[3];
			flags = rd32(e + 4);
		} else if (type == 9 && elen >= 16) {
			id = rd32(e + 4);
			flags = rd32(e + 8);
		} else if (type == 1 && elen >= 12 && out->ioapic_count < ACPI_MAX_IOAPICS) {
			out->ioapics[out->ioapic_count].id = e[2];
			out->ioapics[out->ioapic_count].base = rd32(e + 4);
			out->ioapics[out->ioapic_count].gsi_base = rd32(e + 8);
			out->ioapic_count++;
		} else if (type == 5 && elen >= 12) {
			out->lapic_base = rd64(e + 4);
		}
		/* Enabled (bit 0) CPUs only; online-capable ones are not hot-plugged. */
		if (id != UINT32_MAX && (flags & 1)) {
			if (out->cpu_count < ACPI_MAX_CPUS) {
				out->cpu_apic_ids[out->cpu_count++] = id;
			} else {
				out->cpus_ignored++;
			}
		}
		off += elen;
	}
}

static void parse_table(const uint8_t *t, struct acpi_info *out, bool *have_madt)
{
	if (memcmp(t, "APIC", 4) == 0 && rd32(t + 4) >= 44) {
		parse_madt(t, out);
		*have_madt = true;
	} else if (memcmp(t, "HPET", 4) == 0 && rd32(t + 4) >= 56 && t[40] == 0) {
		out->hpet_base = rd64(t + 44);	/* system-memory space only */
	}
}

bool acpi_parse(paddr_t rsdp, acpi_reader read, struct acpi_info *out,
		const char **why)
{
	const uint8_t *r = read(rsdp, 36), *root;
	bool xsdt, have_madt = false;
	unsigned int entry_size;
	uint32_t len;

	memset(out, 0, sizeof(*out));
	if (!r || !rsdp_valid(r)) {
		*why = "ACPI RSDP is missing or corrupt";
		return false;
	}
	memcpy(out->oem_id, r + 9, 6);
	xsdt = r[15] >= 2 && rd64(r + 24) != 0 && checksum_ok(r, 36);
	root = read_table(read, xsdt ? rd64(r + 24) : rd32(r + 16));
	if (!root) {
		*why = "ACPI root table (RSDT/XSDT) is missing or corrupt";
		return false;
	}
	entry_size = xsdt ? 8 : 4;
	len = rd32(root + 4);
	for (uint32_t off = SDT_HEADER_LEN; off + entry_size <= len; off += entry_size) {
		paddr_t pa = xsdt ? rd64(root + off) : rd32(root + off);
		const uint8_t *t = read_table(read, pa);

		if (t) {
			parse_table(t, out, &have_madt);
		}
	}
	if (!have_madt || out->cpu_count == 0) {
		*why = "ACPI has no usable MADT (no enabled CPUs listed)";
		return false;
	}
	return true;
}
