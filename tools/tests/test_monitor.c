/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_monitor.c - the domain monitor (tools/cli/monitor.h)
 * against Keel's real core: the policies of on_poweroff / on_reboot /
 * on_crash carried out by `keelctl create -F` while this file plays the
 * guest, with KEEL_VIRQ_DOMAIN_STATE taken from the core's own pending bit
 * (and without it: polling); the restart guard; a monitor stopped by a
 * signal, by `keelctl destroy`, or outlived by its domain; its lock file
 * across processes. Every run ends with Keel's free pages where they were.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <keel/errno.h>
#include <keel/event_channel.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/start_info.h>
#include "../cli/cli.h"
#include "../cli/monitor.h"
#include "../config/domcfg.h"
#include "fake_keel.h"
#include "statedir.h"
#include "tests.h"

/* --- KEEL_VIRQ_DOMAIN_STATE from the core's pending bit ------------------------------- */

static struct {
	struct keelctl_events ev;
	uint32_t port;
	unsigned int fired, opened;
} fake_ev;

static int fake_wait(struct keelctl_events *ev, int ms)
{
	(void)ev;
	(void)ms;
	if (fake_keel_take_pending(env_get()->ctl_dom, fake_ev.port)) {
		fake_ev.fired++;
		return 1;
	}
	return 0;
}

static void fake_close(struct keelctl_events *ev)
{
	uint64_t args[6] = { fake_ev.port };

	(void)ev;
	CU_ASSERT_EQUAL(fake_keel_hypercall(env_get()->ctl_dom, KEEL_HC_EVTCHN_CLOSE, args), 0);
	fake_ev.port = 0;
}

static struct keelctl_events *fake_open(char *why, int *err)
{
	uint64_t args[6] = { KEEL_VIRQ_DOMAIN_STATE, 0 };
	long port = fake_keel_hypercall(env_get()->ctl_dom, KEEL_HC_EVTCHN_BIND_VIRQ, args);

	if (port < 0) {
		snprintf(why, 160, "bind: %s", keelctl_strerror(port));
		*err = (int)-port;
		return NULL;
	}
	fake_ev.ev = (struct keelctl_events){ .name = "fake", .wait = fake_wait,
					      .close = fake_close };
	fake_ev.port = (uint32_t)port;
	fake_ev.opened++;
	return &fake_ev.ev;
}

/* --- the guest's part: what each instance does when the monitor waits ---------------- */

static struct {
	const char *name;
	uint32_t reasons[8];		/* one shutdown per instance, in order; 0: stay up */
	unsigned int next, waits;
	bool destroy_it, stop_monitor;	/* instead: destroyed by "someone else", or a signal */
	uint32_t seen[8];		/* the domain ids of the instances */
} guest;

static uint32_t domid_of(const char *name)
{
	struct keel_ctl_domain_info info;
	uint32_t *ids = NULL, found = 0;
	long n = keelctl_domain_list_all(&env_get()->ctl, &ids);

	for (long i = 0; i < n; i++) {
		if (keelctl_domain_info(&env_get()->ctl, ids[i], &info) == 0 &&
		    strcmp((const char *)info.name, name) == 0 &&
		    !(info.flags & KEEL_DOMINFO_F_DYING)) {
			found = ids[i];
		}
	}
	free(ids);
	return found;
}

static void guest_acts(void *arg)
{
	struct keel_ctl_domain_info info;
	uint32_t id = domid_of(guest.name);

	(void)arg;
	CU_ASSERT_FATAL(++guest.waits < 1000);	/* a monitor that never ends fails the test */
	if (!id || keelctl_domain_info(&env_get()->ctl, id, &info) != 0 ||
	    (info.flags & KEEL_DOMINFO_F_SHUTDOWN)) {
		return;
	}
	if (guest.destroy_it) {
		CU_ASSERT_EQUAL(keelctl_domain_destroy(&env_get()->ctl, id), 0);
		kb_state_remove(guest.name);
		return;
	}
	if (guest.stop_monitor) {
		monitor_request_stop();
		return;
	}
	if (guest.next < 8 && guest.reasons[guest.next]) {
		guest.seen[guest.next] = id;
		CU_ASSERT_EQUAL(fake_keel_guest_shutdown(id, guest.reasons[guest.next]), 0);
		guest.next++;
	}
}

