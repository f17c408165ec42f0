/* SPDX-License-Identifier: MIT */
/* keel/errno.h: Keel's error codes, with fixed values that never follow any host OS's errno. */
#ifndef KEEL_PUBLIC_ERRNO_H
#define KEEL_PUBLIC_ERRNO_H

/*
 * A hypercall returns a signed 64-bit value: >= 0 is success, and
 * -KEEL_E* (from -1 to -KEEL_ERRNO_MAX) is an error. Status fields in
 * structs hold 0 or -KEEL_E* as an int32_t. Values are append-only.
 * docs/abi/errors.md says what each one means.
 */
#define KEEL_OK			0
#define KEEL_EPERM		1	/* caller lacks the capability, or CPL > 0 */
#define KEEL_ENOENT		2	/* no such object (port, grant, device, vCPU state) */
#define KEEL_ESRCH		3	/* no such domain, or the domain is dying */
#define KEEL_EINVAL		4	/* invalid argument, flag, or non-zero MBZ field */
#define KEEL_EFAULT		5	/* GPA not guest RAM, misaligned, or crosses a page */
#define KEEL_ENOMEM		6	/* Keel or the domain's memory limit is exhausted */
#define KEEL_EBUSY		7	/* object in use, or in the wrong state for the call */
#define KEEL_EEXIST		8	/* object already exists / already bound */
#define KEEL_ENOSPC		9	/* a table (ports, grants, maps, devices) is full */
#define KEEL_ENOSYS		10	/* hypercall number not implemented */
#define KEEL_EAGAIN		11	/* progress made or transient state: call again */
#define KEEL_EACCES		12	/* access mode not permitted (e.g. write to read-only grant) */
#define KEEL_E2BIG		13	/* count or length larger than allowed */
#define KEEL_EVERSION		14	/* ABI version incompatible */
#define KEEL_ENOTIDENT		15	/* KEEL_HC_IDENTIFY has not succeeded yet */
#define KEEL_EOPNOTSUPP		16	/* known operation, not available (feature bit clear) */

#define KEEL_ERRNO_MAX		4095

#endif /* KEEL_PUBLIC_ERRNO_H */
