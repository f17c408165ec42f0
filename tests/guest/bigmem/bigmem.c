/* SPDX-License-Identifier: MIT */
/* bigmem.c: a guest with over 2 GiB of RAM uses it through Keel's 1 GiB nested leaves. */
#include "keeltest64.h"

/*
 * Keel maps [1 GiB, 2 GiB) of a domain this big with one 1 GiB leaf (its
 * log line says so; the QEMU test checks it). From inside, the guest
 * checks what that must mean: every page of the GiB is its own RAM and
 * holds what was written; releasing 4 KiB and then 2 MiB out of the middle
 * (which splits the leaf twice) leaves every other page as it was; the
 * holes take fresh zeroed RAM again; the memory count stays right.
 */
const char test_name[] = "bigmem";

#define GIB		(1ull << 30)
#define MIB2		(1ull << 21)
#define PAGE		KEEL_PAGE_SIZE
#define STEP		(PAGE * 61)	/* visits every 2 MiB chunk, at varying offsets */

static struct keel_memory_extent ext __attribute__((aligned(32)));
static struct keel_memory_info mi __attribute__((aligned(64)));

static long one_extent(uint64_t nr, uint64_t gpa, uint32_t order)
{
	long n;

	ext = (struct keel_memory_extent){ .gfn = gpa >> KEEL_PAGE_SHIFT, .order = order,
					   .status = 0x7777 };
	n = keel_hypercall2(nr, KT_GPA(&ext), 1);
	return n == 1 ? ext.status : (n < 0 ? n : -1000 - n);
}

static uint64_t current_pages(void)
{
	return keel_hypercall1(KEEL_HC_MEMORY_QUERY, KT_GPA(&mi)) == 0 ? mi.current_pages : 0;
}

static uint64_t stamp_of(uint64_t gpa)
{
	return gpa * 0x9e3779b97f4a7c15ull;
}

static void stamp(uint64_t from, uint64_t to)
{
	for (uint64_t gpa = from; gpa < to; gpa += STEP) {
		*(volatile uint64_t *)KT_PTR(gpa) = stamp_of(gpa);
	}
}

/* Released ranges: reading them would be a bad access that crashes the domain. */
static struct {
	uint64_t gpa, len;
} holes[2];

static bool in_hole(uint64_t gpa)
{
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(holes); i++) {
		if (gpa >= holes[i].gpa && gpa < holes[i].gpa + holes[i].len) {
			return true;
		}
	}
	return false;
}

/* The first stamp in [from, to) outside the holes that is wrong; 0 if none. */
static uint64_t first_bad(uint64_t from, uint64_t to)
{
	for (uint64_t gpa = from; gpa < to; gpa += STEP) {
		if (in_hole(gpa)) {
			continue;
		}
		if (*(volatile uint64_t *)KT_PTR(gpa) != stamp_of(gpa)) {
			return gpa;
		}
	}
	return 0;
}

static bool all_zero(uint64_t gpa, uint64_t len)
{
	for (uint64_t off = 0; off < len; off += 8) {
		if (*(volatile uint64_t *)KT_PTR(gpa + off) != 0) {
			return false;
		}
	}
	return true;
}

/* Release the extent at @gpa as hole @i; the page count and every other stamp follow. */
static void release_hole(unsigned int i, uint64_t gpa, uint32_t order, uint64_t want_pages)
{
	uint64_t bad;

	kt_check_rc(order ? "RELEASE 2 MiB inside the GiB" : "RELEASE 4 KiB inside the GiB",
		    one_extent(KEEL_HC_MEMORY_RELEASE, gpa, order), 0);
	holes[i].gpa = gpa;
	holes[i].len = PAGE << order;
	kt_check_eq("the page count after RELEASE", current_pages(), want_pages);
	bad = first_bad(GIB, 2 * GIB);
	kt_check(bad == 0, "the rest of the GiB is untouched", "wrong at 0x%lx", bad);
}

void test_main(void)
{
	uint64_t page = GIB + 300 * MIB2 + 7 * PAGE, chunk = GIB + 400 * MIB2, pages, bad;

	kt_group_begin("bigmem-1g");
	kt_check(kt_is_ram(GIB, GIB), "[1 GiB, 2 GiB) is RAM in the memory map",
		 "RAM ends at 0x%lx", kt_ram_end());
	pages = current_pages();
	kt_check(pages >= (2 * GIB) >> KEEL_PAGE_SHIFT, "over 2 GiB of RAM", "%lu pages", pages);
	stamp(GIB, 2 * GIB);
	bad = first_bad(GIB, 2 * GIB);
	kt_check(bad == 0, "every stamp across the GiB reads back", "wrong at 0x%lx", bad);

	/* 4 KiB out of the middle: 1 GiB -> 2 MiB leaves -> 4 KiB leaves. */
	release_hole(0, page, KEEL_MEMORY_ORDER_4K, pages - 1);
	kt_check_rc("RELEASE it again: not RAM", one_extent(KEEL_HC_MEMORY_RELEASE, page,
							  KEEL_MEMORY_ORDER_4K), -KEEL_ENOENT);
	/* 2 MiB out of another place: that 2 MiB leaf goes whole. */
	release_hole(1, chunk, KEEL_MEMORY_ORDER_2M, pages - 513);

	/* The holes take fresh, zeroed RAM. */
	kt_check_rc("POPULATE the 4 KiB hole", one_extent(KEEL_HC_MEMORY_POPULATE, page,
							  KEEL_MEMORY_ORDER_4K), 0);
	kt_check_rc("POPULATE the 2 MiB hole", one_extent(KEEL_HC_MEMORY_POPULATE, chunk,
							  KEEL_MEMORY_ORDER_2M), 0);
	kt_check(all_zero(page, PAGE) && all_zero(chunk, MIB2), "the new RAM reads as zero",
		 "old data came back");
	kt_check_eq("the page count is back", current_pages(), pages);
	memset(holes, 0, sizeof(holes));
	stamp(GIB, 2 * GIB);
	bad = first_bad(GIB, 2 * GIB);
	kt_check(bad == 0, "the whole GiB is usable again", "wrong at 0x%lx", bad);
	kt_group_end();
}
