/* SPDX-License-Identifier: MIT */
/*
 * keel_priv.h - what the files of the privileged driver share (docs/keelctl.md,
 * "Privileged driver user-space API"): the device nodes under /dev/keel/
 * (priv.c), the hypercall pass-through and grant maps (privcmd.c,
 * gntmap.c), event channels (evtchn_dev.c).
 *
 * The driver checks no rights of its own beyond CAP_SYS_ADMIN to open a
 * node: Keel checks each call against the control domain's capabilities.
 */
#ifndef KEEL_PRIV_H
#define KEEL_PRIV_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include <keel_pv/kpv.h>
#include <keelctl/keel_privcmd.h>

/* Register /dev/keel/privcmd and /dev/keel/evtchn for the started @k. */
int keel_priv_start(struct kpv *k);
/* Remove them; waits until every open file of them is closed. */
void keel_priv_stop(void);

/*
 * Common open/release: CAP_SYS_ADMIN (else -EACCES), and a count stop()
 * waits on. *@k is the bound device's kpv, valid until the release.
 */
int keel_priv_open(struct kpv **k);
void keel_priv_release(void);

/* Keel's error (-KEEL_E*) as a negative Linux errno, one for one. */
int keel_priv_errno(long keel_err);

/* hcall_args.S: hypercall @nr with all six arguments. */
long keel_hcall_args(u64 nr, const u64 args[6]);

/* --- Grant maps (gntmap.c), per open /dev/keel/privcmd --------------------- */

struct keel_gntmaps {
	struct kpv *kpv;
	struct mutex lock;
	struct list_head maps;		/* struct keel_gntmap, mapped by MAP_GRANTS */
	u64 next_pgoff;			/* the next mmap() offset handed out, in pages */
};

void keel_gntmaps_init(struct keel_gntmaps *g, struct kpv *k);
/* Unmap what is left (the process closed the file). */
void keel_gntmaps_release(struct keel_gntmaps *g);
long keel_gntmaps_ioctl(struct keel_gntmaps *g, void __user *arg);
/* MAP_DEVICE_PAGE (1.1): a device's control page, in the same mmap() offset space. */
long keel_gntmaps_device_ioctl(struct keel_gntmaps *g, void __user *arg);
int keel_gntmaps_mmap(struct keel_gntmaps *g, struct vm_area_struct *vma);

extern const struct file_operations keel_privcmd_fops;
extern const struct file_operations keel_evtchn_fops;

#endif /* KEEL_PRIV_H */
