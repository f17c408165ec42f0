/* SPDX-License-Identifier: MIT */
/*
 * main.c - the reference guest's program. Command line: role=list, front
 * or back, and rounds=N (default 1; tests/configs/reference.dts). Every
 * role starts pvdrivers, checks the shim on its own (first round only),
 * sends itself an event, lists the device table and stops pvdrivers again,
 * checking that everything it took came back; front and back in between
 * drive their device with the echo test class (echo.c), conback and
 * confront with the PV console (role_console.c), blkback and blkfront
 * with the PV block device (role_block.c), netsw, netping and netpong
 * with the PV network (role_net.c); serve is a long-lived backend for real
 * guests (role_serve.c); ping answers ARP and ICMP echo on its PV net
 * device for the control domain's tests (role_ping.c). Each further round
 * does it all again in the same domain, as a driver reload would. Result
 * lines, with "-N" appended in round N > 1:
 *   keeltest: reference-shim-<role>: SUCCESS n checks      (selftest.c)
 *   keeltest: reference-start-<role>: SUCCESS n checks     kpv_start, an event, devices
 *   keeltest: reference-io-<role>: SUCCESS n checks        (echo.c; front, back)
 *   keeltest: reference-console-<role>: SUCCESS n checks   (role_console.c; conback, confront)
 *   keeltest: reference-block-<role>: SUCCESS n checks     (role_block.c; blkback, blkfront)
 *   keeltest: reference-net-<role>: SUCCESS n checks       (role_net.c; netsw, netping, netpong)
 *   keeltest: reference-stop-<role>: SUCCESS n checks      kpv_stop, no leaks
 */
#include "ref.h"

#define MAX_DEVICES	8

const char test_name[] = "reference";
/* lib64 stops after the hypercall page: kpv_start() does the rest of the start of day. */
const bool kt_own_start_of_day = true;

static const struct kpv_os os = {
	.os_id = KEEL_OS_REFERENCE,
	.abi_major = KEEL_ABI_MAJOR,
	.abi_minor = KEEL_ABI_MINOR,
};

static const char *class_name(uint32_t c)
{
	switch (c) {
	case KEEL_IO_CLASS_CONSOLE:
		return "console";
	case KEEL_IO_CLASS_BLOCK:
		return "block";
	case KEEL_IO_CLASS_NET:
		return "net";
	default:
		return "unknown";
	}
}

/*
 * List the device table. front and back expect one console device in the
 * matching role (reference.dts); @dev gets it.
 */
static void list_devices(struct kpv *k, const char *role, struct kpv_device_info *dev)
{
	static struct kpv_device_info table[MAX_DEVICES];
	bool want_fe = kt_strcmp(role, "front") == 0, want_be = kt_strcmp(role, "back") == 0;
	int n = kpv_devices(k, table, MAX_DEVICES);

	kt_check(n >= 0, "kpv_devices", "returned %d", n);
	for (int i = 0; i < n && i < MAX_DEVICES; i++) {
		const struct kpv_device_info *d = &table[i];

		kt_note("device %d '%s': %s id %u, %s of domain %u, control port %u, index %u", i,
			d->label, class_name(d->device_class), d->device_id,
			d->backend ? "backend" : "frontend", d->peer_domid, d->event_port,
			d->index);
	}
	if (!want_fe && !want_be) {
		return;
	}
	if (kt_check(n == 1, "one device", "%d devices", n)) {
		*dev = table[0];
		kt_check_eq("class", dev->device_class, KEEL_IO_CLASS_CONSOLE);
		kt_check(dev->backend == want_be, "role", "we are %s",
			 dev->backend ? "backend" : "frontend");
	}
}

static void loopback_event(void *ctx, uint32_t port)
{
	__atomic_add_fetch((uint32_t *)ctx, 1, __ATOMIC_RELAXED);
}

static bool loopback_hit(void *ctx)
{
	return __atomic_load_n((uint32_t *)ctx, __ATOMIC_RELAXED) != 0;
}

/* The upcall path on its own: an event from one of our ports to another. */
static void check_loopback(struct kpv *k)
{
	static uint32_t hits;
	uint32_t a = 0, b = 0;

	hits = 0;
	if (!kt_check_rc("alloc unbound for ourselves",
			 kpv_evtchn_alloc_unbound(k, KEEL_DOMID_SELF, loopback_event, &hits, &a), 0)) {
		return;
	}
	if (kt_check_rc("bind to it", kpv_evtchn_bind_interdomain(k, KEEL_DOMID_SELF, a,
								    loopback_event, &hits, &b), 0)) {
		kt_check_rc("notify", kpv_evtchn_notify(k, a), 0);
		kt_check(ref_wait(loopback_hit, &hits, KT_NS_PER_S), "loopback event",
			 "port %u did not fire within 1 s", b);
		kpv_evtchn_close(k, b);
	}
	kpv_evtchn_close(k, a);
}

