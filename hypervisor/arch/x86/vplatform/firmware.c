/* SPDX-License-Identifier: MIT */
/*
 * vplatform/firmware.c - the top of a PC-platform domain's first megabyte:
 * the option ROM area (0xc0000..0xdffff) and the firmware area
 * (KEEL_X86_GPA_FIRMWARE, 0xe0000..0xfffff) get RAM pages from Keel, and
 * the ACPI tables go into the firmware area (arch_platform_populate(),
 * docs/abi/boot.md). Builders cannot populate them: both are platform
 * ranges, closed to KEEL_HC_MEMORY_POPULATE.
 *
 * The option ROM area holds zeros: no ROM signature, no iBFT. It is RAM
 * rather than nothing because stock Linux reads all of it (iBFT search
 * every 16 bytes, ROM probing every 2 KiB) with instructions Keel would
 * otherwise have to emulate one exit at a time. VGA memory below it
 * (0xa0000..0xbffff) stays absent and reads as all ones.
 *
 * The pages count as the domain's RAM (its memory lists them) but come on
 * top of the RAM it was given: the limit and target grow by them, so the
 * tables never cost the guest memory it was promised.
 */
#include <arch/arch.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <x86/vacpi.h>
#include <x86/vdevices.h>
#include <x86/vplatform.h>
#include <x86/vsleep.h>

#define ROM_AREA	0xc0000ull	/* option ROMs on a PC; populated with the firmware area */
#define LOW_PAGES	((0x100000ull - ROM_AREA) >> PAGE_SHIFT)
#define VGA_MEMORY	0xa0000ull	/* up to the ROM area: absent */

int vacpi_write(struct domain *d)
{
	struct vacpi_config c = {
		.vcpus = d->vcpu_count,
		.uart = d->platform & KEEL_DOMCREATE_F_UART,
		.rtc = d->platform & KEEL_DOMCREATE_F_RTC,
		.pci = d->platform & KEEL_DOMCREATE_F_PLATFORM_PCI,
	};
	size_t room = 2 * PAGE_SIZE, used;	/* the tables of 255 vCPUs fit */
	uint8_t *buf = heap_alloc(room);
	int rc = 0;

	if (!buf) {
		return -KEEL_ENOMEM;
	}
	used = vacpi_build(&c, KEEL_X86_GPA_FIRMWARE, buf, room);
	if (!used || guest_copy_to(d, KEEL_X86_GPA_FIRMWARE, buf, used) != 0) {
		/* Two pages hold the tables of any vCPU count Keel allows: a bug. */
		log_err("domain %u: cannot write its ACPI tables (%zu bytes)", d->domid, used);
		rc = -KEEL_EINVAL;
	}
	heap_free(buf);
	return rc;
}

int arch_platform_populate(struct domain *d)
{
	int rc;

	if (!(d->platform & KEEL_DOMCREATE_F_ACPI)) {
		return 0;
	}
	/* Before anything runs: no hypercall can change the limits meanwhile. */
	guest_memory_set_limits(d, d->mem.max_pages + LOW_PAGES, d->mem.target_pages + LOW_PAGES);
	rc = guest_memory_populate(d, ROM_AREA >> PAGE_SHIFT, LOW_PAGES);
	if (rc != 0 || vsleep_write_reset_vector(d) != 0) {
		return -KEEL_ENOMEM;
	}
	return vacpi_write(d);
}

bool vfirmware_legacy_mmio(struct domain *d, uint64_t gpa, unsigned int size, bool write,
			   uint64_t *value)
{
	if (!(d->platform & KEEL_DOMCREATE_F_ACPI) || gpa < VGA_MEMORY || gpa >= ROM_AREA) {
		return false;
	}
	if (!write) {
		*value = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	}
	return true;
}
