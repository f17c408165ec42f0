/* SPDX-License-Identifier: MIT */
/*
 * svm/domain.c - the x86/SVM side of domains: nested page tables that
 * mirror the core's p2m, and a VMCB per vCPU.
 */
#include <arch/arch.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/options.h>
#include <keel/page_alloc.h>
#include <public/keel/errno.h>
#include <keel/string.h>
#include <x86/percpu.h>
#include <x86/svm.h>
#include <x86/svm_domain.h>
#include <x86/vplatform.h>

int arch_domain_create(struct domain *d)
{
	struct svm_domain *sd = heap_alloc(sizeof(*sd));

	if (!sd) {
		return -KEEL_ENOMEM;
	}
	memset(sd, 0, sizeof(*sd));
	sd->lock = (struct spinlock)SPINLOCK_INIT;
	if (!npt_init(&sd->npt)) {
		heap_free(sd);
		return -KEEL_ENOMEM;
	}
	d->arch = sd;
	return 0;
}

void arch_domain_destroy(struct domain *d)
{
	struct svm_domain *sd = d->arch;

	if (sd) {
		vplatform_destroy(d);
		npt_destroy(&sd->npt);
		heap_free(sd);
		d->arch = NULL;
	}
}

int arch_vcpu_create(struct vcpu *v)
{
	struct svm_vcpu *sv = heap_alloc(sizeof(*sv));

	if (!sv) {
		return -KEEL_ENOMEM;
	}
	memset(sv, 0, sizeof(*sv));
	sv->vmcb_pa = page_alloc(1);
	if (!sv->vmcb_pa) {
		heap_free(sv);
		return -KEEL_ENOMEM;
	}
	sv->vmcb = arch_phys_to_virt(sv->vmcb_pa);
	v->arch = sv;
	/* Only when asked for: the counters would double the vCPU's heap block. */
	if (options.exit_stats) {
		sv->exits = heap_alloc(sizeof(*sv->exits));
		if (!sv->exits) {
			arch_vcpu_destroy(v);
			return -KEEL_ENOMEM;
		}
		memset(sv->exits, 0, sizeof(*sv->exits));
	}
	if (svm_vcpu_init(v) != 0) {
		arch_vcpu_destroy(v);
		return -KEEL_ENOMEM;
	}
	/*
	 * The devices come with vCPU 0: the UART needs the domain's console,
	 * which the core creates after arch_domain_create().
	 */
	if (v->id == 0 && vplatform_create(v->domain) != 0) {
		arch_vcpu_destroy(v);
		return -KEEL_ENOMEM;
	}
	return 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *sv = v->arch;

	if (sv) {
		if (sv->exits) {
			exit_stats_report(v, sv->exits);
			heap_free(sv->exits);
		}
		vlapic_destroy(v);	/* stops its timer before the vCPU goes */
		svm_vcpu_forget(v);
		page_free(sv->vmcb_pa, 1);
		heap_free(sv);
		v->arch = NULL;
	}
}

static unsigned int npt_rights(uint32_t rights)
{
	return ((rights & GUEST_READ) ? NPT_READ : 0) | ((rights & GUEST_WRITE) ? NPT_WRITE : 0) |
	       ((rights & GUEST_EXEC) ? NPT_EXEC : 0);
}

int arch_p2m_set(struct domain *d, uint64_t gfn, paddr_t pa, unsigned int order,
		 uint32_t rights)
{
	return npt_map(&svm_domain(d)->npt, gfn << PAGE_SHIFT, pa, order, npt_rights(rights))
		       ? 0 : -KEEL_ENOMEM;
}

unsigned int arch_p2m_max_order(void)
{
	return svm_features.npt_1g ? NPT_HUGE_ORDER : NPT_LARGE_ORDER;
}

void arch_p2m_clear(struct domain *d, uint64_t gfn, unsigned int order)
{
	npt_unmap(&svm_domain(d)->npt, gfn << PAGE_SHIFT, order);
	svm_flush_domain(d);
}

/*
 * A mapping went away: no CPU may use a TLB entry for it once this
 * returns, because the page may be freed and reused. Bump the domain's
 * generation (each entry compares it and flushes its ASID) and wait for
 * every CPU that is in one of @d's guests with an older generation to
 * leave it; the kick's interrupt forces that exit. A CPU not in guest mode
 * needs nothing, whatever lock it spins on, so this cannot deadlock. One
 * that entered with a newer generation (another flush came meanwhile) has
 * flushed for ours too: waiting for it to leave could take a whole time
 * slice, spent spinning here with interrupts off.
 */
void svm_flush_domain(struct domain *d)
{
	struct svm_domain *sd = svm_domain(d);
	uint64_t gen = __atomic_add_fetch(&sd->npt_gen, 1, __ATOMIC_SEQ_CST);
	unsigned int self = arch_cpu_index();

	for (unsigned int i = 0; i < cpus_present; i++) {
		bool kicked = false;

		if (i == self) {
			continue;	/* we are not in guest mode */
		}
		while (__atomic_load_n(&cpus[i].guest_domain, __ATOMIC_SEQ_CST) == d &&
		       (int64_t)(__atomic_load_n(&cpus[i].guest_npt_gen, __ATOMIC_SEQ_CST) -
				 gen) < 0) {
			if (!kicked) {
				arch_cpu_kick(i);
				kicked = true;
			}
			arch_cpu_relax();
		}
	}
}
