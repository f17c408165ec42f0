/* SPDX-License-Identifier: MIT */
/* rtc.c: the CMOS clock at 0x70/0x71: sane, advancing, in every format, settable. */
#include "pcplat.h"

#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define CENTURY		0x32
#define B_SET		0x80
#define B_BINARY	0x04
#define B_24H		0x02

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_set(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static bool bcd_ok(uint8_t v)
{
	return (v & 0x0f) <= 9 && (v >> 4) <= 9;
}

static unsigned int bcd(uint8_t v)
{
	return (v >> 4) * 10u + (v & 0x0f);
}

/* Seconds since midnight, in BCD 24-hour mode. */
static unsigned int day_seconds(void)
{
	return bcd(cmos(4)) * 3600 + bcd(cmos(2)) * 60 + bcd(cmos(0));
}

static void sane_now(void)
{
	uint8_t s = cmos(0), m = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9);
	uint8_t c = cmos(CENTURY), w = cmos(6);

	kt_check(bcd_ok(s) && bcd_ok(m) && bcd_ok(h) && bcd_ok(d) && bcd_ok(mo) && bcd_ok(y) &&
		 bcd_ok(c) && bcd_ok(w), "every field is BCD",
		 "%02x:%02x:%02x %02x-%02x-%02x%02x wd %02x", h, m, s, d, mo, c, y, w);
	kt_check(bcd(s) < 60 && bcd(m) < 60 && bcd(h) < 24 && bcd(d) >= 1 && bcd(d) <= 31 &&
		 bcd(mo) >= 1 && bcd(mo) <= 12 && bcd(w) >= 1 && bcd(w) <= 7,
		 "every field in range", "%02x:%02x:%02x %02x-%02x wd %02x", h, m, s, d, mo, w);
	/* The host's clock (QEMU's) is today's date: the tables were built long after 2024. */
	kt_check(bcd(c) * 100 + bcd(y) >= 2024 && bcd(c) * 100 + bcd(y) < 2200,
		 "the year is today's", "%02x%02x", c, y);
	kt_note("RTC: %02x%02x-%02x-%02x %02x:%02x:%02x", c, y, mo, d, h, m, s);
}

static void advancing(void)
{
	unsigned int t0 = day_seconds(), t1, diff;

	kt_sleep_ns(1500 * KT_NS_PER_MS);
	t1 = day_seconds();
	diff = (t1 + 86400 - t0) % 86400;
	kt_check(diff >= 1 && diff <= 3, "1.5 s later the clock moved 1 or 2 s", "moved %u s",
		 diff);
}

static void formats(void)
{
	uint8_t m_bcd, m_bin, h24, h12;

	m_bcd = cmos(2);
	cmos_set(REG_B, B_BINARY | B_24H);
	m_bin = cmos(2);
	h24 = cmos(4);
	kt_check(m_bin == bcd(m_bcd) || m_bin == (bcd(m_bcd) + 1) % 60, "binary minutes",
		 "BCD %02x, binary %u", m_bcd, m_bin);
	cmos_set(REG_B, B_BINARY);		/* 12-hour */
	h12 = cmos(4);
	kt_check((h12 & 0x7f) >= 1 && (h12 & 0x7f) <= 12 &&
		 ((h12 & 0x7f) % 12 + ((h12 & 0x80) ? 12 : 0)) % 24 == h24 % 24,
		 "12-hour mode with the PM bit", "24 h %u, 12 h %#x", h24, h12);
	cmos_set(REG_B, B_24H);
	kt_check_eq("register B as written", cmos(REG_B), B_24H);
}

static void setting(void)
{
	uint8_t s0;

	/* Month first, through a day that does not exist in it: only the end result counts. */
	cmos_set(REG_B, B_SET | B_24H);
	cmos_set(9, 0x31);
	cmos_set(CENTURY, 0x20);
	cmos_set(8, 0x02);
	cmos_set(7, 0x31);
	cmos_set(8, 0x07);
	cmos_set(4, 0x13);
	cmos_set(2, 0x45);
	cmos_set(0, 0x50);
	kt_check_eq("while SET, a register reads as written", cmos(2), 0x45);
	s0 = cmos(0);
	kt_sleep_ns(1100 * KT_NS_PER_MS);
	kt_check_eq("the clock stands still while SET", cmos(0), s0);
	cmos_set(REG_B, B_24H);
	kt_check_eq("hours as set", cmos(4), 0x13);
	kt_check_eq("minutes as set", cmos(2), 0x45);
	kt_check(cmos(0) == 0x50 || cmos(0) == 0x51, "seconds as set", "%02x", cmos(0));
	kt_check_eq("day as set", cmos(7), 0x31);
	kt_check_eq("month as set", cmos(8), 0x07);
	kt_check_eq("year as set", cmos(9), 0x31);
	kt_check_eq("century as set", cmos(CENTURY), 0x20);
	kt_check_eq("2031-07-31 is a Thursday (5)", cmos(6), 0x05);
	cmos_set(8, 0x13);
	kt_check_eq("month 13 is ignored", cmos(8), 0x07);
	cmos_set(8, 0x06);
	kt_check_eq("June 31st is ignored", cmos(8), 0x07);
	cmos_set(4, 0x99);
	kt_check_eq("hour 99 is ignored", cmos(4), 0x13);
}

void test_rtc(void)
{
	kt_group_begin("pcplat-rtc");
	kt_check_eq("register D: valid RAM and time", cmos(REG_D), 0x80);
	kt_check_eq("register A: no update in progress", cmos(REG_A) & 0x80, 0);
	kt_check_eq("register C: no interrupt flags", cmos(REG_C), 0);
	kt_check_eq("register B: BCD, 24-hour", cmos(REG_B), B_24H);
	kt_check_eq("the index port reads as nothing", inb(0x70), 0xff);
	cmos_set(0x40, 0x5a);
	kt_check_eq("a plain CMOS byte keeps what was written", cmos(0x40), 0x5a);
	cmos_set(REG_D, 0);
	kt_check_eq("register D is read-only", cmos(REG_D), 0x80);
	sane_now();
	advancing();
	formats();
	setting();
	kt_group_end();
}
