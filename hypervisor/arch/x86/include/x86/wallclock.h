/* SPDX-License-Identifier: MIT */
/*
 * x86/wallclock.h - the date and time of day: read once from the machine's
 * CMOS clock at boot, then carried forward by Keel's monotonic clock.
 */
#ifndef KEEL_X86_WALLCLOCK_H
#define KEEL_X86_WALLCLOCK_H

#include <keel/types.h>

/* A civil date and time (UTC as far as Keel knows: the CMOS clock has no zone). */
struct civil_time {
	uint32_t year;			/* 1970 .. */
	uint8_t month;			/* 1..12 */
	uint8_t day;			/* 1..31 */
	uint8_t hour, minute, second;
	uint8_t weekday;		/* 0 = Sunday */
};

/* Read the CMOS clock (boot CPU, after time calibration). Logs what it found. */
void wallclock_init(void);

/* Seconds since 1970-01-01 00:00:00 now, or 0 if the machine had no readable clock. */
uint64_t wallclock_now(void);

/* Conversions, for 1970-01-01 .. 9999-12-31. civil_valid() checks ranges and month lengths. */
uint64_t civil_to_seconds(const struct civil_time *t);
void civil_from_seconds(uint64_t seconds, struct civil_time *t);
bool civil_valid(const struct civil_time *t);

#endif
