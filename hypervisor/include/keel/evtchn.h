/* SPDX-License-Identifier: MIT */
/*
 * keel/evtchn.h - event channels: per-domain ports, binding and delivery.
 *
 * The portable core of docs/abi/hypercalls.md, "Event channels". This module
 * owns each domain's port table and writes the guest-visible event bits
 * (keel_shared_info, expansion pages, keel_vcpu_info). It knows nothing of
 * domains, vCPUs or interrupts beyond the small interface below:
 *
 *   - the domain layer creates one struct evtchn_domain per domain and hands
 *     it the memory it writes (the shared-info page now, each vCPU's
 *     keel_vcpu_info and the expansion pages when the guest registers them);
 *   - struct evtchn_env finds other domains by id and interrupts vCPUs.
 *
 * The hypercall functions take already-decoded arguments: the dispatcher has
 * applied the common checks (CPL, identification, 32-bit arguments with high
 * bits set) and copied in any struct (KEEL_EFAULT is its job). Each returns
 * the call's result, >= 0, or -KEEL_E* from <public/keel/errno.h>, checking
 * in the order of docs/abi/errors.md. A failed call changes nothing.
 *
 * Unless a function says otherwise it may be called in any context, with no
 * evtchn lock held; it takes the domain's evtchn lock with interrupts off.
 */
#ifndef KEEL_EVTCHN_H
#define KEEL_EVTCHN_H

#include <keel/types.h>
#include <public/keel/event_channel.h>
#include <public/keel/shared_info.h>
#include <public/keel/vcpu.h>

/* Sanity limit on a domain's vCPU count (the domain layer's is lower). */
#define EVTCHN_VCPUS_MAX	4096

struct evtchn_domain;

/**
 * What event channels need from the rest of Keel, given to each domain at
 * creation (normally the same table for all). The functions are called with
 * no evtchn lock held unless noted.
 */
struct evtchn_env {
	/*
	 * The live domain with id @domid, with a reference held until
	 * put_domain(); NULL if there is none or it is dying. Only called for
	 * ids in KEEL_DOMID_FIRST..KEEL_DOMID_LAST other than the caller's own.
	 */
	struct evtchn_domain *(*get_domain)(uint32_t domid);
	void (*put_domain)(struct evtchn_domain *d);

	/*
	 * @vcpu's upcall_pending went from 0 to 1 (or SET_UPCALL found it 1):
	 * interrupt the vCPU per its upcall mode (evtchn_vcpu_upcall()) and
	 * wake it from SCHED_BLOCK. Called with @d's evtchn lock held and
	 * interrupts off: it must not sleep or call back into this module.
	 */
	void (*kick_vcpu)(struct evtchn_domain *d, uint32_t vcpu);

	/*
	 * Optional: the pending bit of @port went from 0 to 1, masked or
	 * not. For vCPUs waiting in KEEL_HC_SCHED_POLL, which ignores the
	 * mask and may wait on any vCPU. Same context and rules as kick_vcpu.
	 */
	void (*port_raised)(struct evtchn_domain *d, uint32_t port);

	/*
	 * Optional: validate KEEL_UPCALL_PLATFORM for @vcpu with MSI-X entry
	 * (or 0 for MSI/INTx) @entry against the domain's platform device:
	 * 0, or -KEEL_EINVAL (entry beyond the MSI-X table, INTx for a vCPU
	 * other than 0). NULL accepts any entry.
	 */
	long (*check_platform_upcall)(struct evtchn_domain *d, uint32_t vcpu,
				      uint32_t entry);
};

/** Everything evtchn_domain_create() needs to know about a new domain. */
struct evtchn_domain_config {
	const struct evtchn_env *env;	/* kept: must outlive the domain */
	void *owner;			/* the domain layer's object, for the env */
	uint32_t domid;			/* KEEL_DOMID_FIRST..KEEL_DOMID_LAST */
	uint32_t vcpu_count;		/* 1..EVTCHN_VCPUS_MAX */
	uint32_t max_ports;		/* 0 = KEEL_EVTCHN_BASE_PORTS; else 4096..262144 */
	uint32_t features;		/* feature word 0 (KEEL_F0_*) of the domain */
	uint64_t caps;			/* KEEL_CAP_* of the domain */
	/* Keel's page for the domain, zeroed; written until destroy returns. */
	struct keel_shared_info *shared_info;
};

/**
 * Create the event-channel state of a domain and initialise the event part of
 * @cfg->shared_info: pending bits clear, every port masked,
 * evtchn_port_limit = KEEL_EVTCHN_BASE_PORTS. No vCPU has a keel_vcpu_info
 * yet and every upcall mode is KEEL_UPCALL_NONE.
 *
 * Return: 0 with *@out set; -KEEL_EINVAL for a bad config (no env, no page,
 *         vcpu_count or max_ports out of range, domid outside
 *         KEEL_DOMID_FIRST..KEEL_DOMID_LAST); -KEEL_ENOMEM.
 */
long evtchn_domain_create(const struct evtchn_domain_config *cfg,
			  struct evtchn_domain **out);

