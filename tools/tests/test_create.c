/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_create.c - the builder against Keel's real core: a
 * Keel-native kernel lands where its ELF says, with the start info, memory
 * map, page tables and entry state boot.md promises; and every failure
 * (malformed config, missing image, not enough memory, duplicate name,
 * missing disk file, a kernel that does not fit, a device Keel refuses)
 * leaves no domain, Keel's free-page count where it was and no backend
 * state directory for the name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <keel/errno.h>
#include <keel/start_info.h>
#include "../build/builder.h"
#include "../config/domcfg.h"
#include "fake_keel.h"
#include "fake_transport.h"
#include "statedir.h"
#include "tests.h"

static char err[512];

/* Build @cfgtext as the domain @c speaks for. */
static int build_as(struct keelctl *c, const char *cfgtext, uint32_t *domid, bool paused)
{
	const char *path = env_file("vm.cfg", cfgtext);
	struct build_options opt = { .paused = paused };
	struct domcfg cfg;
	int rc;

	err[0] = 0;
	if (domcfg_load(path, &cfg, err, sizeof(err)) != 0) {
		return -2;
	}
	rc = keelctl_build_domain(c, &cfg, &opt, domid, err, sizeof(err));
	domcfg_free(&cfg);
	return rc;
}

static int build(const char *cfgtext, uint32_t *domid, bool paused)
{
	return build_as(&env_get()->ctl, cfgtext, domid, paused);
}

static bool state_dir_exists(const char *name)
{
	char path[KB_STATE_PATH_MAX];
	struct stat st;

	return kb_state_path(path, sizeof(path), name, NULL) == 0 && stat(path, &st) == 0;
}

static const char *kernel(const char *name, const struct test_kernel *k)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", env_get()->dir, name);
	CU_ASSERT_EQUAL(write_test_kernel(path, k), 0);
	return path;
}

