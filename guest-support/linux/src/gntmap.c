// SPDX-License-Identifier: MIT
/*
 * gntmap.c - other domains' grants mapped into a process (docs/keelctl.md,
 * "Grant maps"): MAP_GRANTS maps the pages into our map window
 * (KEEL_HC_GNTTAB_MAP through kpv) and hands out an mmap() offset; mmap()
 * of exactly that range puts the window pages in the process; munmap(),
 * or closing the file for ranges never mapped, unmaps the grants.
 * MAP_DEVICE_PAGE (1.1) hands out a device's control page the same way;
 * munmap() or close gives it back through kpv_unmap_shared(), which on a
 * Keel of ABI 1.1 removes it from our map window (so a removed device's
 * page is freed) and on a 1.0 Keel parks it for the next mapping. Several
 * mappings of one device page share kpv's single mapping of it.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <keel/memory.h>

#include "keel_priv.h"

struct keel_gntmap {
	struct list_head node;
	struct keel_gntmaps *owner;
	u64 pgoff;			/* the mmap() offset, in pages */
	u32 count;
	bool readonly;
	bool device_page;		/* m[0] is a device control page (kpv_map_shared) */
	bool in_vma;			/* a VMA maps it: that VMA's close() unmaps it */
	struct kpv_mapping m[];
};

void keel_gntmaps_init(struct keel_gntmaps *g, struct kpv *k)
{
	g->kpv = k;
	mutex_init(&g->lock);
	INIT_LIST_HEAD(&g->maps);
}

static void gntmap_free(struct kpv *k, struct keel_gntmap *map, u32 mapped)
{
	if (map->device_page) {
		kpv_unmap_shared(k, map->m[0].va, map->m[0].gfn);
		kfree(map);
		return;
	}
	for (u32 i = 0; i < mapped; i++)
		kpv_unmap_grant(k, &map->m[i]);
	kfree(map);
}

/* The file is gone, so no VMA maps any of them (each VMA held the file). */
void keel_gntmaps_release(struct keel_gntmaps *g)
{
	struct keel_gntmap *map, *next;

	list_for_each_entry_safe(map, next, &g->maps, node) {
		list_del(&map->node);
		gntmap_free(g->kpv, map, map->count);
	}
}

/* Give @map the next mmap() offset and tell user space (@uoffset); frees it on failure. */
static long gntmap_publish(struct keel_gntmaps *g, struct keel_gntmap *map, u64 __user *uoffset)
{
	mutex_lock(&g->lock);
	map->pgoff = g->next_pgoff;
	g->next_pgoff += map->count;
	list_add_tail(&map->node, &g->maps);
	mutex_unlock(&g->lock);
	if (put_user(map->pgoff << PAGE_SHIFT, uoffset)) {
		mutex_lock(&g->lock);
		list_del(&map->node);
		mutex_unlock(&g->lock);
		gntmap_free(g->kpv, map, map->count);
		return -EFAULT;
	}
	return 0;
}

long keel_gntmaps_ioctl(struct keel_gntmaps *g, void __user *arg)
{
	struct keel_privcmd_map_grants req;
	struct keel_gntmap *map;
	u32 *refs;
	long rc = 0;
	u32 i;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.count == 0 || req.pad0 || (req.flags & ~KEEL_PRIVCMD_MAP_READONLY))
		return -EINVAL;
	if (req.count > KEEL_PRIVCMD_MAX_GRANTS)
		return -E2BIG;
	refs = memdup_user(u64_to_user_ptr(req.refs), req.count * sizeof(*refs));
	if (IS_ERR(refs))
		return PTR_ERR(refs);
	map = kzalloc(struct_size(map, m, req.count), GFP_KERNEL);
	if (!map) {
		kfree(refs);
		return -ENOMEM;
	}
	map->owner = g;
	map->count = req.count;
	map->readonly = req.flags & KEEL_PRIVCMD_MAP_READONLY;
	for (i = 0; i < req.count; i++) {
		int err = kpv_map_grant(g->kpv, req.domid, refs[i], map->readonly, &map->m[i]);

		if (err) {
			rc = keel_priv_errno(err);
			break;
		}
	}
	kfree(refs);
	if (rc) {
		gntmap_free(g->kpv, map, i);
		return rc;
	}
	return gntmap_publish(g, map, &((struct keel_privcmd_map_grants __user *)arg)->offset);
}

long keel_gntmaps_device_ioctl(struct keel_gntmaps *g, void __user *arg)
{
	struct keel_privcmd_map_device_page req;
	struct keel_gntmap *map;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.pad0)
		return -EINVAL;
	map = kzalloc(struct_size(map, m, 1), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	map->owner = g;
	map->count = 1;
	map->device_page = true;
	/* Keel refuses a device this domain is not an end of (EPERM) or that is gone (ENOENT). */
	map->m[0].va = kpv_map_shared(g->kpv, KEEL_MAPSPACE_DEVICE_PAGE, req.device_id,
				      &map->m[0].gfn);
	if (!map->m[0].va) {
		kfree(map);
		return -ENOENT;
	}
	return gntmap_publish(g, map, &((struct keel_privcmd_map_device_page __user *)arg)->offset);
}

static void gntmap_vma_close(struct vm_area_struct *vma)
{
	struct keel_gntmap *map = vma->vm_private_data;
	struct keel_gntmaps *g = map->owner;

	mutex_lock(&g->lock);
	list_del(&map->node);
	mutex_unlock(&g->lock);
	/* The PTEs are gone already (close runs after the unmap). */
	gntmap_free(g->kpv, map, map->count);
}

/* One VMA maps one whole range: no splitting, no moving, so close() is exact. */
static int gntmap_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int gntmap_vma_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct gntmap_vm_ops = {
	.close = gntmap_vma_close,
	.may_split = gntmap_vma_may_split,
	.mremap = gntmap_vma_mremap,
};

int keel_gntmaps_mmap(struct keel_gntmaps *g, struct vm_area_struct *vma)
{
	struct keel_gntmap *map = NULL, *it;
	int rc = -EINVAL;

	mutex_lock(&g->lock);
	list_for_each_entry(it, &g->maps, node) {
		if (it->pgoff == vma->vm_pgoff) {
			map = it;
			break;
		}
	}
	if (!map || map->count != vma_pages(vma))
		goto out;
	rc = -EBUSY;
	if (map->in_vma)
		goto out;
	rc = -EPERM;
	if (map->readonly && (vma->vm_flags & VM_WRITE))
		goto out;
	if (map->readonly)
		vma->vm_flags &= ~VM_MAYWRITE;
	vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY;
	for (u32 i = 0; i < map->count; i++) {
		rc = remap_pfn_range(vma, vma->vm_start + i * PAGE_SIZE, map->m[i].gfn, PAGE_SIZE,
				     vma->vm_page_prot);
		if (rc)
			goto out;	/* mmap fails; the core unmaps what was put in */
	}
	map->in_vma = true;
	vma->vm_private_data = map;
	vma->vm_ops = &gntmap_vm_ops;
out:
	mutex_unlock(&g->lock);
	return rc;
}
