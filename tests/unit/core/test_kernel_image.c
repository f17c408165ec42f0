/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_kernel_image.c - unit tests for core/kernel_image.c:
 * which kernels are recognised, the refusal messages for the rest, and the
 * vmlinux extraction from a bzImage (x86's header parser plugged into the
 * fake arch) with good, corrupt, oversized and non-ELF payloads.
 */
#include <zlib.h>
#include <lzma.h>
#include <zstd.h>
#include <keel/heap.h>
#include <keel/kernel_image.h>
#include <x86/linux_boot.h>
#include "fake_arch.h"
#include "linux_fixture.h"
#include "unit.h"

#define SEG_SIZE	0x10000
#define ELF_ROOM	(FIX_ELF_LOAD_OFFSET + SEG_SIZE)
#define INIT_SIZE	0x100000u

static uint8_t elf[ELF_ROOM];
static uint8_t packed[ELF_ROOM + 4096];
static uint8_t bz[FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT + ELF_ROOM + 4096 + 0x100];

static int x86_parse(const void *data, size_t size, struct arch_linux_image *li,
		     const char **why)
{
	struct bzimage b;
	int rc = bzimage_parse(data, size, &b, why);

	if (rc == 1) {
		*li = (struct arch_linux_image){ b.payload_offset, b.payload_size, b.init_size,
						 b.pref_address, b.init_size, b.version };
	}
	return rc;
}

static void setup(void)
{
	unit_reset();
	fake.linux_image_parse = x86_parse;
}

static int init(void)
{
	return unit_page_alloc_init();
}

/* Open an exact-sized copy; the image is closed (and the heap checked) by the caller. */
static bool open_copy(const void *data, size_t len, struct kernel_image *k, void **copy)
{
	*copy = exact_copy(data, len);
	return kernel_image_open(*copy, len, k);
}

static void done(struct kernel_image *k, void *copy)
{
	kernel_image_close(k);
	free(copy);
	CU_ASSERT_EQUAL(heap_page_count(), 0);
}

static void expect_refusal(const void *data, size_t len, const char *words)
{
	struct kernel_image k;
	void *copy;

	CU_ASSERT_FALSE(open_copy(data, len, &k, &copy));
	CU_ASSERT_PTR_NOT_NULL(strstr(k.why, words));
	if (!strstr(k.why, words)) {
		fprintf(stderr, "why: %s\n", k.why);
	}
	free(copy);
	CU_ASSERT_EQUAL(heap_page_count(), 0);
}

static void test_elf_kinds(void)
{
	struct kernel_image k;
	size_t len;
	void *copy;

	setup();
	len = fix_elf(elf, true, 0, 0x200000, 0x200000, 64);
	CU_ASSERT_TRUE(open_copy(elf, len, &k, &copy));
	CU_ASSERT_EQUAL(k.kind, KERNEL_KEEL);
	done(&k, copy);
	len = fix_elf(elf, false, 4, 0x1000850, 0x1000000, 0x1000);
	CU_ASSERT_TRUE(open_copy(elf, len, &k, &copy));
	CU_ASSERT_EQUAL(k.kind, KERNEL_PVH);
	CU_ASSERT_EQUAL(k.elf.pvh_entry, 0x1000850);
	CU_ASSERT_STRING_EQUAL(kernel_kind_name(k.kind), "PVH");
	done(&k, copy);
	len = fix_elf(elf, false, 8, 0x1000850, 0x1000000, 0x1000);
	CU_ASSERT_TRUE(open_copy(elf, len, &k, &copy));
	CU_ASSERT_EQUAL(k.kind, KERNEL_PVH);
	done(&k, copy);
	/* Both notes: it is a Keel kernel. */
	len = fix_elf(elf, true, 4, 0x1000850, 0x1000000, 0x1000);
	CU_ASSERT_TRUE(open_copy(elf, len, &k, &copy));
	CU_ASSERT_EQUAL(k.kind, KERNEL_KEEL);
	done(&k, copy);
}

