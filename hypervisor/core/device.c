/* SPDX-License-Identifier: MIT */
/*
 * core/device.c - PV device records, their control pages and the per-domain
 * device tables (keel/device.h; docs/abi/device-table.md, control.md).
 *
 * Locks:
 *   devices_lock (one for all of Keel) guards the id counter, both hash
 *   tables, every device's reference count and list membership, every
 *   domain's device list and flags, and the building and publishing of
 *   every table. Tables are therefore published in the order the changes
 *   happened, and a change and the tables showing it are one step: a setup
 *   builds both new tables before it commits, so it can still fail cleanly.
 *   Device changes are control operations, rare and short.
 *
 *   Each domain's table_lock guards only the pointer to its published
 *   table, so a guest reading its table never waits for a build. Tables are
 *   immutable once built and reference counted; a read copies from the one
 *   it took.
 *
 * Order: devices_lock -> table_lock -> heap and page allocator. Event
 * channels and the domain layer are only called with neither lock held
 * (VIRQ delivery kicks vCPUs; dropping a domain reference may free it).
 *
 * Both locks are taken with interrupts off, and tables are only built under
 * devices_lock: Debian's libfdt is built for user space and uses the red
 * zone below the stack pointer, which an interrupt would overwrite.
 *
 * Nothing here logs or panics on a guest's behalf; the only ASSERTs guard
 * size bounds computed from limits checked before.
 */
#include <libfdt.h>
#include <arch/arch.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/format.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/control.h>
#include <public/keel/device_table.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/io/device.h>
#include <public/keel/shared_info.h>

#define HASH_BUCKETS	64
#define DEVICE_ID_LAST	0xffffffffull

/*
 * Upper bounds of a table's FDT, which size its buffer. Fixed part: header
 * and reserve map (56 bytes), the root, /domain with a 31-byte name,
 * /map-window and /devices (336), the property names (189): 581. One
 * device node: "console@ffffffff" and eight properties with a 15-byte
 * label: 172.
 */
#define DT_FIXED_BOUND	1024
#define DT_NODE_BOUND	192

_Static_assert(DT_FIXED_BOUND + DEVICE_MAX_PER_DOMAIN * DT_NODE_BOUND <= KEEL_DT_MAX_SIZE,
	       "a domain's largest table must fit KEEL_DT_MAX_SIZE");
_Static_assert(sizeof(struct keel_io_device_page) == PAGE_SIZE,
	       "the device control page is one page");
_Static_assert(DEVICE_LABEL_MAX == sizeof(((struct keel_ctl_device *)0)->label),
	       "labels as in the control ABI");

enum { END_FRONT, END_BACK };

/* One end of a device, in that domain's list of devices. */
struct device_end {
	struct device_end *next;	/* [devices_lock] */
	struct device_end *prev;	/* [devices_lock] */
	struct device *device;		/* (c) */
	struct domain *domain;		/* (c) valid while the device is listed */
	uint32_t domid;			/* (c) */
};

struct device {
	uint32_t id;			/* (c) */
	uint32_t device_class;		/* (c) KEEL_IO_CLASS_* */
	uint32_t index;			/* (c) */
	uint32_t port;			/* (c) the frontend's control port */
	char label[DEVICE_LABEL_MAX];	/* (c) */
	paddr_t page;			/* (c) struct keel_io_device_page */
	struct device_end end[2];	/* END_FRONT, END_BACK */
	/*
	 * [devices_lock] One reference while listed (setup to removal; a
	 * remover holds it until it is done) and one per mapping
	 * (device_page_lookup() to device_page_put()). At zero the page and
	 * the record are freed.
	 */
	uint32_t refs;
	struct device *id_next;		/* [devices_lock] by_id chain while listed */
	struct device *page_next;	/* [devices_lock] by_page chain while refs > 0 */
	struct device *gone_next;	/* [devices_lock] device_domain_gone()'s list */
};
/* (c): set before the device is listed, constant afterwards. */

/* A built table: immutable once published. */
struct dt_blob {
	uint32_t refs;			/* atomic: 1 while published, 1 per reader */
	uint32_t size;			/* (c) the FDT's totalsize */
	uint8_t data[];			/* (c) the FDT, 8-byte aligned as libfdt wants */
};

