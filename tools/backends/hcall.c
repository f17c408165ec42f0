/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/hcall.c - Keel as pvdrivers sees it from inside the backend
 * daemon. pvdrivers was written for a kernel; a process owns none of the
 * kernel's state, so this file plays Keel for that part, per instance:
 *   - the shared info and the one vCPU info (ports' pending and mask bits,
 *     the device-table generation), an upcall that the loop delivers;
 *   - a map window of made-up GFNs: each holds a page this process mapped
 *     through the driver (a grant, a device control page) or a page of ours;
 *   - a grant table nobody maps (backends grant nothing);
 *   - grant copies, done as map, memcpy, unmap of the foreign pages.
 * What is real goes to the driver or, for the calls that only read this
 * domain's state (DEVICE_TABLE_READ, EVTCHN_STATUS), to Keel through
 * libkeelctl. A GPA pvdrivers passes is its own address (shim.c).
 */
#include <stdlib.h>
#include <string.h>
#include <keel/device_table.h>
#include <keel/errno.h>
#include <keel/event_channel.h>
#include <keel/grant_table.h>
#include <keel/hypercall.h>
#include <keel/memory.h>
#include <keel/shared_info.h>
#include <keel/vcpu.h>
#include <keel_pv/kpv.h>
#include <keelctl/keelctl.h>
#include "driver.h"
#include "hcall.h"
#include "loop.h"

#define WIN_GFN		0x4000000ull	/* any GFN: nothing but this file reads them */
#define WIN_PAGES	32768u		/* what pvdrivers manages at most */
#define PORTS		KEEL_EVTCHN_BASE_PORTS
#define FIRED_BATCH	64u
#define DT_TRIES	8

/*
 * WIN_LEFT: a device page pvdrivers stopped viewing. The driver's mapping
 * is gone, but the GFN stays taken as on Keel, where the page is still
 * mapped there until UNMAP_SHARED (1.1) or for good (1.0, where pvdrivers
 * maps it there again).
 */
enum win_kind { WIN_EMPTY, WIN_OURS, WIN_GRANT, WIN_DEVICE, WIN_LEFT };

struct win_slot {
	uint8_t kind;
	uint32_t device_id;		/* WIN_DEVICE, WIN_LEFT */
	void *va;
};

static struct {
	struct keelctl *c;
	struct kb_driver *d;
	struct kpv *kpv;
	struct keel_shared_info *shared;	/* ours: nobody else writes it */
	struct keel_vcpu_info *vi;		/* registered by pvdrivers */
	void *grant_frame;			/* the emulated table's one frame */
	uint32_t grant_frames;
	uint32_t dt_port;			/* KEEL_VIRQ_DEVICE_TABLE, once bound */
	struct win_slot win[WIN_PAGES];
	/* The device table as last read, for the generation it was read in. */
	uint8_t *dt;
	uint32_t dt_size, dt_gen;
	bool dt_valid;
} h;

static struct keel_shared_info shared_page __attribute__((aligned(4096)));

void kb_hcall_init(struct keelctl *c, struct kb_driver *d, uint32_t domid)
{
	h.c = c;
	h.d = d;
	h.shared = &shared_page;
	memset(h.shared, 0, sizeof(*h.shared));
	h.shared->domid = domid;
	h.shared->nr_vcpus = 1;
	h.shared->evtchn_port_limit = PORTS;
}

void kb_hcall_upcall_connect(struct kpv *k)
{
	h.kpv = k;
}

/* --- The map window ----------------------------------------------------------------- */

static struct win_slot *slot(uint64_t gfn)
{
	return gfn >= WIN_GFN && gfn < WIN_GFN + WIN_PAGES ? &h.win[gfn - WIN_GFN] : NULL;
}

void *kb_hcall_window_view(uint64_t gfn)
{
	struct win_slot *s = slot(gfn);

	return s ? s->va : NULL;
}

/*
 * pvdrivers drops its view of a page. A device page then goes back to the
 * driver at once (which unmaps it from Keel, or on a 1.0 Keel keeps it
 * parked for the next open) and the slot is left taken until UNMAP_SHARED;
 * a grant stays until GNTTAB_UNMAP, our own pages stay for good.
 */
