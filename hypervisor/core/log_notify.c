/* SPDX-License-Identifier: MIT */
/*
 * core/log_notify.c - raises KEEL_VIRQ_LOG when the hypervisor log grew.
 * A log line can be written with any lock held, so it only moves the log's
 * position; CPU 0's scheduler loop compares that with what it last told
 * and tells the readers from a context that may take domain references.
 */
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/log.h>
#include <keel/log_notify.h>
#include <public/keel/control.h>
#include <public/keel/event_channel.h>

static uint64_t told;		/* log_written() at the last notification */
static uint64_t told_at;	/* and its time; 0: never */

void log_notify_poll(uint64_t now)
{
	uint32_t ids[DOMAIN_SLOTS];
	uint64_t written;
	unsigned int n;

	/* Every scheduler pass of CPU 0 comes here: the clock first, the log's lock after. */
	if (told_at && now - told_at < LOG_NOTIFY_NS) {
		return;
	}
	written = log_written();
	if (written == told) {
		return;
	}
	told = written;
	told_at = now;
	n = domain_list(ids, DOMAIN_SLOTS);
	for (unsigned int i = 0; i < n; i++) {
		struct domain *d = domain_get(ids[i]);

		if (!d) {
			continue;	/* destroyed since the list was taken */
		}
		if (__atomic_load_n(&d->caps, __ATOMIC_ACQUIRE) & KEEL_CAP_LOG) {
			/* -KEEL_ENOENT: not bound, so not wanted. */
			(void)evtchn_raise_virq(d->evtchn, 0, KEEL_VIRQ_LOG);
		}
		domain_put(d);
	}
}
