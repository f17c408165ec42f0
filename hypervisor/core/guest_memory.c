/* SPDX-License-Identifier: MIT */
/*
 * core/guest_memory.c - the p2m: guest frame numbers to host pages.
 *
 * A 4-level radix tree of 512-entry tables (levels 3..0, 9 GFN bits each)
 * in pages from the page allocator. An entry is a host address plus:
 * rights (bits 0-2), TABLE (bit 6: points to the next level), LARGE (bit 7:
 * a 2 MiB leaf at level 1 or a 1 GiB leaf at level 2), and a leaf's kind
 * (bits 8-9: RAM, KEEL, FOREIGN; large leaves are always RAM). Every
 * change is mirrored to the architecture with the domain's memory lock
 * held, and undone if the mirror fails.
 *
 * Populate maps the largest leaf that fits the alignment, the remaining
 * count, the arch (arch_p2m_max_order()) and the contiguous memory free:
 * fewer table pages, and fewer second-stage TLB misses for the guest.
 * Releasing part of a large leaf splits it one level at a time.
 *
 * Two small hash tables sit beside the tree: pin counts by GFN (a pinned
 * page may sit inside a 2 MiB leaf, so the count cannot live in the leaf),
 * and where each KEEL page is mapped, by host address (so that mapping it
 * again moves it, and teardown finds the device pages).
 *
 * Lock order: a domain's mem.lock -> the page allocator's and the heap's
 * locks. Two domains' mem.locks are only held together by
 * guest_memory_copy_pages(), lower domain id first (ids are never reused,
 * so the order is total). device_page_put() is called with no mem.lock
 * held, as core/device.c may copy to guest memory under its own lock.
 */
#include <arch/arch.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/string.h>
#include <public/keel/errno.h>

#define ENTRIES		512u
#define E_RIGHTS	0x7ull
#define E_TABLE		(1ull << 6)
#define E_LARGE		(1ull << 7)
#define E_KIND		(3ull << 8)
#define E_RAM		(0ull << 8)
#define E_KEEL		(1ull << 8)
#define E_FOREIGN	(2ull << 8)
#define E_ADDR		0x000ffffffffff000ull
#define TOP_LEAF_LEVEL	2		/* 1 GiB leaves */

/* struct guest_memory.keel values: the GFN, and the map flags above it. */
#define KEEL_FLAGS_SHIFT	48
#define KEEL_GFN_MASK		((1ull << KEEL_FLAGS_SHIFT) - 1)

#define HASH_MIN	16u

static uint64_t *table(paddr_t pa)
{
	return arch_phys_to_virt(pa);
}

static unsigned int index_at(uint64_t gfn, int level)
{
	return (unsigned int)(gfn >> (9 * level)) & (ENTRIES - 1);
}

/* Pages one entry at @level covers, and its order. */
static uint64_t level_pages(int level)
{
	return 1ull << (9 * level);
}

static unsigned int level_order(int level)
{
	return 9u * (unsigned int)level;
}

/* A large leaf a walk ran into above the level it was asked for. */
struct large_leaf {
	uint64_t *e;		/* NULL: none */
	int level;		/* 1: 2 MiB, 2: 1 GiB */
};

/* --- hash tables ------------------------------------------------------------ */

/*
 * Open addressing with linear probing; a slot is a pair (key + 1, value),
 * so key 0 (GFN 0) is a valid key. Deletion shifts later entries back, so
 * no tombstones build up. Grows at half full.
 */
static uint32_t hash_home(const struct guest_hash *h, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (h->cap - 1);
}

/* The slot holding @key, or the empty slot where it would go. */
static uint32_t hash_index(const struct guest_hash *h, uint64_t key)
{
	uint32_t i = hash_home(h, key);

	while (h->slots[2 * i] != 0 && h->slots[2 * i] != key + 1) {
		i = (i + 1) & (h->cap - 1);
	}
	return i;
}

static uint64_t *hash_find(const struct guest_hash *h, uint64_t key)
{
	uint32_t i;

	if (h->used == 0) {
		return NULL;
	}
	i = hash_index(h, key);
	return h->slots[2 * i] ? &h->slots[2 * i + 1] : NULL;
}

static void hash_put(struct guest_hash *h, uint64_t key, uint64_t value)
{
	uint32_t i = hash_index(h, key);

	h->slots[2 * i] = key + 1;
	h->slots[2 * i + 1] = value;
	h->used++;
}

