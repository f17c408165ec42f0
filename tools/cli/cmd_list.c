/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cmd_list.c - list (a table like xl's, or JSON) and top (CPU%
 * from two samples of each domain's cpu_time_ns, memory from its pages).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#define TOP_DELAY_MIN_S	0	/* no wait: frames as fast as Keel answers */
#define TOP_DELAY_MAX_S	86400	/* a frame a day */

struct row {
	uint32_t domid;
	struct keel_ctl_domain_info info;
};

/* Every domain's info; *@rows malloc'd. Returns the count, or minus the exit code. */
static long snapshot(struct cli *cli, struct row **rows)
{
	uint32_t *ids = NULL;
	long n = keelctl_domain_list_all(cli->c, &ids), k = 0;

	if (n < 0) {
		return -cli_fail(cli, n <= -0x10000 ? EXIT_NO_KEEL : EXIT_FAILED,
				 "listing domains: %s", keelctl_strerror(n));
	}
	*rows = calloc((size_t)n + 1, sizeof(**rows));
	if (!*rows) {
		free(ids);
		return -cli_fail(cli, EXIT_FAILED, "listing domains: out of memory");
	}
	for (long i = 0; i < n; i++) {
		/* A domain destroyed since the list was taken is left out. */
		if (keelctl_domain_info(cli->c, ids[i], &(*rows)[k].info) == 0) {
			(*rows)[k++].domid = ids[i];
		}
	}
	free(ids);
	return k;
}

static void name_of(const struct keel_ctl_domain_info *info, char out[33])
{
	memcpy(out, info->name, 32);
	out[32] = 0;
	for (char *p = out; *p; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\') {
			*p = '?';	/* Keel checks names; a driver might not */
		}
	}
}

static void print_json(struct cli *cli, const struct row *rows, long n)
{
	fprintf(cli->out, "[");
	for (long i = 0; i < n; i++) {
		const struct keel_ctl_domain_info *d = &rows[i].info;
		char name[33], state[7];

		name_of(d, name);
		cli_state(d, state);
		fprintf(cli->out, "%s\n  {\"domid\": %u, \"name\": \"%s\", \"state\": \"%s\", "
			"\"memory_mib\": %llu, \"max_memory_mib\": %llu, \"vcpus\": %u, "
			"\"vcpus_online\": %u, \"cpu_time_ns\": %llu, \"weight\": %u, \"cap\": %u, "
			"\"parent\": %u, \"caps\": %llu, \"shutdown_reason\": %u}",
			i ? "," : "", rows[i].domid, name, state,
			(unsigned long long)(d->current_pages / 256),
			(unsigned long long)(d->max_pages / 256), d->nr_vcpus, d->nr_vcpus_online,
			(unsigned long long)d->cpu_time_ns, d->weight, d->cap_percent, d->parent_domid,
			(unsigned long long)d->caps, d->shutdown_reason);
	}
	fprintf(cli->out, "%s]\n", n ? "\n" : "");
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct row *rows = NULL;
	bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
	long n;

	if (argc > 2 || (argc == 2 && !json)) {
		return cli_fail(cli, EXIT_USAGE, "usage: list [--json]");
	}
	n = snapshot(cli, &rows);
	if (n < 0) {
		return (int)-n;
	}
	if (json) {
		print_json(cli, rows, n);
	} else {
		fprintf(cli->out, "%-24s %6s %9s %5s %6s %10s\n", "Name", "ID", "Mem(MiB)", "VCPUs",
			"State", "Time(s)");
		for (long i = 0; i < n; i++) {
			char name[33], state[7];

			name_of(&rows[i].info, name);
			cli_state(&rows[i].info, state);
			fprintf(cli->out, "%-24s %6u %9llu %5u %6s %10.1f\n", name, rows[i].domid,
				(unsigned long long)(rows[i].info.current_pages / 256),
				rows[i].info.nr_vcpus, state, rows[i].info.cpu_time_ns / 1e9);
		}
	}
	free(rows);
	return EXIT_OK;
}

