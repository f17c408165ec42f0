/* SPDX-License-Identifier: MIT */
/*
 * svm/mmio.c - completing a guest's access to an emulated device's MMIO:
 * the instruction behind a nested page fault is decoded, the access goes
 * to vplatform_mmio(), and the result lands where the instruction puts it.
 *
 * SVM reports the faulting guest-physical address but not the access, so
 * Keel decodes the instruction. With decode assists the CPU hands over the
 * bytes it fetched; without (QEMU's TCG) Keel reads them through the
 * guest's page tables. The forms are those compilers emit for volatile
 * loads and stores: MOV (88, 89, 8A, 8B, C6 /0, C7 /0, A0-A3) and MOVZX /
 * MOVSX (0F B6, B7, BE, BF), with 66/67/segment prefixes and REX. Any
 * other instruction on a device page crashes the domain with a report
 * rather than guess what it meant.
 *
 * The legacy hole below 1 MiB (VGA memory, option ROMs, and the firmware
 * area of a domain without ACPI tables) behaves like a PC bus with nothing
 * there: reads return all ones, writes vanish. Stock kernels probe it
 * (Linux looks for option ROMs at 0xc0000). Anywhere else a guest has no
 * memory and no device, the access is a wild one and crashes the domain.
 */
#include <keel/schedule.h>
#include <keel/string.h>
#include <x86/insn.h>
#include <x86/svm_domain.h>
#include <public/keel/arch-x86_64.h>
#include <x86/vplatform.h>

#define LEGACY_HOLE_END		0x100000ull

struct mmio_insn {
	unsigned int len;
	bool write;
	unsigned int size;	/* bytes of memory accessed: 1, 2, 4 or 8 */
	unsigned int opsize;	/* bytes of the register operand */
	int reg;		/* register operand, or -1 for an immediate */
	bool high8;		/* the register is AH, CH, DH or BH */
	bool sign;		/* MOVSX: sign-extend the loaded value */
	uint64_t imm;
};

struct prefixes {
	unsigned int pos;	/* where the opcode starts */
	unsigned int rex;
	bool opsize, addrsize;
};

