/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/fdt.c - our own read-only FDT walker (DTSpec, version 17):
 * header checks, tokens of the structure block, property values. libfdt is
 * not available to kernels without a C library, and the device table needs
 * only this much.
 */
#include "fdt.h"

#define FDT_MAGIC		0xd00dfeedu
#define FDT_HEADER_SIZE		40u
#define FDT_VERSION		17u
#define FDT_BEGIN_NODE		1u
#define FDT_END_NODE		2u
#define FDT_PROP		3u
#define FDT_NOP			4u
#define FDT_END			9u

bool kpv_blob_read(const struct kpv_blob *b, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *out = dst;

	if (off > b->size || len > b->size - off) {
		return false;
	}
	while (len) {
		uint32_t in_page = off % KPV_PAGE_SIZE;
		uint32_t n = KPV_MIN(len, KPV_PAGE_SIZE - in_page);

		kpv_memcpy(out, b->pages[off / KPV_PAGE_SIZE] + in_page, n);
		out += n;
		off += n;
		len -= n;
	}
	return true;
}

static bool read_be32(const struct kpv_blob *b, uint32_t off, uint32_t *v)
{
	uint8_t x[4];

	if (!kpv_blob_read(b, off, x, 4)) {
		return false;
	}
	*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3];
	return true;
}

/* Whether block [@off, @off + @size) lies inside [0, @total). */
static bool block_ok(uint32_t off, uint32_t size, uint32_t total)
{
	return off <= total && size <= total - off;
}

int kpv_fdt_open(struct kpv_fdt *f, const struct kpv_blob *b)
{
	uint32_t h[10];

	for (uint32_t i = 0; i < 10; i++) {
		if (!read_be32(b, i * 4, &h[i])) {
			return -KEEL_EINVAL;
		}
	}
	/* magic, totalsize, off_struct, off_strings, off_rsvmap, version, last_comp, cpu, size_strings, size_struct */
	if (h[0] != FDT_MAGIC || h[1] < FDT_HEADER_SIZE || h[1] > b->size ||
	    h[5] < FDT_VERSION || h[6] > FDT_VERSION || (h[2] & 3) ||
	    !block_ok(h[2], h[9], h[1]) || !block_ok(h[3], h[8], h[1])) {
		return -KEEL_EINVAL;
	}
	*f = (struct kpv_fdt){
		.b = b,
		.pos = h[2],
		.struct_end = h[2] + h[9],
		.strings_off = h[3],
		.strings_end = h[3] + h[8],
	};
	return 0;
}

/*
 * The NUL-terminated string at @off, ending before @end: its length in
 * *@len (without the NUL), and as much of it as fits in @it->name.
 */
static bool read_name(const struct kpv_fdt *f, uint32_t off, uint32_t end,
		      struct kpv_fdt_item *it, uint32_t *len)
{
	for (uint32_t n = 0; off + n < end; n++) {
		char c;

		if (!kpv_blob_read(f->b, off + n, &c, 1)) {
			return false;
		}
		if (n < KPV_FDT_NAME_MAX) {
			it->name[n] = c;
		}
		if (c == '\0') {
			it->name_ok = n < KPV_FDT_NAME_MAX;
			if (!it->name_ok) {
				it->name[KPV_FDT_NAME_MAX - 1] = '\0';
			}
			*len = n;
			return true;
		}
	}
	return false;
}

static uint32_t align4(uint32_t v)
{
	return (v + 3) & ~3u;
}

/* A property at f->pos: length, name offset, value. */
static int next_prop(struct kpv_fdt *f, struct kpv_fdt_item *it)
{
	uint32_t len, nameoff, name_len, value = f->pos + 12;

	if (!read_be32(f->b, f->pos + 4, &len) || !read_be32(f->b, f->pos + 8, &nameoff) ||
	    value > f->struct_end || len > f->struct_end - value ||
	    nameoff >= f->strings_end - f->strings_off ||
	    !read_name(f, f->strings_off + nameoff, f->strings_end, it, &name_len)) {
		return -KEEL_EINVAL;
	}
	it->kind = KPV_FDT_PROP;
	it->value_off = value;
	it->value_len = len;
	f->pos = align4(value + len);
	return 1;
}

int kpv_fdt_next(struct kpv_fdt *f, struct kpv_fdt_item *it)
{
	uint32_t token, len;

	*it = (struct kpv_fdt_item){ 0 };
	for (;;) {
		if (f->struct_end < 4 || f->pos > f->struct_end - 4 ||
		    !read_be32(f->b, f->pos, &token)) {
			return -KEEL_EINVAL;
		}
		switch (token) {
		case FDT_BEGIN_NODE:
			if (!read_name(f, f->pos + 4, f->struct_end, it, &len)) {
				return -KEEL_EINVAL;
			}
			it->kind = KPV_FDT_NODE;
			f->pos = align4(f->pos + 4 + len + 1);
			return 1;
		case FDT_END_NODE:
			it->kind = KPV_FDT_NODE_END;
			f->pos += 4;
			return 1;
		case FDT_PROP:
			return next_prop(f, it);
		case FDT_NOP:
			f->pos += 4;
			break;
		case FDT_END:
			return 0;
		default:
			return -KEEL_EINVAL;
		}
	}
}

bool kpv_fdt_u32(const struct kpv_fdt *f, const struct kpv_fdt_item *it, uint32_t *v)
{
	return it->value_len == 4 && read_be32(f->b, it->value_off, v);
}

bool kpv_fdt_string(const struct kpv_fdt *f, const struct kpv_fdt_item *it, char *buf,
		    uint32_t size)
{
	uint32_t i;

	/* The whole value must hold a terminated string; we keep what fits. */
	for (i = 0; i < it->value_len; i++) {
		char c;

		if (!kpv_blob_read(f->b, it->value_off + i, &c, 1)) {
			return false;
		}
		if (i < size) {
			buf[i] = c;
		}
		if (c == '\0') {
			break;
		}
	}
	if (i == it->value_len || size == 0) {
		return false;
	}
	buf[KPV_MIN(i, size - 1)] = '\0';
	return true;
}

bool kpv_fdt_has_string(const struct kpv_fdt *f, const struct kpv_fdt_item *it,
			const char *s)
{
	uint32_t start = 0;

	/* A string list: NUL-terminated strings one after the other. */
	while (start < it->value_len) {
		bool same = true;
		uint32_t i = 0;
		char c;

		do {
			if (start + i >= it->value_len ||
			    !kpv_blob_read(f->b, it->value_off + start + i, &c, 1)) {
				return false;	/* unterminated */
			}
			/* While equal so far, s has at least i characters: s[i] exists. */
			same = same && c == s[i];
			i++;
		} while (c != '\0');
		if (same) {
			return true;
		}
		start += i;
	}
	return false;
}
