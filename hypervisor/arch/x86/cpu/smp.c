/* SPDX-License-Identifier: MIT */
/*
 * cpu/smp.c - brings the secondary CPUs online (INIT-SIPI-SIPI), and runs
 * functions on other CPUs by IPI.
 */
#include <keel/log.h>
#include <keel/panic.h>
#include <keel/schedule.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/layout.h>
#include <x86/lapic.h>
#include <x86/paging.h>
#include <x86/percpu.h>
#include <x86/smp.h>
#include <x86/svm.h>
#include <x86/time.h>
#include <x86/trap.h>

#define AP_START_TIMEOUT_US	2000000u	/* TCG is slow: be patient */
#define CALL_TIMEOUT_US		2000000u

/* Must match the parameter block at the end of ap_trampoline.S. */
struct ap_params {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad;
	uint64_t cr3;
	uint64_t stack;
	uint64_t percpu;
	uint64_t entry;
} __attribute__((packed));

extern const char _ap_trampoline_start[], _ap_trampoline_end[];
extern const char ap_trampoline[], ap_params[];
extern const uint64_t boot_gdt[];
extern uint64_t boot_pml4[];

static unsigned int cpus_online = 1;

/* Where a secondary CPU lands in long mode, on its own stack. */
NORETURN void ap_entry64(struct percpu *cpu);

void ap_entry64(struct percpu *cpu)
{
	uint64_t after;
	bool timer_ok;

	paging_load();
	percpu_load(cpu);
	idt_load();
	lapic_init();
	timer_ok = time_selftest(&after);
	__atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
	if (timer_ok) {
		log_info("online (APIC %u), LAPIC timer fired after %llu us",
			 cpu->apic_id, (unsigned long long)(after / 1000u));
	} else {
		log_err("online (APIC %u), but the LAPIC timer did not fire as armed",
			cpu->apic_id);
	}
	/* Answer IPI calls until the boot CPU starts scheduling, then join in. */
	while (!schedule_started()) {
		sti();
		__asm__ volatile("hlt");
	}
	cli();
	schedule_enter();
}

static bool start_one(struct percpu *cpu)
{
	struct ap_params *p;
	uint8_t *dst = (uint8_t *)(uintptr_t)AP_TRAMPOLINE_PA;
	size_t size = (size_t)(_ap_trampoline_end - _ap_trampoline_start);

	if (!percpu_alloc_stacks(cpu)) {
		log_err("cpu%u: no memory for its stacks", cpu->index);
		return false;
	}
	memcpy(dst, _ap_trampoline_start, size);
	p = (struct ap_params *)(dst + (ap_params - ap_trampoline));
	p->gdt_limit = 4 * 8 - 1;
	p->gdt_base = (uint32_t)(uintptr_t)boot_gdt;
	p->cr3 = (uintptr_t)boot_pml4;
	p->stack = cpu->stack.hi;
	p->percpu = (uintptr_t)cpu;
	p->entry = (uintptr_t)ap_entry64;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_send_init(cpu->apic_id);
	udelay(10000);
	for (int attempt = 0; attempt < 2 && !cpu->online; attempt++) {
		lapic_send_sipi(cpu->apic_id, AP_TRAMPOLINE_PA >> 12);
		for (unsigned int us = 0; us < AP_START_TIMEOUT_US && !cpu->online; us += 100) {
			udelay(100);
		}
	}
	return cpu->online;
}

unsigned int smp_start(void)
{
	for (unsigned int i = 1; i < cpus_present; i++) {
		if (start_one(&cpus[i])) {
			cpus_online++;
		} else {
			log_err("cpu%u (APIC %u) did not come online; continuing without it",
				i, cpus[i].apic_id);
		}
	}
	return cpus_online;
}

unsigned int smp_online_count(void)
{
	return cpus_online;
}

void smp_handle_call_ipi(void)
{
	struct percpu *cpu = this_cpu();
	void (*fn)(void *) = cpu->call_fn;

	if (fn) {
		cpu->call_fn = NULL;
		fn(cpu->call_arg);
		__atomic_fetch_add(&cpu->calls_done, 1, __ATOMIC_RELEASE);
	}
}

bool smp_call_on(unsigned int index, void (*fn)(void *), void *arg)
{
	struct percpu *cpu = &cpus[index];
	uint64_t done = cpu->calls_done;

	if (index == this_cpu()->index) {
		fn(arg);
		return true;
	}
	if (index >= cpus_present || !cpu->online) {
		return false;
	}
	cpu->call_arg = arg;
	__atomic_store_n(&cpu->call_fn, fn, __ATOMIC_RELEASE);
	lapic_send_ipi(cpu->apic_id, VEC_IPI_CALL);
	for (unsigned int us = 0; us < CALL_TIMEOUT_US; us += 10) {
		if (__atomic_load_n(&cpu->calls_done, __ATOMIC_ACQUIRE) != done) {
			return true;
		}
		udelay(10);
	}
	return false;
}
