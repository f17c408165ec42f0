/* SPDX-License-Identifier: MIT */
/* keel/io/ring.h: the one generic shared ring: a header page, power-of-two slots, prod/cons/event indexes. */
#ifndef KEEL_PUBLIC_IO_RING_H
#define KEEL_PUBLIC_IO_RING_H

#include "../abi.h"

/*
 * A ring is one header page plus 2^order data pages (order 0 ..
 * KEEL_IO_RING_MAX_ORDER), all granted by the frontend to the backend
 * (struct keel_io_ring_ref in keel/io/device.h). The data pages, taken as
 * one byte array, hold nr_slots = (KEEL_PAGE_SIZE << order) / slot_size
 * slots; slot_size is a power of two fixed by the device protocol, so
 * nr_slots is a power of two. Slot i lives at byte (i % nr_slots) *
 * slot_size. A slot holds a request (frontend to backend) or, later, a
 * response (backend to frontend); the protocol defines both.
 *
 * Indexes are free-running uint32_t counters (wrapping), masked with
 * nr_slots - 1 only to find a slot. Each index has one writer:
 *   req_prod   frontend: requests 0 .. req_prod-1 are published
 *   rsp_event  frontend: "notify me when rsp_prod passes rsp_event - 1"
 *   rsp_prod   backend:  responses 0 .. rsp_prod-1 are published
 *   req_event  backend:  "notify me when req_prod passes req_event - 1"
 * Each side also keeps a private consumer index. docs/abi/devices/ring.md
 * gives the ordering rules, the notification test and what each side
 * must check. Nothing protocol-specific ever goes in this header.
 */
#define KEEL_IO_RING_MAX_ORDER		3	/* up to 8 data pages */
#define KEEL_IO_RING_MAX_DATA_PAGES	8
#define KEEL_IO_RING_HEADER_SIZE	4096	/* the header page; bytes past the struct are zero */

struct keel_io_ring_header {
	uint32_t req_prod;		/* frontend */
	uint32_t rsp_event;		/* frontend */
	uint8_t fe_pad[56];		/* MBZ: rest of the frontend's cache line */
	uint32_t rsp_prod;		/* backend */
	uint32_t req_event;		/* backend */
	uint8_t be_pad[56];		/* MBZ: rest of the backend's cache line */
};

#endif /* KEEL_PUBLIC_IO_RING_H */
