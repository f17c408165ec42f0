/* SPDX-License-Identifier: MIT */
/* keel/grant_table.h: grant table entries and the batched map, unmap, copy and revoke calls. */
#ifndef KEEL_PUBLIC_GRANT_TABLE_H
#define KEEL_PUBLIC_GRANT_TABLE_H

#include "abi.h"

/*
 * A domain's grant table is an array of struct keel_grant_entry in frames
 * that Keel owns and the domain maps into its physical address space with
 * KEEL_HC_MEMORY_MAP_SHARED(KEEL_MAPSPACE_GRANT_TABLE, frame, gfn). Entry
 * (grant reference) r is entry r % 256 of frame r / 256. An entry lets
 * exactly one other domain map or copy one page of the granter's RAM.
 *
 * The granter writes flags, domid and gfn; Keel writes status; nobody else
 * writes the entry. To grant: write domid and gfn, then (release order)
 * flags. To revoke cooperatively: clear KEEL_GNTF_PERMIT, full barrier, read
 * status; the page is free once status == 0. To revoke at once: clear
 * KEEL_GNTF_PERMIT and call KEEL_HC_GNTTAB_REVOKE; when it returns no access
 * remains, and any mapping the grantee still had now shows a per-domain
 * scratch page instead (the grantee neither crashes nor sees the page).
 *
 * Batched calls (MAP, UNMAP, COPY, REVOKE):
 *   arg0: IN GPA of an array of elements; arg1: IN count >= 1; the whole
 *   array lies in one page and is 8-byte aligned.
 *   return: n in 1 .. count: elements 0 .. n-1 were processed, in order, and
 *   each has its status (0 or -KEEL_E*) set; elements n .. count-1 were not
 *   touched (Keel stopped to bound latency: call again with the rest).
 *   errors for the batch as a whole (no element touched): KEEL_EFAULT,
 *   KEEL_EINVAL (count == 0), KEEL_E2BIG (the array crosses a page),
 *   KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *   A failed element does not stop later ones; elements are not atomic as
 *   a group.
 *
 * KEEL_HC_GNTTAB_SETUP: grow the caller's grant table.
 *   arg0:   IN wanted number of frames (the table never shrinks).
 *   return: the number of frames now allocated.
 *   errors: KEEL_EINVAL (0), KEEL_ENOSPC (above max_frames), KEEL_ENOMEM,
 *           KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *
 * KEEL_HC_GNTTAB_QUERY: arg0: IN GPA of a struct keel_gnttab_query.
 *   return: 0.  errors: KEEL_EFAULT, KEEL_ENOTIDENT, KEEL_EPERM (CPL > 0).
 *
 * KEEL_HC_GNTTAB_MAP: batch of struct keel_gnttab_map. Maps the granted page
 * at a GFN of the caller that holds nothing (no RAM, no other mapping).
 *   element errors: KEEL_ESRCH (granter), KEEL_ENOENT (ref beyond the
 *   granter's table, entry lacks KEEL_GNTF_PERMIT, or is for another
 *   domain), KEEL_EACCES (writable map of a KEEL_GNTF_READONLY grant),
 *   KEEL_EINVAL (unknown flags, pad0 != 0, entry's gfn is not the granter's
 *   RAM, granter is the caller), KEEL_EBUSY (target GFN occupied or not
 *   mappable), KEEL_ENOSPC (caller's map table full), KEEL_ENOMEM.
 *
 * KEEL_HC_GNTTAB_UNMAP: batch of struct keel_gnttab_unmap. The GFN becomes
 * empty again. Unmapping a mapping that a forced revoke redirected to the
 * scratch page succeeds.
 *   element errors: KEEL_ENOENT (no such handle), KEEL_EINVAL (handle is
 *   not mapped at gfn).
 *
 * KEEL_HC_GNTTAB_COPY: batch of struct keel_gnttab_copy. Copies len bytes;
 * each side is either the caller's own GFN (domid == KEEL_DOMID_SELF; ref
 * MBZ) or a grant (domid = granter, gfn MBZ). The destination grant must be
 * writable. offset + len <= KEEL_PAGE_SIZE on both sides.
 *   element errors: KEEL_ESRCH, KEEL_ENOENT (as MAP), KEEL_EACCES
 *   (destination grant read-only), KEEL_EFAULT (a SELF gfn that is not the
 *   caller's RAM), KEEL_EINVAL (len == 0, offset + len too large, a ref,
 *   gfn or pad that must be 0 is not, granter is the caller).
 *
 * KEEL_HC_GNTTAB_REVOKE: batch of struct keel_gnttab_revoke, on the caller's
 * own entries, which must already have KEEL_GNTF_PERMIT clear. On return
 * status of each entry is 0 and no mapping or copy of it remains.
 *   element errors: KEEL_EINVAL (ref beyond the table), KEEL_EBUSY
 *   (KEEL_GNTF_PERMIT still set).
 *
 * Capability: none for any grant call. When a granter is destroyed, all its
 * grants are force-revoked; when a mapper is destroyed, its maps are dropped.
 */
