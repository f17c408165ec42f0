/* SPDX-License-Identifier: MIT */
/* tools/tests/main.c - runs every toolstack suite; fails if any test fails or none ran. */
#include <stdio.h>
#include <stdlib.h>
#include <CUnit/Basic.h>
#include "tests.h"

int main(void)
{
	CU_SuiteInfo suites[] = {
		xlcfg_suite, devspec_suite, lib_suite, create_suite, linux_suite, cli_suite,
		monitor_suite, paths_suite, console_suite, trust_suite,
#ifdef KEELCTL_TESTS_LINUX
		block_store_suite, driver_version_suite,
#endif
		CU_SUITE_INFO_NULL,
	};
	unsigned int failed, ran;
	char run_dir[] = "/tmp/keelctl-tests-run.XXXXXX";

	/*
	 * The tests write and remove backend state under $KEEL_RUN_DIR (ctest
	 * sets one in the build). Run by hand without it, they must not touch
	 * a real control domain's /run/keel.
	 */
	if (!getenv("KEEL_RUN_DIR")) {
		if (!mkdtemp(run_dir)) {
			perror("keelctl-tests: mkdtemp");
			return 2;
		}
		setenv("KEEL_RUN_DIR", run_dir, 1);
	}
	if (CU_initialize_registry() != CUE_SUCCESS || CU_register_suites(suites) != CUE_SUCCESS) {
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	if (ran == 0) {
		fprintf(stderr, "keelctl-tests: no test ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}
