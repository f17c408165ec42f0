/* SPDX-License-Identifier: MIT */
/* gnttab.c: the hcall-gnttab group: setup, query, the batched calls and their errors. */
#include "hcall.h"

#define NO_DOMAIN	0x7ffffff0u
#define UNTOUCHED	0x7777		/* a status value Keel never writes */
#define REF		5		/* the entry this group grants */

static uint8_t batch_area[2][KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;

struct batch_kind {
	const char *name;
	uint64_t nr;
	uint32_t size;		/* element size */
	uint32_t status;	/* offset of the int32_t status */
};

static const struct batch_kind kinds[] = {
	{ "GNTTAB_MAP", KEEL_HC_GNTTAB_MAP, sizeof(struct keel_gnttab_map),
	  offsetof(struct keel_gnttab_map, status) },
	{ "GNTTAB_UNMAP", KEEL_HC_GNTTAB_UNMAP, sizeof(struct keel_gnttab_unmap),
	  offsetof(struct keel_gnttab_unmap, status) },
	{ "GNTTAB_COPY", KEEL_HC_GNTTAB_COPY, sizeof(struct keel_gnttab_copy),
	  offsetof(struct keel_gnttab_copy, status) },
	{ "GNTTAB_REVOKE", KEEL_HC_GNTTAB_REVOKE, sizeof(struct keel_gnttab_revoke),
	  offsetof(struct keel_gnttab_revoke, status) },
};

static int32_t status_at(const struct batch_kind *k, const void *elems, uint32_t i)
{
	int32_t s;

	memcpy(&s, (const uint8_t *)elems + (size_t)i * k->size + k->status, sizeof(s));
	return s;
}

static void set_untouched(const struct batch_kind *k, void *elems, uint32_t count)
{
	int32_t s = UNTOUCHED;

	for (uint32_t i = 0; i < count; i++) {
		memcpy((uint8_t *)elems + (size_t)i * k->size + k->status, &s, sizeof(s));
	}
}

/*
 * Run a whole batch by the batching rules: each call returns 1 <= n <= rest,
 * leaves the elements after n untouched, and is repeated for the rest.
 * Returns the count processed, or the first negative return.
 */
static long run_batch(const struct batch_kind *k, void *elems, uint32_t count)
{
	uint32_t done = 0;

	set_untouched(k, elems, count);
	while (done < count) {
		uint8_t *at = (uint8_t *)elems + (size_t)done * k->size;
		long n = keel_hypercall2(k->nr, KT_GPA(at), count - done);

		if (n < 0) {
			return n;
		}
		if (n < 1 || n > count - done) {
			kt_check(false, "batch return in 1..count",
				 "%s returned %ld for %u elements",
				 k->name, n, count - done);
			return -KEEL_EINVAL;
		}
		for (uint32_t i = done + (uint32_t)n; i < count; i++) {
			if (status_at(k, elems, i) != UNTOUCHED) {
				kt_check(false, "elements after n untouched", "%s element %u",
					 k->name, i);
				return -KEEL_EINVAL;
			}
		}
		done += (uint32_t)n;
	}
	return done;
}

static void check_batch_errors(const struct batch_kind *k)
{
	uint64_t p0 = KT_GPA(batch_area[0]);
	uint32_t fit = KEEL_PAGE_SIZE / k->size;
	int touched = -1;
	char what[80];

	memset(batch_area, 0, sizeof(batch_area));
	kt_snprintf(what, sizeof(what), "%s count 0", k->name);
	kt_check_rc(what, keel_hypercall2(k->nr, p0, 0), -KEEL_EINVAL);
	kt_snprintf(what, sizeof(what), "%s array not 8-byte aligned", k->name);
	kt_check_rc(what, keel_hypercall2(k->nr, p0 + 4, 1), -KEEL_EFAULT);
	kt_snprintf(what, sizeof(what), "%s array not RAM", k->name);
	kt_check_rc(what, keel_hypercall2(k->nr, KT_GPA_NOT_RAM, 1), -KEEL_EFAULT);
	kt_snprintf(what, sizeof(what), "%s batch of 2 crossing a page", k->name);
	kt_check_rc(what, keel_hypercall2(k->nr, KT_GPA(batch_area[1]) - k->size, 2), -KEEL_E2BIG);
	kt_snprintf(what, sizeof(what), "%s count %u (more than a page)", k->name, fit + 1);
	kt_check_rc(what, keel_hypercall2(k->nr, p0, fit + 1), -KEEL_E2BIG);
	for (uint32_t i = 0; i < 2 * KEEL_PAGE_SIZE / k->size; i++) {
		if (status_at(k, batch_area, i) != 0) {
			touched = i;
			break;
		}
	}
	kt_snprintf(what, sizeof(what), "%s refused batches touch no element", k->name);
	kt_check(touched < 0, what, "element %d status %d", touched,
		 touched < 0 ? 0 : status_at(k, batch_area, (uint32_t)touched));
}

static void check_setup(uint32_t *max_frames)
{
	static struct keel_gnttab_query q __attribute__((aligned(8)));
	long rc;

	rc = keel_hypercall1(KEEL_HC_GNTTAB_QUERY, KT_GPA(&q));
	kt_check(rc == 0 && q.nr_frames == 0, "QUERY before SETUP: no frames",
		 "rc %ld nr_frames %u",
		 rc, q.nr_frames);
	kt_check_eq("QUERY max_frames (boot-time default)", q.max_frames,
		    KEEL_CTL_GRANT_FRAMES_DEFAULT);
	*max_frames = q.max_frames;
	kt_check_rc("QUERY struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_GNTTAB_QUERY, KT_GPA(hc_page[0]) + 4), -KEEL_EFAULT);
	kt_check_rc("QUERY struct not RAM", keel_hypercall1(KEEL_HC_GNTTAB_QUERY, KT_GPA_NOT_RAM),
		    -KEEL_EFAULT);
	kt_check_rc("SETUP(0)", keel_hypercall1(KEEL_HC_GNTTAB_SETUP, 0), -KEEL_EINVAL);
	kt_check_rc("SETUP(1)", keel_hypercall1(KEEL_HC_GNTTAB_SETUP, 1), 1);
	kt_check_rc("SETUP(1) again", keel_hypercall1(KEEL_HC_GNTTAB_SETUP, 1), 1);
	kt_check_rc("SETUP(2) grows", keel_hypercall1(KEEL_HC_GNTTAB_SETUP, 2), 2);
	kt_check_rc("SETUP(1) does not shrink", keel_hypercall1(KEEL_HC_GNTTAB_SETUP, 1), 2);
	kt_check_rc("SETUP above max_frames",
		    keel_hypercall1(KEEL_HC_GNTTAB_SETUP, q.max_frames + 1),
		    -KEEL_ENOSPC);
	rc = keel_hypercall1(KEEL_HC_GNTTAB_QUERY, KT_GPA(&q));
	kt_check(rc == 0 && q.nr_frames == 2, "QUERY after SETUP(2)", "rc %ld nr_frames %u", rc,
		 q.nr_frames);
}

static bool map_frames(void)
{
	uint64_t gpa = kt_window_alloc(2);
	const uint8_t *f = KT_PTR(gpa);
	bool zero = true;

	kt_check_rc("MAP_SHARED of grant frame 2 (not allocated)",
		    keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_GRANT_TABLE, 2,
				    kt_window_alloc(1) >> KEEL_PAGE_SHIFT), -KEEL_ENOENT);
	if (!kt_check_rc("MAP_SHARED of grant frame 0",
			 keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_GRANT_TABLE, 0,
					 gpa >> KEEL_PAGE_SHIFT), 0) ||
	    !kt_check_rc("MAP_SHARED of grant frame 1",
			 keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_GRANT_TABLE, 1,
					 (gpa >> KEEL_PAGE_SHIFT) + 1), 0)) {
		return false;
	}
	for (uint32_t i = 0; i < 2 * KEEL_PAGE_SIZE; i++) {
		zero = zero && f[i] == 0;
	}
	kt_check(zero, "new grant frames are zeroed", "they are not");
	kt_grants = KT_PTR(gpa);
	return true;
}

