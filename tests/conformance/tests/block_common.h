/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/block_common.h - what the block suites share: a
 * RAM store for blkback that records every call, an "OS" around blkfront
 * whose requests carry data made from their disk address, and a block
 * device between two domains (hostile ends come from peer.h).
 */
#ifndef KPV_TESTS_BLOCK_COMMON_H
#define KPV_TESTS_BLOCK_COMMON_H

#include <keel_pv/block.h>
#include "peer.h"

#define TB_SECTORS	8192u		/* the default disk: 4 MiB */
#define TB_PAGES	320u		/* the frontend's buffer pages */
#define TB_SEGS		1100u		/* segments one test request may have */
#define TB_MEM_PAGES	128u		/* a store that is memory: 512 KiB of the backend's RAM */

/* A RAM disk behind blkback, recording what it is asked. */
struct tb_store {
	uint8_t *data;			/* sectors * 512 bytes */
	uint64_t sectors;
	uint32_t lbs, pbs;
	bool ro;
	bool fail;			/* I/O calls fail (S_IOERR) */
	unsigned int reads, writes, fua_writes, flushes, discards, zeroes;
	uint64_t last_sector;		/* of the last call */
	uint64_t last_sectors;
	unsigned int writes_since_flush;
	uint64_t step, in_step, max_in_step;	/* calls within one harness step */
	void (*hook)(void *ctx);	/* called inside each read and write */
	void *hook_ctx;
	unsigned int connects, disconnects;	/* the backend's connection() */
	uint8_t *mem[TB_MEM_PAGES];	/* tb_store_memory_on(): the disk, instead of data */
	unsigned int memory_calls, memory_writes;	/* tb_store_memory() */
	uint64_t memory_limit;		/* tb_store_memory() has none from this sector on */
	unsigned int released;
};

extern const struct kpv_blk_store tb_store_ops;
/*
 * Make the disk TB_MEM_PAGES pages of the backend domain's RAM, served
 * through kpv_blk_store.memory (before the backend opens).
 */
struct tb_pair;
void tb_store_memory_on(struct tb_pair *b);

/* One request of the OS, with room for its segments. */
struct tb_io {
	struct kpv_blk_req req;
	struct kpv_blk_seg segs[TB_SEGS];
	unsigned int completions;
	uint16_t status;
};

/* The OS around blkfront. */
struct tb_os {
	struct kpv_blkfront *fe;	/* from open until released() */
	struct kpv_blk_info info;	/* the last changed() */
	unsigned int changes, completions, released;
};

/* A block device between two domains, a RAM store, the buffers, the drivers' options. */
struct tb_pair {
	struct t_pair t;
	struct tb_store store;
	struct kpv_blk_store ops;
	struct kpv_blkback_opts bopts;
	struct kpv_blkfront_opts fopts;
	struct kpv_blkback *be;		/* from open until released */
	struct tb_os os;
	uint8_t *buf[TB_PAGES];		/* pages of the frontend's RAM */
};

/* Domains, pvdrivers, the device, a disk of @sectors; defaults: every feature; nothing opened. */
void tb_init(struct tb_pair *b, uint64_t sectors);
int tb_fe_open(struct tb_pair *b);
int tb_be_open(struct tb_pair *b);
/* Both opened (options as set), run until the frontend told the OS it is connected. */
void tb_connect(struct tb_pair *b);
bool tb_fe_connected(void *pair);
/* Close what is open, run until released, free the buffers, stop pvdrivers, check clean. */
void tb_finish(struct tb_pair *b);
/*
 * The same, with the device removed (closed as such, no control port
 * left), the backend's domain destroyed (nothing to stop), or its driver
 * crashed earlier (what the old instance held stays: not checked).
 */
#define TB_REMOVED	0x1u
#define TB_BE_GONE	0x2u
#define TB_BE_CRASHED	0x4u
void tb_end(struct tb_pair *b, unsigned int how);
void tb_close_fe(struct tb_pair *b, bool removed);
void tb_close_be(struct tb_pair *b, bool removed);
bool tb_fe_released(void *pair);
bool tb_be_released(void *pair);

/*
 * @io as a READ or WRITE (@op, @flags) of @bytes at @sector, over the
 * buffer pages from @page at @offset, cut into segments of at most
 * @seglen bytes (and at page ends).
 */
void tb_rw(struct tb_pair *b, struct tb_io *io, uint8_t op, uint8_t flags, uint64_t sector,
	   uint32_t page, uint32_t offset, uint32_t bytes, uint32_t seglen);
/* @io as FLUSH, DISCARD or WRITE_ZEROES. */
void tb_cmd(struct tb_io *io, uint8_t op, uint64_t sector, uint32_t nr_sectors);
/* The frontend's counters now. */
struct kpv_blkfront_stats tb_fe_stats(const struct tb_pair *b);
/* kpv_blkfront_submit() as the frontend domain. */
int tb_submit(struct tb_pair *b, struct tb_io *io);
/* Submit, run until it completes (fails the test if not within 5 s); its status. */
uint16_t tb_do(struct tb_pair *b, struct tb_io *io);
bool tb_io_done(void *io);
/* Run until each of the @n requests from @io has completed; whether they did within @max_ns. */
bool tb_run_all(struct tb_io *io, uint32_t n, uint64_t max_ns);

/* The bytes @io's segments cover, from their disk address and @seed; checked likewise. */
void tb_fill(struct tb_io *io, uint32_t seed);
bool tb_check(const struct tb_io *io, uint32_t seed);
/* Sectors [@sector, + @n) of the store hold what tb_fill(@seed) wrote there. */
bool tb_disk_is(const struct tb_store *s, uint64_t sector, uint64_t n, uint32_t seed);
/*
 * @n writes of @bytes each (a multiple of 4096), submitted at once: write i
 * covers sectors from i * @bytes / 512, on buffer pages from i * @bytes /
 * 4096 in 4096-byte segments, holds tb_fill(i) and goes to queue
 * i % @queues. Whether every submit was accepted.
 */
bool tb_submit_writes(struct tb_pair *b, struct tb_io *io, uint32_t n, uint32_t bytes,
		      uint16_t queues);
/* Those writes all completed once with S_OK within 10 s, and the store holds each. */
bool tb_writes_landed(struct tb_pair *b, struct tb_io *io, uint32_t n, uint32_t bytes);
/* Every byte of sectors [@sector, + @n) of the store is @v. */
bool tb_disk_all(const struct tb_store *s, uint64_t sector, uint64_t n, uint8_t v);
/* The pattern's byte at disk byte @addr. */
uint8_t tb_byte(uint64_t addr, uint32_t seed);

#endif