_Static_assert(offsetof(struct dt_blob, data) % 8 == 0, "FDT data 8-byte aligned");

struct device_domain {
	struct device_end list;		/* [devices_lock] sentinel of its ends */
	uint32_t count;			/* [devices_lock] devices it is an end of */
	bool gone;			/* [devices_lock] being destroyed: no new devices */
	bool stale;			/* [devices_lock] published table out of date */
	struct spinlock table_lock;
	struct dt_blob *table;		/* [table_lock] published, never NULL */
};

static const struct {
	const char *node;		/* node name prefix in the device table */
	const char *compatible;
	uint32_t backend_cap;		/* what the backend must hold */
} classes[] = {
	[KEEL_IO_CLASS_CONSOLE] = { "console", KEEL_DT_COMPAT_CONSOLE, KEEL_CAP_BACKEND_CONSOLE },
	[KEEL_IO_CLASS_BLOCK] = { "block", KEEL_DT_COMPAT_BLOCK, KEEL_CAP_BACKEND_BLOCK },
	[KEEL_IO_CLASS_NET] = { "net", KEEL_DT_COMPAT_NET, KEEL_CAP_BACKEND_NET },
};

static struct spinlock devices_lock = SPINLOCK_INIT;
static uint64_t next_id = 1;				/* [devices_lock] */
static struct device *by_id[HASH_BUCKETS];		/* [devices_lock] listed devices */
static struct device *by_page[HASH_BUCKETS];		/* [devices_lock] refs > 0 */

/* --- small helpers ------------------------------------------------------- */

static bool class_valid(uint32_t c)
{
	return c < ARRAY_SIZE(classes) && classes[c].node;
}

/* Control over @d (control.md, "Capabilities"). */
static bool has_control(const struct domain *caller, const struct domain *d)
{
	return (caller->caps & KEEL_CAP_CONTROL) ||
	       ((caller->caps & KEEL_CAP_CREATE) && d->creator == caller->domid);
}

/* Whether @caller can have control over any domain at all. */
static bool may_control(const struct domain *caller)
{
	return (caller->caps & (KEEL_CAP_CONTROL | KEEL_CAP_CREATE)) != 0;
}

static bool is_front(const struct device_end *e)
{
	return e == &e->device->end[END_FRONT];
}

static struct device_end *other_end(struct device_end *e)
{
	return &e->device->end[is_front(e) ? END_BACK : END_FRONT];
}

static struct device **id_link_locked(uint32_t id)
{
	struct device **link = &by_id[id % HASH_BUCKETS];

	while (*link && (*link)->id != id) {
		link = &(*link)->id_next;
	}
	return link;
}

static struct device **page_link_locked(paddr_t pa)
{
	struct device **link = &by_page[(pa >> PAGE_SHIFT) % HASH_BUCKETS];

	while (*link && (*link)->page != pa) {
		link = &(*link)->page_next;
	}
	return link;
}

static void end_append(struct device_end *head, struct device_end *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static void end_remove(struct device_end *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = NULL;
	e->prev = NULL;
}

/* --- tables -------------------------------------------------------------- */

static void blob_put(struct dt_blob *b)
{
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		heap_free(b);
	}
}

/* A reference to @dd's published table, for one consistent read. */
static struct dt_blob *table_get(struct device_domain *dd)
{
	unsigned long flags = spin_lock_irqsave(&dd->table_lock);
	struct dt_blob *b = dd->table;

	__atomic_fetch_add(&b->refs, 1, __ATOMIC_RELAXED);
	spin_unlock_irqrestore(&dd->table_lock, flags);
	return b;
}

/*
 * The writers below return 0 or a negative libfdt error. Their results
 * are ORed together: any failure leaves the sum negative, and libfdt
 * refuses further writes to a tree in an error state anyway.
 */
