/* SPDX-License-Identifier: MIT */
/* tools/tests/tests.h - what the toolstack's test files share: suites, the fake Keel, images. */
#ifndef KEELCTL_TESTS_H
#define KEELCTL_TESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <CUnit/CUnit.h>
#include <keelctl/keelctl.h>

extern CU_SuiteInfo xlcfg_suite, devspec_suite, lib_suite, create_suite, linux_suite, cli_suite,
	monitor_suite, paths_suite, console_suite, trust_suite;
/* Linux only (KEELCTL_TESTS_LINUX): the disk store, keelctl against a driver's version. */
extern CU_SuiteInfo block_store_suite, driver_version_suite;

/* The shared fake Keel: a control domain "ctl" holding every capability. */
struct env {
	struct keelctl ctl;
	void *ctl_dom;
	uint32_t ctl_domid;
	char dir[64];			/* a temporary directory for files */
};

struct env *env_get(void);
uint64_t env_free_pages(void);
unsigned int env_domains(void);
/* Destroy every domain but the control domain. */
void env_clean(void);
/* Write @text to DIR/@name; returns the path (static buffer, next call overwrites). */
const char *env_file(const char *name, const char *text);

/* A Keel-native ELF kernel (tests/images.c). */
struct test_kernel {
	uint32_t mode;			/* KEEL_ENTRY_MODE_* */
	uint64_t load;			/* p_paddr of the one segment */
	uint64_t entry;			/* 0: load + 0x10 */
	size_t code_size;		/* filesz (bytes of pattern) */
	size_t bss;			/* memsz - filesz */
	bool no_note;			/* leave the entry note out */
	uint16_t abi_major, abi_minor;	/* 0.0: no ABI note */
};

/* Write the kernel to @path; its bytes are (i * 7 + 3) & 0xff at offset i. */
int write_test_kernel(const char *path, const struct test_kernel *k);

/* A Linux kernel (tests/linux_images.c): a vmlinux, or a bzImage around one. */
enum test_codec { TEST_GZIP, TEST_XZ, TEST_ZSTD };

struct test_linux {
	uint64_t load;			/* vmlinux p_paddr and the bzImage's pref_address */
	size_t code_size;		/* vmlinux filesz: bytes linux_test_byte(i) */
	size_t bss;			/* memsz - filesz */
	bool pvh_note;			/* give the vmlinux Xen's PVH entry note ... */
	uint64_t pvh_entry_offset;	/* ... pointing at load + this */
	uint32_t init_size;		/* bzImage; 0: its protected-mode part + 2 MiB */
	enum test_codec codec;		/* how the bzImage's payload is compressed */
	bool corrupt;			/* flip a byte in the middle of the payload */
};

/*
 * The bzImage's protected-mode part (loaded at pref_address by the 64-bit
 * protocol) starts with 0x400 bytes linux_test_byte(i + 7), then the payload.
 */
#define TEST_BZ_PM_OFFSET	0xa00	/* (4 setup sectors + 1) * 512 */
#define TEST_BZ_PM_HEAD		0x400

uint8_t linux_test_byte(size_t i);
int write_test_bzimage(const char *path, const struct test_linux *k);
int write_test_vmlinux(const char *path, const struct test_linux *k);

/*
 * A loop device over @file with @block_size-byte sectors (tests/loopdev.c),
 * detached by the kernel when its last descriptor closes: its descriptor,
 * with its path in @path, or -1 with errno (EACCES or EPERM: not root;
 * ENOENT: no loop driver).
 */
int test_loop_attach(const char *file, unsigned int block_size, char *path, size_t len);

#endif
