/* SPDX-License-Identifier: MIT */
/*
 * keelctl/keel_privcmd.h - the privileged driver's user-space API, version 1
 * (docs/keelctl.md, "Privileged driver user-space API"): the structs a
 * process passes to the driver's device nodes.
 *
 * Like the hypercall ABI these are fixed-width, naturally aligned, with
 * explicit padding, so a 32-bit process and any OS's driver agree on them.
 * The driver copies each buffer into a page of its own (a bounce page),
 * puts that page's address where the descriptor says, makes the hypercall,
 * and copies OUT buffers back. It checks no rights: Keel does.
 */
#ifndef KEELCTL_KEEL_PRIVCMD_H
#define KEELCTL_KEEL_PRIVCMD_H

#include <stdint.h>

/* The API version; added fields and calls bump the minor. */
#define KEEL_PRIVCMD_VERSION_MAJOR	1
#define KEEL_PRIVCMD_VERSION_MINOR	1	/* 1.1: MAP_DEVICE_PAGE, DEVICE_TABLE_READ, EVTCHN_STATUS */
#define KEEL_PRIVCMD_VERSION		((KEEL_PRIVCMD_VERSION_MAJOR << 16) | KEEL_PRIVCMD_VERSION_MINOR)

/* Buffers per call, at most: a full DOMAIN_LOAD batch (170 pages) and its array. */
#define KEEL_PRIVCMD_MAX_BUFS		256
#define KEEL_PRIVCMD_BUF_MAX_LEN	4096

/* keel_privcmd_buf.flags */
#define KEEL_PRIVCMD_BUF_IN		0x1u	/* copy to the bounce page before the call */
#define KEEL_PRIVCMD_BUF_OUT		0x2u	/* copy back from it after the call */
#define KEEL_PRIVCMD_BUF_GFN		0x4u	/* put the page's GFN, not its GPA */

/* keel_privcmd_buf.at: where the bounce page's address goes. */
#define KEEL_PRIVCMD_AT_NONE		0	/* nowhere (another buffer is patched later) */
#define KEEL_PRIVCMD_AT_ARG		1	/* into args[index] */
#define KEEL_PRIVCMD_AT_BUF		2	/* 8 bytes, little-endian, at offset in buffer index */

struct keel_privcmd_buf {
	uint64_t addr;			/* IN: user address of the data */
	uint32_t len;			/* IN: 1 .. KEEL_PRIVCMD_BUF_MAX_LEN */
	uint32_t flags;			/* IN: KEEL_PRIVCMD_BUF_* */
	uint32_t at;			/* IN: KEEL_PRIVCMD_AT_* */
	uint32_t index;			/* IN: argument 0..5, or another buffer's index */
	uint32_t offset;		/* IN: AT_BUF: offset + 8 <= that buffer's len */
	uint32_t pad0;			/* MBZ */
};

struct keel_privcmd_hypercall {
	uint32_t version;		/* IN: KEEL_PRIVCMD_VERSION the caller was built for */
	uint32_t nr;			/* IN: KEEL_HC_* number */
	uint64_t args[6];		/* IN: arguments (those named by a buffer are replaced) */
	uint64_t bufs;			/* IN: user address of keel_privcmd_buf[nr_bufs] */
	uint32_t nr_bufs;		/* IN: 0 .. KEEL_PRIVCMD_MAX_BUFS */
	uint32_t pad0;			/* MBZ */
	int64_t result;			/* OUT: Keel's return value (>= 0 or -KEEL_E*) */
};

/*
 * Linux ioctl numbers on /dev/keel/privcmd (type 'K'), spelled out so that
 * every OS's header agrees: _IOR('K', 0, uint32_t) and
 * _IOWR('K', 1, struct keel_privcmd_hypercall).
 */
#define KEEL_PRIVCMD_IOCTL_VERSION	0x80044b00u
#define KEEL_PRIVCMD_IOCTL_HYPERCALL	0xc0504b01u

/* --- Grant maps on /dev/keel/privcmd ------------------------------------------ */

#define KEEL_PRIVCMD_MAP_READONLY	0x1u	/* map_grants.flags */
#define KEEL_PRIVCMD_MAX_GRANTS		256	/* refs per MAP_GRANTS */

struct keel_privcmd_map_grants {
	uint32_t domid;			/* IN: the granting domain */
	uint32_t count;			/* IN: 1 .. KEEL_PRIVCMD_MAX_GRANTS */
	uint64_t refs;			/* IN: user address of uint32_t refs[count] */
	uint32_t flags;			/* IN: KEEL_PRIVCMD_MAP_* */
	uint32_t pad0;			/* MBZ */
	uint64_t offset;		/* OUT: the mmap() offset of the mapped pages */
};

/* _IOWR('K', 0x20, struct keel_privcmd_map_grants) */
#define KEEL_PRIVCMD_IOCTL_MAP_GRANTS	0xc0204b20u

/* --- Device control pages on /dev/keel/privcmd (1.1) ------------------------- */

/*
 * A backend process maps the control page of a device its domain serves:
 * the driver maps the Keel-owned page (KEEL_MAPSPACE_DEVICE_PAGE) into its
 * map window and hands out an mmap() offset for one page, as MAP_GRANTS.
 */
struct keel_privcmd_map_device_page {
	uint32_t device_id;		/* IN */
	uint32_t pad0;			/* MBZ */
	uint64_t offset;		/* OUT: the mmap() offset of the page */
};

/* _IOWR('K', 0x21, struct keel_privcmd_map_device_page) */
#define KEEL_PRIVCMD_IOCTL_MAP_DEVICE_PAGE	0xc0104b21u

/* --- /dev/keel/evtchn -------------------------------------------------------- */

struct keel_evtchn_bind_interdomain {
	uint32_t remote_domid;		/* IN */
	uint32_t remote_port;		/* IN: UNBOUND for us in remote_domid */
	uint32_t port;			/* OUT: our new port */
	uint32_t pad0;			/* MBZ */
};

struct keel_evtchn_bind_virq {
	uint32_t virq;			/* IN: KEEL_VIRQ_* */
	uint32_t port;			/* OUT */
};

struct keel_evtchn_alloc_unbound {
	uint32_t remote_domid;		/* IN: who may bind it */
	uint32_t port;			/* OUT */
};

/* _IOWR('K', 0x10..0x12, the structs above); _IOW('K', 0x13..0x14, uint32_t) */
#define KEEL_EVTCHN_IOCTL_BIND_INTERDOMAIN	0xc0104b10u
#define KEEL_EVTCHN_IOCTL_BIND_VIRQ		0xc0084b11u
#define KEEL_EVTCHN_IOCTL_ALLOC_UNBOUND		0xc0084b12u
#define KEEL_EVTCHN_IOCTL_NOTIFY		0x40044b13u
#define KEEL_EVTCHN_IOCTL_CLOSE			0x40044b14u

/* Ports one open /dev/keel/evtchn may hold. */
#define KEEL_EVTCHN_DEV_MAX_PORTS		1024

#endif /* KEELCTL_KEEL_PRIVCMD_H */
