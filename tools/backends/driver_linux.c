/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/driver_linux.c - struct kb_driver on Linux's keel.ko:
 * ports through /dev/keel/evtchn (read() returns fired ports, write() re-arms
 * them), grant maps and device control pages through /dev/keel/privcmd
 * ioctls and mmap(). The only Linux-specific file of the driver layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <keel/errno.h>
#include <keelctl/keel_privcmd.h>
#include "driver.h"

#define PAGE_SIZE	4096u

struct linux_driver {
	struct kb_driver d;
	int privcmd;
	int evtchn;
};

static struct linux_driver *ld(struct kb_driver *d)
{
	return (struct linux_driver *)d;
}

/* The driver returns Keel's errors one for one as errno (docs/keelctl.md); back again. */
static int keel_err(int e)
{
	switch (e) {
	case EPERM: return -KEEL_EPERM;
	case ENOENT: return -KEEL_ENOENT;
	case ESRCH: return -KEEL_ESRCH;
	case EINVAL: return -KEEL_EINVAL;
	case EFAULT: return -KEEL_EFAULT;
	case ENOMEM: return -KEEL_ENOMEM;
	case EBUSY: return -KEEL_EBUSY;
	case EEXIST: return -KEEL_EEXIST;
	case ENOSPC: return -KEEL_ENOSPC;
	case ENOSYS: case ENOTTY: return -KEEL_ENOSYS;
	case EAGAIN: return -KEEL_EAGAIN;
	case EACCES: return -KEEL_EACCES;
	case E2BIG: return -KEEL_E2BIG;
	case EOPNOTSUPP: return -KEEL_EOPNOTSUPP;
	default: return -KEEL_EINVAL;
	}
}

static int ev_ioctl(struct kb_driver *d, unsigned long req, void *arg)
{
	return ioctl(ld(d)->evtchn, req, arg) == 0 ? 0 : keel_err(errno);
}

static int bind_interdomain(struct kb_driver *d, uint32_t rdom, uint32_t rport, uint32_t *port)
{
	struct keel_evtchn_bind_interdomain b = { .remote_domid = rdom, .remote_port = rport };
	int rc = ev_ioctl(d, KEEL_EVTCHN_IOCTL_BIND_INTERDOMAIN, &b);

	*port = b.port;
	return rc;
}

static int bind_virq(struct kb_driver *d, uint32_t virq, uint32_t *port)
{
	struct keel_evtchn_bind_virq b = { .virq = virq };
	int rc = ev_ioctl(d, KEEL_EVTCHN_IOCTL_BIND_VIRQ, &b);

	*port = b.port;
	return rc;
}

static int alloc_unbound(struct kb_driver *d, uint32_t rdom, uint32_t *port)
{
	struct keel_evtchn_alloc_unbound b = { .remote_domid = rdom };
	int rc = ev_ioctl(d, KEEL_EVTCHN_IOCTL_ALLOC_UNBOUND, &b);

	*port = b.port;
	return rc;
}

static int notify(struct kb_driver *d, uint32_t port)
{
	return ev_ioctl(d, KEEL_EVTCHN_IOCTL_NOTIFY, &port);
}

static int close_port(struct kb_driver *d, uint32_t port)
{
	return ev_ioctl(d, KEEL_EVTCHN_IOCTL_CLOSE, &port);
}

static int fired(struct kb_driver *d, uint32_t *ports, unsigned int max)
{
	ssize_t n = read(ld(d)->evtchn, ports, max * sizeof(*ports));

	if (n < 0) {
		return errno == EAGAIN || errno == EINTR ? 0 : keel_err(errno);
	}
	/* Re-arm at once: the caller records each event before it handles any. */
	if (n > 0 && write(ld(d)->evtchn, ports, (size_t)n) != n) {
		return keel_err(errno);
	}
	return (int)(n / (ssize_t)sizeof(*ports));
}

static int wait_fd(struct kb_driver *d)
{
	return ld(d)->evtchn;
}

