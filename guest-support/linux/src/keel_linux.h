/* SPDX-License-Identifier: MIT */
/*
 * keel_linux.h - what the files of the Linux port share: discovery and the
 * hypercall page (discover.c, hcall.S), the map window and the upcall as
 * the shim sees them (shim_*.c), and the frontends the PCI driver starts
 * (platform.c; hvc_keel.c, keel_blk.c, keel_net.c).
 *
 * Contexts follow keel_pv/shim.h: "[any]" may run in interrupt context.
 */
#ifndef KEEL_LINUX_H
#define KEEL_LINUX_H

#include <linux/list.h>
#include <linux/pci.h>
#include <linux/types.h>

#include <keel_pv/kpv.h>
#include <keel/arch-x86_64.h>

#include "keel_version.h"

/* --- Discovery and hypercalls (discover.c, hcall.S) ---------------------- */

/* What CPUID says about the Keel we run on (docs/abi/README.md, "Discovery"). */
struct keel_cpuid {
	u32 base;		/* the leaf base B */
	u32 abi;		/* (major << 16) | minor */
	u32 msr;		/* index of the hypercall page MSR */
	u32 features0;		/* KEEL_F0_* */
};

/* Scan the CPUID leaves for Keel's interface signature; -ENODEV when not on Keel. */
int keel_discover(struct keel_cpuid *out);
/* Have Keel fill the hypercall page (hcall.S) through the MSR; 0 or -EIO. */
int keel_hcall_page_install(const struct keel_cpuid *id);
/* Learn each online CPU's Keel vCPU index (CPUID B+4), for kpv_shim_cpu(). */
void keel_vcpu_map_init(const struct keel_cpuid *id);
/* The Linux CPU that is Keel's vCPU @vcpu, or -1 if none is online. */
int keel_cpu_of_vcpu(u32 vcpu);

/* [any] hcall.S: hypercall @nr through the page. */
long keel_hcall6(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4);
/* hcall.S: the page itself, in the module's text. */
extern u8 keel_hypercall_page[];

/* --- The shim's Linux side (shim_*.c) ----------------------------------- */

/* The deferred-work queue every kpv_shim_work runs on; created at load. */
int keel_shim_init(void);
void keel_shim_exit(void);

/* The map window: BAR2 of the platform device, requested by platform.c. */
void keel_window_set(phys_addr_t base, resource_size_t size);

/* The device whose interrupt carries upcalls, and Keel's feature word 0. */
void keel_upcall_prepare(struct pci_dev *pdev, u32 features0);

/* [any] Whether this CPU is printing a pvdrivers line (a kpv lock may be held). */
bool keel_in_kpv_log(void);

/* Keel's error numbers as Linux errno values. */
int keel_errno(int keel_err);

/* --- Frontends (platform.c starts one per device-table entry) ------------ */

/*
 * One running frontend: remove() closes it (the device stays in Keel's
 * table for the next load) and frees it; it sleeps until the class's
 * released() came.
 */
struct keel_frontend {
	struct list_head node;
	void (*remove)(struct keel_frontend *fe);
};

/* The platform device, as the frontends' parent in sysfs. */
struct device *keel_parent(void);

int keel_con_open(struct kpv *k, const struct kpv_device_info *info, struct keel_frontend **out);
int keel_blk_open(struct kpv *k, const struct kpv_device_info *info, struct keel_frontend **out);
int keel_net_open(struct kpv *k, const struct kpv_device_info *info, struct keel_frontend **out);

/* The controller's poweroff and reboot requests (shutdown.c); 0 or a Keel error. */
int keel_shutdown_start(struct kpv *k);
void keel_shutdown_stop(void);

/* Module-wide set-up of the classes (the block major, ...). */
int keel_blk_init(void);
void keel_blk_exit(void);

#endif /* KEEL_LINUX_H */