/* Make room for one more key; false if Keel is out of memory. */
static bool hash_reserve(struct guest_hash *h)
{
	struct guest_hash bigger = { .cap = h->cap ? 2 * h->cap : HASH_MIN };

	if (2 * (h->used + 1) <= h->cap) {
		return true;
	}
	bigger.slots = heap_alloc((size_t)bigger.cap * 2 * sizeof(uint64_t));
	if (!bigger.slots) {
		return false;
	}
	for (uint32_t i = 0; i < h->cap; i++) {
		if (h->slots[2 * i]) {
			hash_put(&bigger, h->slots[2 * i] - 1, h->slots[2 * i + 1]);
		}
	}
	heap_free(h->slots);
	*h = bigger;
	return true;
}

static void hash_remove(struct guest_hash *h, uint64_t key)
{
	uint32_t mask = h->cap - 1, hole = hash_index(h, key), i = hole;

	h->slots[2 * hole] = 0;
	h->used--;
	for (;;) {
		uint32_t home;

		i = (i + 1) & mask;
		if (h->slots[2 * i] == 0) {
			return;
		}
		/* Move the entry back unless its home lies in (hole, i]. */
		home = hash_home(h, h->slots[2 * i] - 1);
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			h->slots[2 * hole] = h->slots[2 * i];
			h->slots[2 * hole + 1] = h->slots[2 * i + 1];
			h->slots[2 * i] = 0;
			hole = i;
		}
	}
}

/* --- the tree ----------------------------------------------------------------- */

void guest_memory_init(struct guest_memory *mem, uint64_t max_pages)
{
	memset(mem, 0, sizeof(*mem));
	mem->lock = (struct spinlock)SPINLOCK_INIT;
	mem->max_pages = max_pages;
	mem->target_pages = max_pages;
}

void guest_memory_set_limits(struct domain *d, uint64_t max_pages, uint64_t target_pages)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);

	if (max_pages) {
		d->mem.max_pages = max_pages;
	}
	if (target_pages) {
		d->mem.target_pages = target_pages;
	}
	spin_unlock_irqrestore(&d->mem.lock, flags);
}

/*
 * The entry for @gfn at @level, creating tables on the way if @create.
 * NULL if a table is missing (and not created) or a large leaf above
 * @level is in the way (*large then describes it, if given).
 */
static uint64_t *walk(struct guest_memory *mem, uint64_t gfn, int level,
		      bool create, struct large_leaf *large)
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
				*large = (struct large_leaf){ e, l };
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

/* Is any page of [gfn, gfn + count) mapped, whatever its kind? */
static bool any_mapped(struct guest_memory *mem, uint64_t gfn, uint64_t count)
{
	for (uint64_t g = gfn; g < gfn + count; g++) {
		struct large_leaf large = { 0 };
		uint64_t *e = walk(mem, g, 0, false, &large);

		if (large.e || (e && (*e & E_RIGHTS))) {
			return true;
		}
	}
	return false;
}

/* Unmap and free the RAM leaf at @e, at @level, mapping from @gfn. */
static void drop_leaf(struct domain *d, uint64_t *e, uint64_t gfn, int level, bool mirror)
{
	if (mirror) {
		arch_p2m_clear(d, gfn, level_order(level));
	}
	page_free(*e & E_ADDR, level_pages(level));
	d->mem.ram_pages -= level_pages(level);
	d->mem.leaves[level]--;
	*e = 0;
}

/* Unmap the 4 KiB KEEL or FOREIGN leaf at @e; the page is not ours to free. */
static void clear_leaf(struct domain *d, uint64_t *e, uint64_t gfn)
{
	arch_p2m_clear(d, gfn, 0);
	*e = 0;
}

/*
 * Release what is mapped in [gfn, gfn + count): populate's undo, when the
 * range held nothing before it.
 */
static void unpopulate(struct domain *d, uint64_t gfn, uint64_t count)
{
	uint64_t g = gfn;

	while (g < gfn + count) {
		struct large_leaf large = { 0 };
		uint64_t *e = walk(&d->mem, g, 0, false, &large);

		if (large.e) {
			/* populate_chunk() only maps aligned leaves: g is the base. */
			drop_leaf(d, large.e, g, large.level, true);
			g += level_pages(large.level);
		} else {
			if (e && (*e & E_RIGHTS)) {
				drop_leaf(d, e, g, 0, true);
			}
			g++;
		}
	}
}

