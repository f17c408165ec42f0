/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_console.c - both ends of a PV console's Unix socket
 * without Keel: `keelctl console`'s relay (console_client.c) against a fake
 * backend daemon in a child process (late to accept, chatty, closing, taking
 * input), and the daemon's socket (console_socket.c) replaced and removed
 * while a restarted domain of the same name has its own at the same path.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "console_client.h"
#include "console_socket.h"
#include "statedir.h"
#include "tests.h"

#define CONSOLE_NAME	"contest"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* --- the relay against a fake daemon ------------------------------------------------ */

struct script {
	unsigned int accept_after_ms;	/* a busy daemon gets round to us late */
	const char *backlog;		/* sent as soon as it accepts, as console.c does */
	unsigned int chatter_ms;	/* then a line this often (0: silence) */
	bool close_after;		/* then the console goes */
	const char *want_input;		/* what the client must type (NULL: anything) */
};

/* The child's side: the script, then read until the client leaves. Exit 0 if all went as wanted. */
static void daemon_side(int listen_fd, const struct script *sc)
{
	char got[256];
	size_t n = 0;
	int fd;

	sleep_ms(sc->accept_after_ms);
	fd = accept(listen_fd, NULL, NULL);
	if (fd < 0) {
		_exit(2);
	}
	if (sc->backlog && send(fd, sc->backlog, strlen(sc->backlog), MSG_NOSIGNAL) < 0) {
		_exit(3);
	}
	if (sc->close_after) {
		close(fd);
		_exit(0);
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, sc->chatter_ms ? (int)sc->chatter_ms : 10000);
		ssize_t k;

		if (r == 0 && sc->chatter_ms) {
			if (send(fd, "tick\n", 5, MSG_NOSIGNAL) < 0) {
				break;
			}
			continue;
		}
		if (r <= 0) {
			_exit(4);	/* the client never left */
		}
		k = read(fd, got + n, sizeof(got) - 1 - n);
		if (k <= 0) {
			break;
		}
		n += (size_t)k;
	}
	got[n] = '\0';
	_exit(sc->want_input && strcmp(got, sc->want_input) != 0 ? 1 : 0);
}

struct outcome {
	int rc;
	char *text;			/* what the relay wrote */
	uint64_t ms;			/* how long it took */
	int daemon_status;		/* the child's exit code */
};

/* Run the relay with @in_fd against a daemon following @sc. */
static struct outcome relay(int in_fd, const struct script *sc)
{
	struct kb_console_socket sock;
	struct outcome o = { .rc = -9, .daemon_status = -1 };
	char path[KB_STATE_PATH_MAX];
	size_t len = 0;
	FILE *out = open_memstream(&o.text, &len);
	uint64_t start;
	int status;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(kb_state_begin(CONSOLE_NAME, 1), 0);
	CU_ASSERT_EQUAL_FATAL(kb_state_path(path, sizeof(path), CONSOLE_NAME, "console.sock"), 0);
	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&sock, path), 0);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_TRUE_FATAL(pid >= 0);
	if (pid == 0) {
		daemon_side(sock.fd, sc);
	}
	start = now_ms();
	o.rc = kb_console_relay(CONSOLE_NAME, in_fd, out, NULL, NULL);
	o.ms = now_ms() - start;
	fclose(out);
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
		o.daemon_status = WEXITSTATUS(status);
	}
	kb_console_socket_remove(&sock);
	kb_state_remove(CONSOLE_NAME);
	return o;
}

static int dev_null(void)
{
	int fd = open("/dev/null", O_RDONLY);

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	return fd;
}

/* `keelctl console NAME </dev/null` against a daemon that accepts late: the history is shown. */
static void test_history_with_input_ended(void)
{
	const struct script sc = { .accept_after_ms = 300, .backlog = "boot line 1\nboot line 2\n" };
	int fd = dev_null();
	struct outcome o = relay(fd, &sc);

	close(fd);
	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_STRING_EQUAL(o.text, "boot line 1\nboot line 2\n");
	CU_ASSERT_TRUE(o.ms < 300 + KB_CONSOLE_DRAIN_FIRST_MS + 500);
	CU_ASSERT_EQUAL(o.daemon_status, 0);
	free(o.text);
}

