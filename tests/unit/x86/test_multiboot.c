/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/x86/test_multiboot.c - unit tests for arch/x86/boot/multiboot.c.
 *
 * Information blocks are written into fake RAM and read through
 * fake_phys_read(), which hands the parser exactly-sized copies: a read past
 * what the parser asked the reader for is an AddressSanitizer report.
 */
#include "fake_arch.h"
#include "multiboot.h"
#include "unit.h"

#define MB1_INFO	0x10000u
#define MB2_INFO	0x20000u
#define MB1_CMDLINE	(1u << 2)
#define MB1_MODS	(1u << 3)
#define MB1_MMAP	(1u << 6)
#define MB1_LOADER	(1u << 9)

#define bi unit_bi
static uint8_t rsdp[64];
static const char *why;

static void setup(void)
{
	fake_arch_reset();
	fake_ram_reset();
	memset(bi, 0, sizeof(*bi));
	memset(rsdp, 0, sizeof(rsdp));
	why = NULL;
}

static void poke(paddr_t pa, const void *src, size_t n)
{
	if (n) {
		memcpy(arch_phys_to_virt(pa), src, n);
	}
}

static void poke32(paddr_t pa, uint32_t v)
{
	const uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			       (uint8_t)(v >> 24) };

	poke(pa, b, 4);
}

static void poke64(paddr_t pa, uint64_t v)
{
	poke32(pa, (uint32_t)v);
	poke32(pa + 4, (uint32_t)(v >> 32));
}

static void poke_str(paddr_t pa, const char *s)
{
	poke(pa, s, strlen(s) + 1);
}

static bool parse(uint32_t magic, uint64_t info)
{
	bool ok = multiboot_parse(magic, info, fake_phys_read, bi, rsdp, &why);

	fake_phys_read_release();
	return ok;
}

static void check_region(unsigned int i, paddr_t base, uint64_t size, enum mem_type type)
{
	CU_ASSERT_FATAL(i < bi->region_count);
	CU_ASSERT_EQUAL(bi->regions[i].base, base);
	CU_ASSERT_EQUAL(bi->regions[i].size, size);
	CU_ASSERT_EQUAL(bi->regions[i].type, type);
}

static void check_module(unsigned int i, paddr_t base, uint64_t size, const char *name,
			 const char *args)
{
	CU_ASSERT_FATAL(i < bi->module_count);
	CU_ASSERT_EQUAL(bi->modules[i].base, base);
	CU_ASSERT_EQUAL(bi->modules[i].size, size);
	CU_ASSERT_STRING_EQUAL(bi->modules[i].name, name);
	CU_ASSERT_STRING_EQUAL(bi->modules[i].args, args);
}

/* Multiboot 1 (Multiboot Specification 0.6.96, section 3.3). */

static paddr_t mb1_entry(paddr_t at, uint32_t size, uint64_t base, uint64_t len, uint32_t type)
{
	poke32(at, size);
	poke64(at + 4, base);
	poke64(at + 12, len);
	poke32(at + 20, type);
	return at + size + 4;
}

static void build_mb1(void)
{
	paddr_t end = 0x13000;

	poke32(MB1_INFO, MB1_CMDLINE | MB1_MODS | MB1_MMAP | MB1_LOADER);
	poke32(MB1_INFO + 16, 0x11000);
	poke_str(0x11000, "/boot/keel.elf loglevel=debug");
	poke32(MB1_INFO + 20, 2);
	poke32(MB1_INFO + 24, 0x12000);
	poke32(0x12000, 0x400000);
	poke32(0x12004, 0x401234);
	poke32(0x12008, 0x12100);
	poke32(0x12010, 0x500000);
	poke32(0x12014, 0x500800);
	poke32(0x12018, 0x12200);
	poke_str(0x12100, "/boot/probe-guest.elf arg=1");
	poke_str(0x12200, "initrd.img");
	end = mb1_entry(end, 20, 0x0, 0x9fc00, 1);
	end = mb1_entry(end, 20, 0x9fc00, 0x400, 2);
	end = mb1_entry(end, 24, 0x100000, 0x7ff00000, 1);	/* a longer entry */
	end = mb1_entry(end, 20, 0x100000000ull, 0x40000000, 1);
	end = mb1_entry(end, 20, 0xfed00000, 0x1000, 7);	/* unknown type */
	end = mb1_entry(end, 20, 0xfee00000, 0, 1);		/* empty: dropped */
	poke32(MB1_INFO + 44, (uint32_t)(end - 0x13000));
	poke32(MB1_INFO + 48, 0x13000);
	poke32(MB1_INFO + 64, 0x14000);
	poke_str(0x14000, "GRUB 2.06");
}

