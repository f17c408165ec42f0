/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/console_client.c - `keelctl console` on the daemon's side
 * of a PV console: connect to ROOT/<domain>/console.sock (console.c), copy
 * what comes to our output and our input to it; Ctrl-] or the end of our
 * input detaches, the daemon closing the socket (the console went) ends it.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "console_client.h"
#include "statedir.h"

#define DETACH	0x1d	/* Ctrl-] */

static int connect_to(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[KB_STATE_PATH_MAX];
	int fd;

	if (kb_state_path(path, sizeof(path), name, "console.sock") != 0 ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Everything of @len bytes to @fd; false if it cannot take it. */
static bool send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

int kb_console_relay(const char *name, int in_fd, FILE *out, void (*hook)(void *), void *arg)
{
	int fd = connect_to(name);
	bool input_open = in_fd >= 0;
	char buf[4096];

	if (fd < 0) {
		return -1;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = input_open ? in_fd : -1, .events = POLLIN } };
		int n = poll(p, 2, input_open ? 50 : 200);
		ssize_t got;

		if (n < 0 && errno != EINTR) {
			break;
		}
		if (p[0].revents) {
			got = read(fd, buf, sizeof(buf));
			if (got <= 0) {
				fprintf(out, "\n[keelctl: the console of %s closed]\n", name);
				break;
			}
			fwrite(buf, 1, (size_t)got, out);
			fflush(out);
		} else if (!input_open && n == 0) {
			break;	/* no input to wait for: what was there is shown */
		}
		if (input_open && p[1].revents) {
			char *stop;

			got = read(in_fd, buf, sizeof(buf));
			if (got <= 0) {
				break;
			}
			stop = memchr(buf, DETACH, (size_t)got);
			if (!send_all(fd, buf, stop ? (size_t)(stop - buf) : (size_t)got) || stop) {
				break;
			}
		}
		if (hook) {
			hook(arg);
		}
	}
	close(fd);
	return 0;
}
