/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/harness.c - the rest of harness.h: a test's
 * beginning and end (with the check that the hypervisor got everything
 * back), the domains, acting as a domain, and what the hypervisor sees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include <keel/event_channel.h>
#include "harness_priv.h"

struct harness H;

static uint64_t free_at_begin, heap_at_begin;

/* Control pages of the devices set up in this test, by id: they outlive a removal while mapped. */
#define MAX_DEVICES	16

static struct {
	uint32_t id;
	void *page;
} devices[MAX_DEVICES];

void harness_violation(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(H.last_violation, sizeof(H.last_violation), fmt, ap);
	va_end(ap);
	H.violations++;
	fprintf(stderr, "harness: violation: %s\n", H.last_violation);
}

/* Destroy and forget every domain (a test that stopped half-way leaves some). */
static void all_domains_gone(void)
{
	for (unsigned int i = 0; i < HARNESS_MAX_DOMAINS; i++) {
		if (H.doms[i]) {
			harness_destroy(H.doms[i]);
		}
	}
	for (unsigned int i = 0; i < HARNESS_MAX_DOMAINS; i++) {
		free(H.doms[i]);
		H.doms[i] = NULL;
	}
}

void harness_begin(void)
{
	all_domains_gone();
	ram_views_reset();
	memset(devices, 0, sizeof(devices));
	henv_begin();
	pump_reset();
	memset(&H, 0, sizeof(H));
	H.now = 1000000000ull;
	henv_now(H.now);
	free_at_begin = henv_free_pages();
	heap_at_begin = henv_heap_pages();
}

static void check(bool ok, const char *what, const char *file, unsigned int line)
{
	CU_assertImplementation(ok, line, what, file, "", CU_FALSE);
}

void harness_end_at(const char *file, unsigned int line)
{
	char msg[320];

	all_domains_gone();
	ram_views_reset();
	check(henv_domain_count() == 0 && henv_domain_objects() == 0,
	      "harness_end: every domain gone", file, line);
	check(henv_free_pages() == free_at_begin, "harness_end: every page back to Keel", file,
	      line);
	check(henv_heap_pages() == heap_at_begin, "harness_end: Keel's heap as it was", file,
	      line);
	snprintf(msg, sizeof(msg), "harness_end: no shim contract violation (%u; last: %s)",
		 H.violations, H.last_violation);
	check(H.violations == 0, msg, file, line);
	H.current = NULL;
}

struct hdom *harness_domain(const char *name, uint32_t vcpus)
{
	struct hdom *d = calloc(1, sizeof(*d));
	unsigned int slot;

	for (slot = 0; slot < HARNESS_MAX_DOMAINS && H.doms[slot]; slot++) {
	}
	if (!d || slot == HARNESS_MAX_DOMAINS) {
		free(d);
		CU_FAIL("harness_domain: too many domains");
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->vcpus = vcpus;
	d->upcall_mode = KEEL_UPCALL_VECTOR;
	d->keel = henv_domain_create(name, vcpus, &d->domid);
	if (!d->keel) {
		free(d);
		CU_FAIL("harness_domain: Keel refused the domain");
		return NULL;
	}
	ram_init(d);
	H.doms[slot] = d;
	return d;
}

void harness_destroy(struct hdom *d)
{
	if (d->dead) {
		return;
	}
	pump_domain_gone(d);
	shim_domain_gone(d);
	ram_fini(d);
	henv_domain_destroy(d->keel);
	/* Others' views of its RAM cannot be pointed at their scratch pages as Keel does. */
	ram_keep_viewed(d);
	d->keel = NULL;
	d->dead = true;
	if (H.current == d) {
		H.current = NULL;
	}
}

void harness_forget(struct hdom *d)
{
	pump_domain_gone(d);
	shim_domain_gone(d);
}

uint32_t harness_domid(const struct hdom *d)
{
	return d->domid;
}

uint32_t harness_vcpus(const struct hdom *d)
{
	return d->vcpus;
}

void harness_use(struct hdom *d)
{
	H.current = d;
	H.cpu = 0;
	H.ctx = CTX_THREAD;
}

struct hdom *harness_current(void)
{
	return H.current;
}

void harness_upcall_mode(struct hdom *d, int mode)
{
	d->upcall_mode = mode;
}

long harness_hypercall(struct hdom *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3, uint64_t a4)
{
	const uint64_t args[5] = { a0, a1, a2, a3, a4 };

	return henv_hypercall(d->keel, 0, nr, args);
}

void *harness_scratch(struct hdom *d, uint64_t *gpa)
{
	*gpa = d->scratch_gpa;
	return d->scratch;
}

void harness_set_hook(struct hdom *d, harness_hook fn, void *ctx)
{
	d->hook = fn;
	d->hook_ctx = ctx;
}

void *harness_guest_ptr(struct hdom *d, uint64_t gpa, size_t len)
{
	uint64_t gfn = gpa >> 12;

	if (gfn < HARNESS_RAM_GFN || gfn >= HARNESS_RAM_GFN + HARNESS_RAM_PAGES ||
	    (gpa & 4095) + len > 4096) {
		return NULL;
	}
	return d->page_va[gfn - HARNESS_RAM_GFN] + (gpa & 4095);
}

int harness_device_setup(struct hdom *front, struct hdom *back, uint32_t cls, uint32_t index,
			 uint32_t *device_id, uint32_t *fe_port)
{
	int rc = henv_device_setup(front->keel, back->keel, cls, index, device_id, fe_port);

	for (unsigned int i = 0; rc == 0 && i < MAX_DEVICES; i++) {
		if (!devices[i].page) {
			devices[i].id = *device_id;
			devices[i].page = henv_device_page(*device_id);
			break;
		}
	}
	return rc;
}

int harness_device_remove(uint32_t device_id)
{
	return henv_device_remove(device_id);
}

void *harness_device_page(uint32_t device_id)
{
	void *page = henv_device_page(device_id);

	for (unsigned int i = 0; !page && i < MAX_DEVICES; i++) {
		if (devices[i].page && devices[i].id == device_id) {
			page = devices[i].page;
		}
	}
	return page;
}

uint64_t harness_free_pages(void)
{
	return henv_free_pages();
}

unsigned int harness_domain_objects(void)
{
	return henv_domain_objects();
}

int harness_port_state(struct hdom *d, uint32_t port)
{
	return henv_port_state(d->keel, port);
}

unsigned int harness_ports_in_use(struct hdom *d)
{
	return henv_ports_in_use(d->keel);
}

unsigned int harness_grants_permitted(struct hdom *d)
{
	return henv_grants(d->keel, false);
}

unsigned int harness_grants_busy(struct hdom *d)
{
	return henv_grants(d->keel, true);
}

unsigned int harness_foreign_maps(struct hdom *d)
{
	return henv_foreign_maps(d->keel);
}

void *harness_gfn_view(struct hdom *d, uint64_t gfn)
{
	return henv_gfn_host(d->keel, gfn);
}

void harness_map_window(uint64_t *gfn, uint64_t *pages)
{
	henv_map_window(gfn, pages);
}

void harness_usage(struct hdom *d, struct harness_usage *u)
{
	*u = d->usage;
	u->armed = pump_armed(d);
}

unsigned int harness_violations(void)
{
	return H.violations;
}

const char *harness_last_violation(void)
{
	return H.last_violation;
}

bool harness_log_has(struct hdom *d, const char *needle)
{
	return strstr(d->log, needle) != NULL;
}

void harness_log_clear(struct hdom *d)
{
	d->log_len = 0;
	d->log[0] = '\0';
}