/* One life of pvdrivers: start, the checks, the device, stop. Group names end in @suffix. */
static void run_round(const char *role, const char *suffix, bool selftest)
{
	char name[48];
	struct ref_mem_usage before, after;
	struct kpv_device_info dev;
	struct kpv *k = NULL;
	uint32_t vcpus;
	int rc;

	ref_mem_usage(&before);
	rc = kpv_start(&os, &k);
	if (rc != 0) {
		kt_crash("kpv_start returned %d (%s)", rc, kt_errname(rc));
	}
	/* kpv_start() identified us: lib64's console may write now. */
	kt_console_identified();
	kt_note("pvdrivers started: domain %u, %u vCPU(s); %u pages free", kpv_domid(k),
		kpv_nr_vcpus(k), before.free_pages);
	if (selftest) {
		kt_snprintf(name, sizeof(name), "reference-shim-%s%s", role, suffix);
		ref_selftest(name);
	}

	kt_snprintf(name, sizeof(name), "reference-start-%s%s", role, suffix);
	kt_group_begin(name);
	kt_check_eq("domain id", kpv_domid(k), kt_boot.domid);
	check_loopback(k);
	list_devices(k, role, &dev);
	kt_group_end();

	if (kt_strcmp(role, "front") == 0 || kt_strcmp(role, "back") == 0) {
		kt_snprintf(name, sizeof(name), "reference-io-%s%s", role, suffix);
		ref_echo_run(k, &dev, name);
	}
	if (kt_strcmp(role, "conback") == 0 || kt_strcmp(role, "confront") == 0) {
		kt_snprintf(name, sizeof(name), "reference-console-%s%s", role, suffix);
		ref_console_run(k, role, name);
	}
	if (kt_strcmp(role, "blkback") == 0 || kt_strcmp(role, "blkfront") == 0) {
		kt_snprintf(name, sizeof(name), "reference-block-%s%s", role, suffix);
		ref_block_run(k, role, name);
	}
	if (kt_strcmp(role, "serve") == 0) {
		ref_serve_run(k);	/* never returns */
	}
	if (kt_strcmp(role, "ping") == 0) {
		ref_ping_run(k);	/* never returns */
	}
	if (kt_strncmp(role, "bench-blk", 9) == 0) {	/* tests/bench: figures, few checks */
		kt_snprintf(name, sizeof(name), "reference-%s%s", role, suffix);
		ref_bench_block_run(k, role, name);
	}
	if (kt_strncmp(role, "bench-net", 9) == 0) {
		kt_snprintf(name, sizeof(name), "reference-%s%s", role, suffix);
		ref_bench_net_run(k, role, name);
	}
	if (kt_strncmp(role, "net", 3) == 0) {
		kt_snprintf(name, sizeof(name), "reference-net-%s%s", role, suffix);
		ref_net_run(k, role, name);
	}

	kt_snprintf(name, sizeof(name), "reference-stop-%s%s", role, suffix);
	kt_group_begin(name);
	vcpus = kpv_nr_vcpus(k);
	kpv_stop(k);
	/*
	 * Everything came back but each vCPU's keel_vcpu_info, which kpv_stop()
	 * keeps because Keel may still write it (kpv.h): one block each.
	 */
	ref_mem_usage(&after);
	kt_check(after.blocks == before.blocks + vcpus && after.pages <= before.pages + vcpus,
		 "nothing leaked", "pages %u -> %u, blocks %u -> %u, %u vCPU(s)", before.pages,
		 after.pages, before.blocks, after.blocks, vcpus);
	kt_check_eq("work and timers left", ref_sched_objects(), 0);
	kt_group_end();
}

void test_main(void)
{
	static char role[16];
	uint64_t rounds = kt_cmdline_u64("rounds", 1);
	char suffix[24] = "";

	if (!kt_cmdline_str("role", role, sizeof(role))) {
		memcpy(role, "list", 5);
	}
	ref_mem_init();
	kt_irq_enable();
	for (uint64_t r = 1; r <= rounds; r++) {
		if (r > 1) {
			kt_snprintf(suffix, sizeof(suffix), "-%lu", r);
		}
		run_round(role, suffix, r == 1);
	}
}
