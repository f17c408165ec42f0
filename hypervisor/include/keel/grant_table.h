/* SPDX-License-Identifier: MIT */
/*
 * keel/grant_table.h - grant tables: per-domain grant entries, the map
 * table of each mapper, and the grant hypercalls.
 *
 * The portable core of docs/abi/hypercalls.md, "Grant tables". A domain's
 * grant table is up to max_frames Keel-owned frames of struct
 * keel_grant_entry, which the domain maps with KEEL_HC_MEMORY_MAP_SHARED
 * (gnttab_frame() gives memory_ops the frame). A mapper's map table holds
 * one record per live mapping, up to max_maps; its index (with a
 * generation, so stale handles are refused) is the handle. The table's
 * pages and the mapper's scratch page are allocated with its first
 * mapping and freed with its last.
 *
 * A granted page stays the granter's: while mapped it is pinned in the
 * granter's p2m (KEEL_HC_MEMORY_RELEASE fails with KEEL_EBUSY) and it can
 * only be freed after every mapping of it is gone, because a forced revoke
 * (REVOKE, or the granter's destruction) first points each mapping at the
 * mapper's scratch page.
 *
 * The hypercall functions take the calling domain and the raw register
 * arguments; the dispatcher has done the common checks (CPL, identified,
 * 32-bit arguments with bits 63:32 set). They check the rest in the order
 * of docs/abi/errors.md, copy each guest struct in once and write back
 * only its OUT fields. Each returns the call's result (>= 0) or -KEEL_E*.
 * None may be called from interrupt context, or with any Keel lock held.
 *
 * Batched calls (MAP, UNMAP, COPY, REVOKE): @array_gpa and @count as in
 * "Batching rules". Batch errors, in this order, with no element touched:
 * -KEEL_EINVAL (@count 0), -KEEL_EFAULT (@array_gpa not 8-byte aligned),
 * -KEEL_E2BIG (the array crosses its page), -KEEL_EFAULT (the page is not
 * the caller's RAM). Otherwise the return is n, 1 <= n <= @count: elements
 * 0..n-1 were processed and have their status; the call stops early after
 * GNTTAB_BATCH_WORK units of work (one per element, plus one per mapping a
 * REVOKE element takes away, plus one per KiB a COPY element moves).
 */
#ifndef KEEL_GRANT_TABLE_H
#define KEEL_GRANT_TABLE_H

#include <keel/types.h>
#include <public/keel/grant_table.h>

struct domain;

/* Limits when domain_params leave them 0 (the control ABI's defaults). */
#define GNTTAB_FRAMES_DEFAULT	32		/* KEEL_CTL_GRANT_FRAMES_DEFAULT */
#define GNTTAB_MAPS_DEFAULT	16384		/* KEEL_CTL_MAPS_DEFAULT */
/* Larger requests are cut to these, which bound Keel's tables. */
#define GNTTAB_FRAMES_MAX	1024		/* 262144 grant references */
#define GNTTAB_MAPS_MAX		(1u << 20)	/* handles keep 12 bits of generation */

#define GNTTAB_BATCH_WORK	256

/*
 * Create @d's grant state: an empty table (no frames) that may grow to
 * @max_frames, and an empty map table for @max_maps mappings; 0 means the
 * default, larger than the maximum means the maximum. Sets d->gnttab.
 * Returns 0 or -KEEL_ENOMEM.
 */
int gnttab_domain_create(struct domain *d, uint32_t max_frames, uint32_t max_maps);

/*
 * Tear down @d's grant state, from free_domain() before @d's memory is
 * released (d->gnttab may be NULL: then nothing happens). As a granter,
 * every grant of @d is force-revoked: each mapping in another domain now
 * shows that domain's scratch page, and its handle stays valid. As a
 * mapper, every mapping of @d is dropped: the granters' pages are unpinned
 * and their status bits cleared. Frames, map table and scratch page are
 * freed. Never blocks on what another domain does, beyond short locks.
 *
 * @pre @d's last reference is gone: no hypercall of @d runs, and no other
 *      domain holds a reference to @d (so no MAP or COPY on its grants is
 *      under way).
 */
