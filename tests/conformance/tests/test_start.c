/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_start.c - kpv_start() and kpv_stop(): what
 * they leave behind (nothing but the vCPUs' keel_vcpu_info), refusing an
 * incompatible ABI, failing cleanly wherever Keel says no, starting again
 * after a stop or a crash.
 */
#include <keel/hypercall.h>
#include "common.h"
#include "suites.h"

static void setup(void)
{
	harness_begin();
}

static void teardown(void)
{
	harness_end();
}

static void start_stop(uint32_t vcpus)
{
	struct hdom *d = harness_domain("guest", vcpus);
	struct kpv *k = t_start(d);

	CU_ASSERT_EQUAL(kpv_domid(k), harness_domid(d));
	CU_ASSERT_EQUAL(kpv_nr_vcpus(k), vcpus);
	t_stop(d, k);
	t_assert_clean(d, 0);
}

static void test_start_stop_one_vcpu(void)
{
	start_stop(1);
}

static void test_start_stop_many_vcpus(void)
{
	start_stop(4);
}

static void test_restart(void)
{
	struct hdom *d = harness_domain("guest", 2);
	struct kpv *k = t_start(d);
	struct harness_usage u;

	t_stop(d, k);
	/* The shared info and grant frames are where the last instance left them. */
	k = t_start(d);
	t_stop(d, k);
	harness_usage(d, &u);
	CU_ASSERT_EQUAL(u.allocs, 2 * 2);	/* each start's vcpu_infos */
	CU_ASSERT_EQUAL(u.pages + u.locks + u.works + u.timers + u.maps, 0);
	CU_ASSERT_EQUAL(harness_grants_permitted(d) + harness_ports_in_use(d), 0);
}

/* --- refusals and failures ------------------------------------------------------------ */

struct fault {
	uint64_t nr;			/* answer this call ... */
	long ret;			/* ... with this */
	unsigned int nth;		/* fail the nth hypercall (1-based); 0: by number */
	unsigned int calls;
};

static bool fault_hook(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5], long *ret)
{
	struct fault *f = ctx;

	(void)d;
	(void)args;
	f->calls++;
	if ((f->nth && f->calls == f->nth) || (!f->nth && nr == f->nr)) {
		*ret = f->ret;
		return true;
	}
	return false;
}

/* A start that failed left no page, lock, work, timer, mapping, grant or handler. */
static void assert_failed_cleanly(struct hdom *d)
{
	struct harness_usage u;

	harness_usage(d, &u);
	CU_ASSERT_EQUAL(u.pages, 0);
	CU_ASSERT_EQUAL(u.locks, 0);
	CU_ASSERT_EQUAL(u.works, 0);
	CU_ASSERT_EQUAL(u.timers, 0);
	CU_ASSERT_EQUAL(u.maps, 0);
	CU_ASSERT_EQUAL(harness_grants_permitted(d), 0);
	CU_ASSERT_EQUAL(harness_ports_in_use(d), 0);
}

static void test_wrong_abi_refused(void)
{
	struct hdom *d = harness_domain("guest", 1);
	struct kpv_os os = { .os_id = KEEL_OS_REFERENCE, .abi_major = KEEL_ABI_MAJOR + 1 };
	struct fault f = { .nr = KEEL_HC_VERSION, .ret = (long)(KEEL_ABI_MAJOR + 1) << 16 };
	struct kpv *k = (struct kpv *)1;
	struct harness_usage u;

	harness_use(d);
	CU_ASSERT_EQUAL(kpv_start(&os, &k), -KEEL_EVERSION);	/* the port's own ABI */
	CU_ASSERT_PTR_NULL(k);
	os.abi_major = KEEL_ABI_MAJOR;
	os.abi_minor = KEEL_ABI_MINOR + 1;
	CU_ASSERT_EQUAL(kpv_start(&os, &k), -KEEL_EVERSION);
	os.abi_minor = KEEL_ABI_MINOR;
	harness_set_hook(d, fault_hook, &f);			/* Keel of another major */
	CU_ASSERT_EQUAL(kpv_start(&os, &k), -KEEL_EVERSION);
	harness_usage(d, &u);
	CU_ASSERT_EQUAL(u.allocs, 0);
	assert_failed_cleanly(d);
}

