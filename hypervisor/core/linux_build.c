/* SPDX-License-Identifier: MIT */
/*
 * core/linux_build.c - the Linux part of the domain builder: picks PVH or
 * the 64-bit protocol (PVH when the vmlinux has the note: it skips the
 * in-guest decompressor and boots about twice as fast), completes the
 * command line (bootproto's linux_cmdline(), as keelctl does), and has the
 * arch load the kernel and set vCPU 0.
 */
#include <keel/domain.h>
#include <keel/format.h>
#include <keel/linux_build.h>
#include <keel/log.h>
#include <keel/string.h>

uint32_t linux_choose_protocol(const struct domain_spec *spec, struct kernel_image *k,
			       char *why, size_t why_size)
{
	if (k->kind == KERNEL_PVH) {
		if (spec->boot_protocol == BOOT_PROTOCOL_LINUX64) {
			format(why, why_size, "boot-protocol \"linux64\" needs a bzImage; this is "
			       "a PVH ELF kernel");
			return 0;
		}
		return ARCH_LINUX_PVH;
	}
	if (spec->boot_protocol == BOOT_PROTOCOL_LINUX64) {
		return ARCH_LINUX_64;
	}
	if (spec->boot_protocol == BOOT_PROTOCOL_AUTO && !kernel_image_can_extract(k)) {
		return ARCH_LINUX_64;	/* a payload Keel cannot read: the kernel can */
	}
	if (!kernel_image_extract(k)) {
		format(why, why_size, "%s", k->why);
		return 0;
	}
	if (k->elf.has_pvh_entry && !k->elf.has_keel_entry) {
		return ARCH_LINUX_PVH;
	}
	if (spec->boot_protocol == BOOT_PROTOCOL_PVH) {
		format(why, why_size, "boot-protocol \"pvh\" but its vmlinux has no PVH entry note");
		return 0;
	}
	return ARCH_LINUX_64;
}

static void refuse(const struct domain_spec *spec, const struct arch_linux_placed *placed)
{
	if (placed->need_end) {
		log_err("domain '%s': kernel '%s': %s (RAM must reach %#llx, %llu MiB; the domain "
			"has %llu MiB); not started", spec->name, spec->kernel, placed->why,
			(unsigned long long)placed->need_end,
			(unsigned long long)((placed->need_end + MiB(1) - 1) >> 20),
			(unsigned long long)spec->memory_mib);
	} else {
		log_err("domain '%s': kernel '%s': %s; not started", spec->name, spec->kernel,
			placed->why);
	}
}

bool linux_load(struct domain *d, const struct domain_spec *spec, const struct boot_info *bi,
		const struct kernel_image *k, uint32_t protocol,
		const struct arch_mem_range *layout, unsigned int layout_count)
{
	const struct boot_module *initrd = spec->initrd[0] ? bootmod_find(bi, spec->initrd) : NULL;
	bool pvh = protocol == ARCH_LINUX_PVH;
	struct arch_linux_placed placed;
	struct arch_linux_boot lb;
	char cmdline[LINUX_CMDLINE_BUF];

	if (spec->initrd[0] && !initrd) {
		log_err("domain '%s': initrd '%s' is missing; not started", spec->name, spec->initrd);
		return false;
	}
	if (!linux_cmdline(spec->cmdline, arch_tsc_khz(), cmdline, sizeof(cmdline))) {
		log_err("domain '%s': its command line is too long for Linux; not started",
			spec->name);
		return false;
	}
	lb = (struct arch_linux_boot){
		.protocol = protocol,
		.image = pvh && k->vmlinux ? k->vmlinux : k->file.data,
		.image_size = pvh && k->vmlinux ? k->vmlinux_size : k->file.size,
		.elf = pvh ? &k->elf : NULL,
		.initrd = initrd ? arch_phys_to_virt(initrd->base) : NULL,
		.initrd_size = initrd ? initrd->size : 0,
		.cmdline = cmdline,
		.layout = layout,
		.layout_count = layout_count,
		.platform = d->platform,
	};
	if (arch_linux_boot(d, &lb, &placed) != 0) {
		refuse(spec, &placed);
		return false;
	}
	log_info("domain %u '%s': Linux kernel '%s' (%s) at %#llx-%#llx, entry %#llx, boot data "
		 "at %#llx%s", d->domid, spec->name, spec->kernel,
		 pvh ? "PVH entry" : "64-bit boot protocol",
		 (unsigned long long)placed.kernel_base, (unsigned long long)placed.kernel_end,
		 (unsigned long long)placed.entry, (unsigned long long)placed.boot_gpa,
		 initrd ? ", initrd loaded" : "");
	log_info("domain %u '%s': command line: %s", d->domid, spec->name, cmdline);
	return true;
}
