/* SPDX-License-Identifier: MIT */
/*
 * svm/vcpu.c - running a vCPU on SVM: VMCB set-up, boot state, ASIDs, the
 * state VMRUN does not switch (FPU, DR0-3, TSC_AUX), event injection and
 * the entry/exit loop.
 *
 * ASIDs are per CPU: each CPU hands them out in generations; when it runs
 * out (QEMU's TCG offers 16) it starts a new generation and flushes its
 * whole TLB once, so any number of vCPUs share any number of ASIDs.
 */
#include <arch/arch.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/schedule.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <keel/evtchn.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/start_info.h>
#include <x86/cpu.h>
#include <x86/linux_boot.h>
#include <x86/msr.h>
#include <x86/percpu.h>
#include <x86/smp.h>
#include <x86/svm_domain.h>
#include <x86/vdevices.h>
#include <x86/vplatform.h>

#define PAT_RESET		0x0007040600070406ull
#define MTRR_DEF_RESET		0x806ull	/* enabled, default write-back */
#define MSR_TSC_AUX		0xc0000103u

#define SEG_CODE64		0xa9b	/* P, S, code exec/read accessed, L, G */
#define SEG_CODE32		0xc9b	/* P, S, code exec/read accessed, D, G */
#define SEG_DATA		0xc93	/* P, S, data read/write accessed, D/B, G */
#define SEG_TSS_BUSY		0x08b
#define SEG_LDT			0x082
#define SEG_REAL_CODE		0x09b	/* P, S, code exec/read accessed */
#define SEG_REAL_DATA		0x093	/* P, S, data read/write accessed */
#define CR0_CD			(1ull << 30)
#define CR0_NW			(1ull << 29)
#define RFLAGS_IF		(1ull << 9)

#define GDT_CODE64		0x00af9b000000ffffull
#define GDT_CODE32		0x00cf9b000000ffffull
#define GDT_DATA		0x00cf93000000ffffull

static paddr_t iopm_pa, msrpm_pa;	/* shared by every vCPU: everything exits */
static bool have_rdtscp;

/* Once, when SVM is enabled: they live as long as Keel. */
bool svm_permission_maps_init(void)
{
	if (iopm_pa) {
		return true;
	}
	iopm_pa = page_alloc_range(3, 1, 0);
	msrpm_pa = page_alloc_range(2, 1, 0);
	if (!iopm_pa || !msrpm_pa) {
		return false;	/* the pages stay for the next try: no leak per call */
	}
	memset(arch_phys_to_virt(iopm_pa), 0xff, 3 * PAGE_SIZE);
	memset(arch_phys_to_virt(msrpm_pa), 0xff, 2 * PAGE_SIZE);
	have_rdtscp = cpuid(0x80000001u, 0).edx & (1u << 27);
	return true;
}

/* Intercepts and fixed control state; the guest's registers come later. */
void svm_vcpu_reset(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_control *c = &sv->vmcb->control;
	struct vmcb_save *s = &sv->vmcb->save;

	memset(sv->vmcb, 0, sizeof(*sv->vmcb));
	/* #DB and #AC are reflected, so a guest cannot wedge a CPU in an exception loop. */
	c->intercept_exceptions = (1u << 1) | (1u << 17);
	/* CR4 writes are checked against the features CPUID offers. */
	/* CR8 writes exit too: the TPR lives in the vLAPIC (CR8 reads see V_TPR). */
	c->intercept_cr = INTERCEPT_CR4_WRITE | INTERCEPT_CR8_WRITE;
	c->intercept_misc1 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT |
			     INTERCEPT_RDPMC | INTERCEPT_CPUID | INTERCEPT_INVD |
			     INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO |
			     INTERCEPT_MSR | INTERCEPT_SHUTDOWN;
	c->intercept_misc2 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
			     INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
			     INTERCEPT_SKINIT | INTERCEPT_WBINVD | INTERCEPT_MONITOR |
			     INTERCEPT_MWAIT | INTERCEPT_MWAIT_COND | INTERCEPT_XSETBV;
	c->iopm_base_pa = iopm_pa;
	c->msrpm_base_pa = msrpm_pa;
	c->np_control = 1;
	c->n_cr3 = svm_domain(v->domain)->npt.root;
	c->vintr = V_INTR_MASKING;	/* host interrupts stay the host's */

	s->g_pat = PAT_RESET;
	s->dr6 = 0xffff0ff0u;
	s->dr7 = 0x400;
	s->rflags = 0x2;
	s->efer = EFER_SVME;		/* VMRUN requires it; guests never see it */
	s->tr = (struct vmcb_segment){ 0, SEG_TSS_BUSY, 0x67, 0 };
	s->ldtr = (struct vmcb_segment){ 0, SEG_LDT, 0xffff, 0 };

	/* FXSAVE image of a reset FPU: FCW 0x37f, MXCSR 0x1f80. */
	memset(sv->fpu, 0, sizeof(sv->fpu));
	sv->fpu[0] = 0x7f;
	sv->fpu[1] = 0x03;
	sv->fpu[24] = 0x80;
	sv->fpu[25] = 0x1f;
	memset(sv->dr, 0, sizeof(sv->dr));
	sv->tsc_aux = v->id;
	sv->mtrr_def_type = MTRR_DEF_RESET;
	memset(sv->mtrr_var, 0, sizeof(sv->mtrr_var));
	memset(sv->mtrr_fixed, 0, sizeof(sv->mtrr_fixed));
	sv->asid_cpu = -1;
	sv->ready = false;
	sv->nmi_masked = false;
	sv->hypercall_waits = false;	/* no call of the old state is resumed */
	/* The APIC's reset state: software-disabled (SVR 0xff), every LVT masked. */
	if (sv->vlapic) {
		vlapic_reset(v);
	}
}

