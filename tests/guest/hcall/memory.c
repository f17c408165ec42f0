/* SPDX-License-Identifier: MIT */
/* memory.c: the hcall-memory group: query, populate and release, map and unmap Keel pages. */
#include "hcall.h"

static uint8_t victim[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static struct keel_memory_extent ext[2] __attribute__((aligned(32)));
static struct keel_memory_info mi __attribute__((aligned(64)));

static uint64_t gfn_of(const void *p)
{
	return KT_GPA(p) >> KEEL_PAGE_SHIFT;
}

/* One extent through POPULATE or RELEASE; returns its status, or the call's error. */
static long one_extent(uint64_t nr, uint64_t gfn, uint32_t order)
{
	long n;

	ext[0] = (struct keel_memory_extent){ .gfn = gfn, .order = order, .status = 0x7777 };
	n = keel_hypercall2(nr, KT_GPA(&ext[0]), 1);
	if (n != 1) {
		return n < 0 ? n : -1000 - n;
	}
	return ext[0].status;
}

static uint64_t current_pages(void)
{
	return keel_hypercall1(KEEL_HC_MEMORY_QUERY, KT_GPA(&mi)) == 0 ? mi.current_pages : 0;
}

static void check_query(void)
{
	uint64_t ram = 0;
	long rc;

	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		uint32_t type = kt_boot.memmap[i].type;

		if (type == KEEL_MEMTYPE_RAM || type == KEEL_MEMTYPE_BOOT) {
			ram += kt_boot.memmap[i].size >> KEEL_PAGE_SHIFT;
		}
	}
	rc = keel_hypercall1(KEEL_HC_MEMORY_QUERY, KT_GPA(&mi));
	kt_check_rc("MEMORY_QUERY", rc, 0);
	kt_check_eq("current_pages is the RAM of the memory map", mi.current_pages, ram);
	kt_check(mi.current_pages <= mi.max_pages, "current_pages <= max_pages", "%lu > %lu",
		 mi.current_pages, mi.max_pages);
	kt_check(mi.map_window_gfn << KEEL_PAGE_SHIFT == kt_boot.si.map_window_gpa &&
		 mi.map_window_pages << KEEL_PAGE_SHIFT == kt_boot.si.map_window_size &&
		 mi.map_window_pages > 0, "map window as in the start info", "gfn 0x%lx pages %lu",
		 mi.map_window_gfn, mi.map_window_pages);
	kt_check_rc("MEMORY_QUERY struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_MEMORY_QUERY, HC_MISALIGNED), -KEEL_EFAULT);
	kt_check_rc("MEMORY_QUERY struct crossing a page",
		    keel_hypercall1(KEEL_HC_MEMORY_QUERY, hc_crossing(sizeof(mi))), -KEEL_EFAULT);
	kt_check_rc("MEMORY_QUERY struct not RAM",
		    keel_hypercall1(KEEL_HC_MEMORY_QUERY, KT_GPA_NOT_RAM),
		    -KEEL_EFAULT);
}

static void check_round_trip(void)
{
	uint64_t before = current_pages();
	bool zero = true;

	memset(victim, 0xab, sizeof(victim));
	kt_check_rc("RELEASE of a RAM page", one_extent(KEEL_HC_MEMORY_RELEASE, gfn_of(victim), 0),
		    0);
	/* The page is gone: nothing may touch victim[] until it is populated again. */
	kt_check_eq("current_pages one lower after RELEASE", current_pages(), before - 1);
	kt_check_rc("RELEASE of the released (empty) GFN",
		    one_extent(KEEL_HC_MEMORY_RELEASE, gfn_of(victim), 0), -KEEL_ENOENT);
	kt_check_rc("POPULATE of the released GFN",
		    one_extent(KEEL_HC_MEMORY_POPULATE, gfn_of(victim), 0), 0);
	kt_check_eq("current_pages back after POPULATE", current_pages(), before);
	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i++) {
		zero = zero && victim[i] == 0;
	}
	kt_check(zero, "POPULATE gives a zeroed page", "old contents are visible");
}

