/* SPDX-License-Identifier: MIT */
/* core/elf.c - parses and validates ELF executables without trusting them. */
#include <keel/elf.h>
#include <keel/string.h>

#define PT_LOAD		1
#define ET_EXEC		2

/* Little-endian field reads, so the parser works on any host byte order. */
static uint64_t rd(const uint8_t *p, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = bytes; i > 0; i--) {
		v = (v << 8) | p[i - 1];
	}
	return v;
}

static enum elf_error fail(const char **why, const char *msg, enum elf_error e)
{
	if (why) {
		*why = msg;
	}
	return e;
}

static enum elf_error add_segment(struct elf_image *img, const uint8_t *ph,
				  size_t size, const char **why)
{
	bool w = img->is64;
	uint64_t offset = rd(ph + (w ? 8 : 4), w ? 8 : 4);
	uint64_t paddr = rd(ph + (w ? 24 : 12), w ? 8 : 4);
	uint64_t filesz = rd(ph + (w ? 32 : 16), w ? 8 : 4);
	uint64_t memsz = rd(ph + (w ? 40 : 20), w ? 8 : 4);
	struct elf_segment *seg;

	if (filesz > memsz) {
		return fail(why, "a segment's file size exceeds its memory size", ELF_BAD_SEGMENT);
	}
	if (offset > size || filesz > size - offset) {
		return fail(why, "truncated: a segment extends past the end of the image",
			    ELF_TRUNCATED);
	}
	if (paddr + memsz < paddr) {
		return fail(why, "a segment wraps around the address space", ELF_BAD_SEGMENT);
	}
	if (memsz == 0) {
		return ELF_OK;
	}
	if (img->segment_count == ELF_MAX_SEGMENTS) {
		return fail(why, "too many loadable segments", ELF_BAD_SEGMENT);
	}
	seg = &img->segments[img->segment_count++];
	*seg = (struct elf_segment){ paddr, offset, filesz, memsz };
	img->lowest = MIN(img->lowest, paddr);
	img->highest = MAX(img->highest, paddr + memsz);
	return ELF_OK;
}

enum elf_error elf_parse(const void *image, size_t size, struct elf_image *out,
			 const char **why)
{
	const uint8_t *p = image;
	uint64_t phoff, phentsize, phnum;
	enum elf_error e;
	bool w;

	memset(out, 0, sizeof(*out));
	out->lowest = UINT64_MAX;
	if (size < 16) {
		return fail(why, "truncated: shorter than an ELF identification", ELF_TRUNCATED);
	}
	if (p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F') {
		return fail(why, "not an ELF file (bad magic)", ELF_NOT_ELF);
	}
	if ((p[4] != 1 && p[4] != 2) || p[5] != 1 || p[6] != 1) {
		return fail(why, "unsupported ELF class, byte order or version", ELF_UNSUPPORTED);
	}
	w = out->is64 = (p[4] == 2);
	if (size < (w ? 64u : 52u)) {
		return fail(why, "truncated: shorter than its ELF header", ELF_TRUNCATED);
	}
	if (rd(p + 16, 2) != ET_EXEC) {
		return fail(why, "not an executable (ELF type is not EXEC)", ELF_UNSUPPORTED);
	}
	out->machine = (uint16_t)rd(p + 18, 2);
	out->entry = rd(p + 24, w ? 8 : 4);
	phoff = rd(p + (w ? 32 : 28), w ? 8 : 4);
	phentsize = rd(p + (w ? 54 : 42), 2);
	phnum = rd(p + (w ? 56 : 44), 2);
	if (phentsize < (w ? 56u : 32u) || phnum == 0) {
		return fail(why, "bad program header table", ELF_BAD_HEADER);
	}
	if (phoff > size || phnum * phentsize > size - phoff) {
		return fail(why, "truncated: program headers extend past the end", ELF_TRUNCATED);
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + i * phentsize;

		if (rd(ph, 4) != PT_LOAD) {
			continue;
		}
		e = add_segment(out, ph, size, why);
		if (e != ELF_OK) {
			return e;
		}
	}
	if (out->segment_count == 0) {
		return fail(why, "no loadable segments", ELF_NO_SEGMENTS);
	}
	return ELF_OK;
}