/*
 * Map one chunk at @gfn: the largest leaf up to @top that is aligned, fits
 * in @left and the allocator has contiguous memory for. Pages mapped, or 0
 * if Keel is out of memory.
 */
static uint64_t populate_chunk(struct domain *d, uint64_t gfn, uint64_t left, int top)
{
	struct guest_memory *mem = &d->mem;

	for (int level = top; level >= 0; level--) {
		uint64_t pages = level_pages(level);
		uint64_t *e;
		paddr_t pa;

		if ((gfn & (pages - 1)) || left < pages) {
			continue;
		}
		/* A table below (from an earlier split) rules the large leaf out. */
		e = walk(mem, gfn, level, true, NULL);
		if (!e || (level > 0 && *e != 0)) {
			continue;
		}
		pa = level ? page_alloc_range(pages, pages, 0) : page_alloc(1);
		if (!pa) {
			continue;
		}
		*e = pa | GUEST_RWX | E_RAM | (level ? E_LARGE : 0);
		mem->ram_pages += pages;
		mem->leaves[level]++;
		if (arch_p2m_set(d, gfn, pa, level_order(level), GUEST_RWX) != 0) {
			drop_leaf(d, e, gfn, level, false);
			return 0;
		}
		return pages;
	}
	return 0;
}

int guest_memory_populate(struct domain *d, uint64_t gfn, uint64_t count)
{
	struct guest_memory *mem = &d->mem;
	int top = (int)MIN(arch_p2m_max_order() / 9, (unsigned int)TOP_LEAF_LEVEL);
	uint64_t end = gfn + count, g, n;
	unsigned long flags;
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
	/*
	 * 1 GiB leaves first: the 2 MiB chunks for the rest, allocated before
	 * them, would break up the free aligned GiBs they need. A GiB that
	 * finds no such memory is left to the second pass.
	 */
	for (g = ALIGN_UP(gfn, level_pages(2)); ret == 0 && top >= 2 && g < end &&
	     end - g >= level_pages(2); g += level_pages(2)) {
		(void)populate_chunk(d, g, level_pages(2), 2);
	}
	for (g = gfn; ret == 0 && g < end; g += n) {
		struct large_leaf large = { 0 };

		walk(mem, g, 0, false, &large);
		if (large.e) {
			n = level_pages(large.level);	/* mapped by the first pass */
			continue;
		}
		/* A chunk below 1 GiB never reaches into the next aligned GiB. */
		n = populate_chunk(d, g, end - g, MIN(top, 1));
		if (n == 0) {
			unpopulate(d, gfn, count);
			ret = -KEEL_ENOMEM;
		}
	}
	spin_unlock_irqrestore(&mem->lock, flags);
	return ret;
}

/* What @gfn holds, under the lock: its host page and rights if anything. */
static enum guest_page_kind lookup(struct guest_memory *mem, uint64_t gfn, paddr_t *pa,
				   uint32_t *rights)
{
	static const enum guest_page_kind kinds[] = {
		GUEST_PAGE_RAM, GUEST_PAGE_KEEL, GUEST_PAGE_FOREIGN, GUEST_PAGE_NONE,
	};
	struct large_leaf large = { 0 };
	uint64_t *e;

	if (gfn >= GUEST_GFN_LIMIT) {
		return GUEST_PAGE_NONE;
	}
	e = walk(mem, gfn, 0, false, &large);
	if (large.e) {
		*pa = (*large.e & E_ADDR) +
		      ((gfn & (level_pages(large.level) - 1)) << PAGE_SHIFT);
		*rights = (uint32_t)(*large.e & E_RIGHTS);
		return GUEST_PAGE_RAM;
	}
	if (!e || !(*e & E_RIGHTS)) {
		return GUEST_PAGE_NONE;
	}
	*pa = *e & E_ADDR;
	*rights = (uint32_t)(*e & E_RIGHTS);
	return kinds[(*e & E_KIND) >> 8];
}

bool guest_memory_translate(struct domain *d, uint64_t gfn, paddr_t *pa,
			    uint32_t *rights)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);
	bool ok = lookup(&d->mem, gfn, pa, rights) == GUEST_PAGE_RAM;

	spin_unlock_irqrestore(&d->mem.lock, flags);
	return ok;
}

