/* SPDX-License-Identifier: MIT */
/* keeltest.c - console output and result lines for test kernels. */
#include "keeltest.h"

/* Keel forwards bytes written to this port to its log, per guest. */
#define CONSOLE_PORT	0xe9

void keeltest_main(void);

void console_write(const char *s)
{
	while (*s) {
		outb(CONSOLE_PORT, (uint8_t)*s++);
	}
}

void console_hex(uint32_t v)
{
	char buf[11] = "0x";

	for (int i = 0; i < 8; i++) {
		buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
	}
	buf[10] = '\0';
	console_write(buf);
}

void keeltest_report(const char *name, enum keeltest_result r, const char *msg)
{
	static const char *const words[] = { "SUCCESS", "SKIP", "ERROR", "FAILURE" };

	console_write("keeltest: ");
	console_write(name);
	console_write(": ");
	console_write(words[r]);
	if (msg && *msg) {
		console_write(" ");
		console_write(msg);
	}
	console_write("\n");
}

void keeltest_main(void)
{
	test_main();
}
