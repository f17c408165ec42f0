/* SPDX-License-Identifier: MIT */
/* x86/msr.h - model-specific register numbers and bits Keel uses (AMD APM vol. 2). */
#ifndef KEEL_X86_MSR_H
#define KEEL_X86_MSR_H

#define MSR_APIC_BASE		0x0000001b
#define APIC_BASE_BSP		(1ull << 8)
#define APIC_BASE_ENABLE	(1ull << 11)

#define MSR_PAT			0x00000277
#define MSR_EFER		0xc0000080
#define EFER_SCE		(1ull << 0)
#define EFER_LME		(1ull << 8)
#define EFER_LMA		(1ull << 10)
#define EFER_NXE		(1ull << 11)
#define EFER_SVME		(1ull << 12)

#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

#define MSR_VM_CR		0xc0010114
#define VM_CR_SVMDIS		(1ull << 4)
#define MSR_VM_HSAVE_PA		0xc0010117

#endif
