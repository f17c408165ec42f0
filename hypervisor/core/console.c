/* SPDX-License-Identifier: MIT */
/*
 * core/console.c - the hypervisor console: per-domain output rings and input
 * queues, domain lines on the serial console, and the operator's input.
 *
 * keel/console.h gives the behaviour and the lock order; docs/console.md is
 * the operator's view of it.
 */
#include <stdarg.h>
#include <arch/arch.h>
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/format.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <keel/schedule.h>
#include <keel/spinlock.h>
#include <keel/string.h>
#include <keel/timer.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>

/*
 * The rate limit is a token bucket kept as the time at which it will be
 * full again: each character written pushes that time NS_PER_CHAR later,
 * and the bucket is empty when it lies BURST_NS ahead. One number, no
 * periodic refill.
 */
#define NS_PER_CHAR	(1000000000ull / CONSOLE_RATE)
#define BURST_NS	((uint64_t)CONSOLE_BURST * NS_PER_CHAR)

#define PREFIX_MAX	48	/* "[d4294967295 " + a 31-character name + "] " */
#define UI_LINE_MAX	200	/* one line of Keel's own console messages */
#define CTRL_A		0x01
#define SWITCH_PRESSES	3
#define POLL_BYTES_MAX	256	/* a longer paste waits for the next poll */

struct console_domain {
	struct domain *d;			/* (c) */
	struct console_domain *next;		/* [list_lock] ascending domid */
	bool serial_input;			/* [list_lock] the operator may type here */
	char prefix[PREFIX_MAX];		/* (c) "[d3 ping] " */
	size_t prefix_len;			/* (c) */
	struct spinlock lock;			/* guards everything below */
	uint64_t out_pos;			/* stream position of the next output byte */
	uint64_t full_at;			/* the bucket is full from this time on */
	uint64_t suppressed;			/* output bytes held back, not yet reported */
	uint64_t line_since;			/* arrival of the partial line's first byte */
	bool part_out;				/* part of the current line already written */
	size_t line_len;			/* serial characters in line[] */
	size_t line_raw;			/* output bytes they stand for */
	size_t in_head;				/* input queue: index of the oldest byte */
	size_t in_count;			/* input queue: bytes held */
	void (*input_sink)(struct domain *d);	/* (atomic) an emulated device takes the input */
	char line[CONSOLE_LINE_MAX];		/* the partial line, escaped */
	uint8_t in[CONSOLE_INPUT_SIZE];
	uint8_t ring[CONSOLE_RING_SIZE];	/* the byte at position p is ring[p % size] */
	uint8_t scratch[KEEL_PAGE_SIZE];	/* one call's bytes, copied once */
};
/* (c): set by console_domain_create(), constant afterwards. */

static struct spinlock list_lock = SPINLOCK_INIT;
static struct console_domain *consoles;	/* [list_lock] every console, ascending domid */
static uint32_t input_domid;			/* [list_lock] serial input to (0: Keel) */

static struct spinlock poll_lock = SPINLOCK_INIT;
static unsigned int ctrl_a_held;		/* [poll_lock] Ctrl-A pressed in a row */
static uint64_t last_flush;			/* [poll_lock] */
static struct timer wake;			/* wakes the polling CPU; init [poll_lock] */
static bool wake_ready;				/* [poll_lock] */
static bool wake_armed;				/* (atomic) */

/* ---- Serial side ------------------------------------------------------------ */

