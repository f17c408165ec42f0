/* SPDX-License-Identifier: MIT */
/*
 * ref.h - the reference port's "kernel": what its shim files share and what
 * its main program (main.c) uses. The kernel runtime underneath is
 * tests/guest/lib64 (entry, IDT, exceptions, discovery, hypercall page,
 * console); everything pvdrivers needs on top of it is in the shim_*.c files.
 *
 * The reference guest runs on vCPU 0 only, in two contexts: the main loop
 * (thread context: work items and timers run here) and the upcall
 * interrupt (kpv_upcall() and the port handlers it calls).
 */
#ifndef REF_H
#define REF_H

#include "keeltest64.h"

#include <keel_pv/kpv.h>

/* The IDT vector Keel injects upcalls on (lib64 keeps 0xf0 for its own kernels). */
#define REF_UPCALL_VECTOR	0xe0

/* A spin lock; taking it also disables interrupts (shim.h "Locks"). */
struct kpv_lock {
	uint32_t taken;
};

/* --- Memory (shim_memory.c) --------------------------------------------- */

/* What the allocators hold, for the leak check around kpv_start()/kpv_stop(). */
struct ref_mem_usage {
	uint32_t pages;		/* pages taken from the free pool, any use */
	uint32_t blocks;	/* kpv_shim_alloc() blocks not freed */
	uint32_t free_pages;	/* pages left */
};

/* Build the page pool from the start info's memory map (before anything else). */
void ref_mem_init(void);
void ref_mem_usage(struct ref_mem_usage *u);

/* --- Scheduling (shim_sched.c) ------------------------------------------- */

/*
 * The main loop: run due timers and queued work until @done(@ctx) holds
 * (true) or @timeout_ns passes (false). In between it arms Keel's
 * single-shot timer for the next deadline and blocks until an event or the
 * timer wakes it.
 */
bool ref_wait(bool (*done)(void *ctx), void *ctx, uint64_t timeout_ns);
/* The vCPU info (and with it the clock) was registered again: look it up at next use. */
void ref_clock_reset(void);
/* Work items and timers that exist (created, not destroyed), for the leak check. */
uint32_t ref_sched_objects(void);
/* How many times ref_wait() has gone idle (a spinning loop shows as many). */
uint64_t ref_idle_count(void);

/* --- The main program's parts ------------------------------------------- */

/* selftest.c: the shim on its own; one keeltest group named @name. */
void ref_selftest(const char *name);
/* echo.c: open @dev with the echo test class, exchange requests, close; group @name. */
void ref_echo_run(struct kpv *k, const struct kpv_device_info *dev, const char *name);
/* role_console.c: the PV console roles conback and confront (@role); group @name. */
void ref_console_run(struct kpv *k, const char *role, const char *name);
/* role_block.c: the PV block roles blkback and blkfront (@role); group @name. */
void ref_block_run(struct kpv *k, const char *role, const char *name);
/* role_net.c: the PV network roles netsw, netping and netpong (@role); group @name. */
void ref_net_run(struct kpv *k, const char *role, const char *name);
/* role_bench_block.c: the PV block benchmark roles bench-blkback and bench-blkfront; group @name. */
void ref_bench_block_run(struct kpv *k, const char *role, const char *name);
/* role_bench_net.c: the PV network benchmark roles bench-netsend and bench-netrecv; group @name. */
void ref_bench_net_run(struct kpv *k, const char *role, const char *name);
/* role_serve.c: role=serve, every device this domain backs, until Keel stops it. */
void ref_serve_run(struct kpv *k) __attribute__((noreturn));
/* role_ping.c: role=ping, ARP and ICMP echo for ip= on its PV net device, until destroyed. */
void ref_ping_run(struct kpv *k) __attribute__((noreturn));

/* --- Interrupt flag ------------------------------------------------------- */

static inline unsigned long ref_irq_save(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq\n\tpopq %0\n\tcli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void ref_irq_restore(unsigned long flags)
{
	if ((flags & KT_RFLAGS_IF) != 0) {
		__asm__ volatile("sti" ::: "memory");
	}
}

#endif /* REF_H */
