/* SPDX-License-Identifier: MIT */
/*
 * tests/linux/ctl/privtest.c - the privileged driver's API from user space,
 * run as root inside the Linux control domain (tests/integration/
 * ctl-linux.cmake). Each argument names a test; each prints one line
 *   keeltest: ctl-NAME: SUCCESS|FAILURE [details]
 * privcmd: the version, a call with an OUT buffer, a buffer placed inside
 *          another (LOG_READ), Keel's own refusal in `result`, and every
 *          descriptor error the driver must catch (docs/keelctl.md).
 * evtchn:  a loopback pair of ports: poll, read, held-until-written-back,
 *          notify both ways, KEEL_VIRQ_DOMAIN_STATE firing when a domain is
 *          created and destroyed, KEEL_VIRQ_LOG when that grew Keel's log,
 *          errors as errno.
 * gntmap:  MAP_GRANTS's checks and Keel's refusals; mmap of an offset never
 *          handed out.
 * asuser UID CMD ARGS...: become user UID (and group UID), check that both
 *          nodes refuse to open (EACCES), then exec CMD as that user.
 * nocap CMD ARGS...: as root, drop CAP_SYS_ADMIN (effective, permitted and
 *          bounding sets, so CMD cannot regain it), check that the driver
 *          itself refuses the open (EACCES; the node's mode lets root in),
 *          then exec CMD.
 * Written against the spec, not the driver: expected values come from
 * docs/keelctl.md and the public headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <grp.h>
#include <linux/capability.h>

#include <keel/abi.h>
#include <keel/console.h>
#include <keel/control.h>
#include <keel/errno.h>
#include <keel/event_channel.h>
#include <keel/hypercall.h>
#include <keelctl/keel_privcmd.h>

static int failures;
static char first_failure[200];

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	if (failures++ == 0)
		vsnprintf(first_failure, sizeof(first_failure), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	fprintf(stdout, "privtest: check failed: ");
	vfprintf(stdout, fmt, ap);
	fprintf(stdout, "\n");
	va_end(ap);
}

static void result(const char *test, const char *fmt, ...)
{
	char details[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(details, sizeof(details), fmt, ap);
	va_end(ap);
	if (failures)
		printf("keeltest: ctl-%s: FAILURE %d check(s) failed, first: %s\n", test, failures,
		       first_failure);
	else
		printf("keeltest: ctl-%s: SUCCESS %s\n", test, details);
	fflush(stdout);
	failures = 0;
}

static int open_node(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("keeltest: privtest: ERROR cannot open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* One hypercall; returns the ioctl's return (errno kept), Keel's value in *res. */
static int hcall(int fd, uint32_t nr, uint64_t a0, struct keel_privcmd_buf *bufs, uint32_t n,
		 int64_t *res)
{
	struct keel_privcmd_hypercall hc = {
		.version = KEEL_PRIVCMD_VERSION, .nr = nr, .args = { a0 },
		.bufs = (uintptr_t)bufs, .nr_bufs = n, .result = 0x5a5a,
	};
	int rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_HYPERCALL, &hc);

	if (res)
		*res = hc.result;
	return rc;
}

static struct keel_privcmd_buf arg_buf(void *p, uint32_t len, uint32_t flags)
{
	return (struct keel_privcmd_buf){ .addr = (uintptr_t)p, .len = len, .flags = flags,
					  .at = KEEL_PRIVCMD_AT_ARG, .index = 0 };
}

/* The ioctl must fail with @want before the call is made (result untouched). */
static void expect_refused(int fd, const char *what, struct keel_privcmd_hypercall hc, int want)
{
	int rc;

	hc.result = 0x5a5a;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_HYPERCALL, &hc);
	check(rc == -1 && errno == want, "%s: want errno %d (%s), got rc %d errno %d (%s)", what,
	      want, strerror(want), rc, rc ? errno : 0, rc ? strerror(errno) : "-");
	check(hc.result == 0x5a5a, "%s: result written although the call was refused", what);
}

