/* SPDX-License-Identifier: MIT */
/* hcall.h: the groups of the hcall test kernel and the scratch pages they share. */
#ifndef HCALL_H
#define HCALL_H

#include "keeltest64.h"

/*
 * Four RAM pages in a row for structs placed on purpose: aligned, 4-byte
 * misaligned, or straddling the boundary between two pages.
 */
extern uint8_t hc_page[4][KEEL_PAGE_SIZE];

/* An 8-aligned GPA at which a struct of size bytes (>= 16) crosses from hc_page[0] into hc_page[1]. */
static inline uint64_t hc_crossing(uint64_t size)
{
	return KT_GPA(hc_page[1]) - ((size / 2) & ~(uint64_t)7);
}

/* A 4-byte but not 8-byte aligned GPA inside hc_page[0]. */
#define HC_MISALIGNED		(KT_GPA(hc_page[0]) + 260)
/* A GFN in the hole between the end of RAM and 3 GiB: holds nothing. */
uint64_t hc_empty_gfn(void);
/* High bits that make a 32-bit register argument invalid. */
#define HC_HIGH			((uint64_t)1 << 32)

void hc_entry_state(void);
void hc_discovery_pre(void);
void hc_discovery_post(void);
void hc_console(void);
void hc_sched(void);
void hc_evtchn(void);
void hc_gnttab(void);
void hc_memory(void);
void hc_vcpu(void);
void hc_devtable(void);
void hc_control(void);

#endif /* HCALL_H */