static void test_refusals(void)
{
	static const uint8_t xz_magic[16] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	size_t len;

	setup();
	len = fix_elf(elf, false, 0, 0x1000000, 0x1000000, 0x1000);
	expect_refusal(elf, len, "not a Keel, PVH or Linux bzImage kernel (an ELF file with "
		       "neither a Keel nor a PVH entry note)");
	/* A 64-bit PVH value above 4 GiB: a malformed note. */
	len = fix_elf(elf, false, 8, 0x100000000ull, 0x1000000, 0x1000);
	expect_refusal(elf, len, "malformed PVH entry note");
	len = fix_elf(elf, false, 4, 0x1000850, 0x1000000, 0x1000);
	expect_refusal(elf, 100, "not a usable ELF image: truncated");
	expect_refusal("just some text, not a kernel at all", 36,
		       "not a Keel, PVH or Linux bzImage kernel (neither ELF magic nor a "
		       "Linux boot header)");
	expect_refusal(xz_magic, sizeof(xz_magic), "an xz or zstd file");
	expect_refusal("\x1f\x8b\x08\x00", 4, "gzip: truncated");
}

static size_t gzip_of(const void *in, size_t len, uint8_t *out, size_t room)
{
	z_stream zs = { 0 };
	size_t n;

	CU_ASSERT_FATAL(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)room;
	CU_ASSERT_FATAL(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	n = zs.total_out;
	deflateEnd(&zs);
	return n;
}

static size_t xz_of(const void *in, size_t len, uint8_t *out, size_t room)
{
	size_t pos = 0;

	CU_ASSERT_FATAL(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC32, NULL, in, len, out, &pos,
						room) == LZMA_OK);
	return pos;
}

static void test_gzip_wrapped_pvh(void)
{
	struct kernel_image k;
	size_t len = fix_elf(elf, false, 4, 0x1000850, 0x1000000, 0x1000), n;
	void *copy;

	setup();
	n = gzip_of(elf, len, packed, sizeof(packed));
	CU_ASSERT_TRUE(open_copy(packed, n, &k, &copy));
	CU_ASSERT_EQUAL(k.kind, KERNEL_PVH);
	CU_ASSERT_TRUE(k.file.was_gzip);
	done(&k, copy);
}

/* A bzImage whose payload is @payload; opened into @k. */
static bool open_bz(const void *payload, size_t n, uint32_t init_size, struct kernel_image *k,
		    void **copy)
{
	size_t len = fix_bzimage(bz, payload, n, init_size);

	return open_copy(bz, len, k, copy);
}

static void test_bzimage_extraction(void)
{
	struct kernel_image k;
	size_t len = fix_elf(elf, false, 4, 0x1000850, 0x1000000, SEG_SIZE), n;
	void *copy;

	setup();
	/* xz, with Linux's 4-byte size trailer. */
	n = xz_of(elf, len, packed, sizeof(packed));
	fix_put(packed + n, len, 4);
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n + 4, INIT_SIZE, &k, &copy));
	CU_ASSERT_EQUAL(k.kind, KERNEL_LINUX);
	CU_ASSERT_EQUAL(k.payload_format, DECOMPRESS_XZ);
	CU_ASSERT_TRUE(kernel_image_can_extract(&k));
	CU_ASSERT_TRUE(kernel_image_extract(&k));
	CU_ASSERT_EQUAL(k.vmlinux_size, len);
	CU_ASSERT_TRUE(k.elf.has_pvh_entry);
	CU_ASSERT_EQUAL(k.elf.pvh_entry, 0x1000850);
	done(&k, copy);
	/* zstd */
	n = ZSTD_compress(packed, sizeof(packed), elf, len, 3);
	CU_ASSERT_FATAL(!ZSTD_isError(n));
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n, INIT_SIZE, &k, &copy));
	CU_ASSERT_EQUAL(k.payload_format, DECOMPRESS_ZSTD);
	CU_ASSERT_TRUE(kernel_image_extract(&k));
	CU_ASSERT_TRUE(k.elf.has_pvh_entry);
	done(&k, copy);
	/* gzip */
	n = gzip_of(elf, len, packed, sizeof(packed));
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n, INIT_SIZE, &k, &copy));
	CU_ASSERT_EQUAL(k.payload_format, DECOMPRESS_GZIP);
	CU_ASSERT_TRUE(kernel_image_extract(&k));
	done(&k, copy);
}

