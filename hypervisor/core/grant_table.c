/* SPDX-License-Identifier: MIT */
/*
 * core/grant_table.c - grant tables, map tables and the grant hypercalls.
 *
 * Implements docs/abi/hypercalls.md, "Grant tables". Every value a guest
 * passes (domid, ref, handle, GFN, offsets) is range-checked before use,
 * grant entries are read once into a snapshot, and nothing here panics or
 * logs on a guest's behalf.
 *
 * Data. Each domain has one struct gnttab_domain: as a granter, its frames
 * (guest-visible entries) and, per entry, a list of the live mappings of
 * that entry in any domain (Keel's own truth: the guest can scribble on
 * status, so Keel never reads it back); as a mapper, its map table (pages
 * of records, allocated as they fill) and its scratch page, both given back
 * when its last mapping goes, so that a backend that maps nothing any more
 * (its peers are gone) holds no memory for them. A record sits in its
 * mapper's table and, until revoked, in its granter entry's list.
 *
 * Locks. One spinlock per domain guards all of the above for it. A record
 * is changed only with its mapper's lock and, while it is linked, its
 * granter's lock, so either lock is enough to read it; and while a record
 * is linked, neither domain's grant state can go away (destroy unlinks
 * every record under both locks first). The order:
 *   1. Two domains' grant locks: lower domid first (ids are never reused,
 *      so the order is total). Holding the higher one and needing the lower
 *      (UNMAP and REVOKE find the peer through a record), lock_peer() takes
 *      a reference on the peer's struct, drops its own lock, takes both in
 *      order and the caller checks again what it read before.
 *   2. grant locks -> mem.lock (guest_memory_*) -> page allocator and heap.
 *   3. domain_get() and domain_put() only with no grant lock held: the last
 *      put of a domain runs gnttab_domain_destroy().
 * All grant locks are taken with interrupts off; they are never taken from
 * interrupt context. No operation loops on what guests do: a REVOKE
 * element only loops over mappings of its entry, which can only shrink
 * while KEEL_GNTF_PERMIT is clear (it stops with KEEL_EBUSY otherwise).
 *
 * Lifetime. struct gnttab_domain is reference counted apart from its
 * domain, so that a peer that dropped its own lock can still take this one
 * after the domain's teardown freed everything else; the domain holds one
 * reference until gnttab_domain_destroy().
 */
#include <arch/arch.h>
#include <keel/domain.h>
#include <keel/grant_table.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/errno.h>

#define PER_FRAME		KEEL_GRANT_ENTRIES_PER_FRAME
#define SLOT_BITS		20
#define SLOT_MASK		((1u << SLOT_BITS) - 1)
#define GEN_MASK		((1u << (32 - SLOT_BITS)) - 1)
#define MAPS_PER_CHUNK		((uint32_t)(PAGE_SIZE / sizeof(struct gnttab_map)))
#define RW			(GUEST_READ | GUEST_WRITE)

_Static_assert(GNTTAB_MAPS_MAX <= SLOT_MASK + 1, "handles hold a slot number");

/* A mapping, in its mapper's table: live from MAP until UNMAP. */
struct gnttab_map {
	struct gnttab_map *next;	/* in the entry's list, or the free list */
	struct gnttab_map *prev;	/* in the entry's list */
	struct gnttab_domain *granter;	/* NULL once revoked (or free) */
	struct gnttab_domain *mapper;	/* (c) the table's owner */
	uint64_t gfn;			/* the mapper's GFN */
	uint64_t granter_gfn;		/* the granter's page, pinned while linked */
	uint32_t ref;
	uint32_t slot;			/* (c) index in the map table */
	uint32_t gen;			/* changes each time the slot is freed */
	bool live;
};

struct gnttab_frame {
	paddr_t pa;			/* PER_FRAME struct keel_grant_entry */
	struct gnttab_map **maps;	/* per entry: its first live mapping */
};

struct gnttab_domain {
	struct spinlock lock;		/* guards what is marked [l] */
	uint32_t refs;			/* atomic: the domain's, peers' in passing */
	uint32_t domid;			/* (c) */
	struct domain *owner;		/* (c) */
	uint32_t max_frames;		/* (c) */
	uint32_t nr_frames;		/* [l] */
	struct gnttab_frame *frames;	/* (c) max_frames of them; contents [l] */
	uint32_t max_maps;		/* (c) */
	uint32_t slots_used;		/* [l] slots handed out since the table was empty */
	uint32_t maps_out;		/* [l] records not on the free list */
	uint32_t gen_base;		/* [l] generation of a fresh slot */
	struct gnttab_map **chunks;	/* (c) pages of records; contents [l] */
	struct gnttab_map *free_maps;	/* [l] */
	paddr_t scratch;		/* [l] the mapper's scratch page, or 0 */
};

