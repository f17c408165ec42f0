/* SPDX-License-Identifier: MIT */
/* events.c: event channel bits, waiting on ports, upcalls through the local APIC, grants. */
#include "keeltest64.h"

#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_SVR_ENABLE 0x100

volatile uint64_t kt_upcall_count;
volatile struct keel_grant_entry *kt_grants;
static kt_port_handler upcall_fn;
static void *upcall_ctx;

void kt_upcall_interrupt(void);

/* Ports below KEEL_EVTCHN_BASE_PORTS live in the shared info page; the runtime does not expand. */
static volatile uint64_t *port_word(volatile uint64_t *bitmap, uint32_t port)
{
	return &bitmap[(port / 64) % 64];
}

bool kt_port_pending(uint32_t port)
{
	return (*port_word(kt_shared->evtchn_pending, port) >> (port % 64)) & 1;
}

void kt_port_clear(uint32_t port)
{
	__atomic_fetch_and(port_word(kt_shared->evtchn_pending, port), ~(1ull << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

bool kt_port_masked(uint32_t port)
{
	return (*port_word(kt_shared->evtchn_mask, port) >> (port % 64)) & 1;
}

void kt_port_mask(uint32_t port)
{
	__atomic_fetch_or(port_word(kt_shared->evtchn_mask, port), 1ull << (port % 64),
			  __ATOMIC_SEQ_CST);
}

void kt_port_unmask_local(uint32_t port)
{
	__atomic_fetch_and(port_word(kt_shared->evtchn_mask, port), ~(1ull << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

long kt_poll(const uint32_t *ports, uint32_t nr_ports, uint64_t deadline_ns)
{
	/* Aligned to its own size rounded up, so the struct never crosses a page. */
	static struct keel_sched_poll p __attribute__((aligned(1024)));

	if (nr_ports > KEEL_SCHED_POLL_MAX) {
		return -KEEL_E2BIG;
	}
	p.deadline_ns = deadline_ns;
	p.nr_ports = nr_ports;
	p.pad0 = 0;
	for (uint32_t i = 0; i < nr_ports; i++) {
		p.ports[i] = ports[i];
	}
	return keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(&p));
}

/* 1 when the port became pending (its bit is then cleared), 0 on timeout, < 0 on error. */
long kt_wait_port(uint32_t port, uint64_t timeout_ns)
{
	uint64_t deadline = kt_now_ns() + timeout_ns;
	long rc;

	for (;;) {
		if (kt_port_pending(port)) {
			kt_port_clear(port);
			return 1;
		}
		if (kt_now_ns() >= deadline) {
			return 0;
		}
		rc = kt_poll(&port, 1, deadline);
		if (rc < 0) {
			return rc;
		}
	}
}

/* Thin wrappers: the port (> 0) or -KEEL_E*, as the calls return. */
long kt_evtchn_alloc_unbound(uint32_t remote_domid)
{
	return keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, remote_domid);
}

long kt_evtchn_bind_interdomain(uint32_t remote_domid, uint32_t remote_port)
{
	return keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, remote_domid, remote_port);
}

long kt_evtchn_bind_virq(uint32_t virq, uint32_t vcpu)
{
	return keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, virq, vcpu);
}

long kt_evtchn_bind_ipi(uint32_t vcpu)
{
	return keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, vcpu);
}

long kt_evtchn_send(uint32_t port)
{
	return keel_hypercall1(KEEL_HC_EVTCHN_SEND, port);
}

long kt_evtchn_close(uint32_t port)
{
	return keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, port);
}

long kt_evtchn_status(uint32_t port, struct keel_evtchn_status *out)
{
	static struct keel_evtchn_status st __attribute__((aligned(32)));
	long rc;

	memset(&st, 0, sizeof(st));
	st.port = port;
	rc = keel_hypercall1(KEEL_HC_EVTCHN_STATUS, KT_GPA(&st));
	*out = st;
	return rc;
}

