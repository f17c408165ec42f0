// SPDX-License-Identifier: MIT
/*
 * platform.c - the module and its PCI driver for Keel's platform device
 * (docs/abi/boot.md, "The platform PCI device"): binding by PCI id (udev
 * loads the module by modalias), the CPUID check, the map window (BAR2),
 * the hypercall page, kpv_start(), one frontend per device-table entry we
 * are the frontend of, and the privileged driver's nodes (priv.c). Remove
 * undoes it in reverse, so rmmod works with every device live and the next
 * insmod connects again.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <generated/uapi/linux/version.h>

#include "keel_linux.h"
#include "keel_priv.h"

/* More devices than this in one domain's table are left alone (and logged). */
#define KEEL_MAX_DEVICES	64

#define KEEL_MAP_WINDOW_BAR	2

static struct {
	struct pci_dev *pdev;
	struct kpv *kpv;
	struct list_head frontends;
} keel;

struct device *keel_parent(void)
{
	return &keel.pdev->dev;
}

/*
 * The ABI minor this package needs: it runs on a 1.0 Keel, and pvdrivers
 * uses 1.1's KEEL_HC_MEMORY_UNMAP_SHARED only where Keel has it.
 */
#define KEEL_LINUX_ABI_MINOR	0

static const struct kpv_os keel_os = {
	.os_id = KEEL_OS_LINUX,
	.abi_major = KEEL_ABI_MAJOR,
	.abi_minor = KEEL_LINUX_ABI_MINOR,
	.os_version = { LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, LINUX_VERSION_SUBLEVEL },
	.pkg_version = { KEEL_PKG_MAJOR, KEEL_PKG_MINOR, KEEL_PKG_PATCH },
	.os_name = "Linux",
	.pkg_name = "keel-dkms",
};

static int frontend_open(const struct kpv_device_info *info, struct keel_frontend **fe)
{
	switch (info->device_class) {
	case KEEL_IO_CLASS_CONSOLE:
		return keel_con_open(keel.kpv, info, fe);
	case KEEL_IO_CLASS_BLOCK:
		return keel_blk_open(keel.kpv, info, fe);
	case KEEL_IO_CLASS_NET:
		return keel_net_open(keel.kpv, info, fe);
	default:
		return -EOPNOTSUPP;
	}
}

/* Every device of the table we are the frontend of gets an instance; a failure skips one. */
static void frontends_start(struct device *dev)
{
	struct kpv_device_info *infos;
	int n;

	infos = kcalloc(KEEL_MAX_DEVICES, sizeof(*infos), GFP_KERNEL);
	if (!infos)
		return;
	n = kpv_devices(keel.kpv, infos, KEEL_MAX_DEVICES);
	if (n < 0)
		dev_err(dev, "cannot read the device table (%d)\n", n);
	if (n > KEEL_MAX_DEVICES) {
		dev_warn(dev, "%d devices, serving the first %d\n", n, KEEL_MAX_DEVICES);
		n = KEEL_MAX_DEVICES;
	}
	for (int i = 0; i < n; i++) {
		struct keel_frontend *fe;
		int rc;

		if (infos[i].backend) {
			dev_info(dev, "device %u (%s): backend role, not served by this package\n",
				 infos[i].device_id, infos[i].label);
			continue;
		}
		rc = frontend_open(&infos[i], &fe);
		if (rc) {
			dev_err(dev, "device %u (%s, class %u): not started (%d)\n",
				infos[i].device_id, infos[i].label, infos[i].device_class, rc);
			continue;
		}
		list_add_tail(&fe->node, &keel.frontends);
	}
	kfree(infos);
}

static void frontends_stop(void)
{
	struct keel_frontend *fe, *next;

	/* Newest first; each remove() waits until its device is released. */
	list_for_each_entry_safe_reverse(fe, next, &keel.frontends, node) {
		list_del(&fe->node);
		fe->remove(fe);
	}
}

static int keel_check_abi(struct device *dev, const struct keel_cpuid *id)
{
	u32 major = id->abi >> 16, minor = id->abi & 0xffff;

	if (major != KEEL_ABI_MAJOR || minor < KEEL_LINUX_ABI_MINOR) {
		dev_err(dev, "Keel implements ABI %u.%u, this package needs %u.%u\n", major, minor,
			KEEL_ABI_MAJOR, KEEL_LINUX_ABI_MINOR);
		return -ENODEV;
	}
	return 0;
}

