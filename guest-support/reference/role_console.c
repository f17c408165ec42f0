/* SPDX-License-Identifier: MIT */
/*
 * role_console.c - the PV console roles (pvdrivers/console). conback
 * serves every console device this domain backs: each frontend's output
 * goes to our hypervisor console a line at a time behind "[d<domid>
 * <label>] " (so Keel's serial console shows every domain's PV console),
 * and each gets a line of input that must come back. confront writes
 * lines and a long burst through its PV console, echoes the line of input
 * it is sent, says bye and closes. One keeltest group each:
 *   keeltest: reference-console-conback: SUCCESS n checks
 *   keeltest: reference-console-confront: SUCCESS n checks
 */
#include "ref.h"

#include <keel_pv/console.h>

#define CON_MAX		4			/* frontends one backend serves */
#define CON_LINE	140			/* longer output lines go out in pieces */
#define CON_WAIT	(60 * KT_NS_PER_S)	/* the other domains may still be booting */
#define BURST_LINES	60u
#define BURST_LEN	72u			/* bytes per burst line, newline included */

/* --- conback ------------------------------------------------------------------------ */

/* One frontend, as the backend sees it. The sink is called from one work item at a time. */
struct back_con {
	struct kpv_con_be *b;
	struct kpv_device_info info;
	char ping[24];			/* the input line we send, without its newline */
	char line[CON_LINE + 1];	/* output so far of the line being received */
	uint32_t len;
	uint32_t lines;
	bool up, left, released;	/* connected; then gone again; close finished */
	bool echoed, burst, bye;	/* lines seen: our ping, "burst done", "bye" */
};

static struct back_con cons[CON_MAX];
static unsigned int nr_cons;

static bool starts_with(const char *s, const char *prefix)
{
	return kt_strncmp(s, prefix, kt_strlen(prefix)) == 0;
}

/* A whole line from the frontend: to our hypervisor console, behind who sent it. */
static void line_done(struct back_con *c)
{
	c->line[c->len] = '\0';
	c->len = 0;
	c->lines++;
	kpv_log(KPV_LOG_INFO, "[d%u %s] %s", c->info.peer_domid, c->info.label, c->line);
	c->echoed = c->echoed || kt_strcmp(c->line, c->ping) == 0;
	c->burst = c->burst || starts_with(c->line, "burst done");
	c->bye = c->bye || kt_strcmp(c->line, "bye") == 0;
}

static void back_sink(void *ctx, const uint8_t *data, uint32_t len)
{
	struct back_con *c = ctx;

	for (uint32_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			line_done(c);
		} else if (data[i] != '\r') {
			c->line[c->len++] = (char)data[i];
			if (c->len == CON_LINE) {
				line_done(c);
			}
		}
	}
}

static void back_connection(void *ctx, bool up)
{
	struct back_con *c = ctx;

	c->left = c->left || (c->up && !up);
	c->up = c->up || up;
}

static void back_released(void *ctx)
{
	((struct back_con *)ctx)->released = true;
}

static const struct kpv_con_be_ops back_ops = {
	.connection = back_connection,
	.released = back_released,
};

static bool con_up(const struct back_con *c)
{
	return c->up;
}

/* It echoed our line, said bye and left. */
static bool con_done(const struct back_con *c)
{
	return c->echoed && c->bye && c->left;
}

static bool con_released(const struct back_con *c)
{
	return c->released;
}

static bool every(bool (*holds)(const struct back_con *c))
{
	for (unsigned int i = 0; i < nr_cons; i++) {
		if (!holds(&cons[i])) {
			return false;
		}
	}
	return true;
}

/* For ref_wait(). */
static bool all_up(void *ctx)
{
	return every(con_up);
}

static bool all_done(void *ctx)
{
	return every(con_done);
}

static bool all_released(void *ctx)
{
	return every(con_released);
}

