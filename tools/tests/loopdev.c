/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/loopdev.c - a loop device over a test's file (tests.h), set up
 * with LO_FLAGS_AUTOCLEAR in the one LOOP_CONFIGURE call: the kernel detaches
 * it when its last descriptor closes, so it goes even if the test dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/loop.h>
#include "tests.h"

int test_loop_attach(const char *file, unsigned int block_size, char *path, size_t len)
{
	struct loop_config cfg;
	int ctl, backing, fd = -1, e = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		return -1;
	}
	backing = open(file, O_RDWR | O_CLOEXEC);
	/* Another process may take the free device between asking and configuring it. */
	for (int tries = 0; backing >= 0 && fd < 0 && tries < 8; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			break;
		}
		snprintf(path, len, "/dev/loop%d", n);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)backing;
		cfg.block_size = block_size;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) != 0) {
			e = errno;
			close(fd);
			fd = -1;
			errno = e;
			if (e != EBUSY) {
				break;
			}
		}
	}
	e = errno;
	if (backing >= 0) {
		close(backing);	/* the device holds its own reference */
	}
	close(ctl);
	errno = e;
	return fd;
}