static int dt_write_domain(void *fdt, const struct domain *d)
{
	static const uint8_t no_uuid[16];	/* Keel is given no uuid yet */
	int rc = 0;

	rc |= fdt_begin_node(fdt, KEEL_DT_NODE_DOMAIN);
	rc |= fdt_property_u32(fdt, KEEL_DT_PROP_DOMID, d->domid);
	rc |= fdt_property_string(fdt, KEEL_DT_PROP_NAME, d->name);
	rc |= fdt_property(fdt, KEEL_DT_PROP_UUID, no_uuid, sizeof(no_uuid));
	/* A u64 in FDT byte order is two cells, high first, as the schema says. */
	rc |= fdt_property_u64(fdt, KEEL_DT_PROP_CAPS, d->caps);
	rc |= fdt_property_u32(fdt, KEEL_DT_PROP_VCPUS, d->vcpu_count);
	rc |= fdt_end_node(fdt);
	return rc;
}

static int dt_write_map_window(void *fdt)
{
	uint64_t gpa, size;
	fdt64_t reg[2];
	int rc = 0;

	arch_map_window(&gpa, &size);
	reg[0] = cpu_to_fdt64(gpa);
	reg[1] = cpu_to_fdt64(size);
	rc |= fdt_begin_node(fdt, KEEL_DT_NODE_MAP_WINDOW);
	rc |= fdt_property(fdt, KEEL_DT_PROP_REG, reg, sizeof(reg));
	rc |= fdt_end_node(fdt);
	return rc;
}

/* The node for @e's device as @e's domain sees it. */
static int dt_write_device(void *fdt, struct device_end *e)
{
	const struct device *dev = e->device;
	char name[32];
	int rc = 0;

	format(name, sizeof(name), "%s@%x", classes[dev->device_class].node, dev->id);
	rc |= fdt_begin_node(fdt, name);
	rc |= fdt_property_string(fdt, "compatible", classes[dev->device_class].compatible);
	rc |= fdt_property_u32(fdt, KEEL_DT_PROP_REG, dev->id);
	rc |= fdt_property_string(fdt, KEEL_DT_PROP_ROLE,
				  is_front(e) ? KEEL_DT_ROLE_FRONTEND : KEEL_DT_ROLE_BACKEND);
	rc |= fdt_property_u32(fdt, KEEL_DT_PROP_PEER_DOMID, other_end(e)->domid);
	rc |= fdt_property_u32(fdt, KEEL_DT_PROP_EVENT_PORT, dev->port);
	rc |= fdt_property_u32(fdt, KEEL_DT_PROP_INDEX, dev->index);
	rc |= fdt_property_string(fdt, KEEL_DT_PROP_LABEL, dev->label);
	rc |= fdt_end_node(fdt);
	return rc;
}

/*
 * Build @d's table from its device list, or NULL when out of memory.
 * devices_lock held, so interrupts are off while libfdt runs.
 */
static struct dt_blob *table_build_locked(struct domain *d)
{
	struct device_domain *dd = d->devices;
	size_t room = DT_FIXED_BOUND + (size_t)dd->count * DT_NODE_BOUND;
	const fdt32_t version[2] = {
		cpu_to_fdt32(KEEL_DT_VERSION_MAJOR), cpu_to_fdt32(KEEL_DT_VERSION_MINOR),
	};
	struct dt_blob *b = heap_alloc(sizeof(*b) + room);
	void *fdt;
	int rc = 0;

	if (!b) {
		return NULL;
	}
	fdt = b->data;
	rc |= fdt_create(fdt, (int)room);
	rc |= fdt_finish_reservemap(fdt);
	rc |= fdt_begin_node(fdt, "");
	rc |= fdt_property_string(fdt, "compatible", KEEL_DT_COMPATIBLE);
	rc |= fdt_property(fdt, KEEL_DT_PROP_VERSION, version, sizeof(version));
	rc |= fdt_property_u32(fdt, "#address-cells", 2);
	rc |= fdt_property_u32(fdt, "#size-cells", 2);
	rc |= dt_write_domain(fdt, d);
	rc |= dt_write_map_window(fdt);
	rc |= fdt_begin_node(fdt, KEEL_DT_NODE_DEVICES);
	rc |= fdt_property_u32(fdt, "#address-cells", 1);
	rc |= fdt_property_u32(fdt, "#size-cells", 0);
	for (struct device_end *e = dd->list.next; e != &dd->list; e = e->next) {
		rc |= dt_write_device(fdt, e);
	}
	rc |= fdt_end_node(fdt);
	rc |= fdt_end_node(fdt);
	rc |= fdt_finish(fdt);
	/* The bounds above, and the limits on names, labels and counts, make this hold. */
	ASSERT(rc == 0);
	b->size = fdt_totalsize(fdt);
	b->refs = 1;
	return b;
}

