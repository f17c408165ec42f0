/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cmd_lifecycle.c - create (and the monitor it leaves behind), and
 * the verbs that change a domain's state: pause, unpause, shutdown (-w),
 * reboot, destroy (which stops the monitor first).
 */
#include <stdbool.h>
#include <string.h>
#include <keel/errno.h>
#include <keel/sched.h>
#include "../build/builder.h"
#include "../config/domcfg.h"
#include "cli.h"
#include "monitor.h"
#include "statedir.h"

#define MONITOR_STOP_MS		10000u	/* a monitor mid-restart finishes the build first */
#define MONITOR_ACT_MS		30000u	/* shutdown -w: for the monitor to carry out on_poweroff */

int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct build_options opt = { 0 };
	const char *path = NULL;
	bool console = false, foreground = false;
	char err[512];
	struct domcfg cfg;
	uint32_t domid;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0) {
			console = true;
		} else if (strcmp(argv[i], "-F") == 0) {
			foreground = true;
		} else if (strcmp(argv[i], "-p") == 0) {
			opt.paused = true;
		} else if (argv[i][0] == '-' || path) {
			return cli_fail(cli, EXIT_USAGE, "create: unexpected '%s' (usage: create "
					"CONFIG [-c] [-p] [-F])", argv[i]);
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		return cli_fail(cli, EXIT_USAGE, "create: which configuration file?");
	}
	if (console && foreground) {
		return cli_fail(cli, EXIT_USAGE, "create: -c and -F together: attach from another "
				"shell with 'keelctl console'");
	}
	if (domcfg_load(path, &cfg, err, sizeof(err)) != 0) {
		return cli_fail(cli, EXIT_CONFIG, "%s", err);
	}
	if (keelctl_build_domain(cli->c, &cfg, &opt, &domid, err, sizeof(err)) != 0) {
		cli_fail(cli, EXIT_FAILED, "create %s: %s", cfg.name, err);
		domcfg_free(&cfg);
		return EXIT_FAILED;
	}
	fprintf(cli->out, "created domain %s (id %u)%s\n", cfg.name, domid,
		opt.paused ? ", paused" : "");
	fflush(cli->out);
	rc = EXIT_OK;
	err[0] = '\0';
	if (foreground) {
		rc = monitor_start(cli, &cfg, domid, true, err, sizeof(err));
	} else if (cli->monitors && monitor_start(cli, &cfg, domid, false, err, sizeof(err)) != 0) {
		/* The domain runs; only its on_* policies are not carried out. Said, not undone. */
		fprintf(cli->err, "keelctl: warning: %s: %s: on_poweroff, on_reboot and on_crash "
			"will not be acted on\n", cfg.name, err);
	}
	if (foreground && rc == EXIT_FAILED && err[0]) {
		cli_fail(cli, rc, "monitor of %s: %s", cfg.name, err);
	}
	domcfg_free(&cfg);
	return console ? cmd_console_attach(cli, domid) : rc;
}

/* A verb of the form "VERB DOMAIN" calling @fn once. */
static int simple(struct cli *cli, int argc, char **argv, long (*fn)(struct keelctl *, uint32_t),
		  const char *done)
{
	uint32_t domid;
	int rc;
	long r;

	if (argc != 2) {
		return cli_fail(cli, EXIT_USAGE, "usage: %s DOMAIN", argv[0]);
	}
	rc = cli_lookup(cli, argv[1], &domid);
	if (rc != EXIT_OK) {
		return rc;
	}
	r = fn(cli->c, domid);
	if (r != 0) {
		return cli_fail(cli, EXIT_FAILED, "%s %s: %s", argv[0], argv[1], keelctl_strerror(r));
	}
	fprintf(cli->out, "%s: %s\n", argv[1], done);
	return EXIT_OK;
}

int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, keelctl_domain_pause, "paused");
}

int cmd_unpause(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, keelctl_domain_unpause, "unpaused");
}

/* Destroy, and drop the backends' state directory keelctl create wrote for it. */
static long destroy_and_forget(struct keelctl *c, uint32_t domid)
{
	struct keel_ctl_domain_info info;
	char name[sizeof(info.name) + 1] = "";
	long rc = keelctl_domain_info(c, domid, &info);

	if (rc == 0) {
		memcpy(name, info.name, sizeof(info.name));
	}
	rc = keelctl_domain_destroy(c, domid);
	if (rc == 0 && name[0]) {
		kb_state_remove(name);
	}
	return rc;
}

