/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/backends.h - the backend daemon's devices: one struct kb_dev
 * per device of Keel's device table this domain serves (devices.c finds and
 * drops them), each served by its class (console.c, block.c, net.c) on
 * pvdrivers' backend of that class.
 */
#ifndef KEEL_BACKENDS_BACKENDS_H
#define KEEL_BACKENDS_BACKENDS_H

#include <stdbool.h>
#include <stdint.h>
#include <keel_pv/kpv.h>

struct keelctl;

enum kb_dev_state {
	KB_DEV_WAITING,		/* not served yet: its configuration is not written yet */
	KB_DEV_OPEN,		/* served */
	KB_DEV_CLOSING,		/* closed, pvdrivers' release not seen yet */
};

struct kb_dev {
	struct kpv_device_info info;
	char domain[32];		/* the frontend domain's name (the state directory's) */
	enum kb_dev_state state;
	bool in_table;			/* seen in the last read of the table */
	bool complained;		/* a WAITING device was logged once */
	void *impl;			/* the class's */
	struct kb_dev *next;
};

/*
 * A class opens @dev (0, or a negative KEEL_E*; -KEEL_ENOENT means "not
 * configured yet, try again later") and closes it (@removed: the device left
 * the table); once pvdrivers has released it the class calls
 * kb_dev_released().
 */
int kb_console_open(struct kpv *k, struct kb_dev *dev);
void kb_console_close(struct kb_dev *dev, bool removed);
int kb_block_open(struct kpv *k, struct kb_dev *dev);
void kb_block_close(struct kb_dev *dev, bool removed);
int kb_net_open(struct kpv *k, struct kb_dev *dev);
void kb_net_close(struct kb_dev *dev, bool removed);
void kb_dev_released(struct kb_dev *dev);

/* Copy every console's output to our stdout, a line at a time, as "[d<domid> <label>] ...". */
extern bool kb_echo_consoles;

/* devices.c: serve what the table holds now, and from then on whenever it changes. */
int kb_devices_start(struct kpv *k, struct keelctl *c);
/* Read the table again if it changed (or a device waits for its configuration). */
void kb_devices_poll(void);
/* Leave every device in order (frontends then wait for the next daemon); bounded. */
void kb_devices_stop(void);
/* Devices served right now. */
unsigned int kb_devices_count(void);

#endif /* KEEL_BACKENDS_BACKENDS_H */