/**
 * Close every port of @d and free its state. Each INTERDOMAIN peer in another
 * live domain turns UNBOUND (for @d's id) and pending ("Peer loss"). Events
 * for @d that arrive during the teardown set bits but kick no vCPU. The
 * shared-info, vcpu_info and expansion pages are not @d's to free; they are
 * no longer written once this returns. Runs in time linear in @d's port
 * limit (at most KEEL_EVTCHN_MAX_PORTS).
 *
 * @pre get_domain(@d's id) already returns NULL, no hypercall of @d is under
 *      way, and no reference from get_domain() to @d is still held.
 */
void evtchn_domain_destroy(struct evtchn_domain *d);

/*
 * The domain's capabilities changed (KEEL_HC_CTL_DOMAIN_SET_CAPS): VIRQ
 * bindings from now on are checked against @caps; existing ones stay.
 */
void evtchn_set_caps(struct evtchn_domain *d, uint64_t caps);

/* Accessors for the domain layer. */
void *evtchn_domain_owner(const struct evtchn_domain *d);
uint32_t evtchn_domain_id(const struct evtchn_domain *d);
/* Ports are 1 .. limit - 1; the limit only grows (KEEL_HC_EVTCHN_EXPAND). */
uint32_t evtchn_port_limit(const struct evtchn_domain *d);

/**
 * KEEL_HC_EVTCHN_ALLOC_UNBOUND: a new port, UNBOUND for @remote_domid
 * (KEEL_DOMID_SELF: @d itself), notifying vCPU 0, its pending bit cleared.
 *
 * Return: the port; -KEEL_ESRCH (no such live remote domain);
 *         -KEEL_ENOSPC (no free port below the limit); -KEEL_ENOMEM (no
 *         memory for a new block of ports).
 */
long evtchn_alloc_unbound(struct evtchn_domain *d, uint32_t remote_domid);

/**
 * KEEL_HC_EVTCHN_BIND_INTERDOMAIN: a new local port, notifying vCPU 0,
 * connected to @remote_port of @remote_domid (or KEEL_DOMID_SELF), which must
 * be UNBOUND for @d. Both ends become INTERDOMAIN.
 *
 * Return: the local port; -KEEL_EINVAL (@remote_port 0 or not below
 *         KEEL_EVTCHN_MAX_PORTS); -KEEL_ESRCH; -KEEL_EINVAL (@remote_port not
 *         below the remote's limit); -KEEL_ENOENT (remote port FREE);
 *         -KEEL_EBUSY (remote port not UNBOUND); -KEEL_EPERM (remote port
 *         UNBOUND for another domain); -KEEL_ENOSPC; -KEEL_ENOMEM.
 */
long evtchn_bind_interdomain(struct evtchn_domain *d, uint32_t remote_domid,
			     uint32_t remote_port);

/**
 * KEEL_HC_EVTCHN_BIND_VIRQ: a new VIRQ port for @virq, notifying @vcpu (for
 * KEEL_VIRQ_TIMER: the vCPU whose timer it is).
 *
 * Return: the port; -KEEL_EINVAL (unknown VIRQ, @vcpu out of range);
 *         -KEEL_EPERM (KEEL_VIRQ_DOMAIN_STATE without KEEL_CAP_CONTROL or
 *         KEEL_CAP_CREATE, KEEL_VIRQ_LOG without KEEL_CAP_LOG);
 *         -KEEL_EEXIST (bound already: the timer per vCPU, others per
 *         domain); -KEEL_ENOSPC; -KEEL_ENOMEM.
 */
long evtchn_bind_virq(struct evtchn_domain *d, uint32_t virq, uint32_t vcpu);

/**
 * KEEL_HC_EVTCHN_BIND_IPI: a new IPI port notifying @vcpu of @d.
 *
 * Return: the port; -KEEL_EINVAL (@vcpu out of range); -KEEL_ENOSPC;
 *         -KEEL_ENOMEM.
 */
long evtchn_bind_ipi(struct evtchn_domain *d, uint32_t vcpu);

/**
 * KEEL_HC_EVTCHN_SEND: INTERDOMAIN raises the peer port (nothing if the peer
 * domain is dying), IPI raises @port itself, UNBOUND does nothing.
 *
 * Return: 0; -KEEL_EINVAL (@port 0, not below the limit, or a VIRQ port);
 *         -KEEL_ENOENT (@port FREE).
 */
long evtchn_send(struct evtchn_domain *d, uint32_t port);

/**
 * KEEL_HC_EVTCHN_CLOSE: free @port. An INTERDOMAIN peer turns UNBOUND for @d
 * and pending; a VIRQ binding is released.
 *
 * Return: 0; -KEEL_EINVAL (@port 0 or not below the limit); -KEEL_ENOENT
 *         (@port FREE).
 */
long evtchn_close(struct evtchn_domain *d, uint32_t port);

/**
 * KEEL_HC_EVTCHN_STATUS: fill the OUT fields of @st (copied in and out by
 * the caller) for port @st->port. A FREE port reads KEEL_EVTCHN_STATE_FREE.
 *
 * Return: 0; -KEEL_EINVAL (port 0 or not below the limit).
 */
