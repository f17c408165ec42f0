/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_block.c - the backend daemon's disk store (block_store.h)
 * keeps its durability promises over a real file and a real block device:
 * a FUA write goes through a descriptor opened O_DSYNC, a plain write does
 * not, FLUSH is fdatasync() of the image and reports its failure. The
 * store's pwrite() and fdatasync() calls are seen through the linker's
 * --wrap (CMakeLists.txt), which records them and otherwise passes them on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "block_store.h"
#include "tests.h"

/* --- the spies: every pwrite and fdatasync of this program while on --------------------- */

#define SPY_MAX	32

struct call {
	int fd;
	int flags;		/* F_GETFL at the time of the call */
};

static struct {
	bool on;
	int fail_sync;		/* nonzero: fdatasync fails with this errno */
	unsigned int nwrites, nsyncs;
	struct call writes[SPY_MAX], syncs[SPY_MAX];
} spy;

ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t at);
int __real_fdatasync(int fd);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t at);
int __wrap_fdatasync(int fd);

static void record(struct call *calls, unsigned int *n, int fd)
{
	if (*n < SPY_MAX) {
		calls[*n] = (struct call){ .fd = fd, .flags = fcntl(fd, F_GETFL) };
	}
	(*n)++;
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t at)
{
	if (spy.on) {
		record(spy.writes, &spy.nwrites, fd);
	}
	return __real_pwrite(fd, buf, n, at);
}

int __wrap_fdatasync(int fd)
{
	if (spy.on) {
		record(spy.syncs, &spy.nsyncs, fd);
		if (spy.fail_sync) {
			errno = spy.fail_sync;
			return -1;
		}
	}
	return __real_fdatasync(fd);
}

static void spy_start(void)
{
	memset(&spy, 0, sizeof(spy));
	spy.on = true;
}

/* --- helpers ------------------------------------------------------------------------------ */

static const char *image(const char *name, off_t size)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", env_get()->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(ftruncate(fd, size), 0);
	close(fd);
	return path;
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static bool dsync(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags >= 0 && (flags & O_DSYNC) == O_DSYNC;
}

/* Every write recorded went to @fd, which was (@want_dsync) or was not O_DSYNC then. */
static void writes_went_to(int fd, bool want_dsync)
{
	CU_ASSERT_TRUE(spy.nwrites >= 1 && spy.nwrites <= SPY_MAX);
	for (unsigned int i = 0; i < spy.nwrites && i < SPY_MAX; i++) {
		CU_ASSERT_EQUAL(spy.writes[i].fd, fd);
		CU_ASSERT_EQUAL((spy.writes[i].flags & O_DSYNC) == O_DSYNC, want_dsync);
	}
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++) {
		p[i] = (uint8_t)(i * 13 + seed);
	}
}

