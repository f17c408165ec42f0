/* SPDX-License-Identifier: MIT */
/*
 * keel/linux_build.h - the domain builder's Linux part (core/linux_build.c):
 * choosing the boot protocol, the command line, and handing the kernel to
 * the arch (arch_linux_boot()). docs/abi/boot.md, docs/boot-config.md.
 */
#ifndef KEEL_LINUX_BUILD_H
#define KEEL_LINUX_BUILD_H

#include <arch/arch.h>
#include <bootproto/linux.h>
#include <keel/bootcfg.h>
#include <keel/bootinfo.h>
#include <keel/kernel_image.h>
#include <public/keel/control.h>

/* What a Linux kernel gets when its domain names no "platform". */
#define LINUX_DEFAULT_PLATFORM	(KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_UART | \
				 KEEL_DOMCREATE_F_RTC | KEEL_DOMCREATE_F_PLATFORM_PCI)

/*
 * Choose how @k (KERNEL_PVH or KERNEL_LINUX) is entered, honouring
 * @spec->boot_protocol, extracting the vmlinux when PVH may be used.
 * Returns ARCH_LINUX_PVH or ARCH_LINUX_64, or 0 with @why (@why_size
 * bytes) saying why the kernel cannot boot that way.
 */
uint32_t linux_choose_protocol(const struct domain_spec *spec, struct kernel_image *k,
			       char *why, size_t why_size);

/*
 * Load @k into @d (RAM populated per @layout) with @protocol, the initrd
 * and command line of @spec, and set vCPU 0. Logs what was placed where,
 * or why the domain cannot start. Returns true on success.
 */
bool linux_load(struct domain *d, const struct domain_spec *spec, const struct boot_info *bi,
		const struct kernel_image *k, uint32_t protocol,
		const struct arch_mem_range *layout, unsigned int layout_count);

#endif
