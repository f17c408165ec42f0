/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/console_socket.c - a console's Unix socket, created by an
 * atomic rename and removed only while its path is still ours
 * (console_socket.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "console_socket.h"

static struct kb_console_socket *live;

/* PATH.new: the private name; the daemon is one thread, so one at a time. */
static int private_name(char *out, size_t len, const char *path)
{
	int n = snprintf(out, len, "%s.new", path);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int kb_console_socket_listen(struct kb_console_socket *s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int saved;

	s->fd = -1;
	if (strlen(path) >= sizeof(s->path) ||
	    private_name(sa.sun_path, sizeof(sa.sun_path), path) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(s->path, path, strlen(path) + 1);
	unlink(sa.sun_path);	/* left by a daemon that died between bind and rename */
	s->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s->fd < 0) {
		return -1;
	}
	fcntl(s->fd, F_SETFD, FD_CLOEXEC);
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		goto fail;
	}
	if (chmod(sa.sun_path, 0600) != 0 || stat(sa.sun_path, &st) != 0 ||
	    listen(s->fd, 4) != 0 || rename(sa.sun_path, path) != 0) {
		saved = errno;
		unlink(sa.sun_path);
		errno = saved;
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->next = live;
	live = s;
	return 0;
fail:
	saved = errno;
	close(s->fd);
	s->fd = -1;
	errno = saved;
	return -1;
}

static void forget(struct kb_console_socket *s)
{
	for (struct kb_console_socket **p = &live; *p; p = &(*p)->next) {
		if (*p == s) {
			*p = s->next;
			return;
		}
	}
}

/* The list is newest first: those before @s were made after it. */
static bool replaced_by_newer(const struct kb_console_socket *s)
{
	for (const struct kb_console_socket *o = live; o && o != s; o = o->next) {
		if (strcmp(o->path, s->path) == 0) {
			return true;
		}
	}
	return false;
}

void kb_console_socket_remove(struct kb_console_socket *s)
{
	struct stat st;
	bool replaced;

	if (s->fd < 0) {
		return;
	}
	close(s->fd);
	s->fd = -1;
	replaced = replaced_by_newer(s);
	forget(s);
	if (replaced) {
		return;
	}
	/*
	 * Only this daemon's one thread makes sockets here, so nothing new can
	 * appear at the path between the check and the unlink.
	 */
	if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == s->dev &&
	    st.st_ino == s->ino) {
		unlink(s->path);
	}
}
