/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blk_common.h - the rules of docs/abi/devices/block.md
 * that both sides check the same way: block sizes, ranges, which ops
 * modify the medium.
 */
#ifndef KPV_BLOCK_BLK_COMMON_H
#define KPV_BLOCK_BLK_COMMON_H

#include <keel_pv/block.h>

#define BLK_SECTOR		KEEL_IO_BLOCK_SECTOR_SIZE
#define BLK_PER_PAGE		KEEL_IO_BLOCK_SEGMENTS_PER_PAGE

#define BLK_FEATURES	(KEEL_IO_BLOCK_F_FLUSH | KEEL_IO_BLOCK_F_FUA | KEEL_IO_BLOCK_F_DISCARD | \
			 KEEL_IO_BLOCK_F_WRITE_ZEROES | KEEL_IO_BLOCK_F_INDIRECT |             \
			 KEEL_IO_BLOCK_F_MULTI_QUEUE | KEEL_IO_BLOCK_F_PERSISTENT)

/*
 * A poll (opts.poll_ns) also ends after this many looks in a row found
 * nothing: a clock that does not move (a test harness) or a fast CPU
 * cannot keep it spinning.
 */
#define BLK_POLL_LOOKS		4096u

/* memcpy, memset, memcmp through the builtins, as the core does: no C library header. */
#define blk_memcpy		__builtin_memcpy
#define blk_memset		__builtin_memset
#define blk_memcmp		__builtin_memcmp

static inline uint32_t blk_min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint64_t blk_min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline bool blk_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* logical 512 .. 4096 and physical >= logical, both powers of two. */
static inline bool blk_sizes_ok(uint32_t lbs, uint32_t pbs)
{
	return blk_pow2(lbs) && lbs >= BLK_SECTOR && lbs <= 4096 && blk_pow2(pbs) && pbs >= lbs;
}

/* Sectors [@sector, @sector + @n) do not all lie below @capacity (no overflow). */
static inline bool blk_beyond(uint64_t sector, uint64_t n, uint64_t capacity)
{
	return sector > capacity || n > capacity - sector;
}

/* @sector and @bytes are not multiples of the logical block size @lbs (a power of two). */
static inline bool blk_misaligned(uint64_t sector, uint64_t bytes, uint32_t lbs)
{
	return (sector & (lbs / BLK_SECTOR - 1)) || (bytes & (lbs - 1));
}

static inline bool blk_modifies(uint8_t op)
{
	return op == KEEL_IO_BLOCK_OP_WRITE || op == KEEL_IO_BLOCK_OP_DISCARD ||
	       op == KEEL_IO_BLOCK_OP_WRITE_ZEROES;
}

/* A segment as block.md allows it: 512-byte units inside one page. */
static inline bool blk_seg_ok(uint32_t offset, uint32_t length)
{
	return !(offset % BLK_SECTOR) && !(length % BLK_SECTOR) && length &&
	       offset + length <= 4096;
}

#endif
