/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/core/device_priv.h - struct kpv_dev and what device.c (both
 * sides), device_fe.c and device_be.c share.
 *
 * One device connection runs as a state machine in its work item: the
 * control port's handler and the timer only schedule it, and the OS runs a
 * work item one call at a time, so every step is serialised without a
 * lock. Each step copies the peer's area of the control page once into
 * dev->snap and decides from that copy alone (handshake.md, "Validation
 * rules"). Requests from other contexts (close, fail) go through dev->lock.
 */
#ifndef KPV_CORE_DEVICE_PRIV_H
#define KPV_CORE_DEVICE_PRIV_H

#include <stddef.h>
#include <keel_pv/device.h>
#include "internal.h"

/* Say so after this long without progress (handshake.md: SHOULD, 10 s). */
#define KPV_DEV_LOG_NS		10000000000ull
/* How long a closing or restarting frontend waits for the backend. */
#define KPV_DEV_CLOSE_NS	5000000000ull
/* Pages per ring: the header and up to 2^KEEL_IO_RING_MAX_ORDER data pages. */
#define KPV_RING_PAGES		(1 + KEEL_IO_RING_MAX_DATA_PAGES)
/* Re-evaluations of one snapshot within one step (each changes the phase). */
#define KPV_DEV_STEPS		4

/* Where a side is in the handshake; the state it wrote follows from it. */
enum kpv_phase {
	PH_IDLE,		/* fe: CLOSED, waiting for an offer; be: READY, offered */
	PH_COMMITTED,		/* fe: READY, waiting for the backend */
	PH_CONNECTED,		/* both: CONNECTED */
	PH_CLOSING,		/* fe: CLOSING, waiting (bounded) for the backend to let go */
	PH_RESTARTING,		/* fe: CLOSING what an earlier frontend left (bounded) */
	PH_ERROR,		/* ERROR, waiting for the peer to start afresh */
	PH_DONE,		/* closed; the reaper frees it */
};

/* One ring of a connection, allocated for one connection only (ring.md rule 2). */
struct kpv_dev_ring {
	struct kpv_dev *dev;
	unsigned int index;
	struct kpv_ring ring;
	uint32_t port;			/* fe: UNBOUND for the backend; be: bound to it */
	uint32_t order;
	void *pages[KPV_RING_PAGES];	/* fe: header, data: our RAM */
	uint32_t grefs[KPV_RING_PAGES];	/* fe: their grants (0: none) */
	struct kpv_mapping maps[KPV_RING_PAGES];	/* be: the frontend's pages */
};

/*
 * A side's state machine (device_fe.c, device_be.c), which device.c's work
 * runs: stop() takes a close request (true: the device is done), fail()
 * stops in ERROR, advance() makes one decision on the snapshot (true: the
 * phase changed, look again).
 */
struct kpv_dev_side {
	bool (*stop)(struct kpv_dev *dev, bool close, bool removed);
	void (*fail)(struct kpv_dev *dev, uint32_t err);
	bool (*advance)(struct kpv_dev *dev, bool bound);
};

/* What either side's class gives every connection. */
struct kpv_dev_calls {
	uint32_t device_class;
	uint32_t slot_size;
	void (*connected)(void *drv, struct kpv_dev *dev);
	void (*disconnected)(void *drv, struct kpv_dev *dev, enum kpv_dev_end why);
	void (*ring_event)(void *drv, struct kpv_dev *dev, unsigned int ring);
	void (*released)(void *drv);
};

struct kpv_dev {
	struct kpv *k;
	bool backend;
	void *drv;
	struct kpv_dev_calls calls;
	const struct kpv_dev_side *side;
	const struct kpv_fe_class *fe;
	const struct kpv_be_class *be;
	struct kpv_device_info info;

	struct keel_io_device_page *page;	/* Keel's control page, shared */
	uint64_t page_gfn;
	struct keel_io_device_page *snap;	/* our copy of the peer's area */
	uint32_t ctl_port;			/* 0: none (be: lost and not rebound) */
	struct kpv_work *work;
	struct kpv_timer *timer;

	struct kpv_lock *lock;
	bool close_req;			/* [lock] kpv_dev_close() */
	bool removed;			/* [lock] ... because the device is gone */
	uint32_t fail_err;		/* [lock] kpv_dev_fail(); 0: none */

	/* Work only. */
	enum kpv_phase phase;
	bool closing;			/* close asked: no new connection */
	bool rings_live;		/* (atomic) ring events reach the class */
	bool was_connected;		/* connected() ran and disconnected() has not */
	uint32_t state;			/* the state we last wrote */
	uint32_t gen;			/* our generation */
	uint32_t peer_gen0;		/* the peer's generation when we opened */
	bool round_valid;
	uint32_t round_gen;		/* fe: be gen committed to; be: fe gen accepted */
	uint32_t consumed_gen;		/* be: the last fe gen whose commit we read */
	uint32_t err_peer_gen;		/* in ERROR: the peer's gen when we stopped */
	bool waiting;
	bool wait_logged;
	uint64_t wait_since;
	uint64_t deadline;		/* 0: none */
	struct kpv_offer offer;
	struct kpv_commit commit;
	unsigned int nr_rings;
	struct kpv_dev_ring *rings[KEEL_IO_MAX_RINGS];
	struct kpv_dev *next_dead;
};

/* device.c: shared by both sides. */
/* A device for @info if it is ours in that role and class (else -KEEL_EINVAL); page mapped, header checked. */
int kpv_dev_create(struct kpv *k, const struct kpv_device_info *info, bool backend,
		   const struct kpv_dev_calls *calls, void *drv, struct kpv_dev **out);
void kpv_dev_destroy(struct kpv_dev *dev);
void kpv_dev_opened(struct kpv_dev *dev);
void kpv_dev_ctl_event(void *ctx, uint32_t port);
void kpv_dev_ring_event(void *ctx, uint32_t port);
void kpv_dev_set_state(struct kpv_dev *dev, uint32_t state, uint32_t err);
void kpv_dev_notify_ctl(struct kpv_dev *dev);
void kpv_dev_phase(struct kpv_dev *dev, enum kpv_phase phase, uint64_t timeout_ns);
bool kpv_dev_wait(struct kpv_dev *dev, const char *what);
bool kpv_dev_ctl_bound(struct kpv_dev *dev);
void kpv_dev_snapshot(struct kpv_dev *dev);
void kpv_dev_quiesce(struct kpv_dev *dev, enum kpv_dev_end why);
void kpv_dev_free_ring(struct kpv_dev *dev, unsigned int i);
void kpv_dev_finish(struct kpv_dev *dev, bool removed);
uint32_t kpv_dev_err(uint32_t err);


#endif