/* --- running keelctl ---------------------------------------------------------------- */

static char *out_text, *err_text;
static bool use_events = true;

static int run(const char *first, ...)
{
	static char argbuf[8][256];
	char *argv[8] = { "keelctl" };
	size_t out_len = 0, err_len = 0;
	int argc = 1, rc;
	struct cli cli = { .c = &env_get()->ctl, .in_fd = -1, .state_dir = env_get()->dir,
			   .poll_hook = guest_acts, .poll_ms = 1, .monitor_poll_ms = 1,
			   .open_events = use_events ? fake_open : NULL };
	va_list ap;

	free(out_text);
	free(err_text);
	cli.out = open_memstream(&out_text, &out_len);
	cli.err = open_memstream(&err_text, &err_len);
	va_start(ap, first);
	for (const char *a = first; a && argc < 7; a = va_arg(ap, const char *)) {
		snprintf(argbuf[argc], sizeof(argbuf[argc]), "%s", a);
		argv[argc] = argbuf[argc];
		argc++;
	}
	va_end(ap);
	rc = keelctl_cli(&cli, argc, argv);
	fclose(cli.out);
	fclose(cli.err);
	return rc;
}

/* A config for a small Keel-native guest @name with the extra lines @more. */
static const char *config(const char *name, const char *more)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 64 };
	static char path[256];
	char kpath[256], disk[256], text[1280];
	FILE *f;

	snprintf(kpath, sizeof(kpath), "%s/mon.elf", env_get()->dir);
	CU_ASSERT_EQUAL(write_test_kernel(kpath, &k), 0);
	snprintf(disk, sizeof(disk), "%s/mon-disk.img", env_get()->dir);
	f = fopen(disk, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(ftruncate(fileno(f), 1 << 20), 0);
	fclose(f);
	snprintf(text, sizeof(text), "name = '%s'\nmemory = 4\nkernel = 'mon.elf'\n"
		 "disk = [ 'vdev=xvda, target=%s' ]\n%s", name, disk, more);
	snprintf(path, sizeof(path), "%s", env_file("mon.cfg", text));
	return path;
}

static void reset_guest(const char *name)
{
	memset(&guest, 0, sizeof(guest));
	guest.name = name;
	monitor_stop_requested = 0;
}

static bool state_dir_exists(const char *name)
{
	char path[KB_STATE_PATH_MAX];
	struct stat st;

	return kb_state_path(path, sizeof(path), name, NULL) == 0 && stat(path, &st) == 0;
}

static int test_setup(void)
{
	static char run_dir[128];

	snprintf(run_dir, sizeof(run_dir), "%s/keelctl-run", env_get()->dir);
	setenv("KEELCTL_RUN_DIR", run_dir, 1);
	return 0;
}

/* --- the tests ------------------------------------------------------------------------ */

