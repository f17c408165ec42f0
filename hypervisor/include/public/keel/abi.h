/* SPDX-License-Identifier: MIT */
/* keel/abi.h: ABI version, base conventions, CPUID discovery, feature bits and guest identification. */
#ifndef KEEL_PUBLIC_ABI_H
#define KEEL_PUBLIC_ABI_H

/*
 * Every Keel public header uses only uint8_t..uint64_t and int8_t..int64_t.
 * They come from <stdint.h> unless the includer defines KEEL_NO_STDINT and
 * provides those typedefs itself (kernels without a C library).
 *
 * Conventions (docs/abi/README.md):
 *   - all fields are little-endian, naturally aligned, with explicit padding;
 *   - IN: written by the caller, OUT: written by Keel (or the peer named in
 *     the comment), MBZ: must be zero when written, ignored when read;
 *   - addresses passed to Keel are guest-physical addresses (GPA); a "GFN" is
 *     a guest frame number, GPA >> KEEL_PAGE_SHIFT.
 * Numbers in this directory are append-only; see docs/abi/CHANGES.md.
 */
#ifndef KEEL_NO_STDINT
#include <stdint.h>
#endif

/*
 * ABI version. Compatible iff majors are equal and the guest's minor <= Keel's.
 * The minor is the one value here that changes: it only grows, by one for
 * each release that adds calls (docs/abi/CHANGES.md lists what each added).
 */
#define KEEL_ABI_MAJOR			1
#define KEEL_ABI_MINOR			1
#define KEEL_ABI_VERSION		0x00010001	/* (major << 16) | minor */

/* The ABI page size, whatever page sizes the CPU supports. */
#define KEEL_PAGE_SHIFT			12
#define KEEL_PAGE_SIZE			4096

/*
 * Domain ids. Keel assigns ids from 1 upwards and never reuses one during a
 * boot of Keel. 0 names no domain.
 */
#define KEEL_DOMID_NONE			0x00000000u
#define KEEL_DOMID_FIRST		0x00000001u
#define KEEL_DOMID_LAST			0x7fffffffu
#define KEEL_DOMID_SELF			0xfffffff0u	/* "the caller", where a call says so */
#define KEEL_DOMID_INVALID		0xffffffffu

/*
 * CPUID discovery (x86). Keel's leaves start at a base B, the first of
 * 0x40000000, 0x40000100, ..., 0x4000ff00 whose leaf B+1 returns
 * EAX == KEEL_CPUID_INTERFACE_SIG and whose leaf B returns EAX >= B + 4.
 * Guests MUST scan; Keel 1.0 uses B = 0x40000000.
 *
 *   B+0  EAX: highest Keel leaf. EBX, ECX, EDX: vendor "KeelKeelKeel"
 *        (informational: another hypervisor may implement this ABI).
 *   B+1  EAX: KEEL_CPUID_INTERFACE_SIG ("KEEL"). EBX: ABI version
 *        ((major << 16) | minor). ECX: MSR index of the hypercall page.
 *        EDX: 0.
 *   B+2  EAX, EBX, ECX, EDX: feature words 0, 1, 2, 3 (KEEL_F0_*).
 *   B+3  EAX: TSC frequency in kHz. EBX: local APIC timer input frequency
 *        in kHz (before the divider). ECX, EDX: 0.
 *   B+4  EAX: index of the executing vCPU. EBX: the domain id. ECX: number
 *        of vCPUs of the domain. EDX: 0.
 */
#define KEEL_CPUID_BASE_FIRST		0x40000000u
#define KEEL_CPUID_BASE_STEP		0x00000100u
#define KEEL_CPUID_BASE_LAST		0x4000ff00u
#define KEEL_CPUID_LEAF_VENDOR		0
#define KEEL_CPUID_LEAF_INTERFACE	1
#define KEEL_CPUID_LEAF_FEATURES	2
#define KEEL_CPUID_LEAF_TIMING		3
#define KEEL_CPUID_LEAF_DOMAIN		4
#define KEEL_CPUID_LEAF_COUNT_V1	5
#define KEEL_CPUID_VENDOR_REG		0x6c65654bu	/* "Keel" in each of EBX, ECX, EDX */
#define KEEL_CPUID_INTERFACE_SIG	0x4c45454bu	/* "KEEL" */