void kb_hcall_window_unview(void *va)
{
	for (uint32_t i = 0; i < WIN_PAGES; i++) {
		if (h.win[i].va == va && h.win[i].kind == WIN_DEVICE) {
			h.d->unmap_device_page(h.d, va);
			h.win[i].kind = WIN_LEFT;
			h.win[i].va = NULL;
			return;
		}
	}
}

static long unmap_shared(uint64_t gfn)
{
	struct win_slot *s = slot(gfn);

	if (!s || s->kind == WIN_EMPTY || s->kind == WIN_GRANT) {
		return -KEEL_EINVAL;
	}
	if (s->kind == WIN_DEVICE) {
		h.d->unmap_device_page(h.d, s->va);
	}
	*s = (struct win_slot){ .kind = WIN_EMPTY };
	return 0;
}

static long map_shared(uint64_t space, uint64_t index, uint64_t gfn)
{
	struct win_slot *s = slot(gfn);
	int err = 0;

	/* A device page left at its GFN maps there again (pvdrivers on a 1.0 Keel). */
	if (!s || (s->kind != WIN_EMPTY &&
		   !(s->kind == WIN_LEFT && space == KEEL_MAPSPACE_DEVICE_PAGE &&
		     index == s->device_id))) {
		return -KEEL_EBUSY;
	}
	switch (space) {
	case KEEL_MAPSPACE_SHARED_INFO:
		if (index != 0) {
			return -KEEL_EINVAL;
		}
		*s = (struct win_slot){ .kind = WIN_OURS, .va = h.shared };
		return 0;
	case KEEL_MAPSPACE_GRANT_TABLE:
		if (index >= h.grant_frames) {
			return -KEEL_ENOENT;
		}
		if (!h.grant_frame && !(h.grant_frame = kpv_shim_page_alloc())) {
			return -KEEL_ENOMEM;
		}
		*s = (struct win_slot){ .kind = WIN_OURS, .va = h.grant_frame };
		return 0;
	case KEEL_MAPSPACE_DEVICE_PAGE:
		if (index > UINT32_MAX) {
			return -KEEL_EINVAL;
		}
		s->va = h.d->map_device_page(h.d, (uint32_t)index, &err);
		if (!s->va) {
			return err;
		}
		s->kind = WIN_DEVICE;
		s->device_id = (uint32_t)index;
		return 0;
	default:
		return -KEEL_EINVAL;
	}
}

/* --- Event channels ------------------------------------------------------------------ */

static bool port_bit(const uint64_t *words, uint32_t port)
{
	return (__atomic_load_n(&words[port / 64], __ATOMIC_SEQ_CST) >> (port % 64)) & 1;
}