static struct keel_gnttab_copy copy_self(uint64_t src_gfn, uint16_t src_off, uint64_t dst_gfn,
					 uint16_t dst_off, uint16_t len)
{
	return (struct keel_gnttab_copy){
		.src_domid = KEEL_DOMID_SELF, .src_gfn = src_gfn, .dst_domid = KEEL_DOMID_SELF,
		.dst_gfn = dst_gfn, .src_offset = src_off, .dst_offset = dst_off, .len = len,
	};
}

static void check_copy_element(const char *what, struct keel_gnttab_copy c, int32_t want)
{
	struct keel_gnttab_copy *e = (struct keel_gnttab_copy *)batch_area[0];
	long n;

	*e = c;
	n = run_batch(&kinds[2], e, 1);
	kt_check(n == 1 && e->status == want, what,
		 "returned %ld, status %d (%s), expected %d (%s)",
		 n, e->status, kt_errname(e->status), want, kt_errname(want));
}

static void check_copy(void)
{
	uint64_t src = KT_GPA(hc_page[2]) >> KEEL_PAGE_SHIFT;
	uint64_t dst = KT_GPA(hc_page[3]) >> KEEL_PAGE_SHIFT;
	uint64_t hole = KT_GPA_NOT_RAM >> KEEL_PAGE_SHIFT;
	uint64_t frame = KT_GPA(kt_grants) >> KEEL_PAGE_SHIFT;
	struct keel_gnttab_copy *e = (struct keel_gnttab_copy *)batch_area[0], c;
	bool same = true, outside = true;
	long n;

	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i++) {
		hc_page[2][i] = (uint8_t)(i * 7 + 1);
	}
	memset(hc_page[3], 0xee, KEEL_PAGE_SIZE);
	check_copy_element("COPY SELF to SELF", copy_self(src, 10, dst, 100, 64), 0);
	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i++) {
		if (i >= 100 && i < 164) {
			same = same && hc_page[3][i] == hc_page[2][i - 90];
		} else {
			outside = outside && hc_page[3][i] == 0xee;
		}
	}
	kt_check(same, "COPY moved the 64 bytes", "they differ");
	kt_check(outside, "COPY wrote nothing else", "bytes outside the range changed");
	check_copy_element("COPY of a whole page", copy_self(src, 0, dst, 0, KEEL_PAGE_SIZE), 0);
	kt_check(memcmp(hc_page[2], hc_page[3], KEEL_PAGE_SIZE) == 0,
		 "COPY of a whole page moved it",
		 "it differs");
	check_copy_element("COPY len 0", copy_self(src, 0, dst, 0, 0), -KEEL_EINVAL);
	check_copy_element("COPY src_offset + len > 4096", copy_self(src, 4000, dst, 0, 200),
			   -KEEL_EINVAL);
	check_copy_element("COPY dst_offset + len > 4096", copy_self(src, 0, dst, 4000, 200),
			   -KEEL_EINVAL);
	check_copy_element("COPY len 4097", copy_self(src, 0, dst, 0, 4097), -KEEL_EINVAL);
	c = copy_self(src, 0, dst, 0, 8);
	c.src_ref = 1;
	check_copy_element("COPY SELF source with a ref", c, -KEEL_EINVAL);
	c = copy_self(src, 0, dst, 0, 8);
	c.dst_ref = 1;
	check_copy_element("COPY SELF destination with a ref", c, -KEEL_EINVAL);
	c = copy_self(src, 0, dst, 0, 8);
	c.pad0 = 1;
	check_copy_element("COPY pad0 set", c, -KEEL_EINVAL);
	c = copy_self(src, 0, dst, 0, 8);
	c.pad1 = 1;
	check_copy_element("COPY pad1 set", c, -KEEL_EINVAL);
	check_copy_element("COPY from a GFN that is not RAM", copy_self(hole, 0, dst, 0, 8),
			   -KEEL_EFAULT);
	check_copy_element("COPY to a GFN that is not RAM", copy_self(src, 0, hole, 0, 8),
			   -KEEL_EFAULT);
	check_copy_element("COPY to a grant frame (not RAM)", copy_self(src, 0, frame, 0, 8),
			   -KEEL_EFAULT);
	c = copy_self(src, 0, dst, 0, 8);
	c.src_domid = kt_boot.domid;
	c.src_gfn = 0;
	c.src_ref = REF;
	check_copy_element("COPY from our own grant (granter is the caller)", c, -KEEL_EINVAL);
	c.src_domid = NO_DOMAIN;
	check_copy_element("COPY from a granter that does not exist", c, -KEEL_ESRCH);

	/* A failing element does not stop the ones after it. */
	memset(batch_area, 0, sizeof(batch_area));
	e[0] = copy_self(src, 0, dst, 0, 16);
	e[1] = copy_self(src, 0, dst, 0, 0);
	e[2] = copy_self(src, 16, dst, 16, 16);
	n = run_batch(&kinds[2], e, 3);
	kt_check(n == 3 && e[0].status == 0 && e[1].status == -KEEL_EINVAL && e[2].status == 0,
		 "a batch of 3 with a bad middle element", "returned %ld, statuses %d %d %d", n,
		 e[0].status, e[1].status, e[2].status);
}