enum guest_page_kind guest_memory_kind(struct domain *d, uint64_t gfn, paddr_t *pa)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);
	enum guest_page_kind kind;
	uint32_t rights;
	paddr_t where = 0;

	kind = lookup(&d->mem, gfn, &where, &rights);
	spin_unlock_irqrestore(&d->mem.lock, flags);
	if (pa) {
		*pa = where;
	}
	return kind;
}

/* --- copies ------------------------------------------------------------------ */

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
		if (lookup(&d->mem, g, &pa, &rights) != GUEST_PAGE_RAM ||
		    (rights & need) != need) {
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

/* The RAM page at @gfn of @mem, under its lock, as Keel sees it; NULL if none. */
static uint8_t *ram_at(struct guest_memory *mem, uint64_t gfn)
{
	uint32_t rights;
	paddr_t pa;

	if (lookup(mem, gfn, &pa, &rights) != GUEST_PAGE_RAM) {
		return NULL;
	}
	return arch_phys_to_virt(pa);
}

int guest_memory_copy_pages(struct domain *dst, uint64_t dst_gfn, size_t dst_off,
			    struct domain *src, uint64_t src_gfn, size_t src_off,
			    size_t len)
{
	struct domain *first = dst->domid < src->domid ? dst : src;
	struct domain *second = first == dst ? src : dst;
	unsigned long flags = arch_irq_save();
	uint8_t *from, *to;
	int ret = 0;

	spin_lock(&first->mem.lock);
	if (second != first) {
		spin_lock(&second->mem.lock);
	}
	from = ram_at(&src->mem, src_gfn);
	to = ram_at(&dst->mem, dst_gfn);
	if (!from) {
		ret = GUEST_COPY_BAD_SRC;
	} else if (!to) {
		ret = GUEST_COPY_BAD_DST;
	} else {
		/* Both sides may be the same page of the same domain. */
		memmove(to + dst_off, from + src_off, len);
	}
	if (second != first) {
		spin_unlock(&second->mem.lock);
	}
	spin_unlock(&first->mem.lock);
	arch_irq_restore(flags);
	return ret;
}

/* --- pins and release ------------------------------------------------------- */

int guest_memory_pin(struct domain *d, uint64_t gfn, paddr_t *pa)
{
	struct guest_memory *mem = &d->mem;
	unsigned long flags = spin_lock_irqsave(&mem->lock);
	uint64_t *count;
	uint32_t rights;
	int ret = 0;

	if (lookup(mem, gfn, pa, &rights) != GUEST_PAGE_RAM) {
		ret = -KEEL_ENOENT;
	} else if ((count = hash_find(&mem->pins, gfn)) != NULL) {
		(*count)++;
	} else if (hash_reserve(&mem->pins)) {
		hash_put(&mem->pins, gfn, 1);
	} else {
		ret = -KEEL_ENOMEM;
	}
	spin_unlock_irqrestore(&mem->lock, flags);
	return ret;
}

void guest_memory_unpin(struct domain *d, uint64_t gfn)
{
	struct guest_memory *mem = &d->mem;
	unsigned long flags = spin_lock_irqsave(&mem->lock);
	uint64_t *count = hash_find(&mem->pins, gfn);

	ASSERT(count != NULL);
	if (--*count == 0) {
		hash_remove(&mem->pins, gfn);
	}
	spin_unlock_irqrestore(&mem->lock, flags);
}

/*
 * Turn the large RAM leaf *@e at @level, mapping from @base, into a table
 * of 512 leaves one level down, of the same pages. The arch sees the large
 * mapping go and the smaller ones come; by its contract only the first
 * smaller set may fail, and then the large mapping it just lost can be put
 * back.
 */
static int split_large(struct domain *d, uint64_t *e, uint64_t base, int level)
{
	uint32_t rights = (uint32_t)(*e & E_RIGHTS);
	uint64_t child = level_pages(level - 1);
	paddr_t pa = *e & E_ADDR, t = page_alloc(1);
	uint64_t *small, large_bit = level > 1 ? E_LARGE : 0;
	unsigned int i;
	int rc;

	if (!t) {
		return -KEEL_ENOMEM;
	}
	small = table(t);
	for (i = 0; i < ENTRIES; i++) {
		small[i] = (pa + i * child * PAGE_SIZE) | rights | E_RAM | large_bit;
	}
	arch_p2m_clear(d, base, level_order(level));
	for (i = 0; i < ENTRIES; i++) {
		if (arch_p2m_set(d, base + i * child, pa + i * child * PAGE_SIZE,
				 level_order(level - 1), rights) != 0) {
			break;
		}
	}
	if (i < ENTRIES) {
		while (i--) {
			arch_p2m_clear(d, base + i * child, level_order(level - 1));
		}
		rc = arch_p2m_set(d, base, pa, level_order(level), rights);
		ASSERT(rc == 0);
		page_free(t, 1);
		return -KEEL_ENOMEM;
	}
	*e = t | E_TABLE;
	d->mem.table_pages++;
	d->mem.leaves[level]--;
	d->mem.leaves[level - 1] += ENTRIES;
	return 0;
}

/* Split every large leaf above @level that covers @gfn. Under the lock. */
static int split_down_to(struct domain *d, uint64_t gfn, int level)
{
	for (;;) {
		struct large_leaf large = { 0 };
		int rc;

		walk(&d->mem, gfn, level, false, &large);
		if (!large.e) {
			return 0;
		}
		rc = split_large(d, large.e, gfn & ~(level_pages(large.level) - 1), large.level);
		if (rc != 0) {
			return rc;
		}
	}
}

/* RELEASE's checks, under the lock: every page RAM, then none pinned. */
static int release_check(struct guest_memory *mem, uint64_t gfn, uint64_t count)
{
	uint32_t rights;
	paddr_t pa;

	for (uint64_t g = gfn; g < gfn + count; g++) {
		if (lookup(mem, g, &pa, &rights) != GUEST_PAGE_RAM) {
			return -KEEL_ENOENT;
		}
	}
	for (uint64_t g = gfn; mem->pins.used && g < gfn + count; g++) {
		if (hash_find(&mem->pins, g)) {
			return -KEEL_EBUSY;
		}
	}
	return 0;
}

int guest_memory_release(struct domain *d, uint64_t gfn, unsigned int order)
{
	struct guest_memory *mem = &d->mem;
	uint64_t count = (uint64_t)1 << order, *e;
	unsigned long flags;
	int ret;

	/* GUEST_GFN_LIMIT is 2 MiB aligned: an aligned extent below it fits. */
	if ((order != 0 && order != GUEST_LARGE_ORDER) || (gfn & (count - 1)) ||
	    gfn >= GUEST_GFN_LIMIT) {
		return -KEEL_EINVAL;
	}
	flags = spin_lock_irqsave(&mem->lock);
	ret = release_check(mem, gfn, count);
	if (ret == 0) {
		/* A split that fails half-way leaves smaller leaves: still valid. */
		ret = split_down_to(d, gfn, order ? 1 : 0);
	}
	if (ret == 0 && order) {
		e = walk(mem, gfn, 1, false, NULL);
		if (*e & E_LARGE) {
			drop_leaf(d, e, gfn, 1, true);
		} else {
			for (uint64_t g = gfn; g < gfn + count; g++) {
				drop_leaf(d, walk(mem, g, 0, false, NULL), g, 0, true);
			}
		}
	} else if (ret == 0) {
		drop_leaf(d, walk(mem, gfn, 0, false, NULL), gfn, 0, true);
	}
	spin_unlock_irqrestore(&mem->lock, flags);
	return ret;
}

void guest_memory_leaf_counts(struct domain *d, uint64_t out[GUEST_LEAF_SIZES])
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);

	memcpy(out, d->mem.leaves, sizeof(d->mem.leaves));
	spin_unlock_irqrestore(&d->mem.lock, flags);
}

