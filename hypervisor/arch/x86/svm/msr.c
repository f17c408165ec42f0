/* SPDX-License-Identifier: MIT */
/*
 * svm/msr.c - the MSRs a guest may use (an allow-list, all emulated): every
 * RDMSR and WRMSR exits, and anything not listed here raises #GP, logged
 * once per domain and MSR so a guest cannot flood the log.
 *
 * MTRRs are kept as written (8 variable ranges, the fixed ranges, WC) so
 * firmware-less kernels find the state they expect; under nested paging
 * the memory types that count are the host's and the guest's PAT.
 */
#include <keel/log.h>
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <x86/cpu.h>
#include <x86/msr.h>
#include <x86/svm_domain.h>
#include <x86/vplatform.h>

#define MSR_TSC			0x00000010u
#define MSR_MTRR_CAP		0x000000feu
#define MSR_MTRR_PHYS_FIRST	0x00000200u	/* base/mask pairs to 0x20f */
#define MSR_MTRR_FIX_64K	0x00000250u
#define MSR_MTRR_FIX_16K_FIRST	0x00000258u	/* and 0x259 */
#define MSR_MTRR_FIX_4K_FIRST	0x00000268u	/* to 0x26f */
#define MSR_TSC_DEADLINE	0x000006e0u
#define MSR_MCG_CAP		0x00000179u
#define MSR_MCG_STATUS		0x0000017au
#define MSR_MISC_ENABLE		0x000001a0u
#define MSR_MTRR_DEF_TYPE	0x000002ffu
#define MSR_SYSENTER_CS		0x00000174u
#define MSR_SYSENTER_ESP	0x00000175u
#define MSR_SYSENTER_EIP	0x00000176u
#define MSR_STAR		0xc0000081u
#define MSR_LSTAR		0xc0000082u
#define MSR_CSTAR		0xc0000083u
#define MSR_SFMASK		0xc0000084u
#define MSR_TSC_AUX		0xc0000103u
#define MSR_HWCR		0xc0010015u
#define MSR_AMD_SYSCFG		0xc0010010u
#define MSR_AMD_NB_CFG		0xc001001fu

#define EFER_GUEST_BITS		(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define MISC_FAST_STRINGS	1u
#define MTRR_DEF_VALID		0xcffull	/* E, FE, type */
#define MTRR_CAP_VALUE		(SVM_MTRR_VAR | (1ull << 8) | (1ull << 10))	/* VCNT, FIX, WC */
#define MTRR_MASK_VALID		(1ull << 11)
#define STUB_VMMCALL_RET	0xc3d9010fu	/* vmmcall; ret */

/* Each of the 8 PAT entries must be a defined memory type (0, 1, 4-7). */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));

		if (t > 7 || t == 2 || t == 3) {
			return false;
		}
	}
	return true;
}

