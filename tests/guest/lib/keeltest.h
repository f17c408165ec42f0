/* SPDX-License-Identifier: MIT */
/*
 * keeltest.h - the in-guest test kernel runtime and its reporting convention.
 *
 * A test kernel defines test_main(); the runtime calls it and halts after.
 * Each test reports exactly one line on the guest console:
 *   keeltest: <test name>: SUCCESS|SKIP|ERROR|FAILURE [message]
 * SUCCESS: behaved as specified. SKIP: does not apply here. ERROR: the test
 * itself or its environment is broken. FAILURE: Keel misbehaved (a bug).
 */
#ifndef KEELTEST_H
#define KEELTEST_H

#include <stdint.h>

enum keeltest_result {
	KEELTEST_SUCCESS,
	KEELTEST_SKIP,
	KEELTEST_ERROR,
	KEELTEST_FAILURE,
};

void test_main(void);

void keeltest_report(const char *name, enum keeltest_result r, const char *msg);
void console_write(const char *s);
void console_hex(uint32_t v);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#endif
