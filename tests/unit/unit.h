/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/unit.h - the suites main.c registers, and helpers they share.
 *
 * One suite per module, named after it, defined in tests/unit/<dir>/test_<module>.c.
 */
#ifndef KEEL_TESTS_UNIT_H
#define KEEL_TESTS_UNIT_H

#include <stdlib.h>
#include <string.h>
#include <CUnit/CUnit.h>
#include <keel/bootinfo.h>
#include <keel/types.h>

extern CU_SuiteInfo bootcfg_suite;
extern CU_SuiteInfo bootmod_suite;
extern CU_SuiteInfo console_suite;
extern CU_SuiteInfo control_suite;
extern CU_SuiteInfo control_build_suite;
extern CU_SuiteInfo device_suite;
extern CU_SuiteInfo domain_suite;
extern CU_SuiteInfo crash_test_suite;
extern CU_SuiteInfo elf_suite;
extern CU_SuiteInfo evtchn_suite;
extern CU_SuiteInfo grant_table_suite;
extern CU_SuiteInfo memory_ops_suite;
extern CU_SuiteInfo memory_unmap_suite;
extern CU_SuiteInfo large_leaves_suite;
extern CU_SuiteInfo heap_suite;
extern CU_SuiteInfo image_suite;
extern CU_SuiteInfo decompress_suite;
extern CU_SuiteInfo kernel_image_suite;
extern CU_SuiteInfo linux_build_suite;
extern CU_SuiteInfo linux_boot_suite;
extern CU_SuiteInfo log_suite;
extern CU_SuiteInfo memmap_suite;
extern CU_SuiteInfo options_suite;
extern CU_SuiteInfo page_alloc_suite;
extern CU_SuiteInfo panic_suite;
extern CU_SuiteInfo sched_suite;
extern CU_SuiteInfo spinlock_suite;
extern CU_SuiteInfo symbols_suite;
extern CU_SuiteInfo format_suite;
extern CU_SuiteInfo string_suite;
extern CU_SuiteInfo acpi_suite;
extern CU_SuiteInfo insn_suite;
extern CU_SuiteInfo multiboot_suite;

/* A struct boot_info on the heap (too big for the stack), for the suites
 * that build one; their init and cleanup functions. */
extern struct boot_info *unit_bi;
int unit_bootinfo_alloc(void);
int unit_bootinfo_free(void);

/*
 * Suite init for suites on the page allocator: fresh fake arch and RAM, and
 * the allocator over 63 MiB of it from 1 MiB. Returns 0 or -1 (CUnit).
 */
int unit_page_alloc_init(void);
/* The same over [@base, @base + @size) of fake RAM. */
int unit_page_alloc_init_span(uint64_t base, uint64_t size);

/* Per-test set-up for suites that need nothing but a fresh fake arch. */
void unit_reset(void);

/*
 * unit_reset() and remember the free-page count; UNIT_CHECK_ALL_RETURNED()
 * then asserts, at the caller's line, that nothing a test made is left:
 * no domain (table entry or object), every page and heap page back, no
 * arch domain, vCPU or second-stage mapping, no misuse of the second-stage
 * contract, interrupts back on.
 */
extern uint64_t unit_free_at_start;
void unit_reset_counted(void);

/* A plain domain (no caps, no RAM yet), or the test stops; and its end. */
struct domain;
struct domain *unit_domain(const char *name, uint32_t vcpus, uint64_t max_pages);
void unit_domain_end(struct domain *d);

#define UNIT_CHECK_ALL_RETURNED()						\
	do {									\
		CU_ASSERT_EQUAL(domain_count(), 0);				\
		CU_ASSERT_EQUAL(domain_objects(), 0);				\
		CU_ASSERT_EQUAL(page_alloc_free_count(), unit_free_at_start);	\
		CU_ASSERT_EQUAL(heap_page_count(), 0);				\
		CU_ASSERT_EQUAL(fake.arch_domains, 0);				\
		CU_ASSERT_EQUAL(fake.arch_vcpus, 0);				\
		CU_ASSERT_EQUAL(fake.p2m_pages, 0);				\
		CU_ASSERT_EQUAL(fake.p2m_errors, 0);				\
		CU_ASSERT_FALSE(fake.irqs_off);					\
	} while (0)

/*
 * A heap copy of exactly @len bytes (free() it): a parser handed this
 * instead of a larger buffer makes AddressSanitizer report any read past
 * the end of its input.
 */
static inline void *exact_copy(const void *src, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p && len) {
		memcpy(p, src, len);
	}
	return p;
}

/* A small deterministic generator for randomized tests (64-bit LCG). */
static inline uint32_t unit_rand(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*state >> 33);
}

#endif
