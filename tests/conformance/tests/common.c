/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/common.c - pvdrivers in a domain, a device pair,
 * and the test class: a frontend that sends numbered requests and checks
 * each answer, a backend that answers value * 3 + 1 in order.
 */
#include <stdio.h>
#include "common.h"

/* --- pvdrivers in a domain ---------------------------------------------------------- */

struct kpv *t_start(struct hdom *d)
{
	static const struct kpv_os os = {
		.os_id = KEEL_OS_REFERENCE,
		.abi_major = KEEL_ABI_MAJOR,
		.abi_minor = KEEL_ABI_MINOR,
		.os_version = { 1, 2, 3, 4 },
		.pkg_version = { 0, 1, 0, 0 },
		.os_name = "conformance",
		.pkg_name = "kpv-conformance-tests",
	};
	struct kpv *k = NULL;

	harness_use(d);
	CU_ASSERT_EQUAL_FATAL(kpv_start(&os, &k), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	return k;
}

void t_stop(struct hdom *d, struct kpv *k)
{
	harness_use(d);
	kpv_stop(k);
}

void t_assert_clean_at(struct hdom *d, unsigned int ports, const char *file, unsigned int line)
{
	struct harness_usage u;
	char msg[256];

	harness_usage(d, &u);
	snprintf(msg, sizeof(msg),
		 "clean: allocs %u (vCPUs %u) pages %u locks %u works %u timers %u maps %u; "
		 "grants %u busy %u, foreign maps %u, ports %u (want %u)",
		 u.allocs, harness_vcpus(d), u.pages, u.locks, u.works, u.timers, u.maps,
		 harness_grants_permitted(d), harness_grants_busy(d), harness_foreign_maps(d),
		 harness_ports_in_use(d), ports);
	CU_assertImplementation(u.allocs == harness_vcpus(d) && u.pages == 0 && u.locks == 0 && u.works == 0 && u.timers == 0 &&
					u.maps == 0 && harness_grants_permitted(d) == 0 &&
					harness_grants_busy(d) == 0 &&
					harness_foreign_maps(d) == 0 &&
					harness_ports_in_use(d) == ports,
				line, msg, file, "", CU_FALSE);
}

void t_device(struct hdom *d, struct kpv *k, uint32_t id, struct kpv_device_info *out)
{
	struct kpv_device_info all[16];
	int n;

	harness_use(d);
	n = kpv_devices(k, all, 16);
	CU_ASSERT_FATAL(n >= 1 && n <= 16);
	for (int i = 0; i < n; i++) {
		if (all[i].device_id == id) {
			*out = all[i];
			return;
		}
	}
	CU_FAIL_FATAL("device not in the device table");
}

/* --- the test class: frontend ------------------------------------------------------ */

static uint32_t fe_choose(void *drv, const struct kpv_offer *offer, struct kpv_commit *c)
{
	struct tfe *fe = drv;

	fe->chooses++;
	fe->offer = *offer;
	if (fe->choose_err) {
		return fe->choose_err;
	}
	c->features = offer->features & fe->features;
	c->nr_rings = fe->rings < offer->max_rings ? fe->rings : offer->max_rings;
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		c->ring_order[i] = fe->order < offer->max_ring_order ? fe->order
								      : offer->max_ring_order;
	}
	memset(c->config, 0xfe, 16);
	return 0;
}

/* --- the test class: what both ends record ---------------------------------------- */

static void end_connected(void *drv, struct kpv_dev *dev)
{
	struct t_end *e = drv;

	e->connected++;
	e->dev = dev;
}

static void end_disconnected(void *drv, struct kpv_dev *dev, enum kpv_dev_end why)
{
	struct t_end *e = drv;

	(void)dev;
	e->disconnected++;
	e->last_end = why;
}

static void end_released(void *drv)
{
	struct t_end *e = drv;

	e->released++;
	e->dev = NULL;
}

