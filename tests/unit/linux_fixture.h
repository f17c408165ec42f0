/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/linux_fixture.h - small kernel images for the Linux boot tests:
 * an ELF64 x86_64 executable with one loadable segment and optional Keel
 * and PVH entry notes, and a bzImage around any payload (protocol 2.15,
 * 64-bit, pref_address 16 MiB), both little-endian, built byte by byte.
 * Tests then break whichever field they are about.
 */
#ifndef KEEL_UNIT_LINUX_FIXTURE_H
#define KEEL_UNIT_LINUX_FIXTURE_H

#include <string.h>
#include <keel/types.h>

#define FIX_ELF_LOAD_OFFSET	0x200
#define FIX_BZ_PM_OFFSET	0x400	/* setup_sects = 1 */
#define FIX_BZ_PAYLOAD_AT	0x300	/* payload offset inside the protected-mode part */

static inline void fix_put(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static inline size_t fix_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
			      uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t name_len = (namesz + 3u) & ~3u, desc_len = (descsz + 3u) & ~3u;

	fix_put(p, namesz, 4);
	fix_put(p + 4, descsz, 4);
	fix_put(p + 8, type, 4);
	memcpy(p + 12, name, namesz);
	memcpy(p + 12 + name_len, desc, descsz);
	return 12 + name_len + desc_len;
}

/*
 * An ELF at @buf (room for FIX_ELF_LOAD_OFFSET + @seg_size bytes): one
 * PT_LOAD of @seg_size bytes at @paddr, a Keel entry note if @keel, a PVH
 * note with a @pvh_size-byte (4 or 8, 0: none) value @entry. Returns its size.
 */
static inline size_t fix_elf(uint8_t *buf, bool keel, unsigned int pvh_size, uint64_t entry,
			     uint64_t paddr, size_t seg_size)
{
	uint8_t desc[16] = { 0 };
	size_t notes = 176, end = notes;

	memset(buf, 0, FIX_ELF_LOAD_OFFSET + seg_size);
	memcpy(buf, "\x7f" "ELF", 4);
	buf[4] = 2;	/* 64-bit */
	buf[5] = 1;	/* little-endian */
	buf[6] = 1;
	fix_put(buf + 16, 2, 2);	/* ET_EXEC */
	fix_put(buf + 18, 62, 2);	/* EM_X86_64 */
	fix_put(buf + 20, 1, 4);
	fix_put(buf + 24, entry, 8);
	fix_put(buf + 32, 64, 8);	/* e_phoff */
	fix_put(buf + 52, 64, 2);
	fix_put(buf + 54, 56, 2);
	fix_put(buf + 56, 2, 2);	/* two program headers */
	if (keel) {
		fix_put(desc, entry, 8);
		fix_put(desc + 8, 1, 4);	/* LONG64 */
		end += fix_note(buf + end, "Keel", 1, desc, 16);
	}
	if (pvh_size) {
		memset(desc, 0, sizeof(desc));
		fix_put(desc, entry, pvh_size);
		end += fix_note(buf + end, "Xen", 18, desc, pvh_size);
	}
	/* PT_LOAD */
	fix_put(buf + 64, 1, 4);
	fix_put(buf + 64 + 8, FIX_ELF_LOAD_OFFSET, 8);
	fix_put(buf + 64 + 16, paddr, 8);
	fix_put(buf + 64 + 24, paddr, 8);
	fix_put(buf + 64 + 32, seg_size, 8);
	fix_put(buf + 64 + 40, seg_size, 8);
	/* PT_NOTE */
	fix_put(buf + 120, 4, 4);
	fix_put(buf + 120 + 8, notes, 8);
	fix_put(buf + 120 + 32, end - notes, 8);
	for (size_t i = 0; i < seg_size; i++) {
		buf[FIX_ELF_LOAD_OFFSET + i] = (uint8_t)(i * 31 + 7);
	}
	return FIX_ELF_LOAD_OFFSET + seg_size;
}

/*
 * A bzImage at @buf around @payload: room for FIX_BZ_PM_OFFSET +
 * FIX_BZ_PAYLOAD_AT + @len + 0x100 bytes. Returns its size.
 */
static inline size_t fix_bzimage(uint8_t *buf, const void *payload, size_t len,
				 uint32_t init_size)
{
	size_t size = FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT + len + 0x100;

	memset(buf, 0, size);
	buf[0x1f1] = 1;				/* setup_sects */
	fix_put(buf + 0x1fe, 0xaa55, 2);
	buf[0x200] = 0xeb;
	buf[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(buf + 0x202, "HdrS", 4);
	fix_put(buf + 0x206, 0x020f, 2);
	buf[0x211] = 0x01;			/* LOADED_HIGH */
	fix_put(buf + 0x22c, 0x7fffffff, 4);	/* initrd_addr_max */
	fix_put(buf + 0x230, 0x200000, 4);	/* kernel_alignment */
	buf[0x234] = 1;				/* relocatable */
	fix_put(buf + 0x236, 0x7f, 2);		/* xloadflags: KERNEL_64 ... */
	fix_put(buf + 0x238, 2047, 4);		/* cmdline_size */
	fix_put(buf + 0x248, FIX_BZ_PAYLOAD_AT, 4);
	fix_put(buf + 0x24c, len, 4);
	fix_put(buf + 0x258, 0x1000000, 8);	/* pref_address */
	fix_put(buf + 0x260, init_size, 4);
	memcpy(buf + FIX_BZ_PM_OFFSET + FIX_BZ_PAYLOAD_AT, payload, len);
	return size;
}

#endif
