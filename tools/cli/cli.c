/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cli.c - keelctl's verb table, usage, and what the verbs share:
 * error reporting with an exit code, domain lookup by name or id, the
 * state letters, time.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <keel/errno.h>
#include <keel/sched.h>
#include "cli.h"

struct verb {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *usage;
};

static const struct verb verbs[] = {
	{ "create", cmd_create, "create CONFIG [-c] [-p] [-F] build and start a domain (-c: attach "
				"its console, -p: leave it paused, -F: monitor it in the foreground)" },
	{ "list", cmd_list, "list [--json]             the domains, as a table or JSON" },
	{ "console", cmd_console, "console DOMAIN            attach to a domain's console "
				  "(Ctrl-] detaches)" },
	{ "pause", cmd_pause, "pause DOMAIN" },
	{ "unpause", cmd_unpause, "unpause DOMAIN" },
	{ "shutdown", cmd_shutdown, "shutdown DOMAIN [-w]      ask the guest to power off "
				    "(-w: wait until it has)" },
	{ "reboot", cmd_reboot, "reboot DOMAIN             ask the guest to reboot" },
	{ "destroy", cmd_destroy, "destroy DOMAIN            stop it now and free everything" },
	{ "info", cmd_info, "info                      host and hypervisor" },
	{ "dmesg", cmd_dmesg, "dmesg [-c] [-w]           the hypervisor log (-c: then mark it "
			      "read; -w: follow it)" },
	{ "top", cmd_top, "top [-b] [-n N] [-d SECS] live CPU and memory per domain (-b: batch)" },
};
#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

static int usage(struct cli *cli, FILE *to, int code)
{
	fprintf(to, "usage: keelctl COMMAND [ARGS]   (DOMAIN is a name or a domain id)\n");
	for (size_t i = 0; i < NVERBS; i++) {
		fprintf(to, "  keelctl %s\n", verbs[i].usage);
	}
	(void)cli;
	return code;
}

int keelctl_cli(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		return usage(cli, cli->err, EXIT_USAGE);
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		return usage(cli, cli->out, EXIT_OK);
	}
	for (size_t i = 0; i < NVERBS; i++) {
		if (strcmp(argv[1], verbs[i].name) == 0) {
			return verbs[i].fn(cli, argc - 1, argv + 1);
		}
	}
	fprintf(cli->err, "keelctl: unknown command '%s'\n", argv[1]);
	return usage(cli, cli->err, EXIT_USAGE);
}

int cli_fail(struct cli *cli, int code, const char *fmt, ...)
{
	va_list ap;

	fputs("keelctl: ", cli->err);
	va_start(ap, fmt);
	vfprintf(cli->err, fmt, ap);
	va_end(ap);
	fputc('\n', cli->err);
	return code;
}

static int all_digits(const char *s)
{
	if (!*s) {
		return 0;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9') {
			return 0;
		}
	}
	return 1;
}

int cli_lookup(struct cli *cli, const char *name_or_id, uint32_t *domid)
{
	struct keel_ctl_domain_info info;
	uint32_t *ids = NULL;
	long n, rc;

	if (all_digits(name_or_id) && strlen(name_or_id) <= 10) {
		unsigned long long v = strtoull(name_or_id, NULL, 10);

		rc = v <= UINT32_MAX ? keelctl_domain_info(cli->c, (uint32_t)v, &info) : -KEEL_ESRCH;
		if (rc == 0) {
			*domid = (uint32_t)v;
			return EXIT_OK;
		}
		return rc == -KEEL_ESRCH ? cli_fail(cli, EXIT_NO_DOMAIN, "no domain %s", name_or_id) :
		       cli_fail(cli, EXIT_FAILED, "domain %s: %s", name_or_id, keelctl_strerror(rc));
	}
	n = keelctl_domain_list_all(cli->c, &ids);
	if (n < 0) {
		return cli_fail(cli, n <= -0x10000 ? EXIT_NO_KEEL : EXIT_FAILED, "listing domains: %s",
				keelctl_strerror(n));
	}
	for (long i = 0; i < n; i++) {
		if (keelctl_domain_info(cli->c, ids[i], &info) == 0 &&
		    strncmp((const char *)info.name, name_or_id, sizeof(info.name)) == 0 &&
		    !(info.flags & KEEL_DOMINFO_F_DYING)) {
			*domid = ids[i];
			free(ids);
			return EXIT_OK;
		}
	}
	free(ids);
	return cli_fail(cli, EXIT_NO_DOMAIN, "no domain '%s'", name_or_id);
}

void cli_sleep(struct cli *cli, unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	if (cli->poll_hook) {
		cli->poll_hook(cli->poll_arg);
	}
	nanosleep(&ts, NULL);
}

void cli_state(const struct keel_ctl_domain_info *info, char out[7])
{
	bool stopped = info->flags & (KEEL_DOMINFO_F_PAUSED | KEEL_DOMINFO_F_SHUTDOWN |
				      KEEL_DOMINFO_F_DYING);
	bool crashed = (info->flags & KEEL_DOMINFO_F_SHUTDOWN) &&
		       info->shutdown_reason == KEEL_SHUTDOWN_CRASH;

	out[0] = !stopped && !(info->flags & KEEL_DOMINFO_F_BLOCKED) ? 'r' : '-';
	out[1] = !stopped && (info->flags & KEEL_DOMINFO_F_BLOCKED) ? 'b' : '-';
	out[2] = info->flags & KEEL_DOMINFO_F_PAUSED ? 'p' : '-';
	out[3] = (info->flags & KEEL_DOMINFO_F_SHUTDOWN) && !crashed ? 's' : '-';
	out[4] = crashed ? 'c' : '-';
	out[5] = info->flags & KEEL_DOMINFO_F_DYING ? 'd' : '-';
	out[6] = 0;
}

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
