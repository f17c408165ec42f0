/* SPDX-License-Identifier: MIT */
/*
 * tools/config/domcfg.h - a domain's configuration: the xl.cfg keys keelctl
 * understands (docs/keelctl.md), checked and turned into what the builder
 * needs. Every error names the file, the line and the key.
 */
#ifndef KEELCTL_DOMCFG_H
#define KEELCTL_DOMCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMCFG_NAME_MAX		32	/* with the NUL, as Keel's */
#define DOMCFG_LABEL_MAX	16	/* with the NUL: keel_ctl_device.label */
#define DOMCFG_DISKS_MAX	26
#define DOMCFG_VIFS_MAX		16
#define DOMCFG_CMDLINE_MAX	2048
#define DOMCFG_RESTART_LIMIT	3	/* as Keel's own restart-limit default, <3 60> */
#define DOMCFG_RESTART_WINDOW_S	60

enum domcfg_type {
	DOMCFG_TYPE_PVH,		/* ELF kernels: Keel native or PVH entry */
	DOMCFG_TYPE_HVM,		/* bzImage through the Linux boot protocol */
};

/* keel_boot_protocol: how a Linux kernel is entered (docs/abi/boot.md). */
enum domcfg_boot {
	DOMCFG_BOOT_AUTO,		/* PVH when the kernel has the note, else 64-bit */
	DOMCFG_BOOT_PVH,		/* the PVH entry, or an error */
	DOMCFG_BOOT_LINUX64,		/* a bzImage through the Linux 64-bit protocol */
};

enum domcfg_action {
	DOMCFG_DESTROY,
	DOMCFG_RESTART,
	DOMCFG_PRESERVE,
};

struct domcfg_disk {
	char *target;			/* the image file or block device, absolute */
	char vdev[DOMCFG_LABEL_MAX];	/* the label the guest is given */
	bool readonly;
	int line;
};

struct domcfg_vif {
	uint8_t mac[6];
	bool mac_set;			/* else the backend picks one */
	char bridge[DOMCFG_LABEL_MAX];
	int line;
};

struct domcfg {
	char name[DOMCFG_NAME_MAX];
	uint64_t memory_mib;
	uint32_t vcpus;
	enum domcfg_type type;
	enum domcfg_boot boot_protocol;
	/* Paths are absolute: a relative one was resolved against the file's directory. */
	char *kernel;
	char *ramdisk;			/* or NULL */
	char *cmdline;			/* or NULL */
	enum domcfg_action on_poweroff, on_reboot, on_crash;	/* xl's defaults: destroy, restart, destroy */
	/* keel_restart_limit: at most this many restarts within the window, else destroy. */
	uint32_t restart_limit;
	uint32_t restart_window_s;
	uint8_t uuid[16];
	bool uuid_set;
	uint32_t weight;		/* 0: Keel's default */
	uint32_t cap;			/* percent of one CPU; 0: none */
	uint64_t caps;			/* keel_caps: KEEL_CAP_* */
	uint32_t platform;		/* keel_platform: KEEL_DOMCREATE_F_* */
	bool platform_set;		/* else the boot path chooses */
	bool console;			/* keel_console: a PV console device */
	struct domcfg_disk disks[DOMCFG_DISKS_MAX];
	size_t ndisks;
	struct domcfg_vif vifs[DOMCFG_VIFS_MAX];
	size_t nvifs;
};

/*
 * Read @path (at most 1 MiB) and parse it. Returns 0, or -1 with
 * "FILE:LINE: message" (or "FILE: message") in @err.
 */
int domcfg_load(const char *path, struct domcfg *cfg, char *err, size_t errlen);

/* The same from @len bytes of @text; @path names it and anchors relative paths. */
int domcfg_parse(const char *path, const char *text, size_t len, struct domcfg *cfg, char *err,
		 size_t errlen);

void domcfg_free(struct domcfg *cfg);

/*
 * Disk and vif specs (one list item each); @where prefixes messages
 * ("vm.cfg:4"). The disk's target is left as written: domcfg_parse()
 * resolves it against the file's directory (cfgpath.h).
 */
int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, const char *where, char *err,
		      size_t errlen);
int domcfg_parse_vif(const char *spec, struct domcfg_vif *v, const char *where, char *err,
		     size_t errlen);

const char *domcfg_action_name(enum domcfg_action a);
const char *domcfg_type_name(enum domcfg_type t);

#endif
