/* SPDX-License-Identifier: MIT */
/* lib/format.c - bounded printf-style formatting for logs and messages. */
#include <keel/format.h>

struct sink {
	char *buf;
	size_t size;
	size_t len;	/* what the full output would be */
};

static void put(struct sink *s, char c)
{
	if (s->len + 1 < s->size) {
		s->buf[s->len] = c;
	}
	s->len++;
}

static void put_repeat(struct sink *s, char c, int n)
{
	while (n-- > 0) {
		put(s, c);
	}
}

struct spec {
	bool left;
	bool zero;
	bool alt;
	int width;
	int precision;	/* -1: none */
	int length;	/* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t */
};

static void put_number(struct sink *s, const struct spec *sp, uint64_t v,
		       bool negative, unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, prefix = 0, pad;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative) {
		prefix = 1;
	} else if (sp->alt && base == 16) {
		prefix = 2;
	}
	pad = sp->width - n - prefix;
	if (!sp->left && !sp->zero) {
		put_repeat(s, ' ', pad);
	}
	if (negative) {
		put(s, '-');
	} else if (prefix == 2) {
		put(s, '0');
		put(s, upper ? 'X' : 'x');
	}
	if (!sp->left && sp->zero) {
		put_repeat(s, '0', pad);
	}
	while (n) {
		put(s, tmp[--n]);
	}
	if (sp->left) {
		put_repeat(s, ' ', pad);
	}
}

static void put_string(struct sink *s, const struct spec *sp, const char *str)
{
	int n = 0, pad;

	if (!str) {
		str = "(null)";
	}
	/* Precision first: with one, @str need not be NUL-terminated. */
	while ((sp->precision < 0 || n < sp->precision) && str[n]) {
		n++;
	}
	pad = sp->width - n;
	if (!sp->left) {
		put_repeat(s, ' ', pad);
	}
	for (int i = 0; i < n; i++) {
		put(s, str[i]);
	}
	if (sp->left) {
		put_repeat(s, ' ', pad);
	}
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-') {
			sp->left = true;
		} else if (*f == '0') {
			sp->zero = true;
		} else if (*f == '#') {
			sp->alt = true;
		} else {
			break;
		}
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9') {
		sp->width = sp->width * 10 + (*f++ - '0');
	}
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9') {
			sp->precision = sp->precision * 10 + (*f++ - '0');
		}
	}
	if (*f == 'l') {
		sp->length = (f[1] == 'l') ? 2 : 1;
		f += sp->length;
	} else if (*f == 'h') {
		sp->length = (f[1] == 'h') ? -2 : -1;
		f += (f[1] == 'h') ? 2 : 1;
	} else if (*f == 'z') {
		sp->length = 3;
		f++;
	}
	return f;
}

static uint64_t get_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 1:
		return va_arg(*ap, unsigned long);
	case 2:
		return va_arg(*ap, unsigned long long);
	case 3:
		return va_arg(*ap, size_t);
	case -1:
		return (unsigned short)va_arg(*ap, unsigned int);
	case -2:
		return (unsigned char)va_arg(*ap, unsigned int);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t get_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 1:
		return va_arg(*ap, long);
	case 2:
		return va_arg(*ap, long long);
	case 3:
		return (int64_t)va_arg(*ap, size_t);
	case -1:
		return (short)va_arg(*ap, int);
	case -2:
		return (signed char)va_arg(*ap, int);
	default:
		return va_arg(*ap, int);
	}
}

static void put_conversion(struct sink *s, struct spec *sp, char conv,
			   va_list *ap)
{
	int64_t sv;

	switch (conv) {
	case 'd':
	case 'i':
		sv = get_signed(sp, ap);
		put_number(s, sp, sv < 0 ? (uint64_t)0 - (uint64_t)sv : (uint64_t)sv,
			   sv < 0, 10, false);
		break;
	case 'u':
		put_number(s, sp, get_unsigned(sp, ap), false, 10, false);
		break;
	case 'x':
	case 'X':
		put_number(s, sp, get_unsigned(sp, ap), false, 16, conv == 'X');
		break;
	case 'o':
		put_number(s, sp, get_unsigned(sp, ap), false, 8, false);
		break;
	case 'p':
		sp->alt = true;
		put_number(s, sp, (uintptr_t)va_arg(*ap, void *), false, 16, false);
		break;
	case 'c':
		put_repeat(s, ' ', sp->left ? 0 : sp->width - 1);
		put(s, (char)va_arg(*ap, int));
		put_repeat(s, ' ', sp->left ? sp->width - 1 : 0);
		break;
	case 's':
		put_string(s, sp, va_arg(*ap, const char *));
		break;
	case '%':
		put(s, '%');
		break;
	default:
		/* Unknown conversion: show it rather than guess its argument. */
		put(s, '%');
		put(s, conv);
		break;
	}
}

size_t format_v(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };
	struct spec sp;
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&s, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp, &args);
		if (!*fmt) {
			break;
		}
		put_conversion(&s, &sp, *fmt++, &args);
	}
	va_end(args);
	if (size) {
		buf[s.len < size ? s.len : size - 1] = '\0';
	}
	return s.len;
}

size_t format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = format_v(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
