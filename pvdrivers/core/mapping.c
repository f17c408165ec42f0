/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/mapping.c - what we map or copy from others: other
 * domains' grants (map, unmap, batched copy) and Keel-owned device pages.
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

/* The parked entry of Keel page (@space, @index), or NULL. [win_lock] */
static struct kpv_parked *parked_find(struct kpv *k, uint32_t space, uint64_t index)
{
	for (uint32_t i = 0; i < k->nr_parked; i++) {
		if (k->parked[i].space == space && k->parked[i].index == index) {
			return &k->parked[i];
		}
	}
	return NULL;
}

/* Take the GFN where page (@space, @index) is left mapped, if any. */
static bool parked_take(struct kpv *k, uint32_t space, uint64_t index, uint64_t *gfn)
{
	unsigned long flags = kpv_shim_lock(k->win_lock);
	struct kpv_parked *p = parked_find(k, space, index);
	bool found = p && !p->in_use;

	if (found) {
		p->in_use = 1;
		*gfn = p->gfn;
	}
	kpv_shim_unlock(k->win_lock, flags);
	return found;
}

/* Page (@space, @index) is now Keel's at @gfn: remember it (or give the GFN up). */
static void parked_add(struct kpv *k, uint32_t space, uint64_t index, uint64_t gfn)
{
	unsigned long flags;
	bool kept = false;

	kpv_window_lose(k, gfn);	/* Keel's page: never free for us again */
	flags = kpv_shim_lock(k->win_lock);
	if (!parked_find(k, space, index) && k->nr_parked < KPV_PARKED_MAX) {
		k->parked[k->nr_parked++] = (struct kpv_parked){ space, 1, index, gfn };
		kept = true;
	}
	kpv_shim_unlock(k->win_lock, flags);
	if (!kept) {
		kpv_log(KPV_LOG_WARN, "kpv: Keel page %u/%llu left at GFN %llx for good", space,
			(unsigned long long)index, (unsigned long long)gfn);
	}
}

void *kpv_map_shared(struct kpv *k, uint32_t space, uint64_t index, uint64_t *gfn)
{
	long rc = -KEEL_EBUSY;
	void *va;

	/* Shared info and grant frames have fixed slots that only kpv_start() maps. */
	if (space != KEEL_MAPSPACE_DEVICE_PAGE) {
		return NULL;
	}
	if (parked_take(k, space, index, gfn)) {
		/* Where it already is: Keel changes nothing, but checks it is still ours. */
		rc = kpv_hc(KEEL_HC_MEMORY_MAP_SHARED, space, index, *gfn);
		if (rc < 0) {
			kpv_unmap_shared(k, NULL, *gfn);
			return NULL;
		}
	} else {
		/*
		 * A GFN Keel says is occupied (what an earlier instance left) is
		 * lost for good, so this ends, at the latest when the window does.
		 */
		while (rc == -KEEL_EBUSY) {
			if (kpv_window_alloc(k, gfn) != 0) {
				return NULL;
			}
			rc = kpv_hc(KEEL_HC_MEMORY_MAP_SHARED, space, index, *gfn);
			if (rc == -KEEL_EBUSY) {
				kpv_window_lose(k, *gfn);
			} else if (rc < 0) {
				kpv_window_free(k, *gfn);
			}
		}
		if (rc < 0) {
			return NULL;
		}
		parked_add(k, space, index, *gfn);
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

	if (va) {
		kpv_shim_unmap_gpa(va, 1);
	}
	flags = kpv_shim_lock(k->win_lock);
	for (uint32_t i = 0; i < k->nr_parked; i++) {
		if (k->parked[i].gfn == gfn) {
			k->parked[i].in_use = 0;
		}
	}
	kpv_shim_unlock(k->win_lock, flags);
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