/* --- KEEL and FOREIGN pages ---------------------------------------------- */

/* Whether a 4 KiB Keel or foreign page may go at @gfn at all. */
static int map_target_check(uint64_t gfn)
{
	if (gfn >= GUEST_GFN_LIMIT) {
		return -KEEL_EINVAL;
	}
	return arch_gfn_is_platform(gfn) ? -KEEL_EBUSY : 0;
}

/* Put a 4 KiB leaf of @kind at @gfn, which must hold nothing. Under the lock. */
static int map_leaf(struct domain *d, uint64_t gfn, paddr_t pa, uint32_t rights,
		    uint64_t kind)
{
	struct large_leaf large = { 0 };
	uint64_t *e = walk(&d->mem, gfn, 0, false, &large);

	if (large.e || (e && (*e & E_RIGHTS))) {
		return -KEEL_EBUSY;
	}
	e = walk(&d->mem, gfn, 0, true, NULL);
	if (!e) {
		return -KEEL_ENOMEM;
	}
	*e = pa | rights | kind;
	if (arch_p2m_set(d, gfn, pa, 0, rights) != 0) {
		*e = 0;
		return -KEEL_ENOMEM;
	}
	return 0;
}

/* The 4 KiB leaf of @kind at @gfn, under the lock; it must exist. */
static uint64_t *leaf_of(struct guest_memory *mem, uint64_t gfn, uint64_t kind)
{
	uint64_t *e = walk(mem, gfn, 0, false, NULL);

	ASSERT(e && (*e & E_RIGHTS) && (*e & E_KIND) == kind);
	return e;
}