/*
 * Feature word 0 (CPUID B+2 EAX; KEEL_HC_FEATURES index 0). A set bit means
 * the behaviour is available to this domain. Bits not defined here are zero.
 */
#define KEEL_F0_UPCALL_VECTOR		0x00000001u	/* KEEL_UPCALL_VECTOR delivery */
#define KEEL_F0_UPCALL_PLATFORM		0x00000002u	/* platform PCI device upcalls */
#define KEEL_F0_TSC_STABLE		0x00000004u	/* TSC invariant and synchronised */
#define KEEL_F0_EVTCHN_EXPAND		0x00000008u	/* ports above 4095 via KEEL_HC_EVTCHN_EXPAND */
#define KEEL_F0_CONTROL			0x00000010u	/* control interface (keel/control.h) */
#define KEEL_F0_DEVICE_TABLE		0x00000020u	/* KEEL_HC_DEVICE_TABLE_READ */
#define KEEL_FEATURE_WORDS		4

/* Operating system ids for struct keel_identity.os_id. */
#define KEEL_OS_UNKNOWN			0
#define KEEL_OS_LINUX			1
#define KEEL_OS_FREEBSD			2
#define KEEL_OS_NETBSD			3
#define KEEL_OS_OPENBSD			4
#define KEEL_OS_ILLUMOS			5
#define KEEL_OS_SOLARIS			6
#define KEEL_OS_WINDOWS			7
#define KEEL_OS_REFERENCE		8	/* Keel's reference port (pvdrivers) */
#define KEEL_OS_TEST			9	/* Keel's in-guest test kernels */
#define KEEL_OS_OTHER			0xffff

/*
 * KEEL_HC_VERSION: report the ABI version Keel implements.
 *   args:   none.
 *   return: (major << 16) | minor, always >= 0.
 *   errors: KEEL_EPERM (called from CPL > 0).
 *   may be called before KEEL_HC_IDENTIFY. capability: none.
 *
 * KEEL_HC_FEATURES: read one 32-bit feature word.
 *   arg0:   IN word index (0 .. KEEL_FEATURE_WORDS - 1).
 *   return: the word, zero-extended; an index Keel does not know returns 0.
 *   errors: KEEL_EPERM (CPL > 0).
 *   may be called before KEEL_HC_IDENTIFY. capability: none.
 *
 * KEEL_HC_IDENTIFY: the guest says which OS and package it is, and which ABI
 * it was built for. Must succeed before any call other than VERSION,
 * FEATURES and IDENTIFY; those fail with KEEL_ENOTIDENT until then. May be
 * repeated (for example after kexec); the last record wins.
 *   arg0:   IN GPA of a struct keel_identity (8-byte aligned, in one page).
 *   return: 0.
 *   errors: KEEL_EVERSION (abi_major != KEEL_ABI_MAJOR of Keel, or
 *           abi_minor > Keel's minor; the domain stays unidentified),
 *           KEEL_EINVAL (os_id is KEEL_OS_UNKNOWN), KEEL_EFAULT, KEEL_EPERM
 *           (CPL > 0).
 *   capability: none.
 */
struct keel_identity {
	uint32_t os_id;			/* IN: KEEL_OS_* */
	uint16_t abi_major;		/* IN: KEEL_ABI_MAJOR the guest was built with */
	uint16_t abi_minor;		/* IN: KEEL_ABI_MINOR the guest was built with */
	uint16_t os_version[4];		/* IN: OS kernel major, minor, patch, build */
	uint16_t pkg_version[4];	/* IN: Keel guest package major, minor, patch, build */
	uint8_t os_name[32];		/* IN: free text, ASCII, NUL-padded */
	uint8_t pkg_name[32];		/* IN: free text, ASCII, NUL-padded */
};

#endif /* KEEL_PUBLIC_ABI_H */
