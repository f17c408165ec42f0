/* SPDX-License-Identifier: MIT */
/*
 * tools/build/builder.h - building a domain from its configuration, the
 * recipe of docs/abi/control.md "Building a domain". Nothing is left
 * half-created: any failure after the domain exists destroys it (which
 * also removes its devices from both device tables).
 */
#ifndef KEELCTL_BUILDER_H
#define KEELCTL_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keelctl/keelctl.h>
#include "../config/domcfg.h"

struct build_options {
	bool paused;			/* leave it paused instead of unpausing */
};

/* 0 with the new domain's id in *@domid, or -1 with the reason in @err. */
int keelctl_build_domain(struct keelctl *c, const struct domcfg *cfg,
			 const struct build_options *opt, uint32_t *domid, char *err,
			 size_t errlen);

#endif
