/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/x86/test_insn.c - unit tests for arch/x86/cpu/insn_len.c.
 *
 * A table of encodings with their lengths in 16-, 32- and 64-bit mode
 * (AMD APM vol. 3, Intel SDM vol. 2). Every encoding is decoded from a heap
 * buffer of exactly its bytes (AddressSanitizer catches any read past them),
 * and every shorter prefix of it must say "truncated".
 */
#include <stdio.h>
#include <x86/insn.h>
#include "unit.h"

#define UNK	INSN_ERR_UNKNOWN

struct encoding {
	const char *name;
	const char *hex;
	int len16, len32, len64;
};

static const struct encoding encodings[] = {
	/* One-byte opcodes. */
	{ "hlt", "f4", 1, 1, 1 },
	{ "in al, imm8", "e4 60", 2, 2, 2 },
	{ "in eax, imm8", "e5 60", 2, 2, 2 },
	{ "out imm8, al", "e6 80", 2, 2, 2 },
	{ "out imm8, eax", "e7 80", 2, 2, 2 },
	{ "in al, dx", "ec", 1, 1, 1 },
	{ "in eax, dx", "ed", 1, 1, 1 },
	{ "out dx, al", "ee", 1, 1, 1 },
	{ "out dx, eax", "ef", 1, 1, 1 },
	{ "insb", "6c", 1, 1, 1 },
	{ "insd", "6d", 1, 1, 1 },
	{ "outsb", "6e", 1, 1, 1 },
	{ "outsd", "6f", 1, 1, 1 },
	{ "int3", "cc", 1, 1, 1 },
	{ "int 0x80", "cd 80", 2, 2, 2 },
	{ "icebp", "f1", 1, 1, 1 },
	{ "iret", "cf", 1, 1, 1 },
	{ "pushf", "9c", 1, 1, 1 },
	{ "popf", "9d", 1, 1, 1 },
	/* Two-byte opcodes without ModRM. */
	{ "clts", "0f 06", 2, 2, 2 },
	{ "invd", "0f 08", 2, 2, 2 },
	{ "wbinvd", "0f 09", 2, 2, 2 },
	{ "ud2", "0f 0b", 2, 2, 2 },
	{ "wrmsr", "0f 30", 2, 2, 2 },
	{ "rdtsc", "0f 31", 2, 2, 2 },
	{ "rdmsr", "0f 32", 2, 2, 2 },
	{ "rdpmc", "0f 33", 2, 2, 2 },
	{ "cpuid", "0f a2", 2, 2, 2 },
	/* 0F 01 register forms: whole opcodes. */
	{ "vmcall", "0f 01 c1", 3, 3, 3 },
	{ "monitor", "0f 01 c8", 3, 3, 3 },
	{ "mwait", "0f 01 c9", 3, 3, 3 },
	{ "xgetbv", "0f 01 d0", 3, 3, 3 },
	{ "xsetbv", "0f 01 d1", 3, 3, 3 },
	{ "vmrun", "0f 01 d8", 3, 3, 3 },
	{ "vmmcall", "0f 01 d9", 3, 3, 3 },
	{ "vmload", "0f 01 da", 3, 3, 3 },
	{ "vmsave", "0f 01 db", 3, 3, 3 },
	{ "stgi", "0f 01 dc", 3, 3, 3 },
	{ "clgi", "0f 01 dd", 3, 3, 3 },
	{ "skinit", "0f 01 de", 3, 3, 3 },
	{ "invlpga", "0f 01 df", 3, 3, 3 },
	{ "swapgs", "0f 01 f8", 3, 3, 3 },
	{ "rdtscp", "0f 01 f9", 3, 3, 3 },
	{ "monitorx", "0f 01 fa", 3, 3, 3 },
	{ "mwaitx", "0f 01 fb", 3, 3, 3 },
	/* 0F 01 memory forms. 16-bit addressing: rm 100 is [si], no SIB;
	 * mod 00 rm 110 is disp16; mod 01 disp8; mod 10 disp16. */
	{ "lgdt [eax] / [bx+si]", "0f 01 10", 3, 3, 3 },
	{ "invlpg [eax]", "0f 01 38", 3, 3, 3 },
	{ "lidt [esp] (SIB)", "0f 01 1c 24", 3, 4, 4 },
	{ "sgdt [disp32] (SIB, no base)", "0f 01 04 25 78 56 34 12", 3, 8, 8 },
	{ "lgdt [eax+disp8]", "0f 01 50 10", 4, 4, 4 },
	{ "lgdt [eax+disp32]", "0f 01 90 78 56 34 12", 5, 7, 7 },
	{ "lgdt [esp+disp8] (SIB)", "0f 01 54 24 08", 4, 5, 5 },
	{ "lgdt [esp+disp32] (SIB)", "0f 01 94 24 78 56 34 12", 5, 8, 8 },
	{ "lgdt [disp32] / [rip+disp32]", "0f 01 15 78 56 34 12", 3, 7, 7 },
	{ "lgdt [disp16] (16-bit)", "0f 01 16 34 12", 5, 3, 3 },
	{ "smsw [eax]", "0f 01 20", 3, 3, 3 },
	{ "lmsw [eax]", "0f 01 30", 3, 3, 3 },
	/* 0F 00: ModRM in every form. */
	{ "sldt [eax]", "0f 00 00", 3, 3, 3 },
	{ "lldt ax", "0f 00 d0", 3, 3, 3 },
	{ "ltr [esp+8] (SIB)", "0f 00 5c 24 08", 4, 5, 5 },
	{ "verw [disp32]", "0f 00 2d 78 56 34 12", 3, 7, 7 },
	/* MOV to/from CR and DR: always register operands, the ModRM mod bits
	 * are ignored (Intel SDM vol. 2B, MOV to/from Control/Debug Registers). */
	{ "mov eax, cr0", "0f 20 c0", 3, 3, 3 },
	{ "mov cr3, eax", "0f 22 d8", 3, 3, 3 },
	{ "mov eax, dr7", "0f 21 f8", 3, 3, 3 },
	{ "mov dr7, eax", "0f 23 f8", 3, 3, 3 },
	{ "mov cr0, eax with mod 00 rm 101", "0f 22 05 11 22 33 44", 3, 3, 3 },
	{ "mov eax, cr2 with mod 01", "0f 20 50 10", 3, 3, 3 },
	{ "mov dr0, eax with mod 10 and rm 100", "0f 23 84 24 11 22 33 44", 3, 3, 3 },
	/* Legacy prefixes. */
	{ "rep insb", "f3 6c", 2, 2, 2 },
	{ "repne hlt", "f2 f4", 2, 2, 2 },
	{ "o16 in ax, dx", "66 ed", 2, 2, 2 },
	{ "cs lgdt [eax]", "2e 0f 01 10", 4, 4, 4 },
	{ "ds lgdt [eax]", "3e 0f 01 10", 4, 4, 4 },
	{ "gs lgdt [eax]", "65 0f 01 10", 4, 4, 4 },
	{ "lock mov eax, cr8 (AMD)", "f0 0f 20 c0", 4, 4, 4 },
	{ "es ss fs hlt", "26 36 64 f4", 4, 4, 4 },
	{ "o16 a32 rep cs outsd", "66 67 f3 2e 6d", 5, 5, 5 },
	/* 0x67 flips 16 <-> 32-bit addressing; in 64-bit mode it gives 32-bit. */
	{ "a32/a16 lgdt [disp16] or [esi]", "67 0f 01 16 34 12", 4, 6, 4 },
	{ "a32/a16 lgdt [esp] or [si]", "67 0f 01 14 24", 5, 4, 5 },
	{ "a32/a16 lgdt [eax+disp32]", "67 0f 01 90 78 56 34 12", 8, 6, 8 },
	/* REX: a prefix only in 64-bit mode; elsewhere 0x40-0x4f is inc/dec. */
	{ "iretq", "48 cf", UNK, UNK, 2 },
	{ "rex hlt", "40 f4", UNK, UNK, 2 },
	{ "rex.wrxb hlt", "4f f4", UNK, UNK, 2 },
	{ "rex.w rdmsr", "48 0f 32", UNK, UNK, 3 },
	{ "rex.b lgdt [r12] (SIB)", "41 0f 01 14 24", UNK, UNK, 5 },
	{ "rex.r mov rax, cr8", "44 0f 20 c0", UNK, UNK, 4 },
	{ "o16 rex.w in", "66 48 ed", UNK, UNK, 3 },
	{ "rex before a legacy prefix (refused)", "48 66 ed", UNK, UNK, UNK },
	{ "two rex prefixes (refused)", "48 48 f4", UNK, UNK, UNK },
	/* Not intercepted: refused rather than guessed. */
	{ "nop", "90", UNK, UNK, UNK },
	{ "mov eax, imm32", "b8 01 00 00 00", UNK, UNK, UNK },
	{ "syscall", "0f 05", UNK, UNK, UNK },
	{ "0f ff", "0f ff", UNK, UNK, UNK },
	{ "0f 01 c0 (unlisted register form)", "0f 01 c0", UNK, UNK, UNK },
	{ "rdpkru", "0f 01 ee", UNK, UNK, UNK },
	{ "smsw eax (register form)", "0f 01 e0", UNK, UNK, UNK },
};

