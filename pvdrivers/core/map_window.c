/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/map_window.c - the allocator of map-window GFNs: a bitmap
 * over the window Keel keeps empty for our mappings.
 *
 * The first KPV_WINDOW_FIXED pages are fixed slots (shared info, grant
 * frames), so that a restarted instance maps those Keel pages where the
 * last one left them: ABI 1.0 cannot unmap a Keel page, and mapping it at
 * the GFN it already occupies changes nothing (on 1.1 the fixed slots
 * stay too: one scheme for both). A GFN that turns out to hold something
 * we did not put there (a Keel page an earlier instance left behind) is
 * kept taken for good.
 */
#include "internal.h"

static bool bit(const uint64_t *bits, uint32_t i)
{
	return (bits[i / 64] >> (i % 64)) & 1;
}

static void set_bit(uint64_t *bits, uint32_t i, bool on)
{
	if (on) {
		bits[i / 64] |= 1ull << (i % 64);
	} else {
		bits[i / 64] &= ~(1ull << (i % 64));
	}
}

int kpv_window_init(struct kpv *k)
{
	struct keel_memory_info info = { 0 };
	long rc = kpv_hc_struct(KEEL_HC_MEMORY_QUERY, &info, sizeof(info), 0, 0);

	if (rc < 0) {
		return kpv_err(rc);
	}
	k->win_gfn = info.map_window_gfn;
	k->win_pages = (uint32_t)KPV_MIN(info.map_window_pages, (uint64_t)KPV_WINDOW_MAX_PAGES);
	if (k->win_pages < KPV_WINDOW_FIXED + 1) {
		kpv_log(KPV_LOG_ERROR, "kpv: map window of %u pages is too small", k->win_pages);
		return -KEEL_ENOSPC;
	}
	k->win_bits = kpv_shim_alloc((k->win_pages + 63) / 64 * 8);
	k->keel_maps = kpv_shim_alloc(KPV_KEEL_MAPS_MAX * sizeof(*k->keel_maps));
	k->win_lock = kpv_shim_lock_create();
	k->keel_lock = kpv_shim_lock_create();
	if (!k->win_bits || !k->keel_maps || !k->win_lock || !k->keel_lock) {
		kpv_window_fini(k);
		return -KEEL_ENOMEM;
	}
	for (uint32_t i = 0; i < KPV_WINDOW_FIXED; i++) {
		set_bit(k->win_bits, i, true);
	}
	return 0;
}

void kpv_window_fini(struct kpv *k)
{
	if (k->win_dynamic) {
		kpv_log(KPV_LOG_WARN, "kpv: %u map-window pages still taken at stop",
			k->win_dynamic);
	}
	kpv_shim_free(k->win_bits);
	kpv_shim_free(k->keel_maps);
	if (k->win_lock) {
		kpv_shim_lock_destroy(k->win_lock);
	}
	if (k->keel_lock) {
		kpv_shim_lock_destroy(k->keel_lock);
	}
	k->win_bits = NULL;
	k->keel_maps = NULL;
	k->win_lock = NULL;
	k->keel_lock = NULL;
}

uint64_t kpv_window_slot(const struct kpv *k, uint32_t slot)
{
	return k->win_gfn + slot;
}

int kpv_window_alloc(struct kpv *k, uint64_t *gfn)
{
	unsigned long flags = kpv_shim_lock(k->win_lock);
	int rc = -KEEL_ENOSPC;

	for (uint32_t w = 0; w < (k->win_pages + 63) / 64; w++) {
		uint64_t free_bits = ~k->win_bits[w];
		uint32_t i;

		if (!free_bits) {
			continue;
		}
		i = w * 64 + kpv_ctz64(free_bits);
		if (i >= k->win_pages) {
			break;
		}
		set_bit(k->win_bits, i, true);
		k->win_dynamic++;
		*gfn = k->win_gfn + i;
		rc = 0;
		break;
	}
	kpv_shim_unlock(k->win_lock, flags);
	return rc;
}

/* The bit of @gfn if it is a dynamic page of the window, else -1. */
static int64_t dynamic_index(const struct kpv *k, uint64_t gfn)
{
	if (gfn < k->win_gfn + KPV_WINDOW_FIXED || gfn >= k->win_gfn + k->win_pages) {
		return -1;
	}
	return (int64_t)(gfn - k->win_gfn);
}

void kpv_window_free(struct kpv *k, uint64_t gfn)
{
	int64_t i = dynamic_index(k, gfn);
	unsigned long flags;
	bool ok = false;

	if (i < 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: freeing GFN %llx outside the map window",
			(unsigned long long)gfn);
		return;
	}
	flags = kpv_shim_lock(k->win_lock);
	if (bit(k->win_bits, (uint32_t)i)) {
		set_bit(k->win_bits, (uint32_t)i, false);
		k->win_dynamic--;
		ok = true;
	}
	kpv_shim_unlock(k->win_lock, flags);
	if (!ok) {
		kpv_log(KPV_LOG_ERROR, "kpv: map-window GFN %llx freed twice",
			(unsigned long long)gfn);
	}
}

void kpv_window_lose(struct kpv *k, uint64_t gfn)
{
	int64_t i = dynamic_index(k, gfn);
	unsigned long flags;

	if (i < 0) {
		return;
	}
	/* Still marked taken; it just no longer counts as ours. */
	flags = kpv_shim_lock(k->win_lock);
	if (bit(k->win_bits, (uint32_t)i)) {
		k->win_dynamic--;
	}
	set_bit(k->win_bits, (uint32_t)i, true);
	kpv_shim_unlock(k->win_lock, flags);
}
