/* SPDX-License-Identifier: MIT */
/*
 * bootproto/linux_cmdline.c - completes a Linux command line with the TSC
 * frequency (tsc_early_khz=), which saves the kernel its calibration against
 * a timer the emulated platform makes slow and noisy.
 */
#include <bootproto/linux.h>
#include "internal.h"

#define TSC_OPTION	"tsc_early_khz="

/* Does @cmdline contain @opt at the start of a word? */
static bool has_option(const char *cmdline, const char *opt)
{
	size_t len = bp_strlen(opt);

	for (const char *p = cmdline; *p; p++) {
		if ((p == cmdline || p[-1] == ' ') && bp_strncmp(p, opt, len) == 0) {
			return true;
		}
	}
	return false;
}

/* Append @s at *@len of @out (@size bytes), truncating; false if it did not fit. */
static bool append(char *out, size_t size, size_t *len, const char *s)
{
	for (; *s; s++) {
		if (*len + 1 >= size) {
			return false;
		}
		out[(*len)++] = *s;
	}
	return true;
}

bool linux_cmdline(const char *in, uint32_t tsc_khz, char *out, size_t size)
{
	char digits[11];
	unsigned int d = sizeof(digits) - 1;
	size_t len = 0;
	bool want = tsc_khz != 0, ok;

	if (size == 0) {
		return false;
	}
	digits[d] = '\0';
	do {
		digits[--d] = (char)('0' + tsc_khz % 10);
		tsc_khz /= 10;
	} while (tsc_khz);
	ok = append(out, size, &len, in);
	if (ok && want && !has_option(in, TSC_OPTION)) {
		ok = (in[0] == '\0' || append(out, size, &len, " ")) &&
		     append(out, size, &len, TSC_OPTION) && append(out, size, &len, digits + d);
	}
	out[len] = '\0';
	return ok;
}
