/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/main.c - runs every conformance suite, or the one
 * named in argv[1] (and, with argv[2], only the test of that name).
 *
 * Exits non-zero if any test failed, a suite could not start, or no test
 * ran at all: a run that silently tests nothing must not pass.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <CUnit/Basic.h>
#include "suites.h"

static CU_SuiteInfo *const suites[] = {
	&format_suite,
	&shim_suite,
	&ring_suite,
	&start_suite,
	&evtchn_suite,
	&grants_suite,
	&window_suite,
	&devtable_suite,
	&connect_suite,
	&bad_backend_suite,
	&bad_frontend_suite,
	&reconnect_suite,
	&close_suite,
	&handshake_rules_suite,
	&console_io_suite,
	&console_bad_frontend_suite,
	&console_bad_backend_suite,
	&console_reconnect_suite,
	&net_io_suite,
	&net_bad_frontend_suite,
	&net_bad_backend_suite,
	&net_reconnect_suite,
	&net_offload_suite,
	&block_io_suite,
	&block_io_copy_suite,
	&block_persist_suite,
	&block_bad_frontend_suite,
	&block_bad_backend_suite,
	&block_reconnect_suite,
};

static bool register_suites(const char *only, const char *test)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		const CU_SuiteInfo *s = suites[i];
		CU_pSuite suite;

		if (only && strcmp(only, s->pName) != 0) {
			continue;
		}
		suite = CU_add_suite_with_setup_and_teardown(s->pName, s->pInitFunc,
							     s->pCleanupFunc, s->pSetUpFunc,
							     s->pTearDownFunc);
		if (!suite) {
			return false;
		}
		for (const CU_TestInfo *t = s->pTests; t->pName; t++) {
			if (test && strcmp(test, t->pName) != 0) {
				continue;
			}
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
		fprintf(stderr, "kpv-conformance-tests: %s\n", CU_get_error_msg());
		return 2;
	}
	if (!register_suites(argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL)) {
		fprintf(stderr, "kpv-conformance-tests: %s\n", CU_get_error_msg());
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
		fprintf(stderr, "kpv-conformance-tests: no tests ran\n");
		return 1;
	}
	return failed ? 1 : 0;
}
