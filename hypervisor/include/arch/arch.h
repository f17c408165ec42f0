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

/*
 * Console input: the next byte typed on the debug console, or -1 if none
 * is waiting. Never blocks; polled (core/console.c), no interrupt needed.
 */
int arch_console_getc(void);

/* CPUs. Index 0 is the boot CPU; indexes are dense. Any context. */
unsigned int arch_cpu_index(void);
unsigned int arch_cpu_count(void);
void arch_cpu_relax(void);

/*
 * Wait for an interrupt (hlt); returns after one has been handled, or
 * once sched_need_resched() is set for this CPU (an arch may spin on it
 * for a while before it halts). Called with interrupts off, after the
 * flag was seen clear.
 */
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
 * (GUEST_READ/WRITE/EXEC), or remove them. @order is 0, 9 (2 MiB) or 18
 * (1 GiB), at most arch_p2m_max_order().
 * Called with the domain's memory lock held. set returns 0 or
 * -KEEL_ENOMEM (the core then undoes its own change).
 *
 * Only a set that needs memory for the arch's own tables may fail, and a
 * failed set changes nothing. The core's undo paths rely on two
 * consequences: setting a GFN again right after clearing it (same order)
 * succeeds, and when a large mapping is split (cleared, then its 512 parts
 * set one order down, one by one) only the first of those sets may fail.
 * When clear returns, no vCPU of @d can reach the old page any more: the
 * arch flushes whatever second-stage translations CPUs may cache (grant
 * revocation depends on it).
 */
int arch_p2m_set(struct domain *d, uint64_t gfn, paddr_t pa, unsigned int order,
		 uint32_t rights);
void arch_p2m_clear(struct domain *d, uint64_t gfn, unsigned int order);

/*
 * The largest order arch_p2m_set() takes on this machine: 9, or 18 where
 * the second stage has 1 GiB leaves. Fixed after arch_virt_enable().
 */
unsigned int arch_p2m_max_order(void);

/*
 * The guest-physical range every domain keeps empty for Keel mappings (the
 * map window of docs/abi/hypercalls.md, "Memory": the device table's
 * /map-window, the start info's map_window_gpa/size). Fixed for the
 * architecture, page-aligned. Any context.
 */
void arch_map_window(uint64_t *gpa, uint64_t *size);

/*
 * Whether @gfn lies in a platform range of the guest-physical layout
 * (emulated devices, PCI BARs, and room kept for them; docs/abi/boot.md):
 * nothing may be populated or mapped there. The map window is not a
 * platform range. Fixed for the architecture. Any context.
 */
bool arch_gfn_is_platform(uint64_t gfn);

/*
 * The guest-physical layout of a domain with @ram_pages pages of RAM, for
 * builders: where its RAM goes and which ranges the platform reserves,
 * sorted and not overlapping, as KEEL_MEMTYPE_RAM, _RESERVED and
 * _MAP_WINDOW entries (docs/abi/boot.md, "Guest physical layout"). Writes
 * up to @max entries and returns how many there are.
 */
struct arch_mem_range {
	uint64_t base;
	uint64_t size;
	uint32_t type;			/* KEEL_MEMTYPE_* */
};
unsigned int arch_guest_layout(uint64_t ram_pages, struct arch_mem_range *out,
			       unsigned int max);

/*
 * Finish @d's emulated platform once its RAM is populated: populate the
 * firmware range and write the ACPI tables there (with KEEL_DOMCREATE_F_ACPI
 * in d->platform; docs/abi/boot.md). Returns 0, -KEEL_ENOMEM, or 0 doing
 * nothing for a domain without ACPI. Called by builders before any vCPU runs.
 */
int arch_platform_populate(struct domain *d);

/*
 * KEEL_HC_EVTCHN_SET_UPCALL in KEEL_UPCALL_PLATFORM mode for vCPU @vcpu
 * with MSI-X entry @entry: 0 if @d's platform device can deliver it, else
 * -KEEL_EINVAL (entry beyond its MSI-X table; INTx, i.e. neither MSI nor
 * MSI-X enabled, for a vCPU other than 0). Only for domains offered
 * KEEL_F0_UPCALL_PLATFORM. Hypercall context.
 */
long arch_platform_upcall_check(struct domain *d, uint32_t vcpu, uint32_t entry);

/*
 * Linux kernels (docs/abi/boot.md, "PVH entry", "Linux 64-bit boot
 * protocol"); the core picks the protocol, the arch owns the formats.
 *
 * arch_linux_image_parse() recognises the architecture's Linux image (x86:
 * a bzImage) in @data: returns 1 and fills @li, 0 if it is not one, or -1
 * with *@why when it is one Keel cannot boot (too old, 32-bit, truncated).
 *
 * arch_linux_boot() builds a Linux domain @d once its RAM (@lb->layout) is
 * populated: loads the kernel (the bzImage's protected-mode part for
 * ARCH_LINUX_64, the vmlinux's segments for ARCH_LINUX_PVH), the initrd,
 * the boot structure, memory map and command line, and sets vCPU 0's
 * registers. Returns 0 with @out describing the placement, or -1 with
 * @out->why (and @out->need_end when the RAM is too small). Builder
 * context, @d not running.
 */
#define ARCH_LINUX_PVH	1
#define ARCH_LINUX_64	2

struct arch_linux_image {
	uint64_t payload_offset;	/* the compressed vmlinux in the image */
	uint64_t payload_size;
	uint64_t vmlinux_max;		/* bound for the extracted vmlinux */
	uint64_t load_base, load_size;	/* RAM the kernel needs (64-bit protocol) */
	uint32_t version;		/* boot protocol version, e.g. 0x20f */
};

