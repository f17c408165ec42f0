/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_decompress.c - unit tests for bootproto/decompress.c,
 * through core/decompress.c (Keel's heap).
 *
 * The streams come from the real gzip, xz and zstd tools (make-payloads.sh,
 * run at build time into KEEL_PAYLOADS): good, with Linux's size trailer,
 * truncated, corrupt and followed by garbage. Each is decoded from an
 * exact-sized copy (ASan sees any read past it) and the heap must be empty
 * afterwards.
 */
#include <stdio.h>
#include <string.h>
#include <keel/decompress.h>
#include <keel/heap.h>
#include "fake_arch.h"
#include "unit.h"

static const char *const exts[] = { "gz", "xz", "zst" };
static const char *const names[] = { "gzip", "xz", "zstd" };
static uint8_t *plain;
static size_t plain_len;

static uint8_t *load(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	uint8_t *buf = NULL;
	long size;

	snprintf(path, sizeof(path), "%s/%s", KEEL_PAYLOADS, name);
	f = fopen(path, "rb");
	if (!f) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

static int init(void)
{
	if (unit_page_alloc_init() != 0) {
		return -1;
	}
	plain = load("plain", &plain_len);
	return plain ? 0 : -1;
}

static int cleanup(void)
{
	free(plain);
	return 0;
}

/* Decode payload "KIND.EXT" bounded by @max; returns the reason or NULL. */
static const char *run(const char *kind, unsigned int fmt, size_t max, size_t *out_len,
		       bool keep_checking)
{
	char name[64];
	size_t len = 0;
	uint8_t *file, *copy;
	void *out = NULL;
	const char *why;

	snprintf(name, sizeof(name), "%s.%s", kind, exts[fmt]);
	file = load(name, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(file);
	copy = exact_copy(file, len);
	CU_ASSERT_EQUAL(decompress_detect(copy, len), (enum decompress_format)(fmt + 1));
	why = decompress(copy, len, max, &out, out_len);
	if (!why && keep_checking) {
		CU_ASSERT_EQUAL(*out_len, plain_len);
		CU_ASSERT_EQUAL(memcmp(out, plain, plain_len), 0);
	}
	CU_ASSERT_EQUAL(why == NULL, out != NULL);
	heap_free(out);
	free(copy);
	free(file);
	CU_ASSERT_EQUAL(heap_page_count(), 0);
	CU_ASSERT_FALSE(fake.irqs_off);
	return why;
}

static void test_good_streams_decode(void)
{
	size_t n;

	for (unsigned int f = 0; f < 3; f++) {
		CU_ASSERT_PTR_NULL(run("good", f, MiB(1), &n, true));
		/* Exactly the right bound is enough. */
		CU_ASSERT_PTR_NULL(run("good", f, plain_len, &n, true));
	}
}

static void test_linux_size_trailer_is_accepted(void)
{
	size_t n;

	for (unsigned int f = 0; f < 3; f++) {
		CU_ASSERT_PTR_NULL(run("sized", f, MiB(1), &n, true));
	}
}

/* Every failure names its format. */
static void check_reason(const char *why, unsigned int f, const char *words)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(why);
	CU_ASSERT_EQUAL(strncmp(why, names[f], strlen(names[f])), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, words));
}

static void test_truncated_streams_are_refused(void)
{
	size_t n;

	for (unsigned int f = 0; f < 3; f++) {
		check_reason(run("truncated", f, MiB(1), &n, false), f, "truncated");
	}
}

static void test_corrupt_streams_are_refused(void)
{
	size_t n;

	for (unsigned int f = 0; f < 3; f++) {
		check_reason(run("corrupt", f, MiB(1), &n, false), f, "corrupt");
	}
}

static void test_output_is_bounded(void)
{
	size_t n;

	for (unsigned int f = 0; f < 3; f++) {
		check_reason(run("good", f, plain_len - 1, &n, false), f, "more than allowed");
		check_reason(run("good", f, 4096, &n, false), f, "more than allowed");
	}
}

static void test_trailing_garbage_is_refused(void)
{
	size_t n;
	const char *why;

	for (unsigned int f = 0; f < 3; f++) {
		why = run("junk", f, MiB(1), &n, false);
		CU_ASSERT_PTR_NOT_NULL(why);
		CU_ASSERT_PTR_NOT_NULL(why ? strstr(why, "trailing data") : NULL);
	}
}

static void test_unknown_and_empty_input(void)
{
	static const uint8_t junk[] = { 'B', 'Z', 'h', '9', 0, 1, 2, 3 };
	void *out = (void *)1;
	size_t n = 7;
	uint8_t *copy = exact_copy(junk, sizeof(junk));

	CU_ASSERT_EQUAL(decompress_detect(copy, sizeof(junk)), DECOMPRESS_UNKNOWN);
	CU_ASSERT_PTR_NOT_NULL(decompress(copy, sizeof(junk), MiB(1), &out, &n));
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_EQUAL(n, 0);
	/* Magic alone: each decoder finds the stream cut short. */
	CU_ASSERT_PTR_NOT_NULL(decompress("\x1f\x8b", 2, MiB(1), &out, &n));
	CU_ASSERT_PTR_NOT_NULL(decompress("\xfd" "7zXZ\0", 6, MiB(1), &out, &n));
	CU_ASSERT_PTR_NOT_NULL(decompress("\x28\xb5\x2f\xfd", 4, MiB(1), &out, &n));
	CU_ASSERT_PTR_NOT_NULL(decompress("\x1f\x8b", 2, 0, &out, &n));
	CU_ASSERT_STRING_EQUAL(decompress_name(DECOMPRESS_XZ), "xz");
	free(copy);
	CU_ASSERT_EQUAL(heap_page_count(), 0);
}

/* Every prefix of a stream fails cleanly (ASan checks the reads). */
static void test_every_prefix_fails_cleanly(void)
{
	for (unsigned int f = 0; f < 3; f++) {
		char name[32];
		size_t len = 0;
		uint8_t *file;

		snprintf(name, sizeof(name), "good.%s", exts[f]);
		file = load(name, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(file);
		for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 997)) {
			uint8_t *copy = exact_copy(file, cut ? cut : 1);
			void *out = NULL;
			size_t n;

			CU_ASSERT_PTR_NOT_NULL(decompress(copy, cut, MiB(1), &out, &n));
			CU_ASSERT_PTR_NULL(out);
			free(copy);
		}
		free(file);
	}
	CU_ASSERT_EQUAL(heap_page_count(), 0);
}

static CU_TestInfo tests[] = {
	{ "good gzip, xz and zstd streams decode", test_good_streams_decode },
	{ "Linux's size trailer is accepted", test_linux_size_trailer_is_accepted },
	{ "truncated streams are refused", test_truncated_streams_are_refused },
	{ "corrupt streams are refused", test_corrupt_streams_are_refused },
	{ "output is bounded", test_output_is_bounded },
	{ "trailing garbage is refused", test_trailing_garbage_is_refused },
	{ "unknown and empty input", test_unknown_and_empty_input },
	{ "every prefix fails cleanly", test_every_prefix_fails_cleanly },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo decompress_suite = { "decompress", init, cleanup, NULL, NULL, tests };