static void ui_line(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* One line of Keel's own console messages, marked as Keel's. */
static void ui_line(const char *fmt, ...)
{
	static const char mark[] = "[keel] ";
	char line[UI_LINE_MAX];
	size_t n = sizeof(mark) - 1;
	va_list ap;

	memcpy(line, mark, n);
	va_start(ap, fmt);
	n += format_v(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = MIN(n, sizeof(line) - 2);
	line[n++] = '\n';
	log_console_write(line, n);
}

/* How byte @b looks on the serial console: itself, or \xNN. Returns 1 or 4. */
static size_t escape(uint8_t b, char out[4])
{
	static const char hex[] = "0123456789abcdef";

	if ((b >= 0x20 && b < 0x7f) || b == '\t') {
		out[0] = (char)b;
		return 1;
	}
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[b >> 4];
	out[3] = hex[b & 0xf];
	return 4;
}

/* Write one line of @c's to the serial console, whole. */
static void serial_line(const struct console_domain *c, const char *text, size_t len)
{
	(void)log_console_part(c, c->prefix, c->prefix_len, text, len, true);
}

/* Characters the bucket holds at @now. Called with @c->lock held. */
static uint64_t bucket_level(const struct console_domain *c, uint64_t now)
{
	uint64_t debt = c->full_at > now ? c->full_at - now : 0;

	return debt >= BURST_NS ? 0 : (BURST_NS - debt) / NS_PER_CHAR;
}

static bool bucket_take(struct console_domain *c, uint64_t now, size_t chars)
{
	if (bucket_level(c, now) < chars) {
		return false;
	}
	c->full_at = MAX(c->full_at, now) + chars * NS_PER_CHAR;
	return true;
}

/* Report suppressed output (free of charge: once per suppression). */
static void report_suppressed(struct console_domain *c)
{
	char text[40];
	size_t n = format(text, sizeof(text), "(%llu bytes suppressed)",
			  (unsigned long long)c->suppressed);

	serial_line(c, text, MIN(n, sizeof(text) - 1));
	c->part_out = false;
	c->suppressed = 0;
}

/*
 * Write the partial line if there is one, or an empty one if @ended (the
 * domain wrote a bare newline), within the rate limit. A suppression lasts
 * until the bucket holds CONSOLE_RESUME again, so that output comes back in
 * bursts with one report each, not a line at a time with a report each.
 * Called with @c->lock held.
 */
static void line_flush(struct console_domain *c, uint64_t now, bool ended)
{
	if (c->line_len == 0 && !ended) {
		return;
	}
	if (c->suppressed && bucket_level(c, now) >= CONSOLE_RESUME) {
		report_suppressed(c);
	}
	if (!c->suppressed && bucket_take(c, now, c->prefix_len + c->line_len + 1)) {
		/*
		 * A part written earlier (a slow line, flushed when stale) is
		 * continued without a new prefix; a bare newline after a part
		 * that other output already ended adds no empty line.
		 */
		if (c->line_len || !c->part_out) {
			log_console_part(c, c->prefix, c->prefix_len, c->line, c->line_len, ended);
		} else if (ended) {
			log_console_end_part(c);
		}
		c->part_out = !ended;
	} else {
		c->suppressed += c->line_raw;
	}
	c->line_len = 0;
	c->line_raw = 0;
}

/* Feed output bytes to the serial side. Called with @c->lock held. */
static void line_feed(struct console_domain *c, const uint8_t *buf, size_t len, uint64_t now)
{
	for (size_t i = 0; i < len; i++) {
		char esc[4];
		size_t n;

		if (buf[i] == '\n') {
			c->line_raw++;
			line_flush(c, now, true);
			continue;
		}
		if (buf[i] == '\r') {
			/* Lines end at \n; a lone CR would only hide the prefix. */
			c->line_raw++;
			continue;
		}
		n = escape(buf[i], esc);
		if (c->line_len + n > CONSOLE_LINE_MAX) {
			line_flush(c, now, false);
		}
		if (c->line_len == 0) {
			c->line_since = now;
		}
		memcpy(c->line + c->line_len, esc, n);
		c->line_len += n;
		c->line_raw++;
	}
}

/* ---- The output ring and the input queue ------------------------------------ */

/* Append to the ring; only the last CONSOLE_RING_SIZE bytes can be kept. */
static void ring_append(struct console_domain *c, const uint8_t *buf, size_t len)
{
	size_t skip = len > CONSOLE_RING_SIZE ? len - CONSOLE_RING_SIZE : 0;

	c->out_pos += skip;
	buf += skip;
	len -= skip;
	while (len) {
		size_t at = (size_t)(c->out_pos % CONSOLE_RING_SIZE);
		size_t n = MIN(len, CONSOLE_RING_SIZE - at);

		memcpy(c->ring + at, buf, n);
		c->out_pos += n;
		buf += n;
		len -= n;
	}
}

/* Copy @len bytes from stream position @pos, which the ring still holds. */
static void ring_copy(const struct console_domain *c, uint64_t pos, uint8_t *dst, size_t len)
{
	while (len) {
		size_t at = (size_t)(pos % CONSOLE_RING_SIZE);
		size_t n = MIN(len, CONSOLE_RING_SIZE - at);

		memcpy(dst, c->ring + at, n);
		pos += n;
		dst += n;
		len -= n;
	}
}

static uint64_t ring_oldest(const struct console_domain *c)
{
	return c->out_pos - MIN(c->out_pos, (uint64_t)CONSOLE_RING_SIZE);
}

/* Called with @c->lock held. */
static void output_locked(struct console_domain *c, const uint8_t *buf, size_t len, uint64_t now)
{
	ring_append(c, buf, len);
	line_feed(c, buf, len, now);
}

/* Queue input for @d (the caller holds a reference); returns bytes queued. */
static size_t queue_input(struct domain *d, const uint8_t *buf, size_t len)
{
	struct console_domain *c = d->console;
	unsigned long flags = spin_lock_irqsave(&c->lock);
	bool was_empty = c->in_count == 0;
	size_t n = MIN(len, CONSOLE_INPUT_SIZE - c->in_count);
	void (*sink)(struct domain *d);

	for (size_t i = 0; i < n; i++) {
		c->in[(c->in_head + c->in_count + i) % CONSOLE_INPUT_SIZE] = buf[i];
	}
	c->in_count += n;
	sink = __atomic_load_n(&c->input_sink, __ATOMIC_ACQUIRE);
	spin_unlock_irqrestore(&c->lock, flags);
	if (n && sink) {
		sink(d);	/* the device pulls what fits (console_input_take()) */
	}
	if (n && was_empty) {
		/* -KEEL_ENOENT: not bound; the guest polls with CONSOLE_READ. */
		(void)evtchn_raise_virq(d->evtchn, 0, KEEL_VIRQ_CONSOLE);
	}
	return n;
}

/* ---- Lifecycle ----------------------------------------------------------------- */

int console_domain_create(struct domain *d)
{
	struct console_domain *c = heap_alloc(sizeof(*c));	/* zeroed */
	struct console_domain **p;
	unsigned long flags;
	size_t n;

	if (!c) {
		return -KEEL_ENOMEM;
	}
	c->d = d;
	c->lock = (struct spinlock)SPINLOCK_INIT;
	n = format(c->prefix, sizeof(c->prefix), "[d%u %s] ", d->domid, d->name);
	c->prefix_len = MIN(n, sizeof(c->prefix) - 1);
	d->console = c;

	flags = spin_lock_irqsave(&list_lock);
	for (p = &consoles; *p && (*p)->d->domid < d->domid; p = &(*p)->next) {
	}
	c->next = *p;
	*p = c;
	spin_unlock_irqrestore(&list_lock, flags);
	return 0;
}

void console_domain_destroy(struct domain *d)
{
	struct console_domain *c = d->console, **p;
	unsigned long flags;

	if (!c) {
		return;
	}
	flags = spin_lock_irqsave(&list_lock);
	for (p = &consoles; *p != c; p = &(*p)->next) {
	}
	*p = c->next;
	if (input_domid == d->domid) {
		input_domid = 0;
		ui_line("console input: hypervisor (domain %u '%s' is gone)", d->domid, d->name);
	}
	spin_unlock_irqrestore(&list_lock, flags);

	/* Its last words, rate limit permitting; what was held back is counted. */
	flags = spin_lock_irqsave(&c->lock);
	line_flush(c, arch_time_ns(), false);
	if (c->suppressed) {
		report_suppressed(c);
	}
	log_console_end_part(c);	/* its last part must not be continued by a new console at @c */
	spin_unlock_irqrestore(&c->lock, flags);
	d->console = NULL;
	heap_free(c);
}

void console_set_input_sink(struct domain *d, void (*ready)(struct domain *d))
{
	__atomic_store_n(&d->console->input_sink, ready, __ATOMIC_RELEASE);
}

size_t console_input_take(struct domain *d, uint8_t *buf, size_t max)
{
	struct console_domain *c = d->console;
	unsigned long flags = spin_lock_irqsave(&c->lock);
	size_t n = MIN(max, c->in_count);

	for (size_t i = 0; i < n; i++) {
		buf[i] = c->in[(c->in_head + i) % CONSOLE_INPUT_SIZE];
	}
	c->in_head = (c->in_head + n) % CONSOLE_INPUT_SIZE;
	c->in_count -= n;
	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}

void console_set_serial_input(struct domain *d, bool allowed)
{
	unsigned long flags = spin_lock_irqsave(&list_lock);

	d->console->serial_input = allowed;
	spin_unlock_irqrestore(&list_lock, flags);
}

void console_domain_output(struct domain *d, const void *buf, size_t len)
{
	struct console_domain *c = d->console;
	unsigned long flags = spin_lock_irqsave(&c->lock);

	output_locked(c, buf, len, arch_time_ns());
	spin_unlock_irqrestore(&c->lock, flags);
}

/* ---- Hypercalls ------------------------------------------------------------------ */

static bool has_console_cap(const struct domain *d)
{
	return __atomic_load_n(&d->caps, __ATOMIC_RELAXED) & KEEL_CAP_CONSOLE;
}

/*
 * Whether [@gpa, @gpa + @len), already known to lie in one page, is @d's
 * RAM with the rights @need. Checked before anything changes, so that a
 * call that would fail on its buffer fails before it has any effect.
 */
static bool ram_has(struct domain *d, uint64_t gpa, uint64_t len, uint32_t need)
{
	uint32_t rights;
	paddr_t pa;

	if (len == 0) {
		return true;
	}
	return guest_memory_translate(d, gpa >> PAGE_SHIFT, &pa, &rights) &&
	       (rights & need) == need;
}

long console_hc_write(struct domain *d, uint64_t gpa, uint64_t len)
{
	struct console_domain *c = d->console;
	unsigned long flags;

	if (len > KEEL_PAGE_SIZE) {
		return -KEEL_E2BIG;
	}
	if (!guest_range_in_page(gpa, len)) {
		return -KEEL_EFAULT;
	}
	/* Copied once into Keel, under the lock: one call's bytes stay together. */
	flags = spin_lock_irqsave(&c->lock);
	if (guest_copy_from(d, gpa, c->scratch, len) != 0) {
		spin_unlock_irqrestore(&c->lock, flags);
		return -KEEL_EFAULT;
	}
	output_locked(c, c->scratch, len, arch_time_ns());
	spin_unlock_irqrestore(&c->lock, flags);
	return (long)len;
}

long console_hc_read(struct domain *d, uint64_t gpa, uint64_t cap)
{
	struct console_domain *c = d->console;
	unsigned long flags;
	size_t n;

	if (cap > KEEL_PAGE_SIZE) {
		return -KEEL_E2BIG;
	}
	if (!guest_range_in_page(gpa, cap) || !ram_has(d, gpa, cap, GUEST_WRITE)) {
		return -KEEL_EFAULT;
	}
	flags = spin_lock_irqsave(&c->lock);
	n = (size_t)MIN(cap, (uint64_t)c->in_count);
	for (size_t i = 0; i < n; i++) {
		c->scratch[i] = c->in[(c->in_head + i) % CONSOLE_INPUT_SIZE];
	}
	/* The bytes leave the queue only once they are in the guest's buffer. */
	if (guest_copy_to(d, gpa, c->scratch, n) != 0) {
		spin_unlock_irqrestore(&c->lock, flags);
		return -KEEL_EFAULT;
	}
	c->in_head = (c->in_head + n) % CONSOLE_INPUT_SIZE;
	c->in_count -= n;
	spin_unlock_irqrestore(&c->lock, flags);
	return (long)n;
}

/* READ_DOMAIN's checks from step 7 on, and the copy, for target @t. */
static long read_stream(struct domain *d, struct domain *t, struct keel_stream_read *sr)
{
	struct console_domain *c = t->console;
	uint64_t oldest, start;
	unsigned long flags;
	size_t n;
	int rc;

	if (sr->buf_len > KEEL_PAGE_SIZE) {
		return -KEEL_E2BIG;
	}
	if (!guest_range_in_page(sr->buf_gpa, sr->buf_len) ||
	    !ram_has(d, sr->buf_gpa, sr->buf_len, GUEST_WRITE)) {
		return -KEEL_EFAULT;
	}
	if (sr->buf_len == 0 || sr->pad0 != 0) {
		return -KEEL_EINVAL;
	}
	flags = spin_lock_irqsave(&c->lock);
	oldest = ring_oldest(c);
	start = MAX(sr->pos, oldest);
	n = start < c->out_pos ? (size_t)MIN(c->out_pos - start, (uint64_t)sr->buf_len) : 0;
	ring_copy(c, start, c->scratch, n);
	rc = guest_copy_to(d, sr->buf_gpa, c->scratch, n);
	spin_unlock_irqrestore(&c->lock, flags);
	if (rc != 0) {
		return -KEEL_EFAULT;
	}
	sr->len = (uint32_t)n;
	sr->next_pos = start + n;
	sr->oldest_pos = oldest;
	return 0;
}

long console_hc_read_domain(struct domain *d, uint64_t gpa)
{
	struct keel_stream_read sr;
	struct domain *t;
	long rc;

	if (!has_console_cap(d)) {
		return -KEEL_EPERM;
	}
	/* The struct names the target: it has to be read before the lookup. */
	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(sr)) ||
	    !ram_has(d, gpa, sizeof(sr), GUEST_READ | GUEST_WRITE) ||
	    guest_copy_from(d, gpa, &sr, sizeof(sr)) != 0) {
		return -KEEL_EFAULT;
	}
	t = domain_get(sr.domid);	/* no KEEL_DOMID_SELF: the call does not take it */
	if (!t) {
		return -KEEL_ESRCH;
	}
	rc = read_stream(d, t, &sr);
	domain_put(t);
	if (rc == 0 && guest_copy_to(d, gpa, &sr, sizeof(sr)) != 0) {
		rc = -KEEL_EFAULT;
	}
	return rc;
}

