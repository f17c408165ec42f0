/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_trust.c - values keelctl must not take on trust: a
 * domain name that would name the state directory's parent, a bridge name
 * that would add lines to a state file, a kernel that is a FIFO or a
 * directory, and top's numbers. Each is refused by name, and leaves nothing
 * behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../build/builder.h"
#include "../cli/cli.h"
#include "../config/domcfg.h"
#include "statedir.h"
#include "tests.h"

static char err[512];

static int parse(const char *text, struct domcfg *cfg)
{
	err[0] = 0;
	return domcfg_parse("/etc/keel/vm.cfg", text, strlen(text), cfg, err, sizeof(err));
}

static void expect_refused(const char *text, const char *message)
{
	struct domcfg c;

	CU_ASSERT_EQUAL(parse(text, &c), -1);
	if (!strstr(err, message)) {
		fprintf(stderr, "\n  got \"%s\"\n  wanted \"%s\"\n", err, message);
		CU_FAIL("error message");
	}
}

/* A directory given as the configuration: its own error, not a parse of nothing. */
static void test_config_is_a_directory(void)
{
	struct domcfg c;

	CU_ASSERT_EQUAL(domcfg_load(env_get()->dir, &c, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, env_get()->dir));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ": Is a directory"));
}

static void test_names_that_are_not_one_directory(void)
{
	expect_refused("name = '..'\nkernel = '/k'\n", "vm.cfg:1: 'name' must not be '.' or '..'");
	expect_refused("name = '.'\nkernel = '/k'\n", "vm.cfg:1: 'name' must not be '.' or '..'");
}

/*
 * Keel takes any printable name, so a domain another toolstack made may be
 * called "..": the state directory functions refuse it rather than empty
 * the run directory's parent.
 */
static void test_state_dir_refuses_parent(void)
{
	char root[128], canary[160], path[KB_STATE_PATH_MAX], value[16];
	const char *saved = getenv("KEEL_RUN_DIR");
	char *saved_copy = saved ? strdup(saved) : NULL;
	struct stat st;
	FILE *f;

	snprintf(root, sizeof(root), "%s/trust-root", env_get()->dir);
	snprintf(canary, sizeof(canary), "%s/canary", env_get()->dir);
	f = fopen(canary, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(mkdir(root, 0755), 0);
	setenv("KEEL_RUN_DIR", root, 1);
	CU_ASSERT_EQUAL(kb_state_remove(".."), -1);
	CU_ASSERT_EQUAL(stat(canary, &st), 0);	/* the run directory's parent is untouched */
	CU_ASSERT_EQUAL(kb_state_begin("..", 7), -1);
	CU_ASSERT_EQUAL(kb_state_put("..", "canary", "x=1\n"), -1);
	CU_ASSERT_EQUAL(kb_state_get("..", "canary", "x", value, sizeof(value)), -1);
	CU_ASSERT_EQUAL(kb_state_path(path, sizeof(path), ".", NULL), -1);
	CU_ASSERT_EQUAL(kb_state_path(path, sizeof(path), "a/b", "f"), -1);
	CU_ASSERT_EQUAL(kb_state_path(path, sizeof(path), "", "f"), -1);
	CU_ASSERT_EQUAL(kb_state_path(path, sizeof(path), "..a", "f"), 0);	/* a name, not a step up */
	if (saved_copy) {
		setenv("KEEL_RUN_DIR", saved_copy, 1);
	} else {
		unsetenv("KEEL_RUN_DIR");
	}
	free(saved_copy);
	CU_ASSERT_EQUAL(stat(canary, &st), 0);
	CU_ASSERT_EQUAL(rmdir(root), 0);
	unlink(canary);
}

/* A bridge name is one line of the vif's state file, and a Linux interface name. */
static void test_bridge_names(void)
{
	static const char *const bad[] = { "br0\\nmac=02:00:00:00:00:01", "a:b", "..", ".", "br\\t0",
					   "sixteen-chars-xx" };
	char text[256];
	struct domcfg c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "name='a'\nkernel='/k'\nvif=['bridge=%s']\n", bad[i]);
		expect_refused(text, "is not an interface name");
	}
	CU_ASSERT_EQUAL(parse("name='a'\nkernel='/k'\nvif=['bridge=xenbr0.10']\n", &c), 0);
	domcfg_free(&c);
}

