/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_control_build.c - unit tests for the control calls
 * that build a domain (core/control.c): DOMAIN_CREATE, DOMAIN_POPULATE,
 * DOMAIN_LOAD, VCPU_SET_CONTEXT and VCPU_GET_CONTEXT. Each call's success,
 * each documented error in the order of docs/abi/errors.md, and that a
 * failed or destroyed domain leaves every page behind it free.
 *
 * The controllers are real domains with a little RAM: guest page 1 is a
 * source page for LOAD, page 2 holds the control structs, page 3 arrays.
 * The fake arch keeps a vCPU's registers as the x86 context struct.
 */
#include <keel/control.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/memory_ops.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/vcpu.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/sched.h>
#include <public/keel/shared_info.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	16
#define SRC_GPA		0x1000ull	/* a page LOAD copies from */
#define CTL_GPA		0x2000ull	/* control structs */
#define ARR_GPA		0x3000ull	/* batch arrays */
#define NO_RAM_GPA	((uint64_t)RAM_PAGES << PAGE_SHIFT)
#define UNKNOWN		0x7ffffff0u
#define ALL_CAPS	KEEL_CAP_ALL_V1

static paddr_t expand_pages[4];	/* see expand_limit() */
static unsigned int expand_count;

static void setup(void)
{
	unit_reset_counted();
}

static struct domain *make_child(const char *name, uint32_t caps, uint32_t creator)
{
	struct domain_params p = {
		.name = name, .caps = caps, .creator = creator, .vcpu_count = 1,
		.max_pages = RAM_PAGES,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	d->identified = true;
	return d;
}

static struct domain *make(const char *name, uint32_t caps)
{
	return make_child(name, caps, KEEL_DOMID_NONE);
}

static void finish(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

static void put(struct domain *d, uint64_t gpa, const void *p, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(d, gpa, p, len), 0);
}

static void get(struct domain *d, uint64_t gpa, void *p, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(d, gpa, p, len), 0);
}

/* A valid request: name, 2 vCPUs, 1 MiB, no caps, defaults elsewhere. */
static struct keel_ctl_domain_create request(const char *name)
{
	struct keel_ctl_domain_create c;

	memset(&c, 0, sizeof(c));
	memcpy(c.name, name, strlen(name));
	c.nr_vcpus = 2;
	c.max_pages = 256;
	return c;
}

/* CREATE of @c by @caller at CTL_GPA; on success *@id is the new domid. */
static long create(struct domain *caller, const struct keel_ctl_domain_create *c, uint32_t *id)
{
	struct keel_ctl_domain_create out;
	long rc;

	put(caller, CTL_GPA, c, sizeof(*c));
	rc = ctl_hc_domain_create(caller, CTL_GPA);
	get(caller, CTL_GPA, &out, sizeof(out));
	if (id) {
		*id = out.domid;
	}
	return rc;
}

/* Destroy domain @id as @caller would. */
static void destroy_id(struct domain *caller, uint32_t id)
{
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(caller, id), 0);
}

static bool take_pending(struct domain *d, uint32_t port)
{
	uint64_t bit = 1ull << (port % 64);
	uint64_t *word = &d->shared_info->evtchn_pending[port / 64];
	bool was = (*word & bit) != 0;

	*word &= ~bit;
	return was;
}

/* --- DOMAIN_CREATE ------------------------------------------------------------- */

/* KEEL_HC_EVTCHN_EXPAND's first page pair for @d: its new port limit, or an error. */
static long expand_limit(struct domain *d)
{
	struct keel_evtchn_expand req = { .index = 0, .pending_gfn = 1, .mask_gfn = 2 };
	paddr_t pending = page_alloc(1), mask = page_alloc(1);
	long rc;

	CU_ASSERT_FATAL(pending && mask);
	memset(arch_phys_to_virt(pending), 0, PAGE_SIZE);
	memset(arch_phys_to_virt(mask), 0, PAGE_SIZE);
	rc = evtchn_expand(d->evtchn, &req, arch_phys_to_virt(pending), arch_phys_to_virt(mask));
	/* The bitmaps must outlive @d's ports: freed once it is gone (the test's end). */
	expand_pages[expand_count++] = pending;
	expand_pages[expand_count++] = mask;
	return rc;
}

