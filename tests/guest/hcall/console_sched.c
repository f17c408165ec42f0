/* SPDX-License-Identifier: MIT */
/* console_sched.c: the hcall-console and hcall-sched groups (yield, block, poll, timers). */
#include "hcall.h"

#define WAIT_LONG	(2 * KT_NS_PER_S)	/* a wake-up that takes this long did not happen */

void hc_console(void)
{
	static const char msg[] = "hcall: a console line written by KEEL_HC_CONSOLE_WRITE\n";
	uint64_t p0 = KT_GPA(hc_page[0]);
	static struct keel_stream_read sr __attribute__((aligned(64)));

	kt_group_begin("hcall-console");
	kt_console_flush();
	memcpy(hc_page[0], msg, sizeof(msg) - 1);
	kt_check_rc("CONSOLE_WRITE of a line",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, p0, sizeof(msg) - 1),
		    sizeof(msg) - 1);
	kt_check_rc("CONSOLE_WRITE of 0 bytes", keel_hypercall2(KEEL_HC_CONSOLE_WRITE, p0, 0), 0);
	/* Over 4096 is E2BIG although it also crosses a page: else E2BIG could never happen. */
	kt_check_rc("CONSOLE_WRITE of 4097 bytes", keel_hypercall2(KEEL_HC_CONSOLE_WRITE, p0, 4097),
		    -KEEL_E2BIG);
	kt_check_rc("CONSOLE_WRITE of 2^32 bytes",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, p0, (uint64_t)1 << 32), -KEEL_E2BIG);
	kt_check_rc("CONSOLE_WRITE crossing a page",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, KT_GPA(hc_page[1]) - 2, 4),
		    -KEEL_EFAULT);
	kt_check_rc("CONSOLE_WRITE of 4096 bytes from mid-page",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, p0 + 1, 4096), -KEEL_EFAULT);
	kt_check_rc("CONSOLE_WRITE from a GPA that is not RAM",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, KT_GPA_NOT_RAM, 1), -KEEL_EFAULT);
	kt_check_rc("CONSOLE_WRITE from the map window (not RAM)",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, kt_boot.map_window_gpa +
				    (kt_boot.map_window_pages - 1) * KEEL_PAGE_SIZE, 1),
		    -KEEL_EFAULT);
	/* Nobody can type into this domain (console = "none"), so its input queue stays empty. */
	kt_check_rc("CONSOLE_READ of 0 bytes", keel_hypercall2(KEEL_HC_CONSOLE_READ, p0, 0), 0);
	kt_check_rc("CONSOLE_READ of an empty queue", keel_hypercall2(KEEL_HC_CONSOLE_READ, p0, 64),
		    0);
	kt_check_rc("CONSOLE_READ of 4096 bytes at a page start",
		    keel_hypercall2(KEEL_HC_CONSOLE_READ, p0, 4096), 0);
	kt_check_rc("CONSOLE_READ capacity 4097", keel_hypercall2(KEEL_HC_CONSOLE_READ, p0, 4097),
		    -KEEL_E2BIG);
	kt_check_rc("CONSOLE_READ crossing a page",
		    keel_hypercall2(KEEL_HC_CONSOLE_READ, KT_GPA(hc_page[1]) - 2, 4), -KEEL_EFAULT);
	kt_check_rc("CONSOLE_READ into a GPA that is not RAM",
		    keel_hypercall2(KEEL_HC_CONSOLE_READ, KT_GPA_NOT_RAM, 16), -KEEL_EFAULT);
	memset(&sr, 0, sizeof(sr));
	sr.domid = kt_boot.domid;
	sr.buf_gpa = KT_GPA(hc_page[2]);
	sr.buf_len = 64;
	kt_check_rc("CONSOLE_READ_DOMAIN without KEEL_CAP_CONSOLE",
		    keel_hypercall1(KEEL_HC_CONSOLE_READ_DOMAIN, KT_GPA(&sr)), -KEEL_EPERM);
	kt_check_rc("CONSOLE_WRITE_DOMAIN without KEEL_CAP_CONSOLE",
		    keel_hypercall3(KEEL_HC_CONSOLE_WRITE_DOMAIN, kt_boot.domid, p0, 1),
		    -KEEL_EPERM);
	kt_group_end();
}

/* An IPI port to ourselves: the simplest way to make a port pending on demand. */
static long bind_ipi(void)
{
	long port = keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, 0);

	kt_check(port > 0, "EVTCHN_BIND_IPI(0)", "returned %ld (%s)", port, kt_errname(port));
	return port;
}