/* Consume every answer; an answer that is not value * 3 + 1 of its request is counted wrong. */
static void fe_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct tfe *fe = drv;
	struct kpv_ring *r = kpv_dev_ring(dev, ring);
	struct t_msg m;

	fe->end.ring_events++;
	do {
		int n = kpv_ring_fe_available(r);

		if (n < 0) {
			kpv_dev_fail(dev, KEEL_IO_ERR_PROTOCOL);
			return;
		}
		while (kpv_ring_fe_take(r, &m)) {
			if (m.value == m.id * 3 + 1) {
				fe->answered++;
			} else {
				fe->wrong++;
			}
		}
	} while (kpv_ring_fe_arm(r));
}

static void fe_config_changed(void *drv, struct kpv_dev *dev, const uint8_t *config)
{
	struct tfe *fe = drv;

	(void)dev;
	(void)config;
	fe->config_changes++;
}

const struct kpv_fe_class t_fe_class = {
	.device_class = T_CLASS,
	.slot_size = T_SLOT,
	.choose = fe_choose,
	.connected = end_connected,
	.disconnected = end_disconnected,
	.ring_event = fe_ring_event,
	.config_changed = fe_config_changed,
	.released = end_released,
};

/* --- the test class: backend -------------------------------------------------------- */

static void be_offer(void *drv, struct kpv_offer *o)
{
	struct tbe *be = drv;

	be->offers++;
	o->features = be->features;
	o->max_rings = be->max_rings;
	o->max_ring_order = be->max_order;
	memset(o->config, be->config, 16);
}

static uint32_t be_check(void *drv, const struct kpv_offer *o, const struct kpv_commit *c)
{
	struct tbe *be = drv;

	(void)o;
	be->checks++;
	be->commit = *c;
	return be->check_err;
}

/*
 * Answer what is there, at most one ring's worth per event (ring.md:
 * bounded work). Caught up, arm and look again (rule 7); out of budget with
 * more waiting, a real driver would come back from a work item: the test
 * class counts it in backlog, which the tests expect to stay 0.
 */
static void be_serve(struct tbe *be, struct kpv_dev *dev, unsigned int ring)
{
	struct kpv_ring *r = kpv_dev_ring(dev, ring);
	uint32_t budget = r->nr_slots;
	struct t_msg m;

	if (be->mute) {
		return;
	}
	do {
		if (kpv_ring_be_available(r) < 0) {
			kpv_dev_fail(dev, KEEL_IO_ERR_PROTOCOL);
			return;
		}
		while (budget && kpv_ring_be_take(r, &m)) {
			struct t_msg *rsp = kpv_ring_be_next(r);

			rsp->id = m.id;
			rsp->value = m.value * 3 + 1;
			be->served++;
			budget--;
		}
		if (kpv_ring_be_push(r)) {
			kpv_dev_notify(dev, ring);
		}
	} while (kpv_ring_be_arm(r) && budget);
	be->backlog += budget == 0 && kpv_ring_be_available(r) > 0;
}

/* Connected: answer what was queued before. */
static void be_connected(void *drv, struct kpv_dev *dev)
{
	struct tbe *be = drv;

	end_connected(drv, dev);
	for (unsigned int i = 0; i < kpv_dev_nr_rings(dev); i++) {
		be_serve(be, dev, i);
	}
}

static void be_ring_event(void *drv, struct kpv_dev *dev, unsigned int ring)
{
	struct tbe *be = drv;

	be->end.ring_events++;
	be_serve(be, dev, ring);
}

const struct kpv_be_class t_be_class = {
	.device_class = T_CLASS,
	.slot_size = T_SLOT,
	.offer = be_offer,
	.check_commit = be_check,
	.connected = be_connected,
	.disconnected = end_disconnected,
	.ring_event = be_ring_event,
	.released = end_released,
};

/* --- a device between two domains --------------------------------------------------- */

void t_pair_class(struct t_pair *p, uint32_t cls)
{
	memset(p, 0, sizeof(*p));
	p->fdom = harness_domain("front", 2);
	p->bdom = harness_domain("back", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->fdom);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->bdom);
	CU_ASSERT_EQUAL_FATAL(harness_device_setup(p->fdom, p->bdom, cls, 0, &p->id,
						   &p->fe_port), 0);
	p->fk = t_start(p->fdom);
	p->bk = t_start(p->bdom);
	t_device(p->fdom, p->fk, p->id, &p->finfo);
	t_device(p->bdom, p->bk, p->id, &p->binfo);
}

