/* SPDX-License-Identifier: MIT */
/* evtchn.c: the hcall-evtchn group: every event channel call, delivery, upcalls, limits. */
#include "hcall.h"

#define NO_DOMAIN	0x7ffffff0u	/* a valid domain id no domain has */

static uint32_t seen[16];
static unsigned int nr_seen;
static uint32_t all_ports[KEEL_EVTCHN_BASE_PORTS];

static void record_port(uint32_t port, void *ctx)
{
	if (nr_seen < KT_ARRAY_SIZE(seen)) {
		seen[nr_seen] = port;
	}
	nr_seen++;
}

static long status_of(uint32_t port, struct keel_evtchn_status *st)
{
	return kt_evtchn_status(port, st);
}

static void check_status(const char *what, uint32_t port, uint32_t state, uint32_t remote_domid,
			 uint32_t remote_port, uint32_t virq)
{
	struct keel_evtchn_status st;
	long rc = status_of(port, &st);

	kt_check(rc == 0 && st.port == port && st.state == state && st.vcpu == 0 &&
		 st.remote_domid == remote_domid && st.remote_port == remote_port &&
		 st.virq == virq,
		 what,
		 "rc %ld, state %u vcpu %u remote %u:%u virq %u; expected %u remote %u:%u virq %u",
		 rc, st.state, st.vcpu, st.remote_domid, st.remote_port, st.virq, state,
		 remote_domid,
		 remote_port, virq);
}

/* A port number that is FREE now: allocated and closed again. */
static uint32_t free_port(void)
{
	long p = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_SELF);

	if (p <= 0) {
		return 4000;
	}
	keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)p);
	return (uint32_t)p;
}

static void check_bad_ports(uint32_t limit)
{
	static const struct {
		const char *name;
		uint64_t nr;
	} calls[] = {
		{ "SEND", KEEL_HC_EVTCHN_SEND }, { "CLOSE", KEEL_HC_EVTCHN_CLOSE },
		{ "MASK", KEEL_HC_EVTCHN_MASK }, { "UNMASK", KEEL_HC_EVTCHN_UNMASK },
	};
	uint32_t fp = free_port();
	struct keel_evtchn_status st;
	uint8_t *page = hc_page[0];
	char what[64];

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(calls); i++) {
		kt_snprintf(what, sizeof(what), "%s on port 0", calls[i].name);
		kt_check_rc(what, keel_hypercall1(calls[i].nr, 0), -KEEL_EINVAL);
		kt_snprintf(what, sizeof(what), "%s on the port limit", calls[i].name);
		kt_check_rc(what, keel_hypercall1(calls[i].nr, limit), -KEEL_EINVAL);
		kt_snprintf(what, sizeof(what), "%s on port 0xffffffff", calls[i].name);
		kt_check_rc(what, keel_hypercall1(calls[i].nr, 0xffffffffu), -KEEL_EINVAL);
		kt_snprintf(what, sizeof(what), "%s on a FREE port", calls[i].name);
		kt_check_rc(what, keel_hypercall1(calls[i].nr, fp), -KEEL_ENOENT);
	}
	kt_check_rc("STATUS of port 0", status_of(0, &st), -KEEL_EINVAL);
	kt_check_rc("STATUS of the port limit", status_of(limit, &st), -KEEL_EINVAL);
	check_status("STATUS of a FREE port reads FREE", fp, KEEL_EVTCHN_STATE_FREE, 0, 0, 0);
	memset(page, 0, 64);
	memcpy(page + 4, &fp, sizeof(fp));
	kt_check_rc("STATUS struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_EVTCHN_STATUS, KT_GPA(page) + 4), -KEEL_EFAULT);
	memcpy(KT_PTR(hc_crossing(sizeof(st))), &fp, sizeof(fp));
	kt_check_rc("STATUS struct crossing a page",
		    keel_hypercall1(KEEL_HC_EVTCHN_STATUS, hc_crossing(sizeof(st))), -KEEL_EFAULT);
	kt_check_rc("STATUS struct not RAM", keel_hypercall1(KEEL_HC_EVTCHN_STATUS, KT_GPA_NOT_RAM),
		    -KEEL_EFAULT);
	kt_check_rc("BIND_VCPU of port 0", keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, 0, 0),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_VCPU of the port limit",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, limit, 0),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_VCPU of a FREE port", keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, fp, 0),
		    -KEEL_ENOENT);
}

