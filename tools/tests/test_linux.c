/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_linux.c - keelctl builds Linux domains against Keel's real
 * core: a bzImage entered by PVH from its extracted vmlinux (gzip, xz and
 * zstd payloads), a bzImage through the 64-bit boot protocol, a PVH vmlinux
 * given directly; each checked in the guest's memory (kernel, initrd,
 * command line with tsc_early_khz, hvm_start_info or zero page, E820 map,
 * GDT, page tables) and in vCPU 0's registers. Every refusal leaves no
 * domain and Keel's free-page count where it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <keel/errno.h>
#include <keel/start_info.h>
#include "../build/builder.h"
#include "../config/domcfg.h"
#include "fake_keel.h"
#include "tests.h"

#define LOAD		0x1000000ull	/* pref_address / p_paddr of the test kernels */
#define CODE_SIZE	300000
#define BOOT_AREA	0x1000ull	/* hvm_start_info / zero page (boot.md) */
#define CMDLINE_GPA	0x2000ull
#define TABLES_GPA	0x3000ull
#define ACPI_ALL	(KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC | \
			 KEEL_DOMCREATE_F_PLATFORM_PCI)
#define INITRD_TEXT	"an initrd, as bytes"

static char err[512];

static uint64_t rd(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i > 0; i--) {
		v = (v << 8) | p[i - 1];
	}
	return v;
}

/* Read @len bytes of the guest at @gpa, across pages. */
static int guest_read(uint32_t id, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint32_t n = (uint32_t)(4096 - gpa % 4096 < len ? 4096 - gpa % 4096 : len);

		if (fake_keel_read(id, gpa, out, n) != 0) {
			return -1;
		}
		gpa += n;
		out += n;
		len -= n;
	}
	return 0;
}

static uint64_t guest_u64(uint32_t id, uint64_t gpa, unsigned int n)
{
	uint8_t b[8] = { 0 };

	CU_ASSERT_EQUAL(guest_read(id, gpa, b, n), 0);
	return rd(b, n);
}

static const char *file_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", env_get()->dir, name);
	return path;
}

static const char *bzimage(const char *name, const struct test_linux *k)
{
	const char *path = file_path(name);

	CU_ASSERT_EQUAL(write_test_bzimage(path, k), 0);
	return path;
}

static const char *vmlinux(const char *name, const struct test_linux *k)
{
	const char *path = file_path(name);

	CU_ASSERT_EQUAL(write_test_vmlinux(path, k), 0);
	return path;
}

/* keelctl create with @extra config lines; the kernel is @kernel. */
static int build(const char *name, const char *kernel, const char *extra, uint32_t *id)
{
	char text[4096];
	const char *path;
	struct build_options opt = { .paused = false };
	struct domcfg cfg;
	int rc;

	env_file("initrd.img", INITRD_TEXT);
	snprintf(text, sizeof(text), "name='%s'\nmemory=64\nvcpus=1\nkernel='%s'\n"
		 "ramdisk='initrd.img'\n%s", name, kernel, extra);
	path = env_file("linux.cfg", text);
	err[0] = 0;
	if (domcfg_load(path, &cfg, err, sizeof(err)) != 0) {
		return -2;
	}
	rc = keelctl_build_domain(&env_get()->ctl, &cfg, &opt, id, err, sizeof(err));
	domcfg_free(&cfg);
	return rc;
}

/* The same, expected to work: says why when it did not. */
static int built(const char *name, const char *kernel, const char *extra, uint32_t *id)
{
	int rc = build(name, kernel, extra, id);

	if (rc != 0) {
		fprintf(stderr, "\n  build '%s': %s\n", name, err);
	}
	return rc;
}

static void context(uint32_t id, struct keel_x86_vcpu_context *ctx)
{
	CU_ASSERT_EQUAL(keelctl_domain_pause(&env_get()->ctl, id), 0);
	CU_ASSERT_EQUAL_FATAL(keelctl_vcpu_get_context(&env_get()->ctl, id, 0, ctx), 0);
}

static uint32_t host_tsc_khz(void)
{
	struct keel_ctl_host_info h;

	CU_ASSERT_EQUAL_FATAL(keelctl_host_info(&env_get()->ctl, &h), 0);
	return h.tsc_khz;
}

