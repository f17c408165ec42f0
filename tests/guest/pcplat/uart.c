/* SPDX-License-Identifier: MIT */
/* uart.c: the 16550A at 0x3f8: registers, FIFOs, loopback, console output and input, interrupts. */
#include "pcplat.h"

#define THR	(COM1 + 0)
#define IER	(COM1 + 1)
#define IIR	(COM1 + 2)
#define FCR	(COM1 + 2)
#define LCR	(COM1 + 3)
#define MCR	(COM1 + 4)
#define LSR	(COM1 + 5)
#define MSR	(COM1 + 6)
#define SCR	(COM1 + 7)

#define MCR_LOOP	0x10
#define MCR_OUT2	0x08
#define MCR_OUT1	0x04
#define MCR_RTS		0x02
#define MCR_DTR		0x01

static char input[64] __attribute__((aligned(64)));

/* Queue @s as console input of this domain, as if typed (needs KEEL_CAP_CONSOLE). */
static long type_in(const char *s)
{
	size_t n = kt_strlen(s);

	memcpy(input, s, n);
	return keel_hypercall3(KEEL_HC_CONSOLE_WRITE_DOMAIN, kt_boot.domid,
			       (uint64_t)(uintptr_t)input, n);
}

static void drain(void)
{
	for (unsigned int i = 0; i < 64 && (inb(LSR) & 1); i++) {
		(void)inb(THR);
	}
}

static void registers(void)
{
	outb(SCR, 0x5a);
	kt_check_eq("SCR holds what was written", inb(SCR), 0x5a);
	outb(LCR, 0x83);			/* DLAB, 8N1 */
	outb(THR, 0x01);
	outb(IER, 0x00);
	kt_check_eq("DLL with DLAB", inb(THR), 0x01);
	kt_check_eq("DLM with DLAB", inb(IER), 0x00);
	outb(LCR, 0x03);
	kt_check_eq("LCR", inb(LCR), 0x03);
	outb(IER, 0x05);
	kt_check_eq("IER without DLAB", inb(IER), 0x05);
	outb(IER, 0xff);
	kt_check_eq("IER keeps its four bits", inb(IER), 0x0f);
	outb(IER, 0);
	outb(LCR, 0x83);
	kt_check_eq("DLL unchanged by IER writes", inb(THR), 0x01);
	outb(LCR, 0x03);
	kt_check_eq("LSR idle: THRE and TEMT", inb(LSR), 0x60);
	outb(FCR, 0x00);
	kt_check_eq("IIR, FIFOs off, nothing pending", inb(IIR), 0x01);
	outb(FCR, 0x07);
	kt_check_eq("IIR, FIFOs on", inb(IIR), 0xc1);
	kt_check_eq("16-bit IN covers two registers (LSR, MSR)", inw(LSR) & 0xff, 0x60);
}

static void loopback(void)
{
	uint8_t got[16];
	bool order = true;

	outb(MCR, MCR_LOOP);
	outb(THR, 'A');
	outb(THR, 'B');
	outb(THR, 'C');
	kt_check_eq("LSR: data ready in loopback", inb(LSR) & 0x61, 0x61);
	kt_check_eq("first byte", inb(THR), 'A');
	kt_check_eq("second byte", inb(THR), 'B');
	kt_check_eq("third byte", inb(THR), 'C');
	kt_check_eq("LSR: FIFO empty again", inb(LSR) & 1, 0);

	for (unsigned int i = 0; i < 17; i++) {
		outb(THR, (uint8_t)(0x30 + i));
	}
	kt_check_eq("LSR: overrun after 17 bytes", inb(LSR) & 0x03, 0x03);
	kt_check_eq("LSR: overrun cleared by reading LSR", inb(LSR) & 0x02, 0);
	for (unsigned int i = 0; i < 16; i++) {
		got[i] = inb(THR);
		order &= got[i] == 0x30 + i;
	}
	kt_check(order, "the FIFO keeps 16 bytes in order", "got %02x..%02x", got[0], got[15]);
	kt_check_eq("the 17th byte was lost", inb(LSR) & 1, 0);

	outb(FCR, 0x00);			/* 16450 mode: one holding register */
	outb(THR, 'x');
	outb(THR, 'y');
	kt_check_eq("16450 mode overruns at the second byte", inb(LSR) & 0x03, 0x03);
	kt_check_eq("16450 mode keeps the first", inb(THR), 'x');
	outb(FCR, 0x07);
}

static void modem(void)
{
	outb(MCR, MCR_LOOP);
	(void)inb(MSR);
	outb(MCR, MCR_LOOP | MCR_DTR | MCR_RTS);
	kt_check_eq("MSR: DTR->DSR, RTS->CTS with deltas", inb(MSR), 0x33);
	kt_check_eq("MSR: deltas cleared by reading", inb(MSR), 0x30);
	outb(MCR, MCR_LOOP | MCR_OUT1 | MCR_OUT2);
	kt_check_eq("MSR: OUT1->RI, OUT2->DCD", inb(MSR), 0xcb);
	outb(MCR, MCR_LOOP);
	kt_check_eq("MSR: trailing edge of RI, DCD delta", inb(MSR), 0x0c);
	outb(MCR, 0);
	kt_check_eq("MSR without loopback: a terminal is connected", inb(MSR) & 0xf0, 0xb0);
}

