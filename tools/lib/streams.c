/* SPDX-License-Identifier: MIT */
/*
 * tools/lib/streams.c - reading the hypervisor log and domains' consoles
 * (struct keel_stream_read), and typing into a domain's console.
 */
#include <string.h>
#include <keel/console.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keelctl/keelctl.h>
#include "lib.h"

static long stream_read(struct keelctl *c, uint32_t nr, uint32_t domid, uint64_t *pos, void *buf,
			uint32_t cap, uint64_t *lost)
{
	struct keel_stream_read r = { .domid = domid, .buf_len = cap, .pos = *pos };
	uint64_t args[6] = { 0 };
	struct keel_privcmd_buf b[2] = {
		keelctl_buf_arg(&r, sizeof(r), KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT, 0),
		{ .addr = (uintptr_t)buf, .len = cap, .flags = KEEL_PRIVCMD_BUF_OUT,
		  .at = KEEL_PRIVCMD_AT_BUF, .index = 0,
		  .offset = offsetof(struct keel_stream_read, buf_gpa) },
	};
	long rc = keelctl_hypercall(c, nr, args, b, 2);

	if (rc != 0) {
		return rc;
	}
	if (r.len > cap || r.next_pos < r.len) {
		return -KEEL_EINVAL;	/* not what the ABI promises */
	}
	if (lost) {
		*lost = r.oldest_pos > *pos ? r.oldest_pos - *pos : 0;
	}
	/* With nothing new, next_pos may still move past a gap. */
	*pos = r.len ? r.next_pos : (r.oldest_pos > *pos ? r.oldest_pos : *pos);
	return (long)r.len;
}

long keelctl_log_read(struct keelctl *c, uint64_t *pos, void *buf, uint32_t cap, uint64_t *lost)
{
	return stream_read(c, KEEL_HC_CTL_LOG_READ, 0, pos, buf, cap, lost);
}

long keelctl_console_read(struct keelctl *c, uint32_t domid, uint64_t *pos, void *buf,
			  uint32_t cap, uint64_t *lost)
{
	return stream_read(c, KEEL_HC_CONSOLE_READ_DOMAIN, domid, pos, buf, cap, lost);
}

long keelctl_console_write(struct keelctl *c, uint32_t domid, const void *buf, uint32_t len)
{
	uint64_t args[6] = { domid, 0, len, 0, 0, 0 };
	struct keel_privcmd_buf b = keelctl_buf_arg((void *)(uintptr_t)buf, len,
						    KEEL_PRIVCMD_BUF_IN, 1);

	if (len == 0) {
		return 0;	/* nothing to type; a buffer needs a byte */
	}
	return keelctl_hypercall(c, KEEL_HC_CONSOLE_WRITE_DOMAIN, args, &b, 1);
}
