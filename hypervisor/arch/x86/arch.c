/* SPDX-License-Identifier: MIT */
/*
 * arch.c - the x86_64 implementation of the arch contract (include/arch/arch.h):
 * the boot stages the core calls and the small per-CPU services.
 */
#include <arch/arch.h>
#include <keel/log.h>
#include <keel/panic.h>
#include <keel/sched.h>
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <x86/acpi.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/paging.h>
#include <x86/platform.h>
#include <x86/percpu.h>
#include <x86/smp.h>
#include <x86/svm.h>
#include <x86/svm_domain.h>
#include <x86/time.h>
#include <x86/trap.h>
#include <x86/wallclock.h>

#define QEMU_DEBUG_EXIT_PORT	0xf4

const char arch_name[] = "x86_64";

static struct acpi_info acpi;

void arch_console_write(const char *buf, size_t len)
{
	uart_write(buf, len);
}

unsigned int arch_cpu_index(void)
{
	return this_cpu()->index;
}

unsigned int arch_cpu_count(void)
{
	return smp_online_count();
}

void arch_cpu_relax(void)
{
	pause();
}

/*
 * The core re-arms the same deadline often (a timer set behind the slice
 * end, idle after idle): one that is armed already and has not fired is
 * left alone, as writing the LAPIC costs an emulator exit under QEMU.
 * Called with interrupts off (the core's timer lock); the timer interrupt
 * clears timer_deadline (cpu/trap.c).
 */
void arch_timer_program(uint64_t deadline_ns)
{
	struct percpu *cpu = this_cpu();
	uint64_t now;

	if (deadline_ns == cpu->timer_deadline) {
		return;
	}
	cpu->timer_deadline = deadline_ns;
	if (!deadline_ns) {
		lapic_timer_stop();
		return;
	}
	now = arch_time_ns();
	/* A deadline already past fires at once; a far one fires early and is re-armed. */
	lapic_timer_oneshot((int64_t)(deadline_ns - now) > 0 ? deadline_ns - now : 1);
}

/*
 * A CPU that watches its resched flag (resched_watch()) needs no IPI: it
 * looks at the flag before its next VMRUN or HLT anyway. Skipping the IPI
 * matters under QEMU's TCG, where sending one takes the emulator's global
 * lock and waking a halted CPU means waking its host thread: together
 * hundreds of microseconds per wake-up on a loaded host, and a wake-up
 * usually finds its target still in Keel, on its way to idle, or spinning
 * in idle_poll(). Every caller sets the flag first (sched.c, with a
 * sequentially consistent exchange; the upcall and vLAPIC paths mark what
 * to inject before they kick); resched_unwatch() stops watching and then
 * reads the flag, so one of the two always sees the other.
 */
void arch_cpu_kick(unsigned int cpu)
{
	if (cpu < cpus_present && cpus[cpu].online &&
	    !__atomic_load_n(&cpus[cpu].resched_watched, __ATOMIC_SEQ_CST)) {
		lapic_send_ipi(cpus[cpu].apic_id, VEC_KICK);
	}
}

void resched_watch(struct percpu *cpu)
{
	__atomic_store_n(&cpu->resched_watched, true, __ATOMIC_SEQ_CST);
}

bool resched_unwatch(struct percpu *cpu)
{
	__atomic_store_n(&cpu->resched_watched, false, __ATOMIC_SEQ_CST);
	return sched_need_resched(cpu->index);
}

/*
 * How long an idle CPU spins on its resched flag before it halts, adapted
 * to how long its recent idle periods lasted (the idea of KVM's halt
 * polling): a wake-up that comes within IDLE_POLL_MAX_NS of going idle -
 * the peer of an event channel answering, a backend's next request - then
 * finds it watching, with no IPI to send and no halted host thread to
 * wake. Long idle periods shrink the spin to nothing, so a CPU with
 * nothing to do halts at once and costs its host nothing.
 */
#define IDLE_POLL_MAX_NS	(500 * 1000ull)
#define IDLE_POLL_MIN_NS	(50 * 1000ull)
#define IDLE_LONG_NS		(10 * IDLE_POLL_MAX_NS)

/* Spin with interrupts on until the resched flag is set or @until; whether it was. */
static bool idle_poll(struct percpu *cpu, uint64_t until)
{
	bool woken;

	sti();
	while (!(woken = sched_need_resched(cpu->index)) && (int64_t)(arch_time_ns() - until) < 0) {
		pause();
	}
	cli();
	return woken;
}

/*
 * After a halt: grow the spin if the idle period was short enough for a
 * longer one to have caught it; shrink it if the CPU is idle for real.
 * Periods in between (a busy host stretches every one of them) leave it.
 */
