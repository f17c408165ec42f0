/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_grants.c - grants given and taken: the
 * reference allocator to exhaustion (growing the table on the way), the
 * cooperative end that says no while the page is mapped, the forced revoke
 * after which the mapper sees its scratch page, read-only grants, refused
 * maps, and batched grant copies.
 */
#include <keel/hypercall.h>
#include "common.h"
#include "suites.h"

#define GRANT_LIMIT	(32 * 256 - 1)	/* Keel's default 32 frames, less reference 0 */

static struct hdom *a, *b;
static struct kpv *ka, *kb;

static void setup(void)
{
	harness_begin();
	a = harness_domain("granter", 1);
	b = harness_domain("grantee", 1);
	ka = t_start(a);
	kb = t_start(b);
}

static void teardown(void)
{
	t_stop(a, ka);
	t_stop(b, kb);
	t_assert_clean(a, 0);
	t_assert_clean(b, 0);
	harness_end();
}

static uint32_t frames(struct hdom *d)
{
	uint64_t gpa;
	struct keel_gnttab_query *q = harness_scratch(d, &gpa);

	CU_ASSERT_EQUAL(harness_hypercall(d, KEEL_HC_GNTTAB_QUERY, gpa, 0, 0, 0, 0), 0);
	return q->nr_frames;
}

static void test_exhaust_and_grow(void)
{
	static uint32_t refs[GRANT_LIMIT];
	static uint8_t seen[KEEL_GRANT_ENTRIES_PER_FRAME * 64];
	uint32_t n = 0, ref;
	void *page;
	int rc;

	memset(seen, 0, sizeof(seen));
	harness_use(a);
	page = kpv_shim_page_alloc();
	CU_ASSERT_EQUAL(frames(a), 1);
	while ((rc = kpv_grant(ka, harness_domid(b), page, true, &ref)) == 0 && n < GRANT_LIMIT + 1) {
		CU_ASSERT(ref != 0 && ref < sizeof(seen) && !seen[ref]);
		seen[ref < sizeof(seen) ? ref : 0] = 1;
		refs[n < GRANT_LIMIT ? n : 0] = ref;
		n++;
	}
	CU_ASSERT_EQUAL(rc, -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(n, GRANT_LIMIT);
	CU_ASSERT_EQUAL(frames(a), 32);
	CU_ASSERT_EQUAL(harness_grants_permitted(a), GRANT_LIMIT);
	/* Nobody maps them: each ends at once, and is given again. */
	for (uint32_t i = 0; i < GRANT_LIMIT; i++) {
		CU_ASSERT(kpv_grant_end(ka, refs[i]));
	}
	CU_ASSERT_EQUAL(harness_grants_permitted(a), 0);
	CU_ASSERT_EQUAL(kpv_grant(ka, harness_domid(b), page, false, &ref), 0);
	CU_ASSERT(kpv_grant_end(ka, ref));
	kpv_shim_page_free(page);
}

static void test_end_while_mapped(void)
{
	struct kpv_mapping m;
	uint32_t ref;
	uint8_t *page;

	harness_use(a);
	page = kpv_shim_page_alloc();
	page[100] = 0x5a;
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), page, false, &ref), 0);
	harness_use(b);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(kb, harness_domid(a), ref, false, &m), 0);
	CU_ASSERT_EQUAL(((uint8_t *)m.va)[100], 0x5a);
	harness_use(a);
	CU_ASSERT_FALSE(kpv_grant_end(ka, ref));	/* still mapped: not ours yet */
	CU_ASSERT_FALSE(kpv_grant_end(ka, ref));	/* asking again is fine */
	CU_ASSERT_EQUAL(harness_grants_permitted(a), 0);	/* no new mapping can start */
	harness_use(b);
	kpv_unmap_grant(kb, &m);
	harness_use(a);
	CU_ASSERT_TRUE(kpv_grant_end(ka, ref));
	CU_ASSERT_EQUAL(harness_grants_busy(a), 0);
	kpv_shim_page_free(page);
}

static void test_forced_revoke(void)
{
	struct kpv_mapping m;
	uint8_t *page, *view;
	uint32_t ref;

	harness_use(a);
	page = kpv_shim_page_alloc();
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), page, false, &ref), 0);
	harness_use(b);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(kb, harness_domid(a), ref, false, &m), 0);
	((uint8_t *)m.va)[0] = 0xaa;
	CU_ASSERT_EQUAL(page[0], 0xaa);		/* one page, shared */
	harness_use(a);
	kpv_grant_revoke(ka, ref);
	CU_ASSERT_EQUAL(harness_grants_busy(a), 0);
	CU_ASSERT_EQUAL(harness_grants_permitted(a), 0);
	/* b's mapping now shows its scratch page: writes there do not reach a. */
	view = harness_gfn_view(b, m.gfn);
	CU_ASSERT_PTR_NOT_NULL_FATAL(view);
	CU_ASSERT(view != page);
	view[0] = 0x55;
	CU_ASSERT_EQUAL(page[0], 0xaa);
	/* Its handle still unmaps cleanly; the reference is free again. */
	harness_use(b);
	kpv_unmap_grant(kb, &m);
	CU_ASSERT_FALSE(harness_log_has(b, "failed"));
	CU_ASSERT_EQUAL(harness_foreign_maps(b), 0);
	harness_use(a);
	CU_ASSERT_EQUAL(kpv_grant(ka, harness_domid(b), page, false, &ref), 0);
	CU_ASSERT(kpv_grant_end(ka, ref));
	kpv_shim_page_free(page);
}

