/* SPDX-License-Identifier: MIT */
/*
 * bootproto/decompress.c - decodes one gzip (zlib), xz (liblzma) or zstd
 * (libzstd) stream into a bounded buffer, for the vmlinux inside a bzImage.
 *
 * In the hypervisor the three libraries are Debian's static builds, made for
 * Linux userspace: they may use SSE and the red zone, so every call into
 * them runs inside the environment's fpu_begin()/fpu_end() (there: interrupts
 * off, FPU saved). The work is cut into slices (a bounded amount of output
 * or input per call) so that a 60 MiB kernel never keeps interrupts off for
 * the whole decode. All memory, the libraries' own included, comes from the
 * environment's allocator.
 *
 * The output buffer is allocated at the caller's bound plus one byte: a
 * stream that fills that extra byte is larger than allowed. Nothing in the
 * stream (xz index, gzip ISIZE, zstd content size) is trusted for sizing.
 */
#include <zlib.h>
#include <lzma.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_d_stableOutBuffer */
#include <zstd.h>
#include <zstd_errors.h>
#include <bootproto/decompress.h>
#include "internal.h"

#define SLICE_OUT	((size_t)1 << 20)	/* gzip, xz: output per slice */
#define SLICE_IN	((size_t)256 << 10)	/* zstd: input per slice */

struct sink {
	const struct bootproto_env *env;
	uint8_t *buf;
	size_t room;		/* allocated: the caller's bound + 1 */
	size_t used;
};

enum decompress_format decompress_detect(const void *data, size_t size)
{
	static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
	static const uint8_t zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	const uint8_t *p = data;

	if (size >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		return DECOMPRESS_GZIP;
	}
	if (size >= sizeof(xz_magic) && bp_memcmp(p, xz_magic, sizeof(xz_magic)) == 0) {
		return DECOMPRESS_XZ;
	}
	if (size >= sizeof(zstd_magic) && bp_memcmp(p, zstd_magic, sizeof(zstd_magic)) == 0) {
		return DECOMPRESS_ZSTD;
	}
	return DECOMPRESS_UNKNOWN;
}

const char *decompress_name(enum decompress_format fmt)
{
	switch (fmt) {
	case DECOMPRESS_GZIP:
		return "gzip";
	case DECOMPRESS_XZ:
		return "xz";
	case DECOMPRESS_ZSTD:
		return "zstd";
	default:
		return "unknown";
	}
}

/*
 * Allocation hooks: every library allocates from the environment, bounded.
 * Their opaque pointer is the environment.
 */
static void *lib_alloc(const struct bootproto_env *env, size_t items, size_t size)
{
	if (size && items > SIZE_MAX / size) {
		return NULL;
	}
	if (items * size > DECOMPRESS_MEMLIMIT) {
		return NULL;
	}
	return env->alloc(items * size);
}

static void *zlib_alloc(void *opaque, uInt items, uInt size)
{
	return lib_alloc(opaque, items, size);
}

static void *xz_alloc(void *opaque, size_t items, size_t size)
{
	return lib_alloc(opaque, items, size);
}

static void *zstd_alloc(void *opaque, size_t size)
{
	return lib_alloc(opaque, 1, size);
}

static void lib_free(void *opaque, void *ptr)
{
	const struct bootproto_env *env = opaque;

	env->free(ptr);
}

static const char *check_trailer(size_t left)
{
	return left > DECOMPRESS_MAX_TRAILER ? "trailing data after the compressed stream" : NULL;
}

static const char *gunzip(const uint8_t *in, size_t in_size, struct sink *out)
{
	z_stream zs = { 0 };
	unsigned long fpu;
	int ret;

	if (in_size > UINT32_MAX) {
		return "gzip: stream too large";
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)in_size;
	zs.zalloc = zlib_alloc;
	zs.zfree = lib_free;
	zs.opaque = (void *)(uintptr_t)out->env;
	fpu = out->env->fpu_begin();
	ret = inflateInit2(&zs, 15 + 16);	/* 32 KiB window, gzip wrapper only */
	out->env->fpu_end(fpu);
	if (ret != Z_OK) {
		return "gzip: out of memory";
	}
	do {
		size_t slice = BP_MIN(SLICE_OUT, out->room - out->used);

		zs.next_out = out->buf + out->used;
		zs.avail_out = (uInt)slice;
		fpu = out->env->fpu_begin();
		ret = inflate(&zs, Z_NO_FLUSH);
		out->env->fpu_end(fpu);
		out->used += slice - zs.avail_out;
	} while (ret == Z_OK && out->used < out->room);
	fpu = out->env->fpu_begin();
	inflateEnd(&zs);
	out->env->fpu_end(fpu);

	if (ret == Z_STREAM_END) {
		return out->used == out->room ? "gzip: decompresses to more than allowed"
					      : check_trailer(zs.avail_in);
	}
	if (ret == Z_OK) {
		return "gzip: decompresses to more than allowed";
	}
	if (ret == Z_BUF_ERROR) {
		return "gzip: truncated";
	}
	if (ret == Z_MEM_ERROR) {
		return "gzip: out of memory";
	}
	return "gzip: corrupt data (bad header, block or checksum)";
}

