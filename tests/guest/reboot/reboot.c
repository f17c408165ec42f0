/* SPDX-License-Identifier: MIT */
/*
 * reboot.c: a Keel-native kernel for boot-time domain restarts
 * (docs/boot-config.md, "When a domain ends"). Keel appends
 * keel_restart=<n> to the command line of the n-th rebuild, which is how a
 * boot tells it is not the first.
 *
 * Command line: mode=<m>; devices=<n>, the devices its spec gives it,
 * checked on every boot, so a rebuilt domain is seen to have its devices
 * again (absent: not checked); delay-ms=<ms>, a sleep before acting on
 * every boot; for watch, seconds=<s>.
 *   mode=reboot-once  first boot: KEEL_SHUTDOWN_REBOOT; a restarted boot
 *                     prints its restart count and powers off
 *   mode=crash        every boot reports a crash (SCHED_SHUTDOWN CRASH), for
 *                     the restart limit
 *   mode=watch        a frontend whose backend reboots: its device must go
 *                     and come back with the new backend domain as its peer
 * Result lines: keeltest: reboot-<name>-<what>: SUCCESS|FAILURE ...
 */
#include "keeltest64.h"

const char test_name[] = "reboot";

struct device_view {
	bool found;
	uint32_t peer;
	uint32_t index;
	char label[16];
};

static char name[32] = "?";
static char result[64];

static const char *result_name(const char *what)
{
	kt_snprintf(result, sizeof(result), "reboot-%s-%s", name, what);
	return result;
}

/* Read the device table: the domain's name, the device count, the first device. */
static long read_table(uint32_t *count, struct device_view *first)
{
	struct kt_fdt f;
	const char *s;
	long size = kt_devtable_read(kt_dt_blob, sizeof(kt_dt_blob));
	int node, devices;

	*count = 0;
	first->found = false;
	if (size < 0 || kt_fdt_init(&f, kt_dt_blob, (uint32_t)size) != 0) {
		return size < 0 ? size : -1;
	}
	node = kt_fdt_path(&f, "/" KEEL_DT_NODE_DOMAIN);
	s = node >= 0 ? kt_fdt_string(&f, node, KEEL_DT_PROP_NAME) : NULL;
	if (s) {
		kt_snprintf(name, sizeof(name), "%s", s);
	}
	devices = kt_fdt_path(&f, "/" KEEL_DT_NODE_DEVICES);
	for (int d = devices >= 0 ? kt_fdt_first_child(&f, devices) : -1; d >= 0;
	     d = kt_fdt_next_sibling(&f, d)) {
		if (!first->found) {
			first->found = kt_fdt_u32(&f, d, KEEL_DT_PROP_PEER_DOMID, &first->peer) &&
				       kt_fdt_u32(&f, d, KEEL_DT_PROP_INDEX, &first->index);
			s = kt_fdt_string(&f, d, KEEL_DT_PROP_LABEL);
			kt_snprintf(first->label, sizeof(first->label), "%s", s ? s : "");
		}
		(*count)++;
	}
	return 0;
}

static void reboot_once(uint64_t restarts, uint32_t devices)
{
	if (restarts == 0) {
		keeltest_result(result_name("boot0"), KEELTEST_SUCCESS,
				"domain %u, %u device(s), asking to reboot", kt_boot.domid, devices);
		kt_shutdown(KEEL_SHUTDOWN_REBOOT);
	}
	keeltest_result(result_name("restarted"), KEELTEST_SUCCESS,
			"domain %u, restart %lu, %u device(s)", kt_boot.domid, restarts, devices);
}

/* The device goes with the old backend and comes back with the new one. */
static void watch(uint64_t seconds)
{
	uint64_t end = kt_now_ns() + seconds * 1000 * KT_NS_PER_MS;
	struct device_view before, now;
	uint32_t count;

	if (read_table(&count, &before) != 0 || !before.found) {
		keeltest_result(result_name("watch"), KEELTEST_FAILURE, "no device to watch");
		return;
	}
	while (kt_now_ns() < end) {
		kt_sleep_ns(10 * KT_NS_PER_MS);
		if (read_table(&count, &now) != 0 || !now.found || now.peer == before.peer) {
			continue;
		}
		if (now.index != before.index || kt_strcmp(now.label, before.label) != 0) {
			keeltest_result(result_name("watch"), KEELTEST_FAILURE, "device came back "
					"as index %u '%s', was index %u '%s'", now.index, now.label,
					before.index, before.label);
		} else {
			keeltest_result(result_name("watch"), KEELTEST_SUCCESS, "device '%s' came "
					"back with backend domain %u (was %u)", now.label, now.peer,
					before.peer);
		}
		return;
	}
	keeltest_result(result_name("watch"), KEELTEST_FAILURE, "backend domain %u did not come "
			"back within %lu s", before.peer, seconds);
}

void test_main(void)
{
	char mode[16] = "";
	uint64_t restarts = kt_cmdline_u64("keel_restart", 0);
	uint64_t expected = kt_cmdline_u64("devices", UINT64_MAX);
	struct device_view first;
	uint32_t devices;

	kt_cmdline_str("mode", mode, sizeof(mode));
	if (read_table(&devices, &first) != 0 ||
	    (expected != UINT64_MAX && devices != expected)) {
		keeltest_result(result_name("devices"), KEELTEST_FAILURE, "boot after %lu restart(s): "
				"%u device(s) in the table, expected %lu", restarts, devices, expected);
		return;
	}
	kt_sleep_ns(kt_cmdline_u64("delay-ms", 0) * KT_NS_PER_MS);
	if (kt_strcmp(mode, "reboot-once") == 0) {
		reboot_once(restarts, devices);
	} else if (kt_strcmp(mode, "crash") == 0) {
		keeltest_result(result_name("crash"), KEELTEST_SUCCESS,
				"domain %u, restart %lu, crashing on purpose", kt_boot.domid, restarts);
		kt_shutdown(KEEL_SHUTDOWN_CRASH);
	} else if (kt_strcmp(mode, "watch") == 0) {
		watch(kt_cmdline_u64("seconds", 30));
	} else {
		keeltest_result(result_name("mode"), KEELTEST_ERROR, "unknown mode '%s'", mode);
	}
}
