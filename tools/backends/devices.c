/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/devices.c - which devices the daemon serves: every backend
 * node of this domain's device table, read at start and again whenever
 * KEEL_VIRQ_DEVICE_TABLE fires. A new node gets its class's backend (once
 * keelctl has written its configuration); a node that left the table (the
 * frontend domain died or was destroyed, DEVICE_REMOVE) is closed as removed.
 * A restarted daemon finds the same nodes and offers again: pvdrivers'
 * handshake brings the frontends back.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/io/device.h>
#include <keelctl/keelctl.h>
#include "backends.h"
#include "loop.h"

#define MAX_DEVICES	256
#define RETRY_NS	1000000000ull	/* devices waiting for their configuration: every second */

static struct {
	struct kpv *k;
	struct keelctl *c;
	struct kb_dev *devs;
	uint32_t virq_port;
	bool changed;			/* the VIRQ fired */
	uint64_t next_retry;
	struct kpv_device_info table[MAX_DEVICES];
} m;

/* [any] From the upcall: the table has a new generation. */
static void table_changed(void *ctx, uint32_t port)
{
	(void)ctx;
	(void)port;
	m.changed = true;
}

static struct kb_dev *find(uint32_t device_id)
{
	for (struct kb_dev *d = m.devs; d; d = d->next) {
		if (d->info.device_id == device_id) {
			return d;
		}
	}
	return NULL;
}

static const char *class_name(uint32_t cls)
{
	return cls == KEEL_IO_CLASS_CONSOLE ? "console" : cls == KEEL_IO_CLASS_BLOCK ? "block" :
	       cls == KEEL_IO_CLASS_NET ? "net" : "?";
}

static void try_open(struct kb_dev *d)
{
	struct keel_ctl_domain_info di;
	long rc = keelctl_domain_info(m.c, d->info.peer_domid, &di);

	if (rc == 0) {
		memcpy(d->domain, di.name, sizeof(d->domain) - 1);
		d->domain[sizeof(d->domain) - 1] = '\0';
		rc = d->info.device_class == KEEL_IO_CLASS_CONSOLE ? kb_console_open(m.k, d) :
		     d->info.device_class == KEEL_IO_CLASS_BLOCK ? kb_block_open(m.k, d) :
		     d->info.device_class == KEEL_IO_CLASS_NET ? kb_net_open(m.k, d) :
		     -KEEL_EOPNOTSUPP;
	}
	if (rc == 0) {
		d->state = KB_DEV_OPEN;
		kb_info("serving %s %u (%s) of d%u %s", class_name(d->info.device_class),
			d->info.device_id, d->info.label, d->info.peer_domid, d->domain);
	} else if (!d->complained) {
		d->complained = true;
		kb_warn("%s %u (%s) of d%u: not served yet: %s", class_name(d->info.device_class),
			d->info.device_id, d->info.label, d->info.peer_domid,
			rc == -KEEL_ENOENT ? "no configuration in the state directory"
					   : keelctl_strerror(rc));
	}
}

static void dev_close(struct kb_dev *d, bool removed)
{
	if (d->state != KB_DEV_OPEN) {
		if (d->state == KB_DEV_WAITING) {
			kb_dev_released(d);
		}
		return;
	}
	d->state = KB_DEV_CLOSING;
	kb_info("%s %s %u (%s) of d%u", removed ? "dropping" : "closing",
		class_name(d->info.device_class), d->info.device_id, d->info.label,
		d->info.peer_domid);
	if (d->info.device_class == KEEL_IO_CLASS_CONSOLE) {
		kb_console_close(d, removed);
	} else if (d->info.device_class == KEEL_IO_CLASS_BLOCK) {
		kb_block_close(d, removed);
	} else {
		kb_net_close(d, removed);
	}
}

void kb_dev_released(struct kb_dev *dev)
{
	struct kb_dev **link = &m.devs;

	while (*link && *link != dev) {
		link = &(*link)->next;
	}
	if (*link) {
		*link = dev->next;
	}
	free(dev);
}

static void scan(void)
{
	int n = kpv_devices(m.k, m.table, MAX_DEVICES);
	struct kb_dev *d, *next;

	if (n < 0) {
		kb_err("reading the device table: %s", keelctl_strerror(n));
		return;
	}
	n = n > MAX_DEVICES ? MAX_DEVICES : n;
	for (d = m.devs; d; d = d->next) {
		d->in_table = false;
	}
	for (int i = 0; i < n; i++) {
		if (!m.table[i].backend) {
			continue;
		}
		d = find(m.table[i].device_id);
		if (!d) {
			d = calloc(1, sizeof(*d));
			if (!d) {
				continue;
			}
			d->info = m.table[i];
			d->next = m.devs;
			m.devs = d;
		}
		d->in_table = true;
	}
	for (d = m.devs; d; d = next) {
		next = d->next;
		if (!d->in_table) {
			dev_close(d, true);
		} else if (d->state == KB_DEV_WAITING) {
			try_open(d);
		}
	}
	m.next_retry = kb_now_ns() + RETRY_NS;
}

int kb_devices_start(struct kpv *k, struct keelctl *c)
{
	int rc;

	m.k = k;
	m.c = c;
	rc = kpv_evtchn_bind_virq(k, KEEL_VIRQ_DEVICE_TABLE, table_changed, NULL, &m.virq_port);
	if (rc != 0) {
		/* Someone else in this domain has it: fall back to reading every second. */
		kb_warn("cannot bind KEEL_VIRQ_DEVICE_TABLE (%s): polling the table",
			keelctl_strerror(rc));
		m.virq_port = 0;
	}
	scan();
	return 0;
}

void kb_devices_poll(void)
{
	bool waiting = !m.virq_port;

	for (struct kb_dev *d = m.devs; d && !waiting; d = d->next) {
		waiting = d->state == KB_DEV_WAITING;
	}
	if (m.changed || (waiting && kb_now_ns() >= m.next_retry)) {
		m.changed = false;
		scan();
	}
}

void kb_devices_stop(void)
{
	uint64_t give_up = kb_now_ns() + 3000000000ull;
	struct kb_dev *d, *next;

	for (d = m.devs; d; d = next) {
		next = d->next;
		dev_close(d, false);
	}
	while (m.devs && kb_now_ns() < give_up) {
		kb_loop_once(50);
	}
	if (m.devs) {
		kb_warn("%u device(s) not released at exit", kb_devices_count());
	}
	if (m.virq_port) {
		kpv_evtchn_close(m.k, m.virq_port);
	}
}

unsigned int kb_devices_count(void)
{
	unsigned int n = 0;

	for (struct kb_dev *d = m.devs; d; d = d->next) {
		n += d->state == KB_DEV_OPEN;
	}
	return n;
}
