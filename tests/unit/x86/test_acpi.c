/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/x86/test_acpi.c - unit tests for arch/x86/platform/acpi.c.
 *
 * Synthetic ACPI tables (ACPI 6.5: RSDP 5.2.5, RSDT/XSDT 5.2.7-8, MADT
 * 5.2.12, and the HPET table) with correct checksums are written into fake
 * RAM and read through fake_phys_read()'s exactly-sized copies.
 */
#include <x86/acpi.h>
#include "fake_arch.h"
#include "unit.h"

#define RSDP_PA		0xe0010u
#define MADT_PA		0x200000u
#define HPET_A_PA	0x201000u
#define HPET_B_PA	0x201100u
#define RSDT_PA		0x202000u
#define XSDT_PA		0x203000u
#define TABLE_MAX	4096

struct table {
	uint8_t b[TABLE_MAX];
	uint32_t len;
};

static struct table madt;
static struct acpi_info info;
static const char *why;

static void setup(void)
{
	fake_arch_reset();
	fake_ram_reset();
	memset(&info, 0xa5, sizeof(info));	/* the parser must clear it */
	why = NULL;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--) {
		s = (uint8_t)(s + *p++);
	}
	return s;
}

static void sdt_begin(struct table *t, const char *signature)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, signature, 4);
	t->b[8] = 1;				/* revision */
	memcpy(t->b + 10, "KEELTS", 6);		/* OEM ID */
	t->len = 36;
}

static void sdt_add(struct table *t, const void *p, size_t n)
{
	memcpy(t->b + t->len, p, n);
	t->len += (uint32_t)n;
}

static void sdt_add32(struct table *t, uint32_t v)
{
	uint8_t b[4];

	put32(b, v);
	sdt_add(t, b, 4);
}

static void sdt_add64(struct table *t, uint64_t v)
{
	uint8_t b[8];

	put64(b, v);
	sdt_add(t, b, 8);
}

/* Fix length and checksum, write to fake RAM at @pa. */
static void sdt_store(struct table *t, paddr_t pa)
{
	put32(t->b + 4, t->len);
	t->b[9] = 0;
	t->b[9] = (uint8_t)-sum(t->b, t->len);
	memcpy(arch_phys_to_virt(pa), t->b, t->len);
}

static void madt_lapic(uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, apic_id };

	put32(e + 4, flags);
	sdt_add(&madt, e, sizeof(e));
}

static void madt_x2apic(uint32_t id, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };

	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, 7);			/* processor UID */
	sdt_add(&madt, e, sizeof(e));
}

static void madt_ioapic(uint8_t id, uint32_t base, uint32_t gsi_base)
{
	uint8_t e[12] = { 1, 12, id };

	put32(e + 4, base);
	put32(e + 8, gsi_base);
	sdt_add(&madt, e, sizeof(e));
}

static void madt_begin(void)
{
	sdt_begin(&madt, "APIC");
	sdt_add32(&madt, 0xfee00000);		/* local APIC address */
	sdt_add32(&madt, 1);			/* flags: PC-AT compatible */
}

/* The standard MADT: 3 enabled CPUs of 5, one IOAPIC, an address override. */
static void standard_madt(void)
{
	const uint8_t iso[10] = { 2, 10, 0, 0, 2 };	/* interrupt source override */
	uint8_t lapic_override[12] = { 5, 12 };

	madt_begin();
	madt_lapic(0, 0, 1);
	madt_lapic(1, 1, 0);			/* disabled */
	madt_lapic(2, 4, 1);
	madt_ioapic(2, 0xfec00000, 0);
	sdt_add(&madt, iso, sizeof(iso));
	madt_x2apic(0x100, 1);
	madt_x2apic(0x101, 2);			/* online-capable only */
	put64(lapic_override + 4, 0xfee10000);
	sdt_add(&madt, lapic_override, sizeof(lapic_override));
}

static void store_hpet(paddr_t pa, uint64_t base, uint8_t space)
{
	struct table t;
	uint8_t gas[12] = { space, 64, 0, 0 };

	sdt_begin(&t, "HPET");
	sdt_add32(&t, 0x8086a201);		/* event timer block ID */
	put64(gas + 4, base);
	sdt_add(&t, gas, sizeof(gas));
	sdt_add(&t, "\0\x80\0\0", 4);		/* number, minimum tick, protection */
	sdt_store(&t, pa);
}

static void store_root(const char *signature, paddr_t pa, const uint64_t *entries,
		       unsigned int n, unsigned int entry_size)
{
	struct table t;

	sdt_begin(&t, signature);
	for (unsigned int i = 0; i < n; i++) {
		if (entry_size == 4) {
			sdt_add32(&t, (uint32_t)entries[i]);
		} else {
			sdt_add64(&t, entries[i]);
		}
	}
	sdt_store(&t, pa);
}

