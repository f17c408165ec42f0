/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/x86/test_linux_boot.c - unit tests for the pure parts of
 * arch/x86/guest_boot: the bzImage header parser, the E820 map, the
 * hvm_start_info page, the zero page and the placement plan.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/elf.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/control.h>
#include <public/keel/start_info.h>
#include <x86/linux_boot.h>
#include "linux_fixture.h"
#include "unit.h"

#define PAYLOAD_LEN	0x1000
#define IMAGE_ROOM	(FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT + PAYLOAD_LEN + 0x100)
#define INIT_SIZE	0x3f98000u	/* Debian 6.1's */

static uint8_t image[IMAGE_ROOM];
static size_t image_len;

static void make_image(void)
{
	static uint8_t payload[PAYLOAD_LEN];

	memset(payload, 0x5a, sizeof(payload));
	image_len = fix_bzimage(image, payload, sizeof(payload), INIT_SIZE);
}

static uint64_t rd(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i > 0; i--) {
		v = (v << 8) | p[i - 1];
	}
	return v;
}

static int parse_copy(size_t len, struct bzimage *bz, const char **why)
{
	void *copy = exact_copy(image, len);
	int rc = bzimage_parse(copy, len, bz, why);

	free(copy);
	return rc;
}

static void test_bzimage_valid(void)
{
	struct bzimage bz;
	const char *why = NULL;

	make_image();
	CU_ASSERT_EQUAL(parse_copy(image_len, &bz, &why), 1);
	CU_ASSERT_EQUAL(bz.version, 0x20f);
	CU_ASSERT_EQUAL(bz.pm_offset, FIX_BZ_PM_OFFSET);
	CU_ASSERT_EQUAL(bz.pm_size, image_len - FIX_BZ_PM_OFFSET);
	CU_ASSERT_EQUAL(bz.payload_offset, FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT);
	CU_ASSERT_EQUAL(bz.payload_size, PAYLOAD_LEN);
	CU_ASSERT_EQUAL(bz.pref_address, 0x1000000);
	CU_ASSERT_EQUAL(bz.init_size, INIT_SIZE);
	CU_ASSERT_EQUAL(bz.cmdline_size, 2047);
	CU_ASSERT_EQUAL(bz.initrd_max, 0x7fffffff);
	CU_ASSERT_EQUAL(bz.header_end, 0x26c);
	/* setup_sects 0 means 4. */
	image[0x1f1] = 0;
	fix_put(image + 0x248, 0, 4);
	fix_put(image + 0x24c, 0x100, 4);
	CU_ASSERT_EQUAL(parse_copy(image_len, &bz, &why), 1);
	CU_ASSERT_EQUAL(bz.pm_offset, 5 * 512);
}

static void test_bzimage_not_one(void)
{
	struct bzimage bz;
	const char *why = NULL;

	make_image();
	memcpy(image + 0x202, "HdrZ", 4);
	CU_ASSERT_EQUAL(parse_copy(image_len, &bz, &why), 0);
	CU_ASSERT_EQUAL(parse_copy(0x100, &bz, &why), 0);
}

/* Every length: never a read past the end, never accepted short. */
static void test_bzimage_every_truncation(void)
{
	struct bzimage bz;
	const char *why;

	make_image();
	for (size_t len = 0; len < FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT + PAYLOAD_LEN; len++) {
		why = NULL;
		int rc = parse_copy(len, &bz, &why);

		CU_ASSERT(rc == 0 || rc == -1);
		if (rc == -1) {
			CU_ASSERT_PTR_NOT_NULL(why);
		}
		if (len >= 0x264 && len < FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT + PAYLOAD_LEN) {
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "truncated") : NULL);
		}
	}
}

static void expect_refused(const char *words)
{
	struct bzimage bz;
	const char *why = NULL;

	CU_ASSERT_EQUAL(parse_copy(image_len, &bz, &why), -1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, words));
	make_image();
}

