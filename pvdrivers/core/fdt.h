/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/fdt.h - a small read-only walker for flattened device
 * trees held in pages (the device table), for core/devtable.c.
 *
 * Every byte is read through kpv_blob_read(), which checks the range, so
 * no input can make the walker read outside the blob; each step moves
 * forward by at least four bytes, so no input can make it loop.
 */
#ifndef KPV_CORE_FDT_H
#define KPV_CORE_FDT_H

#include "internal.h"

#define KPV_BLOB_PAGES		(KEEL_DT_MAX_SIZE / KPV_PAGE_SIZE)
#define KPV_FDT_NAME_MAX	48	/* longer names match nothing we know */

/* A blob of @size bytes in up to KPV_BLOB_PAGES separate pages. */
struct kpv_blob {
	uint8_t *pages[KPV_BLOB_PAGES];
	uint32_t size;
};

/* Copy [@off, @off + @len) of @b to @dst; false (nothing copied) if outside. */
bool kpv_blob_read(const struct kpv_blob *b, uint32_t off, void *dst, uint32_t len);

enum kpv_fdt_kind {
	KPV_FDT_NODE,			/* a node begins: name */
	KPV_FDT_NODE_END,		/* the innermost open node ends */
	KPV_FDT_PROP,			/* a property of it: name, value */
};

struct kpv_fdt_item {
	enum kpv_fdt_kind kind;
	bool name_ok;			/* false: too long for name[] */
	char name[KPV_FDT_NAME_MAX];
	uint32_t value_off;		/* PROP: where the value is in the blob */
	uint32_t value_len;
};

struct kpv_fdt {
	const struct kpv_blob *b;
	uint32_t pos;			/* next token, in the structure block */
	uint32_t struct_end;
	uint32_t strings_off;
	uint32_t strings_end;
};

/* Check the header of @b (magic, version 17, blocks inside the blob). -KEEL_EINVAL if bad. */
int kpv_fdt_open(struct kpv_fdt *f, const struct kpv_blob *b);
/* The next item: 1, 0 at the end of the structure, -KEEL_EINVAL if malformed. */
int kpv_fdt_next(struct kpv_fdt *f, struct kpv_fdt_item *it);

/* Property values: a big-endian u32, a (first) string, a string in a string list. */
bool kpv_fdt_u32(const struct kpv_fdt *f, const struct kpv_fdt_item *it, uint32_t *v);
bool kpv_fdt_string(const struct kpv_fdt *f, const struct kpv_fdt_item *it, char *buf,
		    uint32_t size);
bool kpv_fdt_has_string(const struct kpv_fdt *f, const struct kpv_fdt_item *it,
			const char *s);

#endif
