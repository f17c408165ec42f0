/* SPDX-License-Identifier: MIT */
/* lib/string.c - memory and string functions for the freestanding hypervisor. */
#include <keel/string.h>

/*
 * Word-at-a-time copies and fills: Keel zeroes every page it hands out and
 * copies every grant-copy byte, so these run hot (byte loops made building
 * a 2 GiB domain take 11 s under QEMU TCG). The word type may alias
 * anything and be unaligned, so the compiler emits what the CPU allows.
 */
typedef uint64_t __attribute__((may_alias, aligned(1))) word_t;

#define WORD	sizeof(word_t)

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (; n >= 4 * WORD; n -= 4 * WORD, d += 4 * WORD, s += 4 * WORD) {
		word_t a = ((const word_t *)s)[0], b = ((const word_t *)s)[1];
		word_t c = ((const word_t *)s)[2], e = ((const word_t *)s)[3];

		((word_t *)d)[0] = a;
		((word_t *)d)[1] = b;
		((word_t *)d)[2] = c;
		((word_t *)d)[3] = e;
	}
	for (; n >= WORD; n -= WORD, d += WORD, s += WORD) {
		*(word_t *)d = *(const word_t *)s;
	}
	while (n--) {
		*d++ = *s++;
	}
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0) {
		return dst;
	}
	if (d < s || d >= s + n) {
		/*
		 * Forward word copies read each word before writing below it;
		 * and without overlap (a grant copy between two pages, the usual
		 * case) the unrolled forward copy is the fast one.
		 */
		return memcpy(dst, src, n);
	}
	/* Backward: the highest bytes first, words while at least one is left. */
	while (n >= WORD) {
		word_t w;

		n -= WORD;
		w = *(const word_t *)(s + n);
		*(word_t *)(d + n) = w;
	}
	while (n--) {
		d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;

	for (; n >= 8 * WORD; n -= 8 * WORD, d += 8 * WORD) {
		for (unsigned int i = 0; i < 8; i++) {
			((word_t *)d)[i] = w;
		}
	}
	for (; n >= WORD; n -= WORD, d += WORD) {
		*(word_t *)d = w;
	}
	while (n--) {
		*d++ = (unsigned char)c;
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y) {
			return *x - *y;
		}
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n]) {
		n++;
	}
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n]) {
		n++;
	}
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a) {
			return (unsigned char)*a - (unsigned char)*b;
		}
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c) {
			/* strchr's C signature drops const; so must we. */
			return (char *)(uintptr_t)s;
		}
		if (!*s) {
			return NULL;
		}
	}
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++) {
		if (*p == (unsigned char)c) {
			return (void *)(uintptr_t)p;
		}
	}
	return NULL;
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c) {
			last = s;
		}
		if (!*s) {
			return (char *)(uintptr_t)last;
		}
	}
}

/* Base 0 (auto), 8, 10 or 16; no locale, no errno: enough for libfdt. */
unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = (s[0] == '0') ? 8 : 10;
	}
	for (;; s++) {
		int d = (*s >= '0' && *s <= '9') ? *s - '0' :
			(*s >= 'a' && *s <= 'z') ? *s - 'a' + 10 :
			(*s >= 'A' && *s <= 'Z') ? *s - 'A' + 10 : 99;

		if (d >= base) {
			break;
		}
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end) {
		*end = (char *)(uintptr_t)s;
	}
	return v;
}
