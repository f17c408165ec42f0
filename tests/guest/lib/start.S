/* SPDX-License-Identifier: MIT */
/*
 * start.S - entry of a test kernel. Keel enters in 32-bit flat protected
 * mode with paging and interrupts off and ESP at the top of guest RAM.
 */
	.section .text.start, "ax"
	.code32
	.global _start
_start:
	cld
	call	keeltest_main
1:	cli
	hlt
	jmp	1b
