/* SPDX-License-Identifier: MIT */
/*
 * tools/lib/transport_linux.c - the Linux transport: the privileged
 * driver's /dev/keel/privcmd (docs/keelctl.md). The only file of the tools
 * that uses a Linux interface; other OSes add their own file like it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/ioctl.h>
#include <keelctl/transport.h>

_Static_assert(KEEL_PRIVCMD_IOCTL_VERSION == _IOR('K', 0, uint32_t),
	       "the spelled-out version ioctl number is Linux's");
_Static_assert(KEEL_PRIVCMD_IOCTL_HYPERCALL == _IOWR('K', 1, struct keel_privcmd_hypercall),
	       "the spelled-out hypercall ioctl number is Linux's");

#define DEFAULT_PATH	"/dev/keel/privcmd"

struct linux_transport {
	struct keelctl_transport t;
	int fd;
	char path[64];
};

static int linux_hypercall(struct keelctl_transport *t, uint32_t nr, const uint64_t args[6],
			   const struct keel_privcmd_buf *bufs, unsigned int nr_bufs,
			   int64_t *result)
{
	struct linux_transport *lt = (struct linux_transport *)t;
	struct keel_privcmd_hypercall hc = {
		.version = KEEL_PRIVCMD_VERSION, .nr = nr,
		.bufs = (uintptr_t)bufs, .nr_bufs = nr_bufs,
	};

	memcpy(hc.args, args, sizeof(hc.args));
	if (ioctl(lt->fd, KEEL_PRIVCMD_IOCTL_HYPERCALL, &hc) != 0) {
		snprintf(t->error, sizeof(t->error), "%s: hypercall %#x: %s", lt->path, nr,
			 strerror(errno));
		return -KEELCTL_ETRANSPORT;
	}
	*result = hc.result;
	return 0;
}

static void linux_close(struct keelctl_transport *t)
{
	struct linux_transport *lt = (struct linux_transport *)t;

	close(lt->fd);
	free(lt);
}

struct keelctl_transport *keelctl_transport_open_linux(const char *path, char *why, int *err)
{
	struct linux_transport *lt;
	uint32_t version = 0;
	int fd;

	path = path ? path : DEFAULT_PATH;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		/* The driver lets only CAP_SYS_ADMIN in (EACCES); the node's mode may say so first. */
		if (e == EACCES || e == EPERM) {
			snprintf(why, 160, "%s: permission denied: managing Keel needs root "
				 "(CAP_SYS_ADMIN)", path);
		} else {
			snprintf(why, 160, "%s: %s", path, strerror(e));
		}
		*err = e == EACCES || e == EPERM ? -KEELCTL_EACCESS :
		       e == ENOENT || e == ENODEV || e == ENXIO ? -KEELCTL_ENODRIVER :
		       -KEELCTL_ETRANSPORT;
		return NULL;
	}
	if (ioctl(fd, KEEL_PRIVCMD_IOCTL_VERSION, &version) != 0 ||
	    version >> 16 != KEEL_PRIVCMD_VERSION_MAJOR) {
		snprintf(why, 160, "%s: driver API version %u.%u, keelctl needs %u.x", path,
			 version >> 16, version & 0xffff, KEEL_PRIVCMD_VERSION_MAJOR);
		close(fd);
		*err = -KEELCTL_EDRIVERVER;
		return NULL;
	}
	lt = calloc(1, sizeof(*lt));
	if (!lt) {
		snprintf(why, 160, "out of memory");
		close(fd);
		*err = -KEELCTL_ETRANSPORT;
		return NULL;
	}
	lt->t.name = "linux";
	lt->t.hypercall = linux_hypercall;
	lt->t.close = linux_close;
	lt->fd = fd;
	snprintf(lt->path, sizeof(lt->path), "%s", path);
	return &lt->t;
}