int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);

	if (!iopm_pa || vlapic_create(v) != 0) {
		return -KEEL_ENOMEM;
	}
	sv->running_cpu = -1;
	svm_vcpu_reset(v);
	return 0;
}

static void flat(struct vmcb_segment *seg, uint16_t sel, uint16_t attrib)
{
	*seg = (struct vmcb_segment){ sel, attrib, 0xffffffffu, 0 };
}

/*
 * 64-bit boot tables in @e's scratch area: a GDT page (@descriptors, @count
 * of them), then a PML4, one PDPT and one page directory per GiB of
 * [0, map_limit), with 2 MiB pages.
 */
static int long64_tables(struct domain *d, const struct arch_boot_entry *e,
			 const uint64_t *descriptors, size_t count, uint64_t *cr3, uint64_t *gdt)
{
	uint64_t gib = (e->map_limit + (1ull << 30) - 1) >> 30;
	uint64_t need = (3 + gib) * PAGE_SIZE;
	uint64_t base = e->scratch_gpa;
	uint64_t pml4e, pdpt[512] = { 0 };

	if (gib == 0 || gib > 512 || e->scratch_size < need) {
		return -KEEL_EINVAL;
	}
	if (guest_copy_to(d, base, descriptors, count * sizeof(*descriptors)) != 0) {
		return -KEEL_EFAULT;
	}
	/* Accessed (and dirty) preset: see svm/npt.c for why nothing should write them back. */
	pml4e = (base + 2 * PAGE_SIZE) | 0x23;	/* present, writable, accessed */
	if (guest_copy_to(d, base + PAGE_SIZE, &pml4e, sizeof(pml4e)) != 0) {
		return -KEEL_EFAULT;
	}
	for (uint64_t g = 0; g < gib; g++) {
		uint64_t pd_gpa = base + (3 + g) * PAGE_SIZE;

		pdpt[g] = pd_gpa | 0x23;
		for (unsigned int i = 0; i < 512; i++) {
			uint64_t pde = ((g << 30) + ((uint64_t)i << 21)) | 0xe3;	/* P, W, A, D, PS */

			if (guest_copy_to(d, pd_gpa + i * 8, &pde, 8) != 0) {
				return -KEEL_EFAULT;
			}
		}
	}
	if (guest_copy_to(d, base + 2 * PAGE_SIZE, pdpt, sizeof(pdpt)) != 0) {
		return -KEEL_EFAULT;
	}
	*gdt = base;
	*cr3 = base + PAGE_SIZE;
	return 0;
}

/*
 * Linux's 64-bit boot protocol (docs/abi/boot.md): its GDT has the code
 * segment at 0x10 and data at 0x18, RSI holds the zero page, no stack.
 */