/* No input at all (in_fd -1): the same. */
static void test_history_without_input(void)
{
	const struct script sc = { .accept_after_ms = 300, .backlog = "only output\n" };
	struct outcome o = relay(-1, &sc);

	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_STRING_EQUAL(o.text, "only output\n");
	CU_ASSERT_EQUAL(o.daemon_status, 0);
	free(o.text);
}

/* A console with nothing to show: back after the wait for a first byte, not before, not never. */
static void test_empty_console_is_bounded(void)
{
	const struct script sc = { 0 };
	int fd = dev_null();
	struct outcome o = relay(fd, &sc);

	close(fd);
	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_STRING_EQUAL(o.text, "");
	CU_ASSERT_TRUE(o.ms + 20 >= KB_CONSOLE_DRAIN_FIRST_MS);
	CU_ASSERT_TRUE(o.ms < KB_CONSOLE_DRAIN_FIRST_MS + 1000);
	CU_ASSERT_EQUAL(o.daemon_status, 0);
	free(o.text);
}

/* A guest that never stops talking: the drain ends at its overall bound. */
static void test_chatty_console_is_bounded(void)
{
	const struct script sc = { .backlog = "start\n", .chatter_ms = 20 };
	int fd = dev_null();
	struct outcome o = relay(fd, &sc);

	close(fd);
	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_EQUAL(strncmp(o.text, "start\ntick\n", 11), 0);
	/*
	 * Only the upper bound is asserted: on a loaded host the talker can be
	 * descheduled for a quiet period, which rightly ends the drain early.
	 */
	CU_ASSERT_TRUE(o.ms < KB_CONSOLE_DRAIN_MAX_MS + 2000);
	CU_ASSERT_EQUAL(o.daemon_status, 0);
	free(o.text);
}

/* The console going away ends the relay at once, and says so. */
static void test_console_closed(void)
{
	const struct script sc = { .backlog = "last words\n", .close_after = true };
	int fd = dev_null();
	struct outcome o = relay(fd, &sc);

	close(fd);
	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(o.text, "last words\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(o.text, "[keelctl: the console of " CONSOLE_NAME " closed]"));
	CU_ASSERT_TRUE(o.ms < KB_CONSOLE_DRAIN_FIRST_MS);
	CU_ASSERT_EQUAL(o.daemon_status, 0);
	free(o.text);
}

/* Ctrl-] detaches at once; what was typed before it reaches the console, the rest not. */
static void test_ctrl_bracket_detaches_at_once(void)
{
	const struct script sc = { .want_input = "ls\n" };
	int p[2];
	struct outcome o;

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(write(p[1], "ls\n\x1dnot this", 12), 12);
	o = relay(p[0], &sc);	/* p[1] stays open: only Ctrl-] can end it */
	close(p[0]);
	close(p[1]);
	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_TRUE(o.ms < KB_CONSOLE_DRAIN_FIRST_MS / 2);
	CU_ASSERT_EQUAL(o.daemon_status, 0);
	free(o.text);
}

static void test_no_daemon(void)
{
	CU_ASSERT_EQUAL(kb_console_relay("no-such-console", -1, stdout, NULL, NULL), -1);
	CU_ASSERT_EQUAL(kb_console_relay("..", -1, stdout, NULL, NULL), -1);
}

/* --- the daemon's socket ------------------------------------------------------------- */

static const char *socket_path(void)
{
	static char path[KB_STATE_PATH_MAX];

	CU_ASSERT_EQUAL_FATAL(kb_state_begin(CONSOLE_NAME, 1), 0);
	CU_ASSERT_EQUAL_FATAL(kb_state_path(path, sizeof(path), CONSOLE_NAME, "console.sock"), 0);
	return path;
}

/* Connect to @path: 0 if a listener took it and it is @s's, else -1. */
static int reaches(const char *path, const struct kb_console_socket *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), rc = -1;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    poll(&p, 1, 1000) == 1) {
		int c = accept(s->fd, NULL, NULL);

		rc = c >= 0 ? 0 : -1;
		if (c >= 0) {
			close(c);
		}
	}
	if (fd >= 0) {
		close(fd);
	}
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The restart: the new console's socket replaces the old one's, which then goes without taking it. */
static void test_old_console_leaves_new_socket(void)
{
	const char *path = socket_path();
	struct kb_console_socket old, new;
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&old, path), 0);
	CU_ASSERT_EQUAL(lstat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(reaches(path, &old), 0);
	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&new, path), 0);
	CU_ASSERT_EQUAL(reaches(path, &new), 0);
	kb_console_socket_remove(&old);
	CU_ASSERT_TRUE(exists(path));
	CU_ASSERT_EQUAL(reaches(path, &new), 0);
	kb_console_socket_remove(&new);
	CU_ASSERT_FALSE(exists(path));
	kb_console_socket_remove(&new);	/* twice: nothing */
	kb_state_remove(CONSOLE_NAME);
}