static void store_rsdp(paddr_t pa, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t r[36] = "RSD PTR ";

	memcpy(r + 9, "KEELTS", 6);
	r[15] = revision;
	put32(r + 16, rsdt);
	r[8] = (uint8_t)-sum(r, 20);
	if (revision >= 2) {
		put32(r + 20, 36);
		put64(r + 24, xsdt);
		r[32] = (uint8_t)-sum(r, 36);
	}
	memcpy(arch_phys_to_virt(pa), r, revision >= 2 ? 36 : 20);
}

/*
 * The RSDT lists the MADT and HPET A (0xfed00000), the XSDT the MADT and
 * HPET B (0xfed80000): which HPET was found shows which root was used.
 */
static void build_tables(uint8_t rsdp_revision)
{
	const uint64_t rsdt[] = { MADT_PA, HPET_A_PA };
	const uint64_t xsdt[] = { MADT_PA, HPET_B_PA };

	standard_madt();
	sdt_store(&madt, MADT_PA);
	store_hpet(HPET_A_PA, 0xfed00000, 0);
	store_hpet(HPET_B_PA, 0xfed80000, 0);
	store_root("RSDT", RSDT_PA, rsdt, ARRAY_SIZE(rsdt), 4);
	store_root("XSDT", XSDT_PA, xsdt, ARRAY_SIZE(xsdt), 8);
	store_rsdp(RSDP_PA, rsdp_revision, RSDT_PA, XSDT_PA);
}

static bool parse(void)
{
	bool ok = acpi_parse(RSDP_PA, fake_phys_read, &info, &why);

	fake_phys_read_release();
	return ok;
}

static void check_fails(const char *reason)
{
	CU_ASSERT_FALSE(parse());
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, reason);
}

static void test_rsdp_v1_with_rsdt(void)
{
	build_tables(0);
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.cpu_count, 3);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[0], 0);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[1], 4);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[2], 0x100);
	CU_ASSERT_EQUAL(info.cpus_ignored, 0);
	CU_ASSERT_EQUAL(info.lapic_base, 0xfee10000);	/* the override wins */
	CU_ASSERT_EQUAL_FATAL(info.ioapic_count, 1);
	CU_ASSERT_EQUAL(info.ioapics[0].id, 2);
	CU_ASSERT_EQUAL(info.ioapics[0].base, 0xfec00000);
	CU_ASSERT_EQUAL(info.ioapics[0].gsi_base, 0);
	CU_ASSERT_EQUAL(info.hpet_base, 0xfed00000);
	CU_ASSERT_STRING_EQUAL(info.oem_id, "KEELTS");
}

static void test_rsdp_v2_prefers_the_xsdt(void)
{
	build_tables(2);
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.hpet_base, 0xfed80000);
	CU_ASSERT_EQUAL(info.cpu_count, 3);

	/* A v2 RSDP whose extended checksum is wrong: only the RSDT is trusted. */
	((uint8_t *)arch_phys_to_virt(RSDP_PA))[32] ^= 1;
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.hpet_base, 0xfed00000);

	/* No XSDT address: the RSDT. */
	store_rsdp(RSDP_PA, 2, RSDT_PA, 0);
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.hpet_base, 0xfed00000);
}

static void test_bad_rsdp(void)
{
	build_tables(0);
	((uint8_t *)arch_phys_to_virt(RSDP_PA))[8] ^= 1;	/* checksum */
	check_fails("ACPI RSDP is missing or corrupt");

	build_tables(0);
	((uint8_t *)arch_phys_to_virt(RSDP_PA))[0] = 'X';
	check_fails("ACPI RSDP is missing or corrupt");

	CU_ASSERT_FALSE(acpi_parse(FAKE_RAM_SIZE - 8, fake_phys_read, &info, &why));
	CU_ASSERT_STRING_EQUAL(why, "ACPI RSDP is missing or corrupt");
	fake_phys_read_release();
}

static void test_corrupt_root(void)
{
	uint8_t *rsdt = arch_phys_to_virt(RSDT_PA);

	build_tables(0);
	rsdt[9] ^= 1;				/* checksum */
	check_fails("ACPI root table (RSDT/XSDT) is missing or corrupt");

	build_tables(0);
	put32(rsdt + 4, 20);			/* shorter than a header */
	check_fails("ACPI root table (RSDT/XSDT) is missing or corrupt");

	build_tables(0);
	put32(rsdt + 4, (1u << 20) + 1);	/* implausibly long */
	check_fails("ACPI root table (RSDT/XSDT) is missing or corrupt");

	build_tables(0);
	store_rsdp(RSDP_PA, 0, (uint32_t)FAKE_RAM_SIZE, 0);	/* unreadable */
	check_fails("ACPI root table (RSDT/XSDT) is missing or corrupt");
}