/* --- references and locks -------------------------------------------------- */

static void gt_hold(struct gnttab_domain *gt)
{
	__atomic_fetch_add(&gt->refs, 1, __ATOMIC_RELAXED);
}

static void gt_release(struct gnttab_domain *gt)
{
	if (__atomic_sub_fetch(&gt->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		heap_free(gt);
	}
}

/* Lock @a and @b (b may be NULL or @a: just @a), lower domid first. */
static unsigned long lock_two(struct gnttab_domain *a, struct gnttab_domain *b)
{
	return spin_lock_pair_irqsave(&a->lock, a->domid, b ? &b->lock : NULL,
				      b ? b->domid : 0);
}

static void unlock_two(struct gnttab_domain *a, struct gnttab_domain *b,
		       unsigned long flags)
{
	spin_unlock_pair_irqrestore(&a->lock, b ? &b->lock : NULL, flags);
}

/*
 * With @self locked and @peer reachable through a linked record, lock
 * @peer too, in domid order. Returns true if @self's lock had to be dropped
 * meanwhile: the caller must check again what it read under it, and pass
 * true to unlock_peer(), which drops the reference that kept @peer's
 * struct alive.
 */
static bool lock_peer(struct gnttab_domain *self, struct gnttab_domain *peer)
{
	if (self->domid < peer->domid) {
		spin_lock(&peer->lock);
		return false;
	}
	gt_hold(peer);
	spin_unlock(&self->lock);
	spin_lock(&peer->lock);
	spin_lock(&self->lock);
	return true;
}

static void unlock_peer(struct gnttab_domain *peer, bool held)
{
	spin_unlock(&peer->lock);
	if (held) {
		gt_release(peer);
	}
}

/* --- entries -------------------------------------------------------------- */

/* One read of an entry, in the protocol's order: flags first, acquiring. */
struct entry_snap {
	uint16_t flags;
	uint32_t domid;
	uint64_t gfn;
};

static bool ref_valid(const struct gnttab_domain *gt, uint32_t ref)
{
	return (uint64_t)ref < (uint64_t)gt->nr_frames * PER_FRAME;
}

static struct keel_grant_entry *entry_of(struct gnttab_domain *gt, uint32_t ref)
{
	struct keel_grant_entry *frame = arch_phys_to_virt(gt->frames[ref / PER_FRAME].pa);

	return &frame[ref % PER_FRAME];
}

static struct gnttab_map **head_of(struct gnttab_domain *gt, uint32_t ref)
{
	return &gt->frames[ref / PER_FRAME].maps[ref % PER_FRAME];
}

static struct entry_snap read_entry(struct keel_grant_entry *e)
{
	struct entry_snap s;

	s.flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	s.domid = __atomic_load_n(&e->domid, __ATOMIC_RELAXED);
	s.gfn = __atomic_load_n(&e->gfn, __ATOMIC_RELAXED);
	return s;
}

/* The protocol's checks of a snapshot for @grantee, in their order. */
static long entry_check(struct gnttab_domain *g, const struct entry_snap *s,
			uint32_t grantee, bool write)
{
	if (!(s->flags & KEEL_GNTF_PERMIT) || s->domid != grantee) {
		return -KEEL_ENOENT;
	}
	if (write && (s->flags & KEEL_GNTF_READONLY)) {
		return -KEEL_EACCES;
	}
	if (guest_memory_kind(g->owner, s->gfn, NULL) != GUEST_PAGE_RAM) {
		return -KEEL_EINVAL;	/* not its RAM: nothing, Keel's, or a foreign page */
	}
	return 0;
}

/*
 * Set status @bit with an atomic OR, full barrier, re-read flags: whether
 * the grant still permits access. A granter revoking cooperatively clears
 * PERMIT, fences and reads status, so at least one side sees the other.
 */
static bool claim(struct keel_grant_entry *e, uint16_t bit)
{
	__atomic_fetch_or(&e->status, bit, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&e->flags, __ATOMIC_SEQ_CST) & KEEL_GNTF_PERMIT;
}

static void status_clear(struct keel_grant_entry *e, uint16_t bit)
{
	__atomic_fetch_and(&e->status, (uint16_t)~bit, __ATOMIC_SEQ_CST);
}

/* --- map table ------------------------------------------------------------ */

static uint32_t handle_of(const struct gnttab_map *r)
{
	return r->slot | (r->gen << SLOT_BITS);
}

static struct gnttab_map *slot_at(struct gnttab_domain *m, uint32_t slot)
{
	return &m->chunks[slot / MAPS_PER_CHUNK][slot % MAPS_PER_CHUNK];
}

/* The live record @handle names, or NULL. */
static struct gnttab_map *map_lookup(struct gnttab_domain *m, uint32_t handle)
{
	struct gnttab_map *r;

	if ((handle & SLOT_MASK) >= m->slots_used) {
		return NULL;
	}
	r = slot_at(m, handle & SLOT_MASK);
	return (r->live && r->gen == handle >> SLOT_BITS) ? r : NULL;
}

/* A free record for a new mapping: 0, -KEEL_ENOSPC or -KEEL_ENOMEM. */
static long map_reserve(struct gnttab_domain *m, struct gnttab_map **out)
{
	struct gnttab_map *r = m->free_maps;
	paddr_t chunk;

	if (r) {
		m->free_maps = r->next;
		m->maps_out++;
		*out = r;
		return 0;
	}
	if (m->slots_used == m->max_maps) {
		return -KEEL_ENOSPC;
	}
	if (m->slots_used % MAPS_PER_CHUNK == 0) {
		chunk = page_alloc(1);
		if (!chunk) {
			return -KEEL_ENOMEM;
		}
		m->chunks[m->slots_used / MAPS_PER_CHUNK] = arch_phys_to_virt(chunk);
	}
	r = slot_at(m, m->slots_used);
	r->slot = m->slots_used++;
	r->mapper = m;
	r->gen = m->gen_base;
	m->maps_out++;
	*out = r;
	return 0;
}

/*
 * The mapper's last record went back: free the table's pages and the
 * scratch page (no GFN shows it: each record's GFN was emptied before the
 * record was freed). Slots start from 0 again, each with a generation at
 * least the one its slot had, so an old handle does not name a new mapping
 * (up to the wrap of the generation, as for a slot reused in place).
 */
static void map_table_empty(struct gnttab_domain *m)
{
	for (uint32_t slot = 0; slot < m->slots_used; slot++) {
		m->gen_base = MAX(m->gen_base, slot_at(m, slot)->gen);
	}
	for (uint32_t i = 0; i < m->slots_used; i += MAPS_PER_CHUNK) {
		page_free(arch_virt_to_phys(m->chunks[i / MAPS_PER_CHUNK]), 1);
		m->chunks[i / MAPS_PER_CHUNK] = NULL;
	}
	m->slots_used = 0;
	m->free_maps = NULL;
	if (m->scratch) {
		page_free(m->scratch, 1);
		m->scratch = 0;
	}
}

static void map_free(struct gnttab_domain *m, struct gnttab_map *r)
{
	r->live = false;
	r->granter = NULL;
	r->gen = (r->gen + 1) & GEN_MASK;
	r->prev = NULL;
	r->next = m->free_maps;
	m->free_maps = r;
	if (--m->maps_out == 0) {
		map_table_empty(m);
	}
}

/* Both locks held. */
static void link_map(struct gnttab_domain *g, struct gnttab_map *r)
{
	struct gnttab_map **head = head_of(g, r->ref);

	r->granter = g;
	r->prev = NULL;
	r->next = *head;
	if (*head) {
		(*head)->prev = r;
	}
	*head = r;
}

/* Both locks held. The entry's MAPPED bit goes with its last mapping. */
static void unlink_map(struct gnttab_map *r)
{
	struct gnttab_domain *g = r->granter;
	struct gnttab_map **head = head_of(g, r->ref);

	if (r->prev) {
		r->prev->next = r->next;
	} else {
		*head = r->next;
	}
	if (r->next) {
		r->next->prev = r->prev;
	}
	r->next = r->prev = NULL;
	r->granter = NULL;
	if (!*head) {
		status_clear(entry_of(g, r->ref), KEEL_GNTS_MAPPED);
	}
}

/*
 * Forced revoke of one linked mapping, both locks held: the mapper's GFN
 * shows its scratch page from now on, and only then is the granter's page
 * unpinned. The record stays live until its mapper unmaps it.
 */
static void revoke_map(struct gnttab_map *r)
{
	struct gnttab_domain *g = r->granter, *m = r->mapper;

	guest_memory_redirect_foreign(m->owner, r->gfn, m->scratch, RW);
	guest_memory_unpin(g->owner, r->granter_gfn);
	unlink_map(r);
}

/* Remove a live mapping: the mapper's lock held, and the granter's if linked. */
static void drop_map(struct gnttab_map *r)
{
	struct gnttab_domain *g = r->granter, *m = r->mapper;

	guest_memory_unmap_foreign(m->owner, r->gfn);
	if (g) {
		guest_memory_unpin(g->owner, r->granter_gfn);
		unlink_map(r);
	}
	map_free(m, r);
}

/*
 * Revoke every mapping of entry @ref of @g (locked). With @stop_on_permit,
 * give up with -KEEL_EBUSY if the granter sets PERMIT again (REVOKE);
 * otherwise (destroy) go on. Adds the mappings revoked to *@work.
 */
static long revoke_entry(struct gnttab_domain *g, uint32_t ref, bool stop_on_permit,
			 uint64_t *work)
{
	struct keel_grant_entry *e = entry_of(g, ref);
	struct gnttab_map *r;

	while ((r = *head_of(g, ref)) != NULL) {
		struct gnttab_domain *m = r->mapper;
		bool held;

		if (stop_on_permit &&
		    (__atomic_load_n(&e->flags, __ATOMIC_SEQ_CST) & KEEL_GNTF_PERMIT)) {
			return -KEEL_EBUSY;
		}
		held = lock_peer(g, m);
		/*
		 * Still first in the list, so still a live record (g's lock keeps
		 * the list true), and m's: then m's lock is the one we hold.
		 */
		if (*head_of(g, ref) == r && r->mapper == m) {
			revoke_map(r);
			(*work)++;
		}
		unlock_peer(m, held);
	}
	return 0;
}

/* --- lifecycle -------------------------------------------------------------- */

static void free_tables(struct gnttab_domain *gt)
{
	if (gt->frames) {
		for (uint32_t i = 0; i < gt->nr_frames; i++) {
			guest_memory_unmap_keel(gt->owner, gt->frames[i].pa);
			page_free(gt->frames[i].pa, 1);
			heap_free(gt->frames[i].maps);
		}
	}
	if (gt->chunks) {
		for (uint32_t i = 0; i < gt->slots_used; i += MAPS_PER_CHUNK) {
			page_free(arch_virt_to_phys(gt->chunks[i / MAPS_PER_CHUNK]), 1);
		}
	}
	if (gt->scratch) {
		page_free(gt->scratch, 1);
	}
	heap_free(gt->frames);
	heap_free(gt->chunks);
}

int gnttab_domain_create(struct domain *d, uint32_t max_frames, uint32_t max_maps)
{
	struct gnttab_domain *gt = heap_alloc(sizeof(*gt));

	if (!gt) {
		return -KEEL_ENOMEM;
	}
	memset(gt, 0, sizeof(*gt));
	gt->lock = (struct spinlock)SPINLOCK_INIT;
	gt->refs = 1;
	gt->domid = d->domid;
	gt->owner = d;
	gt->max_frames = MIN(max_frames ? max_frames : GNTTAB_FRAMES_DEFAULT, GNTTAB_FRAMES_MAX);
	gt->max_maps = MIN(max_maps ? max_maps : GNTTAB_MAPS_DEFAULT, GNTTAB_MAPS_MAX);
	gt->frames = heap_alloc(gt->max_frames * sizeof(*gt->frames));
	gt->chunks = heap_alloc((gt->max_maps + MAPS_PER_CHUNK - 1) / MAPS_PER_CHUNK *
				sizeof(*gt->chunks));
	if (!gt->frames || !gt->chunks) {
		free_tables(gt);
		heap_free(gt);
		return -KEEL_ENOMEM;
	}
	memset(gt->frames, 0, gt->max_frames * sizeof(*gt->frames));
	memset(gt->chunks, 0, (gt->max_maps + MAPS_PER_CHUNK - 1) / MAPS_PER_CHUNK *
	       sizeof(*gt->chunks));
	d->gnttab = gt;
	return 0;
}

/* As a granter: force-revoke every grant, one entry per lock hold. */
static void destroy_grants(struct gnttab_domain *g)
{
	uint64_t work = 0;

	for (uint64_t ref = 0; ref < (uint64_t)g->nr_frames * PER_FRAME; ref++) {
		unsigned long flags = lock_two(g, NULL);

		revoke_entry(g, (uint32_t)ref, false, &work);
		unlock_two(g, NULL, flags);
	}
}

/* As a mapper: drop every mapping, one per lock hold. */
static void destroy_maps(struct gnttab_domain *m)
{
	for (uint32_t slot = 0; slot < m->slots_used; slot++) {
		unsigned long flags = lock_two(m, NULL);
		struct gnttab_map *r = slot_at(m, slot);
		struct gnttab_domain *g = r->live ? r->granter : NULL;
		bool held = g ? lock_peer(m, g) : false;

		/* Only its granter can have changed it meanwhile: revoked it. */
		if (r->live) {
			drop_map(r);
		}
		if (g) {
			unlock_peer(g, held);
		}
		unlock_two(m, NULL, flags);
	}
}

void gnttab_domain_destroy(struct domain *d)
{
	struct gnttab_domain *gt = d->gnttab;

	if (!gt) {
		return;
	}
	destroy_grants(gt);
	destroy_maps(gt);
	/* Nothing links to gt any more: peers only find it through records. */
	free_tables(gt);
	gt->frames = NULL;
	gt->chunks = NULL;
	d->gnttab = NULL;
	gt_release(gt);
}

long gnttab_frame(struct domain *d, uint64_t frame, paddr_t *pa)
{
	struct gnttab_domain *gt = d->gnttab;
	unsigned long flags = lock_two(gt, NULL);
	long rc = -KEEL_ENOENT;

	if (frame < gt->nr_frames) {
		*pa = gt->frames[frame].pa;
		rc = 0;
	}
	unlock_two(gt, NULL, flags);
	return rc;
}

/* --- SETUP, QUERY ----------------------------------------------------------- */

long gnttab_hc_setup(struct domain *d, uint64_t frames)
{
	struct gnttab_domain *gt = d->gnttab;
	unsigned long flags;
	uint32_t have, i;
	long rc;

	if (frames == 0) {
		return -KEEL_EINVAL;
	}
	if (frames > gt->max_frames) {
		return -KEEL_ENOSPC;
	}
	flags = lock_two(gt, NULL);
	have = gt->nr_frames;
	for (i = have; i < frames; i++) {
		struct gnttab_frame *f = &gt->frames[i];

		f->pa = page_alloc(1);
		f->maps = heap_alloc(PER_FRAME * sizeof(*f->maps));
		if (!f->pa || !f->maps) {
			break;
		}
		memset(f->maps, 0, PER_FRAME * sizeof(*f->maps));
	}
	if (i < frames) {
		/* All or nothing: give back this call's frames, the failed one too. */
		for (uint32_t j = have; j <= i; j++) {
			if (gt->frames[j].pa) {
				page_free(gt->frames[j].pa, 1);
			}
			heap_free(gt->frames[j].maps);
			gt->frames[j] = (struct gnttab_frame){ 0 };
		}
		rc = -KEEL_ENOMEM;
	} else {
		gt->nr_frames = MAX(have, (uint32_t)frames);
		rc = gt->nr_frames;
	}
	unlock_two(gt, NULL, flags);
	return rc;
}

long gnttab_hc_query(struct domain *d, uint64_t gpa)
{
	struct gnttab_domain *gt = d->gnttab;
	struct keel_gnttab_query q;
	unsigned long flags;

	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(q))) {
		return -KEEL_EFAULT;
	}
	flags = lock_two(gt, NULL);
	q.nr_frames = gt->nr_frames;
	q.max_frames = gt->max_frames;
	unlock_two(gt, NULL, flags);
	return guest_copy_to(d, gpa, &q, sizeof(q)) == 0 ? 0 : -KEEL_EFAULT;
}

