/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/fake/fake_driver.h - a real program run against the privileged
 * driver's version ioctl answered by the test: the one ioctl Linux cannot
 * give a plain file, so the only part of the driver keelctl's version check
 * needs.
 */
#ifndef KEELCTL_FAKE_DRIVER_H
#define KEELCTL_FAKE_DRIVER_H

#include <stdint.h>

struct fake_driver_run {
	int status;			/* the program's, as waitpid() gives it */
	unsigned int answered;		/* KEEL_PRIVCMD_IOCTL_VERSION calls answered */
	char err[1024];			/* what it wrote to stderr (cut to fit) */
};

/*
 * Run @argv (argv[0] a path) with this environment and @env ("NAME=VALUE")
 * set. Each ioctl(fd, KEEL_PRIVCMD_IOCTL_VERSION, &v) it makes is stopped
 * by a seccomp filter and answered here as the driver would: @version is
 * written to v and the call returns 0. Every other system call is the
 * kernel's. 0, or -1 if the run could not be made or took over 30 s.
 */
int fake_driver_run(char *const argv[], const char *env, uint32_t version,
		    struct fake_driver_run *out);

#endif
