/* SPDX-License-Identifier: MIT */
/* wakestress.c: blocking calls woken by a flood of events, checked from inside around every call and upcall. */
#include "keeltest64.h"

/*
 * Two domains, each on a CPU of its own (tests/configs/wakestress.dts).
 * The sender sends events on one interdomain port as fast as it can. The
 * waiter spends the time in the calls that block and are woken, in every
 * way a guest can make them: SCHED_BLOCK and SCHED_POLL with interrupts
 * off, on, and with `sti` right before the call; `sti; hlt`; each behind a
 * single-shot timer a few tens of microseconds away, so that wake-ups by
 * the timer and by the sender's events race. Between calls the waiter
 * runs a cheap call with interrupts on, so upcalls also land on the RET
 * after a VMMCALL that did not block, and opens short `sti; nop; cli`
 * windows, where an exit right after the `sti` must not let an upcall in
 * before the `nop`.
 *
 * That is where Keel re-runs a blocked call on wake-up (svm_resume_hypercall),
 * advances RIP past the VMMCALL and injects upcalls. Whatever it does
 * there, the guest state must come out as the architecture defines it:
 *
 *   around each call (calls.S): RSP, RBX, RBP, R12-R15 unchanged, a
 *   256-byte block of the caller's stack unchanged, the result one the call
 *   may return;
 *   in each upcall: interrupts were on where it landed (RFLAGS.IF), it did
 *   not land inside an STI shadow, its frame lies right below the RSP it
 *   interrupted, CS and SS are the kernel's; landed on the VMMCALL, RAX
 *   still holds the call's number and RSP the call's; landed on the RET
 *   after it, RSP still points at the return address and RAX holds a
 *   result the call may return.
 *
 * Command line: role=waiter|sender, peer=<the other domain's id>,
 * seconds=<how long the waiter runs, default 15>.
 */
const char test_name[] = "wakestress";

#define WS_VECTOR		0xf3		/* the waiter's upcall vector */
#define FIND_PORTS		64		/* the sender looks for the waiter's port below this */
#define CONNECT_NS		(30 * KT_NS_PER_S)
#define TIMER_MIN_NS		(10 * 1000ull)
#define TIMER_SPREAD_NS		(80 * 1000ull)
#define NOT_A_CALL		0xffffull	/* RAX across `sti; hlt` */

enum how { HOW_PLAIN, HOW_IRQ_ON, HOW_STI_CALL, HOW_STI_HLT };

struct ws_call {
	uint64_t nr, a0, a1, how;
	uint64_t rax;
	uint64_t rsp_before, rsp_after;
	uint64_t regs_bad, canary_bad;
};

_Static_assert(__builtin_offsetof(struct ws_call, canary_bad) == 64, "calls.S offsets");

void ws_call(struct ws_call *c);
void ws_upcall_stub(void);
void ws_upcall(const uint64_t *frame, uint64_t saved_rax);
extern struct ws_call *volatile ws_current;
void ws_sti_probe(uint64_t n);
extern const uint8_t ws_shadow_call[], ws_shadow_hlt[], ws_shadow_probe[], ws_after_hlt[];
extern uint8_t kt_stack_top[];

/* The waiter's modes, run in turn. */
enum mode {
	M_BLOCK_OFF,	/* SET_TIMER, SCHED_BLOCK with interrupts off, then take upcalls */
	M_BLOCK_ON,	/* SET_TIMER, SCHED_BLOCK with interrupts on */
	M_BLOCK_STI,	/* SET_TIMER, `sti; call` SCHED_BLOCK */
	M_POLL_OFF,	/* SCHED_POLL on the port with a deadline, interrupts off */
	M_POLL_ON,	/* the same with interrupts on */
	M_HLT,		/* SET_TIMER, `sti; hlt` */
	MODES,
};

static const char *const mode_name[MODES] = {
	"block-irq-off", "block-irq-on", "block-sti", "poll-irq-off", "poll-irq-on", "sti-hlt",
};

/* What the upcall handler saw; read by the main loop with interrupts off. */
struct upcall_stats {
	uint64_t total, at_vmmcall, at_ret, at_hlt, elsewhere;
	uint64_t bad;			/* upcalls that broke a rule */
	uint64_t bad_rip, bad_rsp, bad_rax;	/* the first bad one */
	const char *bad_what;
};

