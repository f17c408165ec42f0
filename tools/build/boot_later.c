/* SPDX-License-Identifier: MIT */
/*
 * tools/build/boot_later.c - the boot paths for stock kernels (PVH entry
 * and the Linux 64-bit boot protocol, docs/abi/boot.md). They recognise
 * their images now, so keelctl says clearly what it cannot build yet; the
 * composing lands when the boot-structure code shared with the
 * hypervisor's builder is host-buildable.
 */
#include <string.h>
#include "build.h"

static int pvh_probe(struct build *b)
{
	if (!b->elf.has_pvh_entry) {
		return 1;
	}
	return build_error(b, "%s: a PVH kernel (Xen PVH entry note): keelctl cannot build PVH "
			   "domains yet, only Keel-native ELF kernels", b->kernel.path);
}

static int linux_probe(struct build *b)
{
	/* A bzImage: "HdrS" at 0x202 (the Linux boot protocol header). */
	if (b->kernel.size < 0x206 || memcmp(b->kernel.data + 0x202, "HdrS", 4) != 0) {
		return 1;
	}
	return build_error(b, "%s: a Linux bzImage: keelctl cannot build Linux-boot-protocol "
			   "domains yet, only Keel-native ELF kernels", b->kernel.path);
}

static int not_yet(struct build *b)
{
	return build_error(b, "boot path not implemented");
}

const struct boot_path boot_pvh = {
	.name = "pvh",
	.platform = KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC |
		    KEEL_DOMCREATE_F_PLATFORM_PCI,
	.probe = pvh_probe,
	.compose = not_yet,
};

const struct boot_path boot_linux = {
	.name = "linux",
	.platform = KEEL_DOMCREATE_F_ACPI | KEEL_DOMCREATE_F_UART | KEEL_DOMCREATE_F_RTC |
		    KEEL_DOMCREATE_F_PLATFORM_PCI,
	.probe = linux_probe,
	.compose = not_yet,
};