static void identification(void)
{
	outb(MCR, MCR_LOOP);
	outb(FCR, 0x07);			/* trigger level 1 */
	outb(IER, 0x00);
	outb(THR, 'i');
	outb(IER, 0x03);			/* data available and THRE */
	kt_check_eq("IIR: received data first", inb(IIR), 0xc4);
	(void)inb(THR);
	kt_check_eq("IIR: then THR empty", inb(IIR), 0xc2);
	kt_check_eq("IIR: THRE cleared by reading IIR", inb(IIR), 0xc1);
	outb(FCR, 0x47);			/* trigger level 4 */
	outb(THR, '1');
	kt_check_eq("IIR: below the trigger level, a character timeout", inb(IIR) & 0xcf, 0xcc);
	outb(THR, '2');
	outb(THR, '3');
	outb(THR, '4');
	kt_check_eq("IIR: at the trigger level, data available", inb(IIR) & 0xcf, 0xc4);
	outb(FCR, 0x07);			/* clears the FIFO */
	kt_check_eq("FCR bit 1 empties the receive FIFO", inb(LSR) & 1, 0);
	outb(IER, 0x04);
	for (unsigned int i = 0; i < 17; i++) {
		outb(THR, 'o');
	}
	kt_check_eq("IIR: line status (overrun) has the highest priority", inb(IIR), 0xc6);
	(void)inb(LSR);
	kt_check_eq("IIR: line status cleared by reading LSR", inb(IIR), 0xc1);
	outb(IER, 0);
	drain();
	outb(MCR, 0);
}

static void console_io(void)
{
	static const char line[] = "pcplat: hello through the 16550\n";
	static const char many[] = "abcdefghijklmnopqrstuvwxyz";
	char got[32];
	size_t n = 0;
	long rc;

	outb(MCR, MCR_DTR | MCR_RTS);
	for (size_t i = 0; line[i]; i++) {
		kt_check(inb(LSR) & 0x20, "THR empty before each byte", "LSR %#x", inb(LSR));
		outb(THR, (uint8_t)line[i]);
	}
	rc = type_in("xyz");
	kt_check_rc("console input queued", rc, 3);
	kt_check_eq("typed input is in the receive FIFO", inb(LSR) & 1, 1);
	kt_check_eq("typed byte 1", inb(THR), 'x');
	kt_check_eq("typed byte 2", inb(THR), 'y');
	kt_check_eq("typed byte 3", inb(THR), 'z');
	/* More than the FIFO holds: the rest waits in the console queue, nothing overruns. */
	kt_check_rc("26 bytes queued", type_in(many), 26);
	while ((inb(LSR) & 1) && n < sizeof(got)) {
		got[n++] = (char)inb(THR);
	}
	kt_check(n == 26 && memcmp(got, many, 26) == 0, "26 typed bytes arrive in order",
		 "got %zu bytes", n);
	kt_check_eq("no overrun from typed input", inb(LSR) & 0x02, 0);
}

void test_uart(void)
{
	kt_group_begin("pcplat-uart");
	registers();
	loopback();
	modem();
	identification();
	console_io();
	kt_group_end();
}

void test_uart_irq(void)
{
	uint64_t count;

	kt_group_begin("pcplat-uart-irq");
	drain();
	outb(IER, 0);
	outb(FCR, 0x07);
	(void)inb(IIR);
	ioapic_route(4, KT_UPCALL_VECTOR, false);	/* ISA: edge, active high */

	outb(MCR, MCR_DTR | MCR_RTS);			/* OUT2 off: the line is gated */
	count = kt_upcall_count;
	outb(IER, 0x02);
	kt_check(!wait_interrupts(count, 100 * KT_NS_PER_MS), "no interrupt without OUT2",
		 "%llu arrived", (unsigned long long)(kt_upcall_count - count));
	kt_check_eq("THRE pending all the same", inb(IIR), 0xc2);
	outb(IER, 0);

	outb(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	count = kt_upcall_count;
	outb(IER, 0x02);
	kt_check(wait_interrupts(count, WAIT_NS), "THRE interrupt on GSI 4", "none in 2 s");
	kt_check_eq("IIR says THRE", inb(IIR), 0xc2);
	outb(IER, 0);

	outb(IER, 0x01);
	count = kt_upcall_count;
	kt_check_rc("console input queued", type_in("q"), 1);
	kt_check(wait_interrupts(count, WAIT_NS), "received-data interrupt on GSI 4",
		 "none in 2 s");
	kt_check_eq("IIR says received data", inb(IIR), 0xc4);
	kt_check_eq("the typed byte", inb(THR), 'q');
	count = kt_upcall_count;
	kt_check_rc("console input queued again", type_in("r"), 1);
	kt_check(wait_interrupts(count, WAIT_NS), "a second received-data interrupt",
		 "none in 2 s");
	kt_check_eq("the second typed byte", inb(THR), 'r');
	outb(IER, 0);
	ioapic_mask(4);
	outb(MCR, 0);
	kt_group_end();
}

/*
 * The operator's side: Keel's serial console switched to this domain
 * (Ctrl-A three times) and a line typed there ends up in the receive FIFO.
 * The test runner does the typing once it sees the prompt.
 */
void test_uart_typed(void)
{
	static const char prompt[] = "pcplat: waiting for typed input\n";
	uint64_t end = kt_now_ns() + 60 * KT_NS_PER_S;
	char line[16];
	size_t n = 0;

	kt_group_begin("pcplat-typed");
	outb(MCR, MCR_DTR | MCR_RTS);
	drain();
	for (size_t i = 0; prompt[i]; i++) {
		outb(THR, (uint8_t)prompt[i]);
	}
	while (n < sizeof(line) - 1 && kt_now_ns() < end) {
		if (!(inb(LSR) & 1)) {
			kt_sleep_ns(10 * KT_NS_PER_MS);
			continue;
		}
		line[n] = (char)inb(THR);
		if (line[n] == '\r' || line[n] == '\n') {
			break;
		}
		n++;
	}
	line[n] = '\0';
	kt_check(n == 4 && memcmp(line, "ping", 4) == 0, "the typed line arrived", "got '%s'",
		 line);
	kt_group_end();
}
