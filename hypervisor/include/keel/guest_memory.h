/* SPDX-License-Identifier: MIT */
/*
 * keel/guest_memory.h - a domain's guest-physical memory (the p2m).
 *
 * The core owns the map from guest frame numbers (GFN, guest-physical
 * address >> 12) to host pages: a 4-level radix tree of 512-entry tables,
 * like a page table, with 4 KiB leaves, and 2 MiB or 1 GiB leaves where RAM
 * was allocated in aligned chunks of that size. The architecture mirrors
 * every change into its second-stage tables (arch_p2m_set/clear), which
 * it builds with the same large pages. Guest addresses are never trusted: every
 * access goes through the lookups or the copy helpers, which check the
 * whole range.
 *
 * Every leaf has a kind (docs/abi/hypercalls.md, "Memory"):
 *
 *   RAM      the domain's own page: counted in ram_pages, freed when the
 *            domain releases it or dies. The only kind Keel reads or writes
 *            on the guest's behalf (hypercall structs, grants, vcpu_info).
 *   KEEL     a page Keel owns, mapped by KEEL_HC_MEMORY_MAP_SHARED (shared
 *            info, grant-table frames, device pages): not counted, never
 *            freed here; mapped at most once per domain, so mapping it again
 *            moves it; KEEL_HC_MEMORY_UNMAP_SHARED removes it.
 *   FOREIGN  another domain's granted page, or the grantee's scratch page
 *            after a forced revoke (core/grant_table.c): not counted, never
 *            freed here.
 *
 * RAM pages can be pinned: a pinned page cannot be released
 * (KEEL_HC_MEMORY_RELEASE fails with KEEL_EBUSY). Whoever lets Keel or
 * another domain use a page for longer than one call pins it: a registered
 * keel_vcpu_info, event-channel expansion pages, every live grant mapping.
 *
 * Unless a function says otherwise it takes the domain's memory lock itself
 * (with interrupts off) and must be called without it.
 */
#ifndef KEEL_GUEST_MEMORY_H
#define KEEL_GUEST_MEMORY_H

#include <keel/spinlock.h>
#include <keel/types.h>

#define GUEST_GFN_BITS		36		/* 48-bit guest-physical addresses */
#define GUEST_GFN_LIMIT		((uint64_t)1 << GUEST_GFN_BITS)
#define GUEST_LARGE_ORDER	9		/* 2 MiB = 512 pages */
#define GUEST_HUGE_ORDER	18		/* 1 GiB = 262144 pages */
#define GUEST_LEAF_SIZES	3		/* 4 KiB, 2 MiB, 1 GiB */

/* Access rights of a mapping. */
#define GUEST_READ		(1u << 0)
#define GUEST_WRITE		(1u << 1)
#define GUEST_EXEC		(1u << 2)
#define GUEST_RWX		(GUEST_READ | GUEST_WRITE | GUEST_EXEC)

/* What a GFN holds. */
enum guest_page_kind {
	GUEST_PAGE_NONE,
	GUEST_PAGE_RAM,
	GUEST_PAGE_KEEL,
	GUEST_PAGE_FOREIGN,
};

/* guest_memory_map_keel() flags. */
#define GUEST_KEEL_DEVICE	(1u << 0)	/* holds a device_page_lookup() reference */

/* A small hash table from 64-bit keys to 64-bit values (guest_memory.c). */
struct guest_hash {
	uint64_t *slots;		/* cap pairs (key + 1, value); key 0: empty */
	uint32_t cap;			/* a power of two, or 0 */
	uint32_t used;
};

struct guest_memory {
	struct spinlock lock;
	paddr_t root;			/* top table; 0 until the first mapping */
	uint64_t ram_pages;		/* (m) RAM pages this domain owns */
	uint64_t max_pages;		/* (m) limit on ram_pages */
	uint64_t target_pages;		/* (m) balloon target; max_pages at creation */
	uint64_t table_pages;		/* (m) pages used by the tree itself */
	uint64_t leaves[GUEST_LEAF_SIZES];	/* (m) RAM leaves of 4 KiB, 2 MiB, 1 GiB */
	struct guest_hash pins;		/* (m) pinned GFN -> pin count */
	struct guest_hash keel;		/* (m) KEEL page pa -> GFN | flags << 48 */
};
/* (m) under lock. */

