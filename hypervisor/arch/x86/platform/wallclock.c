/* SPDX-License-Identifier: MIT */
/*
 * platform/wallclock.c - the date and time, read once from the machine's
 * CMOS clock (ports 0x70/0x71) and carried forward by arch_time_ns(), so
 * that emulated clocks (the guests' RTC) start from the real date.
 */
#include <arch/arch.h>
#include <keel/log.h>
#include <keel/string.h>
#include <x86/cpu.h>
#include <x86/time.h>
#include <x86/wallclock.h>

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71
#define REG_A_UIP	0x80	/* an update is under way: the time registers may be torn */
#define REG_B_BINARY	0x04
#define REG_B_24H	0x02
#define HOUR_PM		0x80
#define CMOS_CENTURY	0x32	/* where PC firmware keeps it (ACPI FADT CENTURY, usually) */
#define READ_TRIES	5
#define UIP_WAIT_US	20000	/* an update takes under 2 ms; give it ten times that */
#define SECS_PER_DAY	86400u

static uint64_t boot_seconds;	/* the CMOS time at boot_ns, or 0: unknown */
static uint64_t boot_ns;

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static bool wait_no_update(void)
{
	for (unsigned int us = 0; us < UIP_WAIT_US; us += 10) {
		if (!(cmos_read(0x0a) & REG_A_UIP)) {
			return true;
		}
		udelay(10);
	}
	return false;
}

/* The time registers once, raw: seconds, minutes, hours, day, month, year, century, B. */
static void read_raw(uint8_t r[8])
{
	static const uint8_t regs[8] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, CMOS_CENTURY, 0x0b };

	for (unsigned int i = 0; i < 8; i++) {
		r[i] = cmos_read(regs[i]);
	}
}

/* A register value in the clock's format; 0xff if it is not a valid BCD byte. */
static uint8_t decode(uint8_t v, bool binary)
{
	if (binary) {
		return v;
	}
	if ((v & 0x0f) > 9 || (v >> 4) > 9) {
		return 0xff;
	}
	return (uint8_t)((v >> 4) * 10 + (v & 0x0f));
}

static bool decode_time(const uint8_t r[8], struct civil_time *t)
{
	bool binary = r[7] & REG_B_BINARY;
	uint8_t hour = decode(r[2] & 0x7f, binary);
	uint8_t century = decode(r[6], binary);

	if (!(r[7] & REG_B_24H) && hour != 0xff) {
		/* 12-hour mode: 12 AM is midnight, 12 PM noon. */
		hour = (uint8_t)((hour % 12) + ((r[2] & HOUR_PM) ? 12 : 0));
	}
	/* Not every machine keeps a century byte: trust one that looks like 19 or 20 .. 29. */
	if (century < 19 || century > 29) {
		century = 20;
	}
	*t = (struct civil_time){
		.year = century * 100u + decode(r[5], binary),
		.month = decode(r[4], binary),
		.day = decode(r[3], binary),
		.hour = hour,
		.minute = decode(r[1], binary),
		.second = decode(r[0], binary),
	};
	return decode(r[5], binary) <= 99 && civil_valid(t);
}

void wallclock_init(void)
{
	uint8_t a[8], b[8];
	struct civil_time t;

	for (unsigned int i = 0; i < READ_TRIES; i++) {
		if (!wait_no_update()) {
			break;
		}
		read_raw(a);
		if (!wait_no_update()) {
			break;
		}
		read_raw(b);
		/* Two equal reads with no update between them: not torn. */
		if (memcmp(a, b, sizeof(a)) != 0) {
			continue;
		}
		if (!decode_time(a, &t)) {
			break;
		}
		boot_ns = arch_time_ns();
		boot_seconds = civil_to_seconds(&t);
		log_info("wall clock: %04u-%02u-%02u %02u:%02u:%02u from the CMOS clock",
			 t.year, t.month, t.day, t.hour, t.minute, t.second);
		return;
	}
	log_warn("wall clock: no readable CMOS clock; emulated clocks start at 1970-01-01");
}

uint64_t wallclock_now(void)
{
	return boot_seconds ? boot_seconds + (arch_time_ns() - boot_ns) / 1000000000ull : 0;
}

/*
 * Days since 1970-01-01 of a civil date, by counting in 400-year eras that
 * start on March 1st (so the leap day ends a year).
 */
static uint64_t days_from_civil(uint32_t y, uint32_t m, uint32_t d)
{
	uint32_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;	/* 719468: 0000-03-01 to 1970-01-01 */
}

uint64_t civil_to_seconds(const struct civil_time *t)
{
	return days_from_civil(t->year, t->month, t->day) * SECS_PER_DAY +
	       t->hour * 3600u + t->minute * 60u + t->second;
}

void civil_from_seconds(uint64_t seconds, struct civil_time *t)
{
	uint64_t days = seconds / SECS_PER_DAY, rem = seconds % SECS_PER_DAY;
	uint64_t z = days + 719468, era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	uint32_t month = (uint32_t)(mp < 10 ? mp + 3 : mp - 9);

	t->year = (uint32_t)(yoe + era * 400 + (month <= 2));
	t->month = (uint8_t)month;
	t->day = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
	t->hour = (uint8_t)(rem / 3600);
	t->minute = (uint8_t)(rem / 60 % 60);
	t->second = (uint8_t)(rem % 60);
	t->weekday = (uint8_t)((days + 4) % 7);	/* 1970-01-01 was a Thursday */
}

bool civil_valid(const struct civil_time *t)
{
	static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (t->year % 4 == 0 && t->year % 100 != 0) || t->year % 400 == 0;

	if (t->year < 1970 || t->year > 9999 || t->month < 1 || t->month > 12 || t->day < 1 ||
	    t->hour > 23 || t->minute > 59 || t->second > 59) {
		return false;
	}
	return t->day <= mdays[t->month - 1] && (t->month != 2 || t->day <= 28 || leap);
}
