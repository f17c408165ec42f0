/* SPDX-License-Identifier: MIT */
/*
 * bootproto/decompress.h - one gzip, xz or zstd stream into a bounded buffer.
 *
 * Used for the vmlinux inside a Linux bzImage (docs/abi/boot.md, "PVH
 * entry"), by the hypervisor's builder and keelctl's. The input is
 * untrusted: sizes it claims are ignored, the output never grows past the
 * caller's bound, and every way a stream can be broken (truncated, corrupt,
 * oversized, trailing garbage) comes back as a reason.
 */
#ifndef BOOTPROTO_DECOMPRESS_H
#define BOOTPROTO_DECOMPRESS_H

#include <stddef.h>
#include <bootproto/env.h>

enum decompress_format {
	DECOMPRESS_UNKNOWN = 0,
	DECOMPRESS_GZIP,
	DECOMPRESS_XZ,
	DECOMPRESS_ZSTD,
};

/*
 * Bytes a stream may be followed by: Linux's build appends the 4-byte
 * uncompressed size to xz and zstd payloads (scripts/Makefile.lib).
 */
#define DECOMPRESS_MAX_TRAILER	4

/* The most memory a decoder's own state may take (xz: the 32 MiB dictionary). */
#define DECOMPRESS_MEMLIMIT	((size_t)96 << 20)

/* The format of @data by its magic bytes. */
enum decompress_format decompress_detect(const void *data, size_t size);

/* "gzip", "xz", "zstd" or "unknown". */
const char *decompress_name(enum decompress_format fmt);

/*
 * Decompress the single stream at @in (@in_size bytes, at most
 * DECOMPRESS_MAX_TRAILER bytes after it) into a new buffer from @env of at
 * most @max_out bytes. On success returns NULL with *@out (free with
 * @env->free) and *@out_size set; otherwise a reason ("xz: truncated") and
 * nothing allocated. The work is cut into slices, each call into a library
 * bracketed by @env's fpu_begin/fpu_end, so a hypervisor can take
 * interrupts between slices.
 */
const char *decompress_stream(const struct bootproto_env *env, const void *in, size_t in_size,
			      size_t max_out, void **out, size_t *out_size);

#endif
