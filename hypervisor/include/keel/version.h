/* SPDX-License-Identifier: MIT */
/* keel/version.h - the hypervisor release version. */
#ifndef KEEL_VERSION_H
#define KEEL_VERSION_H

#define KEEL_VERSION		"0.1.0"

/* Below this much usable RAM Keel refuses to start (docs/architecture.md). */
#define KEEL_MIN_RAM_MIB	128

#endif