static void check_unbound_and_interdomain(uint32_t p1, uint32_t p2, uint32_t limit)
{
	uint32_t me = kt_boot.domid;

	kt_check(p2 != p1 && p2 < limit, "BIND_INTERDOMAIN gives a new port", "p1 %u p2 %u", p1,
		 p2);
	check_status("STATUS of the bound end", p1, KEEL_EVTCHN_STATE_INTERDOMAIN, me, p2, 0);
	check_status("STATUS of the binding end", p2, KEEL_EVTCHN_STATE_INTERDOMAIN, me, p1, 0);
	kt_check_rc("BIND_INTERDOMAIN to a port already bound",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, KEEL_DOMID_SELF, p1),
		    -KEEL_EBUSY);
	kt_check_rc("BIND_INTERDOMAIN to remote port 0",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, KEEL_DOMID_SELF, 0),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_INTERDOMAIN to the remote's port limit",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, KEEL_DOMID_SELF, limit),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_INTERDOMAIN to a FREE remote port",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, KEEL_DOMID_SELF, free_port()),
		    -KEEL_ENOENT);
	kt_check_rc("BIND_INTERDOMAIN to a domain that does not exist",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, NO_DOMAIN, 1), -KEEL_ESRCH);
	kt_check_rc("BIND_VCPU of an INTERDOMAIN port to vCPU 0",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, p1, 0), 0);
	kt_check_rc("BIND_VCPU to vCPU 1 of a 1-vCPU domain",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, p1, 1), -KEEL_EINVAL);
}

static void check_delivery(uint32_t p1, uint32_t p2)
{
	struct keel_vcpu_info *vi = &kt_vcpu_info[0];

	kt_evtchn_scan(0, NULL, NULL);
	kt_port_clear(p1);
	kt_port_clear(p2);
	kt_check(kt_port_masked(p1) && kt_port_masked(p2), "new ports start masked",
		 "mask bits %d %d", kt_port_masked(p1), kt_port_masked(p2));
	kt_check_rc("SEND on one end", keel_hypercall1(KEEL_HC_EVTCHN_SEND, p2), 0);
	kt_check(kt_port_pending(p1) && !kt_port_pending(p2), "SEND raises the other end only",
		 "pending p1 %d p2 %d", kt_port_pending(p1), kt_port_pending(p2));
	kt_check(vi->upcall_pending == 0 && vi->evtchn_pending_top == 0 &&
		 vi->evtchn_pending_sel[0] == 0,
		 "a masked port raises no upcall", "upcall_pending %u top 0x%lx sel0 0x%lx",
		 vi->upcall_pending, vi->evtchn_pending_top, vi->evtchn_pending_sel[0]);
	kt_check_rc("SEND on the other end", keel_hypercall1(KEEL_HC_EVTCHN_SEND, p1), 0);
	kt_check(kt_port_pending(p2), "the other direction raises p2", "not pending");
	kt_port_clear(p2);

	kt_check_rc("UNMASK of a pending port", keel_hypercall1(KEEL_HC_EVTCHN_UNMASK, p1), 0);
	kt_check(!kt_port_masked(p1), "UNMASK clears the mask bit", "still masked");
	kt_check(vi->upcall_pending == 1 && (vi->evtchn_pending_sel[0] >> (p1 / 64) & 1) &&
		 (vi->evtchn_pending_top & 1), "UNMASK of a pending port reruns delivery",
		 "upcall_pending %u top 0x%lx sel0 0x%lx", vi->upcall_pending,
		 vi->evtchn_pending_top,
		 vi->evtchn_pending_sel[0]);
	nr_seen = 0;
	kt_evtchn_scan(0, record_port, NULL);
	kt_check(nr_seen == 1 && seen[0] == p1 && !kt_port_pending(p1),
		 "the guest scan finds exactly the port", "%u ports, first %u", nr_seen, seen[0]);
	kt_check_rc("MASK", keel_hypercall1(KEEL_HC_EVTCHN_MASK, p1), 0);
	kt_check(kt_port_masked(p1), "MASK sets the mask bit", "not masked");

	kt_port_unmask_local(p1);
	kt_check_rc("SEND to a port unmasked by the guest",
		    keel_hypercall1(KEEL_HC_EVTCHN_SEND, p2), 0);
	kt_check_eq("upcall_pending after SEND to an unmasked port", vi->upcall_pending, 1);
	nr_seen = 0;
	kt_evtchn_scan(0, record_port, NULL);
	kt_check(nr_seen == 1 && seen[0] == p1, "the scan finds the sent port",
		 "%u ports, first %u",
		 nr_seen, seen[0]);
	kt_port_mask(p1);
}