int guest_memory_map_keel(struct domain *d, uint64_t gfn, paddr_t pa, unsigned int flags)
{
	struct guest_memory *mem = &d->mem;
	uint64_t value = gfn | ((uint64_t)flags << KEEL_FLAGS_SHIFT), *where, old;
	paddr_t put = 0;
	unsigned long irq;
	int ret = map_target_check(gfn);

	if (ret != 0) {
		return ret;
	}
	irq = spin_lock_irqsave(&mem->lock);
	where = hash_find(&mem->keel, pa);
	if (where && (*where & KEEL_GFN_MASK) == gfn) {
		/* Already there: the existing mapping keeps its reference. */
		put = (flags & GUEST_KEEL_DEVICE) ? pa : 0;
	} else if (!where && !hash_reserve(&mem->keel)) {
		ret = -KEEL_ENOMEM;
	} else {
		/* Map at the new place first, so that a failure changes nothing. */
		ret = map_leaf(d, gfn, pa, GUEST_READ | GUEST_WRITE, E_KEEL);
	}
	if (ret == 0 && where && (*where & KEEL_GFN_MASK) != gfn) {
		old = *where;
		clear_leaf(d, leaf_of(mem, old & KEEL_GFN_MASK, E_KEEL), old & KEEL_GFN_MASK);
		put = ((old >> KEEL_FLAGS_SHIFT) & GUEST_KEEL_DEVICE) ? pa : 0;
		*where = value;
	} else if (ret == 0 && !where) {
		hash_put(&mem->keel, pa, value);
	}
	spin_unlock_irqrestore(&mem->lock, irq);
	if (put) {
		device_page_put(put);
	}
	return ret;
}

void guest_memory_unmap_keel(struct domain *d, paddr_t pa)
{
	struct guest_memory *mem = &d->mem;
	unsigned long flags = spin_lock_irqsave(&mem->lock);
	uint64_t *where = hash_find(&mem->keel, pa), old = where ? *where : 0;

	if (where) {
		clear_leaf(d, leaf_of(mem, old & KEEL_GFN_MASK, E_KEEL), old & KEEL_GFN_MASK);
		hash_remove(&mem->keel, pa);
	}
	spin_unlock_irqrestore(&mem->lock, flags);
	if (where && ((old >> KEEL_FLAGS_SHIFT) & GUEST_KEEL_DEVICE)) {
		device_page_put(pa);
	}
}

int guest_memory_unmap_keel_at(struct domain *d, uint64_t gfn)
{
	struct guest_memory *mem = &d->mem;
	unsigned long irq = spin_lock_irqsave(&mem->lock);
	uint64_t *where = NULL, flags = 0;
	uint32_t rights;
	paddr_t pa = 0;

	if (lookup(mem, gfn, &pa, &rights) == GUEST_PAGE_KEEL) {
		where = hash_find(&mem->keel, pa);
		ASSERT(where && (*where & KEEL_GFN_MASK) == gfn);
		flags = *where >> KEEL_FLAGS_SHIFT;
		clear_leaf(d, leaf_of(mem, gfn, E_KEEL), gfn);
		hash_remove(&mem->keel, pa);
	}
	spin_unlock_irqrestore(&mem->lock, irq);
	if (!where) {
		return -KEEL_EINVAL;
	}
	/* After the unlock, and after clear_leaf() made every CPU forget the mapping. */
	if (flags & GUEST_KEEL_DEVICE) {
		device_page_put(pa);
	}
	return 0;
}

int guest_memory_map_foreign(struct domain *d, uint64_t gfn, paddr_t pa, uint32_t rights)
{
	unsigned long flags;
	int ret = map_target_check(gfn);

	if (ret != 0) {
		return ret;
	}
	flags = spin_lock_irqsave(&d->mem.lock);
	ret = map_leaf(d, gfn, pa, rights & (GUEST_READ | GUEST_WRITE), E_FOREIGN);
	spin_unlock_irqrestore(&d->mem.lock, flags);
	return ret;
}

