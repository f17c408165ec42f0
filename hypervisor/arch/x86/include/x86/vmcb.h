/* SPDX-License-Identifier: MIT */
/* x86/vmcb.h - the SVM virtual machine control block (AMD APM vol. 2, appendix B). */
#ifndef KEEL_X86_VMCB_H
#define KEEL_X86_VMCB_H

#include <keel/types.h>

struct vmcb_segment {
	uint16_t selector;
	uint16_t attrib;	/* type, S, DPL, P, AVL, L, DB, G in 12 bits */
	uint32_t limit;
	uint64_t base;
};

struct vmcb_control {
	uint32_t intercept_cr;		/* 0x000 reads 0-15, writes 16-31 */
	uint32_t intercept_dr;		/* 0x004 */
	uint32_t intercept_exceptions;	/* 0x008 */
	uint32_t intercept_misc1;	/* 0x00c */
	uint32_t intercept_misc2;	/* 0x010 */
	uint32_t intercept_misc3;	/* 0x014 */
	uint8_t reserved0[0x03c - 0x018];
	uint16_t pause_filter_threshold;	/* 0x03c */
	uint16_t pause_filter_count;	/* 0x03e */
	uint64_t iopm_base_pa;		/* 0x040 */
	uint64_t msrpm_base_pa;		/* 0x048 */
	uint64_t tsc_offset;		/* 0x050 */
	uint32_t asid;			/* 0x058 */
	uint8_t tlb_control;		/* 0x05c */
	uint8_t reserved1[3];
	uint64_t vintr;			/* 0x060 */
	uint64_t interrupt_shadow;	/* 0x068 */
	uint64_t exit_code;		/* 0x070 */
	uint64_t exit_info1;		/* 0x078 */
	uint64_t exit_info2;		/* 0x080 */
	uint64_t exit_int_info;		/* 0x088 */
	uint64_t np_control;		/* 0x090 bit 0: nested paging */
	uint64_t avic_apic_bar;		/* 0x098 */
	uint64_t ghcb_pa;		/* 0x0a0 */
	uint64_t event_inject;		/* 0x0a8 */
	uint64_t n_cr3;			/* 0x0b0 */
	uint64_t lbr_control;		/* 0x0b8 */
	uint32_t clean_bits;		/* 0x0c0 */
	uint32_t reserved2;
	uint64_t next_rip;		/* 0x0c8 (nrip-save) */
	uint8_t insn_bytes_fetched;	/* 0x0d0 (decode assists) */
	uint8_t insn_bytes[15];
	uint8_t reserved3[0x400 - 0x0e0];
};

struct vmcb_save {
	struct vmcb_segment es, cs, ss, ds, fs, gs;	/* 0x400 */
	struct vmcb_segment gdtr, ldtr, idtr, tr;	/* 0x460 */
	uint8_t reserved0[0x4cb - 0x4a0];
	uint8_t cpl;			/* 0x4cb */
	uint32_t reserved1;
	uint64_t efer;			/* 0x4d0 */
	uint8_t reserved2[0x548 - 0x4d8];
	uint64_t cr4;			/* 0x548 */
	uint64_t cr3;
	uint64_t cr0;
	uint64_t dr7;
	uint64_t dr6;
	uint64_t rflags;
	uint64_t rip;			/* 0x578 */
	uint8_t reserved3[0x5d8 - 0x580];
	uint64_t rsp;			/* 0x5d8 */
	uint64_t s_cet, ssp, isst_addr;
	uint64_t rax;			/* 0x5f8 */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2;			/* 0x640 */
	uint8_t reserved4[0x668 - 0x648];
	uint64_t g_pat;			/* 0x668 */
	uint64_t dbgctl;
	uint64_t br_from, br_to, last_excp_from, last_excp_to;
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
	uint8_t reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
};

_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
_Static_assert(__builtin_offsetof(struct vmcb_control, next_rip) == 0x0c8, "nRIP");
_Static_assert(__builtin_offsetof(struct vmcb_save, cpl) == 0x0cb, "CPL");
_Static_assert(__builtin_offsetof(struct vmcb_save, efer) == 0x0d0, "EFER");
_Static_assert(__builtin_offsetof(struct vmcb_save, rip) == 0x178, "RIP");
_Static_assert(__builtin_offsetof(struct vmcb_save, rsp) == 0x1d8, "RSP");
_Static_assert(__builtin_offsetof(struct vmcb_save, rax) == 0x1f8, "RAX");
_Static_assert(__builtin_offsetof(struct vmcb_save, g_pat) == 0x268, "G_PAT");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");

/* intercept_cr */
#define INTERCEPT_CR4_WRITE	(1u << (16 + 4))
#define INTERCEPT_CR8_WRITE	(1u << (16 + 8))

