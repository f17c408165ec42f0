/* SPDX-License-Identifier: MIT */
/* vcpu_devtable.c: the hcall-vcpu group (info, registration, time, runstate) and hcall-devtable. */
#include "hcall.h"

#define FDT_MAGIC	0xd00dfeedu

static struct keel_vcpu_status vs __attribute__((aligned(64)));
static uint8_t dt_buf[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;

static long vcpu_info(uint32_t vcpu)
{
	memset(&vs, 0, sizeof(vs));
	vs.vcpu = vcpu;
	return keel_hypercall1(KEEL_HC_VCPU_INFO, KT_GPA(&vs));
}

static void check_vcpu_info(void)
{
	const struct keel_vcpu_info *vi = &kt_vcpu_info[0];
	long rc = vcpu_info(0);

	kt_check_rc("VCPU_INFO(0)", rc, 0);
	kt_check_eq("VCPU_INFO(0) flags: online, info registered", vs.flags,
		    KEEL_VCPU_F_ONLINE | KEEL_VCPU_F_INFO_REGISTERED);
	kt_check_eq("VCPU_INFO(0) info_gpa", vs.info_gpa, KT_GPA(vi));
	kt_check_eq("VCPU_INFO(0) runstate RUNNING", vs.runstate.state, KEEL_RUNSTATE_RUNNING);
	kt_check_rc("VCPU_INFO(1) in a 1-vCPU domain", vcpu_info(1), -KEEL_EINVAL);
	kt_check_rc("VCPU_INFO struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_VCPU_INFO, HC_MISALIGNED),
		    -KEEL_EFAULT);
	kt_check_rc("VCPU_INFO struct crossing a page",
		    keel_hypercall1(KEEL_HC_VCPU_INFO, hc_crossing(sizeof(vs))), -KEEL_EFAULT);
	kt_check_rc("VCPU_INFO struct not RAM", keel_hypercall1(KEEL_HC_VCPU_INFO, KT_GPA_NOT_RAM),
		    -KEEL_EFAULT);
	kt_check((vi->time.version & 1) == 0 && vi->time.tsc_to_ns_mul != 0 &&
		 (vi->time.flags & ~KEEL_TIME_F_TSC_STABLE) == 0 && vi->time.pad0[0] == 0 &&
		 vi->time.pad0[1] == 0 && vi->time.pad0[2] == 0,
		 "registered time info: even version, a multiplier, known flags",
		 "version %u mul %u flags 0x%x", vi->time.version, vi->time.tsc_to_ns_mul,
		 vi->time.flags);
	kt_check((vi->runstate.version & 1) == 0 && vi->runstate.state == KEEL_RUNSTATE_RUNNING,
		 "registered runstate: RUNNING", "version %u state %u", vi->runstate.version,
		 vi->runstate.state);
}

static void check_register(void)
{
	uint64_t other = KT_GPA(hc_page[2]);
	const struct keel_vcpu_info *vi = KT_PTR(other);

	kt_check_rc("REGISTER_INFO not 64-byte aligned",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, KT_GPA(hc_page[0]) + 32),
		    -KEEL_EFAULT);
	kt_check_rc("REGISTER_INFO crossing a page",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, KT_GPA(hc_page[1]) - 64),
		    -KEEL_EFAULT);
	kt_check_rc("REGISTER_INFO not RAM",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, KT_GPA_NOT_RAM), -KEEL_EFAULT);
	kt_check_rc("REGISTER_INFO in the map window",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, kt_boot.map_window_gpa +
				    (kt_boot.map_window_pages - 1) * KEEL_PAGE_SIZE), -KEEL_EFAULT);
	kt_check_rc("REGISTER_INFO for vCPU 1 of a 1-vCPU domain",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 1, other), -KEEL_EINVAL);
	kt_check_eq("VCPU_INFO still shows the first registration",
		    vcpu_info(0) == 0 ? vs.info_gpa : 0,
		    KT_GPA(&kt_vcpu_info[0]));
	memset(hc_page[2], 0, KEEL_PAGE_SIZE);
	kt_check_rc("REGISTER_INFO again moves it",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, other), 0);
	kt_check(vi->time.tsc_to_ns_mul != 0 && vi->runstate.state == KEEL_RUNSTATE_RUNNING,
		 "the moved info is filled", "mul %u state %u", vi->time.tsc_to_ns_mul,
		 vi->runstate.state);
	kt_check_eq("VCPU_INFO shows the new place", vcpu_info(0) == 0 ? vs.info_gpa : 0, other);
	kt_check_rc("REGISTER_INFO back to the runtime's", kt_register_vcpu_info(0), 0);
}