static void check_virqs(uint32_t limit)
{
	static const uint32_t allowed[] = { KEEL_VIRQ_CONSOLE, KEEL_VIRQ_SHUTDOWN_REQUEST,
					     KEEL_VIRQ_DEVICE_TABLE, KEEL_VIRQ_MEMORY_TARGET };
	long timer, ports[KT_ARRAY_SIZE(allowed)];
	char what[64];

	timer = keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_TIMER, 0);
	kt_check(timer > 0 && timer < limit, "BIND_VIRQ(TIMER, 0)", "returned %ld (%s)", timer,
		 kt_errname(timer));
	kt_check_rc("BIND_VIRQ(TIMER, 0) again",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_TIMER, 0),
		    -KEEL_EEXIST);
	kt_check_rc("BIND_VIRQ(TIMER, vCPU 1) in a 1-vCPU domain",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_TIMER, 1), -KEEL_EINVAL);
	if (timer > 0) {
		check_status("STATUS of a VIRQ port", (uint32_t)timer, KEEL_EVTCHN_STATE_VIRQ, 0, 0,
			     KEEL_VIRQ_TIMER);
		kt_check_rc("SEND on a VIRQ port",
			    keel_hypercall1(KEEL_HC_EVTCHN_SEND, (uint64_t)timer),
			    -KEEL_EINVAL);
		kt_check_rc("BIND_VCPU of a VIRQ port",
			    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, (uint64_t)timer, 0),
			    -KEEL_EINVAL);
	}
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(allowed); i++) {
		ports[i] = keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, allowed[i], 0);
		kt_snprintf(what, sizeof(what), "BIND_VIRQ(%u, 0)", allowed[i]);
		kt_check(ports[i] > 0, what, "returned %ld (%s)", ports[i], kt_errname(ports[i]));
		kt_snprintf(what, sizeof(what), "BIND_VIRQ(%u, 0) again", allowed[i]);
		kt_check_rc(what, keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, allowed[i], 0),
			    -KEEL_EEXIST);
	}
	kt_check_rc("BIND_VIRQ(DOMAIN_STATE) without CONTROL or CREATE",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_DOMAIN_STATE, 0),
		    -KEEL_EPERM);
	kt_check_rc("BIND_VIRQ(LOG) without KEEL_CAP_LOG",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_LOG, 0), -KEEL_EPERM);
	kt_check_rc("BIND_VIRQ(7), unknown",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_COUNT_V1, 0),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_VIRQ(0xffffffff)",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, 0xffffffffu, 0),
		    -KEEL_EINVAL);
	if (timer > 0) {
		kt_check_rc("CLOSE of a VIRQ port",
			    keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)timer), 0);
		timer = keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_TIMER, 0);
		kt_check(timer > 0, "BIND_VIRQ(TIMER) again after its CLOSE", "returned %ld (%s)",
			 timer,
			 kt_errname(timer));
		keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)timer);
	}
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(allowed); i++) {
		if (ports[i] > 0) {
			keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)ports[i]);
		}
	}
}

