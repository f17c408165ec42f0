/* SPDX-License-Identifier: MIT */
/* check.c: numbered checks grouped into tests, each test ending in one keeltest line. */
#include "keeltest64.h"

const char *kt_current;

static struct {
	const char *name;
	unsigned int checks;
	unsigned int failed;
	char first[240];
} group;

void kt_group_begin(const char *name)
{
	group.name = name;
	group.checks = 0;
	group.failed = 0;
	group.first[0] = '\0';
	kt_current = name;
}

static bool record(bool ok, const char *what, const char *detail)
{
	group.checks++;
	if (ok) {
		return true;
	}
	group.failed++;
	/* A detail line per failure; not "keeltest:", so the runner sees one result line. */
	kt_printf("%s: check %u (%s) FAILED: %s\n", group.name, group.checks, what, detail);
	if (group.failed == 1) {
		kt_snprintf(group.first, sizeof(group.first), "check %u (%s): %s", group.checks,
			    what, detail);
	}
	return false;
}

bool kt_check(bool ok, const char *what, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	detail[0] = '\0';
	if (!ok) {
		va_start(ap, fmt);
		kt_vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	return record(ok, what, detail);
}

bool kt_check_rc(const char *what, long got, long want)
{
	char detail[120];

	if (got == want) {
		return record(true, what, "");
	}
	kt_snprintf(detail, sizeof(detail), "returned %ld (%s), expected %ld (%s)", got,
		    kt_errname(got), want, kt_errname(want));
	return record(false, what, detail);
}

bool kt_check_eq(const char *what, uint64_t got, uint64_t want)
{
	char detail[120];

	if (got == want) {
		return record(true, what, "");
	}
	kt_snprintf(detail, sizeof(detail), "got 0x%lx, expected 0x%lx", got, want);
	return record(false, what, detail);
}

void kt_note(const char *fmt, ...)
{
	va_list ap;

	kt_printf("%s: ", group.name ? group.name : kt_current);
	va_start(ap, fmt);
	kt_vprintf(fmt, ap);
	va_end(ap);
	kt_printf("\n");
}

unsigned int kt_group_failed(void)
{
	return group.failed;
}

void kt_group_end(void)
{
	if (group.failed == 0) {
		keeltest_result(group.name, KEELTEST_SUCCESS, "%u checks", group.checks);
	} else {
		keeltest_result(group.name, KEELTEST_FAILURE, "%s; %u of %u checks failed",
				group.first, group.failed, group.checks);
	}
	kt_current = test_name;
}
