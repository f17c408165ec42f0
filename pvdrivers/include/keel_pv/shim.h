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
 *   upcall, a timer) and with a kpv lock held, and must not sleep; the
 *   others only from thread context without any kpv lock held, and may
 *   sleep. Each function's comment says what NULL means for it; a pointer
 *   it does not mention is never NULL.
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
 * through the hypercall page the OS installed before kpv_start()). Never
 * sleeps: pvdrivers makes no blocking call (no SCHED_BLOCK or SCHED_POLL).
 * Returns what Keel returned: >= 0, or -KEEL_E*.
 */
long kpv_shim_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4);

/* --- Memory ---------------------------------------------------------------- */

/*
 * [any] @size bytes of zeroed guest RAM (see above), 64-byte aligned, never
 * crossing a page boundary; NULL if there is none right now. Never sleeps
 * (Linux: GFP_ATOMIC). pvdrivers never asks for 0 or for more than
 * KPV_PAGE_SIZE bytes, so a port may serve this from single pages; a larger
 * @size returns NULL. The block is pvdrivers' until it passes it to
 * kpv_shim_free().
 */
void *kpv_shim_alloc(size_t size);
/*
 * [any] Free a block kpv_shim_alloc() returned, once. NULL is ignored (as
 * free(NULL)). Never sleeps.
 */
void kpv_shim_free(void *p);

/*
 * One zeroed, page-aligned page of guest RAM, for rings and buffers granted
 * to peers (DMA-able: it stays at its GPA until freed); NULL if none. May
 * sleep. The page is pvdrivers' until it passes it to kpv_shim_page_free().
 */
void *kpv_shim_page_alloc(void);
/*
 * Free a page kpv_shim_page_alloc() returned, once; NULL is ignored (as
 * kpv_shim_free(NULL)). pvdrivers has ended every grant of the page first,
 * so no other domain can reach it any more. May sleep.
 */
void kpv_shim_page_free(void *page);

/*
 * [any] The GPA of @va, which lies in a block or page from the allocators
 * above (pvdrivers asks for nothing else). Cannot fail; never sleeps.
 */
uint64_t kpv_shim_virt_to_gpa(const void *va);

/*
 * Make @pages guest-physical pages from @gpa accessible, readable and
 * writable, cached as ordinary RAM; returns their address, or NULL if the
 * OS cannot map them. @gpa is page-aligned and lies in the map window:
 * Keel's shared pages and other domains' granted pages, put there by Keel
 * before the call. pvdrivers maps one page per call (@pages is 1), so the
 * pages need not be contiguous anywhere. May sleep.
 */
void *kpv_shim_map_gpa(uint64_t gpa, uint32_t pages);
/*
 * Undo one kpv_shim_map_gpa() that returned @va, with the same @pages
 * (never NULL, never twice). pvdrivers unmaps before it asks Keel to take
 * the page away from the GPA. May sleep.
 */
void kpv_shim_unmap_gpa(void *va, uint32_t pages);

/* --- CPUs and the event upcall --------------------------------------------- */

/*
 * [any] The index of the vCPU running the caller (0 .. vCPUs - 1, Keel's
 * numbering, which is the order of the start info's or ACPI's CPUs). In
 * kpv_upcall() it is the vCPU that took the interrupt; elsewhere pvdrivers
 * uses it only as a hint. Never sleeps.
 */
uint32_t kpv_shim_cpu(void);

/*
 * Connect Keel's event upcall to the OS's interrupt handling: from now on,
 * whenever the interrupt arrives on a vCPU, the OS calls kpv_upcall(@k) on
 * it (interrupt context is fine). @k is passed here because the first
 * upcall may come before kpv_start() has returned it. Called once per
 * kpv_start(), which undoes it with kpv_shim_upcall_disconnect() if start
 * fails later. Returns the upcall mode to ask Keel for (KEEL_UPCALL_VECTOR
 * with *@vector set, or KEEL_UPCALL_PLATFORM with *@vector the MSI-X entry,
 * or 0 for MSI/INTx: then only vCPU 0 gets upcalls), or a negative KEEL_E*
 * error (then nothing is connected). May sleep.
 */