static bool is_domid(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The name of domain @domid into @name (empty if Keel does not say). */
static void name_of(struct cli *cli, uint32_t domid, char name[DOMCFG_NAME_MAX])
{
	struct keel_ctl_domain_info info;

	name[0] = '\0';
	if (keelctl_domain_info(cli->c, domid, &info) == 0) {
		memcpy(name, info.name, DOMCFG_NAME_MAX - 1);
		name[DOMCFG_NAME_MAX - 1] = '\0';
	}
}

/*
 * The monitor goes first, so that it does not act on the destruction (or
 * restart the domain while we destroy it); then the domain as it is now
 * (a monitor that was restarting it has made a new one under the name).
 */
int cmd_destroy(struct cli *cli, int argc, char **argv)
{
	char name[DOMCFG_NAME_MAX];
	uint32_t domid;
	int rc;
	long r;

	if (argc != 2) {
		return cli_fail(cli, EXIT_USAGE, "usage: destroy DOMAIN");
	}
	rc = cli_lookup(cli, argv[1], &domid);
	if (rc != EXIT_OK) {
		return rc;
	}
	name_of(cli, domid, name);
	if (name[0] && monitor_stop(name, MONITOR_STOP_MS) != 0) {
		return cli_fail(cli, EXIT_FAILED, "destroy %s: its monitor (pid %ld) does not stop",
				argv[1], monitor_find(name));
	}
	if (!is_domid(argv[1])) {
		rc = cli_lookup(cli, argv[1], &domid);
		if (rc != EXIT_OK) {
			return rc;
		}
	}
	r = destroy_and_forget(cli->c, domid);
	if (r != 0) {
		return cli_fail(cli, EXIT_FAILED, "destroy %s: %s", argv[1], keelctl_strerror(r));
	}
	fprintf(cli->out, "%s: destroyed\n", argv[1]);
	return EXIT_OK;
}

/* shutdown -w: a monitor carries out on_poweroff; wait (bounded) until it has. */
static int wait_monitor(struct cli *cli, uint32_t domid, const char *name)
{
	struct keel_ctl_domain_info info;
	char dname[DOMCFG_NAME_MAX];
	unsigned int step = cli->poll_ms ? cli->poll_ms : 100, waited = 0;

	name_of(cli, domid, dname);
	if (!dname[0] || monitor_find(dname) == 0) {
		return EXIT_OK;
	}
	while (monitor_find(dname) != 0 && waited < MONITOR_ACT_MS) {
		long r = keelctl_domain_info(cli->c, domid, &info);

		if (r == -KEEL_ESRCH || (r == 0 && (info.flags & KEEL_DOMINFO_F_DYING))) {
			fprintf(cli->out, "%s: its monitor acted (domain %u is gone)\n", name, domid);
			return EXIT_OK;
		}
		cli_sleep(cli, step);
		waited += step;
	}
	fprintf(cli->out, "%s: its monitor %s\n", name,
		monitor_find(dname) ? "has not acted yet" : "has ended");
	return EXIT_OK;
}

static int wait_shutdown(struct cli *cli, uint32_t domid, const char *name)
{
	struct keel_ctl_domain_info info;

	for (;;) {
		long r = keelctl_domain_info(cli->c, domid, &info);

		if (r == -KEEL_ESRCH || (r == 0 && (info.flags & (KEEL_DOMINFO_F_SHUTDOWN |
								  KEEL_DOMINFO_F_DYING)))) {
			fprintf(cli->out, "%s: shut down\n", name);
			return r == 0 ? wait_monitor(cli, domid, name) : EXIT_OK;
		}
		if (r != 0) {
			return cli_fail(cli, EXIT_FAILED, "waiting for %s: %s", name,
					keelctl_strerror(r));
		}
		cli_sleep(cli, cli->poll_ms ? cli->poll_ms : 100);
	}
}

static int request(struct cli *cli, int argc, char **argv, uint32_t reason, bool may_wait)
{
	const char *name = NULL;
	bool wait = false;
	uint32_t domid;
	int rc;
	long r;

	for (int i = 1; i < argc; i++) {
		if (may_wait && strcmp(argv[i], "-w") == 0) {
			wait = true;
		} else if (argv[i][0] == '-' || name) {
			return cli_fail(cli, EXIT_USAGE, "%s: unexpected '%s'", argv[0], argv[i]);
		} else {
			name = argv[i];
		}
	}
	if (!name) {
		return cli_fail(cli, EXIT_USAGE, "usage: %s DOMAIN%s", argv[0], may_wait ? " [-w]" : "");
	}
	rc = cli_lookup(cli, name, &domid);
	if (rc != EXIT_OK) {
		return rc;
	}
	r = keelctl_domain_shutdown(cli->c, domid, reason, 0);
	if (r == -KEEL_EBUSY) {
		return cli_fail(cli, EXIT_FAILED, "%s %s: it is already shut down", argv[0], name);
	}
	if (r != 0) {
		return cli_fail(cli, EXIT_FAILED, "%s %s: %s", argv[0], name, keelctl_strerror(r));
	}
	fprintf(cli->out, "%s: %s requested\n", name, argv[0]);
	return wait ? wait_shutdown(cli, domid, name) : EXIT_OK;
}

int cmd_shutdown(struct cli *cli, int argc, char **argv)
{
	return request(cli, argc, argv, KEEL_SHUTDOWN_POWEROFF, true);
}

int cmd_reboot(struct cli *cli, int argc, char **argv)
{
	return request(cli, argc, argv, KEEL_SHUTDOWN_REBOOT, false);
}
