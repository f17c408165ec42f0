/* SPDX-License-Identifier: MIT */
/*
 * keelctl/keelctl.h - libkeelctl: a typed wrapper of every control call
 * (docs/abi/control.md) and the guest calls a toolstack needs, over a
 * transport (keelctl/transport.h).
 *
 * Every function returns 0 (or a count where it says so) on success and a
 * negative value on failure: -KEEL_E* as Keel returned it, or -KEELCTL_E*
 * from the transport. keelctl_strerror() names either. Nothing is retried
 * behind the caller's back except what the ABI says to repeat (DESTROY's
 * KEEL_EAGAIN, the rest of a batch).
 */
#ifndef KEELCTL_KEELCTL_H
#define KEELCTL_KEELCTL_H

#include <stddef.h>
#include <stdint.h>
#include <keel/arch-x86_64.h>
#include <keel/control.h>
#include <keel/memory.h>
#include <keelctl/transport.h>

struct keelctl {
	struct keelctl_transport *t;
};

/* What one keelctl_domain_load() element copies: a page of ours to a GFN. */
struct keelctl_load {
	const void *page;		/* KEEL_PAGE_SIZE bytes */
	uint64_t dst_gfn;
	int32_t status;			/* OUT: 0 or -KEEL_E* */
};

const char *keelctl_strerror(long err);

/* The raw call: what every wrapper below is made of. */
long keelctl_hypercall(struct keelctl *c, uint32_t nr, const uint64_t args[6],
		       const struct keel_privcmd_buf *bufs, unsigned int nr_bufs);

/* Host and domains. */
long keelctl_host_info(struct keelctl *c, struct keel_ctl_host_info *out);
long keelctl_domain_create(struct keelctl *c, struct keel_ctl_domain_create *req);
long keelctl_domain_destroy(struct keelctl *c, uint32_t domid);
long keelctl_domain_pause(struct keelctl *c, uint32_t domid);
long keelctl_domain_unpause(struct keelctl *c, uint32_t domid);
long keelctl_domain_shutdown(struct keelctl *c, uint32_t domid, uint32_t reason, uint32_t flags);
long keelctl_domain_info(struct keelctl *c, uint32_t domid, struct keel_ctl_domain_info *out);
/* One DOMAIN_LIST call: up to @max ids >= @start; returns the count. */
long keelctl_domain_list(struct keelctl *c, uint32_t start, uint32_t *ids, uint32_t max);
/* Every domain the caller sees, in a malloc'd array *@ids; returns the count. */
long keelctl_domain_list_all(struct keelctl *c, uint32_t **ids);
/* The caller's own domain id (KEEL_DOMID_SELF resolved). */
long keelctl_self_domid(struct keelctl *c, uint32_t *domid);
long keelctl_domain_set_memory(struct keelctl *c, uint32_t domid, uint64_t max_pages,
			       uint64_t target_pages);
long keelctl_domain_set_caps(struct keelctl *c, uint32_t domid, uint64_t caps);
long keelctl_domain_set_sched(struct keelctl *c, uint32_t domid, uint32_t weight, uint32_t cap);

/*
 * Batched calls, whole: every element is processed (in as many calls as
 * Keel and the one-page rule need) and gets its status. Returns 0 if all
 * succeeded, the first element error if one failed, or a batch error.
 */
long keelctl_domain_populate(struct keelctl *c, uint32_t domid, struct keel_memory_extent *ext,
			     size_t count);
long keelctl_domain_load(struct keelctl *c, uint32_t domid, struct keelctl_load *pages,
			 size_t count);

/* vCPUs. */
long keelctl_vcpu_set_context(struct keelctl *c, uint32_t domid, uint32_t vcpu,
			      const struct keel_x86_vcpu_context *ctx);
long keelctl_vcpu_get_context(struct keelctl *c, uint32_t domid, uint32_t vcpu,
			      struct keel_x86_vcpu_context *ctx);
long keelctl_vcpu_set_affinity(struct keelctl *c, uint32_t domid, uint32_t vcpu,
			       const struct keel_ctl_cpumap *map);

/* PV devices. */
long keelctl_device_setup(struct keelctl *c, struct keel_ctl_device *dev);
long keelctl_device_remove(struct keelctl *c, uint32_t device_id);

/*
 * Streams: the hypervisor log (domid 0) or a domain's console. Reads up to
 * @cap (1..4096) bytes from position *@pos into @buf; returns the count
 * and moves *@pos past them. *@lost (may be NULL) gets the bytes that were
 * overwritten before they could be read.
 */
long keelctl_log_read(struct keelctl *c, uint64_t *pos, void *buf, uint32_t cap, uint64_t *lost);
long keelctl_console_read(struct keelctl *c, uint32_t domid, uint64_t *pos, void *buf,
			  uint32_t cap, uint64_t *lost);
long keelctl_console_write(struct keelctl *c, uint32_t domid, const void *buf, uint32_t len);

#endif /* KEELCTL_KEELCTL_H */