long console_hc_write_domain(struct domain *d, uint32_t target, uint64_t gpa, uint64_t len)
{
	uint8_t buf[CONSOLE_INPUT_SIZE];	/* the queue never takes more */
	struct domain *t;
	size_t n;
	long rc;

	if (!has_console_cap(d)) {
		return -KEEL_EPERM;
	}
	t = domain_get(target);
	if (!t) {
		return -KEEL_ESRCH;
	}
	n = (size_t)MIN(len, (uint64_t)sizeof(buf));
	if (len > KEEL_PAGE_SIZE) {
		rc = -KEEL_E2BIG;
	} else if (!guest_range_in_page(gpa, len) || !ram_has(d, gpa, len, GUEST_READ) ||
		   guest_copy_from(d, gpa, buf, n) != 0) {
		rc = -KEEL_EFAULT;
	} else {
		rc = (long)queue_input(t, buf, n);
	}
	domain_put(t);
	return rc;
}

/* ---- Serial input: switching and Keel's commands ---------------------------------- */

static const char *const state_names[] = {
	[DOMAIN_CREATING] = "creating",
	[DOMAIN_PAUSED] = "paused",
	[DOMAIN_RUNNING] = "running",
	[DOMAIN_SHUTDOWN] = "shutdown",
	[DOMAIN_DYING] = "dying",
};

