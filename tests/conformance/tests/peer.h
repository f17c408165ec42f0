/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/peer.h - a hostile (or merely broken) peer at the
 * raw level: it writes its area of the control page, ring indexes and slots
 * itself, with pvdrivers' primitives (grants, ports) only as a guest's
 * tools, facing pvdrivers' real device code on the other end of a t_pair.
 */
#ifndef KPV_TESTS_PEER_H
#define KPV_TESTS_PEER_H

#include "common.h"

/* A backend that is not pvdrivers, in the pair's backend domain. */
struct raw_be {
	struct t_pair *p;
	struct keel_io_device_page *pg;
	uint32_t port;			/* bound to the frontend's control port */
	unsigned int events;		/* events on it */
	struct kpv_mapping hdr;		/* ring 0's header, once mapped */
	uint32_t ring_port;		/* ring 0's port, once bound */
};

void raw_be_bind(struct raw_be *r, struct t_pair *p);
/* INIT, generation @gen, the default offer with @max_rings and @order, READY, notify. */
void raw_be_offer(struct raw_be *r, uint32_t gen, uint32_t max_rings, uint32_t order);
/* The same with @features and @len bytes of @config (the rest zero). */
void raw_be_offer_as(struct raw_be *r, uint32_t gen, uint32_t max_rings, uint32_t order,
		     uint64_t features, const void *config, uint32_t len);
void raw_be_state(struct raw_be *r, uint32_t state, uint32_t err);
/* Map ring 0 of the commit (header only) and bind its port: a backend pretending. */
void raw_be_take_ring0(struct raw_be *r);
void raw_be_release(struct raw_be *r);

/* Ring @i of the commit mapped in full by a raw backend: a backend's kpv_ring view, its port bound. */
struct raw_ring {
	struct kpv_ring ring;
	struct kpv_mapping maps[1 + KEEL_IO_RING_MAX_DATA_PAGES];
	uint32_t port;
	unsigned int events;
};

void raw_be_map_ring(struct raw_be *r, uint32_t i, uint32_t slot_size, struct raw_ring *rr);
void raw_be_unmap_ring(struct raw_be *r, struct raw_ring *rr);

/* A frontend that is not pvdrivers, in the pair's frontend domain. */
struct raw_fe {
	struct t_pair *p;
	struct keel_io_device_page *pg;
	unsigned int events;
	uint32_t nr;				/* rings made */
	void *pages[4][KEEL_IO_RING_MAX_DATA_PAGES + 1];
	uint32_t grefs[4][KEEL_IO_RING_MAX_DATA_PAGES + 1];
	uint32_t ports[4];
};

void raw_fe_attach(struct raw_fe *r, struct t_pair *p);
/* Ring @i of 2^@order data pages, granted (@readonly or not), with an UNBOUND port. */
void raw_fe_ring(struct raw_fe *r, uint32_t i, uint32_t order, bool readonly);
/* Our area: @features, @nr rings, generation @gen, then READY; notify. */
void raw_fe_commit(struct raw_fe *r, uint32_t gen, uint32_t nr, uint64_t features);
/* A frontend's kpv_ring view of raw ring @i, its header made fresh (do it before the commit). */
void raw_fe_view(struct raw_fe *r, uint32_t i, uint32_t slot_size, struct kpv_ring *ring);
void raw_fe_state(struct raw_fe *r, uint32_t state);
void raw_fe_release(struct raw_fe *r);

/* Callbacks run by the harness in 60 s of quiet: small when nobody loops. */
uint64_t t_quiet_steps(void);

#endif