static void test_bzimage_refusals(void)
{
	make_image();
	fix_put(image + 0x206, 0x020b, 2);
	expect_refused("older than 2.12");
	fix_put(image + 0x236, 0x7e, 2);
	expect_refused("XLF_KERNEL_64");
	fix_put(image + 0x1fe, 0x1234, 2);
	expect_refused("boot flag");
	image[0x201] = 0x10;
	expect_refused("header length");
	image[0x201] = 0xa0;
	expect_refused("header length");
	fix_put(image + 0x24c, PAYLOAD_LEN + 0x101, 4);
	expect_refused("truncated");
	fix_put(image + 0x248, 0xfffffff0u, 4);
	expect_refused("truncated");
	fix_put(image + 0x24c, 0, 4);
	expect_refused("truncated");
	fix_put(image + 0x260, 0x100, 4);
	expect_refused("init_size");
	fix_put(image + 0x260, 0x40000001, 4);
	expect_refused("init_size");
	fix_put(image + 0x258, 0x1001000, 8);
	expect_refused("aligned");
	fix_put(image + 0x230, 0x300000, 4);
	expect_refused("aligned");
	fix_put(image + 0x258, 0xfe000000u, 8);
	expect_refused("4 GiB");
	fix_put(image + 0x258, 0, 8);
	expect_refused("below 1 MiB");
}

/* A domain with @mib MiB of RAM, laid out like arch_guest_layout(). */
static unsigned int layout(uint64_t mib, struct boot_mem_range *out)
{
	unsigned int n = 0;

	out[n++] = (struct boot_mem_range){ 0, 0xa0000, KEEL_MEMTYPE_RAM };
	out[n++] = (struct boot_mem_range){ 0x100000, MiB(mib) - 0xa0000, KEEL_MEMTYPE_RAM };
	out[n++] = (struct boot_mem_range){ KEEL_X86_GPA_MAP_WINDOW, KEEL_X86_GPA_MAP_WINDOW_SIZE,
					    KEEL_MEMTYPE_MAP_WINDOW };
	out[n++] = (struct boot_mem_range){ KEEL_X86_GPA_LAPIC, 0x1000, KEEL_MEMTYPE_RESERVED };
	return n;
}

static void test_e820(void)
{
	struct boot_mem_range l[4];
	struct e820_entry map[8];
	unsigned int n = layout(256, l), count;

	count = e820_build(l, n, 0, map, 8);
	CU_ASSERT_EQUAL(count, 4);
	CU_ASSERT_EQUAL(map[0].addr, 0);
	CU_ASSERT_EQUAL(map[0].type, E820_RAM);
	CU_ASSERT_EQUAL(map[1].type, E820_RAM);
	CU_ASSERT_EQUAL(map[2].addr, KEEL_X86_GPA_MAP_WINDOW);
	CU_ASSERT_EQUAL(map[2].type, E820_RESERVED);
	CU_ASSERT_EQUAL(map[3].type, E820_RESERVED);

	count = e820_build(l, n, KEEL_DOMCREATE_F_ACPI, map, 8);
	CU_ASSERT_EQUAL_FATAL(count, 6);
	for (unsigned int i = 1; i < count; i++) {
		CU_ASSERT(map[i - 1].addr + map[i - 1].size <= map[i].addr);
	}
	CU_ASSERT_EQUAL(map[1].addr, KEEL_X86_GPA_FIRMWARE);
	CU_ASSERT_EQUAL(map[1].size, KEEL_X86_GPA_FIRMWARE_SIZE);
	CU_ASSERT_EQUAL(map[1].type, E820_RESERVED);
	CU_ASSERT_EQUAL(map[4].addr, KEEL_X86_GPA_IOAPIC);
	/* BOOT memory is RAM to Linux. */
	l[1].type = KEEL_MEMTYPE_BOOT;
	CU_ASSERT_EQUAL(e820_build(l, n, 0, map, 8), 4);
	CU_ASSERT_EQUAL(map[1].type, E820_RAM);
	/* Too small an output: refused, not cut. */
	CU_ASSERT_EQUAL(e820_build(l, n, KEEL_DOMCREATE_F_ACPI, map, 5), 0);
	CU_ASSERT_EQUAL(e820_build(l, n, 0, map, 3), 0);
}

