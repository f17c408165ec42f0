/* SPDX-License-Identifier: MIT */
/*
 * keel/decompress.h - one gzip, xz or zstd stream into a bounded heap buffer:
 * bootproto's decoder (bootproto/decompress.h, shared with keelctl) on
 * Keel's heap.
 *
 * Used for the vmlinux inside a Linux bzImage (docs/abi/boot.md, "PVH
 * entry"). The input is untrusted: sizes it claims are ignored, the output
 * never grows past the caller's bound, and every way a stream can be broken
 * (truncated, corrupt, oversized, trailing garbage) comes back as a reason.
 */
#ifndef KEEL_DECOMPRESS_H
#define KEEL_DECOMPRESS_H

#include <bootproto/decompress.h>
#include <keel/types.h>

/*
 * Decompress the single stream at @in (@in_size bytes, at most
 * DECOMPRESS_MAX_TRAILER bytes after it) into a new heap buffer of at most
 * @max_out bytes. On success returns NULL with *@out (free with heap_free)
 * and *@out_size set; otherwise a reason ("xz: truncated") and nothing
 * allocated. Long work is done in slices with interrupts enabled between.
 */
const char *decompress(const void *in, size_t in_size, size_t max_out, void **out,
		       size_t *out_size);

#endif
