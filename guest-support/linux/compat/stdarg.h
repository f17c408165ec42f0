/* SPDX-License-Identifier: MIT */
/* stdarg.h - va_list for pvdrivers' formatter, from the kernel's own <linux/stdarg.h>. */
#ifndef KEEL_LINUX_COMPAT_STDARG_H
#define KEEL_LINUX_COMPAT_STDARG_H

#include <linux/stdarg.h>

#endif /* KEEL_LINUX_COMPAT_STDARG_H */
