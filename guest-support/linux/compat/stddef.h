/* SPDX-License-Identifier: MIT */
/* stddef.h - size_t, NULL and offsetof for pvdrivers, from the kernel's headers. */
#ifndef KEEL_LINUX_COMPAT_STDDEF_H
#define KEEL_LINUX_COMPAT_STDDEF_H

#include <linux/types.h>
#include <linux/stddef.h>

#endif /* KEEL_LINUX_COMPAT_STDDEF_H */