static void test_create(void)
{
	struct domain *mgr = make("cr-mgr", KEEL_CAP_CREATE | KEEL_CAP_LOG);
	struct domain *ctl = make("cr-ctl", KEEL_CAP_CONTROL);
	long port = evtchn_bind_virq(mgr->evtchn, KEEL_VIRQ_DOMAIN_STATE, 0);
	long ctl_port = evtchn_bind_virq(ctl->evtchn, KEEL_VIRQ_DOMAIN_STATE, 0);
	struct keel_ctl_domain_create c = request("cr-kid"), back;
	struct keel_ctl_domain_info info;
	unsigned int populates = fake.platform_populates;
	struct domain *kid;
	uint32_t id = 0;

	CU_ASSERT_FATAL(port > 0 && ctl_port > 0);
	for (unsigned int i = 0; i < sizeof(c.uuid); i++) {
		c.uuid[i] = (uint8_t)(0xa0 + i);
	}
	c.caps = KEEL_CAP_LOG;
	c.nr_vcpus = 3;
	c.flags = KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC;
	c.max_evtchn_ports = 8192;
	c.weight = 700;
	c.domid = 12345;	/* OUT: whatever the caller left there */
	CU_ASSERT_EQUAL_FATAL(create(mgr, &c, &id), 0);
	CU_ASSERT_NOT_EQUAL(id, 0);
	CU_ASSERT_NOT_EQUAL(id, 12345);
	/* Only the OUT field changed. */
	get(mgr, CTL_GPA, &back, sizeof(back));
	back.domid = c.domid;
	CU_ASSERT_EQUAL(memcmp(&back, &c, sizeof(c)), 0);

	kid = domain_get(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	CU_ASSERT_STRING_EQUAL(kid->name, "cr-kid");
	CU_ASSERT_EQUAL(kid->creator, mgr->domid);
	CU_ASSERT_EQUAL(kid->caps, KEEL_CAP_LOG);
	CU_ASSERT_EQUAL(kid->platform, KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC);
	CU_ASSERT_EQUAL(kid->state, DOMAIN_PAUSED);
	CU_ASSERT_EQUAL(kid->vcpu_count, 3);
	CU_ASSERT_EQUAL(kid->mem.ram_pages, 0);		/* no RAM */
	CU_ASSERT_EQUAL(kid->mem.max_pages, 256);
	CU_ASSERT_EQUAL(kid->sched.weight, 700);
	CU_ASSERT_TRUE(vcpu_is_online(kid->vcpus[0]));	/* vCPU 0 only */
	CU_ASSERT_FALSE(vcpu_is_online(kid->vcpus[1]));
	CU_ASSERT_FALSE(vcpu_is_online(kid->vcpus[2]));
	CU_ASSERT_EQUAL(sched_entity_state(&kid->vcpus[0]->sched), SCHED_PAUSED);
	CU_ASSERT_EQUAL(fake.platform_populates, populates + 1);	/* firmware: the arch's call */
	/* Its event channels may grow to 8192 ports (the default stops at 4096). */
	CU_ASSERT_EQUAL(expand_limit(kid), 8192);
	CU_ASSERT_EQUAL(expand_limit(mgr), -KEEL_ENOSPC);
	/* The creator and every CONTROL holder hear of it. */
	CU_ASSERT_TRUE(take_pending(mgr, (uint32_t)port));
	CU_ASSERT_TRUE(take_pending(ctl, (uint32_t)ctl_port));

	/* DOMAIN_INFO reports it, uuid included; the creator controls it. */
	memset(&info, 0, sizeof(info));
	info.domid = id;
	put(mgr, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(mgr, CTL_GPA), 0);
	get(mgr, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(memcmp(info.uuid, c.uuid, sizeof(c.uuid)), 0);
	CU_ASSERT_STRING_EQUAL((const char *)info.name, "cr-kid");
	CU_ASSERT_EQUAL(info.parent_domid, mgr->domid);
	CU_ASSERT_EQUAL(info.flags, KEEL_DOMINFO_F_PAUSED);
	CU_ASSERT_EQUAL(info.nr_vcpus, 3);
	CU_ASSERT_EQUAL(info.nr_vcpus_online, 1);
	CU_ASSERT_EQUAL(info.caps, KEEL_CAP_LOG);
	CU_ASSERT_EQUAL(info.weight, 700);
	CU_ASSERT_EQUAL(info.max_pages, 256);
	CU_ASSERT_EQUAL(info.current_pages, 0);
	domain_put(kid);

	/* Defaults: weight 0 is 256; no flags, no platform. */
	c = request("cr-def");
	CU_ASSERT_EQUAL_FATAL(create(ctl, &c, &id), 0);
	kid = domain_get(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	CU_ASSERT_EQUAL(kid->sched.weight, KEEL_CTL_WEIGHT_DEFAULT);
	CU_ASSERT_EQUAL(kid->creator, ctl->domid);
	CU_ASSERT_EQUAL(kid->platform, 0);
	domain_put(kid);
	destroy_id(ctl, id);

	destroy_id(mgr, info.domid);
	finish(mgr);
	finish(ctl);
	while (expand_count) {
		page_free(expand_pages[--expand_count], 1);
	}
	UNIT_CHECK_ALL_RETURNED();
}

/* @c must fail with @want, leaving no domain and no page behind. */
static void refused(struct domain *caller, const struct keel_ctl_domain_create *c, long want)
{
	uint64_t free_pages = page_alloc_free_count();
	unsigned int domains = domain_count();

	CU_ASSERT_EQUAL(create(caller, c, NULL), want);
	CU_ASSERT_EQUAL(domain_count(), domains);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_pages);
}

static void test_create_errors(void)
{
	struct domain *none = make("ce-none", KEEL_CAP_LOG);
	struct domain *mgr = make("ce-mgr", KEEL_CAP_CREATE | KEEL_CAP_LOG);
	struct keel_ctl_domain_create c = request("ce-new");
	uint64_t free_pages = page_alloc_free_count();

	/* Step 5 before the struct is even read. */
	CU_ASSERT_EQUAL(ctl_hc_domain_create(none, CTL_GPA + 4), -KEEL_EPERM);
	refused(none, &c, -KEEL_EPERM);
	/* Step 7: the struct's place. */
	CU_ASSERT_EQUAL(ctl_hc_domain_create(mgr, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_create(mgr, CTL_GPA + PAGE_SIZE - 8), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_create(mgr, NO_RAM_GPA), -KEEL_EFAULT);

	/* Step 8: each field. */
	c = request("");
	refused(mgr, &c, -KEEL_EINVAL);				/* empty name */
	memset(c.name, 'x', sizeof(c.name));
	refused(mgr, &c, -KEEL_EINVAL);				/* unterminated */
	c = request("has space");
	refused(mgr, &c, -KEEL_EINVAL);				/* not a printable word */
	c = request("ce-new");
	c.nr_vcpus = 0;
	refused(mgr, &c, -KEEL_EINVAL);
	c.nr_vcpus = DOMAIN_MAX_VCPUS + 1;
	refused(mgr, &c, -KEEL_EINVAL);
	c = request("ce-new");
	c.flags = 0x10;
	refused(mgr, &c, -KEEL_EINVAL);				/* unknown flag */
	c = request("ce-new");
	c.caps = 0x80;
	refused(mgr, &c, -KEEL_EINVAL);				/* unknown cap bit... */
	c.caps = 1ull << 40;
	refused(mgr, &c, -KEEL_EINVAL);
	c.caps = KEEL_CAP_CONTROL | 0x80;
	refused(mgr, &c, -KEEL_EINVAL);				/* ...before escalation */
	c = request("ce-new");
	c.max_evtchn_ports = 4095;
	refused(mgr, &c, -KEEL_EINVAL);
	c.max_evtchn_ports = KEEL_EVTCHN_MAX_PORTS + 1;
	refused(mgr, &c, -KEEL_EINVAL);
	c = request("ce-new");
	c.weight = 65536;
	refused(mgr, &c, -KEEL_EINVAL);
	c = request("ce-new");
	c.pad0 = 1;
	refused(mgr, &c, -KEEL_EINVAL);

	/* No escalation: only caps the caller holds. */
	c = request("ce-new");
	c.caps = KEEL_CAP_CONTROL;
	refused(mgr, &c, -KEEL_EPERM);
	c.caps = KEEL_CAP_CREATE | KEEL_CAP_CONSOLE;
	refused(mgr, &c, -KEEL_EPERM);

	/* Step 9: the name is in use (a boot domain's, or a created one's). */
	c = request("ce-none");
	refused(mgr, &c, -KEEL_EEXIST);

	/* Step 10: out of memory half-way through, then at the firmware. */
	c = request("ce-new");
	fake.vcpu_create_fail_after = 1;
	refused(mgr, &c, -KEEL_ENOMEM);
	fake.vcpu_create_fail_after = -1;
	CU_ASSERT_EQUAL(domain_objects(), 2);

	/* The edges of the ranges are fine, and so is the name again. */
	c = request("ce-new");
	c.caps = KEEL_CAP_CREATE | KEEL_CAP_LOG;
	c.nr_vcpus = DOMAIN_MAX_VCPUS;
	c.max_evtchn_ports = KEEL_EVTCHN_MAX_PORTS;
	c.weight = 65535;
	c.flags = DOMAIN_PLATFORM_FLAGS;
	CU_ASSERT_EQUAL(create(mgr, &c, &c.domid), 0);
	destroy_id(mgr, c.domid);
	c.max_evtchn_ports = KEEL_EVTCHN_BASE_PORTS;
	CU_ASSERT_EQUAL(create(mgr, &c, &c.domid), 0);
	destroy_id(mgr, c.domid);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_pages);

	finish(none);
	finish(mgr);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- DOMAIN_POPULATE ------------------------------------------------------------- */

/* A child of @mgr, made through the call, with @max_pages of room. */
static uint32_t child(struct domain *mgr, const char *name, uint64_t max_pages)
{
	struct keel_ctl_domain_create c = request(name);
	uint32_t id = 0;

	c.max_pages = max_pages;
	CU_ASSERT_EQUAL_FATAL(create(mgr, &c, &id), 0);
	return id;
}

static uint64_t ram_of(uint32_t id)
{
	struct domain *d = domain_get(id);
	uint64_t pages;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	pages = d->mem.ram_pages;
	domain_put(d);
	return pages;
}

static void test_populate(void)
{
	struct domain *mgr = make("po-mgr", KEEL_CAP_CREATE);
	struct domain *other = make("po-other", KEEL_CAP_CREATE);
	struct domain *none = make("po-none", 0);
	uint64_t free_pages = page_alloc_free_count();
	uint32_t id = child(mgr, "po-kid", 8 * 512);
	uint64_t window_gpa, window_size;
	struct keel_memory_extent x[12];
	struct domain *kid;

	arch_map_window(&window_gpa, &window_size);
	memset(x, 0, sizeof(x));
	x[0] = (struct keel_memory_extent){ .gfn = 0, .order = 0 };
	x[1] = (struct keel_memory_extent){ .gfn = 0x200, .order = 9 };
	x[2] = (struct keel_memory_extent){ .gfn = 0, .order = 0 };			/* EBUSY */
	x[3] = (struct keel_memory_extent){ .gfn = 0x401, .order = 9 };		/* misaligned */
	x[4] = (struct keel_memory_extent){ .gfn = 0x800, .order = 1 };		/* order */
	x[5] = (struct keel_memory_extent){ .gfn = FAKE_PLATFORM_GPA >> PAGE_SHIFT };	/* platform */
	x[6] = (struct keel_memory_extent){ .gfn = window_gpa >> PAGE_SHIFT };		/* map window */
	x[7] = (struct keel_memory_extent){ .gfn = GUEST_GFN_LIMIT };			/* beyond */
	x[8] = (struct keel_memory_extent){ .gfn = 1, .order = 0, .status = 77 };
	put(mgr, ARR_GPA, x, 9 * sizeof(x[0]));
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA, 9), 9);
	get(mgr, ARR_GPA, x, 9 * sizeof(x[0]));
	CU_ASSERT_EQUAL(x[0].status, 0);
	CU_ASSERT_EQUAL(x[1].status, 0);
	CU_ASSERT_EQUAL(x[2].status, -KEEL_EBUSY);
	CU_ASSERT_EQUAL(x[3].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(x[4].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(x[5].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(x[6].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(x[7].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(x[8].status, 0);
	CU_ASSERT_EQUAL(ram_of(id), 2 + 512);
	/* The caller's RAM is untouched; the target's is zeroed RAM. */
	kid = domain_get(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	CU_ASSERT_EQUAL(guest_memory_kind(kid, 0x2ff, NULL), GUEST_PAGE_RAM);
	CU_ASSERT_EQUAL(mgr->mem.ram_pages, RAM_PAGES);

	/* Past max_pages (4096): ENOMEM, counted against the target. */
	x[0] = (struct keel_memory_extent){ .gfn = 0x400, .order = 9 };
	for (unsigned int i = 1; i < 7; i++) {
		x[i] = (struct keel_memory_extent){ .gfn = 0x400 + 0x200 * i, .order = 9 };
	}
	put(mgr, ARR_GPA, x, 7 * sizeof(x[0]));
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA, 7), 7);
	get(mgr, ARR_GPA, x, 7 * sizeof(x[0]));
	for (unsigned int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(x[i].status, 0);
	}
	CU_ASSERT_EQUAL(x[6].status, -KEEL_ENOMEM);
	CU_ASSERT_EQUAL(kid->mem.ram_pages, 2 + 7 * 512);

	/* Batch errors, in order, touching nothing. */
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(none, UNKNOWN, ARR_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(none, id, ARR_GPA, 1), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, UNKNOWN, ARR_GPA, 1), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(other, id, ARR_GPA, 1), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA + 4, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA + PAGE_SIZE - 16, 2), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA, PAGE_SIZE / 16 + 1), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, NO_RAM_GPA, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(kid->mem.ram_pages, 2 + 7 * 512);
	domain_put(kid);

	destroy_id(mgr, id);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_pages);
	finish(mgr);
	finish(other);
	finish(none);
	UNIT_CHECK_ALL_RETURNED();
}

/* A call stops after MEMORY_BATCH_PAGES pages; the caller goes on with the rest. */
static void test_populate_continues(void)
{
	struct domain *ctl = make("pc-ctl", KEEL_CAP_CONTROL);
	uint32_t id = child(ctl, "pc-kid", 12 * 512);
	unsigned int count = MEMORY_BATCH_PAGES / 512 + 2;
	struct keel_memory_extent x[16];
	long done = 0, n;

	CU_ASSERT_FATAL(count <= 16);
	for (unsigned int i = 0; i < count; i++) {
		x[i] = (struct keel_memory_extent){ .gfn = 0x200 * (i + 1), .order = 9 };
	}
	put(ctl, ARR_GPA, x, count * sizeof(x[0]));
	n = ctl_hc_domain_populate(ctl, id, ARR_GPA, count);
	CU_ASSERT_EQUAL(n, MEMORY_BATCH_PAGES / 512);
	done += n;
	n = ctl_hc_domain_populate(ctl, id, ARR_GPA + done * sizeof(x[0]), count - done);
	CU_ASSERT_EQUAL(n, 2);
	get(ctl, ARR_GPA, x, count * sizeof(x[0]));
	for (unsigned int i = 0; i < count; i++) {
		CU_ASSERT_EQUAL(x[i].status, 0);
	}
	CU_ASSERT_EQUAL(ram_of(id), count * 512);
	destroy_id(ctl, id);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- DOMAIN_LOAD ----------------------------------------------------------------- */

static void fill_page(struct domain *d, uint64_t gpa, uint8_t seed)
{
	uint8_t page[PAGE_SIZE];

	for (unsigned int i = 0; i < PAGE_SIZE; i++) {
		page[i] = (uint8_t)(seed + i * 7);
	}
	put(d, gpa, page, sizeof(page));
}

static void test_load(void)
{
	struct domain *mgr = make("ld-mgr", KEEL_CAP_CREATE);
	struct domain *other = make("ld-other", KEEL_CAP_CREATE);
	struct domain *none = make("ld-none", 0);
	uint32_t id = child(mgr, "ld-kid", 64);
	struct keel_memory_extent x = { .gfn = 0x10, .order = 0 };
	struct keel_ctl_load_page e[5];
	uint8_t want[PAGE_SIZE], got[PAGE_SIZE];
	struct domain *kid;

	put(mgr, ARR_GPA, &x, sizeof(x));
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA, 1), 1);
	x.gfn = 0x11;
	put(mgr, ARR_GPA, &x, sizeof(x));
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(mgr, id, ARR_GPA, 1), 1);
	fill_page(mgr, SRC_GPA, 3);
	get(mgr, SRC_GPA, want, sizeof(want));

	memset(e, 0, sizeof(e));
	e[0] = (struct keel_ctl_load_page){ .src_gfn = SRC_GPA >> PAGE_SHIFT, .dst_gfn = 0x10 };
	e[1] = (struct keel_ctl_load_page){ .src_gfn = NO_RAM_GPA >> PAGE_SHIFT, .dst_gfn = 0x11 };
	e[2] = (struct keel_ctl_load_page){ .src_gfn = SRC_GPA >> PAGE_SHIFT, .dst_gfn = 0x12 };
	e[3] = (struct keel_ctl_load_page){ .src_gfn = NO_RAM_GPA >> PAGE_SHIFT, .dst_gfn = 0x12,
					     .pad0 = 1 };	/* pad first */
	e[4] = (struct keel_ctl_load_page){ .src_gfn = SRC_GPA >> PAGE_SHIFT, .dst_gfn = 0x11,
					     .status = 99 };
	put(mgr, ARR_GPA, e, sizeof(e));
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, id, ARR_GPA, 5), 5);
	get(mgr, ARR_GPA, e, sizeof(e));
	CU_ASSERT_EQUAL(e[0].status, 0);
	CU_ASSERT_EQUAL(e[1].status, -KEEL_EFAULT);
	CU_ASSERT_EQUAL(e[2].status, -KEEL_ENOENT);
	CU_ASSERT_EQUAL(e[3].status, -KEEL_EINVAL);
	CU_ASSERT_EQUAL(e[4].status, 0);
	CU_ASSERT_EQUAL(e[0].src_gfn, SRC_GPA >> PAGE_SHIFT);	/* IN fields stay */
	kid = domain_get(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	get(kid, 0x10000, got, sizeof(got));
	CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);	/* the whole page */
	get(kid, 0x11000, got, sizeof(got));
	CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
	CU_ASSERT_EQUAL(kid->mem.ram_pages, 2);			/* LOAD adds no RAM */
	/* A Keel page in the caller is not its RAM. */
	CU_ASSERT_EQUAL(guest_memory_map_keel(mgr, 0x20, mgr->shared_info_pa, 0), 0);
	e[0] = (struct keel_ctl_load_page){ .src_gfn = 0x20, .dst_gfn = 0x10 };
	put(mgr, ARR_GPA, e, sizeof(e[0]));
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, id, ARR_GPA, 1), 1);
	get(mgr, ARR_GPA, e, sizeof(e[0]));
	CU_ASSERT_EQUAL(e[0].status, -KEEL_EFAULT);
	guest_memory_unmap_keel(mgr, mgr->shared_info_pa);

	/* Batch errors, in order. */
	CU_ASSERT_EQUAL(ctl_hc_domain_load(none, UNKNOWN, ARR_GPA, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_load(none, id, ARR_GPA, 1), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, UNKNOWN, ARR_GPA, 1), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_domain_load(other, id, ARR_GPA, 1), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, id, ARR_GPA + 4, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, id, ARR_GPA, 171), -KEEL_E2BIG);	/* > 170 */
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, id, ARR_GPA + PAGE_SIZE - 24, 2), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(ctl_hc_domain_load(mgr, id, NO_RAM_GPA, 1), -KEEL_EFAULT);
	domain_put(kid);

	destroy_id(mgr, id);
	finish(mgr);
	finish(other);
	finish(none);
	UNIT_CHECK_ALL_RETURNED();
}