static uint64_t cpu_before(const struct row *prev, long nprev, uint32_t domid, uint64_t now)
{
	for (long i = 0; i < nprev; i++) {
		if (prev[i].domid == domid) {
			return prev[i].info.cpu_time_ns;
		}
	}
	return now;	/* new since the last sample: no share yet */
}

static void top_frame(struct cli *cli, const struct row *rows, long n, const struct row *prev,
		      long nprev, uint64_t wall_ns, bool batch)
{
	if (!batch) {
		fputs("\033[H\033[2J", cli->out);	/* home and clear: a refreshing screen */
	}
	fprintf(cli->out, "%-24s %6s %6s %10s %6s %9s %9s %5s\n", "NAME", "ID", "STATE",
		"CPU(sec)", "CPU(%)", "MEM(MiB)", "MAXMEM", "VCPUS");
	for (long i = 0; i < n; i++) {
		const struct keel_ctl_domain_info *d = &rows[i].info;
		uint64_t before = cpu_before(prev, nprev, rows[i].domid, d->cpu_time_ns);
		double pct = wall_ns && d->cpu_time_ns >= before ?
			     100.0 * (double)(d->cpu_time_ns - before) / (double)wall_ns : 0.0;
		char name[33], state[7];

		name_of(d, name);
		cli_state(d, state);
		fprintf(cli->out, "%-24s %6u %6s %10.1f %6.1f %9llu %9llu %5u\n", name, rows[i].domid,
			state, d->cpu_time_ns / 1e9, pct,
			(unsigned long long)(d->current_pages / 256),
			(unsigned long long)(d->max_pages / 256), d->nr_vcpus);
	}
	fflush(cli->out);
}

/* -n N: digits only (strtoul would take "-1" as a huge count), at least 1. */
static bool top_frames(const char *s, unsigned long *out)
{
	char *end = NULL;

	if (!(s[0] >= '0' && s[0] <= '9')) {
		return false;
	}
	*out = strtoul(s, &end, 10);
	return !*end && *out > 0;
}

/* -d SECS: a number in range (not "nan", not negative: they have no delay in ms). */
static bool top_delay(const char *s, unsigned long *ms)
{
	char *end = NULL;
	double secs;

	if (!((s[0] >= '0' && s[0] <= '9') || s[0] == '.')) {
		return false;
	}
	secs = strtod(s, &end);
	if (*end || end == s || !(secs >= TOP_DELAY_MIN_S && secs <= TOP_DELAY_MAX_S)) {
		return false;
	}
	*ms = (unsigned long)(secs * 1000);
	return true;
}

int cmd_top(struct cli *cli, int argc, char **argv)
{
	unsigned long iterations = 0, delay_ms = 1000;
	struct row *prev = NULL, *rows = NULL;
	long nprev = 0, n;
	uint64_t t_prev, t;
	bool batch = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-b") == 0) {
			batch = true;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			if (!top_frames(argv[++i], &iterations)) {
				return cli_fail(cli, EXIT_USAGE, "top: -n '%s' must be a number of "
						"frames, 1 or more", argv[i]);
			}
		} else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			if (!top_delay(argv[++i], &delay_ms)) {
				return cli_fail(cli, EXIT_USAGE, "top: -d '%s' must be seconds, %d to %d",
						argv[i], TOP_DELAY_MIN_S, TOP_DELAY_MAX_S);
			}
		} else {
			return cli_fail(cli, EXIT_USAGE, "usage: top [-b] [-n N] [-d SECS]");
		}
	}
	/* The first frame needs a sample before it, one delay earlier. */
	nprev = snapshot(cli, &prev);
	t_prev = cli_now_ns();
	for (unsigned long k = 0; nprev >= 0 && (iterations == 0 || k < iterations); k++) {
		cli_sleep(cli, (unsigned int)delay_ms);
		n = snapshot(cli, &rows);
		t = cli_now_ns();
		if (n < 0) {
			nprev = n;
			break;
		}
		top_frame(cli, rows, n, prev, nprev, t - t_prev, batch);
		free(prev);
		prev = rows;
		nprev = n;
		rows = NULL;
		t_prev = t;
	}
	free(prev);
	return nprev < 0 ? (int)-nprev : EXIT_OK;
}