void t_pair_init(struct t_pair *p)
{
	t_pair_class(p, T_CLASS);
	p->fe = (struct tfe){ .end.dom = p->fdom, .features = ~0ull, .rings = 2, .order = 1 };
	p->be = (struct tbe){ .end.dom = p->bdom, .features = T_FEATURES, .max_rings = 4,
			      .max_order = 2, .config = 0x42 };
}

int t_fe_open(struct t_pair *p)
{
	harness_use(p->fdom);
	return kpv_fe_open(p->fk, &p->finfo, &t_fe_class, &p->fe, &p->fe.end.dev);
}

int t_be_open(struct t_pair *p)
{
	harness_use(p->bdom);
	return kpv_be_open(p->bk, &p->binfo, &t_be_class, &p->be, &p->be.end.dev);
}

bool t_both_connected(void *pair)
{
	struct t_pair *p = pair;

	return p->fe.end.dev && p->be.end.dev && kpv_dev_state(p->fe.end.dev) == KEEL_IO_STATE_CONNECTED &&
	       kpv_dev_state(p->be.end.dev) == KEEL_IO_STATE_CONNECTED;
}

bool t_fe_error(void *pair)
{
	struct t_pair *p = pair;

	return kpv_dev_state(p->fe.end.dev) == KEEL_IO_STATE_ERROR;
}

bool t_be_error(void *pair)
{
	struct t_pair *p = pair;

	return kpv_dev_state(p->be.end.dev) == KEEL_IO_STATE_ERROR;
}

bool t_all_answered(void *pair)
{
	struct t_pair *p = pair;

	return p->fe.answered + p->fe.wrong == p->fe.sent;
}

void t_pair_connect(struct t_pair *p)
{
	t_pair_init(p);
	CU_ASSERT_EQUAL_FATAL(t_fe_open(p), 0);
	CU_ASSERT_EQUAL_FATAL(t_be_open(p), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(t_both_connected, p, 5 * T_SECOND));
	CU_ASSERT_EQUAL(p->fe.end.connected, 1);
	CU_ASSERT_EQUAL(p->be.end.connected, 1);
}

bool t_released(void *end)
{
	return ((struct t_end *)end)->released > 0;
}

void t_close_fe(struct t_pair *p, bool removed)
{
	harness_use(p->fdom);
	kpv_dev_close(p->fe.end.dev, removed);
	CU_ASSERT_TRUE(harness_run(t_released, &p->fe.end, 30 * T_SECOND));
}

void t_close_be(struct t_pair *p, bool removed)
{
	harness_use(p->bdom);
	kpv_dev_close(p->be.end.dev, removed);
	CU_ASSERT_TRUE(harness_run(t_released, &p->be.end, 30 * T_SECOND));
}

void t_pair_finish(struct t_pair *p)
{
	if (p->fe.end.dev) {
		t_close_fe(p, false);
	}
	if (p->be.end.dev) {
		t_close_be(p, false);
	}
	harness_settle();
	t_stop(p->fdom, p->fk);
	t_stop(p->bdom, p->bk);
	t_assert_clean(p->fdom, 1);	/* the control port is Keel's and stays the frontend's */
	t_assert_clean(p->bdom, 0);
}

void t_send(struct t_pair *p, unsigned int ring, uint32_t n)
{
	struct kpv_ring *r;

	harness_use(p->fdom);
	r = kpv_dev_ring(p->fe.end.dev, ring);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (uint32_t i = 0; i < n; i++) {
		struct t_msg *m = kpv_ring_fe_next(r);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		m->id = p->fe.sent++;
		m->value = m->id;
	}
	if (kpv_ring_fe_push(r)) {
		kpv_dev_notify(p->fe.end.dev, ring);
	}
}
