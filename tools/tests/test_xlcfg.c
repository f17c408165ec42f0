/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_xlcfg.c - the xl.cfg subset: syntax, every key, every
 * error message (file, line, key), and random truncations and corruptions
 * of valid files that must end in an error, never a crash.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/control.h>
#include "../config/domcfg.h"
#include "tests.h"

static char err[512];

static int parse(const char *text, struct domcfg *cfg)
{
	err[0] = 0;
	return domcfg_parse("/etc/keel/vm.cfg", text, strlen(text), cfg, err, sizeof(err));
}

static const char full[] =
	"# a Xen user's config\n"
	"name = \"web1\"\n"
	"type = 'pvh'\n"
	"memory = 512\n"
	"maxmem = 512\n"
	"vcpus = 2; maxvcpus = 2\n"
	"kernel = \"vmlinuz\"\n"
	"ramdisk = '/boot/initrd.img'\n"
	"cmdline = 'console=hvc0 root=/dev/xvda1'\n"
	"disk = [ 'format=raw, vdev=xvda, access=rw, target=/var/lib/keel/web1.img',\n"
	"         '/srv/data.img,raw,xvdb,ro',   # a comment inside the list\n"
	"       ]\n"
	"vif = [ \"mac=00:16:3e:01:02:03, bridge=br0\", 'bridge=br1', ]\n"
	"on_poweroff = 'destroy'\n"
	"on_reboot = \"restart\"\n"
	"on_crash = 'preserve'\n"
	"uuid = '01234567-89ab-cdef-0123-456789abcdef'\n"
	"cpu_weight = 512\n"
	"cap = 150\n"
	"keel_caps = [ 'backend-block', 'log' ]\n"
	"keel_platform = [ 'uart' ]\n"
	"keel_console = 0\n";

static void test_every_key(void)
{
	struct domcfg c;

	CU_ASSERT_EQUAL_FATAL(parse(full, &c), 0);
	CU_ASSERT_STRING_EQUAL(c.name, "web1");
	CU_ASSERT_EQUAL(c.type, DOMCFG_TYPE_PVH);
	CU_ASSERT_EQUAL(c.memory_mib, 512);
	CU_ASSERT_EQUAL(c.vcpus, 2);
	CU_ASSERT_STRING_EQUAL(c.kernel, "/etc/keel/vmlinuz");	/* relative to the file */
	CU_ASSERT_STRING_EQUAL(c.ramdisk, "/boot/initrd.img");
	CU_ASSERT_STRING_EQUAL(c.cmdline, "console=hvc0 root=/dev/xvda1");
	CU_ASSERT_EQUAL_FATAL(c.ndisks, 2);
	CU_ASSERT_STRING_EQUAL(c.disks[0].target, "/var/lib/keel/web1.img");
	CU_ASSERT_STRING_EQUAL(c.disks[0].vdev, "xvda");
	CU_ASSERT_FALSE(c.disks[0].readonly);
	CU_ASSERT_STRING_EQUAL(c.disks[1].target, "/srv/data.img");
	CU_ASSERT_STRING_EQUAL(c.disks[1].vdev, "xvdb");
	CU_ASSERT_TRUE(c.disks[1].readonly);
	CU_ASSERT_EQUAL(c.disks[1].line, 11);
	CU_ASSERT_EQUAL_FATAL(c.nvifs, 2);
	CU_ASSERT_TRUE(c.vifs[0].mac_set);
	CU_ASSERT_EQUAL(c.vifs[0].mac[5], 3);
	CU_ASSERT_STRING_EQUAL(c.vifs[0].bridge, "br0");
	CU_ASSERT_FALSE(c.vifs[1].mac_set);
	CU_ASSERT_EQUAL(c.on_poweroff, DOMCFG_DESTROY);
	CU_ASSERT_EQUAL(c.on_reboot, DOMCFG_RESTART);
	CU_ASSERT_EQUAL(c.on_crash, DOMCFG_PRESERVE);
	CU_ASSERT_TRUE(c.uuid_set);
	CU_ASSERT_EQUAL(c.uuid[0], 0x01);
	CU_ASSERT_EQUAL(c.uuid[15], 0xef);
	CU_ASSERT_EQUAL(c.weight, 512);
	CU_ASSERT_EQUAL(c.cap, 150);
	CU_ASSERT_EQUAL(c.caps, KEEL_CAP_BACKEND_BLOCK | KEEL_CAP_LOG);
	CU_ASSERT_TRUE(c.platform_set);
	CU_ASSERT_EQUAL(c.platform, KEEL_DOMCREATE_F_UART);
	CU_ASSERT_FALSE(c.console);
	domcfg_free(&c);
}