/*
 * Make @b @d's table. The generation is bumped with the swap, under the
 * same lock, so a reader whose generation did not change between its
 * first and last read copied every piece from one table. devices_lock held.
 */
static void table_publish_locked(struct domain *d, struct dt_blob *b)
{
	struct device_domain *dd = d->devices;
	struct dt_blob *old;

	spin_lock(&dd->table_lock);
	old = dd->table;
	dd->table = b;
	__atomic_fetch_add(&d->shared_info->device_table_generation, 1, __ATOMIC_RELEASE);
	spin_unlock(&dd->table_lock);
	dd->stale = false;
	blob_put(old);
}

/*
 * Rebuild @d's table if it is stale. Out of memory, the old table stays
 * published and stale stays set: the next change or read tries again.
 * devices_lock held.
 */
static void table_refresh_locked(struct domain *d)
{
	struct dt_blob *b;

	if (!d->devices->stale) {
		return;
	}
	b = table_build_locked(d);
	if (!b) {
		log_warn("device: domain %u: no memory to rebuild its device table; retried later",
			 d->domid);
		return;
	}
	table_publish_locked(d, b);
}

/* Tell @d its table changed. No locks of this file held. */
static void table_notify(struct domain *d)
{
	/* -KEEL_ENOENT: not bound; the guest reads the generation when it binds. */
	(void)evtchn_raise_virq(d->evtchn, 0, KEEL_VIRQ_DEVICE_TABLE);
}

/* Retry a rebuild that ran out of memory earlier. */
static void table_retry(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	bool published = d->devices->stale;

	table_refresh_locked(d);
	published = published && !d->devices->stale;
	spin_unlock_irqrestore(&devices_lock, flags);
	if (published) {
		table_notify(d);
	}
}

/* --- device records ------------------------------------------------------ */

static struct device *device_alloc(struct domain *front, struct domain *back,
				   const struct device_setup *s)
{
	struct device *dev = heap_alloc(sizeof(*dev));

	if (!dev) {
		return NULL;
	}
	dev->page = page_alloc(1);	/* zeroed: both states CLOSED */
	if (!dev->page) {
		heap_free(dev);
		return NULL;
	}
	dev->device_class = s->device_class;
	if (s->label) {
		memcpy(dev->label, s->label, strlen(s->label) + 1);
	}
	dev->end[END_FRONT] = (struct device_end){
		.device = dev, .domain = front, .domid = front->domid,
	};
	dev->end[END_BACK] = (struct device_end){
		.device = dev, .domain = back, .domid = back->domid,
	};
	return dev;
}

/* A record that was never listed. */
static void device_free(struct device *dev)
{
	page_free(dev->page, 1);
	heap_free(dev);
}

static void device_put_locked(struct device *dev)
{
	struct device **link;

	if (--dev->refs > 0) {
		return;
	}
	link = page_link_locked(dev->page);
	ASSERT(*link == dev);
	*link = dev->page_next;
	page_free(dev->page, 1);
	heap_free(dev);
}

static void page_header_fill(const struct device *dev)
{
	struct keel_io_device_page *p = arch_phys_to_virt(dev->page);

	p->magic = KEEL_IO_DEVICE_MAGIC;
	p->version = KEEL_IO_DEVICE_VERSION;
	p->device_class = dev->device_class;
	p->device_id = dev->id;
	p->frontend_domid = dev->end[END_FRONT].domid;
	p->backend_domid = dev->end[END_BACK].domid;
	p->frontend_port = dev->port;
	p->index = dev->index;
}

