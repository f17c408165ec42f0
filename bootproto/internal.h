/* SPDX-License-Identifier: MIT */
/*
 * bootproto/internal.h - what bootproto's sources share: the few C library
 * functions they use, as compiler builtins (the hypervisor has no C library
 * headers of its own and the tools have glibc's: builtins suit both), and
 * little-endian field access, so no layout depends on the compiler's
 * struct rules or the host's byte order.
 */
#ifndef BOOTPROTO_INTERNAL_H
#define BOOTPROTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define bp_memcpy	__builtin_memcpy
#define bp_memset	__builtin_memset
#define bp_memcmp	__builtin_memcmp
#define bp_strlen	__builtin_strlen
#define bp_strncmp	__builtin_strncmp

#define BP_PAGE_SIZE	4096ull
#define BP_PAGE_MASK	(~(BP_PAGE_SIZE - 1))
#define BP_MIB(x)	((uint64_t)(x) << 20)
#define BP_GIB(x)	((uint64_t)(x) << 30)
#define BP_MIN(a, b)	((a) < (b) ? (a) : (b))
#define BP_MAX(a, b)	((a) > (b) ? (a) : (b))

static inline uint64_t bp_rd(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i > 0; i--) {
		v = (v << 8) | p[i - 1];
	}
	return v;
}

static inline void bp_wr(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

#endif
