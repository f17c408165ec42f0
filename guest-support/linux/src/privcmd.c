// SPDX-License-Identifier: MIT
/*
 * privcmd.c - /dev/keel/privcmd: the API version, one hypercall with its
 * buffers bounced through pages of our RAM (docs/keelctl.md), and the grant
 * maps of gntmap.c. Keel, not this file, decides whether the caller may
 * make a call; its answer, KEEL_EPERM included, comes back in `result`.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/unaligned.h>

#include <keel/hypercall.h>

#include "keel_priv.h"

struct privcmd_file {
	struct keel_gntmaps gntmaps;
};

/*
 * Calls that change this domain's own event channels, grants, memory,
 * vCPUs or run state belong to the kernel (pvdrivers holds that state);
 * passed through they would corrupt it. User space gets the control group
 * and the calls on other domains' consoles; its own ports and grant maps
 * go through /dev/keel/evtchn and MAP_GRANTS.
 */
static bool call_is_for_user_space(u32 nr)
{
	if (nr >= KEEL_HC_GROUP_CONTROL && nr < KEEL_HC_GROUP_CONTROL + 0x80)
		return true;
	switch (nr) {
	case KEEL_HC_VERSION:
	case KEEL_HC_FEATURES:
	case KEEL_HC_CONSOLE_READ_DOMAIN:
	case KEEL_HC_CONSOLE_WRITE_DOMAIN:
	/* 1.1, for backend processes: they only read this domain's state. */
	case KEEL_HC_DEVICE_TABLE_READ:
	case KEEL_HC_EVTCHN_STATUS:
		return true;
	default:
		return false;
	}
}

/* Every descriptor is checked before anything is allocated or copied. */
static int check_bufs(const struct keel_privcmd_buf *b, u32 n)
{
	const u32 known = KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT | KEEL_PRIVCMD_BUF_GFN;

	for (u32 i = 0; i < n; i++) {
		if (b[i].len == 0 || b[i].len > KEEL_PRIVCMD_BUF_MAX_LEN || (b[i].flags & ~known) ||
		    b[i].pad0 || b[i].at > KEEL_PRIVCMD_AT_BUF)
			return -EINVAL;
		if (b[i].at == KEEL_PRIVCMD_AT_ARG && b[i].index >= 6)
			return -EINVAL;
		if (b[i].at == KEEL_PRIVCMD_AT_BUF &&
		    (b[i].index >= n || b[i].index == i ||
		     (u64)b[i].offset + 8 > b[b[i].index].len))
			return -EINVAL;
	}
	return 0;
}

static void free_bounce(struct page **pages, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		if (pages[i])
			__free_page(pages[i]);
	}
	kfree(pages);
}

/* Zeroed pages, IN buffers copied in; then every page's address placed. */
static int fill_bounce(struct page **pages, const struct keel_privcmd_buf *b, u32 n, u64 args[6])
{
	for (u32 i = 0; i < n; i++) {
		pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!pages[i])
			return -ENOMEM;
		if ((b[i].flags & KEEL_PRIVCMD_BUF_IN) &&
		    copy_from_user(page_address(pages[i]), u64_to_user_ptr(b[i].addr), b[i].len))
			return -EFAULT;
	}
	/* After all copies, so no copy overwrites a placed address. */
	for (u32 i = 0; i < n; i++) {
		u64 v = (b[i].flags & KEEL_PRIVCMD_BUF_GFN) ? page_to_pfn(pages[i]) :
							       page_to_phys(pages[i]);

		if (b[i].at == KEEL_PRIVCMD_AT_ARG)
			args[b[i].index] = v;
		else if (b[i].at == KEEL_PRIVCMD_AT_BUF)
			put_unaligned_le64(v, page_address(pages[b[i].index]) + b[i].offset);
	}
	return 0;
}

static long privcmd_hypercall(struct keel_privcmd_hypercall __user *uhc)
{
	struct keel_privcmd_hypercall hc;
	struct keel_privcmd_buf *bufs = NULL;
	struct page **pages = NULL;
	long rc;

	if (copy_from_user(&hc, uhc, sizeof(hc)))
		return -EFAULT;
	if (hc.version >> 16 != KEEL_PRIVCMD_VERSION_MAJOR || hc.pad0 ||
	    !call_is_for_user_space(hc.nr))
		return -EINVAL;
	if (hc.nr_bufs > KEEL_PRIVCMD_MAX_BUFS)
		return -E2BIG;
	if (hc.nr_bufs) {
		bufs = memdup_user(u64_to_user_ptr(hc.bufs), hc.nr_bufs * sizeof(*bufs));
		if (IS_ERR(bufs))
			return PTR_ERR(bufs);
		rc = check_bufs(bufs, hc.nr_bufs);
		if (rc)
			goto out;
		pages = kcalloc(hc.nr_bufs, sizeof(*pages), GFP_KERNEL);
		rc = -ENOMEM;
		if (!pages)
			goto out;
		rc = fill_bounce(pages, bufs, hc.nr_bufs, hc.args);
		if (rc)
			goto out;
	}
	rc = -EINTR;
	if (fatal_signal_pending(current))
		goto out;

	hc.result = keel_hcall_args(hc.nr, hc.args);

	/* The call was made: result goes back even if an OUT copy then fails. */
	rc = put_user(hc.result, &uhc->result);
	for (u32 i = 0; i < hc.nr_bufs; i++) {
		if ((bufs[i].flags & KEEL_PRIVCMD_BUF_OUT) &&
		    copy_to_user(u64_to_user_ptr(bufs[i].addr), page_address(pages[i]), bufs[i].len))
			rc = -EFAULT;
	}
out:
	if (pages)
		free_bounce(pages, hc.nr_bufs);
	if (!IS_ERR_OR_NULL(bufs))
		kfree(bufs);
	return rc;
}

static long privcmd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct privcmd_file *pf = file->private_data;

	switch (cmd) {
	case KEEL_PRIVCMD_IOCTL_VERSION:
		return put_user((u32)KEEL_PRIVCMD_VERSION, (u32 __user *)arg);
	case KEEL_PRIVCMD_IOCTL_HYPERCALL:
		return privcmd_hypercall((void __user *)arg);
	case KEEL_PRIVCMD_IOCTL_MAP_GRANTS:
		return keel_gntmaps_ioctl(&pf->gntmaps, (void __user *)arg);
	case KEEL_PRIVCMD_IOCTL_MAP_DEVICE_PAGE:
		return keel_gntmaps_device_ioctl(&pf->gntmaps, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int privcmd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct privcmd_file *pf = file->private_data;

	return keel_gntmaps_mmap(&pf->gntmaps, vma);
}

static int privcmd_open(struct inode *inode, struct file *file)
{
	struct privcmd_file *pf;
	struct kpv *k;
	int rc = keel_priv_open(&k);

	if (rc)
		return rc;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf) {
		keel_priv_release();
		return -ENOMEM;
	}
	keel_gntmaps_init(&pf->gntmaps, k);
	file->private_data = pf;
	return 0;
}

static int privcmd_release(struct inode *inode, struct file *file)
{
	struct privcmd_file *pf = file->private_data;

	keel_gntmaps_release(&pf->gntmaps);
	kfree(pf);
	keel_priv_release();
	return 0;
}

const struct file_operations keel_privcmd_fops = {
	.owner = THIS_MODULE,
	.open = privcmd_open,
	.release = privcmd_release,
	.unlocked_ioctl = privcmd_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = privcmd_mmap,
	.llseek = noop_llseek,
};
