/* SPDX-License-Identifier: MIT */
/*
 * bootproto/x86/zeropage.c - boot_params, the "zero page" of the Linux x86
 * 64-bit boot protocol (Documentation/arch/x86/boot.rst, zero-page.rst;
 * docs/abi/boot.md): zeroed, the image's setup header copied in, then the
 * fields a boot loader owns.
 */
#include <bootproto/x86_linux.h>
#include "../internal.h"

#define E820_ENTRY	20	/* addr, size, type: packed */
#define LOADER_UNKNOWN	0xff	/* "undefined" boot loader id: any non-zero will do */

bool zeropage_build(uint8_t *zp, const uint8_t *image, const struct bzimage *bz,
		    const struct e820_entry *map, unsigned int count, uint64_t cmdline_gpa,
		    uint64_t initrd_gpa, uint64_t initrd_size, uint64_t rsdp_gpa)
{
	if (count > ZP_E820_MAX) {
		return false;
	}
	bp_memset(zp, 0, ZP_SIZE);
	bp_memcpy(zp + BZ_SETUP_SECTS, image + BZ_SETUP_SECTS, bz->header_end - BZ_SETUP_SECTS);
	/* Linux ignores the initrd when type_of_loader is 0 (setup.c). */
	zp[BZ_TYPE_OF_LOADER] = LOADER_UNKNOWN;
	zp[BZ_LOADFLAGS] |= BZ_LOADED_HIGH;
	bp_wr(zp + BZ_RAMDISK_IMAGE, initrd_gpa, 4);
	bp_wr(zp + BZ_RAMDISK_SIZE, initrd_size, 4);
	bp_wr(zp + ZP_EXT_RAMDISK_IMAGE, initrd_gpa >> 32, 4);
	bp_wr(zp + ZP_EXT_RAMDISK_SIZE, initrd_size >> 32, 4);
	bp_wr(zp + BZ_CMD_LINE_PTR, cmdline_gpa, 4);
	bp_wr(zp + ZP_EXT_CMD_LINE_PTR, cmdline_gpa >> 32, 4);
	bp_wr(zp + ZP_ACPI_RSDP_ADDR, rsdp_gpa, 8);
	zp[ZP_E820_ENTRIES] = (uint8_t)count;
	for (unsigned int i = 0; i < count; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + i * E820_ENTRY;

		bp_wr(e, map[i].addr, 8);
		bp_wr(e + 8, map[i].size, 8);
		bp_wr(e + 16, map[i].type, 4);
	}
	return true;
}
