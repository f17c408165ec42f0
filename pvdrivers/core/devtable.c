/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/devtable.c - kpv_devices(): read the device table with
 * KEEL_HC_DEVICE_TABLE_READ (one consistent version, by the shared info's
 * generation) and pick the device nodes out of it (docs/abi/
 * device-table.md). Unknown nodes and properties are ignored; a device
 * node without what we need is skipped; another major version is refused.
 */
#include "fdt.h"

#define READ_ATTEMPTS	4	/* the table changed under us this often: give up */
#define MAX_DEPTH	8	/* deeper trees are not ours */

static void blob_free(struct kpv_blob *b)
{
	for (uint32_t i = 0; i < KPV_BLOB_PAGES; i++) {
		if (b->pages[i]) {
			kpv_shim_page_free(b->pages[i]);
			b->pages[i] = NULL;
		}
	}
}

/* Bytes [@off, @off + @len) of the table into @buf: 0, -KEEL_EAGAIN if short, or Keel's error. */
static int read_part(uint8_t *buf, uint32_t off, uint32_t len)
{
	long n = kpv_hc(KEEL_HC_DEVICE_TABLE_READ, kpv_shim_virt_to_gpa(buf), off, len);

	if (n < 0) {
		return kpv_err(n);
	}
	return (uint32_t)n == len ? 0 : -KEEL_EAGAIN;	/* a new, shorter version */
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One attempt: the header's totalsize, then every page of the blob. */
static int read_once(struct kpv_blob *b)
{
	uint32_t total;
	int rc;

	b->pages[0] = kpv_shim_page_alloc();
	if (!b->pages[0]) {
		return -KEEL_ENOMEM;
	}
	rc = read_part(b->pages[0], 0, 40);
	if (rc != 0) {
		return rc;
	}
	total = be32(b->pages[0] + 4);
	if (total < 40 || total > KEEL_DT_MAX_SIZE) {
		return -KEEL_EINVAL;
	}
	b->size = total;
	for (uint32_t off = 0; off < total && rc == 0; off += KPV_PAGE_SIZE) {
		uint8_t **page = &b->pages[off / KPV_PAGE_SIZE];

		if (!*page) {
			*page = kpv_shim_page_alloc();
		}
		rc = *page ? read_part(*page, off, KPV_MIN(total - off, KPV_PAGE_SIZE))
			   : -KEEL_ENOMEM;
	}
	return rc;
}

static int read_table(struct kpv *k, struct kpv_blob *b)
{
	int rc = -KEEL_EAGAIN;

	for (int i = 0; i < READ_ATTEMPTS && rc == -KEEL_EAGAIN; i++) {
		uint32_t gen = kpv_load(&k->shared->device_table_generation);

		rc = read_once(b);
		if (rc == 0 && kpv_load(&k->shared->device_table_generation) != gen) {
			rc = -KEEL_EAGAIN;
		}
		if (rc != 0) {
			blob_free(b);
		}
	}
	return rc;
}

/* What we know of the node being walked at each depth. */
enum node_kind { NODE_OTHER, NODE_ROOT, NODE_DEVICES, NODE_DEVICE };

/* The parse of one table. */
struct walk {
	struct kpv_fdt fdt;
	enum node_kind kinds[MAX_DEPTH];
	int depth;
	bool compatible;		/* root: keel,device-table */
	bool versioned;			/* root: keel,version seen */
	uint32_t major;
	struct kpv_device_info dev;	/* the device node being read */
	uint32_t have;			/* HAVE_* of dev */
	struct kpv_device_info *out;
	unsigned int max;
	int count;
};

#define HAVE_CLASS	0x01u
#define HAVE_ID		0x02u
#define HAVE_ROLE	0x04u
#define HAVE_PEER	0x08u
#define HAVE_PORT	0x10u
#define HAVE_NEEDED	0x1fu

static uint32_t class_of(const struct kpv_fdt *f, const struct kpv_fdt_item *it)
{
	if (kpv_fdt_has_string(f, it, KEEL_DT_COMPAT_CONSOLE)) {
		return KEEL_IO_CLASS_CONSOLE;
	}
	if (kpv_fdt_has_string(f, it, KEEL_DT_COMPAT_BLOCK)) {
		return KEEL_IO_CLASS_BLOCK;
	}
	if (kpv_fdt_has_string(f, it, KEEL_DT_COMPAT_NET)) {
		return KEEL_IO_CLASS_NET;
	}
	return 0;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static bool name_is(const struct kpv_fdt_item *it, const char *name)
{
	return it->name_ok && str_eq(it->name, name);
}

/* A u32 property of a device node into *@v, flagging @bit when well formed. */
static void device_u32(struct walk *w, const struct kpv_fdt_item *it, uint32_t *v, uint32_t bit)
{
	if (kpv_fdt_u32(&w->fdt, it, v)) {
		w->have |= bit;
	}
}

static void device_prop(struct walk *w, const struct kpv_fdt_item *it)
{
	char role[16];

	if (name_is(it, "compatible")) {
		w->dev.device_class = class_of(&w->fdt, it);
		w->have |= w->dev.device_class ? HAVE_CLASS : 0;
	} else if (name_is(it, KEEL_DT_PROP_REG)) {
		device_u32(w, it, &w->dev.device_id, HAVE_ID);
	} else if (name_is(it, KEEL_DT_PROP_ROLE)) {
		if (kpv_fdt_string(&w->fdt, it, role, sizeof(role))) {
			bool back = str_eq(role, KEEL_DT_ROLE_BACKEND);

			w->dev.backend = back;
			w->have |= back || str_eq(role, KEEL_DT_ROLE_FRONTEND) ? HAVE_ROLE : 0;
		}
	} else if (name_is(it, KEEL_DT_PROP_PEER_DOMID)) {
		device_u32(w, it, &w->dev.peer_domid, HAVE_PEER);
	} else if (name_is(it, KEEL_DT_PROP_EVENT_PORT)) {
		device_u32(w, it, &w->dev.event_port, HAVE_PORT);
	} else if (name_is(it, KEEL_DT_PROP_INDEX)) {
		kpv_fdt_u32(&w->fdt, it, &w->dev.index);
	} else if (name_is(it, KEEL_DT_PROP_LABEL)) {
		if (!kpv_fdt_string(&w->fdt, it, w->dev.label, sizeof(w->dev.label))) {
			w->dev.label[0] = '\0';
		}
	}
}

static void root_prop(struct walk *w, const struct kpv_fdt_item *it)
{
	if (name_is(it, "compatible")) {
		w->compatible = kpv_fdt_has_string(&w->fdt, it, KEEL_DT_COMPATIBLE);
	} else if (name_is(it, KEEL_DT_PROP_VERSION) && it->value_len == 8) {
		struct kpv_fdt_item major = *it;

		major.value_len = 4;
		w->versioned = kpv_fdt_u32(&w->fdt, &major, &w->major);
	}
}

static void node_begin(struct walk *w, const struct kpv_fdt_item *it)
{
	enum node_kind parent = w->depth > 0 ? w->kinds[w->depth - 1] : NODE_OTHER;
	enum node_kind kind = NODE_OTHER;

	if (w->depth == 0) {
		kind = NODE_ROOT;
	} else if (parent == NODE_ROOT && name_is(it, KEEL_DT_NODE_DEVICES)) {
		kind = NODE_DEVICES;
	} else if (parent == NODE_DEVICES) {
		kind = NODE_DEVICE;
		w->dev = (struct kpv_device_info){ 0 };
		w->have = 0;
	}
	w->kinds[w->depth++] = kind;
}

static void node_end(struct walk *w)
{
	if (w->kinds[--w->depth] != NODE_DEVICE) {
		return;
	}
	if ((w->have & HAVE_NEEDED) != HAVE_NEEDED) {
		kpv_log(KPV_LOG_WARN, "kpv: device table: skipping an incomplete device node");
		return;
	}
	if ((unsigned int)w->count < w->max) {
		w->out[w->count] = w->dev;
	}
	w->count++;
}

/* Walk every item; 0 or -KEEL_EINVAL. */
static int walk_items(struct walk *w)
{
	struct kpv_fdt_item it;
	int rc;

	while ((rc = kpv_fdt_next(&w->fdt, &it)) > 0) {
		if (it.kind == KPV_FDT_NODE) {
			if (w->depth == MAX_DEPTH || (w->depth == 0 && w->kinds[0] == NODE_ROOT)) {
				return -KEEL_EINVAL;	/* too deep, or a second root */
			}
			node_begin(w, &it);
		} else if (it.kind == KPV_FDT_NODE_END) {
			if (w->depth == 0) {
				return -KEEL_EINVAL;
			}
			node_end(w);
		} else if (w->depth == 0) {
			return -KEEL_EINVAL;		/* a property outside any node */
		} else if (w->kinds[w->depth - 1] == NODE_ROOT) {
			root_prop(w, &it);
		} else if (w->kinds[w->depth - 1] == NODE_DEVICE) {
			device_prop(w, &it);
		}
	}
	return rc < 0 || w->depth != 0 ? -KEEL_EINVAL : 0;
}

/* The devices of the table in @b; the count, -KEEL_EVERSION or -KEEL_EINVAL. */
static int parse(const struct kpv_blob *b, struct kpv_device_info *out, unsigned int max)
{
	struct walk w = { .out = out, .max = max };
	int rc = kpv_fdt_open(&w.fdt, b);

	if (rc == 0) {
		rc = walk_items(&w);
	}
	/* Another major may have changed anything: say so before any other complaint. */
	if (w.versioned && w.major != KEEL_DT_VERSION_MAJOR) {
		return -KEEL_EVERSION;
	}
	if (rc == 0 && (!w.compatible || !w.versioned)) {
		rc = -KEEL_EINVAL;
	}
	return rc == 0 ? w.count : rc;
}

int kpv_devices(struct kpv *k, struct kpv_device_info *out, unsigned int max)
{
	struct kpv_blob b = { 0 };
	int rc = read_table(k, &b);

	if (rc != 0) {
		return rc;
	}
	rc = parse(&b, out, max);
	blob_free(&b);
	if (rc < 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: device table refused (%d)", rc);
	}
	return rc;
}