static void test_no_usable_madt(void)
{
	const uint64_t only_hpet[] = { HPET_A_PA, FAKE_RAM_SIZE };

	build_tables(0);
	store_root("RSDT", RSDT_PA, only_hpet, ARRAY_SIZE(only_hpet), 4);
	check_fails("ACPI has no usable MADT (no enabled CPUs listed)");

	/* A MADT listing only disabled CPUs. */
	build_tables(0);
	madt_begin();
	madt_lapic(0, 0, 0);
	madt_x2apic(5, 0);
	sdt_store(&madt, MADT_PA);
	check_fails("ACPI has no usable MADT (no enabled CPUs listed)");

	/* A MADT with a bad checksum is no MADT. */
	build_tables(0);
	((uint8_t *)arch_phys_to_virt(MADT_PA))[9] ^= 1;
	check_fails("ACPI has no usable MADT (no enabled CPUs listed)");
}

static void test_broken_hpet_is_skipped(void)
{
	build_tables(0);
	((uint8_t *)arch_phys_to_virt(HPET_A_PA))[9] ^= 1;
	CU_ASSERT_TRUE(parse());
	CU_ASSERT_EQUAL(info.hpet_base, 0);
	CU_ASSERT_EQUAL(info.cpu_count, 3);

	build_tables(0);
	store_hpet(HPET_A_PA, 0xfed00000, 1);	/* in I/O space */
	CU_ASSERT_TRUE(parse());
	CU_ASSERT_EQUAL(info.hpet_base, 0);
}

static void test_truncated_madt_entry(void)
{
	/* The last entry claims 16 bytes, the table ends 6 bytes into it. */
	const uint8_t cut[6] = { 9, 16, 0, 0, 0x42 };

	madt_begin();
	madt_lapic(0, 3, 1);
	sdt_add(&madt, cut, sizeof(cut));
	sdt_store(&madt, MADT_PA);
	store_root("RSDT", RSDT_PA, (const uint64_t[]){ MADT_PA }, 1, 4);
	store_rsdp(RSDP_PA, 0, RSDT_PA, 0);
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.cpu_count, 1);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[0], 3);
}

static void test_malformed_madt_entries(void)
{
	const uint8_t short_lapic[6] = { 0, 6, 9, 9, 1, 0 };	/* too short: skipped */
	const uint8_t empty[2] = { 0, 0 };			/* length 0: stop */

	madt_begin();
	madt_lapic(0, 1, 1);
	sdt_add(&madt, short_lapic, sizeof(short_lapic));
	madt_lapic(1, 2, 1);
	sdt_add(&madt, empty, sizeof(empty));
	madt_lapic(2, 3, 1);			/* after the stop: not seen */
	sdt_store(&madt, MADT_PA);
	store_root("RSDT", RSDT_PA, (const uint64_t[]){ MADT_PA }, 1, 4);
	store_rsdp(RSDP_PA, 0, RSDT_PA, 0);
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.cpu_count, 2);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[0], 1);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[1], 2);
}

static void test_too_many_cpus_and_ioapics(void)
{
	madt_begin();
	for (unsigned int i = 0; i < ACPI_MAX_CPUS + 6; i++) {
		madt_lapic((uint8_t)i, (uint8_t)i, 1);
	}
	for (unsigned int i = 0; i < ACPI_MAX_IOAPICS + 2; i++) {
		madt_ioapic((uint8_t)i, 0xfec00000 + i * 0x1000, i * 24);
	}
	sdt_store(&madt, MADT_PA);
	store_root("RSDT", RSDT_PA, (const uint64_t[]){ MADT_PA }, 1, 4);
	store_rsdp(RSDP_PA, 0, RSDT_PA, 0);
	CU_ASSERT_TRUE_FATAL(parse());
	CU_ASSERT_EQUAL(info.cpu_count, ACPI_MAX_CPUS);
	CU_ASSERT_EQUAL(info.cpus_ignored, 6);
	CU_ASSERT_EQUAL(info.cpu_apic_ids[ACPI_MAX_CPUS - 1], ACPI_MAX_CPUS - 1);
	CU_ASSERT_EQUAL(info.ioapic_count, ACPI_MAX_IOAPICS);
	CU_ASSERT_EQUAL(info.ioapics[ACPI_MAX_IOAPICS - 1].gsi_base, (ACPI_MAX_IOAPICS - 1) * 24);
}

