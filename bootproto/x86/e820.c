/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/e820.c - the E820 memory map a Linux guest gets (docs/abi/boot.md,
 * "Guest physical layout"): the domain's layout with every RAM range as RAM
 * (Linux copies the boot data before it reuses that memory) and every
 * platform range as reserved, sorted by address.
 */
#include <keel/arch-x86_64.h>
#include <keel/control.h>
#include <keel/start_info.h>
#include <bootproto/x86_linux.h>
#include "../internal.h"

/* Insert keeping the map sorted; ranges given never overlap. */
static bool insert(struct e820_entry *out, unsigned int *n, unsigned int max,
		   uint64_t addr, uint64_t size, uint32_t type)
{
	unsigned int i = *n;

	if (size == 0) {
		return true;
	}
	if (*n == max) {
		return false;
	}
	while (i > 0 && out[i - 1].addr > addr) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = (struct e820_entry){ addr, size, type };
	(*n)++;
	return true;
}

static bool listed(const struct boot_mem_range *layout, unsigned int count, uint64_t addr)
{
	for (unsigned int i = 0; i < count; i++) {
		if (addr >= layout[i].base && addr - layout[i].base < layout[i].size) {
			return true;
		}
	}
	return false;
}

unsigned int e820_build(const struct boot_mem_range *layout, unsigned int count,
			uint32_t platform, struct e820_entry *out, unsigned int max)
{
	unsigned int n = 0;
	bool ok = true;

	for (unsigned int i = 0; i < count && ok; i++) {
		bool ram = layout[i].type == KEEL_MEMTYPE_RAM || layout[i].type == KEEL_MEMTYPE_BOOT;

		ok = insert(out, &n, max, layout[i].base, layout[i].size,
			    ram ? E820_RAM : E820_RESERVED);
	}
	/* Platform ranges the layout leaves out but a guest must not use. */
	if (ok && (platform & KEEL_DOMCREATE_F_ACPI)) {
		if (!listed(layout, count, KEEL_X86_GPA_FIRMWARE)) {
			ok = insert(out, &n, max, KEEL_X86_GPA_FIRMWARE, KEEL_X86_GPA_FIRMWARE_SIZE,
				    E820_RESERVED);
		}
		if (ok && !listed(layout, count, KEEL_X86_GPA_IOAPIC)) {
			ok = insert(out, &n, max, KEEL_X86_GPA_IOAPIC, 0x1000, E820_RESERVED);
		}
	}
	return ok ? n : 0;
}
