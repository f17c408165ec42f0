/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vpci.c - a domain's PCI bus 0: configuration mechanism #1 at
 * 0xcf8/0xcfc, a host bridge at device 0 and Keel's platform device at
 * device 1 (docs/abi/boot.md, "The platform PCI device"), with its MSI-X
 * table and PBA in BAR0, MSI, and INTx on GSI 16; and the delivery of
 * KEEL_UPCALL_PLATFORM upcalls through them.
 *
 * Configuration space is kept as bytes with a mask of the bits a guest may
 * write; everything else reads as initialised and ignores writes. A few
 * fields are computed when read: the interrupt status bit, BAR2 (which
 * cannot move) and the MSI-X control's table size.
 */
#include <arch/arch.h>
#include <keel/evtchn.h>
#include <keel/heap.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <x86/vdevices.h>

#define CFG_SIZE		256
#define CONF_ENABLE		0x80000000u
#define CONF_ADDR_BITS		0x80fffffcu	/* enable, bus, device, function, register */
#define HOST_BRIDGE_DEVFN	0x00
/* Keel's own id for its host bridge; documented in docs/platform.md. */
#define KEEL_PCI_DEVICE_HOST_BRIDGE	0x0002

/* Configuration header offsets (type 0). */
#define CFG_VENDOR		0x00
#define CFG_DEVICE		0x02
#define CFG_COMMAND		0x04
#define CFG_STATUS		0x06
#define CFG_REVISION		0x08
#define CFG_CLASS		0x09	/* prog-if, subclass, base class */
#define CFG_CACHE_LINE		0x0c
#define CFG_BAR0		0x10
#define CFG_BAR2		0x18	/* and 0x1c: 64-bit */
#define CFG_SUBSYS_VENDOR	0x2c
#define CFG_SUBSYS_ID		0x2e
#define CFG_CAP_PTR		0x34
#define CFG_INT_LINE		0x3c
#define CFG_INT_PIN		0x3d

#define CMD_MEMORY		0x0002
#define CMD_BUS_MASTER		0x0004
#define CMD_INTX_DISABLE	0x0400
#define STATUS_INTX		0x0008
#define STATUS_CAP_LIST		0x0010

#define BAR_MEM_64		0x4
#define BAR_PREFETCH		0x8
#define BAR0_SIZE		0x1000u

/* The capability list: MSI-X, then MSI. */
#define CAP_MSIX		0x40
#define CAP_MSI			0x50
#define CAP_ID_MSIX		0x11
#define CAP_ID_MSI		0x05
#define MSIX_CTRL		(CAP_MSIX + 2)
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_TABLE		(CAP_MSIX + 4)
#define MSIX_PBA		(CAP_MSIX + 8)
#define MSI_CTRL		(CAP_MSI + 2)
#define MSI_CTRL_ENABLE		0x0001
#define MSI_CTRL_64BIT		0x0080
#define MSI_ADDR_LO		(CAP_MSI + 4)
#define MSI_ADDR_HI		(CAP_MSI + 8)
#define MSI_DATA		(CAP_MSI + 12)

/* BAR0's layout. */
#define PBA_OFFSET		0x800
#define MSIX_ENTRY_SIZE		16
#define MSIX_VECTOR_MASKED	0x1

struct pci_function {
	uint8_t cfg[CFG_SIZE];
	uint8_t wmask[CFG_SIZE];	/* bits a guest write may change */
};

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct vpci {
	struct domain *d;
	struct spinlock lock;		/* guards everything below */
	uint32_t conf_addr;		/* CONFIG_ADDRESS as last written */
	struct pci_function bridge, dev;
	unsigned int entries;		/* MSI-X table size: one per vCPU */
	uint64_t pba;			/* pending bits of masked entries */
	struct msix_entry table[DOMAIN_MAX_VCPUS];
};

/* A few messages to send once the lock is dropped (they take the local APICs' locks). */
struct msi_batch {
	unsigned int count;
	struct { uint64_t addr; uint32_t data; } msg[DOMAIN_MAX_VCPUS];
};

