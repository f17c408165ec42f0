/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_bootcfg.c - unit tests for core/bootcfg.c.
 *
 * Each test writes a small configuration tree with libfdt's sequential
 * writer, parses it, and checks the specs and the exact problem reports.
 * The parser gets an exact-sized copy of the blob, so AddressSanitizer
 * catches any read past its end.
 */
#include <libfdt.h>
#include <keel/bootcfg.h>
#include <public/keel/control.h>
#include <public/keel/io/device.h>
#include "unit.h"

#define BLOB_MAX	16384
#define REPORTS_MAX	32

static char blob[BLOB_MAX];
static char reports[REPORTS_MAX][256];
static unsigned int report_count;
static struct bootcfg cfg;

static bool has_module(const char *name, const void *ctx)
{
	return strcmp(name, "vmlinux") == 0 || strcmp(name, "initrd") == 0;
}

static void record(const char *msg, const void *ctx)
{
	if (report_count < REPORTS_MAX) {
		snprintf(reports[report_count], sizeof(reports[0]), "%s", msg);
	}
	report_count++;
}

static const struct bootcfg_env env = {
	.module_exists = has_module,
	.report = record,
	.memory_budget_mib = 1024,
	.cpu_count = 4,
};

/* --- writing trees ------------------------------------------------------ */

static void begin_root(void)
{
	CU_ASSERT_EQUAL_FATAL(fdt_create(blob, sizeof(blob)), 0);
	CU_ASSERT_EQUAL_FATAL(fdt_finish_reservemap(blob), 0);
	fdt_begin_node(blob, "");
	fdt_property_string(blob, "compatible", "keel,boot-config");
	fdt_property_u32(blob, "keel,config-version", 1);
	fdt_begin_node(blob, "domains");
}

/* A domain with the two required properties. */
static void begin_domain(const char *node, uint32_t mib)
{
	fdt_begin_node(blob, node);
	fdt_property_u32(blob, "memory-mib", mib);
	fdt_property_string(blob, "kernel", "vmlinux");
}

static void add_device(const char *node, const char *cls, uint32_t backend)
{
	fdt_begin_node(blob, node);
	fdt_property_string(blob, "class", cls);
	fdt_property_u32(blob, "backend", backend);
	fdt_end_node(blob);
}

static void end_node(void)
{
	fdt_end_node(blob);
}

static bool finish_and_parse(void)
{
	void *copy;
	bool ok;

	end_node();	/* domains */
	end_node();	/* root */
	CU_ASSERT_EQUAL_FATAL(fdt_finish(blob), 0);
	copy = exact_copy(blob, fdt_totalsize(blob));
	ok = bootcfg_parse(copy, fdt_totalsize(blob), &env, &cfg);
	free(copy);
	return ok;
}

static void setup(void)
{
	unit_reset();
	report_count = 0;
	memset(reports, 0, sizeof(reports));
}

static bool reported(const char *needle)
{
	for (unsigned int i = 0; i < report_count && i < REPORTS_MAX; i++) {
		if (strstr(reports[i], needle)) {
			return true;
		}
	}
	return false;
}

/* Parse a tree with one domain "d" carrying one extra property. */
typedef void (*add_fn)(void);

static bool parse_one(add_fn add)
{
	begin_root();
	begin_domain("d", 64);
	add();
	end_node();
	return finish_and_parse();
}

/* --- good configurations -------------------------------------------------- */