struct arch_linux_boot {
	uint32_t protocol;			/* ARCH_LINUX_* */
	const void *image;			/* the bzImage (64), or the vmlinux (PVH) */
	size_t image_size;
	const struct elf_image *elf;		/* PVH: @image parsed */
	const void *initrd;			/* NULL: none */
	uint64_t initrd_size;
	const char *cmdline;			/* NUL-terminated, final */
	const struct arch_mem_range *layout;
	unsigned int layout_count;
	uint32_t platform;			/* KEEL_DOMCREATE_F_* */
};

struct arch_linux_placed {
	uint64_t kernel_base, kernel_end;	/* guest-physical */
	uint64_t entry;
	uint64_t boot_gpa;			/* zero page or hvm_start_info */
	uint64_t initrd_gpa;			/* 0: none */
	uint64_t need_end;			/* RAM must reach this (when too small) */
	const char *why;			/* on failure */
};

int arch_linux_image_parse(const void *data, size_t size, struct arch_linux_image *li,
			   const char **why);
int arch_linux_boot(struct domain *d, const struct arch_linux_boot *lb,
		    struct arch_linux_placed *out);

/*
 * Bracket calls into prebuilt libraries that use FPU/SIMD registers (zlib's
 * inflate uses SSE): arch_fpu_begin() turns interrupts off and saves the
 * FPU state of whatever ran before; arch_fpu_end() restores both. Keel's
 * own code never touches those registers. Not nestable.
 */
unsigned long arch_fpu_begin(void);
void arch_fpu_end(unsigned long flags);

/*
 * Running guests (core/schedule.c, core/vcpu.c).
 *
 * arch_timer_program()  arm this CPU's one-shot timer for @deadline_ns
 *                       (arch_time_ns() clock; 0: disarm). Its interrupt
 *                       calls timer_interrupt() (keel/timer.h).
 * arch_cpu_kick()       make CPU @cpu look at sched_need_resched() soon: an
 *                       IPI that wakes it from idle or makes its guest exit,
 *                       none if it will look anyway. Any context.
 * arch_vcpu_boot()      set @v's registers for its first entry per @e
 *                       (docs/abi/boot.md); may write page tables and
 *                       descriptor tables into @e's scratch area of guest
 *                       RAM. Returns 0 or -KEEL_EINVAL / -KEEL_EFAULT.
 * arch_vcpu_run()       enter @v's guest on this CPU and handle its exits
 *                       until sched_need_resched() is set for this CPU.
 *                       Called with interrupts on; returns with them on.
 * arch_vcpu_notify()    @v has a new upcall to deliver: if it runs on
 *                       another CPU, make it exit so the next entry
 *                       injects it. Any context.
 * arch_time_info()      fill @ti's TSC scaling and a consistent
 *                       (tsc_timestamp, system_time_ns) pair, where system
 *                       time is arch_time_ns() - @origin_ns.
 */
struct arch_boot_entry {
	uint32_t mode;			/* KEEL_ENTRY_MODE_*, or an arch-private mode */
	uint64_t entry;			/* guest-physical entry point */
	uint64_t boot_info_gpa;		/* start info: RDI (LONG64) or EBX (FLAT32) */
	uint64_t stack_top;		/* initial stack pointer */
	uint64_t scratch_gpa;		/* guest RAM the arch may fill (page-aligned) */
	uint64_t scratch_size;
	uint64_t map_limit;		/* identity-map [0, map_limit) (LONG64) */
};
struct keel_vcpu_time_info;

void arch_timer_program(uint64_t deadline_ns);
void arch_cpu_kick(unsigned int cpu);
int arch_vcpu_boot(struct vcpu *v, const struct arch_boot_entry *e);
/*
 * KEEL_HC_VCPU_UP and KEEL_HC_CTL_VCPU_SET_CONTEXT: read the arch's context
 * struct at @gpa of @from's RAM (@v's own domain for VCPU_UP, the
 * controller for SET_CONTEXT), check it and load it into @v, which is off
 * every CPU and stays so until this returns. Returns 0, -KEEL_EFAULT or
 * -KEEL_EINVAL (rejected: see the arch's public header); a failed call
 * leaves @v as it was.
 */
int arch_vcpu_load_context(struct vcpu *v, struct domain *from, uint64_t gpa);
/*
 * KEEL_HC_CTL_VCPU_GET_CONTEXT: write @v's registers, as the arch's context
 * struct, to @gpa of @to's RAM (8-byte aligned, within one page). @v is
 * off every CPU. Returns 0 or -KEEL_EFAULT.
 */
int arch_vcpu_save_context(struct vcpu *v, struct domain *to, uint64_t gpa);
void arch_vcpu_run(struct vcpu *v);
void arch_vcpu_notify(struct vcpu *v);
void arch_time_info(struct keel_vcpu_time_info *ti, uint64_t origin_ns);

/* The guest-visible timestamp counter's frequency in kHz (0 if unknown). */
uint32_t arch_tsc_khz(void);

/* Walk the current call stack: fills up to @max return addresses. */
size_t arch_backtrace(uintptr_t *pcs, size_t max);

/* Tell an emulator the run's verdict (QEMU isa-debug-exit). Test builds only. */
void arch_debug_exit(unsigned int code);

/* Deliberately fault, for the crash-report test (see core/crash_test.c). */
void arch_fault_on_purpose(const char *kind);

#endif
