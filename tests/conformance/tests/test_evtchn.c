/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_evtchn.c - event channels through pvdrivers:
 * the demultiplexer calls each port's handler exactly once per event it
 * finds, masked (detached) ports stay quiet until attached again, events
 * reach any vCPU, one busy port neither starves the others nor keeps an
 * upcall going for ever, and peer loss shows as an event.
 */
#include <keel/hypercall.h>
#include "common.h"
#include "suites.h"

#define MANY	200

struct hits {
	unsigned int calls;
	uint32_t port;			/* the port it was called for */
	uint32_t cpu;			/* the vCPU it ran on */
	uint64_t step;			/* harness_steps() when it last ran */
};

static void count(void *ctx, uint32_t port)
{
	struct hits *h = ctx;

	h->calls++;
	h->port = port;
	h->cpu = kpv_shim_cpu();
	h->step = harness_steps();
}

static struct hdom *a, *b;
static struct kpv *ka, *kb;
static unsigned int ports_left;		/* a's ports Keel made (a device's control port) */

static void setup(void)
{
	harness_begin();
	a = harness_domain("a", 3);
	b = harness_domain("b", 1);
	ka = t_start(a);
	kb = t_start(b);
	ports_left = 0;
}

static void teardown(void)
{
	t_stop(a, ka);
	t_stop(b, kb);
	t_assert_clean(a, ports_left);
	t_assert_clean(b, 0);
	harness_end();
}

/* a offers @n ports to b, which binds them all. */
static void connect_ports(struct hits *ha, uint32_t *pa, struct hits *hb, uint32_t *pb,
			  unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		harness_use(a);
		CU_ASSERT_EQUAL_FATAL(kpv_evtchn_alloc_unbound(ka, harness_domid(b), count, &ha[i],
							       &pa[i]), 0);
		harness_use(b);
		CU_ASSERT_EQUAL_FATAL(kpv_evtchn_bind_interdomain(kb, harness_domid(a), pa[i], count,
								  &hb[i], &pb[i]), 0);
	}
}

static void close_ports(struct hdom *dom, struct kpv *k, const uint32_t *ports, unsigned int n)
{
	harness_use(dom);
	for (unsigned int i = 0; i < n; i++) {
		kpv_evtchn_close(k, ports[i]);
	}
}

static void test_one_call_per_event(void)
{
	static struct hits ha[MANY], hb[MANY];
	static uint32_t pa[MANY], pb[MANY];

	memset(ha, 0, sizeof(ha));
	memset(hb, 0, sizeof(hb));
	connect_ports(ha, pa, hb, pb, MANY);
	/* Every port of b, once: every handler of a, once, for its own port. */
	harness_use(b);
	for (unsigned int i = 0; i < MANY; i++) {
		CU_ASSERT_EQUAL(kpv_evtchn_notify(kb, pb[i]), 0);
	}
	harness_settle();
	for (unsigned int i = 0; i < MANY; i++) {
		CU_ASSERT_EQUAL(ha[i].calls, 1);
		CU_ASSERT_EQUAL(ha[i].port, pa[i]);
		CU_ASSERT_EQUAL(hb[i].calls, 0);
	}
	/* Two sends before the upcall are one event; two with an upcall between, two. */
	harness_use(b);
	kpv_evtchn_notify(kb, pb[7]);
	kpv_evtchn_notify(kb, pb[7]);
	harness_settle();
	CU_ASSERT_EQUAL(ha[7].calls, 2);
	harness_use(a);
	kpv_evtchn_notify(ka, pa[9]);
	harness_settle();
	harness_use(a);
	kpv_evtchn_notify(ka, pa[9]);
	harness_settle();
	CU_ASSERT_EQUAL(hb[9].calls, 2);
	CU_ASSERT_EQUAL(ha[9].calls, 1);
	close_ports(a, ka, pa, MANY);
	close_ports(b, kb, pb, MANY);
}

