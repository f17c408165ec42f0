// SPDX-License-Identifier: MIT
/*
 * evtchn_dev.c - /dev/keel/evtchn (docs/keelctl.md): each open file owns a
 * set of event-channel ports; ioctls bind, notify and close them, read()
 * returns the ports that fired, write() re-arms them, poll() waits.
 *
 * A port that fired is held back ("masked" here, in our own flag: Keel's
 * mask bit belongs to pvdrivers) until user space writes it back, so each
 * port is in the read queue at most once and the queue never overflows;
 * an event arriving meanwhile is remembered and delivered at the re-arm.
 *
 * Keel binds a VIRQ once per domain, so the driver binds each VIRQ user
 * space asks for once and shares it: every file that binds it gets the
 * same port number and its own copy of each event (two keelctl monitors
 * both hear KEEL_VIRQ_DOMAIN_STATE), and the binding goes with the last.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "keel_priv.h"

struct evtchn_file;
struct shared_virq;

struct evtchn_port {
	struct evtchn_file *f;
	bool held;			/* delivered to the queue, not yet written back */
	bool again;			/* fired while held */
	struct shared_virq *virq;	/* the VIRQ this port is a share of, or NULL */
	struct list_head virq_link;	/* [virq_lock] in virq->users */
};

/* One VIRQ bound for user space, and the files' ports that share it. */
struct shared_virq {
	struct kpv *kpv;
	u32 virq, port;
	struct list_head users;		/* [virq_lock] evtchn_port.virq_link */
};

#define SHARED_VIRQS	8		/* KEEL_VIRQ_* numbers below this are shared */

static DEFINE_MUTEX(virq_mutex);	/* binding and unbinding: shared_virqs[] */
static DEFINE_SPINLOCK(virq_lock);	/* the users lists, walked by the upcall */
static struct shared_virq *shared_virqs[SHARED_VIRQS];

struct evtchn_file {
	struct kpv *kpv;
	struct mutex lock;		/* binding, closing, writes: the xarray's content */
	struct xarray ports;		/* port number -> struct evtchn_port */
	unsigned int nr_ports;
	struct mutex read_lock;		/* one reader advances the queue at a time */
	spinlock_t queue_lock;		/* the queue and the held/again flags (upcall side) */
	unsigned int head, count;
	wait_queue_head_t wait;
	u32 queue[KEEL_EVTCHN_DEV_MAX_PORTS];
};

/* [queue_lock] */
static void queue_port(struct evtchn_file *f, struct evtchn_port *p, u32 port)
{
	if (p->held || f->count == ARRAY_SIZE(f->queue)) {
		p->again = true;
		return;
	}
	p->held = true;
	f->queue[(f->head + f->count) % ARRAY_SIZE(f->queue)] = port;
	f->count++;
	wake_up_interruptible(&f->wait);
}

/* [any] From kpv's upcall: the port fired (its pending bit is already clear). */
static void port_fired(void *ctx, u32 port)
{
	struct evtchn_port *p = ctx;
	struct evtchn_file *f = p->f;
	unsigned long flags;

	spin_lock_irqsave(&f->queue_lock, flags);
	queue_port(f, p, port);
	spin_unlock_irqrestore(&f->queue_lock, flags);
}

typedef int (*bind_fn)(struct evtchn_file *f, struct evtchn_port *p, void *req, u32 *port);

static int bind_interdomain(struct evtchn_file *f, struct evtchn_port *p, void *req, u32 *port)
{
	struct keel_evtchn_bind_interdomain *b = req;

	if (b->pad0)
		return -KEEL_EINVAL;
	return kpv_evtchn_bind_interdomain(f->kpv, b->remote_domid, b->remote_port, port_fired,
					   p, port);
}

/* [any] From kpv's upcall: a shared VIRQ fired; each file sharing it gets the event. */
static void virq_fired(void *ctx, u32 port)
{
	struct shared_virq *sv = ctx;
	struct evtchn_port *p;
	unsigned long flags;

	spin_lock_irqsave(&virq_lock, flags);
	list_for_each_entry(p, &sv->users, virq_link) {
		spin_lock(&p->f->queue_lock);
		queue_port(p->f, p, port);
		spin_unlock(&p->f->queue_lock);
	}
	spin_unlock_irqrestore(&virq_lock, flags);
}

