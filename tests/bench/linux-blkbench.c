/* SPDX-License-Identifier: MIT */
/*
 * linux-blkbench.c - the PV block benchmark's frontend side in a Linux guest
 * (keel-bench, KEEL_BENCH_DISK=linux): the same patterns, rounds and
 * in-band protocol as the reference port's bench-blkfront
 * (guest-support/reference/bench_block_protocol.h), but through Debian's
 * kernel, keel.ko's blkfront and its blk-mq queue, on /dev/kvda opened
 * O_DIRECT, with Linux native AIO keeping each pattern's depth in flight.
 * Per round and pattern it asks the backend to measure directly (an
 * O_DIRECT read of that pattern's control sector, answered once the
 * backend's measurement is done) and measures the same work itself, in
 * alternating order. Prints, like the reference frontend:
 *   keelbench: blk-pv PATTERN round R: BYTES bytes NS ns
 * and at the end "keeltest: linux-blkbench: SUCCESS|FAILURE ...".
 * Static, no library beyond libc: it runs from a busybox initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench_block_protocol.h"

#define MAX_DEPTH	64u			/* the deepest pattern */
#define MAX_BYTES	(128u * 1024u)		/* the largest request */

static int fail(const char *what)
{
	printf("keeltest: linux-blkbench: FAILURE %s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The backend measures pattern @p, round @r directly and answers this read when done. */
static int ask_direct(int fd, void *sector_buf, uint32_t p, uint32_t r)
{
	off_t at = (off_t)(DATA_SECTORS + (uint64_t)ROUNDS_MAX * p + r) * 512;

	return pread(fd, sector_buf, 512, at) == 512 ? 0 : -1;
}

static void prep(struct iocb *cb, int fd, const struct pattern *pat, void *buf, uint64_t n)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_lio_opcode = pat->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	cb->aio_buf = (uint64_t)(uintptr_t)buf;
	cb->aio_nbytes = pat->bytes;
	cb->aio_offset = (int64_t)(request_sector(pat, n) * 512);
	cb->aio_data = (uint64_t)(uintptr_t)cb;
}

/*
 * Pattern @pat's fixed work through PV, @pat->depth requests in flight: a
 * slot's next request is submitted as its last one completes. Returns the
 * time from the first submission to the last completion, or 0 on an error.
 */
static uint64_t pv_measure(int fd, aio_context_t ctx, const struct pattern *pat, uint8_t *bufs)
{
	struct iocb cbs[MAX_DEPTH], *one[1];
	struct io_event ev[MAX_DEPTH];
	uint64_t next = 0, done = 0, start = now_ns();

	for (uint32_t s = 0; s < pat->depth && next < pat->requests; s++, next++) {
		prep(&cbs[s], fd, pat, bufs + (size_t)s * MAX_BYTES, next);
		one[0] = &cbs[s];
		if (syscall(SYS_io_submit, ctx, 1, one) != 1) {
			return 0;
		}
	}
	while (done < pat->requests) {
		long got = syscall(SYS_io_getevents, ctx, 1, MAX_DEPTH, ev, NULL);

		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got <= 0) {
			return 0;
		}
		for (long i = 0; i < got; i++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)ev[i].data;

			if (ev[i].res != (int64_t)pat->bytes) {
				errno = ev[i].res < 0 ? (int)-ev[i].res : EIO;
				return 0;
			}
			done++;
			if (next < pat->requests) {
				prep(cb, fd, pat, (void *)(uintptr_t)cb->aio_buf, next++);
				one[0] = cb;
				if (syscall(SYS_io_submit, ctx, 1, one) != 1) {
					return 0;
				}
			}
		}
	}
	return now_ns() - start;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/kvda";
	aio_context_t ctx = 0;
	uint8_t *bufs, *sector;
	unsigned int pairs = 0;
	int fd = open(dev, O_RDWR | O_DIRECT);

	if (fd < 0) {
		return fail(dev);
	}
	if (posix_memalign((void **)&bufs, 4096, (size_t)MAX_DEPTH * MAX_BYTES) ||
	    posix_memalign((void **)&sector, 4096, 4096)) {
		return fail("buffers");
	}
	memset(bufs, 0x5a, (size_t)MAX_DEPTH * MAX_BYTES);
	if (syscall(SYS_io_setup, MAX_DEPTH, &ctx) != 0) {
		return fail("io_setup");
	}
	for (uint32_t r = 0; r < ROUNDS; r++) {
		for (uint32_t p = 0; p < PATTERNS; p++) {
			const struct pattern *pat = &patterns[p];
			uint64_t ns;

			if (r % 2 == 0 && ask_direct(fd, sector, p, r) != 0) {
				return fail("the direct measurement's control read");
			}
			ns = pv_measure(fd, ctx, pat, bufs);
			if (!ns) {
				return fail(pat->name);
			}
			if (r % 2 == 1 && ask_direct(fd, sector, p, r) != 0) {
				return fail("the direct measurement's control read");
			}
			printf("keelbench: blk-pv %s round %u: %" PRIu64 " bytes %" PRIu64 " ns\n",
			       pat->name, r, (uint64_t)pat->requests * pat->bytes, ns);
			fflush(stdout);
			pairs++;
		}
	}
	syscall(SYS_io_destroy, ctx);
	close(fd);
	printf("keeltest: linux-blkbench: SUCCESS %u measurements through %s\n", pairs, dev);
	fflush(stdout);
	return 0;
}