/* Take a listed device out of the id hash and both lists; both tables go stale. */
static void device_unlink_locked(struct device *dev)
{
	struct device **link = id_link_locked(dev->id);

	ASSERT(*link == dev);
	*link = dev->id_next;
	dev->id_next = NULL;
	for (unsigned int i = 0; i < 2; i++) {
		struct device_domain *dd = dev->end[i].domain->devices;

		end_remove(&dev->end[i]);
		dd->count--;
		dd->stale = true;
	}
}

/* --- setup --------------------------------------------------------------- */

/* Checks that need no state: the order of device_setup()'s error list. */
static long setup_check_args(const struct domain *front, const struct domain *back,
			     const struct device_setup *s)
{
	if (!class_valid(s->device_class)) {
		return -KEEL_EINVAL;
	}
	if (!(back->caps & classes[s->device_class].backend_cap)) {
		return -KEEL_EPERM;
	}
	if (front == back) {
		return -KEEL_EINVAL;
	}
	if (s->label && strnlen(s->label, DEVICE_LABEL_MAX) == DEVICE_LABEL_MAX) {
		return -KEEL_EINVAL;
	}
	return 0;
}

/*
 * The index the new device gets in @front: s->index if free, else
 * -KEEL_EEXIST; with auto_index the lowest free one (there is always one
 * at most DEVICE_MAX_PER_DOMAIN). devices_lock held.
 */
static long setup_index_locked(struct domain *front, const struct device_setup *s)
{
	struct device_domain *dd = front->devices;
	uint64_t used[DEVICE_MAX_PER_DOMAIN / 64 + 1] = { 0 };

	for (struct device_end *e = dd->list.next; e != &dd->list; e = e->next) {
		uint32_t index = e->device->index;

		if (!is_front(e) || e->device->device_class != s->device_class) {
			continue;
		}
		if (!s->auto_index && index == s->index) {
			return -KEEL_EEXIST;
		}
		if (index <= DEVICE_MAX_PER_DOMAIN) {
			used[index / 64] |= 1ull << (index % 64);
		}
	}
	if (!s->auto_index) {
		return s->index;
	}
	for (uint32_t i = 0;; i++) {
		if (!(used[i / 64] & (1ull << (i % 64)))) {
			return i;
		}
	}
}

/* Whether the device can be created now; its index, or -KEEL_E*. devices_lock held. */
static long setup_check_locked(struct domain *front, struct domain *back,
			       const struct device_setup *s)
{
	long index;

	if (front->devices->gone || back->devices->gone) {
		return -KEEL_ESRCH;
	}
	index = setup_index_locked(front, s);
	if (index < 0) {
		return index;
	}
	if (front->devices->count >= DEVICE_MAX_PER_DOMAIN ||
	    back->devices->count >= DEVICE_MAX_PER_DOMAIN || next_id > DEVICE_ID_LAST) {
		return -KEEL_ENOSPC;
	}
	return index;
}

static long setup_precheck(struct domain *front, struct domain *back,
			   const struct device_setup *s)
{
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	long rc = setup_check_locked(front, back, s);

	spin_unlock_irqrestore(&devices_lock, flags);
	return rc < 0 ? rc : 0;
}

/*
 * Check again, list @dev and publish both new tables, as one step: both
 * tables are built before anything is committed, so out of memory the
 * call still has no effect. (An id taken by a failed attempt is simply
 * never used: ids need not be dense.)
 */
