/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_paths.c - every path of a configuration (kernel,
 * ramdisk, each disk target in each spec form) is relative to the file's
 * directory and comes out absolute, so a build from another directory (a
 * monitor's restart, the backend daemon reading the state files) finds the
 * same files; and a path that cannot be one state-file line is refused.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <keel/start_info.h>
#include "../build/builder.h"
#include "../config/domcfg.h"
#include "statedir.h"
#include "tests.h"

static char err[512];

static int parse_at(const char *cfg_path, const char *text, struct domcfg *cfg)
{
	err[0] = 0;
	return domcfg_parse(cfg_path, text, strlen(text), cfg, err, sizeof(err));
}

static void test_each_path_key(void)
{
	static const char text[] =
		"name = 'paths'\n"
		"kernel = 'vmlinuz'\n"
		"ramdisk = 'boot/initrd.img'\n"
		"disk = [ 'format=raw, vdev=xvda, access=rw, target=disks/a.img',\n"
		"         'b.img,raw,xvdb,ro',\n"
		"         'phy:c.img,xvdc,w',\n"
		"         'file:/srv/d.img,xvdd,w',\n"
		"         'vdev=xvde, target=../e,f.img',\n"
		"         'tap:aio:sub/g.img,xvdf,r' ]\n";
	struct domcfg c;

	CU_ASSERT_EQUAL_FATAL(parse_at("/etc/keel/vm.cfg", text, &c), 0);
	CU_ASSERT_STRING_EQUAL(c.kernel, "/etc/keel/vmlinuz");
	CU_ASSERT_STRING_EQUAL(c.ramdisk, "/etc/keel/boot/initrd.img");
	CU_ASSERT_EQUAL_FATAL(c.ndisks, 6);
	CU_ASSERT_STRING_EQUAL(c.disks[0].target, "/etc/keel/disks/a.img");
	CU_ASSERT_STRING_EQUAL(c.disks[1].target, "/etc/keel/b.img");
	CU_ASSERT_STRING_EQUAL(c.disks[2].target, "/etc/keel/c.img");
	CU_ASSERT_STRING_EQUAL(c.disks[3].target, "/srv/d.img");
	CU_ASSERT_STRING_EQUAL(c.disks[4].target, "/etc/keel/../e,f.img");
	CU_ASSERT_STRING_EQUAL(c.disks[5].target, "/etc/keel/sub/g.img");
	CU_ASSERT_TRUE(c.disks[5].readonly);
	domcfg_free(&c);
	/* The same image twice, read-only both times, is fine. */
	CU_ASSERT_EQUAL(parse_at("/etc/keel/vm.cfg", "name='ro2'\nkernel='k'\n"
				 "disk=['x.img,xvda,ro', '/etc/keel/x.img,xvdb,ro']\n", &c), 0);
	domcfg_free(&c);
}

/* A configuration named by a relative path: its directory is taken from the current one. */
static void test_relative_config_path(void)
{
	static const char text[] = "name = 'rel'\nkernel = 'k.elf'\ndisk = [ 'x.img,xvda' ]\n";
	char cwd[PATH_MAX], want[PATH_MAX + 32];
	struct domcfg c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	CU_ASSERT_EQUAL_FATAL(parse_at("sub/vm.cfg", text, &c), 0);
	snprintf(want, sizeof(want), "%s/sub/k.elf", cwd);
	CU_ASSERT_STRING_EQUAL(c.kernel, want);
	snprintf(want, sizeof(want), "%s/sub/x.img", cwd);
	CU_ASSERT_STRING_EQUAL(c.disks[0].target, want);
	domcfg_free(&c);
	CU_ASSERT_EQUAL_FATAL(parse_at("vm.cfg", text, &c), 0);
	snprintf(want, sizeof(want), "%s/k.elf", cwd);
	CU_ASSERT_STRING_EQUAL(c.kernel, want);
	domcfg_free(&c);
}

struct bad {
	const char *text;
	const char *message;
};

/* Paths the backend's state files could not carry as one line, or carry cut short. */
static void test_path_errors(void)
{
	static char long_kernel[1200], long_disk[1200];
	const struct bad bad[] = {
		{ "name='a'\nkernel=''\n", "vm.cfg:2: 'kernel' is empty" },
		{ "name='a'\nkernel='k\\nx'\n", "vm.cfg:2: 'kernel' holds a control character" },
		{ "name='a'\nkernel='/k'\nramdisk='i\\trd'\n",
		  "vm.cfg:3: 'ramdisk' holds a control character" },
		/* A newline in a target would add a line "access=rw" to a read-only disk's file. */
		{ "name='a'\nkernel='/k'\n\ndisk=['vdev=xvda, access=ro, target=/x.img\\naccess=rw']\n",
		  "vm.cfg:4: 'disk' xvda: target holds a control character" },
		{ "name='a'\nkernel='/k'\ndisk=['vdev=xvdb, target=a\\rb']\n",
		  "vm.cfg:3: 'disk' xvdb: target holds a control character" },
		{ long_kernel, "vm.cfg:2: 'kernel' is longer than 1000 bytes once made absolute" },
		{ long_disk, "vm.cfg:3: 'disk' xvda: target is longer than 1000 bytes" },
		/* The same image twice, written through either: refused, however it is spelt. */
		{ "name='a'\nkernel='/k'\ndisk=['/etc/keel/x.img,xvda,ro',\n'x.img,xvdb,rw']\n",
		  "vm.cfg:4: 'disk' xvdb: target /etc/keel/x.img is also xvda's" },
	};
	struct domcfg c;
	char name[996];

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* 995 bytes: short enough alone, too long once joined to /etc/keel/. */
	snprintf(long_kernel, sizeof(long_kernel), "name='a'\nkernel='%s'\n", name);
	snprintf(long_disk, sizeof(long_disk), "name='a'\nkernel='/k'\ndisk=['%s,xvda']\n", name);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(parse_at("/etc/keel/vm.cfg", bad[i].text, &c), -1);
		if (!strstr(err, bad[i].message)) {
			fprintf(stderr, "\n  path case %zu: got \"%s\"\n", i, err);
			CU_FAIL("path error message");
		}
	}
}

