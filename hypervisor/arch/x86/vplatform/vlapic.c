/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vlapic.c - a vCPU's local APIC (xAPIC MMIO at 0xfee00000): its
 * registers, IRR/ISR/TMR with the priority rules, EOI, the error register,
 * and the answers the SVM run loop asks for (Intel SDM vol. 3 ch. 10; AMD
 * APM vol. 2 ch. 16). The timer is vlapic_timer.c, IPIs vlapic_ipi.c.
 *
 * Accesses the APM leaves undefined (anything but an aligned 32-bit access
 * at a register's offset) are defined by Keel the simple way: reads return
 * the bytes of the page image, where each 16-byte slot holds its 32-bit
 * register and then zeros; writes are dropped, and logged once per vCPU.
 * The APIC id is read-only: the MADT and CPUID promise id = vCPU index.
 */
#include <arch/arch.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/sched.h>
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <x86/msr.h>
#include <x86/svm_domain.h>
#include <x86/vplatform.h>
#include "vlapic_state.h"

#define APIC_VERSION_VALUE	(0x14u | ((LVT_COUNT - 1u) << 16))	/* integrated, 6 LVTs */
#define ICR_LO_WRITABLE		0x000ccfffu	/* all but delivery status (12) */
#define DFR_RESERVED_ONES	0x0fffffffu
#define SVR_WRITABLE		0x000003ffu	/* vector, enable, focus check */

/* Writable bits of each LVT entry, in LVT_* order. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	0x000700ffu,	/* timer: vector, mask, mode */
	0x000107ffu,	/* thermal: vector, delivery mode, mask */
	0x000107ffu,	/* performance counters */
	0x0001a7ffu,	/* LINT0: + polarity, trigger */
	0x0001a7ffu,	/* LINT1 */
	0x000100ffu,	/* error: vector, mask */
};

struct vlapic *vlapic_of(struct vcpu *v)
{
	return svm_vcpu(v)->vlapic;
}

static bool test_vec(const uint32_t *bits, unsigned int vector)
{
	return (bits[vector / 32] >> (vector % 32)) & 1;
}

static void set_vec(uint32_t *bits, unsigned int vector)
{
	bits[vector / 32] |= 1u << (vector % 32);
}

static void clear_vec(uint32_t *bits, unsigned int vector)
{
	bits[vector / 32] &= ~(1u << (vector % 32));
}

/* The highest vector set in @bits, or -1. */
static int highest(const uint32_t *bits)
{
	for (int w = 7; w >= 0; w--) {
		if (bits[w]) {
			return w * 32 + 31 - __builtin_clz(bits[w]);
		}
	}
	return -1;
}

static uint32_t priority_class(int vector)
{
	return vector < 0 ? 0 : (uint32_t)vector & 0xf0;
}

/* Processor priority: TPR, or the in-service class if that is higher. */
static uint32_t ppr_locked(const struct vlapic *vl)
{
	uint32_t isr_class = priority_class(highest(vl->isr));

	return (vl->tpr & 0xf0) >= isr_class ? vl->tpr : isr_class;
}

/* Arbitration priority (SDM 10.8.3.1). */
static uint32_t apr_locked(const struct vlapic *vl)
{
	uint32_t tpr_class = vl->tpr & 0xf0;
	uint32_t isr_class = priority_class(highest(vl->isr));
	uint32_t irr_class = priority_class(highest(vl->irr));
	uint32_t apr = tpr_class;

	if (tpr_class >= irr_class && tpr_class > isr_class) {
		return vl->tpr;
	}
	apr = isr_class > apr ? isr_class : apr;
	return irr_class > apr ? irr_class : apr;
}

static int pending_locked(const struct vlapic *vl)
{
	int vector = highest(vl->irr);

	if (!(vl->svr & SVR_ENABLE) || vector < 0 ||
	    priority_class(vector) <= (ppr_locked(vl) & 0xf0)) {
		return -1;
	}
	return vector;
}