static long setup_commit(struct device *dev, struct device_setup *s)
{
	struct domain *front = dev->end[END_FRONT].domain;
	struct domain *back = dev->end[END_BACK].domain;
	struct dt_blob *tf = NULL, *tb = NULL;
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	long rc = setup_check_locked(front, back, s);

	if (rc < 0) {
		goto out;
	}
	dev->index = (uint32_t)rc;
	dev->id = (uint32_t)next_id++;
	for (unsigned int i = 0; i < 2; i++) {
		end_append(&dev->end[i].domain->devices->list, &dev->end[i]);
		dev->end[i].domain->devices->count++;
	}
	tf = table_build_locked(front);
	tb = tf ? table_build_locked(back) : NULL;
	if (!tb) {
		for (unsigned int i = 0; i < 2; i++) {
			end_remove(&dev->end[i]);
			dev->end[i].domain->devices->count--;
		}
		if (tf) {
			blob_put(tf);
		}
		rc = -KEEL_ENOMEM;
		goto out;
	}
	page_header_fill(dev);
	dev->refs = 1;
	dev->id_next = by_id[dev->id % HASH_BUCKETS];
	by_id[dev->id % HASH_BUCKETS] = dev;
	dev->page_next = by_page[(dev->page >> PAGE_SHIFT) % HASH_BUCKETS];
	by_page[(dev->page >> PAGE_SHIFT) % HASH_BUCKETS] = dev;
	table_publish_locked(front, tf);
	table_publish_locked(back, tb);
	s->device_id = dev->id;
	s->frontend_port = dev->port;
	s->index_used = dev->index;
	rc = 0;
out:
	spin_unlock_irqrestore(&devices_lock, flags);
	return rc;
}

long device_setup(struct domain *front, struct domain *back, struct device_setup *s)
{
	struct device *dev;
	long rc;

	rc = setup_check_args(front, back, s);
	if (rc == 0) {
		/* Lookup errors before resource errors (errors.md, order of checks). */
		rc = setup_precheck(front, back, s);
	}
	if (rc != 0) {
		return rc;
	}
	rc = evtchn_alloc_unbound(front->evtchn, back->domid);
	if (rc < 0) {
		return rc;
	}
	dev = device_alloc(front, back, s);
	if (!dev) {
		(void)evtchn_close(front->evtchn, (uint32_t)rc);
		return -KEEL_ENOMEM;
	}
	dev->port = (uint32_t)rc;
	rc = setup_commit(dev, s);
	if (rc != 0) {
		(void)evtchn_close(front->evtchn, dev->port);
		device_free(dev);
		return rc;
	}
	table_notify(front);
	table_notify(back);
	return 0;
}

/* --- removal ------------------------------------------------------------- */

/* Remove device @id; with a @caller, only if it has control over the frontend. */
static long remove_checked(const struct domain *caller, uint32_t id)
{
	struct domain *ends[2];
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	struct device *dev = *id_link_locked(id);

	if (!dev) {
		spin_unlock_irqrestore(&devices_lock, flags);
		return -KEEL_ENOENT;
	}
	if (caller && !has_control(caller, dev->end[END_FRONT].domain)) {
		spin_unlock_irqrestore(&devices_lock, flags);
		return -KEEL_EPERM;
	}
	device_unlink_locked(dev);
	for (unsigned int i = 0; i < 2; i++) {
		ends[i] = dev->end[i].domain;
		/* Listed, so the domain layer still holds its reference. */
		domain_ref(ends[i]);
		table_refresh_locked(ends[i]);
	}
	device_put_locked(dev);
	spin_unlock_irqrestore(&devices_lock, flags);
	for (unsigned int i = 0; i < 2; i++) {
		table_notify(ends[i]);
		domain_put(ends[i]);
	}
	return 0;
}

long device_remove(uint32_t id)
{
	return remove_checked(NULL, id);
}

/* The end of @dev that is not @d. */
static struct domain *peer_of(const struct device *dev, const struct domain *d)
{
	return dev->end[dev->end[END_FRONT].domain == d ? END_BACK : END_FRONT].domain;
}

