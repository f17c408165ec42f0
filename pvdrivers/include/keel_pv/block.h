/* SPDX-License-Identifier: MIT */
/*
 * keel_pv/block.h - the PV block class (docs/abi/devices/block.md), both
 * sides, as an OS uses it. blkfront turns the OS's requests into ring
 * requests (granting its buffers, splitting, indirect pages) and survives
 * backend restarts; blkback serves a frontend from a storage the OS
 * describes with struct kpv_blk_store. Both are asynchronous and keep no
 * global state. As in kpv.h, functions run in thread context unless marked
 * [any]; errors are negative KEEL_E*; request statuses are
 * KEEL_IO_BLOCK_S_*.
 */
#ifndef KEEL_PV_BLOCK_H
#define KEEL_PV_BLOCK_H

#include <keel_pv/device.h>
#include <keel/io/block.h>

/* --- Frontend ------------------------------------------------------------------ */

struct kpv_blkfront;

/* Rings (queues) and data segments per ring request a frontend uses at most. */
#define KPV_BLKFRONT_MAX_RINGS		8u
#define KPV_BLKFRONT_MAX_SEGMENTS	1024u	/* two indirect pages */

/* One buffer: bytes [offset, offset + length) of a page of guest RAM (shim.h). */
struct kpv_blk_seg {
	void *page;			/* page-aligned */
	uint16_t offset;		/* multiple of 512 */
	uint16_t length;		/* multiple of 512, >= 512, offset + length <= 4096 */
};

/* kpv_blk_req.flags */
#define KPV_BLK_FUA	0x01u		/* WRITE: durable when it completes */

/*
 * One request of the OS (a Linux driver embeds it in its per-request data).
 * The OS fills the first part and leaves the whole struct alone from
 * kpv_blkfront_submit() until its completion. A request of any size is
 * split into as many ring requests as the connection needs.
 */
struct kpv_blk_req {
	uint8_t op;			/* KEEL_IO_BLOCK_OP_* */
	uint8_t flags;			/* KPV_BLK_* */
	uint16_t queue;			/* a hint: ring queue % rings in use */
	uint32_t nr_sectors;		/* DISCARD, WRITE_ZEROES: the length; else 0 */
	uint64_t sector;		/* first 512-byte sector */
	const struct kpv_blk_seg *segs;	/* READ, WRITE: the buffers, in order */
	uint32_t nr_segs;		/* READ, WRITE: 1 .. 65535; else 0 */
	void *os;			/* the OS's, never touched */

	/* pvdrivers' own (blkfront_priv.h says what each holds). */
	struct kpv_blk_req *next;
	uint64_t done;
	uint32_t seg, seg_off;
	uint32_t parts;
	uint16_t status;
	uint8_t state;
	uint8_t resent;
};

/* What the device is, for the OS's block layer. */
struct kpv_blk_info {
	uint64_t capacity_sectors;	/* 512-byte sectors */
	uint32_t logical_block_size;	/* the unit of I/O: READ/WRITE start and length */
	uint32_t physical_block_size;	/* an alignment hint */
	uint64_t features;		/* KEEL_IO_BLOCK_F_* in use: FLUSH (a volatile cache),
					   FUA, DISCARD, WRITE_ZEROES, INDIRECT, MULTI_QUEUE,
					   PERSISTENT */
	bool read_only;
	uint32_t max_segments;		/* fit one ring request; a longer request is split */
	uint32_t nr_queues;		/* rings in use */
	uint32_t discard_granularity, discard_alignment;	/* bytes */
	uint32_t max_discard_sectors, max_write_zeroes_sectors;	/* per ring request */
};

/*
 * What the OS gives a frontend. Every callback runs in thread context with
 * no kpv lock held, and may submit again.
 */
struct kpv_blkfront_ops {
	/*
	 * Connected, or the device changed while connected (a resize, a new
	 * backend with another offer): what it is now. Requests submitted
	 * before this wait; after a backend loss they are sent again.
	 */
	void (*changed)(void *os, const struct kpv_blk_info *info);
	/*
	 * @req ended with @status. S_OK only after a backend answered S_OK
	 * for every part of it. Without F_FLUSH a FLUSH ends S_OK at once
	 * (every write that completed is durable already); a request the
	 * device cannot serve ends S_NOTSUPP, S_RANGE or S_READONLY, or
	 * S_IOERR if it was sent to an earlier backend; a closed or removed
	 * device ends what is left S_IOERR.
	 */
	void (*complete)(void *os, struct kpv_blk_req *req, uint16_t status);
	/* After kpv_blkfront_close(): every request has completed; @os may go. */
	void (*released)(void *os);
};