/* A memory type MTRRs may hold: UC, WC, WT, WP, WB. */
static bool mtrr_type_valid(uint8_t t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool mtrr_fixed_valid(uint64_t value)
{
	for (int i = 0; i < 8; i++) {
		if (!mtrr_type_valid((uint8_t)(value >> (8 * i)))) {
			return false;
		}
	}
	return true;
}

/* Index into svm_vcpu.mtrr_fixed of a fixed-range MTRR, or -1. */
static int mtrr_fixed_index(uint32_t msr)
{
	if (msr == MSR_MTRR_FIX_64K) {
		return 0;
	}
	if (msr >= MSR_MTRR_FIX_16K_FIRST && msr <= MSR_MTRR_FIX_16K_FIRST + 1) {
		return 1 + (int)(msr - MSR_MTRR_FIX_16K_FIRST);
	}
	if (msr >= MSR_MTRR_FIX_4K_FIRST && msr <= MSR_MTRR_FIX_4K_FIRST + 7) {
		return 3 + (int)(msr - MSR_MTRR_FIX_4K_FIRST);
	}
	return -1;
}

/* Physical-address bits above what the guest's CPUID 0x80000008 reports are reserved. */
static uint64_t phys_reserved(struct vcpu *v)
{
	uint32_t r[4];
	unsigned int bits;

	svm_cpuid(v, 0x80000008u, 0, r);
	bits = r[0] & 0xff;
	return bits >= 52 || bits == 0 ? ~0ull << 52 : ~0ull << bits;
}

/* Variable-range MTRR @msr (0x200-0x20f): base (even) or mask (odd). */
static bool write_mtrr_var(struct vcpu *v, uint32_t msr, uint64_t value)
{
	unsigned int i = msr - MSR_MTRR_PHYS_FIRST;
	uint64_t reserved = phys_reserved(v);

	if (i % 2 == 0) {
		reserved |= 0xf00ull;
		if ((value & reserved) || !mtrr_type_valid((uint8_t)value)) {
			return false;
		}
	} else if (value & (reserved | 0x7ffull)) {
		return false;
	}
	svm_vcpu(v)->mtrr_var[i] = value;
	return true;
}

static void log_refused(struct vcpu *v, uint32_t msr, bool write)
{
	struct svm_domain *sd = svm_domain(v->domain);
	unsigned long flags = spin_lock_irqsave(&sd->lock);
	bool seen = false;

	for (unsigned int i = 0; i < sd->logged_count; i++) {
		seen |= sd->logged_msrs[i] == msr;
	}
	if (!seen && sd->logged_count < SVM_LOGGED_MSRS) {
		sd->logged_msrs[sd->logged_count++] = msr;
		spin_unlock_irqrestore(&sd->lock, flags);
		log_warn("domain %u '%s': %s of MSR %#x refused (#GP); further refusals of it "
			 "are not logged", v->domain->domid, v->domain->name,
			 write ? "write" : "read", msr);
		return;
	}
	spin_unlock_irqrestore(&sd->lock, flags);
}

/*
 * The hypercall page: (GFN << 12) | 1 fills that page of the domain's RAM
 * with the call stub; the rest of the page is int3, as it is reserved.
 */
static bool write_hypercall_msr(struct vcpu *v, uint64_t value)
{
	struct domain *d = v->domain;
	struct svm_domain *sd = svm_domain(d);
	uint8_t fill[256];
	uint32_t stub = STUB_VMMCALL_RET;
	uint64_t base = value & ~(uint64_t)0xfff;
	unsigned long flags;
	uint32_t rights;
	paddr_t pa;

	if (value & 0xffeu) {
		return false;
	}
	if (value & KEEL_X86_HYPERCALL_ENABLE) {
		if (!guest_memory_translate(d, value >> PAGE_SHIFT, &pa, &rights) ||
		    !(rights & GUEST_WRITE)) {
			return false;
		}
		memset(fill, 0xcc, sizeof(fill));
		for (uint64_t off = 0; off < PAGE_SIZE; off += sizeof(fill)) {
			if (guest_copy_to(d, base + off, fill, sizeof(fill)) != 0) {
				return false;
			}
		}
		if (guest_copy_to(d, base + KEEL_X86_HYPERCALL_ENTRY, &stub, sizeof(stub)) != 0) {
			return false;
		}
	}
	flags = spin_lock_irqsave(&sd->lock);
	sd->hypercall_msr = value;
	spin_unlock_irqrestore(&sd->lock, flags);
	return true;
}

bool svm_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;

	switch (msr) {
	case MSR_TSC:
		*value = rdtsc();
		return true;
	case MSR_APIC_BASE:
		*value = vlapic_apic_base(v);
		return true;
	case MSR_TSC_DEADLINE:
		*value = vlapic_tsc_deadline(v);
		return true;
	case MSR_MTRR_CAP:
		*value = MTRR_CAP_VALUE;
		return true;
	case MSR_AMD_SYSCFG:	/* Linux reads it with the fixed MTRRs on AMD: no DRAM modify bits */
	case MSR_AMD_NB_CFG:	/* Linux sets its extended-config bit; there is no northbridge */
		*value = 0;
		return true;
	case MSR_MCG_CAP:
	case MSR_MCG_STATUS:
	case MSR_HWCR:
		*value = 0;	/* no variable MTRRs, no machine-check banks */
		return true;
	case MSR_MISC_ENABLE:
		*value = MISC_FAST_STRINGS;
		return true;
	case MSR_MTRR_DEF_TYPE:
		*value = sv->mtrr_def_type;
		return true;
	case MSR_PAT:
		*value = s->g_pat;
		return true;
	case MSR_EFER:
		*value = s->efer & EFER_GUEST_BITS;
		return true;
	case MSR_STAR:
		*value = s->star;
		return true;
	case MSR_LSTAR:
		*value = s->lstar;
		return true;
	case MSR_CSTAR:
		*value = s->cstar;
		return true;
	case MSR_SFMASK:
		*value = s->sfmask;
		return true;
	case MSR_KERNEL_GS_BASE:
		*value = s->kernel_gs_base;
		return true;
	case MSR_FS_BASE:
		*value = s->fs.base;
		return true;
	case MSR_GS_BASE:
		*value = s->gs.base;
		return true;
	case MSR_SYSENTER_CS:
		*value = s->sysenter_cs;
		return true;
	case MSR_SYSENTER_ESP:
		*value = s->sysenter_esp;
		return true;
	case MSR_SYSENTER_EIP:
		*value = s->sysenter_eip;
		return true;
	case MSR_TSC_AUX:
		*value = sv->tsc_aux;
		return true;
	case KEEL_X86_MSR_HYPERCALL:
		*value = svm_domain(v->domain)->hypercall_msr;
		return true;
	default:
		if (msr >= MSR_MTRR_PHYS_FIRST && msr < MSR_MTRR_PHYS_FIRST + 2 * SVM_MTRR_VAR) {
			*value = sv->mtrr_var[msr - MSR_MTRR_PHYS_FIRST];
			return true;
		}
		if (mtrr_fixed_index(msr) >= 0) {
			*value = sv->mtrr_fixed[mtrr_fixed_index(msr)];
			return true;
		}
		log_refused(v, msr, false);
		return false;
	}
}

