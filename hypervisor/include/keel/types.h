/* SPDX-License-Identifier: MIT */
/* keel/types.h - the basic types every hypervisor file uses. */
#ifndef KEEL_TYPES_H
#define KEEL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keel/compiler.h>

/* A host-physical address. */
typedef uint64_t paddr_t;

#define PAGE_SHIFT		12
#define PAGE_SIZE		((uint64_t)1 << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))

#define KiB(x)			((uint64_t)(x) << 10)
#define MiB(x)			((uint64_t)(x) << 20)
#define GiB(x)			((uint64_t)(x) << 30)

#endif
