/* SPDX-License-Identifier: MIT */
/*
 * cpu/trap.c - handles interrupts and turns any hypervisor exception into a
 * crash report: what happened, where (symbolized), registers, backtrace.
 *
 * Keel itself must never take an exception; one that happens is a bug, so
 * the report is followed by a PANIC verdict and every CPU stops.
 */
#include <arch/arch.h>
#include <keel/log.h>
#include <keel/panic.h>
#include <keel/symbols.h>
#include <keel/timer.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/msr.h>
#include <x86/percpu.h>
#include <x86/smp.h>
#include <x86/trap.h>

#define BACKTRACE_MAX	32

volatile bool cpus_stopping;

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved (15)",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved (22)", "reserved (23)", "reserved (24)", "reserved (25)",
	"reserved (26)", "reserved (27)", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved (31)",
};

static void print_symbol(const char *label, uint64_t addr)
{
	uintptr_t off = 0;
	const char *name = symbol_lookup(addr, &off);

	log_raw("%s %#018llx %s+%#lx\n", label, (unsigned long long)addr,
		name ? name : "?", (unsigned long)off);
}

static void print_registers(const struct trap_frame *f)
{
	log_raw("RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_raw("RSI %016llx RDI %016llx RBP %016llx RSP %016llx\n",
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->rsp);
	log_raw("R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n",
		(unsigned long long)f->r8, (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11);
	log_raw("R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n",
		(unsigned long long)f->r12, (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	log_raw("RIP %016llx CS %04llx RFLAGS %08llx SS %04llx ERR %llx\n",
		(unsigned long long)f->rip, (unsigned long long)f->cs,
		(unsigned long long)f->rflags, (unsigned long long)f->ss,
		(unsigned long long)f->error_code);
	log_raw("CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
		(unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

/* Follow the frame-pointer chain from @rbp, checking it stays on a stack. */
static size_t walk_frames(uint64_t rbp, uintptr_t *pcs, size_t n, size_t max)
{
	while (n < max && rbp && (rbp & 7) == 0 && percpu_on_stack(rbp) &&
	       percpu_on_stack(rbp + 8)) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;

		if (frame[1] == 0) {
			break;
		}
		pcs[n++] = frame[1];
		if (frame[0] <= rbp) {
			break;	/* stacks grow down: callers' frames are higher */
		}
		rbp = frame[0];
	}
	return n;
}

size_t arch_backtrace(uintptr_t *pcs, size_t max)
{
	return walk_frames((uintptr_t)__builtin_frame_address(0), pcs, 0, max);
}

void trap_crash_report(const struct trap_frame *f, const char *what)
{
	uintptr_t pcs[BACKTRACE_MAX];
	size_t n = 0;

	if (!panic_enter()) {
		arch_cpu_halt();
	}
	log_raw("\n*** KEEL PANIC on cpu%u (APIC %u): %s, error code %#llx\n",
		this_cpu()->index, this_cpu()->apic_id, what,
		(unsigned long long)f->error_code);
	if (f->vector == VEC_PAGE_FAULT) {
		log_raw("page fault address %#llx (%s, %s)\n",
			(unsigned long long)read_cr2(),
			(f->error_code & 2) ? "write" : ((f->error_code & 16) ? "execute" : "read"),
			(f->error_code & 1) ? "protection violation" : "not present");
	}
	if (percpu_in_guard_page(read_cr2())) {
		log_raw("stack overflow: the fault address %#llx is in a stack's guard page\n",
			(unsigned long long)read_cr2());
	}
	print_symbol("faulting instruction at", f->rip);
	print_registers(f);
	pcs[n++] = f->rip;
	n = walk_frames(f->rbp, pcs, n, BACKTRACE_MAX);
	backtrace_print(pcs, n, true);
	{
		uintptr_t off = 0;
		const char *fn = symbol_lookup(f->rip, &off);

		verdict_report(VERDICT_PANIC, "cpu%u: %s in %s", this_cpu()->index,
			       what, fn ? fn : "?");
	}
	arch_cpu_halt();
}

static void handle_exception(struct trap_frame *f)
{
	if (f->vector == VEC_NMI && cpus_stopping) {
		arch_cpu_halt();	/* another CPU panicked and stops us */
	}
	trap_crash_report(f, exception_names[f->vector]);
}

static void dispatch(struct trap_frame *f)
{
	if (f->vector < 32) {
		handle_exception(f);
		return;
	}
	switch (f->vector) {
	case VEC_TIMER:
		this_cpu()->timer_ticks++;
		this_cpu()->timer_deadline = 0;	/* fired: the next program is new */
		lapic_eoi();
		timer_interrupt();
		break;
	case VEC_KICK:
		lapic_eoi();	/* its only job was to interrupt */
		break;
	case VEC_IPI_CALL:
		smp_handle_call_ipi();
		lapic_eoi();
		break;
	case VEC_SPURIOUS:
		break;	/* no EOI for spurious interrupts */
	default:
		log_warn("unexpected interrupt vector %#llx", (unsigned long long)f->vector);
		lapic_eoi();
		break;
	}
}

static bool switch_trap_reported;	/* the first real one is logged */

/*
 * Between svm_switch_begin and svm_switch_end (svm/vmrun.S) the CPU may
 * hold a guest's GS base, so this_cpu() would read the guest's memory
 * layout as Keel's. GIF is clear there and should hold every interrupt
 * off, yet QEMU's TCG has delivered the host's timer interrupt right after
 * a #VMEXIT, before the host's VMLOAD: this_cpu() faulted, and the panic
 * path, faulting again on it, halted both CPUs without a word (or the
 * faults nested until the CPU reset). Such an interrupt is handled on the
 * host's GS base, found from the stack it runs on, and the GS base it
 * found is put back before returning, since the exit path saves it into
 * the guest's VMCB next. (An NMI there would still find the guest's TR:
 * Keel sends NMIs only to stop CPUs after a panic.)
 */
void x86_trap(struct trap_frame *f)
{
	bool switching = f->rip >= (uintptr_t)svm_switch_begin && f->rip < (uintptr_t)svm_switch_end;
	struct percpu *host = switching ? percpu_by_stack((uintptr_t)f) : NULL;
	uint64_t found = 0;

	if (host) {
		found = rdmsr(MSR_GS_BASE);
		wrmsr(MSR_GS_BASE, (uintptr_t)host);
		if (!__atomic_exchange_n(&switch_trap_reported, true, __ATOMIC_RELAXED)) {
			log_warn("cpu%u: vector %#llx taken inside the guest switch at %#llx, "
				 "GIF clear (an emulator's doing); handled on Keel's GS base",
				 host->index, (unsigned long long)f->vector,
				 (unsigned long long)f->rip);
		}
	}
	dispatch(f);
	if (host) {
		wrmsr(MSR_GS_BASE, found);
	}
}

static void selftest_call(void *arg)
{
	*(struct percpu **)arg = this_cpu();
}

bool trap_switch_selftest(void)
{
	struct trap_frame f = { .vector = VEC_IPI_CALL, .rip = (uintptr_t)svm_switch_begin };
	unsigned long flags = arch_irq_save();
	struct percpu *me = this_cpu(), *seen = NULL;
	uint64_t done = me->calls_done, gs_after;
	bool quiet = __atomic_exchange_n(&switch_trap_reported, true, __ATOMIC_RELAXED);

	me->call_arg = &seen;
	me->call_fn = selftest_call;
	wrmsr(MSR_GS_BASE, 0);		/* as a guest may leave it: this_cpu() would fault */
	x86_trap(&f);
	gs_after = rdmsr(MSR_GS_BASE);
	wrmsr(MSR_GS_BASE, (uintptr_t)me);
	__atomic_store_n(&switch_trap_reported, quiet, __ATOMIC_RELAXED);
	me->call_fn = NULL;
	arch_irq_restore(flags);
	return seen == me && me->calls_done == done + 1 && gs_after == 0;
}
