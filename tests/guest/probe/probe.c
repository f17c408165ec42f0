/* SPDX-License-Identifier: MIT */
/*
 * probe.c - the boot self-test guest Keel runs after enabling SVM.
 *
 * Exercises the exits of the first VM-entry path: VMMCALL and port I/O in
 * several encodings (imm8 and DX forms, 8/16/32-bit, with prefixes). After
 * each intercepted instruction a marker register must hold the value set
 * right before it and the code must continue at the next instruction: a
 * wrong resume address shows up as a skipped or repeated instruction.
 */
#include "keeltest.h"

#define PROBE_MAGIC	0x4b45454cu
#define PROBE_IN_PORT	0x80
#define PROBE_IN_VALUE	0x5a

static int check_vmmcall(void)
{
	uint32_t eax = PROBE_MAGIC, ebx = 0, after = 0;

	/* ECX counts the instructions around the call: 1 before, 1 after. */
	__asm__ volatile("movl $1, %%ecx\n\t"
			 "vmmcall\n\t"
			 "addl $1, %%ecx\n\t"
			 : "+a"(eax), "+b"(ebx), "=c"(after));
	if (eax != (uint32_t)~PROBE_MAGIC) {
		keeltest_report("vmmcall", KEELTEST_FAILURE, "wrong reply in EAX");
		return 1;
	}
	if (after != 2) {
		keeltest_report("vmmcall", KEELTEST_FAILURE, "did not resume after VMMCALL");
		return 1;
	}
	keeltest_report("vmmcall", KEELTEST_SUCCESS, "");
	return 0;
}

static int check_port_io(void)
{
	uint32_t count = 0, value;

	/* Each OUT form once, with a counter that must step exactly once each. */
	__asm__ volatile("movb $0x4b, %%al\n\t"
			 "outb %%al, $0x80\n\t"		/* E6 ib */
			 "incl %0\n\t"
			 "movw $0x80, %%dx\n\t"
			 "outb %%al, %%dx\n\t"		/* EE */
			 "incl %0\n\t"
			 "outw %%ax, %%dx\n\t"		/* 66 EF */
			 "incl %0\n\t"
			 "outl %%eax, %%dx\n\t"		/* EF */
			 "incl %0\n\t"
			 ".byte 0x3e, 0x66, 0xef\n\t"	/* ds: 66 EF, two prefixes */
			 "incl %0\n\t"
			 : "+r"(count) : : "eax", "edx");
	if (count != 5) {
		keeltest_report("port-out", KEELTEST_FAILURE, "an OUT was skipped or repeated");
		return 1;
	}
	keeltest_report("port-out", KEELTEST_SUCCESS, "");

	value = inb(PROBE_IN_PORT);
	if (value != PROBE_IN_VALUE) {
		keeltest_report("port-in", KEELTEST_FAILURE, "IN returned the wrong value");
		return 1;
	}
	keeltest_report("port-in", KEELTEST_SUCCESS, "");
	return 0;
}

void test_main(void)
{
	console_write("probe guest: hello from 32-bit protected mode\n");
	if (check_vmmcall() || check_port_io()) {
		return;
	}
}
