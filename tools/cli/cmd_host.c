/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cmd_host.c - info (the host and the hypervisor) and dmesg (the
 * hypervisor log). Keel's log cannot be cleared by a reader, so dmesg -c
 * remembers how far it read in STATE_DIR/dmesg.pos and starts there next;
 * dmesg -w follows it, woken by KEEL_VIRQ_LOG.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <keel/abi.h>
#include "cli.h"

int cmd_info(struct cli *cli, int argc, char **argv)
{
	struct keel_ctl_host_info h;
	char version[33];
	long r;

	if (argc != 1) {
		return cli_fail(cli, EXIT_USAGE, "usage: info");
	}
	r = keelctl_host_info(cli->c, &h);
	if (r != 0) {
		return cli_fail(cli, r <= -0x10000 ? EXIT_NO_KEEL : EXIT_FAILED, "info: %s",
				keelctl_strerror(r));
	}
	memcpy(version, h.version, 32);
	version[32] = 0;
	fprintf(cli->out,
		"keel_version     : %s\n"
		"abi_version      : %u.%u\n"
		"nr_cpus          : %u\n"
		"tsc_khz          : %u\n"
		"total_memory     : %llu MiB\n"
		"free_memory      : %llu MiB\n"
		"free_pages       : %llu\n"
		"nr_domains       : %u\n"
		"max_vcpus        : %u\n"
		"features         : %08x %08x %08x %08x\n"
		"keelctl_transport: %s\n",
		version, h.abi_major, h.abi_minor, h.nr_pcpus, h.tsc_khz,
		(unsigned long long)(h.total_pages / 256), (unsigned long long)(h.free_pages / 256),
		(unsigned long long)h.free_pages, h.nr_domains, h.max_vcpus, h.features[0],
		h.features[1], h.features[2], h.features[3], cli->c->t->name);
	return EXIT_OK;
}

static void pos_path(struct cli *cli, char *out, size_t len)
{
	snprintf(out, len, "%s/dmesg.pos", cli->state_dir ? cli->state_dir : "/var/lib/keelctl");
}

static uint64_t saved_pos(struct cli *cli)
{
	char path[512];
	unsigned long long pos = 0;
	FILE *f;

	pos_path(cli, path, sizeof(path));
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &pos) != 1) {
			pos = 0;
		}
		fclose(f);
	}
	return pos;
}

/* With KEEL_VIRQ_LOG, a look this often all the same (a lost wake-up costs no more). */
#define FOLLOW_RECHECK_MS	10000

volatile sig_atomic_t dmesg_follow_stop;

static void follow_signal(int sig)
{
	(void)sig;
	dmesg_follow_stop = 1;
}

/* Print the log from *@pos on; 0, or an exit code (the failure said). */
static int print_from(struct cli *cli, uint64_t *pos)
{
	char buf[4096];
	uint64_t lost = 0;
	long n;

	do {
		n = keelctl_log_read(cli->c, pos, buf, sizeof(buf), &lost);
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, cli->out);
		}
	} while (n > 0);
	fflush(cli->out);
	if (n < 0) {
		return cli_fail(cli, n <= -0x10000 ? EXIT_NO_KEEL : EXIT_FAILED, "dmesg: %s",
				keelctl_strerror(n));
	}
	return 0;
}

/* print_from(), then with -c the position kept; 0, or an exit code. */
static int catch_up(struct cli *cli, uint64_t *pos, bool mark)
{
	char path[512];
	FILE *f;
	int rc = print_from(cli, pos);

	if (rc != 0 || !mark) {
		return rc;
	}
	pos_path(cli, path, sizeof(path));
	f = fopen(path, "w");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)*pos) < 0 || fclose(f) != 0) {
		return cli_fail(cli, EXIT_FAILED, "dmesg -c: cannot write %s", path);
	}
	return 0;
}

/*
 * -w: after what is there, wait for KEEL_VIRQ_LOG (or poll, if it cannot
 * be had) and print what was added, until a signal ends it (exit 0).
 */
static int follow(struct cli *cli, uint64_t pos, bool mark)
{
	struct sigaction sa = { .sa_handler = follow_signal }, old_int, old_term;
	struct keelctl_events *ev = NULL;
	unsigned int poll_ms = cli->poll_ms ? cli->poll_ms : 1000;
	char why[160] = "no event source";
	int err = 0, rc = 0;

	if (cli->open_log_events) {
		ev = cli->open_log_events(why, &err);
	}
	if (!ev) {
		fprintf(cli->err, "keelctl: dmesg -w: no KEEL_VIRQ_LOG (%s): looking every %u ms\n",
			why, poll_ms);
	}
	sigemptyset(&sa.sa_mask);	/* no SA_RESTART: a signal ends the wait at once */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!dmesg_follow_stop && rc == 0) {
		if (ev) {
			int w;

			if (cli->poll_hook) {
				cli->poll_hook(cli->poll_arg);
			}
			w = ev->wait(ev, FOLLOW_RECHECK_MS);
			if (w < 0) {
				fprintf(cli->err, "keelctl: dmesg -w: waiting for KEEL_VIRQ_LOG: %s; "
					"looking every %u ms from now on\n", strerror(-w), poll_ms);
				ev->close(ev);
				ev = NULL;
			}
		} else {
			cli_sleep(cli, poll_ms);
		}
		rc = catch_up(cli, &pos, mark);
	}
	if (ev) {
		ev->close(ev);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	dmesg_follow_stop = 0;
	return rc;
}

int cmd_dmesg(struct cli *cli, int argc, char **argv)
{
	bool mark = false, wait = false;
	uint64_t pos;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			mark = true;
		} else if (strcmp(argv[i], "-w") == 0) {
			wait = true;
		} else {
			return cli_fail(cli, EXIT_USAGE, "usage: dmesg [-c] [-w]");
		}
	}
	pos = saved_pos(cli);
	rc = catch_up(cli, &pos, mark);
	if (rc == 0 && wait) {
		rc = follow(cli, pos, mark);
	}
	return rc;
}
