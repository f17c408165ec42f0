/* SPDX-License-Identifier: MIT */
/* entry.c: the entry-state group: registers, start info and memory map at LONG64 entry. */
#include "hcall.h"

/*
 * boot.md names PE MP ET NE WP PG (0x80010033) but writes 0x80050033, which
 * adds AM (bit 18). AM does nothing at CPL 0, so either value is accepted.
 */
#define CR0_LONG64		0x80010033ull	/* PE MP ET NE WP PG */
#define CR0_AM			0x00040000ull
#define CR4_LONG64		0x620ull	/* PAE OSFXSR OSXMMEXCPT */
#define EFER_LONG64		0xd00ull	/* LME LMA NXE */
#define MSR_EFER		0xc0000080u
#define STACK_MIN		(64 * 1024)

extern const uint8_t kt_image_start[], kt_image_end[];

/* The memory map entry of type type that holds [gpa, gpa + len), or NULL. */
static const struct keel_memmap_entry *covering(uint64_t gpa, uint64_t len, uint32_t type)
{
	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];

		if (e->type == type && gpa >= e->base && gpa + len <= e->base + e->size) {
			return e;
		}
	}
	return NULL;
}

/* True when no RAM or BOOT entry overlaps [base, end). */
static bool no_ram(uint64_t base, uint64_t end)
{
	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];

		if ((e->type == KEEL_MEMTYPE_RAM || e->type == KEEL_MEMTYPE_BOOT) &&
		    e->base < end && e->base + e->size > base) {
			return false;
		}
	}
	return true;
}

/* True when RAM or BOOT entries cover [base, end) without a gap. */
static bool all_ram(uint64_t base, uint64_t end)
{
	while (base < end) {
		const struct keel_memmap_entry *e = covering(base, KEEL_PAGE_SIZE,
							     KEEL_MEMTYPE_RAM);

		if (e == NULL) {
			e = covering(base, KEEL_PAGE_SIZE, KEEL_MEMTYPE_BOOT);
		}
		if (e == NULL) {
			return false;
		}
		base = e->base + e->size;
	}
	return true;
}

static void check_registers(void)
{
	const struct kt_entry_state *e = &kt_entry;
	const uint64_t others[] = { e->rax, e->rbx, e->rcx, e->rdx, e->rsi, e->rbp, e->r8, e->r9,
				    e->r10, e->r11, e->r12, e->r13, e->r14, e->r15 };
	static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rbp", "r8", "r9",
					     "r10", "r11", "r12", "r13", "r14", "r15" };
	uint16_t idt_limit;
	uint64_t efer;

	kt_check_eq("RFLAGS at entry is 0x2", e->rflags, 0x2);
	kt_check_eq("CS at entry", e->cs, 0x08);
	kt_check(e->ds == 0x10 && e->es == 0x10 && e->ss == 0x10 && e->fs == 0x10 && e->gs == 0x10,
		 "DS ES SS FS GS at entry", "0x%x 0x%x 0x%x 0x%x 0x%x, expected 0x10",
		 e->ds, e->es, e->ss, e->fs, e->gs);
	kt_check_eq("CR0 at entry (PE MP ET NE WP PG, AM either way)", e->cr0 & ~CR0_AM,
		    CR0_LONG64);
	kt_check_eq("CR4 at entry", e->cr4, CR4_LONG64);
	kt_check(!kt_rdmsr_safe(MSR_EFER, &efer), "rdmsr EFER", "raised exception %lu",
		 kt_fault.vector);
	kt_check_eq("EFER (unchanged since entry)", efer, EFER_LONG64);
	memcpy(&idt_limit, e->idtr, sizeof(idt_limit));
	kt_check_eq("IDTR limit at entry (no IDT)", idt_limit, 0);
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(others); i++) {
		char what[48];

		kt_snprintf(what, sizeof(what), "%s at entry is 0", names[i]);
		kt_check_eq(what, others[i], 0);
	}
	kt_check_eq("RSP at entry is 16-byte aligned", e->rsp & 15, 0);
	kt_check(covering(e->rsp - STACK_MIN, STACK_MIN, KEEL_MEMTYPE_BOOT) != NULL,
		 "64 KiB below RSP are BOOT memory", "RSP 0x%lx", e->rsp);
	kt_check(covering(e->cr3 & ~0xfffull, KEEL_PAGE_SIZE, KEEL_MEMTYPE_BOOT) != NULL,
		 "CR3 page tables in BOOT memory", "CR3 0x%lx", e->cr3);
}