long kt_set_upcall(uint32_t vcpu, uint32_t mode, uint32_t vector)
{
	static struct keel_evtchn_upcall u __attribute__((aligned(16)));

	u.vcpu = vcpu;
	u.mode = mode;
	u.vector = vector;
	u.pad0 = 0;
	return keel_hypercall1(KEEL_HC_EVTCHN_SET_UPCALL, KT_GPA(&u));
}

static volatile uint32_t *lapic_reg(uint32_t off)
{
	return KT_PTR(KEEL_X86_GPA_LAPIC + off);
}

/* A software-disabled local APIC accepts no fixed interrupts, so upcalls need it enabled. */
void kt_lapic_enable(void)
{
	*lapic_reg(LAPIC_TPR) = 0;
	*lapic_reg(LAPIC_SVR) = LAPIC_SVR_ENABLE | 0xff;
}

void kt_lapic_eoi(void)
{
	*lapic_reg(LAPIC_EOI) = 0;
}

/* The guest scan of docs/abi/hypercalls.md "Guest scan (upcall handler)". */
unsigned int kt_evtchn_scan(uint32_t vcpu, kt_port_handler fn, void *ctx)
{
	struct keel_vcpu_info *vi = &kt_vcpu_info[vcpu];
	unsigned int handled = 0;
	uint64_t top;

	__atomic_store_n(&vi->upcall_pending, 0, __ATOMIC_SEQ_CST);
	top = __atomic_exchange_n(&vi->evtchn_pending_top, 0, __ATOMIC_SEQ_CST);
	while (top != 0) {
		unsigned int i = (unsigned int)__builtin_ctzll(top);
		uint64_t sel;

		top &= top - 1;
		sel = __atomic_exchange_n(&vi->evtchn_pending_sel[i], 0, __ATOMIC_SEQ_CST);
		while (sel != 0) {
			unsigned int j = (unsigned int)__builtin_ctzll(sel);
			unsigned int w = i * 64 + j;
			uint64_t bits;

			sel &= sel - 1;
			if (w >= 64) {
				continue;	/* an expansion page: not used by these kernels */
			}
			bits = kt_shared->evtchn_pending[w] & ~kt_shared->evtchn_mask[w];
			while (bits != 0) {
				uint32_t port = w * 64 + (uint32_t)__builtin_ctzll(bits);

				bits &= bits - 1;
				kt_port_clear(port);
				if (fn != NULL) {
					fn(port, ctx);
				}
				handled++;
			}
		}
	}
	return handled;
}

void kt_set_upcall_handler(kt_port_handler fn, void *ctx)
{
	upcall_fn = fn;
	upcall_ctx = ctx;
}

void kt_upcall_interrupt(void)
{
	kt_upcall_count++;
	kt_evtchn_scan(0, upcall_fn, upcall_ctx);
	kt_lapic_eoi();
}

long kt_gnttab_init(uint32_t frames)
{
	uint64_t gpa;
	long rc;

	rc = keel_hypercall1(KEEL_HC_GNTTAB_SETUP, frames);
	if (rc < (long)frames) {
		return rc < 0 ? rc : -KEEL_ENOSPC;
	}
	gpa = kt_window_alloc(frames);
	for (uint32_t f = 0; f < frames; f++) {
		rc = keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_GRANT_TABLE, f,
				     (gpa >> KEEL_PAGE_SHIFT) + f);
		if (rc != 0) {
			return rc;
		}
	}
	kt_grants = KT_PTR(gpa);
	return 0;
}

void kt_grant(uint32_t ref, uint32_t domid, uint64_t gfn, bool readonly)
{
	volatile struct keel_grant_entry *e = &kt_grants[ref];

	e->domid = domid;
	e->gfn = gfn;
	/* Release order: Keel must see domid and gfn before PERMIT. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->flags = KEEL_GNTF_PERMIT | (readonly ? KEEL_GNTF_READONLY : 0);
}

void kt_grant_end(uint32_t ref)
{
	kt_grants[ref].flags = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
