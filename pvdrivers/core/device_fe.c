/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/device_fe.c - the frontend's side of the handshake
 * (docs/abi/devices/handshake.md): validate the offer, build and grant
 * fresh rings, commit, connect; detect backend loss and start again; close
 * in order with a bounded wait; stop in ERROR on anything invalid.
 *
 * What the backend may legitimately show lags behind what it did: a
 * snapshot can miss states in between. So "bad transition" is only what no
 * lag explains: CONNECTED under a backend generation we never committed to
 * and that was not there when we opened.
 */
#include "device_priv.h"

/* --- rings ----------------------------------------------------------------------- */

/* Fresh ring @i of 2^@order data pages: pages, init, grants, port. 0 or KEEL_IO_ERR_*. */
static uint32_t ring_setup(struct kpv_dev *dev, unsigned int i, uint32_t order)
{
	struct kpv_dev_ring *dr = kpv_shim_alloc(sizeof(*dr));
	uint32_t peer = dev->info.peer_domid, pages = 1 + (1u << order);

	if (!dr) {
		return KEEL_IO_ERR_RESOURCE;
	}
	dev->rings[i] = dr;
	dr->dev = dev;
	dr->index = i;
	dr->order = order;
	for (uint32_t p = 0; p < pages; p++) {
		dr->pages[p] = kpv_shim_page_alloc();
		if (!dr->pages[p]) {
			return KEEL_IO_ERR_RESOURCE;
		}
	}
	if (kpv_ring_fe_init(&dr->ring, dr->pages[0], &dr->pages[1], order, dev->calls.slot_size)) {
		return KEEL_IO_ERR_INTERNAL;
	}
	for (uint32_t p = 0; p < pages; p++) {
		if (kpv_grant(dev->k, peer, dr->pages[p], false, &dr->grefs[p]) != 0) {
			return KEEL_IO_ERR_RESOURCE;
		}
	}
	if (kpv_evtchn_alloc_unbound(dev->k, peer, kpv_dev_ring_event, dr, &dr->port) != 0) {
		return KEEL_IO_ERR_RESOURCE;
	}
	return 0;
}

/*
 * Take every ring back: the class is told first (kpv_dev_quiesce), then each
 * grant ends, by force if the backend still maps it, and the pages go.
 */
static void rings_teardown(struct kpv_dev *dev, enum kpv_dev_end why)
{
	kpv_dev_quiesce(dev, why);
	for (unsigned int i = 0; i < dev->nr_rings; i++) {
		struct kpv_dev_ring *dr = dev->rings[i];

		if (!dr) {
			continue;
		}
		for (uint32_t p = 0; p < KPV_RING_PAGES; p++) {
			if (dr->grefs[p] && !kpv_grant_end(dev->k, dr->grefs[p])) {
				kpv_grant_revoke(dev->k, dr->grefs[p]);
			}
			if (dr->pages[p]) {
				kpv_shim_page_free(dr->pages[p]);
			}
		}
		kpv_dev_free_ring(dev, i);
	}
	dev->nr_rings = 0;
}

/* --- the states we move to ---------------------------------------------------------- */

static void fail(struct kpv_dev *dev, uint32_t err)
{
	kpv_log(KPV_LOG_ERROR, "kpv: device %u: frontend error %u (backend state %u)",
		dev->info.device_id, err, dev->snap->be_state);
	rings_teardown(dev, KPV_END_ERROR);
	dev->err_peer_gen = dev->snap->be_generation;
	kpv_dev_set_state(dev, KEEL_IO_STATE_ERROR, kpv_dev_err(err));
	kpv_dev_phase(dev, PH_ERROR, 0);
}

/* handshake.md, "Backend loss": take everything back and wait for a new offer. */
static void lost(struct kpv_dev *dev)
{
	kpv_log(KPV_LOG_INFO, "kpv: device %u: backend domain %u gone; reconnecting",
		dev->info.device_id, dev->info.peer_domid);
	rings_teardown(dev, KPV_END_PEER_GONE);
	kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSING, KEEL_IO_ERR_NONE);
	kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSED, KEEL_IO_ERR_NONE);
	kpv_dev_phase(dev, PH_IDLE, 0);
}

static void closed(struct kpv_dev *dev, enum kpv_dev_end why)
{
	rings_teardown(dev, why);
	if (dev->state != KEEL_IO_STATE_CLOSED) {
		kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSED, KEEL_IO_ERR_NONE);
	}
	kpv_dev_finish(dev, why == KPV_END_REMOVED);
}

/* The offer in the snapshot, within the generic limits; 0 or KEEL_IO_ERR_*. */
static uint32_t take_offer(struct kpv_dev *dev)
{
	const struct keel_io_device_page *s = dev->snap;

	if (s->be_max_rings < 1 || s->be_max_rings > KEEL_IO_MAX_RINGS ||
	    s->be_max_ring_order > KEEL_IO_RING_MAX_ORDER) {
		return KEEL_IO_ERR_RINGS;
	}
	dev->offer.features = s->be_features;
	dev->offer.max_rings = s->be_max_rings;
	dev->offer.max_ring_order = s->be_max_ring_order;
	kpv_memcpy(dev->offer.config, s->be_config, KEEL_IO_CONFIG_SIZE);
	return 0;
}