/* Choices of a frontend; NULL for the defaults (every feature, 1 queue, order 1, 1024 persistent pages). */
struct kpv_blkfront_opts {
	uint64_t features;		/* KEEL_IO_BLOCK_F_* to accept when offered */
	uint32_t queues;		/* rings to use with F_MULTI_QUEUE, 1 .. MAX_RINGS */
	uint32_t ring_order;		/* wanted; the offer caps it */
	/*
	 * 0 (the default): arm the rings and wait for the backend's
	 * notification once caught up. Else, while requests are in flight,
	 * keep looking (the work item rescheduling itself) for up to this long
	 * after the last request or response, as kpv_blkback_opts.poll_ns.
	 */
	uint32_t poll_ns;
	/*
	 * With F_PERSISTENT (accepted unless left out of features): the pages
	 * granted for the connection per ring, made as needed; 0 (the
	 * default) for KEEL_IO_BLOCK_PERSISTENT_MAX, else at least
	 * KPV_BLKFRONT_MIN_PERSISTENT. A ring request then has at most this
	 * many segments, and waits until its pages are free.
	 */
	uint32_t persistent_pages;
};

/* The fewest persistent pages per ring a frontend may be given: two 4 KiB blocks of 512-byte segments. */
#define KPV_BLKFRONT_MIN_PERSISTENT	16u

/* Counters, for diagnostics. */
struct kpv_blkfront_stats {
	uint64_t requests;		/* accepted by kpv_blkfront_submit() */
	uint64_t ring_requests;		/* sent on a ring (parts, resent ones again) */
	uint64_t indirect;		/* ... of those with indirect pages */
	uint64_t resent;		/* requests sent again after a backend loss */
};

/*
 * Be the frontend of @info (a block device from kpv_devices()). Returns at
 * once; ops->changed() says when I/O flows. Requests may be submitted at
 * once (they wait). Errors: -KEEL_EINVAL (not a block frontend, bad
 * @opts), -KEEL_ENOMEM, or kpv_fe_open()'s.
 */
int kpv_blkfront_open(struct kpv *k, const struct kpv_device_info *info,
		      const struct kpv_blkfront_ops *ops, void *os,
		      const struct kpv_blkfront_opts *opts, struct kpv_blkfront **out);
/*
 * [any] Queue @req; ops->complete() ends it exactly once. -KEEL_EINVAL
 * (and no completion) for a request no device could serve: an unknown op
 * or flag, FUA on another op than WRITE, segments that break the rules
 * above, a length field that does not fit the op; -KEEL_EBUSY once
 * closing.
 */
int kpv_blkfront_submit(struct kpv_blkfront *fe, struct kpv_blk_req *req);
/*
 * [any] What the device is now; -KEEL_EAGAIN while not connected.
 */
int kpv_blkfront_info(struct kpv_blkfront *fe, struct kpv_blk_info *info);
/* [any] */
void kpv_blkfront_stats(struct kpv_blkfront *fe, struct kpv_blkfront_stats *out);
/*
 * Stop: queued requests end S_IOERR, those in flight get a bounded time
 * to be answered (none with @removed: the device left the device table),
 * then the rest end S_IOERR and ops->released() follows. Once per open.
 */
void kpv_blkfront_close(struct kpv_blkfront *fe, bool removed);

/* --- Backend ---------------------------------------------------------------------- */

struct kpv_blkback;

/* A piece of memory (a bounce page, or a persistent grant mapped) for the storage to fill or write. */
struct kpv_blk_iov {
	void *base;
	uint32_t len;			/* a multiple of 512 */
};

/* What a store is. */
struct kpv_blk_geometry {
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t logical_block_size;	/* 512 .. 4096, a power of two */
	uint32_t physical_block_size;	/* >= logical, a power of two */
	bool read_only;
};

/*
 * The storage behind a backend, given by the OS: a RAM disk, a file, a
 * disk. Sizes are in 512-byte sectors. The geometry is read at open, at
 * each offer and by kpv_blkback_resize(); only its capacity may change.
 * I/O functions are synchronous: called from the backend's work items
 * (thread context, no kpv lock held; one at a time per ring, rings in
 * parallel), they return when done: 0, or a negative number for a failure
 * of the medium (answered S_IOERR). Every range passed lies inside the
 * capacity the backend last read, and READ/WRITE ranges are multiples of
 * the logical block size.
 */
