/* SPDX-License-Identifier: MIT */
/*
 * tools/build/boot_linux.c - the Linux boot paths (docs/abi/boot.md, "PVH
 * entry" and "Linux 64-bit boot protocol"): placement, E820 map,
 * hvm_start_info or zero page, GDT and page tables all come from bootproto,
 * the code Keel's boot-time builder runs (arch/x86/guest_boot/linux_boot.c),
 * so a domain keelctl builds starts in the same state as one Keel builds.
 * What is keelctl's own: composing the pages for DOMAIN_LOAD and stating
 * the entry registers as a keel_x86_vcpu_context for VCPU_SET_CONTEXT.
 */
#include <stdio.h>
#include <string.h>
#include <bootproto/linux.h>
#include "build.h"

#define MIB		0x100000ull
#define PAGE		4096ull
#define CR0_PE		0x1ull
#define CR0_ET		0x10ull
#define CR0_NE		0x20ull
#define CR0_PG		0x80000000ull
#define CR4_PAE		0x20ull
#define EFER_LME	0x100ull
#define EFER_LMA	0x400ull
#define E820_MAP_MAX	32

static int linux_probe(struct build *b)
{
	return b->kinfo.is_bzimage || b->kinfo.pvh ? 0 : 1;
}

/* The image the kernel is loaded from: the vmlinux (PVH) or the bzImage. */
static const uint8_t *kernel_bytes(const struct build *b)
{
	if (b->kinfo.pvh && b->kinfo.vmlinux) {
		return b->kinfo.vmlinux;
	}
	return b->kernel.data;
}

static int refuse(struct build *b, const char *why, const struct linux_plan *plan)
{
	if (plan->need_end) {
		return build_error(b, "%s: %s (RAM must reach %#llx, %llu MiB; memory = %llu MiB)",
				   b->kernel.path, why, (unsigned long long)plan->need_end,
				   (unsigned long long)((plan->need_end + MIB - 1) / MIB),
				   (unsigned long long)b->cfg->memory_mib);
	}
	return build_error(b, "%s: %s", b->kernel.path, why);
}

static int load_kernel(struct build *b)
{
	const uint8_t *img = kernel_bytes(b);
	int rc = 0;

	if (!b->kinfo.pvh) {
		return guestmem_write(&b->mem, b->kinfo.bz.pref_address,
				      img + b->kinfo.bz.pm_offset, b->kinfo.bz.pm_size);
	}
	/* POPULATE zeroed the RAM: the part of a segment past its file size already is. */
	for (unsigned int i = 0; rc == 0 && i < b->elf.segment_count; i++) {
		const struct elf_segment *s = &b->elf.segments[i];

		rc = guestmem_write(&b->mem, s->paddr, img + s->offset, s->filesz);
	}
	return rc;
}

/* The zero page or hvm_start_info at LINUX_BOOT_AREA, with the E820 map. */
static int write_boot_page(struct build *b, const struct linux_plan *plan)
{
	struct e820_entry map[E820_MAP_MAX];
	unsigned int count = e820_build(b->layout.all, b->layout.nall, b->platform, map,
					E820_MAP_MAX);
	uint64_t rsdp = b->platform & KEEL_DOMCREATE_F_ACPI ? KEEL_X86_GPA_FIRMWARE : 0;
	uint64_t initrd_size = b->ramdisk.data ? b->ramdisk.size : 0;
	uint8_t page[PAGE];
	bool ok;

	if (count == 0) {
		return build_error(b, "the guest's memory map has too many ranges");
	}
	if (b->kinfo.pvh) {
		ok = pvh_build(page, LINUX_BOOT_AREA, map, count, LINUX_CMDLINE_GPA,
			       plan->initrd_gpa, initrd_size, rsdp);
	} else {
		ok = zeropage_build(page, b->kernel.data, &b->kinfo.bz, map, count,
				    LINUX_CMDLINE_GPA, plan->initrd_gpa, initrd_size, rsdp);
	}
	if (!ok) {
		return build_error(b, "the guest's memory map does not fit its boot structure");
	}
	return guestmem_write(&b->mem, LINUX_BOOT_AREA, page, sizeof(page));
}

