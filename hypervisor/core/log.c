/* SPDX-License-Identifier: MIT */
/* core/log.c - formats log lines, writes them to the console and a memory ring. */
#include <arch/arch.h>
#include <keel/format.h>
#include <keel/log.h>
#include <keel/spinlock.h>
#include <keel/string.h>

#define LINE_MAX	512

static struct spinlock log_lock = SPINLOCK_INIT;
static enum log_level console_level = LOG_INFO;

static char ring[LOG_RING_SIZE];
static uint64_t ring_head;	/* bytes ever written; ring[head % size] is next */

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	console_level = level;
}

enum log_level log_get_level(void)
{
	return console_level;
}

bool log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void ring_append(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		ring[ring_head++ % LOG_RING_SIZE] = s[i];
	}
}

uint64_t log_written(void)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);
	uint64_t head = ring_head;

	spin_unlock_irqrestore(&log_lock, flags);
	return head;
}

size_t log_ring_read(char *buf, size_t size)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);
	uint64_t held = MIN(ring_head, (uint64_t)LOG_RING_SIZE);
	uint64_t start = ring_head - held;
	size_t n = (size_t)MIN(held, (uint64_t)size);

	for (size_t i = 0; i < n; i++) {
		buf[i] = ring[(start + i) % LOG_RING_SIZE];
	}
	spin_unlock_irqrestore(&log_lock, flags);
	return n;
}

size_t log_stream_read(uint64_t pos, char *buf, size_t size, uint64_t *next_pos,
		       uint64_t *oldest_pos)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);
	uint64_t oldest = ring_head - MIN(ring_head, (uint64_t)LOG_RING_SIZE);
	uint64_t start = MAX(pos, oldest);
	size_t n = start < ring_head ? (size_t)MIN(ring_head - start, (uint64_t)size) : 0;

	for (size_t i = 0; i < n; i++) {
		buf[i] = ring[(start + i) % LOG_RING_SIZE];
	}
	spin_unlock_irqrestore(&log_lock, flags);
	*next_pos = start + n;
	*oldest_pos = oldest;
	return n;
}

/* Whose line the console is in the middle of (NULL: at a line start). [log_lock] */
static const void *open_owner;

/* Before output of anyone but the open line's owner: end that line. [log_lock] */
static void end_open_line(void)
{
	if (open_owner) {
		arch_console_write("\n", 1);
		open_owner = NULL;
	}
}

static void emit(enum log_level level, const char *line, size_t len)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);

	ring_append(line, len);
	if (level <= console_level) {
		end_open_line();
		arch_console_write(line, len);
	}
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_console_write(const char *buf, size_t len)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);

	end_open_line();
	arch_console_write(buf, len);
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_console_part(const void *owner, const char *prefix, size_t prefix_len,
		      const char *text, size_t len, bool end)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);

	if (open_owner != owner) {
		end_open_line();
		arch_console_write(prefix, prefix_len);
	}
	arch_console_write(text, len);
	if (end) {
		arch_console_write("\n", 1);
		open_owner = NULL;
	} else {
		open_owner = owner;
	}
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_console_end_part(const void *owner)
{
	unsigned long flags = spin_lock_irqsave(&log_lock);

	if (open_owner == owner) {
		end_open_line();
	}
	spin_unlock_irqrestore(&log_lock, flags);
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	char line[LINE_MAX];
	uint64_t ns = arch_time_ns();
	size_t n;

	n = format(line, sizeof(line), "[%5llu.%06llu] cpu%u %s: ",
		   (unsigned long long)(ns / 1000000000u),
		   (unsigned long long)(ns / 1000u % 1000000u), arch_cpu_index(),
		   level_names[level]);
	n += format_v(line + n, sizeof(line) - n, fmt, ap);
	if (n > sizeof(line) - 2) {
		n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	line[n] = '\0';
	emit(level, line, n);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

void log_raw(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = format_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(LOG_ERROR, line, MIN(n, sizeof(line) - 1));
}

void log_force_unlock(void)
{
	log_lock.owner = log_lock.next;
}
