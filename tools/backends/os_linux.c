/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/os_linux.c - os.h on Linux: block device sizes (BLKGETSIZE64,
 * BLKSSZGET, BLKPBSZGET), TAP interfaces (/dev/net/tun) brought up and
 * enslaved to a bridge (SIOCBRADDIF).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include "os.h"

int kb_os_disk_geometry(int fd, uint64_t *bytes, uint32_t *logical, uint32_t *physical)
{
	struct stat st;
	int lbs = 512;
	unsigned int pbs = 4096;

	if (fstat(fd, &st) != 0) {
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		*logical = 512;
		*physical = 4096;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, bytes) != 0 || ioctl(fd, BLKSSZGET, &lbs) != 0) {
		return -1;
	}
	if (ioctl(fd, BLKPBSZGET, &pbs) != 0 || pbs < (unsigned int)lbs) {
		pbs = (unsigned int)lbs;
	}
	*logical = (uint32_t)lbs;
	*physical = pbs;
	return 0;
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0) {
		return -1;
	}
	rc = ioctl(s, req, ifr);
	close(s);
	return rc;
}

int kb_os_tap_open(const char *name, const char *bridge, char *why, unsigned int why_len)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	unsigned int index;

	if (fd < 0) {
		snprintf(why, why_len, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
		snprintf(why, why_len, "TAP %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (if_ioctl(SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if_ioctl(SIOCSIFFLAGS, &ifr);
	}
	if (!bridge || !*bridge) {
		return fd;
	}
	index = if_ioctl(SIOCGIFINDEX, &ifr) == 0 ? (unsigned int)ifr.ifr_ifindex : 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
	ifr.ifr_ifindex = (int)index;
	if (index == 0 || if_ioctl(SIOCBRADDIF, &ifr) != 0) {
		snprintf(why, why_len, "adding %s to bridge %s: %s", name, bridge, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void kb_os_tap_close(int fd, const char *name)
{
	(void)name;	/* not persistent: the interface goes with its last descriptor */
	close(fd);
}
