/* SPDX-License-Identifier: MIT */
/*
 * svm/shutdown_report.c - what Keel logs about a vCPU that triple-faulted.
 *
 * A triple fault says only where the guest was (RIP), not why it could
 * not deliver an exception there. The usual causes are a stack, IDT or
 * GDT the CPU cannot reach, or an event Keel injected that the guest could
 * not take; this report names the registers those depend on, what was
 * being injected, and whether RIP, the stack and the IDT translate through
 * the guest's own page tables, so a crash log alone can tell them apart.
 */
#include <keel/format.h>
#include <keel/log.h>
#include <x86/guest_walk.h>
#include <x86/svm_domain.h>

/* How @linear translates: "gpa ...", "#PF error ..." or "a table outside its RAM". */
static void describe_walk(struct vcpu *v, const struct vmcb_save *s, uint64_t linear,
			  unsigned int flags, char *out, size_t size)
{
	struct guest_paging pg = { s->cr0, s->cr3, s->cr4, s->efer };
	uint64_t gpa = 0;
	uint32_t err = 0;
	int w = guest_walk(v->domain, &pg, linear, flags, &gpa, &err);

	if (w == WALK_OK) {
		format(out, size, "gpa %#llx", (unsigned long long)gpa);
	} else if (w == WALK_FAULT) {
		format(out, size, "#PF error %#x", err);
	} else {
		format(out, size, "a table outside its RAM");
	}
}

void svm_report_shutdown(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	const struct vmcb_save *s = &sv->vmcb->save;
	const struct vmcb_control *c = &sv->vmcb->control;
	char rip_at[40], rsp_at[40], idt_at[40];
	uint64_t top = 0;

	describe_walk(v, s, s->rip, WALK_FETCH, rip_at, sizeof(rip_at));
	describe_walk(v, s, s->rsp - 8, WALK_WRITE, rsp_at, sizeof(rsp_at));
	describe_walk(v, s, s->idtr.base, 0, idt_at, sizeof(idt_at));
	log_err("domain %u vCPU %u shutdown: RIP %#llx (%s) RSP %#llx (%s) RFLAGS %#llx "
		"CS %#x/%#x SS %#x/%#x CPL %u", v->domain->domid, v->id,
		(unsigned long long)s->rip, rip_at, (unsigned long long)s->rsp, rsp_at,
		(unsigned long long)s->rflags, s->cs.selector, s->cs.attrib, s->ss.selector,
		s->ss.attrib, s->cpl);
	log_err("domain %u vCPU %u shutdown: CR0 %#llx CR3 %#llx CR4 %#llx EFER %#llx "
		"GDT %#llx/%#x IDT %#llx/%#x (%s)", v->domain->domid, v->id,
		(unsigned long long)s->cr0, (unsigned long long)s->cr3,
		(unsigned long long)s->cr4, (unsigned long long)s->efer,
		(unsigned long long)s->gdtr.base, s->gdtr.limit,
		(unsigned long long)s->idtr.base, s->idtr.limit, idt_at);
	if (guest_read_linear(v->domain, &(struct guest_paging){ s->cr0, s->cr3, s->cr4, s->efer },
			      s->rsp, &top, sizeof(top)) != sizeof(top)) {
		top = ~0ull;	/* unreadable */
	}
	log_err("domain %u vCPU %u shutdown: injected at entry %#llx, interrupted event %#llx, "
		"shadow %llu, vintr %#llx, [RSP] %#llx", v->domain->domid, v->id,
		(unsigned long long)sv->last_event_inject, (unsigned long long)c->exit_int_info,
		(unsigned long long)(c->interrupt_shadow & 1), (unsigned long long)c->vintr,
		(unsigned long long)top);
}