static void test_policy_and_defaults(void)
{
	struct domcfg cfg;
	enum domcfg_action a;
	char err[256];
	const char *text = "name='p'\nkernel='/k'\n";

	CU_ASSERT_EQUAL_FATAL(domcfg_parse("/x/vm.cfg", text, strlen(text), &cfg, err,
					   sizeof(err)), 0);
	/* xl's defaults. */
	CU_ASSERT_TRUE(monitor_policy(&cfg, KEEL_SHUTDOWN_POWEROFF, &a) && a == DOMCFG_DESTROY);
	CU_ASSERT_TRUE(monitor_policy(&cfg, KEEL_SHUTDOWN_REBOOT, &a) && a == DOMCFG_RESTART);
	CU_ASSERT_TRUE(monitor_policy(&cfg, KEEL_SHUTDOWN_CRASH, &a) && a == DOMCFG_DESTROY);
	CU_ASSERT_FALSE(monitor_policy(&cfg, KEEL_SHUTDOWN_SUSPEND, &a));
	CU_ASSERT_TRUE(monitor_policy(&cfg, 99, &a) && a == DOMCFG_DESTROY);	/* as a crash */
	CU_ASSERT_EQUAL(cfg.restart_limit, 3);
	CU_ASSERT_EQUAL(cfg.restart_window_s, 60);
	domcfg_free(&cfg);

	text = "name='p'\nkernel='/k'\non_poweroff='restart'\non_reboot='preserve'\n"
	       "on_crash='preserve'\nkeel_restart_limit=[5, 600]\n";
	CU_ASSERT_EQUAL_FATAL(domcfg_parse("/x/vm.cfg", text, strlen(text), &cfg, err,
					   sizeof(err)), 0);
	CU_ASSERT_TRUE(monitor_policy(&cfg, KEEL_SHUTDOWN_POWEROFF, &a) && a == DOMCFG_RESTART);
	CU_ASSERT_TRUE(monitor_policy(&cfg, KEEL_SHUTDOWN_REBOOT, &a) && a == DOMCFG_PRESERVE);
	CU_ASSERT_TRUE(monitor_policy(&cfg, KEEL_SHUTDOWN_CRASH, &a) && a == DOMCFG_PRESERVE);
	CU_ASSERT_EQUAL(cfg.restart_limit, 5);
	CU_ASSERT_EQUAL(cfg.restart_window_s, 600);
	domcfg_free(&cfg);

	text = "name='p'\nkernel='/k'\nkeel_restart_limit=[0, 60]\n";
	CU_ASSERT_NOT_EQUAL(domcfg_parse("/x/vm.cfg", text, strlen(text), &cfg, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "vm.cfg:3: 'keel_restart_limit' is 0"));
	text = "name='p'\nkernel='/k'\nkeel_restart_limit=[3]\n";
	CU_ASSERT_NOT_EQUAL(domcfg_parse("/x/vm.cfg", text, strlen(text), &cfg, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "must be [ RESTARTS, SECONDS ]"));
	text = "name='p'\nkernel='/k'\nkeel_restart_limit=3\n";
	CU_ASSERT_NOT_EQUAL(domcfg_parse("/x/vm.cfg", text, strlen(text), &cfg, err, sizeof(err)), 0);
}

static void test_guard(void)
{
	struct domcfg cfg = { .restart_limit = 3, .restart_window_s = 60 };
	struct monitor_guard g = { 0 };
	const uint64_t s = 1000000000ull;

	CU_ASSERT_TRUE(monitor_guard_allows(&g, &cfg, 100 * s));
	CU_ASSERT_TRUE(monitor_guard_allows(&g, &cfg, 110 * s));
	CU_ASSERT_TRUE(monitor_guard_allows(&g, &cfg, 159 * s));
	CU_ASSERT_FALSE(monitor_guard_allows(&g, &cfg, 160 * s));	/* a 4th within 60 s */
	CU_ASSERT_FALSE(monitor_guard_allows(&g, &cfg, 160 * s));
	CU_ASSERT_TRUE(monitor_guard_allows(&g, &cfg, 161 * s));	/* a new window */
	CU_ASSERT_EQUAL(g.count, 1);
}

