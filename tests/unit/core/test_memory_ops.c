/* SPDX-License-Identifier: MIT */
/* tests/unit/core/test_memory_ops.c - placeholder while writing. */
#include "unit.h"

static CU_TestInfo tests[] = {
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo memory_ops_suite = {
	.pName = "memory_ops",
	.pTests = tests,
};
