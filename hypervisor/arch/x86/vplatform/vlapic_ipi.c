/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vlapic_ipi.c - interrupt messages between local APICs: the ICR
 * (IPIs with their shorthands), MSIs and IOAPIC redirections, destination
 * matching (physical, logical flat and cluster), NMI, and INIT/SIPI.
 *
 * Lowest-priority delivery goes to the first addressed vCPU (the lowest
 * index), which the SDM allows: the choice among the addressed APICs is
 * the platform's. INIT and SIPI only act in domains with ACPI (stock
 * kernels start their CPUs that way); Keel-native domains use
 * KEEL_HC_VCPU_UP, and INIT/SIPI IPIs there are ignored.
 *
 * A vCPU in wait-for-SIPI that is offline (never started, as every
 * application processor of an ACPI domain begins) is started by the
 * sender: it gets the real-mode state of the SIPI and goes online. One
 * that is online (INITed while running) blocks in its run loop, which
 * loads that state itself when the SIPI arrives.
 */
#include <arch/arch.h>
#include <keel/sched.h>
#include <keel/vcpu.h>
#include <public/keel/arch-x86_64.h>
#include <x86/svm_domain.h>
#include <x86/vplatform.h>
#include "vlapic_state.h"

#define ICR_LOGICAL		(1u << 11)
#define ICR_LEVEL_ASSERT	(1u << 14)
#define ICR_TRIGGER_LEVEL	(1u << 15)
#define ICR_SHORTHAND_SHIFT	18
enum { SH_NONE, SH_SELF, SH_ALL, SH_OTHERS };

#define MSI_ADDR_LOGICAL	(1u << 2)
#define MSI_DATA_LEVEL		(1u << 15)

static bool matches(const struct vlapic *vl, uint8_t dest, bool logical)
{
	uint8_t ldr = (uint8_t)(READ_ONCE(vl->ldr) >> 24);

	if (dest == 0xff) {
		return true;	/* broadcast, in either mode */
	}
	if (!logical) {
		return vl->id == dest;
	}
	if ((READ_ONCE(vl->dfr) >> 28) == 0xf) {
		return (ldr & dest) != 0;	/* flat: one bit per APIC */
	}
	/* Cluster: cluster number in bits 7:4, a member bit in 3:0. */
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf) != 0;
}

static void init_vcpu(struct vlapic *t)
{
	unsigned long flags = spin_lock_irqsave(&t->lock);
	bool online = vcpu_is_online(t->vcpu);

	t->wait_sipi = true;
	t->sipi_pending = false;
	t->init_pending = online;	/* an offline one is reset when a SIPI starts it */
	spin_unlock_irqrestore(&t->lock, flags);
	if (online) {
		vlapic_notify(t->vcpu);
	}
}

static void sipi_vcpu(struct vlapic *t, uint8_t vector)
{
	unsigned long flags = spin_lock_irqsave(&t->lock);
	struct vcpu *v = t->vcpu;
	bool online;

	if (!t->wait_sipi) {
		spin_unlock_irqrestore(&t->lock, flags);
		return;	/* SIPIs outside wait-for-SIPI are ignored, as on hardware */
	}
	t->wait_sipi = false;
	online = vcpu_is_online(v);
	if (online) {
		t->sipi_pending = true;
		t->sipi_vector = vector;
	}
	spin_unlock_irqrestore(&t->lock, flags);
	if (online) {
		vlapic_notify(v);
		return;
	}
	/* Taken offline just now, it may still be leaving its last CPU. */
	while (sched_entity_on_cpu(&v->sched)) {
		arch_cpu_relax();
	}
	svm_vcpu_start_sipi(v, vector);
	(void)vcpu_online(v);	/* busy only if KEEL_HC_VCPU_UP raced us: it won */
}

static void deliver_one(struct vlapic *t, unsigned int mode, uint8_t vector, bool level)
{
	unsigned long flags;
	bool accepted = true;

	switch (mode) {
	case DM_FIXED:
	case DM_LOWEST:
		flags = spin_lock_irqsave(&t->lock);
		accepted = vlapic_accept_locked(t, vector, level);
		spin_unlock_irqrestore(&t->lock, flags);
		break;
	case DM_NMI:
		flags = spin_lock_irqsave(&t->lock);
		t->nmi_pending = true;
		spin_unlock_irqrestore(&t->lock, flags);
		break;
	case DM_INIT:
		if (t->init_sipi) {
			init_vcpu(t);
		}
		return;
	case DM_STARTUP:
		if (t->init_sipi) {
			sipi_vcpu(t, vector);
		}
		return;
	default:
		return;	/* SMI, ExtINT and reserved modes reach nothing here */
	}
	if (accepted) {
		vlapic_notify(t->vcpu);
	}
}