static void check_timer_block(void)
{
	uint64_t t0, deadline;
	long rc;

	kt_evtchn_scan(0, NULL, NULL);
	t0 = kt_now_ns();
	deadline = t0 + 2 * KT_NS_PER_MS;
	kt_check_rc("SET_TIMER(now + 2 ms)", kt_set_timer(deadline), 0);
	rc = kt_block();
	kt_check_rc("BLOCK until the timer", rc, 0);
	kt_check(kt_now_ns() >= deadline, "BLOCK returns at the timer, not before",
		 "%lu ns early", deadline - kt_now_ns());
	kt_check_rc("SET_TIMER in the past", kt_set_timer(1), 0);
	t0 = kt_now_ns();
	kt_check_rc("BLOCK with an expired timer", kt_block(), 0);
	kt_check(kt_now_ns() - t0 < WAIT_LONG, "BLOCK with an expired timer returns at once",
		 "took %lu ns", kt_now_ns() - t0);
}

static void check_virq_timer(void)
{
	long port = keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_TIMER, 0);
	uint32_t p;
	uint64_t t0;

	if (!kt_check(port > 0, "BIND_VIRQ(TIMER, 0)", "returned %ld (%s)", port,
		      kt_errname(port))) {
		return;
	}
	p = (uint32_t)port;
	kt_port_clear(p);
	t0 = kt_now_ns();
	kt_check_rc("SET_TIMER(now + 1 ms) with VIRQ_TIMER bound", kt_set_timer(t0 + KT_NS_PER_MS),
		    0);
	kt_check_rc("POLL on the VIRQ_TIMER port sees the timer", kt_poll(&p, 1, t0 + WAIT_LONG),
		    1);
	kt_check(kt_port_pending(p) && kt_now_ns() >= t0 + KT_NS_PER_MS,
		 "VIRQ_TIMER pending after the deadline", "pending %d", kt_port_pending(p));
	kt_port_clear(p);

	t0 = kt_now_ns();
	kt_check_rc("SET_TIMER(now + 5 ms)", kt_set_timer(t0 + 5 * KT_NS_PER_MS), 0);
	kt_check_rc("SET_TIMER(0) cancels it", kt_set_timer(0), 0);
	kt_check_rc("POLL finds no VIRQ_TIMER after a cancel",
		    kt_poll(&p, 1, t0 + 30 * KT_NS_PER_MS), 0);
	kt_check(!kt_port_pending(p) && kt_now_ns() >= t0 + 30 * KT_NS_PER_MS,
		 "POLL timed out at its deadline", "pending %d, %lu ns after start",
		 kt_port_pending(p),
		 kt_now_ns() - t0);

	t0 = kt_now_ns();
	kt_check_rc("SET_TIMER(now + 10 s)", kt_set_timer(t0 + 10 * KT_NS_PER_S), 0);
	kt_check_rc("SET_TIMER(now + 1 ms) replaces it", kt_set_timer(t0 + KT_NS_PER_MS), 0);
	kt_check_rc("the replacing deadline fires", kt_poll(&p, 1, t0 + WAIT_LONG), 1);
	kt_check(kt_now_ns() - t0 < WAIT_LONG, "the replacing deadline fires in time",
		 "after %lu ns", kt_now_ns() - t0);
	kt_port_clear(p);
	kt_check_rc("EVTCHN_CLOSE of the VIRQ_TIMER port", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, p),
		    0);
}

