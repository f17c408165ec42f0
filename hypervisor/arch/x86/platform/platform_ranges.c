/* SPDX-License-Identifier: MIT */
/* platform/platform_ranges.c - platform ranges of the x86 guest-physical layout (boot.md). */
#include <arch/arch.h>
#include <public/keel/arch-x86_64.h>

#define GPA_4G		0x100000000ull

/*
 * The whole MMIO hole below 4 GiB except the map window: the PCI BARs, the
 * IOAPIC and the local APIC live there, and boot.md keeps the rest for
 * platform ranges to come. Refusing all of it now means a later Keel can
 * put a device anywhere in the hole without breaking a guest that had
 * mapped something there.
 */
bool arch_gfn_is_platform(uint64_t gfn)
{
	uint64_t gpa = gfn << PAGE_SHIFT;

	/*
	 * VGA memory, the option ROM area and the firmware area: Keel
	 * populates the last two (vplatform/firmware.c), builders may not.
	 */
	if (gpa >= KEEL_X86_GPA_LOW_RAM_END &&
	    gpa < (uint64_t)KEEL_X86_GPA_FIRMWARE + KEEL_X86_GPA_FIRMWARE_SIZE) {
		return true;
	}
	if (gfn >= GPA_4G >> PAGE_SHIFT || gpa < KEEL_X86_GPA_MMIO_HOLE) {
		return false;
	}
	return gpa < KEEL_X86_GPA_MAP_WINDOW ||
	       gpa >= (uint64_t)KEEL_X86_GPA_MAP_WINDOW + KEEL_X86_GPA_MAP_WINDOW_SIZE;
}