/*
 * Deliver to the APICs of @d that @shorthand (from @self) or @dest/@logical
 * address. Returns how many were addressed.
 */
static unsigned int deliver(struct domain *d, struct vlapic *self, unsigned int shorthand,
			    uint8_t dest, bool logical, unsigned int mode, uint8_t vector,
			    bool level)
{
	unsigned int count = 0;

	for (uint32_t i = 0; i < d->vcpu_count; i++) {
		struct vlapic *t;
		bool hit;

		if (!d->vcpus[i] || !d->vcpus[i]->arch) {
			continue;	/* still being created: nothing runs yet */
		}
		t = vlapic_of(d->vcpus[i]);

		switch (shorthand) {
		case SH_SELF:
			hit = t == self;
			break;
		case SH_ALL:
			hit = true;
			break;
		case SH_OTHERS:
			hit = t != self;
			break;
		default:
			hit = matches(t, dest, logical);
			break;
		}
		if (!hit) {
			continue;
		}
		deliver_one(t, mode, vector, level);
		count++;
		if (mode == DM_LOWEST) {
			break;
		}
	}
	return count;
}

void vlapic_send_ipi(struct vlapic *vl, uint32_t icr_lo, uint32_t icr_hi)
{
	unsigned int mode = (icr_lo >> 8) & 7;
	unsigned int shorthand = (icr_lo >> ICR_SHORTHAND_SHIFT) & 3;
	uint8_t vector = icr_lo & 0xff;
	unsigned long flags;

	if (mode == DM_INIT && (icr_lo & ICR_TRIGGER_LEVEL) && !(icr_lo & ICR_LEVEL_ASSERT)) {
		return;	/* INIT level de-assert: only old discrete APICs act on it */
	}
	if ((mode == DM_FIXED || mode == DM_LOWEST) && vector < 16) {
		flags = spin_lock_irqsave(&vl->lock);
		vlapic_error_locked(vl, ESR_SEND_ILLEGAL);
		spin_unlock_irqrestore(&vl->lock, flags);
		vlapic_notify(vl->vcpu);
		return;
	}
	if (shorthand == SH_SELF && mode != DM_FIXED) {
		return;	/* the self shorthand is defined for fixed IPIs only */
	}
	if (mode == DM_EXTINT || mode == 3 || mode == DM_SMI) {
		return;
	}
	/* IPIs are edges: the trigger bit matters only to INIT de-assert. */
	deliver(vl->vcpu->domain, vl, shorthand, (uint8_t)(icr_hi >> 24), icr_lo & ICR_LOGICAL,
		mode, vector, false);
}

bool vlapic_deliver(struct domain *d, uint8_t dest, bool logical, unsigned int mode,
		    uint8_t vector, bool level)
{
	return deliver(d, NULL, SH_NONE, dest, logical, mode, vector, level) != 0;
}

void vlapic_msi(struct domain *d, uint64_t addr, uint32_t data)
{
	if ((addr >> 20) != (KEEL_X86_GPA_LAPIC >> 20)) {
		return;	/* not an interrupt message: goes nowhere */
	}
	vlapic_deliver(d, (uint8_t)(addr >> 12), addr & MSI_ADDR_LOGICAL, (data >> 8) & 7,
		       data & 0xff, data & MSI_DATA_LEVEL);
}

enum vlapic_startup vlapic_startup(struct vcpu *v, uint8_t *vector)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	enum vlapic_startup what = VLAPIC_RUN;

	if (vl->init_pending) {
		vl->init_pending = false;
		what = VLAPIC_INIT;
	} else if (vl->sipi_pending) {
		vl->sipi_pending = false;
		*vector = vl->sipi_vector;
		what = VLAPIC_SIPI;
	} else if (vl->wait_sipi) {
		what = VLAPIC_WAIT;
	}
	spin_unlock_irqrestore(&vl->lock, flags);
	return what;
}

bool vlapic_sipi_waiting(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);
	bool waiting = vl->wait_sipi && !vl->init_pending && !vl->sipi_pending;

	spin_unlock_irqrestore(&vl->lock, flags);
	return waiting;
}

void vlapic_started(struct vcpu *v)
{
	struct vlapic *vl = vlapic_of(v);
	unsigned long flags = spin_lock_irqsave(&vl->lock);

	vl->wait_sipi = vl->init_pending = vl->sipi_pending = false;
	spin_unlock_irqrestore(&vl->lock, flags);
}
