/* SPDX-License-Identifier: MIT */
/*
 * vplatform/aml.c - the AML writer of x86/aml.h: encodings of ACPI 6.x
 * section 20 (terms, PkgLength) and section 6.4 (resource descriptors).
 */
#include <keel/string.h>
#include <x86/aml.h>

#define OP_ZERO		0x00
#define OP_ONE		0x01
#define OP_NAME		0x08
#define OP_BYTE		0x0a
#define OP_WORD		0x0b
#define OP_DWORD	0x0c
#define OP_STRING	0x0d
#define OP_QWORD	0x0e
#define OP_SCOPE	0x10
#define OP_BUFFER	0x11
#define OP_PACKAGE	0x12
#define OP_EXT		0x5b
#define OP_DEVICE	0x82	/* after OP_EXT */
#define OP_ONES		0xff
#define ROOT_CHAR	'\\'
#define DUAL_NAME	0x2e
#define MULTI_NAME	0x2f

/* Large resource descriptors: tag, then a 16-bit length of what follows. */
#define RES_MEMORY32_FIXED	0x86
#define RES_DWORD_SPACE		0x87
#define RES_WORD_SPACE		0x88
#define RES_EXT_IRQ		0x89
#define RES_QWORD_SPACE		0x8a
#define SPACE_MEMORY		0
#define SPACE_BUS		2
/* General flags of an address space: producer, positive decode, min and max fixed. */
#define SPACE_FIXED_PRODUCER	0x0c
#define MEM_RW			0x01
#define MEM_NONCACHEABLE	0x00
#define MEM_PREFETCHABLE	0x06

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

size_t aml_finish(struct aml *a)
{
	return a->failed || a->depth ? 0 : a->len;
}