void gnttab_domain_destroy(struct domain *d);

/*
 * For KEEL_HC_MEMORY_MAP_SHARED(KEEL_MAPSPACE_GRANT_TABLE, @frame): the host
 * address of @d's grant frame @frame. Frames live until @d is destroyed.
 * Returns 0 or -KEEL_ENOENT (frame not allocated).
 */
long gnttab_frame(struct domain *d, uint64_t frame, paddr_t *pa);

/**
 * KEEL_HC_GNTTAB_SETUP: grow @d's table to @frames zeroed frames; it never
 * shrinks.
 *
 * Return: the number of frames now allocated (at least @frames);
 *         -KEEL_EINVAL (@frames 0); -KEEL_ENOSPC (@frames above max_frames);
 *         -KEEL_ENOMEM (nothing allocated).
 */
long gnttab_hc_setup(struct domain *d, uint64_t frames);

/**
 * KEEL_HC_GNTTAB_QUERY: write nr_frames and max_frames to the struct
 * keel_gnttab_query at @gpa.
 *
 * Return: 0; -KEEL_EFAULT (not 8-byte aligned, crosses a page, not @d's
 *         writable RAM).
 */
long gnttab_hc_query(struct domain *d, uint64_t gpa);

/**
 * KEEL_HC_GNTTAB_MAP: batch of struct keel_gnttab_map. Element errors, in
 * this order: -KEEL_EINVAL (domid is @d itself or KEEL_DOMID_SELF);
 * -KEEL_ESRCH (no such live granter); -KEEL_EINVAL (unknown flags, pad0
 * set, gfn outside the guest-physical space); -KEEL_ENOENT (ref beyond the
 * granter's table, entry without KEEL_GNTF_PERMIT or for another domain);
 * -KEEL_EACCES (writable map of a read-only grant); -KEEL_EINVAL (the
 * entry's gfn is not the granter's RAM); -KEEL_EBUSY (gfn holds something,
 * or is in a platform range); -KEEL_ENOSPC (map table full);
 * -KEEL_ENOMEM; and -KEEL_ENOENT when KEEL_GNTF_PERMIT was cleared while
 * Keel set the status (the map is undone). On success the handle is set.
 */
long gnttab_hc_map(struct domain *d, uint64_t array_gpa, uint64_t count);

/**
 * KEEL_HC_GNTTAB_UNMAP: batch of struct keel_gnttab_unmap. Element errors:
 * -KEEL_ENOENT (no live mapping with that handle); -KEEL_EINVAL (it is not
 * mapped at gfn). Unmapping a mapping that a forced revoke redirected to
 * the scratch page succeeds.
 */
long gnttab_hc_unmap(struct domain *d, uint64_t array_gpa, uint64_t count);

/**
 * KEEL_HC_GNTTAB_COPY: batch of struct keel_gnttab_copy. Element errors, in
 * this order: -KEEL_EINVAL (a grant side names @d itself); -KEEL_ESRCH (a
 * granter, source first); -KEEL_EFAULT (a SELF gfn that is not @d's RAM);
 * -KEEL_EINVAL (len 0 or above KEEL_PAGE_SIZE, an offset + len above
 * KEEL_PAGE_SIZE, pad0 or pad1 set, ref set on a SELF side, gfn set on a
 * grant side); per grant side, source first: -KEEL_ENOENT (as MAP),
 * -KEEL_EACCES (destination grant read-only), -KEEL_EINVAL (the entry's
 * gfn is not the granter's RAM).
 */
long gnttab_hc_copy(struct domain *d, uint64_t array_gpa, uint64_t count);

/**
 * KEEL_HC_GNTTAB_REVOKE: batch of struct keel_gnttab_revoke on @d's own
 * entries. When an element succeeds, no mapping or copy of the entry
 * remains (mappings show their mapper's scratch page) and its status is 0.
 * Element errors: -KEEL_EINVAL (ref beyond the table); -KEEL_EBUSY
 * (KEEL_GNTF_PERMIT set, checked again whenever Keel had to wait for
 * another domain's lock).
 */
long gnttab_hc_revoke(struct domain *d, uint64_t array_gpa, uint64_t count);

#endif
