/* SPDX-License-Identifier: MIT */
/*
 * x86/insn.h - instruction length decoding for intercepted instructions.
 *
 * Without nrip-save (QEMU TCG has none) SVM does not say where the next
 * instruction starts, so Keel decodes the bytes at the guest's RIP. The
 * decoder knows every instruction Keel intercepts, with any legacy prefixes
 * and REX, and refuses everything else rather than guess.
 */
#ifndef KEEL_X86_INSN_H
#define KEEL_X86_INSN_H

#include <keel/types.h>

enum cpu_mode {
	CPU_MODE_16 = 16,
	CPU_MODE_32 = 32,
	CPU_MODE_64 = 64,
};

#define INSN_MAX_LEN		15
#define INSN_ERR_UNKNOWN	(-1)	/* not an instruction Keel intercepts */
#define INSN_ERR_TRUNCATED	(-2)	/* needs more bytes than given */
#define INSN_ERR_TOO_LONG	(-3)	/* over 15 bytes: #GP on hardware */

/*
 * Length of the instruction in @bytes (@avail of them readable) when
 * executed in @mode, or a negative INSN_ERR_*.
 */
int insn_length(const uint8_t *bytes, size_t avail, enum cpu_mode mode);

/* Lock, REP, segment override, operand- or address-size prefix. */
bool insn_is_legacy_prefix(uint8_t b);

#endif
