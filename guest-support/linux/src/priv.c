// SPDX-License-Identifier: MIT
/*
 * priv.c - the privileged driver's device nodes, /dev/keel/privcmd and
 * /dev/keel/evtchn (docs/keelctl.md): their lifetime (they exist while the
 * platform device is bound, because they need the hypercall page and
 * kpv), who may open them, and Keel's errors as errno values.
 */
#define pr_fmt(fmt) "keel: " fmt

#include <linux/capability.h>
#include <linux/miscdevice.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include <keel/errno.h>

#include "keel_priv.h"

static struct {
	struct mutex lock;
	struct kpv *kpv;		/* NULL once stop() began: opens fail */
	unsigned int open_files;
	wait_queue_head_t closed;
	bool privcmd_registered, evtchn_registered;
} priv = {
	.lock = __MUTEX_INITIALIZER(priv.lock),
	.closed = __WAIT_QUEUE_HEAD_INITIALIZER(priv.closed),
};

static struct miscdevice privcmd_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "keel_privcmd",
	.nodename = "keel/privcmd",
	.mode = 0600,
	.fops = &keel_privcmd_fops,
};

static struct miscdevice evtchn_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "keel_evtchn",
	.nodename = "keel/evtchn",
	.mode = 0600,
	.fops = &keel_evtchn_fops,
};

/*
 * The node's mode already keeps others out; the capability check is the
 * documented rule, and holds for a root-owned node opened by a process
 * whose capabilities were dropped.
 */
int keel_priv_open(struct kpv **k)
{
	int rc = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EACCES;
	mutex_lock(&priv.lock);
	*k = priv.kpv;
	if (priv.kpv)
		priv.open_files++;
	else
		rc = -ENODEV;
	mutex_unlock(&priv.lock);
	return rc;
}

void keel_priv_release(void)
{
	mutex_lock(&priv.lock);
	priv.open_files--;
	mutex_unlock(&priv.lock);
	wake_up(&priv.closed);
}

int keel_priv_start(struct kpv *k)
{
	int rc;

	mutex_lock(&priv.lock);
	priv.kpv = k;
	mutex_unlock(&priv.lock);
	rc = misc_register(&privcmd_dev);
	if (rc) {
		pr_err("cannot register /dev/keel/privcmd (%d)\n", rc);
		return rc;
	}
	priv.privcmd_registered = true;
	rc = misc_register(&evtchn_dev);
	if (rc) {
		pr_err("cannot register /dev/keel/evtchn (%d)\n", rc);
		return rc;
	}
	priv.evtchn_registered = true;
	return 0;
}

static bool all_closed(void)
{
	bool done;

	mutex_lock(&priv.lock);
	done = priv.open_files == 0;
	mutex_unlock(&priv.lock);
	return done;
}

/*
 * The files' ports and grant maps live in kpv, which the caller stops next:
 * like a busy filesystem, unbinding waits for the processes to close them
 * (rmmod cannot get here with a file open: each holds a module reference).
 */
void keel_priv_stop(void)
{
	if (priv.privcmd_registered)
		misc_deregister(&privcmd_dev);
	if (priv.evtchn_registered)
		misc_deregister(&evtchn_dev);
	priv.privcmd_registered = priv.evtchn_registered = false;
	mutex_lock(&priv.lock);
	priv.kpv = NULL;
	mutex_unlock(&priv.lock);
	while (!wait_event_timeout(priv.closed, all_closed(), 10 * HZ))
		pr_warn("unbinding waits for processes to close /dev/keel/privcmd and evtchn\n");
}

int keel_priv_errno(long keel_err)
{
	switch (-keel_err) {
	case 0:
		return 0;
	case KEEL_EPERM:
		return -EPERM;
	case KEEL_ENOENT:
		return -ENOENT;
	case KEEL_ESRCH:
		return -ESRCH;
	case KEEL_EINVAL:
		return -EINVAL;
	case KEEL_EFAULT:
		return -EFAULT;
	case KEEL_ENOMEM:
		return -ENOMEM;
	case KEEL_EBUSY:
		return -EBUSY;
	case KEEL_EEXIST:
		return -EEXIST;
	case KEEL_ENOSPC:
		return -ENOSPC;
	case KEEL_ENOSYS:
		return -ENOSYS;
	case KEEL_EAGAIN:
		return -EAGAIN;
	case KEEL_EACCES:
		return -EACCES;
	case KEEL_E2BIG:
		return -E2BIG;
	case KEEL_EOPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;	/* EVERSION, ENOTIDENT: not this process's doing */
	}
}
