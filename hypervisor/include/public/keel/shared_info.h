/* SPDX-License-Identifier: MIT */
/* keel/shared_info.h: the per-domain shared page: event bitmaps for ports 0..4095, wall clock, requests. */
#ifndef KEEL_PUBLIC_SHARED_INFO_H
#define KEEL_PUBLIC_SHARED_INFO_H

#include "abi.h"

/*
 * One page per domain, owned by Keel, mapped by the guest with
 * KEEL_HC_MEMORY_MAP_SHARED(KEEL_MAPSPACE_SHARED_INFO, 0, gfn). Keel zeroes
 * it at domain creation, except evtchn_mask which starts all ones (every port
 * masked until the guest unmasks it).
 *
 * Event bitmaps (keel/event_channel.h for the numbering):
 *   evtchn_pending: Keel sets bits (atomic OR); the guest clears them (atomic
 *   AND or test-and-clear) when it handles a port.
 *   evtchn_mask: written only by the guest (or by Keel on
 *   KEEL_HC_EVTCHN_MASK/UNMASK); a masked pending port raises no upcall.
 * Wall clock: wc_version is odd while Keel updates wc_sec/wc_nsec; read it
 * like keel_vcpu_time_info.
 * Port 4096 and above live in KEEL_HC_EVTCHN_EXPAND pages, so this page never
 * grows; fields are only ever added in reserved[] (with a feature bit).
 */
struct keel_shared_info {
	uint64_t evtchn_pending[64];	/* Keel sets, guest clears */
	uint64_t evtchn_mask[64];	/* guest */
	uint32_t wc_version;		/* OUT: seqlock for wc_sec, wc_nsec */
	uint32_t pad0;			/* OUT: zero */
	uint64_t wc_sec;		/* OUT: UTC seconds at system time 0 */
	uint32_t wc_nsec;		/* OUT: and nanoseconds */
	uint32_t evtchn_port_limit;	/* OUT: ports are 1 .. limit - 1 (once expanded) */
	uint32_t nr_vcpus;		/* OUT */
	uint32_t shutdown_request;	/* OUT: KEEL_SHUTDOWN_* the controller asks for, or 0 */
	uint32_t device_table_generation;	/* OUT: bumped on every device-table change */
	uint32_t domid;			/* OUT */
	uint64_t memory_target_pages;	/* OUT: balloon target (KEEL_VIRQ_MEMORY_TARGET) */
	uint8_t reserved[3024];		/* OUT: zero */
};

#endif /* KEEL_PUBLIC_SHARED_INFO_H */
