/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/common.h - what the suites share: pvdrivers
 * started in a domain, a device between two domains, the trivial test
 * class on both sides (an echo over the rings), and the "nothing left"
 * checks.
 *
 * Everything here uses only harness.h, the keel_pv headers and the ABI.
 */
#ifndef KPV_TESTS_COMMON_H
#define KPV_TESTS_COMMON_H

#include <string.h>
#include <CUnit/CUnit.h>
#include <keel_pv/device.h>
#include <keel_pv/kpv.h>
#include <keel_pv/ring.h>
#include <keel/io/device.h>
#include "harness.h"

#define T_MS		1000000ull
#define T_SECOND	1000000000ull
#define T_CLASS		KEEL_IO_CLASS_CONSOLE	/* the test class rides on a console device */
#define T_SLOT		64u
#define T_FEATURES	0x00f0000000000005ull	/* what the test backend offers by default */

/* One request or response of the test class: the backend answers value * 3 + 1. */
struct t_msg {
	uint32_t id;
	uint32_t value;
	uint8_t pad[T_SLOT - 8];
};

/* What happened to one end's driver (the class callbacks both sides share). */
struct t_end {
	struct hdom *dom;
	struct kpv_dev *dev;		/* from open until released() */
	unsigned int connected, disconnected, released, ring_events;
	enum kpv_dev_end last_end;
};

/* A frontend driver of the test class: what it asks for, and what happened to it. */
struct tfe {
	struct t_end end;		/* first: the shared callbacks get it as drv */
	uint64_t features;		/* choose(): accept offer & this */
	uint32_t rings, order;		/* choose(): ask for this many, this big (capped) */
	uint32_t choose_err;		/* choose() refuses with it */
	struct kpv_offer offer;		/* what choose() saw last */
	unsigned int chooses, config_changes;
	uint32_t sent, answered, wrong;	/* requests and the right answers to them */
};

/* A backend driver of the test class. */
struct tbe {
	struct t_end end;
	uint64_t features;		/* offered */
	uint32_t max_rings, max_order;
	uint8_t config;			/* offered config: every byte this */
	uint32_t check_err;		/* check_commit() refuses with it */
	bool mute;			/* do not answer requests */
	struct kpv_commit commit;	/* what check_commit() saw last */
	unsigned int offers, checks;
	uint32_t served;
	uint32_t backlog;		/* times it stopped with requests left (budget) */
};

extern const struct kpv_fe_class t_fe_class;
extern const struct kpv_be_class t_be_class;

/* Start pvdrivers in @d (now current), or fail the test. */
struct kpv *t_start(struct hdom *d);
/* Stop it (as @d). */
void t_stop(struct hdom *d, struct kpv *k);
/*
 * After kpv_stop() in @d: no allocation but the vCPUs' keel_vcpu_info
 * (which Keel keeps writing), no page, lock, work, timer or mapping; in
 * Keel no grant given or busy, no grant mapped, and @ports ports in use.
 */
void t_assert_clean_at(struct hdom *d, unsigned int ports, const char *file, unsigned int line);
#define t_assert_clean(d, ports)	t_assert_clean_at(d, ports, __FILE__, __LINE__)

/* Device @id as @d's kpv_devices() lists it (fails the test if it does not). */
void t_device(struct hdom *d, struct kpv *k, uint32_t id, struct kpv_device_info *out);

/* Two domains running pvdrivers and a test-class device between them. */
struct t_pair {
	struct hdom *fdom, *bdom;
	struct kpv *fk, *bk;
	uint32_t id, fe_port;
	struct kpv_device_info finfo, binfo;
	struct tfe fe;
	struct tbe be;
};

/* Domains, pvdrivers and a device of class @cls; no driver set up, nothing opened. */
void t_pair_class(struct t_pair *p, uint32_t cls);
/* Domains, pvdrivers, the device; drivers with defaults; nothing opened. */
void t_pair_init(struct t_pair *p);
int t_fe_open(struct t_pair *p);
int t_be_open(struct t_pair *p);
/* t_pair_init, both opened, run until connected (or fail the test). */
void t_pair_connect(struct t_pair *p);
/* Close both ends, run until both released, stop pvdrivers, check clean. */
void t_pair_finish(struct t_pair *p);
/* Close one end and run until it is released. */
void t_close_fe(struct t_pair *p, bool removed);
void t_close_be(struct t_pair *p, bool removed);

/* Predicate for harness_run(ctx = a struct t_end): released() has run. */
bool t_released(void *end);
/* Predicates for harness_run(ctx = the pair). */
bool t_both_connected(void *pair);
bool t_fe_error(void *pair);
bool t_be_error(void *pair);
bool t_all_answered(void *pair);
/* Runs until @pred, for at most @max_ns; fails the test if it does not hold. */
#define t_run(pred, ctx, max_ns)	CU_ASSERT_TRUE(harness_run(pred, ctx, max_ns))

/* The frontend sends @n requests on ring @ring (as the frontend domain). */
void t_send(struct t_pair *p, unsigned int ring, uint32_t n);

/* The control page, as the test (or a hostile peer) sees it. */
static inline struct keel_io_device_page *t_page(uint32_t id)
{
	return harness_device_page(id);
}

#endif
