/* SPDX-License-Identifier: MIT */
/* tests/unit/core/test_options.c - unit tests for core/options.c (the command line). */
#include <keel/options.h>
#include "fake_arch.h"
#include "unit.h"

static struct keel_options defaults;

static int init(void)
{
	defaults = options;
	return 0;
}

static void setup(void)
{
	fake_arch_reset();
	options = defaults;
}

static void teardown(void)
{
	options = defaults;
}

static void test_defaults(void)
{
	CU_ASSERT_EQUAL(options.log_level, LOG_INFO);
	CU_ASSERT_STRING_EQUAL(options.probe_guest, "probe-guest.elf");
	CU_ASSERT_FALSE(options.qemu_exit);
	CU_ASSERT_STRING_EQUAL(options.crash_test, "");
	CU_ASSERT_FALSE(options.exit_stats);
	CU_ASSERT_EQUAL(options_parse(""), 0);
	CU_ASSERT_EQUAL(options_parse("   \t "), 0);
}

static void test_every_key(void)
{
	CU_ASSERT_EQUAL(options_parse("loglevel=debug probe_guest=test.elf qemu_exit=1 "
				      "crash_test=ud exit_stats=on"), 0);
	CU_ASSERT_EQUAL(options.log_level, LOG_DEBUG);
	CU_ASSERT_TRUE(options.exit_stats);
	CU_ASSERT_STRING_EQUAL(options.probe_guest, "test.elf");
	CU_ASSERT_TRUE(options.qemu_exit);
	CU_ASSERT_STRING_EQUAL(options.crash_test, "ud");
	CU_ASSERT_EQUAL(fake_console_len(), 0);
}

static void test_log_levels(void)
{
	static const char *const words[] = { "loglevel=error", "loglevel=warn",
					     "loglevel=info", "loglevel=debug" };

	for (unsigned int i = 0; i < ARRAY_SIZE(words); i++) {
		CU_ASSERT_EQUAL(options_parse(words[i]), 0);
		CU_ASSERT_EQUAL(options.log_level, (enum log_level)i);
	}
}

static void test_booleans(void)
{
	static const struct {
		const char *word;
		bool value;
	} ok[] = {
		{ "qemu_exit=1", true }, { "qemu_exit=0", false },
		{ "qemu_exit=yes", true }, { "qemu_exit=no", false },
		{ "qemu_exit=on", true }, { "qemu_exit=off", false },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(ok); i++) {
		CU_ASSERT_EQUAL(options_parse(ok[i].word), 0);
		CU_ASSERT_EQUAL(options.qemu_exit, ok[i].value);
	}
	options.qemu_exit = true;
	CU_ASSERT_EQUAL(options_parse("qemu_exit=2 qemu_exit=true qemu_exit=ye qemu_exit="), 4);
	CU_ASSERT_TRUE(options.qemu_exit);		/* bad values change nothing */
}

static void test_bad_values_are_counted_not_fatal(void)
{
	char word[OPTION_VALUE_MAX + 32];

	CU_ASSERT_EQUAL(options_parse("loglevel=loud probe_guest= crash_test="), 3);
	CU_ASSERT_EQUAL(options.log_level, LOG_INFO);
	CU_ASSERT_STRING_EQUAL(options.probe_guest, "probe-guest.elf");
	CU_ASSERT_TRUE(fake_console_has("warn: command line: ignoring 'loglevel=loud' "
					"(unknown key or bad value)\n"));

	/* A value must fit OPTION_VALUE_MAX with its NUL. */
	strcpy(word, "probe_guest=");
	memset(word + 12, 'p', OPTION_VALUE_MAX);
	word[12 + OPTION_VALUE_MAX] = '\0';
	CU_ASSERT_EQUAL(options_parse(word), 1);
	CU_ASSERT_STRING_EQUAL(options.probe_guest, "probe-guest.elf");
	word[12 + OPTION_VALUE_MAX - 1] = '\0';
	CU_ASSERT_EQUAL(options_parse(word), 0);
	CU_ASSERT_EQUAL(strlen(options.probe_guest), OPTION_VALUE_MAX - 1);
}

static void test_unknown_keys_are_counted_not_fatal(void)
{
	CU_ASSERT_EQUAL(options_parse("bogus=1 loglevel=warn =x LOGLEVEL=debug"), 3);
	CU_ASSERT_EQUAL(options.log_level, LOG_WARN);	/* the good one still applies */
	CU_ASSERT_TRUE(fake_console_has("ignoring 'bogus=1'"));
	CU_ASSERT_TRUE(fake_console_has("ignoring '=x'"));
	CU_ASSERT_TRUE(fake_console_has("ignoring 'LOGLEVEL=debug'"));
}

static void test_leading_word_without_equals_is_the_image(void)
{
	CU_ASSERT_EQUAL(options_parse("/boot/keel.elf loglevel=error"), 0);
	CU_ASSERT_EQUAL(options.log_level, LOG_ERROR);
	CU_ASSERT_EQUAL(fake_console_len(), 0);

	CU_ASSERT_EQUAL(options_parse("  keel.elf"), 0);
	/* Only the first word may lack '='. */
	CU_ASSERT_EQUAL(options_parse("keel.elf stray loglevel=info another"), 2);
	CU_ASSERT_EQUAL(options.log_level, LOG_INFO);
	CU_ASSERT_TRUE(fake_console_has("ignoring 'stray' (expected key=value)"));
	CU_ASSERT_TRUE(fake_console_has("ignoring 'another' (expected key=value)"));
}

static void test_tabs_separate_and_later_words_win(void)
{
	CU_ASSERT_EQUAL(options_parse("\tloglevel=error\tcrash_test=panic  loglevel=debug\t"), 0);
	CU_ASSERT_EQUAL(options.log_level, LOG_DEBUG);
	CU_ASSERT_STRING_EQUAL(options.crash_test, "panic");
}

static void test_value_may_contain_equals(void)
{
	CU_ASSERT_EQUAL(options_parse("probe_guest=a=b"), 0);
	CU_ASSERT_STRING_EQUAL(options.probe_guest, "a=b");
}

static CU_TestInfo options_tests[] = {
	{ "defaults", test_defaults },
	{ "every key", test_every_key },
	{ "log levels", test_log_levels },
	{ "booleans", test_booleans },
	{ "bad values are counted, not fatal", test_bad_values_are_counted_not_fatal },
	{ "unknown keys are counted, not fatal", test_unknown_keys_are_counted_not_fatal },
	{ "a leading word without '=' is the image",
	  test_leading_word_without_equals_is_the_image },
	{ "tabs separate, later words win", test_tabs_separate_and_later_words_win },
	{ "a value may contain '='", test_value_may_contain_equals },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo options_suite = {
	.pName = "options",
	.pInitFunc = init,
	.pSetUpFunc = setup,
	.pTearDownFunc = teardown,
	.pTests = options_tests,
};
