/* SPDX-License-Identifier: MIT */
/* tools/lib/errors.c - names for Keel's error codes and the transport's. */
#include <keel/errno.h>
#include <keelctl/keelctl.h>

static const char *const keel_errors[] = {
	[KEEL_EPERM] = "not permitted (a capability or control right is missing)",
	[KEEL_ENOENT] = "no such object",
	[KEEL_ESRCH] = "no such domain",
	[KEEL_EINVAL] = "invalid argument",
	[KEEL_EFAULT] = "bad address",
	[KEEL_ENOMEM] = "out of memory",
	[KEEL_EBUSY] = "busy, or in the wrong state",
	[KEEL_EEXIST] = "already exists",
	[KEEL_ENOSPC] = "table full",
	[KEEL_ENOSYS] = "not implemented by this Keel",
	[KEEL_EAGAIN] = "try again",
	[KEEL_EACCES] = "access mode not permitted",
	[KEEL_E2BIG] = "too large",
	[KEEL_EVERSION] = "incompatible ABI version",
	[KEEL_ENOTIDENT] = "caller not identified",
	[KEEL_EOPNOTSUPP] = "not supported",
};

const char *keelctl_strerror(long err)
{
	long e = err < 0 ? -err : err;

	switch (e) {
	case 0:
		return "success";
	case KEELCTL_ETRANSPORT:
		return "the privileged driver failed";
	case KEELCTL_ENODRIVER:
		return "no privileged driver (is the Keel module loaded?)";
	case KEELCTL_EDRIVERVER:
		return "the privileged driver speaks another API version";
	case KEELCTL_EACCESS:
		return "the privileged driver admits only root";
	default:
		break;
	}
	if (e < (long)(sizeof(keel_errors) / sizeof(keel_errors[0])) && keel_errors[e]) {
		return keel_errors[e];
	}
	return "unknown error";
}
