/* SPDX-License-Identifier: MIT */
/*
 * cpu/paging.c - builds and edits the hypervisor's identity-mapped page tables.
 *
 * 2 MiB pages where a range allows, 4 KiB pages elsewhere; a 2 MiB page is
 * split when part of it needs other permissions. Tables come from the page
 * allocator, except the root, which lives in .bss below 4 GiB so that
 * 32-bit AP start-up code can load it.
 *
 * Entries are written with the accessed and dirty bits set: nothing reads
 * them, and a walker that finds them set writes nothing back (QEMU's TCG
 * writes them back non-atomically, which could undo an edit another CPU
 * makes at the same time; see svm/npt.c).
 */
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <x86/cpu.h>
#include <x86/paging.h>

#define ENTRIES		512
#define LARGE		MiB(2)
#define TABLE_ENTRY	(PTE_P | PTE_W | PTE_A)	/* a table below: rights come from the leaves */
#define LEAF_SET	(PTE_A | PTE_D)

extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _image_end[];

static uint64_t root[ENTRIES] __attribute__((aligned(4096), section(".bss.pagetables")));
static bool active;

static unsigned int index_at(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 0x1ff;
}

static uint64_t *new_table(void)
{
	paddr_t pa = page_alloc(1);

	if (!pa) {
		panic("paging: out of memory for page tables");
	}
	return (uint64_t *)(uintptr_t)pa;
}

/* Turn a 2 MiB entry into a table of 512 4 KiB entries with the same rights. */
static void split_large(uint64_t *entry)
{
	uint64_t *t = new_table();
	uint64_t base = *entry & PTE_ADDR & ~(LARGE - 1);
	uint64_t flags = *entry & ~PTE_ADDR & ~PTE_PS;

	for (unsigned int i = 0; i < ENTRIES; i++) {
		t[i] = (base + i * PAGE_SIZE) | flags;
	}
	*entry = (uintptr_t)t | TABLE_ENTRY;
}

/*
 * The entry for @va at @level (0 = 4 KiB, 1 = 2 MiB), creating tables on the
 * way down and splitting a large page that is in the way.
 */
static uint64_t *walk(uint64_t va, int level)
{
	uint64_t *table = root;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &table[index_at(va, l)];

		if (!(*e & PTE_P)) {
			*e = (uintptr_t)new_table() | TABLE_ENTRY;
		} else if (*e & PTE_PS) {
			split_large(e);
		}
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &table[index_at(va, level)];
}

static void map_range(paddr_t pa, uint64_t size, uint64_t flags)
{
	paddr_t end = pa + size;

	pa = ALIGN_DOWN(pa, PAGE_SIZE);
	while (pa < end) {
		uint64_t *e = NULL;

		if (IS_ALIGNED(pa, LARGE) && end - pa >= LARGE) {
			e = walk(pa, 1);
		}
		/* A 2 MiB entry, unless 4 KiB pages already hang below it. */
		if (e && (!(*e & PTE_P) || (*e & PTE_PS))) {
			*e = pa | flags | LEAF_SET | PTE_PS;
			pa += LARGE;
		} else {
			*walk(pa, 0) = pa | flags | LEAF_SET;
			pa += PAGE_SIZE;
		}
	}
	if (active) {
		write_cr3(read_cr3());	/* flush: cheap, and rare */
	}
}

static void map_image(void)
{
	const uint64_t rw_nx = PTE_P | PTE_W | PTE_NX;
	uintptr_t text = (uintptr_t)_text_start, rodata = (uintptr_t)_rodata_start;
	uintptr_t data = (uintptr_t)_data_start;

	map_range(text, (uintptr_t)_text_end - text, PTE_P);
	map_range(rodata, (uintptr_t)_rodata_end - rodata, PTE_P | PTE_NX);
	map_range(data, (uintptr_t)_image_end - data, rw_nx);
}

void paging_init(const struct boot_info *bi)
{
	const uint64_t rw_nx = PTE_P | PTE_W | PTE_NX;

	/* Low 1 MiB (BIOS data, ACPI RSDP area, AP trampoline), minus page 0. */
	map_range(PAGE_SIZE, MiB(1) - PAGE_SIZE, rw_nx);
	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *r = &bi->regions[i];

		paddr_t start = MAX(r->base, MiB(1)), end = r->base + r->size;

		if ((r->type == MEM_USABLE || r->type == MEM_ACPI_RECLAIM ||
		     r->type == MEM_ACPI_NVS) && end > start) {
			map_range(start, end - start, rw_nx);
		}
	}
	/* The image last: its pages get their own permissions. */
	map_image();
	write_cr3((uintptr_t)root);
	active = true;
	log_info("paging: identity map with W^X image (text RX, rodata R, data RW+NX)");
}

void paging_load(void)
{
	write_cr3((uintptr_t)root);
}

paddr_t paging_root(void)
{
	return (uintptr_t)root;
}

void paging_unmap_page(paddr_t pa)
{
	*walk(pa, 0) = 0;
	if (active) {
		invlpg(pa);
	}
}

void *paging_map_mmio(paddr_t pa, uint64_t size)
{
	map_range(pa, ALIGN_UP(size + (pa & ~PAGE_MASK), PAGE_SIZE),
		  PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX);
	return (void *)(uintptr_t)pa;
}

void *paging_map_firmware(paddr_t pa, uint64_t size)
{
	map_range(pa, ALIGN_UP(size + (pa & ~PAGE_MASK), PAGE_SIZE), PTE_P | PTE_NX);
	return (void *)(uintptr_t)pa;
}
