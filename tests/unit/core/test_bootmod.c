/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_bootmod.c - unit tests for core/bootmod.c: module names
 * and arguments, finding modules, reserving ranges.
 */
#include <keel/bootinfo.h>
#include "unit.h"

#define bi unit_bi

static void setup(void)
{
	memset(bi, 0, sizeof(*bi));
}

static void check_module(const char *cmdline, const char *name, const char *args)
{
	struct boot_module *m = &bi->modules[0];

	bootmod_set_cmdline(m, cmdline);
	CU_ASSERT_STRING_EQUAL(m->name, name);
	CU_ASSERT_STRING_EQUAL(m->args, args);
	CU_ASSERT_STRING_EQUAL(m->cmdline, cmdline);
	/* args points into the module's own copy, not the caller's string. */
	CU_ASSERT(m->args >= m->cmdline && m->args <= m->cmdline + BOOT_CMDLINE_MAX);
}

static void test_name_is_last_path_component_of_first_word(void)
{
	check_module("/boot/probe-guest.elf", "probe-guest.elf", "");
	check_module("probe-guest.elf", "probe-guest.elf", "");
	check_module("/a/b/c/dom0.elf console=hvc0 quiet", "dom0.elf", "console=hvc0 quiet");
	check_module("  /boot/x.elf   arg", "x.elf", "arg");
	check_module("/boot/dir/", "", "");
	check_module("", "", "");
	check_module("name /path/in/args", "name", "/path/in/args");
}

static void test_long_names_and_lines_are_cut(void)
{
	char line[BOOT_CMDLINE_MAX + 100];
	struct boot_module *m = &bi->modules[0];

	memset(line, 'n', 100);
	strcpy(line + 100, " arg");
	bootmod_set_cmdline(m, line);
	CU_ASSERT_EQUAL(strlen(m->name), BOOT_MODNAME_MAX - 1);
	CU_ASSERT_STRING_EQUAL(m->args, "arg");

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	line[10] = ' ';
	bootmod_set_cmdline(m, line);
	CU_ASSERT_EQUAL(strlen(m->cmdline), BOOT_CMDLINE_MAX - 1);
	CU_ASSERT_EQUAL(strlen(m->args), BOOT_CMDLINE_MAX - 1 - 11);
	CU_ASSERT_EQUAL(strlen(m->name), 10);
}

static void test_find_by_name(void)
{
	bi->module_count = 3;
	bootmod_set_cmdline(&bi->modules[0], "/boot/a.elf one");
	bootmod_set_cmdline(&bi->modules[1], "/boot/b.elf two");
	bootmod_set_cmdline(&bi->modules[2], "/other/a.elf three");

	CU_ASSERT_PTR_EQUAL(bootmod_find(bi, "b.elf"), &bi->modules[1]);
	CU_ASSERT_PTR_EQUAL(bootmod_find(bi, "a.elf"), &bi->modules[0]);	/* first wins */
	CU_ASSERT_PTR_NULL(bootmod_find(bi, "c.elf"));
	CU_ASSERT_PTR_NULL(bootmod_find(bi, "/boot/b.elf"));	/* names, not paths */
	CU_ASSERT_PTR_NULL(bootmod_find(bi, "b.el"));

	bi->module_count = 1;			/* only counted modules are searched */
	CU_ASSERT_PTR_NULL(bootmod_find(bi, "b.elf"));
}

static void test_reserve_records_ranges(void)
{
	bootinfo_reserve(bi, 0x1000, 0x2000, "one");
	bootinfo_reserve(bi, 0x5000, 0, "empty");	/* ignored */
	CU_ASSERT_EQUAL_FATAL(bi->reserved_count, 1);
	CU_ASSERT_EQUAL(bi->reserved[0].base, 0x1000);
	CU_ASSERT_EQUAL(bi->reserved[0].size, 0x2000);
	CU_ASSERT_STRING_EQUAL(bi->reserved[0].what, "one");

	for (unsigned int i = 1; i < BOOT_MAX_RESERVED + 5; i++) {
		bootinfo_reserve(bi, i * 0x10000, 0x1000, "more");
	}
	CU_ASSERT_EQUAL(bi->reserved_count, BOOT_MAX_RESERVED);	/* full: no overflow */
}

static CU_TestInfo bootmod_tests[] = {
	{ "name is the last path component of the first word",
	  test_name_is_last_path_component_of_first_word },
	{ "long names and lines are cut", test_long_names_and_lines_are_cut },
	{ "find by name", test_find_by_name },
	{ "reserve records ranges", test_reserve_records_ranges },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo bootmod_suite = {
	.pName = "bootmod",
	.pInitFunc = unit_bootinfo_alloc,
	.pCleanupFunc = unit_bootinfo_free,
	.pSetUpFunc = setup,
	.pTests = bootmod_tests,
};