static void check_map_unmap_revoke(void)
{
	struct keel_gnttab_map *m = (struct keel_gnttab_map *)batch_area[0];
	struct keel_gnttab_unmap *u = (struct keel_gnttab_unmap *)batch_area[0];
	struct keel_gnttab_revoke *r = (struct keel_gnttab_revoke *)batch_area[0];
	uint64_t target = kt_window_alloc(1) >> KEEL_PAGE_SHIFT;
	long n;

	memset(batch_area, 0, sizeof(batch_area));
	*m = (struct keel_gnttab_map){ .domid = kt_boot.domid, .ref = REF, .gfn = target };
	n = run_batch(&kinds[0], m, 1);
	kt_check(n == 1 && m->status == -KEEL_EINVAL,
		 "MAP of our own grant (granter is the caller)",
		 "returned %ld status %d (%s)", n, m->status, kt_errname(m->status));
	*m = (struct keel_gnttab_map){ .domid = NO_DOMAIN, .ref = REF, .gfn = target };
	n = run_batch(&kinds[0], m, 1);
	kt_check(n == 1 && m->status == -KEEL_ESRCH, "MAP from a granter that does not exist",
		 "returned %ld status %d (%s)", n, m->status, kt_errname(m->status));

	memset(batch_area, 0, sizeof(batch_area));
	*u = (struct keel_gnttab_unmap){ .gfn = target, .handle = 0x7fffffff };
	n = run_batch(&kinds[1], u, 1);
	kt_check(n == 1 && u->status == -KEEL_ENOENT, "UNMAP of a handle that does not exist",
		 "returned %ld status %d (%s)", n, u->status, kt_errname(u->status));

	memset(batch_area, 0, sizeof(batch_area));
	r[0] = (struct keel_gnttab_revoke){ .ref = REF };
	r[1] = (struct keel_gnttab_revoke){ .ref = 2 * KEEL_GRANT_ENTRIES_PER_FRAME };
	n = run_batch(&kinds[3], r, 2);
	kt_check(n == 2 && r[0].status == -KEEL_EBUSY && r[1].status == -KEEL_EINVAL,
		 "REVOKE with PERMIT set, and beyond the table", "returned %ld statuses %d %d", n,
		 r[0].status, r[1].status);
	kt_grant_end(REF);
	r[0] = (struct keel_gnttab_revoke){ .ref = REF };
	n = run_batch(&kinds[3], r, 1);
	kt_check(n == 1 && r[0].status == 0 && kt_grants[REF].status == 0,
		 "REVOKE after clearing PERMIT", "returned %ld status %d entry status %u", n,
		 r[0].status, kt_grants[REF].status);
}

void hc_gnttab(void)
{
	uint32_t max_frames;

	kt_group_begin("hcall-gnttab");
	check_setup(&max_frames);
	if (map_frames()) {
		kt_grant(REF, kt_boot.domid, KT_GPA(hc_page[2]) >> KEEL_PAGE_SHIFT, false);
		check_copy();
		check_map_unmap_revoke();
	}
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(kinds); i++) {
		check_batch_errors(&kinds[i]);
	}
	kt_group_end();
}
