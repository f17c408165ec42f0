/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/block.c - the block class: pvdrivers' blkback per device
 * over a raw image file or block device named in the state directory
 * (block-<index>: target=, access=), served by the disk store of
 * block_store.h (where FLUSH and FUA are made durable).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel_pv/block.h>
#include "backends.h"
#include "block_store.h"
#include "loop.h"
#include "statedir.h"

struct disk {
	struct kb_disk store;		/* first: blkback's ctx is both the store's and ours */
	struct kb_dev *dev;
	struct kpv_blkback *be;
	char target[1024];
};

_Static_assert(offsetof(struct disk, store) == 0, "the store's ctx is the disk's");

static void connection(void *ctx, bool up)
{
	struct disk *d = ctx;

	kb_info("disk %s of d%u (%s): frontend %s", d->dev->info.label, d->dev->info.peer_domid,
		d->target, up ? "connected" : "gone");
}

static void released(void *ctx)
{
	struct disk *d = ctx;
	struct kb_dev *dev = d->dev;

	/* What the guest wrote reaches the disk even if it never flushed. */
	kb_disk_close(&d->store);
	free(d);
	kb_dev_released(dev);
}

static const struct kpv_blkback_ops ops = {
	.connection = connection,
	.released = released,
};

/* The disk's configuration, written by keelctl for this very domain. */
static int configure(struct disk *d, bool *read_only)
{
	char file[32], access[8] = "rw", domid[16];

	snprintf(file, sizeof(file), "block-%u", d->dev->info.index);
	if (kb_state_get(d->dev->domain, file, "domid", domid, sizeof(domid)) != 0 ||
	    strtoul(domid, NULL, 10) != d->dev->info.peer_domid ||
	    kb_state_get(d->dev->domain, file, "target", d->target, sizeof(d->target)) != 0) {
		return -KEEL_ENOENT;
	}
	kb_state_get(d->dev->domain, file, "access", access, sizeof(access));
	*read_only = strcmp(access, "ro") == 0;
	return 0;
}

int kb_block_open(struct kpv *k, struct kb_dev *dev)
{
	const struct kpv_blkback_opts opts = {
		.features = ~0ull, .max_rings = 1, .max_ring_order = 2, .max_segments = 256,
	};
	struct disk *d = calloc(1, sizeof(*d));
	bool read_only = false;
	int rc;

	if (!d) {
		return -KEEL_ENOMEM;
	}
	d->dev = dev;
	rc = configure(d, &read_only);
	if (rc == 0 && kb_disk_open(&d->store, d->target, read_only) != 0) {
		kb_err("disk %s of %s: %s: %s", dev->info.label, dev->domain, d->target,
		       strerror(errno));
		rc = -KEEL_EINVAL;
	} else if (rc == 0) {
		rc = kpv_blkback_open(k, &dev->info, &kb_disk_store, d, &opts, &ops, &d->be);
		if (rc != 0) {
			kb_disk_close(&d->store);
		}
	}
	if (rc != 0) {
		free(d);
		return rc;
	}
	dev->impl = d;
	return 0;
}

void kb_block_close(struct kb_dev *dev, bool removed)
{
	struct disk *d = dev->impl;

	kpv_blkback_close(d->be, removed);
}
