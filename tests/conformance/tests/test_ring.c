/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_ring.c - the generic ring, rule by rule of
 * docs/abi/devices/ring.md, both sides over the same memory: initial state,
 * producing within the slots, notification exactly when the event index
 * says, the arm-and-check that loses no wake-up, indexes wrapping at 2^32,
 * and every hostile-peer check (too many requests, responses never asked
 * for, indexes moved back, the peer writing our own fields).
 *
 * No hypervisor is needed: each page is its own heap block, so that an
 * access outside a page is caught by AddressSanitizer.
 */
#include <stdlib.h>
#include "common.h"
#include "suites.h"

struct rings {
	void *hdr;
	void *data[KEEL_IO_RING_MAX_DATA_PAGES];
	struct keel_io_ring_header *h;
	struct kpv_ring fe, be;
};

static struct rings R;

static void teardown(void);

/* Fresh pages and both sides' views (the previous pair is freed). */
static void ring_pair(uint32_t order, uint32_t slot)
{
	teardown();
	R.hdr = aligned_alloc(4096, 4096);
	memset(R.hdr, 0xee, 4096);	/* init must clear it */
	for (uint32_t i = 0; i < (1u << order); i++) {
		R.data[i] = aligned_alloc(4096, 4096);
	}
	R.h = R.hdr;
	CU_ASSERT_EQUAL_FATAL(kpv_ring_fe_init(&R.fe, R.hdr, R.data, order, slot), 0);
	CU_ASSERT_EQUAL_FATAL(kpv_ring_be_init(&R.be, R.hdr, R.data, order, slot), 0);
}

static void teardown(void)
{
	free(R.hdr);
	for (int i = 0; i < KEEL_IO_RING_MAX_DATA_PAGES; i++) {
		free(R.data[i]);
	}
	memset(&R, 0, sizeof(R));
}

/* The frontend sends @n requests numbered from @id; whether it must notify. */
static bool send(uint32_t n, uint32_t id)
{
	for (uint32_t i = 0; i < n; i++) {
		struct t_msg *m = kpv_ring_fe_next(&R.fe);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		m->id = id + i;
		m->value = id + i;
	}
	return kpv_ring_fe_push(&R.fe);
}

/* The backend answers up to @max requests; how many. Notify in *@notify. */
static uint32_t serve(uint32_t max, bool *notify)
{
	struct t_msg m;
	uint32_t n = 0;

	CU_ASSERT(kpv_ring_be_available(&R.be) >= 0);
	while (n < max && kpv_ring_be_take(&R.be, &m)) {
		struct t_msg *rsp = kpv_ring_be_next(&R.be);

		rsp->id = m.id;
		rsp->value = m.value * 3 + 1;
		n++;
	}
	*notify = kpv_ring_be_push(&R.be);
	return n;
}

/* The frontend takes every answer, checking each; how many. */
static uint32_t collect(uint32_t first_id)
{
	struct t_msg m;
	uint32_t n = 0;

	CU_ASSERT(kpv_ring_fe_available(&R.fe) >= 0);
	while (kpv_ring_fe_take(&R.fe, &m)) {
		CU_ASSERT_EQUAL(m.id, first_id + n);
		CU_ASSERT_EQUAL(m.value, (first_id + n) * 3 + 1);
		n++;
	}
	return n;
}

static void test_init(void)
{
	struct kpv_ring r;
	void *pages[1] = { NULL };

	ring_pair(2, 128);
	CU_ASSERT_EQUAL(R.fe.nr_slots, 128);
	CU_ASSERT_EQUAL(R.h->req_prod, 0);
	CU_ASSERT_EQUAL(R.h->rsp_prod, 0);
	CU_ASSERT_EQUAL(R.h->req_event, 1);
	CU_ASSERT_EQUAL(R.h->rsp_event, 1);
	for (int i = 128; i < 4096; i++) {
		CU_ASSERT_EQUAL_FATAL(((uint8_t *)R.hdr)[i], 0);
	}
	CU_ASSERT_EQUAL(kpv_ring_fe_space(&R.fe), 128);
	CU_ASSERT_EQUAL(kpv_ring_fe_init(&r, R.hdr, R.data, 4, 64), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_ring_fe_init(&r, R.hdr, R.data, 0, 48), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_ring_fe_init(&r, R.hdr, R.data, 0, 8192), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_ring_be_init(&r, R.hdr, pages, 0, 64), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_ring_be_init(&r, NULL, R.data, 0, 64), -KEEL_EINVAL);
}

static void test_round_trip(void)
{
	bool notify;

	ring_pair(0, T_SLOT);
	CU_ASSERT_TRUE(send(1, 0));			/* the first request is notified */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), 1);
	CU_ASSERT_EQUAL(serve(8, &notify), 1);
	CU_ASSERT_TRUE(notify);				/* and the first response */
	CU_ASSERT_EQUAL(collect(0), 1);
	CU_ASSERT_FALSE(kpv_ring_fe_push(&R.fe));	/* nothing new: no notification */
	CU_ASSERT_FALSE(kpv_ring_be_push(&R.be));
}

