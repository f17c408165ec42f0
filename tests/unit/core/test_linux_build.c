/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_linux_build.c - unit tests for core/linux_build.c:
 * the command line Linux gets and how the boot protocol is chosen.
 */
#include <lzma.h>
#include <keel/heap.h>
#include <keel/linux_build.h>
#include <x86/linux_boot.h>
#include "fake_arch.h"
#include "linux_fixture.h"
#include "unit.h"

#define SEG_SIZE	0x4000
#define INIT_SIZE	0x100000u

static uint8_t elf[FIX_ELF_LOAD_OFFSET + SEG_SIZE];
static uint8_t packed[sizeof(elf) + 4096];
static uint8_t bz[FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT + sizeof(packed) + 0x100];

static void test_cmdline(void)
{
	char out[64];

	CU_ASSERT_TRUE(linux_cmdline("console=ttyS0", 2500000, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "console=ttyS0 tsc_early_khz=2500000");
	CU_ASSERT_TRUE(linux_cmdline("", 1000, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "tsc_early_khz=1000");
	/* Already there: left alone. */
	CU_ASSERT_TRUE(linux_cmdline("a tsc_early_khz=5 b", 1000, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "a tsc_early_khz=5 b");
	CU_ASSERT_TRUE(linux_cmdline("tsc_early_khz=5", 1000, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "tsc_early_khz=5");
	/* Only at a word start. */
	CU_ASSERT_TRUE(linux_cmdline("xtsc_early_khz=5", 7, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "xtsc_early_khz=5 tsc_early_khz=7");
	/* Unknown frequency: nothing added. */
	CU_ASSERT_TRUE(linux_cmdline("quiet", 0, out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "quiet");
	/* Does not fit: refused, never cut. */
	CU_ASSERT_FALSE(linux_cmdline("0123456789012345678901234567890123456789012345",
				      2500000, out, sizeof(out)));
	CU_ASSERT_TRUE(linux_cmdline("012345678901234567890123456789012345", 2500000, out,
				     sizeof(out)));
}

static int x86_parse(const void *data, size_t size, struct arch_linux_image *li,
		     const char **why)
{
	struct bzimage b;
	int rc = bzimage_parse(data, size, &b, why);

	if (rc == 1) {
		*li = (struct arch_linux_image){ b.payload_offset, b.payload_size, b.init_size,
						 b.pref_address, b.init_size, b.version };
	}
	return rc;
}

/* Open a bzImage whose vmlinux has (or lacks) the PVH note. */
static void open_bz(bool pvh_note, struct kernel_image *k, void **copy)
{
	size_t len = fix_elf(elf, false, pvh_note ? 4 : 0, 0x1000850, 0x1000000, SEG_SIZE);
	size_t n = 0;

	CU_ASSERT_FATAL(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, elf, len, packed, &n,
						sizeof(packed)) == LZMA_OK);
	len = fix_bzimage(bz, packed, n, INIT_SIZE);
	*copy = exact_copy(bz, len);
	CU_ASSERT_TRUE_FATAL(kernel_image_open(*copy, len, k));
}

static uint32_t choose(bool pvh_note, uint32_t forced, char *why, bool *extracted)
{
	struct domain_spec spec = { .boot_protocol = forced };
	struct kernel_image k;
	void *copy;
	uint32_t proto;

	open_bz(pvh_note, &k, &copy);
	why[0] = '\0';
	proto = linux_choose_protocol(&spec, &k, why, 160);
	*extracted = k.vmlinux != NULL;
	kernel_image_close(&k);
	free(copy);
	CU_ASSERT_EQUAL(heap_page_count(), 0);
	return proto;
}

static void test_protocol_choice(void)
{
	char why[160];
	bool extracted;

	unit_reset();
	fake.linux_image_parse = x86_parse;
	CU_ASSERT_EQUAL(choose(true, BOOT_PROTOCOL_AUTO, why, &extracted), ARCH_LINUX_PVH);
	CU_ASSERT_TRUE(extracted);
	CU_ASSERT_EQUAL(choose(false, BOOT_PROTOCOL_AUTO, why, &extracted), ARCH_LINUX_64);
	CU_ASSERT_EQUAL(choose(true, BOOT_PROTOCOL_PVH, why, &extracted), ARCH_LINUX_PVH);
	CU_ASSERT_EQUAL(choose(false, BOOT_PROTOCOL_PVH, why, &extracted), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "no PVH entry note"));
	/* Forced 64-bit: no time spent extracting. */
	CU_ASSERT_EQUAL(choose(true, BOOT_PROTOCOL_LINUX64, why, &extracted), ARCH_LINUX_64);
	CU_ASSERT_FALSE(extracted);
}

static void test_protocol_for_pvh_elf(void)
{
	struct domain_spec spec = { .boot_protocol = BOOT_PROTOCOL_LINUX64 };
	size_t len = fix_elf(elf, false, 4, 0x1000850, 0x1000000, SEG_SIZE);
	struct kernel_image k;
	char why[160];
	void *copy = exact_copy(elf, len);

	unit_reset();
	CU_ASSERT_TRUE_FATAL(kernel_image_open(copy, len, &k));
	CU_ASSERT_EQUAL(linux_choose_protocol(&spec, &k, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "needs a bzImage"));
	spec.boot_protocol = BOOT_PROTOCOL_AUTO;
	CU_ASSERT_EQUAL(linux_choose_protocol(&spec, &k, why, sizeof(why)), ARCH_LINUX_PVH);
	kernel_image_close(&k);
	free(copy);
}

static CU_TestInfo tests[] = {
	{ "command line gets tsc_early_khz", test_cmdline },
	{ "protocol: PVH if the vmlinux has the note", test_protocol_choice },
	{ "protocol: a PVH ELF", test_protocol_for_pvh_elf },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo linux_build_suite = { "linux_build", unit_page_alloc_init, NULL, NULL,
				   NULL, tests };
