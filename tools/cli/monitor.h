/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/monitor.h - the domain monitor `keelctl create` leaves behind
 * (docs/keelctl.md, "The monitor"): it waits for KEEL_VIRQ_DOMAIN_STATE and
 * carries out the configuration's on_poweroff / on_reboot / on_crash when
 * its domain shuts down, as xl's per-domain process does. monitor.c is the
 * policy and the loop (portable); monitor_proc.c the process around it
 * (lock file, detaching, being stopped by destroy).
 */
#ifndef KEELCTL_MONITOR_H
#define KEELCTL_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <keelctl/events.h>
#include "../config/domcfg.h"
#include "cli.h"

/* Restarts counted against keel_restart_limit, as Keel counts its boot domains'. */
struct monitor_guard {
	uint32_t count;			/* restarts in the current window */
	uint64_t window_start_ns;
};

/* How a monitor ended. */
enum monitor_end {
	MONITOR_DESTROYED,		/* the policy destroyed the domain (or the guard did) */
	MONITOR_PRESERVED,		/* the policy keeps it shut down */
	MONITOR_GONE,			/* someone else destroyed it */
	MONITOR_STOPPED,		/* asked to stop (keelctl destroy, a signal) */
	MONITOR_FAILED,			/* a restart could not build it again, or Keel failed */
};

struct monitor {
	struct keelctl *c;
	const struct domcfg *cfg;	/* as it was at create: restarts build from it */
	uint32_t domid;			/* the domain now; a restart changes it */
	struct keelctl_events *ev;	/* KEEL_VIRQ_DOMAIN_STATE, or NULL: poll */
	/* Where ev comes from; tried again while there is none (another monitor may free it). */
	struct keelctl_events *(*open_events)(char *why, int *err);
	unsigned int poll_ms;		/* longest wait between looks (default 1000) */
	FILE *log;			/* one line per thing done */
	uint64_t (*now_ns)(void);	/* the guard's clock (default cli_now_ns) */
	/* Tests act as the guest here, once per wait. */
	void (*poll_hook)(void *arg);
	void *poll_arg;
	/* After a restart: the new domain id (monitor_proc.c records it). */
	void (*restarted)(struct monitor *m);
	void *owner;			/* restarted()'s */
	struct monitor_guard guard;
	uint32_t restarts;		/* in this monitor's life */
};

/* What @cfg says for a shutdown with @reason (KEEL_SHUTDOWN_*); false: none (suspend). */
bool monitor_policy(const struct domcfg *cfg, uint32_t reason, enum domcfg_action *out);

/* Count a restart at @now_ns; false when it is over @cfg's limit (destroy instead). */
bool monitor_guard_allows(struct monitor_guard *g, const struct domcfg *cfg, uint64_t now_ns);

/* Watch m->domid until one of enum monitor_end happens. */
enum monitor_end monitor_run(struct monitor *m);

/* Ask every monitor loop of this process to stop (async-signal-safe). */
void monitor_request_stop(void);
extern volatile sig_atomic_t monitor_stop_requested;

const char *monitor_end_name(enum monitor_end e);

/* --- the process (monitor_proc.c) --- */

/* $KEELCTL_RUN_DIR, or /run/keelctl: NAME.pid (locked while a monitor runs), NAME.log. */
const char *monitor_run_dir(void);

/*
 * Become domain @name's monitor: create and lock RUNDIR/@name.pid holding
 * our pid and @domid. The lock fd (>= 0), or -1 with errno (EEXIST: a
 * monitor of that name runs).
 */
int monitor_lock(const char *name, uint32_t domid);
/* Record the new domain id after a restart. */
void monitor_lock_update(int fd, uint32_t domid);
/* Give the lock up and remove the file. */
void monitor_unlock(int fd, const char *name);

/* The pid of domain @name's running monitor, or 0 if none runs. */
long monitor_find(const char *name);

/*
 * Stop domain @name's monitor (SIGTERM) and wait up to @timeout_ms for it
 * to end. 0 if none runs or it ended; -1 if it is still running.
 */
int monitor_stop(const char *name, unsigned int timeout_ms);

/*
 * Run the monitor of @cfg's domain @domid: detached in a process of its
 * own (@foreground false: this returns once it holds its lock, 0, or -1
 * with the reason in @err), or in this process until it ends (@foreground:
 * returns the exit code for it).
 */
int monitor_start(struct cli *cli, const struct domcfg *cfg, uint32_t domid, bool foreground,
		  char *err, size_t errlen);

#endif /* KEELCTL_MONITOR_H */
