/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/loop.c - the daemon's event loop: a table of watched
 * descriptors polled with poll(), around shim.c's timers and work queue and
 * the upcall hook (hcall.c delivers fired ports), plus the daemon's log.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "loop.h"

#define MAX_WATCH	256

struct watch {
	int fd;
	short events;
	kb_fd_fn fn;
	void *ctx;
};

static struct watch watches[MAX_WATCH];
static unsigned int nr_watches;
static bool (*hook)(void *ctx);
static void *hook_ctx;

int kb_loop_watch(int fd, short events, kb_fd_fn fn, void *ctx)
{
	if (nr_watches == MAX_WATCH) {
		kb_err("loop: more than %u descriptors", MAX_WATCH);
		return -1;
	}
	watches[nr_watches++] = (struct watch){ fd, events, fn, ctx };
	return 0;
}

void kb_loop_events(int fd, short events)
{
	for (unsigned int i = 0; i < nr_watches; i++) {
		if (watches[i].fd == fd) {
			watches[i].events = events;
		}
	}
}

void kb_loop_unwatch(int fd)
{
	for (unsigned int i = 0; i < nr_watches; i++) {
		if (watches[i].fd == fd) {
			watches[i] = watches[--nr_watches];
			watches[nr_watches].fd = -1;
			i--;
		}
	}
}

void kb_loop_set_hook(bool (*fn)(void *ctx), void *ctx)
{
	hook = fn;
	hook_ctx = ctx;
}

uint64_t kb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void kb_loop_once(int max_wait_ms)
{
	struct pollfd pfds[MAX_WATCH];
	struct watch snap[MAX_WATCH];
	uint64_t next_ns = kb_shim_run_timers();
	bool busy = kb_shim_run_work();
	unsigned int n = nr_watches;
	int wait_ms = max_wait_ms;
	int got;

	if (hook && hook(hook_ctx)) {
		busy = true;
	}
	if (busy || kb_shim_work_pending()) {
		wait_ms = 0;
	} else if (next_ns != UINT64_MAX && next_ns / 1000000 < (uint64_t)wait_ms) {
		wait_ms = (int)((next_ns + 999999) / 1000000);
	}
	/* A callback may change the table: poll and dispatch a copy, checking each is still watched. */
	memcpy(snap, watches, n * sizeof(*snap));
	for (unsigned int i = 0; i < n; i++) {
		pfds[i] = (struct pollfd){ .fd = snap[i].fd, .events = snap[i].events };
	}
	got = poll(pfds, n, wait_ms);
	if (got < 0) {
		if (errno != EINTR) {
			kb_err("loop: poll: %s", strerror(errno));
		}
		return;
	}
	for (unsigned int i = 0; i < n && got > 0; i++) {
		bool live = false;

		if (!pfds[i].revents) {
			continue;
		}
		got--;
		for (unsigned int j = 0; j < nr_watches; j++) {
			live = live || (watches[j].fd == snap[i].fd && watches[j].fn == snap[i].fn &&
					watches[j].ctx == snap[i].ctx);
		}
		if (live) {
			snap[i].fn(snap[i].ctx, snap[i].fd, pfds[i].revents);
		}
	}
}

static int log_level = -1;

void kb_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char msg[1024];
	va_list ap;

	if (log_level < 0) {
		const char *dbg = getenv("KEEL_BACKENDD_DEBUG");

		log_level = dbg && *dbg && strcmp(dbg, "0") != 0 ? 3 : 2;
	}
	if (level > log_level) {
		return;
	}
	/*
	 * One call for the whole line: stderr is unbuffered, and piecemeal
	 * writes let another writer of the same terminal (the control domain's
	 * console) land in the middle of it.
	 */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "keel-backendd: %s: %s\n", names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}
