/* SPDX-License-Identifier: MIT */
/*
 * cpu/insn_len.c - length of intercepted x86 instructions (AMD APM vol. 3).
 *
 * Covers: hlt, in/out (imm8 and DX forms), ins/outs, int3, int n, icebp,
 * iret, pushf/popf, cpuid, rdmsr/wrmsr, rdtsc, rdtscp, rdpmc, invd, wbinvd,
 * clts, ud2, the SVM instructions (vmrun, vmmcall, vmload, vmsave, stgi,
 * clgi, skinit, invlpga), vmcall, monitor/mwait(x), xgetbv/xsetbv, swapgs,
 * the 0F 01 and 0F 00 groups with a memory operand (lgdt, invlpg, ...),
 * and mov to/from control and debug registers.
 */
#include <x86/insn.h>

struct decoder {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
	bool addr16;		/* 16-bit addressing (ModRM without SIB) */
};

bool insn_is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:		/* lock, repne, rep */
	case 0x2e: case 0x36: case 0x3e: case 0x26:	/* segment overrides */
	case 0x64: case 0x65:
	case 0x66: case 0x67:				/* operand, address size */
		return true;
	default:
		return false;
	}
}

static int need(struct decoder *d, size_t more)
{
	if (d->pos + more > INSN_MAX_LEN) {
		return INSN_ERR_TOO_LONG;
	}
	if (d->pos + more > d->avail) {
		return INSN_ERR_TRUNCATED;
	}
	return 0;
}

/* Skip a ModRM byte and whatever addressing bytes follow it. */
static int skip_modrm(struct decoder *d)
{
	uint8_t modrm, mod, rm;
	size_t extra = 0;
	int err = need(d, 1);

	if (err) {
		return err;
	}
	modrm = d->bytes[d->pos++];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3) {
		return 0;
	}
	if (d->addr16) {
		extra = (mod == 1) ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0;
		err = need(d, extra);
		d->pos += extra;
		return err;
	}
	if (rm == 4) {
		uint8_t sib;

		if ((err = need(d, 1)) != 0) {
			return err;
		}
		sib = d->bytes[d->pos++];
		if (mod == 0 && (sib & 7) == 5) {
			extra = 4;
		}
	}
	if (mod == 1) {
		extra = 1;
	} else if (mod == 2 || (mod == 0 && rm == 5)) {
		extra = 4;
	}
	err = need(d, extra);
	d->pos += extra;
	return err;
}

static int skip_imm(struct decoder *d, size_t n)
{
	int err = need(d, n);

	d->pos += n;
	return err;
}

/* The 0F 01 group: register forms are whole opcodes, memory forms take ModRM. */
static int decode_0f01(struct decoder *d)
{
	uint8_t modrm;
	int err = need(d, 1);

	if (err) {
		return err;
	}
	modrm = d->bytes[d->pos];
	if ((modrm >> 6) != 3) {
		return skip_modrm(d);	/* sgdt, sidt, lgdt, lidt, smsw, lmsw, invlpg */
	}
	switch (modrm) {
	case 0xc1:			/* vmcall */
	case 0xc8: case 0xc9:		/* monitor, mwait */
	case 0xd0: case 0xd1:		/* xgetbv, xsetbv */
	case 0xd8: case 0xd9: case 0xda: case 0xdb:	/* vmrun vmmcall vmload vmsave */
	case 0xdc: case 0xdd: case 0xde: case 0xdf:	/* stgi clgi skinit invlpga */
	case 0xf8: case 0xf9:		/* swapgs, rdtscp */
	case 0xfa: case 0xfb:		/* monitorx, mwaitx */
		d->pos++;
		return 0;
	default:
		return INSN_ERR_UNKNOWN;
	}
}

static int decode_0f(struct decoder *d)
{
	uint8_t op;
	int err = need(d, 1);

	if (err) {
		return err;
	}
	op = d->bytes[d->pos++];
	switch (op) {
	case 0x01:
		return decode_0f01(d);
	case 0x00:			/* sldt, str, lldt, ltr, verr, verw */
		return skip_modrm(d);
	case 0x20: case 0x21:		/* mov from CR, DR */
	case 0x22: case 0x23:		/* mov to CR, DR */
		/* Register operands only: the ModRM mod bits are ignored, no
		 * SIB or displacement follows (Intel SDM vol. 2B, MOV). */
		return skip_imm(d, 1);
	case 0x06:			/* clts */
	case 0x08: case 0x09:		/* invd, wbinvd */
	case 0x0b:			/* ud2 */
	case 0x30: case 0x31:		/* wrmsr, rdtsc */
	case 0x32: case 0x33:		/* rdmsr, rdpmc */
	case 0xa2:			/* cpuid */
		return 0;
	default:
		return INSN_ERR_UNKNOWN;
	}
}

static int decode_opcode(struct decoder *d)
{
	uint8_t op = d->bytes[d->pos++];

	switch (op) {
	case 0x0f:
		return decode_0f(d);
	case 0xe4: case 0xe5:		/* in al/eax, imm8 */
	case 0xe6: case 0xe7:		/* out imm8, al/eax */
	case 0xcd:			/* int imm8 */
		return skip_imm(d, 1);
	case 0xec: case 0xed:		/* in from DX */
	case 0xee: case 0xef:		/* out to DX */
	case 0x6c: case 0x6d:		/* ins */
	case 0x6e: case 0x6f:		/* outs */
	case 0xf4:			/* hlt */
	case 0xcc:			/* int3 */
	case 0xf1:			/* icebp */
	case 0xcf:			/* iret */
	case 0x9c: case 0x9d:		/* pushf, popf */
		return 0;
	default:
		return INSN_ERR_UNKNOWN;
	}
}

int insn_length(const uint8_t *bytes, size_t avail, enum cpu_mode mode)
{
	struct decoder d = { .bytes = bytes, .avail = avail };
	bool addr_override = false;
	int err;

	for (;;) {
		if ((err = need(&d, 1)) != 0) {
			return err;
		}
		if (!insn_is_legacy_prefix(bytes[d.pos])) {
			break;
		}
		addr_override |= (bytes[d.pos] == 0x67);
		d.pos++;
	}
	/*
	 * No intercepted instruction has an immediate whose size depends on
	 * the operand size, so only the address size matters (for ModRM).
	 * A REX prefix counts only right before the opcode, in 64-bit mode. */
	if (mode == CPU_MODE_64 && (bytes[d.pos] & 0xf0) == 0x40) {
		d.pos++;
		if ((err = need(&d, 1)) != 0) {
			return err;
		}
	}
	if (mode == CPU_MODE_16) {
		d.addr16 = !addr_override;
	} else if (mode == CPU_MODE_32) {
		d.addr16 = addr_override;
	}
	err = decode_opcode(&d);
	return err ? err : (int)d.pos;
}
