/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/shim_hosted.c - keel_pv/shim.h for many guests
 * in one process. Every call acts for the current domain (H.current): its
 * hypercalls go to Keel from its vCPU, its memory is its guest RAM, its
 * mappings go through its second stage.
 *
 * The shim also checks that pvdrivers keeps the contract shim.h states:
 * a lock is never taken twice, functions not marked [any] are never called
 * from an upcall or a timer or with a lock held, work items are not
 * destroyed from their own function, no allocation is of 0 or more than a
 * page, and nothing runs without a current domain. It keeps its own side:
 * kpv_shim_free(NULL) and kpv_shim_page_free(NULL) are ignored. A breach is a violation (harness_violations()), which fails the
 * test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel_pv/shim.h>
#include <keel/event_channel.h>
#include "harness_priv.h"

struct kpv_lock {
	struct hobj obj;
	bool held;
};

struct hdom *shim_current(const char *fn, bool thread_only)
{
	struct hdom *d = H.current;

	if (!d) {
		harness_violation("%s called with no current domain", fn);
		abort();
	}
	/* Functions shim.h does not mark [any]: thread context, no kpv lock held. */
	if (thread_only && H.ctx != CTX_THREAD) {
		harness_violation("%s: %s called from an upcall or timer", d->name, fn);
	}
	if (thread_only && H.locks_held) {
		harness_violation("%s: %s called with a kpv lock held", d->name, fn);
	}
	return d;
}

static struct hdom *cur(const char *fn)
{
	return shim_current(fn, false);
}

static struct hdom *thread_only(const char *fn)
{
	return shim_current(fn, true);
}

void hobj_link(struct hobj *o, enum hobj_kind kind, struct hdom *d)
{
	o->kind = kind;
	o->owner = d;
	o->next = d->objs;
	d->objs = o;
}

void hobj_unlink(struct hobj *o)
{
	for (struct hobj **pp = &o->owner->objs; *pp; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			return;
		}
	}
}

/* --- The hypervisor ------------------------------------------------------------- */

long kpv_shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4)
{
	struct hdom *d = cur(__func__);
	const uint64_t args[5] = { a0, a1, a2, a3, a4 };
	long ret;

	if (d->hook && d->hook(d->hook_ctx, d, nr, args, &ret)) {
		return ret;
	}
	return henv_hypercall(d->keel, H.cpu, nr, args);
}

/* --- Memory ---------------------------------------------------------------------- */

void *kpv_shim_alloc(size_t size)
{
	struct hdom *d = cur(__func__);

	if (size == 0) {
		harness_violation("%s: kpv_shim_alloc(0): shim.h says pvdrivers never asks for 0",
				  d->name);
	}
	return ram_alloc(d, size);
}

void kpv_shim_free(void *p)
{
	if (p) {
		ram_free(cur(__func__), p, false);
	}
}

void *kpv_shim_page_alloc(void)
{
	return ram_page_alloc(thread_only(__func__));
}

void kpv_shim_page_free(void *page)
{
	if (page) {
		ram_free(thread_only(__func__), page, true);
	}
}

uint64_t kpv_shim_virt_to_gpa(const void *va)
{
	return ram_gpa(cur(__func__), va);
}

/*
 * The host page behind the GFN now. A later forced revoke changes what the
 * guest sees there but not this pointer: tests look again through
 * harness_gfn_view().
 */
void *kpv_shim_map_gpa(uint64_t gpa, uint32_t pages)
{
	struct hdom *d = thread_only(__func__);
	void *va;

	if (pages != 1 || (gpa & 4095)) {
		harness_violation("%s: map_gpa(%#llx, %u): one aligned page expected", d->name,
				  (unsigned long long)gpa, pages);
		return NULL;
	}
	va = henv_gfn_host(d->keel, gpa >> 12);
	if (va) {
		d->usage.maps++;
		ram_view_add(d, va);
	}
	return va;
}

void kpv_shim_unmap_gpa(void *va, uint32_t pages)
{
	struct hdom *d = thread_only(__func__);

	if (!va || pages != 1 || !ram_view_remove(d, va)) {
		harness_violation("%s: unmap_gpa(%p, %u) of nothing mapped", d->name, va, pages);
		return;
	}
	d->usage.maps--;
}

/* --- CPUs and the upcall ----------------------------------------------------------- */

uint32_t kpv_shim_cpu(void)
{
	return H.cpu;
}

int kpv_shim_upcall_connect(struct kpv *k, uint32_t *vector)
{
	struct hdom *d = thread_only(__func__);

	if (d->upcall_connected) {
		harness_violation("%s: upcall connected twice", d->name);
	}
	d->kpv = k;
	d->upcall_connected = true;
	*vector = 0xf3;
	return d->upcall_mode;
}

void kpv_shim_upcall_disconnect(struct kpv *k)
{
	struct hdom *d = thread_only(__func__);

	if (!d->upcall_connected || d->kpv != k) {
		harness_violation("%s: upcall disconnected but not connected", d->name);
	}
	d->upcall_connected = false;
	d->kpv = NULL;
}

/* --- Locks ------------------------------------------------------------------------ */

struct kpv_lock *kpv_shim_lock_create(void)
{
	struct hdom *d = thread_only(__func__);
	struct kpv_lock *l = calloc(1, sizeof(*l));

	if (l) {
		hobj_link(&l->obj, OBJ_LOCK, d);
		d->usage.locks++;
	}
	return l;
}

void kpv_shim_lock_destroy(struct kpv_lock *lock)
{
	struct hdom *d = thread_only(__func__);

	if (lock->held) {
		harness_violation("%s: lock destroyed while held", d->name);
	}
	hobj_unlink(&lock->obj);
	lock->obj.owner->usage.locks--;
	free(lock);
}

unsigned long kpv_shim_lock(struct kpv_lock *lock)
{
	struct hdom *d = cur(__func__);

	if (lock->held) {
		/* On a real OS this spins for ever: stop the test here. */
		harness_violation("%s: kpv lock taken again while held (recursion)", d->name);
		abort();
	}
	lock->held = true;
	H.locks_held++;
	return 0x5a;
}

void kpv_shim_unlock(struct kpv_lock *lock, unsigned long flags)
{
	struct hdom *d = cur(__func__);

	if (!lock->held || flags != 0x5a) {
		harness_violation("%s: unlock of a lock not held, or with other flags", d->name);
		return;
	}
	lock->held = false;
	H.locks_held--;
}

/* --- Logging ----------------------------------------------------------------------- */

void kpv_shim_log(enum kpv_log_level level, const char *line)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	struct hdom *d = cur(__func__);
	size_t n = strlen(line);

	if (getenv("KPV_TEST_VERBOSE")) {
		fprintf(stderr, "[%10.3f] %s: %s: %s\n", (double)H.now / 1e9, d->name,
			names[level <= KPV_LOG_DEBUG ? level : 0], line);
	}
	if (d->log_len + n + 2 > sizeof(d->log)) {
		d->log_len = 0;		/* keep the latest lines */
	}
	memcpy(d->log + d->log_len, line, n);
	d->log_len += n;
	d->log[d->log_len++] = '\n';
	d->log[d->log_len] = '\0';
}

/* --- For the rest of the harness -------------------------------------------------- */

void shim_domain_gone(struct hdom *d)
{
	while (d->objs) {
		struct hobj *o = d->objs;

		d->objs = o->next;
		free(o);	/* each object starts with its struct hobj */
	}
	ram_views_gone(d);
	d->usage.locks = d->usage.works = d->usage.timers = d->usage.maps = 0;
	d->upcall_connected = false;
	d->kpv = NULL;
}