static bool is_live(const struct domain *d)
{
	enum domain_state s = READ_ONCE(d->state);

	return s != DOMAIN_CREATING && s != DOMAIN_DYING;
}

/* Move serial input to the next domain that takes it, or to Keel. */
static void switch_input(void)
{
	unsigned long flags = spin_lock_irqsave(&list_lock);
	const struct console_domain *c = consoles;
	uint32_t from = input_domid;

	while (c && (c->d->domid <= from || !c->serial_input || !is_live(c->d))) {
		c = c->next;
	}
	input_domid = c ? c->d->domid : 0;
	if (c) {
		ui_line("console input: domain %u '%s' (press Ctrl-A three times to switch)",
			c->d->domid, c->d->name);
	} else if (from) {
		ui_line("console input: hypervisor (press h for help, "
			"Ctrl-A three times to switch)");
	} else {
		ui_line("console input: hypervisor (no domain accepts serial input; "
			"press h for help)");
	}
	spin_unlock_irqrestore(&list_lock, flags);
}

bool console_give_input(struct domain *d)
{
	unsigned long flags = spin_lock_irqsave(&list_lock);
	bool given = d->console->serial_input && is_live(d);

	if (given) {
		input_domid = d->domid;
		ui_line("console input: domain %u '%s' (press Ctrl-A three times to switch)",
			d->domid, d->name);
	}
	spin_unlock_irqrestore(&list_lock, flags);
	return given;
}

