/* SPDX-License-Identifier: MIT */
/* pvdrivers/core/format.c - kpv_snprintf() and kpv_log(): printf without a C library. */
#include "internal.h"

/* A log line, formatted on the stack: long enough for every message here. */
#define KPV_LOG_LINE	192

struct out {
	char *buf;
	size_t size;
	size_t len;			/* what would have been written */
};

struct spec {
	bool left;			/* '-' */
	bool zero;			/* '0' */
	unsigned int width;
	unsigned int longs;		/* 'l' count; 'z' counts as 2 */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size) {
		o->buf[o->len] = c;
	}
	o->len++;
}

static void pad(struct out *o, unsigned int n, char c)
{
	while (n--) {
		put(o, c);
	}
}

static void put_str(struct out *o, const struct spec *sp, const char *s)
{
	unsigned int n = 0;

	if (!s) {
		s = "(null)";
	}
	while (s[n]) {
		n++;
	}
	if (!sp->left && sp->width > n) {
		pad(o, sp->width - n, ' ');
	}
	for (unsigned int i = 0; i < n; i++) {
		put(o, s[i]);
	}
	if (sp->left && sp->width > n) {
		pad(o, sp->width - n, ' ');
	}
}

/*
 * The digits of @v, most significant first, into @tmp; their count. No
 * 64-bit division: 32-bit kernels lack the compiler's helper for it, so
 * decimal digits come from subtracting powers of ten.
 */
static unsigned int digits_of(unsigned long long v, unsigned int base, bool upper, char *tmp)
{
	static const unsigned long long pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull,
		1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	unsigned int n = 0, k = 1;

	if (base == 16) {
		while (k < 16 && (v >> (4 * k))) {
			k++;
		}
		while (k--) {
			tmp[n++] = digits[(v >> (4 * k)) & 15];
		}
		return n;
	}
	for (k = 19; k > 0 && v < pow10[k]; k--) {
	}
	for (;; k--) {
		unsigned int d = 0;

		while (v >= pow10[k]) {
			v -= pow10[k];
			d++;
		}
		tmp[n++] = digits[d];
		if (k == 0) {
			return n;
		}
	}
}

static void put_num(struct out *o, const struct spec *sp, unsigned long long v,
		    unsigned int base, bool negative, bool upper)
{
	char tmp[24];
	unsigned int n = digits_of(v, base, upper, tmp), len = n + (negative ? 1 : 0);

	if (!sp->left && !sp->zero && sp->width > len) {
		pad(o, sp->width - len, ' ');
	}
	if (negative) {
		put(o, '-');
	}
	if (!sp->left && sp->zero && sp->width > len) {
		pad(o, sp->width - len, '0');
	}
	for (unsigned int i = 0; i < n; i++) {
		put(o, tmp[i]);
	}
	if (sp->left && sp->width > len) {
		pad(o, sp->width - len, ' ');
	}
}

static unsigned long long take_unsigned(va_list *ap, unsigned int longs)
{
	if (longs >= 2) {
		return va_arg(*ap, unsigned long long);
	}
	if (longs == 1) {
		return va_arg(*ap, unsigned long);
	}
	return va_arg(*ap, unsigned int);
}

static long long take_signed(va_list *ap, unsigned int longs)
{
	if (longs >= 2) {
		return va_arg(*ap, long long);
	}
	if (longs == 1) {
		return va_arg(*ap, long);
	}
	return va_arg(*ap, int);
}

/* Read flags, width and length modifiers at *@fmt; leaves it at the conversion. */
static void parse_spec(const char **fmt, struct spec *sp)
{
	const char *f = *fmt;

	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '-') {
			sp->left = true;
		} else if (*f == '0') {
			sp->zero = true;
		} else {
			break;
		}
	}
	while (*f >= '0' && *f <= '9') {
		if (sp->width < 1000) {
			sp->width = sp->width * 10 + (unsigned int)(*f - '0');
		}
		f++;
	}
	for (;; f++) {
		if (*f == 'l') {
			sp->longs++;
		} else if (*f == 'z') {
			sp->longs = 2;	/* size_t is at most unsigned long long */
		} else {
			break;
		}
	}
	*fmt = f;
}

static void convert(struct out *o, const struct spec *sp, char c, va_list *ap)
{
	long long s;

	switch (c) {
	case 's':
		put_str(o, sp, va_arg(*ap, const char *));
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case 'd':
	case 'i':
		s = take_signed(ap, sp->longs);
		put_num(o, sp, s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s, 10,
			s < 0, false);
		break;
	case 'u':
		put_num(o, sp, take_unsigned(ap, sp->longs), 10, false, false);
		break;
	case 'x':
	case 'X':
		put_num(o, sp, take_unsigned(ap, sp->longs), 16, false, c == 'X');
		break;
	case 'p':
		put(o, '0');
		put(o, 'x');
		put_num(o, sp, (unsigned long long)(uintptr_t)va_arg(*ap, void *), 16, false, false);
		break;
	case '%':
		put(o, '%');
		break;
	default:
		/* Unknown conversion: show it rather than guess its argument. */
		put(o, '%');
		put(o, c);
		break;
	}
}

int kpv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &sp);
		if (!*fmt) {
			break;
		}
		convert(&o, &sp, *fmt++, &args);
	}
	va_end(args);
	if (size) {
		buf[o.len < size ? o.len : size - 1] = '\0';
	}
	return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int kpv_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kpv_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kpv_log(enum kpv_log_level level, const char *fmt, ...)
{
	char line[KPV_LOG_LINE];
	va_list ap;

	va_start(ap, fmt);
	kpv_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	kpv_shim_log(level, line);
}
