/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/driver.h - what the backend daemon needs from the control
 * domain's privileged driver besides control calls (docs/keelctl.md,
 * "Privileged driver user-space API" 1.1): its own event-channel ports,
 * other domains' grants and device control pages mapped into the process.
 *
 * One implementation per OS (driver_linux.c: /dev/keel/evtchn and
 * /dev/keel/privcmd), and one in the tests on Keel's core in-process.
 * Control calls (and DEVICE_TABLE_READ, EVTCHN_STATUS) go through
 * libkeelctl's transport instead. Errors are negative KEEL_E* numbers.
 */
#ifndef KEEL_BACKENDS_DRIVER_H
#define KEEL_BACKENDS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

struct kb_driver {
	const char *name;
	/* Ports owned by this process; they close with it. */
	int (*bind_interdomain)(struct kb_driver *d, uint32_t remote_domid, uint32_t remote_port,
				uint32_t *port);
	int (*bind_virq)(struct kb_driver *d, uint32_t virq, uint32_t *port);
	int (*alloc_unbound)(struct kb_driver *d, uint32_t remote_domid, uint32_t *port);
	int (*notify)(struct kb_driver *d, uint32_t port);
	int (*close_port)(struct kb_driver *d, uint32_t port);
	/*
	 * Ports that fired since the last call, without waiting: up to @max
	 * into @ports, each re-armed (a later event is returned by a later
	 * call). Returns the count, or an error.
	 */
	int (*fired)(struct kb_driver *d, uint32_t *ports, unsigned int max);
	/* A descriptor poll() reports readable when a port fired; -1 if there is none. */
	int (*wait_fd)(struct kb_driver *d);

	/*
	 * @n (1..256) grants of @domid mapped at one address, read-only or
	 * writable; all or none. NULL with *@err on failure.
	 */
	void *(*map_grants)(struct kb_driver *d, uint32_t domid, const uint32_t *refs,
			    unsigned int n, bool readonly, int *err);
	void (*unmap_grants)(struct kb_driver *d, void *va, unsigned int n);
	/* The control page of device @device_id (our domain is one of its ends). */
	void *(*map_device_page)(struct kb_driver *d, uint32_t device_id, int *err);
	void (*unmap_device_page)(struct kb_driver *d, void *va);

	void (*close)(struct kb_driver *d);
};

/* The Linux driver (NULL paths: /dev/keel/privcmd, /dev/keel/evtchn); NULL with a message in @why. */
struct kb_driver *kb_driver_open_linux(const char *privcmd, const char *evtchn, char *why,
				       unsigned int why_len);

#endif /* KEEL_BACKENDS_DRIVER_H */
