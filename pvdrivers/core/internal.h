/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/internal.h - struct kpv and what the core's files share:
 * hypercall and atomic helpers, limits, and each part's set-up and teardown.
 * Nothing here is for OS ports; they see the keel_pv headers only.
 *
 * pvdrivers keeps no global state: everything hangs off a struct kpv, so
 * several instances (one per guest in the conformance harness) can share
 * one address space.
 */
#ifndef KPV_CORE_INTERNAL_H
#define KPV_CORE_INTERNAL_H

#include <keel_pv/kpv.h>
#include <keel/hypercall.h>
#include <keel/memory.h>
#include <keel/shared_info.h>
#include <keel/vcpu.h>

/* vcpu_info pointers fit one page. */
#define KPV_MAX_VCPUS		512u
/* Ports we route: those whose bits live in keel_shared_info (no EVTCHN_EXPAND). */
#define KPV_PORTS		KEEL_EVTCHN_BASE_PORTS
#define KPV_PORT_CHUNK		64u
#define KPV_PORT_CHUNKS		(KPV_PORTS / KPV_PORT_CHUNK)
/* Grant frames we use at most (16384 references), each at a fixed window slot. */
#define KPV_GRANT_FRAMES_MAX	64u
/* Map-window pages we manage: one page of bitmap. */
#define KPV_WINDOW_MAX_PAGES	(KPV_PAGE_SIZE * 8u)
/* Window slot 0 holds the shared info; 1 .. KPV_GRANT_FRAMES_MAX the grant frames. */
#define KPV_WINDOW_SLOT_SHARED	0u
#define KPV_WINDOW_SLOT_GRANTS	1u
#define KPV_WINDOW_FIXED	(1u + KPV_GRANT_FRAMES_MAX)
/* Keel pages we map at once, or keep parked on a 1.0 Keel (mapping.c): one per device Keel allows. */
#define KPV_KEEL_MAPS_MAX	256u
/* The first ABI minor with KEEL_HC_MEMORY_UNMAP_SHARED. */
#define KPV_ABI_MINOR_UNMAP	1u

/* The atomics and barriers of the whole core: compiler builtins only. */
#define kpv_load(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define kpv_load_relaxed(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define kpv_store(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define kpv_store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define kpv_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define kpv_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define kpv_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)

/*
 * memcpy, memset and memcmp through the builtins: no C library header is
 * needed (kernels have none), and the compiler emits calls to the three
 * functions every kernel provides only where it does not inline them.
 */
#define kpv_memcpy		__builtin_memcpy
#define kpv_memset		__builtin_memset
#define kpv_memcmp		__builtin_memcmp

/* Lowest set bit of @v (not 0): two 32-bit halves, as 32-bit targets want no helper. */
static inline uint32_t kpv_ctz64(uint64_t v)
{
	uint32_t lo = (uint32_t)v;

	return lo ? (uint32_t)__builtin_ctz(lo) : 32u + (uint32_t)__builtin_ctz((uint32_t)(v >> 32));
}

#define KPV_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KPV_MIN(a, b)		((a) < (b) ? (a) : (b))

/* One port's handler; busy counts upcalls running it right now. */
struct kpv_port_slot {
	kpv_port_fn fn;
	void *ctx;
	uint32_t busy;
};

/* Per grant frame: the free list's links and which references are out. */
struct kpv_grant_books {
	uint32_t next[KEEL_GRANT_ENTRIES_PER_FRAME];
	uint8_t used[KEEL_GRANT_ENTRIES_PER_FRAME];
};

/*
 * A device control page we map (kpv_map_shared; the other Keel pages sit
 * at fixed slots), shared by all its users here, as a second mapping in
 * the same domain would move it. On a 1.0 Keel it stays mapped when the
 * last user goes (users 0), parked for the next one. 16 bytes: the table
 * fits the one page kpv_shim_alloc() gives at most.
 */
struct kpv_keel_map {
	uint64_t gfn;
	uint32_t device_id;
	uint32_t users;
};

struct kpv_dev;