static void test_read_only_and_refused_maps(void)
{
	struct kpv_mapping m;
	uint32_t ref;
	void *page;

	harness_use(a);
	page = kpv_shim_page_alloc();
	CU_ASSERT_EQUAL(kpv_grant(ka, harness_domid(b), (uint8_t *)page + 8, false, &ref),
			-KEEL_EINVAL);	/* not a page */
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), page, true, &ref), 0);
	harness_use(b);
	CU_ASSERT_EQUAL(kpv_map_grant(kb, harness_domid(a), ref, false, &m), -KEEL_EACCES);
	CU_ASSERT_EQUAL(kpv_map_grant(kb, harness_domid(a), ref + 1, true, &m), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(kpv_map_grant(kb, 0x7fff0000u, ref, true, &m), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(harness_foreign_maps(b), 0);
	CU_ASSERT_EQUAL_FATAL(kpv_map_grant(kb, harness_domid(a), ref, true, &m), 0);
	kpv_unmap_grant(kb, &m);
	harness_use(a);
	CU_ASSERT(kpv_grant_end(ka, ref));
	/* Ending what was not given is logged and harmless. */
	CU_ASSERT(kpv_grant_end(ka, ref));
	CU_ASSERT(kpv_grant_end(ka, 0xfffffff0u));
	kpv_grant_revoke(ka, 12345);
	CU_ASSERT(harness_log_has(a, "not given"));
	kpv_shim_page_free(page);
}

#define COPIES	200		/* more than one batch (85 per page) */
#define BAD	150

static void test_grant_copy_batches(void)
{
	static struct kpv_copy ops[COPIES];
	uint8_t *src, *dst, *mine;
	uint32_t src_ref, dst_ref;

	harness_use(a);
	src = kpv_shim_page_alloc();
	dst = kpv_shim_page_alloc();
	for (int i = 0; i < 4096; i++) {
		src[i] = (uint8_t)(i * 7);
	}
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), src, true, &src_ref), 0);
	CU_ASSERT_EQUAL_FATAL(kpv_grant(ka, harness_domid(b), dst, false, &dst_ref), 0);
	harness_use(b);
	mine = kpv_shim_page_alloc();
	/* Even ops: 16 bytes of a's src into b's page; odd: b's page into a's dst. */
	for (int i = 0; i < COPIES; i++) {
		uint16_t off = (uint16_t)(i / 2 * 16);

		if (i % 2 == 0) {
			ops[i] = (struct kpv_copy){ .src_domid = harness_domid(a), .src_ref = src_ref,
						    .src_offset = off, .dst_domid = KEEL_DOMID_SELF,
						    .dst_va = mine, .dst_offset = off, .len = 16 };
		} else {
			ops[i] = (struct kpv_copy){ .src_domid = KEEL_DOMID_SELF, .src_va = mine,
						    .src_offset = off, .dst_domid = harness_domid(a),
						    .dst_ref = dst_ref, .dst_offset = off, .len = 16 };
		}
	}
	ops[BAD].src_ref = src_ref + 100;	/* not granted */
	CU_ASSERT_EQUAL(kpv_grant_copy(kb, ops, COPIES), -KEEL_ENOENT);
	for (int i = 0; i < COPIES; i++) {
		CU_ASSERT_EQUAL(ops[i].status, i == BAD ? -KEEL_ENOENT : 0);
	}
	/* Every even op's bytes arrived, and each odd op carried them on to a. */
	for (int i = 0; i < COPIES; i += 2) {
		if (i != BAD) {
			CU_ASSERT_EQUAL(memcmp(mine + i / 2 * 16, src + i / 2 * 16, 16), 0);
			CU_ASSERT_EQUAL(memcmp(dst + i / 2 * 16, src + i / 2 * 16, 16), 0);
		}
	}
	CU_ASSERT_EQUAL(kpv_grant_copy(kb, ops, 0), 0);
	kpv_shim_page_free(mine);
	harness_use(a);
	CU_ASSERT(kpv_grant_end(ka, src_ref));
	CU_ASSERT(kpv_grant_end(ka, dst_ref));
	kpv_shim_page_free(src);
	kpv_shim_page_free(dst);
}

static CU_TestInfo tests[] = {
	{ "references run out cleanly, the table growing", test_exhaust_and_grow },
	{ "ending a mapped grant says no until it is unmapped", test_end_while_mapped },
	{ "a forced revoke leaves the mapper its scratch page", test_forced_revoke },
	{ "read-only grants and refused maps", test_read_only_and_refused_maps },
	{ "grant copies in several batches, one failing", test_grant_copy_batches },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo grants_suite = { "grants", NULL, NULL, setup, teardown, tests };