/*
 * The builder, run from another directory than the configuration's (as a
 * monitor restarting the domain may be): the relative kernel, ramdisk and
 * disk are found, and the backend's state file holds the disk's absolute path.
 */
static void test_build_from_elsewhere(void)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 64 };
	struct build_options opt = { .paused = true };
	char kpath[256], cfgpath[256], cwd[PATH_MAX], want[512], target[1024] = "";
	uint64_t before = env_free_pages();
	struct domcfg cfg;
	uint32_t id = 0;
	int rc;

	snprintf(kpath, sizeof(kpath), "%s/paths.elf", env_get()->dir);
	CU_ASSERT_EQUAL_FATAL(write_test_kernel(kpath, &k), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(env_file("paths-initrd", "INITRD"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(env_file("paths-disk.img", "0123456789"));
	snprintf(cfgpath, sizeof(cfgpath), "%s", env_file("paths.cfg",
		 "name = 'relpaths'\nmemory = 8\nkernel = 'paths.elf'\n"
		 "ramdisk = 'paths-initrd'\ndisk = [ 'paths-disk.img,raw,xvda,rw' ]\n"));
	CU_ASSERT_EQUAL_FATAL(domcfg_load(cfgpath, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	CU_ASSERT_EQUAL_FATAL(chdir("/"), 0);
	rc = keelctl_build_domain(&env_get()->ctl, &cfg, &opt, &id, err, sizeof(err));
	CU_ASSERT_EQUAL(chdir(cwd), 0);
	if (rc != 0) {
		fprintf(stderr, "\n  build: %s\n", err);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(kb_state_get("relpaths", "block-0", "target", target, sizeof(target)), 0);
	snprintf(want, sizeof(want), "%s/paths-disk.img", env_get()->dir);
	CU_ASSERT_STRING_EQUAL(target, want);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
	CU_ASSERT_EQUAL(kb_state_remove("relpaths"), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
	domcfg_free(&cfg);
}

static CU_TestInfo tests[] = {
	{ "kernel, ramdisk and every disk form resolve against the file", test_each_path_key },
	{ "a relative configuration path", test_relative_config_path },
	{ "paths that are empty, hold control characters or are too long", test_path_errors },
	{ "a build from another directory finds the files", test_build_from_elsewhere },
	CU_TEST_INFO_NULL,
};

static int clean(void)
{
	env_clean();
	return 0;
}

CU_SuiteInfo paths_suite = { "configuration paths", clean, clean, NULL, NULL, tests };