struct kpv {
	uint32_t domid;
	uint32_t nr_vcpus;
	uint32_t keel_minor;			/* (c) Keel's ABI minor (KEEL_HC_VERSION) */
	struct keel_shared_info *shared;
	struct keel_vcpu_info **vcpu_info;	/* nr_vcpus entries */
	uint32_t upcall_mode;
	bool upcall_connected;

	/* Event channels (evtchn.c). */
	struct kpv_lock *ev_lock;
	struct kpv_port_slot *port_chunks[KPV_PORT_CHUNKS];	/* [ev_lock] */
	uint32_t ports_attached;			/* [ev_lock] */

	/* Grants we give (grants.c). */
	struct kpv_lock *gnt_lock;
	struct keel_grant_entry *gnt_frames[KPV_GRANT_FRAMES_MAX];	/* [gnt_lock] */
	struct kpv_grant_books *gnt_books[KPV_GRANT_FRAMES_MAX];	/* [gnt_lock] */
	uint32_t gnt_nr_frames;			/* [gnt_lock] frames on the free list */
	uint32_t gnt_max_frames;		/* (c) */
	uint32_t gnt_free;			/* [gnt_lock] head, or KEEL_GRANT_REF_INVALID */
	uint32_t gnt_in_use;			/* [gnt_lock] */

	/* The map window (map_window.c). */
	struct kpv_lock *win_lock;
	uint64_t win_gfn;			/* (c) first GFN */
	uint32_t win_pages;			/* (c) pages managed */
	uint64_t *win_bits;			/* [win_lock] one bit per page, 1: taken */
	uint32_t win_dynamic;			/* [win_lock] dynamic pages taken */
	struct kpv_lock *keel_lock;		/* taken before win_lock */
	struct kpv_keel_map *keel_maps;		/* [keel_lock] KPV_KEEL_MAPS_MAX of them */
	uint32_t nr_keel_maps;			/* [keel_lock] */

	/* Devices (device.c). */
	struct kpv_lock *dev_lock;
	struct kpv_work *reaper;		/* frees closed devices */
	struct kpv_dev *dead;			/* [dev_lock] closed, to be freed */
	uint32_t nr_devs;			/* [dev_lock] open devices */
};

/* A hypercall with up to three arguments. */
static inline long kpv_hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return kpv_shim_hypercall(nr, a0, a1, a2, 0, 0);
}

/*
 * A hypercall whose first argument is the GPA of @st (@size bytes): made on
 * a copy in guest RAM, which is copied back (hcall.c).
 */
long kpv_hc_struct(uint64_t nr, void *st, size_t size, uint64_t a1, uint64_t a2);

/* A negative KEEL_E* from a long hypercall result (which is >= -4095). */
static inline int kpv_err(long rc)
{
	return rc < 0 ? (int)rc : 0;
}

/* evtchn.c */
int kpv_evtchn_init(struct kpv *k);
void kpv_evtchn_fini(struct kpv *k);
/* KEEL_HC_EVTCHN_STATUS of @port into @out: 0 or an error. */
int kpv_evtchn_status(uint32_t port, struct keel_evtchn_status *out);
/* Whether @port has a handler in this instance. */
bool kpv_evtchn_attached(struct kpv *k, uint32_t port);

/* grants.c */
int kpv_grants_init(struct kpv *k);
void kpv_grants_fini(struct kpv *k);

/* map_window.c */
int kpv_window_init(struct kpv *k);
void kpv_window_fini(struct kpv *k);
/* GFN of fixed window slot @slot (KPV_WINDOW_SLOT_*). */
uint64_t kpv_window_slot(const struct kpv *k, uint32_t slot);
/* @gfn held something we did not put there: keep it taken for good. */
void kpv_window_lose(struct kpv *k, uint64_t gfn);

/* mapping.c: map Keel's page (space, index) at @gfn and return our view. */
void *kpv_map_keel_at(uint32_t space, uint64_t index, uint64_t gfn, int *err);

/* device.c */
int kpv_devices_init(struct kpv *k);
void kpv_devices_fini(struct kpv *k);

#endif
