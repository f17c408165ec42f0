/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vlapic_state.h - one vCPU's local APIC as the three vlapic*.c
 * files share it: registers, interrupt state, timer, INIT/SIPI state.
 *
 * Locking: vl->lock guards every field marked [l]; it is taken with
 * interrupts off, because the timer's function and other CPUs' IPIs reach
 * it. Never hold two vLAPIC locks at once, and never call into the IOAPIC
 * or the core timers with one held: the IOAPIC's lock comes first, and
 * timer_cancel() waits for a timer function that may be waiting for us.
 */
#ifndef KEEL_VLAPIC_STATE_H
#define KEEL_VLAPIC_STATE_H

#include <keel/domain.h>
#include <keel/spinlock.h>
#include <keel/timer.h>
#include <keel/types.h>

/* Register offsets in the xAPIC page. */
#define APIC_ID			0x020
#define APIC_VERSION		0x030
#define APIC_TPR		0x080
#define APIC_APR		0x090
#define APIC_PPR		0x0a0
#define APIC_EOI		0x0b0
#define APIC_RRD		0x0c0
#define APIC_LDR		0x0d0
#define APIC_DFR		0x0e0
#define APIC_SVR		0x0f0
#define APIC_ISR		0x100	/* 8 registers, 0x10 apart */
#define APIC_TMR		0x180
#define APIC_IRR		0x200
#define APIC_ESR		0x280
#define APIC_ICR_LO		0x300
#define APIC_ICR_HI		0x310
#define APIC_LVT_TIMER		0x320
#define APIC_LVT_ERROR		0x370
#define APIC_TIMER_INITIAL	0x380
#define APIC_TIMER_CURRENT	0x390
#define APIC_TIMER_DIVIDE	0x3e0

/* The six LVT entries, in register order from 0x320. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

#define LVT_MASKED		(1u << 16)
#define LVT_TIMER_MODE_SHIFT	17
#define LVT_TIMER_ONESHOT	0u
#define LVT_TIMER_PERIODIC	1u
#define LVT_TIMER_TSC_DEADLINE	2u

#define SVR_ENABLE		(1u << 8)

/* ESR bits (Intel SDM vol. 3 10.5.3). */
#define ESR_SEND_ILLEGAL	(1u << 5)
#define ESR_RECV_ILLEGAL	(1u << 6)

/* ICR and MSI delivery modes. */
#define DM_FIXED		0u
#define DM_LOWEST		1u
#define DM_SMI			2u
#define DM_NMI			4u
#define DM_INIT			5u
#define DM_STARTUP		6u
#define DM_EXTINT		7u

struct vlapic {
	struct spinlock lock;
	struct vcpu *vcpu;		/* (c) */
	uint32_t id;			/* (c) APIC id = vCPU index */
	bool bsp;			/* (c) vCPU 0 */
	bool init_sipi;			/* (c) INIT/SIPI start vCPUs (F_ACPI) */

	uint32_t tpr, ldr, dfr, svr;	/* [l] */
	uint32_t esr, esr_pending;	/* [l] ESR as read, errors since it was written */
	uint32_t icr_lo, icr_hi;	/* [l] */
	uint32_t lvt[LVT_COUNT];	/* [l] */
	uint32_t irr[8], isr[8], tmr[8];	/* [l] 256-bit vectors, 32 per word */
	bool nmi_pending;		/* [l] */

	/* Timer (vlapic_timer.c). */
	uint32_t timer_initial;		/* [l] initial count */
	uint32_t timer_divide;		/* [l] divide configuration register */
	uint64_t timer_start_ns;	/* [l] when counting from initial began */
	uint64_t timer_due_ns;		/* [l] what @timer is armed for; 0: not armed */
	bool timer_expired;		/* [l] the one-shot count reached zero */
	uint64_t tsc_deadline;		/* [l] armed IA32_TSC_DEADLINE, 0: none */
	struct timer timer;

	/* INIT/SIPI (vlapic_ipi.c). */
	bool init_pending;		/* [l] INITed while online: reset before entry */
	bool wait_sipi;			/* [l] in wait-for-SIPI */
	bool sipi_pending;		/* [l] a SIPI came while online */
	uint8_t sipi_vector;		/* [l] */
};

struct vlapic *vlapic_of(struct vcpu *v);

/* vlapic.c: accept @vector (fixed) into IRR, TMR per @level; [l] held. */
bool vlapic_accept_locked(struct vlapic *vl, uint8_t vector, bool level);
/* Record error bits @esr_bits and fire the error LVT; [l] held. */
void vlapic_error_locked(struct vlapic *vl, uint32_t esr_bits);
/* Wake @v and make it look at its interrupts (after any lock is dropped). */
void vlapic_notify(struct vcpu *v);
/* A fixed-mode LVT entry @lvt fires; [l] held. True if an interrupt was accepted. */
bool vlapic_lvt_fire_locked(struct vlapic *vl, unsigned int lvt);

/* vlapic_timer.c */
void vlapic_timer_init(struct vlapic *vl);
/* Stop the timer and forget its state: [l] not held. */
void vlapic_timer_reset(struct vlapic *vl);
uint32_t vlapic_timer_current(struct vlapic *vl);	/* [l] held */
/* Register writes; the timer is re-armed by vlapic_timer_apply() after unlocking. */
void vlapic_timer_write_locked(struct vlapic *vl, uint32_t offset, uint32_t value);
void vlapic_timer_apply(struct vlapic *vl);
/* The timer's input frequency in Hz (CPUID B+3 EBX, in kHz). */
uint64_t vlapic_timer_hz(void);

/* vlapic_ipi.c: the ICR low half was written with @icr_lo; [l] not held. */
void vlapic_send_ipi(struct vlapic *vl, uint32_t icr_lo, uint32_t icr_hi);

#endif