/* --- MAP ------------------------------------------------------------------------ */

/* Undo a map that got as far as the scratch placeholder and the MAPPED bit. */
static void map_undo(struct gnttab_domain *m, struct gnttab_domain *g,
		     struct gnttab_map *r, uint32_t ref, uint64_t gfn)
{
	guest_memory_unmap_foreign(m->owner, gfn);
	if (!*head_of(g, ref)) {
		status_clear(entry_of(g, ref), KEEL_GNTS_MAPPED);
	}
	map_free(m, r);
}

/*
 * Map entry @req->ref of @g for @m, both locked. Everything that can fail
 * for want of room happens before the MAPPED bit is set; the mapper's GFN
 * holds its scratch page until the PERMIT re-check has passed, so it never
 * shows the granter's page to a grant revoked under the call.
 */
static long map_locked(struct gnttab_domain *m, struct gnttab_domain *g,
		       struct keel_gnttab_map *req)
{
	bool ro = req->flags & KEEL_GNTMAP_READONLY;
	struct keel_grant_entry *e;
	struct gnttab_map *r;
	struct entry_snap s;
	paddr_t pa;
	long rc;

	if (!ref_valid(g, req->ref)) {
		return -KEEL_ENOENT;
	}
	e = entry_of(g, req->ref);
	s = read_entry(e);
	rc = entry_check(g, &s, m->domid, !ro);
	if (rc != 0) {
		return rc;
	}
	if (arch_gfn_is_platform(req->gfn) ||
	    guest_memory_kind(m->owner, req->gfn, NULL) != GUEST_PAGE_NONE) {
		return -KEEL_EBUSY;
	}
	rc = map_reserve(m, &r);
	if (rc != 0) {
		return rc;
	}
	if (!m->scratch && !(m->scratch = page_alloc(1))) {
		map_free(m, r);
		return -KEEL_ENOMEM;
	}
	rc = guest_memory_map_foreign(m->owner, req->gfn, m->scratch, RW);
	if (rc != 0) {
		map_free(m, r);
		return rc;
	}
	if (!claim(e, KEEL_GNTS_MAPPED)) {
		rc = -KEEL_ENOENT;
	} else {
		/* The page went between the check and now: not its RAM after all. */
		rc = guest_memory_pin(g->owner, s.gfn, &pa);
		rc = rc == -KEEL_ENOENT ? -KEEL_EINVAL : rc;
	}
	if (rc != 0) {
		map_undo(m, g, r, req->ref, req->gfn);
		return rc;
	}
	guest_memory_redirect_foreign(m->owner, req->gfn, pa, ro ? GUEST_READ : RW);
	r->gfn = req->gfn;
	r->granter_gfn = s.gfn;
	r->ref = req->ref;
	r->live = true;
	link_map(g, r);
	req->handle = handle_of(r);
	return 0;
}

