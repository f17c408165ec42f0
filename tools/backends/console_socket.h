/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/console_socket.h - a console's listening Unix socket at a
 * fixed path, replaced atomically when created and removed only while the
 * path still names it: a restarted domain of the same name gets its new
 * socket at the same path, and the old console's removal must not take it.
 */
#ifndef KEEL_BACKENDS_CONSOLE_SOCKET_H
#define KEEL_BACKENDS_CONSOLE_SOCKET_H

#include <sys/types.h>
#include <sys/un.h>

struct kb_console_socket {
	int fd;				/* listening, close-on-exec; -1: none */
	dev_t dev;			/* the file bind() made, to know it again */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct kb_console_socket *next;	/* the process's live sockets */
};

/*
 * Listen at @path (mode 0600): bound at a private name first, then renamed
 * over @path, so a client never finds the path missing or open to others,
 * and whatever was there (a stale socket, an older console's) is replaced.
 * 0, or -1 with errno (ENAMETOOLONG if @path does not fit a socket address).
 */
int kb_console_socket_listen(struct kb_console_socket *s, const char *path);

/*
 * Close the socket and unlink its path, unless the path no longer names the
 * file this socket was bound to, or a live socket of this process was made
 * at the same path after it (it replaced ours, even if the file system
 * gave it our old inode number): a newer socket there stays. Safe on fd -1.
 */
void kb_console_socket_remove(struct kb_console_socket *s);

#endif /* KEEL_BACKENDS_CONSOLE_SOCKET_H */
