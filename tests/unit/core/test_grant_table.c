/* SPDX-License-Identifier: MIT */
/* tests/unit/core/test_grant_table.c - placeholder while writing. */
#include "unit.h"

static CU_TestInfo tests[] = {
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo grant_table_suite = {
	.pName = "grant_table",
	.pTests = tests,
};
