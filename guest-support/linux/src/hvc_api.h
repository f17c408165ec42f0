/* SPDX-License-Identifier: MIT */
/*
 * hvc_api.h - the part of the kernel's hvc console framework a back end
 * uses. Its header (drivers/tty/hvc/hvc_console.h) is not in Debian's
 * linux-headers packages, so the declarations are written here from the
 * 6.1 sources: the struct hv_ops layout and the exported functions. They
 * have been unchanged since 4.x; a kernel where they change needs this file
 * updated (DKMS builds against any 6.1.y).
 */
#ifndef KEEL_HVC_API_H
#define KEEL_HVC_API_H

#include <linux/types.h>

/* Opaque, except that its first member is its struct tty_port (hvc_console.h). */
struct hvc_struct;

struct hv_ops {
	int (*get_chars)(uint32_t vtermno, char *buf, int count);
	int (*put_chars)(uint32_t vtermno, const char *buf, int count);
	int (*flush)(uint32_t vtermno, bool wait);
	/* Called on the first open, the last close, and hangup. */
	int (*notifier_add)(struct hvc_struct *hp, int irq);
	void (*notifier_del)(struct hvc_struct *hp, int irq);
	void (*notifier_hangup)(struct hvc_struct *hp, int irq);
	int (*tiocmget)(struct hvc_struct *hp);
	int (*tiocmset)(struct hvc_struct *hp, unsigned int set, unsigned int clear);
	void (*dtr_rts)(struct hvc_struct *hp, int raise);
};

/* The hvc framework's console slots (hvc0 .. hvc15 can be console=). */
#define HVC_MAX_CONSOLES	16

int hvc_instantiate(uint32_t vtermno, int index, const struct hv_ops *ops);
struct hvc_struct *hvc_alloc(uint32_t vtermno, int data, const struct hv_ops *ops,
			     int outbuf_size);
int hvc_remove(struct hvc_struct *hp);
void hvc_kick(void);

#endif /* KEEL_HVC_API_H */
