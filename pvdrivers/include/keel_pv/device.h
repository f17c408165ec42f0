/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/device.h - one PV device connection, either side: the control
 * page, the handshake state machine, rings set up and torn down, reconnect
 * (docs/abi/devices/handshake.md). A class driver (console, block, net)
 * plugs in through struct kpv_fe_class / kpv_be_class and only ever sees
 * validated copies of what the peer wrote.
 *
 * Threading: the control port's handler only schedules work; the state
 * machine runs in that work (thread context), serialised per device. Ring
 * events go straight to the class's ring_event() [any context].
 */
#ifndef KEEL_PV_DEVICE_H
#define KEEL_PV_DEVICE_H

#include <keel_pv/kpv.h>
#include <keel_pv/ring.h>

struct kpv_dev;

/* The backend's offer, as validated by the handshake core. */
struct kpv_offer {
	uint64_t features;
	uint32_t max_rings;		/* 1 .. KEEL_IO_MAX_RINGS */
	uint32_t max_ring_order;	/* 0 .. KEEL_IO_RING_MAX_ORDER */
	uint8_t config[KEEL_IO_CONFIG_SIZE];
};

/* The frontend's commit. */
struct kpv_commit {
	uint64_t features;		/* a subset of the offer's */
	uint32_t nr_rings;		/* 1 .. offer.max_rings */
	uint32_t ring_order[KEEL_IO_MAX_RINGS];	/* each 0 .. offer.max_ring_order */
	uint8_t config[KEEL_IO_CONFIG_SIZE];
};

/*
 * Why a connection ended (disconnected()): the peer went away or
 * restarted, a protocol error (ours or the peer's: err is KEEL_IO_ERR_*),
 * or our own close.
 */
enum kpv_dev_end {
	KPV_END_PEER_GONE,
	KPV_END_ERROR,
	KPV_END_CLOSE,
	KPV_END_REMOVED,
};

struct kpv_fe_class {
	uint32_t device_class;		/* KEEL_IO_CLASS_* */
	uint32_t slot_size;		/* of every ring of the class */
	/*
	 * The backend offered (validated generically: limits in range): check
	 * the class config and fill the commit. 0, or a KEEL_IO_ERR_* that
	 * puts the frontend in ERROR.
	 */
	uint32_t (*choose)(void *drv, const struct kpv_offer *offer, struct kpv_commit *commit);
	/*
	 * Both sides CONNECTED: the rings are fresh; start (or resume) I/O.
	 * Ring events start reaching ring_event() just before this call.
	 */
	void (*connected)(void *drv, struct kpv_dev *dev);
	/*
	 * The connection is gone: stop using the rings (they are torn down
	 * after this returns). Keep or fail in-flight requests as the class
	 * says; a later connected() may follow (reconnect).
	 */
	void (*disconnected)(void *drv, struct kpv_dev *dev, enum kpv_dev_end why);
	/* [any] Ring @ring's port fired. */
	void (*ring_event)(void *drv, struct kpv_dev *dev, unsigned int ring);
	/* A live config field changed while connected (validated by choose's rules). Optional. */
	void (*config_changed)(void *drv, struct kpv_dev *dev, const uint8_t *config);
	/* After kpv_dev_close(): the device is gone; @drv may be freed. */
	void (*released)(void *drv);
};

struct kpv_be_class {
	uint32_t device_class;
	uint32_t slot_size;
	/* Fill a fresh offer. */
	void (*offer)(void *drv, struct kpv_offer *offer);
	/*
	 * The frontend committed (validated generically against the offer:
	 * feature subset, ring count and orders): check the class rules and
	 * the config. 0, or a KEEL_IO_ERR_* (the backend goes to ERROR).
	 */
	uint32_t (*check_commit)(void *drv, const struct kpv_offer *offer,
				 const struct kpv_commit *commit);
	/*
	 * Connected: requests may already wait in the rings (their events
	 * came before this call): serve them now.
	 */
	void (*connected)(void *drv, struct kpv_dev *dev);
	/*
	 * The frontend went away, restarted or closed, or an error: complete
	 * or fail what is in flight (the ring ports still work; no more ring
	 * events come); the rings are unmapped after this returns.
	 */
	void (*disconnected)(void *drv, struct kpv_dev *dev, enum kpv_dev_end why);
	/* [any] Ring @ring's port fired. Serve at most a ring's worth per call. */
	void (*ring_event)(void *drv, struct kpv_dev *dev, unsigned int ring);
	void (*released)(void *drv);
};

/*
 * Take part in the device @info (from kpv_devices()) as its frontend or
 * backend. Maps the control page, checks its header, binds the control
 * port and starts the handshake; returns at once (the rest is
 * asynchronous). Errors: -KEEL_EINVAL (wrong role or class for @cls,
 * header refused), -KEEL_ENOMEM, or Keel's.
 */
int kpv_fe_open(struct kpv *k, const struct kpv_device_info *info,
		const struct kpv_fe_class *cls, void *drv, struct kpv_dev **out);
int kpv_be_open(struct kpv *k, const struct kpv_device_info *info,
		const struct kpv_be_class *cls, void *drv, struct kpv_dev **out);

/*
 * Leave the device in order (frontend: CLOSING, bounded wait for the
 * backend, revoke, CLOSED; backend: CLOSING, CLOSED, its control port
 * closed). With @removed (the device left the device table) neither side
 * waits for the other, and the frontend closes the control port Keel gave
 * it (it keeps it otherwise, for its next open). Asynchronous; ends with released(), after which @dev is gone. Call it
 * once per open.
 */
void kpv_dev_close(struct kpv_dev *dev, bool removed);

/*
 * While connected (from connected() until disconnected() returns): the
 * rings, features and the peer's config copy.
 */
unsigned int kpv_dev_nr_rings(const struct kpv_dev *dev);
struct kpv_ring *kpv_dev_ring(struct kpv_dev *dev, unsigned int ring);
uint64_t kpv_dev_features(const struct kpv_dev *dev);
const uint8_t *kpv_dev_config(const struct kpv_dev *dev);
uint32_t kpv_dev_peer(const struct kpv_dev *dev);
struct kpv *kpv_dev_kpv(const struct kpv_dev *dev);
/* [any] Notify the peer on ring @ring's port. */
void kpv_dev_notify(struct kpv_dev *dev, unsigned int ring);
/*
 * [any] Backend: change a live field of its config while connected (the
 * fields a class declares live: console cols/rows, block capacity, net
 * link flags; handshake.md): one aligned store of @len (1, 2, 4 or 8)
 * bytes of @value at @offset of be_config, then a notification on the
 * control port. -KEEL_EINVAL for a frontend, another size, or an offset
 * that is misaligned or outside the config.
 */
int kpv_dev_config_update(struct kpv_dev *dev, uint32_t offset, uint64_t value, uint32_t len);
/*
 * [any] The class found a protocol error (or a grant it cannot use):
 * the device goes to ERROR with @err (KEEL_IO_ERR_*) and tears down.
 */
void kpv_dev_fail(struct kpv_dev *dev, uint32_t err);
/* Our side's state (KEEL_IO_STATE_*), for tests and diagnostics. */
uint32_t kpv_dev_state(const struct kpv_dev *dev);

#endif /* KEEL_PV_DEVICE_H */