static void check_extent_errors(void)
{
	uint64_t window = kt_window_alloc(1) >> KEEL_PAGE_SHIFT;

	kt_check_rc("POPULATE of a GFN that holds RAM",
		    one_extent(KEEL_HC_MEMORY_POPULATE, gfn_of(victim), 0), -KEEL_EBUSY);
	kt_check_rc("POPULATE order 1", one_extent(KEEL_HC_MEMORY_POPULATE, hc_empty_gfn(), 1),
		    -KEEL_EINVAL);
	kt_check_rc("POPULATE order 9 at an unaligned GFN",
		    one_extent(KEEL_HC_MEMORY_POPULATE, (hc_empty_gfn() & ~511ull) + 1, 9),
		    -KEEL_EINVAL);
	kt_check_rc("POPULATE in the map window", one_extent(KEEL_HC_MEMORY_POPULATE, window, 0),
		    -KEEL_EINVAL);
	kt_check_rc("POPULATE at the local APIC",
		    one_extent(KEEL_HC_MEMORY_POPULATE, KEEL_X86_GPA_LAPIC >> KEEL_PAGE_SHIFT, 0),
		    -KEEL_EINVAL);
	kt_check_rc("RELEASE of a GFN that is not RAM",
		    one_extent(KEEL_HC_MEMORY_RELEASE, KT_GPA_NOT_RAM >> KEEL_PAGE_SHIFT, 0),
		    -KEEL_ENOENT);
	kt_check_rc("RELEASE order 5", one_extent(KEEL_HC_MEMORY_RELEASE, gfn_of(victim), 5),
		    -KEEL_EINVAL);
	kt_check_rc("RELEASE order 9 at an unaligned GFN",
		    one_extent(KEEL_HC_MEMORY_RELEASE, (gfn_of(victim) & ~511ull) + 1, 9),
		    -KEEL_EINVAL);
}

/* A registered keel_vcpu_info pins its page. */
static void check_pinned(void)
{
	uint8_t *page = hc_page[1];
	long rc;

	memset(page, 0, KEEL_PAGE_SIZE);
	if (!kt_check_rc("REGISTER_INFO into a page for the pin check",
			 keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, KT_GPA(page)), 0)) {
		return;
	}
	rc = one_extent(KEEL_HC_MEMORY_RELEASE, gfn_of(page), 0);
	kt_check_rc("RELEASE of a page holding a registered keel_vcpu_info", rc, -KEEL_EBUSY);
	if (rc == 0) {
		one_extent(KEEL_HC_MEMORY_POPULATE, gfn_of(page), 0);
	}
	kt_check_rc("REGISTER_INFO back to the runtime's", kt_register_vcpu_info(0), 0);
}

/* A fresh GFN above RAM: populated if max_pages leaves room, else ENOMEM. */
static void check_fresh_gfn(void)
{
	uint64_t gfn = hc_empty_gfn();
	uint64_t cur = current_pages();
	long rc;

	rc = one_extent(KEEL_HC_MEMORY_POPULATE, gfn, 0);
	if (cur < mi.max_pages) {
		kt_check_rc("POPULATE of an empty GFN above RAM", rc, 0);
		kt_check_rc("RELEASE of it again", one_extent(KEEL_HC_MEMORY_RELEASE, gfn, 0), 0);
	} else {
		kt_check_rc("POPULATE beyond max_pages", rc, -KEEL_ENOMEM);
		if (rc == 0) {
			one_extent(KEEL_HC_MEMORY_RELEASE, gfn, 0);
		}
	}
	kt_check_eq("current_pages unchanged after the fresh GFN", current_pages(), cur);
}

static void check_batches(void)
{
	static const struct {
		const char *name;
		uint64_t nr;
	} calls[] = {
		{ "POPULATE", KEEL_HC_MEMORY_POPULATE }, { "RELEASE", KEEL_HC_MEMORY_RELEASE },
	};
	char what[64];

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(calls); i++) {
		kt_snprintf(what, sizeof(what), "%s count 0", calls[i].name);
		kt_check_rc(what, keel_hypercall2(calls[i].nr, KT_GPA(&ext[0]), 0), -KEEL_EINVAL);
		kt_snprintf(what, sizeof(what), "%s array not 8-byte aligned", calls[i].name);
		kt_check_rc(what, keel_hypercall2(calls[i].nr, HC_MISALIGNED, 1), -KEEL_EFAULT);
		kt_snprintf(what, sizeof(what), "%s array crossing a page", calls[i].name);
		kt_check_rc(what, keel_hypercall2(calls[i].nr, KT_GPA(hc_page[1]) - 16, 2),
			    -KEEL_E2BIG);
		kt_snprintf(what, sizeof(what), "%s array not RAM", calls[i].name);
		kt_check_rc(what, keel_hypercall2(calls[i].nr, KT_GPA_NOT_RAM, 1), -KEEL_EFAULT);
	}
}

static long map_shared(uint32_t space, uint64_t index, uint64_t gfn)
{
	return keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, space, index, gfn);
}