static void test_full_configuration(void)
{
	const fdt32_t affinity[] = { cpu_to_fdt32(0), cpu_to_fdt32(2) };

	begin_root();
	begin_domain("storage", 64);
	fdt_property_string(blob, "domain-name", "store");
	fdt_property(blob, "capabilities", "backend-block\0backend-net", 26);
	fdt_property_u32(blob, "phandle", 7);
	end_node();
	begin_domain("web@2", 128);
	fdt_property_u32(blob, "vcpus", 2);
	fdt_property(blob, "cpu-affinity", affinity, sizeof(affinity));
	fdt_property_u32(blob, "weight", 512);
	fdt_property_u32(blob, "cap-percent", 150);
	fdt_property_string(blob, "initrd", "initrd");
	fdt_property_string(blob, "cmdline", "console=hvc0 quiet");
	fdt_property_string(blob, "console", "serial");
	fdt_property(blob, "platform", "acpi\0uart\0pci", 14);
	fdt_begin_node(blob, "devices");
	add_device("disk0", "block", 7);
	add_device("net0", "net", 7);
	end_node();
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());

	CU_ASSERT_EQUAL(report_count, 0);
	CU_ASSERT_EQUAL(cfg.problems, 0);
	CU_ASSERT_EQUAL_FATAL(cfg.domain_count, 2);
	CU_ASSERT_STRING_EQUAL(cfg.domains[0].name, "store");
	CU_ASSERT_EQUAL(cfg.domains[0].caps, KEEL_CAP_BACKEND_BLOCK | KEEL_CAP_BACKEND_NET);
	CU_ASSERT_EQUAL(cfg.domains[0].memory_mib, 64);

	const struct domain_spec *web = &cfg.domains[1];
	CU_ASSERT_STRING_EQUAL(web->name, "web");
	CU_ASSERT_STRING_EQUAL(web->path, "/domains/web@2");
	CU_ASSERT_FALSE(web->skipped);
	CU_ASSERT_EQUAL(web->memory_mib, 128);
	CU_ASSERT_EQUAL(web->vcpus, 2);
	CU_ASSERT_EQUAL(web->affinity, 0x5);
	CU_ASSERT_EQUAL(web->weight, 512);
	CU_ASSERT_EQUAL(web->cap_percent, 150);
	CU_ASSERT_STRING_EQUAL(web->kernel, "vmlinux");
	CU_ASSERT_STRING_EQUAL(web->initrd, "initrd");
	CU_ASSERT_STRING_EQUAL(web->cmdline, "console=hvc0 quiet");
	CU_ASSERT_TRUE(web->console_input);
	CU_ASSERT_TRUE(web->platform_set);
	CU_ASSERT_EQUAL(web->platform, KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_UART |
			KEEL_DOMCREATE_F_PLATFORM_PCI);
	CU_ASSERT_FALSE(cfg.domains[0].platform_set);
	CU_ASSERT_EQUAL(web->caps, 0);
	CU_ASSERT_EQUAL_FATAL(web->device_count, 2);
	CU_ASSERT_STRING_EQUAL(web->devices[0].name, "disk0");
	CU_ASSERT_EQUAL(web->devices[0].device_class, KEEL_IO_CLASS_BLOCK);
	CU_ASSERT_EQUAL(web->devices[0].backend, 0);
	CU_ASSERT_EQUAL(web->devices[1].device_class, KEEL_IO_CLASS_NET);
}

static void test_defaults(void)
{
	begin_root();
	begin_domain("small@1", 16);
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_EQUAL_FATAL(cfg.domain_count, 1);
	CU_ASSERT_STRING_EQUAL(cfg.domains[0].name, "small");
	CU_ASSERT_EQUAL(cfg.domains[0].vcpus, 1);
	CU_ASSERT_EQUAL(cfg.domains[0].weight, BOOTCFG_DEFAULT_WEIGHT);
	CU_ASSERT_EQUAL(cfg.domains[0].cap_percent, 0);
	CU_ASSERT_EQUAL(cfg.domains[0].affinity, UINT64_MAX);
	CU_ASSERT_STRING_EQUAL(cfg.domains[0].initrd, "");
	CU_ASSERT_FALSE(cfg.domains[0].console_input);
	CU_ASSERT_FALSE(cfg.domains[0].platform_set);
	CU_ASSERT_FALSE(cfg.domains[0].skipped);
	/* As xl: power off destroys, reboot restarts, crash destroys. */
	CU_ASSERT_EQUAL(cfg.domains[0].on_poweroff, END_DESTROY);
	CU_ASSERT_EQUAL(cfg.domains[0].on_reboot, END_RESTART);
	CU_ASSERT_EQUAL(cfg.domains[0].on_crash, END_DESTROY);
	CU_ASSERT_EQUAL(cfg.domains[0].restart_limit, 3);
	CU_ASSERT_EQUAL(cfg.domains[0].restart_window_s, 60);
}