static long map_one(struct domain *d, struct keel_gnttab_map *req)
{
	struct domain *gd;
	unsigned long flags;
	long rc;

	if (req->domid == d->domid || req->domid == KEEL_DOMID_SELF) {
		return -KEEL_EINVAL;
	}
	gd = domain_get(req->domid);
	if (!gd) {
		return -KEEL_ESRCH;
	}
	if ((req->flags & ~KEEL_GNTMAP_READONLY) || req->pad0 || req->gfn >= GUEST_GFN_LIMIT) {
		rc = -KEEL_EINVAL;
	} else {
		flags = lock_two(d->gnttab, gd->gnttab);
		rc = map_locked(d->gnttab, gd->gnttab, req);
		unlock_two(d->gnttab, gd->gnttab, flags);
	}
	domain_put(gd);
	return rc;
}

long gnttab_hc_map(struct domain *d, uint64_t array_gpa, uint64_t count)
{
	struct keel_gnttab_map req;
	struct guest_batch b;
	long rc = guest_batch_start(&b, d, array_gpa, count, sizeof(req), GNTTAB_BATCH_WORK);

	if (rc != 0) {
		return rc;
	}
	while (guest_batch_next(&b, &req)) {
		req.status = (int32_t)map_one(d, &req);
		/* handle and status are adjacent: one write-back. */
		guest_batch_done(&b, &req, offsetof(struct keel_gnttab_map, handle),
				 sizeof(req.handle) + sizeof(req.status), 1);
	}
	return guest_batch_end(&b);
}

