/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/device_be.c - the backend's side of the handshake
 * (docs/abi/devices/handshake.md): offer, validate the frontend's commit
 * from one copy, map its rings and bind their ports, connect; notice the
 * frontend going away and offer again; stop in ERROR on anything invalid.
 *
 * A commit is read once per frontend generation: one that was there when
 * we opened belongs to an earlier backend and is never mapped (Backend
 * restart), and one we refused is not tried again.
 */
#include "device_priv.h"

/* --- rings ----------------------------------------------------------------------- */

static uint32_t map_err(int rc)
{
	return rc == -KEEL_ENOSPC || rc == -KEEL_ENOMEM ? KEEL_IO_ERR_RESOURCE : KEEL_IO_ERR_GRANT;
}

static uint32_t bind_err(int rc)
{
	return rc == -KEEL_ENOSPC || rc == -KEEL_ENOMEM ? KEEL_IO_ERR_RESOURCE : KEEL_IO_ERR_RINGS;
}

/* Map ring @i's pages (writable) and bind its port. 0 or KEEL_IO_ERR_*. */
static uint32_t ring_setup(struct kpv_dev *dev, unsigned int i, const struct keel_io_ring_ref *ref)
{
	struct kpv_dev_ring *dr = kpv_shim_alloc(sizeof(*dr));
	uint32_t peer = dev->info.peer_domid, data = 1u << ref->order;
	void *data_va[KEEL_IO_RING_MAX_DATA_PAGES];
	int rc;

	if (!dr) {
		return KEEL_IO_ERR_RESOURCE;
	}
	dev->rings[i] = dr;
	dr->dev = dev;
	dr->index = i;
	dr->order = ref->order;
	rc = kpv_map_grant(dev->k, peer, ref->header_gref, false, &dr->maps[0]);
	for (uint32_t d = 0; rc == 0 && d < data; d++) {
		rc = kpv_map_grant(dev->k, peer, ref->data_gref[d], false, &dr->maps[1 + d]);
		data_va[d] = dr->maps[1 + d].va;
	}
	if (rc != 0) {
		return map_err(rc);
	}
	rc = kpv_evtchn_bind_interdomain(dev->k, peer, ref->port, kpv_dev_ring_event, dr, &dr->port);
	if (rc != 0) {
		return bind_err(rc);
	}
	if (kpv_ring_be_init(&dr->ring, dr->maps[0].va, data_va, dr->order, dev->calls.slot_size)) {
		return KEEL_IO_ERR_INTERNAL;
	}
	return 0;
}

static void rings_teardown(struct kpv_dev *dev, enum kpv_dev_end why)
{
	kpv_dev_quiesce(dev, why);
	for (unsigned int i = 0; i < dev->nr_rings; i++) {
		if (!dev->rings[i]) {
			continue;
		}
		for (uint32_t p = 0; p < KPV_RING_PAGES; p++) {
			kpv_unmap_grant(dev->k, &dev->rings[i]->maps[p]);
		}
		kpv_dev_free_ring(dev, i);
	}
	dev->nr_rings = 0;
}

/* --- validating a commit ---------------------------------------------------------------- */

/* The @t-th grant reference the commit uses (header, then data, ring by ring). */
static uint32_t used_gref(const struct keel_io_device_page *s, uint32_t t)
{
	for (uint32_t i = 0;; i++) {
		uint32_t n = 1 + (1u << s->fe_rings[i].order);

		if (t < n) {
			return t == 0 ? s->fe_rings[i].header_gref : s->fe_rings[i].data_gref[t - 1];
		}
		t -= n;
	}
}

/* A page or port used twice would let one ring alias another: refused. */
static bool duplicates(const struct keel_io_device_page *s, uint32_t refs)
{
	for (uint32_t a = 0; a < refs; a++) {
		for (uint32_t b = a + 1; b < refs; b++) {
			if (used_gref(s, a) == used_gref(s, b)) {
				return true;
			}
		}
	}
	for (uint32_t a = 0; a < s->fe_nr_rings; a++) {
		for (uint32_t b = a + 1; b < s->fe_nr_rings; b++) {
			if (s->fe_rings[a].port == s->fe_rings[b].port) {
				return true;
			}
		}
	}
	return false;
}