static void idle_adapt(struct percpu *cpu, uint64_t idle_ns)
{
	uint64_t poll = cpu->idle_poll_ns;

	if (idle_ns <= IDLE_POLL_MAX_NS) {
		poll = poll ? MIN(2 * poll, IDLE_POLL_MAX_NS) : IDLE_POLL_MIN_NS;
	} else if (idle_ns > IDLE_LONG_NS) {
		poll = poll / 2 >= IDLE_POLL_MIN_NS ? poll / 2 : 0;
	}
	cpu->idle_poll_ns = poll;
}

/*
 * Called with interrupts off once the resched flag was seen clear; returns
 * with them off, after an interrupt or once the flag is set. Spins first
 * while the CPU watches the flag (which it does from its first exit from a
 * guest on), then halts.
 */
void arch_cpu_idle(void)
{
	struct percpu *cpu = this_cpu();
	uint64_t start = arch_time_ns();

	if (__atomic_load_n(&cpu->resched_watched, __ATOMIC_RELAXED) && cpu->idle_poll_ns &&
	    idle_poll(cpu, start + cpu->idle_poll_ns)) {
		return;
	}
	if (!resched_unwatch(cpu)) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	resched_watch(cpu);
	idle_adapt(cpu, arch_time_ns() - start);
}

void arch_cpu_halt(void)
{
	for (;;) {
		__asm__ volatile("cli; hlt");
	}
}

void arch_stop_other_cpus(void)
{
	cpus_stopping = true;
	lapic_send_nmi_others();
}

unsigned long arch_irq_save(void)
{
	unsigned long flags = read_rflags();

	cli();
	return flags;
}

void arch_irq_restore(unsigned long flags)
{
	if (flags & RFLAGS_IF) {
		sti();
	}
}

void *arch_phys_to_virt(paddr_t pa)
{
	return (void *)(uintptr_t)pa;
}

paddr_t arch_virt_to_phys(const void *va)
{
	return (uintptr_t)va;
}

unsigned long arch_fpu_begin(void)
{
	unsigned long flags = arch_irq_save();

	__asm__ volatile("fxsave64 %0" : "=m"(this_cpu()->fpu_save));
	__asm__ volatile("fninit");
	return flags;
}

void arch_fpu_end(unsigned long flags)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(this_cpu()->fpu_save));
	arch_irq_restore(flags);
}

void arch_map_window(uint64_t *gpa, uint64_t *size)
{
	*gpa = KEEL_X86_GPA_MAP_WINDOW;
	*size = KEEL_X86_GPA_MAP_WINDOW_SIZE;
}

void arch_debug_exit(unsigned int code)
{
	outl(QEMU_DEBUG_EXIT_PORT, code);
}

/*
 * ACPI tables may sit in memory the direct map leaves out: map on demand.
 * Page 0 (the BIOS data area holds the EBDA pointer) stays unmapped so
 * that NULL dereferences fault: its bytes are read once, at boot, into
 * bda_copy while the boot page tables still map it.
 */
static uint8_t bda_copy[0x500];

static const void *acpi_read(uint64_t pa, size_t len)
{
	if (pa + len < pa) {
		return NULL;
	}
	if (pa + len <= sizeof(bda_copy)) {
		return bda_copy + pa;
	}
	if (pa < PAGE_SIZE) {
		return NULL;
	}
	return paging_map_firmware(pa, len);
}

static void save_bios_data_area(void)
{
	static volatile uintptr_t zero;	/* hides the NULL base from the compiler */
	const volatile uint8_t *low = (const volatile uint8_t *)zero;

	for (size_t i = 0; i < sizeof(bda_copy); i++) {
		bda_copy[i] = low[i];
	}
}

static void discover_cpus(const struct boot_info *bi)
{
	paddr_t rsdp = bi->acpi_rsdp ? bi->acpi_rsdp : acpi_find_rsdp(acpi_read);
	uint32_t self = lapic_id();
	unsigned int n = 1;
	const char *why;

	cpus[0].apic_id = self;
	if (!rsdp || !acpi_parse(rsdp, acpi_read, &acpi, &why)) {
		log_warn("ACPI: %s; running on the boot CPU only",
			 rsdp ? why : "no RSDP found");
		return;
	}
	for (unsigned int i = 0; i < acpi.cpu_count; i++) {
		if (acpi.cpu_apic_ids[i] == self) {
			continue;
		}
		cpus[n].index = n;
		cpus[n].apic_id = acpi.cpu_apic_ids[i];
		n++;
	}
	cpus_present = n;
	log_info("ACPI: OEM '%s', %u CPUs enabled in the MADT%s, %u IOAPIC(s), HPET %s",
		 acpi.oem_id, acpi.cpu_count, acpi.cpus_ignored ? " (some ignored)" : "",
		 acpi.ioapic_count, acpi.hpet_base ? "present" : "absent");
}

