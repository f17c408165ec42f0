/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/block_store.c - an image file or block device as blkback's
 * store (block_store.h): whole pread/pwrite transfers, FUA through the
 * O_DSYNC descriptor, FLUSH as fdatasync().
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "block_store.h"
#include "os.h"

static void geometry(void *ctx, struct kpv_blk_geometry *g)
{
	struct kb_disk *d = ctx;

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
	struct kb_disk *d = ctx;

	return transfer(d->fd, sector * 512, iov, n, false) == 0 ? 0 : -EIO;
}

static int disk_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		      bool fua)
{
	struct kb_disk *d = ctx;

	if (d->read_only) {
		return -EIO;
	}
	return transfer(fua ? d->fd_sync : d->fd, sector * 512, iov, n, true) == 0 ? 0 : -EIO;
}

static int disk_flush(void *ctx)
{
	struct kb_disk *d = ctx;

	return fdatasync(d->fd) == 0 ? 0 : -EIO;
}

const struct kpv_blk_store kb_disk_store = {
	.geometry = geometry,
	.read = disk_read,
	.write = disk_write,
	.flush = disk_flush,
};

int kb_disk_open(struct kb_disk *d, const char *target, bool read_only)
{
	int e;

	*d = (struct kb_disk){ .fd = -1, .fd_sync = -1, .read_only = read_only };
	d->fd = open(target, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	d->fd_sync = read_only || d->fd < 0 ? -1 : open(target, O_RDWR | O_DSYNC | O_CLOEXEC);
	if (d->fd >= 0 && (read_only || d->fd_sync >= 0) &&
	    kb_os_disk_geometry(d->fd, &d->bytes, &d->logical, &d->physical) == 0) {
		return 0;
	}
	/* The caller reports why: the failed call's errno survives the closes. */
	e = errno;
	if (d->fd >= 0) {
		close(d->fd);
	}
	if (d->fd_sync >= 0) {
		close(d->fd_sync);
	}
	d->fd = d->fd_sync = -1;
	errno = e;
	return -1;
}

void kb_disk_close(struct kb_disk *d)
{
	if (!d->read_only) {
		fdatasync(d->fd);
		close(d->fd_sync);
	}
	close(d->fd);
	d->fd = d->fd_sync = -1;
}
