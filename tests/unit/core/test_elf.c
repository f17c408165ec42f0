/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_elf.c - unit tests for bootproto/elf.c.
 *
 * Images are built in memory, then parsed from a heap copy of exactly their
 * size: any read past the end is an AddressSanitizer report, so "never reads
 * outside the image" is checked by every test, not just asserted.
 */
#include <keel/elf.h>
#include "unit.h"

#define PT_LOAD		1
#define PT_NOTE		4
#define PT_GNU_STACK	0x6474e551u	/* neither loaded nor read */
#define IMG_MAX		2048
#define IMG_SIZE	0x1c0u	/* the standard image ends with its last segment */

/* Where ELF32 and ELF64 keep the fields the tests touch. */
struct layout {
	unsigned int ehsize, phentsize, addr_bytes;
	unsigned int e_entry, e_phoff, e_phentsize, e_phnum;
	unsigned int p_offset, p_paddr, p_filesz, p_memsz;
	uint16_t machine;
};

static const struct layout layouts[2] = {
	{ 52, 32, 4, 24, 28, 42, 44, 4, 12, 16, 20, 3 },	/* ELF32, EM_386 */
	{ 64, 56, 8, 24, 32, 54, 56, 8, 24, 32, 40, 62 },	/* ELF64, EM_X86_64 */
};

static uint8_t img[IMG_MAX];
static const struct layout *lay;

static void put(unsigned int at, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		img[at + i] = (uint8_t)(v >> (8 * i));
	}
}

static unsigned int ph(unsigned int i)
{
	return lay->ehsize + i * lay->phentsize;
}

static void set_ph(unsigned int i, uint32_t type, uint64_t offset, uint64_t paddr,
		   uint64_t filesz, uint64_t memsz)
{
	put(ph(i), type, 4);
	put(ph(i) + lay->p_offset, offset, lay->addr_bytes);
	put(ph(i) + lay->p_paddr, paddr, lay->addr_bytes);
	put(ph(i) + lay->p_filesz, filesz, lay->addr_bytes);
	put(ph(i) + lay->p_memsz, memsz, lay->addr_bytes);
}

/*
 * The standard image: code at 0x100000 (file 0x100-0x180), a note, data at
 * 0x200000 with 0x40 bytes from the file (0x180-0x1c0) and the rest bss.
 */
static void build(bool is64)
{
	lay = &layouts[is64];
	memset(img, 0, sizeof(img));
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = is64 ? 2 : 1;		/* class */
	img[5] = 1;			/* little-endian */
	img[6] = 1;			/* version */
	put(16, 2, 2);			/* ET_EXEC */
	put(18, lay->machine, 2);
	put(20, 1, 4);
	put(lay->e_entry, 0x100010, lay->addr_bytes);
	put(lay->e_phoff, lay->ehsize, lay->addr_bytes);
	put(lay->e_phentsize, lay->phentsize, 2);
	put(lay->e_phnum, 3, 2);
	set_ph(0, PT_LOAD, 0x100, 0x100000, 0x80, 0x80);
	set_ph(1, PT_NOTE, 0x180, 0, 0x10, 0x10);
	set_ph(2, PT_LOAD, 0x180, 0x200000, 0x40, 0x1000);
	memset(img + 0x100, 0x90, 0xc0);
	memset(img + 0x180, 0, 12);	/* the note segment: one empty note */
}

/* Append a note at @at (4-byte aligned); returns the offset after it. */
static unsigned int put_note(unsigned int at, const char *name, uint32_t type,
			     const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;

	put(at, namesz, 4);
	put(at + 4, descsz, 4);
	put(at + 8, type, 4);
	memcpy(img + at + 12, name, namesz);
	at += 12 + ALIGN_UP(namesz, 4u);
	memcpy(img + at, desc, descsz);
	return at + ALIGN_UP(descsz, 4u);
}

/* Make the note segment span [0x180, end) of notes just written there. */
static void note_segment_to(unsigned int end)
{
	set_ph(1, PT_NOTE, 0x180, 0, end - 0x180, end - 0x180);
}

