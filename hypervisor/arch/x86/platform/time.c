/* SPDX-License-Identifier: MIT */
/*
 * platform/time.c - monotonic time from the TSC, calibrated against the best
 * reference the machine has: CPUID leaf 15h, else the HPET, else the PIT.
 * The LAPIC timer is calibrated in the same pass.
 */
#include <arch/arch.h>
#include <keel/log.h>
#include <public/keel/vcpu.h>
#include <x86/cpu.h>
#include <x86/lapic.h>
#include <x86/paging.h>
#include <x86/percpu.h>
#include <x86/time.h>

#define CALIBRATE_NS		20000000u	/* 20 ms */
#define HPET_CAPS		0x000
#define HPET_CONFIG		0x010
#define HPET_COUNTER		0x0f0
#define PIT_HZ			1193182u
#define SELFTEST_NS		10000000u	/* 10 ms one-shot */
#define SELFTEST_TIMEOUT_NS	2000000000u

uint64_t tsc_hz;
static uint64_t tsc_boot;
static uint64_t ns_per_tsc_32;	/* nanoseconds per TSC tick, 32.32 fixed point */

uint64_t arch_time_ns(void)
{
	if (!tsc_hz) {
		return 0;
	}
	return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_boot) * ns_per_tsc_32) >> 32);
}

/*
 * The guest's view (keel_vcpu_time_info): the same TSC and the same scale
 * as arch_time_ns(), so guest and Keel agree on every nanosecond. The
 * 32.32 multiplier must fit in 32 bits: for a TSC slower than 1 GHz the
 * delta is shifted left first.
 */
void arch_time_info(struct keel_vcpu_time_info *ti, uint64_t origin_ns)
{
	uint64_t mul = ns_per_tsc_32;
	int8_t shift = 0;
	uint64_t tsc = rdtsc();

	while (mul > 0xffffffffull) {
		mul >>= 1;
		shift++;
	}
	ti->tsc_to_ns_mul = (uint32_t)mul;
	ti->tsc_shift = shift;
	ti->tsc_timestamp = tsc;
	ti->system_time_ns = (uint64_t)(((unsigned __int128)(tsc - tsc_boot) * ns_per_tsc_32) >> 32) -
			     origin_ns;
	ti->flags = (cpuid(0x80000007u, 0).edx & (1u << 8)) ? KEEL_TIME_F_TSC_STABLE : 0;
}

uint32_t arch_tsc_khz(void)
{
	return (uint32_t)(tsc_hz / 1000u);
}

void udelay(uint64_t us)
{
	uint64_t hz = tsc_hz ? tsc_hz : 3000000000ull;	/* before calibration: assume 3 GHz */
	uint64_t end = rdtsc() + us * (hz / 1000000u);

	while (rdtsc() < end) {
		pause();
	}
}

struct sample {
	uint64_t tsc;
	uint32_t lapic;
};

static void take(struct sample *s)
{
	s->lapic = lapic_timer_elapsed();
	s->tsc = rdtsc();
}

static void finish(const struct sample *a, const struct sample *b, uint64_t ns)
{
	tsc_hz = (unsigned __int128)(b->tsc - a->tsc) * 1000000000u / ns;
	lapic_timer_hz = (uint64_t)(b->lapic - a->lapic) * 1000000000u / ns;
}

static void calibrate_hpet(paddr_t base)
{
	volatile uint64_t *hpet = paging_map_mmio(base, 1024);
	uint64_t period_fs = hpet[HPET_CAPS / 8] >> 32;
	uint64_t ticks = (uint64_t)CALIBRATE_NS * 1000000u / period_fs;
	struct sample a, b;
	uint32_t start;

	hpet[HPET_CONFIG / 8] |= 1;	/* counter on, legacy routing untouched */
	lapic_timer_start_counting();
	start = (uint32_t)hpet[HPET_COUNTER / 8];
	take(&a);
	while ((uint32_t)hpet[HPET_COUNTER / 8] - start < ticks) {
		pause();
	}
	take(&b);
	finish(&a, &b, CALIBRATE_NS);
}

static void calibrate_pit(void)
{
	uint32_t count = (uint32_t)((uint64_t)PIT_HZ * CALIBRATE_NS / 1000000000u);
	uint64_t ns = (uint64_t)count * 1000000000u / PIT_HZ;
	struct sample a, b;

	/* Channel 2, gate on, speaker off; mode 0 raises OUT2 at zero. */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	lapic_timer_start_counting();
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	take(&a);
	while (!(inb(0x61) & 0x20)) {
		pause();
	}
	take(&b);
	finish(&a, &b, ns);
}

static bool calibrate_cpuid(void)
{
	struct cpuid_regs r;

	if (cpuid(0, 0).eax < 0x15) {
		return false;
	}
	r = cpuid(0x15, 0);
	if (!r.eax || !r.ebx || !r.ecx) {
		return false;
	}
	tsc_hz = (uint64_t)r.ecx * r.ebx / r.eax;
	lapic_timer_hz = r.ecx;	/* the APIC timer runs from the crystal */
	return true;
}

void time_init(const struct acpi_info *ai)
{
	const char *source;

	if (calibrate_cpuid()) {
		source = "CPUID leaf 15h";
	} else if (ai->hpet_base) {
		calibrate_hpet(ai->hpet_base);
		source = "HPET";
	} else {
		calibrate_pit();
		source = "PIT";
	}
	lapic_timer_stop();
	tsc_boot = rdtsc();
	ns_per_tsc_32 = ((uint64_t)1000000000u << 32) / tsc_hz;
	log_info("time: TSC %llu.%03llu MHz, LAPIC timer %llu.%03llu MHz (calibrated against %s)",
		 (unsigned long long)(tsc_hz / 1000000u), (unsigned long long)(tsc_hz / 1000u % 1000u),
		 (unsigned long long)(lapic_timer_hz / 1000000u),
		 (unsigned long long)(lapic_timer_hz / 1000u % 1000u), source);
}

bool time_selftest(uint64_t *fired_after_ns)
{
	struct percpu *cpu = this_cpu();
	uint64_t ticks = cpu->timer_ticks;
	uint64_t start = arch_time_ns(), now = start;

	lapic_timer_oneshot(SELFTEST_NS);
	sti();
	while (cpu->timer_ticks == ticks && now - start < SELFTEST_TIMEOUT_NS) {
		pause();	/* not hlt: a timer that never fires must not hang us */
		now = arch_time_ns();
	}
	cli();
	lapic_timer_stop();
	*fired_after_ns = now - start;
	return cpu->timer_ticks != ticks && now - start >= SELFTEST_NS / 2;
}
