/* SPDX-License-Identifier: MIT */
/* tools/tests/fake/pending_calls.h - stand-ins for the control calls the core does not yet implement. */
#ifndef KEELCTL_PENDING_CALLS_H
#define KEELCTL_PENDING_CALLS_H

#include <keel/domain.h>

/* Whether @nr is one of the calls core/control.c still answers with ENOSYS. */
bool pending_call_known(uint64_t nr);

/* Carry out @nr for @caller as control.md specifies (only after the core said ENOSYS). */
long pending_call(struct domain *caller, uint64_t nr, const uint64_t *args);

/* Drop what the stand-ins keep for @domid (saved vCPU contexts). */
void pending_forget(uint32_t domid);

#endif
