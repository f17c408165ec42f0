/* SPDX-License-Identifier: MIT */
/*
 * keel/device.h - PV device records, their control pages, and each domain's
 * device table.
 *
 * A device connects a frontend domain and a backend domain (docs/abi/
 * devices/handshake.md). Keel keeps one record per device: its id (never
 * reused while Keel runs), class, the frontend's per-class index, a label,
 * a Keel-owned control page (struct keel_io_device_page) and the frontend's
 * control port, which Keel allocates UNBOUND for the backend at setup and
 * which is the frontend's from then on (Keel never closes it).
 *
 * Each domain has a device table (docs/abi/device-table.md): an FDT blob
 * that Keel rebuilds as a whole whenever a device of the domain is added or
 * removed, bumping keel_shared_info.device_table_generation and raising
 * KEEL_VIRQ_DEVICE_TABLE. Readers always copy from one complete version.
 *
 * Device pages are reference counted. The device record holds one
 * reference while the device exists (from setup to removal); every mapping
 * holds one: device_page_lookup() takes it, device_page_put() drops it. The
 * page (and the record) are freed when the count reaches zero, so a page
 * stays valid for as long as any domain maps it, whatever happens to the
 * device or to the domains.
 *
 * Unless a function says otherwise it may be called with no lock held and
 * interrupts on or off; none may be called from interrupt context.
 */
#ifndef KEEL_DEVICE_H
#define KEEL_DEVICE_H

#include <keel/types.h>

#define DEVICE_LABEL_MAX	16	/* with the NUL, as keel_ctl_device.label */
#define DEVICE_MAX_PER_DOMAIN	256	/* devices a domain is an end of */

struct domain;

/** What device_setup() creates, and what it reports back. */
struct device_setup {
	uint32_t device_class;		/* IN: KEEL_IO_CLASS_* */
	uint32_t index;			/* IN: instance within the class for the frontend */
	bool auto_index;		/* IN: ignore index, take the lowest free one */
	const char *label;		/* IN: shorter than DEVICE_LABEL_MAX; NULL: "" */
	uint32_t device_id;		/* OUT */
	uint32_t frontend_port;		/* OUT: control port in the frontend */
	uint32_t index_used;		/* OUT: the index the device got */
};

/*
 * Per-domain lifecycle, called by core/domain.c only.
 *
 * device_domain_create() sets d->devices and builds the domain's first
 * (empty) table. It needs d's id, name, caps, vCPU count and shared-info
 * page. Returns 0 or -KEEL_ENOMEM.
 *
 * device_domain_gone() removes every device @d is an end of: each
 * survivor's table is rebuilt and it gets KEEL_VIRQ_DEVICE_TABLE; a device
 * whose backend is @d gets be_state = KEEL_IO_STATE_CLOSED in its page
 * (handshake.md). No new device can name @d afterwards. Called by
 * domain_destroy() once @d has left the domain table; idempotent.
 *
 * device_domain_destroy() frees @d's device state (running
 * device_domain_gone() first if nobody did). Called when @d's last
 * reference is gone, before its event channels are destroyed.
 */
int device_domain_create(struct domain *d);
void device_domain_gone(struct domain *d);
void device_domain_destroy(struct domain *d);

/**
 * Create a device with frontend @front and backend @back (no rights check
 * on the caller: that is the control call's, device_hc_ctl_setup()). Fills
 * the control page's header, allocates the frontend's control port UNBOUND
 * for @back, adds a node to both device tables and raises
 * KEEL_VIRQ_DEVICE_TABLE in both. Either domain may still be paused or not
 * yet identified. A failed call leaves nothing behind.
 *
 * Return: 0 with the OUT fields of @s set;
 *         -KEEL_EINVAL (unknown class);
 *         -KEEL_EPERM (@back lacks the class's KEEL_CAP_BACKEND_*);
 *         -KEEL_EINVAL (@front == @back, label too long);
 *         -KEEL_ESRCH (either domain is being destroyed);
 *         -KEEL_EEXIST (@front already has a device of this class and
 *         index);
 *         -KEEL_ENOSPC (either domain is an end of DEVICE_MAX_PER_DOMAIN
 *         devices, no device id left, or no free port in @front);
 *         -KEEL_ENOMEM.
 */
