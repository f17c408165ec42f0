/* SPDX-License-Identifier: MIT */
/*
 * platform/guest_layout.c - the guest-physical layout of Keel 1.0's x86
 * domains (docs/abi/boot.md): bootproto's x86_guest_layout(), the same
 * keelctl populates, in the arch contract's type.
 */
#include <arch/arch.h>
#include <x86/linux_boot.h>

#define LAYOUT_RANGES_MAX	8	/* x86_guest_layout() makes at most 5 */

unsigned int arch_guest_layout(uint64_t ram_pages, struct arch_mem_range *out,
			       unsigned int max)
{
	struct boot_mem_range r[LAYOUT_RANGES_MAX];
	unsigned int n = x86_guest_layout(ram_pages, r, LAYOUT_RANGES_MAX);

	for (unsigned int i = 0; i < n && i < max && i < LAYOUT_RANGES_MAX; i++) {
		out[i] = (struct arch_mem_range){ r[i].base, r[i].size, r[i].type };
	}
	return n;
}
