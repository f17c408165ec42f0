/* SPDX-License-Identifier: MIT */
/*
 * keel/log.h - the hypervisor log: levels, CPU prefix, console and memory ring.
 *
 * Every line goes to the console (if its level passes the console threshold)
 * and to an in-memory ring that later tools can read. Lines look like
 *   [    0.123456] cpu1 warn: message
 */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

#include <stdarg.h>
#include <keel/compiler.h>
#include <keel/types.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

#define LOG_RING_SIZE		(64 * 1024)

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_level_parse(const char *name, enum log_level *out);

void log_printf(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_vprintf(enum log_level level, const char *fmt, va_list ap);

/* Console output without prefix or level (panic reports, raw guest bytes). */
void log_raw(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* The stream position after the last byte logged: bytes ever logged. */
uint64_t log_written(void);

/* Copy out up to @size bytes of the ring, oldest first; returns bytes copied. */
size_t log_ring_read(char *buf, size_t size);

/*
 * The ring as a stream (KEEL_HC_CTL_LOG_READ): positions count bytes since
 * the log began and never wrap. Copies up to @size bytes from @pos, or from
 * the oldest byte still held if @pos is older; sets *@next_pos to the
 * position after the last byte copied and *@oldest_pos to the oldest held.
 * Returns the bytes copied: 0 when nothing is at @pos yet.
 */
size_t log_stream_read(uint64_t pos, char *buf, size_t size, uint64_t *next_pos,
		       uint64_t *oldest_pos);

/*
 * Bytes for the console that are not Keel's log (domain console lines,
 * core/console.c): written under the log's lock, so they never land inside
 * a log line, but kept out of the ring, because KEEL_CAP_LOG must not
 * reveal what KEEL_CAP_CONSOLE guards. Any context.
 */
void log_console_write(const char *buf, size_t len);

/*
 * Part of a line of @owner's on the console: @prefix (e.g. "[d3 linux] ")
 * and @text, ended with a newline if @end. A line written in parts reads as
 * one line: a part that continues the open line of the same owner goes out
 * without the prefix, and any other output first ends the open line. So a
 * slow writer's line is not cut into prefixed fragments unless someone
 * else really wrote in between. Any context.
 */
void log_console_part(const void *owner, const char *prefix, size_t prefix_len,
		      const char *text, size_t len, bool end);
/* End @owner's open line if it still is (a bare newline after a part). */
void log_console_end_part(const void *owner);

/* Panic path: take the console even if another CPU died holding its lock. */
void log_force_unlock(void);

#define log_err(...)	log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_printf(LOG_DEBUG, __VA_ARGS__)

#endif