static void test_privcmd(void)
{
	int fd = open_node("/dev/keel/privcmd");
	struct keel_ctl_host_info h;
	struct keel_ctl_domain_info self = { .domid = KEEL_DOMID_SELF };
	struct keel_stream_read r = { .domid = 0, .buf_len = 4096 };
	static char log[4097];
	struct keel_privcmd_buf b[2], many[KEEL_PRIVCMD_MAX_BUFS + 1];
	uint32_t version = 0;
	int64_t res;
	int rc;

	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_VERSION, &version);
	check(rc == 0 && version == KEEL_PRIVCMD_VERSION, "VERSION: rc %d, %#x", rc, version);

	memset(&h, 0xa5, sizeof(h));
	b[0] = arg_buf(&h, sizeof(h), KEEL_PRIVCMD_BUF_OUT);
	rc = hcall(fd, KEEL_HC_CTL_HOST_INFO, 0, b, 1, &res);
	check(rc == 0 && res == 0, "HOST_INFO: rc %d result %lld", rc, (long long)res);
	check(h.abi_major == KEEL_ABI_MAJOR && h.free_pages > 0 && h.free_pages <= h.total_pages,
	      "HOST_INFO: abi %u, free %llu of %llu", h.abi_major,
	      (unsigned long long)h.free_pages, (unsigned long long)h.total_pages);

	b[0] = arg_buf(&self, sizeof(self), KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT);
	rc = hcall(fd, KEEL_HC_CTL_DOMAIN_INFO, 0, b, 1, &res);
	check(rc == 0 && res == 0 && strcmp((char *)self.name, "ctl") == 0 &&
	      (self.caps & KEEL_CAP_LOG), "DOMAIN_INFO(self): rc %d result %lld name '%.32s'",
	      rc, (long long)res, (char *)self.name);

	/* The data buffer's GPA goes into buffer 0 at buf_gpa. */
	b[0] = arg_buf(&r, sizeof(r), KEEL_PRIVCMD_BUF_IN | KEEL_PRIVCMD_BUF_OUT);
	b[1] = (struct keel_privcmd_buf){ .addr = (uintptr_t)log, .len = 4096,
					  .flags = KEEL_PRIVCMD_BUF_OUT, .at = KEEL_PRIVCMD_AT_BUF,
					  .index = 0,
					  .offset = offsetof(struct keel_stream_read, buf_gpa) };
	rc = hcall(fd, KEEL_HC_CTL_LOG_READ, 0, b, 2, &res);
	/* Buffer 0 comes back whole: buf_gpa is the data's bounce page, page-aligned. */
	check(rc == 0 && res == 0 && r.len > 0 && r.len <= 4096 && r.buf_gpa != 0 &&
	      (r.buf_gpa & 0xfff) == 0, "LOG_READ: rc %d result %lld len %u buf_gpa %#llx", rc,
	      (long long)res, r.len, (unsigned long long)r.buf_gpa);
	check(memmem(log, r.len, "Keel", 4) != NULL, "LOG_READ: no 'Keel' in the first %u bytes",
	      r.len);

	/* Keel, not the driver, checks rights: a capability we lack comes back in result. */
	{
		struct keel_privcmd_hypercall hc = {
			.version = KEEL_PRIVCMD_VERSION, .nr = KEEL_HC_CTL_DOMAIN_SET_CAPS,
			.args = { KEEL_DOMID_SELF, self.caps | KEEL_CAP_BACKEND_BLOCK },
		};

		rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_HYPERCALL, &hc);
		check(rc == 0 && hc.result == -KEEL_EPERM,
		      "SET_CAPS(self, +backend-block): rc %d result %lld, want 0 and -KEEL_EPERM", rc,
		      (long long)hc.result);
	}

	/* The driver's own checks, each before anything is copied or called. */
	{
		struct keel_privcmd_hypercall base = {
			.version = KEEL_PRIVCMD_VERSION, .nr = KEEL_HC_CTL_HOST_INFO,
			.bufs = (uintptr_t)b, .nr_bufs = 1,
		};
		struct keel_privcmd_hypercall hc;

		b[0] = arg_buf(&h, sizeof(h), KEEL_PRIVCMD_BUF_OUT);
		hc = base; hc.version = 2 << 16;
		expect_refused(fd, "API major 2", hc, EINVAL);
		hc = base; hc.pad0 = 1;
		expect_refused(fd, "pad0 set", hc, EINVAL);
		hc = base; hc.nr = KEEL_HC_EVTCHN_SEND;
		expect_refused(fd, "a call that is the kernel's (EVTCHN_SEND)", hc, EINVAL);
		hc = base; hc.nr = KEEL_HC_SCHED_SHUTDOWN;
		expect_refused(fd, "SCHED_SHUTDOWN of the control domain", hc, EINVAL);
		hc = base; hc.nr_bufs = KEEL_PRIVCMD_MAX_BUFS + 1; hc.bufs = (uintptr_t)many;
		expect_refused(fd, "257 buffers", hc, E2BIG);
		hc = base; hc.bufs = 16;
		expect_refused(fd, "descriptors at a bad address", hc, EFAULT);
		b[0].len = 0;
		expect_refused(fd, "length 0", base, EINVAL);
		b[0].len = 4097;
		expect_refused(fd, "length 4097", base, EINVAL);
		b[0] = arg_buf(&h, sizeof(h), 0x8);
		expect_refused(fd, "unknown flag", base, EINVAL);
		b[0] = arg_buf(&h, sizeof(h), KEEL_PRIVCMD_BUF_OUT);
		b[0].pad0 = 1;
		expect_refused(fd, "descriptor pad0", base, EINVAL);
		b[0] = arg_buf(&h, sizeof(h), KEEL_PRIVCMD_BUF_OUT);
		b[0].index = 6;
		expect_refused(fd, "argument 6", base, EINVAL);
		b[0] = arg_buf(&h, sizeof(h), KEEL_PRIVCMD_BUF_OUT);
		b[0].at = 3;
		expect_refused(fd, "placement 3", base, EINVAL);
		b[0] = arg_buf(&h, sizeof(h), KEEL_PRIVCMD_BUF_OUT);
		b[0].at = KEEL_PRIVCMD_AT_BUF;
		expect_refused(fd, "placed into itself", base, EINVAL);
		b[0] = arg_buf(&r, sizeof(r), KEEL_PRIVCMD_BUF_IN);
		b[1] = (struct keel_privcmd_buf){ .addr = (uintptr_t)log, .len = 64,
						  .at = KEEL_PRIVCMD_AT_BUF, .index = 0,
						  .offset = sizeof(r) - 7 };
		hc = base; hc.nr_bufs = 2;
		expect_refused(fd, "placed past the end of its target", hc, EINVAL);
		b[1].index = 2;
		expect_refused(fd, "placed into buffer 2 of 2", hc, EINVAL);
		b[0] = arg_buf((void *)16, 64, KEEL_PRIVCMD_BUF_IN);
		expect_refused(fd, "IN buffer at a bad address", base, EFAULT);
	}
	rc = ioctl(fd, 0x4b77, 0);
	check(rc == -1 && errno == ENOTTY, "unknown ioctl: rc %d errno %d", rc, errno);
	close(fd);
	result("privcmd", "version %u.%u, self '%s' caps %#llx, log %u bytes, Keel's EPERM in result",
	       version >> 16, version & 0xffff, (char *)self.name, (unsigned long long)self.caps,
	       r.len);
}