/* Give typed bytes to the domain that has the input, if it still can take them. */
static void to_domain(uint32_t domid, const uint8_t *buf, size_t len)
{
	struct domain *d = domain_get(domid);
	unsigned long flags;

	if (d && READ_ONCE(d->console->serial_input)) {
		queue_input(d, buf, len);
		domain_put(d);	/* no console lock held: it may free @d */
		return;
	}
	flags = spin_lock_irqsave(&list_lock);
	if (input_domid == domid) {
		input_domid = 0;
		ui_line("console input: hypervisor (domain %u no longer takes it)", domid);
	}
	spin_unlock_irqrestore(&list_lock, flags);
	if (d) {
		domain_put(d);
	}
}

/* One row of the domain list, and its header: the same columns. */
#define LIST_FORMAT(num, big)	"%4" num "  %-16s %-9s %5" num "  %-14s %9" big "  %s"

static void cmd_help(void)
{
	ui_line("console keys for the hypervisor:");
	ui_line("  h  this help");
	ui_line("  l  list the domains");
	ui_line("  m  memory");
	ui_line("  Ctrl-A three times: console input to the next domain that accepts it, "
		"then back here");
}

static void list_one(struct console_domain *c)
{
	const struct domain *d = c->d;
	unsigned long flags = spin_lock_irqsave(&c->lock);
	unsigned long long out = c->out_pos;
	size_t queued = c->in_count;
	char input[40] = "-", mem[32];

	spin_unlock_irqrestore(&c->lock, flags);
	if (c->serial_input && queued) {
		format(input, sizeof(input), "serial, %zu bytes queued", queued);
	} else if (c->serial_input) {
		format(input, sizeof(input), "serial");
	}
	format(mem, sizeof(mem), "%llu/%llu MiB",
	       (unsigned long long)(READ_ONCE(d->mem.ram_pages) >> (20 - PAGE_SHIFT)),
	       (unsigned long long)(d->mem.max_pages >> (20 - PAGE_SHIFT)));
	ui_line(LIST_FORMAT("u", "llu"), d->domid, d->name, state_names[READ_ONCE(d->state)],
		d->vcpu_count, mem, out, input);
}

