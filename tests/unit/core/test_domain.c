/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_domain.c - unit tests for core/domain.c and
 * core/guest_memory.c: ids, names, lifecycle, references, the p2m and
 * guest copies, and that every page comes back.
 *
 * The domain table lives for the whole test process, so every test
 * destroys what it created and checks the free-page count is back.
 */
#include <keel/domain.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <public/keel/errno.h>
#include "fake_arch.h"
#include "unit.h"

#define MIB_PAGES(m)	((uint64_t)(m) << (20 - PAGE_SHIFT))


static void setup(void)
{
	unit_reset_counted();
}

/* --- domains --------------------------------------------------------------- */

static void test_create_and_destroy(void)
{
	struct domain *d = unit_domain("alpha", 3, MIB_PAGES(4));
	struct domain *again;

	CU_ASSERT(d->domid >= 1);
	CU_ASSERT_STRING_EQUAL(d->name, "alpha");
	CU_ASSERT_EQUAL(d->state, DOMAIN_PAUSED);
	CU_ASSERT_EQUAL(d->vcpu_count, 3);
	for (uint32_t i = 0; i < 3; i++) {
		CU_ASSERT_PTR_EQUAL(d->vcpus[i]->domain, d);
		CU_ASSERT_EQUAL(d->vcpus[i]->id, i);
	}
	CU_ASSERT_EQUAL(fake.arch_vcpus, 3);
	CU_ASSERT_EQUAL(domain_count(), 1);

	again = domain_get(d->domid);
	CU_ASSERT_PTR_EQUAL(again, d);
	domain_put(again);
	CU_ASSERT_PTR_NULL(domain_get(d->domid + 1));
	CU_ASSERT_PTR_NULL(domain_get(0));

	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	CU_ASSERT_PTR_NULL(domain_get(d->domid));	/* gone from the table at once */
	CU_ASSERT_EQUAL(domain_destroy(d), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(fake.arch_domains, 1);		/* the caller still holds it */
	domain_put(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_bad_parameters(void)
{
	static const char *const bad_names[] = {
		"", "has space", "tab\tname", "0123456789012345678901234567890123456789",
	};
	struct domain_params p = { .name = "ok", .vcpu_count = 1, .max_pages = 1 };
	struct domain *d = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		p.name = bad_names[i];
		CU_ASSERT_EQUAL(domain_create(&p, &d), -KEEL_EINVAL);
	}
	p.name = NULL;
	CU_ASSERT_EQUAL(domain_create(&p, &d), -KEEL_EINVAL);
	p.name = "ok";
	p.vcpu_count = 0;
	CU_ASSERT_EQUAL(domain_create(&p, &d), -KEEL_EINVAL);
	p.vcpu_count = DOMAIN_MAX_VCPUS + 1;
	CU_ASSERT_EQUAL(domain_create(&p, &d), -KEEL_EINVAL);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_names_unique_ids_never_reused(void)
{
	struct domain *a = unit_domain("same", 1, 1), *b;
	struct domain_params p = { .name = "same", .vcpu_count = 1, .max_pages = 1 };
	uint32_t first = a->domid;

	CU_ASSERT_EQUAL(domain_create(&p, &b), -KEEL_EEXIST);
	unit_domain_end(a);
	b = unit_domain("same", 1, 1);		/* the name is free again */
	CU_ASSERT(b->domid > first);	/* the id is not */
	unit_domain_end(b);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_table_full(void)
{
	static struct domain *all[DOMAIN_SLOTS];
	struct domain_params p = { .vcpu_count = 1, .max_pages = 1 };
	char name[16];
	struct domain *extra;

	for (unsigned int i = 0; i < DOMAIN_SLOTS; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		all[i] = unit_domain(name, 1, 1);
	}
	p.name = "one-too-many";
	CU_ASSERT_EQUAL(domain_create(&p, &extra), -KEEL_ENOSPC);
	/* Ids stay findable in O(1) whatever their slot. */
	for (unsigned int i = 0; i < DOMAIN_SLOTS; i += 37) {
		struct domain *d = domain_get(all[i]->domid);

		CU_ASSERT_PTR_EQUAL(d, all[i]);
		domain_put(d);
	}
	for (unsigned int i = 0; i < DOMAIN_SLOTS; i++) {
		unit_domain_end(all[i]);
	}
	UNIT_CHECK_ALL_RETURNED();
}

static void test_arch_failures_leave_nothing(void)
{
	struct domain_params p = { .name = "fails", .vcpu_count = 4, .max_pages = 1 };
	struct domain *d = NULL;

	fake.domain_create_fails = true;
	CU_ASSERT_EQUAL(domain_create(&p, &d), -KEEL_ENOMEM);
	fake.domain_create_fails = false;
	fake.vcpu_create_fail_after = 2;	/* the third vCPU fails */
	CU_ASSERT_EQUAL(domain_create(&p, &d), -KEEL_ENOMEM);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_lifecycle(void)
{
	struct domain *d = unit_domain("life", 1, 1);

	CU_ASSERT_EQUAL(domain_pause(d), -KEEL_EBUSY);		/* already paused */
	CU_ASSERT_EQUAL(domain_shutdown(d, 1), -KEEL_EBUSY);	/* not running */
	CU_ASSERT_EQUAL(domain_unpause(d), 0);
	CU_ASSERT_EQUAL(d->state, DOMAIN_RUNNING);
	CU_ASSERT_EQUAL(domain_unpause(d), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(domain_pause(d), 0);
	CU_ASSERT_EQUAL(domain_unpause(d), 0);
	CU_ASSERT_EQUAL(domain_shutdown(d, 2), 0);
	CU_ASSERT_EQUAL(d->state, DOMAIN_SHUTDOWN);
	CU_ASSERT_EQUAL(d->shutdown_reason, 2);
	CU_ASSERT_EQUAL(domain_unpause(d), -KEEL_EBUSY);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_list(void)
{
	struct domain *d[5];
	uint32_t ids[8];
	char name[16];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		d[i] = unit_domain(name, 1, 1);
	}
	CU_ASSERT_EQUAL(domain_list(ids, 8), 5);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(ids[i], d[i]->domid);
	}
	CU_ASSERT_EQUAL(domain_list(ids, 2), 2);
	CU_ASSERT_EQUAL(ids[0], d[0]->domid);
	CU_ASSERT_EQUAL(ids[1], d[1]->domid);
	for (int i = 0; i < 5; i++) {
		unit_domain_end(d[i]);
	}
	UNIT_CHECK_ALL_RETURNED();
}

/* --- guest memory ------------------------------------------------------------ */

static void test_populate_large_and_small(void)
{
	struct domain *d = unit_domain("mem", 1, MIB_PAGES(16));
	paddr_t pa, pa2;
	uint32_t rights;

	/* 4 MiB + 12 KiB at GFN 0: two 2 MiB chunks and three 4 KiB pages. */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 0, 1024 + 3), 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, 1027);
	CU_ASSERT_EQUAL(fake.p2m_pages, 1027);
	CU_ASSERT_EQUAL(fake.p2m_large_sets, 2);
	CU_ASSERT_TRUE(guest_memory_translate(d, 5, &pa, &rights));
	CU_ASSERT_TRUE(guest_memory_translate(d, 4, &pa2, &rights));
	CU_ASSERT_EQUAL(pa, pa2 + PAGE_SIZE);	/* inside one large chunk */
	CU_ASSERT_EQUAL(rights, GUEST_RWX);
	CU_ASSERT_TRUE(guest_memory_translate(d, 1026, &pa, &rights));
	CU_ASSERT_FALSE(guest_memory_translate(d, 1027, &pa, &rights));
	CU_ASSERT_FALSE(guest_memory_translate(d, GUEST_GFN_LIMIT, &pa, &rights));

	/* Unaligned start: 4 KiB pages up to GFN 2048, then one 2 MiB chunk. */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 2000, 600), 0);
	CU_ASSERT_EQUAL(fake.p2m_large_sets, 3);
	CU_ASSERT_EQUAL(fake.p2m_pages, 1027 + 600);
	/* A short unaligned range: 4 KiB pages only. */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 3000, 100), 0);
	CU_ASSERT_EQUAL(fake.p2m_large_sets, 3);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_populate_errors(void)
{
	struct domain *d = unit_domain("memerr", 1, 100);

	CU_ASSERT_EQUAL(guest_memory_populate(d, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(guest_memory_populate(d, GUEST_GFN_LIMIT, 1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(guest_memory_populate(d, GUEST_GFN_LIMIT - 1, 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(guest_memory_populate(d, UINT64_MAX, 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(guest_memory_populate(d, 0, 101), -KEEL_ENOMEM);	/* over the limit */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 10, 50), 0);
	CU_ASSERT_EQUAL(guest_memory_populate(d, 59, 2), -KEEL_EBUSY);	/* overlaps */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 100, 51), -KEEL_ENOMEM);	/* 50 left */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 100, 50), 0);
	CU_ASSERT_EQUAL(d->mem.ram_pages, 100);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_populate_rolls_back(void)
{
	struct domain *d = unit_domain("rollback", 1, MIB_PAGES(16));
	uint64_t before = page_alloc_free_count();

	fake.p2m_set_fail_after = 5;	/* the 6th mirror fails */
	CU_ASSERT_EQUAL(guest_memory_populate(d, 0, 1024 + 20), -KEEL_ENOMEM);
	CU_ASSERT_EQUAL(d->mem.ram_pages, 0);
	CU_ASSERT_EQUAL(fake.p2m_pages, 0);
	/* Only tree tables may remain allocated; no RAM. */
	CU_ASSERT_EQUAL(page_alloc_free_count(), before - d->mem.table_pages);
	fake.p2m_set_fail_after = -1;
	CU_ASSERT_EQUAL(guest_memory_populate(d, 0, 1024 + 20), 0);
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_copies(void)
{
	struct domain *d = unit_domain("copy", 1, 64);
	uint8_t out[3 * 4096], in[3 * 4096];

	CU_ASSERT_EQUAL(guest_memory_populate(d, 1, 3), 0);	/* GPA 0x1000-0x3fff */
	for (size_t i = 0; i < sizeof(out); i++) {
		out[i] = (uint8_t)(i * 13);
	}
	/* Across page boundaries. */
	CU_ASSERT_EQUAL(guest_copy_to(d, 0x1800, out, 8000), 0);
	memset(in, 0, sizeof(in));
	CU_ASSERT_EQUAL(guest_copy_from(d, 0x1800, in, 8000), 0);
	CU_ASSERT_EQUAL(memcmp(in, out, 8000), 0);
	/* Pages come zeroed. */
	CU_ASSERT_EQUAL(guest_copy_from(d, 0x1000, in, 16), 0);
	for (int i = 0; i < 16; i++) {
		CU_ASSERT_EQUAL(in[i], 0);
	}
	/* Any unmapped byte fails the whole copy, and nothing is written. */
	memset(in, 0xee, sizeof(in));
	CU_ASSERT_EQUAL(guest_copy_from(d, 0x3ff8, in, 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(in[0], 0xee);
	CU_ASSERT_EQUAL(guest_copy_to(d, 0x0ff8, out, 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(guest_copy_from(d, 0x1000, in, 8), 0);
	CU_ASSERT_EQUAL(in[0], 0);				/* untouched */
	CU_ASSERT_EQUAL(guest_copy_from(d, UINT64_MAX - 4, in, 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(guest_copy_from(d, GUEST_GFN_LIMIT << PAGE_SHIFT, in, 1), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(guest_copy_from(d, 0x5000, in, 0), 0);	/* empty is fine */
	unit_domain_end(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* A reference keeps memory alive after destroy; the last put frees it. */
static void test_reference_outlives_destroy(void)
{
	struct domain *d = unit_domain("held", 2, 1024);
	struct domain *ref = domain_get(d->domid);
	uint8_t b = 0x5a;

	CU_ASSERT_EQUAL(guest_memory_populate(d, 0, 1024), 0);
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
	CU_ASSERT_EQUAL(guest_copy_to(ref, 0x100, &b, 1), 0);	/* still valid */
	CU_ASSERT(page_alloc_free_count() < unit_free_at_start);
	domain_put(ref);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "create and destroy", test_create_and_destroy },
	{ "bad parameters", test_bad_parameters },
	{ "names unique, ids never reused", test_names_unique_ids_never_reused },
	{ "table full", test_table_full },
	{ "arch failures leave nothing", test_arch_failures_leave_nothing },
	{ "lifecycle", test_lifecycle },
	{ "list", test_list },
	{ "populate with large and small pages", test_populate_large_and_small },
	{ "populate errors", test_populate_errors },
	{ "populate rolls back", test_populate_rolls_back },
	{ "copies", test_copies },
	{ "a reference outlives destroy", test_reference_outlives_destroy },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo domain_suite = {
	.pName = "domain",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
