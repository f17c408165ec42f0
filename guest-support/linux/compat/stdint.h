/* SPDX-License-Identifier: MIT */
/*
 * stdint.h - the fixed-width integer types pvdrivers and the public ABI
 * headers include, taken from the kernel's own types: a kernel build has no
 * C library headers (-nostdinc).
 */
#ifndef KEEL_LINUX_COMPAT_STDINT_H
#define KEEL_LINUX_COMPAT_STDINT_H

#include <linux/types.h>
#include <linux/limits.h>

#ifndef UINT8_MAX
#define UINT8_MAX	U8_MAX
#define UINT16_MAX	U16_MAX
#define UINT32_MAX	U32_MAX
#define UINT64_MAX	U64_MAX
#define INT32_MAX	S32_MAX
#define INT64_MAX	S64_MAX
#endif

#endif /* KEEL_LINUX_COMPAT_STDINT_H */