/* Serve every console device we back, as a terminal of 100 x 40. */
static void back_open(struct kpv *k)
{
	static struct kpv_device_info table[CON_MAX];
	int n = kpv_devices(k, table, CON_MAX);

	memset(cons, 0, sizeof(cons));
	nr_cons = 0;
	for (int i = 0; i < n && i < CON_MAX; i++) {
		struct back_con *c = &cons[nr_cons];

		if (!table[i].backend || table[i].device_class != KEEL_IO_CLASS_CONSOLE) {
			continue;
		}
		c->info = table[i];
		kt_snprintf(c->ping, sizeof(c->ping), "ping d%u", c->info.peer_domid);
		if (kt_check_rc("kpv_con_be_open",
				kpv_con_be_open(k, &c->info, &back_ops, c, 100, 40, &c->b), 0)) {
			kpv_con_be_sink(c->b, back_sink, c);
			nr_cons++;
		}
	}
	kt_check(nr_cons >= 2, "consoles", "%u console devices to serve", nr_cons);
}

static void back_check(const struct back_con *c)
{
	struct kpv_con_be_stats st;

	kpv_con_be_stats(c->b, &st);
	kt_check(c->echoed, "input round trip", "d%u did not echo '%s'", c->info.peer_domid,
		 c->ping);
	kt_check(c->burst, "burst", "no 'burst done' from d%u", c->info.peer_domid);
	kt_check_eq("output dropped", st.output_dropped, 0);
	kt_check_eq("protocol errors", st.errors, 0);
	kt_note("d%u '%s': %u lines, %lu bytes out, %lu bytes in", c->info.peer_domid,
		c->info.label, c->lines, st.output, st.input);
}

static void back_run(struct kpv *k)
{
	char ping[32];

	back_open(k);
	if (!kt_check(ref_wait(all_up, NULL, CON_WAIT), "connected", "not every frontend came")) {
		return;
	}
	for (unsigned int i = 0; i < nr_cons; i++) {
		int len = kt_snprintf(ping, sizeof(ping), "%s\n", cons[i].ping);

		kt_check_eq("input taken", kpv_con_be_input(cons[i].b, ping, (uint32_t)len),
			    (uint64_t)len);
	}
	kt_check(ref_wait(all_done, NULL, CON_WAIT), "frontends done",
		 "not every frontend echoed, said bye and left");
	for (unsigned int i = 0; i < nr_cons; i++) {
		back_check(&cons[i]);
		kpv_con_be_close(cons[i].b, false);
	}
	kt_check(ref_wait(all_released, NULL, CON_WAIT), "released", "not after 60 s");
}

/* --- confront ------------------------------------------------------------------------ */

/* The frontend's side: what the console reported, and the line of input received. */
static struct {
	struct kpv_con_fe *c;
	bool up, released, line_ready;
	uint16_t cols, rows;
	unsigned int sizes;
	char line[64];			/* input up to its newline */
	uint32_t len;
} fr;

static void front_input(void *ctx, const uint8_t *data, uint32_t len)
{
	for (uint32_t i = 0; i < len && !fr.line_ready; i++) {
		if (data[i] == '\n') {
			fr.line[fr.len] = '\0';
			fr.line_ready = true;
		} else if (fr.len < sizeof(fr.line) - 1) {
			fr.line[fr.len++] = (char)data[i];
		}
	}
}

static void front_size(void *ctx, uint16_t cols, uint16_t rows)
{
	fr.cols = cols;
	fr.rows = rows;
	fr.sizes++;
}

static void front_connection(void *ctx, bool up)
{
	fr.up = up;
}

static void front_released(void *ctx)
{
	fr.released = true;
}

static const struct kpv_con_fe_ops front_ops = {
	.input = front_input,
	.size = front_size,
	.connection = front_connection,
	.released = front_released,
};

/* For ref_wait(). */
static bool front_up(void *ctx)
{
	return fr.up && fr.sizes > 0;
}

static bool front_got_line(void *ctx)
{
	return fr.line_ready;
}

static bool front_drained(void *ctx)
{
	return kpv_con_fe_unanswered(fr.c) == 0;
}

