/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/evtchn.c - event channels: the port -> handler table, the
 * upcall's demultiplexer, and binding, notifying and closing ports.
 *
 * The upcall follows the guest scan of docs/abi/hypercalls.md: clear
 * upcall_pending, take the selectors with atomic exchange, and for each
 * pending unmasked port clear its pending bit before calling its handler,
 * so an event that arrives during the handler runs it again. Work is
 * bounded: one pass handles each port at most once, and after
 * KPV_UPCALL_PASSES passes we return even if Keel raised upcall_pending
 * again; that 0 -> 1 raised a new interrupt, which brings us back after
 * the OS has had its turn.
 *
 * A handler is found and marked busy under ev_lock, then called without
 * it; detaching waits until no upcall runs the handler, so once
 * kpv_evtchn_detach() returns the handler's context may go.
 */
#include "internal.h"

#define KPV_UPCALL_PASSES	4
#define SEL_WORDS		(KPV_PORTS / 64)	/* pending words we scan: selector 0 only */

int kpv_evtchn_init(struct kpv *k)
{
	k->ev_lock = kpv_shim_lock_create();
	return k->ev_lock ? 0 : -KEEL_ENOMEM;
}

void kpv_evtchn_fini(struct kpv *k)
{
	if (k->ports_attached) {
		kpv_log(KPV_LOG_WARN, "kpv: %u ports still attached at stop", k->ports_attached);
	}
	for (uint32_t i = 0; i < KPV_PORT_CHUNKS; i++) {
		kpv_shim_free(k->port_chunks[i]);
		k->port_chunks[i] = NULL;
	}
	if (k->ev_lock) {
		kpv_shim_lock_destroy(k->ev_lock);
		k->ev_lock = NULL;
	}
}

static void mask_port(struct kpv *k, uint32_t port)
{
	__atomic_fetch_or(&k->shared->evtchn_mask[port / 64], 1ull << (port % 64),
			  __ATOMIC_SEQ_CST);
}

/* Find @port's handler and mark it busy; false if it has none. [any] */
static bool handler_get(struct kpv *k, uint32_t port, kpv_port_fn *fn, void **ctx)
{
	unsigned long flags = kpv_shim_lock(k->ev_lock);
	struct kpv_port_slot *chunk = k->port_chunks[port / KPV_PORT_CHUNK];
	struct kpv_port_slot *s = chunk ? &chunk[port % KPV_PORT_CHUNK] : NULL;
	bool found = s && s->fn;

	if (found) {
		*fn = s->fn;
		*ctx = s->ctx;
		s->busy++;
	}
	kpv_shim_unlock(k->ev_lock, flags);
	return found;
}

static void handler_put(struct kpv *k, uint32_t port)
{
	struct kpv_port_slot *s = &k->port_chunks[port / KPV_PORT_CHUNK][port % KPV_PORT_CHUNK];

	__atomic_fetch_sub(&s->busy, 1, __ATOMIC_RELEASE);
}

/* Ports of pending word @w: clear each pending, unmasked bit, then run its handler. */
static void scan_word(struct kpv *k, uint32_t w)
{
	uint64_t bits = kpv_load(&k->shared->evtchn_pending[w]) &
			~kpv_load(&k->shared->evtchn_mask[w]);

	while (bits) {
		uint32_t b = kpv_ctz64(bits);
		uint32_t port = w * 64 + b;
		uint64_t old;
		kpv_port_fn fn;
		void *ctx;

		bits &= bits - 1;
		old = __atomic_fetch_and(&k->shared->evtchn_pending[w], ~(1ull << b),
					 __ATOMIC_SEQ_CST);
		if (!(old & (1ull << b)) || port == 0) {
			continue;
		}
		if (handler_get(k, port, &fn, &ctx)) {
			fn(ctx, port);
			handler_put(k, port);
		}
	}
}

/* One scan of @vi's selectors. */
static void scan(struct kpv *k, struct keel_vcpu_info *vi)
{
	uint64_t top = __atomic_exchange_n(&vi->evtchn_pending_top, 0, __ATOMIC_SEQ_CST);

	while (top) {
		uint32_t i = kpv_ctz64(top);
		uint64_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel[i], 0, __ATOMIC_SEQ_CST);

		top &= top - 1;
		while (sel) {
			uint32_t w = i * 64 + kpv_ctz64(sel);

			sel &= sel - 1;
			/* Words past the shared info's belong to EVTCHN_EXPAND pages we never gave. */
			if (w < SEL_WORDS) {
				scan_word(k, w);
			}
		}
	}
}

void kpv_upcall(struct kpv *k)
{
	uint32_t cpu = kpv_shim_cpu();
	struct keel_vcpu_info *vi;

	if (cpu >= k->nr_vcpus || !k->vcpu_info || !k->vcpu_info[cpu]) {
		return;
	}
	vi = k->vcpu_info[cpu];
	for (int pass = 0; pass < KPV_UPCALL_PASSES; pass++) {
		/* Cleared before the scan: an event arriving during it raises it again. */
		__atomic_store_n(&vi->upcall_pending, 0, __ATOMIC_SEQ_CST);
		scan(k, vi);
		if (!__atomic_load_n(&vi->upcall_pending, __ATOMIC_SEQ_CST)) {
			break;
		}
	}
}