static void test_defaults_and_old_keys(void)
{
	struct domcfg c;

	CU_ASSERT_EQUAL_FATAL(parse("name='a'\nkernel='/k'\nroot='/dev/xvda1 ro'\n"
				    "extra=\"quiet\"\nbuilder='hvm'\n", &c), 0);
	CU_ASSERT_EQUAL(c.memory_mib, 128);
	CU_ASSERT_EQUAL(c.vcpus, 1);
	CU_ASSERT_TRUE(c.console);
	CU_ASSERT_FALSE(c.platform_set);
	CU_ASSERT_EQUAL(c.type, DOMCFG_TYPE_HVM);
	CU_ASSERT_STRING_EQUAL(c.cmdline, "root=/dev/xvda1 ro quiet");
	domcfg_free(&c);
}

static void test_syntax(void)
{
	struct domcfg c;

	/* Hex numbers, quoted numbers, escapes, CRLF, no final newline. */
	CU_ASSERT_EQUAL_FATAL(parse("name = \"x\\\"y\"\r\n", &c), -1);	/* '"' not allowed in names */
	CU_ASSERT_EQUAL_FATAL(parse("name='n1';memory=0x40;vcpus='3'\r\nkernel='/k'\r\n"
				    "cmdline = \"a\\tb\\\\c\"", &c), 0);
	CU_ASSERT_EQUAL(c.memory_mib, 64);
	CU_ASSERT_EQUAL(c.vcpus, 3);
	CU_ASSERT_STRING_EQUAL(c.cmdline, "a\tb\\c");
	domcfg_free(&c);
	/* An empty list, and a list over many lines with comments. */
	CU_ASSERT_EQUAL_FATAL(parse("name='n'\nkernel='/k'\ndisk=[]\nvif = [\n# none\n\n]\n", &c), 0);
	CU_ASSERT_EQUAL(c.ndisks, 0);
	CU_ASSERT_EQUAL(c.nvifs, 0);
	domcfg_free(&c);
}

struct bad {
	const char *text;
	const char *message;
};

static const struct bad bad[] = {
	{ "name='a'\nkernel='/k'\n\n\n\n\nmemroy = 512\n", "vm.cfg:7: unknown key 'memroy'" },
	{ "name='a'\nmemory=512\nmemory=256\n", "vm.cfg:3: 'memory' set twice (first on line 2)" },
	{ "name='a'\nkernel='/k'\nmemory = 'lots'\n", "vm.cfg:3: 'memory' must be a number, not 'lots'" },
	{ "name='a'\nkernel='/k'\nmemory = 0\n", "vm.cfg:3: 'memory' is 0; it must be 1..524288" },
	{ "name='a'\nkernel='/k'\nmemory = [1]\n", "vm.cfg:3: 'memory' must be a number" },
	{ "name='a'\nkernel='/k'\nmemory=512\nmaxmem=1024\n",
	  "vm.cfg:4: 'maxmem' (1024) differs from 'memory' (512)" },
	{ "name='a'\nkernel='/k'\nvcpus=2\nmaxvcpus=4\n", "vm.cfg:4: 'maxvcpus' (4) differs" },
	{ "name='a'\nkernel='/k'\nvcpus=65\n", "vm.cfg:3: 'vcpus' is 65; it must be 1..64" },
	{ "kernel='/k'\n", "vm.cfg: 'name' is missing" },
	{ "name='a'\n", "vm.cfg: 'kernel' is missing" },
	{ "name='123'\nkernel='/k'\n", "vm.cfg:1: 'name' must not be all digits" },
	{ "name='a b'\nkernel='/k'\n", "vm.cfg:1: 'name' may hold letters" },
	{ "name='abcdefghijabcdefghijabcdefghijab'\n", "vm.cfg:1: 'name' must be 1..31 characters" },
	{ "name=a\n", "vm.cfg:1: 'name': value 'a' must be quoted" },
	{ "name='a\nkernel='/k'\n", "vm.cfg:1: string not closed (missing ')" },
	{ "name = \n", "vm.cfg:1: 'name': value missing" },
	{ "name 'a'\n", "vm.cfg:1: expected '=' after 'name'" },
	{ "name='a' 'b'\n", "vm.cfg:1: 'name': unexpected text after the value" },
	{ "= 'a'\n", "vm.cfg:1: expected a setting (KEY = VALUE)" },
	{ "name='a'\ndisk=[ 'x,raw,xvda,rw',\n 'y,raw,xvdb,rw'\n", "vm.cfg:2: list of 'disk' not closed" },
	{ "name='a'\ndisk=[ ['x'] ]\n", "vm.cfg:2: 'disk': lists inside lists are not supported" },
	{ "name='a'\ndisk=[ 'x' 'y' ]\n", "vm.cfg:2: 'disk': expected a string or number, ',' or ']'" },
	{ "name='a'\nkernel='/k'\ndisk='x,raw,xvda,rw'\n", "vm.cfg:3: 'disk' must be a list [ ... ]" },
	{ "name='a'\nkernel='/k'\ntype='pv'\n", "vm.cfg:3: 'type' pv is not supported: Keel runs no" },
	{ "name='a'\nkernel='/k'\ntype='hvmx'\n", "vm.cfg:3: 'type' must be \"pvh\" or \"hvm\", not 'hvmx'" },
	{ "name='a'\nkernel='/k'\non_crash='coredump-destroy'\n",
	  "vm.cfg:3: 'on_crash' must be \"destroy\", \"restart\" or \"preserve\"" },
	{ "name='a'\nkernel='/k'\nbootloader='pygrub'\n", "vm.cfg:3: 'bootloader' is not supported" },
	{ "name='a'\nkernel='/k'\nkeel_caps=['root']\n", "vm.cfg:3: 'keel_caps': unknown name 'root'" },
	{ "name='a'\nkernel='/k'\nkeel_platform=['vga']\n", "vm.cfg:3: 'keel_platform': unknown name 'vga'" },
	{ "name='a'\nkernel='/k'\nuuid='0123'\n", "vm.cfg:3: 'uuid' '0123' is not a UUID" },
	{ "name='a'\nkernel='/k'\ncap=101\n", "vm.cfg:3: 'cap' 101 is above 100 x vcpus (100)" },
	{ "name='a'\nkernel='/k'\ncmdline='x'\nextra='y'\n", "vm.cfg:4: 'cmdline' and 'extra' both set" },
	{ "name='a'\nkernel=''\n", "vm.cfg:2: 'kernel' is empty" },
	{ "name='a'\nkernel='/k'\ncpu_weight=0\n", "vm.cfg:3: 'cpu_weight' is 0; it must be 1..65535" },
	{ "name='a'\nkernel='/k'\nkeel_console=2\n", "vm.cfg:3: 'keel_console' is 2; it must be 0..1" },
	{ "name='a'\nkernel='/k'\nname2 = 'x' $\n", "vm.cfg:3: unexpected '$'" },
	{ "name='a\\q'\n", "vm.cfg:1: unknown escape in string" },
	{ "name='a'\nkernel='/k'\ndisk=['x,raw,xvda,rw','y,raw,xvda,rw']\n",
	  "vm.cfg:3: 'disk': vdev 'xvda' used twice" },
};