static void test_native_long64(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000,
				 .code_size = 10000, .bss = 8192, .abi_major = 1 };
	char cfg[512], path_initrd[256];
	struct keel_ctl_domain_info info;
	struct keel_x86_vcpu_context ctx;
	struct keel_start_info si;
	struct keel_memmap_entry map[16];
	uint8_t bytes[16];
	uint64_t pml4e, pde;
	char cmd[32];
	uint32_t id = 0;

	snprintf(path_initrd, sizeof(path_initrd), "%s/initrd", env_get()->dir);
	FILE *f = fopen(path_initrd, "w");
	fputs("INITRD!", f);
	fclose(f);
	snprintf(cfg, sizeof(cfg), "name='native64'\nmemory=16\nvcpus=2\nkernel='%s'\n"
		 "ramdisk='initrd'\ncmdline='hello keel'\ncpu_weight=300\n",
		 kernel("k64.elf", &k));
	CU_ASSERT_EQUAL_FATAL(build(cfg, &id, false), 0);
	CU_ASSERT_EQUAL_FATAL(keelctl_domain_info(&env_get()->ctl, id, &info), 0);
	CU_ASSERT_EQUAL(info.current_pages, 16 * 256);
	CU_ASSERT_EQUAL(info.nr_vcpus, 2);
	CU_ASSERT_EQUAL(info.weight, 300);
	CU_ASSERT_FALSE(info.flags & KEEL_DOMINFO_F_PAUSED);
	/* The kernel's bytes at its p_paddr, its bss zero. */
	CU_ASSERT_EQUAL(fake_keel_read(id, 0x200000 + 5000, bytes, 4), 0);
	CU_ASSERT_EQUAL(bytes[0], (uint8_t)((5000 * 7 + 3) & 0xff));
	CU_ASSERT_EQUAL(fake_keel_read(id, 0x200000 + 10000, bytes, 16), 0);
	CU_ASSERT_EQUAL(bytes[0] | bytes[15], 0);
	/* The entry state and the start info it points to. */
	CU_ASSERT_EQUAL_FATAL(keelctl_vcpu_get_context(&env_get()->ctl, id, 0, &ctx), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(keelctl_domain_pause(&env_get()->ctl, id), 0);
	CU_ASSERT_EQUAL_FATAL(keelctl_vcpu_get_context(&env_get()->ctl, id, 0, &ctx), 0);
	CU_ASSERT_EQUAL(ctx.rip, 0x200010);
	CU_ASSERT_EQUAL(ctx.cr0, 0x80050033);
	CU_ASSERT_EQUAL(ctx.efer, 0xd00);
	CU_ASSERT_EQUAL(ctx.cs.selector, 0x08);
	CU_ASSERT_EQUAL(ctx.rsp % 16, 0);
	CU_ASSERT_EQUAL_FATAL(fake_keel_read(id, ctx.rdi, &si, sizeof(si)), 0);
	CU_ASSERT_EQUAL(si.magic, KEEL_START_INFO_MAGIC);
	CU_ASSERT_EQUAL(si.domid, id);
	CU_ASSERT_EQUAL(si.nr_vcpus, 2);
	CU_ASSERT_EQUAL(si.nr_modules, 1);
	CU_ASSERT_EQUAL(fake_keel_read(id, si.cmdline_gpa, cmd, 11), 0);
	CU_ASSERT_EQUAL(memcmp(cmd, "hello keel", 11), 0);
	CU_ASSERT_TRUE(si.nr_memmap >= 4 && si.nr_memmap <= 16);
	CU_ASSERT_EQUAL(fake_keel_read(id, si.memmap_gpa, map, si.nr_memmap * sizeof(map[0])), 0);
	CU_ASSERT_EQUAL(map[0].base, 0);
	CU_ASSERT_EQUAL(map[0].type, KEEL_MEMTYPE_RAM);
	for (unsigned int i = 1; i < si.nr_memmap; i++) {
		CU_ASSERT_TRUE(map[i].base >= map[i - 1].base + map[i - 1].size);	/* sorted */
	}
	/* The page tables identity-map the kernel with 2 MiB pages. */
	CU_ASSERT_EQUAL(fake_keel_read(id, ctx.cr3, &pml4e, 8), 0);
	CU_ASSERT_EQUAL(fake_keel_read(id, (pml4e & ~0xfffull), &pde, 8), 0);
	CU_ASSERT_EQUAL(fake_keel_read(id, (pde & ~0xfffull) + 8, &pde, 8), 0);
	CU_ASSERT_EQUAL(pde, 0x200000 | 0x83);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
}

static void test_native_flat32_paused(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_FLAT32, .load = 0x100000, .code_size = 64 };
	struct keel_ctl_domain_info info;
	struct keel_x86_vcpu_context ctx;
	char cfg[512];
	uint32_t id = 0;

	snprintf(cfg, sizeof(cfg), "name='flat32'\nmemory=4\nkernel='%s'\nkeel_console=0\n",
		 kernel("k32.elf", &k));
	CU_ASSERT_EQUAL_FATAL(build(cfg, &id, true), 0);
	CU_ASSERT_EQUAL(keelctl_domain_info(&env_get()->ctl, id, &info), 0);
	CU_ASSERT_TRUE(info.flags & KEEL_DOMINFO_F_PAUSED);
	CU_ASSERT_EQUAL_FATAL(keelctl_vcpu_get_context(&env_get()->ctl, id, 0, &ctx), 0);
	CU_ASSERT_EQUAL(ctx.cr0, 0x11);
	CU_ASSERT_EQUAL(ctx.efer, 0);
	CU_ASSERT_NOT_EQUAL(ctx.rbx, 0);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
}

/*
 * @cfgtext (the domain @name), built by @c, must fail with @message, leaving
 * nothing behind: no domain, no page, no backend state directory.
 */
