/* SPDX-License-Identifier: MIT */
/*
 * tools/build/builder.c - the build recipe (control.md, "Building a
 * domain"), with every check that can be made before the domain exists
 * made first (images, disks, memory), and every failure after it destroys
 * the domain. The boot path is chosen by what the kernel image is.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <keel/errno.h>
#include <keel/io/device.h>
#include "build.h"
#include "builder.h"
#include "../config/cfgpath.h"
#include "statedir.h"

int build_error(struct build *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return -1;
}

static int call_error(struct build *b, const char *what, long rc)
{
	return build_error(b, "%s: %s (Keel error %ld)", what, keelctl_strerror(rc), rc);
}

/* The kernel decides the path: a bzImage or PVH ELF is Linux's, a Keel note native. */
static const struct boot_path *choose_path(struct build *b)
{
	static const struct boot_path *const paths[] = { &boot_linux, &boot_native };

	if (kernel_identify(b) != 0) {
		return NULL;
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int rc = paths[i]->probe(b);

		if (rc < 0) {
			return NULL;
		}
		if (rc == 0) {
			return paths[i];
		}
	}
	build_error(b, "%s: an ELF without a Keel entry note or PVH entry note: not a kernel "
		    "keelctl can start", b->kernel.path);
	return NULL;
}

static int check_disks(struct build *b)
{
	for (size_t i = 0; i < b->cfg->ndisks; i++) {
		const struct domcfg_disk *d = &b->cfg->disks[i];
		struct stat st;

		/* The daemon runs elsewhere: domcfg made the target absolute, and one line. */
		if (d->target[0] != '/' || strlen(d->target) > CFGPATH_MAX ||
		    strpbrk(d->target, "\n\r")) {
			return build_error(b, "disk %s: target '%s' is not an absolute path of at most "
					   "%d bytes on one line", d->vdev, d->target, CFGPATH_MAX);
		}
		if (stat(d->target, &st) != 0) {
			return build_error(b, "disk %s: %s does not exist", d->vdev, d->target);
		}
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			return build_error(b, "disk %s: %s is not a file or block device", d->vdev,
					   d->target);
		}
		if (access(d->target, d->readonly ? R_OK : R_OK | W_OK) != 0) {
			return build_error(b, "disk %s: %s is not %s", d->vdev, d->target,
					   d->readonly ? "readable" : "readable and writable");
		}
	}
	return 0;
}

/* Everything that can fail before the domain exists. */
static int prepare(struct keelctl *c, struct build *b, const struct boot_path **path)
{
	uint64_t need;

	if (image_read(b->cfg->kernel, &b->kernel, b->err) != 0) {
		return -1;
	}
	*path = choose_path(b);
	if (!*path) {
		return -1;
	}
	if (b->cfg->type == DOMCFG_TYPE_HVM && !b->kinfo.is_bzimage) {
		return build_error(b, "type = \"hvm\" boots bzImage kernels; %s is an ELF kernel: "
				   "use type = \"pvh\"", b->kernel.path);
	}
	if (b->cfg->ramdisk && image_read(b->cfg->ramdisk, &b->ramdisk, b->err) != 0) {
		return -1;
	}
	if (check_disks(b) != 0) {
		return -1;
	}
	b->platform = b->cfg->platform_set ? b->cfg->platform : (*path)->platform;
	layout_ram(b->cfg->memory_mib * 256, &b->layout);
	need = b->layout.total_pages;
	if (need > b->host->free_pages) {
		return build_error(b, "not enough memory: '%s' needs %llu MiB, Keel has %llu MiB free",
				   b->cfg->name, (unsigned long long)b->cfg->memory_mib,
				   (unsigned long long)(b->host->free_pages / 256));
	}
	(void)c;
	return 0;
}