static struct vpci *pci_of(struct domain *d)
{
	return vplatform_of(d)->pci;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

/* Vendor, device, revision and class: the part every function has. */
static void init_ids(struct pci_function *f, uint16_t device, uint32_t class_code)
{
	put16(&f->cfg[CFG_VENDOR], KEEL_PCI_VENDOR_ID);
	put16(&f->cfg[CFG_DEVICE], device);
	f->cfg[CFG_REVISION] = 1;
	f->cfg[CFG_CLASS] = (uint8_t)class_code;
	put16(&f->cfg[CFG_CLASS + 1], (uint16_t)(class_code >> 8));
}

static void init_bridge(struct pci_function *f)
{
	init_ids(f, KEEL_PCI_DEVICE_HOST_BRIDGE, 0x060000);	/* bridge, host */
	/* It decodes memory and I/O for the bus, always; nothing is writable. */
	put16(&f->cfg[CFG_COMMAND], 0x0006);
}

static void init_device(struct pci_function *f, unsigned int entries)
{
	init_ids(f, KEEL_PCI_DEVICE_PLATFORM, KEEL_PCI_CLASS_PLATFORM);
	put16(&f->wmask[CFG_COMMAND], CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE);
	put16(&f->cfg[CFG_STATUS], STATUS_CAP_LIST);
	f->wmask[CFG_CACHE_LINE] = 0xff;
	/* BAR0: 32-bit memory, 4 KiB, where the firmware would have put it. */
	put32(&f->cfg[CFG_BAR0], KEEL_X86_GPA_PCI_MMIO);
	put32(&f->wmask[CFG_BAR0], ~(BAR0_SIZE - 1));
	/* BAR2: stored as written, read through bar2_read() (it cannot move). */
	memset(&f->wmask[CFG_BAR2], 0xff, 8);
	put32(&f->cfg[CFG_BAR2], KEEL_X86_GPA_MAP_WINDOW | BAR_MEM_64 | BAR_PREFETCH);
	put16(&f->cfg[CFG_SUBSYS_VENDOR], KEEL_PCI_VENDOR_ID);
	put16(&f->cfg[CFG_SUBSYS_ID], KEEL_PCI_DEVICE_PLATFORM);
	f->cfg[CFG_CAP_PTR] = CAP_MSIX;
	f->cfg[CFG_INT_LINE] = VPLATFORM_GSI_PCI;
	f->wmask[CFG_INT_LINE] = 0xff;
	f->cfg[CFG_INT_PIN] = 1;	/* INTA# */

	f->cfg[CAP_MSIX] = CAP_ID_MSIX;
	f->cfg[CAP_MSIX + 1] = CAP_MSI;
	put16(&f->cfg[MSIX_CTRL], (uint16_t)(entries - 1));
	put16(&f->wmask[MSIX_CTRL], MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	put32(&f->cfg[MSIX_TABLE], 0);		/* BIR 0, offset 0 */
	put32(&f->cfg[MSIX_PBA], PBA_OFFSET);	/* BIR 0 */

	f->cfg[CAP_MSI] = CAP_ID_MSI;
	f->cfg[CAP_MSI + 1] = 0;		/* end of the list */
	put16(&f->cfg[MSI_CTRL], MSI_CTRL_64BIT);	/* one message, no per-vector masks */
	put16(&f->wmask[MSI_CTRL], MSI_CTRL_ENABLE);
	put32(&f->wmask[MSI_ADDR_LO], 0xfffffffc);
	put32(&f->wmask[MSI_ADDR_HI], 0xffffffff);
	put16(&f->wmask[MSI_DATA], 0xffff);
}

static uint16_t command(const struct vpci *p)
{
	return get16(&p->dev.cfg[CFG_COMMAND]);
}

static bool msix_enabled(const struct vpci *p)
{
	return get16(&p->dev.cfg[MSIX_CTRL]) & MSIX_CTRL_ENABLE;
}

static bool msi_enabled(const struct vpci *p)
{
	return get16(&p->dev.cfg[MSI_CTRL]) & MSI_CTRL_ENABLE;
}

/* Where BAR0 decodes, or 0: memory decoding on and the BAR inside the PCI MMIO range. */
static uint64_t bar0_base(const struct vpci *p)
{
	uint32_t base = get32(&p->dev.cfg[CFG_BAR0]) & ~(BAR0_SIZE - 1);

	if (!(command(p) & CMD_MEMORY) || base < KEEL_X86_GPA_PCI_MMIO ||
	    base - KEEL_X86_GPA_PCI_MMIO > KEEL_X86_GPA_PCI_MMIO_SIZE - BAR0_SIZE) {
		return 0;
	}
	return base;
}

/*
 * BAR2 is the map window, at a fixed address. Writing all ones to either
 * half reads back the size mask (BAR sizing); any other write is ignored
 * and the BAR reads as the window's address again.
 */
static uint32_t bar2_read(const struct vpci *p, bool high)
{
	uint32_t written = get32(&p->dev.cfg[CFG_BAR2 + (high ? 4 : 0)]);

	if (high) {
		return written == 0xffffffffu ? 0xffffffffu : 0;
	}
	if ((written | 0xf) == 0xffffffffu) {
		return ~(KEEL_X86_GPA_MAP_WINDOW_SIZE - 1) | BAR_MEM_64 | BAR_PREFETCH;
	}
	return KEEL_X86_GPA_MAP_WINDOW | BAR_MEM_64 | BAR_PREFETCH;
}

/* The function at @devfn of bus 0, or NULL: only two exist. */
static struct pci_function *function_at(struct vpci *p, uint32_t bus, uint32_t devfn)
{
	if (bus != 0) {
		return NULL;
	}
	if (devfn == HOST_BRIDGE_DEVFN) {
		return &p->bridge;
	}
	return devfn == KEEL_PCI_PLATFORM_DEVFN ? &p->dev : NULL;
}

/* ---- Interrupts ------------------------------------------------------------ */

static long upcall_pending0(struct domain *d)
{
	uint32_t mode = KEEL_UPCALL_NONE, vector;

	if (evtchn_vcpu_upcall(d->evtchn, 0, &mode, &vector) != 0 || mode != KEEL_UPCALL_PLATFORM) {
		return 0;
	}
	return evtchn_vcpu_upcall_pending(d->evtchn, 0) == 1;
}

/* The device's INTx condition (the status register's interrupt bit). */
static bool intx_condition(struct vpci *p)
{
	const uint8_t *cfg = p->dev.cfg;
	bool msix = __atomic_load_n(&cfg[MSIX_CTRL + 1], __ATOMIC_RELAXED) & (MSIX_CTRL_ENABLE >> 8);
	bool msi = __atomic_load_n(&cfg[MSI_CTRL], __ATOMIC_RELAXED) & MSI_CTRL_ENABLE;

	/* A function with MSI or MSI-X enabled does not use INTx (PCI spec). */
	return !msix && !msi && upcall_pending0(p->d);
}

bool vpci_intx_level(struct domain *d)
{
	struct vpci *p = pci_of(d);
	uint8_t cmd_high;

	if (!p) {
		return false;
	}
	cmd_high = __atomic_load_n(&p->dev.cfg[CFG_COMMAND + 1], __ATOMIC_RELAXED);
	return !(cmd_high & (CMD_INTX_DISABLE >> 8)) && intx_condition(p);
}

static void update_intx(struct domain *d)
{
	vioapic_set_irq(d, VPLATFORM_GSI_PCI, vpci_intx_level(d));
}

static void batch_add(struct msi_batch *b, uint64_t addr, uint32_t data)
{
	if (b->count < ARRAY_SIZE(b->msg)) {
		b->msg[b->count].addr = addr;
		b->msg[b->count].data = data;
		b->count++;
	}
}

/*
 * A message write by the device. Like any DMA it needs bus mastering: with
 * the command register's bus master bit clear the message is not sent
 * (lost, as on hardware). @pre p->lock held.
 */
static void send(struct vpci *p, struct msi_batch *b, uint64_t addr, uint32_t data)
{
	if (command(p) & CMD_BUS_MASTER) {
		batch_add(b, addr, data);
	}
}

static bool entry_masked(const struct vpci *p, unsigned int i)
{
	return (get16(&p->dev.cfg[MSIX_CTRL]) & MSIX_CTRL_MASKALL) ||
	       (p->table[i].ctrl & MSIX_VECTOR_MASKED);
}

/* Fire MSI-X entry @i: sent, or pending in the PBA while masked. @pre p->lock held. */
static void msix_fire(struct vpci *p, struct msi_batch *b, unsigned int i)
{
	if (i >= p->entries) {
		return;
	}
	if (entry_masked(p, i)) {
		p->pba |= 1ull << i;
		return;
	}
	send(p, b, (uint64_t)p->table[i].addr_hi << 32 | p->table[i].addr_lo, p->table[i].data);
}

/* Pending entries that are no longer masked go out now. @pre p->lock held. */
static void msix_flush_pending(struct vpci *p, struct msi_batch *b)
{
	if (!msix_enabled(p)) {
		return;
	}
	for (unsigned int i = 0; i < p->entries; i++) {
		if ((p->pba & (1ull << i)) && !entry_masked(p, i)) {
			p->pba &= ~(1ull << i);
			msix_fire(p, b, i);
		}
	}
}

static void batch_send(struct domain *d, const struct msi_batch *b)
{
	for (unsigned int i = 0; i < b->count; i++) {
		vlapic_msi(d, b->msg[i].addr, b->msg[i].data);
	}
}

void vpci_upcall(struct vcpu *v, uint32_t entry)
{
	struct domain *d = v->domain;
	struct vpci *p = pci_of(d);
	struct msi_batch b = { 0 };
	unsigned long flags;
	bool intx = false;

	if (!p) {
		return;
	}
	flags = spin_lock_irqsave(&p->lock);
	if (msix_enabled(p)) {
		msix_fire(p, &b, entry);
	} else if (msi_enabled(p)) {
		const uint8_t *cfg = p->dev.cfg;

		send(p, &b, (uint64_t)get32(&cfg[MSI_ADDR_HI]) << 32 | get32(&cfg[MSI_ADDR_LO]),
		     get16(&cfg[MSI_DATA]));
	} else {
		intx = v->id == 0;	/* INTx serves vCPU 0 only (hypercalls.md) */
	}
	spin_unlock_irqrestore(&p->lock, flags);
	batch_send(d, &b);
	if (intx) {
		update_intx(d);
	}
}

long arch_platform_upcall_check(struct domain *d, uint32_t vcpu, uint32_t entry)
{
	struct vpci *p = pci_of(d);
	unsigned long flags;
	long rc = 0;

	if (!p) {
		return -KEEL_EINVAL;
	}
	flags = spin_lock_irqsave(&p->lock);
	if (entry >= p->entries || (vcpu != 0 && !msix_enabled(p) && !msi_enabled(p))) {
		rc = -KEEL_EINVAL;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return rc;
}

/* ---- Configuration space ------------------------------------------------------ */

static uint32_t cfg_read32(struct vpci *p, struct pci_function *f, unsigned int reg)
{
	uint32_t v = get32(&f->cfg[reg]);

	if (f != &p->dev) {
		return v;
	}
	if (reg == CFG_COMMAND && intx_condition(p)) {
		v |= (uint32_t)STATUS_INTX << 16;
	} else if (reg == CFG_BAR2 || reg == CFG_BAR2 + 4) {
		v = bar2_read(p, reg != CFG_BAR2);
	}
	return v;
}

/* One byte of a configuration write, through the write mask. */
static void cfg_write8(struct pci_function *f, unsigned int off, uint8_t value)
{
	uint8_t m = f->wmask[off];

	f->cfg[off] = (uint8_t)((f->cfg[off] & ~m) | (value & m));
}

/* What a configuration write changed beyond its bytes. @pre p->lock held. */
static void cfg_written(struct vpci *p, struct msi_batch *b)
{
	msix_flush_pending(p, b);	/* MSI-X enabled or its function mask cleared */
}

/* The bytes [first, first + count) of CONFIG_DATA at port 0xcfc + first. */
static uint32_t conf_data(struct vpci *p, unsigned int first, unsigned int count, bool in,
			  uint32_t value, struct msi_batch *b)
{
	uint32_t addr = p->conf_addr, result = 0;
	struct pci_function *f = function_at(p, (addr >> 16) & 0xff, (addr >> 8) & 0xff);
	unsigned int reg = addr & 0xfc;

	for (unsigned int i = 0; i < count; i++) {
		unsigned int off = reg + first + i;

		if (!(addr & CONF_ENABLE) || !f) {
			result |= 0xffu << (8 * i);	/* nothing answers: all ones */
		} else if (in) {
			result |= ((cfg_read32(p, f, off & ~3u) >> (8 * (off & 3))) & 0xff) << (8 * i);
		} else {
			cfg_write8(f, off, (uint8_t)(value >> (8 * i)));
		}
	}
	if (!in && (addr & CONF_ENABLE) && f == &p->dev) {
		cfg_written(p, b);
	}
	return result;
}

bool vpci_pio(struct domain *d, uint16_t port, unsigned int size, bool in, uint32_t *value)
{
	struct vpci *p = pci_of(d);
	struct msi_batch b = { 0 };
	unsigned long flags;
	uint32_t result = 0xffffffffu;

	if (!p) {
		return false;
	}
	if (port == VPCI_CONF_ADDR && size == 4) {
		flags = spin_lock_irqsave(&p->lock);
		if (in) {
			result = p->conf_addr;
		} else {
			p->conf_addr = *value & CONF_ADDR_BITS;
		}
		spin_unlock_irqrestore(&p->lock, flags);
	} else if (port >= VPCI_CONF_DATA && port < VPCI_CONF_DATA + 4) {
		unsigned int first = port - VPCI_CONF_DATA;
		unsigned int count = MIN(size, 4 - first);

		flags = spin_lock_irqsave(&p->lock);
		result = conf_data(p, first, count, in, in ? 0 : *value, &b);
		spin_unlock_irqrestore(&p->lock, flags);
		/* Bytes past 0xcff belong to no device. */
		result |= count < 4 ? 0xffffffffu << (8 * count) : 0;
		batch_send(d, &b);
		if (!in) {
			update_intx(d);	/* INTx disable, MSI or MSI-X enable may have changed */
		}
	} else {
		return false;	/* narrow accesses to 0xcf8..0xcfb are not CONFIG_ADDRESS */
	}
	if (in) {
		*value = size == 4 ? result : result & ((1u << (8 * size)) - 1);
	}
	return true;
}

/* ---- BAR0: the MSI-X table and the PBA ---------------------------------------------- */

static uint64_t table_read(const struct vpci *p, unsigned int off, unsigned int size)
{
	unsigned int i = off / MSIX_ENTRY_SIZE;
	const uint32_t *e;
	uint64_t v;

	if (i >= p->entries) {
		return 0;	/* beyond the table: reserved, reads 0 */
	}
	e = &p->table[i].addr_lo;
	v = e[(off % MSIX_ENTRY_SIZE) / 4];
	if (size == 8) {
		v |= (uint64_t)e[(off % MSIX_ENTRY_SIZE) / 4 + 1] << 32;
	}
	return v;
}

static void table_write32(struct vpci *p, unsigned int off, uint32_t value, struct msi_batch *b)
{
	unsigned int i = off / MSIX_ENTRY_SIZE;
	struct msix_entry *e = &p->table[i];

	if (i >= p->entries) {
		return;
	}
	switch (off % MSIX_ENTRY_SIZE) {
	case 0:
		e->addr_lo = value & ~3u;	/* dword-aligned: the low bits are read-only 0 */
		break;
	case 4:
		e->addr_hi = value;
		break;
	case 8:
		e->data = value;
		break;
	default:
		e->ctrl = value & MSIX_VECTOR_MASKED;
		msix_flush_pending(p, b);	/* an unmasked entry with its PBA bit set fires */
		break;
	}
}

bool vpci_mmio(struct domain *d, uint64_t gpa, unsigned int size, bool write, uint64_t *value)
{
	struct vpci *p = pci_of(d);
	struct msi_batch b = { 0 };
	unsigned long flags;
	uint64_t base;
	unsigned int off;

	if (!p) {
		return false;
	}
	flags = spin_lock_irqsave(&p->lock);
	base = bar0_base(p);
	if (!base || gpa < base || gpa - base >= BAR0_SIZE) {
		spin_unlock_irqrestore(&p->lock, flags);
		return false;
	}
	off = (unsigned int)(gpa - base);
	/* The table and PBA take aligned dword and qword accesses; others read 0, write nothing. */
	if ((size != 4 && size != 8) || (off & (size - 1))) {
		if (!write) {
			*value = 0;
		}
	} else if (off < PBA_OFFSET) {
		if (!write) {
			*value = table_read(p, off, size);
		} else {
			table_write32(p, off, (uint32_t)*value, &b);
			if (size == 8) {
				table_write32(p, off + 4, (uint32_t)(*value >> 32), &b);
			}
		}
	} else if (!write) {
		/* The PBA: one qword covers every entry (at most 64); the rest reads 0. */
		*value = off - PBA_OFFSET < 8 ? p->pba >> (8 * (off - PBA_OFFSET)) : 0;
		if (size == 4) {
			*value &= 0xffffffffu;
		}
	}
	spin_unlock_irqrestore(&p->lock, flags);
	batch_send(d, &b);
	return true;
}

/* ---- Lifetime -------------------------------------------------------------- */

int vpci_create(struct domain *d)
{
	struct vpci *p = heap_alloc(sizeof(*p));

	if (!p) {
		return -KEEL_ENOMEM;
	}
	memset(p, 0, sizeof(*p));
	p->d = d;
	p->lock = (struct spinlock)SPINLOCK_INIT;
	p->entries = d->vcpu_count;
	for (unsigned int i = 0; i < p->entries; i++) {
		p->table[i].ctrl = MSIX_VECTOR_MASKED;	/* every entry starts masked */
	}
	init_bridge(&p->bridge);
	init_device(&p->dev, p->entries);
	vplatform_of(d)->pci = p;
	return 0;
}

void vpci_destroy(struct domain *d)
{
	struct vplatform *pl = vplatform_of(d);

	if (pl->pci) {
		heap_free(pl->pci);
		pl->pci = NULL;
	}
}