static const char *xz_reason(lzma_ret ret)
{
	switch (ret) {
	case LZMA_BUF_ERROR:
		return "xz: truncated";
	case LZMA_MEM_ERROR:
		return "xz: out of memory";
	case LZMA_MEMLIMIT_ERROR:
		return "xz: its dictionary needs more memory than Keel allows (96 MiB)";
	case LZMA_FORMAT_ERROR:
		return "xz: not an xz stream";
	case LZMA_OPTIONS_ERROR:
		return "xz: unsupported filters or options";
	case LZMA_DATA_ERROR:
		return "xz: corrupt data";
	default:
		return "xz: cannot decode";
	}
}

static const char *unxz(const uint8_t *in, size_t in_size, struct sink *out)
{
	const lzma_allocator alloc = { xz_alloc, lib_free, (void *)(uintptr_t)out->env };
	lzma_stream s = LZMA_STREAM_INIT;
	unsigned long fpu;
	lzma_ret ret;

	s.allocator = &alloc;
	s.next_in = in;
	s.avail_in = in_size;
	fpu = out->env->fpu_begin();
	/* One stream, no concatenation: Linux's size trailer follows it. */
	ret = lzma_stream_decoder(&s, DECOMPRESS_MEMLIMIT, 0);
	out->env->fpu_end(fpu);
	if (ret != LZMA_OK) {
		return xz_reason(ret);
	}
	do {
		size_t slice = BP_MIN(SLICE_OUT, out->room - out->used);

		s.next_out = out->buf + out->used;
		s.avail_out = slice;
		fpu = out->env->fpu_begin();
		ret = lzma_code(&s, LZMA_FINISH);
		out->env->fpu_end(fpu);
		out->used += slice - s.avail_out;
	} while (ret == LZMA_OK && out->used < out->room);
	fpu = out->env->fpu_begin();
	lzma_end(&s);
	out->env->fpu_end(fpu);

	if (ret == LZMA_STREAM_END) {
		return out->used == out->room ? "xz: decompresses to more than allowed"
					      : check_trailer(s.avail_in);
	}
	if (ret == LZMA_OK) {
		return "xz: decompresses to more than allowed";
	}
	return xz_reason(ret);
}

/*
 * zstd decodes straight into the output buffer (stable-buffer mode), so it
 * needs no window of its own whatever window size the frame asks for.
 */
static const char *unzstd(const uint8_t *in, size_t in_size, struct sink *out)
{
	ZSTD_customMem mem = { zstd_alloc, lib_free, (void *)(uintptr_t)out->env };
	ZSTD_outBuffer ob = { out->buf, out->room, 0 };
	ZSTD_inBuffer ib = { in, 0, 0 };
	const char *why = NULL;
	unsigned long fpu;
	ZSTD_DCtx *dctx;
	size_t ret;

	fpu = out->env->fpu_begin();
	dctx = ZSTD_createDCtx_advanced(mem);
	if (dctx && (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_stableOutBuffer, 1)) ||
		     ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_MAX)))) {
		ZSTD_freeDCtx(dctx);
		dctx = NULL;
	}
	out->env->fpu_end(fpu);
	if (!dctx) {
		return "zstd: out of memory";
	}
	/* ret is 0 once the frame is complete; stop there (the trailer follows). */
	for (;;) {
		size_t in_before = ib.pos, out_before = ob.pos;

		ib.size = BP_MIN(in_size, ib.pos + SLICE_IN);
		fpu = out->env->fpu_begin();
		ret = ZSTD_decompressStream(dctx, &ob, &ib);
		out->env->fpu_end(fpu);
		if (ZSTD_isError(ret) || ret == 0 || ob.pos == ob.size ||
		    (ib.size == in_size && ib.pos == in_before && ob.pos == out_before)) {
			break;
		}
	}
	fpu = out->env->fpu_begin();
	ZSTD_freeDCtx(dctx);
	out->env->fpu_end(fpu);
	out->used = ob.pos;

	if (ZSTD_isError(ret)) {
		switch (ZSTD_getErrorCode(ret)) {
		case ZSTD_error_dstSize_tooSmall:
			return "zstd: decompresses to more than allowed";
		case ZSTD_error_memory_allocation:
			return "zstd: out of memory";
		default:
			return "zstd: corrupt data";
		}
	}
	if (ret != 0) {
		why = ob.pos == ob.size ? "zstd: decompresses to more than allowed" : "zstd: truncated";
	} else if (out->used == out->room) {
		why = "zstd: decompresses to more than allowed";
	} else {
		why = check_trailer(in_size - ib.pos);
	}
	return why;
}

const char *decompress_stream(const struct bootproto_env *env, const void *in, size_t in_size,
			      size_t max_out, void **out, size_t *out_size)
{
	enum decompress_format fmt = decompress_detect(in, in_size);
	struct sink sink = { env, NULL, 0, 0 };
	const char *why;

	*out = NULL;
	*out_size = 0;
	if (fmt == DECOMPRESS_UNKNOWN) {
		return "not a gzip, xz or zstd stream";
	}
	if (max_out == 0 || max_out >= SIZE_MAX) {
		return "no room for the output";
	}
	sink.room = max_out + 1;
	sink.buf = env->alloc(sink.room);
	if (!sink.buf) {
		return "no memory for the decompressed image";
	}
	if (fmt == DECOMPRESS_GZIP) {
		why = gunzip(in, in_size, &sink);
	} else if (fmt == DECOMPRESS_XZ) {
		why = unxz(in, in_size, &sink);
	} else {
		why = unzstd(in, in_size, &sink);
	}
	if (why) {
		env->free(sink.buf);
		return why;
	}
	*out = sink.buf;
	*out_size = sink.used;
	return NULL;
}
