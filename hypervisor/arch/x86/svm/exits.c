/* SPDX-License-Identifier: MIT */
/*
 * svm/exits.c - what Keel does for each #VMEXIT of a domain's vCPU.
 *
 * Every intercepted instruction is either emulated and skipped, or turned
 * into the exception the guest would get on hardware without the feature
 * (#UD for SVM and MONITOR/MWAIT, #GP for RDPMC). Without nrip-save the
 * length comes from Keel's decoder (cpu/insn_len.c), reading the bytes
 * through the guest's own page tables. Anything Keel cannot make sense of
 * crashes the domain with a report; the hypervisor and the other domains
 * go on.
 */
#include <arch/arch.h>
#include <keel/hypercall.h>
#include <keel/log.h>
#include <keel/sched.h>
#include <keel/schedule.h>
#include <keel/vcpu.h>
#include <public/keel/errno.h>
#include <x86/cpu.h>
#include <x86/guest_walk.h>
#include <x86/insn.h>
#include <x86/msr.h>
#include <x86/svm_domain.h>
#include <x86/vplatform.h>
#include <x86/vsleep.h>

#define VEC_DB		1
#define VEC_UD		6
#define VEC_GP		13
#define VEC_PF		14
#define VEC_AC		17
#define CS_L		(1u << 9)
#define CS_DB		(1u << 10)
#define RFLAGS_IF	(1ull << 9)
#define CR4_SMEP	(1ull << 20)
#define RFLAGS_DF	(1ull << 10)
#define STRING_IO_BATCH	1024u	/* elements per exit; REP resumes where it stopped */

static void paging_of(const struct vmcb_save *s, struct guest_paging *pg)
{
	pg->cr0 = s->cr0;
	pg->cr3 = s->cr3;
	pg->cr4 = s->cr4;
	pg->efer = s->efer;
}

enum cpu_mode svm_cpu_mode(const struct vmcb_save *s)
{
	if ((s->efer & EFER_LMA) && (s->cs.attrib & CS_L)) {
		return CPU_MODE_64;
	}
	if (!(s->cr0 & CR0_PE)) {
		return CPU_MODE_16;
	}
	return (s->cs.attrib & CS_DB) ? CPU_MODE_32 : CPU_MODE_16;
}

size_t svm_fetch_insn(struct vcpu *v, uint8_t bytes[INSN_MAX_LEN])
{
	const struct vmcb_save *s = &svm_vcpu(v)->vmcb->save;
	uint64_t linear = svm_cpu_mode(s) == CPU_MODE_64 ? s->rip
							 : (s->cs.base + s->rip) & 0xffffffffu;
	struct guest_paging pg;

	paging_of(s, &pg);
	/*
	 * The walk checks a supervisor fetch; the CPU already fetched these
	 * bytes at the guest's CPL. For user code (CPL 3) SMEP, which only
	 * forbids supervisor fetches from user pages, must not refuse them.
	 */
	if (s->cpl == 3) {
		pg.cr4 &= ~CR4_SMEP;
	}
	return guest_read_linear(v->domain, &pg, linear, bytes, INSN_MAX_LEN);
}

void svm_advance_rip(struct vmcb_save *s, unsigned int len)
{
	s->rip += len;
	if (svm_cpu_mode(s) != CPU_MODE_64) {
		s->rip &= 0xffffffffu;
	}
}

/* Move RIP past the intercepted instruction; false (domain crashed) if impossible. */
static bool skip(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	uint8_t bytes[INSN_MAX_LEN];
	size_t got;
	int len;

	/*
	 * An STI or MOV SS shadow covers only the instruction completed
	 * here. Left set, VMRUN would hold interrupts off for the next one
	 * as well: after `sti; hlt` an upcall pending at the HLT would then
	 * miss the `cli` that usually follows, every time round the loop.
	 */
	sv->vmcb->control.interrupt_shadow &= ~1ull;
	if (svm_features.nrip_save) {
		s->rip = sv->vmcb->control.next_rip;
		return true;
	}
	got = svm_fetch_insn(v, bytes);
	len = insn_length(bytes, got, svm_cpu_mode(s));
	if (len < 0) {
		domain_crash(v->domain, "vCPU %u: cannot decode the intercepted instruction at "
			     "%#llx (%zu bytes readable, error %d)", v->id,
			     (unsigned long long)s->rip, got, len);
		return false;
	}
	svm_advance_rip(s, (unsigned int)len);
	return true;
}

