/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/env_keel.c - the fake hypervisor: Keel's real
 * core, compiled for the host against the fake arch (hypervisor/arch/host),
 * behind the henv_* calls of harness_priv.h.
 *
 * Domains are made the way the hypervisor's builder makes them
 * (domain_create, guest_memory_populate), guest hypercalls go straight to
 * hypercall_dispatch(), devices are set up as KEEL_HC_CTL_DEVICE_SETUP
 * would, and every count the tests check comes from Keel's own state.
 * This is the only file of the harness that sees Keel's internals.
 */
#include <stdlib.h>
#include <keel/bootinfo.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/grant_table.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/hypercall.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/vcpu.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include "fake_arch.h"
#include "harness_priv.h"

/* Keel's physical memory for all tests: 512 MiB of fake RAM from 1 MiB. */
#define KEEL_RAM_BASE		MiB(1)
#define KEEL_RAM_SIZE		MiB(512)
#define BACKEND_CAPS		(KEEL_CAP_BACKEND_CONSOLE | KEEL_CAP_BACKEND_BLOCK | \
				 KEEL_CAP_BACKEND_NET)

void henv_init(void)
{
	static bool done;
	struct boot_info *bi;

	if (done) {
		return;
	}
	done = true;
	fake_arch_reset();
	fake_ram_reset();
	bi = calloc(1, sizeof(*bi));
	if (!bi) {
		abort();
	}
	bi->regions[0] = (struct mem_region){ KEEL_RAM_BASE, KEEL_RAM_SIZE, MEM_USABLE };
	bi->region_count = 1;
	if (!page_alloc_init(bi)) {
		abort();
	}
	free(bi);
}

void henv_begin(void)
{
	henv_init();
	fake_arch_reset();
	sched_init(1, NULL);	/* domains need a scheduler for their vCPUs */
}

void henv_now(uint64_t ns)
{
	fake.time_ns = ns;
}

uint64_t henv_free_pages(void)
{
	return page_alloc_free_count();
}

uint64_t henv_heap_pages(void)
{
	return heap_page_count();
}

unsigned int henv_domain_count(void)
{
	return domain_count();
}

unsigned int henv_domain_objects(void)
{
	return domain_objects();
}

void *henv_domain_create(const char *name, uint32_t vcpus, uint32_t *domid)
{
	struct domain_params p = {
		.name = name, .caps = BACKEND_CAPS, .vcpu_count = vcpus,
		.max_pages = HARNESS_RAM_PAGES,
	};
	struct domain *d = NULL;

	if (domain_create(&p, &d) != 0) {
		return NULL;
	}
	if (guest_memory_populate(d, HARNESS_RAM_GFN, HARNESS_RAM_PAGES) != 0) {
		domain_destroy(d);
		domain_put(d);
		return NULL;
	}
	*domid = d->domid;
	return d;
}

void henv_domain_destroy(void *keel)
{
	struct domain *d = keel;

	domain_destroy(d);
	domain_put(d);
}

/* Allocations henv_reserve_pages() may make on its way to the pages it wants. */
#define RESERVE_TRIES	65536

int henv_reserve_pages(void *const *pages, unsigned int n)
{
	paddr_t *other = calloc(RESERVE_TRIES, sizeof(*other));
	unsigned int missing = n, others = 0;

	/* First fit from the lowest freed page: the pages just freed come first. */
	while (other && missing && others < RESERVE_TRIES) {
		paddr_t pa = page_alloc(1);
		bool wanted = false;

		if (!pa) {
			break;
		}
		for (unsigned int i = 0; i < n && !wanted; i++) {
			wanted = arch_virt_to_phys(pages[i]) == pa;
		}
		if (wanted) {
			missing--;
		} else {
			other[others++] = pa;
		}
	}
	while (others) {
		page_free(other[--others], 1);
	}
	free(other);
	return missing ? -1 : 0;
}

void henv_unreserve_page(void *page)
{
	page_free(arch_virt_to_phys(page), 1);
}

void *henv_gfn_host(void *keel, uint64_t gfn)
{
	paddr_t pa = 0;

	if (guest_memory_kind(keel, gfn, &pa) == GUEST_PAGE_NONE) {
		return NULL;
	}
	return arch_phys_to_virt(pa);
}

long henv_hypercall(void *keel, uint32_t vcpu, uint64_t nr, const uint64_t args[5])
{
	struct domain *d = keel;
	uint64_t a[HYPERCALL_ARGS] = { args[0], args[1], args[2], args[3], args[4], 0 };

	return hypercall_dispatch(d->vcpus[vcpu < d->vcpu_count ? vcpu : 0], nr, a);
}

