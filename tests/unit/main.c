/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/main.c - runs every unit-test suite (or the one named in argv[1]).
 *
 * Exits non-zero if any test failed, a suite could not start, or no test ran
 * at all: a run that silently tests nothing must not pass.
 */
#include <stdio.h>
#include <CUnit/Basic.h>
#include <keel/page_alloc.h>
#include "fake_arch.h"
#include <keel/sched.h>
#include <keel/domain.h>
#include "unit.h"

static CU_SuiteInfo *const suites[] = {
	&format_suite,
	&string_suite,
	&spinlock_suite,
	&log_suite,
	&console_suite,
	&panic_suite,
	&symbols_suite,
	&crash_test_suite,
	&memmap_suite,
	&bootmod_suite,
	&bootcfg_suite,
	&domain_suite,
	&control_suite,
	&control_build_suite,
	&device_suite,
	&options_suite,
	&page_alloc_suite,
	&heap_suite,
	&evtchn_suite,
	&grant_table_suite,
	&memory_ops_suite,
	&memory_unmap_suite,
	&large_leaves_suite,
	&sched_suite,
	&image_suite,
	&decompress_suite,
	&kernel_image_suite,
	&linux_build_suite,
	&linux_boot_suite,
	&elf_suite,
	&multiboot_suite,
	&acpi_suite,
	&insn_suite,
};

struct boot_info *unit_bi;

int unit_bootinfo_alloc(void)
{
	unit_bi = calloc(1, sizeof(*unit_bi));
	return unit_bi ? 0 : -1;
}

int unit_bootinfo_free(void)
{
	free(unit_bi);
	unit_bi = NULL;
	return 0;
}

int unit_page_alloc_init(void)
{
	return unit_page_alloc_init_span(MiB(1), MiB(63));
}

int unit_page_alloc_init_span(uint64_t base, uint64_t size)
{
	struct boot_info *bi = calloc(1, sizeof(*bi));
	bool ok;

	if (!bi) {
		return -1;
	}
	fake_arch_reset();
	fake_ram_reset();
	bi->regions[0] = (struct mem_region){ base, size, MEM_USABLE };
	bi->region_count = 1;
	ok = page_alloc_init(bi);
	free(bi);
	return ok ? 0 : -1;
}

uint64_t unit_free_at_start;

struct domain *unit_domain(const char *name, uint32_t vcpus, uint64_t max_pages)
{
	struct domain_params p = { .name = name, .vcpu_count = vcpus, .max_pages = max_pages };
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	return d;
}

void unit_domain_end(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

void unit_reset_counted(void)
{
	unit_reset();
	unit_free_at_start = page_alloc_free_count();
}

void unit_reset(void)
{
	fake_arch_reset();
	/* Domains need a scheduler for their vCPUs; one CPU, no kicks. */
	sched_init(1, NULL);
}

static bool register_suites(const char *only)
{
	for (size_t i = 0; i < ARRAY_SIZE(suites); i++) {
		const CU_SuiteInfo *s = suites[i];
		CU_pSuite suite;

		if (only && strcmp(only, s->pName) != 0) {
			continue;
		}
		suite = CU_add_suite_with_setup_and_teardown(s->pName, s->pInitFunc,
							     s->pCleanupFunc,
							     s->pSetUpFunc,
							     s->pTearDownFunc);
		if (!suite) {
			return false;
		}
		for (const CU_TestInfo *t = s->pTests; t->pName; t++) {
			if (!CU_add_test(suite, t->pName, t->pTestFunc)) {
				return false;
			}
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	unsigned int ran, failed;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "keel-unit-tests: %s\n", CU_get_error_msg());
		return 2;
	}
	if (!register_suites(argc > 1 ? argv[1] : NULL)) {
		fprintf(stderr, "keel-unit-tests: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	ran = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed() +
		 (CU_get_number_of_failures() ? 1 : 0);
	CU_cleanup_registry();
	printf("\n");
	if (ran == 0) {
		fprintf(stderr, "keel-unit-tests: no tests ran%s%s\n",
			argc > 1 ? " - no suite is named " : "", argc > 1 ? argv[1] : "");
		return 1;
	}
	return failed ? 1 : 0;
}