static uint64_t reg_rdx_rax(struct svm_vcpu *sv)
{
	return (sv->gprs.rdx << 32) | (uint32_t)sv->vmcb->save.rax;
}

static void handle_cpuid(struct vcpu *v, struct svm_vcpu *sv)
{
	uint32_t r[4];

	svm_cpuid(v, (uint32_t)sv->vmcb->save.rax, (uint32_t)sv->gprs.rcx, r);
	sv->vmcb->save.rax = r[0];
	sv->gprs.rbx = r[1];
	sv->gprs.rcx = r[2];
	sv->gprs.rdx = r[3];
	skip(v);
}

static void handle_msr(struct vcpu *v, struct svm_vcpu *sv)
{
	uint32_t msr = (uint32_t)sv->gprs.rcx;
	uint64_t value;

	if (sv->vmcb->control.exit_info1 == 0) {
		if (!svm_rdmsr(v, msr, &value)) {
			svm_inject_exception(sv, VEC_GP, true, 0);
			return;
		}
		sv->vmcb->save.rax = (uint32_t)value;
		sv->gprs.rdx = value >> 32;
	} else if (!svm_wrmsr(v, msr, reg_rdx_rax(sv))) {
		svm_inject_exception(sv, VEC_GP, true, 0);
		return;
	}
	skip(v);
}

static void handle_hypercall(struct vcpu *v, struct svm_vcpu *sv)
{
	struct vmcb_save *s = &sv->vmcb->save;
	uint64_t args[HYPERCALL_ARGS] = {
		sv->gprs.rdi, sv->gprs.rsi, sv->gprs.rdx, sv->gprs.r10, sv->gprs.r8, sv->gprs.r9,
	};
	long result;

	if (svm_cpu_mode(s) != CPU_MODE_64) {
		svm_inject_exception(sv, VEC_UD, false, 0);
		return;
	}
	if (s->cpl != 0) {
		result = -KEEL_EPERM;
	} else {
		result = hypercall_dispatch(v, s->rax, args);
		if (result == HYPERCALL_RESTART) {
			sv->hypercall_waits = true;
			return;	/* waits; the call runs again when it is woken */
		}
	}
	s->rax = (uint64_t)result;
	skip(v);
}

/*
 * A woken vCPU whose VMMCALL blocked would re-execute it at once unless an
 * event comes first: an exception or interrupt being re-injected, an NMI,
 * INIT or SIPI, or an interrupt it accepts (RFLAGS.IF, no STI shadow; an
 * upcall still to be turned into one counts). Without any of those, the
 * entry would only exit again on the same VMMCALL with the same registers,
 * which under TCG costs a world switch each way (tens of microseconds on
 * every wake-up from SCHED_POLL or SCHED_BLOCK): the call is run from
 * here instead, with exactly the result the exit would have given.
 */
bool svm_resume_hypercall(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_control *c = &sv->vmcb->control;
	bool interrupts_on = (sv->vmcb->save.rflags & RFLAGS_IF) && !(c->interrupt_shadow & 1);

	if (!sv->hypercall_waits) {
		return false;
	}
	sv->hypercall_waits = false;
	if ((c->event_inject & EVENT_VALID) ||
	    (interrupts_on && __atomic_load_n(&sv->upcall_inject, __ATOMIC_SEQ_CST)) ||
	    vlapic_wakes_hlt(v, interrupts_on)) {
		return false;
	}
	handle_hypercall(v, sv);
	return true;
}