static void check_up_down(void)
{
	kt_check_rc("VCPU_UP of the running vCPU 0", keel_hypercall2(KEEL_HC_VCPU_UP, 0, 0),
		    -KEEL_EBUSY);
	kt_check_rc("VCPU_UP of vCPU 1 of a 1-vCPU domain", keel_hypercall2(KEEL_HC_VCPU_UP, 1, 0),
		    -KEEL_EINVAL);
	kt_check_rc("VCPU_DOWN of the last online vCPU", keel_hypercall1(KEEL_HC_VCPU_DOWN, 0),
		    -KEEL_EBUSY);
	kt_check_rc("VCPU_DOWN of vCPU 1 of a 1-vCPU domain", keel_hypercall1(KEEL_HC_VCPU_DOWN, 1),
		    -KEEL_EINVAL);
}

static void check_time(void)
{
	uint64_t prev = kt_now_ns(), t0, t1, c0, c1, want, got, run0, run1;
	struct keel_vcpu_runstate r0, r1;
	bool mono = true;

	for (int i = 0; i < 1000; i++) {
		uint64_t t = kt_now_ns();

		mono = mono && t >= prev;
		prev = t;
	}
	kt_check(mono, "system time never goes back", "it did");
	/*
	 * 20 ms measured by the TSC and tsc_khz must read as 20 ms of system
	 * time, within 1 %. An exit between a TSC read and the system-time read
	 * next to it (a host interrupt; under TCG with a loaded host that can
	 * take hundreds of microseconds) stretches one measurement without any
	 * clock being wrong, so the best of five tries counts.
	 */
	for (int attempt = 0; attempt < 5; attempt++) {
		t0 = kt_now_ns();
		c0 = kt_rdtsc();
		do {
			c1 = kt_rdtsc();
		} while (kt_tsc_to_ns(c1 - c0) < 20 * KT_NS_PER_MS);
		t1 = kt_now_ns();
		want = kt_tsc_to_ns(c1 - c0);
		got = t1 - t0;
		if (got + want / 100 >= want && got <= want + want / 100 + 100000) {
			break;
		}
	}
	kt_check(got + want / 100 >= want && got <= want + want / 100 + 100000,
		 "system time runs at the TSC rate of CPUID B+3",
		 "%lu ns of system time for %lu ns of TSC (last of 5 tries)",
		 got, want);

	run0 = kt_running_ns();
	kt_spin_ns(10 * KT_NS_PER_MS);
	run1 = kt_running_ns();
	kt_check(run1 >= run0 + 5 * KT_NS_PER_MS, "RUNNING time grows while spinning",
		 "%lu ns in 10 ms", run1 - run0);
	kt_runstate(&r0);
	kt_sleep_ns(20 * KT_NS_PER_MS);
	kt_runstate(&r1);
	kt_check(r1.time_ns[KEEL_RUNSTATE_BLOCKED] >=
		 r0.time_ns[KEEL_RUNSTATE_BLOCKED] + 10 * KT_NS_PER_MS,
		 "BLOCKED time grows while blocked", "%lu ns in a 20 ms sleep",
		 r1.time_ns[KEEL_RUNSTATE_BLOCKED] - r0.time_ns[KEEL_RUNSTATE_BLOCKED]);
	kt_check(r1.state == KEEL_RUNSTATE_RUNNING && r1.state_entry_ns <= kt_now_ns(),
		 "runstate RUNNING again, entered in the past", "state %u entry %lu", r1.state,
		 r1.state_entry_ns);
}

void hc_vcpu(void)
{
	kt_group_begin("hcall-vcpu");
	check_vcpu_info();
	check_register();
	check_up_down();
	check_time();
	kt_group_end();
}

static void check_read_errors(uint32_t total)
{
	uint64_t buf = KT_GPA(dt_buf);

	kt_check_rc("DEVICE_TABLE_READ at the end",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, total, 16),
		    0);
	kt_check_rc("DEVICE_TABLE_READ beyond the end",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, total + 4096, 16), 0);
	kt_check_rc("DEVICE_TABLE_READ of the last 10 bytes",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, total - 10, 4096), 10);
	kt_check_rc("DEVICE_TABLE_READ length 0",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, 0, 0),
		    -KEEL_EINVAL);
	kt_check_rc("DEVICE_TABLE_READ length 4097",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, 0, 4097), -KEEL_E2BIG);
	kt_check_rc("DEVICE_TABLE_READ into a buffer crossing a page",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, KT_GPA(hc_page[1]) - 8, 0, 40),
		    -KEEL_EFAULT);
	kt_check_rc("DEVICE_TABLE_READ into a GPA that is not RAM",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, KT_GPA_NOT_RAM, 0, 40),
		    -KEEL_EFAULT);
}