static enum elf_error parse_n(size_t size, struct elf_image *out, const char **why)
{
	void *copy = exact_copy(img, size);
	enum elf_error e;

	*why = NULL;
	e = elf_parse(copy, size, out, why);
	free(copy);
	CU_ASSERT((e == ELF_OK) == (*why == NULL));	/* every error says why */
	return e;
}

static enum elf_error parse(void)
{
	struct elf_image out;
	const char *why;

	return parse_n(IMG_SIZE, &out, &why);
}

static void test_valid_images(void)
{
	for (int w = 0; w < 2; w++) {
		struct elf_image e;
		const char *why;

		build(w);
		CU_ASSERT_EQUAL_FATAL(parse_n(IMG_SIZE, &e, &why), ELF_OK);
		CU_ASSERT_EQUAL(e.is64, w == 1);
		CU_ASSERT_EQUAL(e.machine, w ? 62 : 3);
		CU_ASSERT_EQUAL(e.entry, 0x100010);
		CU_ASSERT_EQUAL_FATAL(e.segment_count, 2);	/* the note is skipped */
		CU_ASSERT_EQUAL(e.segments[0].paddr, 0x100000);
		CU_ASSERT_EQUAL(e.segments[0].offset, 0x100);
		CU_ASSERT_EQUAL(e.segments[0].filesz, 0x80);
		CU_ASSERT_EQUAL(e.segments[0].memsz, 0x80);
		CU_ASSERT_EQUAL(e.segments[1].paddr, 0x200000);
		CU_ASSERT_EQUAL(e.segments[1].offset, 0x180);
		CU_ASSERT_EQUAL(e.segments[1].filesz, 0x40);
		CU_ASSERT_EQUAL(e.segments[1].memsz, 0x1000);
		CU_ASSERT_EQUAL(e.lowest, 0x100000);
		CU_ASSERT_EQUAL(e.highest, 0x201000);
	}
}

static void test_larger_program_header_entries(void)
{
	for (int w = 0; w < 2; w++) {
		struct elf_image e;
		const char *why;
		uint8_t entry[56];

		/* Spread the two first entries 0x40 apart (the table ends before 0x100). */
		build(w);
		memcpy(entry, img + ph(1), lay->phentsize);
		memset(img + ph(1), 0, lay->phentsize);
		memcpy(img + lay->ehsize + 0x40, entry, lay->phentsize);
		put(lay->e_phentsize, 0x40, 2);
		put(lay->e_phnum, 2, 2);
		CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &e, &why), ELF_OK);
		CU_ASSERT_EQUAL(e.segment_count, 1);
	}
}

static void test_truncated_at_every_length(void)
{
	for (int w = 0; w < 2; w++) {
		struct elf_image e;
		const char *why;

		build(w);
		for (size_t n = 0; n < IMG_SIZE; n++) {
			CU_ASSERT_EQUAL_FATAL(parse_n(n, &e, &why), ELF_TRUNCATED);
		}
		parse_n(15, &e, &why);
		CU_ASSERT_STRING_EQUAL(why, "truncated: shorter than an ELF identification");
		parse_n(lay->ehsize - 1, &e, &why);
		CU_ASSERT_STRING_EQUAL(why, "truncated: shorter than its ELF header");
		parse_n(lay->ehsize, &e, &why);
		CU_ASSERT_STRING_EQUAL(why, "truncated: program headers extend past the end");
		parse_n(IMG_SIZE - 1, &e, &why);
		CU_ASSERT_STRING_EQUAL(why, "truncated: a segment extends past the end of the image");
	}
}

