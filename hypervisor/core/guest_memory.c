/* SPDX-License-Identifier: MIT */
/*
 * core/guest_memory.c - the p2m: guest frame numbers to host pages.
 *
 * A 4-level radix tree of 512-entry tables (levels 3..0, 9 GFN bits each)
 * in pages from the page allocator. An entry is a host address plus:
 * rights (bits 0-2), TABLE (bit 6: points to the next level), LARGE (bit 7:
 * a 2 MiB leaf at level 1). Every change is mirrored to the architecture
 * with the domain's memory lock held, and undone if the mirror fails.
 */
#include <arch/arch.h>
#include <keel/domain.h>
#include <keel/guest_memory.h>
#include <keel/page_alloc.h>
#include <keel/string.h>
#include <public/keel/errno.h>

#define ENTRIES		512u
#define E_RIGHTS	0x7ull
#define E_TABLE		(1ull << 6)
#define E_LARGE		(1ull << 7)
#define E_ADDR		0x000ffffffffff000ull
#define LARGE_PAGES	(1ull << GUEST_LARGE_ORDER)

static uint64_t *table(paddr_t pa)
{
	return arch_phys_to_virt(pa);
}

static unsigned int index_at(uint64_t gfn, int level)
{
	return (unsigned int)(gfn >> (9 * level)) & (ENTRIES - 1);
}

void guest_memory_init(struct guest_memory *mem, uint64_t max_pages)
{
	memset(mem, 0, sizeof(*mem));
	mem->lock = (struct spinlock)SPINLOCK_INIT;
	mem->max_pages = max_pages;
}

/*
 * The entry for @gfn at @level, creating tables on the way if @create.
 * NULL if a table is missing (and not created) or a large leaf is in the
 * way of a level-0 lookup (*large then points at it, if given).
 */
static uint64_t *walk(struct guest_memory *mem, uint64_t gfn, int level,
		      bool create, uint64_t **large)
{
	paddr_t t;

	if (!mem->root) {
		if (!create || !(mem->root = page_alloc(1))) {
			return NULL;
		}
		mem->table_pages++;
	}
	t = mem->root;
	for (int l = 3; l > level; l--) {
		uint64_t *e = &table(t)[index_at(gfn, l)];

		if (*e & E_LARGE) {
			if (large) {
				*large = e;
			}
			return NULL;
		}
		if (!(*e & E_TABLE)) {
			paddr_t next;

			if (!create || !(next = page_alloc(1))) {
				return NULL;
			}
			mem->table_pages++;
			*e = next | E_TABLE;
		}
		t = *e & E_ADDR;
	}
	return &table(t)[index_at(gfn, level)];
}

/* Is any page of [gfn, gfn + count) mapped? */
static bool any_mapped(struct guest_memory *mem, uint64_t gfn, uint64_t count)
{
	for (uint64_t g = gfn; g < gfn + count; g++) {
		uint64_t *large = NULL;
		uint64_t *e = walk(mem, g, 0, false, &large);

		if (large || (e && (*e & E_RIGHTS))) {
			return true;
		}
	}
	return false;
}

/* Unmap and free the RAM leaf at @e (2^order pages from @gfn). */
static void drop_leaf(struct domain *d, uint64_t *e, uint64_t gfn,
		      unsigned int order, bool mirror)
{
	if (mirror) {
		arch_p2m_clear(d, gfn, order);
	}
	page_free(*e & E_ADDR, (uint64_t)1 << order);
	d->mem.ram_pages -= (uint64_t)1 << order;
	*e = 0;
}

/* Release [gfn, gfn + count) that this call mapped (populate's undo). */
static void unpopulate(struct domain *d, uint64_t gfn, uint64_t count)
{
	uint64_t g = gfn;

	while (g < gfn + count) {
		uint64_t *large = NULL;
		uint64_t *e = walk(&d->mem, g, 0, false, &large);

		if (large) {
			drop_leaf(d, large, g, GUEST_LARGE_ORDER, true);
			g += LARGE_PAGES;
		} else {
			if (e && (*e & E_RIGHTS)) {
				drop_leaf(d, e, g, 0, true);
			}
			g++;
		}
	}
}

/* Map one chunk at @gfn: 2 MiB when possible, else 4 KiB. Pages mapped or 0. */
static uint64_t populate_chunk(struct domain *d, uint64_t gfn, uint64_t left)
{
	struct guest_memory *mem = &d->mem;
	unsigned int order = 0;
	uint64_t *e = NULL;
	paddr_t pa = 0;

	if ((gfn & (LARGE_PAGES - 1)) == 0 && left >= LARGE_PAGES) {
		e = walk(mem, gfn, 1, true, NULL);
		if (e && *e == 0) {
			pa = page_alloc_range(LARGE_PAGES, LARGE_PAGES, 0);
			order = GUEST_LARGE_ORDER;
		}
	}
	if (!pa) {
		order = 0;
		e = walk(mem, gfn, 0, true, NULL);
		pa = e ? page_alloc(1) : 0;
	}
	if (!pa) {
		return 0;
	}
	*e = pa | GUEST_RWX | (order ? E_LARGE : 0);
	mem->ram_pages += (uint64_t)1 << order;
	if (arch_p2m_set(d, gfn, pa, order, GUEST_RWX) != 0) {
		drop_leaf(d, e, gfn, order, false);
		return 0;
	}
	return (uint64_t)1 << order;
}

