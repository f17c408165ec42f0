/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/suites.h - the conformance suites main.c runs, one
 * per file, each named after what it checks.
 */
#ifndef KPV_TESTS_SUITES_H
#define KPV_TESTS_SUITES_H

#include <CUnit/CUnit.h>

extern CU_SuiteInfo format_suite;
extern CU_SuiteInfo shim_suite;
extern CU_SuiteInfo start_suite;
extern CU_SuiteInfo evtchn_suite;
extern CU_SuiteInfo grants_suite;
extern CU_SuiteInfo window_suite;
extern CU_SuiteInfo devtable_suite;
extern CU_SuiteInfo ring_suite;
extern CU_SuiteInfo connect_suite;
extern CU_SuiteInfo bad_backend_suite;
extern CU_SuiteInfo bad_frontend_suite;
extern CU_SuiteInfo reconnect_suite;
extern CU_SuiteInfo close_suite;
extern CU_SuiteInfo handshake_rules_suite;
/* The console class (pvdrivers/console). */
extern CU_SuiteInfo console_io_suite;
extern CU_SuiteInfo console_bad_frontend_suite;
extern CU_SuiteInfo console_bad_backend_suite;
extern CU_SuiteInfo console_reconnect_suite;
/* The net class. */
extern CU_SuiteInfo net_io_suite;
extern CU_SuiteInfo net_bad_frontend_suite;
extern CU_SuiteInfo net_bad_backend_suite;
extern CU_SuiteInfo net_reconnect_suite;
extern CU_SuiteInfo net_offload_suite;
/* The block class (pvdrivers/block). */
extern CU_SuiteInfo block_io_suite;
extern CU_SuiteInfo block_io_copy_suite;
extern CU_SuiteInfo block_persist_suite;
extern CU_SuiteInfo block_bad_frontend_suite;
extern CU_SuiteInfo block_bad_backend_suite;
extern CU_SuiteInfo block_reconnect_suite;

#endif