static void check_gdt(void)
{
	uint16_t limit;
	uint64_t base, code, data;

	memcpy(&limit, kt_entry.gdtr, sizeof(limit));
	memcpy(&base, kt_entry.gdtr + 2, sizeof(base));
	if (!kt_check(limit >= 0x17 && covering(base, (uint64_t)limit + 1,
						KEEL_MEMTYPE_BOOT) != NULL,
		      "GDT with 3 descriptors in BOOT memory", "base 0x%lx limit 0x%x", base,
		      limit)) {
		return;
	}
	memcpy(&code, KT_PTR(base + 0x08), sizeof(code));
	memcpy(&data, KT_PTR(base + 0x10), sizeof(data));
	/* Code: present, S, type execute, L = 1, D = 0, DPL 0. Data: present, S, writable. */
	kt_check((code & 0x0060980000000000ull) == 0x0020980000000000ull,
		 "GDT 0x08 is 64-bit code DPL 0",
		 "descriptor 0x%016lx", code);
	kt_check((code & 0x0000600000000000ull) == 0, "GDT 0x08 has DPL 0", "descriptor 0x%016lx",
		 code);
	kt_check((data & 0x00009a0000000000ull) == 0x0000920000000000ull,
		 "GDT 0x10 is writable data",
		 "descriptor 0x%016lx", data);
}

static void check_start_info(void)
{
	const struct keel_start_info *si = &kt_boot.si;
	struct kt_cpuid dom = kt_cpuid(kt_boot.cpuid_base + KEEL_CPUID_LEAF_DOMAIN, 0);
	struct kt_cpuid timing = kt_cpuid(kt_boot.cpuid_base + KEEL_CPUID_LEAF_TIMING, 0);
	bool zero = true;

	kt_check(kt_boot.si_valid, "start info magic and version", "magic 0x%x version %u",
		 si->magic, si->version);
	kt_check(covering(kt_boot.si_gpa, sizeof(*si), KEEL_MEMTYPE_BOOT) != NULL,
		 "start info (RDI) in BOOT memory", "RDI 0x%lx", kt_boot.si_gpa);
	kt_check_eq("start info domid is CPUID B+4 EBX", si->domid, dom.ebx);
	kt_check_eq("start info nr_vcpus is CPUID B+4 ECX", si->nr_vcpus, dom.ecx);
	kt_check(si->tsc_khz != 0 && si->tsc_khz == timing.eax,
		 "start info tsc_khz is CPUID B+3 EAX",
		 "start info %u, CPUID %u", si->tsc_khz, timing.eax);
	kt_check_eq("no ACPI RSDP without KEEL_SIF_ACPI",
		    (si->flags & KEEL_SIF_ACPI) ? 0 : si->rsdp_gpa, 0);
	kt_check_eq("start info flags are known",
		    si->flags & ~(uint32_t)(KEEL_SIF_ACPI | KEEL_SIF_UART |
								      KEEL_SIF_PLATFORM_PCI), 0);
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(si->reserved); i++) {
		zero = zero && si->reserved[i] == 0;
	}
	kt_check(zero && si->pad0 == 0, "start info pad0 and reserved[] are zero", "not zero");
	kt_check(si->cmdline_gpa != 0 &&
		 covering(si->cmdline_gpa, kt_strlen(KT_PTR(si->cmdline_gpa)) + 1,
			  KEEL_MEMTYPE_BOOT) != NULL,
		 "command line in BOOT memory", "cmdline_gpa 0x%lx", si->cmdline_gpa);
	kt_check(si->device_table_gpa != 0 && si->device_table_size >= 40 &&
		 si->device_table_size <= KEEL_DT_MAX_SIZE &&
		 covering(si->device_table_gpa, si->device_table_size, KEEL_MEMTYPE_BOOT) != NULL &&
		 kt_be32(KT_PTR(si->device_table_gpa)) == 0xd00dfeedu,
		 "device table copy: an FDT in BOOT memory", "gpa 0x%lx size %u",
		 si->device_table_gpa,
		 si->device_table_size);
	kt_check_eq("no modules (the configuration has no initrd)", si->nr_modules, 0);
	kt_check(si->map_window_gpa == kt_boot.map_window_gpa &&
		 si->map_window_size == kt_boot.map_window_pages * KEEL_PAGE_SIZE,
		 "start info map window is KEEL_HC_MEMORY_QUERY's",
		 "start info 0x%lx+0x%lx, query 0x%lx+0x%lx pages", si->map_window_gpa,
		 si->map_window_size, kt_boot.map_window_gpa, kt_boot.map_window_pages);
}

