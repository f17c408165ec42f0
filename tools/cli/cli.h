/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/cli.h - the keelctl command line: one function per verb, all
 * writing to the streams in struct cli so the tests run them in-process.
 * Exit codes (docs/keelctl.md): see enum cli_exit.
 */
#ifndef KEELCTL_CLI_H
#define KEELCTL_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <keelctl/events.h>
#include <keelctl/keelctl.h>

enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,		/* Keel refused, or the build failed */
	EXIT_USAGE = 2,			/* bad command line */
	EXIT_NO_DOMAIN = 3,		/* no domain by that name or id */
	EXIT_CONFIG = 4,		/* the configuration file is wrong */
	EXIT_NO_KEEL = 5,		/* the privileged driver cannot be reached */
};

struct cli {
	struct keelctl *c;
	FILE *out, *err;
	int in_fd;			/* console input (stdin) */
	const char *state_dir;		/* where dmesg -c keeps its position */
	/* Called between polls while waiting (tests act as the guest here). */
	void (*poll_hook)(void *arg);
	void *poll_arg;
	unsigned int poll_ms;		/* wait between polls (default 100) */
	/*
	 * Domain monitors (monitor.h): create leaves one behind only when
	 * set (the program; the tests run them in-process with create -F).
	 */
	bool monitors;
	/* Where monitors get KEEL_VIRQ_DOMAIN_STATE; NULL: they poll. */
	struct keelctl_events *(*open_events)(char *why, int *err);
	/* Where dmesg -w gets KEEL_VIRQ_LOG; NULL: it polls every poll_ms. */
	struct keelctl_events *(*open_log_events)(char *why, int *err);
	unsigned int monitor_poll_ms;	/* 0: 1000 */
};

int keelctl_cli(struct cli *cli, int argc, char **argv);

/* dmesg -w follows the log until this is set (SIGINT, SIGTERM; tests set it themselves). */
extern volatile sig_atomic_t dmesg_follow_stop;

/* Shared by the verbs. */
int cli_fail(struct cli *cli, int code, const char *fmt, ...);
int cli_lookup(struct cli *cli, const char *name_or_id, uint32_t *domid);
void cli_sleep(struct cli *cli, unsigned int ms);
/* xl's state letters r b p s c d, in a 7-byte buffer. */
void cli_state(const struct keel_ctl_domain_info *info, char out[7]);
uint64_t cli_now_ns(void);

int cmd_create(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_top(struct cli *cli, int argc, char **argv);
int cmd_console(struct cli *cli, int argc, char **argv);
int cmd_console_attach(struct cli *cli, uint32_t domid);
int cmd_pause(struct cli *cli, int argc, char **argv);
int cmd_unpause(struct cli *cli, int argc, char **argv);
int cmd_destroy(struct cli *cli, int argc, char **argv);
int cmd_shutdown(struct cli *cli, int argc, char **argv);
int cmd_reboot(struct cli *cli, int argc, char **argv);
int cmd_info(struct cli *cli, int argc, char **argv);
int cmd_dmesg(struct cli *cli, int argc, char **argv);

#endif