static void cmd_list(void)
{
	unsigned long flags = spin_lock_irqsave(&list_lock);
	unsigned int live = 0;
	char input[24] = "hypervisor";

	for (struct console_domain *c = consoles; c; c = c->next) {
		live += is_live(c->d);
	}
	if (input_domid) {
		format(input, sizeof(input), "domain %u", input_domid);
	}
	ui_line("domains: %u; console input: %s", live, input);
	if (live) {
		ui_line(LIST_FORMAT("s", "s"), "id", "name", "state", "vCPUs", "memory",
			"out bytes", "input");
	}
	for (struct console_domain *c = consoles; c; c = c->next) {
		if (is_live(c->d)) {
			list_one(c);
		}
	}
	spin_unlock_irqrestore(&list_lock, flags);
}

static void cmd_memory(void)
{
	ui_line("memory: %llu MiB free of %llu MiB; Keel's heap holds %llu pages; %u domain(s)",
		(unsigned long long)(page_alloc_free_count() >> (20 - PAGE_SHIFT)),
		(unsigned long long)(page_alloc_total_count() >> (20 - PAGE_SHIFT)),
		(unsigned long long)heap_page_count(), domain_count());
}

static void keel_key(uint8_t b)
{
	char esc[5];

	switch (b) {
	case 'h':
	case '?':
		cmd_help();
		break;
	case 'l':
		cmd_list();
		break;
	case 'm':
		cmd_memory();
		break;
	case '\r':
	case '\n':
	case ' ':
		break;
	default:
		esc[escape(b, esc)] = '\0';
		ui_line("unknown key '%s': press h for help", esc);
		break;
	}
}