static int keel_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct keel_cpuid cpuid;
	int rc;

	/* The id alone proves nothing (another hypervisor may reuse it): refuse quietly. */
	if (keel_discover(&cpuid) != 0) {
		dev_dbg(&pdev->dev, "no Keel CPUID signature: not binding\n");
		return -ENODEV;
	}
	if (keel.pdev) {
		dev_warn(&pdev->dev, "a second Keel platform device: ignored\n");
		return -EBUSY;
	}
	rc = keel_check_abi(&pdev->dev, &cpuid);
	if (rc)
		return rc;
	rc = pci_enable_device(pdev);
	if (rc)
		return rc;
	pci_set_master(pdev);	/* MSI and MSI-X messages are memory writes by the device */
	rc = pci_request_region(pdev, KEEL_MAP_WINDOW_BAR, "keel-map-window");
	if (rc)
		goto disable;
	keel_window_set(pci_resource_start(pdev, KEEL_MAP_WINDOW_BAR),
			pci_resource_len(pdev, KEEL_MAP_WINDOW_BAR));
	rc = keel_hcall_page_install(&cpuid);
	if (rc)
		goto release;
	keel_vcpu_map_init(&cpuid);
	keel_upcall_prepare(pdev, cpuid.features0);
	keel.pdev = pdev;
	rc = kpv_start(&keel_os, &keel.kpv);
	if (rc) {
		dev_err(&pdev->dev, "kpv_start failed (Keel error %d)\n", rc);
		rc = keel_errno(rc);
		goto unset;
	}
	dev_info(&pdev->dev, "Keel ABI %u.%u, domain %u, %u vCPU(s), package %s\n",
		 cpuid.abi >> 16, cpuid.abi & 0xffff, kpv_domid(keel.kpv), kpv_nr_vcpus(keel.kpv),
		 KEEL_PKG_VERSION);
	INIT_LIST_HEAD(&keel.frontends);
	frontends_start(&pdev->dev);
	rc = keel_shutdown_start(keel.kpv);
	if (rc)
		dev_err(&pdev->dev, "Keel's shutdown requests will not be seen (Keel error %d)\n", rc);
	/* A guest without the control rights still gets the nodes: Keel refuses its calls. */
	if (keel_priv_start(keel.kpv))
		dev_err(&pdev->dev, "no /dev/keel/ nodes: the privileged driver is not available\n");
	return 0;

unset:
	keel.pdev = NULL;
	keel.kpv = NULL;
release:
	keel_window_set(0, 0);
	pci_release_region(pdev, KEEL_MAP_WINDOW_BAR);
disable:
	pci_disable_device(pdev);
	return rc;
}

static void keel_remove(struct pci_dev *pdev)
{
	keel_priv_stop();
	keel_shutdown_stop();
	frontends_stop();
	kpv_stop(keel.kpv);
	keel.kpv = NULL;
	keel.pdev = NULL;
	/* Keel's pages stay at their window GFNs (ABI 1.0); our view of them is gone. */
	keel_window_set(0, 0);
	pci_release_region(pdev, KEEL_MAP_WINDOW_BAR);
	pci_disable_device(pdev);
	dev_info(&pdev->dev, "stopped\n");
}

static const struct pci_device_id keel_pci_ids[] = {
	{ PCI_DEVICE(KEEL_PCI_VENDOR_ID, KEEL_PCI_DEVICE_PLATFORM) },
	{ 0 }
};
MODULE_DEVICE_TABLE(pci, keel_pci_ids);

static struct pci_driver keel_pci_driver = {
	.name = "keel",
	.id_table = keel_pci_ids,
	.probe = keel_probe,
	.remove = keel_remove,
};

static int __init keel_init(void)
{
	int rc = keel_shim_init();

	if (rc)
		return rc;
	rc = keel_blk_init();
	if (rc)
		goto shim;
	rc = pci_register_driver(&keel_pci_driver);
	if (rc)
		goto blk;
	return 0;

blk:
	keel_blk_exit();
shim:
	keel_shim_exit();
	return rc;
}

static void __exit keel_exit(void)
{
	pci_unregister_driver(&keel_pci_driver);
	keel_blk_exit();
	keel_shim_exit();
}

module_init(keel_init);
module_exit(keel_exit);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_AUTHOR("The Keel project");
MODULE_DESCRIPTION("Keel hypervisor guest support: PV frontends and the control domain's privileged driver");
MODULE_VERSION(KEEL_PKG_VERSION);