static void check_map_shared(void)
{
	uint64_t old = kt_boot.shared_info_gpa >> KEEL_PAGE_SHIFT, fresh = kt_window_alloc(1);
	uint64_t grant_frame = KT_GPA(kt_grants) >> KEEL_PAGE_SHIFT;
	const volatile struct keel_shared_info *si = KT_PTR(fresh);

	kt_check_rc("MAP_SHARED space 3", map_shared(3, 0, fresh >> KEEL_PAGE_SHIFT), -KEEL_EINVAL);
	kt_check_rc("MAP_SHARED shared info index 1",
		    map_shared(KEEL_MAPSPACE_SHARED_INFO, 1, fresh >> KEEL_PAGE_SHIFT),
		    -KEEL_EINVAL);
	kt_check_rc("MAP_SHARED of a device that does not exist",
		    map_shared(KEEL_MAPSPACE_DEVICE_PAGE, 0x7fffffff, fresh >> KEEL_PAGE_SHIFT),
		    -KEEL_ENOENT);
	kt_check_rc("MAP_SHARED onto a RAM GFN",
		    map_shared(KEEL_MAPSPACE_SHARED_INFO, 0, gfn_of(hc_page[0])), -KEEL_EBUSY);
	kt_check_rc("MAP_SHARED onto the local APIC",
		    map_shared(KEEL_MAPSPACE_SHARED_INFO, 0, KEEL_X86_GPA_LAPIC >> KEEL_PAGE_SHIFT),
		    -KEEL_EBUSY);
	if (!kt_check(kt_grants != NULL, "grant frames mapped (hcall-gnttab)", "they are not")) {
		return;
	}
	/* Move the shared info, read it there, prove its old GFN is empty, then move it back. */
	kt_check_rc("MAP_SHARED moves the shared info",
		    map_shared(KEEL_MAPSPACE_SHARED_INFO, 0, fresh >> KEEL_PAGE_SHIFT), 0);
	kt_check(si->domid == kt_boot.domid && si->nr_vcpus == 1 &&
		 si->evtchn_port_limit == KEEL_EVTCHN_BASE_PORTS,
		 "the moved shared info: domid, nr_vcpus, port limit",
		 "domid %u nr_vcpus %u limit %u",
		 si->domid, si->nr_vcpus, si->evtchn_port_limit);
	kt_check_rc("the old GFN is empty: a grant frame maps there",
		    map_shared(KEEL_MAPSPACE_GRANT_TABLE, 0, old), 0);
	kt_check_rc("MAP_SHARED onto an occupied GFN of the map window",
		    map_shared(KEEL_MAPSPACE_SHARED_INFO, 0, old), -KEEL_EBUSY);
	kt_check_rc("the grant frame moves back",
		    map_shared(KEEL_MAPSPACE_GRANT_TABLE, 0, grant_frame), 0);
	kt_check_rc("the shared info moves back", map_shared(KEEL_MAPSPACE_SHARED_INFO, 0, old), 0);
	kt_check_eq("shared info domid at its old place", kt_shared->domid, kt_boot.domid);
}

/* 1.1: a Keel page leaves its GFN and comes back; nothing else can be unmapped. */
static void check_unmap_shared(void)
{
	uint64_t grant_frame = KT_GPA(kt_grants) >> KEEL_PAGE_SHIFT, fresh = kt_window_alloc(1);
	volatile uint8_t *frame = (volatile uint8_t *)kt_grants;
	uint8_t first = frame[0];

	kt_check_rc("UNMAP_SHARED of a RAM GFN",
		    keel_hypercall1(KEEL_HC_MEMORY_UNMAP_SHARED, gfn_of(hc_page[0])), -KEEL_EINVAL);
	kt_check_rc("UNMAP_SHARED of an empty GFN of the map window",
		    keel_hypercall1(KEEL_HC_MEMORY_UNMAP_SHARED, fresh >> KEEL_PAGE_SHIFT),
		    -KEEL_EINVAL);
	kt_check_rc("UNMAP_SHARED beyond the guest-physical space",
		    keel_hypercall1(KEEL_HC_MEMORY_UNMAP_SHARED, 1ull << 40), -KEEL_EINVAL);
	if (!kt_check(kt_grants != NULL, "grant frames mapped (hcall-gnttab)", "they are not")) {
		return;
	}
	/* Nothing reads the grant frame between these calls: this vCPU is the only one. */
	kt_check_rc("UNMAP_SHARED of grant frame 0",
		    keel_hypercall1(KEEL_HC_MEMORY_UNMAP_SHARED, grant_frame), 0);
	kt_check_rc("UNMAP_SHARED of it again",
		    keel_hypercall1(KEEL_HC_MEMORY_UNMAP_SHARED, grant_frame), -KEEL_EINVAL);
	kt_check_rc("grant frame 0 maps again where it was",
		    map_shared(KEEL_MAPSPACE_GRANT_TABLE, 0, grant_frame), 0);
	kt_check_eq("grant frame 0 kept its contents", frame[0], first);
}

void hc_memory(void)
{
	kt_group_begin("hcall-memory");
	check_query();
	check_round_trip();
	check_extent_errors();
	check_pinned();
	check_fresh_gfn();
	check_batches();
	check_map_shared();
	check_unmap_shared();
	kt_group_end();
}
