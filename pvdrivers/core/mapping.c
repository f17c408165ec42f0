/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/mapping.c - what we map or copy from others: other
 * domains' grants (map, unmap, batched copy) and Keel-owned device pages.
 *
 * A device page is unmapped for real where Keel has
 * KEEL_HC_MEMORY_UNMAP_SHARED (ABI 1.1), so a removed device's page is
 * freed once its last mapping goes. On a 1.0 Keel it stays mapped, parked
 * at its GFN for the next mapping of the same page.
 */
#include "internal.h"

#define KPV_COPY_BATCH		(KPV_PAGE_SIZE / sizeof(struct keel_gnttab_copy))

void *kpv_map_keel_at(uint32_t space, uint64_t index, uint64_t gfn, int *err)
{
	long rc = kpv_hc(KEEL_HC_MEMORY_MAP_SHARED, space, index, gfn);
	void *va;

	if (rc < 0) {
		*err = kpv_err(rc);
		return NULL;
	}
	va = kpv_shim_map_gpa(gfn << KPV_PAGE_SHIFT, 1);
	*err = va ? 0 : -KEEL_ENOMEM;
	return va;
}

static bool can_unmap(const struct kpv *k)
{
	return k->keel_minor >= KPV_ABI_MINOR_UNMAP;
}

_Static_assert(KPV_KEEL_MAPS_MAX * sizeof(struct kpv_keel_map) <= KPV_PAGE_SIZE,
	       "the table is one kpv_shim_alloc()");

/* The entry of device page @id, or NULL. [keel_lock] */
static struct kpv_keel_map *map_of(struct kpv *k, uint32_t id)
{
	for (uint32_t i = 0; i < k->nr_keel_maps; i++) {
		if (k->keel_maps[i].device_id == id) {
			return &k->keel_maps[i];
		}
	}
	return NULL;
}

/* The entry mapped at @gfn, or NULL. [keel_lock] */
static struct kpv_keel_map *map_at(struct kpv *k, uint64_t gfn)
{
	for (uint32_t i = 0; i < k->nr_keel_maps; i++) {
		if (k->keel_maps[i].gfn == gfn) {
			return &k->keel_maps[i];
		}
	}
	return NULL;
}

/* An entry with @users users, or NULL. [keel_lock] */
static struct kpv_keel_map *map_at_users(struct kpv *k, uint32_t users)
{
	for (uint32_t i = 0; i < k->nr_keel_maps; i++) {
		if (k->keel_maps[i].users == users) {
			return &k->keel_maps[i];
		}
	}
	return NULL;
}

/* [keel_lock] */
static void map_remove(struct kpv *k, struct kpv_keel_map *m)
{
	*m = k->keel_maps[--k->nr_keel_maps];
}

/*
 * A 1.0 Keel with the table full: forget a parked page (it stays at its
 * GFN for good, as 1.0 cannot unmap it) to make room. [keel_lock]
 */
static bool map_evict_parked(struct kpv *k)
{
	struct kpv_keel_map *m = map_at_users(k, 0);

	if (!m) {
		return false;
	}
	kpv_log(KPV_LOG_WARN, "kpv: Keel page of device %u left at GFN %llx for good",
		m->device_id, (unsigned long long)m->gfn);
	map_remove(k, m);
	return true;
}

/* Map device page @id at a free window GFN; 0 or an error. [keel_lock] */
static long map_fresh(struct kpv *k, uint32_t id, uint64_t *gfn)
{
	long rc = -KEEL_EBUSY;

	/*
	 * A GFN Keel says is occupied (what an earlier instance left) is lost
	 * for good, so this ends, at the latest when the window does.
	 */
	while (rc == -KEEL_EBUSY) {
		if (kpv_window_alloc(k, gfn) != 0) {
			return -KEEL_ENOSPC;
		}
		rc = kpv_hc(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_DEVICE_PAGE, id, *gfn);
		if (rc == -KEEL_EBUSY) {
			kpv_window_lose(k, *gfn);
		} else if (rc < 0) {
			kpv_window_free(k, *gfn);
		}
	}
	if (rc == 0 && !can_unmap(k)) {
		kpv_window_lose(k, *gfn);	/* Keel's page there for good */
	}
	return rc;
}

/*
 * One more user of device page @id: where it is mapped already, or
 * where a 1.0 Keel left it, or at a fresh GFN. Holding keel_lock across the
 * hypercalls keeps a second mapping (which would move the page) out.
 */