static void check_schema(uint32_t size)
{
	struct kt_fdt f;
	const uint8_t *p;
	const char *s;
	uint32_t len, v;
	int root, dom, win, devs;

	root = kt_fdt_init(&f, kt_dt_blob, size) == 0 ? kt_fdt_root(&f) : -1;
	if (!kt_check(root >= 0, "the device table parses as an FDT", "it does not")) {
		return;
	}
	s = kt_fdt_string(&f, root, "compatible");
	kt_check(s != NULL && kt_strcmp(s, KEEL_DT_COMPATIBLE) == 0, "/compatible",
		 "'%s'", s ? s : "(none)");
	p = kt_fdt_prop(&f, root, KEEL_DT_PROP_VERSION, &len);
	kt_check(p != NULL && len == 8 && kt_be32(p) == KEEL_DT_VERSION_MAJOR &&
		 kt_be32(p + 4) == KEEL_DT_VERSION_MINOR, "/keel,version is <1 0>",
		 "missing or wrong");
	kt_check(kt_fdt_u32(&f, root, "#address-cells", &v) && v == 2 &&
		 kt_fdt_u32(&f, root, "#size-cells", &v) && v == 2,
		 "root #address-cells and #size-cells 2",
		 "missing or wrong");
	dom = kt_fdt_subnode(&f, root, KEEL_DT_NODE_DOMAIN);
	kt_check(dom >= 0 && kt_fdt_u32(&f, dom, KEEL_DT_PROP_DOMID, &v) && v == kt_boot.domid,
		 "/domain/keel,domid is our id", "missing or wrong");
	kt_check(dom >= 0 && kt_fdt_u32(&f, dom, KEEL_DT_PROP_VCPUS, &v) && v == 1,
		 "/domain/keel,vcpus is 1", "missing or wrong");
	s = dom >= 0 ? kt_fdt_string(&f, dom, KEEL_DT_PROP_NAME) : NULL;
	kt_check(s != NULL && kt_strcmp(s, "hcall") == 0,
		 "/domain/keel,name is the configuration's 'hcall'",
		 "'%s'", s ? s : "(none)");
	p = dom >= 0 ? kt_fdt_prop(&f, dom, KEEL_DT_PROP_UUID, &len) : NULL;
	kt_check(p != NULL && len == 16, "/domain/keel,uuid is 16 bytes", "missing or wrong");
	p = dom >= 0 ? kt_fdt_prop(&f, dom, KEEL_DT_PROP_CAPS, &len) : NULL;
	kt_check(p != NULL && len == 8 && kt_be32(p) == 0 && kt_be32(p + 4) == 0,
		 "/domain/keel,capabilities is <0 0>", "missing or wrong");
	win = kt_fdt_subnode(&f, root, KEEL_DT_NODE_MAP_WINDOW);
	p = win >= 0 ? kt_fdt_prop(&f, win, KEEL_DT_PROP_REG, &len) : NULL;
	kt_check(p != NULL && len == 16 &&
		 (((uint64_t)kt_be32(p) << 32) | kt_be32(p + 4)) == kt_boot.map_window_gpa &&
		 (((uint64_t)kt_be32(p + 8) << 32) | kt_be32(p + 12)) ==
		 kt_boot.map_window_pages * KEEL_PAGE_SIZE, "/map-window/reg is the map window",
		 "missing or wrong");
	devs = kt_fdt_subnode(&f, root, KEEL_DT_NODE_DEVICES);
	kt_check(devs < 0 || kt_fdt_first_child(&f, devs) < 0, "no device nodes (none configured)",
		 "/devices has a child");
}

void hc_devtable(void)
{
	uint64_t buf = KT_GPA(dt_buf);
	uint32_t total = 0;
	long rc;

	kt_group_begin("hcall-devtable");
	rc = keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, 0, 40);
	kt_check_rc("DEVICE_TABLE_READ of the 40-byte header", rc, 40);
	if (rc == 40) {
		total = kt_be32(dt_buf + 4);
		kt_check(kt_be32(dt_buf) == FDT_MAGIC && kt_be32(dt_buf + 20) == 17 &&
			 total >= 40 && total <= KEEL_DT_MAX_SIZE,
			 "FDT header: magic, version 17, size up to 64 KiB",
			 "magic 0x%x version %u size %u", kt_be32(dt_buf), kt_be32(dt_buf + 20),
			 total);
	}
	if (total < 40 || total > KEEL_DT_MAX_SIZE) {
		kt_group_end();
		return;
	}
	check_read_errors(total);
	rc = kt_devtable_read(kt_dt_blob, sizeof(kt_dt_blob));
	kt_check_rc("the whole table in 4 KiB reads", rc, total);
	kt_check(rc == (long)total && kt_boot.si.device_table_size == total &&
		 memcmp(kt_dt_blob, KT_PTR(kt_boot.si.device_table_gpa), total) == 0,
		 "the table is the start info's copy (no change since boot)", "it differs");
	if (rc == (long)total) {
		check_schema(total);
	}
	kt_group_end();
}