static void test_platform_none(void)
{
	begin_root();
	begin_domain("plain", 16);
	fdt_property_string(blob, "platform", "none");
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_EQUAL(report_count, 0);
	CU_ASSERT_TRUE(cfg.domains[0].platform_set);
	CU_ASSERT_EQUAL(cfg.domains[0].platform, 0);
}

static void test_boot_protocol(void)
{
	begin_root();
	begin_domain("auto", 16);
	end_node();
	begin_domain("pvh", 16);
	fdt_property_string(blob, "boot-protocol", "pvh");
	end_node();
	begin_domain("bz", 16);
	fdt_property_string(blob, "boot-protocol", "linux64");
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_EQUAL(report_count, 0);
	CU_ASSERT_EQUAL_FATAL(cfg.domain_count, 3);
	CU_ASSERT_EQUAL(cfg.domains[0].boot_protocol, BOOT_PROTOCOL_AUTO);
	CU_ASSERT_EQUAL(cfg.domains[1].boot_protocol, BOOT_PROTOCOL_PVH);
	CU_ASSERT_EQUAL(cfg.domains[2].boot_protocol, BOOT_PROTOCOL_LINUX64);
}

static void test_end_policy(void)
{
	const uint32_t limit[2] = { cpu_to_fdt32(5), cpu_to_fdt32(30) };
	const uint32_t widest[2] = { cpu_to_fdt32(1000), cpu_to_fdt32(86400) };

	begin_root();
	begin_domain("service", 16);
	fdt_property_string(blob, "on-poweroff", "restart");
	fdt_property_string(blob, "on-reboot", "preserve");
	fdt_property_string(blob, "on-crash", "restart");
	fdt_property(blob, "restart-limit", limit, sizeof(limit));
	end_node();
	begin_domain("keep", 16);
	fdt_property_string(blob, "on-poweroff", "preserve");
	fdt_property_string(blob, "on-reboot", "destroy");
	fdt_property_string(blob, "on-crash", "preserve");
	fdt_property(blob, "restart-limit", widest, sizeof(widest));
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_EQUAL(report_count, 0);
	CU_ASSERT_EQUAL_FATAL(cfg.domain_count, 2);
	CU_ASSERT_EQUAL(cfg.domains[0].on_poweroff, END_RESTART);
	CU_ASSERT_EQUAL(cfg.domains[0].on_reboot, END_PRESERVE);
	CU_ASSERT_EQUAL(cfg.domains[0].on_crash, END_RESTART);
	CU_ASSERT_EQUAL(cfg.domains[0].restart_limit, 5);
	CU_ASSERT_EQUAL(cfg.domains[0].restart_window_s, 30);
	CU_ASSERT_EQUAL(cfg.domains[1].on_poweroff, END_PRESERVE);
	CU_ASSERT_EQUAL(cfg.domains[1].on_reboot, END_DESTROY);
	CU_ASSERT_EQUAL(cfg.domains[1].on_crash, END_PRESERVE);
	CU_ASSERT_EQUAL(cfg.domains[1].restart_limit, 1000);
	CU_ASSERT_EQUAL(cfg.domains[1].restart_window_s, 86400);
	CU_ASSERT_FALSE(cfg.domains[0].skipped);
	CU_ASSERT_FALSE(cfg.domains[1].skipped);
}

/* --- one broken property each ------------------------------------------- */