static void test_each_error(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct domcfg c;
		int rc = parse(bad[i].text, &c);

		CU_ASSERT_EQUAL(rc, -1);
		if (!strstr(err, bad[i].message)) {
			fprintf(stderr, "\n  case %zu: got \"%s\"\n  wanted \"%s\"\n", i, err,
				bad[i].message);
			CU_FAIL("error message");
		}
		if (rc == 0) {
			domcfg_free(&c);
		}
	}
}

static void test_nul_byte(void)
{
	struct domcfg c;
	static const char text[] = "name='a'\n\0kernel='/k'\n";

	CU_ASSERT_EQUAL(domcfg_parse("vm.cfg", text, sizeof(text) - 1, &c, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "vm.cfg:2: NUL byte"));
}

static void test_load_missing_file(void)
{
	struct domcfg c;

	CU_ASSERT_EQUAL(domcfg_load("/nonexistent/vm.cfg", &c, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/vm.cfg: No such file"));
}

/* Every prefix of a valid file, and random corruptions: an answer, never a crash. */
static void test_truncations_and_corruptions(void)
{
	size_t len = strlen(full);
	char *copy = malloc(len);
	unsigned int ok = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	for (size_t n = 0; n <= len; n++) {
		struct domcfg c;

		/* An exact-size heap copy: ASan sees any read past the end. */
		memcpy(copy, full, n);
		if (domcfg_parse("vm.cfg", copy, n, &c, err, sizeof(err)) == 0) {
			ok++;
			domcfg_free(&c);
		} else {
			CU_ASSERT_EQUAL(strncmp(err, "vm.cfg:", 7), 0);
		}
	}
	CU_ASSERT_TRUE(ok > 0);
	srand(7);
	for (unsigned int round = 0; round < 3000; round++) {
		struct domcfg c;
		size_t n = (size_t)rand() % (len + 1);

		memcpy(copy, full, len);
		for (int k = 0; k < 1 + rand() % 4; k++) {
			copy[(size_t)rand() % len] = (char)(rand() % 256);
		}
		if (domcfg_parse("vm.cfg", copy, n, &c, err, sizeof(err)) == 0) {
			domcfg_free(&c);
		} else {
			CU_ASSERT_EQUAL(strncmp(err, "vm.cfg:", 7), 0);
		}
	}
	free(copy);
}

static CU_TestInfo tests[] = {
	{ "every key", test_every_key },
	{ "defaults, root= and extra=, builder=", test_defaults_and_old_keys },
	{ "syntax: quotes, numbers, lists, separators", test_syntax },
	{ "each error names file, line and key", test_each_error },
	{ "a NUL byte is an error", test_nul_byte },
	{ "a missing file", test_load_missing_file },
	{ "truncations and corruptions never crash", test_truncations_and_corruptions },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo xlcfg_suite = { "xl.cfg", NULL, NULL, NULL, NULL, tests };