/* --- UNMAP ---------------------------------------------------------------------- */

static long unmap_one(struct gnttab_domain *m, const struct keel_gnttab_unmap *u)
{
	unsigned long flags = lock_two(m, NULL);
	struct gnttab_map *r = map_lookup(m, u->handle);
	struct gnttab_domain *g;
	bool held;
	long rc = 0;

	if (!r) {
		rc = -KEEL_ENOENT;
	} else if (r->gfn != u->gfn) {
		rc = -KEEL_EINVAL;
	} else if (!(g = r->granter)) {
		drop_map(r);		/* revoked: only the scratch page is left */
	} else {
		held = lock_peer(m, g);
		/* If m's lock was dropped, another vCPU of m may have unmapped it. */
		if (held && map_lookup(m, u->handle) != r) {
			rc = -KEEL_ENOENT;
		} else {
			drop_map(r);	/* linked to g, or revoked meanwhile */
		}
		unlock_peer(g, held);
	}
	unlock_two(m, NULL, flags);
	return rc;
}

long gnttab_hc_unmap(struct domain *d, uint64_t array_gpa, uint64_t count)
{
	struct keel_gnttab_unmap u;
	struct guest_batch b;
	long rc = guest_batch_start(&b, d, array_gpa, count, sizeof(u), GNTTAB_BATCH_WORK);

	if (rc != 0) {
		return rc;
	}
	while (guest_batch_next(&b, &u)) {
		u.status = (int32_t)unmap_one(d->gnttab, &u);
		guest_batch_done(&b, &u, offsetof(struct keel_gnttab_unmap, status),
				 sizeof(u.status), 1);
	}
	return guest_batch_end(&b);
}

