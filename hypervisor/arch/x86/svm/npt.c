/* SPDX-License-Identifier: MIT */
/*
 * svm/npt.c - builds and tears down nested page tables (4-level, 4 KiB).
 *
 * Nested walks are user-mode accesses, so every entry carries the U bit.
 * Leaves are 4 KiB, 2 MiB (PS at level 1) or 1 GiB (PS at level 2), as the
 * core's p2m maps aligned chunks of those sizes.
 *
 * Every entry is written with its accessed bit (and a leaf with its dirty
 * bit) already set. Keel never reads them, and a walker then has nothing
 * to write back: QEMU's TCG (7.2) sets them with a plain read-modify-write
 * of the entry's low word, which can put back an entry another CPU has
 * just cleared, so a page Keel unmapped, flushed and freed stayed mapped
 * in the guest (seen as other domains' and Keel's memory corrupted after
 * a domain was destroyed). Hardware sets them atomically; presetting them
 * costs it nothing.
 */
#include <arch/arch.h>
#include <keel/page_alloc.h>
#include <x86/npt.h>
#include <x86/paging.h>

#define ENTRIES		512
#define GPA_LIMIT	(1ull << 48)

static uint64_t *table_at(paddr_t pa)
{
	return arch_phys_to_virt(pa);
}

bool npt_init(struct npt *npt)
{
	npt->root = page_alloc(1);
	npt->table_pages = npt->root ? 1 : 0;
	return npt->root != 0;
}

/*
 * The entry for @gpa at @depth (0: 4 KiB, 1: 2 MiB, 2: 1 GiB leaf); tables
 * are created (and counted) if @created. NULL if a table is missing or a
 * large leaf is in the way.
 */
static uint64_t *entry_at(paddr_t root, uint64_t gpa, int depth, uint64_t *created)
{
	paddr_t table = root;

	for (int level = 3; level > depth; level--) {
		uint64_t *e = &table_at(table)[(gpa >> (12 + 9 * level)) & 0x1ff];

		if (!(*e & PTE_P)) {
			paddr_t next;

			if (!created || !(next = page_alloc(1))) {
				return NULL;
			}
			(*created)++;
			*e = next | PTE_P | PTE_W | PTE_U | PTE_A;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = *e & PTE_ADDR;
	}
	return &table_at(table)[(gpa >> (12 + 9 * depth)) & 0x1ff];
}

bool npt_map(struct npt *npt, uint64_t gpa, paddr_t hpa, unsigned int order,
	     unsigned int rights)
{
	uint64_t size = PAGE_SIZE << order, *e;

	if ((order != 0 && order != NPT_LARGE_ORDER && order != NPT_HUGE_ORDER) ||
	    gpa >= GPA_LIMIT || (gpa & (size - 1)) || (hpa & (size - 1))) {
		return false;
	}
	e = entry_at(npt->root, gpa, (int)order / 9, &npt->table_pages);
	if (!e || (order && (*e & PTE_P))) {
		return false;	/* never drop a table that hangs below */
	}
	*e = hpa | PTE_P | PTE_U | PTE_A | PTE_D | (order ? PTE_PS : 0) | ((rights & NPT_WRITE) ? PTE_W : 0) |
	     ((rights & NPT_EXEC) ? 0 : PTE_NX);
	return true;
}

void npt_unmap(struct npt *npt, uint64_t gpa, unsigned int order)
{
	uint64_t *e = entry_at(npt->root, gpa, (int)order / 9, NULL);

	if (e) {
		*e = 0;
	}
}

static void free_level(paddr_t table, int level)
{
	uint64_t *t = table_at(table);

	if (level > 0) {
		for (unsigned int i = 0; i < ENTRIES; i++) {
			/* Recurse into tables only; a large leaf is guest memory. */
			if ((t[i] & PTE_P) && !(t[i] & PTE_PS)) {
				free_level(t[i] & PTE_ADDR, level - 1);
			}
		}
	}
	page_free(table, 1);
}

void npt_destroy(struct npt *npt)
{
	if (npt->root) {
		free_level(npt->root, 3);
	}
	npt->root = 0;
	npt->table_pages = 0;
}
