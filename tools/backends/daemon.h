/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/daemon.h - the backend daemon as a library: start on a
 * libkeelctl handle and a driver, run rounds, stop. main.c runs it on the
 * OS's driver; the tests run it on Keel's core in-process.
 */
#ifndef KEEL_BACKENDS_DAEMON_H
#define KEEL_BACKENDS_DAEMON_H

#include <stdbool.h>

struct keelctl;
struct kb_driver;

/* Start pvdrivers in this process and serve every backend device of our domain. 0 or -KEEL_E*. */
int kb_daemon_start(struct keelctl *c, struct kb_driver *d);
/* One round of the loop, waiting at most @wait_ms. */
void kb_daemon_round(int wait_ms);
/* Leave every device in order, stop pvdrivers. */
void kb_daemon_stop(void);

#endif /* KEEL_BACKENDS_DAEMON_H */