/* mmap() of @pages at the privcmd offset @offset; NULL on failure. */
static void *map_offset(struct kb_driver *d, uint64_t offset, unsigned int pages, bool readonly,
			int *err)
{
	int prot = PROT_READ | (readonly ? 0 : PROT_WRITE);
	void *va = mmap(NULL, (size_t)pages * PAGE_SIZE, prot, MAP_SHARED, ld(d)->privcmd,
			(off_t)offset);

	if (va == MAP_FAILED) {
		*err = keel_err(errno);
		return NULL;
	}
	return va;
}

static void *map_grants(struct kb_driver *d, uint32_t domid, const uint32_t *refs, unsigned int n,
			bool readonly, int *err)
{
	struct keel_privcmd_map_grants req = {
		.domid = domid, .count = n, .refs = (uint64_t)(uintptr_t)refs,
		.flags = readonly ? KEEL_PRIVCMD_MAP_READONLY : 0,
	};

	if (ioctl(ld(d)->privcmd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &req) != 0) {
		*err = keel_err(errno);
		return NULL;
	}
	/* A range never mmap()ed stays mapped in the driver until close: rare, and bounded. */
	return map_offset(d, req.offset, n, readonly, err);
}

static void unmap_grants(struct kb_driver *d, void *va, unsigned int n)
{
	(void)d;
	munmap(va, (size_t)n * PAGE_SIZE);
}

static void *map_device_page(struct kb_driver *d, uint32_t device_id, int *err)
{
	struct keel_privcmd_map_device_page req = { .device_id = device_id };

	if (ioctl(ld(d)->privcmd, KEEL_PRIVCMD_IOCTL_MAP_DEVICE_PAGE, &req) != 0) {
		*err = keel_err(errno);
		return NULL;
	}
	return map_offset(d, req.offset, 1, false, err);
}

static void unmap_device_page(struct kb_driver *d, void *va)
{
	unmap_grants(d, va, 1);
}

static void driver_close(struct kb_driver *d)
{
	close(ld(d)->privcmd);
	close(ld(d)->evtchn);
	free(d);
}

static int open_node(const char *path, int flags, char *why, unsigned int why_len)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, why_len, "%s: %s", path, strerror(errno));
	}
	return fd;
}

struct kb_driver *kb_driver_open_linux(const char *privcmd, const char *evtchn, char *why,
				       unsigned int why_len)
{
	struct linux_driver *l = calloc(1, sizeof(*l));
	uint32_t version = 0;

	if (!l) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	l->privcmd = open_node(privcmd ? privcmd : "/dev/keel/privcmd", O_RDWR, why, why_len);
	l->evtchn = l->privcmd < 0 ? -1 :
		    open_node(evtchn ? evtchn : "/dev/keel/evtchn", O_RDWR | O_NONBLOCK, why, why_len);
	if (l->evtchn >= 0 && (ioctl(l->privcmd, KEEL_PRIVCMD_IOCTL_VERSION, &version) != 0 ||
			       version >> 16 != KEEL_PRIVCMD_VERSION_MAJOR ||
			       (version & 0xffff) < 1)) {
		/* 1.1 brought the device pages a backend needs. */
		snprintf(why, why_len, "the privileged driver speaks API %u.%u, backends need %u.1",
			 version >> 16, version & 0xffff, KEEL_PRIVCMD_VERSION_MAJOR);
		close(l->evtchn);
		l->evtchn = -1;
	}
	if (l->evtchn < 0) {
		if (l->privcmd >= 0) {
			close(l->privcmd);
		}
		free(l);
		return NULL;
	}
	l->d = (struct kb_driver){
		.name = "linux", .bind_interdomain = bind_interdomain, .bind_virq = bind_virq,
		.alloc_unbound = alloc_unbound, .notify = notify, .close_port = close_port,
		.fired = fired, .wait_fd = wait_fd, .map_grants = map_grants,
		.unmap_grants = unmap_grants, .map_device_page = map_device_page,
		.unmap_device_page = unmap_device_page, .close = driver_close,
	};
	return &l->d;
}
