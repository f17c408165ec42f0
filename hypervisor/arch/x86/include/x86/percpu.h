/* SPDX-License-Identifier: MIT */
/*
 * x86/percpu.h - per-CPU data, reached through the GS base.
 *
 * Each CPU's struct percpu holds its own GDT and TSS (the TSS carries the
 * interrupt stacks for double fault, NMI and machine check), its stacks and
 * its virtualization state. GS base points at the CPU's entry, whose first
 * field points at itself, so this_cpu() is one load.
 */
#ifndef KEEL_X86_PERCPU_H
#define KEEL_X86_PERCPU_H

#include <keel/types.h>

#define MAX_CPUS		64
#define GDT_ENTRIES		6	/* null, code64, data, code32, TSS (2) */

/* Interrupt stack table slots (1-based in IDT entries). */
#define IST_DOUBLE_FAULT	1
#define IST_NMI			2
#define IST_MACHINE_CHECK	3

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct stack_range {
	uintptr_t lo, hi;
};

struct percpu {
	struct percpu *self;		/* (c) must stay first: %gs:0 */
	unsigned int index;		/* (c) dense CPU number, 0 = boot CPU */
	uint32_t apic_id;		/* (c) from the MADT */
	volatile bool online;		/* set by the CPU itself when up */
	struct stack_range stack;	/* (c) main stack */
	struct stack_range ist[3];	/* (c) DF, NMI, MC stacks */
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));

	/*
	 * FS base points here: the stack-protector canary that prebuilt
	 * libraries (libfdt) read from %fs:0x28 is tls[5].
	 */
	uint64_t tls[6];

	/* FPU/SSE state saved around library code (arch_fpu_begin). */
	uint8_t fpu_save[512] __attribute__((aligned(16)));

	/* Timer calibration self-test: ticks seen by this CPU. */
	volatile uint64_t timer_ticks;

	/* Cross-CPU calls (smp.c): a function run on this CPU by IPI. */
	void (*volatile call_fn)(void *arg);
	void *volatile call_arg;
	volatile uint64_t calls_done;

	/* SVM (svm.c): host save area and a VMCB for host hidden state. */
	paddr_t svm_hsave_pa;
	paddr_t svm_host_vmcb_pa;
	bool svm_enabled;

	/* Guests (svm/vcpu.c): ASIDs handed out on this CPU, per generation. */
	uint32_t asid_next;
	uint64_t asid_gen;
	struct vcpu *fpu_owner;		/* whose FPU/DR state is loaded */
	/*
	 * While in guest mode: its domain and the npt_gen its TLB entries are
	 * valid for, so svm_flush_domain() knows whom to wait for.
	 */
	struct domain *volatile guest_domain;
	volatile uint64_t guest_npt_gen;

	/*
	 * Kicks and idle (arch.c): whether the CPU will look at its resched
	 * flag before it next enters a guest or halts, so that a kick needs
	 * no IPI; how long its next idle spins on the flag before it halts.
	 */
	bool resched_watched;		/* (atomic) */
	uint64_t idle_poll_ns;

	/* Its LAPIC timer (lapic.c, arch.c): one-shot mode is set up; armed for. */
	bool lapic_oneshot_set;
	uint64_t timer_deadline;	/* arch_timer_program()'s, until it fires; 0: none */
};

/* (c): set when the CPU is brought up, constant afterwards. */

extern struct percpu cpus[MAX_CPUS];
extern unsigned int cpus_present;	/* entries of cpus[] in use */

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Set up the GDT, TSS and GS base of @cpu on the CPU running this. */
void percpu_load(struct percpu *cpu);

/* Allocate @cpu's stacks (main and IST), each with an unmapped guard page. */
bool percpu_alloc_stacks(struct percpu *cpu);

/* Record the boot CPU's stack (from entry.S) and unmap its guard page. */
void percpu_init_boot_stack(void);

/* Is [addr, addr+8) inside one of the running CPU's stacks? */
bool percpu_on_stack(uintptr_t addr);

/* The CPU whose main stack holds @addr, found without %gs; NULL if none. */
struct percpu *percpu_by_stack(uintptr_t addr);

/* Is @addr in the guard page below one of the running CPU's stacks? */
bool percpu_in_guard_page(uintptr_t addr);

#endif
