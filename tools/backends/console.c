/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/console.c - the console class: pvdrivers' console backend
 * per device, its output kept (the last 16 KiB) and copied to every client of
 * the console's Unix socket, ROOT/<domain>/console.sock (what `keelctl
 * console` attaches to); what a client sends is the guest's input. With
 * --echo-consoles the output also goes to our stdout a line at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <keel_pv/console.h>
#include "backends.h"
#include "console_socket.h"
#include "loop.h"
#include "statedir.h"

#define BACKLOG		16384u		/* output kept for a client that attaches later */
#define MAX_CLIENTS	4
#define LINE_MAX_LEN	200

bool kb_echo_consoles;

struct con {
	struct kb_dev *dev;
	struct kpv_con_be *b;
	struct kb_console_socket sock;
	int clients[MAX_CLIENTS];
	uint8_t backlog[BACKLOG];
	uint32_t head, len;		/* the backlog ring */
	char line[LINE_MAX_LEN + 1];
	uint32_t line_len;
};

static void echo_line(struct con *c)
{
	c->line[c->line_len] = '\0';
	printf("[d%u %s] %s\n", c->dev->info.peer_domid, c->dev->info.label, c->line);
	fflush(stdout);
	c->line_len = 0;
}

static void client_drop(struct con *c, int i)
{
	kb_loop_unwatch(c->clients[i]);
	close(c->clients[i]);
	c->clients[i] = -1;
}

/* A client too slow to take the output loses it rather than stall every guest. */
static void client_send(struct con *c, int i, const uint8_t *data, uint32_t len)
{
	while (len > 0) {
		ssize_t n = send(c->clients[i], data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0) {
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				return;
			}
			client_drop(c, i);
			return;
		}
		data += n;
		len -= (uint32_t)n;
	}
}

static void sink(void *ctx, const uint8_t *data, uint32_t len)
{
	struct con *c = ctx;

	for (uint32_t i = 0; i < len; i++) {
		c->backlog[(c->head + c->len) % BACKLOG] = data[i];
		if (c->len < BACKLOG) {
			c->len++;
		} else {
			c->head = (c->head + 1) % BACKLOG;
		}
		if (kb_echo_consoles) {
			if (data[i] == '\n' || c->line_len == LINE_MAX_LEN) {
				echo_line(c);
			}
			if (data[i] != '\n' && data[i] != '\r') {
				c->line[c->line_len++] = (char)data[i];
			}
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (c->clients[i] >= 0) {
			client_send(c, i, data, len);
		}
	}
}

static void client_input(void *ctx, int fd, short revents)
{
	struct con *c = ctx;
	uint8_t buf[512];
	ssize_t n = (revents & (POLLIN | POLLHUP | POLLERR)) ? read(fd, buf, sizeof(buf)) : 0;
	int i;

	for (i = 0; i < MAX_CLIENTS && c->clients[i] != fd; i++) {
	}
	if (i == MAX_CLIENTS) {
		return;
	}
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			client_drop(c, i);
		}
		return;
	}
	kpv_con_be_input(c->b, buf, (uint32_t)n);
}

static void client_accept(void *ctx, int fd, short revents)
{
	struct con *c = ctx;
	int cfd = accept(fd, NULL, NULL);
	int i;

	(void)revents;
	if (cfd < 0) {
		return;
	}
	for (i = 0; i < MAX_CLIENTS && c->clients[i] >= 0; i++) {
	}
	if (i == MAX_CLIENTS || kb_loop_watch(cfd, POLLIN, client_input, c) != 0) {
		close(cfd);
		return;
	}
	fcntl(cfd, F_SETFD, FD_CLOEXEC);
	c->clients[i] = cfd;
	/* What it missed first, oldest byte first. */
	if (c->head + c->len > BACKLOG) {
		client_send(c, i, c->backlog + c->head, BACKLOG - c->head);
		if (c->clients[i] >= 0) {
			client_send(c, i, c->backlog, c->head + c->len - BACKLOG);
		}
	} else {
		client_send(c, i, c->backlog + c->head, c->len);
	}
}

/*
 * The socket: ROOT/<domain>/console.sock, or console-<index>.sock for a
 * second console. It replaces whatever is at that path (a stale socket, or
 * the console of an earlier domain of the same name that is still being
 * closed), and that console's removal leaves it (console_socket.h).
 */
static int listen_socket(struct con *c)
{
	char dir[KB_STATE_PATH_MAX], path[KB_STATE_PATH_MAX], file[32];

	snprintf(file, sizeof(file), c->dev->info.index ? "console-%u.sock" : "console.sock",
		 c->dev->info.index);
	if (kb_state_path(dir, sizeof(dir), c->dev->domain, NULL) != 0 ||
	    kb_state_path(path, sizeof(path), c->dev->domain, file) != 0) {
		kb_warn("console of %s: no socket: %s", c->dev->domain, strerror(errno));
		return -1;
	}
	/* A domain keelctl did not create (a boot-time one) has no directory yet. */
	mkdir(kb_state_root(), 0755);
	mkdir(dir, 0755);
	if (kb_console_socket_listen(&c->sock, path) != 0 ||
	    kb_loop_watch(c->sock.fd, POLLIN, client_accept, c) != 0) {
		kb_warn("console of %s: %s: %s", c->dev->domain, path, strerror(errno));
		kb_console_socket_remove(&c->sock);
		return -1;
	}
	return 0;
}

static void connection(void *ctx, bool up)
{
	struct con *c = ctx;

	kb_debug("console of d%u %s", c->dev->info.peer_domid, up ? "connected" : "left");
}

static void released(void *ctx)
{
	struct con *c = ctx;
	struct kb_dev *dev = c->dev;

	if (kb_echo_consoles && c->line_len) {
		echo_line(c);
	}
	free(c);
	kb_dev_released(dev);
}

static const struct kpv_con_be_ops con_ops = {
	.connection = connection,
	.released = released,
};

int kb_console_open(struct kpv *k, struct kb_dev *dev)
{
	struct con *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		return -KEEL_ENOMEM;
	}
	c->dev = dev;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		c->clients[i] = -1;
	}
	rc = kpv_con_be_open(k, &dev->info, &con_ops, c, 80, 25, &c->b);
	if (rc != 0) {
		free(c);
		return rc;
	}
	/* Without a socket the console still runs: its output is kept and echoed. */
	c->sock.fd = -1;
	listen_socket(c);
	kpv_con_be_sink(c->b, sink, c);
	dev->impl = c;
	return 0;
}

void kb_console_close(struct kb_dev *dev, bool removed)
{
	struct con *c = dev->impl;

	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (c->clients[i] >= 0) {
			client_drop(c, i);
		}
	}
	if (c->sock.fd >= 0) {
		kb_loop_unwatch(c->sock.fd);
		kb_console_socket_remove(&c->sock);
	}
	kpv_con_be_sink(c->b, NULL, NULL);
	kpv_con_be_close(c->b, removed);
}
