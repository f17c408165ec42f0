/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/console.h - the PV console class (docs/abi/devices/console.md),
 * both sides, for the OS: a frontend the kernel can use as its console
 * (write from any context, input and terminal size through callbacks), and
 * a backend that serves one frontend's terminal to an output sink.
 *
 * Both sides sit on the device core (keel_pv/device.h) and keep every
 * console.md rule facing a hostile peer: the peer's responses or requests
 * are copied once and checked, anything invalid stops the device in ERROR
 * (KEEL_IO_ERR_PROTOCOL), and no peer can make them loop. Errors are
 * negative KEEL_E* numbers. Functions run in thread context unless marked
 * [any]; callbacks are called without any kpv lock held.
 */
#ifndef KEEL_PV_CONSOLE_H
#define KEEL_PV_CONSOLE_H

#include <keel_pv/device.h>
#include <keel/io/console.h>

/* Output a frontend holds: written and not yet answered by the backend (resent on reconnect). */
#define KPV_CON_FE_BUF		4096u
/* Output a backend holds for its sink (the oldest bytes go first when it is full). */
#define KPV_CON_BE_OUT_BUF	4096u
/* Input a backend holds while the frontend has no request posted. */
#define KPV_CON_BE_IN_BUF	1024u
/* The terminal size a frontend assumes when the backend does not offer F_SIZE. */
#define KPV_CON_COLS		80u
#define KPV_CON_ROWS		25u

/* --- Frontend ------------------------------------------------------------------- */

struct kpv_con_fe;

struct kpv_con_fe_ops {
	/*
	 * Input bytes from the backend, in order. Thread context; calls never
	 * overlap. May call kpv_con_fe_write() (an echo).
	 */
	void (*input)(void *ctx, const uint8_t *data, uint32_t len);
	/*
	 * The terminal size: at each connection and whenever the backend
	 * changes it (F_SIZE; 80 x 25 without it; 0 means unknown). Thread
	 * context. Optional.
	 */
	void (*size)(void *ctx, uint16_t cols, uint16_t rows);
	/* [any] Room again after a write accepted less than it was given. Optional. */
	void (*writable)(void *ctx);
	/*
	 * Connected (true) or not any more (false). Until the first true, an
	 * OS should keep writing to the hypervisor console (console.md).
	 * Thread context. Optional.
	 */
	void (*connection)(void *ctx, bool connected);
	/* After kpv_con_fe_close(): nothing of the console is left; called once. */
	void (*released)(void *ctx);
};

/*
 * Open the console @info (a frontend entry of class KEEL_IO_CLASS_CONSOLE
 * from kpv_devices()) and start connecting; returns at once. @ops and @ctx
 * must stay valid until released(). Errors as kpv_fe_open(), -KEEL_ENOMEM.
 */
int kpv_con_fe_open(struct kpv *k, const struct kpv_device_info *info,
		    const struct kpv_con_fe_ops *ops, void *ctx, struct kpv_con_fe **out);
/* Leave the device (kpv_dev_close()); output still unanswered is dropped. Ends in released(). */
void kpv_con_fe_close(struct kpv_con_fe *c, bool removed);
/*
 * [any] Queue @len bytes of output; returns how many were taken (0 .. @len:
 * fewer when KPV_CON_FE_BUF would overflow; nothing is dropped silently).
 * Also collects the backend's answers first, so a kernel that cannot take
 * interrupts (a panic) still makes progress by calling it again.
 */
uint32_t kpv_con_fe_write(struct kpv_con_fe *c, const void *data, uint32_t len);
/* [any] Bytes a write would take now. */
uint32_t kpv_con_fe_room(struct kpv_con_fe *c);
/* [any] Bytes written that the backend has not answered yet (0: all delivered). */
uint32_t kpv_con_fe_unanswered(struct kpv_con_fe *c);
/* [any] Whether I/O flows right now. */
bool kpv_con_fe_connected(struct kpv_con_fe *c);
/* [any] The terminal size last reported (80 x 25 before any connection). */
void kpv_con_fe_size(struct kpv_con_fe *c, uint16_t *cols, uint16_t *rows);

struct kpv_con_fe_stats {
	uint64_t written;		/* bytes write() took */
	uint64_t answered;		/* bytes the backend answered */
	uint64_t resent;		/* bytes sent again on a new connection */
	uint64_t input;			/* input bytes delivered */
	uint32_t connects;		/* connections made */
	uint32_t errors;		/* protocol errors found in the backend's answers */
};
/* [any] */
void kpv_con_fe_stats(struct kpv_con_fe *c, struct kpv_con_fe_stats *out);
/* The device underneath, for diagnostics (kpv_dev_state()). */
struct kpv_dev *kpv_con_fe_dev(struct kpv_con_fe *c);

/* --- Backend -------------------------------------------------------------------- */

struct kpv_con_be;

/* Where a backend's output goes: thread context; calls never overlap. */
typedef void (*kpv_con_sink)(void *ctx, const uint8_t *data, uint32_t len);

struct kpv_con_be_ops {
	/* The frontend connected (true) or left (false). Thread context. Optional. */
	void (*connection)(void *ctx, bool connected);
	/* After kpv_con_be_close(): nothing of the console is left; called once. */
	void (*released)(void *ctx);
};

/*
 * Serve the console @info (a backend entry of class KEEL_IO_CLASS_CONSOLE):
 * offer F_SIZE with the terminal size @cols x @rows (0: unknown; the offer
 * goes out before this returns, so a frontend waiting for it may commit at
 * once), and start; returns at once. Output is held (KPV_CON_BE_OUT_BUF,
 * dropping the oldest) until a sink is attached. Errors as kpv_be_open(),
 * -KEEL_ENOMEM.
 */
int kpv_con_be_open(struct kpv *k, const struct kpv_device_info *info,
		    const struct kpv_con_be_ops *ops, void *ctx, uint16_t cols, uint16_t rows,
		    struct kpv_con_be **out);
/* Leave the device (kpv_dev_close()). Ends in released(); no sink call follows it. */
void kpv_con_be_close(struct kpv_con_be *b, bool removed);
/*
 * [any] Attach a sink (held output goes to it first, in order) or detach it
 * (NULL). A call to the previous sink already running may still finish.
 */
void kpv_con_be_sink(struct kpv_con_be *b, kpv_con_sink fn, void *ctx);
/*
 * [any] Input for the frontend: answers its posted requests, and holds
 * what does not fit (KPV_CON_BE_IN_BUF) until it posts more. Returns the
 * bytes taken; the rest is dropped (and counted).
 */
uint32_t kpv_con_be_input(struct kpv_con_be *b, const void *data, uint32_t len);
/* [any] The terminal size (0: unknown), sent live if the frontend accepted F_SIZE. */
void kpv_con_be_size(struct kpv_con_be *b, uint16_t cols, uint16_t rows);
/* [any] Whether I/O flows right now. */
bool kpv_con_be_connected(struct kpv_con_be *b);

struct kpv_con_be_stats {
	uint64_t output;		/* bytes the frontend sent */
	uint64_t output_dropped;	/* ... lost while no sink was attached (oldest first) */
	uint64_t input;			/* bytes delivered into the frontend's requests */
	uint64_t input_dropped;		/* bytes kpv_con_be_input() could not take */
	uint32_t connects;
	uint32_t errors;		/* protocol errors found in the frontend's requests */
};
/* [any] */
void kpv_con_be_stats(struct kpv_con_be *b, struct kpv_con_be_stats *out);
struct kpv_dev *kpv_con_be_dev(struct kpv_con_be *b);

#endif /* KEEL_PV_CONSOLE_H */
