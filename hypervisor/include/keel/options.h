/* SPDX-License-Identifier: MIT */
/*
 * keel/options.h - the hypervisor command line.
 *
 *   loglevel=error|warn|info|debug   console threshold (default info)
 *   probe_guest=NAME                 boot module run as the self-test guest
 *                                    (default probe-guest.elf; "none": skip)
 *   qemu_exit=1                      test only: report the verdict through
 *                                    QEMU's isa-debug-exit device (port 0xf4)
 *   crash_test=KIND                  test only: fault on purpose after boot
 *                                    (KIND: pagefault, ud, divide,
 *                                    stack_overflow, panic)
 */
#ifndef KEEL_OPTIONS_H
#define KEEL_OPTIONS_H

#include <keel/log.h>

#define OPTION_VALUE_MAX	64

struct keel_options {
	enum log_level log_level;
	char probe_guest[OPTION_VALUE_MAX];
	bool qemu_exit;
	char crash_test[OPTION_VALUE_MAX];
	bool exit_stats;	/* log each vCPU's exits by reason when it goes */
};

extern struct keel_options options;

/*
 * Parse @cmdline into options. Unknown keys and bad values are reported
 * through log_warn() (the command line is operator input: never fatal).
 * A leading word without '=' is the image path some loaders prepend.
 * Returns the number of problems found.
 */
unsigned int options_parse(const char *cmdline);

#endif