bool henv_upcall_pending(void *keel, uint32_t vcpu, uint64_t scratch_gpa)
{
	struct domain *d = keel;
	struct keel_vcpu_status st = { .vcpu = vcpu };
	struct keel_vcpu_info *vi;
	uint32_t mode = KEEL_UPCALL_NONE, vector, rights;
	paddr_t pa;

	if (vcpu >= d->vcpu_count || evtchn_vcpu_upcall(d->evtchn, vcpu, &mode, &vector) != 0 ||
	    mode == KEEL_UPCALL_NONE) {
		return false;
	}
	/* Keel's own record of where the vcpu_info is, through the ABI's VCPU_INFO. */
	if (guest_copy_to(d, scratch_gpa, &st, sizeof(st)) != 0 ||
	    vcpu_hc_info(d->vcpus[0], scratch_gpa) != 0 ||
	    guest_copy_from(d, scratch_gpa, &st, sizeof(st)) != 0 || !st.info_gpa ||
	    !guest_memory_translate(d, st.info_gpa >> PAGE_SHIFT, &pa, &rights)) {
		return false;
	}
	vi = (void *)((uint8_t *)arch_phys_to_virt(pa) + (st.info_gpa & (PAGE_SIZE - 1)));
	return __atomic_load_n(&vi->upcall_pending, __ATOMIC_SEQ_CST) != 0;
}

int henv_device_setup(void *front, void *back, uint32_t cls, uint32_t index, uint32_t *id,
		      uint32_t *port)
{
	struct device_setup s = { .device_class = cls, .index = index, .label = "test" };
	long rc = device_setup(front, back, &s);

	if (rc == 0) {
		*id = s.device_id;
		*port = s.frontend_port;
	}
	return (int)rc;
}

int henv_device_remove(uint32_t id)
{
	return (int)device_remove(id);
}

void *henv_device_page(uint32_t id)
{
	unsigned int ids_max = DOMAIN_SLOTS;
	uint32_t *ids = calloc(ids_max, sizeof(*ids));
	unsigned int n = ids ? domain_list(ids, ids_max) : 0;
	void *va = NULL;

	/* Any end may look it up; the reference is dropped at once (the device holds one). */
	for (unsigned int i = 0; i < n && !va; i++) {
		struct domain *d = domain_get(ids[i]);
		paddr_t pa;

		if (d && device_page_lookup(d, id, &pa) == 0) {
			va = arch_phys_to_virt(pa);
			device_page_put(pa);
		}
		if (d) {
			domain_put(d);
		}
	}
	free(ids);
	return va;
}

int henv_port_state(void *keel, uint32_t port)
{
	struct domain *d = keel;
	struct keel_evtchn_status st = { .port = port };
	long rc = evtchn_status(d->evtchn, &st);

	return rc == 0 ? (int)st.state : (int)rc;
}

unsigned int henv_ports_in_use(void *keel)
{
	struct domain *d = keel;
	unsigned int n = 0;

	for (uint32_t port = 1; port < evtchn_port_limit(d->evtchn); port++) {
		int st = henv_port_state(keel, port);

		n += st > KEEL_EVTCHN_STATE_FREE;
	}
	return n;
}

unsigned int henv_grants(void *keel, bool busy)
{
	struct domain *d = keel;
	unsigned int n = 0;
	paddr_t pa;

	for (uint64_t f = 0; gnttab_frame(d, f, &pa) == 0; f++) {
		const struct keel_grant_entry *e = arch_phys_to_virt(pa);

		for (unsigned int i = 0; i < KEEL_GRANT_ENTRIES_PER_FRAME; i++) {
			n += busy ? e[i].status != 0 : (e[i].flags & KEEL_GNTF_PERMIT) != 0;
		}
	}
	return n;
}

unsigned int henv_foreign_maps(void *keel)
{
	uint64_t gpa, size;
	unsigned int n = 0;

	arch_map_window(&gpa, &size);
	for (uint64_t g = gpa >> PAGE_SHIFT; g < (gpa + size) >> PAGE_SHIFT; g++) {
		n += guest_memory_kind(keel, g, NULL) == GUEST_PAGE_FOREIGN;
	}
	return n;
}

void henv_map_window(uint64_t *gfn, uint64_t *pages)
{
	uint64_t gpa, size;

	arch_map_window(&gpa, &size);
	*gfn = gpa >> PAGE_SHIFT;
	*pages = size >> PAGE_SHIFT;
}