static void test_mb1_full_block(void)
{
	build_mb1();
	CU_ASSERT_TRUE_FATAL(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(bi->loader, "GRUB 2.06");
	CU_ASSERT_STRING_EQUAL(bi->cmdline, "/boot/keel.elf loglevel=debug");
	CU_ASSERT_EQUAL(bi->module_count, 2);
	check_module(0, 0x400000, 0x1234, "probe-guest.elf", "arg=1");
	check_module(1, 0x500000, 0x800, "initrd.img", "");
	CU_ASSERT_EQUAL(bi->region_count, 5);
	check_region(0, 0x0, 0x9fc00, MEM_USABLE);
	check_region(1, 0x9fc00, 0x400, MEM_RESERVED);
	check_region(2, 0x100000, 0x7ff00000, MEM_USABLE);
	check_region(3, 0x100000000ull, 0x40000000, MEM_USABLE);
	check_region(4, 0xfed00000, 0x1000, MEM_RESERVED);
	CU_ASSERT_EQUAL(rsdp[0], 0);		/* Multiboot 1 passes no RSDP */
}

static void test_mb1_optional_parts(void)
{
	build_mb1();
	poke32(MB1_INFO, MB1_MMAP);
	CU_ASSERT_TRUE_FATAL(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(bi->loader, "Multiboot 1");
	CU_ASSERT_STRING_EQUAL(bi->cmdline, "");
	CU_ASSERT_EQUAL(bi->module_count, 0);
	CU_ASSERT_EQUAL(bi->region_count, 5);
}

static void test_mb1_module_limits(void)
{
	unsigned int n = BOOT_MAX_MODULES + 3;

	build_mb1();
	poke32(MB1_INFO + 20, n);
	poke32(MB1_INFO + 24, 0x30000);
	poke_str(0x31000, "m");
	for (unsigned int i = 0; i < n; i++) {
		poke32(0x30000 + i * 16, 0x400000 + i * 0x1000);
		poke32(0x30004 + i * 16, i == 1 ? 0x3ff000 : 0x400800 + i * 0x1000);
		poke32(0x30008 + i * 16, 0x31000);
	}
	CU_ASSERT_TRUE_FATAL(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_EQUAL(bi->module_count, BOOT_MAX_MODULES);
	CU_ASSERT_EQUAL(bi->modules_dropped, 3);	/* one ends before it starts */
	check_module(0, 0x400000, 0x800, "m", "");
	check_module(1, 0x402000, 0x800, "m", "");
}

static void test_mb1_malformed(void)
{
	build_mb1();
	poke32(MB1_INFO, MB1_CMDLINE | MB1_MODS);
	CU_ASSERT_FALSE(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(why, "the loader passed no memory map (Multiboot 1 flag 6)");

	setup();
	build_mb1();
	poke32(0x13000 + 24, 12);		/* second entry's size */
	CU_ASSERT_FALSE(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(why, "Multiboot 1 memory map entry too small");

	setup();
	build_mb1();
	poke32(MB1_INFO + 48, (uint32_t)FAKE_RAM_SIZE - 8);
	CU_ASSERT_FALSE(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(why, "Multiboot 1 memory map is not readable");

	setup();
	build_mb1();
	poke32(MB1_INFO + 24, (uint32_t)FAKE_RAM_SIZE);
	CU_ASSERT_FALSE(parse(MB1_BOOTLOADER_MAGIC, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(why, "Multiboot 1 module list is not readable");

	setup();
	CU_ASSERT_FALSE(parse(MB1_BOOTLOADER_MAGIC, FAKE_RAM_SIZE - 40));
	CU_ASSERT_STRING_EQUAL(why, "Multiboot 1 information block is not readable");
}

static void test_bad_magic(void)
{
	build_mb1();
	CU_ASSERT_FALSE(parse(0x2badb003, MB1_INFO));
	CU_ASSERT_STRING_EQUAL(why, "not started by a Multiboot loader (bad magic in EAX)");
	CU_ASSERT_FALSE(parse(0, MB1_INFO));
	CU_ASSERT_EQUAL(bi->region_count, 0);
}

/* Multiboot 2 (Multiboot2 Specification 2.0, section 3.6). */

static uint32_t mb2_off;

static void mb2_tag(uint32_t type, const void *payload, uint32_t len)
{
	poke32(MB2_INFO + mb2_off, type);
	poke32(MB2_INFO + mb2_off + 4, 8 + len);
	poke(MB2_INFO + mb2_off + 8, payload, len);
	mb2_off += ALIGN_UP(8 + len, 8u);
}

static void mb2_string_tag(uint32_t type, const char *s)
{
	mb2_tag(type, s, (uint32_t)strlen(s) + 1);
}

static void mb2_module_tag(uint32_t start, uint32_t end, const char *cmdline)
{
	uint8_t payload[128] = { 0 };

	memcpy(payload, &start, 4);		/* the host is little-endian too */
	memcpy(payload + 4, &end, 4);
	strcpy((char *)payload + 8, cmdline);
	mb2_tag(3, payload, 8 + (uint32_t)strlen(cmdline) + 1);
}

static void mb2_mmap_tag(void)
{
	static const struct {
		uint64_t base, len;
		uint32_t type, reserved;
	} entries[] = {
		{ 0x0, 0x9fc00, 1, 0 },
		{ 0x100000, 0x3ff00000, 1, 0 },
		{ 0x3ff00000, 0x100000, 3, 0 },
		{ 0xfffc0000, 0x40000, 9, 0 },
	};
	uint8_t payload[8 + sizeof(entries)];
	const uint32_t esize = 24, version = 0;

	memcpy(payload, &esize, 4);
	memcpy(payload + 4, &version, 4);
	memcpy(payload + 8, entries, sizeof(entries));
	mb2_tag(6, payload, sizeof(payload));
}

static void mb2_finish(void)
{
	mb2_tag(0, NULL, 0);
	poke32(MB2_INFO, mb2_off);
	poke32(MB2_INFO + 4, 0);
}

static const uint8_t rsdp_v1[20] = "RSD PTR \x11OEMID1\x00\x00\x10\x00\x00";
static const uint8_t rsdp_v2[36] = "RSD PTR \x22OEMID2\x02\x00\x20\x00\x00\x24\x00\x00\x00"
				   "\x00\x30\x00\x00\x00\x00\x00\x00\x55";

static void build_mb2(void)
{
	const uint8_t other[4] = { 1, 2, 3, 4 };

	mb2_off = 8;
	mb2_string_tag(1, "keel.elf qemu_exit=1");
	mb2_string_tag(2, "GRUB 2.12");
	mb2_module_tag(0x400000, 0x402000, "/boot/probe-guest.elf");
	mb2_module_tag(0x500000, 0x500100, "/boot/second.elf x y");
	mb2_mmap_tag();
	mb2_tag(21, other, sizeof(other));	/* a tag Keel does not use */
	mb2_tag(14, rsdp_v1, sizeof(rsdp_v1));
	mb2_tag(15, rsdp_v2, sizeof(rsdp_v2));
	mb2_finish();
}

static void test_mb2_full_block(void)
{
	static const uint8_t zero[64 - sizeof(rsdp_v2)];

	build_mb2();
	CU_ASSERT_TRUE_FATAL(parse(MB2_BOOTLOADER_MAGIC, MB2_INFO));
	CU_ASSERT_STRING_EQUAL(bi->loader, "GRUB 2.12");
	CU_ASSERT_STRING_EQUAL(bi->cmdline, "keel.elf qemu_exit=1");
	CU_ASSERT_EQUAL(bi->module_count, 2);
	check_module(0, 0x400000, 0x2000, "probe-guest.elf", "");
	check_module(1, 0x500000, 0x100, "second.elf", "x y");
	CU_ASSERT_EQUAL(bi->region_count, 4);
	check_region(0, 0x0, 0x9fc00, MEM_USABLE);
	check_region(1, 0x100000, 0x3ff00000, MEM_USABLE);
	check_region(2, 0x3ff00000, 0x100000, MEM_ACPI_RECLAIM);
	check_region(3, 0xfffc0000, 0x40000, MEM_RESERVED);
	/* The ACPI 2.0 RSDP wins over the 1.0 one, and is copied whole. */
	CU_ASSERT_EQUAL(memcmp(rsdp, rsdp_v2, sizeof(rsdp_v2)), 0);
	CU_ASSERT_EQUAL(memcmp(rsdp + sizeof(rsdp_v2), zero, sizeof(zero)), 0);
}

static void test_mb2_rsdp_choice(void)
{
	mb2_off = 8;
	mb2_mmap_tag();
	mb2_tag(14, rsdp_v1, sizeof(rsdp_v1));
	mb2_finish();
	CU_ASSERT_TRUE_FATAL(parse(MB2_BOOTLOADER_MAGIC, MB2_INFO));
	CU_ASSERT_EQUAL(memcmp(rsdp, rsdp_v1, sizeof(rsdp_v1)), 0);
	CU_ASSERT_EQUAL(rsdp[sizeof(rsdp_v1)], 0);
	CU_ASSERT_STRING_EQUAL(bi->loader, "Multiboot 2");

	/* New before old: the old one does not overwrite it. */
	setup();
	mb2_off = 8;
	mb2_tag(15, rsdp_v2, sizeof(rsdp_v2));
	mb2_tag(14, rsdp_v1, sizeof(rsdp_v1));
	mb2_mmap_tag();
	mb2_finish();
	CU_ASSERT_TRUE_FATAL(parse(MB2_BOOTLOADER_MAGIC, MB2_INFO));
	CU_ASSERT_EQUAL(memcmp(rsdp, rsdp_v2, sizeof(rsdp_v2)), 0);
}

static void check_mb2_fails(const char *reason)
{
	CU_ASSERT_FALSE(parse(MB2_BOOTLOADER_MAGIC, MB2_INFO));
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_STRING_EQUAL(why, reason);
}

static void test_mb2_implausible_size(void)
{
	build_mb2();
	poke32(MB2_INFO, 8);
	check_mb2_fails("Multiboot 2 information block has an implausible size");
	poke32(MB2_INFO, (1u << 20) + 8);
	check_mb2_fails("Multiboot 2 information block has an implausible size");
	CU_ASSERT_FALSE(parse(MB2_BOOTLOADER_MAGIC, FAKE_RAM_SIZE - 4));
	CU_ASSERT_STRING_EQUAL(why, "Multiboot 2 information block is not readable");
}

static void test_mb2_tag_past_the_end(void)
{
	build_mb2();
	poke32(MB2_INFO + 8 + 4, mb2_off);	/* first tag claims the whole block */
	check_mb2_fails("Multiboot 2 tag runs past the information block");

	build_mb2();
	poke32(MB2_INFO + 8 + 4, 4);		/* shorter than a tag header */
	check_mb2_fails("Multiboot 2 tag runs past the information block");

	/* The block ends inside a tag. */
	build_mb2();
	poke32(MB2_INFO, 8 + 16);
	check_mb2_fails("Multiboot 2 tag runs past the information block");
}

static void test_mb2_missing_end_tag(void)
{
	build_mb2();
	poke32(MB2_INFO, mb2_off - 8);		/* the end tag is outside */
	check_mb2_fails("Multiboot 2 information block has no end tag");
}

static void test_mb2_missing_memory_map(void)
{
	mb2_off = 8;
	mb2_string_tag(1, "keel.elf");
	mb2_finish();
	check_mb2_fails("the loader passed no memory map");
	CU_ASSERT_STRING_EQUAL(bi->cmdline, "keel.elf");
}

static void test_mb2_malformed_tags(void)
{
	const uint8_t small_module[4] = { 0 };
	uint8_t mmap[8 + 24] = { 20 };		/* entry size 20 < 24 */

	mb2_off = 8;
	mb2_mmap_tag();
	mb2_tag(3, small_module, sizeof(small_module));
	mb2_finish();
	check_mb2_fails("Multiboot 2 module tag too small");

	setup();
	mb2_off = 8;
	mb2_tag(6, mmap, sizeof(mmap));
	mb2_finish();
	check_mb2_fails("Multiboot 2 memory map tag malformed");

	setup();
	mb2_off = 8;
	mb2_tag(6, mmap, 4);			/* no room for the entry header */
	mb2_finish();
	check_mb2_fails("Multiboot 2 memory map tag malformed");

	setup();
	mb2_off = 8;
	mb2_tag(6, NULL, 0);			/* not even the entry size */
	mb2_finish();
	check_mb2_fails("Multiboot 2 memory map tag malformed");
}

/*
 * A huge entry size must not wrap the offset: 16 + 0xfffffff8 is 8 in 32
 * bits, which once passed for "fits" and read entries past, or across, the tag.
 */
static void test_mb2_huge_mmap_entry_size(void)
{
	const uint32_t esize = 0xfffffff8u;
	uint8_t mmap[8 + 24] = { 0 };
	const uint64_t base = 0x100000, len = 0x1000;
	const uint32_t type = 1;

	memcpy(mmap, &esize, 4);
	mb2_off = 8;
	mb2_tag(6, mmap, 8);			/* header only: nothing to read */
	mb2_finish();
	CU_ASSERT_TRUE(parse(MB2_BOOTLOADER_MAGIC, MB2_INFO));
	CU_ASSERT_EQUAL(bi->region_count, 0);

	setup();
	memcpy(mmap + 8, &base, 8);
	memcpy(mmap + 16, &len, 8);
	memcpy(mmap + 24, &type, 4);
	mb2_off = 8;
	mb2_tag(6, mmap, sizeof(mmap));		/* one entry, but not of that size */
	mb2_finish();
	CU_ASSERT_TRUE(parse(MB2_BOOTLOADER_MAGIC, MB2_INFO));
	CU_ASSERT_EQUAL(bi->region_count, 0);
}

/* Every byte of the block set to awkward values: no crash, no overread. */
static void test_mb2_mutated_blocks_are_safe(void)
{
	static const uint8_t values[] = { 0x00, 0x07, 0x80, 0xff };
	uint32_t size;

	build_mb2();
	size = mb2_off;
	for (uint32_t i = 0; i < size; i++) {
		for (unsigned int v = 0; v < ARRAY_SIZE(values); v++) {
			bool ok;

			setup();
			build_mb2();
			poke(MB2_INFO + i, &values[v], 1);
			ok = parse(MB2_BOOTLOADER_MAGIC, MB2_INFO);
			CU_ASSERT_FATAL(ok || why != NULL);
			CU_ASSERT_FATAL(bi->region_count <= BOOT_MAX_REGIONS);
			CU_ASSERT_FATAL(bi->module_count <= BOOT_MAX_MODULES);
		}
	}
}

static CU_TestInfo multiboot_tests[] = {
	{ "MB1: a full information block", test_mb1_full_block },
	{ "MB1: optional parts", test_mb1_optional_parts },
	{ "MB1: module limits", test_mb1_module_limits },
	{ "MB1: malformed blocks", test_mb1_malformed },
	{ "bad magic", test_bad_magic },
	{ "MB2: a full information block", test_mb2_full_block },
	{ "MB2: RSDP choice", test_mb2_rsdp_choice },
	{ "MB2: implausible size", test_mb2_implausible_size },
	{ "MB2: tag past the end", test_mb2_tag_past_the_end },
	{ "MB2: missing end tag", test_mb2_missing_end_tag },
	{ "MB2: missing memory map", test_mb2_missing_memory_map },
	{ "MB2: malformed tags", test_mb2_malformed_tags },
	{ "MB2: huge memory map entry size", test_mb2_huge_mmap_entry_size },
	{ "MB2: mutated blocks are safe", test_mb2_mutated_blocks_are_safe },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo multiboot_suite = {
	.pName = "multiboot",
	.pInitFunc = unit_bootinfo_alloc,
	.pCleanupFunc = unit_bootinfo_free,
	.pSetUpFunc = setup,
	.pTests = multiboot_tests,
};
