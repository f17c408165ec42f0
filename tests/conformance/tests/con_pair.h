/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/con_pair.h - what the console suites share:
 * pvdrivers' console class (keel_pv/console.h) on either end of a t_pair,
 * an "OS" on each side that records everything the class hands it, and a
 * byte pattern to tell a stream whole from one with bytes lost.
 */
#ifndef KPV_TESTS_CON_PAIR_H
#define KPV_TESTS_CON_PAIR_H

#include <keel_pv/console.h>
#include <keel/hypercall.h>
#include "peer.h"

/* What one side's recorder can hold. */
#define CON_REC_MAX	(512u * 1024u)

/* The frontend's OS: input, sizes and connection changes as the class reported them. */
struct con_fe_os {
	struct kpv_con_fe *c;		/* from open until released() */
	bool echo;			/* write every input back as output */
	uint8_t in[CON_REC_MAX];
	size_t in_len;
	unsigned int in_calls;
	uint16_t cols, rows;		/* the last size() */
	unsigned int sizes, writable, ups, downs, released;
};

/* The backend's OS: the sink's stream and connection changes. */
struct con_be_os {
	struct kpv_con_be *b;
	uint8_t out[CON_REC_MAX];
	size_t out_len;
	unsigned int sink_calls, ups, downs, released;
};

struct con_pair {
	struct t_pair t;		/* the domains, pvdrivers in each, the device */
	struct con_fe_os fe;
	struct con_be_os be;
};

extern const struct kpv_con_fe_ops con_fe_ops;
extern const struct kpv_con_be_ops con_be_ops;
/* The sink that records into a struct con_be_os. */
void con_sink(void *ctx, const uint8_t *data, uint32_t len);

/* t_pair_init() and fresh recorders; nothing opened. */
void con_init(struct con_pair *p);
int con_fe_open(struct con_pair *p);
/* Open the backend, with the recording sink attached if @sink. */
int con_be_open(struct con_pair *p, bool sink);
/* con_init, both opened (sink attached), run until both are connected. */
void con_connect(struct con_pair *p);
/* Close whichever ends are open, run until released, stop pvdrivers in both domains. */
void con_end(struct con_pair *p);
/* con_end(), then check both domains clean. */
void con_finish(struct con_pair *p);
void con_close_fe(struct con_pair *p, bool removed);
void con_close_be(struct con_pair *p, bool removed);

/* Predicates for harness_run(ctx = the pair). */
bool con_both_connected(void *pair);
bool con_fe_drained(void *pair);	/* the frontend has nothing unanswered */

/*
 * Write @len bytes as the frontend, running the harness whenever the FIFO
 * is full, for at most @max_ns in all; returns how many writes came up
 * short (flow control at work). Fails the test if not all were taken.
 */
unsigned int con_write_all(struct con_pair *p, const void *data, size_t len, uint64_t max_ns);

/* Byte @i of the test stream: no period shorter than 64 KiB, so a lost or repeated chunk shows. */
static inline uint8_t con_byte(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 8) * 7u + (i >> 16));
}

void con_pattern(uint8_t *buf, size_t from, size_t len);
/* Whether @buf holds the stream's bytes from @from on. */
bool con_is_pattern(const uint8_t *buf, size_t from, size_t len);

#endif
