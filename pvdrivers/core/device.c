/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/device.c - what both sides of a device connection share:
 * the control page (mapping, header check, our area's state, the copy of
 * the peer's area), the work item that runs the state machine, bounded
 * waits with their timer, ring teardown, and freeing a closed device from
 * the reaper (a work item cannot destroy itself).
 */
#include "device_priv.h"

/* The header of struct keel_io_device_page, as far as we check it. */
struct header {
	uint32_t magic, version, device_class, device_id;
	uint32_t frontend_domid, backend_domid, frontend_port, index;
};

_Static_assert(sizeof(struct header) == offsetof(struct keel_io_device_page, keel_reserved),
	       "the header's fields, in order");

/* The header Keel wrote at setup: checked once, at open, from one copy. */
static bool header_ok(const struct kpv *k, const struct kpv_device_info *info, bool backend,
		      const struct keel_io_device_page *page)
{
	struct header h;

	kpv_memcpy(&h, page, sizeof(h));
	return h.magic == KEEL_IO_DEVICE_MAGIC && h.version == KEEL_IO_DEVICE_VERSION &&
	       h.device_class == info->device_class && h.device_id == info->device_id &&
	       h.frontend_port == info->event_port &&
	       h.frontend_domid == (backend ? info->peer_domid : k->domid) &&
	       h.backend_domid == (backend ? k->domid : info->peer_domid);
}

/* One step of the state machine: requests first, then the peer's area, once. */
static void dev_work(void *ctx)
{
	struct kpv_dev *dev = ctx;
	unsigned long flags = kpv_shim_lock(dev->lock);
	bool close = dev->close_req, removed = dev->removed, bound;
	uint32_t fail = dev->fail_err;

	dev->fail_err = 0;
	kpv_shim_unlock(dev->lock, flags);
	if (dev->phase == PH_DONE || dev->side->stop(dev, close, removed)) {
		return;
	}
	kpv_dev_snapshot(dev);
	if (fail && dev->phase != PH_ERROR) {
		dev->side->fail(dev, fail);
	}
	bound = kpv_dev_ctl_bound(dev);
	for (int i = 0; i < KPV_DEV_STEPS && dev->phase != PH_DONE; i++) {
		if (!dev->side->advance(dev, bound)) {
			break;
		}
	}
}

static void dev_timer(void *ctx)
{
	struct kpv_dev *dev = ctx;

	kpv_shim_work_schedule(dev->work);
}

void kpv_dev_ctl_event(void *ctx, uint32_t port)
{
	struct kpv_dev *dev = ctx;

	(void)port;
	kpv_shim_work_schedule(dev->work);
}

void kpv_dev_ring_event(void *ctx, uint32_t port)
{
	struct kpv_dev_ring *dr = ctx;
	struct kpv_dev *dev = dr->dev;

	(void)port;
	if (__atomic_load_n(&dev->rings_live, __ATOMIC_ACQUIRE)) {
		dev->calls.ring_event(dev->drv, dev, dr->index);
	}
}

int kpv_dev_create(struct kpv *k, const struct kpv_device_info *info, bool backend,
		   const struct kpv_dev_calls *calls, void *drv, struct kpv_dev **out)
{
	struct kpv_dev *dev;

	if (info->backend != backend || info->device_class != calls->device_class) {
		return -KEEL_EINVAL;
	}
	dev = kpv_shim_alloc(sizeof(*dev));
	if (!dev) {
		return -KEEL_ENOMEM;
	}
	dev->k = k;
	dev->backend = backend;
	dev->drv = drv;
	dev->calls = *calls;
	dev->info = *info;
	dev->snap = kpv_shim_alloc(sizeof(*dev->snap));
	dev->lock = kpv_shim_lock_create();
	dev->work = kpv_shim_work_create(dev_work, dev);
	dev->timer = kpv_shim_timer_create(dev_timer, dev);
	if (!dev->snap || !dev->lock || !dev->work || !dev->timer) {
		kpv_dev_destroy(dev);
		return -KEEL_ENOMEM;
	}
	dev->page = kpv_map_shared(k, KEEL_MAPSPACE_DEVICE_PAGE, info->device_id, &dev->page_gfn);
	if (!dev->page) {
		kpv_dev_destroy(dev);
		return -KEEL_ENOENT;
	}
	if (!header_ok(k, info, backend, dev->page)) {
		kpv_log(KPV_LOG_ERROR, "kpv: device %u: control page header refused",
			info->device_id);
		kpv_dev_destroy(dev);
		return -KEEL_EINVAL;
	}
	*out = dev;
	return 0;
}

/* Free what kpv_dev_create() made; the page mapping goes back to the parking lot. */
void kpv_dev_destroy(struct kpv_dev *dev)
{
	if (dev->page) {
		kpv_unmap_shared(dev->k, dev->page, dev->page_gfn);
	}
	if (dev->work) {
		kpv_shim_work_destroy(dev->work);
	}
	if (dev->timer) {
		kpv_shim_timer_destroy(dev->timer);
	}
	if (dev->lock) {
		kpv_shim_lock_destroy(dev->lock);
	}
	kpv_shim_free(dev->snap);
	kpv_shim_free(dev);
}

uint32_t kpv_dev_err(uint32_t err)
{
	return err >= KEEL_IO_ERR_PROTOCOL && err <= KEEL_IO_ERR_INTERNAL ? err
									 : KEEL_IO_ERR_INTERNAL;
}

void kpv_dev_notify_ctl(struct kpv_dev *dev)
{
	if (dev->ctl_port) {
		kpv_evtchn_notify(dev->k, dev->ctl_port);
	}
}

/* Write our state (and error) with release order, then notify (handshake.md: MUST). */
void kpv_dev_set_state(struct kpv_dev *dev, uint32_t state, uint32_t err)
{
	struct keel_io_device_page *p = dev->page;

	if (dev->backend) {
		kpv_store_relaxed(&p->be_error, err);
		kpv_store(&p->be_state, state);
	} else {
		kpv_store_relaxed(&p->fe_error, err);
		kpv_store(&p->fe_state, state);
	}
	dev->state = state;
	kpv_dev_notify_ctl(dev);
}

/* Copy the peer's area once: its state with acquire order, then the rest. */
void kpv_dev_snapshot(struct kpv_dev *dev)
{
	struct keel_io_device_page *p = dev->page, *s = dev->snap;

	if (dev->backend) {
		uint32_t state = kpv_load(&p->fe_state);

		kpv_memcpy(&s->fe_state, &p->fe_state,
			   sizeof(*p) - offsetof(struct keel_io_device_page, fe_state));
		s->fe_state = state;
	} else {
		uint32_t state = kpv_load(&p->be_state);

		kpv_memcpy(&s->be_state, &p->be_state,
			   offsetof(struct keel_io_device_page, fe_state) -
				   offsetof(struct keel_io_device_page, be_state));
		s->be_state = state;
	}
}

/* Whether the control port is connected to the peer (else it left, or never came). */
bool kpv_dev_ctl_bound(struct kpv_dev *dev)
{
	return dev->ctl_port &&
	       kpv_evtchn_state(dev->k, dev->ctl_port) == KEEL_EVTCHN_STATE_INTERDOMAIN;
}

void kpv_dev_phase(struct kpv_dev *dev, enum kpv_phase phase, uint64_t timeout_ns)
{
	dev->phase = phase;
	dev->waiting = false;
	dev->deadline = timeout_ns ? kpv_shim_now_ns() + timeout_ns : 0;
	kpv_shim_timer_cancel(dev->timer);
}

/*
 * A step that keeps waiting for the peer: log once after KPV_DEV_LOG_NS,
 * keep the timer armed for that or the deadline. True once the deadline
 * (if any) has passed. Never blocks.
 */
bool kpv_dev_wait(struct kpv_dev *dev, const char *what)
{
	uint64_t now = kpv_shim_now_ns(), next;

	if (!dev->waiting) {
		dev->waiting = true;
		dev->wait_logged = false;
		dev->wait_since = now;
	}
	if (!dev->wait_logged && now - dev->wait_since >= KPV_DEV_LOG_NS) {
		kpv_log(KPV_LOG_WARN, "kpv: device %u: still waiting for %s domain %u to %s",
			dev->info.device_id, dev->backend ? "frontend" : "backend",
			dev->info.peer_domid, what);
		dev->wait_logged = true;
	}
	if (dev->deadline && now >= dev->deadline) {
		return true;
	}
	next = dev->wait_logged ? 0 : dev->wait_since + KPV_DEV_LOG_NS;
	if (dev->deadline && (!next || dev->deadline < next)) {
		next = dev->deadline;
	}
	if (next) {
		kpv_shim_timer_arm(dev->timer, next - now);
	}
	return false;
}

/*
 * The connection ends: no ring event reaches the class any more, the class
 * hears why (with the ring ports still open, to complete what it can),
 * then the ring ports close. The rings' memory is each side's to release.
 */
void kpv_dev_quiesce(struct kpv_dev *dev, enum kpv_dev_end why)
{
	__atomic_store_n(&dev->rings_live, false, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < dev->nr_rings; i++) {
		if (dev->rings[i] && dev->rings[i]->port) {
			kpv_evtchn_detach(dev->k, dev->rings[i]->port);
		}
	}
	if (dev->was_connected) {
		dev->was_connected = false;
		dev->calls.disconnected(dev->drv, dev, why);
	}
	for (unsigned int i = 0; i < dev->nr_rings; i++) {
		if (dev->rings[i] && dev->rings[i]->port) {
			kpv_evtchn_close(dev->k, dev->rings[i]->port);
			dev->rings[i]->port = 0;
		}
	}
}

void kpv_dev_free_ring(struct kpv_dev *dev, unsigned int i)
{
	kpv_shim_free(dev->rings[i]);
	dev->rings[i] = NULL;
}

/*
 * Closed for good: stop listening, leave the page, and let the reaper free
 * it. The backend's control port is its own: it closes it (the frontend
 * sees it go). The frontend's is Keel's, kept for the next frontend, and
 * closed only once the device is gone (@removed).
 */
void kpv_dev_finish(struct kpv_dev *dev, bool removed)
{
	struct kpv *k = dev->k;
	unsigned long flags;

	kpv_dev_phase(dev, PH_DONE, 0);
	if (dev->ctl_port && (dev->backend || removed)) {
		kpv_evtchn_close(k, dev->ctl_port);
	} else if (dev->ctl_port) {
		kpv_evtchn_detach(k, dev->ctl_port);
	}
	dev->ctl_port = 0;
	kpv_unmap_shared(k, dev->page, dev->page_gfn);
	dev->page = NULL;
	flags = kpv_shim_lock(k->dev_lock);
	dev->next_dead = k->dead;
	k->dead = dev;
	kpv_shim_unlock(k->dev_lock, flags);
	kpv_shim_work_schedule(k->reaper);
}

static void reap(void *ctx)
{
	struct kpv *k = ctx;
	unsigned long flags = kpv_shim_lock(k->dev_lock);
	struct kpv_dev *dead = k->dead;

	k->dead = NULL;
	kpv_shim_unlock(k->dev_lock, flags);
	while (dead) {
		struct kpv_dev *dev = dead;
		void (*released)(void *drv) = dev->calls.released;
		void *drv = dev->drv;

		dead = dev->next_dead;
		kpv_dev_destroy(dev);
		flags = kpv_shim_lock(k->dev_lock);
		k->nr_devs--;
		kpv_shim_unlock(k->dev_lock, flags);
		released(drv);
	}
}

int kpv_devices_init(struct kpv *k)
{
	k->dev_lock = kpv_shim_lock_create();
	k->reaper = kpv_shim_work_create(reap, k);
	if (!k->dev_lock || !k->reaper) {
		kpv_devices_fini(k);
		return -KEEL_ENOMEM;
	}
	return 0;
}

void kpv_devices_fini(struct kpv *k)
{
	if (k->reaper) {
		kpv_shim_work_destroy(k->reaper);
		k->reaper = NULL;
		reap(k);	/* devices closed just before stop */
	}
	if (k->nr_devs) {
		kpv_log(KPV_LOG_WARN, "kpv: %u devices still open at stop", k->nr_devs);
	}
	if (k->dev_lock) {
		kpv_shim_lock_destroy(k->dev_lock);
		k->dev_lock = NULL;
	}
}

/* A device is open: count it and take the first step. */
void kpv_dev_opened(struct kpv_dev *dev)
{
	unsigned long flags = kpv_shim_lock(dev->k->dev_lock);

	dev->k->nr_devs++;
	kpv_shim_unlock(dev->k->dev_lock, flags);
	kpv_shim_work_schedule(dev->work);
}

void kpv_dev_close(struct kpv_dev *dev, bool removed)
{
	unsigned long flags = kpv_shim_lock(dev->lock);

	dev->close_req = true;
	dev->removed = dev->removed || removed;
	kpv_shim_unlock(dev->lock, flags);
	kpv_shim_work_schedule(dev->work);
}

void kpv_dev_fail(struct kpv_dev *dev, uint32_t err)
{
	unsigned long flags = kpv_shim_lock(dev->lock);

	if (!dev->fail_err) {
		dev->fail_err = kpv_dev_err(err);
	}
	kpv_shim_unlock(dev->lock, flags);
	kpv_shim_work_schedule(dev->work);
}

unsigned int kpv_dev_nr_rings(const struct kpv_dev *dev)
{
	return dev->phase == PH_CONNECTED ? dev->nr_rings : 0;
}

struct kpv_ring *kpv_dev_ring(struct kpv_dev *dev, unsigned int ring)
{
	return ring < dev->nr_rings && dev->rings[ring] ? &dev->rings[ring]->ring : NULL;
}

uint64_t kpv_dev_features(const struct kpv_dev *dev)
{
	return dev->commit.features;
}

/* The peer's config: the backend's offer for a frontend, the commit for a backend. */
const uint8_t *kpv_dev_config(const struct kpv_dev *dev)
{
	return dev->backend ? dev->commit.config : dev->offer.config;
}

uint32_t kpv_dev_peer(const struct kpv_dev *dev)
{
	return dev->info.peer_domid;
}

struct kpv *kpv_dev_kpv(const struct kpv_dev *dev)
{
	return dev->k;
}

void kpv_dev_notify(struct kpv_dev *dev, unsigned int ring)
{
	if (ring < dev->nr_rings && dev->rings[ring] && dev->rings[ring]->port) {
		kpv_evtchn_notify(dev->k, dev->rings[ring]->port);
	}
}

int kpv_dev_config_update(struct kpv_dev *dev, uint32_t offset, uint64_t value, uint32_t len)
{
	uint8_t *field;

	if (!dev->backend || (len != 1 && len != 2 && len != 4 && len != 8) || offset % len ||
	    offset > KEEL_IO_CONFIG_SIZE - len) {
		return -KEEL_EINVAL;
	}
	field = dev->page->be_config + offset;	/* be_config is 8-byte aligned in the page */
	switch (len) {
	case 1:
		__atomic_store_n(field, (uint8_t)value, __ATOMIC_RELEASE);
		break;
	case 2:
		__atomic_store_n((uint16_t *)(void *)field, (uint16_t)value, __ATOMIC_RELEASE);
		break;
	case 4:
		__atomic_store_n((uint32_t *)(void *)field, (uint32_t)value, __ATOMIC_RELEASE);
		break;
	default:
		__atomic_store_n((uint64_t *)(void *)field, value, __ATOMIC_RELEASE);
		break;
	}
	kpv_dev_notify_ctl(dev);
	return 0;
}

uint32_t kpv_dev_state(const struct kpv_dev *dev)
{
	return dev->state;
}
