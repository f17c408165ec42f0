/* SPDX-License-Identifier: MIT */
/* x86/platform.h - the PC platform pieces: UART, ACPI, interrupt controllers, timers. */
#ifndef KEEL_X86_PLATFORM_H
#define KEEL_X86_PLATFORM_H

#include <keel/types.h>

/* COM1 console. */
void uart_init(void);
void uart_write(const char *buf, size_t len);

#endif
