/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/linux_plan.c - where a Linux domain's pieces go in its RAM and
 * whether they fit:
 *
 *   0x1000  zero page / hvm_start_info     (low RAM, below 1 MiB)
 *   0x2000  command line
 *   0x3000  GDT, then page tables (64-bit protocol)
 *   kernel  bzImage: pref_address .. + init_size; PVH: its segments
 *   initrd  page-aligned, as high as RAM and the kernel's limit allow
 *
 * The boot data stays in the first 64 KiB, which Linux keeps for itself
 * (CONFIG_X86_RESERVE_LOW) until it has copied what it needs, so the rest of
 * low RAM is free for its real-mode trampoline.
 */
#include <keel/start_info.h>
#include <bootproto/x86_linux.h>
#include "../internal.h"

#define PAGE_UP(x)	(((x) + BP_PAGE_SIZE - 1) & BP_PAGE_MASK)

static const struct boot_mem_range *ram_holding(const struct linux_plan_in *in, uint64_t base,
						uint64_t size)
{
	for (unsigned int i = 0; i < in->layout_count; i++) {
		const struct boot_mem_range *r = &in->layout[i];

		if (r->type == KEEL_MEMTYPE_RAM && base >= r->base && size <= r->size &&
		    base - r->base <= r->size - size) {
			return r;
		}
	}
	return NULL;
}

static const char *place_kernel(const struct linux_plan_in *in, struct linux_plan *out)
{
	if (!in->pvh) {
		out->kernel_base = in->bz->pref_address;
		out->kernel_end = in->bz->pref_address + in->bz->init_size;
		out->entry = out->kernel_base + BZ_ENTRY64_OFFSET;
		if (!ram_holding(in, out->kernel_base, in->bz->init_size)) {
			out->need_end = out->kernel_end;
			return "too little memory: the kernel's init_size does not fit in its RAM";
		}
		return NULL;
	}
	out->kernel_base = in->elf->lowest;
	out->kernel_end = in->elf->highest;
	out->entry = in->elf->pvh_entry;
	if (in->elf->lowest < BP_MIB(1)) {
		return "the kernel has a segment below 1 MiB";
	}
	if (out->entry < in->elf->lowest || out->entry >= in->elf->highest) {
		return "its PVH entry point is outside the kernel";
	}
	for (unsigned int i = 0; i < in->elf->segment_count; i++) {
		const struct elf_segment *s = &in->elf->segments[i];

		if (!ram_holding(in, s->paddr, s->memsz)) {
			out->need_end = in->elf->highest;
			return "too little memory: a kernel segment does not fit in its RAM";
		}
	}
	return NULL;
}

static const char *place_initrd(const struct linux_plan_in *in, struct linux_plan *out)
{
	const struct boot_mem_range *r = ram_holding(in, out->kernel_end - 1, 1);
	uint64_t limit = in->pvh ? BP_GIB(4) : BP_MIN(in->bz->initrd_max + 1, BP_GIB(4));
	uint64_t floor = PAGE_UP(out->kernel_end);
	uint64_t top;

	if (in->initrd_size == 0) {
		return NULL;
	}
	top = BP_MIN(r->base + r->size, limit);
	if (in->initrd_size > top || ((top - in->initrd_size) & BP_PAGE_MASK) < floor) {
		if (r->base + r->size > limit) {
			return "the initrd does not fit between the kernel and its initrd_addr_max";
		}
		out->need_end = floor + PAGE_UP(in->initrd_size);
		return "too little memory for the kernel and its initrd";
	}
	out->initrd_gpa = (top - in->initrd_size) & BP_PAGE_MASK;
	return NULL;
}

const char *linux_plan(const struct linux_plan_in *in, struct linux_plan *out)
{
	size_t cmdline_max = in->pvh ? LINUX_CMDLINE_MAX : BP_MIN(in->bz->cmdline_size,
								(uint32_t)LINUX_CMDLINE_MAX);
	const char *why;

	bp_memset(out, 0, sizeof(*out));
	if (!ram_holding(in, 0, LINUX_TABLES_GPA + LINUX_TABLES_PAGES * BP_PAGE_SIZE)) {
		return "no RAM below 1 MiB for the boot data";
	}
	if (in->cmdline_len > cmdline_max) {
		return in->pvh ? "its command line is longer than 2047 bytes"
			       : "its command line is longer than the kernel's cmdline_size";
	}
	why = place_kernel(in, out);
	return why ? why : place_initrd(in, out);
}