void vlapic_error_locked(struct vlapic *vl, uint32_t esr_bits)
{
	uint32_t lvt = vl->lvt[LVT_ERROR];

	vl->esr_pending |= esr_bits;
	/* An illegal error vector would only raise another error: dropped. */
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16 && (vl->svr & SVR_ENABLE)) {
		set_vec(vl->irr, lvt & 0xff);
		clear_vec(vl->tmr, lvt & 0xff);
	}
}

bool vlapic_accept_locked(struct vlapic *vl, uint8_t vector, bool level)
{
	/* A software-disabled APIC takes no fixed interrupts (SDM 10.4.7.2). */
	if (!(vl->svr & SVR_ENABLE)) {
		return false;
	}
	if (vector < 16) {
		vlapic_error_locked(vl, ESR_RECV_ILLEGAL);
		return false;
	}
	set_vec(vl->irr, vector);
	if (level) {
		set_vec(vl->tmr, vector);
	} else {
		clear_vec(vl->tmr, vector);
	}
	return true;
}

bool vlapic_lvt_fire_locked(struct vlapic *vl, unsigned int lvt)
{
	uint32_t entry = vl->lvt[lvt];
	uint32_t mode = (lvt == LVT_TIMER || lvt == LVT_ERROR) ? DM_FIXED : (entry >> 8) & 7;

	if (entry & LVT_MASKED) {
		return false;
	}
	if (mode == DM_NMI) {
		vl->nmi_pending = true;
		return true;
	}
	if (mode != DM_FIXED) {
		return false;	/* SMI, INIT, ExtINT: nothing Keel has behind them */
	}
	return vlapic_accept_locked(vl, entry & 0xff, lvt >= LVT_LINT0 && (entry & (1u << 15)));
}

void vlapic_notify(struct vcpu *v)
{
	sched_wake(&v->sched, arch_time_ns());
	svm_vcpu_kick(v);
}

void vlapic_set_irq(struct vcpu *v, uint8_t vector, bool level)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	bool accepted = vlapic_accept_locked(vl, vector, level);

	spin_unlock_irqrestore(&vl->lock, flags);
	if (accepted) {
		vlapic_notify(v);
	}
}

/* Registers and interrupt state at power-up and after INIT; [l] held. */
static void reset_locked(struct vlapic *vl)
{
	vl->tpr = 0;
	vl->ldr = 0;
	vl->dfr = 0xffffffffu;
	vl->svr = 0xff;
	vl->esr = vl->esr_pending = 0;
	vl->icr_lo = vl->icr_hi = 0;
	for (unsigned int i = 0; i < LVT_COUNT; i++) {
		vl->lvt[i] = LVT_MASKED;
	}
	memset(vl->irr, 0, sizeof(vl->irr));
	memset(vl->isr, 0, sizeof(vl->isr));
	memset(vl->tmr, 0, sizeof(vl->tmr));
	vl->nmi_pending = false;
}

void vlapic_reset(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags;

	vlapic_timer_reset(vl);
	flags = spin_lock_irqsave(&vl->lock);
	reset_locked(vl);
	spin_unlock_irqrestore(&vl->lock, flags);
}

int vlapic_create(struct vcpu *v)
{
	struct vlapic *vl = heap_alloc(sizeof(*vl));

	if (!vl) {
		return -KEEL_ENOMEM;
	}
	memset(vl, 0, sizeof(*vl));
	vl->lock = (struct spinlock)SPINLOCK_INIT;
	vl->vcpu = v;
	vl->id = v->id;
	vl->bsp = v->id == 0;
	vl->init_sipi = v->domain->platform & KEEL_DOMCREATE_F_ACPI;
	/* Application processors of a PC start in wait-for-SIPI. */
	vl->wait_sipi = vl->init_sipi && !vl->bsp;
	vlapic_timer_init(vl);
	reset_locked(vl);
	svm_vcpu(v)->vlapic = vl;
	return 0;
}

void vlapic_destroy(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);

	if (sv->vlapic) {
		vlapic_timer_reset(sv->vlapic);
		heap_free(sv->vlapic);
		sv->vlapic = NULL;
	}
}