/* @path's @n bytes at @at are @want's (read through a descriptor of our own). */
static bool holds(const char *path, off_t at, const uint8_t *want, size_t n)
{
	uint8_t got[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && n <= sizeof(got) && pread(fd, got, n, at) == (ssize_t)n &&
		  memcmp(got, want, n) == 0;

	if (fd >= 0) {
		close(fd);
	}
	return ok;
}

/* --- the tests ---------------------------------------------------------------------------- */

static void test_plain_write(void)
{
	const char *path = image("plain.img", 64 * 1024);
	uint8_t a[512], b[1024], back[1536];
	struct kpv_blk_iov iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct kpv_blk_iov riov[1] = { { back, sizeof(back) } };
	struct kpv_blk_geometry g;
	struct kb_disk d;

	CU_ASSERT_EQUAL_FATAL(kb_disk_open(&d, path, false), 0);
	/* Two descriptors of the image: only the FUA one is O_DSYNC. */
	CU_ASSERT_TRUE(same_file(d.fd, path) && same_file(d.fd_sync, path));
	CU_ASSERT_FALSE(dsync(d.fd));
	CU_ASSERT_TRUE(dsync(d.fd_sync));
	kb_disk_store.geometry(&d, &g);
	CU_ASSERT_EQUAL(g.capacity, 128);
	CU_ASSERT_EQUAL(g.logical_block_size, 512);
	CU_ASSERT_EQUAL(g.physical_block_size, 4096);
	CU_ASSERT_FALSE(g.read_only);

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	spy_start();
	CU_ASSERT_EQUAL(kb_disk_store.write(&d, 3, iov, 2, false), 0);
	spy.on = false;
	writes_went_to(d.fd, false);
	CU_ASSERT_EQUAL(spy.nsyncs, 0);
	CU_ASSERT_TRUE(holds(path, 3 * 512, a, sizeof(a)));
	CU_ASSERT_TRUE(holds(path, 4 * 512, b, sizeof(b)));
	CU_ASSERT_EQUAL(kb_disk_store.read(&d, 3, riov, 1), 0);
	CU_ASSERT_EQUAL(memcmp(back, a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(memcmp(back + sizeof(a), b, sizeof(b)), 0);
	kb_disk_close(&d);
}

static void test_fua_write(void)
{
	const char *path = image("fua.img", 64 * 1024);
	uint8_t a[4096];
	struct kpv_blk_iov iov[1] = { { a, sizeof(a) } };
	struct kb_disk d;

	CU_ASSERT_EQUAL_FATAL(kb_disk_open(&d, path, false), 0);
	fill(a, sizeof(a), 3);
	spy_start();
	CU_ASSERT_EQUAL(kb_disk_store.write(&d, 8, iov, 1, true), 0);
	spy.on = false;
	writes_went_to(d.fd_sync, true);
	CU_ASSERT_TRUE(holds(path, 8 * 512, a, sizeof(a)));
	kb_disk_close(&d);
}

static void test_flush(void)
{
	const char *path = image("flush.img", 64 * 1024);
	struct kb_disk d;
	int fd;

	CU_ASSERT_EQUAL_FATAL(kb_disk_open(&d, path, false), 0);
	spy_start();
	CU_ASSERT_EQUAL(kb_disk_store.flush(&d), 0);
	CU_ASSERT_EQUAL(spy.nsyncs, 1);
	CU_ASSERT_EQUAL(spy.syncs[0].fd, d.fd);
	CU_ASSERT_TRUE(same_file(spy.syncs[0].fd, path));
	CU_ASSERT_EQUAL(spy.nwrites, 0);
	/* A failed fdatasync is the guest's error, never a success. */
	spy.fail_sync = EIO;
	CU_ASSERT_EQUAL(kb_disk_store.flush(&d), -EIO);
	CU_ASSERT_EQUAL(spy.nsyncs, 2);
	/* Closing syncs what was written, flushed or not. */
	fd = d.fd;
	spy_start();
	kb_disk_close(&d);
	spy.on = false;
	CU_ASSERT_EQUAL(spy.nsyncs, 1);
	CU_ASSERT_EQUAL(spy.syncs[0].fd, fd);
}

static void test_read_only(void)
{
	const char *path = image("ro.img", 8192);
	uint8_t a[512] = { 1 };
	struct kpv_blk_iov iov[1] = { { a, sizeof(a) } };
	struct kpv_blk_geometry g;
	struct kb_disk d;

	CU_ASSERT_EQUAL_FATAL(kb_disk_open(&d, path, true), 0);
	CU_ASSERT_EQUAL(d.fd_sync, -1);
	CU_ASSERT_EQUAL(fcntl(d.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	kb_disk_store.geometry(&d, &g);
	CU_ASSERT_TRUE(g.read_only);
	spy_start();
	CU_ASSERT_EQUAL(kb_disk_store.write(&d, 0, iov, 1, false), -EIO);
	CU_ASSERT_EQUAL(kb_disk_store.write(&d, 0, iov, 1, true), -EIO);
	kb_disk_close(&d);
	spy.on = false;
	CU_ASSERT_EQUAL(spy.nwrites, 0);
	CU_ASSERT_EQUAL(spy.nsyncs, 0);
	/* And what cannot be opened leaves nothing open. */
	CU_ASSERT_EQUAL(kb_disk_open(&d, "/nonexistent/disk.img", false), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(d.fd, -1);
	CU_ASSERT_EQUAL(d.fd_sync, -1);
}

/* Whether the kernel has let go of loop device @path (autoclear is asynchronous). */
static bool loop_detached(const char *path)
{
	char sys[128];
	struct stat st;

	snprintf(sys, sizeof(sys), "/sys/block/%s/loop/backing_file", strrchr(path, '/') + 1);
	for (int i = 0; i < 200; i++) {
		if (stat(sys, &st) != 0) {
			return true;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	return false;
}

/*
 * The same over a block device (os_linux.c's S_ISBLK branch): a loop device
 * with 4 KiB sectors over a file, so what reaches the device is seen in the
 * file. Needs root and the loop driver; run without root it says so and passes
 * (QEMU test ctl-io serves a loop device through the daemon as well).
 */
static void test_block_device(void)
{
	const char *file = image("loop.img", 1024 * 1024);
	char backing[256], dev[64];
	uint8_t a[4096], b[4096];
	struct kpv_blk_iov ia[1] = { { a, sizeof(a) } }, ib[1] = { { b, sizeof(b) } };
	struct kpv_blk_geometry g;
	struct kb_disk d;
	int loop;

	snprintf(backing, sizeof(backing), "%s", file);
	loop = test_loop_attach(backing, 4096, dev, sizeof(dev));
	/* ./keel test runs as root, where this must work; a developer's unprivileged run says so. */
	if (loop < 0 && geteuid() != 0 && (errno == EACCES || errno == EPERM)) {
		fprintf(stderr, "\n  not run: a loop device needs root (%s)\n", strerror(errno));
		return;
	}
	CU_ASSERT_TRUE_FATAL(loop >= 0);
	if (kb_disk_open(&d, dev, false) != 0) {
		CU_FAIL("opening the loop device");
		close(loop);
		return;
	}
	kb_disk_store.geometry(&d, &g);
	CU_ASSERT_EQUAL(g.capacity, 2048);
	CU_ASSERT_EQUAL(g.logical_block_size, 4096);
	CU_ASSERT_TRUE(g.physical_block_size >= 4096);
	CU_ASSERT_FALSE(dsync(d.fd));
	CU_ASSERT_TRUE(dsync(d.fd_sync));

	/* FUA: through O_DSYNC, and in the file when the write returns. */
	fill(a, sizeof(a), 5);
	spy_start();
	CU_ASSERT_EQUAL(kb_disk_store.write(&d, 8, ia, 1, true), 0);
	spy.on = false;
	writes_went_to(d.fd_sync, true);
	CU_ASSERT_TRUE(holds(backing, 4096, a, sizeof(a)));

	/* A plain write, then FLUSH: one fdatasync of the device, and the data in the file. */
	fill(b, sizeof(b), 6);
	spy_start();
	CU_ASSERT_EQUAL(kb_disk_store.write(&d, 16, ib, 1, false), 0);
	writes_went_to(d.fd, false);
	CU_ASSERT_EQUAL(spy.nsyncs, 0);
	CU_ASSERT_EQUAL(kb_disk_store.flush(&d), 0);
	spy.on = false;
	CU_ASSERT_EQUAL(spy.nsyncs, 1);
	CU_ASSERT_EQUAL(spy.syncs[0].fd, d.fd);
	CU_ASSERT_TRUE(holds(backing, 8192, b, sizeof(b)));

	kb_disk_close(&d);
	close(loop);
	CU_ASSERT_TRUE(loop_detached(dev));
}

static CU_TestInfo tests[] = {
	{ "plain writes: no O_DSYNC, no fdatasync", test_plain_write },
	{ "a FUA write goes through the O_DSYNC descriptor", test_fua_write },
	{ "FLUSH is fdatasync of the image, failures reported", test_flush },
	{ "read-only: no O_DSYNC descriptor, writes refused", test_read_only },
	{ "a block device: loop with 4 KiB sectors", test_block_device },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo block_store_suite = { "backends: disk store", NULL, NULL, NULL, NULL, tests };
