/* SPDX-License-Identifier: MIT */
/*
 * arch/arch.h - the contract every architecture port implements for the core.
 *
 * The core (hypervisor/core, lib) calls only what is declared here; it never
 * includes an architecture's own headers. docs/arch-interface.md explains each
 * function, when the core calls it and in which context. The host build used
 * by the unit tests implements the same contract in arch/host.
 */
#ifndef KEEL_ARCH_ARCH_H
#define KEEL_ARCH_ARCH_H

#include <keel/compiler.h>
#include <keel/types.h>

struct boot_info;
struct domain;
struct elf_image;
struct vcpu;

/* Name of the architecture, for the banner ("x86_64"). */
extern const char arch_name[];

/* Console: write bytes to the platform debug console. Any context. */
void arch_console_write(const char *buf, size_t len);

/* CPUs. Index 0 is the boot CPU; indexes are dense. Any context. */
unsigned int arch_cpu_index(void);
unsigned int arch_cpu_count(void);
void arch_cpu_relax(void);

/* Wait for an interrupt (hlt); returns after one has been handled. */
void arch_cpu_idle(void);

/* Stop this CPU for good with interrupts off. */
NORETURN void arch_cpu_halt(void);

/* Panic path: stop every other CPU (best effort, does not wait forever). */
void arch_stop_other_cpus(void);

/* Local interrupt state, for locks also taken from interrupt handlers. */
unsigned long arch_irq_save(void);
void arch_irq_restore(unsigned long flags);

/* Host-physical <-> hypervisor-virtual for RAM Keel owns (the direct map). */
void *arch_phys_to_virt(paddr_t pa);
paddr_t arch_virt_to_phys(const void *va);

/* Monotonic nanoseconds since boot; 0 until the clock is calibrated. */
uint64_t arch_time_ns(void);

/*
 * Boot stages, called once by keel_main() on the boot CPU, in this order:
 *   arch_setup()          after the page allocator and heap exist: final page
 *                         tables, exception handling, interrupt controller,
 *                         timers, platform discovery (CPUs present).
 *   arch_start_cpus()     bring every present CPU online; returns how many are.
 *   arch_virt_enable()    turn on hardware virtualization on every online CPU.
 *                         Returns 0, or -1 after logging what is missing and how
 *                         to get it; the core then halts cleanly.
 */
void arch_setup(const struct boot_info *bi);
unsigned int arch_start_cpus(void);
int arch_virt_enable(void);

/*
 * Run the boot self-test guest from an ELF image (a boot module) already
 * validated by elf_parse() into @elf, until it halts. Returns 0 when every
 * exit was handled and the guest resumed where it should have; -1 otherwise
 * (reason logged). Frees everything it allocated.
 */
int arch_run_probe_guest(const void *image, const struct elf_image *elf);

/*
 * Domains (core/domain.c). The architecture keeps its own per-domain and
 * per-vCPU state behind d->arch and v->arch: second-stage page tables,
 * address-space ids, saved guest state. create returns 0 or -KEEL_ENOMEM
 * and leaves nothing behind on failure; destroy frees everything create
 * and the p2m calls allocated.
 */
int arch_domain_create(struct domain *d);
void arch_domain_destroy(struct domain *d);
int arch_vcpu_create(struct vcpu *v);
void arch_vcpu_destroy(struct vcpu *v);

/*
 * Mirror a change of the core's p2m (core/guest_memory.c) into the
 * second-stage tables: map 2^@order pages from @gfn to @pa with @rights
 * (GUEST_READ/WRITE/EXEC), or remove them. @order is 0 or 9 (2 MiB).
 * Called with the domain's memory lock held. set returns 0 or
 * -KEEL_ENOMEM (the core then undoes its own change).
 */
int arch_p2m_set(struct domain *d, uint64_t gfn, paddr_t pa, unsigned int order,
		 uint32_t rights);
void arch_p2m_clear(struct domain *d, uint64_t gfn, unsigned int order);

/*
 * Bracket calls into prebuilt libraries that use FPU/SIMD registers (zlib's
 * inflate uses SSE): arch_fpu_begin() turns interrupts off and saves the
 * FPU state of whatever ran before; arch_fpu_end() restores both. Keel's
 * own code never touches those registers. Not nestable.
 */
unsigned long arch_fpu_begin(void);
void arch_fpu_end(unsigned long flags);

/* Walk the current call stack: fills up to @max return addresses. */
size_t arch_backtrace(uintptr_t *pcs, size_t max);

/* Tell an emulator the run's verdict (QEMU isa-debug-exit). Test builds only. */
void arch_debug_exit(unsigned int code);

/* Deliberately fault, for the crash-report test (see core/crash_test.c). */
void arch_fault_on_purpose(const char *kind);

#endif