static void test_bad_identification(void)
{
	for (int w = 0; w < 2; w++) {
		for (unsigned int i = 0; i < 4; i++) {
			build(w);
			img[i] ^= 0x20;
			CU_ASSERT_EQUAL(parse(), ELF_NOT_ELF);
		}
		build(w);
		img[4] = 3;			/* no such class */
		CU_ASSERT_EQUAL(parse(), ELF_UNSUPPORTED);
		build(w);
		img[4] = 0;
		CU_ASSERT_EQUAL(parse(), ELF_UNSUPPORTED);
		build(w);
		img[5] = 2;			/* big-endian */
		CU_ASSERT_EQUAL(parse(), ELF_UNSUPPORTED);
		build(w);
		img[6] = 0;			/* identification version */
		CU_ASSERT_EQUAL(parse(), ELF_UNSUPPORTED);
	}
}

static void test_not_an_executable(void)
{
	for (int w = 0; w < 2; w++) {
		build(w);
		put(16, 3, 2);			/* ET_DYN */
		CU_ASSERT_EQUAL(parse(), ELF_UNSUPPORTED);
		put(16, 1, 2);			/* ET_REL */
		CU_ASSERT_EQUAL(parse(), ELF_UNSUPPORTED);
	}
}

static void test_bad_program_header_table(void)
{
	for (int w = 0; w < 2; w++) {
		build(w);
		put(lay->e_phentsize, lay->phentsize - 1, 2);
		CU_ASSERT_EQUAL(parse(), ELF_BAD_HEADER);
		build(w);
		put(lay->e_phentsize, 0, 2);
		CU_ASSERT_EQUAL(parse(), ELF_BAD_HEADER);
		build(w);
		put(lay->e_phnum, 0, 2);
		CU_ASSERT_EQUAL(parse(), ELF_BAD_HEADER);

		build(w);
		put(lay->e_phoff, IMG_SIZE + 1, lay->addr_bytes);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);			/* the table straddles the end */
		put(lay->e_phoff, IMG_SIZE - lay->phentsize, lay->addr_bytes);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);
		put(lay->e_phoff, UINT64_MAX, lay->addr_bytes);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);
		put(lay->e_phnum, 0xffff, 2);
		put(lay->e_phentsize, 0xffff, 2);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
	}
}

static void test_segments_past_the_end(void)
{
	uint64_t max;

	for (int w = 0; w < 2; w++) {
		max = w ? UINT64_MAX : UINT32_MAX;
		build(w);
		set_ph(2, PT_LOAD, IMG_SIZE + 1, 0x200000, 0, 0x1000);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);
		set_ph(2, PT_LOAD, 0x180, 0x200000, 0x41, 0x1000);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);
		set_ph(2, PT_LOAD, max, 0x200000, 0x10, 0x1000);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);			/* offset + filesz overflows */
		set_ph(2, PT_LOAD, 0x180, 0x200000, max - 0x100, max);
		CU_ASSERT_EQUAL(parse(), ELF_TRUNCATED);
		build(w);			/* ends exactly at the end: fine */
		set_ph(2, PT_LOAD, 0, 0x200000, IMG_SIZE, IMG_SIZE);
		CU_ASSERT_EQUAL(parse(), ELF_OK);
	}
}

static void test_bad_segments(void)
{
	for (int w = 0; w < 2; w++) {
		build(w);
		set_ph(0, PT_LOAD, 0x100, 0x100000, 0x80, 0x7f);	/* filesz > memsz */
		CU_ASSERT_EQUAL(parse(), ELF_BAD_SEGMENT);
	}
	/* Wraparound needs 64-bit addresses. */
	build(true);
	set_ph(2, PT_LOAD, 0x180, UINT64_MAX - 0xfff, 0x40, 0x2000);
	CU_ASSERT_EQUAL(parse(), ELF_BAD_SEGMENT);
	build(true);
	set_ph(2, PT_LOAD, 0x180, UINT64_MAX - 0x1fff, 0x40, 0x1000);	/* just fits */
	CU_ASSERT_EQUAL(parse(), ELF_OK);
}