/* Ports nothing claims read all ones (0x42, the old PIT, zero) and ignore writes. */
static uint32_t absent_port_value(uint16_t port, unsigned int size)
{
	if (port == 0x42) {
		return 0;
	}
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint64_t segment_base(const struct vmcb_save *s, unsigned int seg)
{
	static const size_t offsets[6] = {
		offsetof(struct vmcb_save, es), offsetof(struct vmcb_save, cs),
		offsetof(struct vmcb_save, ss), offsetof(struct vmcb_save, ds),
		offsetof(struct vmcb_save, fs), offsetof(struct vmcb_save, gs),
	};

	if (seg > 5) {
		return 0;
	}
	return ((const struct vmcb_segment *)((const uint8_t *)s + offsets[seg]))->base;
}

/*
 * The address size and segment of a string I/O instruction, from its
 * prefixes. SVM reports both in exit_info1, but not every implementation
 * fills them in (QEMU's TCG leaves them zero), so Keel reads the prefixes
 * itself: 0x67 toggles the address size, the last segment override wins
 * (OUTS only; INS always writes ES:rDI).
 */
static bool string_prefixes(struct vcpu *v, const struct vmcb_save *s, unsigned int *addr_bits,
			    unsigned int *seg)
{
	static const uint8_t overrides[6] = { 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65 };
	enum cpu_mode mode = svm_cpu_mode(s);
	uint8_t bytes[INSN_MAX_LEN];
	size_t got = svm_fetch_insn(v, bytes);
	bool a67 = false;

	*seg = 3;	/* DS */
	for (size_t i = 0; i < got; i++) {
		if (!insn_is_legacy_prefix(bytes[i])) {
			if (mode == CPU_MODE_64) {
				*addr_bits = a67 ? 32 : 64;
			} else if (mode == CPU_MODE_32) {
				*addr_bits = a67 ? 16 : 32;
			} else {
				*addr_bits = a67 ? 32 : 16;
			}
			return true;
		}
		a67 |= bytes[i] == 0x67;
		for (unsigned int k = 0; k < 6; k++) {
			if (bytes[i] == overrides[k]) {
				*seg = k;
			}
		}
	}
	return false;
}

/*
 * INS/OUTS, with REP. INS stores all ones at ES:rDI, OUTS reads nothing
 * (no device wants the bytes) but faults like hardware would; both step
 * the index register and count. A long REP is done in batches: RIP stays
 * on the instruction until RCX reaches zero.
 */
static void string_io(struct vcpu *v, struct svm_vcpu *sv, uint64_t info, unsigned int size)
{
	struct vmcb_save *s = &sv->vmcb->save;
	bool in = info & IOIO_IN, rep = info & IOIO_REP;
	uint64_t *index = in ? &sv->gprs.rdi : &sv->gprs.rsi;
	int64_t step = (s->rflags & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	uint32_t ones = absent_port_value((uint16_t)(info >> IOIO_PORT_SHIFT), size);
	unsigned int addr_bits, seg, done = 0;
	struct guest_paging pg;
	uint64_t mask, count;

	if (!string_prefixes(v, s, &addr_bits, &seg)) {
		domain_crash(v->domain, "vCPU %u: cannot read the string I/O instruction at %#llx",
			     v->id, (unsigned long long)s->rip);
		return;
	}
	if (in) {
		seg = 0;	/* ES, whatever the prefixes */
	}
	mask = addr_bits == 64 ? ~0ull : (1ull << addr_bits) - 1;
	count = rep ? (sv->gprs.rcx & mask) : 1;
	paging_of(s, &pg);
	while (count > 0 && done < STRING_IO_BATCH) {
		uint64_t offset = *index & mask;
		uint64_t linear = segment_base(s, seg) + offset;
		uint64_t gpa;
		uint32_t err;
		int w;

		if (svm_cpu_mode(s) != CPU_MODE_64) {
			linear &= 0xffffffffu;
		} else if (seg < 4) {
			linear = offset;	/* ES/CS/SS/DS bases are ignored in 64-bit mode */
		}
		w = guest_walk(v->domain, &pg, linear, in ? WALK_WRITE : 0, &gpa, &err);
		if (w == WALK_FAULT || (w == WALK_OK && ((gpa & (PAGE_SIZE - 1)) + size > PAGE_SIZE))) {
			s->cr2 = linear;
			svm_inject_exception(sv, VEC_PF, true, err);
			return;
		}
		if (w != WALK_OK || (in ? guest_copy_to(v->domain, gpa, &ones, size)
					 : 0) != 0) {
			domain_crash(v->domain, "vCPU %u: string I/O at %#llx to guest-physical "
				     "%#llx, which is not its memory", v->id,
				     (unsigned long long)s->rip, (unsigned long long)gpa);
			return;
		}
		/* Like hardware: a 32-bit register write zero-extends, a 16-bit one merges. */
		if (addr_bits == 32) {
			*index = (*index + (uint64_t)step) & mask;
		} else {
			*index = (*index & ~mask) | ((*index + (uint64_t)step) & mask);
		}
		count--;
		done++;
		if (rep) {
			sv->gprs.rcx = addr_bits == 32 ? count : (sv->gprs.rcx & ~mask) | count;
		}
	}
	if (count == 0) {
		skip(v);
	}
}

static void handle_io(struct vcpu *v, struct svm_vcpu *sv)
{
	uint64_t info = sv->vmcb->control.exit_info1;
	uint16_t port = (uint16_t)(info >> IOIO_PORT_SHIFT);
	unsigned int size = (info >> IOIO_SIZE_SHIFT) & 7;	/* 1, 2 or 4 */

	if (info & IOIO_STRING) {
		string_io(v, sv, info, size);
		return;
	}
	if (info & IOIO_IN) {
		uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
		uint32_t value = 0;

		if (!vplatform_pio(v, port, size, true, &value)) {
			value = absent_port_value(port, size);
		}

		/* A 32-bit IN zero-extends into RAX; 8/16-bit ones merge. */
		sv->vmcb->save.rax = size == 4 ? value : (sv->vmcb->save.rax & ~mask) | (value & mask);
	} else {
		uint32_t value = (uint32_t)sv->vmcb->save.rax;

		(void)vplatform_pio(v, port, size, false, &value);	/* unclaimed: dropped */
	}
	skip(v);
}

/*
 * MOV to CR4 (0F 22 /r with reg = 4). The bits a guest may set are those
 * of the features its CPUID shows; anything else (OSXSAVE: Keel switches
 * only the FXSAVE image; VMXE, SMXE, PKE, LA57, CET, ...) raises #GP(0) as
 * on a CPU without them. A changed paging bit flushes the guest's TLB.
 */
#define CR4_ALLOWED_ALWAYS	0x7ffull	/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT */
#define CR4_FSGSBASE		(1ull << 16)
#define CR4_SMAP		(1ull << 21)

static uint64_t cr4_allowed(struct vcpu *v)
{
	uint32_t r[4];
	uint64_t allowed = CR4_ALLOWED_ALWAYS;

	svm_cpuid(v, 7, 0, r);
	allowed |= (r[1] & (1u << 0)) ? CR4_FSGSBASE : 0;
	allowed |= (r[1] & (1u << 7)) ? CR4_SMEP : 0;
	allowed |= (r[1] & (1u << 20)) ? CR4_SMAP : 0;
	return allowed;
}

/*
 * The source register of an intercepted MOV to CR@cr: from decode assists
 * when the CPU has them, else decoded (0F 22 /r; REX.R selects CR8, as
 * does LOCK in front of CR0 on AMD). @len gets the instruction's length
 * (0 with decode assists: nRIP says where the next one starts).
 */
static bool cr_write_source(struct vcpu *v, struct svm_vcpu *sv, unsigned int cr,
			    uint64_t *value, unsigned int *len)
{
	struct vmcb_save *s = &sv->vmcb->save;
	enum cpu_mode mode = svm_cpu_mode(s);
	uint64_t info = sv->vmcb->control.exit_info1;
	uint8_t b[INSN_MAX_LEN];
	size_t got, pos = 0;
	unsigned int rex = 0, reg;
	bool lock = false;

	if (svm_features.decode_assists && svm_features.nrip_save && (info >> 63)) {
		reg = info & 0xf;
		*len = 0;
	} else {
		got = svm_fetch_insn(v, b);
		while (pos < got && insn_is_legacy_prefix(b[pos])) {
			lock |= b[pos] == 0xf0;
			pos++;
		}
		if (mode == CPU_MODE_64 && pos < got && (b[pos] & 0xf0) == 0x40) {
			rex = b[pos++];
		}
		if (pos + 3 > got || b[pos] != 0x0f || b[pos + 1] != 0x22 ||
		    ((((b[pos + 2] >> 3) & 7) | ((rex & 4) ? 8 : 0) | (lock ? 8 : 0)) != cr)) {
			return false;
		}
		reg = (b[pos + 2] & 7) | ((rex & 1) ? 8 : 0);
		*len = (unsigned int)pos + 3;
	}
	*value = *svm_gpr(sv, reg);
	if (mode != CPU_MODE_64) {
		*value = (uint32_t)*value;
	}
	return true;
}

static void complete_cr_write(struct vcpu *v, struct svm_vcpu *sv, unsigned int len)
{
	if (len == 0) {
		skip(v);
	} else {
		sv->vmcb->control.interrupt_shadow &= ~1ull;
		svm_advance_rip(&sv->vmcb->save, len);
	}
}

static void handle_cr4_write(struct vcpu *v, struct svm_vcpu *sv)
{
	struct vmcb_save *s = &sv->vmcb->save;
	unsigned int len;
	uint64_t value;

	if (!cr_write_source(v, sv, 4, &value, &len)) {
		domain_crash(v->domain, "vCPU %u: CR4 write by an instruction Keel cannot decode "
			     "at %#llx", v->id, (unsigned long long)s->rip);
		return;
	}
	if ((value & ~cr4_allowed(v)) || ((s->efer & EFER_LMA) && !(value & CR4_PAE))) {
		svm_inject_exception(sv, VEC_GP, true, 0);
		return;
	}
	if ((value ^ s->cr4) & (CR4_PAE | CR4_PGE | (1ull << 4) | CR4_SMEP | CR4_SMAP)) {
		sv->flush_asid = true;
	}
	s->cr4 = value;
	complete_cr_write(v, sv, len);
}

/* MOV to CR8: the task priority, bits 3:0 -> TPR bits 7:4; the rest must be zero. */
static void handle_cr8_write(struct vcpu *v, struct svm_vcpu *sv)
{
	unsigned int len;
	uint64_t value;

	if (!cr_write_source(v, sv, 8, &value, &len)) {
		domain_crash(v->domain, "vCPU %u: CR8 write by an instruction Keel cannot decode "
			     "at %#llx", v->id, (unsigned long long)sv->vmcb->save.rip);
		return;
	}
	if (value > 0xf) {
		svm_inject_exception(sv, VEC_GP, true, 0);
		return;
	}
	vlapic_set_tpr(v, (uint8_t)(value << 4));
	complete_cr_write(v, sv, len);
}

/*
 * HLT completes when the vCPU wakes, as on hardware: RIP moves past it
 * also when the vCPU has to wait first. Executed again after the wake-up
 * with IF = 1 (and no STI right before it), the HLT would lose that
 * wake-up: the interrupt injected on re-entry is taken first, its handler
 * returns to the HLT, which waits for the next event. It does not wait at
 * all while an interrupt it would take (or an NMI) is pending, e.g. after
 * `sti; hlt` with one that arrived with interrupts off; the core's wait
 * (vcpu_halt) also ends on an upcall or the single-shot timer.
 */
static void handle_hlt(struct vcpu *v, struct svm_vcpu *sv)
{
	bool interrupts_on = sv->vmcb->save.rflags & RFLAGS_IF;

	if (!skip(v) || vlapic_wakes_hlt(v, interrupts_on) || vcpu_halt(v)) {
		return;
	}
	/* Blocked now; an interrupt accepted before the block woke nobody. */
	if (vlapic_wakes_hlt(v, interrupts_on)) {
		sched_wake(&v->sched, arch_time_ns());
	}
}

static const char *access_name(uint64_t error)
{
	if (error & (1u << 4)) {
		return "instruction fetch";
	}
	return (error & 2) ? "write" : "read";
}

static void handle_npf(struct vcpu *v, struct svm_vcpu *sv)
{
	uint64_t gpa = sv->vmcb->control.exit_info2;
	uint64_t error = sv->vmcb->control.exit_info1;

	if (!(error & (1u << 4)) && svm_mmio(v, gpa)) {
		return;	/* a data access to an emulated device, done */
	}
	domain_crash(v->domain, "vCPU %u: %s of guest-physical %#llx at RIP %#llx: not its "
		     "memory (nested page fault, error %#llx)", v->id, access_name(error),
		     (unsigned long long)gpa, (unsigned long long)sv->vmcb->save.rip,
		     (unsigned long long)error);
}

static void reflect_exception(struct svm_vcpu *sv, unsigned int vector)
{
	/* #AC has an error code of 0; #DB none. */
	svm_inject_exception(sv, vector, vector == VEC_AC, 0);
}

void svm_handle_exit(struct vcpu *v)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_control *c = &sv->vmcb->control;

	switch (c->exit_code) {
	case VMEXIT_INTR:
	case VMEXIT_NMI:
	case VMEXIT_SMI:
	case VMEXIT_INIT:
		break;	/* the host's own business, handled after GIF was set */
	case VMEXIT_CPUID:
		handle_cpuid(v, sv);
		break;
	case VMEXIT_CR4_WRITE:
		handle_cr4_write(v, sv);
		break;
	case VMEXIT_MSR:
		handle_msr(v, sv);
		break;
	case VMEXIT_HLT:
		handle_hlt(v, sv);
		break;
	case VMEXIT_CR8_WRITE:
		handle_cr8_write(v, sv);
		break;
	case VMEXIT_IRET:
		/*
		 * The NMI handler returns: NMIs are unblocked. The IRET itself
		 * has not run yet, so an NMI injected at once nests one level
		 * early; Linux's NMI entry handles that (it is how NMIs behave
		 * after an IRET inside the handler).
		 */
		sv->nmi_masked = false;
		c->intercept_misc1 &= ~INTERCEPT_IRET;
		break;
	case VMEXIT_IOIO:
		handle_io(v, sv);
		break;
	case VMEXIT_VMMCALL:
		handle_hypercall(v, sv);
		break;
	case VMEXIT_NPF:
		handle_npf(v, sv);
		break;
	case VMEXIT_INVD:
	case VMEXIT_WBINVD:
		skip(v);	/* Keel's caches are coherent; nothing to write back for the guest */
		break;
	case VMEXIT_RDPMC:
		svm_inject_exception(sv, VEC_GP, true, 0);
		break;
	case VMEXIT_VMRUN:
	case VMEXIT_VMLOAD:
	case VMEXIT_VMSAVE:
	case VMEXIT_STGI:
	case VMEXIT_CLGI:
	case VMEXIT_SKINIT:
	case VMEXIT_INVLPGA:
	case VMEXIT_MONITOR:
	case VMEXIT_MWAIT:
	case VMEXIT_MWAIT_COND:
	case VMEXIT_XSETBV:
		/* Not offered (CPUID says so): what hardware without them does. */
		svm_inject_exception(sv, VEC_UD, false, 0);
		break;
	case VMEXIT_EXCP_DB:
		reflect_exception(sv, VEC_DB);
		break;
	case VMEXIT_EXCP_AC:
		reflect_exception(sv, VEC_AC);
		break;
	case VMEXIT_SHUTDOWN:
		svm_report_shutdown(v);
		vsleep_triple_fault(v, sv->vmcb->save.rip);	/* reboot or crash */
		break;
	case VMEXIT_INVALID:
		domain_crash(v->domain, "vCPU %u: the CPU refused its state (VMRUN failed)", v->id);
		break;
	default:
		domain_crash(v->domain, "vCPU %u: unexpected exit %#llx (info %#llx, %#llx) at "
			     "RIP %#llx", v->id, (unsigned long long)c->exit_code,
			     (unsigned long long)c->exit_info1, (unsigned long long)c->exit_info2,
			     (unsigned long long)sv->vmcb->save.rip);
		break;
	}
}
