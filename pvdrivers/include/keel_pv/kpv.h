/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/kpv.h - start of day and the services every PV driver shares:
 * identification, event-channel demultiplexing, grants (given and taken),
 * the map window, the device table, logging. One struct kpv per guest OS.
 *
 * Written once for every OS against keel_pv/shim.h. All functions run in
 * thread context unless marked [any]; errors are negative KEEL_E* numbers
 * (public/keel/errno.h).
 */
#ifndef KEEL_PV_KPV_H
#define KEEL_PV_KPV_H

#include <keel_pv/shim.h>
#include <keel/abi.h>
#include <keel/device_table.h>
#include <keel/errno.h>
#include <keel/event_channel.h>
#include <keel/grant_table.h>
#include <keel/io/device.h>

struct kpv;

/*
 * What the OS tells Keel about itself (KEEL_HC_IDENTIFY). The versions and
 * names are informational (operators see them in keel_ctl_domain_info);
 * zero and NULL are fine.
 */
struct kpv_os {
	uint32_t os_id;			/* KEEL_OS_* */
	uint16_t abi_major, abi_minor;	/* the ABI the port needs: Keel's minor must be >= it */
	uint16_t os_version[4];		/* kernel major, minor, patch, build */
	uint16_t pkg_version[4];	/* the port's package version */
	const char *os_name;		/* ASCII, up to 31 characters used */
	const char *pkg_name;
};

/*
 * Start: check the ABI version (Keel's major is ours, its minor at least
 * the port's abi_minor), identify with the port's version, learn the map window, map the
 * shared info page, register every vCPU's keel_vcpu_info, connect the
 * upcall (kpv_shim_upcall_connect) and route it, set up the grant table,
 * read the device table. The hypercall page (x86) must already be in place.
 * Returns 0 and *out, or an error with nothing left behind.
 */
int kpv_start(const struct kpv_os *os, struct kpv **out);
/*
 * Undo kpv_start(); every port, grant, mapping and device must be gone
 * already (what is left is logged, not freed). ABI 1.0 can neither
 * unregister a keel_vcpu_info nor unmap a Keel-owned page, so each vCPU's
 * keel_vcpu_info stays allocated (Keel may still write it) and the shared
 * info and grant-table frames stay mapped in the map window, at the GFNs
 * the next kpv_start() uses again.
 */
void kpv_stop(struct kpv *k);

/* [any] The OS's handler for Keel's upcall interrupt, on the vCPU it arrived on. */
void kpv_upcall(struct kpv *k);

uint32_t kpv_domid(const struct kpv *k);
uint32_t kpv_nr_vcpus(const struct kpv *k);
/*
 * What the controller asks of this domain (KEEL_SHUTDOWN_*; NONE if nothing):
 * read it on KEEL_VIRQ_SHUTDOWN_REQUEST and carry it out, e.g. by calling
 * KEEL_HC_SCHED_SHUTDOWN with it once the OS has stopped.
 */
uint32_t kpv_shutdown_request(const struct kpv *k);

/* --- Event channels ---------------------------------------------------------- */

/*
 * A handler runs [any] context, from kpv_upcall(), once per time its port
 * was found pending; the pending bit is already cleared. Handlers should
 * be short and schedule work for the rest.
 */
typedef void (*kpv_port_fn)(void *ctx, uint32_t port);

/* A new port UNBOUND for @remote_domid, with its handler. */
int kpv_evtchn_alloc_unbound(struct kpv *k, uint32_t remote_domid, kpv_port_fn fn,
			     void *ctx, uint32_t *port);
/* Bind @remote_port of @remote_domid (UNBOUND for us) to a new local port. */
int kpv_evtchn_bind_interdomain(struct kpv *k, uint32_t remote_domid, uint32_t remote_port,
				kpv_port_fn fn, void *ctx, uint32_t *port);
int kpv_evtchn_bind_virq(struct kpv *k, uint32_t virq, kpv_port_fn fn, void *ctx,
			 uint32_t *port);
/*
 * Give an existing port (e.g. a frontend's control port from the device
 * table) a handler, and unmask it (an event that waited is delivered).
 * -KEEL_EINVAL for port 0 or a port beyond the shared info's 4096,
 * -KEEL_EBUSY if it has a handler.
 */
int kpv_evtchn_attach(struct kpv *k, uint32_t port, kpv_port_fn fn, void *ctx);
/*
 * Mask the port and remove its handler; returns once no upcall runs the
 * handler any more (so never call it from that handler).
 */
