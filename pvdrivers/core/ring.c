/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/ring.c - the generic shared ring, both sides, rule by rule
 * of docs/abi/devices/ring.md (rule numbers in the comments).
 *
 * Each side reads only the peer's two header fields, once per call, and
 * never reads back its own: the peer can write the whole header page. All
 * index arithmetic is modulo 2^32; an index only addresses memory after
 * masking with nr_slots - 1.
 */
#include <keel_pv/ring.h>
#include "internal.h"

static int init_common(struct kpv_ring *r, void *hdr, void *const pages[], uint32_t order,
		       uint32_t slot_size)
{
	if (!hdr || order > KEEL_IO_RING_MAX_ORDER || slot_size < 8 ||
	    slot_size > KPV_PAGE_SIZE || (slot_size & (slot_size - 1))) {
		return -KEEL_EINVAL;
	}
	kpv_memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < (1u << order); i++) {
		if (!pages[i]) {
			return -KEEL_EINVAL;
		}
		r->pages[i] = pages[i];
	}
	r->hdr = hdr;
	r->order = order;
	r->slot_size = slot_size;
	r->nr_slots = (KPV_PAGE_SIZE << order) / slot_size;
	return 0;
}

/* Slot @idx: masked first, and a slot never crosses its page (slot sizes divide 4096). */
static uint8_t *slot(const struct kpv_ring *r, uint32_t idx)
{
	uint32_t off = (idx & (r->nr_slots - 1)) * r->slot_size;

	return r->pages[off / KPV_PAGE_SIZE] + off % KPV_PAGE_SIZE;
}

/* Rule 6: notify iff the peer's event index lies in (old, new]. */
static bool must_notify(uint32_t old, uint32_t new, uint32_t event)
{
	return (uint32_t)(new - event) < (uint32_t)(new - old);
}

/* Rules 5 and 6: publish @new (its slots written) in *@prod, then test the peer's *@event. */
static bool publish(volatile uint32_t *prod, uint32_t *pushed, uint32_t new,
		    const volatile uint32_t *event)
{
	uint32_t old = *pushed;

	if (old == new) {
		return false;
	}
	kpv_store(prod, new);		/* release: slots before the index */
	*pushed = new;
	kpv_mb();
	return must_notify(old, new, kpv_load_relaxed(event));
}

/* Rule 10: copy the slot at *@cons once and consume it, if the last check saw it. */
static bool take(const struct kpv_ring *r, uint32_t *cons, uint32_t seen, void *out)
{
	if (r->broken || *cons == seen) {
		return false;
	}
	kpv_memcpy(out, slot(r, *cons), r->slot_size);
	(*cons)++;
	return true;
}

/* Rule 7: ask to be woken at @cons + 1, full barrier, look at the producer again. */
static bool arm(volatile uint32_t *event, uint32_t cons, const volatile uint32_t *prod)
{
	kpv_store_relaxed(event, cons + 1);
	kpv_mb();
	return kpv_load_relaxed(prod) != cons;
}

int kpv_ring_fe_init(struct kpv_ring *r, void *hdr, void *const pages[], uint32_t order,
		     uint32_t slot_size)
{
	int rc = init_common(r, hdr, pages, order, slot_size);

	if (rc != 0) {
		return rc;
	}
	/* Rule 1: all zero but the event indexes, so the first of each is notified. */
	kpv_memset(hdr, 0, KEEL_IO_RING_HEADER_SIZE);
	for (uint32_t i = 0; i < (1u << order); i++) {
		kpv_memset(r->pages[i], 0, KPV_PAGE_SIZE);
	}
	kpv_store_relaxed(&r->hdr->req_event, 1u);
	kpv_store_relaxed(&r->hdr->rsp_event, 1u);
	kpv_wmb();
	return 0;
}

int kpv_ring_be_init(struct kpv_ring *r, void *hdr, void *const pages[], uint32_t order,
		     uint32_t slot_size)
{
	return init_common(r, hdr, pages, order, slot_size);
}

