/* SPDX-License-Identifier: MIT */
/*
 * tools/build/kernel.c - what a kernel file is and how it is entered, with
 * the hypervisor's own parsers (bootproto): a Linux bzImage, entered by PVH
 * from its extracted vmlinux when that carries the PVH note and the
 * configuration allows, else by the 64-bit boot protocol, the same choice
 * Keel's boot-time builder makes (core/linux_build.c); or an ELF kernel,
 * left to the boot paths' probes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bootproto/decompress.h>
#include "build.h"

/* keelctl is a process: plain malloc, and the FPU is its own to use. */
static unsigned long no_fpu_bracket(void)
{
	return 0;
}

static void no_fpu_restore(unsigned long state)
{
	(void)state;
}

static const struct bootproto_env tools_env = {
	.alloc = malloc,
	.free = free,
	.fpu_begin = no_fpu_bracket,
	.fpu_end = no_fpu_restore,
};

int kernel_elf_parse(const char *path, const void *data, size_t size, struct elf_image *out,
		     char *err)
{
	const char *why = NULL;

	if (elf_parse(data, size, out, &why) != ELF_OK) {
		snprintf(err, BUILD_ERR_MAX, "%s: %s", path, why ? why : "not a usable ELF file");
		return -1;
	}
	return 0;
}

/* Extract and parse the vmlinux; 1 if it has a PVH entry, 0 if not, -1 on error. */
static int extract(struct build *b)
{
	struct kernel_info *k = &b->kinfo;
	const char *why = decompress_stream(&tools_env, b->kernel.data + k->bz.payload_offset,
					    k->bz.payload_size, k->bz.init_size, &k->vmlinux,
					    &k->vmlinux_size);
	char err[BUILD_ERR_MAX];

	if (why) {
		return build_error(b, "%s: its compressed kernel cannot be extracted: %s",
				   b->kernel.path, why);
	}
	if (kernel_elf_parse("the vmlinux inside", k->vmlinux, k->vmlinux_size, &b->elf,
			     err) != 0) {
		return build_error(b, "%s: %s", b->kernel.path, err);
	}
	return b->elf.has_pvh_entry && !b->elf.has_keel_entry;
}

/* PVH or the 64-bit protocol for a bzImage, per keel_boot_protocol and type. */
static int choose_entry(struct build *b)
{
	const uint8_t *payload = b->kernel.data + b->kinfo.bz.payload_offset;
	enum domcfg_boot want = b->cfg->boot_protocol;
	int rc;

	if (b->cfg->type == DOMCFG_TYPE_HVM && want == DOMCFG_BOOT_PVH) {
		return build_error(b, "type = \"hvm\" enters through the Linux boot protocol: "
				   "keel_boot_protocol = \"pvh\" needs type = \"pvh\"");
	}
	if (b->cfg->type == DOMCFG_TYPE_HVM || want == DOMCFG_BOOT_LINUX64) {
		return 0;
	}
	if (want == DOMCFG_BOOT_AUTO &&
	    decompress_detect(payload, b->kinfo.bz.payload_size) == DECOMPRESS_UNKNOWN) {
		return 0;	/* a payload keelctl cannot read: the kernel can */
	}
	rc = extract(b);
	if (rc < 0) {
		return -1;
	}
	if (rc == 0 && want == DOMCFG_BOOT_PVH) {
		return build_error(b, "%s: keel_boot_protocol = \"pvh\" but its vmlinux has no PVH "
				   "entry note", b->kernel.path);
	}
	b->kinfo.pvh = rc == 1;
	return 0;
}

int kernel_identify(struct build *b)
{
	char elf_err[BUILD_ERR_MAX];
	const char *why = NULL;
	int rc = bzimage_parse(b->kernel.data, b->kernel.size, &b->kinfo.bz, &why);

	if (rc < 0) {
		return build_error(b, "%s: a Linux bzImage keelctl cannot boot: %s", b->kernel.path,
				   why);
	}
	if (rc == 1) {
		b->kinfo.is_bzimage = true;
		return choose_entry(b);
	}
	if (kernel_elf_parse(b->kernel.path, b->kernel.data, b->kernel.size, &b->elf,
			     elf_err) != 0) {
		return build_error(b, "%s (and not a bzImage either)", elf_err);
	}
	if (b->cfg->boot_protocol == DOMCFG_BOOT_LINUX64) {
		return build_error(b, "%s: keel_boot_protocol = \"linux64\" needs a bzImage; this "
				   "is an ELF kernel", b->kernel.path);
	}
	if (b->elf.has_keel_entry && b->cfg->boot_protocol != DOMCFG_BOOT_AUTO) {
		return build_error(b, "%s: keel_boot_protocol applies to Linux kernels; this is a "
				   "Keel kernel", b->kernel.path);
	}
	b->kinfo.pvh = b->elf.has_pvh_entry && !b->elf.has_keel_entry;
	return 0;
}

void kernel_info_free(struct kernel_info *k)
{
	free(k->vmlinux);
	memset(k, 0, sizeof(*k));
}