static void check_memmap(void)
{
	bool sorted = true, aligned = true, pads = true, known = true;
	uint64_t image = KT_GPA(kt_image_start), image_len = KT_GPA(kt_image_end) - image;
	const struct keel_memmap_entry *w;

	kt_check(kt_boot.nr_memmap > 0 && kt_boot.nr_memmap == kt_boot.si.nr_memmap &&
		 covering(kt_boot.si.memmap_gpa, kt_boot.nr_memmap * sizeof(kt_boot.memmap[0]),
			  KEEL_MEMTYPE_BOOT) != NULL,
		 "memory map in BOOT memory", "%u entries at 0x%lx", kt_boot.si.nr_memmap,
		 kt_boot.si.memmap_gpa);
	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];

		if (i > 0 && e->base < kt_boot.memmap[i - 1].base + kt_boot.memmap[i - 1].size) {
			sorted = false;
		}
		if ((e->base | e->size) & 0xfff || e->size == 0) {
			aligned = false;
		}
		pads = pads && e->pad0 == 0;
		known = known && ((e->type >= KEEL_MEMTYPE_RAM && e->type <= KEEL_MEMTYPE_NVS) ||
				  e->type == KEEL_MEMTYPE_BOOT ||
				  e->type == KEEL_MEMTYPE_MAP_WINDOW);
	}
	kt_check(sorted, "memory map sorted and not overlapping", "it is not");
	kt_check(aligned, "memory map entries page-aligned, not empty", "they are not");
	kt_check(pads, "memory map pad0 zero", "it is not");
	kt_check(known, "memory map types known", "an unknown type");
	kt_check(covering(image, image_len, KEEL_MEMTYPE_RAM) != NULL, "kernel image in RAM",
		 "[0x%lx, 0x%lx) is not in one RAM entry", image, image + image_len);
	kt_check(all_ram(0, KEEL_X86_GPA_LOW_RAM_END), "RAM from 0 to 0x9ffff",
		 "a gap below 0xa0000");
	kt_check(no_ram(KEEL_X86_GPA_LOW_RAM_END, 0x100000), "no RAM from 0xa0000 to 1 MiB",
		 "RAM listed there");
	kt_check(no_ram(KEEL_X86_GPA_MMIO_HOLE, 0x100000000ull), "no RAM from 3 GiB to 4 GiB",
		 "RAM listed there");
	w = covering(kt_boot.map_window_gpa, kt_boot.map_window_pages * KEEL_PAGE_SIZE,
		     KEEL_MEMTYPE_MAP_WINDOW);
	kt_check(w != NULL && w->base == kt_boot.map_window_gpa &&
		 w->size == kt_boot.map_window_pages * KEEL_PAGE_SIZE,
		 "one MAP_WINDOW entry, the map window", "no matching entry");
}

void hc_entry_state(void)
{
	kt_group_begin("entry-state");
	check_registers();
	check_gdt();
	check_start_info();
	check_memmap();
	kt_group_end();
}