/* What the class chose must fit the offer: a class bug otherwise, not the peer's. */
static uint32_t check_choice(const struct kpv_offer *o, const struct kpv_commit *c)
{
	if ((c->features & ~o->features) || c->nr_rings < 1 || c->nr_rings > o->max_rings) {
		return KEEL_IO_ERR_INTERNAL;
	}
	for (uint32_t i = 0; i < c->nr_rings; i++) {
		if (c->ring_order[i] > o->max_ring_order) {
			return KEEL_IO_ERR_INTERNAL;
		}
	}
	return 0;
}

/* Our area, written in full (unused ring entries zero); the state goes last, with release order. */
static void publish_commit(struct kpv_dev *dev)
{
	struct keel_io_device_page *p = dev->page;

	kpv_memset(p->fe_rings, 0, sizeof(p->fe_rings));
	for (unsigned int i = 0; i < dev->nr_rings; i++) {
		const struct kpv_dev_ring *dr = dev->rings[i];
		struct keel_io_ring_ref ref = {
			.order = dr->order, .port = dr->port, .header_gref = dr->grefs[0],
		};

		for (uint32_t d = 0; d < (1u << dr->order); d++) {
			ref.data_gref[d] = dr->grefs[1 + d];
		}
		kpv_memcpy(&p->fe_rings[i], &ref, sizeof(ref));
	}
	kpv_memcpy(p->fe_config, dev->commit.config, KEEL_IO_CONFIG_SIZE);
	kpv_store_relaxed(&p->fe_features, dev->commit.features);
	kpv_store_relaxed(&p->fe_nr_rings, dev->commit.nr_rings);
	kpv_store_relaxed(&p->fe_generation, ++dev->gen);
	kpv_dev_set_state(dev, KEEL_IO_STATE_READY, KEEL_IO_ERR_NONE);
}

/* handshake.md step 2. */
static void commit(struct kpv_dev *dev)
{
	uint32_t err = take_offer(dev);

	if (err) {
		fail(dev, err);
		return;
	}
	kpv_dev_set_state(dev, KEEL_IO_STATE_INIT, KEEL_IO_ERR_NONE);
	kpv_memset(&dev->commit, 0, sizeof(dev->commit));
	err = dev->fe->choose(dev->drv, &dev->offer, &dev->commit);
	if (!err) {
		err = check_choice(&dev->offer, &dev->commit);
	}
	for (uint32_t i = 0; !err && i < dev->commit.nr_rings; i++) {
		dev->nr_rings = i + 1;
		err = ring_setup(dev, i, dev->commit.ring_order[i]);
	}
	if (err) {
		fail(dev, err);
		return;
	}
	dev->round_valid = true;
	dev->round_gen = dev->snap->be_generation;
	publish_commit(dev);
	kpv_dev_phase(dev, PH_COMMITTED, 0);
}

static void connect(struct kpv_dev *dev)
{
	kpv_dev_set_state(dev, KEEL_IO_STATE_CONNECTED, KEEL_IO_ERR_NONE);
	kpv_dev_phase(dev, PH_CONNECTED, 0);
	dev->was_connected = true;
	__atomic_store_n(&dev->rings_live, true, __ATOMIC_RELEASE);
	dev->calls.connected(dev->drv, dev);
}

/* A live config field changed: the class judges it (and may kpv_dev_fail()). */
static void config_update(struct kpv_dev *dev)
{
	if (kpv_memcmp(dev->offer.config, dev->snap->be_config, KEEL_IO_CONFIG_SIZE) == 0) {
		return;
	}
	kpv_memcpy(dev->offer.config, dev->snap->be_config, KEEL_IO_CONFIG_SIZE);
	if (dev->fe->config_changed) {
		dev->fe->config_changed(dev->drv, dev, dev->offer.config);
	}
}

/* --- one step ----------------------------------------------------------------------- */

/* Backend CONNECTED under a generation no lag explains. */
static bool connected_unexplained(const struct kpv_dev *dev)
{
	uint32_t gen = dev->snap->be_generation;

	return dev->snap->be_state == KEEL_IO_STATE_CONNECTED && gen != dev->peer_gen0 &&
	       !(dev->round_valid && gen == dev->round_gen);
}

/*
 * One decision per phase on the snapshot; each returns true if the phase
 * changed and the same snapshot should be looked at again.
 */
static bool on_restarting(struct kpv_dev *dev, uint32_t st)
{
	if (st == KEEL_IO_STATE_READY || st == KEEL_IO_STATE_CLOSED || st == KEEL_IO_STATE_ERROR ||
	    kpv_dev_wait(dev, "let go")) {
		kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSED, KEEL_IO_ERR_NONE);
		kpv_dev_phase(dev, PH_IDLE, 0);
		return true;
	}
	return false;
}