/* [f->lock] Join VIRQ @virq's binding, binding it with Keel if nobody has. */
static int bind_virq(struct evtchn_file *f, struct evtchn_port *p, void *req, u32 *port)
{
	struct keel_evtchn_bind_virq *b = req;
	struct shared_virq *sv;
	unsigned long flags;
	int rc = 0;

	if (b->virq >= SHARED_VIRQS)
		return kpv_evtchn_bind_virq(f->kpv, b->virq, port_fired, p, port);
	mutex_lock(&virq_mutex);
	sv = shared_virqs[b->virq];
	if (sv && xa_load(&f->ports, sv->port)) {
		rc = -KEEL_EEXIST;	/* this file has it already */
	} else if (!sv) {
		sv = kzalloc(sizeof(*sv), GFP_KERNEL);
		if (!sv) {
			rc = -KEEL_ENOMEM;
		} else {
			sv->kpv = f->kpv;
			sv->virq = b->virq;
			INIT_LIST_HEAD(&sv->users);
			rc = kpv_evtchn_bind_virq(f->kpv, b->virq, virq_fired, sv, &sv->port);
			if (rc) {
				kfree(sv);
				sv = NULL;
			} else {
				shared_virqs[b->virq] = sv;
			}
		}
	}
	if (!rc) {
		p->virq = sv;
		spin_lock_irqsave(&virq_lock, flags);
		list_add_tail(&p->virq_link, &sv->users);
		spin_unlock_irqrestore(&virq_lock, flags);
		*port = sv->port;
	}
	mutex_unlock(&virq_mutex);
	return rc;
}

/* A port leaves its file: Keel's port closes, or the file's share of a VIRQ ends. */
static void port_unbind(struct evtchn_file *f, struct evtchn_port *p, u32 port)
{
	struct shared_virq *sv = p->virq;
	unsigned long flags;
	bool last;

	if (!sv) {
		kpv_evtchn_close(f->kpv, port);	/* returns once port_fired() no longer runs for it */
		return;
	}
	mutex_lock(&virq_mutex);
	spin_lock_irqsave(&virq_lock, flags);
	list_del(&p->virq_link);	/* virq_fired() no longer sees @p */
	last = list_empty(&sv->users);
	spin_unlock_irqrestore(&virq_lock, flags);
	if (last) {
		kpv_evtchn_close(sv->kpv, sv->port);
		shared_virqs[sv->virq] = NULL;
		kfree(sv);
	}
	mutex_unlock(&virq_mutex);
}

static int alloc_unbound(struct evtchn_file *f, struct evtchn_port *p, void *req, u32 *port)
{
	struct keel_evtchn_alloc_unbound *b = req;

	return kpv_evtchn_alloc_unbound(f->kpv, b->remote_domid, port_fired, p, port);
}

/*
 * Every bind ioctl: the struct in, a new port from kpv (Keel checks the
 * rights), the port number out at @port_off. Keel errors become errno.
 */
static long do_bind(struct evtchn_file *f, void __user *arg, size_t size, size_t port_off,
		    bind_fn bind)
{
	u64 req[2];	/* the largest request is 16 bytes */
	struct evtchn_port *p;
	u32 port;
	long rc;

	if (copy_from_user(req, arg, size))
		return -EFAULT;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->f = f;
	mutex_lock(&f->lock);
	rc = -ENOSPC;
	if (f->nr_ports >= KEEL_EVTCHN_DEV_MAX_PORTS)
		goto fail;
	rc = keel_priv_errno(bind(f, p, req, &port));
	if (rc)
		goto fail;
	rc = xa_err(xa_store(&f->ports, port, p, GFP_KERNEL));
	if (rc) {
		port_unbind(f, p, port);
		goto fail;
	}
	f->nr_ports++;
	mutex_unlock(&f->lock);
	if (put_user(port, (u32 __user *)((u8 __user *)arg + port_off)))
		return -EFAULT;	/* the port stays the file's; close() or release frees it */
	return 0;
fail:
	mutex_unlock(&f->lock);
	kfree(p);
	return rc;
}

static long port_notify(struct evtchn_file *f, u32 __user *arg)
{
	u32 port;
	long rc = -EINVAL;

	if (get_user(port, arg))
		return -EFAULT;
	mutex_lock(&f->lock);
	if (xa_load(&f->ports, port))
		rc = keel_priv_errno(kpv_evtchn_notify(f->kpv, port));
	mutex_unlock(&f->lock);
	return rc;
}

static long port_close(struct evtchn_file *f, u32 __user *arg)
{
	struct evtchn_port *p;
	u32 port;

	if (get_user(port, arg))
		return -EFAULT;
	mutex_lock(&f->lock);
	p = xa_erase(&f->ports, port);
	if (p) {
		port_unbind(f, p, port);
		f->nr_ports--;
	}
	mutex_unlock(&f->lock);
	kfree(p);
	return p ? 0 : -EINVAL;
}

