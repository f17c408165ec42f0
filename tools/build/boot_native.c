/* SPDX-License-Identifier: MIT */
/*
 * tools/build/boot_native.c - the Keel native boot path (docs/abi/boot.md,
 * "Keel native entry"): an ELF64 with a Keel entry note, loaded at its
 * physical addresses, and after it the initrd and the boot data (start
 * info, memory map, command line, modules, GDT, page tables for LONG64,
 * a 64 KiB stack), all in RAM reported as KEEL_MEMTYPE_BOOT.
 */
#include <stdio.h>
#include <string.h>
#include "build.h"

#define PAGE		4096ull
#define MIB		0x100000ull
#define GIB		0x40000000ull
#define STACK_BYTES	(64 * 1024ull)
#define PTE_P		0x1ull
#define PTE_RW		0x2ull
#define PTE_PS		0x80ull

/* SVM segment attributes (arch-x86_64.h): type, S, DPL 0, P, L, D/B, G. */
#define ATTR_CODE64	0xa9b
#define ATTR_CODE32	0xc9b
#define ATTR_DATA	0xc93
#define ATTR_TSS64	0x08b

/* Where the boot data goes, all in one run of pages after kernel and initrd. */
struct native_plan {
	uint64_t kernel_end, initrd, boot_start;
	uint64_t start_info, memmap, cmdline, modules, gdt, page_tables, stack_top, boot_end;
	unsigned int nr_pds;
};

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

static int native_probe(struct build *b)
{
	const struct elf_image *e = &b->elf;

	if (b->kinfo.is_bzimage || !e->has_keel_entry) {
		return 1;
	}
	/* (bootproto's parser already refused a Keel entry note with flags set.) */
	if (e->keel_entry_mode != KEEL_ENTRY_MODE_LONG64 &&
	    e->keel_entry_mode != KEEL_ENTRY_MODE_FLAT32) {
		return build_error(b, "%s: Keel entry note has unknown mode %u", b->kernel.path,
				   e->keel_entry_mode);
	}
	if (e->has_keel_abi && (e->abi_major != b->host->abi_major ||
				e->abi_minor > b->host->abi_minor)) {
		return build_error(b, "%s: built for Keel ABI %u.%u, this Keel is %u.%u",
				   b->kernel.path, e->abi_major, e->abi_minor,
				   b->host->abi_major, b->host->abi_minor);
	}
	if (e->keel_entry_mode == KEEL_ENTRY_MODE_FLAT32 && e->keel_entry >= 4 * GIB) {
		return build_error(b, "%s: 32-bit entry above 4 GiB", b->kernel.path);
	}
	return 0;
}

static int plan(struct build *b, struct native_plan *p)
{
	const struct layout *l = &b->layout;
	uint64_t top = l->ram[l->nram - 1].base + l->ram[l->nram - 1].pages * PAGE;
	bool long64 = b->elf.keel_entry_mode == KEEL_ENTRY_MODE_LONG64;

	p->kernel_end = MIB;
	for (unsigned int i = 0; i < b->elf.segment_count; i++) {
		const struct elf_segment *s = &b->elf.segments[i];

		if (!layout_is_ram(l, s->paddr, s->memsz)) {
			return build_error(b, "%s: segment at %#llx..%#llx is outside the guest's RAM "
					   "(memory = %llu MiB)", b->kernel.path,
					   (unsigned long long)s->paddr,
					   (unsigned long long)(s->paddr + s->memsz),
					   (unsigned long long)b->cfg->memory_mib);
		}
		if (s->paddr + s->memsz > p->kernel_end) {
			p->kernel_end = s->paddr + s->memsz;
		}
	}
	if (!layout_is_ram(l, b->elf.keel_entry, 1)) {
		return build_error(b, "%s: entry point %#llx is not in the guest's RAM",
				   b->kernel.path, (unsigned long long)b->elf.keel_entry);
	}
	p->initrd = page_up(p->kernel_end);
	p->boot_start = page_up(p->initrd + (b->ramdisk.data ? b->ramdisk.size : 0));
	p->start_info = p->boot_start;
	p->memmap = p->start_info + PAGE;
	p->cmdline = p->memmap + PAGE;
	p->modules = p->cmdline + PAGE;
	p->gdt = p->modules + PAGE;
	p->page_tables = p->gdt + PAGE;
	/* One PD per GiB: the low 4 GiB and every GiB of RAM above. */
	p->nr_pds = long64 ? (unsigned int)(((top > 4 * GIB ? top : 4 * GIB) + GIB - 1) / GIB) : 0;
	p->stack_top = p->page_tables + (long64 ? 2 + p->nr_pds : 0) * PAGE + STACK_BYTES;
	p->boot_end = p->stack_top;
	if (p->boot_end > 4 * GIB || !layout_is_ram(l, p->initrd, p->boot_end - p->initrd)) {
		return build_error(b, "memory = %llu MiB is too small for the kernel, initrd and "
				   "boot data (%llu MiB needed below 3 GiB)",
				   (unsigned long long)b->cfg->memory_mib,
				   (unsigned long long)((p->boot_end + MIB - 1) / MIB));
	}
	return 0;
}

