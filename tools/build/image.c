/* SPDX-License-Identifier: MIT */
/* tools/build/image.c - reading a kernel or initrd file whole, with a size bound. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "build.h"

/*
 * Opened without blocking and checked to be a regular file before anything
 * is read: a FIFO or a terminal named as the kernel would otherwise hang
 * keelctl, and a directory or device has no size to bound.
 */
static FILE *open_regular(const char *path, char *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		snprintf(err, BUILD_ERR_MAX, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, BUILD_ERR_MAX, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		snprintf(err, BUILD_ERR_MAX, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int image_read(const char *path, struct image *img, char *err)
{
	FILE *f;
	long size;

	memset(img, 0, sizeof(*img));
	img->path = path;
	f = open_regular(path, err);
	if (!f) {
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
