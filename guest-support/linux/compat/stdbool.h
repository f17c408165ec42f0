/* SPDX-License-Identifier: MIT */
/* stdbool.h - bool, true and false for pvdrivers: the kernel's <linux/types.h> has them. */
#ifndef KEEL_LINUX_COMPAT_STDBOOL_H
#define KEEL_LINUX_COMPAT_STDBOOL_H

#include <linux/types.h>

#endif /* KEEL_LINUX_COMPAT_STDBOOL_H */