/* --- COPY ------------------------------------------------------------------------ */

/* One side of a copy: the caller's own page, or a grant. */
struct copy_side {
	bool grant;
	uint32_t domid;
	uint32_t ref;
	uint64_t gfn;			/* the caller's, or (resolved) the granter's */
	size_t offset;
	struct domain *dom;		/* whose page: the caller or the granter */
	struct keel_grant_entry *e;	/* grants: the entry, once checked */
};

static void side_init(struct copy_side *s, struct domain *d, uint32_t domid, uint32_t ref,
		      uint64_t gfn, uint16_t offset)
{
	/*
	 * A grant side's domain comes from side_get(), which takes the
	 * reference side_put() drops; until then it has none (a failed lookup
	 * of the other side must not put a reference never taken).
	 */
	*s = (struct copy_side){
		.grant = domid != KEEL_DOMID_SELF, .domid = domid, .ref = ref,
		.gfn = gfn, .offset = offset, .dom = domid == KEEL_DOMID_SELF ? d : NULL,
	};
}

/* The contents checks of one side (step 8 of errors.md). */
static bool side_fields_ok(const struct copy_side *s, size_t len)
{
	if (s->offset + len > KEEL_PAGE_SIZE) {
		return false;
	}
	return s->grant ? s->gfn == 0 : s->ref == 0;
}