static void check_ipi(void)
{
	long ipi = keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, 0);

	if (!kt_check(ipi > 0, "BIND_IPI(0)", "returned %ld (%s)", ipi, kt_errname(ipi))) {
		return;
	}
	check_status("STATUS of an IPI port", (uint32_t)ipi, KEEL_EVTCHN_STATE_IPI, 0, 0, 0);
	kt_port_clear((uint32_t)ipi);
	kt_check_rc("SEND on an IPI port", keel_hypercall1(KEEL_HC_EVTCHN_SEND, (uint64_t)ipi), 0);
	kt_check(kt_port_pending((uint32_t)ipi), "an IPI port raises itself", "not pending");
	kt_port_clear((uint32_t)ipi);
	kt_check_rc("BIND_VCPU of an IPI port",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, (uint64_t)ipi, 0),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_IPI(1) in a 1-vCPU domain", keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, 1),
		    -KEEL_EINVAL);
	kt_check_rc("CLOSE of an IPI port", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)ipi),
		    0);
}

static void check_close(uint32_t p1, uint32_t p2)
{
	uint32_t me = kt_boot.domid;
	long p3;

	kt_port_clear(p1);
	kt_check_rc("CLOSE of one INTERDOMAIN end", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, p2), 0);
	check_status("the closed port is FREE", p2, KEEL_EVTCHN_STATE_FREE, 0, 0, 0);
	check_status("the peer goes back to UNBOUND for the closer", p1, KEEL_EVTCHN_STATE_UNBOUND,
		     me, 0, 0);
	kt_check(kt_port_pending(p1), "the peer is set pending (peer loss)", "not pending");
	kt_check_rc("CLOSE of a port already closed", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, p2),
		    -KEEL_ENOENT);
	kt_check_rc("CLOSE of an UNBOUND port", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, p1), 0);
	kt_port_clear(p1);

	/* Allocation clears a stale pending bit: set the bit of every free port below 128 first. */
	for (uint32_t p = 1; p < 128; p++) {
		struct keel_evtchn_status st;

		if (status_of(p, &st) == 0 && st.state == KEEL_EVTCHN_STATE_FREE) {
			__atomic_fetch_or(&kt_shared->evtchn_pending[p / 64], 1ull << (p % 64),
					  __ATOMIC_SEQ_CST);
		}
	}
	p3 = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_SELF);
	if (kt_check(p3 > 0 && p3 < 128, "ALLOC_UNBOUND reuses a low port", "returned %ld", p3)) {
		kt_check(!kt_port_pending((uint32_t)p3), "allocating a port clears its pending bit",
			 "port %ld still pending", p3);
		keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)p3);
	}
	kt_shared->evtchn_pending[0] = 0;
	kt_shared->evtchn_pending[1] = 0;
}

static volatile uint32_t upcall_port;

static void upcall_record(uint32_t port, void *ctx)
{
	upcall_port = port;
}

/* Wait with interrupts enabled until the upcall count reaches want, at most ms milliseconds. */
static bool wait_upcalls(uint64_t want, uint64_t ms)
{
	uint64_t deadline = kt_now_ns() + ms * KT_NS_PER_MS;

	kt_irq_enable();
	while (kt_upcall_count < want && kt_now_ns() < deadline) {
		kt_cpu_relax();
	}
	kt_irq_disable();
	return kt_upcall_count >= want;
}

static long set_upcall_raw(uint64_t gpa, uint32_t vcpu, uint32_t mode, uint32_t vector,
			   uint32_t pad)
{
	struct keel_evtchn_upcall u = { vcpu, mode, vector, pad };

	memcpy(KT_PTR(gpa), &u, sizeof(u));
	return keel_hypercall1(KEEL_HC_EVTCHN_SET_UPCALL, gpa);
}

