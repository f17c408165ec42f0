/* SPDX-License-Identifier: MIT */
/*
 * x86/acpi.h - what Keel reads from the firmware's ACPI tables.
 *
 * Only discovery: the CPUs and interrupt controllers (MADT) and the HPET.
 * Every table is checked (signature, length, checksum) before it is used.
 */
#ifndef KEEL_X86_ACPI_H
#define KEEL_X86_ACPI_H

#include <keel/types.h>

#define ACPI_MAX_CPUS		64
#define ACPI_MAX_IOAPICS	8

struct acpi_info {
	uint32_t cpu_apic_ids[ACPI_MAX_CPUS];	/* enabled CPUs, MADT order */
	unsigned int cpu_count;
	unsigned int cpus_ignored;		/* beyond ACPI_MAX_CPUS */
	paddr_t lapic_base;
	struct {
		uint32_t id, gsi_base;
		paddr_t base;
	} ioapics[ACPI_MAX_IOAPICS];
	unsigned int ioapic_count;
	paddr_t hpet_base;			/* 0: no HPET table */
	char oem_id[7];
};

/* Map @len bytes of physical memory at @pa; NULL if not possible. Pointers
 * it returns stay valid. */
typedef const void *(*acpi_reader)(uint64_t pa, size_t len);

/*
 * Find the RSDP in the legacy BIOS areas (EBDA, 0xe0000-0xfffff) through
 * @read. Returns its address or 0.
 */
paddr_t acpi_find_rsdp(acpi_reader read);

/*
 * Parse from the RSDP at @rsdp. Returns false (with *why) if the RSDP or the
 * root table is unusable or there is no MADT; a broken optional table is
 * skipped.
 */
bool acpi_parse(paddr_t rsdp, acpi_reader read, struct acpi_info *out,
		const char **why);

#endif