static const enum cpu_mode modes[] = { CPU_MODE_16, CPU_MODE_32, CPU_MODE_64 };

static int expected(const struct encoding *e, enum cpu_mode mode)
{
	return mode == CPU_MODE_16 ? e->len16 : mode == CPU_MODE_32 ? e->len32 : e->len64;
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int byte;
	int used;

	while (n < max && sscanf(hex, " %2x%n", &byte, &used) == 1) {
		out[n++] = (uint8_t)byte;
		hex += used;
	}
	return n;
}

/* Decode @n bytes from an exactly-sized heap copy. */
static int decode(const uint8_t *bytes, size_t n, enum cpu_mode mode)
{
	uint8_t *copy = exact_copy(bytes, n);
	int len = insn_length(copy, n, mode);

	free(copy);
	return len;
}

static void check_at(const char *name, enum cpu_mode mode, int got, int want)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "%s in %d-bit mode: length %d, expected %d", name,
		 (int)mode, got, want);
	CU_assertImplementation(got == want, __LINE__, msg, __FILE__, "", CU_FALSE);
}

static void test_every_encoding_in_every_mode(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(encodings); i++) {
		const struct encoding *e = &encodings[i];
		uint8_t bytes[INSN_MAX_LEN + 1];
		size_t n = parse_hex(e->hex, bytes, sizeof(bytes));

		for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
			check_at(e->name, modes[m], decode(bytes, n, modes[m]),
				 expected(e, modes[m]));
		}
	}
}