/* Any MADT byte set to awkward values, checksum fixed: no crash, no overread. */
static void test_mutated_madt_is_safe(void)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x0c, 0xff };

	standard_madt();
	for (uint32_t i = 0; i < madt.len; i++) {
		for (unsigned int v = 0; v < ARRAY_SIZE(values); v++) {
			struct table t = madt;

			if (i == 9) {
				continue;	/* the checksum itself */
			}
			build_tables(0);
			t.b[i] = values[v];
			/* Keep the declared length: only the bytes change. */
			t.b[9] = 0;
			t.b[9] = (uint8_t)-sum(t.b, t.len);
			memcpy(arch_phys_to_virt(MADT_PA), t.b, t.len);
			if (parse()) {
				CU_ASSERT_FATAL(info.cpu_count >= 1 &&
						info.cpu_count <= ACPI_MAX_CPUS);
				CU_ASSERT_FATAL(info.ioapic_count <= ACPI_MAX_IOAPICS);
			} else {
				CU_ASSERT_PTR_NOT_NULL_FATAL(why);
			}
		}
	}
}

/* Finding the RSDP: EBDA first (its segment is at 0x40e), then 0xe0000-0xfffff. */

static void set_ebda_segment(uint16_t segment)
{
	uint8_t *bda = arch_phys_to_virt(0x40e);

	bda[0] = (uint8_t)segment;
	bda[1] = (uint8_t)(segment >> 8);
}

static paddr_t find(void)
{
	paddr_t pa = acpi_find_rsdp(fake_phys_read);

	fake_phys_read_release();
	return pa;
}

static void test_find_rsdp_in_the_bios_area(void)
{
	CU_ASSERT_EQUAL(find(), 0);
	store_rsdp(0xf5a40, 0, RSDT_PA, 0);
	CU_ASSERT_EQUAL(find(), 0xf5a40);

	/* A bad checksum earlier in the area is passed over. */
	store_rsdp(0xe0100, 0, RSDT_PA, 0);
	((uint8_t *)arch_phys_to_virt(0xe0100))[8] ^= 1;
	CU_ASSERT_EQUAL(find(), 0xf5a40);

	/* The last 16-byte slot that holds 20 bytes. */
	setup();
	store_rsdp(0xfffe0, 0, RSDT_PA, 0);
	CU_ASSERT_EQUAL(find(), 0xfffe0);
}

static void test_find_rsdp_only_on_16_byte_boundaries(void)
{
	store_rsdp(0xf5a48, 0, RSDT_PA, 0);
	CU_ASSERT_EQUAL(find(), 0);
}

static void test_find_rsdp_in_the_ebda_first(void)
{
	set_ebda_segment(0x9fc0);		/* EBDA at 0x9fc00 */
	store_rsdp(0xe0000, 0, RSDT_PA, 0);
	store_rsdp(0x9fc40, 0, RSDT_PA, 0);
	CU_ASSERT_EQUAL(find(), 0x9fc40);

	/* Only the EBDA's first KiB is searched. */
	setup();
	set_ebda_segment(0x9f00);
	store_rsdp(0x9f000 + 1024, 0, RSDT_PA, 0);
	CU_ASSERT_EQUAL(find(), 0);

	/* An EBDA pointer outside 0x80000-0x9ffff is ignored. */
	setup();
	set_ebda_segment(0x0100);
	store_rsdp(0x1000, 0, RSDT_PA, 0);
	store_rsdp(0xe0000, 0, RSDT_PA, 0);
	CU_ASSERT_EQUAL(find(), 0xe0000);
}

static CU_TestInfo acpi_tests[] = {
	{ "RSDP v1 with an RSDT", test_rsdp_v1_with_rsdt },
	{ "RSDP v2 prefers the XSDT", test_rsdp_v2_prefers_the_xsdt },
	{ "bad RSDP", test_bad_rsdp },
	{ "corrupt root table", test_corrupt_root },
	{ "no usable MADT", test_no_usable_madt },
	{ "a broken HPET table is skipped", test_broken_hpet_is_skipped },
	{ "truncated MADT entry", test_truncated_madt_entry },
	{ "malformed MADT entries", test_malformed_madt_entries },
	{ "too many CPUs and IOAPICs", test_too_many_cpus_and_ioapics },
	{ "mutated MADT is safe", test_mutated_madt_is_safe },
	{ "find the RSDP in the BIOS area", test_find_rsdp_in_the_bios_area },
	{ "find the RSDP only on 16-byte boundaries", test_find_rsdp_only_on_16_byte_boundaries },
	{ "find the RSDP in the EBDA first", test_find_rsdp_in_the_ebda_first },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo acpi_suite = {
	.pName = "acpi",
	.pSetUpFunc = setup,
	.pTests = acpi_tests,
};