/* A grant side, its granter locked: look the entry up and check it. */
static long side_check_grant(struct copy_side *s, uint32_t grantee, bool write)
{
	struct gnttab_domain *g = s->dom->gnttab;
	struct entry_snap snap;
	long rc;

	if (!ref_valid(g, s->ref)) {
		return -KEEL_ENOENT;
	}
	s->e = entry_of(g, s->ref);
	snap = read_entry(s->e);
	rc = entry_check(g, &snap, grantee, write);
	s->gfn = snap.gfn;
	return rc;
}

/* Both sides' granters locked: check, claim BUSY, copy, release BUSY. */
static long copy_locked(struct domain *d, struct copy_side *src, struct copy_side *dst,
			size_t len)
{
	bool permitted = true;
	long rc = 0;
	int bad;

	if (src->grant) {
		rc = side_check_grant(src, d->domid, false);
	}
	if (rc == 0 && dst->grant) {
		rc = side_check_grant(dst, d->domid, true);
	}
	if (rc != 0) {
		return rc;
	}
	/* Claim both sides whatever the first says: the undo below is then one step. */
	if (src->grant) {
		permitted = claim(src->e, KEEL_GNTS_BUSY);
	}
	if (dst->grant) {
		permitted = claim(dst->e, KEEL_GNTS_BUSY) && permitted;
	}
	if (!permitted) {
		rc = -KEEL_ENOENT;
	} else {
		bad = guest_memory_copy_pages(dst->dom, dst->gfn, dst->offset, src->dom,
					      src->gfn, src->offset, len);
		if (bad) {
			const struct copy_side *s = bad == GUEST_COPY_BAD_SRC ? src : dst;

			rc = s->grant ? -KEEL_EINVAL : -KEEL_EFAULT;
		}
	}
	/* Copies of an entry are serialised by its granter's lock: BUSY is ours. */
	if (src->grant) {
		status_clear(src->e, KEEL_GNTS_BUSY);
	}
	if (dst->grant) {
		status_clear(dst->e, KEEL_GNTS_BUSY);
	}
	return rc;
}

/* Look the granter of a grant side up: 0 or -KEEL_ESRCH. */
static long side_get(struct copy_side *s)
{
	if (!s->grant) {
		return 0;
	}
	s->dom = domain_get(s->domid);
	return s->dom ? 0 : -KEEL_ESRCH;
}

