/* SPDX-License-Identifier: MIT */
/*
 * keel/image.h - kernel images as loaded: plain, or gzip-compressed.
 *
 * Boot modules may be gzip files (kernel.gz); they are inflated with zlib
 * into a buffer from the heap before they are parsed. The size a gzip
 * trailer claims is not trusted: output is bounded and checked.
 */
#ifndef KEEL_IMAGE_H
#define KEEL_IMAGE_H

#include <keel/types.h>

#define IMAGE_MAX_SIZE		MiB(256)	/* largest image after inflating */

struct image {
	const void *data;
	size_t size;
	void *owned;		/* heap buffer to free, when inflated */
	bool was_gzip;
};

/*
 * Make @img the usable bytes of the module at @data/@size: the module
 * itself, or its inflated contents if it is gzip. Returns false with *why
 * set for a corrupt, truncated or oversized gzip file, or no memory.
 */
bool image_open(const void *data, size_t size, struct image *img, const char **why);
void image_close(struct image *img);

#endif
