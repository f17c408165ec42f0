/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/os.h - what the backends need that POSIX does not say: one
 * implementation per OS (os_linux.c), everything else is portable.
 */
#ifndef KEEL_BACKENDS_OS_H
#define KEEL_BACKENDS_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <keel_pv/net.h>

/*
 * Size and block sizes of the open disk image or block device @fd: 0, or
 * -1 with errno. Regular files: their size, 512-byte logical and 4 KiB
 * physical blocks.
 */
int kb_os_disk_geometry(int fd, uint64_t *bytes, uint32_t *logical, uint32_t *physical);

/*
 * A TAP interface named @name (made if missing), up, and added to bridge
 * @bridge unless it is empty; its descriptor (non-blocking), or -1 with
 * the reason in @why. *@csum says whether its frames carry checksum offload
 * both ways (kb_os_tap_read/_write then pass it in the metadata); without
 * it every frame read has complete checksums and every frame written must.
 */
int kb_os_tap_open(const char *name, const char *bridge, bool *csum, char *why,
		   unsigned int why_len);
/*
 * One frame from the TAP into @frame (at most @cap bytes) with its
 * offloads in @meta (KEEL_IO_NET_PF_CSUM_PARTIAL with csum_start/_offset,
 * or KEEL_IO_NET_PF_DATA_VALID): the frame's length, 0 for a frame to
 * drop (it was cut, or its offload metadata is one we never asked for),
 * or -1 with errno (EAGAIN: none waiting).
 */
ssize_t kb_os_tap_read(int fd, bool csum, uint8_t *frame, size_t cap, struct kpv_net_meta *meta);
/* Write one frame with @meta's checksum offload (CSUM_PARTIAL only with @csum): 0, or -1 with errno. */
int kb_os_tap_write(int fd, bool csum, const uint8_t *frame, size_t len,
		    const struct kpv_net_meta *meta);
/* Close it; the interface goes with it. */
void kb_os_tap_close(int fd, const char *name);

#endif /* KEEL_BACKENDS_OS_H */
