/* SPDX-License-Identifier: MIT */
/*
 * keel/console.h - the hypervisor console: each domain's output ring and
 * input queue, its lines on the serial console, and the operator's input.
 *
 * The portable core of docs/abi/hypercalls.md, "Hypervisor console", and of
 * the operator's view described in docs/console.md:
 *
 *   - Output. Every byte a domain writes goes to its ring (CONSOLE_RING_SIZE
 *     bytes, addressed by stream positions that count bytes since the
 *     console began and never wrap; the oldest bytes are dropped when it is
 *     full, never the new ones) and, a line at a time, to the serial console
 *     behind the prefix "[d<id> <name>] ". Lines are written whole under the
 *     log's lock, so they never interleave with Keel's own log lines.
 *     Non-printable bytes are escaped there as \xNN (the ring keeps the raw
 *     bytes). A partial line is written after CONSOLE_FLUSH_NS or when it
 *     reaches CONSOLE_LINE_MAX characters.
 *   - Rate limit, serial side only: a token bucket per domain of
 *     CONSOLE_BURST characters, refilled at CONSOLE_RATE per second. Lines
 *     that do not fit are counted, not written; once the bucket holds
 *     CONSOLE_RESUME again, one line "[d<id> <name>] (N bytes suppressed)"
 *     reports them and output resumes.
 *   - Input. The operator's serial input goes to Keel (single-key commands)
 *     or to one domain that accepts it (console_set_serial_input()); Ctrl-A
 *     pressed three times in a row moves it to the next such domain in id
 *     order, then back to Keel. Bytes for a domain go to its input queue
 *     (CONSOLE_INPUT_SIZE bytes; more are dropped) and raise
 *     KEEL_VIRQ_CONSOLE when the queue was empty.
 *
 * Lock order: the console list lock -> a domain's console lock -> that
 * domain's or the caller's memory lock (guest copies), and -> the log's
 * lock (serial output). Every lock is taken with interrupts off.
 */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/types.h>
#include <public/keel/console.h>

struct domain;

#define CONSOLE_RING_SIZE	KEEL_CONSOLE_RING_MIN	/* output ring, bytes */
#define CONSOLE_INPUT_SIZE	KEEL_CONSOLE_INPUT_MIN	/* input queue, bytes */
#define CONSOLE_LINE_MAX	256	/* serial characters of one line, prefix excluded */
#define CONSOLE_FLUSH_NS	100000000ull	/* a partial line waits this long at most */
#define CONSOLE_BURST		16384	/* serial characters a domain may write at once */
#define CONSOLE_RATE		4000	/* ... and per second after that */
#define CONSOLE_RESUME		4096	/* bucket level that ends a suppression */
#define CONSOLE_POLL_NS		10000000ull	/* console_poll_input() period */

/**
 * Create @d's console: empty ring and queue, full bucket, serial input not
 * accepted. Called by domain_create() (build_parts()).
 *
 * Return: 0; -KEEL_ENOMEM.
 */
int console_domain_create(struct domain *d);

/**
 * Free @d's console (nothing if it has none), after writing its pending
 * partial line and any count of suppressed bytes to the serial console. If
 * serial input went to @d, it goes back to Keel. Called by free_domain():
 * no hypercall of @d is under way.
 */
void console_domain_destroy(struct domain *d);

/*
 * Whether the operator may switch serial input to @d (boot configuration
 * property console = "serial"). Off for every new domain.
 */
void console_set_serial_input(struct domain *d, bool allowed);

/*
 * Give the serial input to @d, as if the operator had switched to it: the
 * boot configuration's console-input, once its domain runs. Refused (false,
 * the input stays where it is) unless @d accepts serial input and is live.
 */
bool console_give_input(struct domain *d);

/*
 * Output Keel produces for @d (an emulated debug port, the boot self-test
 * guest): handled exactly like bytes of KEEL_HC_CONSOLE_WRITE. Any context.
 */
void console_domain_output(struct domain *d, const void *buf, size_t len);