static void add_unknown(void) { fdt_property_u32(blob, "memory-mb", 64); }
static void add_vcpus_zero(void) { fdt_property_u32(blob, "vcpus", 0); }
static void add_vcpus_many(void) { fdt_property_u32(blob, "vcpus", 65); }
static void add_vcpus_string(void) { fdt_property_string(blob, "vcpus", "three"); }
static void add_weight_zero(void) { fdt_property_u32(blob, "weight", 0); }
static void add_cap_high(void) { fdt_property_u32(blob, "cap-percent", 101); }
static void add_cpu_missing(void) { fdt_property_u32(blob, "cpu-affinity", 4); }
static void add_affinity_bytes(void) { fdt_property(blob, "cpu-affinity", "ab", 2); }
static void add_initrd_missing(void) { fdt_property_string(blob, "initrd", "nope"); }
static void add_bad_cap(void) { fdt_property_string(blob, "capabilities", "root"); }
static void add_bad_console(void) { fdt_property_string(blob, "console", "vga"); }
static void add_bad_platform(void) { fdt_property_string(blob, "platform", "vga"); }
static void add_pci_alone(void) { fdt_property_string(blob, "platform", "pci"); }
static void add_none_and_more(void) { fdt_property(blob, "platform", "none\0uart", 10); }
static void add_platform_number(void) { fdt_property_u32(blob, "platform", 1); }
static void add_two_strings(void) { fdt_property(blob, "cmdline", "a\0b", 4); }
static void add_bad_protocol(void) { fdt_property_string(blob, "boot-protocol", "efi"); }
static void add_protocol_number(void) { fdt_property_u32(blob, "boot-protocol", 1); }
static void add_bad_on_reboot(void) { fdt_property_string(blob, "on-reboot", "reset"); }
static void add_empty_on_crash(void) { fdt_property_string(blob, "on-crash", ""); }
static void add_on_poweroff_number(void) { fdt_property_u32(blob, "on-poweroff", 1); }
static void add_long_on_crash(void) { fdt_property_string(blob, "on-crash", "coredump-and-then-destroy-it-please"); }
static void add_limit_one_cell(void) { fdt_property_u32(blob, "restart-limit", 3); }

static void add_limit(uint32_t count, uint32_t seconds)
{
	const uint32_t v[2] = { cpu_to_fdt32(count), cpu_to_fdt32(seconds) };

	fdt_property(blob, "restart-limit", v, sizeof(v));
}

static void add_limit_zero(void) { add_limit(0, 60); }
static void add_limit_no_window(void) { add_limit(3, 0); }
static void add_limit_many(void) { add_limit(1001, 60); }
static void add_limit_long_window(void) { add_limit(3, 86401); }

static void add_unterminated(void)
{
	fdt_property(blob, "cmdline", "abc", 3);
}

static void add_long_name(void)
{
	fdt_property_string(blob, "domain-name", "a-name-that-is-much-too-long-for-keel");
}

static void add_bad_class(void)
{
	fdt_begin_node(blob, "devices");
	add_device("x0", "scsi", 1);
	end_node();
}

static void add_device_without_backend(void)
{
	fdt_begin_node(blob, "devices");
	fdt_begin_node(blob, "disk0");
	fdt_property_string(blob, "class", "block");
	end_node();
	end_node();
}

static void add_unknown_device_prop(void)
{
	fdt_begin_node(blob, "devices");
	fdt_begin_node(blob, "disk0");
	fdt_property_string(blob, "class", "block");
	fdt_property_u32(blob, "backend", 1);
	fdt_property_u32(blob, "size", 1);
	end_node();
	end_node();
}

static void add_nine_devices(void)
{
	char name[16];

	fdt_begin_node(blob, "devices");
	for (int i = 0; i < 9; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		add_device(name, "net", 1);
	}
	end_node();
}

struct broken_case {
	add_fn add;
	const char *report;
};

