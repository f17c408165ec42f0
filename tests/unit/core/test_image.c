/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_image.c - unit tests for core/image.c (gzip images).
 *
 * Gzip files are made here with the host's zlib; then good, corrupt,
 * truncated and lying (wrong trailer size, trailing bytes) ones are opened
 * from exact-sized copies. Every test checks the heap is empty afterwards.
 */
#include <zlib.h>
#include <keel/heap.h>
#include <keel/image.h>
#include <keel/page_alloc.h>
#include "fake_arch.h"
#include "unit.h"

#define PLAIN_SIZE	100000

static uint8_t plain[PLAIN_SIZE];
static uint8_t gz[PLAIN_SIZE + 1024];
static size_t gz_len;

static int init(void)
{
	z_stream zs = { 0 };
	bool ok = unit_page_alloc_init() == 0;

	/* Compressible but not trivial content. */
	for (size_t i = 0; i < PLAIN_SIZE; i++) {
		plain[i] = (uint8_t)((i * 7) ^ (i >> 5));
	}
	if (!ok || deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		return -1;
	}
	zs.next_in = plain;
	zs.avail_in = PLAIN_SIZE;
	zs.next_out = gz;
	zs.avail_out = sizeof(gz);
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		return -1;
	}
	gz_len = zs.total_out;
	deflateEnd(&zs);
	return 0;
}

static void check_heap_empty(void)
{
	CU_ASSERT_EQUAL(heap_page_count(), 0);
	CU_ASSERT_FALSE(fake.irqs_off);
}

/* Open an exact-sized copy of @len bytes of @data; return the outcome. */
static bool open_copy(const void *data, size_t len, struct image *img, const char **why)
{
	void *copy = exact_copy(data, len ? len : 1);
	bool ok = image_open(copy, len, img, why);

	if (ok && !img->owned) {
		/* A plain image points into the module itself: check, then drop. */
		CU_ASSERT_PTR_EQUAL(img->data, copy);
		img->data = NULL;
	}
	free(copy);
	return ok;
}

static void test_plain_passes_through(void)
{
	struct image img;
	const char *why = NULL;
	static const char elf[] = "\x7f" "ELF plain bytes";

	CU_ASSERT_TRUE(open_copy(elf, sizeof(elf), &img, &why));
	CU_ASSERT_FALSE(img.was_gzip);
	CU_ASSERT_EQUAL(img.size, sizeof(elf));
	image_close(&img);
	check_heap_empty();
}

static void test_gzip_inflates(void)
{
	struct image img;
	const char *why = NULL;

	CU_ASSERT_TRUE_FATAL(open_copy(gz, gz_len, &img, &why));
	CU_ASSERT_TRUE(img.was_gzip);
	CU_ASSERT_EQUAL(img.size, PLAIN_SIZE);
	CU_ASSERT_EQUAL(memcmp(img.data, plain, PLAIN_SIZE), 0);
	CU_ASSERT_TRUE(fake.irqs_off == false);
	image_close(&img);
	check_heap_empty();
}

static void test_every_truncation_fails(void)
{
	struct image img;
	const char *why;

	for (size_t len = 2; len < gz_len; len += (len < 64) ? 1 : 97) {
		why = NULL;
		CU_ASSERT_FALSE(open_copy(gz, len, &img, &why));
		CU_ASSERT_PTR_NOT_NULL(why);
		CU_ASSERT_PTR_NULL(img.owned);
	}
	check_heap_empty();
}

static void test_corruption_fails(void)
{
	uint8_t *bad = malloc(gz_len);
	struct image img;
	const char *why;

	/* Every flipped byte of the header, data and CRC is caught. */
	for (size_t at = 0; at < gz_len - 4; at += 13) {
		memcpy(bad, gz, gz_len);
		bad[at] ^= 0x5a;
		why = NULL;
		if (at < 2) {
			continue;	/* no longer gzip at all: opens as plain */
		}
		CU_ASSERT_FALSE(open_copy(bad, gz_len, &img, &why));
		CU_ASSERT_PTR_NOT_NULL(why);
	}
	free(bad);
	check_heap_empty();
}

static void put_isize(uint8_t *p, size_t len, uint32_t isize)
{
	p[len - 4] = (uint8_t)isize;
	p[len - 3] = (uint8_t)(isize >> 8);
	p[len - 2] = (uint8_t)(isize >> 16);
	p[len - 1] = (uint8_t)(isize >> 24);
}

static void test_lying_trailer_fails(void)
{
	uint8_t *bad = malloc(gz_len + 16);
	struct image img;
	const char *why;
	static const uint32_t sizes[] = { 0, 1, PLAIN_SIZE - 1, PLAIN_SIZE + 1, 0xffffffffu };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		memcpy(bad, gz, gz_len);
		put_isize(bad, gz_len, sizes[i]);
		why = NULL;
		CU_ASSERT_FALSE(open_copy(bad, gz_len, &img, &why));
		CU_ASSERT_PTR_NOT_NULL(why);
	}
	/* Trailing garbage after a complete stream. */
	memcpy(bad, gz, gz_len);
	memcpy(bad + gz_len, "garbage!", 8);
	put_isize(bad, gz_len + 8, PLAIN_SIZE);	/* keep the size plausible */
	why = NULL;
	CU_ASSERT_FALSE(open_copy(bad, gz_len + 8, &img, &why));
	CU_ASSERT_PTR_NOT_NULL(why);
	free(bad);
	check_heap_empty();
}

static CU_TestInfo tests[] = {
	{ "plain images pass through", test_plain_passes_through },
	{ "gzip inflates to the original", test_gzip_inflates },
	{ "every truncation fails", test_every_truncation_fails },
	{ "corruption fails", test_corruption_fails },
	{ "a lying trailer fails", test_lying_trailer_fails },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo image_suite = {
	.pName = "image",
	.pInitFunc = init,
	.pSetUpFunc = unit_reset,
	.pTests = tests,
};