/* KEEL_UPCALL_VECTOR: an event arrives as interrupt KT_UPCALL_VECTOR, and the scan finds it. */
static void check_vector_delivery(void)
{
	uint64_t before;
	long ipi;

	ipi = keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, 0);
	if (!kt_check(ipi > 0, "BIND_IPI(0) for upcalls", "returned %ld", ipi)) {
		return;
	}
	kt_lapic_enable();
	kt_evtchn_scan(0, NULL, NULL);
	kt_set_upcall_handler(upcall_record, NULL);
	kt_port_unmask_local((uint32_t)ipi);
	kt_check_rc("SET_UPCALL VECTOR 0xf0",
		    kt_set_upcall(0, KEEL_UPCALL_VECTOR, KT_UPCALL_VECTOR), 0);
	before = kt_upcall_count;
	upcall_port = 0;
	kt_check_rc("SEND with VECTOR delivery",
		    keel_hypercall1(KEEL_HC_EVTCHN_SEND, (uint64_t)ipi), 0);
	kt_check(wait_upcalls(before + 1, 1000) && upcall_port == (uint32_t)ipi,
		 "the event arrives as interrupt 0xf0 and the scan finds its port",
		 "%lu interrupts, port %u", kt_upcall_count - before, upcall_port);

	/* With NONE no interrupt comes; switching to VECTOR with upcall_pending 1 interrupts. */
	kt_check_rc("SET_UPCALL back to NONE", kt_set_upcall(0, KEEL_UPCALL_NONE, 0), 0);
	before = kt_upcall_count;
	keel_hypercall1(KEEL_HC_EVTCHN_SEND, (uint64_t)ipi);
	kt_check(!wait_upcalls(before + 1, 20) && kt_vcpu_info[0].upcall_pending == 1,
		 "no interrupt in NONE mode, upcall_pending set",
		 "%lu interrupts, upcall_pending %u",
		 kt_upcall_count - before, kt_vcpu_info[0].upcall_pending);
	kt_irq_enable();
	kt_set_upcall(0, KEEL_UPCALL_VECTOR, KT_UPCALL_VECTOR);
	kt_irq_disable();
	kt_check(wait_upcalls(before + 1, 1000),
		 "SET_UPCALL with upcall_pending 1 interrupts at once",
		 "no interrupt");
	kt_set_upcall(0, KEEL_UPCALL_NONE, 0);
	kt_set_upcall_handler(NULL, NULL);
	kt_port_mask((uint32_t)ipi);
	keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)ipi);
	kt_evtchn_scan(0, NULL, NULL);
}

static void check_upcalls(void)
{
	uint64_t good = KT_GPA(hc_page[0]);

	/* Contents errors (step 8) come before a missing feature (step 9): these always hold. */
	kt_check_rc("SET_UPCALL vector 0x1f", set_upcall_raw(good, 0, KEEL_UPCALL_VECTOR, 0x1f, 0),
		    -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL vector 0x100",
		    set_upcall_raw(good, 0, KEEL_UPCALL_VECTOR, 0x100, 0),
		    -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL unknown mode 3", set_upcall_raw(good, 0, 3, 0, 0), -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL for vCPU 1 of a 1-vCPU domain",
		    set_upcall_raw(good, 1, KEEL_UPCALL_NONE, 0, 0), -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL pad0 set", set_upcall_raw(good, 0, KEEL_UPCALL_NONE, 0, 1),
		    -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL NONE with a vector",
		    set_upcall_raw(good, 0, KEEL_UPCALL_NONE, 0x40, 0),
		    -KEEL_EINVAL);
	kt_check_rc("SET_UPCALL struct not 8-byte aligned",
		    set_upcall_raw(good + 4, 0, KEEL_UPCALL_NONE, 0, 0), -KEEL_EFAULT);
	kt_check_rc("SET_UPCALL struct not RAM",
		    keel_hypercall1(KEEL_HC_EVTCHN_SET_UPCALL, KT_GPA_NOT_RAM),
		    -KEEL_EFAULT);
	kt_check_rc("SET_UPCALL NONE", kt_set_upcall(0, KEEL_UPCALL_NONE, 0), 0);
	if (!(kt_boot.features[0] & KEEL_F0_UPCALL_PLATFORM)) {
		kt_check_rc("SET_UPCALL PLATFORM without the platform device",
			    kt_set_upcall(0, KEEL_UPCALL_PLATFORM, 0), -KEEL_EOPNOTSUPP);
	}
	if (!(kt_boot.features[0] & KEEL_F0_UPCALL_VECTOR)) {
		kt_check_rc("SET_UPCALL VECTOR without KEEL_F0_UPCALL_VECTOR",
			    kt_set_upcall(0, KEEL_UPCALL_VECTOR, KT_UPCALL_VECTOR),
			    -KEEL_EOPNOTSUPP);
		return;
	}
	check_vector_delivery();
}

