// SPDX-License-Identifier: MIT
/*
 * hvc_keel.c - the PV console frontend as an hvc console (/dev/hvcN, and
 * console=hvcN for kernel messages): one per console device, on
 * pvdrivers' console class (keel_pv/console.h).
 *
 * The hvc framework polls get_chars() from its khvcd thread; input from
 * the backend waits in a small FIFO and kicks khvcd. Output goes straight
 * to kpv_con_fe_write(), which works in any context, also with interrupts
 * off (printk), because it collects the backend's answers itself.
 *
 * The hvc ops only know a vterm number: they find the console in a table
 * under cons_lock, which removal clears before closing the device, so an
 * op that comes after (a tty still open elsewhere) finds nothing.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/kfifo.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tty.h>

#include <keel_pv/console.h>

#include "hvc_api.h"
#include "keel_linux.h"

/* vterm numbers of our consoles: KEEL_VTERM_BASE + slot. */
#define KEEL_VTERM_BASE		0x4b454c00u
#define KEEL_CON_MAX		HVC_MAX_CONSOLES
#define KEEL_CON_INBUF		1024
#define KEEL_CON_OUTBUF		1024
/* How long a console write may wait for a connected backend that answers nothing. */
#define KEEL_CON_STALL_NS	(100 * NSEC_PER_MSEC)

struct keel_con {
	struct keel_frontend fe;
	struct kpv_con_fe *con;
	struct hvc_struct *hvc;
	u32 slot;
	/* Input from the backend until khvcd reads it. */
	spinlock_t in_lock;
	DECLARE_KFIFO(in, u8, KEEL_CON_INBUF);
	u64 in_dropped;
	/* Under cons_lock: when the backend last answered, for bounding a stalled write. */
	u32 stall_unanswered;
	u64 stall_since;
	struct completion released;
};

static DEFINE_SPINLOCK(cons_lock);
static struct keel_con *cons[KEEL_CON_MAX];

/* Under cons_lock. */
static struct keel_con *con_find(u32 vtermno)
{
	u32 slot = vtermno - KEEL_VTERM_BASE;

	return slot < KEEL_CON_MAX ? cons[slot] : NULL;
}

/*
 * Nothing could be written. The tty path treats 0 and -EAGAIN alike (try
 * later); the kernel console retries -EAGAIN at once and drops on 0. So
 * -EAGAIN only while a connected backend keeps answering: printk may spin
 * until the output fits, but never longer than KEEL_CON_STALL_NS without
 * progress, and never while disconnected. Under cons_lock.
 */
static int con_full(struct keel_con *c)
{
	u32 unanswered = kpv_con_fe_unanswered(c->con);
	u64 now = ktime_get_ns();

	if (!kpv_con_fe_connected(c->con))
		return 0;
	if (unanswered != c->stall_unanswered) {
		c->stall_unanswered = unanswered;
		c->stall_since = now;
	}
	return now - c->stall_since < KEEL_CON_STALL_NS ? -EAGAIN : 0;
}

static int con_put_chars(u32 vtermno, const char *buf, int count)
{
	struct keel_con *c;
	unsigned long flags;
	int n = -ENODEV;

	/* A pvdrivers log line may hold the very lock the write needs: skip it here. */
	if (count <= 0 || keel_in_kpv_log())
		return 0;
	spin_lock_irqsave(&cons_lock, flags);
	c = con_find(vtermno);
	if (c) {
		n = kpv_con_fe_write(c->con, buf, (u32)count);
		if (n == 0)
			n = con_full(c);
	}
	spin_unlock_irqrestore(&cons_lock, flags);
	return n;
}

static int con_get_chars(u32 vtermno, char *buf, int count)
{
	struct keel_con *c;
	unsigned long flags;
	int n = -EPIPE;		/* gone: hvc hangs the tty up */

	spin_lock_irqsave(&cons_lock, flags);
	c = con_find(vtermno);
	if (c && count > 0)
		n = kfifo_out_spinlocked(&c->in, buf, count, &c->in_lock);
	spin_unlock_irqrestore(&cons_lock, flags);
	return n;
}

/* hvc_struct starts with its tty_port (hvc_console.h), the only field we use. */
static void con_resize_tty(struct hvc_struct *hp, u16 cols, u16 rows)
{
	struct tty_struct *tty = tty_port_tty_get((struct tty_port *)hp);
	struct winsize ws = { .ws_row = rows, .ws_col = cols };

	if (!tty)
		return;
	if (cols && rows)
		tty_do_resize(tty, &ws);
	tty_kref_put(tty);
}

/*
 * An open tty pins the module: the hvc framework keeps calling our ops
 * for as long as a tty of ours exists, so rmmod must wait for the last
 * close (notifier_del) or a hangup.
 */
static int con_open(struct hvc_struct *hp, int data)
{
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;
	return 0;
}

static void con_close(struct hvc_struct *hp, int data)
{
	module_put(THIS_MODULE);
}

static const struct hv_ops keel_hv_ops = {
	.get_chars = con_get_chars,
	.put_chars = con_put_chars,
	.notifier_add = con_open,
	.notifier_del = con_close,
	.notifier_hangup = con_close,
};