/* Ports that fired within @ms, into @ports (up to 16); returns how many. */
static int fired(int efd, int ms, uint32_t *ports)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0 || !(p.revents & POLLIN))
		return 0;
	n = read(efd, ports, 16 * sizeof(uint32_t));
	return n < 0 ? -errno : (int)(n / sizeof(uint32_t));
}

static void test_evtchn(void)
{
	int efd = open_node("/dev/keel/evtchn"), pfd = open_node("/dev/keel/privcmd");
	int efd2 = open_node("/dev/keel/evtchn");
	int lfd = open_node("/dev/keel/evtchn");	/* KEEL_VIRQ_LOG's own file */
	struct keel_evtchn_alloc_unbound au = { .remote_domid = KEEL_DOMID_SELF };
	struct keel_evtchn_bind_interdomain bi = { .remote_domid = KEEL_DOMID_SELF };
	struct keel_evtchn_bind_virq bv = { .virq = KEEL_VIRQ_LOG }, bs = { 0 }, bs2 = { 0 };
	struct keel_ctl_domain_create dc = { .name = "virq-probe", .nr_vcpus = 1, .max_pages = 16 };
	struct keel_privcmd_buf b = arg_buf(&dc, sizeof(dc), KEEL_PRIVCMD_BUF_IN |
					    KEEL_PRIVCMD_BUF_OUT);
	uint32_t ports[16], a, c, bogus = 4000;
	int64_t res;
	int rc, n;

	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_ALLOC_UNBOUND, &au);
	check(rc == 0 && au.port != 0, "ALLOC_UNBOUND(self): rc %d errno %d port %u", rc, errno,
	      au.port);
	a = au.port;
	bi.remote_port = a;
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_BIND_INTERDOMAIN, &bi);
	check(rc == 0 && bi.port != 0 && bi.port != a, "BIND_INTERDOMAIN(self, %u): rc %d errno %d",
	      a, rc, errno);
	c = bi.port;

	check(fired(efd, 0, ports) == 0, "something fired before any notify");
	fcntl(efd, F_SETFL, O_NONBLOCK);
	rc = (int)read(efd, ports, sizeof(ports));
	check(rc == -1 && errno == EAGAIN, "empty O_NONBLOCK read: rc %d errno %d", rc, errno);
	fcntl(efd, F_SETFL, 0);

	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_NOTIFY, &c);
	n = fired(efd, 2000, ports);
	check(rc == 0 && n == 1 && ports[0] == a, "notify %u: rc %d, %d fired (first %u), want %u",
	      c, rc, n, n > 0 ? ports[0] : 0, a);
	/* Held until written back: two more events give nothing yet, then one at the re-arm. */
	ioctl(efd, KEEL_EVTCHN_IOCTL_NOTIFY, &c);
	ioctl(efd, KEEL_EVTCHN_IOCTL_NOTIFY, &c);
	n = fired(efd, 300, ports);
	check(n == 0, "port %u delivered again before it was written back (%d)", a, n);
	rc = (int)write(efd, &a, sizeof(a));
	check(rc == 4, "write(re-arm %u): %d errno %d", a, rc, errno);
	n = fired(efd, 2000, ports);
	check(n == 1 && ports[0] == a, "the event that came while held: %d fired", n);
	write(efd, &a, sizeof(a));
	n = fired(efd, 300, ports);
	check(n == 0, "re-armed with nothing pending, yet %d fired", n);

	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_NOTIFY, &a);
	rc |= (int)read(efd, ports, sizeof(ports)) == 4 ? 0 : -1;	/* blocking read */
	check(rc == 0 && ports[0] == c, "notify %u the other way: port %u fired", a, ports[0]);
	write(efd, &c, sizeof(c));

	/* Errors: ports not ours, odd lengths, a domain that does not exist. */
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_NOTIFY, &bogus);
	check(rc == -1 && errno == EINVAL, "notify of a port not ours: rc %d errno %d", rc, errno);
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_CLOSE, &bogus);
	check(rc == -1 && errno == EINVAL, "close of a port not ours: rc %d errno %d", rc, errno);
	rc = (int)read(efd, ports, 3);
	check(rc == -1 && errno == EINVAL, "3-byte read: rc %d errno %d", rc, errno);
	rc = (int)write(efd, ports, 6);
	check(rc == -1 && errno == EINVAL, "6-byte write: rc %d errno %d", rc, errno);
	bi.remote_domid = 0x7000;
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_BIND_INTERDOMAIN, &bi);
	check(rc == -1 && errno == ESRCH, "bind to domain 0x7000: rc %d errno %d, want ESRCH", rc,
	      errno);
	bi.remote_domid = KEEL_DOMID_SELF;
	bi.pad0 = 1;
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_BIND_INTERDOMAIN, &bi);
	check(rc == -1 && errno == EINVAL, "bind with pad0: rc %d errno %d", rc, errno);

	/*
	 * KEEL_VIRQ_LOG binds (we hold the log capability), in a file of its own
	 * so that the DOMAIN_STATE checks below see only theirs. What Keel
	 * logged before is told at once: take that first.
	 */
	rc = ioctl(lfd, KEEL_EVTCHN_IOCTL_BIND_VIRQ, &bv);
	check(rc == 0 && bv.port != 0, "BIND_VIRQ(LOG): rc %d errno %d", rc, errno);
	for (int i = 0; i < 10 && (n = fired(lfd, 500, ports)) > 0; i++) {
		write(lfd, ports, (size_t)n * sizeof(uint32_t));
	}
	bs.virq = KEEL_VIRQ_DOMAIN_STATE;
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_BIND_VIRQ, &bs);
	check(rc == 0 && bs.port != 0, "BIND_VIRQ(DOMAIN_STATE): rc %d errno %d", rc, errno);
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_BIND_VIRQ, &bs);
	check(rc == -1 && errno == EEXIST, "DOMAIN_STATE bound twice: rc %d errno %d, want EEXIST",
	      rc, errno);
	/* Another file (another process's keelctl monitor) shares the VIRQ: same port, own copy. */
	bs2.virq = KEEL_VIRQ_DOMAIN_STATE;
	rc = ioctl(efd2, KEEL_EVTCHN_IOCTL_BIND_VIRQ, &bs2);
	check(rc == 0 && bs2.port == bs.port,
	      "DOMAIN_STATE in a second file: rc %d errno %d port %u, want the first's %u", rc,
	      errno, bs2.port, bs.port);
	rc = hcall(pfd, KEEL_HC_CTL_DOMAIN_CREATE, 0, &b, 1, &res);
	check(rc == 0 && res == 0, "DOMAIN_CREATE virq-probe: rc %d result %lld", rc,
	      (long long)res);
	n = fired(efd, 3000, ports);
	check(n == 1 && ports[0] == bs.port, "DOMAIN_STATE port %u after a creation: %d fired (%u)",
	      bs.port, n, n > 0 ? ports[0] : 0);
	/* Keel logged the creation: within about 0.1 s (and a scheduler pass) the log VIRQ. */
	n = fired(lfd, 3000, ports);
	check(n == 1 && ports[0] == bv.port, "LOG port %u after a creation was logged: %d fired (%u)",
	      bv.port, n, n > 0 ? ports[0] : 0);
	write(lfd, &bv.port, sizeof(bv.port));
	write(efd, &bs.port, sizeof(bs.port));
	n = fired(efd2, 3000, ports);
	check(n == 1 && ports[0] == bs.port,
	      "second file's DOMAIN_STATE after a creation: %d fired (%u)", n, n > 0 ? ports[0] : 0);
	/* Its share closed, the second file hears nothing more; the first still does. */
	rc = ioctl(efd2, KEEL_EVTCHN_IOCTL_CLOSE, &bs2.port);
	check(rc == 0, "close the second file's DOMAIN_STATE: rc %d errno %d", rc, errno);
	if (res == 0) {
		do {
			rc = hcall(pfd, KEEL_HC_CTL_DOMAIN_DESTROY, dc.domid, NULL, 0, &res);
		} while (rc == 0 && res == -KEEL_EAGAIN);
		check(rc == 0 && res == 0, "DESTROY virq-probe: rc %d result %lld", rc,
		      (long long)res);
		n = fired(efd, 3000, ports);
		check(n >= 1 && ports[0] == bs.port,
		      "DOMAIN_STATE port %u after a destruction: %d fired (%u)", bs.port, n,
		      n > 0 ? ports[0] : 0);
		n = fired(efd2, 500, ports);
		check(n == 0, "the closed share heard the destruction: %d fired", n);
	}
	close(efd2);

	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_CLOSE, &a);
	check(rc == 0, "close %u: rc %d errno %d", a, rc, errno);
	rc = ioctl(efd, KEEL_EVTCHN_IOCTL_NOTIFY, &a);
	check(rc == -1 && errno == EINVAL, "notify of the closed port: rc %d errno %d", rc, errno);
	close(efd);	/* closes c and the VIRQ ports */
	close(lfd);
	close(pfd);
	result("evtchn", "ports %u<->%u, held until re-armed, DOMAIN_STATE port %u fired in "
	       "both files sharing it, LOG port %u fired", a, c, bs.port, bv.port);
}