/* The command line Keel's builder would give: @given plus tsc_early_khz. */
static void check_cmdline(uint32_t id, uint64_t gpa, const char *given)
{
	char want[128], got[128] = { 0 };

	snprintf(want, sizeof(want), "%s tsc_early_khz=%u", given, host_tsc_khz());
	CU_ASSERT_EQUAL(guest_read(id, gpa, got, strlen(want) + 1), 0);
	CU_ASSERT_STRING_EQUAL(got, want);
}

/* An E820 map (@count entries of @size bytes at @gpa): sorted, RAM where boot.md says. */
static void check_e820(uint32_t id, uint64_t gpa, unsigned int count, unsigned int size)
{
	uint64_t prev_end = 0;
	bool low = false, mid = false, firmware = false, lapic = false;

	CU_ASSERT_TRUE(count >= 6 && count <= 16);
	for (unsigned int i = 0; i < count; i++) {
		uint64_t addr = guest_u64(id, gpa + i * size, 8);
		uint64_t len = guest_u64(id, gpa + i * size + 8, 8);
		uint32_t type = (uint32_t)guest_u64(id, gpa + i * size + 16, 4);

		CU_ASSERT_TRUE(addr >= prev_end);
		prev_end = addr + len;
		low |= addr == 0 && len == 0xa0000 && type == 1;
		mid |= addr == 0x100000 && len == 64 * 0x100000ull - 0xa0000 && type == 1;
		firmware |= addr == KEEL_X86_GPA_FIRMWARE && type == 2;
		lapic |= addr == KEEL_X86_GPA_LAPIC && type == 2;
	}
	CU_ASSERT_TRUE(low && mid && firmware && lapic);
}

/* PVH: hvm_start_info, the vmlinux at its p_paddr, 32-bit flat entry state. */
static void check_pvh(uint32_t id, const struct test_linux *k, const char *cmdline)
{
	struct keel_x86_vcpu_context ctx;
	uint8_t got[64], initrd[sizeof(INITRD_TEXT) - 1];
	uint64_t modlist, initrd_gpa;

	CU_ASSERT_EQUAL(fake_keel_domain_platform(id), ACPI_ALL);
	/* The kernel's bytes where its segment says, its bss zero. */
	CU_ASSERT_EQUAL(guest_read(id, k->load + 123456, got, 16), 0);
	for (unsigned int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(got[i], linux_test_byte(123456 + i));
	}
	CU_ASSERT_EQUAL(guest_u64(id, k->load + k->code_size + 8, 8), 0);
	/* hvm_start_info (boot.md table). */
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA, 4), 0x336ec578);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 4, 4), 1);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 12, 4), 1);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 24, 8), CMDLINE_GPA);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 32, 8), KEEL_X86_GPA_FIRMWARE);
	modlist = guest_u64(id, BOOT_AREA + 16, 8);
	initrd_gpa = guest_u64(id, modlist, 8);
	CU_ASSERT_EQUAL(guest_u64(id, modlist + 8, 8), sizeof(INITRD_TEXT) - 1);
	CU_ASSERT_EQUAL(initrd_gpa % 4096, 0);
	CU_ASSERT_TRUE(initrd_gpa >= k->load + k->code_size + k->bss);
	CU_ASSERT_EQUAL(guest_read(id, initrd_gpa, initrd, sizeof(initrd)), 0);
	CU_ASSERT_EQUAL(memcmp(initrd, INITRD_TEXT, sizeof(initrd)), 0);
	check_cmdline(id, CMDLINE_GPA, cmdline);
	check_e820(id, guest_u64(id, BOOT_AREA + 40, 8), (unsigned int)guest_u64(id, BOOT_AREA + 48, 4),
		   24);
	/* The GDT: null, flat 32-bit code at 0x08, flat data at 0x10. */
	CU_ASSERT_EQUAL(guest_u64(id, TABLES_GPA + 8, 8), 0x00cf9b000000ffffull);
	CU_ASSERT_EQUAL(guest_u64(id, TABLES_GPA + 16, 8), 0x00cf93000000ffffull);
	/* boot.md "PVH entry", Registers. */
	context(id, &ctx);
	CU_ASSERT_EQUAL(ctx.rip, k->load + k->pvh_entry_offset);
	CU_ASSERT_EQUAL(ctx.rbx, BOOT_AREA);
	CU_ASSERT_EQUAL(ctx.cr0, 0x11);
	CU_ASSERT_EQUAL(ctx.cr4, 0);
	CU_ASSERT_EQUAL(ctx.efer, 0);
	CU_ASSERT_EQUAL(ctx.rflags, 0x2);
	CU_ASSERT_EQUAL(ctx.cs.selector, 0x08);
	CU_ASSERT_EQUAL(ctx.cs.attr, 0xc9b);		/* 32-bit code, D set, L clear */
	CU_ASSERT_EQUAL(ctx.cs.limit, 0xffffffffu);
	CU_ASSERT_EQUAL(ctx.ss.selector, 0x10);
	CU_ASSERT_EQUAL(ctx.ds.attr, 0xc93);
	CU_ASSERT_EQUAL(ctx.tr.attr & 0x8f, 0x8b);	/* present 32-bit TSS (busy) */
	CU_ASSERT_EQUAL(ctx.tr.base, 0);
	CU_ASSERT_EQUAL(ctx.tr.limit, 0x67);
	CU_ASSERT_EQUAL(ctx.gdtr.base, TABLES_GPA);
	CU_ASSERT_EQUAL(ctx.gdtr.limit, 23);
}