/* A kernel or ramdisk that is not a regular file is refused at once (a FIFO would block). */
static void test_kernel_not_a_regular_file(void)
{
	char fifo[256], cfg[768];
	struct build_options opt = { 0 };
	uint64_t before = env_free_pages();
	unsigned int domains = env_domains();
	struct domcfg c;
	uint32_t id;

	snprintf(fifo, sizeof(fifo), "%s/kernel.fifo", env_get()->dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	snprintf(cfg, sizeof(cfg), "name='fifo'\nkernel='kernel.fifo'\n");
	CU_ASSERT_EQUAL_FATAL(domcfg_load(env_file("fifo.cfg", cfg), &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(keelctl_build_domain(&env_get()->ctl, &c, &opt, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "kernel.fifo: not a regular file"));
	domcfg_free(&c);
	snprintf(cfg, sizeof(cfg), "name='dir'\nkernel='/tmp'\n");
	CU_ASSERT_EQUAL_FATAL(domcfg_load(env_file("dir.cfg", cfg), &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(keelctl_build_domain(&env_get()->ctl, &c, &opt, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/tmp: not a regular file"));
	domcfg_free(&c);
	CU_ASSERT_EQUAL(env_domains(), domains);
	CU_ASSERT_EQUAL(env_free_pages(), before);
	unlink(fifo);
}

/* "keelctl top ARGS": its exit code, the error in err_text. */
static char *err_text;

static int run_top(char **argv)
{
	char *out_text = NULL;
	size_t out_len = 0, err_len = 0;
	struct cli cli = { .c = &env_get()->ctl, .in_fd = -1, .poll_ms = 1 };
	int argc = 0, rc;

	while (argv[argc]) {
		argc++;
	}
	free(err_text);
	err_text = NULL;
	cli.out = open_memstream(&out_text, &out_len);
	cli.err = open_memstream(&err_text, &err_len);
	rc = cmd_top(&cli, argc, argv);
	fclose(cli.out);
	fclose(cli.err);
	free(out_text);
	return rc;
}

/* top's numbers: no negative, NaN or out-of-range delay, no negative or zero frame count. */
static void test_top_numbers(void)
{
	static char *const bad[][3] = {
		{ "-d", "-1", "-d '-1' must be seconds" }, { "-d", "nan", "-d 'nan' must be seconds" },
		{ "-d", "1e30", "must be seconds, 0 to 86400" }, { "-d", "-0.5", "must be seconds" },
		{ "-d", "1s", "must be seconds" }, { "-n", "-1", "-n '-1' must be a number of frames" },
		{ "-n", "0", "must be a number of frames, 1 or more" }, { "-n", "", "frames" },
	};

	char *good[] = { "top", "-b", "-n", "1", "-d", "0.01", NULL };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "top", "-b", bad[i][0], bad[i][1], NULL };

		CU_ASSERT_EQUAL(run_top(argv), EXIT_USAGE);
		if (!err_text || !strstr(err_text, bad[i][2])) {
			fprintf(stderr, "\n  top %s '%s': got \"%s\"\n", bad[i][0], bad[i][1],
				err_text ? err_text : "");
			CU_FAIL("top error message");
		}
	}
	CU_ASSERT_EQUAL(run_top(good), EXIT_OK);
	free(err_text);
	err_text = NULL;
}

static CU_TestInfo tests[] = {
	{ "a configuration that is a directory", test_config_is_a_directory },
	{ "name '.' and '..' are refused", test_names_that_are_not_one_directory },
	{ "the state directory refuses '..' and other non-names", test_state_dir_refuses_parent },
	{ "bridge names: Linux interface names on one line", test_bridge_names },
	{ "a kernel that is a FIFO or a directory", test_kernel_not_a_regular_file },
	{ "top: bad numbers are usage errors", test_top_numbers },
	CU_TEST_INFO_NULL,
};

static int clean(void)
{
	env_clean();
	return 0;
}

CU_SuiteInfo trust_suite = { "untrusted values", clean, clean, NULL, NULL, tests };
