/* SPDX-License-Identifier: MIT */
/* fdt.c: reading the device table with KEEL_HC_DEVICE_TABLE_READ and walking the FDT blob. */
#include "keeltest64.h"

#define FDT_MAGIC		0xd00dfeedu
#define FDT_HEADER_SIZE		40
#define FDT_BEGIN_NODE		1
#define FDT_END_NODE		2
#define FDT_PROP		3
#define FDT_NOP			4
#define FDT_END			9

uint8_t kt_dt_blob[KEEL_DT_MAX_SIZE] KT_PAGE_ALIGNED;
static uint8_t bounce[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;

/*
 * Read the whole table into dst; returns its size or -KEEL_E*. Starts again
 * when the generation changes during the read (docs/abi/hypercalls.md).
 */
long kt_devtable_read(uint8_t *dst, uint32_t cap)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		uint32_t gen = kt_shared->device_table_generation;
		uint32_t total, off = 0;
		long rc;

		rc = keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, KT_GPA(bounce), 0, FDT_HEADER_SIZE);
		if (rc != FDT_HEADER_SIZE) {
			return rc < 0 ? rc : -KEEL_EINVAL;
		}
		total = kt_be32(bounce + 4);
		if (kt_be32(bounce) != FDT_MAGIC || total < FDT_HEADER_SIZE || total > cap) {
			return -KEEL_EINVAL;
		}
		while (off < total) {
			uint32_t chunk = total - off;

			if (chunk > KEEL_PAGE_SIZE) {
				chunk = KEEL_PAGE_SIZE;
			}

			rc = keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, KT_GPA(bounce), off, chunk);
			if (rc <= 0) {
				return rc < 0 ? rc : -KEEL_EINVAL;
			}
			memcpy(dst + off, bounce, (size_t)rc);
			off += (uint32_t)rc;
		}
		if (kt_shared->device_table_generation == gen) {
			return total;
		}
	}
	return -KEEL_EAGAIN;
}

int kt_fdt_init(struct kt_fdt *f, const void *blob, uint32_t size)
{
	const uint8_t *b = blob;

	if (size < FDT_HEADER_SIZE || kt_be32(b) != FDT_MAGIC || kt_be32(b + 4) > size) {
		return -1;
	}
	f->blob = b;
	f->size = kt_be32(b + 4);
	f->off_struct = kt_be32(b + 8);
	f->off_strings = kt_be32(b + 12);
	f->size_strings = kt_be32(b + 32);
	f->size_struct = kt_be32(b + 36);
	if (kt_be32(b + 20) < 16 || f->off_struct > f->size ||
	    f->size_struct > f->size - f->off_struct || f->off_strings > f->size ||
	    f->size_strings > f->size - f->off_strings) {
		return -1;
	}
	return 0;
}

static uint32_t align4(uint32_t v)
{
	return (v + 3) & ~3u;
}

/* The token at struct offset *off; advances *off past it. -1 when malformed. */
static int next_token(const struct kt_fdt *f, uint32_t *off)
{
	const uint8_t *s = f->blob + f->off_struct;
	uint32_t tag, o = *off;

	if (o + 4 > f->size_struct) {
		return -1;
	}
	tag = kt_be32(s + o);
	o += 4;
	switch (tag) {
	case FDT_BEGIN_NODE:
		while (o < f->size_struct && s[o] != '\0') {
			o++;
		}
		if (o >= f->size_struct) {
			return -1;
		}
		o = align4(o + 1);
		break;
	case FDT_PROP:
		if (o + 8 > f->size_struct) {
			return -1;
		}
		o = align4(o + 8 + kt_be32(s + o));
		if (o > f->size_struct) {
			return -1;
		}
		break;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return -1;
	}
	*off = o;
	return (int)tag;
}

int kt_fdt_root(const struct kt_fdt *f)
{
	uint32_t off = 0;
	int tag;

	do {
		tag = next_token(f, &off);
	} while (tag == FDT_NOP);
	return tag == FDT_BEGIN_NODE ? 0 : -1;
}

/* The offset of the first token after node's properties: a child or its END_NODE. */
static int skip_props(const struct kt_fdt *f, int node, uint32_t *off)
{
	uint32_t o = (uint32_t)node, prev;
	int tag;

	if (node < 0 || next_token(f, &o) != FDT_BEGIN_NODE) {
		return -1;
	}
	for (;;) {
		prev = o;
		tag = next_token(f, &o);
		if (tag == FDT_PROP || tag == FDT_NOP) {
			continue;
		}
		*off = prev;
		return tag;
	}
}