static long map_get(struct kpv *k, uint32_t id, uint64_t *gfn)
{
	unsigned long flags = kpv_shim_lock(k->keel_lock);
	struct kpv_keel_map *m = map_of(k, id);
	long rc = 0;

	if (m && m->users == 0) {
		/* Parked (1.0): Keel changes nothing, but checks the page is still ours. */
		rc = kpv_hc(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_DEVICE_PAGE, id, m->gfn);
	} else if (!m && k->nr_keel_maps == KPV_KEEL_MAPS_MAX && !map_evict_parked(k)) {
		rc = -KEEL_ENOSPC;
	} else if (!m) {
		rc = map_fresh(k, id, gfn);
		if (rc == 0) {
			m = &k->keel_maps[k->nr_keel_maps++];
			*m = (struct kpv_keel_map){ .gfn = *gfn, .device_id = id };
		}
	}
	if (rc == 0) {
		m->users++;
		*gfn = m->gfn;
	}
	kpv_shim_unlock(k->keel_lock, flags);
	return rc;
}

void *kpv_map_shared(struct kpv *k, uint32_t space, uint64_t index, uint64_t *gfn)
{
	long rc;
	void *va;

	/* Shared info and grant frames have fixed slots that only kpv_start() maps. */
	if (space != KEEL_MAPSPACE_DEVICE_PAGE || index > UINT32_MAX) {
		return NULL;
	}
	rc = map_get(k, (uint32_t)index, gfn);
	if (rc == -KEEL_ENOSPC) {
		kpv_log(KPV_LOG_WARN, "kpv: no room to map Keel page %u/%llu", space,
			(unsigned long long)index);
	}
	if (rc != 0) {
		return NULL;
	}
	va = kpv_shim_map_gpa(*gfn << KPV_PAGE_SHIFT, 1);
	if (!va) {
		kpv_unmap_shared(k, NULL, *gfn);
	}
	return va;
}

void kpv_unmap_shared(struct kpv *k, void *va, uint64_t gfn)
{
	unsigned long flags;
	struct kpv_keel_map *m;
	long rc = 0;

	if (va) {
		kpv_shim_unmap_gpa(va, 1);
	}
	flags = kpv_shim_lock(k->keel_lock);
	m = map_at(k, gfn);
	if (m && m->users > 0 && --m->users == 0 && can_unmap(k)) {
		rc = kpv_hc(KEEL_HC_MEMORY_UNMAP_SHARED, gfn, 0, 0);
		map_remove(k, m);
		if (rc == 0) {
			kpv_window_free(k, gfn);
		} else {
			kpv_window_lose(k, gfn);
		}
	}
	kpv_shim_unlock(k->keel_lock, flags);
	/* We mapped it there ourselves: a failure is a bug, never a peer's doing. */
	if (!m || rc != 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: unmapping the Keel page at GFN %llx failed (%ld)",
			(unsigned long long)gfn, m ? rc : (long)-KEEL_EINVAL);
	}
}

/* A batch of one: the element's status, or the call's error. */
static int one(long rc, int32_t status)
{
	if (rc == 1) {
		return status;
	}
	return rc < 0 ? (int)rc : -KEEL_EAGAIN;	/* Keel processes at least one: never 0 */
}

/* One GNTTAB_MAP of @domid's @ref at @gfn. */
static int map_one(uint32_t domid, uint32_t ref, bool readonly, uint64_t gfn, uint32_t *handle)
{
	struct keel_gnttab_map op = {
		.domid = domid, .ref = ref, .gfn = gfn,
		.flags = readonly ? KEEL_GNTMAP_READONLY : 0,
	};
	long rc = kpv_hc_struct(KEEL_HC_GNTTAB_MAP, &op, sizeof(op), 1, 0);

	*handle = op.handle;
	return one(rc, op.status);
}

static int unmap_one(uint64_t gfn, uint32_t handle)
{
	struct keel_gnttab_unmap op = { .gfn = gfn, .handle = handle };
	long rc = kpv_hc_struct(KEEL_HC_GNTTAB_UNMAP, &op, sizeof(op), 1, 0);

	return one(rc, op.status);
}

int kpv_map_grant(struct kpv *k, uint32_t domid, uint32_t ref, bool readonly,
		  struct kpv_mapping *m)
{
	uint64_t gfn = 0;
	uint32_t handle = 0;
	int rc = -KEEL_EBUSY;