/* 170 elements fit a page; a call copies 64 pages at most and says so. */
static void test_load_continues(void)
{
	struct domain *ctl = make("lc-ctl", KEEL_CAP_CONTROL);
	uint32_t id = child(ctl, "lc-kid", 512);
	struct keel_memory_extent x = { .gfn = 0x200, .order = 9 };
	static struct keel_ctl_load_page e[170];
	uint8_t want[PAGE_SIZE], got[PAGE_SIZE];
	struct domain *kid;
	long done = 0, calls = 0;

	put(ctl, ARR_GPA, &x, sizeof(x));
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(ctl, id, ARR_GPA, 1), 1);
	fill_page(ctl, SRC_GPA, 9);
	get(ctl, SRC_GPA, want, sizeof(want));
	for (unsigned int i = 0; i < 170; i++) {
		e[i] = (struct keel_ctl_load_page){ .src_gfn = SRC_GPA >> PAGE_SHIFT,
						     .dst_gfn = 0x200 + i, .status = 1 };
	}
	put(ctl, ARR_GPA, e, sizeof(e));
	while (done < 170) {
		long n = ctl_hc_domain_load(ctl, id, ARR_GPA + done * sizeof(e[0]), 170 - done);

		CU_ASSERT_FATAL(n >= 1 && n <= 64);
		done += n;
		calls++;
	}
	CU_ASSERT_EQUAL(calls, 3);
	get(ctl, ARR_GPA, e, sizeof(e));
	kid = domain_get(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	for (unsigned int i = 0; i < 170; i++) {
		CU_ASSERT_EQUAL(e[i].status, 0);
	}
	get(kid, (0x200 + 169ull) << PAGE_SHIFT, got, sizeof(got));
	CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
	domain_put(kid);
	destroy_id(ctl, id);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- VCPU_SET_CONTEXT / _GET_CONTEXT -------------------------------------------- */

static struct keel_x86_vcpu_context sample_context(uint64_t rip)
{
	struct keel_x86_vcpu_context c;

	memset(&c, 0, sizeof(c));
	c.rip = rip;
	c.rsp = 0x8000;
	c.rdi = 0x1234;
	c.r15 = 0xfeedull << 32;
	c.rflags = 0x202;
	c.cr0 = 0x80050033;
	c.cr3 = 0x5000;
	c.cr4 = 0x20;
	c.efer = 0xd00;
	c.cs = (struct keel_x86_segment){ 0x08, 0xa9b, 0xffffffff, 0 };
	c.ss = (struct keel_x86_segment){ 0x10, 0xc93, 0xffffffff, 0 };
	c.gdtr = (struct keel_x86_dtable){ 0x6000, 23, 0 };
	c.kernel_gs_base = 0xffff800000000000ull;
	return c;
}

static struct keel_x86_vcpu_context get_context(struct domain *caller, uint32_t id,
						uint32_t vcpu)
{
	struct keel_x86_vcpu_context c;

	memset(&c, 0x5a, sizeof(c));
	put(caller, CTL_GPA, &c, sizeof(c));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(caller, id, vcpu, CTL_GPA), 0);
	get(caller, CTL_GPA, &c, sizeof(c));
	return c;
}