/* Bytes of ModRM addressing after the opcode (ModRM itself included), or -1. */
static int modrm_len(const uint8_t *b, size_t avail, bool addr16)
{
	uint8_t mod, rm;
	int len = 1;

	if (avail < 1) {
		return -1;
	}
	mod = b[0] >> 6;
	rm = b[0] & 7;
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

static unsigned int address_bytes(enum cpu_mode mode, bool addrsize)
{
	if (mode == CPU_MODE_64) {
		return addrsize ? 4 : 8;
	}
	return ((mode == CPU_MODE_32) != addrsize) ? 4 : 2;
}

static void reg_operand(struct mmio_insn *out, uint8_t modrm, unsigned int rex)
{
	unsigned int reg = (modrm >> 3) & 7;

	/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
	out->high8 = out->opsize == 1 && !rex && reg >= 4;
	out->reg = (int)((out->high8 ? reg - 4 : reg) | ((rex & 4) ? 8 : 0));
}

static bool decode(const uint8_t *b, size_t avail, enum cpu_mode mode, struct mmio_insn *out)
{
	struct prefixes p = { 0 };
	bool addr16;
	unsigned int op, at, full;
	int ml;

	for (; p.pos < avail && insn_is_legacy_prefix(b[p.pos]); p.pos++) {
		p.opsize |= b[p.pos] == 0x66;
		p.addrsize |= b[p.pos] == 0x67;
	}
	if (mode == CPU_MODE_64 && p.pos < avail && (b[p.pos] & 0xf0) == 0x40) {
		p.rex = b[p.pos++];
	}
	if (p.pos >= avail) {
		return false;
	}
	memset(out, 0, sizeof(*out));
	full = (p.rex & 8) ? 8 : ((mode == CPU_MODE_16) != p.opsize) ? 2 : 4;
	addr16 = address_bytes(mode, p.addrsize) == 2;
	op = b[p.pos];
	at = p.pos + 1;
	if (op >= 0xa0 && op <= 0xa3) {
		/* MOV between AL/rAX and a direct address (moffs). */
		out->size = out->opsize = (op & 1) ? full : 1;
		out->write = op >= 0xa2;
		out->reg = 0;
		out->len = at + address_bytes(mode, p.addrsize);
		return out->len <= avail && out->len <= INSN_MAX_LEN;
	}
	if (op == 0x0f && at < avail && (b[at] == 0xb6 || b[at] == 0xb7 || b[at] == 0xbe ||
					 b[at] == 0xbf)) {
		out->size = (b[at] & 1) ? 2 : 1;
		out->opsize = full;
		out->sign = b[at] >= 0xbe;
		at++;
	} else if (op == 0x88 || op == 0x8a || op == 0xc6) {
		out->size = out->opsize = 1;
		out->write = op != 0x8a;
	} else if (op == 0x89 || op == 0x8b || op == 0xc7) {
		out->size = out->opsize = full;
		out->write = op != 0x8b;
	} else {
		return false;
	}
	ml = modrm_len(&b[at], avail - at, mode != CPU_MODE_64 && addr16);
	if (ml < 0) {
		return false;
	}
	if (op == 0xc6 || op == 0xc7) {
		unsigned int isz = out->size == 1 ? 1 : out->size == 2 ? 2 : 4;
		unsigned int imm_at = at + (unsigned int)ml;

		if (((b[at] >> 3) & 7) != 0 || imm_at + isz > avail) {
			return false;
		}
		memcpy(&out->imm, &b[imm_at], isz);
		if (isz == 4 && out->size == 8) {
			out->imm = (uint64_t)(int64_t)(int32_t)out->imm;	/* imm32, sign-extended */
		}
		out->reg = -1;
		out->len = imm_at + isz;
	} else {
		reg_operand(out, b[at], p.rex);
		out->len = at + (unsigned int)ml;
	}
	return out->len <= INSN_MAX_LEN;
}

static uint64_t size_mask(unsigned int size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t source_value(struct svm_vcpu *sv, const struct mmio_insn *in)
{
	uint64_t r;

	if (in->reg < 0) {
		return in->imm & size_mask(in->size);
	}
	r = *svm_gpr(sv, (unsigned int)in->reg);
	return (in->high8 ? r >> 8 : r) & size_mask(in->size);
}

/* Store a loaded @value as the instruction would: extend, zero-extend or merge. */
static void store_result(struct svm_vcpu *sv, const struct mmio_insn *in, uint64_t value)
{
	uint64_t *r = svm_gpr(sv, (unsigned int)in->reg);

	value &= size_mask(in->size);
	if (in->sign && !(in->size == 8) && (value >> (8 * in->size - 1)) & 1) {
		value |= ~size_mask(in->size);
	}
	switch (in->opsize) {
	case 1:
		if (in->high8) {
			*r = (*r & ~0xff00ull) | ((value & 0xff) << 8);
		} else {
			*r = (*r & ~0xffull) | (value & 0xff);
		}
		break;
	case 2:
		*r = (*r & ~0xffffull) | (value & 0xffff);
		break;
	case 4:
		*r = (uint32_t)value;	/* 32-bit destinations zero-extend */
		break;
	default:
		*r = value;
		break;
	}
}

/* The bytes at RIP: the ones the CPU fetched (decode assists), else read by Keel. */
static size_t insn_bytes(struct vcpu *v, struct svm_vcpu *sv, uint8_t bytes[INSN_MAX_LEN])
{
	unsigned int fetched = sv->vmcb->control.insn_bytes_fetched & 0xf;

	if (svm_features.decode_assists && fetched > 0) {
		memcpy(bytes, sv->vmcb->control.insn_bytes, fetched);
		return fetched;
	}
	return svm_fetch_insn(v, bytes);
}

bool svm_mmio(struct vcpu *v, uint64_t gpa)
{
	struct svm_vcpu *sv = svm_vcpu(v);
	struct vmcb_save *s = &sv->vmcb->save;
	uint8_t bytes[INSN_MAX_LEN];
	struct mmio_insn in;
	bool absent = !vplatform_claims_mmio(v->domain, gpa);
	uint64_t value = 0;
	size_t got;

	if (absent && (gpa < KEEL_X86_GPA_LOW_RAM_END || gpa >= LEGACY_HOLE_END)) {
		return false;
	}
	got = insn_bytes(v, sv, bytes);
	if (!decode(bytes, got, svm_cpu_mode(s), &in)) {
		domain_crash(v->domain, "vCPU %u: access to device MMIO at %#llx by an instruction "
			     "Keel does not emulate (RIP %#llx)", v->id, (unsigned long long)gpa,
			     (unsigned long long)s->rip);
		return true;
	}
	if (in.write) {
		value = source_value(sv, &in);
	}
	if (absent) {
		value = ~0ull;	/* nothing answers: the bus floats high */
	} else if (!vplatform_mmio(v, gpa, in.size, in.write, &value)) {
		domain_crash(v->domain, "vCPU %u: %u-byte MMIO %s at %#llx that no device took "
			     "(RIP %#llx)", v->id, in.size, in.write ? "write" : "read",
			     (unsigned long long)gpa, (unsigned long long)s->rip);
		return true;
	}
	if (!in.write) {
		store_result(sv, &in, value);
	}
	/* Like skip(): an STI shadow covered only the instruction completed here. */
	sv->vmcb->control.interrupt_shadow &= ~1ull;
	svm_advance_rip(s, in.len);
	return true;
}
