/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/block.c - the block class: pvdrivers' blkback per device
 * over a raw image file or block device named in the state directory
 * (block-<index>: target=, access=). Durability is honest: FLUSH is
 * fdatasync() of the image, a FUA write goes through a second descriptor
 * opened O_DSYNC, so neither is answered before the data is on stable
 * storage as far as the control domain's OS can tell.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <keel_pv/block.h>
#include "backends.h"
#include "loop.h"
#include "os.h"
#include "statedir.h"

struct disk {
	struct kb_dev *dev;
	struct kpv_blkback *be;
	int fd;				/* reads, writes, fdatasync */
	int fd_sync;			/* O_DSYNC: FUA writes; -1 if read-only */
	uint64_t bytes;
	uint32_t logical, physical;
	bool read_only;
	char target[1024];
};

static void geometry(void *ctx, struct kpv_blk_geometry *g)
{
	struct disk *d = ctx;

	*g = (struct kpv_blk_geometry){
		.capacity = d->bytes / 512, .logical_block_size = d->logical,
		.physical_block_size = d->physical, .read_only = d->read_only,
	};
}

/* Whole transfers: pread/pwrite may do less than asked. */
static int transfer(int fd, uint64_t at, const struct kpv_blk_iov *iov, unsigned int n, bool write)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = iov[i].base;

		for (uint32_t done = 0; done < iov[i].len;) {
			ssize_t r = write ? pwrite(fd, p + done, iov[i].len - done, (off_t)at)
					  : pread(fd, p + done, iov[i].len - done, (off_t)at);

			if (r < 0 && errno == EINTR) {
				continue;
			}
			if (r < 0 || (r == 0 && write)) {
				return -1;
			}
			if (r == 0) {
				/* A file shrunk under us: what is gone reads as zeroes. */
				memset(p + done, 0, iov[i].len - done);
				r = (ssize_t)(iov[i].len - done);
			}
			done += (uint32_t)r;
			at += (uint64_t)r;
		}
	}
	return 0;
}

static int disk_read(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n)
{
	struct disk *d = ctx;

	return transfer(d->fd, sector * 512, iov, n, false) == 0 ? 0 : -EIO;
}

static int disk_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		      bool fua)
{
	struct disk *d = ctx;

	if (d->read_only) {
		return -EIO;
	}
	return transfer(fua ? d->fd_sync : d->fd, sector * 512, iov, n, true) == 0 ? 0 : -EIO;
}

static int disk_flush(void *ctx)
{
	struct disk *d = ctx;

	return fdatasync(d->fd) == 0 ? 0 : -EIO;
}

static const struct kpv_blk_store store = {
	.geometry = geometry,
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
};

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
	if (!d->read_only) {
		fdatasync(d->fd);
		close(d->fd_sync);
	}
	close(d->fd);
	free(d);
	kb_dev_released(dev);
}

static const struct kpv_blkback_ops ops = {
	.connection = connection,
	.released = released,
};

/* The disk's configuration, written by keelctl for this very domain. */
static int configure(struct disk *d)
{
	char file[32], access[8] = "rw", domid[16];

	snprintf(file, sizeof(file), "block-%u", d->dev->info.index);
	if (kb_state_get(d->dev->domain, file, "domid", domid, sizeof(domid)) != 0 ||
	    strtoul(domid, NULL, 10) != d->dev->info.peer_domid ||
	    kb_state_get(d->dev->domain, file, "target", d->target, sizeof(d->target)) != 0) {
		return -KEEL_ENOENT;
	}
	kb_state_get(d->dev->domain, file, "access", access, sizeof(access));
	d->read_only = strcmp(access, "ro") == 0;
	return 0;
}

int kb_block_open(struct kpv *k, struct kb_dev *dev)
{
	const struct kpv_blkback_opts opts = {
		.features = ~0ull, .max_rings = 1, .max_ring_order = 2, .max_segments = 256,
	};
	struct disk *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		return -KEEL_ENOMEM;
	}
	d->dev = dev;
	d->fd = d->fd_sync = -1;
	rc = configure(d);
	if (rc == 0) {
		d->fd = open(d->target, (d->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		d->fd_sync = d->read_only || d->fd < 0 ? -1 :
			     open(d->target, O_RDWR | O_DSYNC | O_CLOEXEC);
		if (d->fd < 0 || (!d->read_only && d->fd_sync < 0) ||
		    kb_os_disk_geometry(d->fd, &d->bytes, &d->logical, &d->physical) != 0) {
			kb_err("disk %s of %s: %s: %s", dev->info.label, dev->domain, d->target,
			       strerror(errno));
			rc = -KEEL_EINVAL;
		}
	}
	if (rc == 0) {
		rc = kpv_blkback_open(k, &dev->info, &store, d, &opts, &ops, &d->be);
	}
	if (rc != 0) {
		if (d->fd >= 0) {
			close(d->fd);
		}
		if (d->fd_sync >= 0) {
			close(d->fd_sync);
		}
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