static int boot_linux64(struct vcpu *v, const struct arch_boot_entry *e)
{
	static const uint64_t descriptors[4] = { 0, 0, GDT_CODE64, GDT_DATA };
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	uint64_t cr3 = 0, gdt = 0;
	int rc = long64_tables(v->domain, e, descriptors, ARRAY_SIZE(descriptors), &cr3, &gdt);

	if (rc != 0) {
		return rc;
	}
	flat(&s->cs, 0x10, SEG_CODE64);
	flat(&s->ds, 0x18, SEG_DATA);
	s->es = s->ss = s->fs = s->gs = s->ds;
	s->cr0 = CR0_PE | CR0_ET | (1ull << 5) /* NE */ | CR0_PG;
	s->cr4 = CR4_PAE;
	s->cr3 = cr3;
	s->efer = EFER_SVME | EFER_LME | EFER_LMA;
	s->gdtr = (struct vmcb_segment){ 0, 0, sizeof(descriptors) - 1, gdt };
	sv->gprs.rsi = e->boot_info_gpa;
	return 0;
}

/*
 * The PVH boot ABI: 32-bit flat, paging off, EBX = hvm_start_info; TR
 * stays the 32-bit TSS of the reset state (base 0, limit 0x67).
 */
static int boot_pvh(struct vcpu *v, const struct arch_boot_entry *e)
{
	static const uint64_t descriptors[3] = { 0, GDT_CODE32, GDT_DATA };
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;

	if (e->entry > 0xffffffffu || e->boot_info_gpa > 0xffffffffu ||
	    e->scratch_size < PAGE_SIZE ||
	    guest_copy_to(v->domain, e->scratch_gpa, descriptors, sizeof(descriptors)) != 0) {
		return -KEEL_EINVAL;
	}
	flat(&s->cs, 0x08, SEG_CODE32);
	flat(&s->ds, 0x10, SEG_DATA);
	s->es = s->ss = s->fs = s->gs = s->ds;
	s->cr0 = CR0_PE | CR0_ET;
	s->gdtr = (struct vmcb_segment){ 0, 0, sizeof(descriptors) - 1, e->scratch_gpa };
	sv->gprs.rbx = e->boot_info_gpa;
	return 0;
}

int arch_vcpu_boot(struct vcpu *v, const struct arch_boot_entry *e)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	uint64_t descriptors[3] = { 0, GDT_CODE32, GDT_DATA };
	uint64_t long_descriptors[3] = { 0, GDT_CODE64, GDT_DATA };
	uint64_t cr3 = 0, gdt = 0;
	int rc;

	svm_vcpu_reset(v);
	memset(&sv->gprs, 0, sizeof(sv->gprs));
	s->rax = 0;
	if (e->mode == X86_ENTRY_PVH || e->mode == X86_ENTRY_LINUX64) {
		rc = e->mode == X86_ENTRY_PVH ? boot_pvh(v, e) : boot_linux64(v, e);
		if (rc != 0) {
			return rc;
		}
		s->idtr = (struct vmcb_segment){ 0, 0, 0, 0 };
		s->rip = e->entry;
		s->rsp = 0;
		sv->ready = true;
		return 0;
	}
	if (e->mode == KEEL_ENTRY_MODE_LONG64) {
		rc = long64_tables(v->domain, e, long_descriptors, ARRAY_SIZE(long_descriptors),
				   &cr3, &gdt);
		if (rc != 0) {
			return rc;
		}
		flat(&s->cs, 0x08, SEG_CODE64);
		s->cr0 = CR0_PE | CR0_MP | CR0_ET | (1ull << 5) /* NE */ | CR0_WP | CR0_PG;
		s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
		s->cr3 = cr3;
		s->efer = EFER_SVME | EFER_LME | EFER_LMA | EFER_NXE;
		sv->gprs.rdi = e->boot_info_gpa;
	} else if (e->mode == KEEL_ENTRY_MODE_FLAT32) {
		if (e->entry > 0xffffffffu || e->scratch_size < PAGE_SIZE ||
		    guest_copy_to(v->domain, e->scratch_gpa, descriptors, sizeof(descriptors)) != 0) {
			return -KEEL_EINVAL;
		}
		gdt = e->scratch_gpa;
		flat(&s->cs, 0x08, SEG_CODE32);
		s->cr0 = CR0_PE | CR0_ET;
		sv->gprs.rbx = e->boot_info_gpa;
	} else {
		return -KEEL_EINVAL;
	}
	flat(&s->ds, 0x10, SEG_DATA);
	s->es = s->ss = s->fs = s->gs = s->ds;
	s->gdtr = (struct vmcb_segment){ 0, 0, 3 * 8 - 1, gdt };
	s->idtr = (struct vmcb_segment){ 0, 0, 0, 0 };
	s->rip = e->entry;
	s->rsp = e->stack_top;
	sv->ready = true;
	return 0;
}