static void refused_by(struct keelctl *c, const char *name, const char *cfgtext, int want_rc,
		       const char *message)
{
	uint64_t free_before;
	unsigned int domains;
	uint32_t id = 0;
	int rc;

	/*
	 * Other tests' domains of this name, and earlier runs (KEEL_RUN_DIR
	 * outlives the tests), leave their state: without it now, whatever is
	 * there afterwards is this build's.
	 */
	CU_ASSERT_EQUAL(kb_state_remove(name), 0);
	free_before = env_free_pages();
	domains = env_domains();
	rc = build_as(c, cfgtext, &id, false);
	CU_ASSERT_EQUAL(rc, want_rc);
	if (!strstr(err, message)) {
		fprintf(stderr, "\n  got \"%s\"\n  wanted \"%s\"\n", err, message);
		CU_FAIL("error message");
	}
	CU_ASSERT_EQUAL(env_domains(), domains);
	CU_ASSERT_EQUAL(env_free_pages(), free_before);
	if (state_dir_exists(name)) {
		fprintf(stderr, "\n  %s/%s is left behind\n", kb_state_root(), name);
		CU_FAIL("backend state directory");
	}
}

static void refused(const char *name, const char *cfgtext, int want_rc, const char *message)
{
	refused_by(&env_get()->ctl, name, cfgtext, want_rc, message);
}

static void test_nothing_half_created(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 4096 };
	struct test_kernel high = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x3000000,
				    .code_size = 4096 };
	struct test_kernel noted = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000,
				     .code_size = 64, .no_note = true };
	struct test_kernel future = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000,
				      .code_size = 64, .abi_major = 1, .abi_minor = 99 };
	char cfg[768], kpath[256];
	uint32_t id;

	snprintf(kpath, sizeof(kpath), "%s", kernel("ok.elf", &k));
	refused("bad", "name='bad'\nmemroy=16\n", -2, "vm.cfg:2: unknown key 'memroy'");
	refused("nokernel", "name='nokernel'\nkernel='/nonexistent/vmlinux'\n", -1,
		"/nonexistent/vmlinux: No such file");
	snprintf(cfg, sizeof(cfg), "name='huge'\nmemory=4096\nkernel='%s'\n", kpath);
	refused("huge", cfg, -1, "not enough memory: 'huge' needs 4096 MiB");
	snprintf(cfg, sizeof(cfg), "name='ctl'\nmemory=4\nkernel='%s'\n", kpath);
	refused("ctl", cfg, -1, "a domain named 'ctl' already exists");
	snprintf(cfg, sizeof(cfg), "name='nodisk'\nmemory=4\nkernel='%s'\n"
		 "disk=['format=raw,vdev=xvda,access=rw,target=/nonexistent/disk.img']\n", kpath);
	refused("nodisk", cfg, -1, "disk xvda: /nonexistent/disk.img does not exist");
	/* Found out only once the domain exists: it is destroyed again. */
	snprintf(cfg, sizeof(cfg), "name='toosmall'\nmemory=16\nkernel='%s'\n",
		 kernel("high.elf", &high));
	refused("toosmall", cfg, -1, "segment at 0x3000000..0x3001000 is outside the guest's RAM");
	snprintf(cfg, sizeof(cfg), "name='nonote'\nmemory=4\nkernel='%s'\n",
		 kernel("nonote.elf", &noted));
	refused("nonote", cfg, -1, "without a Keel entry note or PVH entry note");
	snprintf(cfg, sizeof(cfg), "name='future'\nmemory=4\nkernel='%s'\n",
		 kernel("future.elf", &future));
	{
		char why[64];

		snprintf(why, sizeof(why), "built for Keel ABI 1.99, this Keel is %u.%u",
			 KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
		refused("future", cfg, -1, why);
	}
	snprintf(cfg, sizeof(cfg), "name='hvm'\nmemory=4\ntype='hvm'\nkernel='%s'\n", kpath);
	refused("hvm", cfg, -1, "type = \"hvm\" boots bzImage kernels");
	refused("text", "name='text'\nmemory=4\nkernel='vm.cfg'\n", -1, "vm.cfg: not an ELF file");
	/* And the same name works afterwards: nothing was left holding it. */
	snprintf(cfg, sizeof(cfg), "name='nodisk'\nmemory=4\nkernel='%s'\n", kpath);
	CU_ASSERT_EQUAL(build(cfg, &id, false), 0);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
}

/*
 * Keel refuses a device only once the domain exists and the backends' state
 * is written: a creator holding CREATE but not every backend right gets
 * EPERM at its first device of a class it may not serve, and the state
 * written for the name must go with the domain.
 */
