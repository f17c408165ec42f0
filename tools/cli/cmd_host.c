/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cmd_host.c - info (the host and the hypervisor) and dmesg (the
 * hypervisor log). Keel's log cannot be cleared by a reader, so dmesg -c
 * remembers how far it read in STATE_DIR/dmesg.pos and starts there next.
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

int cmd_dmesg(struct cli *cli, int argc, char **argv)
{
	bool mark = argc == 2 && strcmp(argv[1], "-c") == 0;
	char buf[4096], path[512];
	uint64_t pos, lost = 0;
	long n;

	if (argc > 2 || (argc == 2 && !mark)) {
		return cli_fail(cli, EXIT_USAGE, "usage: dmesg [-c]");
	}
	pos = saved_pos(cli);
	do {
		n = keelctl_log_read(cli->c, &pos, buf, sizeof(buf), &lost);
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, cli->out);
		}
	} while (n > 0);
	if (n < 0) {
		return cli_fail(cli, n <= -0x10000 ? EXIT_NO_KEEL : EXIT_FAILED, "dmesg: %s",
				keelctl_strerror(n));
	}
	if (mark) {
		FILE *f;

		pos_path(cli, path, sizeof(path));
		f = fopen(path, "w");
		if (!f || fprintf(f, "%llu\n", (unsigned long long)pos) < 0 || fclose(f) != 0) {
			return cli_fail(cli, EXIT_FAILED, "dmesg -c: cannot write %s", path);
		}
	}
	return EXIT_OK;
}