static volatile struct upcall_stats up;

/* The last upcalls (RIP, RAX, call in flight), printed when a check fails. */
#define RECENT		8
static volatile uint64_t recent[RECENT][3];
static uint64_t kernel_cs, kernel_ss, abi_version;
static uint32_t port;

static struct keel_sched_poll poll_req __attribute__((aligned(1024)));

static bool result_ok(uint64_t nr, uint64_t rax)
{
	switch (nr) {
	case KEEL_HC_SCHED_BLOCK:
	case KEEL_HC_SCHED_SET_TIMER:
		return rax == 0;
	case KEEL_HC_SCHED_POLL:
		return rax == 0 || rax == 1;
	case KEEL_HC_VERSION:
		return rax == abi_version;
	default:
		return rax == NOT_A_CALL;	/* `sti; hlt` leaves RAX alone */
	}
}

static void upcall_bad(const char *what, const uint64_t *frame, uint64_t rax)
{
	if (up.bad++ == 0) {
		up.bad_what = what;
		up.bad_rip = frame[0];
		up.bad_rsp = frame[3];
		up.bad_rax = rax;
	}
}

void ws_upcall(const uint64_t *frame, uint64_t saved_rax)
{
	const uint64_t page = KT_GPA(keel_hypercall_page);
	const struct ws_call *c = ws_current;
	uint64_t rip = frame[0], rsp = frame[3];

	recent[up.total % RECENT][0] = rip;
	recent[up.total % RECENT][1] = saved_rax;
	recent[up.total % RECENT][2] = c ? c->nr : ~0ull;
	up.total++;
	if (!(frame[2] & KT_RFLAGS_IF)) {
		upcall_bad("interrupts were off where it landed", frame, saved_rax);
	}
	if (frame[1] != kernel_cs || frame[4] != kernel_ss) {
		upcall_bad("CS or SS in its frame are not the kernel's", frame, saved_rax);
	}
	if (KT_GPA(frame) != (rsp & ~15ull) - 40) {
		upcall_bad("its frame is not right below the RSP it interrupted", frame, saved_rax);
	}
	if (rsp > KT_GPA(kt_stack_top) || rsp < KT_GPA(kt_stack_top) - 65536) {
		upcall_bad("the RSP it interrupted is outside the stack", frame, saved_rax);
	}
	if (rip == KT_GPA(ws_shadow_call) || rip == KT_GPA(ws_shadow_hlt) ||
	    rip == KT_GPA(ws_shadow_probe)) {
		upcall_bad("it landed inside an STI shadow", frame, saved_rax);
	}
	if (rip == page + KEEL_X86_HYPERCALL_ENTRY) {
		up.at_vmmcall++;
		if (!c || saved_rax != c->nr || rsp != c->rsp_before) {
			upcall_bad("on the VMMCALL, RAX or RSP is not the call's", frame, saved_rax);
		}
	} else if (rip == page + KEEL_X86_HYPERCALL_ENTRY + 3) {
		up.at_ret++;
		if (!c || !result_ok(c->nr, saved_rax) || rsp != c->rsp_before) {
			upcall_bad("on the RET, RAX is no result of the call or RSP moved", frame,
				   saved_rax);
		}
	} else if (rip == KT_GPA(ws_after_hlt)) {
		up.at_hlt++;
		if (!c || rsp != c->rsp_before + 8) {
			upcall_bad("after HLT, RSP is not the caller's", frame, saved_rax);
		}
	} else {
		up.elsewhere++;
	}
	kt_evtchn_scan(0, NULL, NULL);
	kt_lapic_eoi();
}

static void print_recent(void)
{
	uint64_t n = up.total;

	for (uint64_t i = n > RECENT ? n - RECENT : 0; i < n; i++) {
		kt_note("upcall %lu: RIP %#lx RAX %#lx during call %#lx", i, recent[i % RECENT][0],
			recent[i % RECENT][1], recent[i % RECENT][2]);
	}
}

