/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_cli.c - every keelctl verb shown in docs/keelctl.md,
 * run in-process against Keel's real core, with its output and exit code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <keel/sched.h>
#include <keel/start_info.h>
#include "../cli/cli.h"
#include "fake_keel.h"
#include "tests.h"

static char *out_text, *err_text;
static int in_fd = -1;
static void (*hook)(void *);

/* Run "keelctl ARGS..." (NULL-terminated); output in out_text / err_text. */
static int run(const char *first, ...)
{
	static char argbuf[16][256];
	char *argv[16] = { "keelctl" };
	size_t out_len = 0, err_len = 0;
	int argc = 1, rc;
	struct cli cli = { .c = &env_get()->ctl, .in_fd = in_fd, .state_dir = env_get()->dir,
			   .poll_hook = hook, .poll_ms = 1 };
	va_list ap;

	free(out_text);
	free(err_text);
	cli.out = open_memstream(&out_text, &out_len);
	cli.err = open_memstream(&err_text, &err_len);
	va_start(ap, first);
	for (const char *a = first; a && argc < 15; a = va_arg(ap, const char *)) {
		snprintf(argbuf[argc], sizeof(argbuf[argc]), "%s", a);	/* argv is not const */
		argv[argc] = argbuf[argc];
		argc++;
	}
	va_end(ap);
	rc = keelctl_cli(&cli, argc, argv);
	fclose(cli.out);
	fclose(cli.err);
	return rc;
}

static const char *make_config(const char *name, unsigned int mib)
{
	struct test_kernel k = { .mode = KEEL_ENTRY_MODE_LONG64, .load = 0x200000, .code_size = 64 };
	static char path[256];
	char kpath[256], text[512];

	snprintf(kpath, sizeof(kpath), "%s/cli.elf", env_get()->dir);
	CU_ASSERT_EQUAL(write_test_kernel(kpath, &k), 0);
	snprintf(text, sizeof(text), "name = '%s'\nmemory = %u\nkernel = 'cli.elf'\n", name, mib);
	snprintf(path, sizeof(path), "%s", env_file("cli.cfg", text));
	return path;
}

static void test_usage_and_info(void)
{
	CU_ASSERT_EQUAL(run(NULL), EXIT_USAGE);
	CU_ASSERT_EQUAL(run("help", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "keelctl create CONFIG"));
	CU_ASSERT_EQUAL(run("frobnicate", NULL), EXIT_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "unknown command 'frobnicate'"));
	CU_ASSERT_EQUAL(run("info", NULL), EXIT_OK);
	{
		char abi[64];

		snprintf(abi, sizeof(abi), "abi_version      : %u.%u", KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
		CU_ASSERT_PTR_NOT_NULL(strstr(out_text, abi));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "keelctl_transport: fake"));
}

static void test_create_list_json_destroy(void)
{
	uint64_t before = env_free_pages();
	const char *cfg = make_config("web1", 8);

	CU_ASSERT_EQUAL_FATAL(run("create", cfg, NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "created domain web1 (id "));
	CU_ASSERT_EQUAL(run("create", cfg, NULL), EXIT_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "a domain named 'web1' already exists"));
	CU_ASSERT_EQUAL(run("list", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Name"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "ctl "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "web1 "));
	CU_ASSERT_EQUAL(run("list", "--json", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "\"name\": \"web1\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "\"memory_mib\": 8"));
	CU_ASSERT_EQUAL(out_text[0], '[');
	CU_ASSERT_EQUAL(run("pause", "web1", NULL), EXIT_OK);
	CU_ASSERT_EQUAL(run("list", "--json", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "\"state\": \"--p---\""));
	CU_ASSERT_EQUAL(run("unpause", "web1", NULL), EXIT_OK);
	CU_ASSERT_EQUAL(run("destroy", "web1", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "web1: destroyed"));
	CU_ASSERT_EQUAL(run("destroy", "web1", NULL), EXIT_NO_DOMAIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "no domain 'web1'"));
	CU_ASSERT_EQUAL(env_free_pages(), before);
}

static void test_errors_have_exit_codes(void)
{
	CU_ASSERT_EQUAL(run("create", NULL), EXIT_USAGE);
	CU_ASSERT_EQUAL(run("create", env_file("bad.cfg", "name='x'\nmemroy=1\n"), NULL), EXIT_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "bad.cfg:2: unknown key 'memroy'"));
	CU_ASSERT_EQUAL(run("pause", "424242", NULL), EXIT_NO_DOMAIN);
	CU_ASSERT_EQUAL(run("pause", NULL), EXIT_USAGE);
	CU_ASSERT_EQUAL(run("list", "--yaml", NULL), EXIT_USAGE);
	CU_ASSERT_EQUAL(run("destroy", "ctl", NULL), EXIT_FAILED);	/* not self: Keel says EINVAL */
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "invalid argument"));
}

static uint32_t waiting_for;

static void guest_obeys(void *arg)
{
	(void)arg;
	(void)fake_keel_guest_shutdown(waiting_for, KEEL_SHUTDOWN_POWEROFF);
}

