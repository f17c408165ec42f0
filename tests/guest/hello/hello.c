/* SPDX-License-Identifier: MIT */
/* hello.c: the smallest Keel-native guest: says who it is, sleeps, powers off. */
#include "keeltest64.h"

/*
 * Command line: sleep-ms=<n> (default 100). The result line comes after the
 * sleep, so it also proves the domain kept running that long:
 *   keeltest: hello: SUCCESS domain <id> '<name>', <n> vCPU(s), slept <ms> ms
 * The domain id and vCPU count must agree between CPUID B+4, the start
 * info, the shared info page and the device table.
 */
const char test_name[] = "hello";

static char name[32] = "?";

static bool read_identity(uint32_t *dt_domid, uint32_t *dt_vcpus)
{
	struct kt_fdt f;
	const char *n;
	long size;
	int node;

	size = kt_devtable_read(kt_dt_blob, sizeof(kt_dt_blob));
	if (size < 0) {
		keeltest_result(test_name, KEELTEST_FAILURE, "reading the device table: %ld (%s)",
				size, kt_errname(size));
		return false;
	}
	node = kt_fdt_init(&f, kt_dt_blob, (uint32_t)size) == 0 ?
	       kt_fdt_path(&f, "/" KEEL_DT_NODE_DOMAIN) : -1;
	if (node < 0 || !kt_fdt_u32(&f, node, KEEL_DT_PROP_DOMID, dt_domid) ||
	    !kt_fdt_u32(&f, node, KEEL_DT_PROP_VCPUS, dt_vcpus)) {
		keeltest_result(test_name, KEELTEST_FAILURE,
				"device table has no /domain with keel,domid and keel,vcpus");
		return false;
	}
	n = kt_fdt_string(&f, node, KEEL_DT_PROP_NAME);
	if (n != NULL) {
		kt_snprintf(name, sizeof(name), "%s", n);
	}
	return true;
}

void test_main(void)
{
	uint64_t ms = kt_cmdline_u64("sleep-ms", 100), start, slept;
	uint32_t dt_domid, dt_vcpus;
	struct kt_cpuid now;
	long rc;

	if (!read_identity(&dt_domid, &dt_vcpus)) {
		return;
	}
	if (kt_boot.si.domid != kt_boot.domid || kt_shared->domid != kt_boot.domid ||
	    dt_domid != kt_boot.domid) {
		keeltest_result(test_name, KEELTEST_FAILURE,
				"domain id: CPUID %u, start info %u, shared info %u, table %u",
				kt_boot.domid, kt_boot.si.domid, kt_shared->domid, dt_domid);
		return;
	}
	if (kt_boot.si.nr_vcpus != kt_boot.nr_vcpus || kt_shared->nr_vcpus != kt_boot.nr_vcpus ||
	    dt_vcpus != kt_boot.nr_vcpus) {
		keeltest_result(test_name, KEELTEST_FAILURE,
				"vCPUs: CPUID %u, start info %u, shared info %u, device table %u",
				kt_boot.nr_vcpus, kt_boot.si.nr_vcpus, kt_shared->nr_vcpus,
				dt_vcpus);
		return;
	}
	start = kt_now_ns();
	rc = kt_sleep_ns(ms * KT_NS_PER_MS);
	slept = kt_now_ns() - start;
	/*
	 * Asked again after the sleep: a register value from Keel, against what
	 * this kernel stored in its memory at start. They differ if the domain
	 * ran on another domain's memory (a stale nested TLB, for example).
	 */
	now = kt_cpuid(kt_boot.cpuid_base + KEEL_CPUID_LEAF_DOMAIN, 0);
	if (now.ebx != kt_boot.domid || kt_shared->domid != now.ebx) {
		keeltest_result(test_name, KEELTEST_FAILURE,
				"CPUID B+4 now says domain %u, memory says %u, shared info %u",
				now.ebx, kt_boot.domid, kt_shared->domid);
		return;
	}
	if (rc != 0 || slept < ms * KT_NS_PER_MS) {
		keeltest_result(test_name, KEELTEST_FAILURE,
				"sleep of %lu ms: rc %ld (%s), %lu ns passed",
				ms, rc, kt_errname(rc), slept);
		return;
	}
	keeltest_result(test_name, KEELTEST_SUCCESS, "domain %u '%s', %u vCPU(s), slept %lu ms",
			kt_boot.domid, name, kt_boot.nr_vcpus, slept / KT_NS_PER_MS);
}