int kt_fdt_first_child(const struct kt_fdt *f, int node)
{
	uint32_t off;

	if (skip_props(f, node, &off) != FDT_BEGIN_NODE) {
		return -1;
	}
	return (int)off;
}

int kt_fdt_next_sibling(const struct kt_fdt *f, int node)
{
	uint32_t o = (uint32_t)node, prev;
	int depth = 0, tag;

	if (node < 0) {
		return -1;
	}
	/* Skip node's whole subtree. */
	do {
		tag = next_token(f, &o);
		if (tag == FDT_BEGIN_NODE) {
			depth++;
		} else if (tag == FDT_END_NODE) {
			depth--;
		} else if (tag < 0 || tag == FDT_END) {
			return -1;
		}
	} while (depth > 0);
	for (;;) {
		prev = o;
		tag = next_token(f, &o);
		if (tag == FDT_NOP) {
			continue;
		}
		return tag == FDT_BEGIN_NODE ? (int)prev : -1;
	}
}

const char *kt_fdt_name(const struct kt_fdt *f, int node)
{
	return (const char *)(f->blob + f->off_struct + (uint32_t)node + 4);
}

/* A child whose name is name, or whose name before '@' is name when name has no '@'. */
int kt_fdt_subnode(const struct kt_fdt *f, int node, const char *name)
{
	size_t len = kt_strlen(name);

	for (int c = kt_fdt_first_child(f, node); c >= 0; c = kt_fdt_next_sibling(f, c)) {
		const char *n = kt_fdt_name(f, c);

		if (kt_strncmp(n, name, len) == 0 && (n[len] == '\0' || n[len] == '@')) {
			return c;
		}
	}
	return -1;
}

int kt_fdt_path(const struct kt_fdt *f, const char *path)
{
	int node = kt_fdt_root(f);
	char part[64];

	while (node >= 0 && *path != '\0') {
		size_t n = 0;

		while (*path == '/') {
			path++;
		}
		while (*path != '\0' && *path != '/' && n + 1 < sizeof(part)) {
			part[n++] = *path++;
		}
		part[n] = '\0';
		if (n > 0) {
			node = kt_fdt_subnode(f, node, part);
		}
	}
	return node;
}

const void *kt_fdt_prop(const struct kt_fdt *f, int node, const char *name, uint32_t *len)
{
	const uint8_t *s = f->blob + f->off_struct;
	uint32_t o = (uint32_t)node, prev;
	int tag;

	if (node < 0 || next_token(f, &o) != FDT_BEGIN_NODE) {
		return NULL;
	}
	for (;;) {
		prev = o;
		tag = next_token(f, &o);
		if (tag == FDT_NOP) {
			continue;
		}
		if (tag != FDT_PROP) {
			return NULL;
		}
		uint32_t plen = kt_be32(s + prev + 4), nameoff = kt_be32(s + prev + 8);

		if (nameoff >= f->size_strings) {
			return NULL;
		}
		if (kt_strncmp((const char *)f->blob + f->off_strings + nameoff, name,
			       f->size_strings - nameoff) == 0) {
			if (len != NULL) {
				*len = plen;
			}
			return s + prev + 12;
		}
	}
}

bool kt_fdt_u32(const struct kt_fdt *f, int node, const char *name, uint32_t *out)
{
	uint32_t len;
	const void *p = kt_fdt_prop(f, node, name, &len);

	if (p == NULL || len != 4) {
		return false;
	}
	*out = kt_be32(p);
	return true;
}

/* A property's value if it is one NUL-terminated string. */
const char *kt_fdt_string(const struct kt_fdt *f, int node, const char *name)
{
	uint32_t len;
	const char *p = kt_fdt_prop(f, node, name, &len);

	if (p == NULL || len == 0 || p[len - 1] != '\0' || kt_strlen(p) + 1 != len) {
		return NULL;
	}
	return p;
}

/* The domain's name from the device table's /domain/keel,name; false if there is none. */
bool kt_domain_name(char *buf, size_t len)
{
	struct kt_fdt f;
	long size = kt_devtable_read(kt_dt_blob, sizeof(kt_dt_blob));
	const char *n;
	int node;

	if (size < 0 || kt_fdt_init(&f, kt_dt_blob, (uint32_t)size) != 0) {
		return false;
	}
	node = kt_fdt_path(&f, "/" KEEL_DT_NODE_DOMAIN);
	n = node >= 0 ? kt_fdt_string(&f, node, KEEL_DT_PROP_NAME) : NULL;
	if (n == NULL || len == 0) {
		return false;
	}
	kt_snprintf(buf, len, "%s", n);
	return true;
}
