/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vuart.c - a domain's 16550A UART at 0x3f8 on GSI 4: registers,
 * FIFOs, loopback and interrupts; output goes to the domain's hypervisor
 * console, input comes from its console input queue.
 *
 * The line has no speed: a byte written to THR leaves at once, so THR and
 * the transmitter are always empty (LSR THRE and TEMT set) and the TX FIFO
 * never holds anything. The RX FIFO is filled from the console input queue
 * (core/console.c keeps up to 1 KiB), so typed or pasted bytes wait there
 * instead of overrunning the 16 bytes of the FIFO; only loopback, which
 * writes straight into the FIFO, can overrun it.
 */
#include <keel/console.h>
#include <keel/heap.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/errno.h>
#include <x86/vdevices.h>
#include <x86/vplatform.h>

#define FIFO_SIZE	16

/* Register offsets from VUART_PORT. */
#define REG_RBR_THR	0	/* DLL with DLAB */
#define REG_IER		1	/* DLM with DLAB */
#define REG_IIR_FCR	2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define IER_RDA		0x01	/* received data available */
#define IER_THRE	0x02
#define IER_RLS		0x04	/* receiver line status */
#define IER_MS		0x08	/* modem status */

#define IIR_NONE	0x01
#define IIR_MS		0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_TIMEOUT	0x0c
#define IIR_FIFO	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04
#define FCR_TRIGGER	0xc0

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_ERRORS	0x1e	/* OE, PE, FE, BI: cleared when LSR is read */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct vuart {
	struct domain *d;
	struct spinlock lock;		/* guards everything below */
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t lsr_errors;		/* LSR_ERRORS bits latched until LSR is read */
	uint8_t msr;			/* line states and delta bits */
	bool thre_pending;		/* THR emptied and IIR has not reported it */
	bool line;			/* level last given to the IOAPIC */
	uint8_t rx[FIFO_SIZE];
	unsigned int rx_head, rx_count;
};

static struct vuart *uart_of(struct domain *d)
{
	return vplatform_of(d)->uart;
}

static unsigned int rx_capacity(const struct vuart *u)
{
	return (u->fcr & FCR_ENABLE) ? FIFO_SIZE : 1;	/* 16450 mode: one holding register */
}

static unsigned int rx_trigger(const struct vuart *u)
{
	static const unsigned int levels[4] = { 1, 4, 8, 14 };

	return (u->fcr & FCR_ENABLE) ? levels[u->fcr >> 6] : 1;
}

/* The interrupt the UART reports in IIR, by the 16550's priorities. */
static uint8_t pending_iir(const struct vuart *u)
{
	if ((u->ier & IER_RLS) && u->lsr_errors) {
		return IIR_RLS;
	}
	if ((u->ier & IER_RDA) && u->rx_count) {
		/*
		 * Below the trigger level the 16550 raises a character timeout
		 * after four idle character times. This line has no character
		 * time, so the timeout is due at once.
		 */
		return u->rx_count >= rx_trigger(u) ? IIR_RDA : IIR_TIMEOUT;
	}
	if ((u->ier & IER_THRE) && u->thre_pending) {
		return IIR_THRE;
	}
	if ((u->ier & IER_MS) && (u->msr & (MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD))) {
		return IIR_MS;
	}
	return IIR_NONE;
}

/*
 * Drive GSI 4. On a PC the UART's interrupt output reaches the interrupt
 * controller through a buffer enabled by OUT2; in loopback the 16550 holds
 * OUT2 inactive, so the line stays low then, as on hardware.
 */
static void update_line(struct vuart *u)
{
	bool level = pending_iir(u) != IIR_NONE && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);

	if (level != u->line) {
		u->line = level;
		vioapic_set_irq(u->d, VPLATFORM_GSI_UART, level);
	}
}

/* Fill the RX FIFO from the console input queue (not in loopback: the line is looped). */
static void pull_input(struct vuart *u)
{
	uint8_t buf[FIFO_SIZE];
	unsigned int room = rx_capacity(u) - MIN(u->rx_count, rx_capacity(u));
	size_t n;

	if ((u->mcr & MCR_LOOP) || room == 0) {
		return;
	}
	n = console_input_take(u->d, buf, room);
	for (size_t i = 0; i < n; i++) {
		u->rx[(u->rx_head + u->rx_count++) % FIFO_SIZE] = buf[i];
	}
}

static void rx_push(struct vuart *u, uint8_t b)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_errors |= LSR_OE;	/* the new byte is lost, as on hardware */
		return;
	}
	u->rx[(u->rx_head + u->rx_count++) % FIFO_SIZE] = b;
}

