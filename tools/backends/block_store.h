/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/block_store.h - a raw image file or block device as
 * pvdrivers' block store (struct kpv_blk_store). Durability is honest:
 * FLUSH is fdatasync() of the image, a FUA write goes through a second
 * descriptor opened O_DSYNC, so neither is answered before the data is on
 * stable storage as far as the control domain's OS can tell.
 */
#ifndef KEEL_BACKENDS_BLOCK_STORE_H
#define KEEL_BACKENDS_BLOCK_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <keel_pv/block.h>

struct kb_disk {
	int fd;				/* reads, writes, fdatasync */
	int fd_sync;			/* O_DSYNC: FUA writes; -1 if read-only */
	uint64_t bytes;
	uint32_t logical, physical;
	bool read_only;
};

/* The store's operations; their ctx points to a struct kb_disk kb_disk_open() opened. */
extern const struct kpv_blk_store kb_disk_store;

/* Open @target for the store: 0, or -1 with errno and nothing left open. */
int kb_disk_open(struct kb_disk *d, const char *target, bool read_only);

/* What was written reaches the disk even if it was never flushed; then both descriptors close. */
void kb_disk_close(struct kb_disk *d);

#endif /* KEEL_BACKENDS_BLOCK_STORE_H */