static void port_set(uint64_t *words, uint32_t port, bool on)
{
	if (on) {
		__atomic_fetch_or(&words[port / 64], 1ull << (port % 64), __ATOMIC_SEQ_CST);
	} else {
		__atomic_fetch_and(&words[port / 64], ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
	}
}

/* What Keel does for a pending, unmasked port: selector bits and upcall_pending. */
static void raise_upcall(uint32_t port)
{
	if (!h.vi) {
		return;
	}
	__atomic_fetch_or(&h.vi->evtchn_pending_sel[0], 1ull << (port / 64), __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&h.vi->evtchn_pending_top, 1ull, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h.vi->upcall_pending, 1, __ATOMIC_SEQ_CST);
}

static void port_event(uint32_t port)
{
	if (port == 0 || port >= PORTS) {
		return;
	}
	if (port == h.dt_port) {
		/* Keel bumps the generation before it raises the VIRQ. */
		__atomic_fetch_add(&h.shared->device_table_generation, 1, __ATOMIC_SEQ_CST);
	}
	port_set(h.shared->evtchn_pending, port, true);
	if (!port_bit(h.shared->evtchn_mask, port)) {
		raise_upcall(port);
	}
}

bool kb_hcall_deliver(void *unused)
{
	uint32_t ports[FIRED_BATCH];
	bool did = false;
	int n;

	(void)unused;
	while ((n = h.d->fired(h.d, ports, FIRED_BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			port_event(ports[i]);
		}
		did = true;
		if (n < (int)FIRED_BATCH) {
			break;
		}
	}
	if (n < 0) {
		kb_err("event channels: %s", keelctl_strerror(n));
	}
	while (h.kpv && h.vi && __atomic_load_n(&h.vi->upcall_pending, __ATOMIC_SEQ_CST)) {
		kpv_upcall(h.kpv);
		did = true;
	}
	return did;
}

static long port_result(int rc, uint32_t port)
{
	if (rc != 0) {
		return rc;
	}
	if (port == 0 || port >= PORTS) {
		/* pvdrivers routes ports of the shared info only; give this one back. */
		h.d->close_port(h.d, port);
		return -KEEL_ENOSPC;
	}
	/* A fresh port starts clear: nothing stale from an earlier user of the number. */
	port_set(h.shared->evtchn_pending, port, false);
	port_set(h.shared->evtchn_mask, port, false);
	return port;
}

static long evtchn_status(void *st)
{
	uint64_t args[6] = { 0 };
	struct keel_privcmd_buf b = {
		.addr = (uintptr_t)st, .len = sizeof(struct keel_evtchn_status),
		.flags = KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT, .at = KEEL_PRIVCMD_AT_ARG,
	};

	return keelctl_hypercall(h.c, KEEL_HC_EVTCHN_STATUS, args, &b, 1);
}

static long evtchn_call(uint64_t nr, uint64_t a0, uint64_t a1)
{
	uint32_t port = 0;
	int rc;

	switch (nr) {
	case KEEL_HC_EVTCHN_ALLOC_UNBOUND:
		rc = h.d->alloc_unbound(h.d, (uint32_t)a0, &port);
		return port_result(rc, port);
	case KEEL_HC_EVTCHN_BIND_INTERDOMAIN:
		rc = h.d->bind_interdomain(h.d, (uint32_t)a0, (uint32_t)a1, &port);
		return port_result(rc, port);
	case KEEL_HC_EVTCHN_BIND_VIRQ: {
		long r;

		rc = h.d->bind_virq(h.d, (uint32_t)a0, &port);
		r = port_result(rc, port);
		if (r > 0 && a0 == KEEL_VIRQ_DEVICE_TABLE) {
			h.dt_port = (uint32_t)r;
		}
		return r;
	}
	case KEEL_HC_EVTCHN_SEND:
		return h.d->notify(h.d, (uint32_t)a0);
	case KEEL_HC_EVTCHN_CLOSE:
		rc = h.d->close_port(h.d, (uint32_t)a0);
		if (rc == 0 && a0 < PORTS) {
			port_set(h.shared->evtchn_pending, (uint32_t)a0, false);
			h.dt_port = h.dt_port == a0 ? 0 : h.dt_port;
		}
		return rc;
	case KEEL_HC_EVTCHN_MASK:
	case KEEL_HC_EVTCHN_UNMASK:
		if (a0 == 0 || a0 >= PORTS) {
			return -KEEL_EINVAL;
		}
		port_set(h.shared->evtchn_mask, (uint32_t)a0, nr == KEEL_HC_EVTCHN_MASK);
		if (nr == KEEL_HC_EVTCHN_UNMASK && port_bit(h.shared->evtchn_pending, (uint32_t)a0)) {
			raise_upcall((uint32_t)a0);	/* delivered by the loop, after this call */
		}
		return 0;
	case KEEL_HC_EVTCHN_STATUS:
		return evtchn_status((void *)(uintptr_t)a0);
	case KEEL_HC_EVTCHN_SET_UPCALL:
		return 0;
	default:
		return -KEEL_ENOSYS;
	}
}

/* --- Grants -------------------------------------------------------------------------- */

static long gnttab_map(struct keel_gnttab_map *ops, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct keel_gnttab_map *op = &ops[i];
		struct win_slot *s = slot(op->gfn);
		int err = 0;

		if (op->pad0 || (op->flags & ~KEEL_GNTMAP_READONLY)) {
			op->status = -KEEL_EINVAL;
			continue;
		}
		if (!s || s->kind != WIN_EMPTY) {
			op->status = -KEEL_EBUSY;
			continue;
		}
		s->va = h.d->map_grants(h.d, op->domid, &op->ref, 1,
					op->flags & KEEL_GNTMAP_READONLY, &err);
		op->status = s->va ? 0 : err;
		if (s->va) {
			s->kind = WIN_GRANT;
			op->handle = (uint32_t)(op->gfn - WIN_GFN) + 1;
		}
	}
	return (long)n;
}

static long gnttab_unmap(struct keel_gnttab_unmap *ops, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct win_slot *s = slot(ops[i].gfn);

		if (!s || s->kind != WIN_GRANT || ops[i].handle != ops[i].gfn - WIN_GFN + 1) {
			ops[i].status = -KEEL_EINVAL;
			continue;
		}
		h.d->unmap_grants(h.d, s->va, 1);
		*s = (struct win_slot){ .kind = WIN_EMPTY };
		ops[i].status = 0;
	}
	return (long)n;
}

