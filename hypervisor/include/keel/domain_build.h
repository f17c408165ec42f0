/* SPDX-License-Identifier: MIT */
/*
 * keel/domain_build.h - the domain builder for boot-time domains: from the
 * boot configuration's specs to running domains (docs/abi/boot.md, Keel
 * native entry).
 */
#ifndef KEEL_DOMAIN_BUILD_H
#define KEEL_DOMAIN_BUILD_H

#include <keel/bootcfg.h>
#include <keel/bootinfo.h>

/*
 * Create, load and start every domain of @cfg that is not skipped, then its
 * devices. A domain that cannot be built (image not a Keel kernel, too
 * little memory, ...) is reported by name with the reason and destroyed;
 * the others start. Returns the number of domains started.
 */
unsigned int domain_build_boot(const struct boot_info *bi, const struct bootcfg *cfg);

#endif