void kpv_evtchn_detach(struct kpv *k, uint32_t port);
/* [any] */
int kpv_evtchn_notify(struct kpv *k, uint32_t port);
/* Detach and close. */
void kpv_evtchn_close(struct kpv *k, uint32_t port);
/* The port's state (KEEL_EVTCHN_STATE_*), or an error. */
int kpv_evtchn_state(struct kpv *k, uint32_t port);

/* --- Grants we give ---------------------------------------------------------- */

/*
 * Grant @domid access to the guest-RAM page at @page (page-aligned).
 * Returns 0 and *ref, or -KEEL_ENOSPC when the table is full (after trying
 * to grow it).
 */
int kpv_grant(struct kpv *k, uint32_t domid, const void *page, bool readonly, uint32_t *ref);
/*
 * [any] End a grant. Cooperative: true if the peer no longer uses it (the
 * ref is then free again), false if it still does (call again later, or
 * kpv_grant_revoke()).
 */
bool kpv_grant_end(struct kpv *k, uint32_t ref);
/* End a grant by force (KEEL_HC_GNTTAB_REVOKE); the ref is free afterwards. */
void kpv_grant_revoke(struct kpv *k, uint32_t ref);

/* --- Grants we take (backends) ---------------------------------------------- */

struct kpv_mapping {
	void *va;			/* where the OS sees the page */
	uint64_t gfn;			/* where Keel mapped it (map window) */
	uint32_t handle;		/* for KEEL_HC_GNTTAB_UNMAP */
};

/* Map @domid's grant @ref into our address space. */
int kpv_map_grant(struct kpv *k, uint32_t domid, uint32_t ref, bool readonly,
		  struct kpv_mapping *m);
void kpv_unmap_grant(struct kpv *k, struct kpv_mapping *m);

/*
 * One side of a grant copy: a grant of another domain (ref, offset in the
 * granted page), or our own guest RAM (va: the range starts at va +
 * offset and may not cross a page). Lengths as KEEL_HC_GNTTAB_COPY says.
 */
struct kpv_copy {
	uint32_t src_domid;		/* KEEL_DOMID_SELF: src_va is ours */
	uint32_t src_ref;
	const void *src_va;
	uint32_t dst_domid;		/* KEEL_DOMID_SELF: dst_va is ours */
	uint32_t dst_ref;
	void *dst_va;
	uint16_t src_offset, dst_offset, len;
	int32_t status;			/* OUT: 0 or -KEEL_E* */
};

/* Run @n copies (any number; batched as Keel allows). Returns 0 if all succeeded, else the first error. */
int kpv_grant_copy(struct kpv *k, struct kpv_copy *ops, unsigned int n);

/* --- Keel-owned pages ----------------------------------------------------------- */

/*
 * Map a Keel-owned page (KEEL_MAPSPACE_*, index) at a free map-window GFN.
 * Unmap drops our view and, on a Keel of ABI 1.1 or later, Keel's mapping
 * (KEEL_HC_MEMORY_UNMAP_SHARED), so the GFN is free again and a device
 * page whose device is gone is freed. ABI 1.0 cannot unmap a Keel page:
 * there the GFN stays Keel's and the next kpv_map_shared() of the same page
 * reuses it.
 */
void *kpv_map_shared(struct kpv *k, uint32_t space, uint64_t index, uint64_t *gfn);
void kpv_unmap_shared(struct kpv *k, void *va, uint64_t gfn);

/* --- The map window ------------------------------------------------------------ */

/*
 * A free GFN of the map window, for a mapping the caller makes itself (the
 * functions above use the same allocator), or -KEEL_ENOSPC. Free it once
 * the GFN holds nothing again.
 */
int kpv_window_alloc(struct kpv *k, uint64_t *gfn);
void kpv_window_free(struct kpv *k, uint64_t gfn);

/* --- The device table ------------------------------------------------------------ */

struct kpv_device_info {
	uint32_t device_class;		/* KEEL_IO_CLASS_* */
	uint32_t device_id;
	bool backend;			/* our role */
	uint32_t peer_domid;
	uint32_t event_port;		/* the frontend's control port */
	uint32_t index;
	char label[32];
};

/*
 * Re-read the device table (KEEL_HC_DEVICE_TABLE_READ) into @out (up to
 * @max entries); returns the number of devices in the table (more than
 * @max when some did not fit), or an error. A table with another major
 * version is refused (-KEEL_EVERSION), a malformed one (-KEEL_EINVAL);
 * device nodes of an unknown class or missing a property are skipped.
 */
int kpv_devices(struct kpv *k, struct kpv_device_info *out, unsigned int max);

/* --- Logging ---------------------------------------------------------------------- */

/* [any] printf-style (%s %c %d %i %u %x %p %% with l/ll/z), one line. */
void kpv_log(enum kpv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int kpv_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int kpv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif /* KEEL_PV_KPV_H */