struct domain;

/* Whether [gpa, gpa + len) lies within one 4 KiB page (the ABI's rule). */
static inline bool guest_range_in_page(uint64_t gpa, uint64_t len)
{
	return len <= PAGE_SIZE && (gpa & (PAGE_SIZE - 1)) + len <= PAGE_SIZE;
}

void guest_memory_init(struct guest_memory *mem, uint64_t max_pages);

/*
 * Change the limits (KEEL_HC_CTL_DOMAIN_SET_MEMORY): 0 leaves a value as it
 * is. Lowering max_pages below ram_pages takes nothing away.
 */
void guest_memory_set_limits(struct domain *d, uint64_t max_pages, uint64_t target_pages);

/*
 * Give the domain @count pages of zeroed RAM at @gfn onwards, in 1 GiB or
 * 2 MiB chunks where @gfn, the count and the arch allow and such chunks are
 * free, else in 4 KiB pages. All or nothing. Returns 0, -KEEL_EINVAL (range outside the
 * guest-physical space), -KEEL_EBUSY (part of the range holds anything),
 * -KEEL_ENOMEM (over the limit or out of memory). Platform ranges are not
 * checked here: that is the hypercall's job (core/memory_ops.c).
 */
int guest_memory_populate(struct domain *d, uint64_t gfn, uint64_t count);

/*
 * KEEL_HC_MEMORY_RELEASE of one extent: give back the RAM of the 2^@order
 * pages at @gfn (@order 0 or 9); they hold nothing afterwards. Releasing
 * part of a large leaf splits it first (1 GiB into 2 MiB, 2 MiB into
 * 4 KiB). All or nothing, as the guest sees it: a failed split may leave a
 * leaf split, mapping the same pages.
 *
 * Return: 0; -KEEL_EINVAL (order not 0 or 9, @gfn not aligned to it, or
 *         the extent outside the guest-physical space); -KEEL_ENOENT (a page
 *         is not RAM); -KEEL_EBUSY (a page is pinned); -KEEL_ENOMEM (no page
 *         for the table a split needs).
 */
int guest_memory_release(struct domain *d, uint64_t gfn, unsigned int order);

/* How @d's RAM is mapped: the number of 4 KiB, 2 MiB and 1 GiB leaves. */
void guest_memory_leaf_counts(struct domain *d, uint64_t out[GUEST_LEAF_SIZES]);

/* The RAM page behind @gfn and its rights; false if @gfn is not RAM. */
bool guest_memory_translate(struct domain *d, uint64_t gfn, paddr_t *pa,
			    uint32_t *rights);

/* What @gfn holds, and the host page (*@pa, if @pa is not NULL) if anything. */
enum guest_page_kind guest_memory_kind(struct domain *d, uint64_t gfn, paddr_t *pa);

/*
 * Copy between the domain's RAM and Keel. The whole range must be RAM
 * (KEEL and FOREIGN pages do not count: the ABI wants hypercall buffers in
 * the caller's RAM, and Keel must never read a struct from a page a peer can
 * revoke or another domain can write). Nothing is copied otherwise.
 * Returns 0 or -KEEL_EFAULT.
 */
int guest_copy_from(struct domain *d, uint64_t gpa, void *dst, size_t len);
int guest_copy_to(struct domain *d, uint64_t gpa, const void *src, size_t len);

/* guest_memory_copy_pages() results besides 0. */
#define GUEST_COPY_BAD_SRC	1	/* the source GFN is not RAM of @src */
#define GUEST_COPY_BAD_DST	2	/* the destination GFN is not RAM of @dst */

/*
 * Copy @len bytes from offset @src_off of RAM page @src_gfn of @src to
 * offset @dst_off of RAM page @dst_gfn of @dst (KEEL_HC_GNTTAB_COPY). The
 * domains may be the same; the ranges must lie within their pages (the
 * caller checked). Both memory locks are held across the copy, so neither
 * page can be released under it. Returns 0, GUEST_COPY_BAD_SRC or
 * GUEST_COPY_BAD_DST (nothing copied).
 */
int guest_memory_copy_pages(struct domain *dst, uint64_t dst_gfn, size_t dst_off,
			    struct domain *src, uint64_t src_gfn, size_t src_off,
			    size_t len);

