/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/grants.c - the grants we give: a reference allocator over
 * our grant-table frames, growing the table with KEEL_HC_GNTTAB_SETUP, and
 * the grant, cooperative end and forced revoke of keel/grant_table.h.
 *
 * Frames live at fixed map-window slots (frame f at slot 1 + f). Reference
 * 0 is never handed out, so a zero reference in a shared structure always
 * means "none". A reference whose revoke failed stays out for good rather
 * than being handed out while a peer may still use its page.
 */
#include "internal.h"

#define PER_FRAME		KEEL_GRANT_ENTRIES_PER_FRAME
#define REVOKE_BATCH		(KPV_PAGE_SIZE / sizeof(struct keel_gnttab_revoke))

/* The entry of @ref, or NULL if @ref is not one we handed out. [gnt_lock] */
static struct keel_grant_entry *entry_of(struct kpv *k, uint32_t ref, bool *used)
{
	uint32_t f = ref / PER_FRAME;

	if (ref == KEEL_GRANT_REF_INVALID || f >= k->gnt_nr_frames) {
		return NULL;
	}
	*used = k->gnt_books[f]->used[ref % PER_FRAME];
	return &k->gnt_frames[f][ref % PER_FRAME];
}

/* [gnt_lock] */
static void ref_free(struct kpv *k, uint32_t ref)
{
	struct kpv_grant_books *b = k->gnt_books[ref / PER_FRAME];

	b->used[ref % PER_FRAME] = 0;
	b->next[ref % PER_FRAME] = k->gnt_free;
	k->gnt_free = ref;
}

/* [gnt_lock] */
static uint32_t ref_take(struct kpv *k)
{
	uint32_t ref = k->gnt_free;
	struct kpv_grant_books *b;

	if (ref == KEEL_GRANT_REF_INVALID) {
		return ref;
	}
	b = k->gnt_books[ref / PER_FRAME];
	k->gnt_free = b->next[ref % PER_FRAME];
	b->used[ref % PER_FRAME] = 1;
	k->gnt_in_use++;
	return ref;
}

/* KEEL_HC_GNTTAB_REVOKE of @n references (PERMIT already clear); statuses in @ops. */
static int revoke_batch(struct keel_gnttab_revoke *ops, unsigned int n)
{
	unsigned int done = 0;

	while (done < n) {
		long rc = kpv_hc(KEEL_HC_GNTTAB_REVOKE, kpv_shim_virt_to_gpa(&ops[done]), n - done,
				 0);

		if (rc <= 0) {
			for (unsigned int i = done; i < n; i++) {
				ops[i].status = rc < 0 ? (int32_t)rc : -KEEL_EAGAIN;
			}
			return rc < 0 ? (int)rc : -KEEL_EAGAIN;
		}
		done += (unsigned int)rc;
	}
	return 0;
}

/*
 * A frame an earlier instance used (driver reload, kexec): anything it
 * still grants is revoked by force; a reference whose revoke fails is
 * marked in @books->used, to stay out. 0 or -KEEL_ENOMEM.
 */
static int clean_frame(struct keel_grant_entry *e, uint32_t f, struct kpv_grant_books *books)
{
	struct keel_gnttab_revoke *ops = kpv_shim_alloc(KPV_PAGE_SIZE);
	unsigned int n = 0;

	if (!ops) {
		return -KEEL_ENOMEM;
	}
	for (uint32_t i = 0; i < PER_FRAME; i++) {
		if (kpv_load_relaxed(&e[i].flags) || kpv_load_relaxed(&e[i].status)) {
			kpv_store_relaxed(&e[i].flags, 0);
			ops[n++].ref = f * PER_FRAME + i;
		}
	}
	kpv_mb();
	if (n) {
		revoke_batch(ops, n);
		kpv_log(KPV_LOG_INFO, "kpv: revoked %u grants left in frame %u", n, f);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (ops[i].status != 0) {
			books->used[ops[i].ref % PER_FRAME] = 1;
		}
	}
	kpv_shim_free(ops);
	return 0;
}

/*
 * Map frame @f and put its free references on the list, unless another
 * thread has added it meanwhile.
 */
static int add_frame(struct kpv *k, uint32_t f, bool clean)
{
	struct kpv_grant_books *books = kpv_shim_alloc(sizeof(*books));
	struct keel_grant_entry *e;
	unsigned long flags;
	bool added = false;
	int err = -KEEL_ENOMEM;

	if (!books) {
		return err;
	}
	e = kpv_map_keel_at(KEEL_MAPSPACE_GRANT_TABLE, f,
			    kpv_window_slot(k, KPV_WINDOW_SLOT_GRANTS + f), &err);
	if (e && clean) {
		err = clean_frame(e, f, books);
	}
	if (!e || err) {
		if (e) {
			kpv_shim_unmap_gpa(e, 1);
		}
		kpv_shim_free(books);
		return err;
	}
	flags = kpv_shim_lock(k->gnt_lock);
	if (k->gnt_nr_frames == f) {
		k->gnt_frames[f] = e;
		k->gnt_books[f] = books;
		k->gnt_nr_frames++;
		/* Last first, so references go out in ascending order. */
		for (uint32_t i = PER_FRAME; i-- > 0;) {
			if ((f || i) && !books->used[i]) {
				ref_free(k, f * PER_FRAME + i);
			}
		}
		added = true;
	}
	kpv_shim_unlock(k->gnt_lock, flags);
	if (!added) {
		kpv_shim_unmap_gpa(e, 1);
		kpv_shim_free(books);
	}
	return 0;
}

