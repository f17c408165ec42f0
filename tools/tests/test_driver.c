/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_driver.c - the keelctl program (KEELCTL_PROGRAM, this
 * build's) against a privileged driver of another API version: with
 * KEELCTL_DEVICE naming a plain file whose version ioctl fake_driver.h
 * answers, another major version is refused with the driver's path, both
 * versions and exit code 5, while another minor is let through.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <keelctl/keel_privcmd.h>
#include "../cli/cli.h"
#include "fake_driver.h"
#include "tests.h"

static char device[256], device_env[300];

/* `keelctl list` against a driver reporting @major.@minor. */
static void run(uint32_t major, uint32_t minor, struct fake_driver_run *r)
{
	char *argv[] = { KEELCTL_PROGRAM, "list", NULL };

	snprintf(device, sizeof(device), "%s", env_file("privcmd", ""));
	snprintf(device_env, sizeof(device_env), "KEELCTL_DEVICE=%s", device);
	CU_ASSERT_EQUAL_FATAL(fake_driver_run(argv, device_env, major << 16 | minor, r), 0);
}

static void refused(uint32_t major, uint32_t minor)
{
	struct fake_driver_run r;
	char want[512];

	run(major, minor, &r);
	snprintf(want, sizeof(want), "keelctl: %s: driver API version %u.%u, keelctl needs %u.x "
		 "(the privileged driver speaks another API version)\n", device, major, minor,
		 KEEL_PRIVCMD_VERSION_MAJOR);
	/* The version it was told, not a failed ioctl, is what it refused. */
	CU_ASSERT_EQUAL(r.answered, 1);
	CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == EXIT_NO_KEEL);
	if (strcmp(r.err, want) != 0) {
		fprintf(stderr, "\n  got \"%s\"\n  wanted \"%s\"\n", r.err, want);
		CU_FAIL("error message");
	}
}

static void test_other_major_refused(void)
{
	refused(KEEL_PRIVCMD_VERSION_MAJOR + 1, 0);
	refused(KEEL_PRIVCMD_VERSION_MAJOR - 1, 7);
	refused(0xffff, 0xffff);
}

/*
 * Minors only add: a newer one is let through to the hypercall, which a
 * plain file cannot take (ENOTTY), so keelctl fails later, says so, and
 * exits as for any driver it cannot use (5).
 */
static void test_other_minor_accepted(void)
{
	struct fake_driver_run r;

	run(KEEL_PRIVCMD_VERSION_MAJOR, KEEL_PRIVCMD_VERSION_MINOR + 5, &r);
	CU_ASSERT_EQUAL(r.answered, 1);
	CU_ASSERT_PTR_NULL(strstr(r.err, "driver API version"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "listing domains: the privileged driver failed"));
	CU_ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == EXIT_NO_KEEL);
}

static CU_TestInfo tests[] = {
	{ "another major version is refused, clearly", test_other_major_refused },
	{ "another minor version is accepted", test_other_minor_accepted },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo driver_version_suite = { "keelctl: driver version", NULL, NULL, NULL, NULL, tests };
