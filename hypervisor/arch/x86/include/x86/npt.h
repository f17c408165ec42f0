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

bool npt_init(struct npt *npt);

/* Map one 4 KiB guest page. False if out of memory or @gpa is too high. */
bool npt_map(struct npt *npt, uint64_t gpa, paddr_t hpa, unsigned int rights);

/* Host-physical address behind @gpa, or false if it is not mapped. */
bool npt_translate(const struct npt *npt, uint64_t gpa, paddr_t *hpa);

/* Free every table page (not the guest pages they point to). */
void npt_destroy(struct npt *npt);

#endif
