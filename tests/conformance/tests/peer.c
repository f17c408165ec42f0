/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/peer.c - the raw peers of peer.h: each writes the
 * control page as the protocol (or a broken implementation of it) would,
 * with release order before its state and a notification after.
 */
#include "peer.h"

static void counted(void *ctx, uint32_t port)
{
	(void)port;
	(*(unsigned int *)ctx)++;
}

/* --- a raw backend -------------------------------------------------------------------- */

void raw_be_bind(struct raw_be *r, struct t_pair *p)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->pg = t_page(p->id);
	harness_use(p->bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_bind_interdomain(p->bk, harness_domid(p->fdom),
							  p->fe_port, counted, &r->events,
							  &r->port), 0);
}

/* Notify on @port as @d. */
static void notify(struct hdom *d, struct kpv *k, uint32_t port)
{
	harness_use(d);
	kpv_evtchn_notify(k, port);
}

void raw_be_offer(struct raw_be *r, uint32_t gen, uint32_t max_rings, uint32_t order)
{
	uint8_t config[16];

	memset(config, 0x42, sizeof(config));
	raw_be_offer_as(r, gen, max_rings, order, T_FEATURES, config, sizeof(config));
}

void raw_be_offer_as(struct raw_be *r, uint32_t gen, uint32_t max_rings, uint32_t order,
		     uint64_t features, const void *config, uint32_t len)
{
	struct keel_io_device_page *pg = r->pg;

	__atomic_store_n(&pg->be_state, KEEL_IO_STATE_INIT, __ATOMIC_RELEASE);
	pg->be_generation = gen;
	pg->be_max_rings = max_rings;
	pg->be_max_ring_order = order;
	pg->be_features = features;
	memset(pg->be_config, 0, sizeof(pg->be_config));
	memcpy(pg->be_config, config, len);
	__atomic_store_n(&pg->be_state, KEEL_IO_STATE_READY, __ATOMIC_RELEASE);
	notify(r->p->bdom, r->p->bk, r->port);
}

void raw_be_state(struct raw_be *r, uint32_t state, uint32_t err)
{
	r->pg->be_error = err;
	__atomic_store_n(&r->pg->be_state, state, __ATOMIC_RELEASE);
	notify(r->p->bdom, r->p->bk, r->port);
}

void raw_be_take_ring0(struct raw_be *r)
{
	struct t_pair *p = r->p;

	harness_use(p->bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(p->bk, harness_domid(p->fdom),
					    r->pg->fe_rings[0].header_gref, false, &r->hdr), 0);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_bind_interdomain(p->bk, harness_domid(p->fdom),
							  r->pg->fe_rings[0].port, counted,
							  &r->events, &r->ring_port), 0);
}

void raw_be_map_ring(struct raw_be *r, uint32_t i, uint32_t slot_size, struct raw_ring *rr)
{
	const struct keel_io_ring_ref ref = r->pg->fe_rings[i];
	struct t_pair *p = r->p;
	uint32_t fe = harness_domid(p->fdom);
	void *data[KEEL_IO_RING_MAX_DATA_PAGES];

	memset(rr, 0, sizeof(*rr));
	harness_use(p->bdom);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(p->bk, fe, ref.header_gref, false, &rr->maps[0]), 0);
	for (uint32_t d = 0; d < (1u << ref.order); d++) {
		CU_ASSERT_EQUAL_FATAL(kpv_map_grant(p->bk, fe, ref.data_gref[d], false,
						    &rr->maps[1 + d]), 0);
		data[d] = rr->maps[1 + d].va;
	}
	CU_ASSERT_EQUAL_FATAL(kpv_ring_be_init(&rr->ring, rr->maps[0].va, data, ref.order,
					       slot_size), 0);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_bind_interdomain(p->bk, fe, ref.port, counted,
							  &rr->events, &rr->port), 0);
}

void raw_be_unmap_ring(struct raw_be *r, struct raw_ring *rr)
{
	harness_use(r->p->bdom);
	for (uint32_t n = 0; n <= KEEL_IO_RING_MAX_DATA_PAGES; n++) {
		if (rr->maps[n].gfn) {
			kpv_unmap_grant(r->p->bk, &rr->maps[n]);
		}
	}
	if (rr->port) {
		kpv_evtchn_close(r->p->bk, rr->port);
	}
	memset(rr, 0, sizeof(*rr));
}

