/* SPDX-License-Identifier: MIT */
/* traps.c: the IDT, expected faults (armed by tests) and the report of an unexpected exception. */
#include "keeltest64.h"

/* What kt_trap_common pushes, lowest address first. */
struct kt_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");

extern const uint64_t kt_trap_stubs[32];
extern const uint64_t kt_trap_upcall_stub;

static struct idt_gate idt[256] __attribute__((aligned(16)));
volatile struct kt_fault kt_fault;
volatile uint64_t kt_fault_resume;

void kt_traps_init(void);
void kt_trap(struct kt_frame *f);
void kt_upcall_interrupt(void);

static void set_gate(unsigned int vector, uint64_t handler)
{
	struct idt_gate *g = &idt[vector];

	g->offset_lo = (uint16_t)handler;
	g->selector = 0x08;
	g->ist = 0;
	g->type = 0x8e;		/* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */
	g->offset_mid = (uint16_t)(handler >> 16);
	g->offset_hi = (uint32_t)(handler >> 32);
	g->reserved = 0;
}

void kt_idt_set(unsigned int vector, void (*handler)(void))
{
	set_gate(vector, (uint64_t)(uintptr_t)handler);
}

void kt_traps_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;

	for (unsigned int v = 0; v < 32; v++) {
		set_gate(v, kt_trap_stubs[v]);
	}
	set_gate(KT_UPCALL_VECTOR, kt_trap_upcall_stub);
	idtr.limit = sizeof(idt) - 1;
	idtr.base = KT_GPA(idt);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static void __attribute__((noreturn)) unexpected(const struct kt_frame *f)
{
	static int nested;

	if (nested++) {
		/* A fault while reporting a fault: only the hypervisor's crash report is left. */
		kt_triple_fault();
	}
	kt_printf("%s: exception %lu error 0x%lx at 0x%lx, cr2 0x%lx, rflags 0x%lx, rsp 0x%lx\n",
		  kt_current, f->vector, f->error, f->rip, read_cr2(), f->rflags, f->rsp);
	kt_printf("%s: rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", kt_current,
		  f->rax, f->rbx, f->rcx, f->rdx);
	kt_printf("%s: rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", kt_current,
		  f->rsi, f->rdi, f->rbp, f->r8);
	kt_crash("unexpected exception %lu error 0x%lx at 0x%lx", f->vector, f->error, f->rip);
}

void kt_trap(struct kt_frame *f)
{
	if (f->vector == KT_UPCALL_VECTOR) {
		kt_upcall_interrupt();
		return;
	}
	if (kt_fault_resume != 0 && f->vector < 32) {
		kt_fault.vector = f->vector;
		kt_fault.error = f->error;
		kt_fault.rip = f->rip;
		kt_fault.cr2 = read_cr2();
		kt_fault.hit = 1;
		f->rip = kt_fault_resume;
		kt_fault_resume = 0;
		return;
	}
	unexpected(f);
}