/* handshake.md step 3, on the snapshot; fills dev->commit. 0 or KEEL_IO_ERR_*. */
static uint32_t check_commit(struct kpv_dev *dev)
{
	const struct keel_io_device_page *s = dev->snap;
	struct kpv_commit *c = &dev->commit;
	uint32_t refs = 0;

	if (s->fe_features & ~dev->offer.features) {
		return KEEL_IO_ERR_FEATURES;
	}
	if (s->fe_nr_rings < 1 || s->fe_nr_rings > dev->offer.max_rings) {
		return KEEL_IO_ERR_RINGS;
	}
	for (uint32_t i = 0; i < s->fe_nr_rings; i++) {
		const struct keel_io_ring_ref *r = &s->fe_rings[i];

		if (r->order > dev->offer.max_ring_order) {
			return KEEL_IO_ERR_RINGS;
		}
		for (uint32_t d = 1u << r->order; d < KEEL_IO_RING_MAX_DATA_PAGES; d++) {
			if (r->data_gref[d]) {
				return KEEL_IO_ERR_RINGS;
			}
		}
		refs += 1 + (1u << r->order);
	}
	if (duplicates(s, refs)) {
		return KEEL_IO_ERR_RINGS;
	}
	kpv_memset(c, 0, sizeof(*c));
	c->features = s->fe_features;
	c->nr_rings = s->fe_nr_rings;
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		c->ring_order[i] = s->fe_rings[i].order;
	}
	kpv_memcpy(c->config, s->fe_config, KEEL_IO_CONFIG_SIZE);
	return dev->be->check_commit(dev->drv, &dev->offer, c);
}

/* --- the states we move to ---------------------------------------------------------- */

static void fail(struct kpv_dev *dev, uint32_t err)
{
	kpv_log(KPV_LOG_ERROR, "kpv: device %u: backend error %u (frontend state %u)",
		dev->info.device_id, err, dev->snap->fe_state);
	rings_teardown(dev, KPV_END_ERROR);
	dev->consumed_gen = dev->err_peer_gen = dev->snap->fe_generation;
	kpv_dev_set_state(dev, KEEL_IO_STATE_ERROR, kpv_dev_err(err));
	kpv_dev_phase(dev, PH_ERROR, 0);
}

/* Publish the class's offer and go READY; @fresh: a new instance or attempt (INIT, generation + 1). */
static void offer(struct kpv_dev *dev, bool fresh)
{
	struct keel_io_device_page *p = dev->page;
	struct kpv_offer *o = &dev->offer;

	if (fresh) {
		kpv_dev_set_state(dev, KEEL_IO_STATE_INIT, KEEL_IO_ERR_NONE);
		kpv_store_relaxed(&p->be_generation, ++dev->gen);
	}
	kpv_memset(o, 0, sizeof(*o));
	dev->be->offer(dev->drv, o);
	if (o->max_rings < 1 || o->max_rings > KEEL_IO_MAX_RINGS ||
	    o->max_ring_order > KEEL_IO_RING_MAX_ORDER) {
		fail(dev, KEEL_IO_ERR_INTERNAL);	/* the class's mistake */
		return;
	}
	kpv_store_relaxed(&p->be_max_rings, o->max_rings);
	kpv_store_relaxed(&p->be_features, o->features);
	kpv_store_relaxed(&p->be_max_ring_order, o->max_ring_order);
	kpv_store_relaxed(&p->be_pad0, 0u);
	kpv_memcpy(p->be_config, o->config, KEEL_IO_CONFIG_SIZE);
	kpv_dev_set_state(dev, KEEL_IO_STATE_READY, KEEL_IO_ERR_NONE);
	kpv_dev_phase(dev, PH_IDLE, 0);
}

static void accept(struct kpv_dev *dev)
{
	uint32_t err = check_commit(dev);

	for (uint32_t i = 0; !err && i < dev->commit.nr_rings; i++) {
		dev->nr_rings = i + 1;
		err = ring_setup(dev, i, &dev->snap->fe_rings[i]);
	}
	if (err) {
		fail(dev, err);
		return;
	}
	dev->round_valid = true;
	dev->round_gen = dev->consumed_gen = dev->snap->fe_generation;
	kpv_dev_set_state(dev, KEEL_IO_STATE_CONNECTED, KEEL_IO_ERR_NONE);
	kpv_dev_phase(dev, PH_CONNECTED, 0);
	dev->was_connected = true;
	__atomic_store_n(&dev->rings_live, true, __ATOMIC_RELEASE);
	dev->calls.connected(dev->drv, dev);
}

/* handshake.md, "Frontend restart" seen from here: tear down and offer again. */
static void frontend_gone(struct kpv_dev *dev)
{
	rings_teardown(dev, KPV_END_PEER_GONE);
	kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSING, KEEL_IO_ERR_NONE);
	offer(dev, false);
}

/*
 * Close a port of ours, attached to nothing in this instance, that is bound
 * to the frontend's control port: an earlier backend in this domain that
 * never closed (a crash, a reload) left it. Rare, and linear in the ports.
 */
static bool reclaim_ctl(struct kpv_dev *dev)
{
	struct keel_evtchn_status st;

	for (uint32_t port = 1; port < KPV_PORTS; port++) {
		if (kpv_evtchn_status(port, &st) == 0 &&
		    st.state == KEEL_EVTCHN_STATE_INTERDOMAIN &&
		    st.remote_domid == dev->info.peer_domid &&
		    st.remote_port == dev->info.event_port && !kpv_evtchn_attached(dev->k, port)) {
			kpv_log(KPV_LOG_INFO, "kpv: device %u: closing port %u a previous backend left",
				dev->info.device_id, port);
			kpv_hc(KEEL_HC_EVTCHN_CLOSE, port, 0, 0);
			return true;
		}
	}
	return false;
}