static void test_bzimage_pvh(void)
{
	static const enum test_codec codecs[] = { TEST_GZIP, TEST_XZ, TEST_ZSTD };
	struct test_linux k = { .load = LOAD, .code_size = CODE_SIZE, .bss = 70000,
				.pvh_note = true, .pvh_entry_offset = 0x40 };
	uint64_t before = env_free_pages();

	for (unsigned int i = 0; i < 3; i++) {
		uint32_t id = 0;

		k.codec = codecs[i];
		/* type = "pvh" is the default: PVH because the vmlinux has the note. */
		CU_ASSERT_EQUAL_FATAL(built("pvhbz", bzimage("bzImage-pvh", &k),
					    "cmdline='console=ttyS0 root=/dev/xvda1'\n", &id), 0);
		check_pvh(id, &k, "console=ttyS0 root=/dev/xvda1");
		CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
		CU_ASSERT_EQUAL(env_free_pages(), before);
	}
}

static void test_vmlinux_pvh(void)
{
	struct test_linux k = { .load = 0x200000, .code_size = CODE_SIZE, .bss = 4096,
				.pvh_note = true, .pvh_entry_offset = 0x1230 };
	uint32_t id = 0;

	CU_ASSERT_EQUAL_FATAL(built("pvhelf", vmlinux("vmlinux", &k),
				    "type='pvh'\nroot='/dev/xvda1'\nextra='console=ttyS0'\n", &id),
			      0);
	check_pvh(id, &k, "root=/dev/xvda1 console=ttyS0");
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
}

