/* SPDX-License-Identifier: MIT */
/* keel/log_notify.h - KEEL_VIRQ_LOG: telling log readers that the log grew. */
#ifndef KEEL_LOG_NOTIFY_H
#define KEEL_LOG_NOTIFY_H

#include <stdint.h>

/* At most this often (docs/abi/hypercalls.md: "about 10 times a second"). */
#define LOG_NOTIFY_NS	100000000ull

/*
 * If the log grew since the last notification and that was at least
 * LOG_NOTIFY_NS before @now, raise KEEL_VIRQ_LOG for every domain holding
 * KEEL_CAP_LOG that bound it. Called by CPU 0's scheduler loop, where
 * dropping a domain reference is allowed; not reentrant.
 */
void log_notify_poll(uint64_t now);

#endif /* KEEL_LOG_NOTIFY_H */
