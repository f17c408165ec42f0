/* SPDX-License-Identifier: MIT */
/* keel/console.h: the hypervisor console (early and debug text I/O per domain) and stream reads. */
#ifndef KEEL_PUBLIC_CONSOLE_H
#define KEEL_PUBLIC_CONSOLE_H

#include "abi.h"

/*
 * Every domain has a hypervisor console: an output stream that Keel keeps in
 * a per-domain ring (KEEL_CONSOLE_RING_MIN bytes at least) and copies to the
 * serial console with a domain prefix, and an input queue fed from the serial
 * console (when the operator switched input to the domain) or by a domain
 * holding KEEL_CAP_CONSOLE. This is for early boot and debugging; the fast
 * console is the PV console device (keel/io/console.h).
 *
 * KEEL_HC_CONSOLE_WRITE: append bytes to the caller's console output.
 *   arg0:   IN GPA of the bytes.
 *   arg1:   IN length, 0 .. KEEL_PAGE_SIZE; [arg0, arg0 + arg1) in one page.
 *   return: number of bytes accepted (== arg1; Keel drops the oldest output
 *           when the ring is full, never the new bytes).
 *   errors: KEEL_EFAULT, KEEL_E2BIG (arg1 > KEEL_PAGE_SIZE), KEEL_ENOTIDENT,
 *           KEEL_EPERM (CPL > 0).
 *   capability: none.
 *
 * KEEL_HC_CONSOLE_READ: take bytes from the caller's console input queue.
 *   arg0:   IN GPA of the buffer.
 *   arg1:   IN capacity, 0 .. KEEL_PAGE_SIZE; buffer in one page.
 *   return: number of bytes copied, 0 if the queue is empty. KEEL_VIRQ_CONSOLE
 *           fires when the queue goes from empty to non-empty.
 *   errors: KEEL_EFAULT, KEEL_E2BIG, KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *   capability: none.
 *
 * KEEL_HC_CONSOLE_READ_DOMAIN: read another domain's console output stream.
 *   arg0:   IN GPA of a struct keel_stream_read (domid = the target).
 *   return: 0; the struct's OUT fields describe what was copied.
 *   errors: KEEL_EPERM (no KEEL_CAP_CONSOLE, or CPL > 0), KEEL_ESRCH,
 *           KEEL_EFAULT (the struct or the buffer), KEEL_E2BIG (buf_len >
 *           KEEL_PAGE_SIZE), KEEL_EINVAL (buf_len == 0, pad0 != 0),
 *           KEEL_ENOTIDENT.
 *   capability: KEEL_CAP_CONSOLE.
 *
 * KEEL_HC_CONSOLE_WRITE_DOMAIN: append bytes to another domain's console
 * input queue, as if typed on the serial console.
 *   arg0:   IN target domid.
 *   arg1:   IN GPA of the bytes.
 *   arg2:   IN length, 0 .. KEEL_PAGE_SIZE, in one page.
 *   return: number of bytes queued; fewer than arg2 when the queue
 *           (KEEL_CONSOLE_INPUT_MIN bytes at least) is full.
 *   errors: KEEL_EPERM (no KEEL_CAP_CONSOLE, or CPL > 0), KEEL_ESRCH,
 *           KEEL_EFAULT, KEEL_E2BIG, KEEL_ENOTIDENT.
 *   capability: KEEL_CAP_CONSOLE.
 */
#define KEEL_CONSOLE_RING_MIN		16384
#define KEEL_CONSOLE_INPUT_MIN		1024

/*
 * A read from a byte stream that Keel keeps in a ring: a domain's console
 * output (KEEL_HC_CONSOLE_READ_DOMAIN) or the hypervisor log
 * (KEEL_HC_CTL_LOG_READ). Positions count bytes since the stream began and
 * never wrap. If pos < oldest_pos the bytes between were overwritten; Keel
 * reads from oldest_pos instead, and the caller sees the gap by comparing.
 */
struct keel_stream_read {
	uint32_t domid;			/* IN: target domain; MBZ for the log */
	uint32_t buf_len;		/* IN: buffer capacity, 1 .. KEEL_PAGE_SIZE */
	uint64_t buf_gpa;		/* IN: buffer; [buf_gpa, buf_gpa + buf_len) in one page */
	uint64_t pos;			/* IN: first stream position wanted */
	uint64_t next_pos;		/* OUT: position after the last byte copied */
	uint64_t oldest_pos;		/* OUT: oldest position still held */
	uint32_t len;			/* OUT: bytes copied (0: nothing at pos yet) */
	uint32_t pad0;			/* MBZ */
};

#endif /* KEEL_PUBLIC_CONSOLE_H */
