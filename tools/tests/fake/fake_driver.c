/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/fake/fake_driver.c - the privileged driver's version ioctl for
 * a real program (fake_driver.h), through a seccomp user notification: the
 * child installs a filter sending that one ioctl to a listener, hands the
 * listener over a socket and execs; we write the version into the child's
 * memory where the ioctl's argument points and let the call return 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <keelctl/keel_privcmd.h>
#include "fake_driver.h"

#if defined(__x86_64__)
#define ARCH_HERE	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_HERE	AUDIT_ARCH_AARCH64
#else
#error "fake_driver.c: add this architecture's AUDIT_ARCH_*"
#endif

/* The ioctl request is an unsigned int: the low half of the 64-bit argument. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define REQUEST_LOW	(offsetof(struct seccomp_data, args[1]) + 4)
#else
#define REQUEST_LOW	offsetof(struct seccomp_data, args[1])
#endif

extern char **environ;

/* In the child: the version ioctl goes to the returned listener, everything else runs. */
static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_HERE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, REQUEST_LOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KEEL_PRIVCMD_IOCTL_VERSION, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	/* Unprivileged filters need no_new_privs; it changes nothing else here. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		return -1;
	}
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

/* One byte and room for one descriptor: what send_fd() and recv_fd() pass. */
struct fd_message {
	char byte;
	struct iovec iov;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m;
};

static void fd_message_init(struct fd_message *f)
{
	memset(f, 0, sizeof(*f));
	f->iov = (struct iovec){ &f->byte, 1 };
	f->m = (struct msghdr){ .msg_iov = &f->iov, .msg_iovlen = 1, .msg_control = f->u.buf,
				.msg_controllen = sizeof(f->u.buf) };
}

static int send_fd(int sock, int fd)
{
	struct fd_message f;
	struct cmsghdr *c;

	fd_message_init(&f);
	c = CMSG_FIRSTHDR(&f.m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &f.m, 0) == 1 ? 0 : -1;
}

/* The descriptor the child sent, or -1 if it died first. */
static int recv_fd(int sock)
{
	struct fd_message f;
	struct cmsghdr *c;
	int fd = -1;

	fd_message_init(&f);
	if (recvmsg(sock, &f.m, MSG_CMSG_CLOEXEC) != 1) {
		return -1;
	}
	c = CMSG_FIRSTHDR(&f.m);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	}
	return fd;
}

/* One stopped version ioctl: the version where its argument points, and 0. */
static void answer(int listener, uint32_t version, unsigned int *answered)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct iovec local = { &version, sizeof(version) }, remote;

	memset(&req, 0, sizeof(req));	/* the kernel insists */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
		return;			/* the child went meanwhile */
	}
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	remote.iov_base = (void *)(uintptr_t)req.data.args[2];
	remote.iov_len = sizeof(version);
	if (process_vm_writev((pid_t)req.pid, &local, 1, &remote, 1, 0) == sizeof(version)) {
		(*answered)++;
	} else {
		resp.error = -EFAULT;
	}
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* This environment without any @env's name, then @env. NULL if out of memory. */
static char **environment(const char *env)
{
	size_t n = 0, k = 0, name = strcspn(env, "=") + 1;
	char **envp;

	while (environ[n]) {
		n++;
	}
	envp = calloc(n + 2, sizeof(*envp));
	for (size_t i = 0; envp && i < n; i++) {
		if (strncmp(environ[i], env, name) != 0) {
			envp[k++] = environ[i];
		}
	}
	if (envp) {
		envp[k] = (char *)(uintptr_t)env;	/* execve's type; never written */
	}
	return envp;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Answer the child's version ioctls and gather its stderr until it closes it. */
static int supervise(pid_t pid, int listener, int errfd, uint32_t version,
		     struct fake_driver_run *out)
{
	struct pollfd p[2] = { { .fd = errfd, .events = POLLIN }, { .fd = listener, .events = POLLIN } };
	uint64_t deadline = now_ms() + 30000;
	size_t len = 0;

	while (p[0].fd >= 0) {
		int n = 0;

		if (now_ms() > deadline || ((n = poll(p, 2, 1000)) < 0 && errno != EINTR)) {
			kill(pid, SIGKILL);	/* ours: waited for below */
			return -1;
		}
		if (n < 0) {
			continue;
		}
		if (p[1].revents & POLLIN) {
			answer(listener, version, &out->answered);
		} else if (p[1].revents & (POLLHUP | POLLERR)) {
			p[1].fd = -1;		/* the child is gone; stderr will end too */
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char buf[256];
			ssize_t got = read(errfd, buf, sizeof(buf));

			if (got <= 0) {
				p[0].fd = -1;
			} else if (len + 1 < sizeof(out->err)) {
				size_t take = (size_t)got < sizeof(out->err) - 1 - len ?
					      (size_t)got : sizeof(out->err) - 1 - len;

				memcpy(out->err + len, buf, take);
				len += take;
			}
		}
	}
	out->err[len] = '\0';
	return 0;
}

int fake_driver_run(char *const argv[], const char *env, uint32_t version,
		    struct fake_driver_run *out)
{
	int sock[2], errpipe[2], listener, rc;
	char **envp = environment(env);
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (!envp) {
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) != 0) {
		free(envp);
		return -1;
	}
	if (pipe2(errpipe, O_CLOEXEC) != 0) {
		close(sock[0]);
		close(sock[1]);
		free(envp);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* Only async-signal-safe calls until execve: the parent may have threads. */
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(errpipe[1], 2) < 0) {
			_exit(126);
		}
		listener = install_filter();
		if (listener < 0 || send_fd(sock[1], listener) != 0) {
			_exit(126);
		}
		close(listener);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(sock[1]);
	close(errpipe[1]);
	free(envp);
	listener = pid > 0 ? recv_fd(sock[0]) : -1;
	close(sock[0]);
	rc = pid > 0 ? supervise(pid, listener, errpipe[0], version, out) : -1;
	if (listener < 0) {
		rc = -1;		/* no filter: nothing was answered as the driver */
	}
	close(errpipe[0]);
	if (listener >= 0) {
		close(listener);
	}
	if (pid > 0 && waitpid(pid, &out->status, 0) != pid) {
		rc = -1;
	}
	return rc;
}
