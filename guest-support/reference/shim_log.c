/* SPDX-License-Identifier: MIT */
/*
 * shim_log.c - kpv_shim_log: one console line per call through
 * KEEL_HC_CONSOLE_WRITE, which Keel prints behind the domain's prefix.
 * [any]: the line is built in one page-aligned buffer under a lock (the
 * call wants a buffer within one page). Debug lines only with kpv_debug=1.
 */
#include "ref.h"

static char line[KPV_PAGE_SIZE] KT_PAGE_ALIGNED;
static struct kpv_lock log_lock;
static int debug = -1;		/* from the command line on first use */

static size_t append(size_t at, const char *s)
{
	while (*s != '\0' && at < sizeof(line) - 1) {
		line[at++] = *s++;
	}
	return at;
}

void kpv_shim_log(enum kpv_log_level level, const char *text)
{
	/* pvdrivers starts its lines with "kpv: "; the prefix adds the level. */
	static const char *const prefix[] = {
		[KPV_LOG_ERROR] = "error: ",
		[KPV_LOG_WARN] = "warning: ",
		[KPV_LOG_INFO] = "",
		[KPV_LOG_DEBUG] = "debug: ",
	};
	unsigned long flags;
	size_t n;

	if (debug < 0) {
		debug = kt_cmdline_u64("kpv_debug", 0) != 0;
	}
	if ((unsigned int)level > KPV_LOG_DEBUG || (level == KPV_LOG_DEBUG && !debug)) {
		return;
	}
	flags = kpv_shim_lock(&log_lock);
	n = append(append(0, prefix[level]), text);
	line[n++] = '\n';
	keel_hypercall2(KEEL_HC_CONSOLE_WRITE, KT_GPA(line), n);
	kpv_shim_unlock(&log_lock, flags);
}
