// SPDX-License-Identifier: MIT
/*
 * shim_upcall.c - Keel's event upcall as the platform PCI device's
 * interrupt (KEEL_UPCALL_PLATFORM): MSI-X entry 0, else MSI, else INTx.
 *
 * In platform mode pvdrivers routes upcalls of vCPU 0 only, and every port
 * notifies vCPU 0, so kpv_upcall() must run there: it scans the vcpu_info
 * of the CPU it runs on. The interrupt is pinned to that CPU (and kept off
 * irqbalance); should it still arrive elsewhere (an affinity change in
 * flight), the handler sends the scan to vCPU 0 with an async IPI.
 *
 * The handler runs in hard interrupt context (IRQF_NO_THREAD, like Xen's
 * event-channel interrupt): pvdrivers' port handlers are [any] and only do
 * ring work or schedule work items, which do the rest in thread context.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/smp.h>

#include "keel_linux.h"

static struct pci_dev *upcall_pdev;
static u32 upcall_features0;
static int upcall_irq = -1;
/* The CPU that is vCPU 0, and the instance its upcalls go to (NULL: none). */
static int upcall_cpu;
static struct kpv *upcall_kpv;
/* Scans sent to upcall_cpu and not finished yet (disconnect waits for them). */
static atomic_t upcall_redirects = ATOMIC_INIT(0);
static call_single_data_t upcall_csd;

void keel_upcall_prepare(struct pci_dev *pdev, u32 features0)
{
	upcall_pdev = pdev;
	upcall_features0 = features0;
}

static void upcall_scan(void)
{
	struct kpv *k = READ_ONCE(upcall_kpv);

	if (k)
		kpv_upcall(k);
}

static void upcall_redirected(void *unused)
{
	upcall_scan();
	atomic_dec(&upcall_redirects);
}

static irqreturn_t upcall_interrupt(int irq, void *unused)
{
	if (smp_processor_id() == READ_ONCE(upcall_cpu)) {
		upcall_scan();
		return IRQ_HANDLED;
	}
	/*
	 * -EBUSY: a redirected scan is queued and has not started yet (the csd
	 * is unlocked before its function runs), so it will see this event too.
	 */
	atomic_inc(&upcall_redirects);
	if (smp_call_function_single_async(READ_ONCE(upcall_cpu), &upcall_csd) != 0)
		atomic_dec(&upcall_redirects);
	return IRQ_HANDLED;
}

int kpv_shim_upcall_connect(struct kpv *k, uint32_t *vector)
{
	struct pci_dev *pdev = upcall_pdev;
	unsigned long flags = IRQF_NO_THREAD | IRQF_NOBALANCING;
	int cpu = keel_cpu_of_vcpu(0);
	int nvec, rc;

	if (!pdev || !(upcall_features0 & KEEL_F0_UPCALL_PLATFORM)) {
		pr_err("Keel offers no platform-device upcalls; this package needs them\n");
		return -KEEL_EOPNOTSUPP;
	}
	if (cpu < 0) {
		pr_err("vCPU 0 is not online\n");
		return -KEEL_EOPNOTSUPP;
	}
	INIT_CSD(&upcall_csd, upcall_redirected, NULL);
	WRITE_ONCE(upcall_cpu, cpu);
	WRITE_ONCE(upcall_kpv, k);
	nvec = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSIX | PCI_IRQ_MSI | PCI_IRQ_LEGACY);
	if (nvec < 0) {
		dev_err(&pdev->dev, "no interrupt for upcalls (%d)\n", nvec);
		goto fail;
	}
	upcall_irq = pci_irq_vector(pdev, 0);
	if (!pdev->msix_enabled && !pdev->msi_enabled)
		flags |= IRQF_SHARED;	/* a level-triggered line may be shared */
	rc = request_irq(upcall_irq, upcall_interrupt, flags, "keel-upcall", &upcall_kpv);
	if (rc) {
		dev_err(&pdev->dev, "request_irq(%d) failed (%d)\n", upcall_irq, rc);
		pci_free_irq_vectors(pdev);
		goto fail;
	}
	rc = irq_set_affinity(upcall_irq, cpumask_of(cpu));
	if (rc)
		dev_warn(&pdev->dev, "upcall interrupt not pinned to CPU %d (%d): redirecting\n",
			 cpu, rc);
	dev_info(&pdev->dev, "upcalls on IRQ %d (%s), CPU %d\n", upcall_irq,
		 pdev->msix_enabled ? "MSI-X" : pdev->msi_enabled ? "MSI" : "INTx", cpu);
	/* MSI-X: entry 0; MSI and INTx have no entry number (0, as shim.h says). */
	*vector = 0;
	return KEEL_UPCALL_PLATFORM;

fail:
	upcall_irq = -1;
	WRITE_ONCE(upcall_kpv, NULL);
	return -KEEL_ENOSPC;
}

void kpv_shim_upcall_disconnect(struct kpv *k)
{
	if (upcall_irq < 0)
		return;
	/* free_irq() waits for a handler running on another CPU. */
	free_irq(upcall_irq, &upcall_kpv);
	pci_free_irq_vectors(upcall_pdev);
	upcall_irq = -1;
	while (atomic_read(&upcall_redirects) != 0)
		usleep_range(50, 100);
	WRITE_ONCE(upcall_kpv, NULL);
}