int vlapic_pending_vector(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	int vector = pending_locked(vl);

	spin_unlock_irqrestore(&vl->lock, flags);
	return vector;
}

void vlapic_ack(struct vcpu *v, uint8_t vector)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);

	if (test_vec(vl->irr, vector)) {
		clear_vec(vl->irr, vector);
		set_vec(vl->isr, vector);
	}
	spin_unlock_irqrestore(&vl->lock, flags);
}

bool vlapic_take_nmi(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	bool nmi = vl->nmi_pending;

	vl->nmi_pending = false;
	spin_unlock_irqrestore(&vl->lock, flags);
	return nmi;
}

bool vlapic_wakes_hlt(struct vcpu *v, bool rflags_if)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	bool wake = vl->nmi_pending || vl->init_pending || vl->sipi_pending ||
		    (rflags_if && pending_locked(vl) >= 0);

	spin_unlock_irqrestore(&vl->lock, flags);
	return wake;
}

uint8_t vlapic_tpr(struct vcpu *v)
{
	return (uint8_t)READ_ONCE(vlapic_of(v)->tpr);
}

void vlapic_set_tpr(struct vcpu *v, uint8_t tpr)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);

	vl->tpr = tpr;
	spin_unlock_irqrestore(&vl->lock, flags);
}

uint64_t vlapic_apic_base(struct vcpu *v)
{
	return KEEL_X86_GPA_LAPIC | APIC_BASE_ENABLE | (vlapic_of(v)->bsp ? APIC_BASE_BSP : 0);
}

/* Only the value it has: the APIC cannot move, turn off or go x2APIC. */
bool vlapic_set_apic_base(struct vcpu *v, uint64_t value)
{
	return value == vlapic_apic_base(v);
}

static uint32_t read_locked(struct vlapic *vl, uint32_t reg)
{
	if (reg >= APIC_ISR && reg < APIC_ISR + 0x80) {
		return vl->isr[(reg - APIC_ISR) >> 4];
	}
	if (reg >= APIC_TMR && reg < APIC_TMR + 0x80) {
		return vl->tmr[(reg - APIC_TMR) >> 4];
	}
	if (reg >= APIC_IRR && reg < APIC_IRR + 0x80) {
		return vl->irr[(reg - APIC_IRR) >> 4];
	}
	if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) {
		return vl->lvt[(reg - APIC_LVT_TIMER) >> 4];
	}
	switch (reg) {
	case APIC_ID:
		return vl->id << 24;
	case APIC_VERSION:
		return APIC_VERSION_VALUE;
	case APIC_TPR:
		return vl->tpr;
	case APIC_APR:
		return apr_locked(vl);
	case APIC_PPR:
		return ppr_locked(vl);
	case APIC_LDR:
		return vl->ldr;
	case APIC_DFR:
		return vl->dfr;
	case APIC_SVR:
		return vl->svr;
	case APIC_ESR:
		return vl->esr;
	case APIC_ICR_LO:
		return vl->icr_lo;	/* delivery status 0: every IPI is sent at once */
	case APIC_ICR_HI:
		return vl->icr_hi;
	case APIC_TIMER_INITIAL:
		return vl->timer_initial;
	case APIC_TIMER_CURRENT:
		return vlapic_timer_current(vl);
	case APIC_TIMER_DIVIDE:
		return vl->timer_divide;
	default:
		return 0;	/* EOI and RRD are write-only or unused; the rest reserved */
	}
}

/* What a register write leaves to do once the lock is dropped. */
struct after_write {
	bool timer;		/* re-arm the timer */
	bool send;		/* send the IPI in icr_lo/icr_hi */
	int eoi_level_vector;	/* tell the IOAPIC, or -1 */
	uint32_t icr_lo, icr_hi;
};

static void eoi_locked(struct vlapic *vl, struct after_write *after)
{
	int vector = highest(vl->isr);

	if (vector < 0) {
		return;
	}
	clear_vec(vl->isr, (unsigned int)vector);
	if (test_vec(vl->tmr, (unsigned int)vector)) {
		after->eoi_level_vector = vector;
	}
}