#define KEEL_GRANT_ENTRIES_PER_FRAME	256
#define KEEL_GRANT_REF_INVALID		0xffffffffu
#define KEEL_GRANT_FRAMES_DEFAULT	32

/* keel_grant_entry.flags (granter-owned). */
#define KEEL_GNTF_PERMIT		0x0001	/* the grantee may map and copy */
#define KEEL_GNTF_READONLY		0x0002	/* ... but only read */

/* keel_grant_entry.status (Keel-owned). */
#define KEEL_GNTS_MAPPED		0x0001	/* at least one live mapping */
#define KEEL_GNTS_BUSY			0x0002	/* a copy is in progress */

/* keel_gnttab_map.flags. */
#define KEEL_GNTMAP_READONLY		0x00000001u

struct keel_grant_entry {
	uint16_t flags;			/* granter: KEEL_GNTF_* */
	uint16_t status;		/* Keel: KEEL_GNTS_*; the granter only reads it */
	uint32_t domid;			/* granter: the one domain allowed */
	uint64_t gfn;			/* granter: its page */
};

struct keel_gnttab_query {
	uint32_t nr_frames;		/* OUT: frames allocated */
	uint32_t max_frames;		/* OUT: limit set at domain creation */
};

struct keel_gnttab_map {
	uint32_t domid;			/* IN: granter */
	uint32_t ref;			/* IN: grant reference */
	uint64_t gfn;			/* IN: caller's empty GFN to map at */
	uint32_t flags;			/* IN: KEEL_GNTMAP_* */
	uint32_t handle;		/* OUT: for UNMAP */
	int32_t status;			/* OUT: 0 or -KEEL_E* */
	uint32_t pad0;			/* MBZ */
};

struct keel_gnttab_unmap {
	uint64_t gfn;			/* IN: where it is mapped */
	uint32_t handle;		/* IN: from KEEL_HC_GNTTAB_MAP */
	int32_t status;			/* OUT */
};

struct keel_gnttab_copy {
	uint32_t src_domid;		/* IN: granter, or KEEL_DOMID_SELF */
	uint32_t src_ref;		/* IN: grant ref; MBZ for SELF */
	uint64_t src_gfn;		/* IN: caller's GFN for SELF; else MBZ */
	uint32_t dst_domid;		/* IN: granter, or KEEL_DOMID_SELF */
	uint32_t dst_ref;		/* IN */
	uint64_t dst_gfn;		/* IN */
	uint16_t src_offset;		/* IN: byte offset in the source page */
	uint16_t dst_offset;		/* IN */
	uint16_t len;			/* IN: bytes, 1 .. KEEL_PAGE_SIZE */
	uint16_t pad0;			/* MBZ */
	int32_t status;			/* OUT */
	uint32_t pad1;			/* MBZ */
};

struct keel_gnttab_revoke {
	uint32_t ref;			/* IN: caller's own grant reference */
	int32_t status;			/* OUT */
};

#endif /* KEEL_PUBLIC_GRANT_TABLE_H */
