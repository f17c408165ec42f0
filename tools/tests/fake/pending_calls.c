/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/fake/pending_calls.c - stand-ins, for the tests only, for the
 * five control calls that core/control.c still answers with KEEL_ENOSYS
 * (DOMAIN_CREATE, DOMAIN_POPULATE, DOMAIN_LOAD, VCPU_SET_CONTEXT,
 * VCPU_GET_CONTEXT; see its "not yet" section).
 *
 * fake_keel_hypercall() asks the real core first and comes here only when
 * the core said ENOSYS, so once the core implements a call its real
 * semantics are what the tests see, with no change here. Each stand-in
 * follows docs/abi/control.md on top of the core's own building blocks
 * (domain_create, memory_populate_extents, guest_memory_copy_pages), so
 * the memory it gives and takes is counted by Keel's page allocator. What
 * they do not do: uuid is not kept (the domain has no field for it), the
 * vCPU context is checked for MBZ fields and RFLAGS bit 1 only and kept
 * here (the fake arch has no registers), ACPI firmware is not written.
 */
#include <stdlib.h>
#include <keel/guest_memory.h>
#include <keel/memory_ops.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/hypercall.h>
#include "pending_calls.h"

#define SAVED_MAX	64
#define LOAD_MAX	170

struct saved_context {
	uint32_t domid;			/* 0: free */
	uint32_t vcpu;
	struct keel_x86_vcpu_context ctx;
};

static struct saved_context saved[SAVED_MAX];

bool pending_call_known(uint64_t nr)
{
	return nr == KEEL_HC_CTL_DOMAIN_CREATE || nr == KEEL_HC_CTL_DOMAIN_POPULATE ||
	       nr == KEEL_HC_CTL_DOMAIN_LOAD || nr == KEEL_HC_CTL_VCPU_SET_CONTEXT ||
	       nr == KEEL_HC_CTL_VCPU_GET_CONTEXT;
}

static bool controls(struct domain *caller, struct domain *d)
{
	return (caller->caps & KEEL_CAP_CONTROL) ||
	       ((caller->caps & KEEL_CAP_CREATE) && d->creator == caller->domid);
}

/* The target of a call: a reference, or -KEEL_ESRCH / -KEEL_EPERM. */
static long target(struct domain *caller, uint64_t domid, struct domain **out)
{
	struct domain *d;

	if (domid >> 32) {
		return -KEEL_EINVAL;
	}
	d = domain_get(domid == KEEL_DOMID_SELF ? caller->domid : (uint32_t)domid);
	if (!d) {
		return -KEEL_ESRCH;
	}
	if (!controls(caller, d)) {
		domain_put(d);
		return -KEEL_EPERM;
	}
	*out = d;
	return 0;
}

static long copy_struct_in(struct domain *caller, uint64_t gpa, void *buf, size_t len)
{
	if ((gpa & 7) || !guest_range_in_page(gpa, len) || guest_copy_from(caller, gpa, buf, len)) {
		return -KEEL_EFAULT;
	}
	return 0;
}

static long create_checks(struct domain *caller, const struct keel_ctl_domain_create *c)
{
	if (c->caps & ~(uint64_t)KEEL_CAP_ALL_V1 || c->flags & ~DOMAIN_PLATFORM_FLAGS) {
		return -KEEL_EINVAL;
	}
	if (c->caps & ~(uint64_t)caller->caps) {
		return -KEEL_EPERM;
	}
	if (c->name[0] == 0 || memchr(c->name, 0, sizeof(c->name)) == NULL ||
	    c->nr_vcpus == 0 || c->nr_vcpus > DOMAIN_MAX_VCPUS || c->weight > 65535 ||
	    c->pad0 != 0 ||
	    (c->max_evtchn_ports != 0 &&
	     (c->max_evtchn_ports < 4096 || c->max_evtchn_ports > KEEL_EVTCHN_MAX_PORTS))) {
		return -KEEL_EINVAL;
	}
	return 0;
}

static long create(struct domain *caller, uint64_t gpa)
{
	struct keel_ctl_domain_create c;
	struct domain_params p = { 0 };
	struct domain *d = NULL;
	long rc = copy_struct_in(caller, gpa, &c, sizeof(c));

	if (rc == 0) {
		rc = create_checks(caller, &c);
	}
	if (rc != 0) {
		return rc;
	}
	p.name = (const char *)c.name;
	p.caps = (uint32_t)c.caps;
	p.creator = caller->domid;
	p.vcpu_count = c.nr_vcpus;
	p.max_pages = c.max_pages;
	p.weight = c.weight;
	p.max_grant_frames = c.max_grant_frames;
	p.max_maps = c.max_maps;
	p.platform = c.flags;
	rc = domain_create(&p, &d);
	if (rc != 0) {
		return rc;
	}
	c.domid = d->domid;
	domain_put(d);	/* the domain table keeps its own reference */
	if (guest_copy_to(caller, gpa, &c, sizeof(c)) != 0) {
		return -KEEL_EFAULT;
	}
	return 0;
}