static long create(struct keelctl *c, struct build *b)
{
	struct keel_ctl_domain_create req = { 0 };
	long rc;

	memcpy(req.name, b->cfg->name, strlen(b->cfg->name));
	memcpy(req.uuid, b->cfg->uuid, sizeof(req.uuid));
	/* The firmware area Keel populates with ACPI is the domain's too. */
	req.max_pages = b->layout.total_pages +
			(b->platform & KEEL_DOMCREATE_F_ACPI ? KEEL_X86_GPA_FIRMWARE_SIZE / 4096 : 0);
	req.caps = b->cfg->caps;
	req.nr_vcpus = b->cfg->vcpus;
	req.flags = b->platform;
	req.weight = b->cfg->weight;
	rc = keelctl_domain_create(c, &req);
	if (rc == -KEEL_EEXIST) {
		return build_error(b, "a domain named '%s' already exists", b->cfg->name);
	}
	if (rc != 0) {
		return call_error(b, "creating the domain", rc);
	}
	b->domid = req.domid;
	return 0;
}

static int populate(struct keelctl *c, struct build *b)
{
	size_t n = 0;
	struct keel_memory_extent *ext = layout_extents(&b->layout, &n);
	long rc;

	if (!ext) {
		return build_error(b, "out of memory");
	}
	rc = keelctl_domain_populate(c, b->domid, ext, n);
	free(ext);
	if (rc == -KEEL_ENOMEM) {
		return build_error(b, "not enough memory: Keel could not give '%s' its %llu MiB",
				   b->cfg->name, (unsigned long long)b->cfg->memory_mib);
	}
	return rc ? call_error(b, "populating the guest's RAM", rc) : 0;
}

static int load(struct keelctl *c, struct build *b)
{
	struct keelctl_load *pages = calloc(b->mem.n ? b->mem.n : 1, sizeof(*pages));
	long rc;

	if (!pages) {
		return build_error(b, "out of memory");
	}
	for (size_t i = 0; i < b->mem.n; i++) {
		pages[i] = (struct keelctl_load){ .page = b->mem.pages[i], .dst_gfn = b->mem.gfns[i] };
	}
	rc = keelctl_domain_load(c, b->domid, pages, b->mem.n);
	free(pages);
	return rc ? call_error(b, "loading the kernel and boot data", rc) : 0;
}

static int device(struct keelctl *c, struct build *b, uint32_t backend, uint32_t cls,
		  uint32_t index, const char *label)
{
	struct keel_ctl_device dev = {
		.device_class = cls, .frontend_domid = b->domid, .backend_domid = backend,
		.index = index,
	};
	char what[64];
	long rc;

	memcpy(dev.label, label, strnlen(label, sizeof(dev.label) - 1));
	rc = keelctl_device_setup(c, &dev);
	snprintf(what, sizeof(what), "setting up device %s", label);
	return rc ? call_error(b, what, rc) : 0;
}

/*
 * What the backend daemon needs beyond the device table (docs/keelctl.md,
 * "Backends"): each disk's image and each vif's bridge, in the state
 * directory, written before the devices exist so the daemon finds them.
 */
static int backend_state(struct build *b)
{
	const char *name = b->cfg->name;
	char text[CFGPATH_MAX + 128], file[32], mac[32] = "";

	if (kb_state_begin(name, b->domid) != 0) {
		return build_error(b, "writing the backends' state under %s: %s", kb_state_root(),
				   strerror(errno));
	}
	for (size_t i = 0; i < b->cfg->ndisks; i++) {
		const struct domcfg_disk *d = &b->cfg->disks[i];

		snprintf(file, sizeof(file), "block-%zu", i);
		snprintf(text, sizeof(text), "domid=%u\nvdev=%s\ntarget=%s\naccess=%s\n", b->domid,
			 d->vdev, d->target, d->readonly ? "ro" : "rw");
		if (kb_state_put(name, file, text) != 0) {
			return build_error(b, "writing %s/%s/%s: %s", kb_state_root(), name, file,
					   strerror(errno));
		}
	}
	for (size_t i = 0; i < b->cfg->nvifs; i++) {
		const struct domcfg_vif *v = &b->cfg->vifs[i];

		if (v->mac_set) {
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0],
				 v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
		}
		snprintf(file, sizeof(file), "net-%zu", i);
		snprintf(text, sizeof(text), "domid=%u\nbridge=%s\nmac=%s\n", b->domid, v->bridge,
			 v->mac_set ? mac : "");
		if (kb_state_put(name, file, text) != 0) {
			return build_error(b, "writing %s/%s/%s: %s", kb_state_root(), name, file,
					   strerror(errno));
		}
	}
	return 0;
}

