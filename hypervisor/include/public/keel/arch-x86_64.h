/* SPDX-License-Identifier: MIT */
/* keel/arch-x86_64.h: x86_64 calling convention, hypercall page, guest physical layout, vCPU context. */
#ifndef KEEL_PUBLIC_ARCH_X86_64_H
#define KEEL_PUBLIC_ARCH_X86_64_H

#include "abi.h"

/*
 * Calling convention (docs/abi/README.md explains the choice):
 *
 *   entry       call <hypercall page> + KEEL_X86_HYPERCALL_ENTRY
 *               (the page holds vmmcall or vmcall, whichever the CPU needs)
 *   CPU mode    64-bit mode, CPL 0; elsewhere the instruction raises #UD
 *               (CPL > 0 in 64-bit mode: RAX = -KEEL_EPERM, nothing done)
 *   number      RAX (bits 63:12 must be 0, else -KEEL_ENOSYS)
 *   arguments   RDI, RSI, RDX, R10, R8, R9  (arg0 .. arg5)
 *   return      RAX (signed: >= 0 success, -KEEL_E* failure)
 *   clobbered   RAX, RCX, R11, the six argument registers, RFLAGS
 *               arithmetic flags; everything else (RBX, RBP, RSP, R12-R15,
 *               x87/SSE/AVX state, other RFLAGS bits) is preserved
 *
 * Unused argument registers are ignored. A 32-bit argument (domid, port,
 * vCPU, ...) must have bits 63:32 clear, else -KEEL_EINVAL. Executing
 * vmcall/vmmcall outside the page is not part of the ABI.
 *
 * Hypercall page MSR (index from CPUID B+1 ECX; Keel 1.0 uses
 * KEEL_X86_MSR_HYPERCALL): write (GFN << 12) | KEEL_X86_HYPERCALL_ENABLE
 * from any vCPU; Keel fills that RAM page for the whole domain. Bits 11:1
 * must be 0 and the GFN must be the domain's RAM, else #GP. Reading returns
 * the last value written. Allowed before KEEL_HC_IDENTIFY.
 */
#define KEEL_X86_MSR_HYPERCALL		0x4b454500u
#define KEEL_X86_HYPERCALL_ENABLE	0x00000001u
#define KEEL_X86_HYPERCALL_ENTRY	0	/* offset of the only entry in 1.0 */

/*
 * Guest physical layout Keel uses for the domains it builds and expects of
 * builders that use the control interface (docs/abi/boot.md). The device
 * table and memory map are authoritative; these are Keel 1.0's values.
 */
#define KEEL_X86_GPA_LOW_RAM_END	0x000a0000u	/* RAM below this may exist */
#define KEEL_X86_GPA_FIRMWARE		0x000e0000u	/* Keel-written ACPI tables; RSDP here */
#define KEEL_X86_GPA_FIRMWARE_SIZE	0x00020000u
#define KEEL_X86_GPA_MMIO_HOLE		0xc0000000u	/* no RAM from here to 4 GiB */
#define KEEL_X86_GPA_MMIO_HOLE_SIZE	0x40000000u
#define KEEL_X86_GPA_PCI_MMIO		0xe0000000u	/* PCI BARs are placed here */
#define KEEL_X86_GPA_PCI_MMIO_SIZE	0x10000000u
#define KEEL_X86_GPA_MAP_WINDOW		0xf0000000u	/* kept empty for Keel mappings */
#define KEEL_X86_GPA_MAP_WINDOW_SIZE	0x04000000u
#define KEEL_X86_GPA_IOAPIC		0xfec00000u
#define KEEL_X86_GPA_LAPIC		0xfee00000u
#define KEEL_X86_UART_PORT		0x3f8
#define KEEL_X86_UART_GSI		4

/*
 * The Keel platform PCI device (docs/abi/boot.md): bus 0, device 1, function
 * 0, behind a host bridge at bus 0, device 0 (configuration mechanism #1,
 * I/O ports 0xcf8/0xcfc). BAR0: 4 KiB MMIO with the MSI-X table (one entry per vCPU) and PBA.
 * BAR2: 64-bit prefetchable memory, the map window. INTx pin A.
 * The vendor id is provisional until Keel registers one with the PCI-SIG.
 */