static void put(struct aml *a, const void *p, size_t n)
{
	if (a->failed || n > a->cap - a->len) {
		a->failed = true;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void put8(struct aml *a, uint8_t v)
{
	put(a, &v, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		put8(a, (uint8_t)(v >> (8 * i)));
	}
}

/* Insert @n bytes at @at, shifting what follows. */
static void insert(struct aml *a, size_t at, const uint8_t *p, size_t n)
{
	if (a->failed || n > a->cap - a->len) {
		a->failed = true;
		return;
	}
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

/* One NameSeg: up to four characters, padded with '_'. Returns what follows its '.'. */
static const char *name_seg(struct aml *a, const char *p)
{
	unsigned int n = 0;

	while (p[n] && p[n] != '.' && n < 4) {
		put8(a, (uint8_t)p[n]);
		n++;
	}
	if (n == 0 || (p[n] && p[n] != '.')) {
		a->failed = true;	/* empty or longer than four */
		return p + n;
	}
	for (unsigned int i = n; i < 4; i++) {
		put8(a, '_');
	}
	return p[n] == '.' ? p + n + 1 : p + n;
}

static void name_string(struct aml *a, const char *path)
{
	unsigned int segs = 1;

	if (*path == ROOT_CHAR) {
		put8(a, ROOT_CHAR);
		path++;
	}
	for (const char *p = path; *p; p++) {
		segs += *p == '.';
	}
	if (segs == 2) {
		put8(a, DUAL_NAME);
	} else if (segs > 2) {
		put8(a, MULTI_NAME);
		put8(a, (uint8_t)segs);
	}
	for (unsigned int i = 0; i < segs && !a->failed; i++) {
		path = name_seg(a, path);
	}
}

void aml_name(struct aml *a, const char *path)
{
	put8(a, OP_NAME);
	name_string(a, path);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		put8(a, OP_ZERO);
	} else if (v == 1) {
		put8(a, OP_ONE);
	} else if (v == ~0ull) {
		put8(a, OP_ONES);
	} else if (v <= 0xff) {
		put8(a, OP_BYTE);
		put8(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		put8(a, OP_WORD);
		put_le(a, v, 2);
	} else if (v <= 0xffffffffu) {
		put8(a, OP_DWORD);
		put_le(a, v, 4);
	} else {
		put8(a, OP_QWORD);
		put_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	put8(a, OP_STRING);
	put(a, s, strlen(s) + 1);
}

/*
 * EisaId("PNP0501"): three letters of five bits each (A = 1) and four hex
 * digits, stored as a big-endian 32-bit value (ACPI 6.x, 19.6.35).
 */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		a->failed = true;
		return;
	}
	for (unsigned int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			a->failed = true;
			return;
		}
		v = v << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (unsigned int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0') :
			     c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10) : 16;

		if (d > 15) {
			a->failed = true;
			return;
		}
		v = v << 4 | d;
	}
	put8(a, OP_DWORD);
	put8(a, (uint8_t)(v >> 24));
	put8(a, (uint8_t)(v >> 16));
	put8(a, (uint8_t)(v >> 8));
	put8(a, (uint8_t)v);
}

static void open_object(struct aml *a, bool buffer)
{
	if (a->depth == AML_DEPTH_MAX) {
		a->failed = true;
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].buffer = buffer;
	a->depth++;
}

void aml_scope(struct aml *a, const char *path)
{
	put8(a, OP_SCOPE);
	open_object(a, false);
	name_string(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	put8(a, OP_EXT);
	put8(a, OP_DEVICE);
	open_object(a, false);
	name_string(a, path);
}

void aml_package(struct aml *a, uint8_t elements)
{
	put8(a, OP_PACKAGE);
	open_object(a, false);
	put8(a, elements);
}

void aml_buffer(struct aml *a)
{
	put8(a, OP_BUFFER);
	open_object(a, true);
}

/*
 * PkgLength (20.2.4): the length of the object from the PkgLength itself
 * to its end, in 1 to 4 bytes. One byte holds up to 63; otherwise the
 * first byte has the count of bytes that follow in bits 7:6 and the low
 * four bits of the length in bits 3:0, the following bytes the rest.
 */
static unsigned int pkg_length(size_t body, uint8_t out[4])
{
	size_t total;
	unsigned int n;

	if (body + 1 <= 0x3f) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		total = body + n;
		if (total < (1ull << (4 + 8 * (n - 1)))) {
			break;
		}
	}
	out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
	for (unsigned int i = 1; i < n; i++) {
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	return n;
}

void aml_end(struct aml *a)
{
	uint8_t head[4 + 5], size[5];
	unsigned int n, sn = 0;
	size_t start, body;
	struct aml tmp;

	if (a->failed || a->depth == 0) {
		a->failed = true;
		return;
	}
	a->depth--;
	start = a->open[a->depth].start;
	body = a->len - start;
	if (a->open[a->depth].buffer) {
		/* BufferSize is an integer term before the bytes. */
		aml_init(&tmp, size, sizeof(size));
		aml_integer(&tmp, body);
		sn = (unsigned int)tmp.len;
	}
	n = pkg_length(body + sn, head);
	memcpy(head + n, size, sn);
	insert(a, start, head, n + sn);
}

/* ---- Resource descriptors -------------------------------------------------- */

void aml_io(struct aml *a, uint16_t base, uint8_t length)
{
	put8(a, 0x47);		/* small item: I/O port, 7 bytes */
	put8(a, 0x01);		/* decodes 16 address bits */
	put_le(a, base, 2);	/* minimum */
	put_le(a, base, 2);	/* maximum: fixed */
	put8(a, 1);		/* alignment */
	put8(a, length);
}

void aml_irq_noflags(struct aml *a, unsigned int irq)
{
	put8(a, 0x22);		/* small item: IRQ, 2 bytes (no flags: edge, active high) */
	put_le(a, irq < 16 ? 1u << irq : 0, 2);
	if (irq >= 16) {
		a->failed = true;
	}
}

void aml_interrupt(struct aml *a, uint32_t gsi, bool level, bool active_low)
{
	put8(a, RES_EXT_IRQ);
	put_le(a, 6, 2);
	/* Consumer, edge or level, polarity, exclusive, not a wake source. */
	put8(a, (uint8_t)(0x01 | (level ? 0 : 0x02) | (active_low ? 0x04 : 0)));
	put8(a, 1);
	put_le(a, gsi, 4);
}

void aml_memory32_fixed(struct aml *a, uint32_t base, uint32_t length, bool writable)
{
	put8(a, RES_MEMORY32_FIXED);
	put_le(a, 9, 2);
	put8(a, writable ? 1 : 0);
	put_le(a, base, 4);
	put_le(a, length, 4);
}

void aml_word_bus_number(struct aml *a, uint16_t min, uint16_t max)
{
	put8(a, RES_WORD_SPACE);
	put_le(a, 13, 2);
	put8(a, SPACE_BUS);
	put8(a, SPACE_FIXED_PRODUCER);
	put8(a, 0);
	put_le(a, 0, 2);			/* granularity */
	put_le(a, min, 2);
	put_le(a, max, 2);
	put_le(a, 0, 2);			/* translation */
	put_le(a, (uint32_t)max - min + 1, 2);	/* length */
}

void aml_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool prefetchable)
{
	put8(a, RES_DWORD_SPACE);
	put_le(a, 23, 2);
	put8(a, SPACE_MEMORY);
	put8(a, SPACE_FIXED_PRODUCER);
	put8(a, MEM_RW | (prefetchable ? MEM_PREFETCHABLE : MEM_NONCACHEABLE));
	put_le(a, 0, 4);
	put_le(a, min, 4);
	put_le(a, max, 4);
	put_le(a, 0, 4);
	put_le(a, (uint64_t)max - min + 1, 4);
}

void aml_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool prefetchable)
{
	put8(a, RES_QWORD_SPACE);
	put_le(a, 43, 2);
	put8(a, SPACE_MEMORY);
	put8(a, SPACE_FIXED_PRODUCER);
	put8(a, MEM_RW | (prefetchable ? MEM_PREFETCHABLE : MEM_NONCACHEABLE));
	put_le(a, 0, 8);
	put_le(a, min, 8);
	put_le(a, max, 8);
	put_le(a, 0, 8);
	put_le(a, max - min + 1, 8);
}

void aml_end_tag(struct aml *a)
{
	put8(a, 0x79);		/* end tag; checksum 0: "the template is valid" */
	put8(a, 0);
}