static const struct broken_case broken_cases[] = {
	{ add_unknown, "config: /domains/d: property 'memory-mb': unknown domain property; domain skipped" },
	{ add_vcpus_zero, "property 'vcpus': 0 is out of range (1..64)" },
	{ add_vcpus_many, "property 'vcpus': 65 is out of range (1..64)" },
	{ add_vcpus_string, "property 'vcpus': must be one 32-bit number" },
	{ add_weight_zero, "property 'weight': 0 is out of range (1..65535)" },
	{ add_cap_high, "property 'cap-percent': 101 is out of range (0..100)" },
	{ add_cpu_missing, "property 'cpu-affinity': CPU 4 does not exist (this machine has 4)" },
	{ add_affinity_bytes, "property 'cpu-affinity': must be a list of CPU numbers" },
	{ add_initrd_missing, "property 'initrd': no boot module named 'nope'" },
	{ add_bad_cap, "property 'capabilities': unknown capability 'root'" },
	{ add_bad_console, "property 'console': must be \"serial\" or \"none\"" },
	{ add_bad_platform, "property 'platform': unknown device 'vga'" },
	{ add_pci_alone, "property 'platform': 'pci' needs 'acpi'" },
	{ add_none_and_more, "property 'platform': unknown device 'none'" },
	{ add_platform_number, "property 'platform': must be a list of strings" },
	{ add_two_strings, "property 'cmdline': must be a single string" },
	{ add_bad_protocol, "property 'boot-protocol': must be \"pvh\" or \"linux64\"" },
	{ add_protocol_number, "property 'boot-protocol': must be a single string" },
	{ add_bad_on_reboot, "property 'on-reboot': must be \"destroy\", \"restart\" or \"preserve\"" },
	{ add_empty_on_crash, "property 'on-crash': must be \"destroy\", \"restart\" or \"preserve\"" },
	{ add_on_poweroff_number, "property 'on-poweroff': must be a single string" },
	{ add_long_on_crash, "property 'on-crash': too long" },
	{ add_limit_one_cell, "property 'restart-limit': must be two numbers, restarts and seconds" },
	{ add_limit_zero, "property 'restart-limit': <0 60> is out of range (1..1000 restarts in 1..86400 s)" },
	{ add_limit_no_window, "property 'restart-limit': <3 0> is out of range" },
	{ add_limit_many, "property 'restart-limit': <1001 60> is out of range" },
	{ add_limit_long_window, "property 'restart-limit': <3 86401> is out of range" },
	{ add_unterminated, "property 'cmdline': must be a single string" },
	{ add_long_name, "property 'domain-name': too long" },
	{ add_bad_class, "unknown class 'scsi'" },
	{ add_device_without_backend, "property 'backend': device /domains/d/devices/disk0: must be one reference" },
	{ add_unknown_device_prop, "property 'size': unknown device property" },
	{ add_nine_devices, "too many devices (at most 8)" },
};

static void test_each_broken_property(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(broken_cases); i++) {
		setup();
		CU_ASSERT_TRUE_FATAL(parse_one(broken_cases[i].add));
		CU_ASSERT_EQUAL(cfg.domain_count, 1);
		CU_ASSERT_TRUE(cfg.domains[0].skipped);
		CU_ASSERT_EQUAL(report_count, 1);
		CU_ASSERT_EQUAL(cfg.problems, 1);
		if (!reported(broken_cases[i].report)) {
			fprintf(stderr, "case %zu: expected '%s', got '%s'\n", i,
				broken_cases[i].report, reports[0]);
			CU_FAIL("report text");
		}
	}
}

static void test_missing_required(void)
{
	begin_root();
	fdt_begin_node(blob, "nomem");
	fdt_property_string(blob, "kernel", "vmlinux");
	end_node();
	fdt_begin_node(blob, "nokernel");
	fdt_property_u32(blob, "memory-mib", 8);
	end_node();
	begin_domain("wrongkernel", 8);
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_EQUAL(report_count, 2);
	CU_ASSERT_TRUE(reported("config: /domains/nomem: property 'memory-mib': missing (required)"));
	CU_ASSERT_TRUE(reported("config: /domains/nokernel: property 'kernel': missing (required)"));
	CU_ASSERT_TRUE(cfg.domains[0].skipped);
	CU_ASSERT_TRUE(cfg.domains[1].skipped);
	CU_ASSERT_FALSE(cfg.domains[2].skipped);
}

/* --- references, names, totals -------------------------------------------- */