#define KEEL_PCI_VENDOR_ID		0x4b45
#define KEEL_PCI_DEVICE_PLATFORM	0x0001
#define KEEL_PCI_CLASS_PLATFORM		0x088000	/* base 08 system peripheral, sub 80 other */
#define KEEL_PCI_PLATFORM_DEVFN		0x08		/* device 1, function 0 */

/*
 * Segment attributes use the SVM VMCB layout: bits 3:0 type, 4 S, 6:5 DPL,
 * 7 P, 8 AVL, 9 L, 10 D/B, 11 G; bits 15:12 zero. P = 0 marks a null or
 * unusable segment.
 */
struct keel_x86_segment {
	uint16_t selector;		/* IN/OUT */
	uint16_t attr;			/* IN/OUT */
	uint32_t limit;			/* IN/OUT: byte granular (G already applied) */
	uint64_t base;			/* IN/OUT */
};

struct keel_x86_dtable {
	uint64_t base;			/* IN/OUT */
	uint32_t limit;			/* IN/OUT: 0 .. 0xffff */
	uint32_t pad0;			/* MBZ */
};

/*
 * A vCPU's architectural state, for KEEL_HC_VCPU_UP and
 * KEEL_HC_CTL_VCPU_SET_CONTEXT / _GET_CONTEXT. Keel rejects (KEEL_EINVAL) a
 * state the CPU could not enter: reserved bits set in CR0/CR4/EFER/RFLAGS,
 * CR0.PG without CR0.PE, EFER.LME with CR0.PG and without CR4.PAE, a
 * non-canonical RIP or base in 64-bit mode, CR3 outside guest RAM when
 * paging is on, reserved[] != 0. Everything not in the struct (FPU, MSRs
 * not listed, local APIC) is in its reset state when the vCPU starts.
 */
struct keel_x86_vcpu_context {
	uint64_t rax;			/* IN/OUT */
	uint64_t rbx;			/* IN/OUT */
	uint64_t rcx;			/* IN/OUT */
	uint64_t rdx;			/* IN/OUT */
	uint64_t rsi;			/* IN/OUT */
	uint64_t rdi;			/* IN/OUT */
	uint64_t rbp;			/* IN/OUT */
	uint64_t rsp;			/* IN/OUT */
	uint64_t r8;			/* IN/OUT */
	uint64_t r9;			/* IN/OUT */
	uint64_t r10;			/* IN/OUT */
	uint64_t r11;			/* IN/OUT */
	uint64_t r12;			/* IN/OUT */
	uint64_t r13;			/* IN/OUT */
	uint64_t r14;			/* IN/OUT */
	uint64_t r15;			/* IN/OUT */
	uint64_t rip;			/* IN/OUT */
	uint64_t rflags;		/* IN/OUT: bit 1 must be set */
	uint64_t cr0;			/* IN/OUT */
	uint64_t cr2;			/* IN/OUT */
	uint64_t cr3;			/* IN/OUT */
	uint64_t cr4;			/* IN/OUT */
	uint64_t efer;			/* IN/OUT: LMA is derived, its input is ignored */
	uint64_t pat;			/* IN/OUT: IA32_PAT; 0 = the reset value */
	struct keel_x86_segment cs;	/* IN/OUT */
	struct keel_x86_segment ds;	/* IN/OUT */
	struct keel_x86_segment es;	/* IN/OUT */
	struct keel_x86_segment fs;	/* IN/OUT */
	struct keel_x86_segment gs;	/* IN/OUT */
	struct keel_x86_segment ss;	/* IN/OUT */
	struct keel_x86_segment tr;	/* IN/OUT */
	struct keel_x86_segment ldtr;	/* IN/OUT */
	struct keel_x86_dtable gdtr;	/* IN/OUT */
	struct keel_x86_dtable idtr;	/* IN/OUT */
	uint64_t kernel_gs_base;	/* IN/OUT */
	uint64_t reserved[5];		/* MBZ */
};

#endif /* KEEL_PUBLIC_ARCH_X86_64_H */