static void test_refused_device_leaves_no_state(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 4096 };
	const uint32_t rights = KEEL_CAP_CREATE | KEEL_CAP_BACKEND_CONSOLE | KEEL_CAP_BACKEND_BLOCK;
	uint32_t creator_id;
	void *creator = fake_keel_domain("creator", rights, &creator_id);
	struct keelctl c = { .t = NULL };
	char cfg[1024], kpath[256], img[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(creator);
	c.t = fake_transport_open(creator);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.t);
	snprintf(kpath, sizeof(kpath), "%s", kernel("dev.elf", &k));
	snprintf(img, sizeof(img), "%s", env_file("dev-disk.img", "0123456789"));
	/* The console and xvda are set up, then eth0 is refused: no BACKEND_NET. */
	snprintf(cfg, sizeof(cfg), "name='nonet'\nmemory=4\nkernel='%s'\n"
		 "disk=['%s,raw,xvda,rw']\nvif=['bridge=br0']\n", kpath, img);
	refused_by(&c, "nonet", cfg, -1, "setting up device eth0: not permitted");
	/* Without BACKEND_CONSOLE the very first device is refused. */
	CU_ASSERT_EQUAL(keelctl_domain_set_caps(&env_get()->ctl, creator_id, KEEL_CAP_CREATE), 0);
	snprintf(cfg, sizeof(cfg), "name='noconsole'\nmemory=4\nkernel='%s'\n", kpath);
	refused_by(&c, "noconsole", cfg, -1, "setting up device console: not permitted");
	c.t->close(c.t);
	fake_keel_domain_destroy(creator);
}

/* A duplicate is refused before anything is written: the live domain's state stays. */
static void test_refused_duplicate_keeps_state(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 4096 };
	char cfg[1024], img[256], target[256] = "";
	uint32_t id, dup = 0;

	snprintf(img, sizeof(img), "%s", env_file("keep-disk.img", "0123456789"));
	snprintf(cfg, sizeof(cfg), "name='keep'\nmemory=4\nkernel='%s'\ndisk=['%s,raw,xvda,rw']\n",
		 kernel("keep.elf", &k), img);
	CU_ASSERT_EQUAL_FATAL(build(cfg, &id, false), 0);
	CU_ASSERT_TRUE(state_dir_exists("keep"));
	CU_ASSERT_EQUAL(build(cfg, &dup, false), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a domain named 'keep' already exists"));
	CU_ASSERT_EQUAL(kb_state_get("keep", "block-0", "target", target, sizeof(target)), 0);
	CU_ASSERT_STRING_EQUAL(target, img);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
	CU_ASSERT_EQUAL(kb_state_remove("keep"), 0);
}

static void test_destroy_returns_every_page(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 4096 };
	const char *img = env_file("disk.img", "0123456789");
	char cfg[768], imgpath[256];
	uint64_t before = env_free_pages();
	uint32_t id;

	snprintf(imgpath, sizeof(imgpath), "%s", img);
	snprintf(cfg, sizeof(cfg), "name='full'\nmemory=8\nkernel='%s'\n"
		 "disk=['%s,raw,xvda,rw']\nvif=['bridge=br0','mac=02:00:00:00:00:01']\n",
		 kernel("full.elf", &k), imgpath);
	CU_ASSERT_EQUAL_FATAL(build(cfg, &id, false), 0);
	CU_ASSERT_TRUE(env_free_pages() < before);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
}

static CU_TestInfo tests[] = {
	{ "Keel-native LONG64 kernel, initrd, cmdline", test_native_long64 },
	{ "Keel-native FLAT32 kernel, left paused", test_native_flat32_paused },
	{ "every failure leaves nothing behind", test_nothing_half_created },
	{ "a device Keel refuses leaves no state behind", test_refused_device_leaves_no_state },
	{ "a refused duplicate keeps the live domain's state", test_refused_duplicate_keeps_state },
	{ "destroy returns every page (devices too)", test_destroy_returns_every_page },
	CU_TEST_INFO_NULL,
};

static int clean(void)
{
	env_clean();
	return 0;
}

CU_SuiteInfo create_suite = { "builder", clean, clean, NULL, NULL, tests };