	*m = (struct kpv_mapping){ 0 };
	while (rc == -KEEL_EBUSY) {	/* ends: each occupied GFN is lost for good */
		rc = kpv_window_alloc(k, &gfn);
		if (rc != 0) {
			return rc;
		}
		rc = map_one(domid, ref, readonly, gfn, &handle);
		if (rc == -KEEL_EBUSY) {
			kpv_window_lose(k, gfn);	/* something we do not know sits there */
		} else if (rc != 0) {
			kpv_window_free(k, gfn);
		}
	}
	if (rc != 0) {
		return rc;
	}
	m->va = kpv_shim_map_gpa(gfn << KPV_PAGE_SHIFT, 1);
	m->gfn = gfn;
	m->handle = handle;
	if (!m->va) {
		kpv_unmap_grant(k, m);
		return -KEEL_ENOMEM;
	}
	return 0;
}

void kpv_unmap_grant(struct kpv *k, struct kpv_mapping *m)
{
	int rc;

	if (!m->gfn) {
		return;
	}
	if (m->va) {
		kpv_shim_unmap_gpa(m->va, 1);
	}
	rc = unmap_one(m->gfn, m->handle);
	if (rc == 0) {
		kpv_window_free(k, m->gfn);
	} else {
		/* Our own handle: a bug or a lost page, never the peer's doing. */
		kpv_log(KPV_LOG_ERROR, "kpv: unmapping GFN %llx failed (%d)",
			(unsigned long long)m->gfn, rc);
		kpv_window_lose(k, m->gfn);
	}
	*m = (struct kpv_mapping){ 0 };
}

/* One side of a copy in Keel's terms. */
static void copy_side(uint32_t domid, uint32_t ref, const void *va, uint16_t offset,
		      uint32_t *out_domid, uint32_t *out_ref, uint64_t *out_gfn,
		      uint16_t *out_offset)
{
	uint64_t gpa;

	*out_domid = domid;
	if (domid != KEEL_DOMID_SELF) {
		*out_ref = ref;
		*out_gfn = 0;
		*out_offset = offset;
		return;
	}
	gpa = kpv_shim_virt_to_gpa(va) + offset;
	*out_ref = 0;
	*out_gfn = gpa >> KPV_PAGE_SHIFT;
	*out_offset = (uint16_t)(gpa & (KPV_PAGE_SIZE - 1));
}

static void copy_fill(struct keel_gnttab_copy *c, const struct kpv_copy *op)
{
	kpv_memset(c, 0, sizeof(*c));
	copy_side(op->src_domid, op->src_ref, op->src_va, op->src_offset, &c->src_domid,
		  &c->src_ref, &c->src_gfn, &c->src_offset);
	copy_side(op->dst_domid, op->dst_ref, op->dst_va, op->dst_offset, &c->dst_domid,
		  &c->dst_ref, &c->dst_gfn, &c->dst_offset);
	c->len = op->len;
}

/* Run @n (<= KPV_COPY_BATCH) elements of @batch; each call processes at least one. */
static int copy_run(struct keel_gnttab_copy *batch, unsigned int n)
{
	unsigned int done = 0;

	while (done < n) {
		long rc = kpv_hc(KEEL_HC_GNTTAB_COPY, kpv_shim_virt_to_gpa(&batch[done]),
				 n - done, 0);

		if (rc <= 0 || (unsigned long)rc > n - done) {
			int err = rc < 0 ? (int)rc : -KEEL_EAGAIN;

			for (unsigned int i = done; i < n; i++) {
				batch[i].status = err;
			}
			return err;
		}
		done += (unsigned int)rc;
	}
	return 0;
}

int kpv_grant_copy(struct kpv *k, struct kpv_copy *ops, unsigned int n)
{
	struct keel_gnttab_copy *batch;
	int first = 0;

	(void)k;
	if (n == 0) {
		return 0;
	}
	batch = kpv_shim_alloc(KPV_PAGE_SIZE);
	if (!batch) {
		return -KEEL_ENOMEM;
	}
	for (unsigned int base = 0; base < n; base += KPV_COPY_BATCH) {
		unsigned int m = (unsigned int)KPV_MIN(n - base, KPV_COPY_BATCH);

		for (unsigned int i = 0; i < m; i++) {
			copy_fill(&batch[i], &ops[base + i]);
		}
		copy_run(batch, m);
		for (unsigned int i = 0; i < m; i++) {
			ops[base + i].status = batch[i].status;
			if (!first && batch[i].status) {
				first = batch[i].status;
			}
		}
	}
	kpv_shim_free(batch);
	return first;
}