static void test_shutdown_reboot(void)
{
	char id[16];

	CU_ASSERT_EQUAL_FATAL(run("create", make_config("sd", 4), NULL), EXIT_OK);
	CU_ASSERT_EQUAL(sscanf(strstr(out_text, "(id ") + 4, "%u", &waiting_for), 1);
	snprintf(id, sizeof(id), "%u", waiting_for);
	CU_ASSERT_EQUAL(run("reboot", "sd", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "sd: reboot requested"));
	hook = guest_obeys;
	CU_ASSERT_EQUAL(run("shutdown", id, "-w", NULL), EXIT_OK);	/* by domain id */
	hook = NULL;
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "shut down"));
	CU_ASSERT_EQUAL(run("list", "--json", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "\"shutdown_reason\": 1"));
	CU_ASSERT_EQUAL(run("shutdown", "sd", NULL), EXIT_FAILED);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "already shut down"));
	CU_ASSERT_EQUAL(run("destroy", id, NULL), EXIT_OK);
}

static void test_console(void)
{
	int fds[2];
	uint32_t domid;

	CU_ASSERT_EQUAL_FATAL(run("create", make_config("con", 4), NULL), EXIT_OK);
	CU_ASSERT_EQUAL(sscanf(strstr(out_text, "(id ") + 4, "%u", &domid), 1);
	CU_ASSERT_EQUAL(fake_keel_guest_print(domid, "login: "), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	CU_ASSERT_EQUAL(write(fds[1], "root\n\035", 6), 6);	/* typed, then Ctrl-] */
	in_fd = fds[0];
	CU_ASSERT_EQUAL(run("console", "con", NULL), EXIT_OK);
	in_fd = -1;
	close(fds[0]);
	close(fds[1]);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "login: "));
	/* create -c attaches; with no input it prints what there is and returns. */
	CU_ASSERT_EQUAL(run("destroy", "con", NULL), EXIT_OK);
	CU_ASSERT_EQUAL(run("create", make_config("con2", 4), "-c", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "created domain con2"));
	CU_ASSERT_EQUAL(run("destroy", "con2", NULL), EXIT_OK);
}

static void test_dmesg(void)
{
	CU_ASSERT_EQUAL(run("dmesg", NULL), EXIT_OK);
	CU_ASSERT_TRUE(strlen(out_text) > 0);
	CU_ASSERT_EQUAL(run("dmesg", "-c", NULL), EXIT_OK);
	CU_ASSERT_TRUE(strlen(out_text) > 0);
	CU_ASSERT_EQUAL(run("dmesg", NULL), EXIT_OK);
	CU_ASSERT_EQUAL(strlen(out_text), 0);	/* all read and marked */
	CU_ASSERT_EQUAL(run("dmesg", "-x", NULL), EXIT_USAGE);
}

/*
 * dmesg -w's hook: a domain comes and goes per wait (Keel logs both); the
 * third wait ends it as SIGINT would.
 */
static int follow_waits;

static void follow_hook(void *arg)
{
	char name[32];
	uint32_t id;

	(void)arg;
	if (++follow_waits >= 3) {
		dmesg_follow_stop = 1;
		return;
	}
	snprintf(name, sizeof(name), "follow%d", follow_waits);
	fake_keel_domain_destroy(fake_keel_domain(name, 0, &id));
}

static void test_dmesg_follow(void)
{
	CU_ASSERT_EQUAL(run("dmesg", "-c", NULL), EXIT_OK);	/* everything before: read */
	follow_waits = 0;
	hook = follow_hook;
	CU_ASSERT_EQUAL(run("dmesg", "-c", "-w", NULL), EXIT_OK);
	hook = NULL;
	CU_ASSERT_EQUAL(follow_waits, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "'follow1' created"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "'follow2' destroyed"));
	/* No event source in-process: it says so and polls. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err_text, "dmesg -w: no KEEL_VIRQ_LOG"));
	CU_ASSERT_EQUAL(dmesg_follow_stop, 0);	/* ready for the next follower */
	/* -c kept the position as it went: nothing is left unread. */
	CU_ASSERT_EQUAL(run("dmesg", NULL), EXIT_OK);
	CU_ASSERT_EQUAL(strlen(out_text), 0);
	CU_ASSERT_EQUAL(run("dmesg", "-w", "-x", NULL), EXIT_USAGE);
}

static void test_top_batch(void)
{
	CU_ASSERT_EQUAL_FATAL(run("create", make_config("busy", 4), NULL), EXIT_OK);
	CU_ASSERT_EQUAL(run("top", "-b", "-n", "1", "-d", "0", NULL), EXIT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "CPU(%)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "busy "));
	CU_ASSERT_PTR_NULL(strstr(out_text, "\033["));	/* batch: no screen control */
	CU_ASSERT_EQUAL(run("top", "-n", "x", NULL), EXIT_USAGE);
	CU_ASSERT_EQUAL(run("destroy", "busy", NULL), EXIT_OK);
}

static int clean(void)
{
	env_clean();
	free(out_text);
	free(err_text);
	out_text = err_text = NULL;
	return 0;
}

static CU_TestInfo tests[] = {
	{ "usage, help, info", test_usage_and_info },
	{ "create, list, list --json, pause, unpause, destroy", test_create_list_json_destroy },
	{ "errors and exit codes", test_errors_have_exit_codes },
	{ "reboot, shutdown -w", test_shutdown_reboot },
	{ "console and create -c", test_console },
	{ "dmesg and dmesg -c", test_dmesg },
	{ "dmesg -w follows the log", test_dmesg_follow },
	{ "top -b -n 1", test_top_batch },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo cli_suite = { "keelctl CLI", clean, clean, NULL, NULL, tests };