static void test_bzimage_bad_payloads(void)
{
	struct kernel_image k;
	size_t len = fix_elf(elf, false, 4, 0x1000850, 0x1000000, SEG_SIZE), n;
	void *copy;

	setup();
	n = xz_of(elf, len, packed, sizeof(packed));
	/* Corrupt: a byte in the middle. */
	packed[n / 2] ^= 0x40;
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n, INIT_SIZE, &k, &copy));
	CU_ASSERT_FALSE(kernel_image_extract(&k));
	CU_ASSERT_PTR_NOT_NULL(strstr(k.why, "cannot be extracted: xz: corrupt"));
	CU_ASSERT_PTR_NULL(k.vmlinux);
	done(&k, copy);
	packed[n / 2] ^= 0x40;
	/* Truncated. */
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n - 20, INIT_SIZE, &k, &copy));
	CU_ASSERT_FALSE(kernel_image_extract(&k));
	CU_ASSERT_PTR_NOT_NULL(strstr(k.why, "xz: truncated"));
	done(&k, copy);
	/* Larger than init_size. */
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n, (uint32_t)len - 1, &k, &copy));
	CU_ASSERT_FALSE(kernel_image_extract(&k));
	CU_ASSERT_PTR_NOT_NULL(strstr(k.why, "more than allowed"));
	done(&k, copy);
	/* Not ELF inside. */
	memset(elf, 'A', 4);
	n = xz_of(elf, len, packed, sizeof(packed));
	CU_ASSERT_TRUE_FATAL(open_bz(packed, n, INIT_SIZE, &k, &copy));
	CU_ASSERT_FALSE(kernel_image_extract(&k));
	CU_ASSERT_PTR_NOT_NULL(strstr(k.why, "vmlinux inside is not a usable ELF"));
	done(&k, copy);
	/* A format Keel does not decode (lz4 magic). */
	memcpy(packed, "\x02\x21\x4c\x18 lz4", 8);
	CU_ASSERT_TRUE_FATAL(open_bz(packed, 64, INIT_SIZE, &k, &copy));
	CU_ASSERT_FALSE(kernel_image_can_extract(&k));
	CU_ASSERT_FALSE(kernel_image_extract(&k));
	CU_ASSERT_PTR_NOT_NULL(strstr(k.why, "not gzip, xz or zstd"));
	done(&k, copy);
}

static void test_unbootable_bzimage(void)
{
	size_t len;

	setup();
	len = fix_bzimage(bz, "x", 1, INIT_SIZE);
	fix_put(bz + 0x236, 0, 2);
	expect_refusal(bz, len, "not a Keel, PVH or Linux bzImage kernel (a bzImage without "
		       "XLF_KERNEL_64");
	fix_put(bz + 0x206, 0x0202, 2);
	expect_refusal(bz, len, "older than 2.12");
	/* Without an arch that knows bzImages, it is no kernel. */
	fake.linux_image_parse = NULL;
	len = fix_bzimage(bz, "x", 1, INIT_SIZE);
	expect_refusal(bz, len, "neither ELF magic nor a Linux boot header");
}

static CU_TestInfo tests[] = {
	{ "Keel and PVH ELF kernels", test_elf_kinds },
	{ "anything else is refused by reason", test_refusals },
	{ "a gzip-wrapped PVH kernel", test_gzip_wrapped_pvh },
	{ "vmlinux from xz, zstd and gzip bzImages", test_bzimage_extraction },
	{ "corrupt, truncated, oversized, non-ELF payloads", test_bzimage_bad_payloads },
	{ "unbootable bzImages", test_unbootable_bzimage },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo kernel_image_suite = { "kernel_image", init, NULL, NULL, NULL, tests };