static int bind_ctl(struct kpv_dev *dev)
{
	int rc = kpv_evtchn_bind_interdomain(dev->k, dev->info.peer_domid, dev->info.event_port,
					     kpv_dev_ctl_event, dev, &dev->ctl_port);

	if (rc == -KEEL_EBUSY && reclaim_ctl(dev)) {
		rc = kpv_evtchn_bind_interdomain(dev->k, dev->info.peer_domid, dev->info.event_port,
						 kpv_dev_ctl_event, dev, &dev->ctl_port);
	}
	return rc;
}

/*
 * Our control port went UNBOUND: the frontend closed its end or died. Bind
 * again if its port lets us (then as a new instance); else stay quiet until
 * the device is closed or removed.
 */
static void ctl_lost(struct kpv_dev *dev)
{
	kpv_evtchn_close(dev->k, dev->ctl_port);
	dev->ctl_port = 0;
	if (bind_ctl(dev) != 0) {
		dev->ctl_port = 0;
		kpv_log(KPV_LOG_INFO, "kpv: device %u: frontend domain %u left the control port",
			dev->info.device_id, dev->info.peer_domid);
		return;
	}
	dev->consumed_gen = dev->snap->fe_generation;
	offer(dev, true);
}

/* --- one step ----------------------------------------------------------------------- */

static bool connected_unexplained(const struct kpv_dev *dev)
{
	uint32_t gen = dev->snap->fe_generation;

	return dev->snap->fe_state == KEEL_IO_STATE_CONNECTED && gen != dev->peer_gen0 &&
	       !(dev->round_valid && gen == dev->round_gen);
}

static bool advance(struct kpv_dev *dev, bool bound)
{
	const struct keel_io_device_page *s = dev->snap;
	uint32_t st = s->fe_state, gen = s->fe_generation;

	if (st > KEEL_IO_STATE_ERROR && dev->phase != PH_ERROR) {
		fail(dev, KEEL_IO_ERR_PROTOCOL);
		return false;
	}
	switch (dev->phase) {
	case PH_IDLE:
		if (!bound) {
			if (dev->ctl_port) {
				ctl_lost(dev);
			}
		} else if (connected_unexplained(dev)) {
			fail(dev, KEEL_IO_ERR_PROTOCOL);
		} else if (st == KEEL_IO_STATE_READY && gen != dev->consumed_gen) {
			accept(dev);
		} else {
			kpv_dev_wait(dev, "commit");
		}
		return false;
	case PH_CONNECTED:
		if (!bound || gen != dev->round_gen ||
		    (st != KEEL_IO_STATE_READY && st != KEEL_IO_STATE_CONNECTED)) {
			frontend_gone(dev);
			return true;
		}
		return false;
	case PH_ERROR:
		/* Only a new start of the frontend ends ERROR (handshake.md). */
		if (st == KEEL_IO_STATE_CLOSED || st == KEEL_IO_STATE_INIT || gen != dev->err_peer_gen) {
			dev->consumed_gen = gen;
			offer(dev, true);
		}
		return false;
	default:
		return false;
	}
}

static void close_now(struct kpv_dev *dev, bool removed)
{
	if (dev->state != KEEL_IO_STATE_CLOSED) {
		kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSING, KEEL_IO_ERR_NONE);
	}
	rings_teardown(dev, removed ? KPV_END_REMOVED : KPV_END_CLOSE);
	kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSED, KEEL_IO_ERR_NONE);
	kpv_dev_finish(dev, removed);
}

/* The backend never waits to close (handshake.md, "Backend closes"). */
static bool stop(struct kpv_dev *dev, bool close, bool removed)
{
	if (close || removed) {
		close_now(dev, removed);
		return true;
	}
	return false;
}

static const struct kpv_dev_side backend = { stop, fail, advance };

int kpv_be_open(struct kpv *k, const struct kpv_device_info *info,
		const struct kpv_be_class *cls, void *drv, struct kpv_dev **out)
{
	const struct kpv_dev_calls calls = {
		cls->device_class, cls->slot_size, cls->connected, cls->disconnected,
		cls->ring_event, cls->released,
	};
	struct kpv_dev *dev;
	int rc = kpv_dev_create(k, info, true, &calls, drv, &dev);

	if (rc != 0) {
		return rc;
	}
	dev->be = cls;
	dev->side = &backend;
	rc = bind_ctl(dev);
	if (rc != 0) {
		kpv_dev_destroy(dev);
		return rc;
	}
	/* handshake.md, "Backend restart": nothing from before is trusted or reused. */
	dev->gen = kpv_load_relaxed(&dev->page->be_generation);
	dev->peer_gen0 = kpv_load_relaxed(&dev->page->fe_generation);
	dev->consumed_gen = dev->peer_gen0;
	kpv_dev_snapshot(dev);
	offer(dev, true);
	*out = dev;
	kpv_dev_opened(dev);
	return 0;
}
