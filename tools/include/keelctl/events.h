/* SPDX-License-Identifier: MIT */
/*
 * keelctl/events.h - one virtual IRQ of the control domain (in practice
 * KEEL_VIRQ_DOMAIN_STATE) delivered to a process, whatever the OS's driver
 * interface: what keelctl's domain monitor waits on (docs/keelctl.md,
 * "The monitor"). Sources: keelctl_events_open_linux() (/dev/keel/evtchn)
 * and, in the tests, the real core's pending bit.
 */
#ifndef KEELCTL_EVENTS_H
#define KEELCTL_EVENTS_H

#include <stdint.h>

struct keelctl_events {
	const char *name;
	/*
	 * Wait up to @ms milliseconds for the VIRQ. 1: it fired (and is armed
	 * again for the next one); 0: it did not (the time passed, or a signal
	 * came); negative: the source failed (-errno).
	 */
	int (*wait)(struct keelctl_events *ev, int ms);
	void (*close)(struct keelctl_events *ev);
};

/*
 * @virq on Linux's event channel device @path (NULL: /dev/keel/evtchn).
 * NULL on failure, with the reason in @why (at least 160 bytes) and the
 * errno in *@err: EEXIST when another process of this domain already
 * holds the VIRQ (Keel binds each VIRQ once per domain), EPERM without
 * the capability it needs.
 */
struct keelctl_events *keelctl_events_open_linux(const char *path, uint32_t virq, char *why,
						 int *err);

#endif /* KEELCTL_EVENTS_H */