/* One checked call; false (and a failed check) if it broke a rule. */
static bool checked_call(uint64_t nr, uint64_t a0, enum how how, uint64_t *result)
{
	struct ws_call c = { .nr = nr, .a0 = a0, .how = how };

	ws_call(&c);
	*result = c.rax;
	if (c.rsp_after != c.rsp_before || c.regs_bad != 0 || c.canary_bad != 0) {
		kt_check(false, "state across the call",
			 "call %#lx (how %lu): RSP %#lx -> %#lx, callee-saved changed %#lx, "
			 "%lu stack words changed", nr, (uint64_t)how, c.rsp_before, c.rsp_after,
			 c.regs_bad, c.canary_bad);
		return false;
	}
	if (!result_ok(nr, c.rax)) {
		kt_check(false, "result", "call %#lx (how %lu) returned %#lx", nr, (uint64_t)how,
			 c.rax);
		print_recent();
		return false;
	}
	return true;
}

/* A pseudo-random timer distance, different each iteration. */
static uint64_t short_delay(uint64_t i)
{
	return TIMER_MIN_NS + (i * 2654435761ull >> 8) % TIMER_SPREAD_NS;
}

/*
 * Let pending upcalls in, then close the window again: first through
 * one-instruction windows right after `sti` (STI_PROBES of them), then a
 * few instructions long.
 */
#define STI_PROBES	16

static void take_upcalls(void)
{
	ws_sti_probe(STI_PROBES);
	kt_irq_enable();
	for (int i = 0; i < 8; i++) {
		kt_cpu_relax();
	}
	kt_irq_disable();
}

static bool run_mode(enum mode m, uint64_t i)
{
	uint64_t deadline = kt_now_ns() + short_delay(i), rc;
	bool ok = true;

	switch (m) {
	case M_BLOCK_OFF:
	case M_BLOCK_ON:
	case M_BLOCK_STI:
	case M_HLT:
		ok = checked_call(KEEL_HC_SCHED_SET_TIMER, deadline, HOW_PLAIN, &rc);
		if (ok && m == M_HLT) {
			ok = checked_call(NOT_A_CALL, 0, HOW_STI_HLT, &rc);
		} else if (ok) {
			ok = checked_call(KEEL_HC_SCHED_BLOCK, 0,
					  m == M_BLOCK_OFF ? HOW_PLAIN :
					  m == M_BLOCK_ON ? HOW_IRQ_ON : HOW_STI_CALL, &rc);
		}
		break;
	case M_POLL_OFF:
	case M_POLL_ON:
		poll_req.deadline_ns = deadline;
		poll_req.nr_ports = 1;
		poll_req.pad0 = 0;
		poll_req.ports[0] = port;
		ok = checked_call(KEEL_HC_SCHED_POLL, KT_GPA(&poll_req),
				  m == M_POLL_OFF ? HOW_PLAIN : HOW_IRQ_ON, &rc);
		if (ok && rc == 1) {
			kt_port_clear(port);	/* or the next poll returns at once */
		}
		break;
	default:
		break;
	}
	/* A call that did not block, with interrupts on: upcalls land on its RET. */
	ok = ok && checked_call(KEEL_HC_VERSION, 0, HOW_IRQ_ON, &rc);
	take_upcalls();
	return ok;
}

