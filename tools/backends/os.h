/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/os.h - what the backends need that POSIX does not say: one
 * implementation per OS (os_linux.c), everything else is portable.
 */
#ifndef KEEL_BACKENDS_OS_H
#define KEEL_BACKENDS_OS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Size and block sizes of the open disk image or block device @fd: 0, or
 * -1 with errno. Regular files: their size, 512-byte logical and 4 KiB
 * physical blocks.
 */
int kb_os_disk_geometry(int fd, uint64_t *bytes, uint32_t *logical, uint32_t *physical);

/*
 * A TAP interface named @name (made if missing), up, and added to bridge
 * @bridge unless it is empty; its descriptor (non-blocking, frames without
 * any header), or -1 with the reason in @why.
 */
int kb_os_tap_open(const char *name, const char *bridge, char *why, unsigned int why_len);
/* Close it; the interface goes with it. */
void kb_os_tap_close(int fd, const char *name);

#endif /* KEEL_BACKENDS_OS_H */