static void test_gntmap(void)
{
	int fd = open_node("/dev/keel/privcmd");
	uint32_t refs[2] = { 0, 1 };
	struct keel_privcmd_map_grants base = { .domid = KEEL_DOMID_SELF, .count = 1,
						.refs = (uintptr_t)refs }, m;
	void *p;
	int rc;

	m = base; m.count = 0;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &m);
	check(rc == -1 && errno == EINVAL, "count 0: rc %d errno %d", rc, errno);
	m = base; m.count = KEEL_PRIVCMD_MAX_GRANTS + 1;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &m);
	check(rc == -1 && errno == E2BIG, "count 257: rc %d errno %d", rc, errno);
	m = base; m.flags = 2;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &m);
	check(rc == -1 && errno == EINVAL, "unknown flag: rc %d errno %d", rc, errno);
	m = base; m.refs = 16;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &m);
	check(rc == -1 && errno == EFAULT, "refs at a bad address: rc %d errno %d", rc, errno);
	/* Keel refuses mapping one's own grants (EINVAL) and unknown domains (ESRCH). */
	m = base;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &m);
	check(rc == -1 && errno == EINVAL, "own grant: rc %d errno %d, want EINVAL", rc, errno);
	m = base; m.domid = 0x7000;
	rc = ioctl(fd, KEEL_PRIVCMD_IOCTL_MAP_GRANTS, &m);
	check(rc == -1 && errno == ESRCH, "domain 0x7000: rc %d errno %d, want ESRCH", rc, errno);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	check(p == MAP_FAILED && errno == EINVAL, "mmap of an offset never handed out: %p errno %d",
	      p, errno);
	close(fd);
	result("gntmap", "every refusal as documented");
}