static void test_detached_port_is_quiet(void)
{
	struct hits ha = { 0 }, hb = { 0 };
	uint32_t pa, pb;

	connect_ports(&ha, &pa, &hb, &pb, 1);
	harness_use(a);
	kpv_evtchn_detach(ka, pa);
	harness_use(b);
	kpv_evtchn_notify(kb, pb);
	harness_settle();
	CU_ASSERT_EQUAL(ha.calls, 0);
	/* Attached again: the event that waited is delivered, once. */
	harness_use(a);
	CU_ASSERT_EQUAL(kpv_evtchn_attach(ka, pa, count, &ha), 0);
	harness_settle();
	CU_ASSERT_EQUAL(ha.calls, 1);
	/* Attaching a second handler, port 0 or a port beyond the table is refused. */
	harness_use(a);
	CU_ASSERT_EQUAL(kpv_evtchn_attach(ka, pa, count, &ha), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(kpv_evtchn_attach(ka, 0, count, &ha), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kpv_evtchn_attach(ka, 4096, count, &ha), -KEEL_EINVAL);
	close_ports(a, ka, &pa, 1);
	close_ports(b, kb, &pb, 1);
}

static void test_peer_close_is_an_event(void)
{
	struct hits ha = { 0 }, hb = { 0 };
	uint32_t pa, pb;

	connect_ports(&ha, &pa, &hb, &pb, 1);
	harness_use(a);
	CU_ASSERT_EQUAL(kpv_evtchn_state(ka, pa), KEEL_EVTCHN_STATE_INTERDOMAIN);
	close_ports(b, kb, &pb, 1);
	harness_settle();
	CU_ASSERT_EQUAL(ha.calls, 1);
	harness_use(a);
	CU_ASSERT_EQUAL(kpv_evtchn_state(ka, pa), KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(kpv_evtchn_state(ka, 4095), KEEL_EVTCHN_STATE_FREE);
	close_ports(a, ka, &pa, 1);
}

static void test_event_on_another_vcpu(void)
{
	struct hits ha = { 0 }, hb = { 0 };
	uint32_t pa, pb;

	connect_ports(&ha, &pa, &hb, &pb, 1);
	CU_ASSERT_EQUAL(harness_hypercall(a, KEEL_HC_EVTCHN_BIND_VCPU, pa, 2, 0, 0, 0), 0);
	harness_use(b);
	kpv_evtchn_notify(kb, pb);
	harness_settle();
	CU_ASSERT_EQUAL(ha.calls, 1);
	CU_ASSERT_EQUAL(ha.cpu, 2);
	close_ports(a, ka, &pa, 1);
	close_ports(b, kb, &pb, 1);
}

/* A port whose handler raises it again, HOT_ROUNDS times. */
#define HOT_ROUNDS	100

struct hot {
	struct kpv *k;
	uint32_t kick;			/* the loopback port that raises it */
	unsigned int calls, max_per_upcall, in_this_upcall;
	uint64_t step;
};

static void hot_handler(void *ctx, uint32_t port)
{
	struct hot *h = ctx;

	(void)port;
	if (h->step != harness_steps()) {
		h->step = harness_steps();
		h->in_this_upcall = 0;
	}
	h->calls++;
	if (++h->in_this_upcall > h->max_per_upcall) {
		h->max_per_upcall = h->in_this_upcall;
	}
	if (h->calls < HOT_ROUNDS) {
		kpv_evtchn_notify(h->k, h->kick);
	}
}

static void test_busy_port_bounded(void)
{
	struct hot hot = { .k = ka };
	struct hits quiet = { 0 }, hb = { 0 }, loop = { 0 };
	uint32_t hot_port, pa, pb;
	uint64_t first;

	/* A loopback pair in a: sending on one end raises the other, the hot port. */
	harness_use(a);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_alloc_unbound(ka, KEEL_DOMID_SELF, hot_handler, &hot,
						       &hot_port), 0);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_bind_interdomain(ka, KEEL_DOMID_SELF, hot_port, count,
							  &loop, &hot.kick), 0);
	connect_ports(&quiet, &pa, &hb, &pb, 1);
	/* The hot port and a quiet one become pending together. */
	harness_use(a);
	kpv_evtchn_notify(ka, hot.kick);
	harness_use(b);
	kpv_evtchn_notify(kb, pb);
	first = harness_steps();
	harness_settle();
	CU_ASSERT_EQUAL(hot.calls, HOT_ROUNDS);
	CU_ASSERT(hot.max_per_upcall <= 4);	/* a few passes per upcall, then return */
	CU_ASSERT_EQUAL(quiet.calls, 1);
	CU_ASSERT_EQUAL(quiet.step, first + 1);	/* in the very first upcall: not starved */
	close_ports(a, ka, &pa, 1);
	close_ports(a, ka, &hot.kick, 1);
	close_ports(a, ka, &hot_port, 1);
	close_ports(b, kb, &pb, 1);
}

static void test_stray_pending_port(void)
{
	struct hits hb = { 0 };
	uint64_t before;
	uint32_t pb;
	long stray;

	/* A port a's pvdrivers knows nothing of, unmasked behind its back. */
	stray = harness_hypercall(a, KEEL_HC_EVTCHN_ALLOC_UNBOUND, harness_domid(b), 0, 0, 0, 0);
	CU_ASSERT_FATAL(stray > 0);
	CU_ASSERT_EQUAL(harness_hypercall(a, KEEL_HC_EVTCHN_UNMASK, (uint64_t)stray, 0, 0, 0, 0), 0);
	harness_use(b);
	CU_ASSERT_EQUAL(kpv_evtchn_bind_interdomain(kb, harness_domid(a), (uint32_t)stray, count,
						    &hb, &pb), 0);
	kpv_evtchn_notify(kb, pb);
	before = harness_steps();
	harness_settle();	/* consumed without a handler; no loop */
	CU_ASSERT_EQUAL(harness_steps() - before, 1);
	close_ports(b, kb, &pb, 1);
	harness_hypercall(a, KEEL_HC_EVTCHN_CLOSE, (uint64_t)stray, 0, 0, 0, 0);
}

static void test_virq(void)
{
	struct hits h = { 0 };
	uint32_t port, id, fe_port;

	harness_use(a);
	CU_ASSERT_EQUAL_FATAL(kpv_evtchn_bind_virq(ka, KEEL_VIRQ_DEVICE_TABLE, count, &h, &port),
			      0);
	CU_ASSERT_EQUAL(harness_device_setup(a, b, T_CLASS, 0, &id, &fe_port), 0);
	harness_settle();
	CU_ASSERT_EQUAL(h.calls, 1);
	close_ports(a, ka, &port, 1);
	ports_left = 1;		/* the device's control port */
}

static CU_TestInfo tests[] = {
	{ "each handler runs once per event, for its port", test_one_call_per_event },
	{ "a detached port is quiet until attached again", test_detached_port_is_quiet },
	{ "the peer closing is an event, and the port UNBOUND", test_peer_close_is_an_event },
	{ "events reach the vCPU a port notifies", test_event_on_another_vcpu },
	{ "a busy port is bounded and starves no other", test_busy_port_bounded },
	{ "a pending port without a handler is consumed", test_stray_pending_port },
	{ "VIRQs reach their handler", test_virq },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo evtchn_suite = { "evtchn", NULL, NULL, setup, teardown, tests };
