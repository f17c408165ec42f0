/* SPDX-License-Identifier: MIT */
/* tools/lib/lib.h - helpers shared by libkeelctl's files. */
#ifndef KEELCTL_LIB_H
#define KEELCTL_LIB_H

#include <keelctl/keelctl.h>

/* A buffer whose bounce page's GPA goes into argument @arg. */
struct keel_privcmd_buf keelctl_buf_arg(void *p, size_t len, uint32_t flags, uint32_t arg);

/* A call with three plain arguments and no buffer. */
long keelctl_call_args(struct keelctl *c, uint32_t nr, uint64_t a0, uint64_t a1, uint64_t a2);

#endif
