/* SPDX-License-Identifier: MIT */
/* start64.S: entry of a Keel-native test kernel, its ELF notes, GDT, stack and exception stubs. */

/*
 * Numbers from the public headers, which the assembler cannot include;
 * runtime.c checks each against its header with _Static_assert.
 */
#define NOTE_NAMESZ		5		/* "Keel" and its NUL */
#define NOTE_TYPE_ENTRY		1		/* KEEL_ELFNOTE_ENTRY */
#define NOTE_TYPE_ABI		2		/* KEEL_ELFNOTE_ABI */
#define ENTRY_MODE_LONG64	1		/* KEEL_ENTRY_MODE_LONG64 */
#define ABI_MAJOR		1		/* KEEL_ABI_MAJOR */
#define ABI_MINOR		1		/* KEEL_ABI_MINOR */
#define STACK_SIZE		65536

/*
 * The notes the builder reads (docs/abi/boot.md "The image"). Names are
 * padded to 4 bytes as ELF notes are, so each descriptor starts at +20.
 */
	.section .note.keel, "a", @note
	.balign 4
	.long	NOTE_NAMESZ
	.long	16			/* sizeof(struct keel_elfnote_entry) */
	.long	NOTE_TYPE_ENTRY
	.asciz	"Keel"
	.balign 4
	.quad	_start64		/* entry: identity-mapped, so GPA == address */
	.long	ENTRY_MODE_LONG64
	.long	0			/* flags MBZ */

	.balign 4
	.long	NOTE_NAMESZ
	.long	8			/* sizeof(struct keel_elfnote_abi) */
	.long	NOTE_TYPE_ABI
	.asciz	"Keel"
	.balign 4
	.short	ABI_MAJOR
	.short	ABI_MINOR
	.long	0			/* pad0 MBZ */

	.section .text.start, "ax"
	.code64
	.globl	_start64
	.type	_start64, @function
_start64:
	/*
	 * Keep every register as the builder left it: the entry-state test
	 * compares them with boot.md. Nothing here may change a register
	 * before it is saved.
	 */
	movq	%rax, kt_entry + 0(%rip)
	movq	%rbx, kt_entry + 8(%rip)
	movq	%rcx, kt_entry + 16(%rip)
	movq	%rdx, kt_entry + 24(%rip)
	movq	%rsi, kt_entry + 32(%rip)
	movq	%rdi, kt_entry + 40(%rip)
	movq	%rbp, kt_entry + 48(%rip)
	movq	%rsp, kt_entry + 56(%rip)
	movq	%r8, kt_entry + 64(%rip)
	movq	%r9, kt_entry + 72(%rip)
	movq	%r10, kt_entry + 80(%rip)
	movq	%r11, kt_entry + 88(%rip)
	movq	%r12, kt_entry + 96(%rip)
	movq	%r13, kt_entry + 104(%rip)
	movq	%r14, kt_entry + 112(%rip)
	movq	%r15, kt_entry + 120(%rip)
	pushfq
	popq	kt_entry + 128(%rip)
	movq	%cr0, %rax
	movq	%rax, kt_entry + 136(%rip)
	movq	%cr3, %rax
	movq	%rax, kt_entry + 144(%rip)
	movq	%cr4, %rax
	movq	%rax, kt_entry + 152(%rip)
	movw	%cs, kt_entry + 160(%rip)
	movw	%ds, kt_entry + 162(%rip)
	movw	%es, kt_entry + 164(%rip)
	movw	%fs, kt_entry + 166(%rip)
	movw	%gs, kt_entry + 168(%rip)
	movw	%ss, kt_entry + 170(%rip)
	sgdt	kt_entry + 176(%rip)
	sidt	kt_entry + 192(%rip)

	/*
	 * From here on nothing of the builder's BOOT memory is used: our own
	 * stack and GDT (same selectors), so a test may inspect or reuse it.
	 */
	leaq	kt_stack_top(%rip), %rsp
	lgdt	kt_gdt_desc(%rip)
	pushq	$0x08
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	cld
	movq	kt_entry + 40(%rip), %rdi
	call	kt_main
2:	cli
	hlt
	jmp	2b
	.size	_start64, . - _start64

/*
 * Exception and interrupt stubs. Each pushes an error code (0 where the CPU
 * pushes none) and its vector, so kt_trap() sees one frame layout
 * (struct kt_frame in traps.c).
 */
	.text
	.macro TRAP_NOERR vec
	.type	kt_trap_\vec, @function
kt_trap_\vec:
	pushq	$0
	pushq	$\vec
	jmp	kt_trap_common
	.endm

	.macro TRAP_ERR vec
	.type	kt_trap_\vec, @function
kt_trap_\vec:
	pushq	$\vec
	jmp	kt_trap_common
	.endm

	.irp	vec, 0, 1, 2, 3, 4, 5, 6, 7, 9, 15, 16, 18, 19, 20, 22, 23, 24, 25, 26, 27, \
		28, 31
	TRAP_NOERR \vec
	.endr
	.irp	vec, 8, 10, 11, 12, 13, 14, 17, 21, 29, 30
	TRAP_ERR \vec
	.endr
	TRAP_NOERR 240			/* KT_UPCALL_VECTOR (0xf0) */

kt_trap_common:
	/*
	 * The CPU aligned RSP to 16 before its 5-word frame; with the 2 words
	 * above and 15 registers here RSP is 16-byte aligned at the call.
	 */
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	kt_trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl	kt_trap_stubs
kt_trap_stubs:
	.irp	vec, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, \
		21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	.quad	kt_trap_\vec
	.endr
	.globl	kt_trap_upcall_stub
kt_trap_upcall_stub:
	.quad	kt_trap_240

/* Flat 64-bit code at 0x08 and data at 0x10, as the builder's GDT (accessed bits preset). */
	.data
	.balign 16
kt_gdt:
	.quad	0
	.quad	0x00af9b000000ffff
	.quad	0x00cf93000000ffff
kt_gdt_end:
	.balign 8
	.short	0
	.short	0
	.short	0
kt_gdt_desc:
	.short	kt_gdt_end - kt_gdt - 1
	.quad	kt_gdt

	.bss
	.balign 4096
kt_stack:
	.skip	STACK_SIZE
	.globl	kt_stack_top
kt_stack_top:

	.section .note.GNU-stack, "", @progbits