/* The 64-bit protocol: protected-mode part at pref_address, zero page, long mode. */
static void check_linux64(uint32_t id, const struct test_linux *k)
{
	struct keel_x86_vcpu_context ctx;
	uint8_t got[16], initrd[sizeof(INITRD_TEXT) - 1];
	uint64_t initrd_gpa, pml4e, pdpte, pde;

	CU_ASSERT_EQUAL(fake_keel_domain_platform(id), ACPI_ALL);
	CU_ASSERT_EQUAL(guest_read(id, k->load + 0x100, got, 16), 0);
	for (unsigned int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(got[i], linux_test_byte(0x100 + i + 7));
	}
	/* The zero page: the setup header copied, then the loader's fields. */
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 0x202, 4), 0x53726448);	/* "HdrS" */
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 0x1f1, 1), 4);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 0x210, 1), 0xff);		/* type_of_loader */
	CU_ASSERT_TRUE(guest_u64(id, BOOT_AREA + 0x211, 1) & 0x01);		/* LOADED_HIGH */
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 0x228, 4), CMDLINE_GPA);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 0x070, 8), KEEL_X86_GPA_FIRMWARE);
	initrd_gpa = guest_u64(id, BOOT_AREA + 0x218, 4);
	CU_ASSERT_EQUAL(guest_u64(id, BOOT_AREA + 0x21c, 4), sizeof(INITRD_TEXT) - 1);
	CU_ASSERT_TRUE(initrd_gpa >= k->load + guest_u64(id, BOOT_AREA + 0x260, 4));
	CU_ASSERT_EQUAL(guest_read(id, initrd_gpa, initrd, sizeof(initrd)), 0);
	CU_ASSERT_EQUAL(memcmp(initrd, INITRD_TEXT, sizeof(initrd)), 0);
	check_cmdline(id, CMDLINE_GPA, "console=ttyS0 root=/dev/xvda1");
	check_e820(id, BOOT_AREA + 0x2d0, (unsigned int)guest_u64(id, BOOT_AREA + 0x1e8, 1), 20);
	/* boot.md "Linux 64-bit boot protocol", Registers. */
	context(id, &ctx);
	CU_ASSERT_EQUAL(ctx.rip, k->load + 0x200);
	CU_ASSERT_EQUAL(ctx.rsi, BOOT_AREA);
	CU_ASSERT_EQUAL(ctx.cr0, 0x80000031);		/* PE ET NE PG */
	CU_ASSERT_EQUAL(ctx.cr4 & 0x20, 0x20);		/* PAE */
	CU_ASSERT_EQUAL(ctx.efer & 0x100, 0x100);	/* LME */
	CU_ASSERT_EQUAL(ctx.rflags, 0x2);		/* interrupts off */
	CU_ASSERT_EQUAL(ctx.cs.selector, 0x10);
	CU_ASSERT_EQUAL(ctx.cs.attr, 0xa9b);		/* 64-bit code: L set, D clear */
	CU_ASSERT_EQUAL(ctx.ds.selector, 0x18);
	CU_ASSERT_EQUAL(ctx.ss.selector, 0x18);
	CU_ASSERT_EQUAL(ctx.gdtr.base, TABLES_GPA);
	CU_ASSERT_EQUAL(ctx.gdtr.limit, 31);
	CU_ASSERT_EQUAL(guest_u64(id, TABLES_GPA + 0x10, 8), 0x00af9b000000ffffull);
	CU_ASSERT_EQUAL(guest_u64(id, TABLES_GPA + 0x18, 8), 0x00cf93000000ffffull);
	/* CR3: [0, 4 GiB) identity-mapped with 2 MiB pages; walk the kernel's and 3.5 GiB. */
	pml4e = guest_u64(id, ctx.cr3, 8);
	CU_ASSERT_EQUAL(pml4e & 0x3, 0x3);
	pdpte = guest_u64(id, pml4e & ~0xfffull, 8);
	pde = guest_u64(id, (pdpte & ~0xfffull) + (k->load >> 21) * 8, 8);
	CU_ASSERT_EQUAL(pde, k->load | 0x83);
	pdpte = guest_u64(id, (pml4e & ~0xfffull) + 3 * 8, 8);
	CU_ASSERT_EQUAL(guest_u64(id, (pdpte & ~0xfffull) + 256 * 8, 8), 0xe0000000ull | 0x83);
}

static void test_bzimage_linux64(void)
{
	struct test_linux k = { .load = LOAD, .code_size = CODE_SIZE, .pvh_note = true,
				.codec = TEST_XZ };
	struct test_linux nonote = { .load = LOAD, .code_size = CODE_SIZE, .codec = TEST_GZIP };
	uint64_t before = env_free_pages();
	uint32_t id = 0;

	/* Forced by the Keel extra, though the vmlinux could boot by PVH. */
	CU_ASSERT_EQUAL_FATAL(built("l64", bzimage("bzImage-l64", &k),
				    "keel_boot_protocol='linux64'\n"
				    "cmdline='console=ttyS0 root=/dev/xvda1'\n", &id), 0);
	check_linux64(id, &k);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
	/* type = "hvm" means the same. */
	CU_ASSERT_EQUAL_FATAL(built("hvm", bzimage("bzImage-hvm", &k),
				    "type='hvm'\ncmdline='console=ttyS0 root=/dev/xvda1'\n", &id), 0);
	check_linux64(id, &k);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
	/* And without a PVH note, "auto" falls back to it. */
	CU_ASSERT_EQUAL_FATAL(built("nonote", bzimage("bzImage-nonote", &nonote),
				    "cmdline='console=ttyS0 root=/dev/xvda1'\n", &id), 0);
	check_linux64(id, &nonote);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
}

