/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/console/common.c - what the console's frontend and backend
 * share: writing a slot, stopping on the peer's protocol error, and the
 * byte FIFO (the frontend's output kept until answered, the backend's held
 * output and input). FIFO positions are free-running and masked only to
 * address bytes.
 */
#include "console_priv.h"

void kpv_con_slot_write(void *slot, uint16_t id, const uint8_t *data, uint32_t len)
{
	struct keel_io_console_slot m = { .id = id, .len = (uint16_t)len };

	if (data) {
		con_memcpy(m.data, data, len);
	}
	con_memcpy(slot, &m, sizeof(m));
}

void kpv_con_fail(struct kpv_dev *dev, uint32_t id, const char *peer, const char *what,
		  uint32_t value)
{
	kpv_log(KPV_LOG_WARN, "kpv: console %u: the %s broke the protocol: %s (%u)", id, peer,
		what, value);
	kpv_dev_fail(dev, KEEL_IO_ERR_PROTOCOL);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Where position @pos is in the buffer, and how many of @len bytes fit before its end. */
static uint32_t locate(const struct con_fifo *f, uint32_t pos, uint32_t len, uint32_t *first)
{
	uint32_t off = pos & (f->size - 1);

	*first = min_u32(len, f->size - off);
	return off;
}

uint32_t kpv_con_fifo_put(struct con_fifo *f, const uint8_t *data, uint32_t len)
{
	uint32_t n = min_u32(len, kpv_con_fifo_room(f)), first;
	uint32_t off = locate(f, f->tail, n, &first);

	con_memcpy(f->buf + off, data, first);
	con_memcpy(f->buf, data + first, n - first);
	f->tail += n;
	return n;
}

uint32_t kpv_con_fifo_put_over(struct con_fifo *f, const uint8_t *data, uint32_t len)
{
	uint32_t lost = 0;

	if (len > f->size) {
		lost = len - f->size;
		data += lost;
		len = f->size;
	}
	if (kpv_con_fifo_room(f) < len) {
		lost += len - kpv_con_fifo_room(f);
		f->head = f->tail + len - f->size;
	}
	kpv_con_fifo_put(f, data, len);
	return lost;
}

void kpv_con_fifo_peek(const struct con_fifo *f, uint32_t pos, uint8_t *out, uint32_t len)
{
	uint32_t first, off = locate(f, pos, len, &first);

	con_memcpy(out, f->buf + off, first);
	con_memcpy(out + first, f->buf, len - first);
}

uint32_t kpv_con_fifo_get(struct con_fifo *f, uint8_t *out, uint32_t len)
{
	uint32_t n = min_u32(len, kpv_con_fifo_used(f));

	kpv_con_fifo_peek(f, f->head, out, n);
	f->head += n;
	return n;
}