int kpv_shim_upcall_connect(struct kpv *k, uint32_t *vector);
/*
 * Disconnect what kpv_shim_upcall_connect(@k) connected: when this returns,
 * no kpv_upcall(@k) runs on any vCPU or will run (it waits for a running
 * one). Keel's mode is already NONE. May sleep.
 */
void kpv_shim_upcall_disconnect(struct kpv *k);

/* --- Locks ----------------------------------------------------------------- */

/*
 * A spin lock that may be taken in interrupt context: taking it disables
 * the OS's interrupts on this CPU until it is released. Not recursive.
 * pvdrivers holds one only for short, non-sleeping sections, and calls
 * nothing but [any] functions while it holds one.
 */
struct kpv_lock;

/* A new unlocked lock; NULL if out of memory. May sleep. */
struct kpv_lock *kpv_shim_lock_create(void);
/* Free @lock (not NULL, not held). May sleep. */
void kpv_shim_lock_destroy(struct kpv_lock *lock);
/*
 * [any] Take @lock, spinning while another CPU holds it; returns the
 * interrupt state to give back to kpv_shim_unlock(). Never sleeps.
 */
unsigned long kpv_shim_lock(struct kpv_lock *lock);
/* [any] Release @lock, taken on this CPU, and restore @flags from its kpv_shim_lock(). */
void kpv_shim_unlock(struct kpv_lock *lock, unsigned long flags);

/* --- Deferred work and timers ---------------------------------------------- */

/*
 * Work: @fn(@ctx) runs later in thread context (it may sleep and call any
 * shim function), once per schedule that found it not already pending, and
 * never concurrently with itself (the device state machine relies on this
 * to serialise its steps).
 */
struct kpv_work;

/* A new work item running @fn(@ctx), not scheduled; NULL if out of memory. May sleep. */
struct kpv_work *kpv_shim_work_create(void (*fn)(void *ctx), void *ctx);
/* [any] Run it soon; nothing more if it is already pending. Never sleeps. */
void kpv_shim_work_schedule(struct kpv_work *work);
/*
 * Cancel @work (not NULL) if pending, wait for a running call to return,
 * and free it. Never called from @work's own function. May sleep.
 */
void kpv_shim_work_destroy(struct kpv_work *work);

/*
 * Timers: @fn(@ctx) runs once, in any context (so it may call only [any]
 * functions), @delay_ns after the last arm.
 */
struct kpv_timer;

/* A new timer running @fn(@ctx), not armed; NULL if out of memory. May sleep. */
struct kpv_timer *kpv_shim_timer_create(void (*fn)(void *ctx), void *ctx);
/*
 * [any] Fire once @delay_ns from now (0: as soon as possible); arming a
 * pending timer moves it. Never sleeps.
 */
void kpv_shim_timer_arm(struct kpv_timer *timer, uint64_t delay_ns);
/* [any] Stop a pending firing; nothing if none. A call already running goes on. Never sleeps. */
void kpv_shim_timer_cancel(struct kpv_timer *timer);
/*
 * Cancel @timer (not NULL), wait for a running call to return, and free it.
 * May sleep.
 */
void kpv_shim_timer_destroy(struct kpv_timer *timer);

/*
 * [any] Monotonic nanoseconds (any origin; never goes back, keeps counting
 * while the guest idles). The timers above are measured on this clock.
 */
uint64_t kpv_shim_now_ns(void);

/* --- Logging ----------------------------------------------------------------- */

enum kpv_log_level {
	KPV_LOG_ERROR,
	KPV_LOG_WARN,
	KPV_LOG_INFO,
	KPV_LOG_DEBUG,
};

/*
 * [any] Log one line at @level: @line is NUL-terminated, formatted by
 * pvdrivers, without a newline, and is pvdrivers' again when this returns
 * (copy it to keep it). The OS may drop or rate-limit lines. Never sleeps.
 */
void kpv_shim_log(enum kpv_log_level level, const char *line);

#endif /* KEEL_PV_SHIM_H */