/* Allocate until the table is full; every port below the limit but 0 must be available. */
static void check_exhaustion(uint32_t limit)
{
	uint32_t n = 0;
	long rc;

	for (;;) {
		rc = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_SELF);
		if (rc <= 0 || n == KT_ARRAY_SIZE(all_ports)) {
			break;
		}
		all_ports[n++] = (uint32_t)rc;
	}
	kt_check_rc("ALLOC_UNBOUND when every port is taken", rc, -KEEL_ENOSPC);
	kt_check_eq("ports available: limit - 1", n, limit - 1);
	kt_check_rc("BIND_IPI when every port is taken",
		    keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, 0),
		    -KEEL_ENOSPC);
	kt_check_rc("BIND_VIRQ when every port is taken",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_CONSOLE, 0), -KEEL_ENOSPC);
	if (n > 0) {
		kt_check_rc("BIND_INTERDOMAIN when every port is taken",
			    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, KEEL_DOMID_SELF,
					    all_ports[0]),
			    -KEEL_ENOSPC);
	}
	rc = 0;
	for (uint32_t i = 0; i < n; i++) {
		long c = keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, all_ports[i]);

		if (c != 0 && rc == 0) {
			rc = c;
		}
	}
	kt_check_rc("CLOSE of every allocated port", rc, 0);
}

