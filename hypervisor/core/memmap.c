/* SPDX-License-Identifier: MIT */
/* core/memmap.c - normalizes and reports the firmware's physical memory map. */
#include <keel/bootinfo.h>
#include <keel/log.h>

/* Higher rank wins where regions overlap: never hand out RAM that is not. */
static int type_rank(enum mem_type t)
{
	switch (t) {
	case MEM_USABLE:
		return 0;
	case MEM_ACPI_RECLAIM:
		return 1;
	case MEM_ACPI_NVS:
		return 2;
	case MEM_RESERVED:
		return 3;
	default:
		return 4;
	}
}

static void sort_by_base(struct mem_region *r, unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		struct mem_region key = r[i];
		unsigned int j = i;

		while (j > 0 && r[j - 1].base > key.base) {
			r[j] = r[j - 1];
			j--;
		}
		r[j] = key;
	}
}

static void remove_at(struct boot_info *bi, unsigned int i)
{
	for (; i + 1 < bi->region_count; i++) {
		bi->regions[i] = bi->regions[i + 1];
	}
	bi->region_count--;
}

static bool insert_at(struct boot_info *bi, unsigned int i,
		      struct mem_region r)
{
	if (bi->region_count >= BOOT_MAX_REGIONS) {
		return false;
	}
	for (unsigned int j = bi->region_count; j > i; j--) {
		bi->regions[j] = bi->regions[j - 1];
	}
	bi->regions[i] = r;
	bi->region_count++;
	return true;
}

/*
 * Resolve the overlap of regions i and i+1 (sorted, so a.base <= b.base).
 * Returns true if the map changed and the caller should look again.
 */
static bool resolve_overlap(struct boot_info *bi, unsigned int i)
{
	struct mem_region *a = &bi->regions[i], *b = &bi->regions[i + 1];
	uint64_t a_end = a->base + a->size, b_end = b->base + b->size;

	if (b->base >= a_end) {
		return false;
	}
	if (type_rank(a->type) >= type_rank(b->type)) {
		/* a wins: b keeps only what sticks out past a. */
		if (b_end <= a_end) {
			remove_at(bi, i + 1);
		} else {
			b->size = b_end - a_end;
			b->base = a_end;
		}
		return true;
	}
	/* b wins: a is cut at b, and what of a lies past b comes back after it. */
	a->size = b->base - a->base;
	if (a_end > b_end) {
		struct mem_region tail = { b_end, a_end - b_end, a->type };

		if (!insert_at(bi, i + 2, tail)) {
			log_warn("memory map: too many regions, dropping 0x%llx+0x%llx",
				 (unsigned long long)tail.base,
				 (unsigned long long)tail.size);
		}
	}
	if (a->size == 0) {
		remove_at(bi, i);
	}
	return true;
}

void memmap_normalize(struct boot_info *bi)
{
	bool changed = true;

	for (unsigned int i = 0; i < bi->region_count;) {
		if (bi->regions[i].size == 0) {
			remove_at(bi, i);
		} else {
			i++;
		}
	}
	while (changed) {
		changed = false;
		sort_by_base(bi->regions, bi->region_count);
		for (unsigned int i = 0; i + 1 < bi->region_count; i++) {
			if (resolve_overlap(bi, i)) {
				changed = true;
				break;
			}
		}
	}
	/* Merge touching regions of the same type. */
	for (unsigned int i = 0; i + 1 < bi->region_count;) {
		struct mem_region *a = &bi->regions[i], *b = &bi->regions[i + 1];

		if (a->type == b->type && a->base + a->size == b->base) {
			a->size += b->size;
			remove_at(bi, i + 1);
		} else {
			i++;
		}
	}
}

uint64_t memmap_usable_bytes(const struct boot_info *bi)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < bi->region_count; i++) {
		if (bi->regions[i].type == MEM_USABLE) {
			total += bi->regions[i].size;
		}
	}
	return total;
}

static const char *type_name(enum mem_type t)
{
	switch (t) {
	case MEM_USABLE:
		return "usable";
	case MEM_ACPI_RECLAIM:
		return "ACPI data";
	case MEM_ACPI_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad";
	default:
		return "reserved";
	}
}

void memmap_log(const struct boot_info *bi)
{
	log_info("memory map (%u regions, from %s):", bi->region_count,
		 bi->loader);
	for (unsigned int i = 0; i < bi->region_count; i++) {
		const struct mem_region *r = &bi->regions[i];

		log_info("  %#014llx-%#014llx %s", (unsigned long long)r->base,
			 (unsigned long long)(r->base + r->size - 1),
			 type_name(r->type));
	}
	log_info("memory: %llu MiB usable", (unsigned long long)(memmap_usable_bytes(bi) >> 20));
}
