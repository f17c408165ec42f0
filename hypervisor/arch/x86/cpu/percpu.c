/* SPDX-License-Identifier: MIT */
/* cpu/percpu.c - per-CPU GDT, TSS, interrupt stacks and the GS base. */
#include <keel/page_alloc.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/layout.h>
#include <x86/msr.h>
#include <x86/paging.h>
#include <x86/percpu.h>

struct percpu cpus[MAX_CPUS];
unsigned int cpus_present = 1;

extern const uint64_t boot_gdt[];
extern char boot_stack_guard[], boot_stack_top[];

static void set_tss_descriptor(uint64_t *gdt, const struct tss *tss)
{
	uint64_t base = (uintptr_t)tss, limit = sizeof(*tss) - 1;

	/* 64-bit available TSS (type 9), present, 16 bytes wide. */
	gdt[GDT_TSS / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			   (uint64_t)0x89 << 40 | ((limit >> 16) & 0xf) << 48 |
			   ((base >> 24) & 0xff) << 56;
	gdt[GDT_TSS / 8 + 1] = base >> 32;
}

void percpu_load(struct percpu *cpu)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(cpu->gdt) - 1, (uintptr_t)cpu->gdt };

	cpu->self = cpu;
	memcpy(cpu->gdt, boot_gdt, 4 * sizeof(uint64_t));
	cpu->tss.iomap_base = sizeof(cpu->tss);	/* no I/O bitmap */
	for (int i = 0; i < 3; i++) {
		cpu->tss.ist[i] = cpu->ist[i].hi;
	}
	set_tss_descriptor(cpu->gdt, &cpu->tss);

	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)GDT_TSS));
	wrmsr(MSR_GS_BASE, (uintptr_t)cpu);
	/* A canary no attacker can predict from the image: TSC-derived. */
	/*
	 * SSE usable (CR4.OSFXSR, OSXMMEXCPT; CR0.MP, not EM) so that FXSAVE
	 * works and library code may use SSE between arch_fpu_begin/end.
	 */
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	write_cr0((read_cr0() & ~CR0_EM) | CR0_MP);
	cpu->tls[5] = (rdtsc() * 0x9e3779b97f4a7c15ull) | 0xff;	/* low byte non-zero */
	wrmsr(MSR_FS_BASE, (uintptr_t)cpu->tls);
}

/* One stack: a guard page (unmapped) followed by @size bytes. */
static bool alloc_stack(struct stack_range *r, uint64_t size)
{
	uint64_t pages = size / PAGE_SIZE + 1;
	paddr_t pa = page_alloc(pages);

	if (!pa) {
		return false;
	}
	paging_unmap_page(pa);
	r->lo = (uintptr_t)pa + PAGE_SIZE;
	r->hi = r->lo + size;
	return true;
}

bool percpu_alloc_stacks(struct percpu *cpu)
{
	if (cpu->index != 0 && !alloc_stack(&cpu->stack, CPU_STACK_SIZE)) {
		return false;
	}
	for (int i = 0; i < 3; i++) {
		if (!alloc_stack(&cpu->ist[i], IST_STACK_SIZE)) {
			return false;
		}
	}
	return true;
}

/* The boot CPU keeps running on the boot stack from entry.S. */
void percpu_init_boot_stack(void)
{
	cpus[0].stack.lo = (uintptr_t)boot_stack_guard + PAGE_SIZE;
	cpus[0].stack.hi = (uintptr_t)boot_stack_top;
	paging_unmap_page((uintptr_t)boot_stack_guard);
}

bool percpu_on_stack(uintptr_t addr)
{
	struct percpu *cpu = this_cpu();

	if (addr >= cpu->stack.lo && addr + 8 <= cpu->stack.hi) {
		return true;
	}
	for (int i = 0; i < 3; i++) {
		if (addr >= cpu->ist[i].lo && addr + 8 <= cpu->ist[i].hi) {
			return true;
		}
	}
	return false;
}

struct percpu *percpu_by_stack(uintptr_t addr)
{
	for (unsigned int i = 0; i < cpus_present; i++) {
		if (addr >= cpus[i].stack.lo && addr + 8 <= cpus[i].stack.hi) {
			return &cpus[i];
		}
	}
	return NULL;
}

bool percpu_in_guard_page(uintptr_t addr)
{
	struct percpu *cpu = this_cpu();

	if (addr < cpu->stack.lo && addr >= cpu->stack.lo - PAGE_SIZE) {
		return true;
	}
	for (int i = 0; i < 3; i++) {
		if (addr < cpu->ist[i].lo && addr >= cpu->ist[i].lo - PAGE_SIZE) {
			return true;
		}
	}
	return false;
}
