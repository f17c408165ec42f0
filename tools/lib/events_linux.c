/* SPDX-License-Identifier: MIT */
/*
 * tools/lib/events_linux.c - a VIRQ for a process on Linux (keelctl/events.h):
 * the privileged driver's /dev/keel/evtchn, where read() hands out a fired
 * port and write() of it re-arms it (docs/keelctl.md). Linux-specific like
 * transport_linux.c; other OSes add their own file like it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <keelctl/events.h>
#include <keelctl/keel_privcmd.h>

#define DEFAULT_PATH	"/dev/keel/evtchn"

struct linux_events {
	struct keelctl_events ev;
	int fd;
	uint32_t port;
};

static int linux_wait(struct keelctl_events *ev, int ms)
{
	struct linux_events *le = (struct linux_events *)ev;
	struct pollfd pfd = { .fd = le->fd, .events = POLLIN };
	uint32_t fired[16];
	ssize_t n;
	int rc = poll(&pfd, 1, ms);

	if (rc < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	if (rc == 0) {
		return 0;
	}
	n = read(le->fd, fired, sizeof(fired));
	if (n < 0) {
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	}
	/* A fired port stays held until written back: re-arm it before looking at the state. */
	if (n > 0 && write(le->fd, fired, (size_t)n) != n) {
		return -errno;
	}
	return n > 0 ? 1 : 0;
}

static void linux_close(struct keelctl_events *ev)
{
	struct linux_events *le = (struct linux_events *)ev;

	close(le->fd);	/* closes the port, which frees the VIRQ for the next process */
	free(le);
}

struct keelctl_events *keelctl_events_open_linux(const char *path, uint32_t virq, char *why,
						 int *err)
{
	struct keel_evtchn_bind_virq b = { .virq = virq };
	struct linux_events *le;
	int fd;

	path = path ? path : DEFAULT_PATH;
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		snprintf(why, 160, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (ioctl(fd, KEEL_EVTCHN_IOCTL_BIND_VIRQ, &b) != 0) {
		*err = errno;
		snprintf(why, 160, "%s: binding VIRQ %u: %s%s", path, virq, strerror(errno),
			 errno == EEXIST ? " (another process of this domain has it)" : "");
		close(fd);
		return NULL;
	}
	le = calloc(1, sizeof(*le));
	if (!le) {
		*err = ENOMEM;
		snprintf(why, 160, "out of memory");
		close(fd);
		return NULL;
	}
	le->ev.name = "linux";
	le->ev.wait = linux_wait;
	le->ev.close = linux_close;
	le->fd = fd;
	le->port = b.port;
	return &le->ev;
}
