/* SPDX-License-Identifier: MIT */
/* keel/main.h - the core's entry point, called by each architecture's boot code. */
#ifndef KEEL_MAIN_H
#define KEEL_MAIN_H

#include <keel/bootinfo.h>

/* Boot the hypervisor from @bi on the boot CPU. Never returns. */
NORETURN void keel_main(struct boot_info *bi);

/* Fault on purpose in the way named by @kind (crash_test= option). */
void crash_test_run(const char *kind);

#endif