static bool front_gone(void *ctx)
{
	return fr.released;
}

static bool front_room(void *len)
{
	return kpv_con_fe_room(fr.c) >= *(uint32_t *)len;
}

/*
 * Write a whole line (so an echo never lands inside another), waiting for
 * room when the FIFO is full: the backend's answers are the flow control.
 * Returns false if the room did not come.
 */
static bool front_line(const char *text, unsigned int *waits)
{
	uint32_t len = (uint32_t)kt_strlen(text);

	if (kpv_con_fe_room(fr.c) < len) {
		(*waits)++;
		if (!ref_wait(front_room, &len, CON_WAIT)) {
			return false;
		}
	}
	return kpv_con_fe_write(fr.c, text, len) == len;
}

/* BURST_LINES lines of BURST_LEN bytes, numbered, more than the FIFO holds. */
static bool front_burst(unsigned int *waits)
{
	char text[BURST_LEN + 1];

	for (uint32_t n = 1; n <= BURST_LINES; n++) {
		uint32_t at = (uint32_t)kt_snprintf(text, sizeof(text), "burst %02u/%u ", n,
						    BURST_LINES);

		while (at < BURST_LEN - 1) {
			text[at] = (char)('a' + (n + at) % 26);
			at++;
		}
		text[at++] = '\n';
		text[at] = '\0';
		if (!front_line(text, waits)) {
			return false;
		}
	}
	return true;
}

/* Connected: the lines, the burst, the echo, bye; then every byte answered. */
static void front_talk(struct kpv *k)
{
	unsigned int waits = 0;
	char text[96];

	kt_snprintf(text, sizeof(text), "hello from domain %u over the PV console\n", kpv_domid(k));
	kt_check(front_line(text, &waits), "hello", "not written");
	kt_snprintf(text, sizeof(text), "terminal %ux%u\n", fr.cols, fr.rows);
	kt_check(front_line(text, &waits), "size", "not written");
	kt_check_eq("size from the backend", (uint32_t)fr.cols << 16 | fr.rows, 100 << 16 | 40);
	kt_check(front_burst(&waits), "burst", "no room after %u waits", waits);
	kt_snprintf(text, sizeof(text), "burst done: %u lines, %u bytes, %u waits for room\n",
		    BURST_LINES, BURST_LINES * BURST_LEN, waits);
	kt_check(front_line(text, &waits), "burst done", "not written");
	if (kt_check(ref_wait(front_got_line, NULL, CON_WAIT), "input", "no line in 60 s")) {
		kt_snprintf(text, sizeof(text), "%s\n", fr.line);
		kt_check(front_line(text, &waits), "echo", "not written");
	}
	kt_check(front_line("bye\n", &waits), "bye", "not written");
	kt_check(ref_wait(front_drained, NULL, CON_WAIT), "drained", "%u bytes unanswered",
		 kpv_con_fe_unanswered(fr.c));
}

static void front_run(struct kpv *k)
{
	static struct kpv_device_info table[CON_MAX];
	int n = kpv_devices(k, table, CON_MAX);

	memset(&fr, 0, sizeof(fr));
	if (!kt_check(n >= 1 && !table[0].backend && table[0].device_class == KEEL_IO_CLASS_CONSOLE,
		      "console device", "%d devices", n) ||
	    !kt_check_rc("kpv_con_fe_open", kpv_con_fe_open(k, &table[0], &front_ops, NULL, &fr.c),
			 0)) {
		return;
	}
	if (kt_check(ref_wait(front_up, NULL, CON_WAIT), "connected", "no backend in 60 s")) {
		front_talk(k);
	}
	kpv_con_fe_close(fr.c, false);
	kt_check(ref_wait(front_gone, NULL, CON_WAIT), "released", "not after 60 s");
}

void ref_console_run(struct kpv *k, const char *role, const char *name)
{
	kt_group_begin(name);
	if (kt_strcmp(role, "conback") == 0) {
		back_run(k);
	} else {
		front_run(k);
	}
	kt_group_end();
}
