/* SPDX-License-Identifier: MIT */
/* console.c: a small printf and line-buffered output through KEEL_HC_CONSOLE_WRITE. */
#include "keeltest64.h"

/* One page, so that every write is a buffer within one page as the call requires. */
static char line[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static size_t line_len;
/* Output made before KEEL_HC_IDENTIFY, when the console call is not allowed yet. */
static char early[8192];
static size_t early_len;
static bool console_ready;

void kt_early_puts(const char *s);

void kt_early_puts(const char *s)
{
	while (*s != '\0') {
		__asm__ volatile("outb %0, $0xe9" : : "a"(*s));
		s++;
	}
}

void kt_console_flush(void)
{
	if (!console_ready || line_len == 0) {
		return;
	}
	/* Accepted, or the console is broken: a failed write cannot be reported anyway. */
	keel_hypercall2(KEEL_HC_CONSOLE_WRITE, KT_GPA(line), line_len);
	line_len = 0;
}

static void console_putc(char c)
{
	if (!console_ready) {
		if (early_len < sizeof(early)) {
			early[early_len++] = c;
		}
		return;
	}
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line)) {
		kt_console_flush();
	}
}

void kt_console_identified(void)
{
	console_ready = true;
	for (size_t i = 0; i < early_len; i++) {
		console_putc(early[i]);
	}
	early_len = 0;
	kt_console_flush();
}

struct out {
	char *buf;		/* NULL: to the console */
	size_t size;
	size_t len;
};

static void out_c(struct out *o, char c)
{
	if (o->buf == NULL) {
		console_putc(c);
	} else if (o->len + 1 < o->size) {
		o->buf[o->len] = c;
	}
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0) {
		out_c(o, c);
	}
}

struct spec {
	bool left;
	bool zero;
	bool alt;
	int width;
	int prec;
};

static void out_str(struct out *o, const char *s, const struct spec *sp)
{
	int len = 0;

	if (s == NULL) {
		s = "(null)";
	}
	while (s[len] != '\0' && (sp->prec < 0 || len < sp->prec)) {
		len++;
	}
	if (!sp->left) {
		out_pad(o, ' ', sp->width - len);
	}
	for (int i = 0; i < len; i++) {
		out_c(o, s[i]);
	}
	if (sp->left) {
		out_pad(o, ' ', sp->width - len);
	}
}

static void out_num(struct out *o, uint64_t v, unsigned int base, bool neg, bool upper,
		    const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, extra, total;
	const char *prefix = "";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	if (neg) {
		prefix = "-";
	} else if (sp->alt && base == 16) {
		prefix = upper ? "0X" : "0x";
	}
	extra = (int)kt_strlen(prefix);
	total = n + extra;
	if (sp->zero && !sp->left) {
		for (const char *p = prefix; *p; p++) {
			out_c(o, *p);
		}
		out_pad(o, '0', sp->width - n - extra);
	} else {
		if (!sp->left) {
			out_pad(o, ' ', sp->width - n - extra);
		}
		for (const char *p = prefix; *p; p++) {
			out_c(o, *p);
		}
	}
	while (n > 0) {
		out_c(o, tmp[--n]);
	}
	if (sp->left) {
		out_pad(o, ' ', sp->width - total);
	}
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
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
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		while (*f >= '0' && *f <= '9') {
			sp->prec = sp->prec * 10 + (*f++ - '0');
		}
	}
	return f;
}

static void format(struct out *o, const char *f, va_list ap0)
{
	va_list ap;

	va_copy(ap, ap0);
	for (; *f != '\0'; f++) {
		struct spec sp;
		int lng = 0;
		uint64_t u;
		int64_t s;

		if (*f != '%') {
			out_c(o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &ap);
		while (*f == 'l' || *f == 'z' || *f == 'h') {
			if (*f == 'l' || *f == 'z') {
				lng++;
			}
			f++;
		}
		switch (*f) {
		case 'c':
			out_c(o, (char)va_arg(ap, int));
			break;
		case 's':
			out_str(o, va_arg(ap, const char *), &sp);
			break;
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			out_num(o, s < 0 ? (uint64_t)-s : (uint64_t)s, 10, s < 0, false, &sp);
			break;
		case 'u':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			out_num(o, u, 10, false, false, &sp);
			break;
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			out_num(o, u, 16, false, *f == 'X', &sp);
			break;
		case 'p':
			sp.alt = true;
			out_num(o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, false, &sp);
			break;
		case '%':
			out_c(o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			out_c(o, '%');
			out_c(o, *f);
			break;
		}
	}
	va_end(ap);
}

int kt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	format(&o, fmt, ap);
	if (size > 0) {
		buf[o.len < size ? o.len : size - 1] = '\0';
	}
	return (int)o.len;
}

int kt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kt_vprintf(const char *fmt, va_list ap)
{
	struct out o = { NULL, 0, 0 };

	format(&o, fmt, ap);
}

void kt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vprintf(fmt, ap);
	va_end(ap);
}

void keeltest_result(const char *name, enum keeltest_result r, const char *fmt, ...)
{
	static const char *const words[] = { "SUCCESS", "SKIP", "ERROR", "FAILURE" };
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	kt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kt_console_flush();
	kt_printf("keeltest: %s: %s%s%s\n", name, words[r], msg[0] ? " " : "", msg);
	kt_console_flush();
}

const char *kt_errname(long rc)
{
	static const char *const names[] = {
		"OK", "EPERM", "ENOENT", "ESRCH", "EINVAL", "EFAULT", "ENOMEM", "EBUSY", "EEXIST",
		"ENOSPC", "ENOSYS", "EAGAIN", "EACCES", "E2BIG", "EVERSION", "ENOTIDENT",
		"EOPNOTSUPP",
	};

	if (rc > 0) {
		return "positive";
	}
	if (-rc < (long)KT_ARRAY_SIZE(names)) {
		return names[-rc];
	}
	return "unknown";
}
