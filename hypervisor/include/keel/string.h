/* SPDX-License-Identifier: MIT */
/* keel/string.h - the freestanding string and memory functions (lib/string.c). */
#ifndef KEEL_STRING_H
#define KEEL_STRING_H

#include <keel/types.h>

#ifdef KEEL_HOSTED
/* The host build (unit tests, fuzzers) uses the C library's versions. */
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
void *memchr(const void *s, int c, size_t n);
unsigned long strtoul(const char *s, char **end, int base);
#endif

#endif