static void test_slots_limit_requests(void)
{
	bool notify;

	ring_pair(0, T_SLOT);			/* 64 slots */
	send(64, 0);
	CU_ASSERT_EQUAL(kpv_ring_fe_space(&R.fe), 0);
	CU_ASSERT_PTR_NULL(kpv_ring_fe_next(&R.fe));	/* rule 3 */
	/* Consumed but unanswered requests still hold their slots. */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), 64);
	CU_ASSERT_EQUAL(serve(10, &notify), 10);
	CU_ASSERT_EQUAL(kpv_ring_fe_space(&R.fe), 0);
	CU_ASSERT_EQUAL(collect(0), 10);
	CU_ASSERT_EQUAL(kpv_ring_fe_space(&R.fe), 10);
	/* Rule 4: a response only for a consumed request. */
	CU_ASSERT_EQUAL(serve(54, &notify), 54);
	CU_ASSERT_PTR_NULL(kpv_ring_be_next(&R.be));
	CU_ASSERT_EQUAL(kpv_ring_be_unanswered(&R.be), 0);
}

static void test_notify_only_past_event(void)
{
	ring_pair(0, T_SLOT);
	send(1, 0);
	kpv_ring_be_available(&R.be);
	/* The backend asks to be woken after 5 more requests (ring.md rule 7, batching). */
	R.h->req_event = 1 + 5;
	CU_ASSERT_FALSE(send(3, 1));		/* 4 published: not yet */
	CU_ASSERT_FALSE(send(1, 4));		/* 5 */
	CU_ASSERT_TRUE(send(2, 5));		/* 7 passes 6 */
	CU_ASSERT_FALSE(send(1, 7));		/* event index behind: no more */
	/* An event index far ahead (or wrapped behind) is never crossed. */
	R.h->req_event = 0x80000000u;
	CU_ASSERT_FALSE(send(1, 8));
}

static void test_arm_and_check(void)
{
	struct t_msg m;
	bool notify;

	ring_pair(0, T_SLOT);
	CU_ASSERT_TRUE(send(1, 0));
	CU_ASSERT_EQUAL(serve(8, &notify), 1);
	/* The backend has consumed all but not yet armed: this send is not notified ... */
	CU_ASSERT_FALSE(send(1, 1));
	/* ... and arming finds it: the wake-up is not lost. */
	CU_ASSERT_TRUE(kpv_ring_be_arm(&R.be));
	CU_ASSERT_EQUAL(serve(8, &notify), 1);
	CU_ASSERT_FALSE(kpv_ring_be_arm(&R.be));	/* caught up: sleep */
	CU_ASSERT_EQUAL(R.h->req_event, 3);
	CU_ASSERT_TRUE(send(1, 2));			/* and the next one wakes it */
	/* The same on the frontend's side. */
	collect(0);
	CU_ASSERT_EQUAL(serve(8, &notify), 1);
	CU_ASSERT_FALSE(notify);			/* the frontend has not armed */
	CU_ASSERT_TRUE(kpv_ring_fe_arm(&R.fe));
	CU_ASSERT_EQUAL(kpv_ring_fe_available(&R.fe), 1);
	CU_ASSERT_TRUE(kpv_ring_fe_take(&R.fe, &m));
	CU_ASSERT_FALSE(kpv_ring_fe_arm(&R.fe));
	CU_ASSERT_EQUAL(R.h->rsp_event, 4);
}

/* Both sides as if 2^32 - 100 requests had gone before. */
static void start_at(uint32_t i)
{
	R.fe.req_prod_pvt = R.fe.rsp_cons = R.fe.req_pushed = R.fe.rsp_seen = i;
	R.be.req_cons = R.be.rsp_prod_pvt = R.be.rsp_pushed = R.be.req_seen = i;
	R.h->req_prod = R.h->rsp_prod = i;
	R.h->req_event = R.h->rsp_event = i + 1;
}

static void test_indexes_wrap(void)
{
	uint32_t id = 0;
	bool notify;

	ring_pair(1, T_SLOT);			/* 128 slots */
	start_at(0xffffffffu - 100);
	for (int round = 0; round < 40; round++) {
		uint32_t n = 1 + (uint32_t)round * 7 % 128, got;

		CU_ASSERT_TRUE(send(n, id));	/* everyone armed: each batch notified */
		CU_ASSERT_EQUAL(serve(128, &notify), n);
		CU_ASSERT_TRUE(notify);
		CU_ASSERT_FALSE(kpv_ring_be_arm(&R.be));
		got = collect(id);
		CU_ASSERT_EQUAL(got, n);
		CU_ASSERT_FALSE(kpv_ring_fe_arm(&R.fe));
		id += n;
	}
	CU_ASSERT(R.fe.req_prod_pvt < 0x1000);	/* it did wrap */
	CU_ASSERT_FALSE(R.fe.broken || R.be.broken);
}

