/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/monitor.c - the domain monitor's policy and loop (monitor.h):
 * on each KEEL_VIRQ_DOMAIN_STATE (or every poll_ms without one) look at the
 * domain; when it has shut down, carry out on_poweroff / on_reboot /
 * on_crash: destroy it, build it again from the same configuration (same
 * disk files, a new domain id), or leave it for inspection.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <keel/errno.h>
#include <keel/sched.h>
#include "../build/builder.h"
#include "monitor.h"
#include "statedir.h"

#define DEFAULT_POLL_MS		1000u
#define BACKEND_WAIT_MS		5000u	/* for the backend daemon to let the old console go */
#define WATCHING		(-1)	/* act(): not an end, the monitor carries on */

volatile sig_atomic_t monitor_stop_requested;

void monitor_request_stop(void)
{
	monitor_stop_requested = 1;
}

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case KEEL_SHUTDOWN_POWEROFF: return "powered off";
	case KEEL_SHUTDOWN_REBOOT: return "rebooted";
	case KEEL_SHUTDOWN_SUSPEND: return "suspended";
	case KEEL_SHUTDOWN_CRASH: return "crashed";
	default: return "shut down";
	}
}

static const char *reason_key(uint32_t reason)
{
	return reason == KEEL_SHUTDOWN_REBOOT ? "on_reboot" :
	       reason == KEEL_SHUTDOWN_CRASH ? "on_crash" : "on_poweroff";
}

const char *monitor_end_name(enum monitor_end e)
{
	static const char *const names[] = { "destroyed", "preserved", "gone", "stopped", "failed" };

	return (unsigned int)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

bool monitor_policy(const struct domcfg *cfg, uint32_t reason, enum domcfg_action *out)
{
	switch (reason) {
	case KEEL_SHUTDOWN_POWEROFF:
		*out = cfg->on_poweroff;
		return true;
	case KEEL_SHUTDOWN_REBOOT:
		*out = cfg->on_reboot;
		return true;
	case KEEL_SHUTDOWN_SUSPEND:
		return false;	/* a controller's business (save); the domain waits as it is */
	default:
		/* A crash, or a reason this keelctl does not know: treated as xl treats a crash. */
		*out = cfg->on_crash;
		return true;
	}
}

bool monitor_guard_allows(struct monitor_guard *g, const struct domcfg *cfg, uint64_t now_ns)
{
	uint64_t window = (uint64_t)cfg->restart_window_s * 1000000000ull;

	if (g->count == 0 || now_ns - g->window_start_ns > window) {
		g->count = 0;
		g->window_start_ns = now_ns;
	}
	if (g->count >= cfg->restart_limit) {
		return false;
	}
	g->count++;
	return true;
}

static void say(struct monitor *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct monitor *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->log) {
		return;
	}
	fprintf(m->log, "keelctl monitor %s: ", m->cfg->name);
	va_start(ap, fmt);
	vfprintf(m->log, fmt, ap);
	va_end(ap);
	fputc('\n', m->log);
	fflush(m->log);
}

/* Someone still answers on the console socket the backend daemon made for the old instance. */
static bool console_still_served(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[KB_STATE_PATH_MAX];
	struct stat st;
	bool served;
	int fd;

	if (kb_state_path(path, sizeof(path), name, "console.sock") != 0 ||
	    strlen(path) >= sizeof(sa.sun_path) || stat(path, &st) != 0) {
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		return false;
	}
	served = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return served;	/* a stale file of a daemon that is gone refuses the connection */
}

/*
 * Wait (bounded) until the backend daemon has dropped the old instance's
 * devices: it removes the old console's socket when it does, and the new
 * instance's socket has the same name, so building first could lose it.
 */
static void wait_backend_let_go(struct monitor *m)
{
	unsigned int waited = 0;

	while (console_still_served(m->cfg->name) && waited < BACKEND_WAIT_MS) {
		struct timespec ts = { .tv_nsec = 50 * 1000000l };

		nanosleep(&ts, NULL);
		waited += 50;
	}
}

static long destroy(struct monitor *m, bool forget)
{
	long rc = keelctl_domain_destroy(m->c, m->domid);

	if (rc == -KEEL_ESRCH) {
		rc = 0;		/* gone already: what we wanted */
	}
	if (rc == 0 && forget) {
		kb_state_remove(m->cfg->name);
	}
	return rc;
}

/* on_* = "restart": the old instance goes, a new one is built from the same configuration. */
static int restart(struct monitor *m)
{
	struct build_options opt = { 0 };
	uint32_t old = m->domid, domid;
	char err[512];
	long rc = destroy(m, false);

	if (rc != 0) {
		say(m, "destroying domain %u to restart it: %s", old, keelctl_strerror(rc));
		return MONITOR_FAILED;
	}
	wait_backend_let_go(m);
	if (keelctl_build_domain(m->c, m->cfg, &opt, &domid, err, sizeof(err)) != 0) {
		kb_state_remove(m->cfg->name);
		say(m, "domain %u destroyed; building it again failed: %s", old, err);
		return MONITOR_FAILED;
	}
	m->domid = domid;
	m->restarts++;
	say(m, "restarted: domain %u destroyed, created again as domain %u (restart %u)", old,
	    domid, m->restarts);
	if (m->restarted) {
		m->restarted(m);
	}
	return WATCHING;
}