static void test_trailing_bytes_are_not_consumed(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(encodings); i++) {
		const struct encoding *e = &encodings[i];
		uint8_t bytes[INSN_MAX_LEN + 1];
		size_t n = parse_hex(e->hex, bytes, sizeof(bytes));

		memset(bytes + n, 0x90, sizeof(bytes) - n);
		for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
			check_at(e->name, modes[m], decode(bytes, sizeof(bytes), modes[m]),
				 expected(e, modes[m]));
		}
	}
}

static void test_truncated_at_every_length(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(encodings); i++) {
		const struct encoding *e = &encodings[i];
		uint8_t bytes[INSN_MAX_LEN + 1];

		parse_hex(e->hex, bytes, sizeof(bytes));
		for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
			int len = expected(e, modes[m]);

			for (int n = 0; n < len; n++) {
				check_at(e->name, modes[m], decode(bytes, (size_t)n, modes[m]),
					 INSN_ERR_TRUNCATED);
			}
		}
	}
}

/* Each legacy prefix in front of a known instruction adds exactly one byte. */
static void test_any_legacy_prefix_adds_one_byte(void)
{
	static const uint8_t prefixes[] = { 0x66, 0xf3, 0xf2, 0xf0, 0x2e, 0x3e,
					    0x26, 0x36, 0x64, 0x65 };

	for (size_t i = 0; i < ARRAY_SIZE(encodings); i++) {
		const struct encoding *e = &encodings[i];
		uint8_t bytes[INSN_MAX_LEN + 2];
		size_t n = parse_hex(e->hex, bytes + 1, INSN_MAX_LEN);

		for (size_t p = 0; p < ARRAY_SIZE(prefixes); p++) {
			bytes[0] = prefixes[p];
			for (size_t m = 0; m < ARRAY_SIZE(modes); m++) {
				int len = expected(e, modes[m]);

				check_at(e->name, modes[m], decode(bytes, n + 1, modes[m]),
					 len > 0 ? len + 1 : len);
			}
		}
	}
}

static bool is_prefix(uint8_t b)
{
	static const uint8_t prefixes[] = { 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e,
					    0x26, 0x36, 0x64, 0x65 };

	return memchr(prefixes, b, sizeof(prefixes)) != NULL || (b & 0xf0) == 0x40;
}

