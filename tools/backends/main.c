/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/main.c - keel-backendd: the backend daemon of a control
 * domain (docs/keelctl.md, "Backends"), on the OS's privileged driver. Runs
 * in the foreground until SIGTERM or SIGINT, then leaves every device in
 * order so that the frontends wait for the next daemon.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <keelctl/keelctl.h>
#include "backends.h"
#include "daemon.h"
#include "driver.h"
#include "loop.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: keel-backendd [--echo-consoles]\n"
			"  serves this domain's console, block and net backend devices;\n"
			"  configuration from $KEEL_RUN_DIR (default /run/keel), written by keelctl\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: poll() returns */
	struct keelctl c = { 0 };
	struct kb_driver *d;
	char why[160];
	int err = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--echo-consoles") == 0) {
			kb_echo_consoles = true;
		} else {
			return usage();
		}
	}
	c.t = keelctl_transport_open_linux(NULL, why, &err);
	if (!c.t) {
		fprintf(stderr, "keel-backendd: %s\n", why);
		return 5;
	}
	d = kb_driver_open_linux(NULL, NULL, why, sizeof(why));
	if (!d) {
		fprintf(stderr, "keel-backendd: %s\n", why);
		c.t->close(c.t);
		return 5;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (kb_daemon_start(&c, d) != 0) {
		d->close(d);
		c.t->close(c.t);
		return 1;
	}
	while (!stopping) {
		kb_daemon_round(1000);
	}
	kb_info("stopping");
	kb_daemon_stop();
	d->close(d);
	c.t->close(c.t);
	return 0;
}