static void test_pvh_start_info(void)
{
	struct e820_entry map[2] = { { 0, 0xa0000, 1 }, { 0x100000, 0x7f00000, 1 } };
	uint8_t *page = calloc(1, 4096);
	struct e820_entry *big = calloc(PVH_MEMMAP_MAX + 1, sizeof(*big));

	CU_ASSERT_TRUE(pvh_build(page, 0x1000, map, 2, 0x2000, 0x7000000, 0x123456, 0xe0000));
	CU_ASSERT_EQUAL(rd(page, 4), 0x336ec578);
	CU_ASSERT_EQUAL(rd(page + 4, 4), 1);
	CU_ASSERT_EQUAL(rd(page + 8, 4), 0);
	CU_ASSERT_EQUAL(rd(page + 12, 4), 1);
	CU_ASSERT_EQUAL(rd(page + 16, 8), 0x1000 + PVH_MODLIST_OFFSET);
	CU_ASSERT_EQUAL(rd(page + 24, 8), 0x2000);
	CU_ASSERT_EQUAL(rd(page + 32, 8), 0xe0000);
	CU_ASSERT_EQUAL(rd(page + 40, 8), 0x1000 + PVH_MEMMAP_OFFSET);
	CU_ASSERT_EQUAL(rd(page + 48, 4), 2);
	CU_ASSERT_EQUAL(rd(page + PVH_MODLIST_OFFSET, 8), 0x7000000);
	CU_ASSERT_EQUAL(rd(page + PVH_MODLIST_OFFSET + 8, 8), 0x123456);
	CU_ASSERT_EQUAL(rd(page + PVH_MEMMAP_OFFSET + 24, 8), 0x100000);
	CU_ASSERT_EQUAL(rd(page + PVH_MEMMAP_OFFSET + 24 + 8, 8), 0x7f00000);
	CU_ASSERT_EQUAL(rd(page + PVH_MEMMAP_OFFSET + 24 + 16, 4), 1);
	/* No initrd: no modules. */
	CU_ASSERT_TRUE(pvh_build(page, 0x1000, map, 2, 0x2000, 0, 0, 0));
	CU_ASSERT_EQUAL(rd(page + 12, 4), 0);
	CU_ASSERT_EQUAL(rd(page + 16, 8), 0);
	CU_ASSERT_EQUAL(rd(page + 32, 8), 0);
	CU_ASSERT_TRUE(pvh_build(page, 0x1000, big, PVH_MEMMAP_MAX, 0x2000, 0, 0, 0));
	CU_ASSERT_FALSE(pvh_build(page, 0x1000, big, PVH_MEMMAP_MAX + 1, 0x2000, 0, 0, 0));
	free(big);
	free(page);
}

static void test_zero_page(void)
{
	struct e820_entry map[2] = { { 0, 0xa0000, 1 }, { 0x100000, 0x7f00000, 1 } };
	struct e820_entry *big = calloc(ZP_E820_MAX + 1, sizeof(*big));
	uint8_t *zp = malloc(ZP_SIZE);
	struct bzimage bz;
	const char *why;

	make_image();
	CU_ASSERT_EQUAL_FATAL(bzimage_parse(image, image_len, &bz, &why), 1);
	memset(zp, 0xcc, ZP_SIZE);
	CU_ASSERT_TRUE(zeropage_build(zp, image, &bz, map, 2, 0x2000, 0x7000000, 0x1234, 0xe0000));
	CU_ASSERT_EQUAL(memcmp(zp + 0x202, "HdrS", 4), 0);
	CU_ASSERT_EQUAL(rd(zp + 0x260, 4), INIT_SIZE);
	CU_ASSERT_EQUAL(zp[0x26c], 0);		/* past the header: zero */
	CU_ASSERT_EQUAL(zp[0], 0);
	CU_ASSERT_EQUAL(zp[0x210], 0xff);	/* type_of_loader */
	CU_ASSERT_EQUAL(zp[0x211] & 1, 1);	/* LOADED_HIGH */
	CU_ASSERT_EQUAL(rd(zp + 0x218, 4), 0x7000000);
	CU_ASSERT_EQUAL(rd(zp + 0x21c, 4), 0x1234);
	CU_ASSERT_EQUAL(rd(zp + 0x228, 4), 0x2000);
	CU_ASSERT_EQUAL(rd(zp + 0x070, 8), 0xe0000);
	CU_ASSERT_EQUAL(zp[0x1e8], 2);
	CU_ASSERT_EQUAL(rd(zp + 0x2d0 + 20, 8), 0x100000);
	CU_ASSERT_EQUAL(rd(zp + 0x2d0 + 28, 8), 0x7f00000);
	CU_ASSERT_EQUAL(rd(zp + 0x2d0 + 36, 4), 1);
	CU_ASSERT_EQUAL(zp[0x1ef], 0);		/* sentinel stays 0 */
	CU_ASSERT_TRUE(zeropage_build(zp, image, &bz, big, ZP_E820_MAX, 0x2000, 0, 0, 0));
	CU_ASSERT_FALSE(zeropage_build(zp, image, &bz, big, ZP_E820_MAX + 1, 0x2000, 0, 0, 0));
	free(zp);
	free(big);
}