bool svm_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	bool ok = true;

	switch (msr) {
	case MSR_APIC_BASE:
		ok = vlapic_set_apic_base(v, value);
		break;
	case MSR_TSC_DEADLINE:
		vlapic_set_tsc_deadline(v, value);
		break;
	case MSR_MISC_ENABLE:
		ok = value == MISC_FAST_STRINGS;
		break;
	case MSR_MCG_STATUS:
	case MSR_AMD_SYSCFG:
		ok = value == 0;
		break;
	case MSR_AMD_NB_CFG:
		break;	/* accepted and ignored: nothing behind it */
	case MSR_MTRR_DEF_TYPE:
		ok = !(value & ~MTRR_DEF_VALID) && mtrr_type_valid((uint8_t)value);
		if (ok) {
			sv->mtrr_def_type = value;
		}
		break;
	case MSR_PAT:
		ok = pat_valid(value);
		if (ok) {
			s->g_pat = value;
		}
		break;
	case MSR_EFER:
		/* LMA is the CPU's to set; SVME stays on underneath. */
		ok = !(value & ~EFER_GUEST_BITS);
		if (ok) {
			s->efer = (value & ~EFER_LMA) | (s->efer & EFER_LMA) | EFER_SVME;
		}
		break;
	case MSR_STAR:
		s->star = value;
		break;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_SYSENTER_ESP:
	case MSR_SYSENTER_EIP:
		ok = is_canonical(value);
		if (!ok) {
			break;
		}
		if (msr == MSR_LSTAR) {
			s->lstar = value;
		} else if (msr == MSR_CSTAR) {
			s->cstar = value;
		} else if (msr == MSR_KERNEL_GS_BASE) {
			s->kernel_gs_base = value;
		} else if (msr == MSR_FS_BASE) {
			s->fs.base = value;
		} else if (msr == MSR_GS_BASE) {
			s->gs.base = value;
		} else if (msr == MSR_SYSENTER_ESP) {
			s->sysenter_esp = value;
		} else {
			s->sysenter_eip = value;
		}
		break;
	case MSR_SFMASK:
		s->sfmask = (uint32_t)value;
		ok = !(value >> 32);
		break;
	case MSR_SYSENTER_CS:
		s->sysenter_cs = value & 0xffff;
		break;
	case MSR_TSC_AUX:
		ok = !(value >> 32);
		if (ok) {
			sv->tsc_aux = value;
			wrmsr(MSR_TSC_AUX, value);	/* this vCPU's state is loaded here */
		}
		break;
	case KEEL_X86_MSR_HYPERCALL:
		ok = write_hypercall_msr(v, value);
		break;
	default:
		if (msr >= MSR_MTRR_PHYS_FIRST && msr < MSR_MTRR_PHYS_FIRST + 2 * SVM_MTRR_VAR) {
			return write_mtrr_var(v, msr, value);
		}
		if (mtrr_fixed_index(msr) >= 0) {
			ok = mtrr_fixed_valid(value);
			if (ok) {
				sv->mtrr_fixed[mtrr_fixed_index(msr)] = value;
			}
			return ok;
		}
		log_refused(v, msr, true);
		return false;
	}
	return ok;
}