/* One byte of serial input. Called with poll_lock held. */
static void input_byte(uint8_t b)
{
	static const uint8_t held[SWITCH_PRESSES - 1] = { CTRL_A, CTRL_A };
	uint32_t target;

	if (b == CTRL_A) {
		if (++ctrl_a_held == SWITCH_PRESSES) {
			ctrl_a_held = 0;
			switch_input();
		}
		return;
	}
	target = __atomic_load_n(&input_domid, __ATOMIC_RELAXED);
	if (target) {
		/* Fewer than three Ctrl-A were meant for the domain after all. */
		if (ctrl_a_held) {
			to_domain(target, held, ctrl_a_held);
		}
		to_domain(target, &b, 1);
	} else {
		keel_key(b);
	}
	ctrl_a_held = 0;
}

/* Partial lines that waited long enough, and suppressions that may end. */
static void flush_stale(uint64_t now)
{
	unsigned long flags = spin_lock_irqsave(&list_lock);

	for (struct console_domain *c = consoles; c; c = c->next) {
		unsigned long cflags = spin_lock_irqsave(&c->lock);

		if (c->line_len && now - c->line_since >= CONSOLE_FLUSH_NS) {
			line_flush(c, now, false);
		}
		if (c->suppressed && bucket_level(c, now) >= CONSOLE_RESUME) {
			report_suppressed(c);
		}
		spin_unlock_irqrestore(&c->lock, cflags);
	}
	spin_unlock_irqrestore(&list_lock, flags);
}

static void wake_fired(struct timer *t)
{
	/* The interrupt alone does the work: it ends the idle CPU's hlt. */
	__atomic_store_n(&wake_armed, false, __ATOMIC_RELEASE);
}

/* Called with poll_lock held. */
static void arm_wake(uint64_t now)
{
	if (!schedule_started() || __atomic_exchange_n(&wake_armed, true, __ATOMIC_ACQ_REL)) {
		return;
	}
	if (!wake_ready) {
		timer_init(&wake, wake_fired);
		wake_ready = true;
	}
	timer_set(&wake, now + CONSOLE_POLL_NS);
}

void console_poll_input(void)
{
	uint64_t now;

	if (!spin_trylock(&poll_lock)) {
		return;
	}
	for (unsigned int i = 0; i < POLL_BYTES_MAX; i++) {
		int ch = arch_console_getc();

		if (ch < 0) {
			break;
		}
		input_byte((uint8_t)ch);
	}
	now = arch_time_ns();
	if (now - last_flush >= CONSOLE_POLL_NS) {
		last_flush = now;
		flush_stale(now);
	}
	arm_wake(now);
	spin_unlock(&poll_lock);
}
