/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/shim.h - the OS shim: everything pvdrivers needs from the OS it
 * runs in. A port to a new OS implements these functions (and nothing else
 * of pvdrivers); docs/porting.md says in which order and how to test each.
 *
 * Rules for every function here:
 * - "Guest RAM" is memory the OS owns whose guest-physical address (GPA)
 *   kpv_shim_virt_to_gpa() knows and that does not move while allocated:
 *   Keel reads hypercall arguments from it and peers are granted it.
 * - Functions marked [any] may be called from interrupt context (the
 *   upcall) and with a kpv lock held; the others only from thread context
 *   without any kpv lock held.
 * - Besides these, pvdrivers uses only memcpy, memset and memcmp, which
 *   every kernel provides, and compiler builtins for atomics and barriers.
 */
#ifndef KEEL_PV_SHIM_H
#define KEEL_PV_SHIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KPV_PAGE_SIZE	4096u
#define KPV_PAGE_SHIFT	12

struct kpv;

/* --- The hypervisor ------------------------------------------------------ */

/*
 * [any] Call Keel: hypercall @nr with up to five arguments, as the
 * architecture's calling convention in docs/abi/hypercalls.md says (x86:
 * through the hypercall page the OS installed before kpv_start()).
 * Returns what Keel returned: >= 0, or -KEEL_E*.
 */
long kpv_shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4);

/* --- Memory ---------------------------------------------------------------- */

/*
 * [any] @size bytes of zeroed guest RAM (see above), 64-byte aligned, never
 * crossing a page boundary; NULL if none. pvdrivers never asks for more
 * than KPV_PAGE_SIZE, so a port may serve this from single pages.
 */
void *kpv_shim_alloc(size_t size);
/* [any] Free what kpv_shim_alloc() returned; NULL is ignored. */
void kpv_shim_free(void *p);

/*
 * One zeroed, page-aligned page of guest RAM, for rings and buffers granted
 * to peers (DMA-able: it stays at its GPA until freed); NULL if none.
 */
void *kpv_shim_page_alloc(void);
void kpv_shim_page_free(void *page);

/* [any] The GPA of @va, which lies in guest RAM. */
uint64_t kpv_shim_virt_to_gpa(const void *va);

/*
 * Make @pages guest-physical pages from @gpa (in the map window: Keel's
 * shared pages and other domains' granted pages, mapped there by Keel)
 * accessible; returns their address, or NULL. Unmap undoes it. pvdrivers
 * maps one page per call, so the pages need not be contiguous anywhere.
 */
void *kpv_shim_map_gpa(uint64_t gpa, uint32_t pages);
void kpv_shim_unmap_gpa(void *va, uint32_t pages);

/* --- CPUs and the event upcall --------------------------------------------- */

/* [any] The index of the vCPU running the caller (0 .. vCPUs - 1). */
uint32_t kpv_shim_cpu(void);

/*
 * Connect Keel's event upcall to the OS's interrupt handling: from now on,
 * whenever the interrupt arrives on a vCPU, the OS calls kpv_upcall(@k) on
 * it (interrupt context is fine). @k is passed here because the first
 * upcall may come before kpv_start() has returned it. Returns the upcall
 * mode to ask Keel for (KEEL_UPCALL_VECTOR with *vector set, or
 * KEEL_UPCALL_PLATFORM with *vector the MSI-X entry, or 0 for MSI/INTx:
 * then only vCPU 0 gets upcalls), or a negative KEEL_E* error.
 */
int kpv_shim_upcall_connect(struct kpv *k, uint32_t *vector);
/* After this returns, no kpv_upcall(@k) runs or will run. */
void kpv_shim_upcall_disconnect(struct kpv *k);

/* --- Locks ----------------------------------------------------------------- */

/*
 * A spin lock that may be taken in interrupt context: taking it disables
 * the OS's interrupts on this CPU until it is released. Not recursive.
 */
struct kpv_lock;

struct kpv_lock *kpv_shim_lock_create(void);
void kpv_shim_lock_destroy(struct kpv_lock *lock);
/* [any] */
unsigned long kpv_shim_lock(struct kpv_lock *lock);
void kpv_shim_unlock(struct kpv_lock *lock, unsigned long flags);

/* --- Deferred work and timers ---------------------------------------------- */

/*
 * Work: @fn(@ctx) runs later in thread context, once per schedule that
 * found it not already pending, and never concurrently with itself (the
 * device state machine relies on this to serialise its steps). Destroy
 * cancels it, waits for a running call to return, and frees it; it is
 * never called from the work's own @fn.
 */
struct kpv_work;

struct kpv_work *kpv_shim_work_create(void (*fn)(void *ctx), void *ctx);
/* [any] */
void kpv_shim_work_schedule(struct kpv_work *work);
void kpv_shim_work_destroy(struct kpv_work *work);

/*
 * Timers: @fn(@ctx) runs once, in any context, @delay_ns after arm (arming
 * again moves it). Cancel stops a pending one; destroy also waits for a
 * running call and frees it.
 */
struct kpv_timer;

struct kpv_timer *kpv_shim_timer_create(void (*fn)(void *ctx), void *ctx);
/* [any] */
void kpv_shim_timer_arm(struct kpv_timer *timer, uint64_t delay_ns);
/* [any] */
void kpv_shim_timer_cancel(struct kpv_timer *timer);
void kpv_shim_timer_destroy(struct kpv_timer *timer);

/* [any] Monotonic nanoseconds. */
uint64_t kpv_shim_now_ns(void);

/* --- Logging ----------------------------------------------------------------- */

enum kpv_log_level {
	KPV_LOG_ERROR,
	KPV_LOG_WARN,
	KPV_LOG_INFO,
	KPV_LOG_DEBUG,
};

/* [any] One line (no newline), already formatted by pvdrivers. */
void kpv_shim_log(enum kpv_log_level level, const char *line);

#endif /* KEEL_PV_SHIM_H */