static void test_backend_references(void)
{
	begin_root();
	begin_domain("be", 8);		/* phandle 1, net only */
	fdt_property_string(blob, "capabilities", "backend-net");
	fdt_property_u32(blob, "phandle", 1);
	end_node();
	begin_domain("nocap", 8);	/* block from a net-only backend */
	fdt_begin_node(blob, "devices");
	add_device("disk0", "block", 1);
	end_node();
	end_node();
	begin_domain("self", 8);
	fdt_property_u32(blob, "phandle", 3);
	fdt_property_string(blob, "capabilities", "backend-net");
	fdt_begin_node(blob, "devices");
	add_device("net0", "net", 3);
	end_node();
	end_node();
	begin_domain("dangling", 8);
	fdt_begin_node(blob, "devices");
	add_device("net0", "net", 99);
	end_node();
	end_node();
	begin_domain("fine", 8);
	fdt_begin_node(blob, "devices");
	add_device("net0", "net", 1);
	end_node();
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());

	CU_ASSERT_TRUE(reported("/domains/nocap: property 'backend': device 'disk0': domain 'be' lacks the 'backend-block' capability"));
	CU_ASSERT_TRUE(reported("/domains/self: property 'backend': device 'net0': a domain cannot be its own backend"));
	CU_ASSERT_TRUE(reported("/domains/dangling: property 'backend': device 'net0': does not refer to a domain"));
	CU_ASSERT_EQUAL(report_count, 3);
	CU_ASSERT_FALSE(cfg.domains[0].skipped);
	CU_ASSERT_TRUE(cfg.domains[1].skipped);
	CU_ASSERT_TRUE(cfg.domains[2].skipped);
	CU_ASSERT_TRUE(cfg.domains[3].skipped);
	CU_ASSERT_FALSE(cfg.domains[4].skipped);
	CU_ASSERT_EQUAL(cfg.domains[4].devices[0].backend, 0);
}

/* A skipped backend takes its frontends with it, transitively. */
static void test_skipped_backend_chain(void)
{
	begin_root();
	begin_domain("a", 8);
	fdt_property_u32(blob, "phandle", 1);
	fdt_property_string(blob, "capabilities", "backend-block");
	fdt_property_u32(blob, "vcpus", 99);	/* a is broken */
	end_node();
	begin_domain("b", 8);
	fdt_property_u32(blob, "phandle", 2);
	fdt_property_string(blob, "capabilities", "backend-net");
	fdt_begin_node(blob, "devices");
	add_device("disk0", "block", 1);
	end_node();
	end_node();
	begin_domain("c", 8);
	fdt_begin_node(blob, "devices");
	add_device("net0", "net", 2);
	end_node();
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_TRUE(cfg.domains[0].skipped);
	CU_ASSERT_TRUE(cfg.domains[1].skipped);
	CU_ASSERT_TRUE(cfg.domains[2].skipped);
	CU_ASSERT_TRUE(reported("/domains/b: property 'backend': device 'disk0': its backend domain 'a' was skipped"));
	CU_ASSERT_TRUE(reported("/domains/c: property 'backend': device 'net0': its backend domain 'b' was skipped"));
	CU_ASSERT_EQUAL(report_count, 3);
}

static void test_duplicate_names_and_budget(void)
{
	begin_root();
	begin_domain("one", 600);
	end_node();
	begin_domain("two", 8);
	fdt_property_string(blob, "domain-name", "one");
	end_node();
	begin_domain("big", 500);	/* 424 MiB left */
	end_node();
	begin_domain("fits", 424);
	end_node();
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_TRUE(reported("/domains/two: property 'domain-name': 'one' is already the name of /domains/one"));
	CU_ASSERT_TRUE(reported("/domains/big: property 'memory-mib': 500 MiB requested but only 424 MiB are left"));
	CU_ASSERT_EQUAL(report_count, 2);
	CU_ASSERT_FALSE(cfg.domains[0].skipped);
	CU_ASSERT_TRUE(cfg.domains[1].skipped);
	CU_ASSERT_TRUE(cfg.domains[2].skipped);
	CU_ASSERT_FALSE(cfg.domains[3].skipped);
}