/* The domain shut down for @reason: carry out the policy. An enum monitor_end, or WATCHING. */
static int act(struct monitor *m, uint32_t reason)
{
	enum domcfg_action a;
	long rc;

	if (!monitor_policy(m->cfg, reason, &a)) {
		return WATCHING;
	}
	if (a == DOMCFG_RESTART && !monitor_guard_allows(&m->guard, m->cfg, m->now_ns())) {
		say(m, "domain %u %s: restarted %u times within %u s (keel_restart_limit): "
		    "destroying it instead", m->domid, reason_name(reason), m->cfg->restart_limit,
		    m->cfg->restart_window_s);
		a = DOMCFG_DESTROY;
	} else {
		say(m, "domain %u %s: %s = \"%s\"", m->domid, reason_name(reason),
		    reason_key(reason), domcfg_action_name(a));
	}
	switch (a) {
	case DOMCFG_RESTART:
		return restart(m);
	case DOMCFG_PRESERVE:
		say(m, "domain %u kept as it is ('keelctl destroy %s' frees it)", m->domid,
		    m->cfg->name);
		return MONITOR_PRESERVED;
	default:
		rc = destroy(m, true);
		if (rc != 0) {
			say(m, "destroying domain %u: %s", m->domid, keelctl_strerror(rc));
			return MONITOR_FAILED;
		}
		say(m, "domain %u destroyed", m->domid);
		return MONITOR_DESTROYED;
	}
}

/* The VIRQ, if the monitor has none yet and there is a source (the first failure is said). */
static void try_events(struct monitor *m, bool *complained)
{
	char why[160];
	int err = 0;

	if (m->ev || !m->open_events) {
		return;
	}
	m->ev = m->open_events(why, &err);
	if (m->ev && *complained) {
		say(m, "KEEL_VIRQ_DOMAIN_STATE is ours now");
	} else if (!m->ev && !*complained) {
		say(m, "no KEEL_VIRQ_DOMAIN_STATE (%s): looking every %u ms", why, m->poll_ms);
	}
	*complained = !m->ev;
}

enum monitor_end monitor_run(struct monitor *m)
{
	bool suspended_seen = false, complained = false;

	m->poll_ms = m->poll_ms ? m->poll_ms : DEFAULT_POLL_MS;
	m->now_ns = m->now_ns ? m->now_ns : cli_now_ns;
	try_events(m, &complained);
	say(m, "watching domain %u (%s); on_poweroff \"%s\", on_reboot \"%s\", on_crash \"%s\"",
	    m->domid, m->ev ? "KEEL_VIRQ_DOMAIN_STATE" : "polling",
	    domcfg_action_name(m->cfg->on_poweroff), domcfg_action_name(m->cfg->on_reboot),
	    domcfg_action_name(m->cfg->on_crash));
	for (;;) {
		struct keel_ctl_domain_info info;
		long rc;

		if (monitor_stop_requested) {
			say(m, "stopped; domain %u left as it is", m->domid);
			return MONITOR_STOPPED;
		}
		/* The state, not the event, decides: an event that came before we waited is not lost. */
		rc = keelctl_domain_info(m->c, m->domid, &info);
		if (rc == -KEEL_ESRCH || (rc == 0 && (info.flags & KEEL_DOMINFO_F_DYING))) {
			say(m, "domain %u was destroyed by someone else", m->domid);
			return MONITOR_GONE;
		}
		if (rc != 0) {
			say(m, "reading domain %u: %s", m->domid, keelctl_strerror(rc));
			return MONITOR_FAILED;
		}
		if (info.flags & KEEL_DOMINFO_F_SHUTDOWN) {
			if (info.shutdown_reason != KEEL_SHUTDOWN_SUSPEND) {
				int e = act(m, info.shutdown_reason);

				if (e != WATCHING) {
					return (enum monitor_end)e;
				}
				continue;	/* restarted: look at the new domain at once */
			}
			if (!suspended_seen) {
				say(m, "domain %u suspended: left as it is until it resumes", m->domid);
			}
			suspended_seen = true;
		} else {
			suspended_seen = false;
		}
		if (m->poll_hook) {
			m->poll_hook(m->poll_arg);
		}
		try_events(m, &complained);
		if (m->ev) {
			int w = m->ev->wait(m->ev, (int)m->poll_ms);

			if (w < 0) {
				say(m, "waiting for KEEL_VIRQ_DOMAIN_STATE: %s; polling from now on",
				    strerror(-w));
				m->ev->close(m->ev);
				m->ev = NULL;
			}
		} else {
			struct timespec ts = { .tv_sec = m->poll_ms / 1000,
					       .tv_nsec = (long)(m->poll_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
}
