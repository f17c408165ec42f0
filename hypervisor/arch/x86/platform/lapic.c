/* SPDX-License-Identifier: MIT */
/* platform/lapic.c - drives the local APIC through its xAPIC MMIO registers. */
#include <keel/log.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/msr.h>
#include <x86/paging.h>
#include <x86/percpu.h>
#include <x86/trap.h>

#define REG_ID		0x020
#define REG_TPR		0x080
#define REG_EOI		0x0b0
#define REG_SVR		0x0f0
#define REG_ESR		0x280
#define REG_ICR_LO	0x300
#define REG_ICR_HI	0x310
#define REG_LVT_TIMER	0x320
#define REG_LVT_LINT0	0x350
#define REG_LVT_LINT1	0x360
#define REG_LVT_ERROR	0x370
#define REG_TIMER_INIT	0x380
#define REG_TIMER_CUR	0x390
#define REG_TIMER_DIV	0x3e0

#define SVR_ENABLE	(1u << 8)
#define LVT_MASKED	(1u << 16)
#define ICR_PENDING	(1u << 12)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_INIT	(5u << 8)
#define ICR_SIPI	(6u << 8)
#define ICR_NMI		(4u << 8)
#define ICR_ALL_BUT_SELF (3u << 18)
#define TIMER_DIV_1	0xb
#define SEND_SPIN_LIMIT	1000000

uint64_t lapic_timer_hz;
static volatile uint32_t *regs;

static uint32_t rd(uint32_t reg)
{
	return regs[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
	regs[reg / 4] = v;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!regs) {
		regs = paging_map_mmio(base & PTE_ADDR, PAGE_SIZE);
	}
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	wr(REG_TPR, 0);
	wr(REG_LVT_TIMER, LVT_MASKED);
	this_cpu()->lapic_oneshot_set = false;
	wr(REG_LVT_LINT0, LVT_MASKED);
	wr(REG_LVT_LINT1, LVT_MASKED | (4u << 8));	/* NMI delivery, masked */
	wr(REG_LVT_ERROR, LVT_MASKED);
	wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	wr(REG_ESR, 0);
	wr(REG_EOI, 0);
}

uint32_t lapic_id(void)
{
	return rd(REG_ID) >> 24;
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

static void send(uint32_t apic_id, uint32_t icr)
{
	for (unsigned int i = 0; i < SEND_SPIN_LIMIT && (rd(REG_ICR_LO) & ICR_PENDING); i++) {
		pause();
	}
	wr(REG_ICR_HI, apic_id << 24);
	wr(REG_ICR_LO, icr);
}

void lapic_send_init(uint32_t apic_id)
{
	send(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
	send(apic_id, ICR_SIPI | page);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	send(apic_id, ICR_LEVEL_ASSERT | vector);
}

void lapic_send_nmi_others(void)
{
	if (regs) {
		send(0, ICR_NMI | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF);
	}
}

void lapic_timer_start_counting(void)
{
	this_cpu()->lapic_oneshot_set = false;
	wr(REG_TIMER_DIV, TIMER_DIV_1);
	wr(REG_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	wr(REG_TIMER_INIT, UINT32_MAX);
}

uint32_t lapic_timer_elapsed(void)
{
	return UINT32_MAX - rd(REG_TIMER_CUR);
}

void lapic_timer_oneshot(uint64_t ns)
{
	uint64_t count = (unsigned __int128)ns * lapic_timer_hz / 1000000000u;

	if (count == 0) {
		count = 1;
	}
	if (count > UINT32_MAX) {
		count = UINT32_MAX;
	}
	/*
	 * The divider and the LVT stay set between one-shots: only the count
	 * is written. Each register write is an exit to the emulator under
	 * QEMU (which re-arms its own timer for every one of them), and
	 * Keel re-arms this timer several times per guest wake-up.
	 */
	if (!this_cpu()->lapic_oneshot_set) {
		wr(REG_TIMER_DIV, TIMER_DIV_1);
		wr(REG_LVT_TIMER, VEC_TIMER);	/* one-shot, unmasked */
		this_cpu()->lapic_oneshot_set = true;
	}
	wr(REG_TIMER_INIT, (uint32_t)count);
}

/* A zero initial count stops the timer (SDM 11.5.4); the LVT may stay as it is. */
void lapic_timer_stop(void)
{
	wr(REG_TIMER_INIT, 0);
}
