/* SPDX-License-Identifier: MIT */
/* tools/tests/images.c - small Keel-native ELF kernels written for the builder's tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel/start_info.h>
#include "tests.h"

static void put(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

/* One note: name "Keel", @type, @desc of @len bytes; returns its size. */
static size_t note(uint8_t *p, uint32_t type, const void *desc, uint32_t len)
{
	put(p, 5, 4);
	put(p + 4, len, 4);
	put(p + 8, type, 4);
	memcpy(p + 12, "Keel", 5);
	memcpy(p + 20, desc, len);
	return 20 + ((len + 3) & ~3u);
}

int write_test_kernel(const char *path, const struct test_kernel *k)
{
	const size_t ehdr = 64, phdr = 56, notes_off = ehdr + 2 * phdr, code_off = 0x1000;
	size_t size = code_off + k->code_size, notes_len = 0;
	uint8_t *f = calloc(1, size);
	struct keel_elfnote_entry en = {
		.entry = k->entry ? k->entry : k->load + 0x10, .mode = k->mode,
	};
	struct keel_elfnote_abi abi = { .abi_major = k->abi_major, .abi_minor = k->abi_minor };
	FILE *out;

	if (!f) {
		return -1;
	}
	if (!k->no_note) {
		notes_len += note(f + notes_off, KEEL_ELFNOTE_ENTRY, &en, sizeof(en));
	}
	if (k->abi_major || k->abi_minor) {
		notes_len += note(f + notes_off + notes_len, KEEL_ELFNOTE_ABI, &abi, sizeof(abi));
	}
	memcpy(f, "\177ELF\2\1\1", 7);
	put(f + 16, 2, 2);		/* ET_EXEC */
	put(f + 18, 62, 2);		/* EM_X86_64 */
	put(f + 20, 1, 4);
	put(f + 24, en.entry, 8);
	put(f + 32, ehdr, 8);		/* e_phoff */
	put(f + 52, ehdr, 2);
	put(f + 54, phdr, 2);
	put(f + 56, 2, 2);		/* e_phnum */
	/* PT_LOAD */
	put(f + ehdr, 1, 4);
	put(f + ehdr + 4, 7, 4);
	put(f + ehdr + 8, code_off, 8);
	put(f + ehdr + 16, k->load, 8);
	put(f + ehdr + 24, k->load, 8);
	put(f + ehdr + 32, k->code_size, 8);
	put(f + ehdr + 40, k->code_size + k->bss, 8);
	/* PT_NOTE */
	put(f + ehdr + phdr, 4, 4);
	put(f + ehdr + phdr + 8, notes_off, 8);
	put(f + ehdr + phdr + 32, notes_len, 8);
	put(f + ehdr + phdr + 40, notes_len, 8);
	for (size_t i = 0; i < k->code_size; i++) {
		f[code_off + i] = (uint8_t)((i * 7 + 3) & 0xff);
	}
	out = fopen(path, "wb");
	if (!out || fwrite(f, 1, size, out) != size || fclose(out) != 0) {
		free(f);
		return -1;
	}
	free(f);
	return 0;
}
