/* SPDX-License-Identifier: MIT */
/* tools/build/image.c - reading a kernel or initrd file whole, with a size bound. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build.h"

int image_read(const char *path, struct image *img, char *err)
{
	FILE *f = fopen(path, "rb");
	long size;

	memset(img, 0, sizeof(*img));
	img->path = path;
	if (!f) {
		snprintf(err, BUILD_ERR_MAX, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, BUILD_ERR_MAX, "%s: not a regular file", path);
		fclose(f);
		return -1;
	}
	if (size == 0 || (unsigned long)size > IMAGE_MAX_BYTES) {
		snprintf(err, BUILD_ERR_MAX, "%s: %s", path, size ? "larger than 512 MiB" : "empty");
		fclose(f);
		return -1;
	}
	img->data = malloc((size_t)size);
	if (!img->data || fread(img->data, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, BUILD_ERR_MAX, "%s: %s", path, img->data ? "read error" : "out of memory");
		fclose(f);
		image_free(img);
		return -1;
	}
	fclose(f);
	img->size = (size_t)size;
	return 0;
}

void image_free(struct image *img)
{
	free(img->data);
	img->data = NULL;
	img->size = 0;
}
