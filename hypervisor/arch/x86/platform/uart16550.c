/* SPDX-License-Identifier: MIT */
/* platform/uart16550.c - the COM1 16550 UART: Keel's console (115200 8N1, polled). */
#include <arch/arch.h>
#include <x86/cpu.h>
#include <x86/platform.h>

#define COM1		0x3f8
#define REG_DATA	0
#define REG_IER		1
#define REG_FCR		2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define LSR_DR		0x01	/* a received byte waits in RBR (or the FIFO) */
#define LSR_THRE	0x20
#define LCR_DLAB	0x80
#define SPIN_LIMIT	100000	/* a missing UART must not hang the console */

void uart_init(void)
{
	outb(COM1 + REG_IER, 0x00);		/* no interrupts: polled */
	outb(COM1 + REG_LCR, LCR_DLAB);
	outb(COM1 + REG_DATA, 1);		/* divisor 1: 115200 baud */
	outb(COM1 + REG_IER, 0);
	outb(COM1 + REG_LCR, 0x03);		/* 8N1 */
	outb(COM1 + REG_FCR, 0xc7);		/* FIFOs on, cleared */
	outb(COM1 + REG_MCR, 0x03);		/* DTR, RTS */
}

static void uart_putc(char c)
{
	for (unsigned int i = 0; i < SPIN_LIMIT; i++) {
		if (inb(COM1 + REG_LSR) & LSR_THRE) {
			break;
		}
		pause();
	}
	outb(COM1 + REG_DATA, (uint8_t)c);
}

void uart_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			uart_putc('\r');
		}
		uart_putc(buf[i]);
	}
}

/* The arch contract's console input: polled, so the UART's interrupts stay off. */
int arch_console_getc(void)
{
	uint8_t lsr = inb(COM1 + REG_LSR);

	/* An absent UART reads all ones: that is no data, not a 0xff byte. */
	if (lsr == 0xff || !(lsr & LSR_DR)) {
		return -1;
	}
	return inb(COM1 + REG_DATA);	/* RBR: the data register when DLAB is clear */
}