#define CR0_RESERVED	0xffffffff1ffaffc0ull	/* all but PE MP EM TS ET NE WP AM NW CD PG */
#define CR4_RESERVED	(~0x3707ffull)		/* beyond the bits Keel may ever allow */
#define EFER_ALLOWED	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define RFLAGS_RESERVED	0xffffffffffc08028ull	/* bits 3, 5, 15, 22-63 are zero, bit 1 one */

static void load_segment(struct vmcb_segment *dst, const struct keel_x86_segment *src)
{
	*dst = (struct vmcb_segment){ src->selector, src->attr, src->limit, src->base };
}

/*
 * KEEL_HC_VCPU_UP with a context (keel/arch-x86_64.h): every rule of the
 * header is checked on Keel's copy, so the CPU is never handed a state it
 * would refuse (VMRUN fails) or a guest could not have reached itself.
 */
int arch_vcpu_load_context(struct vcpu *v, struct domain *from, uint64_t gpa)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	struct keel_x86_vcpu_context c;
	bool long_mode;
	paddr_t pa;
	uint32_t rights;

	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(c)) ||
	    guest_copy_from(from, gpa, &c, sizeof(c)) != 0) {
		return -KEEL_EFAULT;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(c.reserved); i++) {
		if (c.reserved[i]) {
			return -KEEL_EINVAL;
		}
	}
	long_mode = (c.efer & EFER_LME) && (c.cr0 & CR0_PG);
	if ((c.cr0 & CR0_RESERVED) || (c.cr4 & CR4_RESERVED) || (c.efer & ~EFER_ALLOWED) ||
	    (c.rflags & RFLAGS_RESERVED) || !(c.rflags & 2) ||
	    ((c.cr0 & CR0_PG) && !(c.cr0 & CR0_PE)) || (long_mode && !(c.cr4 & CR4_PAE)) ||
	    c.gdtr.limit > 0xffff || c.idtr.limit > 0xffff || c.gdtr.pad0 || c.idtr.pad0) {
		return -KEEL_EINVAL;
	}
	if (long_mode && (!is_canonical(c.rip) || !is_canonical(c.fs.base) ||
			  !is_canonical(c.gs.base) || !is_canonical(c.gdtr.base) ||
			  !is_canonical(c.idtr.base) || !is_canonical(c.kernel_gs_base) ||
			  !is_canonical(c.tr.base))) {
		return -KEEL_EINVAL;
	}
	if ((c.cr0 & CR0_PG) &&
	    !guest_memory_translate(v->domain, (c.cr3 & ~0xfffull) >> PAGE_SHIFT, &pa, &rights)) {
		return -KEEL_EINVAL;
	}
	svm_vcpu_reset(v);
	vlapic_started(v);	/* a context replaces any wait for SIPI */
	sv->gprs = (struct svm_gprs){
		.rbx = c.rbx, .rcx = c.rcx, .rdx = c.rdx, .rsi = c.rsi, .rdi = c.rdi, .rbp = c.rbp,
		.r8 = c.r8, .r9 = c.r9, .r10 = c.r10, .r11 = c.r11, .r12 = c.r12, .r13 = c.r13,
		.r14 = c.r14, .r15 = c.r15,
	};
	s->rax = c.rax;
	s->rsp = c.rsp;
	s->rip = c.rip;
	s->rflags = c.rflags;
	s->cr0 = c.cr0;
	s->cr2 = c.cr2;
	s->cr3 = c.cr3;
	s->cr4 = c.cr4;
	s->efer = (c.efer & ~EFER_LMA) | (long_mode ? EFER_LMA : 0) | EFER_SVME;
	s->g_pat = c.pat ? c.pat : PAT_RESET;
	load_segment(&s->cs, &c.cs);
	load_segment(&s->ds, &c.ds);
	load_segment(&s->es, &c.es);
	load_segment(&s->fs, &c.fs);
	load_segment(&s->gs, &c.gs);
	load_segment(&s->ss, &c.ss);
	load_segment(&s->tr, &c.tr);
	load_segment(&s->ldtr, &c.ldtr);
	s->gdtr = (struct vmcb_segment){ 0, 0, c.gdtr.limit, c.gdtr.base };
	s->idtr = (struct vmcb_segment){ 0, 0, c.idtr.limit, c.idtr.base };
	s->kernel_gs_base = c.kernel_gs_base;
	s->cpl = (uint8_t)((c.ss.attr >> 5) & 3);
	sv->ready = true;
	return 0;
}