/* One foreign page a copy batch touches. */
struct copy_page {
	uint32_t domid, ref;
	bool readonly;
	uint8_t *va;
	int err;
};

/* The page for (@domid, @ref, @readonly) in @pages, added if new. */
static struct copy_page *copy_page(struct copy_page *pages, unsigned int *n, uint32_t domid,
				   uint32_t ref, bool readonly)
{
	for (unsigned int i = 0; i < *n; i++) {
		if (pages[i].domid == domid && pages[i].ref == ref && pages[i].readonly == readonly) {
			return &pages[i];
		}
	}
	pages[*n] = (struct copy_page){ .domid = domid, .ref = ref, .readonly = readonly };
	return &pages[(*n)++];
}

/*
 * Map every page of @pages: one MAP_GRANTS per granter and direction when
 * all of them map, else one by one so each copy gets its own error.
 * @maps records what to unmap: (va, count) pairs.
 */
static unsigned int copy_map(struct copy_page *pages, unsigned int n, void **maps,
			     unsigned int *counts)
{
	uint32_t refs[KEEL_PRIVCMD_MAX_GRANTS];
	unsigned int nr_maps = 0;
	bool done[2 * (KEEL_PAGE_SIZE / sizeof(struct keel_gnttab_copy))] = { false };

	for (unsigned int i = 0; i < n; i++) {
		unsigned int group[2 * (KEEL_PAGE_SIZE / sizeof(struct keel_gnttab_copy))];
		unsigned int g = 0;
		uint8_t *va;
		int err = 0;

		if (done[i]) {
			continue;
		}
		for (unsigned int j = i; j < n; j++) {
			if (!done[j] && pages[j].domid == pages[i].domid &&
			    pages[j].readonly == pages[i].readonly) {
				group[g] = j;
				refs[g++] = pages[j].ref;
				done[j] = true;
			}
		}
		va = h.d->map_grants(h.d, pages[i].domid, refs, g, pages[i].readonly, &err);
		if (va) {
			maps[nr_maps] = va;
			counts[nr_maps++] = g;
			for (unsigned int k = 0; k < g; k++) {
				pages[group[k]].va = va + (size_t)k * KEEL_PAGE_SIZE;
			}
			continue;
		}
		for (unsigned int k = 0; k < g; k++) {
			struct copy_page *p = &pages[group[k]];

			p->va = g == 1 ? NULL : h.d->map_grants(h.d, p->domid, &p->ref, 1,
								 p->readonly, &p->err);
			p->err = g == 1 ? err : p->err;
			if (p->va) {
				maps[nr_maps] = p->va;
				counts[nr_maps++] = 1;
			}
		}
	}
	return nr_maps;
}

static bool copy_side_ok(uint32_t domid, uint32_t ref, uint64_t gfn, uint16_t offset, uint16_t len)
{
	if ((uint32_t)offset + len > KEEL_PAGE_SIZE) {
		return false;
	}
	return domid == KEEL_DOMID_SELF ? ref == 0 : gfn == 0;
}

