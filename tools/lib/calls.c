/* SPDX-License-Identifier: MIT */
/*
 * tools/lib/calls.c - libkeelctl's one-shot calls: host, domain lifecycle,
 * settings, vCPUs, devices. Each describes its buffers for the transport;
 * none interprets what Keel returns beyond passing it on.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keelctl/keelctl.h>
#include "lib.h"

long keelctl_hypercall(struct keelctl *c, uint32_t nr, const uint64_t args[6],
		       const struct keel_privcmd_buf *bufs, unsigned int nr_bufs)
{
	int64_t result = 0;
	int rc = c->t->hypercall(c->t, nr, args, bufs, nr_bufs, &result);

	return rc != 0 ? rc : (long)result;
}

struct keel_privcmd_buf keelctl_buf_arg(void *p, size_t len, uint32_t flags, uint32_t arg)
{
	return (struct keel_privcmd_buf){
		.addr = (uintptr_t)p, .len = (uint32_t)len, .flags = flags,
		.at = KEEL_PRIVCMD_AT_ARG, .index = arg,
	};
}

long keelctl_call_args(struct keelctl *c, uint32_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint64_t args[6] = { a0, a1, a2, 0, 0, 0 };

	return keelctl_hypercall(c, nr, args, NULL, 0);
}

/* A call whose arg0 is one struct, IN and OUT. */
static long call_struct(struct keelctl *c, uint32_t nr, void *s, size_t len, uint32_t flags)
{
	uint64_t args[6] = { 0 };
	struct keel_privcmd_buf b = keelctl_buf_arg(s, len, flags, 0);

	return keelctl_hypercall(c, nr, args, &b, 1);
}

long keelctl_host_info(struct keelctl *c, struct keel_ctl_host_info *out)
{
	memset(out, 0, sizeof(*out));
	return call_struct(c, KEEL_HC_CTL_HOST_INFO, out, sizeof(*out), KEEL_PRIVCMD_BUF_OUT);
}

long keelctl_domain_create(struct keelctl *c, struct keel_ctl_domain_create *req)
{
	return call_struct(c, KEEL_HC_CTL_DOMAIN_CREATE, req, sizeof(*req),
			   KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT);
}

long keelctl_domain_destroy(struct keelctl *c, uint32_t domid)
{
	long rc;

	/* KEEL_EAGAIN: progress was made, the ABI says to call again. */
	do {
		rc = keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_DESTROY, domid, 0, 0);
	} while (rc == -KEEL_EAGAIN);
	return rc;
}

long keelctl_domain_pause(struct keelctl *c, uint32_t domid)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_PAUSE, domid, 0, 0);
}

long keelctl_domain_unpause(struct keelctl *c, uint32_t domid)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_UNPAUSE, domid, 0, 0);
}

long keelctl_domain_shutdown(struct keelctl *c, uint32_t domid, uint32_t reason, uint32_t flags)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_SHUTDOWN, domid, reason, flags);
}

long keelctl_domain_info(struct keelctl *c, uint32_t domid, struct keel_ctl_domain_info *out)
{
	memset(out, 0, sizeof(*out));
	out->domid = domid;
	return call_struct(c, KEEL_HC_CTL_DOMAIN_INFO, out, sizeof(*out),
			   KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT);
}

long keelctl_domain_list(struct keelctl *c, uint32_t start, uint32_t *ids, uint32_t max)
{
	struct keel_ctl_domain_list *l = calloc(1, sizeof(*l));
	size_t len;
	long rc;

	if (!l) {
		return -KEEL_ENOMEM;
	}
	if (max > KEEL_CTL_DOMAIN_LIST_MAX) {
		max = KEEL_CTL_DOMAIN_LIST_MAX;
	}
	l->start_domid = start;
	l->max = max;
	len = offsetof(struct keel_ctl_domain_list, domids) + max * sizeof(uint32_t);
	rc = call_struct(c, KEEL_HC_CTL_DOMAIN_LIST, l, len,
			 KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT);
	if (rc == 0) {
		/* Keel's count is trusted no further than our buffer. */
		rc = l->count <= max ? (long)l->count : -KEEL_EINVAL;
		if (rc > 0) {
			memcpy(ids, l->domids, (size_t)rc * sizeof(uint32_t));
		}
	}
	free(l);
	return rc;
}