/* One more frame: KEEL_HC_GNTTAB_SETUP, then map it. */
static int grow(struct kpv *k)
{
	unsigned long flags = kpv_shim_lock(k->gnt_lock);
	uint32_t f = k->gnt_nr_frames;
	long rc;

	kpv_shim_unlock(k->gnt_lock, flags);
	if (f >= k->gnt_max_frames) {
		return -KEEL_ENOSPC;
	}
	rc = kpv_hc(KEEL_HC_GNTTAB_SETUP, f + 1, 0, 0);
	if (rc < 0) {
		return rc == -KEEL_ENOMEM ? -KEEL_ENOMEM : -KEEL_ENOSPC;
	}
	return add_frame(k, f, false);
}

int kpv_grants_init(struct kpv *k)
{
	struct keel_gnttab_query q = { 0 };
	long rc = kpv_hc_struct(KEEL_HC_GNTTAB_QUERY, &q, sizeof(q), 0, 0);
	uint32_t existing = q.nr_frames;

	if (rc < 0) {
		return kpv_err(rc);
	}
	k->gnt_max_frames = KPV_MIN(q.max_frames, KPV_GRANT_FRAMES_MAX);
	k->gnt_free = KEEL_GRANT_REF_INVALID;
	k->gnt_lock = kpv_shim_lock_create();
	if (!k->gnt_lock) {
		return -KEEL_ENOMEM;
	}
	existing = KPV_MIN(existing, k->gnt_max_frames);
	for (uint32_t f = 0; f < existing && rc >= 0; f++) {
		rc = add_frame(k, f, true);
	}
	if (rc >= 0 && existing == 0) {
		rc = grow(k);
	}
	if (rc < 0) {
		kpv_grants_fini(k);
		return (int)rc;
	}
	return 0;
}

void kpv_grants_fini(struct kpv *k)
{
	if (k->gnt_in_use) {
		kpv_log(KPV_LOG_WARN, "kpv: %u grants still given at stop", k->gnt_in_use);
	}
	for (uint32_t f = 0; f < k->gnt_nr_frames; f++) {
		kpv_shim_unmap_gpa(k->gnt_frames[f], 1);	/* the frame stays at its slot */
		kpv_shim_free(k->gnt_books[f]);
	}
	k->gnt_nr_frames = 0;
	if (k->gnt_lock) {
		kpv_shim_lock_destroy(k->gnt_lock);
		k->gnt_lock = NULL;
	}
}

int kpv_grant(struct kpv *k, uint32_t domid, const void *page, bool readonly, uint32_t *ref)
{
	uint64_t gpa = kpv_shim_virt_to_gpa(page);
	struct keel_grant_entry *e = NULL;
	unsigned long flags;
	bool used;
	int rc = 0;

	if (gpa & (KPV_PAGE_SIZE - 1)) {
		return -KEEL_EINVAL;
	}
	/* A free reference, or one more frame and then one (another thread may take it). */
	for (int tries = 0; !e && rc == 0; tries++) {
		flags = kpv_shim_lock(k->gnt_lock);
		*ref = ref_take(k);
		e = entry_of(k, *ref, &used);
		kpv_shim_unlock(k->gnt_lock, flags);
		if (!e) {
			rc = tries ? -KEEL_ENOSPC : grow(k);
		}
	}
	if (!e) {
		return rc;
	}
	/* The protocol of keel/grant_table.h: domid and gfn, then flags with release. */
	kpv_store_relaxed(&e->domid, domid);
	kpv_store_relaxed(&e->gfn, gpa >> KPV_PAGE_SHIFT);
	kpv_store(&e->flags, (uint16_t)(KEEL_GNTF_PERMIT | (readonly ? KEEL_GNTF_READONLY : 0)));
	return 0;
}

/* Clear PERMIT on @ref if we handed it out; its entry, or NULL. */
static struct keel_grant_entry *withdraw(struct kpv *k, uint32_t ref)
{
	unsigned long flags = kpv_shim_lock(k->gnt_lock);
	bool used = false;
	struct keel_grant_entry *e = entry_of(k, ref, &used);

	kpv_shim_unlock(k->gnt_lock, flags);
	if (!e || !used) {
		kpv_log(KPV_LOG_ERROR, "kpv: ending grant %u that is not given", ref);
		return NULL;
	}
	kpv_store_relaxed(&e->flags, 0);	/* domid and gfn stay, as the protocol says */
	kpv_mb();
	return e;
}

static void give_back(struct kpv *k, uint32_t ref)
{
	unsigned long flags = kpv_shim_lock(k->gnt_lock);

	ref_free(k, ref);
	k->gnt_in_use--;
	kpv_shim_unlock(k->gnt_lock, flags);
}

bool kpv_grant_end(struct kpv *k, uint32_t ref)
{
	struct keel_grant_entry *e = withdraw(k, ref);

	if (!e) {
		return true;
	}
	if (kpv_load(&e->status) != 0) {
		return false;		/* still mapped or being copied: PERMIT stays clear */
	}
	give_back(k, ref);
	return true;
}

void kpv_grant_revoke(struct kpv *k, uint32_t ref)
{
	struct keel_gnttab_revoke op = { .ref = ref };
	long rc;

	if (!withdraw(k, ref)) {
		return;
	}
	rc = kpv_hc_struct(KEEL_HC_GNTTAB_REVOKE, &op, sizeof(op), 1, 0);
	if (rc != 1 || op.status != 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: revoking grant %u failed (%ld/%d); it stays out", ref,
			rc, op.status);
		return;
	}
	give_back(k, ref);
}
