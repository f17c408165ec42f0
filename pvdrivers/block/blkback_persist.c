/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/block/blkback_persist.c - a ring's persistent grants (block.md
 * F_PERSISTENT): each data grant of the frontend mapped the first time a
 * request names it and kept until the connection ends, found again by its
 * gref through a hash table of one page. At most br->pmax of them: past
 * that, or once our map window or memory ran out, a grant is served by
 * grant copy as without the feature (block.md: never a protocol error).
 * Only a grant Keel will not map because of the frontend (not granted to
 * us, read-only) is one: KEEL_IO_ERR_GRANT.
 *
 * Only the ring's worker uses the table, so it needs no lock; it goes when
 * the worker does (ring_free()).
 */
#include "blkback_priv.h"

/* Hash slots: twice the most entries, so probes stay short; a page of them. */
#define PM_SLOTS	(2u * KEEL_IO_BLOCK_PERSISTENT_MAX)

_Static_assert(PM_SLOTS * sizeof(uint16_t) <= KPV_PAGE_SIZE, "the hash is one page");
_Static_assert((PM_SLOTS & (PM_SLOTS - 1)) == 0, "a power of two: probes wrap with a mask");
_Static_assert(BE_PMAP_CHUNKS * BE_PMAP_PER_CHUNK >= KEEL_IO_BLOCK_PERSISTENT_MAX,
	       "the chunks hold the most entries");

static struct be_pmap *entry(const struct be_ring *br, uint32_t i)
{
	return &br->pmap[i / BE_PMAP_PER_CHUNK][i % BE_PMAP_PER_CHUNK];
}

/* Fibonacci hashing: the top 11 bits of the product, since grefs are often consecutive. */
static uint32_t hash(uint32_t gref)
{
	return (gref * 2654435761u) >> (32 - 11);
}

_Static_assert(PM_SLOTS == 1u << 11, "hash() gives 11 bits");

bool blkback_persist_init(struct be_ring *br)
{
	const struct kpv_blkback *be = br->be;

	if (!(be->features & KEEL_IO_BLOCK_F_PERSISTENT)) {
		return true;
	}
	br->pmax = be->opts.persistent_maps ? be->opts.persistent_maps
					    : KPV_BLKBACK_PERSISTENT_MAPS;
	br->pslot = kpv_shim_page_alloc();
	br->piov = kpv_shim_page_alloc();
	return br->pslot && br->piov;
}

/* block.md: every mapping goes with the connection. */
void blkback_persist_fini(struct be_ring *br)
{
	for (uint32_t i = 0; i < br->nr_pmap; i++) {
		kpv_unmap_grant(br->be->k, &entry(br, i)->m);
	}
	for (uint32_t c = 0; c < BE_PMAP_CHUNKS; c++) {
		kpv_shim_page_free(br->pmap[c]);
		br->pmap[c] = NULL;
	}
	kpv_shim_page_free(br->pslot);
	kpv_shim_page_free(br->piov);
	br->pslot = NULL;
	br->piov = NULL;
	br->nr_pmap = 0;
}

/* The slot that holds @gref, or the empty one where it would go. */
static uint16_t *slot_of(const struct be_ring *br, uint32_t gref)
{
	for (uint32_t h = hash(gref);; h = (h + 1) & (PM_SLOTS - 1)) {
		uint16_t *s = &br->pslot[h];

		if (*s == 0 || entry(br, *s - 1u)->gref == gref) {
			return s;	/* ends: at most half the slots are taken */
		}
	}
}

uint8_t *blkback_persist_find(const struct be_ring *br, uint32_t gref)
{
	uint16_t *s;

	if (!br->pslot) {
		return NULL;
	}
	s = slot_of(br, gref);
	return *s ? entry(br, *s - 1u)->m.va : NULL;
}

/* Room for entry br->nr_pmap: its chunk, made when first needed. */
static bool chunk_ready(struct be_ring *br)
{
	struct be_pmap **c = &br->pmap[br->nr_pmap / BE_PMAP_PER_CHUNK];

	if (!*c) {
		*c = kpv_shim_page_alloc();
	}
	return *c != NULL;
}

uint32_t blkback_persist_map(struct be_ring *br, uint32_t gref, uint8_t **va)
{
	struct kpv_mapping m;
	uint16_t *s;
	int rc;

	*va = NULL;
	if (!br->pslot) {
		return 0;
	}
	s = slot_of(br, gref);
	if (*s) {
		*va = entry(br, *s - 1u)->m.va;	/* mapped already */
		return 0;
	}
	if (br->nr_pmap >= br->pmax) {
		return 0;	/* over budget: copied */
	}
	if (!chunk_ready(br)) {
		br->pmax = br->nr_pmap;
		return 0;
	}
	rc = kpv_map_grant(br->be->k, kpv_dev_peer(br->be->dev), gref, false, &m);
	if (rc == -KEEL_ENOSPC || rc == -KEEL_ENOMEM) {
		/* Our window, Keel's map table or memory is full: copy from now on. */
		kpv_log(KPV_LOG_WARN, "kpv: blkback: device %u: ring %u: %u persistent grants "
			"mapped, no room for more (%d): copying the rest", br->be->id, br->index,
			br->nr_pmap, rc);
		br->pmax = br->nr_pmap;
		return 0;
	}
	if (rc != 0) {
		return KEEL_IO_ERR_GRANT;
	}
	entry(br, br->nr_pmap)->gref = gref;
	entry(br, br->nr_pmap)->m = m;
	*s = (uint16_t)++br->nr_pmap;
	*va = m.va;
	return 0;
}