long evtchn_status(struct evtchn_domain *d, struct keel_evtchn_status *st);

/**
 * KEEL_HC_EVTCHN_MASK / _UNMASK: set / clear @port's mask bit. UNMASK reruns
 * delivery step 3 if the port is pending.
 *
 * Return: 0; -KEEL_EINVAL (@port 0 or not below the limit); -KEEL_ENOENT
 *         (@port FREE).
 */
long evtchn_mask(struct evtchn_domain *d, uint32_t port);
long evtchn_unmask(struct evtchn_domain *d, uint32_t port);

/**
 * KEEL_HC_EVTCHN_BIND_VCPU: make UNBOUND or INTERDOMAIN @port notify @vcpu;
 * if it is pending and unmasked, rerun delivery step 3 on @vcpu.
 *
 * Return: 0; -KEEL_EINVAL (@port 0 or not below the limit, @vcpu out of
 *         range, VIRQ or IPI port); -KEEL_ENOENT (@port FREE).
 */
long evtchn_bind_vcpu(struct evtchn_domain *d, uint32_t port, uint32_t vcpu);

/**
 * KEEL_HC_EVTCHN_SET_UPCALL: store @req's mode and vector for @req->vcpu;
 * if its upcall_pending is already 1, kick it in the new mode. Delivery of
 * the interrupt itself is the arch's (env->kick_vcpu).
 *
 * Return: 0; -KEEL_EINVAL (vCPU out of range, unknown mode, VECTOR outside
 *         0x20..0xff, NONE with a vector, pad0 set, or what
 *         env->check_platform_upcall rejects); -KEEL_EOPNOTSUPP (the
 *         mode's feature bit is clear).
 */
long evtchn_set_upcall(struct evtchn_domain *d,
		       const struct keel_evtchn_upcall *req);

/* The upcall mode and vector of @vcpu: 0, or -KEEL_EINVAL (bad vCPU). */
long evtchn_vcpu_upcall(struct evtchn_domain *d, uint32_t vcpu,
			uint32_t *mode, uint32_t *vector);

/*
 * @vcpu's upcall_pending as its registered keel_vcpu_info holds it now: 1
 * or 0 (also 0 with no vcpu_info), -KEEL_EINVAL (bad vCPU). For a device
 * whose interrupt line follows the flag (the platform PCI device's INTx).
 */
long evtchn_vcpu_upcall_pending(struct evtchn_domain *d, uint32_t vcpu);

/**
 * KEEL_HC_EVTCHN_EXPAND: register the page pair @req->index, raising the port
 * limit. The caller has checked that both GFNs are the domain's RAM (else
 * KEEL_EFAULT), pinned the pages and mapped them at @pending and @mask
 * (page-aligned); on failure it unpins them, on success they stay pinned
 * until evtchn_domain_destroy() has returned.
 *
 * Return: the new limit; -KEEL_EFAULT (@pending or @mask NULL or not
 *         page-aligned); -KEEL_EINVAL (index not the next one, pad0 set,
 *         both GFNs or pages equal); -KEEL_EOPNOTSUPP (KEEL_F0_EVTCHN_EXPAND
 *         clear); -KEEL_ENOSPC (the configured maximum does not reach the
 *         pair).
 */
long evtchn_expand(struct evtchn_domain *d,
		   const struct keel_evtchn_expand *req, uint64_t *pending,
		   uint64_t *mask);

/**
 * Raise @virq for @d from inside Keel (timer expiry, console input, ...).
 * @vcpu is the vCPU whose timer expired for KEEL_VIRQ_TIMER and is ignored
 * for the other VIRQs. May run in interrupt context.
 *
 * Return: 0 (delivered, or already pending); -KEEL_ENOENT (not bound);
 *         -KEEL_EINVAL (unknown VIRQ, timer @vcpu out of range).
 */
long evtchn_raise_virq(struct evtchn_domain *d, uint32_t vcpu, uint32_t virq);

/**
 * @vcpu's keel_vcpu_info is now at @info (KEEL_HC_VCPU_REGISTER_INFO; NULL:
 * none). Sets the selectors of every pending, unmasked port bound to @vcpu
 * and kicks it if upcall_pending goes 0 -> 1. Once this returns the old
 * struct is no longer written, so the caller may unpin its page. Runs in
 * time linear in the port limit.
 *
 * Return: 0; -KEEL_EINVAL (@vcpu out of range); -KEEL_EFAULT (@info not
 *         64-byte aligned: the caller should have refused it).
 */
long evtchn_vcpu_info_registered(struct evtchn_domain *d, uint32_t vcpu,
				 struct keel_vcpu_info *info);

/**
 * For KEEL_HC_SCHED_POLL: whether @port's pending bit is set (its mask bit
 * does not matter).
 *
 * Return: 1 or 0; -KEEL_EINVAL (@port 0 or not below the limit);
 *         -KEEL_ENOENT (@port FREE).
 */
long evtchn_port_pending(struct evtchn_domain *d, uint32_t port);

#endif
