/* SPDX-License-Identifier: MIT */
/*
 * svm/lapic_mmio.c - the guest's local APIC page (xAPIC MMIO at 0xfee00000),
 * as far as Keel-native guests need it: identification, TPR, SVR, LVT and
 * timer registers kept as written, EOI accepted. Upcall vectors arrive
 * through SVM's virtual interrupt line, which needs no in-service tracking,
 * so EOI has nothing to clear. (The timer, IPIs and INIT/SIPI come with the
 * platform emulation for stock kernels.)
 *
 * Without decode assists Keel decodes the accessing instruction itself: the
 * MOV forms compilers emit for MMIO (89, 8B, C7 /0, with 66/REX prefixes).
 * Anything else crashes the domain with a report rather than guess.
 */
#include <keel/schedule.h>
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <x86/insn.h>
#include <x86/svm_domain.h>

#define REG_ID		0x020
#define REG_VERSION	0x030
#define REG_EOI		0x0b0
#define APIC_VERSION	0x00050014u	/* version 0x14, 6 LVT entries */

struct mmio_insn {
	unsigned int len;
	bool write;
	unsigned int size;	/* 2, 4 or 8 bytes */
	int reg;		/* register operand, or -1 for an immediate */
	uint32_t imm;
};

/* Bytes of ModRM addressing after the opcode (ModRM itself included). */
static int modrm_len(const uint8_t *b, size_t avail, bool addr16)
{
	uint8_t modrm, mod, rm;
	int len = 1;

	if (avail < 1) {
		return -1;
	}
	modrm = b[0];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3) {
		return -1;	/* a register operand cannot reach MMIO */
	}
	if (addr16) {
		return len + (mod == 1 ? 1 : mod == 2 ? 2 : (rm == 6 ? 2 : 0));
	}
	if (rm == 4) {
		if (avail < 2) {
			return -1;
		}
		len++;
		if (mod == 0 && (b[1] & 7) == 5) {
			len += 4;
		}
	}
	if (mod == 1) {
		len += 1;
	} else if (mod == 2 || (mod == 0 && rm == 5)) {
		len += 4;
	}
	return len;
}

static bool decode(const uint8_t *b, size_t avail, bool long_mode, bool def32,
		   struct mmio_insn *out)
{
	bool opsize = false, addrsize = false;
	unsigned int rex = 0, pos = 0;
	int ml;

	for (; pos < avail && insn_is_legacy_prefix(b[pos]); pos++) {
		opsize |= b[pos] == 0x66;
		addrsize |= b[pos] == 0x67;
	}
	if (long_mode && pos < avail && (b[pos] & 0xf0) == 0x40) {
		rex = b[pos++];
	}
	if (pos >= avail) {
		return false;
	}
	out->size = (rex & 8) ? 8 : (opsize == def32) ? 2 : 4;
	switch (b[pos]) {
	case 0x89:
	case 0x8b:
	case 0xc7:
		break;
	default:
		return false;
	}
	ml = modrm_len(&b[pos + 1], avail - pos - 1, !long_mode && (addrsize == def32));
	if (ml < 0) {
		return false;
	}
	out->write = b[pos] != 0x8b;
	out->reg = (b[pos] == 0xc7) ? -1 : (int)(((b[pos + 1] >> 3) & 7) | ((rex & 4) ? 8 : 0));
	if (b[pos] == 0xc7) {
		unsigned int at = pos + 1 + (unsigned int)ml;
		unsigned int isz = out->size == 2 ? 2 : 4;

		if (((b[pos + 1] >> 3) & 7) != 0 || at + isz > avail) {
			return false;
		}
		out->imm = 0;
		memcpy(&out->imm, &b[at], isz);
		out->len = at + isz;
	} else {
		out->len = pos + 1 + (unsigned int)ml;
	}
	return out->len <= INSN_MAX_LEN;
}

static uint32_t read_reg(struct vcpu *v, struct svm_vcpu *sv, unsigned int offset)
{
	switch (offset) {
	case REG_ID:
		return v->id << 24;
	case REG_VERSION:
		return APIC_VERSION;
	default:
		return sv->apic_regs[(offset >> 4) & (SVM_APIC_REGS - 1)];
	}
}

static void write_reg(struct svm_vcpu *sv, unsigned int offset, uint32_t value)
{
	if (offset == REG_EOI || offset == REG_ID || offset == REG_VERSION) {
		return;
	}
	sv->apic_regs[(offset >> 4) & (SVM_APIC_REGS - 1)] = value;
}

bool svm_lapic_mmio(struct vcpu *v, uint64_t gpa)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	bool long_mode = svm_cpu_mode(s) == CPU_MODE_64;
	unsigned int offset = gpa & (PAGE_SIZE - 1);
	uint8_t bytes[INSN_MAX_LEN];
	struct mmio_insn insn;
	size_t got;

	if ((gpa & ~(uint64_t)(PAGE_SIZE - 1)) != KEEL_X86_GPA_LAPIC) {
		return false;
	}
	got = svm_fetch_insn(v, bytes);
	if (!decode(bytes, got, long_mode, svm_cpu_mode(s) != CPU_MODE_16, &insn) ||
	    (offset & 3) || insn.size == 2) {
		domain_crash(v->domain, "vCPU %u: local APIC access at offset %#x by an "
			     "instruction Keel does not emulate (RIP %#llx)", v->id, offset,
			     (unsigned long long)s->rip);
		return true;
	}
	if (insn.write) {
		write_reg(sv, offset, insn.reg < 0 ? insn.imm : (uint32_t)*svm_gpr(sv, (unsigned int)insn.reg));
	} else {
		uint64_t *r = svm_gpr(sv, (unsigned int)insn.reg);

		*r = read_reg(v, sv, offset);	/* 32-bit loads zero-extend */
	}
	svm_advance_rip(s, insn.len);
	return true;
}
