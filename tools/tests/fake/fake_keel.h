/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/fake/fake_keel.h - Keel's real core, in this process, as the
 * tools' tests see it: plain types only, so the tools' code (which includes
 * the public ABI headers) never meets Keel's internal ones.
 */
#ifndef KEELCTL_FAKE_KEEL_H
#define KEELCTL_FAKE_KEEL_H

#include <stdbool.h>
#include <stdint.h>

/* Guest RAM of the fake control domain used for bounce pages. */
#define FAKE_BOUNCE_GFN		0x100u
#define FAKE_BOUNCE_PAGES	300u

/* Start the core once (page allocator, scheduler); later calls do nothing. */
void fake_keel_start(void);

/*
 * A domain built the way Keel builds boot-time domains, identified, with
 * FAKE_BOUNCE_PAGES of RAM at FAKE_BOUNCE_GFN. NULL on failure.
 */
void *fake_keel_domain(const char *name, uint32_t caps, uint32_t *domid);
void fake_keel_domain_destroy(void *dom);

/* A hypercall made by @dom's vCPU 0. */
long fake_keel_hypercall(void *dom, uint32_t nr, const uint64_t args[6]);

/* The host address of @dom's RAM page @gfn, or NULL. */
void *fake_keel_page(void *dom, uint64_t gfn);

/* Copy @len bytes of domain @domid's RAM at @gpa (one page at most); 0 or -1. */
int fake_keel_read(uint32_t domid, uint64_t gpa, void *buf, uint32_t len);

/* The KEEL_DOMCREATE_F_* platform domain @domid was created with; 0 if none. */
uint32_t fake_keel_domain_platform(uint32_t domid);

/* What a guest does: print on its console, shut itself down. */
int fake_keel_guest_print(uint32_t domid, const char *s);
int fake_keel_guest_shutdown(uint32_t domid, uint32_t reason);


/* Whether @dom's port @port is pending; clears it (what a kernel's upcall does). */
bool fake_keel_take_pending(void *dom, uint32_t port);

/* Set the fake clock (Keel time, ns). */
void fake_keel_set_time(uint64_t ns);

/* Keel's own counters. */
uint64_t fake_keel_free_pages(void);
unsigned int fake_keel_live_domains(void);

#endif
