/* SPDX-License-Identifier: MIT */
/* x86/npt.h - nested page tables: a guest-physical to host-physical map. */
#ifndef KEEL_X86_NPT_H
#define KEEL_X86_NPT_H

#include <keel/types.h>

struct npt {
	paddr_t root;		/* PML4, for the VMCB's N_CR3 */
	uint64_t table_pages;	/* pages used by tables, root included */
};

#define NPT_READ	(1u << 0)
#define NPT_WRITE	(1u << 1)
#define NPT_EXEC	(1u << 2)
#define NPT_LARGE_ORDER	9	/* 2 MiB leaves */
#define NPT_HUGE_ORDER	18	/* 1 GiB leaves, where the CPU has them */

bool npt_init(struct npt *npt);

/*
 * Map 2^@order pages (order 0: 4 KiB, NPT_LARGE_ORDER: 2 MiB,
 * NPT_HUGE_ORDER: 1 GiB) at @gpa to @hpa, both aligned to that size. False
 * if out of memory, misaligned, @gpa is too high, or a large leaf would
 * replace a table or sit below one.
 */
bool npt_map(struct npt *npt, uint64_t gpa, paddr_t hpa, unsigned int order,
	     unsigned int rights);

/* Remove a mapping made by npt_map with the same @order. */
void npt_unmap(struct npt *npt, uint64_t gpa, unsigned int order);

/* Free every table page (not the guest pages they point to). */
void npt_destroy(struct npt *npt);

#endif