/* on_reboot restart twice, then on_poweroff destroy: same disk, new ids, nothing left. */
static void restart_then_destroy(bool events)
{
	uint64_t before = env_free_pages();
	unsigned int fired = fake_ev.fired;

	use_events = events;
	reset_guest("mon");
	guest.reasons[0] = KEEL_SHUTDOWN_REBOOT;
	guest.reasons[1] = KEEL_SHUTDOWN_REBOOT;
	guest.reasons[2] = KEEL_SHUTDOWN_POWEROFF;
	CU_ASSERT_EQUAL(run("create", config("mon", "on_reboot = 'restart'\n"), "-F", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "created domain mon"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, events ? "(KEEL_VIRQ_DOMAIN_STATE)" : "(polling)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "rebooted: on_reboot = \"restart\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "(restart 2)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "powered off: on_poweroff = \"destroy\""));
	CU_ASSERT_EQUAL(guest.next, 3);
	CU_ASSERT_TRUE(guest.seen[0] < guest.seen[1] && guest.seen[1] < guest.seen[2]);
	CU_ASSERT_EQUAL(domid_of("mon"), 0);
	CU_ASSERT_FALSE(state_dir_exists("mon"));
	CU_ASSERT_EQUAL(monitor_find("mon"), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
	if (events) {
		/* Woken by the VIRQ (raises coalesce in its pending bit), and the VIRQ given back. */
		CU_ASSERT_TRUE(fake_ev.fired >= fired + 2);
		CU_ASSERT_EQUAL(fake_ev.port, 0);
	}
	use_events = true;
}

static void test_restart_then_destroy(void)
{
	restart_then_destroy(true);
}

static void test_restart_polling(void)
{
	restart_then_destroy(false);
}

/* The state directory the backends read names the new instance after a restart. */
static void test_restart_rewrites_state(void)
{
	char id[16], want[16];

	reset_guest("mon");
	guest.reasons[0] = KEEL_SHUTDOWN_REBOOT;
	guest.stop_monitor = false;
	/* Reboot once, then preserve a crash so the second instance stays for a look. */
	guest.reasons[1] = KEEL_SHUTDOWN_CRASH;
	CU_ASSERT_EQUAL(run("create", config("mon", "on_crash = 'preserve'\n"), "-F", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "crashed: on_crash = \"preserve\""));
	CU_ASSERT_EQUAL(domid_of("mon"), guest.seen[1]);
	snprintf(want, sizeof(want), "%u", guest.seen[1]);
	CU_ASSERT_EQUAL(kb_state_get("mon", "block-0", "domid", id, sizeof(id)), 0);
	CU_ASSERT_STRING_EQUAL(id, want);
	CU_ASSERT_EQUAL(run("list", "--json", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "\"shutdown_reason\": 4"));
	CU_ASSERT_EQUAL(run("destroy", "mon", NULL), EXIT_OK);
	CU_ASSERT_FALSE(state_dir_exists("mon"));
}

static void test_restart_limit(void)
{
	uint64_t before = env_free_pages();

	reset_guest("mon");
	for (int i = 0; i < 8; i++) {
		guest.reasons[i] = KEEL_SHUTDOWN_REBOOT;
	}
	CU_ASSERT_EQUAL(run("create", config("mon", "keel_restart_limit = [2, 3600]\n"), "-F", NULL),
			EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "(restart 2)"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "(restart 3)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "restarted 2 times within 3600 s "
					     "(keel_restart_limit): destroying it instead"));
	CU_ASSERT_EQUAL(guest.next, 3);
	CU_ASSERT_EQUAL(domid_of("mon"), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
}

static void test_gone_and_stopped(void)
{
	uint64_t before = env_free_pages();

	reset_guest("mon");
	guest.destroy_it = true;
	CU_ASSERT_EQUAL(run("create", config("mon", ""), "-F", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "was destroyed by someone else"));
	CU_ASSERT_EQUAL(env_free_pages(), before);

	reset_guest("mon");
	guest.stop_monitor = true;
	CU_ASSERT_EQUAL(run("create", config("mon", ""), "-F", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "stopped; domain"));
	CU_ASSERT_NOT_EQUAL(domid_of("mon"), 0);	/* left as it is */
	CU_ASSERT_EQUAL(monitor_find("mon"), 0);
	monitor_stop_requested = 0;
	CU_ASSERT_EQUAL(run("destroy", "mon", NULL), EXIT_OK);
	CU_ASSERT_EQUAL(env_free_pages(), before);

	/* A suspend is left alone: save and restore are a controller's business. */
	reset_guest("mon");
	guest.reasons[0] = KEEL_SHUTDOWN_SUSPEND;
	guest.destroy_it = false;
	CU_ASSERT_EQUAL(run("create", config("mon", ""), "-F", "-c", NULL), EXIT_USAGE);
}

static volatile sig_atomic_t child_stop;

static void child_on_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

/* A stand-in monitor in another process: it holds the lock until SIGTERM. */
static pid_t fork_holder(const char *name, uint32_t domid)
{
	int p[2];
	char c;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = child_on_term };
		sigset_t term, waiting;
		int fd;

		/*
		 * SIGTERM stays blocked except inside sigsuspend(), so one that
		 * comes between the check and the wait is not lost.
		 */
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, &waiting);
		sigdelset(&waiting, SIGTERM);
		sigaction(SIGTERM, &sa, NULL);
		fd = monitor_lock(name, domid);
		if (write(p[1], fd >= 0 ? "k" : "x", 1) != 1 || fd < 0) {
			_exit(1);
		}
		while (!child_stop) {
			sigsuspend(&waiting);
		}
		monitor_unlock(fd, name);
		_exit(0);
	}
	close(p[1]);
	CU_ASSERT_EQUAL(read(p[0], &c, 1), 1);
	CU_ASSERT_EQUAL(c, 'k');
	close(p[0]);
	return pid;
}

