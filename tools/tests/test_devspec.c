/* SPDX-License-Identifier: MIT */
/* tools/tests/test_devspec.c - xl disk and vif specifications: both disk forms, every refusal. */
#include <stdlib.h>
#include <string.h>
#include "../config/domcfg.h"
#include "tests.h"

static char err[512];

static int disk(const char *spec, struct domcfg_disk *d)
{
	memset(d, 0, sizeof(*d));
	err[0] = 0;
	return domcfg_parse_disk(spec, d, "vm.cfg:9", err, sizeof(err));
}

static void test_disk_forms(void)
{
	struct domcfg_disk d;

	CU_ASSERT_EQUAL_FATAL(disk("format=raw, vdev=xvda, access=rw, target=/img/a,b.img", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/img/a,b.img");	/* target= takes the rest */
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvda");
	CU_ASSERT_FALSE(d.readonly);
	free(d.target);
	CU_ASSERT_EQUAL_FATAL(disk("/img/b.img,raw,xvdb,ro", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/img/b.img");
	CU_ASSERT_TRUE(d.readonly);
	free(d.target);
	CU_ASSERT_EQUAL_FATAL(disk("phy:/dev/vg/guest,xvdc,w", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.target, "/dev/vg/guest");
	CU_ASSERT_STRING_EQUAL(d.vdev, "xvdc");
	CU_ASSERT_FALSE(d.readonly);
	free(d.target);
	CU_ASSERT_EQUAL_FATAL(disk("vdev=hda, target=/x", &d), 0);
	CU_ASSERT_STRING_EQUAL(d.vdev, "hda");
	free(d.target);
}

struct bad {
	const char *spec;
	const char *message;
};

static const struct bad bad_disks[] = {
	{ "format=qcow2, vdev=xvda, target=/x", "vm.cfg:9: disk 'format=qcow2, vdev=xvda, target=/x': "
	  "format 'qcow2' is not supported" },
	{ "/x,qcow2,xvda,rw", "format 'qcow2' is not supported" },
	{ "vdev=xvda", "no target" },
	{ "target=/x", "no vdev" },
	{ "/x,raw,eth0,rw", "vdev 'eth0' is not a disk name" },
	{ "/x,raw,xvda,rwx", "access 'rwx' is not rw or ro" },
	{ "/x,raw,xvda,rw,extra", "too many positional values" },
	{ "formt=raw, vdev=xvda, target=/x", "unknown parameter 'formt'" },
	{ "vdev=xvda, vdev=xvdb, target=/x", "'vdev' given twice" },
	{ "devtype=cdrom, vdev=hdc, target=/x.iso", "devtype 'cdrom' is not supported" },
	{ "qcow2:/x,xvda,w", "only raw images are supported" },
};

static void test_disk_errors(void)
{
	for (size_t i = 0; i < sizeof(bad_disks) / sizeof(bad_disks[0]); i++) {
		struct domcfg_disk d;

		CU_ASSERT_EQUAL(disk(bad_disks[i].spec, &d), -1);
		if (!strstr(err, bad_disks[i].message) || strncmp(err, "vm.cfg:9: ", 10) != 0) {
			fprintf(stderr, "\n  disk case %zu: got \"%s\"\n", i, err);
			CU_FAIL("disk error message");
		}
	}
}

static const struct bad bad_vifs[] = {
	{ "mac=00:16:3e:01:02", "mac '00:16:3e:01:02' is not xx:xx:xx:xx:xx:xx" },
	{ "mac=01:16:3e:01:02:03", "is a multicast address" },
	{ "bridge=", "bridge '' is not an interface name" },
	{ "model=e1000", "unknown or unsupported parameter 'model'" },
	{ "bridge", "'bridge' is not KEY=VALUE" },
};

static void test_vifs(void)
{
	struct domcfg_vif v;

	CU_ASSERT_EQUAL_FATAL(domcfg_parse_vif(" mac=02:00:00:aa:bb:cc ,bridge=xenbr0", &v, "f:1",
					       err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(v.mac[0], 2);
	CU_ASSERT_EQUAL(v.mac[5], 0xcc);
	CU_ASSERT_STRING_EQUAL(v.bridge, "xenbr0");
	CU_ASSERT_EQUAL(domcfg_parse_vif("", &v, "f:1", err, sizeof(err)), 0);
	CU_ASSERT_FALSE(v.mac_set);
	for (size_t i = 0; i < sizeof(bad_vifs) / sizeof(bad_vifs[0]); i++) {
		err[0] = 0;
		CU_ASSERT_EQUAL(domcfg_parse_vif(bad_vifs[i].spec, &v, "f:1", err, sizeof(err)), -1);
		if (!strstr(err, bad_vifs[i].message)) {
			fprintf(stderr, "\n  vif case %zu: got \"%s\"\n", i, err);
			CU_FAIL("vif error message");
		}
	}
}

static CU_TestInfo tests[] = {
	{ "disk: key=value, positional and legacy forms", test_disk_forms },
	{ "disk: every refusal is named", test_disk_errors },
	{ "vif: mac and bridge, refusals", test_vifs },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo devspec_suite = { "disk and vif specs", NULL, NULL, NULL, NULL, tests };