static const char *plan64(uint64_t mib, uint64_t initrd, size_t cmdline, struct linux_plan *p)
{
	static struct boot_mem_range l[4];
	static struct bzimage bz;
	const char *why;
	struct linux_plan_in in = { .pvh = false, .bz = &bz, .initrd_size = initrd,
				    .cmdline_len = cmdline, .layout = l };

	CU_ASSERT_EQUAL(bzimage_parse(image, image_len, &bz, &why), 1);
	in.layout_count = layout(mib, l);
	return linux_plan(&in, p);
}

static void test_plan_linux64(void)
{
	struct linux_plan p;

	make_image();
	CU_ASSERT_PTR_NULL(plan64(256, MiB(3) + 5, 100, &p));
	CU_ASSERT_EQUAL(p.kernel_base, 0x1000000);
	CU_ASSERT_EQUAL(p.kernel_end, 0x1000000 + INIT_SIZE);
	CU_ASSERT_EQUAL(p.entry, 0x1000200);
	/* The initrd: page-aligned, at the top of RAM, clear of the kernel. */
	CU_ASSERT_EQUAL(p.initrd_gpa & 0xfff, 0);
	CU_ASSERT(p.initrd_gpa >= p.kernel_end);
	CU_ASSERT(p.initrd_gpa + MiB(3) + 5 <= MiB(256) + 0x60000);
	CU_ASSERT(p.initrd_gpa + MiB(3) + 5 > MiB(256) + 0x60000 - 0x1000);
	CU_ASSERT_PTR_NULL(plan64(256, 0, 2047, &p));
	CU_ASSERT_EQUAL(p.initrd_gpa, 0);
}

static void test_plan_too_little_memory(void)
{
	struct linux_plan p;
	const char *why;

	make_image();
	/* init_size beyond RAM: 16 MiB + 63.6 MiB does not fit in 64 MiB. */
	why = plan64(64, 0, 10, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "too little memory"));
	CU_ASSERT_EQUAL(p.need_end, 0x1000000 + INIT_SIZE);
	/* Kernel fits, kernel plus initrd does not. */
	why = plan64(82, MiB(4), 10, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "initrd"));
	CU_ASSERT(p.need_end >= 0x1000000 + INIT_SIZE + MiB(4));
	/* An initrd larger than all of RAM. */
	why = plan64(128, GiB(8), 10, &p);
	CU_ASSERT_PTR_NOT_NULL(why);
}

static void test_plan_initrd_addr_max(void)
{
	struct linux_plan p;
	const char *why;

	make_image();
	fix_put(image + 0x22c, 0x6000000 - 1, 4);	/* initrd below 96 MiB */
	CU_ASSERT_PTR_NULL(plan64(512, MiB(8), 10, &p));
	CU_ASSERT(p.initrd_gpa + MiB(8) <= 0x6000000);
	CU_ASSERT(p.initrd_gpa >= p.kernel_end);
	why = plan64(512, MiB(32), 10, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "initrd_addr_max"));
}