static int write_tables(struct build *b, uint64_t *cr3)
{
	uint8_t tables[LINUX_TABLES_PAGES * PAGE];
	size_t size = linux_tables_size(b->kinfo.pvh);

	*cr3 = linux_tables_build(tables, b->kinfo.pvh);
	return guestmem_write(&b->mem, LINUX_TABLES_GPA, tables, size);
}

static void flat(struct keel_x86_segment *s, uint16_t sel, uint16_t attr)
{
	*s = (struct keel_x86_segment){ .selector = sel, .attr = attr, .limit = 0xffffffffu };
}

/*
 * The entry registers boot.md gives (and arch_vcpu_boot() in svm/vcpu.c
 * sets for Keel's own builds): everything else as at reset, TR the reset
 * state's busy TSS (base 0, limit 0x67), which PVH asks for.
 */
static void entry_state(struct build *b, const struct linux_plan *plan, uint64_t cr3)
{
	struct keel_x86_vcpu_context *c = &b->ctx;
	bool pvh = b->kinfo.pvh;
	uint16_t ds = pvh ? LINUX_PVH_DS : LINUX64_DS;

	memset(c, 0, sizeof(*c));
	c->rip = plan->entry;
	c->rflags = 0x2;
	if (pvh) {
		c->rbx = LINUX_BOOT_AREA;
		c->cr0 = CR0_PE | CR0_ET;
		flat(&c->cs, LINUX_PVH_CS, SEG_ATTR_CODE32);
	} else {
		c->rsi = LINUX_BOOT_AREA;
		c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		c->cr4 = CR4_PAE;
		c->efer = EFER_LME | EFER_LMA;
		c->cr3 = cr3;
		flat(&c->cs, LINUX64_CS, SEG_ATTR_CODE64);
	}
	flat(&c->ds, ds, SEG_ATTR_DATA);
	c->es = c->ss = c->fs = c->gs = c->ds;
	c->tr = (struct keel_x86_segment){ .attr = SEG_ATTR_TSS_BUSY, .limit = 0x67 };
	c->ldtr = (struct keel_x86_segment){ .attr = SEG_ATTR_LDT, .limit = 0xffff };
	c->gdtr = (struct keel_x86_dtable){ .base = LINUX_TABLES_GPA,
					    .limit = linux_tables_gdt_limit(pvh) };
}

static int linux_compose(struct build *b)
{
	char cmdline[LINUX_CMDLINE_BUF];
	struct linux_plan plan;
	struct linux_plan_in in = {
		.pvh = b->kinfo.pvh,
		.bz = &b->kinfo.bz,
		.elf = &b->elf,
		.initrd_size = b->ramdisk.data ? b->ramdisk.size : 0,
		.layout = b->layout.all,
		.layout_count = b->layout.nall,
	};
	const char *why;
	uint64_t cr3 = 0;
	int rc;

	/* Like Keel's builder: the TSC frequency saves Linux a slow calibration. */
	if (!linux_cmdline(b->cfg->cmdline ? b->cfg->cmdline : "", b->host->tsc_khz, cmdline,
			   sizeof(cmdline))) {
		return build_error(b, "the command line is too long for Linux (%u bytes at most)",
				   LINUX_CMDLINE_BUF - 1);
	}
	in.cmdline_len = strlen(cmdline);
	why = linux_plan(&in, &plan);
	if (why) {
		return refuse(b, why, &plan);
	}
	rc = load_kernel(b);
	rc = rc || !b->ramdisk.data ? rc :
	     guestmem_write(&b->mem, plan.initrd_gpa, b->ramdisk.data, b->ramdisk.size);
	rc = rc ? rc : guestmem_write(&b->mem, LINUX_CMDLINE_GPA, cmdline, in.cmdline_len + 1);
	rc = rc ? rc : write_boot_page(b, &plan);
	rc = rc ? rc : write_tables(b, &cr3);
	if (rc != 0) {
		return b->err[0] ? rc : build_error(b, "out of memory composing the guest");
	}
	entry_state(b, &plan, cr3);
	return 0;
}

const struct boot_path boot_linux = {
	.name = "linux",
	.platform = KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC |
		    KEEL_DOMCREATE_F_PLATFORM_PCI,
	.probe = linux_probe,
	.compose = linux_compose,
};