void raw_be_release(struct raw_be *r)
{
	harness_use(r->p->bdom);
	if (r->hdr.gfn) {
		kpv_unmap_grant(r->p->bk, &r->hdr);
	}
	if (r->ring_port) {
		kpv_evtchn_close(r->p->bk, r->ring_port);
	}
	if (r->port) {
		kpv_evtchn_close(r->p->bk, r->port);
	}
	r->port = r->ring_port = 0;
}

/* --- a raw frontend ------------------------------------------------------------------- */

void raw_fe_attach(struct raw_fe *r, struct t_pair *p)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->pg = t_page(p->id);
	harness_use(p->fdom);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_attach(p->fk, p->fe_port, counted, &r->events), 0);
}

void raw_fe_ring(struct raw_fe *r, uint32_t i, uint32_t order, bool readonly)
{
	struct t_pair *p = r->p;
	struct keel_io_ring_ref *ref = &r->pg->fe_rings[i];
	uint32_t be = harness_domid(p->bdom);

	harness_use(p->fdom);
	memset(ref, 0, sizeof(*ref));
	for (uint32_t n = 0; n < 1 + (1u << order); n++) {
		r->pages[i][n] = kpv_shim_page_alloc();
		CU_ASSERT_EQUAL_FATAL(kpv_grant(p->fk, be, r->pages[i][n], readonly,
						&r->grefs[i][n]), 0);
	}
	((struct keel_io_ring_header *)r->pages[i][0])->req_event = 1;
	((struct keel_io_ring_header *)r->pages[i][0])->rsp_event = 1;
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_alloc_unbound(p->fk, be, counted, &r->events,
						       &r->ports[i]), 0);
	ref->order = order;
	ref->port = r->ports[i];
	ref->header_gref = r->grefs[i][0];
	for (uint32_t d = 0; d < (1u << order); d++) {
		ref->data_gref[d] = r->grefs[i][1 + d];
	}
	r->nr = i + 1 > r->nr ? i + 1 : r->nr;
}

void raw_fe_commit(struct raw_fe *r, uint32_t gen, uint32_t nr, uint64_t features)
{
	struct keel_io_device_page *pg = r->pg;

	__atomic_store_n(&pg->fe_state, KEEL_IO_STATE_INIT, __ATOMIC_RELEASE);
	pg->fe_features = features;
	pg->fe_nr_rings = nr;
	pg->fe_generation = gen;
	__atomic_store_n(&pg->fe_state, KEEL_IO_STATE_READY, __ATOMIC_RELEASE);
	notify(r->p->fdom, r->p->fk, r->p->fe_port);
}

void raw_fe_view(struct raw_fe *r, uint32_t i, uint32_t slot_size, struct kpv_ring *ring)
{
	CU_ASSERT_EQUAL_FATAL(kpv_ring_fe_init(ring, r->pages[i][0], &r->pages[i][1],
					       r->pg->fe_rings[i].order, slot_size), 0);
}

void raw_fe_state(struct raw_fe *r, uint32_t state)
{
	__atomic_store_n(&r->pg->fe_state, state, __ATOMIC_RELEASE);
	notify(r->p->fdom, r->p->fk, r->p->fe_port);
}

void raw_fe_release(struct raw_fe *r)
{
	struct t_pair *p = r->p;

	harness_use(p->fdom);
	for (uint32_t i = 0; i < r->nr; i++) {
		for (uint32_t n = 0; n <= KEEL_IO_RING_MAX_DATA_PAGES; n++) {
			if (!r->pages[i][n]) {
				continue;
			}
			if (!kpv_grant_end(p->fk, r->grefs[i][n])) {
				kpv_grant_revoke(p->fk, r->grefs[i][n]);
			}
			kpv_shim_page_free(r->pages[i][n]);
			r->pages[i][n] = NULL;
		}
		if (r->ports[i]) {
			kpv_evtchn_close(p->fk, r->ports[i]);
			r->ports[i] = 0;
		}
	}
	kpv_evtchn_detach(p->fk, p->fe_port);
}

uint64_t t_quiet_steps(void)
{
	uint64_t before = harness_steps();

	harness_run(NULL, NULL, 60 * T_SECOND);
	return harness_steps() - before;
}