static void mask_legacy_pic(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void arch_setup(const struct boot_info *bi)
{
	uint64_t after;

	save_bios_data_area();
	paging_init(bi);
	percpu_init_boot_stack();
	if (!percpu_alloc_stacks(&cpus[0])) {
		halt_cleanly("out of memory for the boot CPU's interrupt stacks");
	}
	percpu_load(&cpus[0]);
	idt_init();
	idt_load();
	log_info("exceptions: IDT loaded; double fault, NMI and machine check on their own stacks");
	mask_legacy_pic();
	lapic_init();
	discover_cpus(bi);
	time_init(&acpi);
	wallclock_init();	/* needs the calibrated clock */
	if (!time_selftest(&after)) {
		log_err("LAPIC timer on the boot CPU did not fire as armed");
	} else {
		log_info("LAPIC timer: one-shot 10 ms fired after %llu us",
			 (unsigned long long)(after / 1000u));
	}
	if (!trap_switch_selftest()) {
		halt_cleanly("an interrupt inside the guest switch does not find this CPU's own state");
	}
	log_info("traps: an interrupt inside the guest switch runs on Keel's GS base");
	/*
	 * The boot CPU is up as the secondaries are once they set this
	 * (cpu/smp.c). Without it arch_cpu_kick(0) sent nothing, so a vCPU
	 * in guest mode on CPU 0 ran on until its slice ended after being
	 * taken down or preempted, and an idle CPU 0 slept through wake-ups.
	 */
	__atomic_store_n(&cpus[0].online, true, __ATOMIC_RELEASE);
}

static void ipi_echo(void *arg)
{
	uint32_t *ids = arg;

	ids[this_cpu()->index] = lapic_id();
}

unsigned int arch_start_cpus(void)
{
	uint32_t seen[MAX_CPUS];
	unsigned int online = smp_start(), answered = 0;

	memset(seen, 0xff, sizeof(seen));
	for (unsigned int i = 1; i < cpus_present; i++) {
		if (cpus[i].online && smp_call_on(i, ipi_echo, seen) && seen[i] == cpus[i].apic_id) {
			answered++;
		}
	}
	if (online > 1) {
		log_info("IPIs: %u of %u other CPUs answered a call with their own APIC ID",
			 answered, online - 1);
		if (answered != online - 1) {
			panic("IPI self-test: %u of %u CPUs answered", answered, online - 1);
		}
	}
	return online;
}

static void enable_svm_here(void *arg)
{
	bool *ok = arg;

	ok[this_cpu()->index] = svm_enable_cpu();
}

int arch_virt_enable(void)
{
	const struct svm_features *f = &svm_features;
	bool ok[MAX_CPUS] = { false };
	unsigned int enabled = 0;

	svm_detect();
	if (!f->svm) {
		log_err("SVM: this CPU has no AMD-V (SVM). Keel needs an AMD CPU with SVM and "
			"nested paging; in QEMU use: -cpu EPYC,+svm,+npt");
		return -1;
	}
	if (f->disabled_by_firmware) {
		log_err("SVM: disabled by the firmware (VM_CR.SVMDIS): enable SVM/AMD-V in the "
			"BIOS setup");
		return -1;
	}
	if (!f->npt) {
		log_err("SVM: the CPU has SVM but no nested paging (NPT). Keel needs NPT; in "
			"QEMU use: -cpu EPYC,+svm,+npt");
		return -1;
	}
	for (unsigned int i = 0; i < cpus_present; i++) {
		if (cpus[i].online || i == 0) {
			smp_call_on(i, enable_svm_here, ok);
			enabled += ok[i];
		}
	}
	if (!svm_permission_maps_init()) {
		log_err("SVM: no memory for the I/O and MSR permission maps");
		return -1;
	}
	if (enabled != smp_online_count()) {
		log_err("SVM: enabled on %u of %u CPUs", enabled, smp_online_count());
		return -1;
	}
	log_info("SVM: %u ASIDs; nrip-save %s, decode assists %s, VMCB clean bits %s, "
		 "TSC scaling %s, AVIC %s", f->asid_count, f->nrip_save ? "yes" : "no",
		 f->decode_assists ? "yes" : "no", f->vmcb_clean ? "yes" : "no",
		 f->tsc_scale ? "yes" : "no", f->avic ? "yes" : "no");
	log_info("SVM ready on %u CPUs (nested paging on, leaves up to %s)", enabled,
		 f->npt_1g ? "1 GiB" : "2 MiB");
	return 0;
}

void arch_fault_on_purpose(const char *kind)
{
	if (strcmp(kind, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(kind, "divide") == 0) {
		__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
	} else {
		log_err("crash test: unknown kind '%s' (pagefault, ud, divide, "
			"stack_overflow, panic)", kind);
	}
}
