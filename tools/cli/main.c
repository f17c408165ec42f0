/* SPDX-License-Identifier: MIT */
/* tools/cli/main.c - the keelctl program: the CLI over this OS's transport. */
#include <stdlib.h>
#include <unistd.h>
#include <keel/event_channel.h>
#include "cli.h"

/* What a domain monitor waits on: KEEL_VIRQ_DOMAIN_STATE on the driver's event channel device. */
static struct keelctl_events *domain_state_events(char *why, int *err)
{
	return keelctl_events_open_linux(getenv("KEELCTL_EVTCHN_DEVICE"), KEEL_VIRQ_DOMAIN_STATE,
					 why, err);
}

/* What dmesg -w waits on: KEEL_VIRQ_LOG, likewise. */
static struct keelctl_events *log_events(char *why, int *err)
{
	return keelctl_events_open_linux(getenv("KEELCTL_EVTCHN_DEVICE"), KEEL_VIRQ_LOG, why, err);
}

int main(int argc, char **argv)
{
	struct keelctl c;
	struct cli cli = {
		.c = &c, .out = stdout, .err = stderr, .in_fd = STDIN_FILENO,
		.state_dir = getenv("KEELCTL_STATE_DIR"),
		.monitors = true, .open_events = domain_state_events, .open_log_events = log_events,
	};
	char why[160];
	int err = 0, rc;

	if (argc < 2 || argv[1][0] == '-' || (argc >= 2 && argv[1][0] == 'h')) {
		return keelctl_cli(&cli, argc, argv);	/* usage needs no driver */
	}
	c.t = keelctl_transport_open_linux(getenv("KEELCTL_DEVICE"), why, &err);
	if (!c.t) {
		fprintf(stderr, "keelctl: %s (%s)\n", why, keelctl_strerror(err));
		return EXIT_NO_KEEL;
	}
	rc = keelctl_cli(&cli, argc, argv);
	c.t->close(c.t);
	return rc;
}
