/* SPDX-License-Identifier: MIT */
/*
 * svm/probe_guest.c - the boot self-test guest: proves the VM-entry path.
 *
 * Runs a small 32-bit test kernel (a boot module, tests/guest/probe) as a
 * domain of its own (core/domain.c) with 2 MiB of RAM, which the p2m maps
 * as one 2 MiB nested page where the allocator has one. Every I/O port access and
 * VMMCALL exits; Keel handles them and resumes the guest right after the
 * instruction, whose length comes from nrip-save when the CPU has it and
 * from Keel's own decoder when it does not. Port 0xe9 is the guest's
 * console. The guest ends with HLT. Anything else is a failure.
 *
 * The probe's VMMCALL protocol (EAX = PROBE_MAGIC, answered with
 * ~PROBE_MAGIC in EAX and the exit count in EBX) is private to this test;
 * the real hypercall ABI is docs/abi/.
 */
#include <arch/arch.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/elf.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/string.h>
#include <x86/insn.h>
#include <x86/percpu.h>
#include <x86/svm_domain.h>

#define PROBE_RAM_PAGES		512		/* 2 MiB */
#define PROBE_MAGIC		0x4b45454cu	/* "KEEL" */
#define PROBE_IN_PORT		0x80
#define PROBE_IN_VALUE		0x5a
#define CONSOLE_PORT		0xe9
#define MAX_EXITS		200000

struct probe {
	struct domain *d;
	struct svm_vcpu *sv;
	paddr_t iopm_pa, msrpm_pa;
	struct vmcb *vmcb;
	unsigned int exits, vmmcalls, outs, ins;
	bool decoder_used;
};

static void probe_free(struct probe *p)
{
	if (p->d) {
		domain_destroy(p->d);
		domain_put(p->d);
	}
	if (p->iopm_pa) {
		page_free(p->iopm_pa, 3);
	}
	if (p->msrpm_pa) {
		page_free(p->msrpm_pa, 2);
	}
	heap_free(p);
}

static bool probe_memory(struct probe *p, const void *image,
			 const struct elf_image *elf)
{
	struct domain_params params = {
		.name = "probe", .vcpu_count = 1, .max_pages = PROBE_RAM_PAGES,
	};

	if (domain_create(&params, &p->d) != 0 ||
	    guest_memory_populate(p->d, 0, PROBE_RAM_PAGES) != 0) {
		return false;
	}
	for (unsigned int s = 0; s < elf->segment_count; s++) {
		const struct elf_segment *seg = &elf->segments[s];

		/* The rest of memsz is already zero: pages come zeroed. */
		if (guest_copy_to(p->d, seg->paddr, (const uint8_t *)image + seg->offset,
				  seg->filesz) != 0) {
			return false;
		}
	}
	p->sv = svm_vcpu(p->d->vcpus[0]);
	/* 3 table pages: its 2 MiB of RAM is one large nested page. */
	log_info("probe guest: domain %u, nested page tables use %llu pages",
		 p->d->domid, (unsigned long long)svm_domain(p->d)->npt.table_pages);
	return true;
}

static void flat_segment(struct vmcb_segment *s, uint16_t sel, uint16_t attrib)
{
	*s = (struct vmcb_segment){ sel, attrib, 0xffffffffu, 0 };
}

