/* SPDX-License-Identifier: MIT */
/*
 * boot/main.c - first C code on the boot CPU: console, the loader's boot
 * information, the reservations the page allocator must respect, then the
 * core.
 */
#include <keel/bootinfo.h>
#include <keel/log.h>
#include <keel/main.h>
#include <keel/panic.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <x86/percpu.h>
#include <x86/platform.h>
#include "multiboot.h"

#define BOOT_MAP_LIMIT	GiB(4)	/* what the boot page tables map */

extern char _image_start[], _image_end[];

static struct boot_info boot_info;
static uint8_t rsdp_copy[64];

NORETURN void x86_boot_main(uint32_t magic, uint32_t info);

static const void *boot_read(uint64_t pa, size_t len)
{
	if (pa == 0 || pa + len < pa || pa + len > BOOT_MAP_LIMIT) {
		return NULL;
	}
	return (const void *)(uintptr_t)pa;
}

static void reserve_boot_ranges(struct boot_info *bi)
{
	/* Real-mode memory: BIOS data, EBDA, AP start-up page, option ROMs. */
	bootinfo_reserve(bi, 0, MiB(1), "low memory");
	bootinfo_reserve(bi, (uintptr_t)_image_start,
			 (uintptr_t)_image_end - (uintptr_t)_image_start, "Keel image");
	for (unsigned int i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];

		bootinfo_reserve(bi, ALIGN_DOWN(m->base, PAGE_SIZE),
				 ALIGN_UP(m->base + m->size, PAGE_SIZE) - ALIGN_DOWN(m->base, PAGE_SIZE),
				 "boot module");
	}
}

void x86_boot_main(uint32_t magic, uint32_t info)
{
	const char *why = NULL;

	/* Per-CPU data first: logging reads the CPU index through GS. */
	cpus[0].self = &cpus[0];
	wrmsr(MSR_GS_BASE, (uintptr_t)&cpus[0]);
	uart_init();
	log_raw("\n");
	if (!multiboot_parse(magic, info, boot_read, &boot_info, rsdp_copy, &why)) {
		halt_cleanly("boot: %s", why);
	}
	if (rsdp_copy[0]) {
		boot_info.acpi_rsdp = (uintptr_t)rsdp_copy;
	}
	reserve_boot_ranges(&boot_info);
	keel_main(&boot_info);
}