static void check_expand(void)
{
	static uint8_t pages[2][KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
	static struct keel_evtchn_expand ex __attribute__((aligned(32)));
	uint64_t g0 = KT_GPA(pages[0]) >> KEEL_PAGE_SHIFT, g1 = KT_GPA(pages[1]) >> KEEL_PAGE_SHIFT;
	bool have = kt_boot.features[0] & KEEL_F0_EVTCHN_EXPAND;
	uint64_t gpa = KT_GPA(&ex);

	memset(pages[0], 0, KEEL_PAGE_SIZE);
	memset(pages[1], 0xff, KEEL_PAGE_SIZE);
	/* Contents errors (step 8) come before the feature check (step 9). */
	ex = (struct keel_evtchn_expand){ .index = 1, .pending_gfn = g0, .mask_gfn = g1 };
	kt_check_rc("EXPAND index 1 before index 0", keel_hypercall1(KEEL_HC_EVTCHN_EXPAND, gpa),
		    -KEEL_EINVAL);
	ex = (struct keel_evtchn_expand){ .index = 0, .pad0 = 1, .pending_gfn = g0,
					  .mask_gfn = g1 };
	kt_check_rc("EXPAND pad0 set", keel_hypercall1(KEEL_HC_EVTCHN_EXPAND, gpa), -KEEL_EINVAL);
	ex = (struct keel_evtchn_expand){ .index = 0, .pending_gfn = g0, .mask_gfn = g0 };
	kt_check_rc("EXPAND with equal GFNs", keel_hypercall1(KEEL_HC_EVTCHN_EXPAND, gpa),
		    -KEEL_EINVAL);
	ex = (struct keel_evtchn_expand){ .index = 0,
					  .pending_gfn = KT_GPA_NOT_RAM >> KEEL_PAGE_SHIFT,
					  .mask_gfn = g1 };
	kt_check_rc("EXPAND with a GFN that is not RAM",
		    keel_hypercall1(KEEL_HC_EVTCHN_EXPAND, gpa),
		    -KEEL_EFAULT);
	memcpy(hc_page[0] + 4, &ex, sizeof(ex));
	kt_check_rc("EXPAND struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_EVTCHN_EXPAND, KT_GPA(hc_page[0]) + 4), -KEEL_EFAULT);
	/* A boot-time domain keeps the default maximum of 4096 ports: no page can raise it. */
	ex = (struct keel_evtchn_expand){ .index = 0, .pending_gfn = g0, .mask_gfn = g1 };
	kt_check_rc(have ? "EXPAND beyond the domain's maximum of 4096 ports" :
			   "EXPAND without KEEL_F0_EVTCHN_EXPAND",
		    keel_hypercall1(KEEL_HC_EVTCHN_EXPAND, gpa),
		    have ? -KEEL_ENOSPC : -KEEL_EOPNOTSUPP);
}

void hc_evtchn(void)
{
	uint32_t limit = kt_shared->evtchn_port_limit;
	long p1, p1b, p2;

	kt_group_begin("hcall-evtchn");
	/* Without an expansion page only the 4096 ports of the shared info page exist. */
	kt_check_eq("evtchn_port_limit", limit, KEEL_EVTCHN_BASE_PORTS);
	p1 = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_SELF);
	kt_check(p1 > 0 && p1 < limit, "ALLOC_UNBOUND(SELF)", "returned %ld (%s)", p1,
		 kt_errname(p1));
	p1b = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, kt_boot.domid);
	kt_check(p1b > 0 && p1b != p1, "ALLOC_UNBOUND(own domid)", "returned %ld (%s)", p1b,
		 kt_errname(p1b));
	if (p1b > 0) {
		check_status("STATUS of a port unbound for our own id", (uint32_t)p1b,
			     KEEL_EVTCHN_STATE_UNBOUND, kt_boot.domid, 0, 0);
		kt_check_rc("CLOSE of it", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)p1b), 0);
	}
	kt_check_rc("ALLOC_UNBOUND for a domain that does not exist",
		    keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, NO_DOMAIN), -KEEL_ESRCH);
	kt_check_rc("ALLOC_UNBOUND for KEEL_DOMID_NONE",
		    keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_NONE), -KEEL_ESRCH);
	kt_check_rc("ALLOC_UNBOUND for KEEL_DOMID_INVALID",
		    keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_INVALID), -KEEL_ESRCH);
	if (p1 > 0) {
		kt_check(!kt_port_pending((uint32_t)p1), "a new port is not pending", "pending");
		check_status("STATUS of the UNBOUND port", (uint32_t)p1, KEEL_EVTCHN_STATE_UNBOUND,
			     kt_boot.domid, 0, 0);
		p2 = keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, KEEL_DOMID_SELF,
				     (uint64_t)p1);
		kt_check(p2 > 0, "BIND_INTERDOMAIN(SELF, p1)", "returned %ld (%s)", p2,
			 kt_errname(p2));
		if (p2 > 0) {
			check_unbound_and_interdomain((uint32_t)p1, (uint32_t)p2, limit);
			check_delivery((uint32_t)p1, (uint32_t)p2);
			check_close((uint32_t)p1, (uint32_t)p2);
		}
	}
	check_bad_ports(limit);
	check_virqs(limit);
	check_ipi();
	check_upcalls();
	check_exhaustion(limit);
	check_expand();
	kt_group_end();
}