struct kpv_blk_store {
	void (*geometry)(void *ctx, struct kpv_blk_geometry *out);
	int (*read)(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n);
	/* @fua: durable before returning. The backend sets it on every write without F_FLUSH. */
	int (*write)(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		     bool fua);
	/* Optional (NULL: no volatile cache, no F_FLUSH): every write returned is durable. */
	int (*flush)(void *ctx);
	/* Optional (NULL: no F_DISCARD): the range's contents become undefined. */
	int (*discard)(void *ctx, uint64_t sector, uint32_t sectors);
	/* Optional (NULL: no F_WRITE_ZEROES): the range reads as zeroes afterwards. */
	int (*write_zeroes)(void *ctx, uint64_t sector, uint32_t sectors);
	/*
	 * read() and write() are given the backend's bounce pages, or with
	 * F_PERSISTENT the frontend's pages the backend keeps mapped (in
	 * place: no bounce copy); either is only valid during the call.
	 *
	 * Optional, for a store that is RAM of this domain (a RAM disk): where
	 * sector @sector lives, valid up to the end of its 4 KiB page. With
	 * it, READ and WRITE data moves in one grant copy between the
	 * frontend's pages and this memory; read() and write() are then not
	 * called (they stay required). @write: the data is about to change.
	 * Writes land as their copies run, so they are durable (as without
	 * flush) and, like any request in flight when a connection fails, a
	 * WRITE behind a frontend's protocol error may have landed unanswered.
	 */
	void *(*memory)(void *ctx, uint64_t sector, bool write);
};

/*
 * What a backend offers; NULL for the defaults: every feature the store
 * allows, 4 rings of order 2, 1024 segments, discard granularity of the
 * physical block, 2^22 sectors per discard or write-zeroes, 512 persistent
 * mappings per ring.
 */
struct kpv_blkback_opts {
	uint64_t features;		/* KEEL_IO_BLOCK_F_* to offer (the store permitting) */
	uint32_t max_rings;		/* 1 .. KEEL_IO_MAX_RINGS (> 1: F_MULTI_QUEUE) */
	uint32_t max_ring_order;	/* 0 .. KEEL_IO_RING_MAX_ORDER */
	uint32_t max_segments;		/* 13 .. 4096 (> 13: F_INDIRECT) */
	uint32_t discard_granularity, discard_alignment;	/* bytes */
	uint32_t max_discard_sectors, max_write_zeroes_sectors;
	/*
	 * 0 (the default): sleep as soon as the rings are empty, woken by the
	 * frontend's notifications. Else keep looking at a ring (its work item
	 * rescheduling itself) for up to this long after its last request:
	 * under load neither side then pays a notification and a wake-up per
	 * round trip, at the price of a busy CPU. For a backend with a CPU of
	 * its own. At most KPV_BLK_MAX_POLL_NS.
	 */
	uint32_t poll_ns;
	/*
	 * With F_PERSISTENT: the frontend's grants mapped and kept per ring,
	 * 0 (the default) for KPV_BLKBACK_PERSISTENT_MAPS, at most
	 * KEEL_IO_BLOCK_PERSISTENT_MAX. Each takes a page of the map window
	 * for the connection's life; grants beyond it are copied.
	 */
	uint32_t persistent_maps;
};

/* The longest poll a backend or frontend may be asked for: 10 ms. */
#define KPV_BLK_MAX_POLL_NS	10000000u
/* A backend's persistent mappings per ring by default: 2 MiB of map window. */
#define KPV_BLKBACK_PERSISTENT_MAPS	512u

/* What the OS hears from a backend (thread context, no kpv lock held). */
struct kpv_blkback_ops {
	/* Optional: a frontend connected (@up), or it went away (or stopped on an error). */
	void (*connection)(void *ctx, bool up);
	/* After kpv_blkback_close(): the store is no longer used. */
	void (*released)(void *ctx);
};

/*
 * Serve @info (a block device we are the backend of) from @store; @ctx is
 * passed to each call of @store and @ops. Errors: -KEEL_EINVAL (not a
 * block backend, a store or @opts out of range), -KEEL_ENOMEM,
 * kpv_be_open()'s.
 */
int kpv_blkback_open(struct kpv *k, const struct kpv_device_info *info,
		     const struct kpv_blk_store *store, void *ctx,
		     const struct kpv_blkback_opts *opts, const struct kpv_blkback_ops *ops,
		     struct kpv_blkback **out);
/*
 * The store's capacity changed: read it again and publish it (a live
 * config update; the frontend sees the new size). Thread context.
 */
void kpv_blkback_resize(struct kpv_blkback *be);
/* Stop serving (what is in flight completes first); once per open. */
void kpv_blkback_close(struct kpv_blkback *be, bool removed);

#endif /* KEEL_PV_BLOCK_H */
