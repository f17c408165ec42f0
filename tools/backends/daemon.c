/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/daemon.c - start and stop of the backend daemon: our
 * domain id, the emulated hypercalls (hcall.c), pvdrivers' start, the
 * device manager (devices.c), and the loop rounds in between.
 */
#include <poll.h>
#include <keel/abi.h>
#include <keel/errno.h>
#include <keelctl/keelctl.h>
#include <keel_pv/kpv.h>
#include "backends.h"
#include "daemon.h"
#include "driver.h"
#include "hcall.h"
#include "loop.h"

static struct kpv *kpv;
static struct kb_driver *driver;

/* The driver's descriptor only wakes the poll: the hook takes the ports. */
static void ports_ready(void *ctx, int fd, short revents)
{
	(void)ctx;
	(void)fd;
	(void)revents;
}

int kb_daemon_start(struct keelctl *c, struct kb_driver *d)
{
	static const struct kpv_os os = {
		/* Runs on ABI 1.0; pvdrivers uses 1.1's UNMAP_SHARED where Keel has it. */
		.os_id = KEEL_OS_UNKNOWN, .abi_major = KEEL_ABI_MAJOR, .abi_minor = 0,
		.os_name = "keel-backendd", .pkg_name = "keelctl",
	};
	uint32_t domid = 0;
	long rc = keelctl_self_domid(c, &domid);

	if (rc != 0) {
		kb_err("who are we: %s", keelctl_strerror(rc));
		return rc < 0 && rc > -KEEL_ERRNO_MAX ? (int)rc : -KEEL_EINVAL;
	}
	driver = d;
	kb_hcall_init(c, d, domid);
	if (d->wait_fd(d) >= 0) {
		kb_loop_watch(d->wait_fd(d), POLLIN, ports_ready, NULL);
	}
	kb_loop_set_hook(kb_hcall_deliver, NULL);
	rc = kpv_start(&os, &kpv);
	if (rc != 0) {
		kb_err("starting pvdrivers: %s", keelctl_strerror(rc));
		return (int)rc;
	}
	kb_info("domain %u: serving backends", domid);
	return kb_devices_start(kpv, c);
}

void kb_daemon_round(int wait_ms)
{
	kb_loop_once(wait_ms);
	kb_devices_poll();
}

void kb_daemon_stop(void)
{
	kb_devices_stop();
	kpv_stop(kpv);
	kpv = NULL;
	if (driver && driver->wait_fd(driver) >= 0) {
		kb_loop_unwatch(driver->wait_fd(driver));
	}
	kb_loop_set_hook(NULL, NULL);
}