static long gnttab_copy(struct keel_gnttab_copy *ops, uint64_t n)
{
	enum { MAX = KEEL_PAGE_SIZE / sizeof(struct keel_gnttab_copy) };
	struct copy_page pages[2 * MAX];
	struct copy_page *src[MAX], *dst[MAX];
	void *maps[2 * MAX];
	unsigned int counts[2 * MAX], nr_pages = 0, nr_maps;

	if (n == 0) {
		return -KEEL_EINVAL;
	}
	n = n > MAX ? MAX : n;	/* Keel too processes a page's worth and says how many */
	for (uint64_t i = 0; i < n; i++) {
		struct keel_gnttab_copy *op = &ops[i];

		src[i] = dst[i] = NULL;
		op->status = 0;
		if (op->pad0 || op->pad1 || op->len == 0 ||
		    !copy_side_ok(op->src_domid, op->src_ref, op->src_gfn, op->src_offset, op->len) ||
		    !copy_side_ok(op->dst_domid, op->dst_ref, op->dst_gfn, op->dst_offset, op->len)) {
			op->status = -KEEL_EINVAL;
			continue;
		}
		if (op->src_domid != KEEL_DOMID_SELF) {
			src[i] = copy_page(pages, &nr_pages, op->src_domid, op->src_ref, true);
		}
		if (op->dst_domid != KEEL_DOMID_SELF) {
			dst[i] = copy_page(pages, &nr_pages, op->dst_domid, op->dst_ref, false);
		}
	}
	nr_maps = copy_map(pages, nr_pages, maps, counts);
	for (uint64_t i = 0; i < n; i++) {
		struct keel_gnttab_copy *op = &ops[i];
		const uint8_t *from;
		uint8_t *to;

		if (op->status) {
			continue;
		}
		if ((src[i] && !src[i]->va) || (dst[i] && !dst[i]->va)) {
			op->status = src[i] && !src[i]->va ? src[i]->err : dst[i]->err;
			continue;
		}
		/* Our own side: its "GFN" and offset are its address (shim.c). */
		from = src[i] ? src[i]->va + op->src_offset :
				(const uint8_t *)(uintptr_t)(op->src_gfn * KEEL_PAGE_SIZE + op->src_offset);
		to = dst[i] ? dst[i]->va + op->dst_offset :
			      (uint8_t *)(uintptr_t)(op->dst_gfn * KEEL_PAGE_SIZE + op->dst_offset);
		memcpy(to, from, op->len);
	}
	for (unsigned int i = 0; i < nr_maps; i++) {
		h.d->unmap_grants(h.d, maps[i], counts[i]);
	}
	return (long)n;
}

static long gnttab_call(uint64_t nr, uint64_t a0, uint64_t a1)
{
	switch (nr) {
	case KEEL_HC_GNTTAB_QUERY: {
		struct keel_gnttab_query *q = (void *)(uintptr_t)a0;

		q->nr_frames = h.grant_frames;
		q->max_frames = 1;
		return 0;
	}
	case KEEL_HC_GNTTAB_SETUP:
		if (a0 > 1) {
			return -KEEL_ENOSPC;
		}
		h.grant_frames = a0 > h.grant_frames ? (uint32_t)a0 : h.grant_frames;
		return 0;
	case KEEL_HC_GNTTAB_REVOKE: {
		struct keel_gnttab_revoke *ops = (void *)(uintptr_t)a0;

		/* Nobody maps this emulated table's grants: revoking always succeeds. */
		for (uint64_t i = 0; i < a1; i++) {
			ops[i].status = 0;
		}
		return (long)a1;
	}
	case KEEL_HC_GNTTAB_MAP:
		return a1 ? gnttab_map((void *)(uintptr_t)a0, a1) : -KEEL_EINVAL;
	case KEEL_HC_GNTTAB_UNMAP:
		return a1 ? gnttab_unmap((void *)(uintptr_t)a0, a1) : -KEEL_EINVAL;
	case KEEL_HC_GNTTAB_COPY:
		return gnttab_copy((void *)(uintptr_t)a0, a1);
	default:
		return -KEEL_ENOSYS;
	}
}

/* --- The device table ------------------------------------------------------------------ */

static long dt_read_part(uint8_t *buf, uint32_t off, uint32_t len)
{
	uint64_t args[6] = { 0, off, len };
	struct keel_privcmd_buf b = {
		.addr = (uintptr_t)buf, .len = len, .flags = KEEL_PRIVCMD_BUF_OUT,
		.at = KEEL_PRIVCMD_AT_ARG,
	};

	return keelctl_hypercall(h.c, KEEL_HC_DEVICE_TABLE_READ, args, &b, 1);
}