static void check_poll(uint32_t ipi)
{
	static uint8_t area[2 * KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
	struct keel_sched_poll *p = (struct keel_sched_poll *)area;
	uint64_t t0;
	long free_port = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_SELF);

	kt_port_clear(ipi);
	kt_port_mask(ipi);
	kt_check_rc("SEND on the IPI port", keel_hypercall1(KEEL_HC_EVTCHN_SEND, ipi), 0);
	kt_check(kt_port_pending(ipi), "an IPI port raises itself", "not pending");
	t0 = kt_now_ns();
	kt_check_rc("POLL on a pending (masked) port", kt_poll(&ipi, 1, t0 + WAIT_LONG), 1);
	kt_check(kt_now_ns() - t0 < WAIT_LONG, "POLL on a pending port returns at once",
		 "after %lu ns", kt_now_ns() - t0);
	kt_check_rc("POLL on a pending port without deadline", kt_poll(&ipi, 1, 0), 1);
	kt_port_clear(ipi);
	t0 = kt_now_ns();
	kt_check_rc("POLL times out", kt_poll(&ipi, 1, t0 + 10 * KT_NS_PER_MS), 0);
	kt_check(kt_now_ns() >= t0 + 10 * KT_NS_PER_MS, "POLL returns 0 only at its deadline",
		 "after %lu ns", kt_now_ns() - t0);

	/* Bad arguments, each alone, in a struct that is good otherwise. */
	if (free_port > 0) {
		keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)free_port);
	}
	memset(area, 0, sizeof(area));
	p->deadline_ns = 1;
	p->ports[0] = ipi;
	p->nr_ports = 0;
	kt_check_rc("POLL nr_ports 0", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)),
		    -KEEL_EINVAL);
	p->nr_ports = KEEL_SCHED_POLL_MAX + 1;
	kt_check_rc("POLL nr_ports 129", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)),
		    -KEEL_E2BIG);
	p->nr_ports = 1;
	p->pad0 = 1;
	kt_check_rc("POLL pad0 set", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)), -KEEL_EINVAL);
	p->pad0 = 0;
	p->ports[0] = 0;
	kt_check_rc("POLL on port 0", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)), -KEEL_EINVAL);
	p->ports[0] = kt_shared->evtchn_port_limit;
	kt_check_rc("POLL on the port limit", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)),
		    -KEEL_EINVAL);
	p->ports[0] = free_port > 0 ? (uint32_t)free_port : 4000;
	kt_check_rc("POLL on a FREE port", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)),
		    -KEEL_ENOENT);
	p->ports[0] = ipi;
	memmove(area + 4, p, 24);
	kt_check_rc("POLL struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(area) + 4), -KEEL_EFAULT);
	/* Header in the first page, the first nr_ports entries spill into the second. */
	p = (struct keel_sched_poll *)(area + KEEL_PAGE_SIZE - 16);
	p->deadline_ns = 1;
	p->nr_ports = 2;
	p->pad0 = 0;
	p->ports[0] = ipi;
	p->ports[1] = ipi;
	kt_check_rc("POLL ports crossing a page", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p)),
		    -KEEL_EFAULT);
	kt_check_rc("POLL struct not RAM", keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA_NOT_RAM),
		    -KEEL_EFAULT);
}

static void check_block_wakes_on_upcall(uint32_t ipi)
{
	uint64_t t0;

	kt_evtchn_scan(0, NULL, NULL);
	kt_port_clear(ipi);
	kt_port_unmask_local(ipi);
	kt_check_rc("SEND on an unmasked IPI port", keel_hypercall1(KEEL_HC_EVTCHN_SEND, ipi), 0);
	kt_check_eq("upcall_pending set by the event", kt_vcpu_info[0].upcall_pending, 1);
	/* A timer as a safety net: a BLOCK that ignores upcall_pending would sleep for ever. */
	t0 = kt_now_ns();
	kt_set_timer(t0 + WAIT_LONG);
	kt_check_rc("BLOCK with upcall_pending 1", kt_block(), 0);
	kt_check(kt_now_ns() - t0 < WAIT_LONG / 2, "BLOCK with an upcall pending returns at once",
		 "after %lu ns", kt_now_ns() - t0);
	kt_set_timer(0);
	kt_port_mask(ipi);
	kt_evtchn_scan(0, NULL, NULL);
	kt_port_clear(ipi);
}

void hc_sched(void)
{
	long ipi;

	kt_group_begin("hcall-sched");
	kt_check_rc("SCHED_YIELD", keel_hypercall0(KEEL_HC_SCHED_YIELD), 0);
	kt_check_rc("SCHED_YIELD ignores unused arguments",
		    keel_hypercall6(KEEL_HC_SCHED_YIELD, 1, 2, 3, 4, 5, 6), 0);
	check_timer_block();
	check_virq_timer();
	ipi = bind_ipi();
	if (ipi > 0) {
		check_poll((uint32_t)ipi);
		check_block_wakes_on_upcall((uint32_t)ipi);
		keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)ipi);
	}
	kt_check_rc("SCHED_SHUTDOWN reason 0", keel_hypercall1(KEEL_HC_SCHED_SHUTDOWN, 0),
		    -KEEL_EINVAL);
	kt_check_rc("SCHED_SHUTDOWN reason 5", keel_hypercall1(KEEL_HC_SCHED_SHUTDOWN, 5),
		    -KEEL_EINVAL);
	kt_check_rc("SCHED_SHUTDOWN reason 0xffffffff",
		    keel_hypercall1(KEEL_HC_SCHED_SHUTDOWN, 0xffffffffu), -KEEL_EINVAL);
	kt_group_end();
}
