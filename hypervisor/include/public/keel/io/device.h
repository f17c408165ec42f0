/* SPDX-License-Identifier: MIT */
/* keel/io/device.h: the per-device control page: features, commit step, state machine, rings. */
#ifndef KEEL_PUBLIC_IO_DEVICE_H
#define KEEL_PUBLIC_IO_DEVICE_H

#include "../abi.h"

/*
 * KEEL_HC_CTL_DEVICE_SETUP creates one Keel-owned page per device. Both
 * sides map it with KEEL_HC_MEMORY_MAP_SHARED(KEEL_MAPSPACE_DEVICE_PAGE,
 * device_id, gfn). It has three areas, each written by one party only:
 *   header   Keel (at setup; read-only for both sides)
 *   be_*     the backend
 *   fe_*     the frontend
 * A side reads the other's area once into private memory and validates it
 * there. Changes are signalled on the frontend's control port
 * (frontend_port, which the backend binds). docs/abi/devices/handshake.md
 * is the protocol.
 */
#define KEEL_IO_CLASS_CONSOLE		1
#define KEEL_IO_CLASS_BLOCK		2
#define KEEL_IO_CLASS_NET		3

#define KEEL_IO_DEVICE_MAGIC		0x5645444bu	/* "KDEV" */
#define KEEL_IO_DEVICE_VERSION		1
#define KEEL_IO_MAX_RINGS		32
#define KEEL_IO_CONFIG_SIZE		256

/* be_state / fe_state */
#define KEEL_IO_STATE_CLOSED		0	/* not taking part (initial) */
#define KEEL_IO_STATE_INIT		1	/* setting up its area */
#define KEEL_IO_STATE_READY		2	/* backend: offer published; frontend: commit published */
#define KEEL_IO_STATE_CONNECTED		3	/* I/O may flow */
#define KEEL_IO_STATE_CLOSING		4	/* tearing down */
#define KEEL_IO_STATE_ERROR		5	/* stopped on an error; see *_error */

/* be_error / fe_error: why a side is in KEEL_IO_STATE_ERROR. */
#define KEEL_IO_ERR_NONE		0
#define KEEL_IO_ERR_PROTOCOL		1	/* the peer broke the protocol (bad index, slot, state) */
#define KEEL_IO_ERR_FEATURES		2	/* accepted features not offered / required missing */
#define KEEL_IO_ERR_RINGS		3	/* bad ring count, order or reference */
#define KEEL_IO_ERR_GRANT		4	/* a grant could not be mapped or copied */
#define KEEL_IO_ERR_CONFIG		5	/* the peer's config is invalid */
#define KEEL_IO_ERR_RESOURCE		6	/* out of memory or another local resource */
#define KEEL_IO_ERR_INTERNAL		7	/* local failure, not the peer's fault */

/*
 * Feature bits 0..55 belong to the device class (keel/io/<class>.h); bits
 * 56..63 are reserved for class-independent transport features (none in 1.0).
 */
#define KEEL_IO_F_CLASS_BITS		56

struct keel_io_ring_ref {
	uint32_t order;			/* fe: data pages = 1 << order */
	uint32_t port;			/* fe: event port in the frontend, UNBOUND for the backend */
	uint32_t header_gref;		/* fe: grant of the header page */
	uint32_t data_gref[8];		/* fe: grants of the data pages; unused entries 0 */
	uint32_t pad0;			/* MBZ */
};

struct keel_io_device_page {
	/* Header: written by Keel at setup, read-only for both sides. */
	uint32_t magic;			/* Keel: KEEL_IO_DEVICE_MAGIC */
	uint32_t version;		/* Keel: KEEL_IO_DEVICE_VERSION */
	uint32_t device_class;		/* Keel: KEEL_IO_CLASS_* */
	uint32_t device_id;		/* Keel */
	uint32_t frontend_domid;	/* Keel */
	uint32_t backend_domid;		/* Keel */
	uint32_t frontend_port;		/* Keel: control port in the frontend */
	uint32_t index;			/* Keel: instance within the class for this frontend */
	uint8_t keel_reserved[32];	/* Keel: zero */

	/* Backend area. */
	uint32_t be_state;		/* be: KEEL_IO_STATE_* */
	uint32_t be_error;		/* be: KEEL_IO_ERR_* when be_state is ERROR */
	uint32_t be_generation;		/* be: +1 each time a backend instance starts */
	uint32_t be_max_rings;		/* be: rings it accepts, 1 .. KEEL_IO_MAX_RINGS */
	uint64_t be_features;		/* be: features offered */
	uint32_t be_max_ring_order;	/* be: 0 .. KEEL_IO_RING_MAX_ORDER */
	uint32_t be_pad0;		/* MBZ */
	uint8_t be_config[256];		/* be: class config (keel/io/<class>.h), rest zero */
	uint8_t be_reserved[672];	/* MBZ */

	/* Frontend area. */
	uint32_t fe_state;		/* fe: KEEL_IO_STATE_* */
	uint32_t fe_error;		/* fe: KEEL_IO_ERR_* when fe_state is ERROR */
	uint32_t fe_generation;		/* fe: +1 on each commit */
	uint32_t fe_nr_rings;		/* fe: rings in use, 1 .. be_max_rings */
	uint64_t fe_features;		/* fe: accepted, a subset of be_features */
	uint8_t fe_config[256];		/* fe: class config, zero where the class has none */
	struct keel_io_ring_ref fe_rings[32];	/* fe: first fe_nr_rings are used */
	uint8_t fe_reserved[1256];	/* MBZ */
};

#endif /* KEEL_PUBLIC_IO_DEVICE_H */