/* Give @v an ASID valid on this CPU; returns the TLB flush it needs. */
static uint8_t assign_asid(struct percpu *cpu, struct svm_vcpu *sv)
{
	uint8_t flush = TLB_FLUSH_NONE;

	if (sv->asid_cpu == (int)cpu->index && sv->asid_gen == cpu->asid_gen && cpu->asid_gen) {
		return flush;
	}
	if (cpu->asid_next == 0 || cpu->asid_next >= svm_features.asid_count) {
		cpu->asid_gen++;
		cpu->asid_next = 1;	/* ASID 0 is the host's */
		flush = TLB_FLUSH_ALL;
	} else {
		flush = TLB_FLUSH_ASID;
	}
	sv->asid = cpu->asid_next++;
	sv->asid_cpu = (int)cpu->index;
	sv->asid_gen = cpu->asid_gen;
	return flush;
}

static void fxsave(uint8_t *area)
{
	__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t (*)[512])area));
}

static void fxrstor(uint8_t *area)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(*(uint8_t (*)[512])area));
}

#define DR_ACCESS(n)								\
	static uint64_t read_dr##n(void)					\
	{									\
		uint64_t v;							\
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));		\
		return v;							\
	}									\
	static void write_dr##n(uint64_t v)					\
	{									\
		__asm__ volatile("mov %0, %%db" #n : : "r"(v));			\
	}
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)

/* Put the FPU and DR0-3 of the vCPU loaded on this CPU back into its svm_vcpu. */
static void save_extended_state(struct percpu *cpu)
{
	struct vcpu *owner = cpu->fpu_owner;
	struct svm_vcpu *o;

	if (!owner) {
		return;
	}
	o = svm_vcpu(owner);
	fxsave(o->fpu);
	o->dr[0] = read_dr0();
	o->dr[1] = read_dr1();
	o->dr[2] = read_dr2();
	o->dr[3] = read_dr3();
	cpu->fpu_owner = NULL;
}

/*
 * Load @v's FPU, DR0-3 and TSC_AUX unless they are loaded here already.
 * Keel itself never uses them, so they stay in the registers for all of
 * one run of @v on this CPU; arch_vcpu_run() saves them when @v leaves.
 * They cannot stay loaded longer: @v may next run on another CPU, which
 * would load a stale copy while this CPU later saved its registers over
 * newer state (or skipped loading a reset state after VCPU_UP).
 */
static void switch_extended_state(struct percpu *cpu, struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);

	if (cpu->fpu_owner == v) {
		return;
	}
	save_extended_state(cpu);	/* none: every run saves when it ends */
	fxrstor(sv->fpu);
	write_dr0(sv->dr[0]);
	write_dr1(sv->dr[1]);
	write_dr2(sv->dr[2]);
	write_dr3(sv->dr[3]);
	if (have_rdtscp) {
		wrmsr(MSR_TSC_AUX, sv->tsc_aux);
	}
	cpu->fpu_owner = v;
}