long device_setup(struct domain *front, struct domain *back,
		  struct device_setup *s);

/**
 * Remove device @id: its node leaves both device tables (both get
 * KEEL_VIRQ_DEVICE_TABLE). The page stays where it is mapped and is freed
 * with its last mapping; the frontend's control port stays the frontend's.
 *
 * Return: 0; -KEEL_ENOENT (no such device).
 */
long device_remove(uint32_t id);

/**
 * For KEEL_HC_MEMORY_MAP_SHARED(KEEL_MAPSPACE_DEVICE_PAGE, @device_id):
 * the host-physical address of the device's control page, with a mapping
 * reference taken for the caller. The caller MUST call device_page_put(pa)
 * exactly once for each successful lookup: when the mapping it makes is
 * removed (unmap, a move to another GFN, the domain's memory teardown), or
 * at once if it does not map the page after all.
 *
 * Return: 0 with *@pa set; -KEEL_ENOENT (no such device); -KEEL_EPERM (@d is
 *         neither the device's frontend nor its backend).
 */
long device_page_lookup(struct domain *d, uint32_t device_id, paddr_t *pa);

/*
 * Drop a mapping reference taken by device_page_lookup(). Frees the page
 * when it was the last reference (the device is gone and nothing else maps
 * it). Panics if @pa is not a device page: that is a bug in Keel.
 */
void device_page_put(paddr_t pa);

/**
 * KEEL_HC_DEVICE_TABLE_READ for @d: copy up to @len bytes of @d's device
 * table from byte @offset to @d's RAM at @buf_gpa, all from one version.
 * The dispatcher has done the common checks.
 *
 * Return: the bytes copied; 0 when @offset >= the table's size;
 *         -KEEL_EINVAL (@len 0); -KEEL_E2BIG (@len > KEEL_PAGE_SIZE);
 *         -KEEL_EFAULT (the buffer crosses a page or is not @d's
 *         writable RAM).
 */
long device_hc_table_read(struct domain *d, uint64_t buf_gpa, uint64_t offset,
			  uint64_t len);

/*
 * For the domain builder (the start info's device_table_gpa/size): the
 * current size of @d's table, and a copy of it into @buf. device_table_copy
 * returns the bytes copied, or -KEEL_E2BIG (nothing copied) when @max is
 * smaller than the table. Both return at most KEEL_DT_MAX_SIZE.
 */
size_t device_table_size(struct domain *d);
long device_table_copy(struct domain *d, void *buf, size_t max);

/*
 * Rebuild @d's table after a change of the domain itself that the table
 * shows (its capabilities: KEEL_HC_CTL_DOMAIN_SET_CAPS). Returns 0 or
 * -KEEL_ENOMEM (the old table stays; the next read retries the rebuild).
 */
long device_table_update(struct domain *d);

/**
 * KEEL_HC_CTL_DEVICE_SETUP for @caller: @gpa is the GPA of a struct
 * keel_ctl_device in @caller's RAM (8-byte aligned, within one page). The
 * dispatcher has done the common checks. Checks, in this order: @caller
 * holds neither KEEL_CAP_CONTROL nor KEEL_CAP_CREATE (-KEEL_EPERM); the
 * struct (-KEEL_EFAULT); the frontend exists (-KEEL_ESRCH); control over it
 * (-KEEL_EPERM); the backend exists (-KEEL_ESRCH); unterminated label
 * (-KEEL_EINVAL); then device_setup()'s errors. On success writes
 * device_id and frontend_port back.
 */
long device_hc_ctl_setup(struct domain *caller, uint64_t gpa);

/**
 * KEEL_HC_CTL_DEVICE_REMOVE for @caller: remove device @id if @caller has
 * control over its frontend.
 *
 * Return: 0; -KEEL_EPERM (@caller holds neither KEEL_CAP_CONTROL nor
 *         KEEL_CAP_CREATE); -KEEL_ENOENT (no such device); -KEEL_EPERM (no
 *         control over the device's frontend).
 */
long device_hc_ctl_remove(struct domain *caller, uint32_t id);

#endif