static long populate(struct domain *caller, const uint64_t *a)
{
	struct domain *d;
	long rc = target(caller, a[0], &d);

	if (rc != 0) {
		return rc;
	}
	rc = memory_populate_extents(caller, d, a[1], a[2]);
	domain_put(d);
	return rc;
}

static long load(struct domain *caller, const uint64_t *a)
{
	struct keel_ctl_load_page e;
	struct guest_batch b;
	struct domain *d;
	long rc = target(caller, a[0], &d);

	if (rc != 0) {
		return rc;
	}
	rc = a[2] > LOAD_MAX ? -KEEL_E2BIG : guest_batch_start(&b, caller, a[1], a[2], sizeof(e), LOAD_MAX);
	while (rc == 0 && guest_batch_next(&b, &e)) {
		int copied = e.pad0 ? -1 : guest_memory_copy_pages(d, e.dst_gfn, 0, caller,
								   e.src_gfn, 0, PAGE_SIZE);

		e.status = copied < 0 ? -KEEL_EINVAL : copied == GUEST_COPY_BAD_SRC ? -KEEL_EFAULT :
			   copied == GUEST_COPY_BAD_DST ? -KEEL_ENOENT : 0;
		guest_batch_done(&b, &e, offsetof(struct keel_ctl_load_page, status),
				 sizeof(e.status), 1);
	}
	domain_put(d);
	return rc == 0 ? guest_batch_end(&b) : rc;
}

static struct saved_context *slot(uint32_t domid, uint32_t vcpu, bool make)
{
	struct saved_context *free_slot = NULL;

	for (unsigned int i = 0; i < SAVED_MAX; i++) {
		if (saved[i].domid == domid && saved[i].vcpu == vcpu) {
			return &saved[i];
		}
		if (saved[i].domid && !make) {
			continue;
		}
		if (saved[i].domid) {
			/* Ids are never reused: a slot of a domain now gone is free. */
			struct domain *d = domain_get(saved[i].domid);

			if (d) {
				domain_put(d);
				continue;
			}
			saved[i].domid = 0;
		}
		if (!free_slot) {
			free_slot = &saved[i];
		}
	}
	if (make && free_slot) {
		free_slot->domid = domid;
		free_slot->vcpu = vcpu;
	}
	return make ? free_slot : NULL;
}

/* SET (@set) or GET the context of vCPU a[1] of domain a[0] at a[2]. */
static long context(struct domain *caller, const uint64_t *a, bool set)
{
	struct keel_x86_vcpu_context ctx = { 0 };
	struct saved_context *s;
	struct domain *d;
	long rc = target(caller, a[0], &d);
	enum domain_state st;

	if (rc != 0) {
		return rc;
	}
	st = d->state;
	if (a[1] >= d->vcpu_count) {
		rc = -KEEL_EINVAL;
	} else if (st != DOMAIN_PAUSED && st != DOMAIN_SHUTDOWN) {
		rc = -KEEL_EBUSY;
	} else if (set) {
		rc = copy_struct_in(caller, a[2], &ctx, sizeof(ctx));
		for (unsigned int i = 0; rc == 0 && i < 5; i++) {
			rc = ctx.reserved[i] ? -KEEL_EINVAL : 0;
		}
		if (rc == 0 && !(ctx.rflags & 2)) {
			rc = -KEEL_EINVAL;
		}
		s = rc == 0 ? slot(d->domid, (uint32_t)a[1], true) : NULL;
		rc = rc ? rc : s ? 0 : -KEEL_ENOMEM;
		if (rc == 0) {
			s->ctx = ctx;
			/* vCPU 0 is online from creation. */
			rc = vcpu_is_online(d->vcpus[a[1]]) ? 0 : vcpu_online(d->vcpus[a[1]]);
		}
	} else {
		s = slot(d->domid, (uint32_t)a[1], false);
		if (s) {
			ctx = s->ctx;
		}
		rc = (a[2] & 7) || !guest_range_in_page(a[2], sizeof(ctx)) ||
		     guest_copy_to(caller, a[2], &ctx, sizeof(ctx)) ? -KEEL_EFAULT : 0;
	}
	domain_put(d);
	return rc;
}

long pending_call(struct domain *caller, uint64_t nr, const uint64_t *args)
{
	switch (nr) {
	case KEEL_HC_CTL_DOMAIN_CREATE:
		return create(caller, args[0]);
	case KEEL_HC_CTL_DOMAIN_POPULATE:
		return populate(caller, args);
	case KEEL_HC_CTL_DOMAIN_LOAD:
		return load(caller, args);
	case KEEL_HC_CTL_VCPU_SET_CONTEXT:
		return context(caller, args, true);
	case KEEL_HC_CTL_VCPU_GET_CONTEXT:
		return context(caller, args, false);
	default:
		return -KEEL_ENOSYS;
	}
}

void pending_forget(uint32_t domid)
{
	for (unsigned int i = 0; i < SAVED_MAX; i++) {
		if (saved[i].domid == domid) {
			saved[i].domid = 0;
		}
	}
}