/* Step 5: the PV devices, served by this (the control) domain. */
static int devices(struct keelctl *c, struct build *b)
{
	uint32_t self = 0;
	long rc = 0;

	if (!b->cfg->console && !b->cfg->ndisks && !b->cfg->nvifs) {
		return 0;
	}
	rc = keelctl_self_domid(c, &self);
	if (rc != 0) {
		return call_error(b, "finding the control domain's own id", rc);
	}
	if (backend_state(b) != 0) {
		return -1;
	}
	if (b->cfg->console && device(c, b, self, KEEL_IO_CLASS_CONSOLE, 0, "console") != 0) {
		return -1;
	}
	for (size_t i = 0; i < b->cfg->ndisks; i++) {
		if (device(c, b, self, KEEL_IO_CLASS_BLOCK, (uint32_t)i, b->cfg->disks[i].vdev)) {
			return -1;
		}
	}
	for (size_t i = 0; i < b->cfg->nvifs; i++) {
		char label[16];

		snprintf(label, sizeof(label), "eth%u", (unsigned int)(i % DOMCFG_VIFS_MAX));
		if (device(c, b, self, KEEL_IO_CLASS_NET, (uint32_t)i, label) != 0) {
			return -1;
		}
	}
	return 0;
}

/* Steps 3 to 8, once the domain exists. */
static int build_steps(struct keelctl *c, struct build *b, const struct boot_path *path,
		       const struct build_options *opt)
{
	long rc;

	if (populate(c, b) != 0 || path->compose(b) != 0 || load(c, b) != 0 ||
	    devices(c, b) != 0) {
		return -1;
	}
	if (b->cfg->weight || b->cfg->cap) {
		rc = keelctl_domain_set_sched(c, b->domid,
					      b->cfg->weight ? b->cfg->weight : KEEL_CTL_SCHED_UNCHANGED,
					      b->cfg->cap);
		if (rc != 0) {
			return call_error(b, "setting the scheduler weight and cap", rc);
		}
	}
	rc = keelctl_vcpu_set_context(c, b->domid, 0, &b->ctx);
	if (rc != 0) {
		return call_error(b, "setting vCPU 0's entry state", rc);
	}
	if (!opt->paused) {
		rc = keelctl_domain_unpause(c, b->domid);
		if (rc != 0) {
			return call_error(b, "unpausing", rc);
		}
	}
	return 0;
}

int keelctl_build_domain(struct keelctl *c, const struct domcfg *cfg,
			 const struct build_options *opt, uint32_t *domid, char *err,
			 size_t errlen)
{
	struct keel_ctl_host_info host;
	struct build b = { .cfg = cfg, .host = &host };
	const struct boot_path *path = NULL;
	long rc = keelctl_host_info(c, &host);
	int result = -1;

	if (rc != 0) {
		call_error(&b, "reading the host information", rc);
	} else if (host.abi_major != KEEL_ABI_MAJOR) {
		build_error(&b, "this Keel speaks ABI %u.%u, keelctl was built for %u.x",
			    host.abi_major, host.abi_minor, KEEL_ABI_MAJOR);
	} else if (prepare(c, &b, &path) == 0 && create(c, &b) == 0) {
		result = build_steps(c, &b, path, opt);
		if (result != 0) {
			/* Nothing half-created: the domain, its devices and their state go. */
			kb_state_remove(cfg->name);
			rc = keelctl_domain_destroy(c, b.domid);
			if (rc != 0) {
				size_t n = strlen(b.err);

				snprintf(b.err + n, sizeof(b.err) - n, "; destroying domain %u failed: %s",
					 b.domid, keelctl_strerror(rc));
			}
		}
	}
	if (result == 0) {
		*domid = b.domid;
	} else {
		snprintf(err, errlen, "%s", b.err);
	}
	image_free(&b.kernel);
	image_free(&b.ramdisk);
	kernel_info_free(&b.kinfo);
	guestmem_free(&b.mem);
	return result;
}
