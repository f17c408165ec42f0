/* SPDX-License-Identifier: MIT */
/*
 * bench_block_protocol.h - what both sides of the PV block benchmark agree
 * on (tests/bench/README.md): the RAM disk's layout, its in-band control
 * area, the patterns and their request order. The reference port's roles
 * (role_bench_block.c) and the Linux guest's tool (tests/bench/
 * linux-blkbench.c) both include it, so the backend measures directly
 * exactly what either frontend measures through PV. Plain C, no OS.
 */
#ifndef KEEL_REF_BENCH_BLOCK_PROTOCOL_H
#define KEEL_REF_BENCH_BLOCK_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_BLOCK_PAGE	4096u
#define DATA_PAGES	4096u			/* a 16 MiB RAM disk ... */
#define CTRL_PAGES	16u			/* ... and the control area after it */
#define DISK_PAGES	(DATA_PAGES + CTRL_PAGES)
#define DATA_SECTORS	(DATA_PAGES * 8ull)
#define ROUNDS		9u			/* odd: a median is one pair's ratio */
#define ROUNDS_MAX	16u
/*
 * What is measured. Sequential requests of 128 KiB with 16 in flight are
 * copy-bound; random 4 KiB ones are bound by round trips: at depth 1 each
 * costs a notification and a wake-up each way, at 32 or 64 (a whole ring)
 * they share them.
 */
struct pattern {
	const char *name;
	uint32_t bytes;		/* per request */
	uint32_t depth;		/* in flight through PV (directly: one at a time) */
	uint32_t requests;	/* per measurement */
	bool random, write;
};

static const struct pattern patterns[] = {
	{ "seq-read-128k-qd16", 128 * 1024, 16, 1024, false, false },
	{ "seq-write-128k-qd16", 128 * 1024, 16, 1024, false, true },
	{ "rand-read-4k-qd32", 4096, 32, 4096, true, false },
	{ "rand-write-4k-qd32", 4096, 32, 4096, true, true },
	{ "rand-read-4k-qd64", 4096, 64, 4096, true, false },
	{ "rand-read-4k-qd1", 4096, 1, 256, true, false },
};

#define PATTERNS	(sizeof(patterns) / sizeof(patterns[0]))

_Static_assert(ROUNDS <= ROUNDS_MAX && PATTERNS * ROUNDS_MAX <= CTRL_PAGES * 8,
	       "a control sector for each round of each pattern");

/* The first sector of request @n of @p: in order, or anywhere 4 KiB-aligned. */
static inline uint64_t request_sector(const struct pattern *p, uint64_t n)
{
	uint64_t per = p->bytes / BENCH_BLOCK_PAGE;

	if (!p->random) {
		return (n * per % DATA_PAGES) * 8;
	}
	/* A fixed multiplicative hash of n: the same "random" sequence on both sides. */
	return ((n * 2654435761u) >> 7) % DATA_PAGES * 8;
}

#endif /* KEEL_REF_BENCH_BLOCK_PROTOCOL_H */
