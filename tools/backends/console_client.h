/* SPDX-License-Identifier: MIT */
/* tools/backends/console_client.h - attaching to a PV console the backend daemon serves. */
#ifndef KEEL_BACKENDS_CONSOLE_CLIENT_H
#define KEEL_BACKENDS_CONSOLE_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Attach to domain @name's PV console through the daemon's socket: its
 * output to @out, @in_fd (-1: none; then return once the output stops) to its
 * input, until Ctrl-] or the end of @in_fd. @hook(@arg) runs every round if
 * set. Returns 0 when done, -1 if no daemon serves that console (the caller
 * falls back to Keel's console stream).
 */
int kb_console_relay(const char *name, int in_fd, FILE *out, void (*hook)(void *), void *arg);

#endif /* KEEL_BACKENDS_CONSOLE_CLIENT_H */
