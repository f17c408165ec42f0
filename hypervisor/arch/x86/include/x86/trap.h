/* SPDX-License-Identifier: MIT */
/* x86/trap.h - interrupt vectors, the saved register frame and the IDT. */
#ifndef KEEL_X86_TRAP_H
#define KEEL_X86_TRAP_H

#include <keel/types.h>

#define VEC_NMI			2
#define VEC_DOUBLE_FAULT	8
#define VEC_PAGE_FAULT		14
#define VEC_MACHINE_CHECK	18

#define VEC_TIMER		0xf0	/* LAPIC timer */
#define VEC_IPI_CALL		0xf1	/* run a function on another CPU */
#define VEC_KICK		0xf2	/* look at the scheduler (exit a guest, leave hlt) */
#define VEC_SPURIOUS		0xff

/* Laid out by cpu/trap_entry.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

void idt_init(void);	/* build the IDT once */
void idt_load(void);	/* load it on this CPU */

void x86_trap(struct trap_frame *f);

/* svm/vmrun.S: where the CPU may hold a guest's GS base, TR and syscall MSRs. */
extern const char svm_switch_begin[], svm_switch_end[];

/*
 * Boot check of x86_trap() inside the guest switch: a call IPI "taken" at
 * svm_switch_begin with a GS base of 0 must run on this CPU's own percpu
 * and leave the GS base at 0. Interrupts are off meanwhile.
 */
bool trap_switch_selftest(void);

/* Print a register dump and backtrace for @f, then stop (panic path). */
NORETURN void trap_crash_report(const struct trap_frame *f, const char *what);

/* Panic path: other CPUs are being stopped by NMI; they halt on it. */
extern volatile bool cpus_stopping;

#endif
