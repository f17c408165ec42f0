/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/hcall.h - the hypercalls pvdrivers makes, answered for a
 * process: what belongs to the kernel (shared info, vCPU infos, upcall, grant
 * table, map window) is emulated for this pvdrivers instance alone; ports,
 * grant maps and device pages go to the privileged driver (driver.h);
 * DEVICE_TABLE_READ and EVTCHN_STATUS to Keel through libkeelctl.
 */
#ifndef KEEL_BACKENDS_HCALL_H
#define KEEL_BACKENDS_HCALL_H

#include <stdbool.h>
#include <stdint.h>

struct keelctl;
struct kb_driver;
struct kpv;

/* Serve pvdrivers of domain @domid (ours) through @c and @d. */
void kb_hcall_init(struct keelctl *c, struct kb_driver *d, uint32_t domid);

long kb_hcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);

/* The emulated map window, for the shim's map_gpa/unmap_gpa. */
void *kb_hcall_window_view(uint64_t gfn);
void kb_hcall_window_unview(void *va);

/* The pvdrivers instance upcalls go to (NULL: none). */
void kb_hcall_upcall_connect(struct kpv *k);

/*
 * The loop hook: take the ports the driver says fired, mark them pending
 * as Keel would, and run kpv_upcall() while an unmasked one is pending.
 * True if anything was delivered.
 */
bool kb_hcall_deliver(void *unused);

#endif /* KEEL_BACKENDS_HCALL_H */
