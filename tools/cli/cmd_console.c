/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cmd_console.c - a domain's console: the PV console the backend
 * daemon serves if there is one (console_client.c), else its output (Keel's console
 * stream, KEEL_HC_CONSOLE_READ_DOMAIN) copied out, our input typed into it
 * (KEEL_HC_CONSOLE_WRITE_DOMAIN). Ctrl-] detaches, as in xl; so do the end
 * of our input and the domain going away.
 */
#define _DEFAULT_SOURCE	/* cfmakeraw() */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <keel/errno.h>
#include "cli.h"
#include "console_client.h"

#define DETACH		0x1d	/* Ctrl-] */
#define CHUNK		4096u

/* Copy everything new of the domain's output. Returns 0, or a Keel error. */
static long drain(struct cli *cli, uint32_t domid, uint64_t *pos)
{
	char buf[CHUNK];
	uint64_t lost = 0;
	long n;

	do {
		n = keelctl_console_read(cli->c, domid, pos, buf, CHUNK, &lost);
		if (lost) {
			fprintf(cli->out, "\n[keelctl: %llu bytes of console output were lost]\n",
				(unsigned long long)lost);
		}
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, cli->out);
		}
	} while (n > 0);
	fflush(cli->out);
	return n < 0 ? n : 0;
}

/* Read our input, type it into the domain. 1: detach; 0: go on; <0: error. */
static long forward_input(struct cli *cli, uint32_t domid)
{
	char buf[256];
	ssize_t n = read(cli->in_fd, buf, sizeof(buf));
	char *stop;
	long r;

	if (n < 0) {
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	}
	if (n == 0) {
		return 1;	/* end of input */
	}
	stop = memchr(buf, DETACH, (size_t)n);
	if (stop) {
		n = stop - buf;
	}
	r = n ? keelctl_console_write(cli->c, domid, buf, (uint32_t)n) : 0;
	if (r < 0) {
		return r;
	}
	return stop ? 1 : 0;
}

static int attach(struct cli *cli, uint32_t domid)
{
	uint64_t pos = 0;
	bool input_open = cli->in_fd >= 0;
	struct keel_ctl_domain_info info;
	char name[sizeof(info.name) + 1] = "";

	/* A PV console the backend daemon serves (docs/keelctl.md, "Backends") comes first. */
	if (keelctl_domain_info(cli->c, domid, &info) == 0) {
		memcpy(name, info.name, sizeof(info.name));
		if (kb_console_relay(name, cli->in_fd, cli->out, cli->poll_hook, cli->poll_arg) == 0) {
			return EXIT_OK;
		}
	}

	for (;;) {
		struct pollfd pfd = { .fd = cli->in_fd, .events = POLLIN };
		long r = drain(cli, domid, &pos);

		if (r == -KEEL_ESRCH) {
			fprintf(cli->out, "\n[keelctl: domain %u is gone]\n", domid);
			return EXIT_OK;
		}
		if (r < 0) {
			return cli_fail(cli, EXIT_FAILED, "console of domain %u: %s", domid,
					keelctl_strerror(r));
		}
		if (!input_open) {
			return EXIT_OK;
		}
		/* Keel has no console-output event for us yet: poll every 50 ms. */
		if (poll(&pfd, 1, 50) > 0) {
			r = forward_input(cli, domid);
			if (r < 0) {
				return cli_fail(cli, EXIT_FAILED, "typing into domain %u: %s", domid,
						keelctl_strerror(r));
			}
			if (r == 1) {
				(void)drain(cli, domid, &pos);	/* what the last input caused */
				return EXIT_OK;
			}
		}
		if (cli->poll_hook) {
			cli->poll_hook(cli->poll_arg);
		}
	}
}

/*
 * On a terminal, every key goes to the domain as typed, as on a serial
 * line: no local echo (the guest echoes), no line editing, Ctrl-C and
 * Ctrl-Z typed into the guest rather than acting on keelctl. The terminal
 * is put back as it was however the attachment ends.
 */
int cmd_console_attach(struct cli *cli, uint32_t domid)
{
	struct termios saved, raw;
	bool is_raw = false;
	int rc;

	if (cli->in_fd >= 0 && isatty(cli->in_fd) && tcgetattr(cli->in_fd, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		is_raw = tcsetattr(cli->in_fd, TCSANOW, &raw) == 0;
	}
	rc = attach(cli, domid);
	if (is_raw) {
		(void)tcsetattr(cli->in_fd, TCSANOW, &saved);
	}
	return rc;
}

int cmd_console(struct cli *cli, int argc, char **argv)
{
	uint32_t domid;
	int rc;

	if (argc != 2) {
		return cli_fail(cli, EXIT_USAGE, "usage: console DOMAIN");
	}
	rc = cli_lookup(cli, argv[1], &domid);
	return rc != EXIT_OK ? rc : cmd_console_attach(cli, domid);
}
