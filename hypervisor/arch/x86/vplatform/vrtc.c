/* SPDX-License-Identifier: MIT */
/*
 * vplatform/vrtc.c - a domain's CMOS real-time clock at ports 0x70/0x71:
 * the time and date registers (BCD or binary, 12- or 24-hour, as register
 * B says), the century byte at 0x32, status registers A to D, and the rest
 * of the 128 bytes as plain storage.
 *
 * The clock starts at Keel's wall clock (x86/wallclock.h) and runs with
 * Keel's monotonic clock; a guest that sets it moves only its own. There
 * are no interrupts: alarm, periodic and update-ended interrupts are never
 * raised and register C always reads 0. Register A never shows an update
 * in progress, since every read computes a consistent time.
 */
#include <arch/arch.h>
#include <keel/heap.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <public/keel/errno.h>
#include <x86/vdevices.h>
#include <x86/wallclock.h>

#define REG_SECONDS	0x00
#define REG_MINUTES	0x02
#define REG_HOURS	0x04
#define REG_WEEKDAY	0x06
#define REG_DAY		0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32	/* the FADT's CENTURY field points here */
#define CMOS_BYTES	128

#define A_UIP		0x80
#define B_SET		0x80	/* the guest is setting the clock: it stops */
#define B_BINARY	0x04
#define B_24H		0x02
#define D_VRT		0x80	/* the battery is fine */
#define HOUR_PM		0x80
#define NS_PER_SEC	1000000000ull

struct vrtc {
	struct spinlock lock;		/* guards everything below */
	uint8_t index;			/* last written to port 0x70 */
	uint8_t reg_a, reg_b;
	uint64_t base_seconds;		/* the clock read this at base_ns (or all along while B_SET) */
	uint64_t base_ns;
	struct civil_time held;		/* while B_SET: the time being written, unchecked */
	uint8_t cmos[CMOS_BYTES];	/* the bytes that are only storage */
};

static struct vrtc *rtc_of(struct domain *d)
{
	return vplatform_of(d)->rtc;
}

static uint64_t now_seconds(const struct vrtc *r)
{
	if (r->reg_b & B_SET) {
		return r->base_seconds;
	}
	return r->base_seconds + (arch_time_ns() - r->base_ns) / NS_PER_SEC;
}

static void set_seconds(struct vrtc *r, uint64_t seconds)
{
	r->base_seconds = seconds;
	r->base_ns = arch_time_ns();	/* the new second starts now */
}