static void test_too_many_domains(void)
{
	char name[16];

	begin_root();
	for (int i = 0; i < BOOTCFG_MAX_DOMAINS + 2; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		begin_domain(name, 1);
		end_node();
	}
	CU_ASSERT_TRUE_FATAL(finish_and_parse());
	CU_ASSERT_EQUAL(cfg.domain_count, BOOTCFG_MAX_DOMAINS);
	CU_ASSERT_TRUE(reported("more than 16 domains; the rest are ignored"));
	CU_ASSERT_EQUAL(report_count, 1);
}

/* --- the root's console-input --------------------------------------------- */

/*
 * A root whose console-input is @len bytes at @value, then domains: "ctl"
 * (console = "serial"), "quiet" (no console property) and "broken" (skipped:
 * no kernel), and "twin", skipped as a second "ctl".
 */
static bool parse_console_input(const void *value, int len)
{
	CU_ASSERT_EQUAL_FATAL(fdt_create(blob, sizeof(blob)), 0);
	CU_ASSERT_EQUAL_FATAL(fdt_finish_reservemap(blob), 0);
	fdt_begin_node(blob, "");
	fdt_property_string(blob, "compatible", "keel,boot-config");
	fdt_property_u32(blob, "keel,config-version", 1);
	if (value) {
		fdt_property(blob, "console-input", value, len);
	}
	fdt_begin_node(blob, "domains");
	begin_domain("ctl", 64);
	fdt_property_string(blob, "console", "serial");
	end_node();
	begin_domain("quiet", 64);
	end_node();
	fdt_begin_node(blob, "broken");
	fdt_property_u32(blob, "memory-mib", 8);
	fdt_property_string(blob, "console", "serial");
	end_node();
	begin_domain("twin", 8);
	fdt_property_string(blob, "domain-name", "ctl");
	fdt_property_string(blob, "console", "serial");
	end_node();
	return finish_and_parse();
}

#define INPUT(s)	(s), (int)sizeof(s)

static void test_console_input(void)
{
	/* Absent: the input starts with Keel, nothing reported beyond the fixture's two. */
	CU_ASSERT_TRUE_FATAL(parse_console_input(NULL, 0));
	CU_ASSERT_EQUAL(cfg.console_input, -1);
	CU_ASSERT_EQUAL(report_count, 2);
	CU_ASSERT_TRUE(reported("/domains/broken: property 'kernel': missing (required)"));
	CU_ASSERT_TRUE(reported("/domains/twin: property 'domain-name': 'ctl' is already the name of /domains/ctl"));

	/* Named: that domain, the one kept and not its skipped twin. */
	setup();
	CU_ASSERT_TRUE_FATAL(parse_console_input(INPUT("ctl")));
	CU_ASSERT_EQUAL(cfg.console_input, 0);
	CU_ASSERT_EQUAL(report_count, 2);
	CU_ASSERT_FALSE(cfg.domains[0].skipped);
	CU_ASSERT_FALSE(cfg.domains[1].skipped);
}

static void test_console_input_problems(void)
{
	static const struct {
		const void *value;
		int len;
		const char *report;
	} cases[] = {
		{ INPUT("nobody"), "config: /: property 'console-input': no domain named 'nobody' "
		  "under /domains; the input starts with Keel" },
		{ INPUT("quiet"), "config: /: property 'console-input': domain 'quiet' does not "
		  "accept serial input (it needs console = \"serial\"); the input starts with Keel" },
		{ INPUT("broken"), "config: /: property 'console-input': domain 'broken' was "
		  "skipped; the input starts with Keel" },
		{ INPUT("ctl\0quiet"), "config: /: property 'console-input': must be one domain "
		  "name, e.g. \"ctl\"; the input starts with Keel" },
		{ "ctl", 3, "must be one domain name" },	/* no NUL */
		{ "", 1, "must be one domain name" },
		{ "\0\0\0\1", 4, "must be one domain name" },	/* a number */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup();
		CU_ASSERT_TRUE_FATAL(parse_console_input(cases[i].value, cases[i].len));
		CU_ASSERT_EQUAL(cfg.console_input, -1);
		CU_ASSERT_EQUAL(report_count, 3);	/* the fixture's two, and this one */
		CU_ASSERT_TRUE(reported(cases[i].report));
		/* A problem here skips no domain. */
		CU_ASSERT_FALSE(cfg.domains[0].skipped);
		CU_ASSERT_FALSE(cfg.domains[1].skipped);
	}
}