/* The whole table into a fresh buffer: its size, or an error. */
static long dt_read_all(uint8_t **out)
{
	uint8_t head[40];
	uint32_t total;
	long n = dt_read_part(head, 0, sizeof(head));
	uint8_t *buf;

	if (n < 0) {
		return n;
	}
	if (n != (long)sizeof(head)) {
		return -KEEL_EAGAIN;
	}
	total = (uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 | (uint32_t)head[6] << 8 | head[7];
	if (total < sizeof(head) || total > KEEL_DT_MAX_SIZE) {
		return -KEEL_EINVAL;
	}
	buf = malloc(total);
	if (!buf) {
		return -KEEL_ENOMEM;
	}
	for (uint32_t off = 0; off < total; off += KEEL_PAGE_SIZE) {
		uint32_t len = total - off < KEEL_PAGE_SIZE ? total - off : KEEL_PAGE_SIZE;

		n = dt_read_part(buf + off, off, len);
		if (n != (long)len) {
			free(buf);
			return n < 0 ? n : -KEEL_EAGAIN;
		}
	}
	*out = buf;
	return total;
}

/*
 * A process cannot see Keel's generation counter, so a read is taken as
 * consistent when two whole reads in a row agree. It is kept for the
 * emulated generation it was read in; the VIRQ bumps that (port_event).
 */
static long dt_snapshot(void)
{
	uint8_t *a = NULL, *b = NULL;
	long na = dt_read_all(&a);

	for (int i = 0; i < DT_TRIES && na > 0; i++) {
		long nb = dt_read_all(&b);

		if (nb == na && memcmp(a, b, (size_t)na) == 0) {
			free(b);
			free(h.dt);
			h.dt = a;
			h.dt_size = (uint32_t)na;
			h.dt_gen = h.shared->device_table_generation;
			h.dt_valid = true;
			return 0;
		}
		free(a);
		a = b;
		na = nb;
		b = NULL;
	}
	free(a);
	return na < 0 ? na : -KEEL_EAGAIN;
}

static long dt_read(uint8_t *buf, uint64_t off, uint64_t len)
{
	long rc;

	if (len == 0) {
		return -KEEL_EINVAL;
	}
	if (len > KEEL_PAGE_SIZE) {
		return -KEEL_E2BIG;
	}
	if (!h.dt_valid || h.dt_gen != h.shared->device_table_generation) {
		rc = dt_snapshot();
		if (rc < 0) {
			return rc;
		}
	}
	if (off >= h.dt_size) {
		return 0;
	}
	len = len < h.dt_size - off ? len : h.dt_size - off;
	memcpy(buf, h.dt + off, len);
	return (long)len;
}

/* --- Dispatch ----------------------------------------------------------------------------- */

long kb_hcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	uint64_t args[6] = { a0, a1, a2, a3, a4, 0 };

	switch (nr) {
	case KEEL_HC_VERSION:
	case KEEL_HC_FEATURES:
		return keelctl_hypercall(h.c, (uint32_t)nr, args, NULL, 0);
	case KEEL_HC_IDENTIFY:
		return 0;	/* the kernel identified the domain */
	case KEEL_HC_MEMORY_QUERY: {
		struct keel_memory_info *mi = (void *)(uintptr_t)a0;

		*mi = (struct keel_memory_info){ .map_window_gfn = WIN_GFN,
						 .map_window_pages = WIN_PAGES };
		return 0;
	}
	case KEEL_HC_MEMORY_MAP_SHARED:
		return map_shared(a0, a1, a2);
	case KEEL_HC_MEMORY_UNMAP_SHARED:
		return unmap_shared(a0);
	case KEEL_HC_VCPU_REGISTER_INFO:
		if (a0 != 0) {
			return -KEEL_EINVAL;
		}
		h.vi = (struct keel_vcpu_info *)(uintptr_t)a1;
		return 0;
	case KEEL_HC_DEVICE_TABLE_READ:
		return dt_read((uint8_t *)(uintptr_t)a0, a1, a2);
	default:
		break;
	}
	if ((nr & ~0xfull) == KEEL_HC_GROUP_EVTCHN || nr == KEEL_HC_EVTCHN_SET_UPCALL ||
	    nr == KEEL_HC_EVTCHN_EXPAND) {
		return evtchn_call(nr, a0, a1);
	}
	if ((nr & ~0xfull) == KEEL_HC_GROUP_GNTTAB) {
		return gnttab_call(nr, a0, a1);
	}
	return -KEEL_ENOSYS;
}