/* A destroyed vCPU's state must not be saved later into freed memory. */
void svm_vcpu_forget(struct vcpu *v)
{
	for (unsigned int i = 0; i < cpus_present; i++) {
		struct vcpu *expected = v;

		__atomic_compare_exchange_n(&cpus[i].fpu_owner, &expected, NULL, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
}

uint64_t *svm_gpr(struct svm_vcpu *sv, unsigned int n)
{
	struct svm_gprs *g = &sv->gprs;
	uint64_t *map[16] = {
		&sv->vmcb->save.rax, &g->rcx, &g->rdx, &g->rbx, &sv->vmcb->save.rsp, &g->rbp,
		&g->rsi, &g->rdi, &g->r8, &g->r9, &g->r10, &g->r11, &g->r12, &g->r13,
		&g->r14, &g->r15,
	};

	return map[n & 15];
}

void svm_inject_exception(struct svm_vcpu *sv, unsigned int vector, bool has_error,
			  uint32_t error_code)
{
	sv->vmcb->control.event_inject = EVENT_VALID |
		((uint64_t)EVENT_TYPE_EXCEPTION << EVENT_TYPE_SHIFT) | vector |
		(has_error ? EVENT_ERROR_VALID | ((uint64_t)error_code << 32) : 0);
}

/*
 * An upcall raised since the last entry becomes an interrupt of its mode:
 * KEEL_UPCALL_VECTOR an edge on the vLAPIC, exactly like an MSI
 * (docs/abi/hypercalls.md "Upcall delivery modes"); KEEL_UPCALL_PLATFORM
 * the platform device's MSI-X, MSI or INTx. Done here rather than in
 * arch_vcpu_notify(), whose caller holds the event-channel lock that
 * evtchn_vcpu_upcall() takes.
 */
static void deliver_upcall(struct vcpu *v, struct svm_vcpu *sv)
{
	uint32_t mode, vector;

	if (!__atomic_exchange_n(&sv->upcall_inject, false, __ATOMIC_SEQ_CST) ||
	    evtchn_vcpu_upcall(v->domain->evtchn, v->id, &mode, &vector) != 0) {
		return;
	}
	if (mode == KEEL_UPCALL_VECTOR) {
		vlapic_set_irq(v, (uint8_t)vector, false);
	} else if (mode == KEEL_UPCALL_PLATFORM && vplatform_of(v->domain)->pci) {
		vpci_upcall(v, vector);
	}
}

/*
 * Before entry, interrupts off: inject a pending NMI, and offer the
 * highest-priority deliverable vLAPIC vector as the VMCB's virtual
 * interrupt (V_IRQ), which the CPU delivers as soon as the guest can take
 * it (RFLAGS.IF, no STI/MOV SS shadow, after any injected event). The
 * vector stays in the IRR until settle_virtual_interrupt() sees it
 * taken. V_TPR mirrors the vLAPIC's TPR for the guest's CR8 reads.
 *
 * Why not EVENTINJ for interrupts, as for NMIs and exceptions: QEMU's TCG
 * (7.2 to 10.0) delivers an injected external interrupt at VMRUN but leaves
 * it recorded as the CPU's pending exception, and delivers it a second
 * time at its next exit from translated code that is not a #VMEXIT (any
 * kick of that CPU), whatever RFLAGS.IF says: a Linux guest then took its
 * timer interrupt inside its page-fault entry before SWAPGS, ran on the
 * user's GS base and died. The virtual-interrupt path leaves nothing
 * behind, and hardware delivers it the same way.
 */
static void inject_interrupts(struct vcpu *v, struct svm_vcpu *sv)
{
	struct vmcb_control *c = &sv->vmcb->control;
	int vector;

	c->vintr = (c->vintr & ~(V_IRQ | V_IGN_TPR | V_TPR_MASK | (0xfull << V_INTR_PRIO_SHIFT) |
				 (0xffull << V_INTR_VECTOR_SHIFT))) |
		   (vlapic_tpr(v) >> 4);
	if (!(c->event_inject & EVENT_VALID) && !sv->nmi_masked && vlapic_take_nmi(v)) {
		/* NMIs stay blocked until the handler's IRET (intercepted). */
		c->event_inject = EVENT_VALID | ((uint64_t)EVENT_TYPE_NMI << EVENT_TYPE_SHIFT) | 2;
		sv->nmi_masked = true;
		c->intercept_misc1 |= INTERCEPT_IRET;
	}
	vector = vlapic_pending_vector(v);
	if (vector >= 0) {
		c->vintr |= V_IRQ | V_IGN_TPR | (0xfull << V_INTR_PRIO_SHIFT) |
			    ((uint64_t)vector << V_INTR_VECTOR_SHIFT);
	}
}

/*
 * After an exit: the vector inject_interrupts() offered (V_INTR_VECTOR, 0
 * when it offered none: vLAPIC vectors start at 16) was taken if the CPU
 * cleared V_IRQ and the exit did not interrupt its delivery; it then moves
 * from the IRR to the ISR. Otherwise it stays requested and is offered
 * again at the next entry.
 */
static void settle_virtual_interrupt(struct vcpu *v, struct svm_vcpu *sv)
{
	const struct vmcb_control *c = &sv->vmcb->control;
	uint8_t vector = (uint8_t)(c->vintr >> V_INTR_VECTOR_SHIFT);
	bool interrupted = (c->exit_int_info & EVENT_VALID) &&
			   ((c->exit_int_info & EVENT_TYPE_MASK) >> EVENT_TYPE_SHIFT) == EVENT_TYPE_INTR;

	if (vector && !(c->vintr & V_IRQ) && !interrupted) {
		vlapic_ack(v, vector);
	}
}

/*
 * An event the exit interrupted (exit_int_info) is delivered again, unless
 * re-executing the instruction raises it anyway (INT n, INT3, INTO). An
 * interrupted external interrupt can only be the virtual interrupt, still
 * in the IRR: it is offered again as V_IRQ, not injected.
 */
static void requeue_interrupted_event(struct svm_vcpu *sv)
{
	struct vmcb_control *c = &sv->vmcb->control;
	uint64_t info = c->exit_int_info;
	uint64_t type = (info & EVENT_TYPE_MASK) >> EVENT_TYPE_SHIFT;
	unsigned int vector = info & 0xff;

	c->event_inject = 0;
	if (!(info & EVENT_VALID) || type == EVENT_TYPE_SOFT_INT || type == EVENT_TYPE_INTR ||
	    (type == EVENT_TYPE_EXCEPTION && (vector == 3 || vector == 4))) {
		return;
	}
	c->event_inject = info;
}

void svm_vcpu_kick(struct vcpu *v)
{
	int cpu = __atomic_load_n(&svm_vcpu(v)->running_cpu, __ATOMIC_SEQ_CST);

	if (cpu >= 0 && cpu != (int)arch_cpu_index()) {
		arch_cpu_kick((unsigned int)cpu);
	}
}

void arch_vcpu_notify(struct vcpu *v)
{
	__atomic_store_n(&svm_vcpu(v)->upcall_inject, true, __ATOMIC_SEQ_CST);
	svm_vcpu_kick(v);
}

/*
 * The state after INIT and SIPI (AMD APM 14.1.3, Intel SDM 9.1.1): real
 * mode at CS = @vector << 8, IP 0, caches as after reset. SVM runs real
 * mode as it is under nested paging.
 */
void svm_vcpu_start_sipi(struct vcpu *v, uint8_t vector)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	struct vmcb_segment data = { 0, SEG_REAL_DATA, 0xffff, 0 };

	svm_vcpu_reset(v);
	memset(&sv->gprs, 0, sizeof(sv->gprs));
	s->rax = 0;
	sv->gprs.rdx = cpuid(1, 0).eax;	/* the processor signature, as after reset */
	s->cs = (struct vmcb_segment){ (uint16_t)(vector << 8), SEG_REAL_CODE, 0xffff,
				       (uint64_t)vector << 12 };
	s->ds = s->es = s->ss = s->fs = s->gs = data;
	s->gdtr = (struct vmcb_segment){ 0, 0, 0xffff, 0 };
	s->idtr = (struct vmcb_segment){ 0, 0, 0xffff, 0 };
	s->cr0 = CR0_ET | CR0_CD | CR0_NW;
	s->cr3 = 0;
	s->cr4 = 0;
	s->rip = 0;
	s->rsp = 0;
	s->cpl = 0;
	vlapic_started(v);
	sv->ready = true;
}

/*
 * INIT and SIPI of @v while it is online (vlapic_ipi.c): false when it
 * has nothing to run yet and blocked, waiting for a SIPI.
 */
static bool startup(struct percpu *cpu, struct vcpu *v)
{
	uint8_t vector = 0;

	for (;;) {
		switch (vlapic_startup(v, &vector)) {
		case VLAPIC_INIT:
			save_extended_state(cpu);	/* the reset FPU image must be loaded */
			svm_vcpu_reset(v);
			continue;
		case VLAPIC_SIPI:
			save_extended_state(cpu);
			svm_vcpu_start_sipi(v, vector);
			return true;
		case VLAPIC_WAIT:
			sched_block(&v->sched, arch_time_ns());
			if (!vlapic_sipi_waiting(v)) {
				sched_wake(&v->sched, arch_time_ns());
			}
			return false;
		default:
			return true;
		}
	}
}

void arch_vcpu_run(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct svm_domain *sd = svm_domain(v->domain);
	struct percpu *cpu = this_cpu();
	struct vmcb_control *c = &sv->vmcb->control;

	__atomic_store_n(&sv->running_cpu, (int)cpu->index, __ATOMIC_SEQ_CST);
	for (;;) {
		enum exit_reason why;
		uint8_t flush;
		uint64_t gen, t0;

		if (!startup(cpu, v)) {
			break;	/* in wait-for-SIPI */
		}
		if (!sv->ready) {
			domain_crash(v->domain, "vCPU %u has no registers to start from", v->id);
			break;
		}
		if (svm_resume_hypercall(v)) {
			if (sched_need_resched(cpu->index)) {
				break;	/* it blocked again, or another vCPU is due */
			}
			continue;
		}
		vlapic_before_entry(v);
		cli();
		if (resched_unwatch(cpu)) {
			resched_watch(cpu);	/* back to the scheduler, which looks */
			sti();
			break;
		}
		switch_extended_state(cpu, v);
		flush = assign_asid(cpu, sv);
		/* Publish that we enter before reading the generation (svm_flush_domain). */
		__atomic_store_n(&cpu->guest_domain, v->domain, __ATOMIC_SEQ_CST);
		gen = __atomic_load_n(&sd->npt_gen, __ATOMIC_SEQ_CST);
		if ((gen != sv->npt_gen_seen || sv->flush_asid) && flush == TLB_FLUSH_NONE) {
			flush = TLB_FLUSH_ASID;
		}
		sv->flush_asid = false;
		sv->npt_gen_seen = gen;
		__atomic_store_n(&cpu->guest_npt_gen, gen, __ATOMIC_SEQ_CST);
		c->asid = sv->asid;
		c->tlb_control = flush;
		deliver_upcall(v, sv);
		inject_interrupts(v, sv);
		sv->last_event_inject = c->event_inject;

		svm_vmrun(&sv->gprs, sv->vmcb_pa, cpu->svm_host_vmcb_pa, c->interrupt_shadow & 1);

		__atomic_store_n(&cpu->guest_domain, NULL, __ATOMIC_SEQ_CST);
		resched_watch(cpu);	/* the loop looks at the flag before the next entry */
		c->tlb_control = TLB_FLUSH_NONE;
		settle_virtual_interrupt(v, sv);
		requeue_interrupted_event(sv);
		/* exit_stats=1: timed from before sti, so a host interrupt counts for its exit. */
		why = sv->exits ? exit_stats_reason(sv->vmcb, sv->gprs.rcx) : EXIT_R_OTHER;
		t0 = sv->exits ? arch_time_ns() : 0;
		sti();	/* the host takes the interrupt that made the guest exit, if any */
		svm_handle_exit(v);
		if (sv->exits) {
			exit_stats_add(sv->exits, why, arch_time_ns() - t0);
		}
	}
	/* Before the scheduler lets another CPU run @v (or VCPU_UP reset it). */
	save_extended_state(cpu);
	__atomic_store_n(&sv->running_cpu, -1, __ATOMIC_SEQ_CST);
}

static void save_segment(struct keel_x86_segment *dst, const struct vmcb_segment *src)
{
	*dst = (struct keel_x86_segment){ src->selector, src->attrib, src->limit, src->base };
}

/*
 * KEEL_HC_CTL_VCPU_GET_CONTEXT: the registers as the last exit left them
 * (or as the last load or boot set them). EFER.SVME is Keel's, never the
 * guest's, so it is left out; LMA is reported as the CPU derived it.
 */
int arch_vcpu_save_context(struct vcpu *v, struct domain *to, uint64_t gpa)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	const struct vmcb_save *s = &sv->vmcb->save;
	const struct svm_gprs *g = &sv->gprs;
	struct keel_x86_vcpu_context c = {
		.rax = s->rax, .rbx = g->rbx, .rcx = g->rcx, .rdx = g->rdx, .rsi = g->rsi,
		.rdi = g->rdi, .rbp = g->rbp, .rsp = s->rsp, .r8 = g->r8, .r9 = g->r9,
		.r10 = g->r10, .r11 = g->r11, .r12 = g->r12, .r13 = g->r13, .r14 = g->r14,
		.r15 = g->r15, .rip = s->rip, .rflags = s->rflags, .cr0 = s->cr0, .cr2 = s->cr2,
		.cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer & ~EFER_SVME, .pat = s->g_pat,
		.gdtr = { s->gdtr.base, s->gdtr.limit, 0 },
		.idtr = { s->idtr.base, s->idtr.limit, 0 },
		.kernel_gs_base = s->kernel_gs_base,
	};

	save_segment(&c.cs, &s->cs);
	save_segment(&c.ds, &s->ds);
	save_segment(&c.es, &s->es);
	save_segment(&c.fs, &s->fs);
	save_segment(&c.gs, &s->gs);
	save_segment(&c.ss, &s->ss);
	save_segment(&c.tr, &s->tr);
	save_segment(&c.ldtr, &s->ldtr);
	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(c)) ||
	    guest_copy_to(to, gpa, &c, sizeof(c)) != 0) {
		return -KEEL_EFAULT;
	}
	return 0;
}