/* REX right before a known opcode: one more byte in 64-bit mode only. */
static void test_rex_in_front_of_plain_opcodes(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(encodings); i++) {
		const struct encoding *e = &encodings[i];
		uint8_t bytes[INSN_MAX_LEN + 2];
		size_t n = parse_hex(e->hex, bytes + 1, INSN_MAX_LEN);

		if (e->len64 <= 0 || is_prefix(bytes[1])) {
			continue;
		}
		bytes[0] = 0x48;
		check_at(e->name, CPU_MODE_64, decode(bytes, n + 1, CPU_MODE_64), e->len64 + 1);
		check_at(e->name, CPU_MODE_32, decode(bytes, n + 1, CPU_MODE_32), UNK);
		check_at(e->name, CPU_MODE_16, decode(bytes, n + 1, CPU_MODE_16), UNK);
	}
}

static void test_fifteen_bytes_at_most(void)
{
	uint8_t bytes[INSN_MAX_LEN + 4];

	memset(bytes, 0x66, sizeof(bytes));
	bytes[14] = 0xf4;			/* 14 prefixes + hlt: exactly 15 */
	CU_ASSERT_EQUAL(decode(bytes, 15, CPU_MODE_32), 15);
	CU_ASSERT_EQUAL(decode(bytes, 14, CPU_MODE_32), INSN_ERR_TRUNCATED);

	bytes[14] = 0xe4;			/* + imm8: 16 */
	bytes[15] = 0x60;
	CU_ASSERT_EQUAL(decode(bytes, 16, CPU_MODE_32), INSN_ERR_TOO_LONG);
	/* Too long is known before the 16th byte is even there. */
	CU_ASSERT_EQUAL(decode(bytes, 15, CPU_MODE_32), INSN_ERR_TOO_LONG);

	memset(bytes, 0x66, sizeof(bytes));	/* 15 prefixes, then hlt */
	bytes[15] = 0xf4;
	CU_ASSERT_EQUAL(decode(bytes, 16, CPU_MODE_32), INSN_ERR_TOO_LONG);
	CU_ASSERT_EQUAL(decode(bytes, 15, CPU_MODE_64), INSN_ERR_TOO_LONG);

	memset(bytes, 0x2e, sizeof(bytes));	/* 13 prefixes + lgdt [esp] (SIB): 17 */
	memcpy(bytes + 13, "\x0f\x01\x14\x24", 4);
	CU_ASSERT_EQUAL(decode(bytes, 17, CPU_MODE_32), INSN_ERR_TOO_LONG);
	memcpy(bytes + 12, "\x0f\x01\x10", 3);	/* 12 + lgdt [eax]: 15 */
	CU_ASSERT_EQUAL(decode(bytes, 15, CPU_MODE_32), 15);

	memset(bytes, 0x3e, sizeof(bytes));	/* 13 prefixes + REX + hlt: 15 */
	bytes[13] = 0x48;
	bytes[14] = 0xf4;
	CU_ASSERT_EQUAL(decode(bytes, 15, CPU_MODE_64), 15);
	bytes[13] = 0x3e;			/* 14 prefixes + REX + hlt: 16 */
	bytes[14] = 0x48;
	bytes[15] = 0xf4;
	CU_ASSERT_EQUAL(decode(bytes, 16, CPU_MODE_64), INSN_ERR_TOO_LONG);
}

static void test_nothing_but_prefixes(void)
{
	CU_ASSERT_EQUAL(decode((const uint8_t *)"", 0, CPU_MODE_64), INSN_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\x66\x67", 2, CPU_MODE_32), INSN_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\x48", 1, CPU_MODE_64), INSN_ERR_TRUNCATED);
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\x48", 1, CPU_MODE_32), INSN_ERR_UNKNOWN);
	CU_ASSERT_EQUAL(decode((const uint8_t *)"\xf3\x48", 2, CPU_MODE_64), INSN_ERR_TRUNCATED);
}

static CU_TestInfo insn_tests[] = {
	{ "every encoding in every mode", test_every_encoding_in_every_mode },
	{ "trailing bytes are not consumed", test_trailing_bytes_are_not_consumed },
	{ "truncated at every length", test_truncated_at_every_length },
	{ "any legacy prefix adds one byte", test_any_legacy_prefix_adds_one_byte },
	{ "REX in front of plain opcodes", test_rex_in_front_of_plain_opcodes },
	{ "fifteen bytes at most", test_fifteen_bytes_at_most },
	{ "nothing but prefixes", test_nothing_but_prefixes },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo insn_suite = {
	.pName = "insn",
	.pTests = insn_tests,
};