/* intercept_misc1 */
#define INTERCEPT_INTR		(1u << 0)
#define INTERCEPT_NMI		(1u << 1)
#define INTERCEPT_SMI		(1u << 2)
#define INTERCEPT_INIT		(1u << 3)
#define INTERCEPT_VINTR		(1u << 4)
#define INTERCEPT_IRET		(1u << 20)
#define INTERCEPT_RDPMC		(1u << 15)
#define INTERCEPT_CPUID		(1u << 18)
#define INTERCEPT_INVD		(1u << 22)
#define INTERCEPT_HLT		(1u << 24)
#define INTERCEPT_INVLPGA	(1u << 26)
#define INTERCEPT_IOIO		(1u << 27)
#define INTERCEPT_MSR		(1u << 28)
#define INTERCEPT_SHUTDOWN	(1u << 31)
/* intercept_misc2 */
#define INTERCEPT_VMRUN		(1u << 0)
#define INTERCEPT_VMMCALL	(1u << 1)
#define INTERCEPT_VMLOAD	(1u << 2)
#define INTERCEPT_VMSAVE	(1u << 3)
#define INTERCEPT_STGI		(1u << 4)
#define INTERCEPT_CLGI		(1u << 5)
#define INTERCEPT_SKINIT	(1u << 6)
#define INTERCEPT_WBINVD	(1u << 9)
#define INTERCEPT_MONITOR	(1u << 10)
#define INTERCEPT_MWAIT		(1u << 11)
#define INTERCEPT_MWAIT_COND	(1u << 12)
#define INTERCEPT_XSETBV	(1u << 13)

/* vintr */
#define V_TPR_MASK		0xfull
#define V_IRQ			(1ull << 8)
#define V_INTR_PRIO_SHIFT	16
#define V_IGN_TPR		(1ull << 20)
#define V_INTR_MASKING		(1ull << 24)
#define V_INTR_VECTOR_SHIFT	32

/* event_inject and exit_int_info */
#define EVENT_VALID		(1ull << 31)
#define EVENT_ERROR_VALID	(1ull << 11)
#define EVENT_TYPE_SHIFT	8
#define EVENT_TYPE_MASK		(7ull << 8)
#define EVENT_TYPE_INTR		0
#define EVENT_TYPE_NMI		2
#define EVENT_TYPE_EXCEPTION	3
#define EVENT_TYPE_SOFT_INT	4

/* tlb_control */
#define TLB_FLUSH_NONE		0
#define TLB_FLUSH_ALL		1
#define TLB_FLUSH_ASID		3

/* exit codes */
#define VMEXIT_EXCEPTION_BASE	0x40
#define VMEXIT_CR4_WRITE	0x14
#define VMEXIT_CR8_WRITE	0x18
#define VMEXIT_VINTR		0x64
#define VMEXIT_IRET		0x74
#define VMEXIT_EXCP_DB		(VMEXIT_EXCEPTION_BASE + 1)
#define VMEXIT_EXCP_AC		(VMEXIT_EXCEPTION_BASE + 17)
#define VMEXIT_INTR		0x60
#define VMEXIT_NMI		0x61
#define VMEXIT_SMI		0x62
#define VMEXIT_INIT		0x63
#define VMEXIT_RDPMC		0x6f
#define VMEXIT_CPUID		0x72
#define VMEXIT_INVD		0x76
#define VMEXIT_HLT		0x78
#define VMEXIT_INVLPGA		0x7a
#define VMEXIT_IOIO		0x7b
#define VMEXIT_MSR		0x7c
#define VMEXIT_SHUTDOWN		0x7f
#define VMEXIT_VMRUN		0x80
#define VMEXIT_VMMCALL		0x81
#define VMEXIT_VMLOAD		0x82
#define VMEXIT_VMSAVE		0x83
#define VMEXIT_STGI		0x84
#define VMEXIT_CLGI		0x85
#define VMEXIT_SKINIT		0x86
#define VMEXIT_WBINVD		0x89
#define VMEXIT_MONITOR		0x8a
#define VMEXIT_MWAIT		0x8b
#define VMEXIT_MWAIT_COND	0x8c
#define VMEXIT_XSETBV		0x8d
#define VMEXIT_NPF		0x400
#define VMEXIT_INVALID		((uint64_t)-1)

/* IOIO exit_info1 */
#define IOIO_IN			(1u << 0)
#define IOIO_STRING		(1u << 2)
#define IOIO_REP		(1u << 3)
#define IOIO_SIZE_SHIFT		4	/* bits 4-6: 1, 2 or 4 bytes, one-hot */
#define IOIO_ADDR_SHIFT		7	/* bits 7-9: 16, 32 or 64-bit address, one-hot */
#define IOIO_SEG_SHIFT		10	/* bits 10-12: segment of OUTS (ES CS SS DS FS GS) */
#define IOIO_PORT_SHIFT		16

#endif
