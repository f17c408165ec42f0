/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/ring.h - the generic shared ring (docs/abi/devices/ring.md), both
 * sides: producing with event-index notification, consuming with one copy
 * per slot, and every check ring.md asks of a side facing a hostile peer.
 *
 * A ring is a header page and 2^order data pages that need not be
 * contiguous: the side keeps one pointer per page. Slots never cross a
 * page (slot sizes divide 4096). Not locked: the caller serialises each
 * side's calls (one lock per ring, or one context).
 */
#ifndef KEEL_PV_RING_H
#define KEEL_PV_RING_H

#include <keel_pv/shim.h>
#include <keel/io/ring.h>

struct kpv_ring {
	volatile struct keel_io_ring_header *hdr;
	uint8_t *pages[KEEL_IO_RING_MAX_DATA_PAGES];
	uint32_t order;
	uint32_t slot_size;		/* a power of two, 8 .. 4096 */
	uint32_t nr_slots;		/* (4096 << order) / slot_size */
	/*
	 * Frontend's private indexes: next request, response consumer, the
	 * req_prod it last published and the rsp_prod it last validated.
	 * Its own fields in the header are never read back: the peer can
	 * write the whole header page.
	 */
	uint32_t req_prod_pvt, rsp_cons, req_pushed, rsp_seen;
	/* Backend's private indexes, likewise. */
	uint32_t req_cons, rsp_prod_pvt, rsp_pushed, req_seen;
	bool broken;			/* a protocol error was seen: the ring is dead */
};

/*
 * Set up a side's view. The frontend's init also writes the fresh header
 * (zero, req_event = rsp_event = 1) and zeroes the data pages; the
 * backend's only reads. -KEEL_EINVAL for a bad order or slot size.
 */
int kpv_ring_fe_init(struct kpv_ring *r, void *hdr, void *const pages[], uint32_t order,
		     uint32_t slot_size);
int kpv_ring_be_init(struct kpv_ring *r, void *hdr, void *const pages[], uint32_t order,
		     uint32_t slot_size);

/* --- Frontend ------------------------------------------------------------------ */

/* Free request slots (rule 3); 0 once broken. */
uint32_t kpv_ring_fe_space(const struct kpv_ring *r);
/*
 * Claim the next request slot to fill, or NULL when there is no space (or
 * the ring is broken); claimed slots are published by the next push.
 */
void *kpv_ring_fe_next(struct kpv_ring *r);
/*
 * Publish every filled request (rules 5, 6). Returns true if the peer must
 * be notified.
 */
bool kpv_ring_fe_push(struct kpv_ring *r);
/*
 * Responses ready to consume, after checking rsp_prod (it may not exceed
 * the requests issued): a negative -KEEL_EINVAL marks the ring broken.
 * Checking that each response answers an outstanding request is the
 * protocol's job (its ids).
 */
int kpv_ring_fe_available(struct kpv_ring *r);
/*
 * Copy the next response out (rule 10) and consume it; false (nothing
 * copied) when the last kpv_ring_fe_available() found no more.
 */
bool kpv_ring_fe_take(struct kpv_ring *r, void *rsp);
/*
 * Caught up: set rsp_event = rsp_cons + 1, full barrier, re-check (rule 7).
 * Returns true if more responses arrived meanwhile (keep consuming).
 */
bool kpv_ring_fe_arm(struct kpv_ring *r);

/* --- Backend ------------------------------------------------------------------- */

/*
 * Requests ready (checks req_prod - rsp_prod_pvt <= nr_slots and that
 * req_prod did not go back behind req_cons; broken: -KEEL_EINVAL).
 */
int kpv_ring_be_available(struct kpv_ring *r);
/* Copy the next request out and consume it; false as for the frontend. */
bool kpv_ring_be_take(struct kpv_ring *r, void *req);
/*
 * Claim the next response slot, or NULL when no consumed request awaits
 * its answer (rule 4) or the ring is broken.
 */
void *kpv_ring_be_next(struct kpv_ring *r);
/* Publish the filled responses; true if the peer must be notified. */
bool kpv_ring_be_push(struct kpv_ring *r);
/* Caught up: set req_event = req_cons + 1, barrier, re-check. */
bool kpv_ring_be_arm(struct kpv_ring *r);
/*
 * Waiting for @n (>= 1) requests to consume, which are not all there yet:
 * set req_event = req_cons + @n, barrier, re-check. Returns true if @n
 * wait already (consume them); else the peer's publishing of the @n-th
 * notifies. (kpv_ring_be_arm() is this with n = 1.)
 */
bool kpv_ring_be_arm_for(struct kpv_ring *r, uint32_t n);
/* Requests consumed and not yet answered. */
uint32_t kpv_ring_be_unanswered(const struct kpv_ring *r);

#endif /* KEEL_PV_RING_H */
