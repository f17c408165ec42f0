/* SPDX-License-Identifier: MIT */
/*
 * keel/domain_build.h - the domain builder for boot-time domains: from the
 * boot configuration's specs to running domains (docs/abi/boot.md), and
 * one of them again when it restarts.
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

/*
 * After boot (@bi and @cfg of domain_build_boot() stay valid for good):
 * which spec of the configuration domain @domid was built from (-1: none,
 * not a boot-time domain), and that spec.
 */
int domain_build_index_of(uint32_t domid);
const struct domain_spec *domain_build_spec(unsigned int index);

/*
 * Build spec @index again, as a new domain with the same name, after the
 * previous one was destroyed (core/restart.c): its command line gains
 * "keel_restart=@restarts", its devices are connected to the backends
 * running now, and frontends it serves get their devices again. Takes as
 * long as building it at boot did (seconds for an xz vmlinux): call it
 * where that is acceptable, with no lock held. Returns the new domain id,
 * or 0 when it could not be built (the reason is logged).
 */
uint32_t domain_build_again(unsigned int index, unsigned int restarts);

#endif