void guest_memory_redirect_foreign(struct domain *d, uint64_t gfn, paddr_t pa,
				   uint32_t rights)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);
	uint64_t *e = leaf_of(&d->mem, gfn, E_FOREIGN);
	int rc;

	rights &= GUEST_READ | GUEST_WRITE;
	arch_p2m_clear(d, gfn, 0);
	*e = pa | rights | E_FOREIGN;
	/* The arch contract: setting a GFN it just cleared needs no memory. */
	rc = arch_p2m_set(d, gfn, pa, 0, rights);
	ASSERT(rc == 0);
	spin_unlock_irqrestore(&d->mem.lock, flags);
}

void guest_memory_unmap_foreign(struct domain *d, uint64_t gfn)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);

	clear_leaf(d, leaf_of(&d->mem, gfn, E_FOREIGN), gfn);
	spin_unlock_irqrestore(&d->mem.lock, flags);
}

long guest_batch_start(struct guest_batch *b, struct domain *d, uint64_t gpa,
		       uint64_t count, size_t size, uint64_t budget)
{
	*b = (struct guest_batch){
		.d = d, .gpa = gpa, .count = count, .size = size, .budget = budget,
	};
	if (count == 0) {
		return -KEEL_EINVAL;
	}
	if (gpa & 7) {
		return -KEEL_EFAULT;
	}
	if (count > (PAGE_SIZE - (gpa & ~PAGE_MASK)) / size) {
		return -KEEL_E2BIG;
	}
	if (guest_memory_kind(d, gpa >> PAGE_SHIFT, NULL) != GUEST_PAGE_RAM) {
		return -KEEL_EFAULT;
	}
	return 0;
}

bool guest_batch_next(struct guest_batch *b, void *elem)
{
	if (b->stopped || b->done == b->count || (b->done && b->work >= b->budget)) {
		return false;
	}
	if (guest_copy_from(b->d, b->gpa + b->done * b->size, elem, b->size) != 0) {
		b->stopped = true;
		return false;
	}
	return true;
}

void guest_batch_done(struct guest_batch *b, const void *elem, size_t out_off,
		      size_t out_len, uint64_t cost)
{
	(void)guest_copy_to(b->d, b->gpa + b->done * b->size + out_off,
			    (const uint8_t *)elem + out_off, out_len);
	b->done++;
	b->work += cost;
}

long guest_batch_end(const struct guest_batch *b)
{
	return b->done ? (long)b->done : -KEEL_EFAULT;
}

/* --- teardown ----------------------------------------------------------------- */

/* Free a table at @level (mapping GFNs from @gfn_base) and all below it. */
static void release_table(struct domain *d, paddr_t t, int level, uint64_t gfn_base)
{
	uint64_t *entries = table(t);

	for (unsigned int i = 0; i < ENTRIES; i++) {
		uint64_t e = entries[i], gfn = gfn_base + ((uint64_t)i << (9 * level));

		if (e & E_TABLE) {
			release_table(d, e & E_ADDR, level - 1, gfn);
		} else if ((e & E_RIGHTS) && (e & E_KIND) != E_RAM) {
			clear_leaf(d, &entries[i], gfn);
		} else if (e & E_RIGHTS) {
			drop_leaf(d, &entries[i], gfn, (e & E_LARGE) ? level : 0, true);
		}
	}
	page_free(t, 1);
	d->mem.table_pages--;
}

void guest_memory_release_all(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&d->mem.lock);
	struct guest_hash keel = d->mem.keel;

	if (d->mem.root) {
		release_table(d, d->mem.root, 3, 0);
		d->mem.root = 0;
	}
	heap_free(d->mem.pins.slots);
	d->mem.pins = (struct guest_hash){ 0 };
	d->mem.keel = (struct guest_hash){ 0 };
	spin_unlock_irqrestore(&d->mem.lock, flags);
	/* Device pages may go with their last mapping: no lock held. */
	for (uint32_t i = 0; i < keel.cap; i++) {
		uint64_t flags_of = keel.slots[2 * i + 1] >> KEEL_FLAGS_SHIFT;

		if (keel.slots[2 * i] && (flags_of & GUEST_KEEL_DEVICE)) {
			device_page_put(keel.slots[2 * i] - 1);
		}
	}
	heap_free(keel.slots);
}
