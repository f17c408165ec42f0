/* SPDX-License-Identifier: MIT */
/*
 * svm/npt.c - builds and tears down nested page tables (4-level, 4 KiB).
 *
 * Nested walks are user-mode accesses, so every entry carries the U bit.
 * Large pages come with the core's domain memory work (issue 4).
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

/* The 4 KiB entry for @gpa; tables are created (and counted) if @created. */
static uint64_t *leaf(paddr_t root, uint64_t gpa, uint64_t *created)
{
	paddr_t table = root;

	for (int level = 3; level > 0; level--) {
		uint64_t *e = &table_at(table)[(gpa >> (12 + 9 * level)) & 0x1ff];

		if (!(*e & PTE_P)) {
			paddr_t next;

			if (!created || !(next = page_alloc(1))) {
				return NULL;
			}
			(*created)++;
			*e = next | PTE_P | PTE_W | PTE_U;
		}
		table = *e & PTE_ADDR;
	}
	return &table_at(table)[(gpa >> 12) & 0x1ff];
}

bool npt_map(struct npt *npt, uint64_t gpa, paddr_t hpa, unsigned int rights)
{
	uint64_t *e;

	if (gpa >= GPA_LIMIT || (gpa & ~PAGE_MASK) || (hpa & ~PAGE_MASK)) {
		return false;
	}
	e = leaf(npt->root, gpa, &npt->table_pages);
	if (!e) {
		return false;
	}
	*e = hpa | PTE_P | PTE_U | ((rights & NPT_WRITE) ? PTE_W : 0) |
	     ((rights & NPT_EXEC) ? 0 : PTE_NX);
	return true;
}

bool npt_translate(const struct npt *npt, uint64_t gpa, paddr_t *hpa)
{
	uint64_t *e;

	if (gpa >= GPA_LIMIT) {
		return false;
	}
	e = leaf(npt->root, gpa, NULL);
	if (!e || !(*e & PTE_P)) {
		return false;
	}
	*hpa = (*e & PTE_ADDR) | (gpa & ~PAGE_MASK);
	return true;
}

static void free_level(paddr_t table, int level)
{
	uint64_t *t = table_at(table);

	if (level > 0) {
		for (unsigned int i = 0; i < ENTRIES; i++) {
			if (t[i] & PTE_P) {
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