static void add_entry(struct keel_memmap_entry *m, unsigned int *n, uint64_t base, uint64_t end,
		      uint32_t type)
{
	if (end > base) {
		m[(*n)++] = (struct keel_memmap_entry){ .base = base, .size = end - base, .type = type };
	}
}

/* The memory map: the layout, with the boot data carved out of the middle range. */
static unsigned int memmap(const struct build *b, const struct native_plan *p,
			   struct keel_memmap_entry *m)
{
	const struct layout *l = &b->layout;
	unsigned int n = 0;

	add_entry(m, &n, 0, l->ram[0].pages * PAGE, KEEL_MEMTYPE_RAM);
	if (b->platform & KEEL_DOMCREATE_F_ACPI) {
		add_entry(m, &n, KEEL_X86_GPA_FIRMWARE,
			  KEEL_X86_GPA_FIRMWARE + KEEL_X86_GPA_FIRMWARE_SIZE, KEEL_MEMTYPE_RESERVED);
	}
	add_entry(m, &n, MIB, p->boot_start, KEEL_MEMTYPE_RAM);
	add_entry(m, &n, p->boot_start, p->boot_end, KEEL_MEMTYPE_BOOT);
	add_entry(m, &n, p->boot_end, l->ram[1].base + l->ram[1].pages * PAGE, KEEL_MEMTYPE_RAM);
	if (b->platform & KEEL_DOMCREATE_F_PLATFORM_PCI) {
		add_entry(m, &n, KEEL_X86_GPA_PCI_MMIO,
			  KEEL_X86_GPA_PCI_MMIO + KEEL_X86_GPA_PCI_MMIO_SIZE, KEEL_MEMTYPE_RESERVED);
	}
	add_entry(m, &n, KEEL_X86_GPA_MAP_WINDOW,
		  KEEL_X86_GPA_MAP_WINDOW + KEEL_X86_GPA_MAP_WINDOW_SIZE, KEEL_MEMTYPE_MAP_WINDOW);
	if (b->platform & KEEL_DOMCREATE_F_ACPI) {
		add_entry(m, &n, KEEL_X86_GPA_IOAPIC, KEEL_X86_GPA_IOAPIC + PAGE,
			  KEEL_MEMTYPE_RESERVED);
	}
	add_entry(m, &n, KEEL_X86_GPA_LAPIC, KEEL_X86_GPA_LAPIC + PAGE, KEEL_MEMTYPE_RESERVED);
	if (l->nram == 3) {
		add_entry(m, &n, l->ram[2].base, l->ram[2].base + l->ram[2].pages * PAGE,
			  KEEL_MEMTYPE_RAM);
	}
	return n;
}

/* Identity map with 2 MiB pages: PML4 -> one PDPT -> nr_pds PDs. */
static int write_page_tables(struct build *b, const struct native_plan *p)
{
	uint64_t pml4e = (p->page_tables + PAGE) | PTE_P | PTE_RW;
	int rc = guestmem_write(&b->mem, p->page_tables, &pml4e, 8);

	for (unsigned int g = 0; rc == 0 && g < p->nr_pds; g++) {
		uint64_t pd = p->page_tables + (2 + g) * PAGE, pdpte = pd | PTE_P | PTE_RW;

		rc = guestmem_write(&b->mem, p->page_tables + PAGE + g * 8ull, &pdpte, 8);
		for (unsigned int i = 0; rc == 0 && i < 512; i++) {
			uint64_t pde = (g * GIB + i * 2 * MIB) | PTE_P | PTE_RW | PTE_PS;

			rc = guestmem_write(&b->mem, pd + i * 8ull, &pde, 8);
		}
	}
	return rc;
}

static int write_gdt(struct build *b, const struct native_plan *p, bool long64)
{
	uint64_t gdt[3] = {
		0,
		long64 ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull,
		0x00cf93000000ffffull,
	};

	return guestmem_write(&b->mem, p->gdt, gdt, sizeof(gdt));
}