static void write_locked(struct vlapic *vl, uint32_t reg, uint32_t value, struct after_write *after)
{
	if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) {
		unsigned int i = (reg - APIC_LVT_TIMER) >> 4;

		value &= lvt_writable[i];
		if (!(vl->svr & SVR_ENABLE)) {
			value |= LVT_MASKED;	/* stays masked while software-disabled */
		}
		if (i == LVT_TIMER) {
			vlapic_timer_write_locked(vl, reg, value);
			after->timer = true;
		} else {
			vl->lvt[i] = value;
		}
		return;
	}
	switch (reg) {
	case APIC_TPR:
		vl->tpr = value & 0xff;
		break;
	case APIC_EOI:
		eoi_locked(vl, after);
		break;
	case APIC_LDR:
		vl->ldr = value & 0xff000000u;
		break;
	case APIC_DFR:
		vl->dfr = (value & 0xf0000000u) | DFR_RESERVED_ONES;
		break;
	case APIC_SVR:
		vl->svr = value & SVR_WRITABLE;
		if (!(vl->svr & SVR_ENABLE)) {
			for (unsigned int i = 0; i < LVT_COUNT; i++) {
				vl->lvt[i] |= LVT_MASKED;
			}
		}
		break;
	case APIC_ESR:
		/* A write makes the errors since the last write readable. */
		vl->esr = vl->esr_pending;
		vl->esr_pending = 0;
		break;
	case APIC_ICR_LO:
		vl->icr_lo = value & ICR_LO_WRITABLE;
		after->send = true;
		after->icr_lo = vl->icr_lo;
		after->icr_hi = vl->icr_hi;
		break;
	case APIC_ICR_HI:
		vl->icr_hi = value & 0xff000000u;
		break;
	case APIC_TIMER_INITIAL:
	case APIC_TIMER_DIVIDE:
		vlapic_timer_write_locked(vl, reg, value);
		after->timer = true;
		break;
	default:
		break;	/* read-only (ID, version, APR, PPR, ISR, TMR, IRR, current count) or reserved */
	}
}

static void log_odd_access(struct vcpu *v, struct svm_vcpu *sv, uint32_t offset,
			   unsigned int size)
{
	if (!sv->vlapic_odd_logged) {
		sv->vlapic_odd_logged = true;
		log_warn("domain %u '%s' vCPU %u: %u-byte local APIC write at offset %#x "
			 "ignored (only aligned 32-bit accesses are defined); not logged again",
			 v->domain->domid, v->domain->name, v->id, size, offset);
	}
}

bool vlapic_mmio(struct vcpu *v, uint32_t offset, unsigned int size, bool write,
		 uint64_t *value)
{
	struct vlapic *vl = vlapic_of(v);
	struct after_write after = { .eoi_level_vector = -1 };
	unsigned long flags;

	offset &= 0xfff;
	if (write && (size != 4 || (offset & 0xf))) {
		log_odd_access(v, svm_vcpu(v), offset, size);
		return true;
	}
	flags = spin_lock_irqsave(&vl->lock);
	if (write) {
		write_locked(vl, offset, (uint32_t)*value, &after);
	} else if (size == 4 && !(offset & 0xf)) {
		*value = read_locked(vl, offset);
	} else {
		*value = 0;
		for (unsigned int i = 0; i < size; i++) {
			uint32_t at = (offset + i) & 0xfff;
			uint64_t byte = 0;

			if ((at & 0xf) < 4) {
				byte = (read_locked(vl, at & ~0xfu) >> (8 * (at & 3))) & 0xff;
			}
			*value |= byte << (8 * i);
		}
	}
	spin_unlock_irqrestore(&vl->lock, flags);
	if (after.timer) {
		vlapic_timer_apply(vl);
	}
	if (after.send) {
		vlapic_send_ipi(vl, after.icr_lo, after.icr_hi);
	}
	if (after.eoi_level_vector >= 0) {
		vioapic_eoi(v->domain, (uint8_t)after.eoi_level_vector);
	}
	return true;
}