/* --- Frontend ------------------------------------------------------------------ */

uint32_t kpv_ring_fe_space(const struct kpv_ring *r)
{
	/* Rule 3: request i only while i - rsp_cons < nr_slots. */
	return r->broken ? 0 : r->nr_slots - (r->req_prod_pvt - r->rsp_cons);
}

void *kpv_ring_fe_next(struct kpv_ring *r)
{
	if (kpv_ring_fe_space(r) == 0) {
		return NULL;
	}
	return slot(r, r->req_prod_pvt++);
}

bool kpv_ring_fe_push(struct kpv_ring *r)
{
	return !r->broken &&
	       publish(&r->hdr->req_prod, &r->req_pushed, r->req_prod_pvt, &r->hdr->req_event);
}

int kpv_ring_fe_available(struct kpv_ring *r)
{
	uint32_t prod;

	if (r->broken) {
		return -KEEL_EINVAL;
	}
	/* Rule 9: the producer index once, acquire before the slots. */
	prod = kpv_load(&r->hdr->rsp_prod);
	/* No more responses than requests published. */
	if ((uint32_t)(prod - r->rsp_cons) > (uint32_t)(r->req_pushed - r->rsp_cons)) {
		r->broken = true;
		return -KEEL_EINVAL;
	}
	r->rsp_seen = prod;
	return (int)(prod - r->rsp_cons);
}

bool kpv_ring_fe_take(struct kpv_ring *r, void *rsp)
{
	return take(r, &r->rsp_cons, r->rsp_seen, rsp);
}

bool kpv_ring_fe_arm(struct kpv_ring *r)
{
	return !r->broken && arm(&r->hdr->rsp_event, r->rsp_cons, &r->hdr->rsp_prod);
}

/* --- Backend ------------------------------------------------------------------- */

int kpv_ring_be_available(struct kpv_ring *r)
{
	uint32_t prod;

	if (r->broken) {
		return -KEEL_EINVAL;
	}
	prod = kpv_load(&r->hdr->req_prod);
	/*
	 * No more requests outstanding than slots, and req_prod not moved
	 * back behind what we already consumed.
	 */
	if ((uint32_t)(prod - r->rsp_prod_pvt) > r->nr_slots ||
	    (uint32_t)(r->req_cons - r->rsp_prod_pvt) > (uint32_t)(prod - r->rsp_prod_pvt)) {
		r->broken = true;
		return -KEEL_EINVAL;
	}
	r->req_seen = prod;
	return (int)(prod - r->req_cons);
}

bool kpv_ring_be_take(struct kpv_ring *r, void *req)
{
	return take(r, &r->req_cons, r->req_seen, req);
}

void *kpv_ring_be_next(struct kpv_ring *r)
{
	/* Rule 4: only into a slot whose request was consumed. */
	if (r->broken || r->rsp_prod_pvt == r->req_cons) {
		return NULL;
	}
	return slot(r, r->rsp_prod_pvt++);
}

bool kpv_ring_be_push(struct kpv_ring *r)
{
	return !r->broken &&
	       publish(&r->hdr->rsp_prod, &r->rsp_pushed, r->rsp_prod_pvt, &r->hdr->rsp_event);
}

bool kpv_ring_be_arm(struct kpv_ring *r)
{
	return !r->broken && arm(&r->hdr->req_event, r->req_cons, &r->hdr->req_prod);
}

bool kpv_ring_be_arm_for(struct kpv_ring *r, uint32_t n)
{
	if (r->broken) {
		return false;
	}
	/* Rule 7 "further ahead": the producer notifies when it publishes request req_cons + n - 1. */
	kpv_store_relaxed(&r->hdr->req_event, r->req_cons + n);
	kpv_mb();
	return (uint32_t)(kpv_load_relaxed(&r->hdr->req_prod) - r->req_cons) >= n;
}

uint32_t kpv_ring_be_unanswered(const struct kpv_ring *r)
{
	return r->req_cons - r->rsp_prod_pvt;
}