static uint8_t encode(const struct vrtc *r, unsigned int v)
{
	return (r->reg_b & B_BINARY) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* A written value in the guest's format; 0xff if it is not valid BCD. */
static unsigned int decode(const struct vrtc *r, uint8_t v)
{
	if (r->reg_b & B_BINARY) {
		return v;
	}
	return ((v & 0x0f) > 9 || (v >> 4) > 9) ? 0xff : (v >> 4) * 10u + (v & 0x0f);
}

static uint8_t read_time(const struct vrtc *r, unsigned int reg)
{
	struct civil_time t;
	unsigned int h12;

	if (r->reg_b & B_SET) {
		t = r->held;	/* as written so far, as on hardware */
		if (civil_valid(&t)) {
			civil_from_seconds(civil_to_seconds(&t), &t);	/* its weekday */
		}
	} else {
		civil_from_seconds(now_seconds(r), &t);
	}
	switch (reg) {
	case REG_SECONDS:
		return encode(r, t.second);
	case REG_MINUTES:
		return encode(r, t.minute);
	case REG_HOURS:
		if (r->reg_b & B_24H) {
			return encode(r, t.hour);
		}
		h12 = t.hour % 12 ? t.hour % 12 : 12;
		return (uint8_t)(encode(r, h12) | (t.hour >= 12 ? HOUR_PM : 0));
	case REG_WEEKDAY:
		return encode(r, t.weekday + 1u);	/* 1 = Sunday */
	case REG_DAY:
		return encode(r, t.day);
	case REG_MONTH:
		return encode(r, t.month);
	case REG_YEAR:
		return encode(r, t.year % 100);
	default:
		return encode(r, t.year / 100);
	}
}

/*
 * Set one field of the date or time. While B_SET is on (how guests set the
 * clock) fields are only collected, and the whole time is taken when
 * B_SET goes off: a date may pass through impossible ones on the way
 * (January 31st to February 15th, month first). Otherwise the field
 * changes at once. A time that does not exist (a field out of range,
 * February 30th) is ignored, where a real clock would count from
 * nonsense. The day of the week follows from the date; writes to it are
 * ignored.
 */
static void write_time(struct vrtc *r, unsigned int reg, uint8_t value)
{
	struct civil_time t;
	unsigned int v;

	if (r->reg_b & B_SET) {
		t = r->held;
	} else {
		civil_from_seconds(now_seconds(r), &t);
	}
	if (reg == REG_HOURS && !(r->reg_b & B_24H)) {
		v = decode(r, value & 0x7f);
		v = v >= 1 && v <= 12 ? v % 12 + ((value & HOUR_PM) ? 12 : 0) : 0xff;
	} else {
		v = decode(r, value);
	}
	v = MIN(v, 0xffu);
	switch (reg) {
	case REG_SECONDS:
		t.second = (uint8_t)v;
		break;
	case REG_MINUTES:
		t.minute = (uint8_t)v;
		break;
	case REG_HOURS:
		t.hour = (uint8_t)v;
		break;
	case REG_DAY:
		t.day = (uint8_t)v;
		break;
	case REG_MONTH:
		t.month = (uint8_t)v;
		break;
	case REG_YEAR:
		t.year = t.year / 100 * 100 + MIN(v, 99u);
		break;
	case REG_CENTURY:
		t.year = MIN(v, 99u) * 100 + t.year % 100;
		break;
	default:
		return;	/* weekday */
	}
	if (r->reg_b & B_SET) {
		r->held = t;
	} else if (civil_valid(&t)) {
		set_seconds(r, civil_to_seconds(&t));
	}
}

static bool is_time_reg(unsigned int reg)
{
	return reg == REG_SECONDS || reg == REG_MINUTES || reg == REG_HOURS ||
	       reg == REG_WEEKDAY || reg == REG_DAY || reg == REG_MONTH || reg == REG_YEAR ||
	       reg == REG_CENTURY;
}

static uint8_t read_reg(struct vrtc *r, unsigned int reg)
{
	if (is_time_reg(reg)) {
		return read_time(r, reg);
	}
	switch (reg) {
	case REG_A:
		return r->reg_a & ~A_UIP;
	case REG_B:
		return r->reg_b;
	case REG_C:
		return 0;	/* no interrupt flags: none are generated */
	case REG_D:
		return D_VRT;
	default:
		return r->cmos[reg];
	}
}

static void write_reg(struct vrtc *r, unsigned int reg, uint8_t value)
{
	if (is_time_reg(reg)) {
		write_time(r, reg, value);
		return;
	}
	switch (reg) {
	case REG_A:
		r->reg_a = value & ~A_UIP;	/* divider and rate stored, with no effect */
		break;
	case REG_B:
		if ((value & B_SET) && !(r->reg_b & B_SET)) {
			/* Stop the clock; the fields written from now on are collected. */
			r->base_seconds = now_seconds(r);
			civil_from_seconds(r->base_seconds, &r->held);
		} else if (!(value & B_SET) && (r->reg_b & B_SET)) {
			/* Start it again, from the time written if it exists. */
			set_seconds(r, civil_valid(&r->held) ? civil_to_seconds(&r->held)
							     : r->base_seconds);
		}
		r->reg_b = value;
		break;
	case REG_C:
	case REG_D:
		break;	/* read-only */
	default:
		r->cmos[reg] = value;
		break;
	}
}

bool vrtc_pio(struct domain *d, uint16_t port, unsigned int size, bool in, uint32_t *value)
{
	struct vrtc *r = rtc_of(d);
	uint32_t result = 0;
	unsigned long flags;

	if (!r || port < VRTC_PORT || port > VRTC_PORT + 1) {
		return false;
	}
	flags = spin_lock_irqsave(&r->lock);
	for (unsigned int i = 0; i < size; i++) {
		unsigned int p = port + i;
		uint8_t b = 0xff;	/* the index port is write-only; beyond 0x71 nothing answers */

		if (p == VRTC_PORT && !in) {
			r->index = (uint8_t)(*value >> (8 * i)) & 0x7f;	/* bit 7: NMI mask, no NMIs here */
		} else if (p == VRTC_PORT + 1 && in) {
			b = read_reg(r, r->index);
		} else if (p == VRTC_PORT + 1) {
			write_reg(r, r->index, (uint8_t)(*value >> (8 * i)));
		}
		result |= (uint32_t)b << (8 * i);
	}
	spin_unlock_irqrestore(&r->lock, flags);
	if (in) {
		*value = result;
	}
	return true;
}

int vrtc_create(struct domain *d)
{
	struct vrtc *r = heap_alloc(sizeof(*r));

	if (!r) {
		return -KEEL_ENOMEM;
	}
	memset(r, 0, sizeof(*r));
	r->lock = (struct spinlock)SPINLOCK_INIT;
	r->reg_a = 0x26;	/* 32.768 kHz time base, 1024 Hz rate: what PC firmware sets */
	r->reg_b = B_24H;	/* BCD, 24-hour, like PC firmware leaves it */
	set_seconds(r, wallclock_now());
	vplatform_of(d)->rtc = r;
	return 0;
}

void vrtc_destroy(struct domain *d)
{
	struct vplatform *p = vplatform_of(d);

	if (p->rtc) {
		heap_free(p->rtc);
		p->rtc = NULL;
	}
}
