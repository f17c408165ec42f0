/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/bzimage.c - reads a Linux bzImage's setup header and checks
 * everything Keel relies on (Documentation/arch/x86/boot.rst): the magic,
 * protocol 2.12 or later with a 64-bit entry, and a protected-mode part and
 * payload that lie inside the file.
 */
#include <bootproto/x86_linux.h>
#include "../internal.h"

#define MAX_INIT_SIZE	BP_GIB(1)	/* far beyond any kernel; bounds the RAM check */

static int refuse(const char **why, const char *msg)
{
	*why = msg;
	return -1;
}

/* Offsets and sizes, once the header is known to be in the file. */
static int read_layout(const uint8_t *p, size_t size, struct bzimage *bz, const char **why)
{
	uint64_t sects = p[BZ_SETUP_SECTS] ? p[BZ_SETUP_SECTS] : 4;

	bz->pm_offset = (sects + 1) * 512;
	if (bz->pm_offset + BZ_ENTRY64_OFFSET >= size) {
		return refuse(why, "truncated: no protected-mode code after the setup sectors");
	}
	bz->pm_size = size - bz->pm_offset;
	bz->payload_offset = bp_rd(p + BZ_PAYLOAD_OFFSET, 4);
	bz->payload_size = bp_rd(p + BZ_PAYLOAD_LENGTH, 4);
	if (bz->payload_size == 0 || bz->payload_offset > bz->pm_size ||
	    bz->payload_size > bz->pm_size - bz->payload_offset) {
		return refuse(why, "truncated: the compressed kernel extends past the end");
	}
	bz->payload_offset += bz->pm_offset;	/* from now on a file offset */
	bz->pref_address = bp_rd(p + BZ_PREF_ADDRESS, 8);
	bz->init_size = bp_rd(p + BZ_INIT_SIZE, 4);
	bz->alignment = bp_rd(p + BZ_KERNEL_ALIGNMENT, 4);
	bz->cmdline_size = (uint32_t)bp_rd(p + BZ_CMDLINE_SIZE, 4);
	bz->initrd_max = bp_rd(p + BZ_INITRD_ADDR_MAX, 4);
	if (bz->init_size < bz->pm_size || bz->init_size > MAX_INIT_SIZE) {
		return refuse(why, "its init_size is smaller than the kernel or over 1 GiB");
	}
	if (bz->alignment == 0 || (bz->alignment & (bz->alignment - 1)) != 0 ||
	    (bz->pref_address & (bz->alignment - 1)) != 0 || (bz->pref_address & (BP_MIB(2) - 1)) != 0) {
		return refuse(why, "its pref_address is not 2 MiB and kernel_alignment aligned");
	}
	if (bz->pref_address < BP_MIB(1) || bz->pref_address > BP_GIB(4) - bz->init_size) {
		return refuse(why, "its pref_address is below 1 MiB or the kernel would cross 4 GiB");
	}
	return 1;
}

int bzimage_parse(const void *data, size_t size, struct bzimage *bz, const char **why)
{
	const uint8_t *p = data;

	bp_memset(bz, 0, sizeof(*bz));
	if (size < BZ_HEADER + 4 || bp_memcmp(p + BZ_HEADER, "HdrS", 4) != 0) {
		return 0;
	}
	if (size < BZ_HEADER_MIN_END) {
		return refuse(why, "truncated: shorter than its setup header");
	}
	bz->version = (uint16_t)bp_rd(p + BZ_VERSION, 2);
	if (bp_rd(p + BZ_BOOT_FLAG, 2) != 0xaa55) {
		return refuse(why, "a bzImage without the 0xaa55 boot flag");
	}
	if (bz->version < BZ_MIN_VERSION) {
		return refuse(why, "boot protocol older than 2.12 (no 64-bit entry)");
	}
	bz->xloadflags = (uint16_t)bp_rd(p + BZ_XLOADFLAGS, 2);
	if (!(bz->xloadflags & BZ_XLF_KERNEL_64)) {
		return refuse(why, "a bzImage without XLF_KERNEL_64 (a 32-bit kernel)");
	}
	bz->header_end = (size_t)BZ_HEADER + p[BZ_JUMP + 1];
	if (bz->header_end < BZ_HEADER_MIN_END || bz->header_end > BZ_HEADER_MAX_END ||
	    p[BZ_JUMP] != 0xeb) {
		return refuse(why, "a bzImage whose setup header length is out of range");
	}
	if (size < bz->header_end) {
		return refuse(why, "truncated: shorter than its setup header");
	}
	return read_layout(p, size, bz, why);
}