static bool probe_vmcb(struct probe *p, uint32_t entry)
{
	struct vmcb_control *c;
	struct vmcb_save *s;

	p->iopm_pa = page_alloc_range(3, 1, 0);
	p->msrpm_pa = page_alloc_range(2, 1, 0);
	if (!p->iopm_pa || !p->msrpm_pa) {
		return false;
	}
	memset(arch_phys_to_virt(p->iopm_pa), 0xff, 3 * PAGE_SIZE);	/* all ports exit */
	memset(arch_phys_to_virt(p->msrpm_pa), 0xff, 2 * PAGE_SIZE);	/* all MSRs exit */
	p->vmcb = p->sv->vmcb;
	c = &p->vmcb->control;
	s = &p->vmcb->save;

	c->intercept_exceptions = 0xffffffffu;
	c->intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI |
			     INTERCEPT_INIT | INTERCEPT_CPUID | INTERCEPT_HLT |
			     INTERCEPT_INVLPGA | INTERCEPT_IOIO | INTERCEPT_MSR |
			     INTERCEPT_SHUTDOWN;
	c->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
			     INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
			     INTERCEPT_SKINIT | INTERCEPT_XSETBV;
	c->iopm_base_pa = p->iopm_pa;
	c->msrpm_base_pa = p->msrpm_pa;
	c->asid = 1;
	c->tlb_control = 1;	/* flush this ASID on entry */
	c->np_control = 1;
	c->n_cr3 = svm_domain(p->d)->npt.root;

	/* 32-bit flat protected mode, paging off, interrupts off. */
	flat_segment(&s->cs, 0x08, 0xc9b);
	flat_segment(&s->ds, 0x10, 0xc93);
	s->es = s->ss = s->fs = s->gs = s->ds;
	s->gdtr.limit = 0xffff;
	s->idtr.limit = 0xffff;
	s->tr = (struct vmcb_segment){ 0, 0x8b, 0xffff, 0 };
	s->ldtr = (struct vmcb_segment){ 0, 0x82, 0xffff, 0 };
	s->efer = 1ull << 12;	/* SVME must be set in the guest's EFER */
	s->cr0 = 0x11;		/* PE, ET */
	s->dr6 = 0xffff0ff0u;
	s->dr7 = 0x400;
	s->rflags = 0x2;
	s->rip = entry;
	s->rsp = (uint64_t)PROBE_RAM_PAGES << PAGE_SHIFT;
	s->g_pat = 0x0007040600070406ull;
	return true;
}

/* Read up to 15 instruction bytes at the guest's RIP (paging is off). */
static size_t fetch(struct probe *p, uint8_t *buf)
{
	uint64_t linear = (p->vmcb->save.cs.base + p->vmcb->save.rip) & 0xffffffffu;
	size_t n = 0;

	while (n < INSN_MAX_LEN && guest_copy_from(p->d, linear + n, &buf[n], 1) == 0) {
		n++;
	}
	return n;
}

/* Move RIP past the intercepted instruction; false if its length is unknown. */
static bool skip_instruction(struct probe *p)
{
	uint64_t rip = p->vmcb->save.rip;
	uint8_t bytes[INSN_MAX_LEN];
	int len;

	if (svm_features.nrip_save) {
		p->vmcb->save.rip = p->vmcb->control.next_rip;
		return true;
	}
	len = insn_length(bytes, fetch(p, bytes), CPU_MODE_32);
	if (len < 0) {
		log_err("probe guest: cannot decode the instruction at %#llx (error %d)",
			(unsigned long long)rip, len);
		return false;
	}
	p->decoder_used = true;
	p->vmcb->save.rip = rip + (uint64_t)len;
	return true;
}

/* The guest's console port feeds its domain's hypervisor console ("[d1 probe] ..."). */
static void console_byte(struct probe *p, char c)
{
	console_domain_output(p->d, &c, 1);
}

static bool handle_vmmcall(struct probe *p)
{
	uint64_t rip = p->vmcb->save.rip;

	if ((uint32_t)p->vmcb->save.rax != PROBE_MAGIC) {
		log_err("probe guest: VMMCALL with EAX %#llx, expected %#x",
			(unsigned long long)p->vmcb->save.rax, PROBE_MAGIC);
		return false;
	}
	p->vmmcalls++;
	p->vmcb->save.rax = (uint32_t)~PROBE_MAGIC;
	p->sv->gprs.rbx = p->exits;
	if (!skip_instruction(p)) {
		return false;
	}
	if (p->vmmcalls == 1) {
		log_info("probe guest: VMMCALL exit at %#llx handled, resuming at %#llx",
			 (unsigned long long)rip, (unsigned long long)p->vmcb->save.rip);
	}
	return true;
}