static void waiter(uint32_t peer, uint64_t seconds)
{
	uint64_t runs[MODES] = { 0 }, iterations = 0, end;
	struct upcall_stats seen;
	long rc;

	kt_group_begin("wakestress-waiter");
	__asm__ volatile("mov %%cs, %0" : "=r"(kernel_cs));
	__asm__ volatile("mov %%ss, %0" : "=r"(kernel_ss));
	abi_version = (uint64_t)keel_hypercall0(KEEL_HC_VERSION);
	rc = kt_evtchn_alloc_unbound(peer);
	if (!kt_check(rc > 0, "port", "EVTCHN_ALLOC_UNBOUND(%u): %s", peer, kt_errname(rc))) {
		kt_group_end();
		return;
	}
	port = (uint32_t)rc;
	kt_idt_set(WS_VECTOR, ws_upcall_stub);
	kt_lapic_enable();
	kt_check_rc("upcall vector", kt_set_upcall(0, KEEL_UPCALL_VECTOR, WS_VECTOR), 0);
	kt_port_unmask_local(port);
	kt_check_rc("unmask", keel_hypercall1(KEEL_HC_EVTCHN_UNMASK, port), 0);
	kt_note("port %u for domain %u; waiting for its first event", port, peer);

	/* The sender binds and starts sending: its first event says it is there. */
	kt_irq_disable();
	end = kt_now_ns() + CONNECT_NS;
	while (!kt_port_pending(port) && up.total == 0 && kt_now_ns() < end) {
		kt_set_timer(kt_now_ns() + KT_NS_PER_MS);
		kt_block();
	}
	if (!kt_check(kt_now_ns() < end, "sender", "no event from domain %u in %lu s", peer,
		      CONNECT_NS / KT_NS_PER_S)) {
		kt_group_end();
		return;
	}

	end = kt_now_ns() + seconds * KT_NS_PER_S;
	while (kt_now_ns() < end) {
		enum mode m = (enum mode)(iterations % MODES);

		if (!run_mode(m, iterations)) {
			kt_note("stopped in mode %s, iteration %lu", mode_name[m], iterations);
			break;
		}
		runs[m]++;
		iterations++;
		if (up.bad) {
			break;
		}
	}
	kt_set_timer(0);
	seen = up;
	if (!kt_check(seen.bad == 0, "upcalls", "%lu of %lu broke a rule; the first: %s "
		      "(RIP %#lx, RSP %#lx, RAX %#lx)", seen.bad, seen.total,
		      seen.bad_what ? seen.bad_what : "?", seen.bad_rip, seen.bad_rsp,
		      seen.bad_rax)) {
		print_recent();
	}
	for (int m = 0; m < MODES; m++) {
		kt_check(runs[m] > 0, "coverage", "mode %s never ran", mode_name[m]);
	}
	kt_check(seen.total > 0, "coverage", "no upcall arrived");
	kt_note("%lu iterations (%lu of each mode); %lu upcalls: %lu on the VMMCALL, "
		"%lu on the RET, %lu after HLT, %lu elsewhere", iterations, runs[0], seen.total,
		seen.at_vmmcall, seen.at_ret, seen.at_hlt, seen.elsewhere);
	/* The sender stops when the port's other end goes (docs: peer loss). */
	kt_check_rc("close", kt_evtchn_close(port), 0);
	kt_group_end();
}

static void sender(uint32_t peer, uint64_t seconds)
{
	uint64_t end = kt_now_ns() + CONNECT_NS, sent = 0, refused = 0;
	struct keel_evtchn_status st;
	long local = -1;

	kt_group_begin("wakestress-sender");
	while (local <= 0 && kt_now_ns() < end) {
		for (uint32_t p = 1; p < FIND_PORTS && local <= 0; p++) {
			local = kt_evtchn_bind_interdomain(peer, p);
		}
		if (local <= 0) {
			kt_sleep_ns(KT_NS_PER_MS);
		}
	}
	if (!kt_check(local > 0, "bind", "no port of domain %u to bind in %lu s", peer,
		      CONNECT_NS / KT_NS_PER_S)) {
		kt_group_end();
		return;
	}
	/* As fast as it can, until the waiter closes its end (or far too long). */
	end = kt_now_ns() + (seconds + 60) * KT_NS_PER_S;
	for (;;) {
		long rc = kt_evtchn_send((uint32_t)local);

		if (rc == 0) {
			sent++;
		} else {
			refused++;
		}
		if ((sent + refused) % 64 == 0 && kt_port_pending((uint32_t)local)) {
			kt_port_clear((uint32_t)local);
			if (kt_evtchn_status((uint32_t)local, &st) == 0 &&
			    st.state != KEEL_EVTCHN_STATE_INTERDOMAIN) {
				break;
			}
		}
		if (rc != 0 && refused > 1000) {
			break;
		}
		if ((sent + refused) % 1024 == 0 && kt_now_ns() > end) {
			break;
		}
	}
	kt_check(kt_now_ns() <= end, "end", "the waiter never closed its port");
	kt_check(sent > 0, "sent", "no event could be sent");
	kt_note("%lu events sent to domain %u", sent, peer);
	kt_group_end();
}

void test_main(void)
{
	char role[16] = "";
	uint32_t peer = (uint32_t)kt_cmdline_u64("peer", 0);
	uint64_t seconds = kt_cmdline_u64("seconds", 15);

	kt_cmdline_str("role", role, sizeof(role));
	if (kt_strcmp(role, "waiter") == 0) {
		waiter(peer, seconds);
	} else if (kt_strcmp(role, "sender") == 0) {
		sender(peer, seconds);
	} else {
		keeltest_result("wakestress", KEELTEST_ERROR, "role=%s: neither waiter nor sender",
				role);
	}
}
