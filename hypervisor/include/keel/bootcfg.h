/* SPDX-License-Identifier: MIT */
/*
 * keel/bootcfg.h - the boot configuration: which domains Keel starts at boot.
 *
 * A flattened device tree (boot module "config.dtb", written as .dts and
 * compiled with dtc) parsed with libfdt. The schema is docs/boot-config.md.
 * A domain whose description is wrong is reported (node and property named)
 * and skipped; the others still start.
 */
#ifndef KEEL_BOOTCFG_H
#define KEEL_BOOTCFG_H

#include <keel/types.h>

#define BOOTCFG_MODULE_NAME	"config.dtb"
#define BOOTCFG_VERSION		1
#define BOOTCFG_MAX_DOMAINS	16
#define BOOTCFG_MAX_DEVICES	8
#define BOOTCFG_NAME_MAX	32	/* as the control ABI's domain name */
#define BOOTCFG_MODULE_MAX	64
#define BOOTCFG_CMDLINE_MAX	1024
#define BOOTCFG_PATH_MAX	96
#define BOOTCFG_MAX_VCPUS	64
#define BOOTCFG_DEFAULT_WEIGHT	256

/* "boot-protocol" of a Linux kernel (docs/boot-config.md). */
#define BOOT_PROTOCOL_AUTO	0	/* PVH if the vmlinux has the note, else linux64 */
#define BOOT_PROTOCOL_PVH	1
#define BOOT_PROTOCOL_LINUX64	2

/*
 * What Keel does with a boot-time domain that ends ("on-poweroff",
 * "on-reboot", "on-crash"; docs/boot-config.md), as xl's on_poweroff etc.
 */
#define END_DESTROY		0	/* destroy it, every page back */
#define END_RESTART		1	/* destroy it, build it again from its spec */
#define END_PRESERVE		2	/* keep it shut down, memory and all, for a controller */

/* "restart-limit" default: at most 3 restarts in 60 s, then destroy. */
#define BOOTCFG_RESTART_LIMIT	3
#define BOOTCFG_RESTART_WINDOW	60
#define BOOTCFG_RESTART_LIMIT_MAX	1000
#define BOOTCFG_RESTART_WINDOW_MAX	86400

struct bootcfg_device {
	char name[BOOTCFG_NAME_MAX];	/* the device node's name: "disk0" */
	uint32_t device_class;		/* KEEL_IO_CLASS_* */
	unsigned int backend;		/* index into bootcfg.domains */
};

struct domain_spec {
	char path[BOOTCFG_PATH_MAX];	/* node path, for messages */
	char name[BOOTCFG_NAME_MAX];
	uint64_t memory_mib;
	uint32_t vcpus;
	uint64_t affinity;		/* bit n: may run on CPU n; all ones by default */
	uint32_t weight;		/* relative CPU share, 1..65535 */
	uint32_t cap_percent;		/* 0: no cap; else at most this % of one CPU */
	char kernel[BOOTCFG_MODULE_MAX];	/* boot module names */
	char initrd[BOOTCFG_MODULE_MAX];	/* "" when none */
	char cmdline[BOOTCFG_CMDLINE_MAX];
	uint32_t caps;			/* KEEL_CAP_* */
	bool console_input;		/* may take the serial console's input */
	uint32_t platform;		/* KEEL_DOMCREATE_F_*: emulated devices */
	bool platform_set;		/* "platform" given; else chosen by kernel type */
	uint32_t boot_protocol;		/* BOOT_PROTOCOL_*: how a Linux kernel is entered */
	uint8_t on_poweroff;		/* END_*: after KEEL_SHUTDOWN_POWEROFF */
	uint8_t on_reboot;		/* END_*: after KEEL_SHUTDOWN_REBOOT */
	uint8_t on_crash;		/* END_*: after KEEL_SHUTDOWN_CRASH */
	uint32_t restart_limit;		/* restarts allowed within restart_window_s */
	uint32_t restart_window_s;
	unsigned int device_count;
	struct bootcfg_device devices[BOOTCFG_MAX_DEVICES];
	bool skipped;			/* a problem was reported; do not start */
	uint32_t phandle;		/* 0 when none */
};

struct bootcfg {
	unsigned int domain_count;
	struct domain_spec domains[BOOTCFG_MAX_DOMAINS];
	unsigned int problems;		/* reported problems, all kinds */
	/*
	 * The root's "console-input": index of the domain that has the serial
	 * input once the boot domains start; -1 leaves it with Keel (absent,
	 * or a problem with it was reported).
	 */
	int console_input;
};

/* What the parser needs from its caller. */
struct bootcfg_env {
	/* Does a boot module of this name exist? */
	bool (*module_exists)(const char *name, const void *ctx);
	/* Report one problem (one line, names node and property). */
	void (*report)(const char *msg, const void *ctx);
	uint64_t memory_budget_mib;	/* RAM available to domains */
	uint32_t cpu_count;		/* physical CPUs online */
	const void *ctx;
};

/*
 * Parse @blob (@size bytes). Returns false when the blob as a whole is
 * unusable (not a device tree, wrong version, no /domains node): nothing
 * starts. Otherwise fills @out; domains with problems have skipped set.
 */
bool bootcfg_parse(const void *blob, size_t size, const struct bootcfg_env *env,
		   struct bootcfg *out);

#endif
