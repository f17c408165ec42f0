/* SPDX-License-Identifier: MIT */
/* x86/lapic.h - the local APIC (xAPIC MMIO mode): IPIs, EOI and its timer. */
#ifndef KEEL_X86_LAPIC_H
#define KEEL_X86_LAPIC_H

#include <keel/types.h>

void lapic_init(void);		/* map (boot CPU) and enable on this CPU */
uint32_t lapic_id(void);
void lapic_eoi(void);

void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_nmi_others(void);

/* Timer: counts at lapic_timer_hz once calibrated (time.c). */
void lapic_timer_start_counting(void);	/* free-running, masked */
uint32_t lapic_timer_elapsed(void);	/* counts since start_counting */
void lapic_timer_oneshot(uint64_t ns);	/* fire VEC_TIMER after @ns */
void lapic_timer_stop(void);

extern uint64_t lapic_timer_hz;

#endif