static long evtchn_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct evtchn_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KEEL_EVTCHN_IOCTL_BIND_INTERDOMAIN:
		return do_bind(f, uarg, sizeof(struct keel_evtchn_bind_interdomain),
			       offsetof(struct keel_evtchn_bind_interdomain, port), bind_interdomain);
	case KEEL_EVTCHN_IOCTL_BIND_VIRQ:
		return do_bind(f, uarg, sizeof(struct keel_evtchn_bind_virq),
			       offsetof(struct keel_evtchn_bind_virq, port), bind_virq);
	case KEEL_EVTCHN_IOCTL_ALLOC_UNBOUND:
		return do_bind(f, uarg, sizeof(struct keel_evtchn_alloc_unbound),
			       offsetof(struct keel_evtchn_alloc_unbound, port), alloc_unbound);
	case KEEL_EVTCHN_IOCTL_NOTIFY:
		return port_notify(f, uarg);
	case KEEL_EVTCHN_IOCTL_CLOSE:
		return port_close(f, uarg);
	default:
		return -ENOTTY;
	}
}

/* Fired ports as u32s; blocks for the first one unless O_NONBLOCK. */
static ssize_t evtchn_read(struct file *file, char __user *buf, size_t len, loff_t *off)
{
	struct evtchn_file *f = file->private_data;
	u32 chunk[64];
	unsigned int n;
	long rc;

	if (len < sizeof(u32))
		return -EINVAL;
	if (mutex_lock_interruptible(&f->read_lock))
		return -EINTR;
	while (!READ_ONCE(f->count)) {
		rc = -EAGAIN;
		if (file->f_flags & O_NONBLOCK)
			goto out;
		rc = wait_event_interruptible(f->wait, READ_ONCE(f->count) != 0);
		if (rc)
			goto out;
	}
	/* Copied before they leave the queue: a fault loses no event. */
	spin_lock_irq(&f->queue_lock);
	n = min3((unsigned int)(len / sizeof(u32)), f->count, (unsigned int)ARRAY_SIZE(chunk));
	for (unsigned int i = 0; i < n; i++)
		chunk[i] = f->queue[(f->head + i) % ARRAY_SIZE(f->queue)];
	spin_unlock_irq(&f->queue_lock);
	rc = -EFAULT;
	if (copy_to_user(buf, chunk, n * sizeof(u32)))
		goto out;
	spin_lock_irq(&f->queue_lock);
	f->head = (f->head + n) % ARRAY_SIZE(f->queue);
	f->count -= n;
	spin_unlock_irq(&f->queue_lock);
	rc = n * sizeof(u32);
out:
	mutex_unlock(&f->read_lock);
	return rc;
}

/* Re-arm the ports written; numbers that are not this file's are skipped. */
static ssize_t evtchn_write(struct file *file, const char __user *buf, size_t len, loff_t *off)
{
	struct evtchn_file *f = file->private_data;
	size_t done = 0;
	u32 chunk[64];

	if (len % sizeof(u32))
		return -EINVAL;
	while (done < len) {
		unsigned int n = min_t(size_t, (len - done) / sizeof(u32), ARRAY_SIZE(chunk));

		if (copy_from_user(chunk, buf + done, n * sizeof(u32)))
			return done ? done : -EFAULT;
		mutex_lock(&f->lock);
		for (unsigned int i = 0; i < n; i++) {
			struct evtchn_port *p = xa_load(&f->ports, chunk[i]);

			if (!p)
				continue;
			spin_lock_irq(&f->queue_lock);
			p->held = false;
			if (p->again) {
				p->again = false;
				queue_port(f, p, chunk[i]);
			}
			spin_unlock_irq(&f->queue_lock);
		}
		mutex_unlock(&f->lock);
		done += n * sizeof(u32);
	}
	return done;
}

static __poll_t evtchn_poll(struct file *file, poll_table *wait)
{
	struct evtchn_file *f = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &f->wait, wait);
	if (READ_ONCE(f->count))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int evtchn_open(struct inode *inode, struct file *file)
{
	struct evtchn_file *f;
	struct kpv *k;
	int rc = keel_priv_open(&k);

	if (rc)
		return rc;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f) {
		keel_priv_release();
		return -ENOMEM;
	}
	f->kpv = k;
	mutex_init(&f->lock);
	mutex_init(&f->read_lock);
	spin_lock_init(&f->queue_lock);
	xa_init(&f->ports);
	init_waitqueue_head(&f->wait);
	file->private_data = f;
	return stream_open(inode, file);
}

static int evtchn_release(struct inode *inode, struct file *file)
{
	struct evtchn_file *f = file->private_data;
	struct evtchn_port *p;
	unsigned long port;

	xa_for_each(&f->ports, port, p) {
		port_unbind(f, p, (u32)port);
		kfree(p);
	}
	xa_destroy(&f->ports);
	kfree(f);
	keel_priv_release();
	return 0;
}

const struct file_operations keel_evtchn_fops = {
	.owner = THIS_MODULE,
	.open = evtchn_open,
	.release = evtchn_release,
	.unlocked_ioctl = evtchn_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = evtchn_read,
	.write = evtchn_write,
	.poll = evtchn_poll,
	.llseek = no_llseek,
};
