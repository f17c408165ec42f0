/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/linux_images.c - small Linux kernels made at test time for the
 * builder's Linux paths: a vmlinux ELF (with or without Xen's PVH entry
 * note) and a bzImage around it, its payload compressed with the real
 * gzip (zlib), xz (liblzma) or zstd (libzstd) encoders and followed by the
 * 4-byte size Linux's build appends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>
#include "tests.h"

#define EHDR		64
#define PHDR		56
#define CODE_OFF	0x1000
#define SETUP_SECTS	4
#define PM_OFFSET	((SETUP_SECTS + 1) * 512)
#define PM_HEAD		0x400	/* bytes of "code" before the payload */

static void put(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

uint8_t linux_test_byte(size_t i)
{
	return (uint8_t)((i * 13 + 5) & 0xff);
}

static uint8_t *make_vmlinux(const struct test_linux *k, size_t *size)
{
	size_t notes = k->pvh_note ? 20 : 0;	/* namesz, descsz, type, "Xen\0", entry */
	uint8_t *f;

	*size = CODE_OFF + k->code_size;
	f = calloc(1, *size);
	if (!f) {
		return NULL;
	}
	memcpy(f, "\177ELF\2\1\1", 7);
	put(f + 16, 2, 2);			/* ET_EXEC */
	put(f + 18, 62, 2);			/* EM_X86_64 */
	put(f + 20, 1, 4);
	put(f + 24, 0xffffffff81000000ull, 8);	/* e_entry: virtual, unused */
	put(f + 32, EHDR, 8);
	put(f + 52, EHDR, 2);
	put(f + 54, PHDR, 2);
	put(f + 56, 2, 2);
	put(f + EHDR, 1, 4);			/* PT_LOAD, RWX */
	put(f + EHDR + 4, 7, 4);
	put(f + EHDR + 8, CODE_OFF, 8);
	put(f + EHDR + 16, 0xffffffff81000000ull, 8);
	put(f + EHDR + 24, k->load, 8);
	put(f + EHDR + 32, k->code_size, 8);
	put(f + EHDR + 40, k->code_size + k->bss, 8);
	put(f + EHDR + PHDR, 4, 4);		/* PT_NOTE */
	put(f + EHDR + PHDR + 8, EHDR + 2 * PHDR, 8);
	put(f + EHDR + PHDR + 32, notes, 8);
	if (k->pvh_note) {
		uint8_t *n = f + EHDR + 2 * PHDR;

		put(n, 4, 4);
		put(n + 4, 4, 4);
		put(n + 8, 18, 4);		/* XEN_ELFNOTE_PHYS32_ENTRY */
		memcpy(n + 12, "Xen", 4);
		put(n + 16, k->load + k->pvh_entry_offset, 4);
	}
	for (size_t i = 0; i < k->code_size; i++) {
		f[CODE_OFF + i] = linux_test_byte(i);
	}
	return f;
}

static uint8_t *gzip(const uint8_t *in, size_t len, size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap = len + len / 100 + 1024;
	uint8_t *out = malloc(cap);

	if (!out || deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(out);
		return NULL;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&zs);
		free(out);
		return NULL;
	}
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static uint8_t *xz(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = lzma_stream_buffer_bound(len);
	uint8_t *out = malloc(cap);

	*out_len = 0;
	if (!out || lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, out_len,
					    cap) != LZMA_OK) {
		free(out);
		return NULL;
	}
	return out;
}

static uint8_t *zstd(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *out = malloc(cap);

	*out_len = out ? ZSTD_compress(out, cap, in, len, 19) : 0;
	if (!out || ZSTD_isError(*out_len)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The setup header (Documentation/arch/x86/boot.rst) of a protocol 2.15 kernel. */
static void setup_header(uint8_t *f, const struct test_linux *k, size_t payload_len,
			 size_t pm_size)
{
	f[0x1f1] = SETUP_SECTS;
	put(f + 0x1fe, 0xaa55, 2);
	f[0x200] = 0xeb;			/* jmp over the header ... */
	f[0x201] = 0x66;			/* ... which ends at 0x268 */
	memcpy(f + 0x202, "HdrS", 4);
	put(f + 0x206, 0x020f, 2);
	f[0x211] = 0x01;			/* LOADED_HIGH */
	put(f + 0x22c, 0x7fffffff, 4);		/* initrd_addr_max */
	put(f + 0x230, 0x200000, 4);		/* kernel_alignment */
	f[0x234] = 1;				/* relocatable */
	put(f + 0x236, 0x1 | 0x2, 2);		/* XLF_KERNEL_64, CAN_BE_LOADED_ABOVE_4G */
	put(f + 0x238, 2047, 4);		/* cmdline_size */
	put(f + 0x248, PM_HEAD, 4);		/* payload_offset */
	put(f + 0x24c, payload_len, 4);
	put(f + 0x258, k->load, 8);		/* pref_address */
	put(f + 0x260, k->init_size ? k->init_size : pm_size + 0x200000, 4);
}

int write_test_bzimage(const char *path, const struct test_linux *k)
{
	size_t vm_len = 0, payload_len = 0, size;
	uint8_t *vm = make_vmlinux(k, &vm_len), *payload = NULL, *f = NULL;
	FILE *out = NULL;
	int rc = -1;

	if (vm) {
		payload = k->codec == TEST_GZIP ? gzip(vm, vm_len, &payload_len) :
			  k->codec == TEST_XZ ? xz(vm, vm_len, &payload_len) :
			  zstd(vm, vm_len, &payload_len);
	}
	if (!payload) {
		goto out;
	}
	if (k->codec != TEST_GZIP) {
		payload_len += 4;		/* Linux appends the vmlinux size to xz and zstd */
	}
	size = PM_OFFSET + PM_HEAD + payload_len;
	f = calloc(1, size);
	if (!f) {
		goto out;
	}
	setup_header(f, k, payload_len, size - PM_OFFSET);
	for (size_t i = 0; i < PM_HEAD; i++) {
		f[PM_OFFSET + i] = linux_test_byte(i + 7);
	}
	memcpy(f + PM_OFFSET + PM_HEAD, payload, payload_len - (k->codec != TEST_GZIP ? 4 : 0));
	if (k->codec != TEST_GZIP) {
		put(f + size - 4, vm_len, 4);
	}
	if (k->corrupt) {
		f[PM_OFFSET + PM_HEAD + payload_len / 2] ^= 0x55;
	}
	out = fopen(path, "wb");
	rc = out && fwrite(f, 1, size, out) == size ? 0 : -1;
out:
	if (out && fclose(out) != 0) {
		rc = -1;
	}
	free(f);
	free(payload);
	free(vm);
	return rc;
}

int write_test_vmlinux(const char *path, const struct test_linux *k)
{
	size_t len = 0;
	uint8_t *vm = make_vmlinux(k, &len);
	FILE *out = vm ? fopen(path, "wb") : NULL;
	int rc = out && fwrite(vm, 1, len, out) == len ? 0 : -1;

	if (out && fclose(out) != 0) {
		rc = -1;
	}
	free(vm);
	return rc;
}
