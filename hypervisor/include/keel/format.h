/* SPDX-License-Identifier: MIT */
/* keel/format.h - printf-style formatting into a bounded buffer (lib/format.c). */
#ifndef KEEL_FORMAT_H
#define KEEL_FORMAT_H

#include <stdarg.h>
#include <keel/compiler.h>
#include <keel/types.h>

/*
 * Formats like C99 vsnprintf for the subset Keel uses: %d %i %u %x %X %o %c
 * %s %p %%, flags '-' '0' '#', a width (or *), a precision for %s (or .*),
 * and the length modifiers hh h l ll z. Always NUL-terminates when size > 0.
 * Returns the length the full output would have had.
 */
size_t format_v(char *buf, size_t size, const char *fmt, va_list ap);
size_t format(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