static void test_too_many_requests(void)
{
	struct t_msg m;

	ring_pair(0, T_SLOT);
	R.h->req_prod = 64;			/* a full ring: allowed */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), 64);
	R.h->req_prod = 65;			/* one more than slots: a protocol error */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), -KEEL_EINVAL);
	CU_ASSERT_TRUE(R.be.broken);
	/* Broken stays broken: nothing is read or written any more. */
	R.h->req_prod = 1;
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), -KEEL_EINVAL);
	CU_ASSERT_FALSE(kpv_ring_be_take(&R.be, &m));
	CU_ASSERT_PTR_NULL(kpv_ring_be_next(&R.be));
	CU_ASSERT_FALSE(kpv_ring_be_push(&R.be));
	CU_ASSERT_FALSE(kpv_ring_be_arm(&R.be));
}

static void test_requests_moved_back(void)
{
	struct t_msg m;

	ring_pair(0, T_SLOT);
	send(8, 0);
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), 8);
	for (int i = 0; i < 8; i++) {
		kpv_ring_be_take(&R.be, &m);
	}
	R.h->req_prod = 4;			/* behind what was consumed */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), -KEEL_EINVAL);
	ring_pair(0, T_SLOT);
	R.h->req_prod = 0xffffffffu;		/* before the beginning */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), -KEEL_EINVAL);
}

static void test_responses_never_asked_for(void)
{
	struct t_msg m;
	bool notify;

	ring_pair(0, T_SLOT);
	send(3, 0);
	kpv_ring_fe_next(&R.fe);		/* claimed, not published: does not count */
	R.h->rsp_prod = 3;			/* as many as requests published: fine */
	CU_ASSERT_EQUAL(kpv_ring_fe_available(&R.fe), 3);
	R.h->rsp_prod = 4;			/* one more */
	CU_ASSERT_EQUAL(kpv_ring_fe_available(&R.fe), -KEEL_EINVAL);
	CU_ASSERT_TRUE(R.fe.broken);
	CU_ASSERT_FALSE(kpv_ring_fe_take(&R.fe, &m));
	CU_ASSERT_PTR_NULL(kpv_ring_fe_next(&R.fe));
	CU_ASSERT_EQUAL(kpv_ring_fe_space(&R.fe), 0);
	CU_ASSERT_FALSE(kpv_ring_fe_push(&R.fe));
	/* rsp_prod moved back behind what we consumed: also refused. */
	ring_pair(0, T_SLOT);
	send(2, 0);
	serve(2, &notify);
	CU_ASSERT_EQUAL(collect(0), 2);
	R.h->rsp_prod = 1;
	CU_ASSERT_EQUAL(kpv_ring_fe_available(&R.fe), -KEEL_EINVAL);
}

static void test_peer_writes_our_fields(void)
{
	bool notify;

	ring_pair(0, T_SLOT);
	send(2, 0);
	/* The backend scribbles on the frontend's half: the frontend never reads it back. */
	R.h->req_prod = 1000;
	R.h->rsp_event = 0x12345678;
	CU_ASSERT_FALSE(send(1, 2));		/* req_event still 1: passed long ago */
	CU_ASSERT_EQUAL(R.h->req_prod, 3);	/* published from its own count */
	CU_ASSERT_EQUAL(kpv_ring_be_available(&R.be), 3);
	serve(3, &notify);
	CU_ASSERT_EQUAL(collect(0), 3);
	/* And the other way: the frontend scribbles on rsp_prod; the backend pushes its own. */
	send(1, 3);
	R.h->rsp_prod = 77;
	serve(1, &notify);
	CU_ASSERT_EQUAL(R.h->rsp_prod, 4);
}

/* Whatever the frontend writes, the backend never sees more than a ring's worth. */
static void test_hostile_index_bounded(void)
{
	uint64_t seed = 99;

	for (int i = 0; i < 2000; i++) {
		int n;

		ring_pair(i % 4, 64u << (i % 3));
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		R.h->req_prod = (uint32_t)(seed >> 32);
		n = kpv_ring_be_available(&R.be);
		CU_ASSERT(n == -KEEL_EINVAL || (n >= 0 && (uint32_t)n <= R.be.nr_slots));
		if (n > 0) {
			struct t_msg m[64];

			while (kpv_ring_be_take(&R.be, m)) {	/* every slot within the pages */
			}
		}
		teardown();
	}
}

static CU_TestInfo tests[] = {
	{ "a fresh ring: zero but the event indexes", test_init },
	{ "one request, one response, each notified", test_round_trip },
	{ "requests only into free slots, responses only for requests",
	  test_slots_limit_requests },
	{ "notified exactly when the event index is passed", test_notify_only_past_event },
	{ "arm, then check again: no lost wake-up", test_arm_and_check },
	{ "indexes wrap at 2^32", test_indexes_wrap },
	{ "a frontend publishing more requests than slots", test_too_many_requests },
	{ "a frontend moving req_prod back", test_requests_moved_back },
	{ "a backend answering what was not asked", test_responses_never_asked_for },
	{ "a peer writing our half of the header", test_peer_writes_our_fields },
	{ "any req_prod: at most a ring's worth, inside the pages",
	  test_hostile_index_bounded },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo ring_suite = { "ring", NULL, NULL, NULL, teardown, tests };