/* --- unusable blobs ------------------------------------------------------- */

static void test_not_a_tree(void)
{
	static const char junk[64] = "this is not a device tree";
	void *copy = exact_copy(junk, sizeof(junk));

	CU_ASSERT_FALSE(bootcfg_parse(copy, sizeof(junk), &env, &cfg));
	CU_ASSERT_TRUE(reported("config: /: not a valid device tree blob"));
	CU_ASSERT_FALSE(bootcfg_parse(copy, 3, &env, &cfg));
	free(copy);
}

static void test_truncated_blob(void)
{
	void *copy;

	begin_root();
	begin_domain("d", 8);
	end_node();
	end_node();
	end_node();
	CU_ASSERT_EQUAL_FATAL(fdt_finish(blob), 0);
	for (uint32_t len = 0; len < fdt_totalsize(blob); len += 7) {
		copy = exact_copy(blob, len ? len : 1);
		CU_ASSERT_FALSE(bootcfg_parse(copy, len, &env, &cfg));
		free(copy);
	}
}

/* Parse a tree with just a root node; false is the expected outcome. */
static bool parse_bare_root(const char *compatible, uint32_t version)
{
	void *copy;
	bool ok;

	CU_ASSERT_EQUAL_FATAL(fdt_create(blob, sizeof(blob)), 0);
	fdt_finish_reservemap(blob);
	fdt_begin_node(blob, "");
	fdt_property_string(blob, "compatible", compatible);
	fdt_property_u32(blob, "keel,config-version", version);
	fdt_end_node(blob);
	fdt_finish(blob);
	copy = exact_copy(blob, fdt_totalsize(blob));
	ok = bootcfg_parse(copy, fdt_totalsize(blob), &env, &cfg);
	free(copy);
	return ok;
}

static void test_wrong_root(void)
{
	CU_ASSERT_FALSE(parse_bare_root("other,thing", 1));
	CU_ASSERT_TRUE(reported("property 'compatible': must be \"keel,boot-config\""));
	CU_ASSERT_FALSE(parse_bare_root("keel,boot-config", 2));
	CU_ASSERT_TRUE(reported("property 'keel,config-version': must be <1>"));
	CU_ASSERT_FALSE(parse_bare_root("keel,boot-config", 1));
	CU_ASSERT_TRUE(reported("config: /: no /domains node"));
}

static CU_TestInfo tests[] = {
	{ "full configuration", test_full_configuration },
	{ "defaults", test_defaults },
	{ "platform none", test_platform_none },
	{ "boot-protocol", test_boot_protocol },
	{ "on-poweroff, on-reboot, on-crash, restart-limit", test_end_policy },
	{ "each broken property is named", test_each_broken_property },
	{ "missing required properties", test_missing_required },
	{ "backend references", test_backend_references },
	{ "skipped backend skips its frontends", test_skipped_backend_chain },
	{ "duplicate names and memory budget", test_duplicate_names_and_budget },
	{ "too many domains", test_too_many_domains },
	{ "not a device tree", test_not_a_tree },
	{ "truncated blob", test_truncated_blob },
	{ "wrong root", test_wrong_root },
	{ "console-input names the domain with the input at boot", test_console_input },
	{ "console-input problems: reported, input with Keel", test_console_input_problems },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo bootcfg_suite = {
	.pName = "bootcfg",
	.pSetUpFunc = setup,
	.pTests = tests,
};
