/* SPDX-License-Identifier: MIT */
/*
 * bootproto/linux.h - what every builder of a Linux domain does the same way
 * whatever the architecture (docs/abi/boot.md, "Linux command line").
 */
#ifndef BOOTPROTO_LINUX_H
#define BOOTPROTO_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINUX_CMDLINE_BUF	2048	/* Linux's COMMAND_LINE_SIZE on x86 */

/*
 * The command line Linux gets: @in plus " tsc_early_khz=@tsc_khz" unless
 * @in already sets it or @tsc_khz is 0. Returns false if the result does
 * not fit in @size bytes (@out then holds a truncated, terminated copy).
 */
bool linux_cmdline(const char *in, uint32_t tsc_khz, char *out, size_t size);

#endif