/* --- pvdrivers' callbacks (thread context, except writable) --------------- */

/*
 * Wake khvcd, but only once our hvc exists: the backend may connect and
 * send input before hvc_alloc() returns, and before the first hvc_alloc()
 * there is no khvcd to wake (hvc_kick() would wake a NULL task). What
 * arrives earlier waits in the FIFO; keel_con_open() kicks once at the end.
 */
static void con_kick(struct keel_con *c)
{
	if (READ_ONCE(c->hvc))
		hvc_kick();
}

static void con_input(void *ctx, const uint8_t *data, uint32_t len)
{
	struct keel_con *c = ctx;
	unsigned int taken = kfifo_in_spinlocked(&c->in, data, len, &c->in_lock);

	if (taken < len) {
		c->in_dropped += len - taken;
		pr_warn_ratelimited("hvc console %u: input overflow, %llu bytes dropped\n",
				    c->slot, c->in_dropped);
	}
	con_kick(c);
}

static void con_size(void *ctx, uint16_t cols, uint16_t rows)
{
	struct keel_con *c = ctx;
	struct hvc_struct *hp = READ_ONCE(c->hvc);

	/* Only an open tty has a size to change; a later open starts at 0 x 0 as hvc does. */
	if (hp)
		con_resize_tty(hp, cols, rows);
}

static void con_writable(void *ctx)
{
	con_kick(ctx);
}

static void con_connection(void *ctx, bool connected)
{
	struct keel_con *c = ctx;

	pr_info("console %u: backend %s\n", c->slot, connected ? "connected" : "gone");
	con_kick(c);
}

static void con_released(void *ctx)
{
	struct keel_con *c = ctx;

	complete(&c->released);
}

static const struct kpv_con_fe_ops keel_con_ops = {
	.input = con_input,
	.size = con_size,
	.writable = con_writable,
	.connection = con_connection,
	.released = con_released,
};

/* --- Open and remove -------------------------------------------------------- */

static void con_remove(struct keel_frontend *fe)
{
	struct keel_con *c = container_of(fe, struct keel_con, fe);
	unsigned long flags;

	/* Hangs up an open tty; no kernel console write runs after it (console_lock). */
	hvc_remove(c->hvc);
	spin_lock_irqsave(&cons_lock, flags);
	cons[c->slot] = NULL;
	spin_unlock_irqrestore(&cons_lock, flags);
	kpv_con_fe_close(c->con, false);
	wait_for_completion(&c->released);
	kfree(c);
}

static int con_slot_take(struct keel_con *c)
{
	unsigned long flags;
	int slot = -ENOSPC;

	spin_lock_irqsave(&cons_lock, flags);
	for (u32 i = 0; i < KEEL_CON_MAX; i++) {
		if (!cons[i]) {
			cons[i] = c;
			c->slot = i;
			slot = 0;
			break;
		}
	}
	spin_unlock_irqrestore(&cons_lock, flags);
	return slot;
}

static void con_slot_drop(struct keel_con *c)
{
	unsigned long flags;

	spin_lock_irqsave(&cons_lock, flags);
	cons[c->slot] = NULL;
	spin_unlock_irqrestore(&cons_lock, flags);
}

/*
 * The lowest free hvc index becomes ours for the kernel console, so the
 * first Keel console is hvc0 (Xen's hvc back end, built into Debian's
 * kernel, takes no index outside Xen).
 */
static void con_instantiate(u32 vtermno)
{
	for (int index = 0; index < HVC_MAX_CONSOLES; index++) {
		if (hvc_instantiate(vtermno, index, &keel_hv_ops) == 0)
			return;
	}
}

int keel_con_open(struct kpv *k, const struct kpv_device_info *info, struct keel_frontend **out)
{
	struct keel_con *c = kzalloc(sizeof(*c), GFP_KERNEL);
	struct hvc_struct *hp;
	u32 vtermno;
	int rc;

	if (!c)
		return -ENOMEM;
	spin_lock_init(&c->in_lock);
	INIT_KFIFO(c->in);
	init_completion(&c->released);
	c->fe.remove = con_remove;
	rc = kpv_con_fe_open(k, info, &keel_con_ops, c, &c->con);
	if (rc) {
		kfree(c);
		return keel_errno(rc);
	}
	rc = con_slot_take(c);
	if (rc)
		goto close;
	vtermno = KEEL_VTERM_BASE + c->slot;
	con_instantiate(vtermno);
	hp = hvc_alloc(vtermno, 0, &keel_hv_ops, KEEL_CON_OUTBUF);
	if (IS_ERR(hp)) {
		rc = PTR_ERR(hp);
		con_slot_drop(c);
		goto close;
	}
	WRITE_ONCE(c->hvc, hp);
	hvc_kick();	/* input or a connection that came before the hvc did */
	pr_info("console %u: device %u (%s) as an hvc console\n", c->slot, info->device_id,
		info->label);
	*out = &c->fe;
	return 0;

close:
	kpv_con_fe_close(c->con, false);
	wait_for_completion(&c->released);
	kfree(c);
	return rc;
}
