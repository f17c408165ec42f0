/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/fake/fake_keel.c - Keel's real core, compiled for the host on
 * the fake arch (hypervisor/arch/host), behind fake_keel.h. The only file
 * of the tools' tests that sees Keel's internals.
 *
 * Hypercalls go to hypercall_dispatch() from the caller's vCPU 0, so every
 * check, error and count the tests see is the core's own.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/guest_memory.h>
#include <keel/hypercall.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <public/keel/abi.h>
#include <public/keel/errno.h>
#include <public/keel/hypercall.h>
#include <public/keel/shared_info.h>
#include "fake_arch.h"
#include "fake_keel.h"

/* Keel's physical memory: 256 MiB of fake RAM from 1 MiB. */
#define KEEL_RAM_BASE	MiB(1)
#define KEEL_RAM_SIZE	MiB(256)

void fake_keel_start(void)
{
	static bool started;
	struct boot_info *bi;

	if (started) {
		return;
	}
	started = true;
	fake_arch_reset();
	fake_ram_reset();
	bi = calloc(1, sizeof(*bi));
	if (!bi) {
		abort();
	}
	bi->regions[0] = (struct mem_region){ KEEL_RAM_BASE, KEEL_RAM_SIZE, MEM_USABLE };
	bi->region_count = 1;
	if (!page_alloc_init(bi) || sched_init(1, NULL) != 0) {
		abort();
	}
	free(bi);
}

/* KEEL_HC_IDENTIFY, made by the domain itself as a kernel would. */
static long identify(struct domain *d)
{
	struct keel_identity id = {
		.os_id = KEEL_OS_TEST, .abi_major = KEEL_ABI_MAJOR, .abi_minor = KEEL_ABI_MINOR,
	};
	uint64_t gpa = (uint64_t)FAKE_BOUNCE_GFN << PAGE_SHIFT;
	uint64_t args[HYPERCALL_ARGS] = { gpa };

	memcpy(id.os_name, "keelctl-tests", 13);
	if (guest_copy_to(d, gpa, &id, sizeof(id)) != 0) {
		return -KEEL_EFAULT;
	}
	return hypercall_dispatch(d->vcpus[0], KEEL_HC_IDENTIFY, args);
}

void *fake_keel_domain(const char *name, uint32_t caps, uint32_t *domid)
{
	struct domain_params p = {
		.name = name, .caps = caps, .vcpu_count = 1, .max_pages = FAKE_BOUNCE_PAGES,
	};
	struct domain *d = NULL;

	fake_keel_start();
	if (domain_create(&p, &d) != 0) {
		return NULL;
	}
	if (guest_memory_populate(d, FAKE_BOUNCE_GFN, FAKE_BOUNCE_PAGES) != 0 ||
	    identify(d) != 0) {
		fake_keel_domain_destroy(d);
		return NULL;
	}
	*domid = d->domid;
	return d;
}

void fake_keel_domain_destroy(void *dom)
{
	struct domain *d = dom;

	domain_destroy(d);
	domain_put(d);
}

long fake_keel_hypercall(void *dom, uint32_t nr, const uint64_t args[6])
{
	struct domain *d = dom;
	uint64_t a[HYPERCALL_ARGS];

	for (unsigned int i = 0; i < HYPERCALL_ARGS; i++) {
		a[i] = i < 6 ? args[i] : 0;
	}
	return hypercall_dispatch(d->vcpus[0], nr, a);
}

void *fake_keel_page(void *dom, uint64_t gfn)
{
	paddr_t pa = 0;

	if (guest_memory_kind(dom, gfn, &pa) != GUEST_PAGE_RAM) {
		return NULL;
	}
	return arch_phys_to_virt(pa);
}

int fake_keel_read(uint32_t domid, uint64_t gpa, void *buf, uint32_t len)
{
	struct domain *d = domain_get(domid);
	int rc;

	if (!d) {
		return -1;
	}
	rc = guest_copy_from(d, gpa, buf, len) == 0 ? 0 : -1;
	domain_put(d);
	return rc;
}

uint32_t fake_keel_domain_platform(uint32_t domid)
{
	struct domain *d = domain_get(domid);
	uint32_t platform = d ? d->platform : 0;

	if (d) {
		domain_put(d);
	}
	return platform;
}

int fake_keel_guest_print(uint32_t domid, const char *s)
{
	struct domain *d = domain_get(domid);

	if (!d) {
		return -KEEL_ESRCH;
	}
	console_domain_output(d, s, strlen(s));
	domain_put(d);
	return 0;
}

int fake_keel_guest_shutdown(uint32_t domid, uint32_t reason)
{
	struct domain *d = domain_get(domid);
	int rc;

	if (!d) {
		return -KEEL_ESRCH;
	}
	rc = domain_shutdown(d, reason);
	domain_put(d);
	return rc;
}

bool fake_keel_take_pending(void *dom, uint32_t port)
{
	struct domain *d = dom;
	uint64_t bit = 1ull << (port % 64);
	bool was = __atomic_fetch_and(&d->shared_info->evtchn_pending[port / 64], ~bit,
				      __ATOMIC_ACQ_REL) & bit;

	return was;
}

void fake_keel_set_time(uint64_t ns)
{
	fake.time_ns = ns;
}

uint64_t fake_keel_free_pages(void)
{
	return page_alloc_free_count();
}

unsigned int fake_keel_live_domains(void)
{
	return domain_count();
}
