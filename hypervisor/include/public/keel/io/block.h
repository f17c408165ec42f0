/* SPDX-License-Identifier: MIT */
/* keel/io/block.h: the PV block device protocol (class KEEL_IO_CLASS_BLOCK). */
#ifndef KEEL_PUBLIC_IO_BLOCK_H
#define KEEL_PUBLIC_IO_BLOCK_H

#include "../abi.h"

/*
 * One ring per queue (fe_nr_rings = queues, 1 .. be_max_rings), slots of
 * KEEL_IO_BLOCK_SLOT_SIZE bytes holding a struct keel_io_block_request, later
 * overwritten by a struct keel_io_block_response. A "sector" is always 512
 * bytes, whatever logical_block_size is. docs/abi/devices/block.md is the
 * protocol.
 */
#define KEEL_IO_BLOCK_SLOT_SIZE		128
#define KEEL_IO_BLOCK_SECTOR_SIZE	512
#define KEEL_IO_BLOCK_DIRECT_SEGMENTS	13	/* seg[] entries in a request */
#define KEEL_IO_BLOCK_SEGMENTS_PER_PAGE	512	/* segments in one indirect page */
#define KEEL_IO_BLOCK_MAX_SEGMENTS	4096	/* upper bound for be max_segments */
#define KEEL_IO_BLOCK_PERSISTENT_MAX	1024	/* F_PERSISTENT: distinct data grants per ring */

/* Features. */
#define KEEL_IO_BLOCK_F_FLUSH		0x00000001u	/* KEEL_IO_BLOCK_OP_FLUSH */
#define KEEL_IO_BLOCK_F_FUA		0x00000002u	/* KEEL_IO_BLOCK_RQ_FUA on writes */
#define KEEL_IO_BLOCK_F_DISCARD		0x00000004u	/* KEEL_IO_BLOCK_OP_DISCARD */
#define KEEL_IO_BLOCK_F_WRITE_ZEROES	0x00000008u	/* KEEL_IO_BLOCK_OP_WRITE_ZEROES */
#define KEEL_IO_BLOCK_F_INDIRECT	0x00000010u	/* KEEL_IO_BLOCK_RQ_INDIRECT */
#define KEEL_IO_BLOCK_F_MULTI_QUEUE	0x00000020u	/* more than one ring */
#define KEEL_IO_BLOCK_F_PERSISTENT	0x00000040u	/* data grants kept for the connection */

/* keel_io_block_request.op */
#define KEEL_IO_BLOCK_OP_READ		0
#define KEEL_IO_BLOCK_OP_WRITE		1
#define KEEL_IO_BLOCK_OP_FLUSH		2
#define KEEL_IO_BLOCK_OP_DISCARD	3
#define KEEL_IO_BLOCK_OP_WRITE_ZEROES	4

/* keel_io_block_request.flags */
#define KEEL_IO_BLOCK_RQ_FUA		0x01	/* write: durable before the response */
#define KEEL_IO_BLOCK_RQ_INDIRECT	0x02	/* seg[] points at indirect pages */

/* keel_io_block_response.status */
#define KEEL_IO_BLOCK_S_OK		0
#define KEEL_IO_BLOCK_S_IOERR		1	/* the medium failed */
#define KEEL_IO_BLOCK_S_NOTSUPP		2	/* op or flag not negotiated / not possible */
#define KEEL_IO_BLOCK_S_RANGE		3	/* sectors beyond the capacity */
#define KEEL_IO_BLOCK_S_READONLY	4	/* write to a read-only device */

/* keel_io_block_config.flags */
#define KEEL_IO_BLOCK_CFG_READ_ONLY	0x00000001u

/* A data buffer: bytes [offset, offset + length) of a granted page. */
struct keel_io_block_segment {
	uint32_t gref;			/* fe: grant, writable for READ */
	uint16_t offset;		/* fe: multiple of 512 */
	uint16_t length;		/* fe: multiple of 512, >= 512, offset + length <= 4096 */
};

struct keel_io_block_request {
	uint64_t id;			/* fe: opaque, echoed in the response */
	uint64_t sector;		/* fe: first 512-byte sector */
	uint8_t op;			/* fe: KEEL_IO_BLOCK_OP_* */
	uint8_t flags;			/* fe: KEEL_IO_BLOCK_RQ_* */
	uint16_t nr_segments;		/* fe: data segments (direct: <= 13; indirect: <= max_segments) */
	uint32_t nr_sectors;		/* fe: DISCARD / WRITE_ZEROES length; MBZ otherwise */
	struct keel_io_block_segment seg[13];	/* fe: data segments, or indirect pages */
};

struct keel_io_block_response {
	uint64_t id;			/* be: the request's id */
	uint8_t op;			/* be: the request's op */
	uint8_t pad0;			/* MBZ */
	uint16_t status;		/* be: KEEL_IO_BLOCK_S_* */
	uint32_t pad1;			/* MBZ */
};

/* be_config for the block class. */
struct keel_io_block_config {
	uint64_t capacity_sectors;	/* be: size in 512-byte sectors */
	uint32_t logical_block_size;	/* be: 512 .. 4096, power of two; I/O alignment */
	uint32_t physical_block_size;	/* be: >= logical, power of two; a hint */
	uint32_t max_segments;		/* be: data segments per request, 13 .. 4096 */
	uint32_t flags;			/* be: KEEL_IO_BLOCK_CFG_* */
	uint32_t discard_granularity;	/* be: bytes, multiple of logical; 0 without DISCARD */
	uint32_t discard_alignment;	/* be: bytes */
	uint32_t max_discard_sectors;	/* be: per request */
	uint32_t max_write_zeroes_sectors;	/* be: per request */
};

#endif /* KEEL_PUBLIC_IO_BLOCK_H */