static uint8_t rx_pop(struct vuart *u)
{
	uint8_t b;

	if (!u->rx_count) {
		return 0;	/* RBR of an empty receiver: no defined value, 0 here */
	}
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % FIFO_SIZE;
	u->rx_count--;
	return b;
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* The modem inputs: looped back from MCR, else a connected terminal (DCD, DSR, CTS). */
static uint8_t modem_lines(const struct vuart *u)
{
	if (!(u->mcr & MCR_LOOP)) {
		return MSR_DCD | MSR_DSR | MSR_CTS;
	}
	return ((u->mcr & MCR_RTS) ? MSR_CTS : 0) | ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
	       ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
}

/* MCR changed: recompute the modem inputs and latch their deltas. */
static void set_mcr(struct vuart *u, uint8_t value)
{
	uint8_t old = u->msr & 0xf0, now;

	u->mcr = value & 0x1f;
	now = modem_lines(u);
	if ((old ^ now) & MSR_CTS) {
		u->msr |= MSR_DCTS;
	}
	if ((old ^ now) & MSR_DSR) {
		u->msr |= MSR_DDSR;
	}
	if ((old & MSR_RI) && !(now & MSR_RI)) {
		u->msr |= MSR_TERI;	/* trailing edge of RI only */
	}
	if ((old ^ now) & MSR_DCD) {
		u->msr |= MSR_DDCD;
	}
	u->msr = (u->msr & 0x0f) | now;
	pull_input(u);	/* leaving loopback: the console may have bytes waiting */
}

static void transmit(struct vuart *u, uint8_t b)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, b);
	} else {
		console_domain_output(u->d, &b, 1);
	}
	u->thre_pending = true;	/* THR is empty again at once */
}

static uint8_t read_reg(struct vuart *u, unsigned int reg)
{
	uint8_t v, iir;

	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			return u->dll;
		}
		v = rx_pop(u);
		pull_input(u);
		return v;
	case REG_IER:
		return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR_FCR:
		iir = pending_iir(u);
		if (iir == IIR_THRE) {
			u->thre_pending = false;	/* reading IIR that reports THRE clears it */
		}
		return iir | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		v = (u->rx_count ? LSR_DR : 0) | u->lsr_errors | LSR_THRE | LSR_TEMT;
		u->lsr_errors = 0;
		return v;
	case REG_MSR:
		v = u->msr;
		u->msr &= 0xf0;
		return v;
	default:
		return u->scr;
	}
}

static void write_reg(struct vuart *u, unsigned int reg, uint8_t value)
{
	switch (reg) {
	case REG_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = value;
		} else {
			transmit(u, value);
		}
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = value;
			break;
		}
		/* Enabling the THRE interrupt while THR is empty raises it (16550). */
		if ((value & IER_THRE) && !(u->ier & IER_THRE)) {
			u->thre_pending = true;
		}
		u->ier = value & 0x0f;
		break;
	case REG_IIR_FCR:
		if ((value ^ u->fcr) & FCR_ENABLE) {
			rx_clear(u);	/* switching FIFO mode empties the FIFOs */
		}
		if (value & FCR_CLEAR_RX) {
			rx_clear(u);
		}
		u->fcr = value & (FCR_ENABLE | FCR_TRIGGER);
		if (!(u->fcr & FCR_ENABLE)) {
			u->fcr = 0;	/* the trigger bits only exist with the FIFOs on */
		}
		pull_input(u);
		break;
	case REG_LCR:
		u->lcr = value;
		break;
	case REG_MCR:
		set_mcr(u, value);
		break;
	case REG_LSR:
	case REG_MSR:
		break;	/* read-only on the 16550A (factory test writes ignored) */
	default:
		u->scr = value;
		break;
	}
}

bool vuart_pio(struct domain *d, uint16_t port, unsigned int size, bool in, uint32_t *value)
{
	struct vuart *u = uart_of(d);
	unsigned long flags;
	uint32_t result = 0;

	if (!u || port < VUART_PORT || port >= VUART_PORT + VUART_PORTS) {
		return false;
	}
	flags = spin_lock_irqsave(&u->lock);
	/* A wider access is a sequence of byte accesses to consecutive ports, as on the ISA bus. */
	for (unsigned int i = 0; i < size; i++) {
		unsigned int reg = port - VUART_PORT + i;

		if (reg >= VUART_PORTS) {
			result |= 0xffu << (8 * i);	/* past the UART: nothing decodes it */
		} else if (in) {
			result |= (uint32_t)read_reg(u, reg) << (8 * i);
		} else {
			write_reg(u, reg, (uint8_t)(*value >> (8 * i)));
		}
	}
	update_line(u);
	spin_unlock_irqrestore(&u->lock, flags);
	if (in) {
		*value = result;
	}
	return true;
}

/* The console has input for @d: take what the RX FIFO can hold. */
static void input_ready(struct domain *d)
{
	struct vuart *u = uart_of(d);
	unsigned long flags;

	if (!u) {
		return;
	}
	flags = spin_lock_irqsave(&u->lock);
	pull_input(u);
	update_line(u);
	spin_unlock_irqrestore(&u->lock, flags);
}

int vuart_create(struct domain *d)
{
	struct vuart *u = heap_alloc(sizeof(*u));

	if (!u) {
		return -KEEL_ENOMEM;
	}
	memset(u, 0, sizeof(*u));
	u->d = d;
	u->lock = (struct spinlock)SPINLOCK_INIT;
	u->dll = 12;		/* 9600 baud, what a PC BIOS leaves */
	u->msr = modem_lines(u);
	vplatform_of(d)->uart = u;
	console_set_input_sink(d, input_ready);
	return 0;
}

void vuart_destroy(struct domain *d)
{
	struct vplatform *p = vplatform_of(d);

	if (!p->uart) {
		return;
	}
	if (d->console) {
		console_set_input_sink(d, NULL);
	}
	heap_free(p->uart);
	p->uart = NULL;
}
