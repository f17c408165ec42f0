/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/loop.h - the backend daemon's one thread: descriptors to
 * watch, pvdrivers' work items and timers (shim.c), and the emulated event
 * upcall (hcall.c), all run from kb_loop_once(). Nothing here blocks except
 * the poll() in kb_loop_once() and the storage calls of a block work item.
 */
#ifndef KEEL_BACKENDS_LOOP_H
#define KEEL_BACKENDS_LOOP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*kb_fd_fn)(void *ctx, int fd, short revents);

/* Watch @fd for @events (POLLIN, POLLOUT); @fn runs when poll() reports them. 0 or -1 (table full). */
int kb_loop_watch(int fd, short events, kb_fd_fn fn, void *ctx);
void kb_loop_events(int fd, short events);
void kb_loop_unwatch(int fd);

/*
 * One round: due timers, queued work, the upcall hook, then a poll() of at
 * most @max_wait_ms (less if a timer is due sooner; 0 if work is left).
 */
void kb_loop_once(int max_wait_ms);

/* Called each round before the poll; returns true if it did something (then no waiting). */
void kb_loop_set_hook(bool (*hook)(void *ctx), void *ctx);

/* shim.c's queues, run by kb_loop_once(): work queued now (true if any ran), whether more is queued, due timers (ns to the next). */
bool kb_shim_run_work(void);
bool kb_shim_work_pending(void);
uint64_t kb_shim_run_timers(void);

/* Monotonic nanoseconds. */
uint64_t kb_now_ns(void);

/* The daemon's log: stderr, with its level (0 error .. 3 debug); KEEL_BACKENDD_DEBUG=1 shows debug. */
void kb_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define kb_err(...)	kb_log(0, __VA_ARGS__)
#define kb_warn(...)	kb_log(1, __VA_ARGS__)
#define kb_info(...)	kb_log(2, __VA_ARGS__)
#define kb_debug(...)	kb_log(3, __VA_ARGS__)

#endif /* KEEL_BACKENDS_LOOP_H */