long keelctl_domain_list_all(struct keelctl *c, uint32_t **ids)
{
	uint32_t *all = NULL, chunk[KEEL_CTL_DOMAIN_LIST_MAX];
	size_t n = 0;
	uint32_t start = 0;
	long got;

	do {
		uint32_t *grown;

		got = keelctl_domain_list(c, start, chunk, KEEL_CTL_DOMAIN_LIST_MAX);
		if (got < 0) {
			free(all);
			return got;
		}
		grown = realloc(all, (n + (size_t)got + 1) * sizeof(*all));
		if (!grown) {
			free(all);
			return -KEEL_ENOMEM;
		}
		all = grown;
		memcpy(all + n, chunk, (size_t)got * sizeof(*all));
		n += (size_t)got;
		if (got > 0) {
			start = chunk[got - 1] + 1;
		}
	} while (got == KEEL_CTL_DOMAIN_LIST_MAX && start != 0);
	*ids = all;
	return (long)n;
}

long keelctl_self_domid(struct keelctl *c, uint32_t *domid)
{
	struct keel_ctl_domain_info self, other;
	uint32_t *ids = NULL;
	long n, rc;

	/* INFO on KEEL_DOMID_SELF gives our name; the list holds our id. */
	rc = keelctl_domain_info(c, KEEL_DOMID_SELF, &self);
	if (rc != 0) {
		return rc;
	}
	n = keelctl_domain_list_all(c, &ids);
	if (n < 0) {
		return n;
	}
	rc = -KEEL_ESRCH;
	for (long i = 0; i < n && rc != 0; i++) {
		if (keelctl_domain_info(c, ids[i], &other) == 0 &&
		    memcmp(other.name, self.name, sizeof(self.name)) == 0) {
			*domid = ids[i];
			rc = 0;
		}
	}
	free(ids);
	return rc;
}

long keelctl_domain_set_memory(struct keelctl *c, uint32_t domid, uint64_t max_pages,
			       uint64_t target_pages)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_SET_MEMORY, domid, max_pages,
				 target_pages);
}

long keelctl_domain_set_caps(struct keelctl *c, uint32_t domid, uint64_t caps)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_SET_CAPS, domid, caps, 0);
}

long keelctl_domain_set_sched(struct keelctl *c, uint32_t domid, uint32_t weight, uint32_t cap)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DOMAIN_SET_SCHED, domid, weight, cap);
}

/* A vCPU call: arg0 domid, arg1 vCPU, arg2 the struct. */
static long vcpu_call(struct keelctl *c, uint32_t nr, uint32_t domid, uint32_t vcpu, void *s,
		      size_t len, uint32_t flags)
{
	uint64_t args[6] = { domid, vcpu, 0, 0, 0, 0 };
	struct keel_privcmd_buf b = keelctl_buf_arg(s, len, flags, 2);

	return keelctl_hypercall(c, nr, args, &b, 1);
}

long keelctl_vcpu_set_context(struct keelctl *c, uint32_t domid, uint32_t vcpu,
			      const struct keel_x86_vcpu_context *ctx)
{
	struct keel_x86_vcpu_context copy = *ctx;

	return vcpu_call(c, KEEL_HC_CTL_VCPU_SET_CONTEXT, domid, vcpu, &copy, sizeof(copy),
			 KEEL_PRIVCMD_BUF_IN);
}

long keelctl_vcpu_get_context(struct keelctl *c, uint32_t domid, uint32_t vcpu,
			      struct keel_x86_vcpu_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	return vcpu_call(c, KEEL_HC_CTL_VCPU_GET_CONTEXT, domid, vcpu, ctx, sizeof(*ctx),
			 KEEL_PRIVCMD_BUF_OUT);
}

long keelctl_vcpu_set_affinity(struct keelctl *c, uint32_t domid, uint32_t vcpu,
			       const struct keel_ctl_cpumap *map)
{
	struct keel_ctl_cpumap copy = *map;

	return vcpu_call(c, KEEL_HC_CTL_VCPU_SET_AFFINITY, domid, vcpu, &copy, sizeof(copy),
			 KEEL_PRIVCMD_BUF_IN);
}

long keelctl_device_setup(struct keelctl *c, struct keel_ctl_device *dev)
{
	return call_struct(c, KEEL_HC_CTL_DEVICE_SETUP, dev, sizeof(*dev),
			   KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT);
}

long keelctl_device_remove(struct keelctl *c, uint32_t device_id)
{
	return keelctl_call_args(c, KEEL_HC_CTL_DEVICE_REMOVE, device_id, 0, 0);
}