static void test_plan_cmdline_limits(void)
{
	struct linux_plan p;
	const char *why;

	make_image();
	why = plan64(256, 0, 2048, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "command line"));
	fix_put(image + 0x238, 255, 4);		/* an old kernel's 255 bytes */
	CU_ASSERT_PTR_NULL(plan64(256, 0, 255, &p));
	CU_ASSERT_PTR_NOT_NULL(plan64(256, 0, 256, &p));
}

static const char *plan_pvh(struct elf_image *elf, uint64_t mib, size_t cmdline,
			    struct linux_plan *p)
{
	struct boot_mem_range l[4];
	struct linux_plan_in in = { .pvh = true, .elf = elf, .cmdline_len = cmdline,
				    .initrd_size = MiB(1), .layout = l };

	in.layout_count = layout(mib, l);
	return linux_plan(&in, p);
}

static void test_plan_pvh(void)
{
	struct elf_image elf = { 0 };
	struct linux_plan p;
	const char *why;

	elf.segment_count = 2;
	elf.segments[0] = (struct elf_segment){ 0x1000000, 0, 0x100000, 0x200000 };
	elf.segments[1] = (struct elf_segment){ 0x3000000, 0, 0x1000, 0x1a00000 };
	elf.lowest = 0x1000000;
	elf.highest = 0x4a00000;
	elf.has_pvh_entry = true;
	elf.pvh_entry = 0x1000850;
	CU_ASSERT_PTR_NULL(plan_pvh(&elf, 128, 2047, &p));
	CU_ASSERT_EQUAL(p.entry, 0x1000850);
	CU_ASSERT(p.initrd_gpa >= 0x4a00000);
	why = plan_pvh(&elf, 128, 2048, &p);
	CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "2047") : NULL);
	why = plan_pvh(&elf, 64, 10, &p);
	CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "too little memory") : NULL);
	CU_ASSERT_EQUAL(p.need_end, 0x4a00000);
	elf.pvh_entry = 0x5000000;
	CU_ASSERT_PTR_NOT_NULL(plan_pvh(&elf, 128, 10, &p));
	elf.pvh_entry = 0x1000850;
	elf.segments[0].paddr = elf.lowest = 0x8000;
	why = plan_pvh(&elf, 128, 10, &p);
	CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "below 1 MiB") : NULL);
}

static void test_plan_needs_low_ram(void)
{
	struct boot_mem_range l[4];
	struct linux_plan p;
	struct linux_plan_in in = { .pvh = false, .layout = l, .layout_count = 0 };
	struct bzimage bz;
	const char *why;

	make_image();
	CU_ASSERT_EQUAL(bzimage_parse(image, image_len, &bz, &why), 1);
	in.bz = &bz;
	in.layout_count = layout(256, l);
	l[0].size = 0x4000;	/* low RAM too small for the page tables */
	why = linux_plan(&in, &p);
	CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "below 1 MiB") : NULL);
}

static CU_TestInfo tests[] = {
	{ "bzImage: a valid header", test_bzimage_valid },
	{ "bzImage: no magic is not a bzImage", test_bzimage_not_one },
	{ "bzImage: every truncation", test_bzimage_every_truncation },
	{ "bzImage: refusals", test_bzimage_refusals },
	{ "E820 map from the layout", test_e820 },
	{ "hvm_start_info page", test_pvh_start_info },
	{ "zero page", test_zero_page },
	{ "plan: 64-bit protocol", test_plan_linux64 },
	{ "plan: too little memory", test_plan_too_little_memory },
	{ "plan: initrd_addr_max", test_plan_initrd_addr_max },
	{ "plan: command line limits", test_plan_cmdline_limits },
	{ "plan: PVH", test_plan_pvh },
	{ "plan: needs low RAM", test_plan_needs_low_ram },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo linux_boot_suite = { "linux_boot", NULL, NULL, NULL, NULL, tests };
