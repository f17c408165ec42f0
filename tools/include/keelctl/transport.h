/* SPDX-License-Identifier: MIT */
/*
 * keelctl/transport.h - how libkeelctl reaches Keel: one function that makes
 * a hypercall with bounce buffers, described exactly as the privileged
 * driver's API describes them (keel_privcmd.h), so that a transport is a
 * pass-through on any OS. Transports: keelctl_transport_open_linux()
 * (/dev/keel/privcmd) and, in the tests, the real core in-process.
 */
#ifndef KEELCTL_TRANSPORT_H
#define KEELCTL_TRANSPORT_H

#include <stdint.h>
#include <keelctl/keel_privcmd.h>

/*
 * Errors a transport returns besides Keel's own (-KEEL_E*, 1 .. 4095):
 * they are above KEEL_ERRNO_MAX so the two never meet.
 */
#define KEELCTL_ETRANSPORT	0x10000	/* the driver refused or failed; see error[] */
#define KEELCTL_ENODRIVER	0x10001	/* no driver (device node missing) */
#define KEELCTL_EDRIVERVER	0x10002	/* the driver speaks another API major */
#define KEELCTL_EACCESS		0x10003	/* the driver let us not in (not root) */

struct keelctl_transport {
	const char *name;
	/*
	 * Make hypercall @nr with @args, the buffers placed as @bufs say. On
	 * success returns 0 with Keel's return value in *@result; otherwise a
	 * negative -KEELCTL_E* with a message in error[].
	 */
	int (*hypercall)(struct keelctl_transport *t, uint32_t nr, const uint64_t args[6],
			 const struct keel_privcmd_buf *bufs, unsigned int nr_bufs,
			 int64_t *result);
	void (*close)(struct keelctl_transport *t);
	char error[160];
};

/*
 * The Linux transport, on @path (NULL: /dev/keel/privcmd). NULL on failure
 * with the reason in @why (at least 160 bytes) and -KEELCTL_E* in *@err.
 */
struct keelctl_transport *keelctl_transport_open_linux(const char *path, char *why, int *err);

#endif /* KEELCTL_TRANSPORT_H */