/*
 * An emulated device that consumes @d's console input (an architecture's
 * UART): @ready(@d) is called, with no console lock held and a reference to
 * @d, whenever bytes arrive in the input queue (typed by the operator or
 * written with KEEL_HC_CONSOLE_WRITE_DOMAIN); the device takes them, when it
 * has room, with console_input_take(). NULL removes the sink. The core
 * stays architecture-independent: it only knows the callback.
 */
void console_set_input_sink(struct domain *d, void (*ready)(struct domain *d));

/* Move up to @max bytes of @d's input queue to @buf; returns how many. Any context. */
size_t console_input_take(struct domain *d, uint8_t *buf, size_t max);

/*
 * The hypercalls. The dispatcher has done checks 1-3 of docs/abi/errors.md
 * and refused a @target with bits 63:32 set; each function does the rest in
 * that order and returns the call's result or -KEEL_E*. A failed call
 * changes nothing. Context: a hypercall of @d, no lock held.
 */

/**
 * KEEL_HC_CONSOLE_WRITE: append @len bytes at @gpa to @d's console.
 *
 * Return: @len; -KEEL_E2BIG (@len > KEEL_PAGE_SIZE); -KEEL_EFAULT (the
 *         bytes cross a page or are not @d's RAM).
 */
long console_hc_write(struct domain *d, uint64_t gpa, uint64_t len);

/**
 * KEEL_HC_CONSOLE_READ: move up to @cap bytes of @d's input queue to @gpa.
 *
 * Return: the bytes moved, 0 when the queue is empty; -KEEL_E2BIG (@cap >
 *         KEEL_PAGE_SIZE); -KEEL_EFAULT (the buffer crosses a page or is not
 *         @d's writable RAM, even when the queue is empty).
 */
long console_hc_read(struct domain *d, uint64_t gpa, uint64_t cap);

/**
 * KEEL_HC_CONSOLE_READ_DOMAIN: read a domain's output stream per the struct
 * keel_stream_read at @gpa; the caller may name itself by its id (the call
 * does not take KEEL_DOMID_SELF). The struct names the target, so it is
 * read before the target is looked up.
 *
 * Return: 0; -KEEL_EPERM (@d lacks KEEL_CAP_CONSOLE); -KEEL_EFAULT (the
 *         struct is not 8-byte aligned, crosses a page or is not @d's
 *         writable RAM); -KEEL_ESRCH; -KEEL_E2BIG (buf_len >
 *         KEEL_PAGE_SIZE); -KEEL_EFAULT (the buffer crosses a page or is
 *         not @d's writable RAM); -KEEL_EINVAL (buf_len 0, pad0 set).
 */
long console_hc_read_domain(struct domain *d, uint64_t gpa);

/**
 * KEEL_HC_CONSOLE_WRITE_DOMAIN: append @len bytes at @gpa to @target's input
 * queue (@d's own included; KEEL_DOMID_SELF is not taken), as if typed, and
 * raise its KEEL_VIRQ_CONSOLE if the queue was empty.
 *
 * Return: the bytes queued, fewer than @len when the queue is full;
 *         -KEEL_EPERM (@d lacks KEEL_CAP_CONSOLE); -KEEL_ESRCH; -KEEL_E2BIG
 *         (@len > KEEL_PAGE_SIZE); -KEEL_EFAULT.
 */
long console_hc_write_domain(struct domain *d, uint32_t target, uint64_t gpa, uint64_t len);

/**
 * Drain the serial console's input (arch_console_getc()) and route it: Ctrl-A
 * three times switches, bytes go to the chosen domain or to Keel's
 * commands. Also writes partial lines older than CONSOLE_FLUSH_NS and
 * reports suppressed output whose domain may write again.
 *
 * The scheduling loop calls this on CPU 0 each time round (core/schedule.c),
 * which is at least every CONSOLE_POLL_NS while the CPU runs guests. Once
 * the loops run it also keeps a CONSOLE_POLL_NS one-shot timer armed on its
 * CPU, so that an idle CPU comes back for the next poll. Safe on any CPU,
 * outside interrupt context (it may drop the last reference to a domain),
 * with no console lock held; a call that finds another one under way
 * returns at once.
 */
void console_poll_input(void);

#endif