static void test_noroot(void)
{
	const char *nodes[] = { "/dev/keel/privcmd", "/dev/keel/evtchn" };

	for (int i = 0; i < 2; i++) {
		int fd = open(nodes[i], O_RDWR);

		check(fd < 0 && errno == EACCES, "%s opened by uid %d: fd %d errno %d", nodes[i],
		      (int)getuid(), fd, errno);
	}
	result(getuid() ? "noroot" : "nocap", "uid %d: EACCES from both nodes", (int)getuid());
}

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0 ||
	    syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	data[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	return (int)syscall(SYS_capset, &hdr, data);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && strcmp(argv[1], "asuser") == 0) {
		uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);

		if (uid == 0 || setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0) {
			printf("keeltest: ctl-noroot: ERROR cannot become uid %s: %s\n", argv[2],
			       strerror(errno));
			return 1;
		}
		test_noroot();
		execv(argv[3], argv + 3);
		printf("keeltest: ctl-noroot: ERROR cannot run %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	if (argc >= 3 && strcmp(argv[1], "nocap") == 0) {
		if (getuid() != 0 || drop_sys_admin() != 0) {
			printf("keeltest: ctl-nocap: ERROR cannot drop CAP_SYS_ADMIN as uid %d: %s\n",
			       (int)getuid(), strerror(errno));
			return 1;
		}
		test_noroot();
		execv(argv[2], argv + 2);
		printf("keeltest: ctl-nocap: ERROR cannot run %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "privcmd") == 0)
			test_privcmd();
		else if (strcmp(argv[i], "evtchn") == 0)
			test_evtchn();
		else if (strcmp(argv[i], "gntmap") == 0)
			test_gntmap();
		else
			printf("keeltest: privtest: ERROR unknown test '%s'\n", argv[i]);
	}
	return 0;
}