/* The newer one may go first: then the path goes, and the older one's removal does nothing. */
static void test_new_console_goes_first(void)
{
	const char *path = socket_path();
	struct kb_console_socket old, new;

	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&old, path), 0);
	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&new, path), 0);
	kb_console_socket_remove(&new);
	CU_ASSERT_FALSE(exists(path));
	kb_console_socket_remove(&old);
	CU_ASSERT_FALSE(exists(path));
	kb_state_remove(CONSOLE_NAME);
}

/* A socket someone else put at the path is not ours to remove; a stale file is replaced. */
static void test_foreign_and_stale_files(void)
{
	const char *path = socket_path();
	struct kb_console_socket mine, theirs;
	char other[KB_STATE_PATH_MAX + 8];
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&mine, path), 0);
	/* Another process's socket renamed over ours (made here at another path, then moved). */
	snprintf(other, sizeof(other), "%s.x", path);
	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&theirs, other), 0);
	CU_ASSERT_EQUAL_FATAL(rename(other, path), 0);
	kb_console_socket_remove(&mine);
	CU_ASSERT_TRUE(exists(path));
	CU_ASSERT_EQUAL(reaches(path, &theirs), 0);
	kb_console_socket_remove(&theirs);	/* its own path is gone: nothing to unlink */
	CU_ASSERT_TRUE(exists(path));
	CU_ASSERT_EQUAL(unlink(path), 0);
	/* A stale regular file (a daemon killed long ago, a mistake) is replaced. */
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(kb_console_socket_listen(&mine, path), 0);
	CU_ASSERT_EQUAL(reaches(path, &mine), 0);
	kb_console_socket_remove(&mine);
	CU_ASSERT_FALSE(exists(path));
	kb_state_remove(CONSOLE_NAME);
}

static void test_path_too_long(void)
{
	struct kb_console_socket s;
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	errno = 0;
	CU_ASSERT_EQUAL(kb_console_socket_listen(&s, path), -1);
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
	CU_ASSERT_EQUAL(s.fd, -1);
	kb_console_socket_remove(&s);
}

static CU_TestInfo tests[] = {
	{ "relay: </dev/null shows the history a late daemon sends", test_history_with_input_ended },
	{ "relay: no input shows the history", test_history_without_input },
	{ "relay: an empty console returns, bounded", test_empty_console_is_bounded },
	{ "relay: a chatty console returns, bounded", test_chatty_console_is_bounded },
	{ "relay: the console closing ends it", test_console_closed },
	{ "relay: Ctrl-] detaches at once", test_ctrl_bracket_detaches_at_once },
	{ "relay: no daemon, or a name that is no directory", test_no_daemon },
	{ "socket: the old console's removal leaves the new one's", test_old_console_leaves_new_socket },
	{ "socket: the new console goes first", test_new_console_goes_first },
	{ "socket: a foreign socket stays, a stale file is replaced", test_foreign_and_stale_files },
	{ "socket: a path too long for a socket address", test_path_too_long },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo console_suite = { "console socket and relay", NULL, NULL, NULL, NULL, tests };
