/* SPDX-License-Identifier: MIT */
/*
 * tools/cli/monitor_proc.c - the monitor as a process (monitor.h): its lock
 * file RUNDIR/NAME.pid (a POSIX record lock, so a monitor that died leaves
 * no false owner and another keelctl learns the holder's pid from the lock
 * itself), its log RUNDIR/NAME.log, detaching from `keelctl create`, and
 * being stopped by `keelctl destroy`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <keel/event_channel.h>
#include "monitor.h"

#define STOP_POLL_MS	50u

const char *monitor_run_dir(void)
{
	const char *dir = getenv("KEELCTL_RUN_DIR");

	return dir && *dir ? dir : "/run/keelctl";
}

/* RUNDIR/@name@suffix; -1 for a name that is no file name. */
static int file_of(char *out, size_t len, const char *name, const char *suffix)
{
	int n;

	if (!*name || strchr(name, '/')) {
		return -1;
	}
	n = snprintf(out, len, "%s/%s%s", monitor_run_dir(), name, suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void make_run_dir(void)
{
	char p[256];
	size_t n = strlen(monitor_run_dir());

	if (n >= sizeof(p)) {
		return;
	}
	memcpy(p, monitor_run_dir(), n + 1);
	for (char *s = p + 1; *s; s++) {	/* a minimal system may have no /run yet */
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

void monitor_lock_update(int fd, uint32_t domid)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "pid=%ld\ndomid=%u\n", (long)getpid(), domid);

	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n) {
		return;		/* the lock is what counts; the text is for people */
	}
}

int monitor_lock(const char *name, uint32_t domid)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[256];
	int fd;

	if (file_of(path, sizeof(path), name, ".pid") != 0) {
		errno = EINVAL;
		return -1;
	}
	make_run_dir();
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		return -1;
	}
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		close(fd);
		errno = EEXIST;
		return -1;
	}
	monitor_lock_update(fd, domid);
	return fd;
}

void monitor_unlock(int fd, const char *name)
{
	char path[256];

	/* Removed while still locked: a new monitor of that name makes a new file. */
	if (file_of(path, sizeof(path), name, ".pid") == 0) {
		unlink(path);
	}
	close(fd);
}

long monitor_find(const char *name)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[256];
	int fd;

	if (file_of(path, sizeof(path), name, ".pid") != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return 0;
	}
	if (fcntl(fd, F_GETLK, &fl) != 0) {
		fl.l_type = F_UNLCK;
	}
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : (long)fl.l_pid;
}

int monitor_stop(const char *name, unsigned int timeout_ms)
{
	long pid = monitor_find(name);
	unsigned int waited = 0;

	if (pid <= 0) {
		return 0;
	}
	kill((pid_t)pid, SIGTERM);
	while (monitor_find(name) != 0) {
		struct timespec ts = { .tv_nsec = STOP_POLL_MS * 1000000l };

		if (waited >= timeout_ms) {
			return -1;
		}
		nanosleep(&ts, NULL);
		waited += STOP_POLL_MS;
	}
	return 0;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	monitor_request_stop();
}

/* SIGTERM (keelctl destroy), SIGINT and SIGHUP end the loop; no SA_RESTART, so a wait returns. */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct proc {
	int lock_fd;
};

static void record_restart(struct monitor *m)
{
	monitor_lock_update(((struct proc *)m->owner)->lock_fd, m->domid);
}

/* The monitor loop with its lock held; its exit code. */
static int watch(struct cli *cli, const struct domcfg *cfg, uint32_t domid, int lock_fd, FILE *log)
{
	struct proc p = { .lock_fd = lock_fd };
	struct monitor m = {
		.c = cli->c, .cfg = cfg, .domid = domid, .log = log,
		.open_events = cli->open_events, .poll_ms = cli->monitor_poll_ms,
		.poll_hook = cli->poll_hook, .poll_arg = cli->poll_arg,
		.restarted = record_restart, .owner = &p,
	};
	enum monitor_end e = monitor_run(&m);

	if (m.ev) {
		m.ev->close(m.ev);
	}
	return e == MONITOR_FAILED ? EXIT_FAILED : EXIT_OK;
}

/* The detached process: lock, log, tell the parent it is up, watch. */
static int daemon_main(struct cli *cli, const struct domcfg *cfg, uint32_t domid, int ready)
{
	char path[256];
	int lock_fd, log_fd, null_fd, rc;
	FILE *log;

	make_run_dir();
	if (file_of(path, sizeof(path), cfg->name, ".log") != 0 ||
	    (log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		return EXIT_FAILED;
	}
	lock_fd = monitor_lock(cfg->name, domid);
	if (lock_fd < 0) {
		dprintf(log_fd, "keelctl monitor %s: cannot lock its pid file: %s\n", cfg->name,
			strerror(errno));
		return EXIT_FAILED;
	}
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd >= 0) {
		dup2(null_fd, STDIN_FILENO);
		close(null_fd);
	}
	dup2(log_fd, STDOUT_FILENO);
	dup2(log_fd, STDERR_FILENO);
	log = fdopen(log_fd, "a");
	catch_stop_signals();
	if (write(ready, "k", 1) != 1) {
		/* keelctl create went away: carry on all the same */
	}
	close(ready);
	rc = watch(cli, cfg, domid, lock_fd, log);
	monitor_unlock(lock_fd, cfg->name);
	if (log) {
		fclose(log);
	}
	return rc;
}

static int spawn(struct cli *cli, const struct domcfg *cfg, uint32_t domid, char *err,
		 size_t errlen)
{
	int p[2], status;
	pid_t pid;
	char ok = 0;
	ssize_t n;

	if (pipe(p) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);	/* nothing buffered is written twice by the children */
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		pid_t grandchild;

		close(p[0]);
		setsid();	/* no controlling terminal: the shell's hangup does not reach it */
		grandchild = fork();
		if (grandchild != 0) {
			_exit(grandchild < 0 ? EXIT_FAILED : EXIT_OK);
		}
		_exit(daemon_main(cli, cfg, domid, p[1]));
	}
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	do {
		n = read(p[0], &ok, 1);
	} while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n != 1) {
		snprintf(err, errlen, "the monitor did not start (see %s/%s.log)", monitor_run_dir(),
			 cfg->name);
		return -1;
	}
	return 0;
}

int monitor_start(struct cli *cli, const struct domcfg *cfg, uint32_t domid, bool foreground,
		  char *err, size_t errlen)
{
	int lock_fd, rc;

	if (!foreground) {
		return spawn(cli, cfg, domid, err, errlen);
	}
	lock_fd = monitor_lock(cfg->name, domid);
	if (lock_fd < 0) {
		snprintf(err, errlen, "cannot lock %s/%s.pid: %s", monitor_run_dir(), cfg->name,
			 errno == EEXIST ? "another monitor of that name runs" : strerror(errno));
		return EXIT_FAILED;
	}
	monitor_stop_requested = 0;
	if (cli->monitors) {
		catch_stop_signals();	/* Ctrl-C or keelctl destroy end it cleanly */
	}
	rc = watch(cli, cfg, domid, lock_fd, cli->out);
	monitor_unlock(lock_fd, cfg->name);
	return rc;
}