static void test_every_failure_is_clean(void)
{
	struct hdom *d = harness_domain("guest", 2);
	struct fault count = { .nr = ~0ull };
	unsigned int calls;
	struct kpv *k;

	/* How many hypercalls a start makes (once the grant table exists)... */
	k = t_start(d);
	t_stop(d, k);
	harness_set_hook(d, fault_hook, &count);
	k = t_start(d);
	calls = count.calls;
	t_stop(d, k);
	CU_ASSERT(calls >= 10);	/* version, identify, query, shared info, 2 vCPUs x 2, grants */
	/* ... then fail each in turn: an error, and nothing left. */
	for (unsigned int n = 1; n <= calls; n++) {
		struct fault f = { .nth = n, .ret = -KEEL_ENOMEM };
		int rc;

		harness_set_hook(d, fault_hook, &f);
		harness_use(d);
		rc = kpv_start(&(struct kpv_os){ .os_id = KEEL_OS_REFERENCE,
						 .abi_major = KEEL_ABI_MAJOR,
						 .abi_minor = KEEL_ABI_MINOR }, &k);
		if (rc == 0) {
			/* Only calls whose failure start tolerates (none today) may pass. */
			CU_FAIL("kpv_start succeeded although a hypercall failed");
			t_stop(d, k);
		}
		assert_failed_cleanly(d);
	}
	harness_set_hook(d, NULL, NULL);
	k = t_start(d);
	t_stop(d, k);
	assert_failed_cleanly(d);
}

static void test_upcall_mode_refused(void)
{
	struct hdom *d = harness_domain("guest", 2);
	struct kpv *k;

	/* The platform device's interrupt: this domain has no platform device. */
	harness_upcall_mode(d, KEEL_UPCALL_PLATFORM);
	harness_use(d);
	CU_ASSERT_EQUAL(kpv_start(&(struct kpv_os){ .os_id = KEEL_OS_REFERENCE,
						    .abi_major = KEEL_ABI_MAJOR,
						    .abi_minor = KEEL_ABI_MINOR }, &k),
			-KEEL_EOPNOTSUPP);
	assert_failed_cleanly(d);
}

/* A crashed instance's grants are revoked by the next start, mapped or not. */
static void test_grants_left_by_a_crash(void)
{
	struct hdom *a = harness_domain("crasher", 1), *b = harness_domain("mapper", 1);
	struct kpv *ka = t_start(a), *kb = t_start(b);
	struct kpv_mapping m;
	uint32_t mapped, idle;
	uint8_t *page;

	harness_use(a);
	page = kpv_shim_page_alloc();
	memset(page, 0x77, 4096);
	CU_ASSERT_EQUAL(kpv_grant(ka, harness_domid(b), page, false, &mapped), 0);
	CU_ASSERT_EQUAL(kpv_grant(ka, harness_domid(b), page, true, &idle), 0);
	harness_use(b);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(kb, harness_domid(a), mapped, false, &m), 0);
	CU_ASSERT_EQUAL(((uint8_t *)harness_gfn_view(b, m.gfn))[0], 0x77);
	CU_ASSERT_EQUAL(harness_grants_permitted(a), 2);

	harness_forget(a);
	ka = t_start(a);
	CU_ASSERT_EQUAL(harness_grants_permitted(a), 0);
	CU_ASSERT_EQUAL(harness_grants_busy(a), 0);
	CU_ASSERT(harness_gfn_view(b, m.gfn) != (void *)page);	/* b sees its scratch page */
	CU_ASSERT(harness_log_has(a, "revoked 2 grants"));
	harness_use(b);
	kpv_unmap_grant(kb, &m);
	t_stop(b, kb);
	t_stop(a, ka);
	t_assert_clean(b, 0);
}

static CU_TestInfo tests[] = {
	{ "start and stop leave nothing (1 vCPU)", test_start_stop_one_vcpu },
	{ "start and stop leave nothing (4 vCPUs)", test_start_stop_many_vcpus },
	{ "start again after stop", test_restart },
	{ "an incompatible ABI is refused", test_wrong_abi_refused },
	{ "every failing hypercall fails start cleanly", test_every_failure_is_clean },
	{ "an upcall mode Keel refuses fails start cleanly", test_upcall_mode_refused },
	{ "grants a crashed instance left are revoked", test_grants_left_by_a_crash },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo start_suite = { "start", NULL, NULL, setup, teardown, tests };
