/* SPDX-License-Identifier: MIT */
/*
 * x86/guest_walk.h - translate a guest's linear addresses through its own
 * page tables (all x86 paging modes but 5-level), reading them as guest
 * memory, for instruction fetch and string I/O.
 */
#ifndef KEEL_X86_GUEST_WALK_H
#define KEEL_X86_GUEST_WALK_H

#include <keel/domain.h>
#include <keel/types.h>

struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
};

#define WALK_WRITE	(1u << 0)	/* the access writes */
#define WALK_USER	(1u << 1)	/* the access is from CPL 3 */
#define WALK_FETCH	(1u << 2)	/* an instruction fetch */

/* Outcome of a walk: 0, or a guest page fault to inject with this code. */
#define WALK_OK		0
#define WALK_FAULT	1	/* the guest's tables deny it: #PF */
#define WALK_BAD_TABLE	2	/* a table is not the guest's RAM */

/*
 * Translate @linear for an access of kind @flags. On WALK_FAULT, *@pf_error
 * holds the #PF error code.
 */
int guest_walk(struct domain *d, const struct guest_paging *pg, uint64_t linear,
	       unsigned int flags, uint64_t *gpa, uint32_t *pf_error);

/*
 * Copy @len bytes at guest linear @linear (any alignment, may cross pages)
 * into @buf. Returns the bytes copied before the first untranslatable one.
 */
size_t guest_read_linear(struct domain *d, const struct guest_paging *pg, uint64_t linear,
			 void *buf, size_t len);

#endif