static bool handle_io(struct probe *p)
{
	uint64_t info = p->vmcb->control.exit_info1;
	uint16_t port = (uint16_t)(info >> IOIO_PORT_SHIFT);
	unsigned int size = (info >> IOIO_SIZE_SHIFT) & 7;	/* 1, 2 or 4 */
	uint64_t rip = p->vmcb->save.rip;

	if (info & IOIO_STRING) {
		log_err("probe guest: string I/O on port %#x is not supported", port);
		return false;
	}
	if (info & IOIO_IN) {
		uint64_t mask = (size == 4) ? 0xffffffffu : (size == 2) ? 0xffffu : 0xffu;
		uint64_t value = (port == PROBE_IN_PORT) ? PROBE_IN_VALUE : mask;

		p->vmcb->save.rax = (p->vmcb->save.rax & ~mask) | (value & mask);
		p->ins++;
	} else if (port == CONSOLE_PORT) {
		console_byte(p, (char)p->vmcb->save.rax);
		p->outs++;
	} else {
		p->outs++;
		log_info("probe guest: OUT exit: port %#x, %u byte(s), value %#llx at %#llx",
			 port, size, (unsigned long long)(p->vmcb->save.rax & 0xffffffffu),
			 (unsigned long long)rip);
	}
	if (!skip_instruction(p)) {
		return false;
	}
	/* The CPU gives the next RIP for I/O exits: check the decoder against it. */
	if (p->vmcb->save.rip != p->vmcb->control.exit_info2) {
		log_err("probe guest: instruction at %#llx: resumed at %#llx, CPU says %#llx",
			(unsigned long long)rip, (unsigned long long)p->vmcb->save.rip,
			(unsigned long long)p->vmcb->control.exit_info2);
		return false;
	}
	return true;
}

/* Handle one exit. Returns 1 to continue, 0 when the guest halted, -1 on failure. */
static int handle_exit(struct probe *p)
{
	struct vmcb_control *c = &p->vmcb->control;

	switch (c->exit_code) {
	case VMEXIT_VMMCALL:
		return handle_vmmcall(p) ? 1 : -1;
	case VMEXIT_IOIO:
		return handle_io(p) ? 1 : -1;
	case VMEXIT_INTR:
	case VMEXIT_NMI:
		/* Let the host take it now (GIF is set again after VMRUN). */
		__asm__ volatile("sti; nop; cli");
		return 1;
	case VMEXIT_HLT:
		return 0;
	default:
		log_err("probe guest: unexpected exit %#llx (info1 %#llx, info2 %#llx) at rip %#llx",
			(unsigned long long)c->exit_code, (unsigned long long)c->exit_info1,
			(unsigned long long)c->exit_info2,
			(unsigned long long)p->vmcb->save.rip);
		return -1;
	}
}

static int probe_run(struct probe *p)
{
	struct percpu *cpu = this_cpu();
	int r = 1;

	while (r == 1) {
		if (++p->exits > MAX_EXITS) {
			log_err("probe guest: more than %u exits; stopping it", MAX_EXITS);
			return -1;
		}
		svm_vmrun(&p->sv->gprs, p->sv->vmcb_pa, cpu->svm_host_vmcb_pa,
			  p->vmcb->control.interrupt_shadow & 1);
		p->vmcb->control.tlb_control = 0;
		r = handle_exit(p);
	}
	if (r < 0) {
		return -1;
	}
	if (p->vmmcalls == 0 || p->outs == 0 || p->ins == 0) {
		log_err("probe guest: halted after %u VMMCALL, %u OUT and %u IN exits; "
			"expected each at least once", p->vmmcalls, p->outs, p->ins);
		return -1;
	}
	log_info("probe guest: halted after %u exits (%u VMMCALL, %u OUT, %u IN), "
		 "instruction lengths from %s", p->exits, p->vmmcalls, p->outs, p->ins,
		 p->decoder_used ? "Keel's decoder (no nrip-save)" : "nrip-save");
	return 0;
}

int arch_run_probe_guest(const void *image, const struct elf_image *elf)
{
	struct probe *p;
	int result = -1;

	if (elf->is64 || elf->machine != 3 /* EM_386 */ ||
	    elf->highest > (uint64_t)PROBE_RAM_PAGES << PAGE_SHIFT ||
	    elf->entry >= (uint64_t)PROBE_RAM_PAGES << PAGE_SHIFT) {
		log_err("probe guest: must be a 32-bit x86 ELF that fits in %u KiB",
			PROBE_RAM_PAGES * 4);
		return -1;
	}
	p = heap_alloc(sizeof(*p));
	if (!p) {
		log_err("probe guest: out of memory");
		return -1;
	}
	if (probe_memory(p, image, elf) && probe_vmcb(p, (uint32_t)elf->entry)) {
		result = probe_run(p);
	} else {
		log_err("probe guest: out of memory");
	}
	probe_free(p);
	return result;
}
