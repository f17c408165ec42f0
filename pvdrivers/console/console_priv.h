/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/console/console_priv.h - what the console's two sides share
 * (common.c): the ring geometry they use, writing a slot, failing on a
 * protocol error, and a byte FIFO.
 *
 * The class code sees only the keel_pv headers (not the core's
 * internal.h), so it names the few builtins it needs itself.
 */
#ifndef KPV_CONSOLE_PRIV_H
#define KPV_CONSOLE_PRIV_H

#include <keel_pv/console.h>

#define con_memcpy		__builtin_memcpy
#define con_memset		__builtin_memset

/*
 * Both rings have one data page: 64 slots, 3.5 KiB of output in flight,
 * more than a terminal needs. The backend offers no more, so a frontend
 * cannot make it keep more than this per ring.
 */
#define CON_RING_ORDER		0u
#define CON_SLOTS		(KPV_PAGE_SIZE / KEEL_IO_CONSOLE_SLOT_SIZE)
#define CON_DATA		KEEL_IO_CONSOLE_DATA_MAX
#define CON_OUT			KEEL_IO_CONSOLE_RING_OUTPUT
#define CON_IN			KEEL_IO_CONSOLE_RING_INPUT

_Static_assert(sizeof(struct keel_io_console_slot) == KEEL_IO_CONSOLE_SLOT_SIZE, "one slot");
_Static_assert(sizeof(struct keel_io_console_config) == 8, "cols, rows, pad0");

/*
 * Fill the ring slot @slot in one copy: @id, @len, the first @len bytes of
 * @data (zeros for NULL: an output answer carries none), flags and the rest
 * zero. The peer may read the slot any time, so it never sees anything of
 * ours but what the protocol says.
 */
void kpv_con_slot_write(void *slot, uint16_t id, const uint8_t *data, uint32_t len);
/*
 * The @peer ("frontend", "backend") broke console.md (@what, @value): log
 * it and stop the device in ERROR with KEEL_IO_ERR_PROTOCOL. [any]
 */
void kpv_con_fail(struct kpv_dev *dev, uint32_t id, const char *peer, const char *what,
		  uint32_t value);

/*
 * A byte FIFO over @size (a power of two) bytes: free-running positions,
 * head (oldest byte held) and tail (next byte written). Not locked: each
 * side keeps its FIFOs under its own lock.
 */
struct con_fifo {
	uint8_t *buf;
	uint32_t size;
	uint32_t head, tail;
};

static inline uint32_t kpv_con_fifo_used(const struct con_fifo *f)
{
	return f->tail - f->head;
}

static inline uint32_t kpv_con_fifo_room(const struct con_fifo *f)
{
	return f->size - kpv_con_fifo_used(f);
}

/* Append up to @len bytes (as many as there is room for); returns how many. */
uint32_t kpv_con_fifo_put(struct con_fifo *f, const uint8_t *data, uint32_t len);
/* Append @len bytes, dropping the oldest held (or given) as needed; returns how many were lost. */
uint32_t kpv_con_fifo_put_over(struct con_fifo *f, const uint8_t *data, uint32_t len);
/* Copy @len bytes held from position @pos (head <= pos, pos + len <= tail) to @out. */
void kpv_con_fifo_peek(const struct con_fifo *f, uint32_t pos, uint8_t *out, uint32_t len);
/* Take up to @len bytes from the head; returns how many. */
uint32_t kpv_con_fifo_get(struct con_fifo *f, uint8_t *out, uint32_t len);

#endif