static bool on_idle(struct kpv_dev *dev, uint32_t st, bool bound)
{
	if (dev->closing) {
		closed(dev, KPV_END_CLOSE);
	} else if (connected_unexplained(dev)) {
		fail(dev, KEEL_IO_ERR_PROTOCOL);
	} else if (st == KEEL_IO_STATE_READY && bound) {
		commit(dev);
	} else {
		kpv_dev_wait(dev, "offer");
	}
	return false;
}

/* Committed or connected to the backend generation round_gen. */
static bool on_round(struct kpv_dev *dev, uint32_t st, bool same_round)
{
	bool committed = dev->phase == PH_COMMITTED;
	uint32_t why = dev->snap->be_error;

	if (dev->closing) {
		kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSING, KEEL_IO_ERR_NONE);
		kpv_dev_phase(dev, PH_CLOSING, KPV_DEV_CLOSE_NS);
		return true;
	}
	if (!same_round) {
		lost(dev);
		return true;
	}
	if (committed && st == KEEL_IO_STATE_CONNECTED) {
		connect(dev);
		/* A live field changed since the commit's copy; its event folded into this one. */
		config_update(dev);
	} else if (committed && st == KEEL_IO_STATE_ERROR) {
		/* Our commit was refused: keep the backend's reason. */
		fail(dev, why >= KEEL_IO_ERR_PROTOCOL && why <= KEEL_IO_ERR_INTERNAL
				  ? why
				  : KEEL_IO_ERR_PROTOCOL);
	} else if (committed && st == KEEL_IO_STATE_READY) {
		kpv_dev_wait(dev, "accept");
	} else if (!committed && st == KEEL_IO_STATE_CONNECTED) {
		config_update(dev);
	} else {
		lost(dev);	/* it left READY or CONNECTED: gone or restarting */
		return true;
	}
	return false;
}

static bool on_error(struct kpv_dev *dev)
{
	if (dev->closing) {
		closed(dev, KPV_END_CLOSE);
	} else if (dev->snap->be_generation != dev->err_peer_gen) {
		/* A new backend instance: start afresh (ERROR -> CLOSED). */
		kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSED, KEEL_IO_ERR_NONE);
		kpv_dev_phase(dev, PH_IDLE, 0);
		return true;
	}
	return false;
}

static bool advance(struct kpv_dev *dev, bool bound)
{
	uint32_t st = dev->snap->be_state;
	bool same_round = bound && dev->snap->be_generation == dev->round_gen;

	if (st > KEEL_IO_STATE_ERROR && dev->phase != PH_ERROR && dev->phase != PH_RESTARTING) {
		fail(dev, KEEL_IO_ERR_PROTOCOL);
		return false;
	}
	switch (dev->phase) {
	case PH_RESTARTING:
		return on_restarting(dev, st);
	case PH_IDLE:
		return on_idle(dev, st, bound);
	case PH_COMMITTED:
	case PH_CONNECTED:
		return on_round(dev, st, same_round);
	case PH_CLOSING:
		/* Until the backend lets go of the rings, or for KPV_DEV_CLOSE_NS. */
		if (!same_round || st != KEEL_IO_STATE_CONNECTED || kpv_dev_wait(dev, "let go")) {
			closed(dev, KPV_END_CLOSE);
		}
		return false;
	case PH_ERROR:
		return on_error(dev);
	default:
		return false;
	}
}

/* A close asked for: removed, at once (handshake.md, "Device removed"); else in order. */
static bool stop(struct kpv_dev *dev, bool close, bool removed)
{
	if (removed) {
		closed(dev, KPV_END_REMOVED);
		return true;
	}
	dev->closing = dev->closing || close;
	return false;
}

static const struct kpv_dev_side frontend = { stop, fail, advance };

int kpv_fe_open(struct kpv *k, const struct kpv_device_info *info,
		const struct kpv_fe_class *cls, void *drv, struct kpv_dev **out)
{
	const struct kpv_dev_calls calls = {
		cls->device_class, cls->slot_size, cls->connected, cls->disconnected,
		cls->ring_event, cls->released,
	};
	struct kpv_dev *dev;
	int rc = kpv_dev_create(k, info, false, &calls, drv, &dev);

	if (rc != 0) {
		return rc;
	}
	dev->fe = cls;
	dev->side = &frontend;
	dev->gen = kpv_load_relaxed(&dev->page->fe_generation);
	dev->peer_gen0 = kpv_load_relaxed(&dev->page->be_generation);
	dev->state = kpv_load_relaxed(&dev->page->fe_state);
	rc = kpv_evtchn_attach(k, info->event_port, kpv_dev_ctl_event, dev);
	if (rc != 0) {
		kpv_dev_destroy(dev);
		return rc;
	}
	dev->ctl_port = info->event_port;
	if (dev->state != KEEL_IO_STATE_CLOSED) {
		/* handshake.md, "Frontend restart": leave what the last frontend left, in order. */
		kpv_dev_set_state(dev, KEEL_IO_STATE_CLOSING, KEEL_IO_ERR_NONE);
		kpv_dev_phase(dev, PH_RESTARTING, KPV_DEV_CLOSE_NS);
	} else {
		kpv_dev_phase(dev, PH_IDLE, 0);
	}
	*out = dev;
	kpv_dev_opened(dev);
	return 0;
}
