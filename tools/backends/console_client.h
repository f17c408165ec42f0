/* SPDX-License-Identifier: MIT */
/* tools/backends/console_client.h - attaching to a PV console the backend daemon serves. */
#ifndef KEEL_BACKENDS_CONSOLE_CLIENT_H
#define KEEL_BACKENDS_CONSOLE_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

/*
 * When our input ends (or there is none), the output the daemon has queued
 * is still copied: its backlog (the last 16 KiB) arrives once it accepts
 * us. We wait up to FIRST ms for the first byte, then until the console
 * has been quiet for QUIET ms, and at most MAX ms in all (a guest that
 * never stops talking), so `keelctl console NAME </dev/null` prints the
 * console's history and returns.
 */
#define KB_CONSOLE_DRAIN_FIRST_MS	1000
#define KB_CONSOLE_DRAIN_QUIET_MS	200
#define KB_CONSOLE_DRAIN_MAX_MS		3000

/*
 * Attach to domain @name's PV console through the daemon's socket: its
 * output to @out, @in_fd (-1: none) to its input, until Ctrl-] in @in_fd
 * (at once), the end of @in_fd (after the drain above), or the console
 * going away. @hook(@arg) runs every round (at most 50 ms apart) if set.
 * Returns 0 when done, -1 if no daemon serves that console (the caller
 * falls back to Keel's console stream).
 */
int kb_console_relay(const char *name, int in_fd, FILE *out, void (*hook)(void *), void *arg);

#endif /* KEEL_BACKENDS_CONSOLE_CLIENT_H */