static void side_put(struct copy_side *s)
{
	if (s->grant && s->dom) {
		domain_put(s->dom);
	}
}

static long copy_checked(struct domain *d, const struct keel_gnttab_copy *c,
			 struct copy_side *src, struct copy_side *dst)
{
	struct gnttab_domain *gs = src->grant ? src->dom->gnttab : NULL;
	struct gnttab_domain *gd = dst->grant ? dst->dom->gnttab : NULL;
	unsigned long flags;
	long rc;

	if (!src->grant && guest_memory_kind(d, src->gfn, NULL) != GUEST_PAGE_RAM) {
		return -KEEL_EFAULT;
	}
	if (!dst->grant && guest_memory_kind(d, dst->gfn, NULL) != GUEST_PAGE_RAM) {
		return -KEEL_EFAULT;
	}
	if (c->pad0 || c->pad1 || c->len == 0 || c->len > KEEL_PAGE_SIZE ||
	    !side_fields_ok(src, c->len) || !side_fields_ok(dst, c->len)) {
		return -KEEL_EINVAL;
	}
	if (!gs && !gd) {
		rc = guest_memory_copy_pages(d, dst->gfn, dst->offset, d, src->gfn, src->offset,
					     c->len);
		return rc ? -KEEL_EFAULT : 0;
	}
	flags = lock_two(gs ? gs : gd, gs ? gd : NULL);
	rc = copy_locked(d, src, dst, c->len);
	unlock_two(gs ? gs : gd, gs ? gd : NULL, flags);
	return rc;
}

static long copy_one(struct domain *d, const struct keel_gnttab_copy *c)
{
	struct copy_side src, dst;
	long rc;

	side_init(&src, d, c->src_domid, c->src_ref, c->src_gfn, c->src_offset);
	side_init(&dst, d, c->dst_domid, c->dst_ref, c->dst_gfn, c->dst_offset);
	if ((src.grant && src.domid == d->domid) || (dst.grant && dst.domid == d->domid)) {
		return -KEEL_EINVAL;
	}
	rc = side_get(&src);
	if (rc == 0) {
		rc = side_get(&dst);
	}
	if (rc == 0) {
		rc = copy_checked(d, c, &src, &dst);
	}
	side_put(&src);
	side_put(&dst);
	return rc;
}

long gnttab_hc_copy(struct domain *d, uint64_t array_gpa, uint64_t count)
{
	struct keel_gnttab_copy c;
	struct guest_batch b;
	long rc = guest_batch_start(&b, d, array_gpa, count, sizeof(c), GNTTAB_BATCH_WORK);

	if (rc != 0) {
		return rc;
	}
	while (guest_batch_next(&b, &c)) {
		c.status = (int32_t)copy_one(d, &c);
		guest_batch_done(&b, &c, offsetof(struct keel_gnttab_copy, status),
				 sizeof(c.status), 1 + c.len / 1024u);
	}
	return guest_batch_end(&b);
}

/* --- REVOKE --------------------------------------------------------------------- */

static long revoke_one(struct gnttab_domain *g, uint32_t ref, uint64_t *work)
{
	unsigned long flags = lock_two(g, NULL);
	long rc;

	if (!ref_valid(g, ref)) {
		rc = -KEEL_EINVAL;
	} else if (__atomic_load_n(&entry_of(g, ref)->flags, __ATOMIC_SEQ_CST) & KEEL_GNTF_PERMIT) {
		rc = -KEEL_EBUSY;
	} else {
		rc = revoke_entry(g, ref, true, work);
		if (rc == 0) {
			/* No mapping is left and copies hold our lock: nothing is in use. */
			__atomic_store_n(&entry_of(g, ref)->status, 0, __ATOMIC_SEQ_CST);
		}
	}
	unlock_two(g, NULL, flags);
	return rc;
}

long gnttab_hc_revoke(struct domain *d, uint64_t array_gpa, uint64_t count)
{
	struct keel_gnttab_revoke req;
	struct guest_batch b;
	long rc = guest_batch_start(&b, d, array_gpa, count, sizeof(req), GNTTAB_BATCH_WORK);

	if (rc != 0) {
		return rc;
	}
	while (guest_batch_next(&b, &req)) {
		uint64_t work = 1;

		req.status = (int32_t)revoke_one(d->gnttab, req.ref, &work);
		guest_batch_done(&b, &req, offsetof(struct keel_gnttab_revoke, status),
				 sizeof(req.status), work);
	}
	return guest_batch_end(&b);
}