int kpv_evtchn_attach(struct kpv *k, uint32_t port, kpv_port_fn fn, void *ctx)
{
	struct kpv_port_slot *fresh = NULL, *s;
	unsigned long flags;
	int rc = 0;

	if (port == 0 || port >= KPV_PORTS || !fn) {
		return -KEEL_EINVAL;
	}
	if (!k->port_chunks[port / KPV_PORT_CHUNK]) {
		fresh = kpv_shim_alloc(KPV_PORT_CHUNK * sizeof(*fresh));
		if (!fresh) {
			return -KEEL_ENOMEM;
		}
	}
	flags = kpv_shim_lock(k->ev_lock);
	if (!k->port_chunks[port / KPV_PORT_CHUNK]) {
		k->port_chunks[port / KPV_PORT_CHUNK] = fresh;
		fresh = NULL;
	}
	s = &k->port_chunks[port / KPV_PORT_CHUNK][port % KPV_PORT_CHUNK];
	if (s->fn) {
		rc = -KEEL_EBUSY;
	} else {
		s->fn = fn;
		s->ctx = ctx;
		k->ports_attached++;
	}
	kpv_shim_unlock(k->ev_lock, flags);
	kpv_shim_free(fresh);
	if (rc == 0) {
		/* Keel clears the mask and delivers the port if it is already pending. */
		rc = kpv_err(kpv_hc(KEEL_HC_EVTCHN_UNMASK, port, 0, 0));
		if (rc != 0) {
			kpv_evtchn_detach(k, port);
		}
	}
	return rc;
}

void kpv_evtchn_detach(struct kpv *k, uint32_t port)
{
	struct kpv_port_slot *s = NULL;
	unsigned long flags;

	if (port == 0 || port >= KPV_PORTS) {
		return;
	}
	mask_port(k, port);
	flags = kpv_shim_lock(k->ev_lock);
	if (k->port_chunks[port / KPV_PORT_CHUNK]) {
		s = &k->port_chunks[port / KPV_PORT_CHUNK][port % KPV_PORT_CHUNK];
		if (s->fn) {
			s->fn = NULL;
			s->ctx = NULL;
			k->ports_attached--;
		}
	}
	kpv_shim_unlock(k->ev_lock, flags);
	/* An upcall on another vCPU may still be in the handler: handlers are short. */
	while (s && __atomic_load_n(&s->busy, __ATOMIC_ACQUIRE)) {
	}
}

/* A port Keel just gave us: attach @fn, or close it again. */
static int adopt(struct kpv *k, long port, kpv_port_fn fn, void *ctx, uint32_t *out)
{
	int rc;

	if (port < 0) {
		return kpv_err(port);
	}
	rc = kpv_evtchn_attach(k, (uint32_t)port, fn, ctx);
	if (rc != 0) {
		kpv_hc(KEEL_HC_EVTCHN_CLOSE, (uint64_t)port, 0, 0);
		return rc == -KEEL_EINVAL ? -KEEL_ENOSPC : rc;	/* a port beyond our table */
	}
	*out = (uint32_t)port;
	return 0;
}

int kpv_evtchn_alloc_unbound(struct kpv *k, uint32_t remote_domid, kpv_port_fn fn,
			     void *ctx, uint32_t *port)
{
	return adopt(k, kpv_hc(KEEL_HC_EVTCHN_ALLOC_UNBOUND, remote_domid, 0, 0), fn, ctx, port);
}

int kpv_evtchn_bind_interdomain(struct kpv *k, uint32_t remote_domid, uint32_t remote_port,
				kpv_port_fn fn, void *ctx, uint32_t *port)
{
	return adopt(k, kpv_hc(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, remote_domid, remote_port, 0), fn,
		     ctx, port);
}

int kpv_evtchn_bind_virq(struct kpv *k, uint32_t virq, kpv_port_fn fn, void *ctx,
			 uint32_t *port)
{
	return adopt(k, kpv_hc(KEEL_HC_EVTCHN_BIND_VIRQ, virq, 0, 0), fn, ctx, port);
}

int kpv_evtchn_notify(struct kpv *k, uint32_t port)
{
	(void)k;
	return kpv_err(kpv_hc(KEEL_HC_EVTCHN_SEND, port, 0, 0));
}

void kpv_evtchn_close(struct kpv *k, uint32_t port)
{
	long rc;

	kpv_evtchn_detach(k, port);
	rc = kpv_hc(KEEL_HC_EVTCHN_CLOSE, port, 0, 0);
	if (rc < 0) {
		kpv_log(KPV_LOG_ERROR, "kpv: closing port %u failed (%ld)", port, rc);
	}
}

int kpv_evtchn_status(uint32_t port, struct keel_evtchn_status *out)
{
	*out = (struct keel_evtchn_status){ .port = port };
	return kpv_err(kpv_hc_struct(KEEL_HC_EVTCHN_STATUS, out, sizeof(*out), 0, 0));
}

int kpv_evtchn_state(struct kpv *k, uint32_t port)
{
	struct keel_evtchn_status st;
	int rc = kpv_evtchn_status(port, &st);

	(void)k;
	return rc ? rc : (int)st.state;
}

bool kpv_evtchn_attached(struct kpv *k, uint32_t port)
{
	unsigned long flags;
	bool attached = false;

	if (port == 0 || port >= KPV_PORTS) {
		return false;
	}
	flags = kpv_shim_lock(k->ev_lock);
	if (k->port_chunks[port / KPV_PORT_CHUNK]) {
		attached = k->port_chunks[port / KPV_PORT_CHUNK][port % KPV_PORT_CHUNK].fn != NULL;
	}
	kpv_shim_unlock(k->ev_lock, flags);
	return attached;
}