/* @kernel with @extra must fail with @message, leaving nothing behind. */
static void refused(const char *kernel, const char *extra, const char *message)
{
	uint64_t free_before = env_free_pages();
	unsigned int domains = env_domains();
	uint32_t id = 0;
	int rc = build("refused", kernel, extra, &id);

	CU_ASSERT_EQUAL(rc, -1);
	if (!strstr(err, message)) {
		fprintf(stderr, "\n  got \"%s\"\n  wanted \"%s\"\n", err, message);
		CU_FAIL("error message");
	}
	CU_ASSERT_EQUAL(env_domains(), domains);
	CU_ASSERT_EQUAL(env_free_pages(), free_before);
}

static void test_linux_refusals(void)
{
	struct test_linux nonote = { .load = LOAD, .code_size = 5000, .codec = TEST_ZSTD };
	struct test_linux corrupt = { .load = LOAD, .code_size = CODE_SIZE, .pvh_note = true,
				      .codec = TEST_XZ, .corrupt = true };
	struct test_linux huge = { .load = LOAD, .code_size = 5000, .codec = TEST_GZIP,
				   .init_size = 0x8000000 };
	struct test_linux high = { .load = 0x8000000, .code_size = 5000, .pvh_note = true,
				   .pvh_entry_offset = 0x10 };
	struct test_linux outside = { .load = LOAD, .code_size = 5000, .pvh_note = true,
				      .pvh_entry_offset = 0x100000 };
	struct test_linux ok = { .load = LOAD, .code_size = 5000, .pvh_note = true };
	char longline[2040], truncated[256];
	FILE *f;

	refused(bzimage("nonote.bz", &nonote), "keel_boot_protocol='pvh'\n",
		"keel_boot_protocol = \"pvh\" but its vmlinux has no PVH entry note");
	refused(bzimage("corrupt.bz", &corrupt), "",
		"its compressed kernel cannot be extracted: xz: corrupt data");
	refused(bzimage("ok.bz", &ok), "type='hvm'\nkeel_boot_protocol='pvh'\n",
		"keel_boot_protocol = \"pvh\" needs type = \"pvh\"");
	refused(vmlinux("ok.elf", &ok), "keel_boot_protocol='linux64'\n",
		"needs a bzImage; this is an ELF kernel");
	refused(vmlinux("ok.elf", &ok), "type='hvm'\n", "type = \"hvm\" boots bzImage kernels");
	/* Found out once the domain exists: it is destroyed again. */
	refused(bzimage("huge.bz", &huge), "keel_boot_protocol='linux64'\n",
		"too little memory: the kernel's init_size does not fit in its RAM (RAM must "
		"reach 0x9000000, 144 MiB; memory = 64 MiB)");
	refused(vmlinux("high.elf", &high), "",
		"too little memory: a kernel segment does not fit in its RAM");
	refused(vmlinux("outside.elf", &outside), "", "its PVH entry point is outside the kernel");
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "cmdline='", 9);
	memcpy(longline + sizeof(longline) - 3, "'\n", 3);
	/* 2047 bytes fit Linux, but not with tsc_early_khz= added. */
	refused(vmlinux("ok.elf", &ok), longline, "the command line is too long for Linux");
	/* A bzImage cut inside its setup header, before the domain exists. */
	snprintf(truncated, sizeof(truncated), "%s", bzimage("cut.bz", &ok));
	f = fopen(truncated, "r+");
	CU_ASSERT_EQUAL_FATAL(f != NULL, true);
	CU_ASSERT_EQUAL(ftruncate(fileno(f), 0x240), 0);
	fclose(f);
	refused(truncated, "", "a Linux bzImage keelctl cannot boot: truncated");
}

static CU_TestInfo tests[] = {
	{ "bzImage by PVH (gzip, xz, zstd vmlinux)", test_bzimage_pvh },
	{ "PVH vmlinux, root= and extra=", test_vmlinux_pvh },
	{ "bzImage by the 64-bit protocol (forced, hvm, no note)", test_bzimage_linux64 },
	{ "every Linux refusal leaves nothing behind", test_linux_refusals },
	CU_TEST_INFO_NULL,
};

static int clean(void)
{
	env_clean();
	return 0;
}

CU_SuiteInfo linux_suite = { "builder: Linux", clean, clean, NULL, NULL, tests };
