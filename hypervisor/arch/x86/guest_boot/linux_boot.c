/* SPDX-License-Identifier: MIT */
/*
 * guest_boot/linux_boot.c - builds a Linux domain's boot state on x86: loads
 * the kernel, initrd, command line and boot structure where linux_plan()
 * says, then sets vCPU 0 for PVH (32-bit flat, EBX = hvm_start_info) or the
 * 64-bit protocol (long mode, RSI = zero page). docs/abi/boot.md. The
 * formats and placement are bootproto's (bootproto/x86/), shared with
 * keelctl; this file only copies into the domain and sets the vCPU.
 */
#include <arch/arch.h>
#include <keel/domain.h>
#include <keel/elf.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/control.h>
#include <x86/linux_boot.h>

#define MAP_MAX		32
#define LAYOUT_MAX	16	/* arch_guest_layout() makes 5 */

/* The layout in bootproto's type; false if it has more ranges than fit. */
static bool to_boot_ranges(const struct arch_linux_boot *lb, struct boot_mem_range *out)
{
	if (lb->layout_count > LAYOUT_MAX) {
		return false;
	}
	for (unsigned int i = 0; i < lb->layout_count; i++) {
		out[i] = (struct boot_mem_range){ lb->layout[i].base, lb->layout[i].size,
						  lb->layout[i].type };
	}
	return true;
}

int arch_linux_image_parse(const void *data, size_t size, struct arch_linux_image *li,
			   const char **why)
{
	struct bzimage bz;
	int rc = bzimage_parse(data, size, &bz, why);

	if (rc != 1) {
		return rc;
	}
	*li = (struct arch_linux_image){
		.payload_offset = bz.payload_offset,
		.payload_size = bz.payload_size,
		.vmlinux_max = bz.init_size,	/* Linux decompresses into init_size too */
		.load_base = bz.pref_address,
		.load_size = bz.init_size,
		.version = bz.version,
	};
	return 1;
}

static bool load_kernel(struct domain *d, const struct arch_linux_boot *lb,
			const struct bzimage *bz)
{
	const uint8_t *img = lb->image;

	if (lb->protocol == ARCH_LINUX_64) {
		return guest_copy_to(d, bz->pref_address, img + bz->pm_offset, bz->pm_size) == 0;
	}
	/* Fresh RAM is zeroed: the part of a segment past its file size already is. */
	for (unsigned int i = 0; i < lb->elf->segment_count; i++) {
		const struct elf_segment *s = &lb->elf->segments[i];

		if (guest_copy_to(d, s->paddr, img + s->offset, s->filesz) != 0) {
			return false;
		}
	}
	return true;
}

/* The zero page or hvm_start_info, built in a heap page and copied in. */
static bool write_boot_page(struct domain *d, const struct arch_linux_boot *lb,
			    const struct boot_mem_range *layout, const struct bzimage *bz,
			    const struct linux_plan *plan)
{
	struct e820_entry map[MAP_MAX];
	unsigned int count = e820_build(layout, lb->layout_count, lb->platform, map, MAP_MAX);
	uint64_t rsdp = (lb->platform & KEEL_DOMCREATE_F_ACPI) ? KEEL_X86_GPA_FIRMWARE : 0;
	uint64_t initrd_size = lb->initrd ? lb->initrd_size : 0;
	uint8_t *page = heap_alloc(PAGE_SIZE);
	bool ok;

	if (!page || count == 0) {
		heap_free(page);
		return false;
	}
	if (lb->protocol == ARCH_LINUX_PVH) {
		ok = pvh_build(page, LINUX_BOOT_AREA, map, count, LINUX_CMDLINE_GPA,
			       plan->initrd_gpa, initrd_size, rsdp);
	} else {
		ok = zeropage_build(page, lb->image, bz, map, count, LINUX_CMDLINE_GPA,
				    plan->initrd_gpa, initrd_size, rsdp);
	}
	ok = ok && guest_copy_to(d, LINUX_BOOT_AREA, page, PAGE_SIZE) == 0;
	heap_free(page);
	return ok;
}

static const char *build(struct domain *d, const struct arch_linux_boot *lb,
			 struct linux_plan *plan)
{
	bool pvh = lb->protocol == ARCH_LINUX_PVH;
	struct boot_mem_range layout[LAYOUT_MAX];
	const char *why = NULL;
	struct bzimage bz;
	struct linux_plan_in in = {
		.pvh = pvh,
		.bz = &bz,
		.elf = lb->elf,
		.initrd_size = lb->initrd ? lb->initrd_size : 0,
		.cmdline_len = strlen(lb->cmdline),
		.layout = layout,
		.layout_count = lb->layout_count,
	};
	struct arch_boot_entry e;

	if (!pvh && bzimage_parse(lb->image, lb->image_size, &bz, &why) != 1) {
		return why ? why : "not a bzImage";
	}
	if (pvh && !lb->elf) {
		return "no vmlinux for the PVH entry";
	}
	if (!to_boot_ranges(lb, layout)) {
		return "its memory layout has too many ranges";
	}
	why = linux_plan(&in, plan);
	if (why) {
		return why;
	}
	if (!load_kernel(d, lb, &bz) ||
	    (lb->initrd && guest_copy_to(d, plan->initrd_gpa, lb->initrd, lb->initrd_size) != 0) ||
	    guest_copy_to(d, LINUX_CMDLINE_GPA, lb->cmdline, in.cmdline_len + 1) != 0) {
		return "cannot copy the kernel, initrd or command line into its RAM";
	}
	if (!write_boot_page(d, lb, layout, &bz, plan)) {
		return "cannot write its boot structure (memory map too large?)";
	}
	e = (struct arch_boot_entry){
		.mode = pvh ? X86_ENTRY_PVH : X86_ENTRY_LINUX64,
		.entry = plan->entry,
		.boot_info_gpa = LINUX_BOOT_AREA,
		.scratch_gpa = LINUX_TABLES_GPA,
		.scratch_size = LINUX_TABLES_PAGES * PAGE_SIZE,
		.map_limit = GiB(4),
	};
	if (arch_vcpu_boot(d->vcpus[0], &e) != 0) {
		return "its entry state was refused";
	}
	return NULL;
}

int arch_linux_boot(struct domain *d, const struct arch_linux_boot *lb,
		    struct arch_linux_placed *out)
{
	struct linux_plan plan = { 0 };

	memset(out, 0, sizeof(*out));
	out->why = build(d, lb, &plan);
	out->need_end = plan.need_end;
	if (out->why) {
		return -1;
	}
	out->kernel_base = plan.kernel_base;
	out->kernel_end = plan.kernel_end;
	out->entry = plan.entry;
	out->boot_gpa = LINUX_BOOT_AREA;
	out->initrd_gpa = plan.initrd_gpa;
	return 0;
}