static void test_context_round_trip(void)
{
	struct domain *mgr = make("rt-mgr", KEEL_CAP_CREATE);
	uint32_t id = child(mgr, "rt-kid", 64);
	struct keel_x86_vcpu_context c0 = sample_context(0x100000), c1 = sample_context(0x200000);
	struct keel_x86_vcpu_context got;
	struct domain *kid = domain_get(id);

	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	/* vCPU 0: online from creation, stays online (paused with its domain). */
	put(mgr, CTL_GPA, &c0, sizeof(c0));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, CTL_GPA), 0);
	CU_ASSERT_TRUE(vcpu_is_online(kid->vcpus[0]));
	CU_ASSERT_EQUAL(sched_entity_state(&kid->vcpus[0]->sched), SCHED_PAUSED);
	got = get_context(mgr, id, 0);
	CU_ASSERT_EQUAL(memcmp(&got, &c0, sizeof(got)), 0);
	/* vCPU 1: SET brings it online. */
	CU_ASSERT_FALSE(vcpu_is_online(kid->vcpus[1]));
	put(mgr, CTL_GPA, &c1, sizeof(c1));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 1, CTL_GPA), 0);
	CU_ASSERT_TRUE(vcpu_is_online(kid->vcpus[1]));
	CU_ASSERT_EQUAL(sched_entity_state(&kid->vcpus[1]->sched), SCHED_PAUSED);
	got = get_context(mgr, id, 1);
	CU_ASSERT_EQUAL(memcmp(&got, &c1, sizeof(got)), 0);
	got = get_context(mgr, id, 0);				/* each its own */
	CU_ASSERT_EQUAL(got.rip, 0x100000);

	/* Running: both refuse; its vCPUs are runnable now. */
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(mgr, id), 0);
	CU_ASSERT_EQUAL(sched_entity_state(&kid->vcpus[1]->sched), SCHED_RUNNABLE);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, CTL_GPA), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, id, 0, CTL_GPA), -KEEL_EBUSY);
	/* What the guest did while it ran is what GET sees once paused. */
	((struct keel_x86_vcpu_context *)kid->vcpus[0]->arch)->rip = 0x100042;
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(mgr, id), 0);
	got = get_context(mgr, id, 0);
	CU_ASSERT_EQUAL(got.rip, 0x100042);
	CU_ASSERT_EQUAL(got.rdi, 0x1234);

	/* Shut down: GET works for a crash report, SET too. */
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(mgr, id, KEEL_SHUTDOWN_CRASH,
					       KEEL_CTL_SHUTDOWN_F_FORCE), 0);
	got = get_context(mgr, id, 1);
	CU_ASSERT_EQUAL(got.rip, 0x200000);
	put(mgr, CTL_GPA, &c0, sizeof(c0));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 1, CTL_GPA), 0);
	domain_put(kid);
	destroy_id(mgr, id);
	finish(mgr);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_context_errors(void)
{
	struct domain *mgr = make("ctx-mgr", KEEL_CAP_CREATE);
	struct domain *other = make("ctx-other", KEEL_CAP_CREATE);
	struct domain *none = make("ctx-none", 0);
	uint32_t id = child(mgr, "ctx-kid", 64);
	struct keel_x86_vcpu_context c = sample_context(0x100000), bad, got;
	struct domain *kid = domain_get(id);

	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	put(mgr, CTL_GPA, &c, sizeof(c));
	/* Step 4: not self, the vCPU in range; before any right. */
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(none, KEEL_DOMID_SELF, 0, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, mgr->domid, 0, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, KEEL_DOMID_SELF, 0, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(none, none->domid, 0, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(none, id, DOMAIN_MAX_VCPUS, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(none, id, DOMAIN_MAX_VCPUS, CTL_GPA), -KEEL_EINVAL);
	/* Steps 5 and 6. */
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(none, id, 0, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(none, id, 0, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(other, id, 0, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(other, id, 0, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, UNKNOWN, 0, CTL_GPA), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, UNKNOWN, 0, CTL_GPA), -KEEL_ESRCH);
	/* The vCPU against this domain's count (2). */
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 2, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, id, 2, CTL_GPA), -KEEL_EINVAL);
	/* Step 7: the struct's place. */
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 1, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 1, CTL_GPA + PAGE_SIZE - 64), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 1, NO_RAM_GPA), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, id, 1, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, id, 1, NO_RAM_GPA), -KEEL_EFAULT);
	CU_ASSERT_FALSE(vcpu_is_online(kid->vcpus[1]));		/* nothing changed */
	/* Step 8: rejected contexts change nothing either. */
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, CTL_GPA), 0);
	bad = sample_context(0x300000);
	bad.reserved[4] = 1;
	put(mgr, CTL_GPA, &bad, sizeof(bad));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 1, CTL_GPA), -KEEL_EINVAL);
	bad = sample_context(0x300000);
	bad.rflags = 0x200;					/* bit 1 clear */
	put(mgr, CTL_GPA, &bad, sizeof(bad));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, CTL_GPA), -KEEL_EINVAL);
	CU_ASSERT_TRUE(vcpu_is_online(kid->vcpus[0]));		/* back as it was */
	CU_ASSERT_EQUAL(sched_entity_state(&kid->vcpus[0]->sched), SCHED_PAUSED);
	CU_ASSERT_FALSE(vcpu_is_online(kid->vcpus[1]));
	got = get_context(mgr, id, 0);
	CU_ASSERT_EQUAL(memcmp(&got, &c, sizeof(got)), 0);
	/* Step 9: the state is checked before the struct. */
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(mgr, id), 0);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, NO_RAM_GPA), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, id, 1, NO_RAM_GPA), -KEEL_EBUSY);
	/* Dying: gone for these calls. */
	CU_ASSERT_EQUAL(domain_destroy(kid), 0);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_get_context(mgr, id, 0, CTL_GPA), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(mgr, id, 0, CTL_GPA), -KEEL_ESRCH);
	domain_put(kid);
	finish(mgr);
	finish(other);
	finish(none);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- the whole recipe ------------------------------------------------------------ */

