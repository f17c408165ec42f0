/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/harness.h - the environment the conformance
 * tests run in: several guest domains on one hypervisor, each running its
 * own pvdrivers behind the OS shim, driven by a deterministic pump.
 *
 * The tests use only this header, the keel_pv headers and the public ABI
 * (<keel/...>). Our implementation (the harness directory) is the real Keel core
 * compiled for the host against the fake arch, plus a hosted shim; another
 * port can run the same tests by providing these functions for its own
 * environment (README.md says how).
 *
 * Rules the tests follow: pvdrivers code of a domain runs only while that
 * domain is current (harness_use(), or the pump, which switches for each
 * upcall, work item and timer it runs); everything is single-threaded and
 * time is a fake clock that moves only inside harness_run().
 */
#ifndef KPV_HARNESS_H
#define KPV_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hdom;

/* --- The test's life --------------------------------------------------------- */

/* Fresh state for one test (no domains, clock at 1 s, no violations). */
void harness_begin(void);
/*
 * End of a test: destroys every domain still alive, then reports (as
 * failed CUnit assertions at the caller) anything Keel did not get back:
 * pages, heap pages, domain objects; and any shim contract violation.
 */
void harness_end_at(const char *file, unsigned int line);
#define harness_end()	harness_end_at(__FILE__, __LINE__)

/* --- Domains ---------------------------------------------------------------------- */

/*
 * A new guest domain with @vcpus vCPUs and some RAM, allowed to be a
 * backend of every device class; NULL (and a failed assertion) if Keel
 * refuses. Its pvdrivers has not started.
 */
struct hdom *harness_domain(const char *name, uint32_t vcpus);
/* Keel destroys @d now; its pvdrivers, work and timers vanish with it. */
void harness_destroy(struct hdom *d);
/*
 * The OS in @d restarts its pvdrivers from nothing without telling anyone
 * (a crash and driver reload, kexec): the shim drops every lock, work item,
 * timer and mapping of the old instance and stops delivering its upcalls;
 * its memory stays taken, as a crashed driver's would. Keel keeps the
 * domain as it is: ports, grants, mappings, the control pages.
 */
void harness_forget(struct hdom *d);
uint32_t harness_domid(const struct hdom *d);
uint32_t harness_vcpus(const struct hdom *d);
/* Make @d current: the pvdrivers calls that follow run as @d (thread context). */
void harness_use(struct hdom *d);
struct hdom *harness_current(void);
/* How @d's shim connects upcalls: KEEL_UPCALL_VECTOR (default) or another mode. */
void harness_upcall_mode(struct hdom *d, int mode);

/* --- Running ---------------------------------------------------------------------- */

/*
 * Deliver upcalls, run work items and timers, and move the clock forward
 * to the next timer, until @done(@ctx) is true or @max_ns of fake time
 * have passed with nothing left to do. Returns @done's last answer (true
 * when @done is NULL). A run that keeps calling back without the clock
 * moving (a tight loop) stops with a violation.
 */
bool harness_run(bool (*done)(void *ctx), void *ctx, uint64_t max_ns);
/* Run what is due now, without moving the clock. */
void harness_settle(void);
uint64_t harness_now(void);
/* Callbacks (upcalls, work items, timers) run so far. */
uint64_t harness_steps(void);

/* --- Acting as a domain at the raw ABI level -------------------------------------------- */

/* A hypercall made by @d's vCPU 0, past any hook. */
long harness_hypercall(struct hdom *d, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
		       uint64_t a3, uint64_t a4);
/* A page of @d's RAM for raw calls' structs, outside pvdrivers' allocator. */
void *harness_scratch(struct hdom *d, uint64_t *gpa);

/*
 * Intercept @d's hypercalls from its pvdrivers: @fn sees each first and
 * returns true with *@ret to answer it itself, or false to pass it to the
 * hypervisor. NULL removes the hook.
 */
typedef bool (*harness_hook)(void *ctx, struct hdom *d, uint64_t nr, const uint64_t args[5],
			     long *ret);
void harness_set_hook(struct hdom *d, harness_hook fn, void *ctx);
/* For hooks: @len bytes at @d's guest-physical @gpa (RAM), or NULL. */
void *harness_guest_ptr(struct hdom *d, uint64_t gpa, size_t len);

/* --- Devices ------------------------------------------------------------------------ */

/*
 * A device of @cls from frontend @front to backend @back, as a controller
 * would make it (KEEL_HC_CTL_DEVICE_SETUP): 0 with the device id and the
 * frontend's control port, or -KEEL_E*.
 */
int harness_device_setup(struct hdom *front, struct hdom *back, uint32_t cls, uint32_t index,
			 uint32_t *device_id, uint32_t *fe_port);
int harness_device_remove(uint32_t device_id);
/*
 * The device's control page (struct keel_io_device_page), to read or
 * scribble on; after the device is removed, while one of its ends still
 * maps it.
 */
void *harness_device_page(uint32_t device_id);

/* --- What the hypervisor sees ------------------------------------------------------- */

uint64_t harness_free_pages(void);		/* the hypervisor's free page count */
unsigned int harness_domain_objects(void);	/* domains not yet freed */
/* A port's state (KEEL_EVTCHN_STATE_*), and @d's ports that are not FREE. */
int harness_port_state(struct hdom *d, uint32_t port);
unsigned int harness_ports_in_use(struct hdom *d);
/* @d's grant entries with KEEL_GNTF_PERMIT, and those with a non-zero status. */
unsigned int harness_grants_permitted(struct hdom *d);
unsigned int harness_grants_busy(struct hdom *d);
/* Grant mappings @d holds (FOREIGN pages in its map window). */
unsigned int harness_foreign_maps(struct hdom *d);
/* What @d sees at @gfn right now (its second stage), or NULL. */
void *harness_gfn_view(struct hdom *d, uint64_t gfn);
/* The map window of every domain. */
void harness_map_window(uint64_t *gfn, uint64_t *pages);

/* --- The shim's bookkeeping ------------------------------------------------------------ */

struct harness_usage {
	unsigned int allocs;		/* kpv_shim_alloc() not freed */
	unsigned int pages;		/* kpv_shim_page_alloc() not freed */
	unsigned int locks, works, timers;	/* created and not destroyed */
	unsigned int maps;		/* kpv_shim_map_gpa() not unmapped */
	unsigned int armed;		/* timers armed now */
};
void harness_usage(struct hdom *d, struct harness_usage *u);
/* Shim contract violations so far (recursive lock, sleeping call in an upcall, ...). */
unsigned int harness_violations(void);
const char *harness_last_violation(void);
/* Whether @d's pvdrivers logged a line containing @needle; forget its log. */
bool harness_log_has(struct hdom *d, const char *needle);
void harness_log_clear(struct hdom *d);

#endif
