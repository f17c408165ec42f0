/* SPDX-License-Identifier: MIT */
/*
 * core/image.c - opens kernel images, inflating gzip ones with zlib.
 *
 * The output buffer is sized from the gzip trailer (ISIZE) but never
 * trusted: inflating must end exactly at the end of the stream, produce
 * exactly ISIZE bytes and consume the whole module (no trailing garbage).
 * zlib's inflate is prebuilt and uses SSE, so it runs between
 * arch_fpu_begin() and arch_fpu_end().
 */
#include <zlib.h>
#include <arch/arch.h>
#include <keel/heap.h>
#include <keel/image.h>
#include <keel/string.h>

#define GZIP_MIN_SIZE	18	/* 10-byte header, empty deflate, 8-byte trailer */
#define GZIP_WINDOW	(15 + 16)	/* 32 KiB window, expect a gzip wrapper */

static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size)
{
	if (size && items > SIZE_MAX / size) {
		return Z_NULL;
	}
	return heap_alloc((size_t)items * size);
}

static void zlib_free(voidpf opaque, voidpf ptr)
{
	heap_free(ptr);
}

static bool is_gzip(const uint8_t *p, size_t size)
{
	return size >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static const char *inflate_all(const void *in, size_t in_len, void *out, size_t out_len)
{
	z_stream zs = { 0 };
	unsigned long fpu;
	const char *why = NULL;
	int ret;

	if (in_len > UINT32_MAX || out_len > UINT32_MAX) {
		return "gzip: too large";
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = out;
	zs.avail_out = (uInt)out_len;
	zs.zalloc = zlib_alloc;
	zs.zfree = zlib_free;

	fpu = arch_fpu_begin();
	ret = inflateInit2(&zs, GZIP_WINDOW);
	if (ret == Z_OK) {
		ret = inflate(&zs, Z_FINISH);
		inflateEnd(&zs);
	}
	arch_fpu_end(fpu);

	if (ret == Z_MEM_ERROR) {
		why = "gzip: out of memory";
	} else if (ret == Z_DATA_ERROR) {
		why = "gzip: corrupt data (bad header, block or checksum)";
	} else if (ret == Z_BUF_ERROR && zs.avail_in == 0) {
		why = "gzip: truncated";
	} else if (ret == Z_BUF_ERROR) {
		why = "gzip: truncated or corrupt (inflates to more than its trailer says)";
	} else if (ret != Z_STREAM_END) {
		why = "gzip: cannot inflate";
	} else if (zs.avail_out != 0) {
		why = "gzip: truncated or corrupt (inflates to less than its trailer says)";
	} else if (zs.avail_in != 0) {
		why = "gzip: trailing data after the compressed stream";
	}
	return why;
}

bool image_open(const void *data, size_t size, struct image *img, const char **why)
{
	const uint8_t *p = data;
	size_t out_len;

	memset(img, 0, sizeof(*img));
	if (!is_gzip(p, size)) {
		img->data = data;
		img->size = size;
		return true;
	}
	img->was_gzip = true;
	if (size < GZIP_MIN_SIZE) {
		*why = "gzip: truncated";
		return false;
	}
	/* ISIZE: the last four bytes, little-endian. */
	out_len = (size_t)p[size - 4] | (size_t)p[size - 3] << 8 |
		  (size_t)p[size - 2] << 16 | (size_t)p[size - 1] << 24;
	if (out_len == 0 || out_len > IMAGE_MAX_SIZE) {
		*why = "gzip: truncated or corrupt (the size in its trailer is 0 or over 256 MiB)";
		return false;
	}
	img->owned = heap_alloc(out_len);
	if (!img->owned) {
		*why = "gzip: no memory for the inflated image";
		return false;
	}
	*why = inflate_all(data, size, img->owned, out_len);
	if (*why) {
		image_close(img);
		return false;
	}
	img->data = img->owned;
	img->size = out_len;
	return true;
}

void image_close(struct image *img)
{
	heap_free(img->owned);
	img->owned = NULL;
	img->data = NULL;
	img->size = 0;
}