/* Create, populate, load, set the context, run, destroy: every page comes back. */
static void test_build_and_destroy(void)
{
	struct domain *ctl = make("bd-ctl", KEEL_CAP_CONTROL | KEEL_CAP_CREATE);
	uint64_t free_pages = page_alloc_free_count();
	struct keel_x86_vcpu_context c = sample_context(0x100000);
	struct keel_memory_extent x[2] = {
		{ .gfn = 0, .order = 9 }, { .gfn = 0x200, .order = 9 },
	};
	struct keel_ctl_load_page e = { .src_gfn = SRC_GPA >> PAGE_SHIFT, .dst_gfn = 0x100 };
	struct keel_ctl_domain_create req = request("bd-kid");
	struct keel_ctl_domain_info info;
	uint32_t id = 0;

	req.flags = KEEL_DOMCREATE_F_ACPI;
	req.max_pages = 1024;
	CU_ASSERT_EQUAL_FATAL(create(ctl, &req, &id), 0);
	CU_ASSERT_TRUE(page_alloc_free_count() < free_pages);	/* its parts */
	put(ctl, ARR_GPA, x, sizeof(x));
	CU_ASSERT_EQUAL(ctl_hc_domain_populate(ctl, id, ARR_GPA, 2), 2);
	fill_page(ctl, SRC_GPA, 1);
	put(ctl, ARR_GPA, &e, sizeof(e));
	CU_ASSERT_EQUAL(ctl_hc_domain_load(ctl, id, ARR_GPA, 1), 1);
	put(ctl, CTL_GPA, &c, sizeof(c));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_context(ctl, id, 0, CTL_GPA), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, id), 0);
	memset(&info, 0, sizeof(info));
	info.domid = id;
	put(ctl, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(ctl, CTL_GPA), 0);
	get(ctl, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.flags & (KEEL_DOMINFO_F_PAUSED | KEEL_DOMINFO_F_SHUTDOWN), 0);
	CU_ASSERT_EQUAL(info.current_pages, 1024);
	CU_ASSERT_EQUAL(info.parent_domid, ctl->domid);
	destroy_id(ctl, id);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_pages);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "create", test_create },
	{ "create errors leave nothing behind", test_create_errors },
	{ "populate", test_populate },
	{ "populate continues", test_populate_continues },
	{ "load", test_load },
	{ "load continues", test_load_continues },
	{ "context round trip, live state", test_context_round_trip },
	{ "context errors", test_context_errors },
	{ "build, run, destroy: every page back", test_build_and_destroy },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo control_build_suite = {
	.pName = "control_build",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