int guest_memory_populate(struct domain *d, uint64_t gfn, uint64_t count)
{
	struct guest_memory *mem = &d->mem;
	unsigned long flags;
	uint64_t done = 0, n;
	int ret = 0;

	if (count == 0 || gfn >= GUEST_GFN_LIMIT || count > GUEST_GFN_LIMIT - gfn) {
		return -KEEL_EINVAL;
	}
	flags = spin_lock_irqsave(&mem->lock);
	if (count > mem->max_pages - MIN(mem->ram_pages, mem->max_pages)) {
		ret = -KEEL_ENOMEM;
	} else if (any_mapped(mem, gfn, count)) {
		ret = -KEEL_EBUSY;
	}
	while (ret == 0 && done < count) {
		n = populate_chunk(d, gfn + done, count - done);
		if (n == 0) {
			unpopulate(d, gfn, done);
			ret = -KEEL_ENOMEM;
		}
		done += n;
	}
	spin_unlock_irqrestore(&mem->lock, flags);
	return ret;
}

/* Translate under the lock. */
static bool lookup(struct guest_memory *mem, uint64_t gfn, paddr_t *pa,
		   uint32_t *rights)
{
	uint64_t *large = NULL, *e;

	if (gfn >= GUEST_GFN_LIMIT) {
		return false;
	}
	e = walk(mem, gfn, 0, false, &large);
	if (large) {
		*pa = (*large & E_ADDR) + ((gfn & (LARGE_PAGES - 1)) << PAGE_SHIFT);
		*rights = (uint32_t)(*large & E_RIGHTS);
		return true;
	}
	if (!e || !(*e & E_RIGHTS)) {
		return false;
	}
	*pa = *e & E_ADDR;
	*rights = (uint32_t)(*e & E_RIGHTS);
	return true;
}

bool guest_memory_translate(struct domain *d, uint64_t gfn, paddr_t *pa,
			    uint32_t *rights)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);
	bool ok = lookup(&d->mem, gfn, pa, rights);

	spin_unlock_irqrestore(&d->mem.lock, flags);
	return ok;
}

/*
 * Copy @len bytes between @buf and guest-physical @gpa. The whole range is
 * checked first and the lock held throughout, so a copy is all or nothing
 * and no page can be released under it.
 */
static int copy(struct domain *d, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
	uint32_t need = to_guest ? GUEST_WRITE : GUEST_READ, rights;
	unsigned long flags;
	uint8_t *p = buf;
	paddr_t pa;

	if (len == 0) {
		return 0;
	}
	if (gpa + len < gpa || (gpa + len - 1) >> PAGE_SHIFT >= GUEST_GFN_LIMIT) {
		return -KEEL_EFAULT;
	}
	flags = spin_lock_irqsave(&d->mem.lock);
	for (uint64_t g = gpa >> PAGE_SHIFT; g <= (gpa + len - 1) >> PAGE_SHIFT; g++) {
		if (!lookup(&d->mem, g, &pa, &rights) || (rights & need) != need) {
			spin_unlock_irqrestore(&d->mem.lock, flags);
			return -KEEL_EFAULT;
		}
	}
	while (len) {
		size_t chunk = MIN(len, (size_t)(PAGE_SIZE - (gpa & ~PAGE_MASK)));
		uint8_t *host;

		lookup(&d->mem, gpa >> PAGE_SHIFT, &pa, &rights);
		host = (uint8_t *)arch_phys_to_virt(pa) + (gpa & ~PAGE_MASK);
		if (to_guest) {
			memcpy(host, p, chunk);
		} else {
			memcpy(p, host, chunk);
		}
		gpa += chunk;
		p += chunk;
		len -= chunk;
	}
	spin_unlock_irqrestore(&d->mem.lock, flags);
	return 0;
}

int guest_copy_from(struct domain *d, uint64_t gpa, void *dst, size_t len)
{
	return copy(d, gpa, dst, len, false);
}

int guest_copy_to(struct domain *d, uint64_t gpa, const void *src, size_t len)
{
	return copy(d, gpa, (void *)(uintptr_t)src, len, true);
}

/* Free a table at @level (mapping GFNs from @gfn_base) and all below it. */
static void release_table(struct domain *d, paddr_t t, int level, uint64_t gfn_base)
{
	uint64_t *entries = table(t);

	for (unsigned int i = 0; i < ENTRIES; i++) {
		uint64_t e = entries[i];

		if (e & E_TABLE) {
			release_table(d, e & E_ADDR, level - 1,
				      gfn_base + ((uint64_t)i << (9 * level)));
		} else if (e & E_RIGHTS) {
			drop_leaf(d, &entries[i], gfn_base + ((uint64_t)i << (9 * level)),
				  (e & E_LARGE) ? GUEST_LARGE_ORDER : 0, true);
		}
	}
	page_free(t, 1);
	d->mem.table_pages--;
}

void guest_memory_release_all(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);

	if (d->mem.root) {
		release_table(d, d->mem.root, 3, 0);
		d->mem.root = 0;
	}
	spin_unlock_irqrestore(&d->mem.lock, flags);
}