static void test_segment_count_limit(void)
{
	for (int w = 0; w < 2; w++) {
		struct elf_image e;
		const char *why;
		unsigned int n = ELF_MAX_SEGMENTS + 1;
		size_t size;

		build(w);
		for (unsigned int i = 0; i < n; i++) {
			set_ph(i, PT_LOAD, 0, 0x100000 + i * 0x1000, 0, 0x1000);
		}
		size = ph(n);
		put(lay->e_phnum, n, 2);
		CU_ASSERT_EQUAL(parse_n(size, &e, &why), ELF_BAD_SEGMENT);
		put(lay->e_phnum, n - 1, 2);
		CU_ASSERT_EQUAL(parse_n(size, &e, &why), ELF_OK);
		CU_ASSERT_EQUAL(e.segment_count, ELF_MAX_SEGMENTS);
		CU_ASSERT_EQUAL(e.highest, 0x100000 + ELF_MAX_SEGMENTS * 0x1000);
		/* Empty PT_LOADs take no slot. */
		set_ph(3, PT_LOAD, 0, 0x900000, 0, 0);
		put(lay->e_phnum, n, 2);
		CU_ASSERT_EQUAL(parse_n(size, &e, &why), ELF_OK);
		CU_ASSERT_EQUAL(e.segment_count, ELF_MAX_SEGMENTS);
	}
}

static void test_nothing_to_load(void)
{
	for (int w = 0; w < 2; w++) {
		build(w);
		put(ph(0), PT_GNU_STACK, 4);
		put(ph(2), PT_GNU_STACK, 4);
		CU_ASSERT_EQUAL(parse(), ELF_NO_SEGMENTS);
		build(w);
		set_ph(0, PT_LOAD, 0x100, 0x100000, 0, 0);
		set_ph(2, PT_LOAD, 0x180, 0x200000, 0, 0);
		CU_ASSERT_EQUAL(parse(), ELF_NO_SEGMENTS);
	}
}

static void test_why_is_optional(void)
{
	struct elf_image e;

	build(true);
	CU_ASSERT_EQUAL(elf_parse(img, 3, &e, NULL), ELF_TRUNCATED);
	CU_ASSERT_EQUAL(elf_parse(img, IMG_SIZE, &e, NULL), ELF_OK);
}

/* Every byte of the image set to awkward values: no crash, no overread, and
 * whatever is accepted is consistent. */
static void test_mutated_images_are_safe(void)
{
	static const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };

	for (int w = 0; w < 2; w++) {
		for (unsigned int i = 0; i < IMG_SIZE; i++) {
			for (unsigned int v = 0; v < ARRAY_SIZE(values); v++) {
				struct elf_image e;
				const char *why;

				build(w);
				img[i] = values[v];
				if (parse_n(IMG_SIZE, &e, &why) != ELF_OK) {
					continue;
				}
				CU_ASSERT_FATAL(e.segment_count >= 1 &&
						e.segment_count <= ELF_MAX_SEGMENTS);
				for (unsigned int s = 0; s < e.segment_count; s++) {
					const struct elf_segment *seg = &e.segments[s];

					CU_ASSERT_FATAL(seg->filesz <= seg->memsz);
					CU_ASSERT_FATAL(seg->offset + seg->filesz <= IMG_SIZE);
					CU_ASSERT_FATAL(seg->paddr >= e.lowest &&
							seg->paddr + seg->memsz <= e.highest);
				}
			}
		}
	}
}

static const uint8_t entry_desc[16] = {
	0x00, 0x10, 0x10, 0, 0, 0, 0, 0,	/* entry 0x101000 */
	1, 0, 0, 0,				/* KEEL_ENTRY_MODE_LONG64 */
	0, 0, 0, 0,				/* flags MBZ */
};
static const uint8_t abi_desc[8] = { 1, 0, 3, 0, 0, 0, 0, 0 };	/* 1.3 */
static const uint8_t pvh_desc[4] = { 0x00, 0x00, 0x20, 0x01 };	/* 0x1200000 */

