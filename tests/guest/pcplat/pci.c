/* SPDX-License-Identifier: MIT */
/* pci.c: PCI bus 0 (host bridge, Keel's platform device) and upcalls through MSI-X, MSI and INTx. */
#include "pcplat.h"

#define CONF_ADDR	0xcf8
#define CONF_DATA	0xcfc
#define DEV		1		/* Keel's device: bus 0, device 1, function 0 */
#define CMD_MEMORY	0x0002
#define CMD_MASTER	0x0004
#define CMD_INTX_OFF	0x0400
#define STATUS_INTX	0x0008
#define MSIX_ENABLE	0x8000
#define MSIX_MASKALL	0x4000
#define LAPIC_MSG	0xfee00000u	/* an MSI to APIC 0, physical, fixed */
#define QUIET_NS	(100 * KT_NS_PER_MS)

static uint8_t cap_msix, cap_msi;	/* found by test_pci */

static void select(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg)
{
	outl(CONF_ADDR, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
}

uint32_t pci_read32(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg)
{
	select(bus, dev, fn, reg);
	return inl(CONF_DATA);
}

uint16_t pci_read16(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg)
{
	select(bus, dev, fn, reg);
	return inw((uint16_t)(CONF_DATA + (reg & 2)));
}

uint8_t pci_read8(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg)
{
	select(bus, dev, fn, reg);
	return inb((uint16_t)(CONF_DATA + (reg & 3)));
}

void pci_write32(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg,
		 uint32_t v)
{
	select(bus, dev, fn, reg);
	outl(CONF_DATA, v);
}

void pci_write16(unsigned int bus, unsigned int dev, unsigned int fn, unsigned int reg,
		 uint16_t v)
{
	select(bus, dev, fn, reg);
	outw((uint16_t)(CONF_DATA + (reg & 2)), v);
}

static void enumerate(void)
{
	unsigned int found = 0, other = 0;

	for (unsigned int dev = 0; dev < 32; dev++) {
		for (unsigned int fn = 0; fn < 8; fn++) {
			if ((pci_read32(0, dev, fn, 0) & 0xffff) == 0xffff) {
				continue;
			}
			if ((dev == 0 || dev == DEV) && fn == 0) {
				found++;
			} else {
				other++;
				kt_note("unexpected function 0:%u.%u", dev, fn);
			}
		}
	}
	kt_check(found == 2 && other == 0, "bus 0 has exactly devices 0 and 1",
		 "%u expected, %u others", found, other);
	kt_check_eq("no bus 1", pci_read32(1, 0, 0, 0), 0xffffffffu);
	kt_check_eq("no bus 255", pci_read32(255, DEV, 0, 0), 0xffffffffu);
	outl(CONF_ADDR, DEV << 11);			/* enable bit clear */
	kt_check_eq("without the enable bit nothing answers", inl(CONF_DATA), 0xffffffffu);
	outl(CONF_ADDR, 0xffffffffu);
	kt_check_eq("CONFIG_ADDRESS keeps enable, bus, device, function, register",
		    inl(CONF_ADDR), 0x80fffffcu);
	outb(CONF_ADDR + 1, 0);
	kt_check_eq("a byte write to 0xcf9 is not CONFIG_ADDRESS", inl(CONF_ADDR), 0x80fffffcu);
}

static void identities(void)
{
	kt_check_eq("host bridge vendor", pci_read16(0, 0, 0, 0), KEEL_PCI_VENDOR_ID);
	kt_check_eq("host bridge class", pci_read32(0, 0, 0, 8) >> 8, 0x060000);
	kt_check_eq("host bridge header type", pci_read8(0, 0, 0, 0x0e), 0);
	kt_check_eq("vendor id", pci_read16(0, DEV, 0, 0), KEEL_PCI_VENDOR_ID);
	kt_check_eq("device id", pci_read16(0, DEV, 0, 2), KEEL_PCI_DEVICE_PLATFORM);
	kt_check_eq("device id, high byte alone", pci_read8(0, DEV, 0, 3),
		    KEEL_PCI_DEVICE_PLATFORM >> 8);
	kt_check_eq("class", pci_read32(0, DEV, 0, 8) >> 8, KEEL_PCI_CLASS_PLATFORM);
	kt_check_eq("revision", pci_read8(0, DEV, 0, 8), 1);
	kt_check_eq("header type", pci_read8(0, DEV, 0, 0x0e), 0);
	kt_check_eq("subsystem vendor", pci_read16(0, DEV, 0, 0x2c), KEEL_PCI_VENDOR_ID);
	kt_check_eq("subsystem id", pci_read16(0, DEV, 0, 0x2e), KEEL_PCI_DEVICE_PLATFORM);
	kt_check_eq("interrupt pin A", pci_read8(0, DEV, 0, 0x3d), 1);
	kt_check_eq("interrupt line 16", pci_read8(0, DEV, 0, 0x3c), 16);
	kt_check_eq("status: capabilities list", pci_read16(0, DEV, 0, 6) & 0x10, 0x10);
	kt_check_eq("no expansion ROM", pci_read32(0, DEV, 0, 0x30), 0);
	pci_write32(0, DEV, 0, 0, 0x12345678u);
	kt_check_eq("ids are read-only", pci_read32(0, DEV, 0, 0),
		    KEEL_PCI_DEVICE_PLATFORM << 16 | KEEL_PCI_VENDOR_ID);
	pci_write16(0, DEV, 0, 4, 0xffff);
	kt_check_eq("command: memory, bus master, INTx disable", pci_read16(0, DEV, 0, 4), 0x0406);
	pci_write16(0, DEV, 0, 4, 0);
	pci_write32(0, DEV, 0, 0x3c, 0xffffffffu);
	kt_check_eq("only the interrupt line is writable there", pci_read32(0, DEV, 0, 0x3c),
		    0x000001ffu);
	pci_write32(0, DEV, 0, 0x3c, 16);
}

static void bars(void)
{
	uint32_t bar0 = pci_read32(0, DEV, 0, 0x10), lo, hi;

	kt_check((bar0 & 0xf) == 0 && bar0 >= 0xe0000000u && bar0 < 0xf0000000u,
		 "BAR0: 32-bit memory in the PCI range", "%#x", bar0);
	pci_write32(0, DEV, 0, 0x10, 0xffffffffu);
	kt_check_eq("BAR0 sizes as 4 KiB", pci_read32(0, DEV, 0, 0x10), 0xfffff000u);
	pci_write32(0, DEV, 0, 0x10, bar0);
	kt_check_eq("BAR0 restored", pci_read32(0, DEV, 0, 0x10), bar0);
	pci_write32(0, DEV, 0, 0x14, 0xffffffffu);
	kt_check_eq("BAR1 is not implemented", pci_read32(0, DEV, 0, 0x14), 0);
	lo = pci_read32(0, DEV, 0, 0x18);
	hi = pci_read32(0, DEV, 0, 0x1c);
	kt_check_eq("BAR2: the map window, 64-bit prefetchable",
		    ((uint64_t)hi << 32) | lo, kt_boot.si.map_window_gpa | 0xc);
	pci_write32(0, DEV, 0, 0x18, 0xffffffffu);
	pci_write32(0, DEV, 0, 0x1c, 0xffffffffu);
	lo = pci_read32(0, DEV, 0, 0x18);
	hi = pci_read32(0, DEV, 0, 0x1c);
	kt_check_eq("BAR2 sizes as the map window",
		    ~(((uint64_t)hi << 32) | (lo & ~0xfu)) + 1, kt_boot.si.map_window_size);
	pci_write32(0, DEV, 0, 0x18, 0xe8000000u);
	pci_write32(0, DEV, 0, 0x1c, 0);
	kt_check_eq("BAR2 cannot move", pci_read32(0, DEV, 0, 0x18),
		    (uint32_t)kt_boot.si.map_window_gpa | 0xc);
	kt_check_eq("BAR2 high half", pci_read32(0, DEV, 0, 0x1c), 0);
}

static void capabilities(void)
{
	uint8_t at = pci_read8(0, DEV, 0, 0x34);
	unsigned int hops = 0;

	cap_msix = cap_msi = 0;
	while (at && hops++ < 16) {
		uint8_t id = pci_read8(0, DEV, 0, at);

		if (id == 0x11) {
			cap_msix = at;
		} else if (id == 0x05) {
			cap_msi = at;
		}
		at = pci_read8(0, DEV, 0, at + 1);
	}
	kt_check(cap_msix && cap_msi, "capabilities: MSI-X and MSI", "MSI-X %#x, MSI %#x",
		 cap_msix, cap_msi);
	if (!cap_msix || !cap_msi) {
		return;
	}
	kt_check_eq("MSI-X table size: one entry per vCPU",
		    (pci_read16(0, DEV, 0, cap_msix + 2) & 0x7ff) + 1u, kt_boot.nr_vcpus);
	kt_check_eq("MSI-X table in BAR0 at 0", pci_read32(0, DEV, 0, cap_msix + 4), 0);
	kt_check_eq("MSI-X PBA in BAR0 at 0x800", pci_read32(0, DEV, 0, cap_msix + 8), 0x800);
	kt_check_eq("MSI: 64-bit, one message", pci_read16(0, DEV, 0, cap_msi + 2), 0x0080);
	pci_write16(0, DEV, 0, cap_msix + 2, 0x07ff);
	kt_check_eq("MSI-X table size is read-only",
		    (pci_read16(0, DEV, 0, cap_msix + 2) & 0x7ff) + 1u, kt_boot.nr_vcpus);
}

void test_pci(void)
{
	kt_group_begin("pcplat-pci");
	kt_check(kt_boot.features[0] & KEEL_F0_UPCALL_PLATFORM, "feature UPCALL_PLATFORM",
		 "%#x", kt_boot.features[0]);
	enumerate();
	identities();
	bars();
	capabilities();
	kt_group_end();
}

/* ---- Upcalls --------------------------------------------------------------- */

static uint64_t bar0(void)
{
	return pci_read32(0, DEV, 0, 0x10) & ~0xfu;
}

/* One event on an IPI port to vCPU 0: does an interrupt follow within @timeout? */
static bool event_interrupts(uint32_t port, uint64_t timeout)
{
	uint64_t count = __atomic_load_n(&kt_upcall_count, __ATOMIC_SEQ_CST);

	kt_evtchn_send(port);
	return wait_interrupts(count, timeout);
}

static void msix(uint32_t port)
{
	uint64_t table = bar0(), pba = table + 0x800;

	for (uint32_t i = 0; i < kt_boot.nr_vcpus; i++) {
		kt_check_eq("MSI-X entries start masked", mmio_read32(table + 16 * i + 12), 1);
	}
	kt_check_eq("PBA empty", mmio_read32(pba), 0);
	mmio_write32(table + 0, LAPIC_MSG);
	mmio_write32(table + 4, 0);
	mmio_write32(table + 8, KT_UPCALL_VECTOR);
	kt_check_eq("entry 0 address", mmio_read32(table), LAPIC_MSG);
	kt_check_eq("entry 0 data", mmio_read32(table + 8), KT_UPCALL_VECTOR);
	kt_check_eq("beyond the table reads 0", mmio_read32(table + 16 * kt_boot.nr_vcpus), 0);
	pci_write16(0, DEV, 0, cap_msix + 2, MSIX_ENABLE);
	kt_check_rc("SET_UPCALL PLATFORM beyond the MSI-X table",
		    kt_set_upcall(0, KEEL_UPCALL_PLATFORM, kt_boot.nr_vcpus), -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL PLATFORM entry 0", kt_set_upcall(0, KEEL_UPCALL_PLATFORM, 0), 0);

	mmio_write32(table + 12, 0);		/* unmask */
	kt_check(event_interrupts(port, WAIT_NS), "an upcall through MSI-X entry 0", "none");

	mmio_write32(table + 12, 1);		/* mask */
	kt_check(!event_interrupts(port, QUIET_NS), "no interrupt while the entry is masked",
		 "one came");
	kt_check_eq("the PBA shows entry 0 pending", mmio_read32(pba) & 1, 1);
	{
		uint64_t count = kt_upcall_count;

		mmio_write32(table + 12, 0);
		kt_check(wait_interrupts(count, WAIT_NS), "unmasking delivers the pending message",
			 "none");
	}
	kt_check_eq("the PBA is clear again", mmio_read32(pba) & 1, 0);

	pci_write16(0, DEV, 0, cap_msix + 2, MSIX_ENABLE | MSIX_MASKALL);
	kt_check(!event_interrupts(port, QUIET_NS), "no interrupt while the function is masked",
		 "one came");
	kt_check_eq("pending under the function mask", mmio_read32(pba) & 1, 1);
	{
		uint64_t count = kt_upcall_count;

		pci_write16(0, DEV, 0, cap_msix + 2, MSIX_ENABLE);
		kt_check(wait_interrupts(count, WAIT_NS), "clearing the function mask delivers",
			 "none");
	}

	pci_write16(0, DEV, 0, 4, CMD_MEMORY);	/* bus mastering off: no message can go out */
	kt_check(!event_interrupts(port, QUIET_NS), "no message without bus mastering",
		 "one came");
	kt_check_eq("and nothing pending (it was lost, as on hardware)", mmio_read32(pba) & 1, 0);
	kt_evtchn_scan(0, NULL, NULL);		/* upcall_pending back to 0 */
	pci_write16(0, DEV, 0, 4, CMD_MEMORY | CMD_MASTER);

	pci_write16(0, DEV, 0, cap_msix + 2, 0);
}

static void msi(uint32_t port)
{
	pci_write32(0, DEV, 0, cap_msi + 4, LAPIC_MSG);
	pci_write32(0, DEV, 0, cap_msi + 8, 0);
	pci_write16(0, DEV, 0, cap_msi + 12, KT_UPCALL_VECTOR);
	pci_write16(0, DEV, 0, cap_msi + 2, 1);
	kt_check_eq("MSI enabled", pci_read16(0, DEV, 0, cap_msi + 2), 0x0081);
	kt_check_eq("MSI address", pci_read32(0, DEV, 0, cap_msi + 4), LAPIC_MSG);
	kt_check(event_interrupts(port, WAIT_NS), "an upcall through MSI", "none");
	kt_check(event_interrupts(port, WAIT_NS), "and another", "none");
	pci_write16(0, DEV, 0, cap_msi + 2, 0);
}

void test_msix(void)
{
	long port;

	kt_group_begin("pcplat-msix");
	if (!cap_msix || !cap_msi) {
		kt_check(false, "capabilities found by pcplat-pci", "no");
		kt_group_end();
		return;
	}
	pci_write16(0, DEV, 0, 4, CMD_MEMORY | CMD_MASTER);
	if (kt_boot.nr_vcpus > 1) {
		kt_check_rc("INTx (no MSI, no MSI-X) is for vCPU 0 only",
			    kt_set_upcall(1, KEEL_UPCALL_PLATFORM, 0), -KEEL_EINVAL);
	}
	port = kt_evtchn_bind_ipi(0);
	kt_check(port > 0, "an IPI port to vCPU 0", "%ld", port);
	kt_port_unmask_local((uint32_t)port);
	msix((uint32_t)port);
	msi((uint32_t)port);
	kt_set_upcall(0, KEEL_UPCALL_NONE, 0);
	kt_evtchn_close((uint32_t)port);
	kt_group_end();
}

void test_intx(void)
{
	uint64_t count;
	long port;

	kt_group_begin("pcplat-intx");
	pci_write16(0, DEV, 0, 4, CMD_MEMORY | CMD_MASTER);
	port = kt_evtchn_bind_ipi(0);
	kt_check(port > 0, "an IPI port to vCPU 0", "%ld", port);
	kt_port_unmask_local((uint32_t)port);
	kt_check_rc("SET_UPCALL PLATFORM (INTx)", kt_set_upcall(0, KEEL_UPCALL_PLATFORM, 0), 0);
	ioapic_route(16, KT_UPCALL_VECTOR, true);	/* PCI: level, active low */
	count = kt_upcall_count;
	kt_check(event_interrupts((uint32_t)port, WAIT_NS), "an upcall through INTx on GSI 16",
		 "none");
	/* The handler cleared upcall_pending before its EOI: the line must be low now. */
	kt_check(!wait_interrupts(count + 1, QUIET_NS), "exactly one interrupt per upcall",
		 "%llu", (unsigned long long)(kt_upcall_count - count));
	kt_check_eq("status: no interrupt pending", pci_read16(0, DEV, 0, 6) & STATUS_INTX, 0);
	kt_check(event_interrupts((uint32_t)port, WAIT_NS), "a second upcall through INTx",
		 "none");

	pci_write16(0, DEV, 0, 4, CMD_MEMORY | CMD_MASTER | CMD_INTX_OFF);
	kt_check(!event_interrupts((uint32_t)port, QUIET_NS), "no interrupt with INTx disabled",
		 "one came");
	kt_check_eq("status: interrupt pending", pci_read16(0, DEV, 0, 6) & STATUS_INTX,
		    STATUS_INTX);
	count = kt_upcall_count;
	pci_write16(0, DEV, 0, 4, CMD_MEMORY | CMD_MASTER);
	kt_check(wait_interrupts(count, WAIT_NS), "enabling INTx delivers the pending upcall",
		 "none");
	ioapic_mask(16);
	kt_set_upcall(0, KEEL_UPCALL_NONE, 0);
	kt_evtchn_close((uint32_t)port);
	kt_group_end();
}