void device_domain_gone(struct domain *d)
{
	struct device_domain *dd = d->devices;
	struct device *done = NULL, *dev;
	unsigned long flags = spin_lock_irqsave(&devices_lock);

	dd->gone = true;
	while (dd->list.next != &dd->list) {
		struct device_end *e = dd->list.next;

		dev = e->device;
		if (!is_front(e)) {
			struct keel_io_device_page *p = arch_phys_to_virt(dev->page);

			/* The one write Keel makes to the backend area (handshake.md). */
			__atomic_store_n(&p->be_state, KEEL_IO_STATE_CLOSED, __ATOMIC_RELEASE);
		}
		/* Listed, so the domain layer still holds the survivor's reference. */
		domain_ref(other_end(e)->domain);
		device_unlink_locked(dev);
		/* Its listed reference is ours until the end: peer_of() stays readable. */
		dev->gone_next = done;
		done = dev;
	}
	dd->stale = false;	/* nobody reads @d's table any more */
	for (dev = done; dev; dev = dev->gone_next) {
		/* A survivor of several devices is rebuilt once: then it is not stale. */
		table_refresh_locked(peer_of(dev, d));
	}
	spin_unlock_irqrestore(&devices_lock, flags);

	/* Outside the lock: the put may be a survivor's last reference. */
	for (dev = done; dev; dev = dev->gone_next) {
		table_notify(peer_of(dev, d));
		domain_put(peer_of(dev, d));
	}
	flags = spin_lock_irqsave(&devices_lock);
	while (done) {
		dev = done;
		done = dev->gone_next;
		device_put_locked(dev);
	}
	spin_unlock_irqrestore(&devices_lock, flags);
}

/* --- per-domain lifecycle ------------------------------------------------ */

int device_domain_create(struct domain *d)
{
	struct device_domain *dd = heap_alloc(sizeof(*dd));
	unsigned long flags;

	if (!dd) {
		return -KEEL_ENOMEM;
	}
	dd->list.next = &dd->list;
	dd->list.prev = &dd->list;
	dd->table_lock = (struct spinlock)SPINLOCK_INIT;
	d->devices = dd;
	/* The lock only to build with interrupts off: nobody else sees @d yet. */
	flags = spin_lock_irqsave(&devices_lock);
	dd->table = table_build_locked(d);
	spin_unlock_irqrestore(&devices_lock, flags);
	if (!dd->table) {
		heap_free(dd);
		d->devices = NULL;
		return -KEEL_ENOMEM;
	}
	return 0;
}

void device_domain_destroy(struct domain *d)
{
	struct device_domain *dd = d->devices;

	device_domain_gone(d);	/* normally done by domain_destroy() already */
	ASSERT(dd->count == 0);
	/* No hypercall of @d runs any more, so no reader holds the table. */
	blob_put(dd->table);
	heap_free(dd);
	d->devices = NULL;
}

/* --- device pages -------------------------------------------------------- */

long device_page_lookup(struct domain *d, uint32_t device_id, paddr_t *pa)
{
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	struct device *dev = *id_link_locked(device_id);
	long rc = 0;

	if (!dev) {
		rc = -KEEL_ENOENT;
	} else if (dev->end[END_FRONT].domain != d && dev->end[END_BACK].domain != d) {
		rc = -KEEL_EPERM;
	} else {
		dev->refs++;
		*pa = dev->page;
	}
	spin_unlock_irqrestore(&devices_lock, flags);
	return rc;
}

void device_page_put(paddr_t pa)
{
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	struct device *dev = *page_link_locked(pa);

	if (!dev) {
		panic("device: %#llx is not a device page", (unsigned long long)pa);
	}
	device_put_locked(dev);
	spin_unlock_irqrestore(&devices_lock, flags);
}

/* --- reading tables ------------------------------------------------------ */

/* A buffer of @len bytes at @gpa, within one page of @d's writable RAM. */
static bool guest_buffer_ok(struct domain *d, uint64_t gpa, uint64_t len)
{
	uint32_t rights;
	paddr_t pa;

	return guest_range_in_page(gpa, len) &&
	       guest_memory_translate(d, gpa >> PAGE_SHIFT, &pa, &rights) &&
	       (rights & GUEST_WRITE);
}

/* @d's published table, rebuilt first if an earlier rebuild ran out of memory. */
static struct dt_blob *table_current(struct domain *d)
{
	if (READ_ONCE(d->devices->stale)) {
		table_retry(d);
	}
	return table_get(d->devices);
}