static void test_entry_notes(void)
{
	struct elf_image out;
	const char *why;
	unsigned int end;

	for (int is64 = 0; is64 < 2; is64++) {
		build(is64);
		end = put_note(0x180, "GNU", 3, "abcd", 4);	/* others are skipped */
		end = put_note(end, "Keel", 1, entry_desc, sizeof(entry_desc));
		end = put_note(end, "Keel", 2, abi_desc, sizeof(abi_desc));
		end = put_note(end, "Xen", 18, pvh_desc, sizeof(pvh_desc));
		note_segment_to(end);
		CU_ASSERT_FATAL(end >= IMG_SIZE && end <= IMG_MAX);
		CU_ASSERT_EQUAL_FATAL(parse_n(end, &out, &why), ELF_OK);
		CU_ASSERT_TRUE(out.has_keel_entry);
		CU_ASSERT_EQUAL(out.keel_entry, 0x101000);
		CU_ASSERT_EQUAL(out.keel_entry_mode, 1);
		CU_ASSERT_TRUE(out.has_keel_abi);
		CU_ASSERT_EQUAL(out.abi_major, 1);
		CU_ASSERT_EQUAL(out.abi_minor, 3);
		CU_ASSERT_TRUE(out.has_pvh_entry);
		CU_ASSERT_EQUAL(out.pvh_entry, 0x1200000);
	}
	build(true);
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_OK);
	CU_ASSERT_FALSE(out.has_keel_entry);
	CU_ASSERT_FALSE(out.has_keel_abi);
	CU_ASSERT_FALSE(out.has_pvh_entry);
}

static void test_bad_notes(void)
{
	struct elf_image out;
	const char *why;
	uint8_t bad_entry[16];
	unsigned int end;

	/* Entry note with flags set, and of the wrong size. */
	build(true);
	memcpy(bad_entry, entry_desc, sizeof(bad_entry));
	bad_entry[12] = 1;
	note_segment_to(put_note(0x180, "Keel", 1, bad_entry, sizeof(bad_entry)));
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_BAD_NOTE);
	build(true);
	note_segment_to(put_note(0x180, "Keel", 1, entry_desc, 12));
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_BAD_NOTE);
	build(true);
	note_segment_to(put_note(0x180, "Keel", 2, abi_desc, 4));
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_BAD_NOTE);
	build(true);
	note_segment_to(put_note(0x180, "Xen", 18, pvh_desc, 2));
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_BAD_NOTE);

	/* Name and descriptor sizes that run past the segment. */
	build(true);
	end = put_note(0x180, "Keel", 1, entry_desc, sizeof(entry_desc));
	put(0x180 + 4, 0xfffffff0u, 4);
	note_segment_to(end);
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_BAD_NOTE);
	build(true);
	put(0x180, 0xffffffffu, 4);
	note_segment_to(0x180 + 16);
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_BAD_NOTE);

	/* A note segment past the end of the file. */
	build(true);
	set_ph(1, PT_NOTE, 0x180, 0, 0x100, 0x100);
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_TRUNCATED);
	/* A name that is not NUL-terminated where its size says. */
	build(true);
	end = put_note(0x180, "Keel", 1, entry_desc, sizeof(entry_desc));
	img[0x180 + 12 + 4] = 'X';
	note_segment_to(end);
	CU_ASSERT_EQUAL(parse_n(IMG_SIZE, &out, &why), ELF_OK);
	CU_ASSERT_FALSE(out.has_keel_entry);
}

static CU_TestInfo elf_tests[] = {
	{ "valid ELF32 and ELF64 images", test_valid_images },
	{ "larger program header entries", test_larger_program_header_entries },
	{ "truncated at every length", test_truncated_at_every_length },
	{ "bad identification", test_bad_identification },
	{ "not an executable", test_not_an_executable },
	{ "bad program header table", test_bad_program_header_table },
	{ "segments past the end", test_segments_past_the_end },
	{ "bad segments", test_bad_segments },
	{ "segment count limit", test_segment_count_limit },
	{ "nothing to load", test_nothing_to_load },
	{ "why is optional", test_why_is_optional },
	{ "mutated images are safe", test_mutated_images_are_safe },
	{ "Keel and PVH entry notes", test_entry_notes },
	{ "malformed notes", test_bad_notes },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo elf_suite = {
	.pName = "elf",
	.pTests = elf_tests,
};
