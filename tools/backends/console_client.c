/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/console_client.c - `keelctl console` on the daemon's side
 * of a PV console: connect to ROOT/<domain>/console.sock (console.c), copy
 * what comes to our output and our input to it; Ctrl-] detaches at once,
 * the end of our input once what the daemon has queued is shown, and the
 * daemon closing the socket (the console went) ends it.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "console_client.h"
#include "statedir.h"

#define DETACH	0x1d	/* Ctrl-] */
#define POLL_MS	50	/* a round: the caller's hook runs once per round */

struct relay {
	bool input_open;
	bool got_output;		/* since we connected */
	uint64_t drain_start;		/* when our input ended (or we connected, without one) */
	uint64_t last_output;
};

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

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * How long to wait for more output once our input is over (0: done): until
 * the first byte (the backlog comes when the daemon gets round to accepting
 * us), then until the socket has been quiet, never past the overall bound.
 */
static int drain_wait(const struct relay *r)
{
	uint64_t now = now_ms(), deadline;

	if (r->got_output) {
		deadline = (r->last_output > r->drain_start ? r->last_output : r->drain_start) +
			   KB_CONSOLE_DRAIN_QUIET_MS;
	} else {
		deadline = r->drain_start + KB_CONSOLE_DRAIN_FIRST_MS;
	}
	if (deadline > r->drain_start + KB_CONSOLE_DRAIN_MAX_MS) {
		deadline = r->drain_start + KB_CONSOLE_DRAIN_MAX_MS;
	}
	return deadline > now ? (int)(deadline - now) : 0;
}

/* The console's output to @out. False when the daemon closed it (the console went). */
static bool copy_output(struct relay *r, int fd, FILE *out, const char *name)
{
	char buf[4096];
	ssize_t got = read(fd, buf, sizeof(buf));

	if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
		return true;
	}
	if (got <= 0) {
		fprintf(out, "\n[keelctl: the console of %s closed]\n", name);
		fflush(out);
		return false;
	}
	fwrite(buf, 1, (size_t)got, out);
	fflush(out);
	r->got_output = true;
	r->last_output = now_ms();
	return true;
}

/* Our input to the console. False on Ctrl-] (what came before it is sent). */
static bool copy_input(struct relay *r, int in_fd, int fd)
{
	char buf[4096], *stop;
	ssize_t got = read(in_fd, buf, sizeof(buf));

	if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
		return true;
	}
	if (got <= 0) {
		r->input_open = false;	/* the end of our input: drain, then detach */
		r->drain_start = now_ms();
		return true;
	}
	stop = memchr(buf, DETACH, (size_t)got);
	if (!send_all(fd, buf, stop ? (size_t)(stop - buf) : (size_t)got)) {
		r->input_open = false;	/* the daemon took no more: show what it sent */
		r->drain_start = now_ms();
		return true;
	}
	return stop == NULL;
}

int kb_console_relay(const char *name, int in_fd, FILE *out, void (*hook)(void *), void *arg)
{
	int fd = connect_to(name);
	struct relay r = { .input_open = in_fd >= 0, .drain_start = now_ms() };

	if (fd < 0) {
		return -1;
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = r.input_open ? in_fd : -1, .events = POLLIN } };
		int wait = r.input_open ? POLL_MS : drain_wait(&r);

		if (wait == 0) {
			break;	/* input over, and what the daemon had is shown */
		}
		if (poll(p, 2, wait < POLL_MS ? wait : POLL_MS) < 0 && errno != EINTR) {
			break;
		}
		if (p[0].revents && !copy_output(&r, fd, out, name)) {
			break;
		}
		if (r.input_open && p[1].revents && !copy_input(&r, in_fd, fd)) {
			break;	/* Ctrl-]: detach at once */
		}
		if (hook) {
			hook(arg);
		}
	}
	close(fd);
	return 0;
}