long device_hc_table_read(struct domain *d, uint64_t buf_gpa, uint64_t offset,
			  uint64_t len)
{
	struct dt_blob *b;
	long rc = 0;

	if (len == 0) {
		return -KEEL_EINVAL;
	}
	if (len > KEEL_PAGE_SIZE) {
		return -KEEL_E2BIG;
	}
	if (!guest_buffer_ok(d, buf_gpa, len)) {
		return -KEEL_EFAULT;
	}
	b = table_current(d);
	if (offset < b->size) {
		size_t n = (size_t)MIN(len, b->size - offset);

		rc = guest_copy_to(d, buf_gpa, b->data + offset, n);
		rc = rc == 0 ? (long)n : rc;
	}
	blob_put(b);
	return rc;
}

size_t device_table_size(struct domain *d)
{
	struct dt_blob *b = table_current(d);
	size_t size = b->size;

	blob_put(b);
	return size;
}

long device_table_copy(struct domain *d, void *buf, size_t max)
{
	struct dt_blob *b = table_current(d);
	long rc = -KEEL_E2BIG;

	if (b->size <= max) {
		memcpy(buf, b->data, b->size);
		rc = b->size;
	}
	blob_put(b);
	return rc;
}

long device_table_update(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&devices_lock);
	bool stale;

	d->devices->stale = true;
	table_refresh_locked(d);
	stale = d->devices->stale;
	spin_unlock_irqrestore(&devices_lock, flags);
	if (stale) {
		return -KEEL_ENOMEM;
	}
	table_notify(d);
	return 0;
}

/* --- control calls ------------------------------------------------------- */

/*
 * Copy in a struct of @caller's that has OUT fields: 8-byte aligned, within
 * one page of writable RAM. 0 or -KEEL_EFAULT.
 */
static long copy_struct_in(struct domain *caller, uint64_t gpa, void *buf, size_t len)
{
	if (!IS_ALIGNED(gpa, 8) || !guest_buffer_ok(caller, gpa, len)) {
		return -KEEL_EFAULT;
	}
	return guest_copy_from(caller, gpa, buf, len);
}

/*
 * Write device_id and frontend_port back. Checked writable before, this can
 * only fail if the guest gave the page away meanwhile; the device then goes
 * again, so the failed call has no effect but two table generations.
 */
static long setup_report(struct domain *caller, uint64_t gpa, struct domain *front,
			 const struct device_setup *s)
{
	const uint32_t out[2] = { s->device_id, s->frontend_port };

	_Static_assert(offsetof(struct keel_ctl_device, frontend_port) ==
		       offsetof(struct keel_ctl_device, device_id) + 4, "OUT fields adjacent");
	if (guest_copy_to(caller, gpa + offsetof(struct keel_ctl_device, device_id), out,
			  sizeof(out)) == 0) {
		return 0;
	}
	(void)device_remove(s->device_id);
	(void)evtchn_close(front->evtchn, s->frontend_port);
	return -KEEL_EFAULT;
}

long device_hc_ctl_setup(struct domain *caller, uint64_t gpa)
{
	struct keel_ctl_device req;
	struct device_setup s = { 0 };
	struct domain *front, *back;
	long rc;

	if (!may_control(caller)) {
		return -KEEL_EPERM;
	}
	rc = copy_struct_in(caller, gpa, &req, sizeof(req));
	if (rc != 0) {
		return rc;
	}
	front = domain_get(req.frontend_domid);
	if (!front) {
		return -KEEL_ESRCH;
	}
	if (!has_control(caller, front)) {
		rc = -KEEL_EPERM;
		goto out_front;
	}
	back = domain_get(req.backend_domid);
	if (!back) {
		rc = -KEEL_ESRCH;
		goto out_front;
	}
	if (!memchr(req.label, '\0', sizeof(req.label))) {
		rc = -KEEL_EINVAL;
		goto out_back;
	}
	s.device_class = req.device_class;
	s.index = req.index;
	s.label = (const char *)req.label;
	rc = device_setup(front, back, &s);
	if (rc == 0) {
		rc = setup_report(caller, gpa, front, &s);
	}
out_back:
	domain_put(back);
out_front:
	domain_put(front);
	return rc;
}

long device_hc_ctl_remove(struct domain *caller, uint32_t id)
{
	if (!may_control(caller)) {
		return -KEEL_EPERM;
	}
	return remove_checked(caller, id);
}