/* waitpid() bounded to @ms: @pid once it has ended, 0 if it has not by then. */
static pid_t wait_exit(pid_t pid, int *status, int ms)
{
	for (int waited = 0; waited <= ms; waited += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r != 0) {
			return r;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	return 0;
}

static void test_lock_across_processes(void)
{
	int status = -1;
	pid_t pid = fork_holder("locky", 42);

	CU_ASSERT_EQUAL(monitor_find("locky"), pid);
	CU_ASSERT_EQUAL(monitor_lock("locky", 43), -1);		/* one monitor per name */
	CU_ASSERT_EQUAL(monitor_find("nobody"), 0);
	CU_ASSERT_EQUAL(monitor_stop("locky", 5000), 0);
	CU_ASSERT_EQUAL(monitor_find("locky"), 0);
	CU_ASSERT_EQUAL(wait_exit(pid, &status, 5000), pid);
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(monitor_stop("locky", 10), 0);			/* none: nothing to do */
}

/* keelctl destroy stops the domain's monitor before it destroys the domain. */
static void test_destroy_stops_monitor(void)
{
	uint64_t before = env_free_pages();
	int status = -1;
	uint32_t id;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(run("create", config("mon", ""), NULL), EXIT_OK);
	id = domid_of("mon");
	pid = fork_holder("mon", id);
	CU_ASSERT_EQUAL(run("destroy", "mon", NULL), EXIT_OK);
	/* It has let the lock go, so it is ending: it must be gone within a few seconds. */
	CU_ASSERT_EQUAL(wait_exit(pid, &status, 5000), pid);
	CU_ASSERT_EQUAL(monitor_find("mon"), 0);
	CU_ASSERT_EQUAL(domid_of("mon"), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
}

static int clean(void)
{
	env_clean();
	free(out_text);
	free(err_text);
	out_text = err_text = NULL;
	return 0;
}

static int suite_init(void)
{
	return test_setup();
}

static CU_TestInfo tests[] = {
	{ "policies: xl's defaults, every reason, keel_restart_limit", test_policy_and_defaults },
	{ "restart guard counts as Keel's restart-limit", test_guard },
	{ "create -F: restart, restart, destroy (VIRQ)", test_restart_then_destroy },
	{ "create -F: the same by polling", test_restart_polling },
	{ "a restart rewrites the backends' state; preserve keeps a crash", test_restart_rewrites_state },
	{ "the restart limit destroys instead", test_restart_limit },
	{ "destroyed by someone else; stopped; -c with -F", test_gone_and_stopped },
	{ "the lock file across processes", test_lock_across_processes },
	{ "destroy stops the monitor first", test_destroy_stops_monitor },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo monitor_suite = { "domain monitor", suite_init, clean, NULL, NULL, tests };