/*
 * Pin RAM page @gfn (one more count) and return its host address. Returns
 * 0, -KEEL_ENOENT (not RAM) or -KEEL_ENOMEM. unpin drops one count; the
 * page must have been pinned.
 */
int guest_memory_pin(struct domain *d, uint64_t gfn, paddr_t *pa);
void guest_memory_unpin(struct domain *d, uint64_t gfn);

/*
 * Map Keel's page @pa at @gfn, read-write (KEEL_HC_MEMORY_MAP_SHARED). If
 * @pa is already mapped in @d elsewhere it moves: the old GFN holds
 * nothing afterwards; at @gfn itself nothing changes. With
 * GUEST_KEEL_DEVICE, on success the mapping holds the caller's
 * device_page_lookup() reference, and the reference of the mapping it
 * replaces (if any) is dropped; on failure the caller keeps its reference.
 *
 * Return: 0; -KEEL_EINVAL (@gfn outside the guest-physical space);
 *         -KEEL_EBUSY (@gfn holds something else, or is in a platform
 *         range); -KEEL_ENOMEM.
 */
int guest_memory_map_keel(struct domain *d, uint64_t gfn, paddr_t pa, unsigned int flags);

/*
 * Remove Keel's page @pa from @d, wherever it is mapped (nothing if it is
 * not), dropping a device reference the mapping held.
 */
void guest_memory_unmap_keel(struct domain *d, paddr_t pa);

/*
 * KEEL_HC_MEMORY_UNMAP_SHARED: remove the Keel page mapped at @gfn of @d
 * (the GFN holds nothing afterwards), dropping a device reference the
 * mapping held. Returns 0, or -KEEL_EINVAL if @gfn holds no KEEL page.
 */
int guest_memory_unmap_keel_at(struct domain *d, uint64_t gfn);

/*
 * FOREIGN pages, for core/grant_table.c. map puts @pa at an empty @gfn
 * with @rights (GUEST_READ, optionally GUEST_WRITE): 0, -KEEL_EINVAL,
 * -KEEL_EBUSY (occupied or a platform range), -KEEL_ENOMEM. redirect
 * points the FOREIGN @gfn at another page; it cannot fail. unmap empties
 * the FOREIGN @gfn. Neither touches the pages' owners.
 */
int guest_memory_map_foreign(struct domain *d, uint64_t gfn, paddr_t pa, uint32_t rights);
void guest_memory_redirect_foreign(struct domain *d, uint64_t gfn, paddr_t pa,
				   uint32_t rights);
void guest_memory_unmap_foreign(struct domain *d, uint64_t gfn);

/*
 * Walking the array of a batched call (docs/abi/hypercalls.md, "Batching
 * rules"). guest_batch_start() checks the array and returns 0,
 * -KEEL_EINVAL (@count 0), -KEEL_EFAULT (not 8-byte aligned), -KEEL_E2BIG
 * (crosses its page) or -KEEL_EFAULT (the page is not @d's RAM), in that
 * order. guest_batch_next() copies the next element in (once) and returns
 * false when all are done or @budget units of work are spent; the first
 * element always runs. guest_batch_done() writes the element's OUT bytes
 * [@out_off, @out_off + @out_len) back and charges @cost units.
 * guest_batch_end() is the call's return value: the elements processed,
 * or -KEEL_EFAULT if the page stopped being RAM before the first one.
 * (If it stops being RAM later, the call ends early; a status that cannot
 * be written back is lost, as the guest took its own array away.)
 */
struct guest_batch {
	struct domain *d;
	uint64_t gpa;
	uint64_t count;
	uint64_t done;
	uint64_t work;
	uint64_t budget;
	size_t size;
	bool stopped;
};

long guest_batch_start(struct guest_batch *b, struct domain *d, uint64_t gpa,
		       uint64_t count, size_t size, uint64_t budget);
bool guest_batch_next(struct guest_batch *b, void *elem);
void guest_batch_done(struct guest_batch *b, const void *elem, size_t out_off,
		      size_t out_len, uint64_t cost);
long guest_batch_end(const struct guest_batch *b);

/*
 * Unmap everything and free the RAM and the tables (domain teardown). KEEL
 * and FOREIGN pages are unmapped, not freed; device references they held
 * are dropped.
 */
void guest_memory_release_all(struct domain *d);

#endif
