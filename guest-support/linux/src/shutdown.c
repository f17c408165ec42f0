// SPDX-License-Identifier: MIT
/*
 * shutdown.c - the controller's requests to power off or reboot this domain
 * (KEEL_HC_CTL_DOMAIN_SHUTDOWN without FORCE: keel_shared_info's
 * shutdown_request and KEEL_VIRQ_SHUTDOWN_REQUEST). They become the
 * kernel's orderly_poweroff() / orderly_reboot(), which run userspace's
 * /sbin/poweroff or /sbin/reboot as an ACPI power button would, so that
 * `keelctl shutdown` and `keelctl reboot` end a Linux guest cleanly: init
 * stops services and syncs the disks before the guest tells Keel.
 */
#define pr_fmt(fmt) "keel: " fmt
#include <linux/reboot.h>
#include <linux/workqueue.h>
#include <keel/event_channel.h>
#include <keel/sched.h>
#include "keel_linux.h"

static struct {
	struct kpv *kpv;
	uint32_t port;
	uint32_t done;		/* the request last acted on: each is acted on once */
	struct work_struct work;
} sd;

/* Process context: orderly_*() start a usermode helper. */
static void shutdown_work(struct work_struct *work)
{
	uint32_t req = kpv_shutdown_request(sd.kpv);

	if (req == sd.done)
		return;
	sd.done = req;
	switch (req) {
	case KEEL_SHUTDOWN_NONE:
		break;
	case KEEL_SHUTDOWN_POWEROFF:
		pr_info("Keel asks this domain to power off: running the poweroff command\n");
		orderly_poweroff(false);
		break;
	case KEEL_SHUTDOWN_REBOOT:
		pr_info("Keel asks this domain to reboot: running the reboot command\n");
		orderly_reboot();
		break;
	default:
		/* SUSPEND needs save/restore support this package does not have. */
		pr_warn("Keel asks for shutdown reason %u, which this package does not carry out\n",
			req);
		break;
	}
}

/* [any] context: from the upcall. */
static void shutdown_event(void *ctx, uint32_t port)
{
	schedule_work(&sd.work);
}

int keel_shutdown_start(struct kpv *k)
{
	int rc;

	INIT_WORK(&sd.work, shutdown_work);
	sd.kpv = k;
	sd.done = KEEL_SHUTDOWN_NONE;
	rc = kpv_evtchn_bind_virq(k, KEEL_VIRQ_SHUTDOWN_REQUEST, shutdown_event, NULL, &sd.port);
	if (rc) {
		sd.kpv = NULL;
		return rc;
	}
	/* A request made before we bound the VIRQ raised no event we saw. */
	schedule_work(&sd.work);
	return 0;
}

void keel_shutdown_stop(void)
{
	if (!sd.kpv)
		return;
	kpv_evtchn_close(sd.kpv, sd.port);
	cancel_work_sync(&sd.work);
	sd.kpv = NULL;
}