static int write_boot_data(struct build *b, const struct native_plan *p)
{
	struct keel_memmap_entry map[MEMMAP_MAX];
	struct keel_start_info si = { 0 };
	struct keel_module mod = { 0 };
	const char *cmdline = b->cfg->cmdline;
	int rc;

	si.magic = KEEL_START_INFO_MAGIC;
	si.version = KEEL_START_INFO_VERSION;
	si.flags = (b->platform & KEEL_DOMCREATE_F_ACPI ? KEEL_SIF_ACPI : 0) |
		   (b->platform & KEEL_DOMCREATE_F_UART ? KEEL_SIF_UART : 0) |
		   (b->platform & KEEL_DOMCREATE_F_PLATFORM_PCI ? KEEL_SIF_PLATFORM_PCI : 0);
	si.domid = b->domid;
	si.nr_vcpus = b->cfg->vcpus;
	si.nr_memmap = memmap(b, p, map);
	si.memmap_gpa = p->memmap;
	si.cmdline_gpa = cmdline ? p->cmdline : 0;
	si.tsc_khz = b->host->tsc_khz;
	si.rsdp_gpa = b->platform & KEEL_DOMCREATE_F_ACPI ? KEEL_X86_GPA_FIRMWARE : 0;
	si.map_window_gpa = KEEL_X86_GPA_MAP_WINDOW;
	si.map_window_size = KEEL_X86_GPA_MAP_WINDOW_SIZE;
	if (b->ramdisk.data) {
		mod = (struct keel_module){ .base = p->initrd, .size = b->ramdisk.size,
					    .type = KEEL_MODULE_INITRD };
		si.modules_gpa = p->modules;
		si.nr_modules = 1;
	}
	rc = guestmem_write(&b->mem, p->start_info, &si, sizeof(si));
	rc = rc ? rc : guestmem_write(&b->mem, p->memmap, map, si.nr_memmap * sizeof(map[0]));
	rc = rc || !cmdline ? rc : guestmem_write(&b->mem, p->cmdline, cmdline, strlen(cmdline) + 1);
	rc = rc || !b->ramdisk.data ? rc : guestmem_write(&b->mem, p->modules, &mod, sizeof(mod));
	rc = rc || !b->ramdisk.data ? rc :
	     guestmem_write(&b->mem, p->initrd, b->ramdisk.data, b->ramdisk.size);
	return rc;	/* the stack is RAM POPULATE zeroed: nothing to load */
}

static void set_segment(struct keel_x86_segment *s, uint16_t sel, uint16_t attr)
{
	*s = (struct keel_x86_segment){ .selector = sel, .attr = attr, .limit = 0xffffffffu };
}

static void entry_state(struct build *b, const struct native_plan *p, bool long64)
{
	struct keel_x86_vcpu_context *c = &b->ctx;

	memset(c, 0, sizeof(*c));
	c->rip = b->elf.keel_entry;
	c->rsp = p->stack_top;
	c->rflags = 0x2;
	if (long64) {
		c->rdi = p->start_info;
		c->cr0 = 0x80050033;		/* PE MP ET NE WP PG */
		c->cr4 = 0x620;			/* PAE OSFXSR OSXMMEXCPT */
		c->efer = 0xd00;		/* LME LMA NXE */
		c->cr3 = p->page_tables;
	} else {
		c->rbx = p->start_info;
		c->cr0 = 0x11;			/* PE ET */
	}
	set_segment(&c->cs, 0x08, long64 ? ATTR_CODE64 : ATTR_CODE32);
	set_segment(&c->ds, 0x10, ATTR_DATA);
	set_segment(&c->es, 0x10, ATTR_DATA);
	set_segment(&c->fs, 0x10, ATTR_DATA);
	set_segment(&c->gs, 0x10, ATTR_DATA);
	set_segment(&c->ss, 0x10, ATTR_DATA);
	c->tr = (struct keel_x86_segment){ .attr = ATTR_TSS64, .limit = 0x67 };
	c->gdtr = (struct keel_x86_dtable){ .base = p->gdt, .limit = 3 * 8 - 1 };
}

static int native_compose(struct build *b)
{
	bool long64 = b->elf.keel_entry_mode == KEEL_ENTRY_MODE_LONG64;
	struct native_plan p;
	int rc = plan(b, &p);

	for (unsigned int i = 0; rc == 0 && i < b->elf.segment_count; i++) {
		const struct elf_segment *s = &b->elf.segments[i];

		rc = guestmem_write(&b->mem, s->paddr, b->kernel.data + s->offset, s->filesz);
	}
	rc = rc ? rc : write_boot_data(b, &p);
	rc = rc ? rc : write_gdt(b, &p, long64);
	rc = rc || !long64 ? rc : write_page_tables(b, &p);
	if (rc != 0) {
		return b->err[0] ? rc : build_error(b, "out of memory composing the guest");
	}
	entry_state(b, &p, long64);
	return 0;
}

const struct boot_path boot_native = {
	.name = "keel-native",
	.platform = 0,
	.probe = native_probe,
	.compose = native_compose,
};
