/* SPDX-License-Identifier: MIT */
/* smp.c: a guest with several vCPUs: starting, running, signalling and stopping vCPU 1. */
#include "keeltest64.h"

/*
 * vCPU 0 (the runtime's) starts vCPU 1 with KEEL_HC_VCPU_UP and a context
 * built from its own state, then drives it through commands in shared
 * memory. Everything vCPU 1 sees it stores for vCPU 0 to check: the
 * runtime's console, check counters and fault records belong to vCPU 0
 * alone. Tests (one result line each, suffixed with the domain's name):
 *
 *   smp-errors-<dom>      bad vCPU numbers, bad contexts, UP/DOWN before
 *                         vCPU 1 ever ran; nothing may start
 *   smp-start-<dom>       vCPU 1 enters with exactly the context's state,
 *                         the rest in its reset state, and registers its info
 *   smp-concurrent-<dom>  both vCPUs count at once: per-vCPU and locked
 *                         shared counters, a spinlock, system time
 *   smp-ipi-<dom>         IPI ports bound to each vCPU: SCHED_POLL round
 *                         trips (masked and unmasked ports) and upcall
 *                         round trips, each event on the vCPU it is bound to;
 *                         HLT with interrupts on ends with the upcall
 *   smp-updown-<dom>      DOWN/UP from either side, resuming and restarting,
 *                         the last online vCPU, a DOWN race
 *
 * Command line: vcpus=<n> (the configured count, checked). Each vCPU keeps
 * a pattern in MXCSR, XMM6 and DR0 and checks it whenever it can: that
 * state is switched by Keel between vCPUs and must follow a vCPU from CPU
 * to CPU.
 */
const char test_name[] = "smp";

#define AP			1u		/* the vCPU this test starts */
#define AP_UPCALL_VECTOR	0xf1		/* vCPU 1's upcall vector; vCPU 0 uses 0xf0 */
/* How long vCPU 0 waits for anything vCPU 1 should do at once. */
#define WAIT_NS			(2 * KT_NS_PER_S)
#define ROUND_TRIPS		200
#define RESTARTS		8
#define DOWN_RACES		16
/* smp-concurrent counts for RACE_MIN_NS and until each vCPU saw the other's counter move. */
#define RACE_MIN_NS		(100 * KT_NS_PER_MS)
#define RACE_MAX_NS		(3 * KT_NS_PER_S)
#define RACE_SEEN		5
/* Two readings of system time on two vCPUs each truncate to whole nanoseconds. */
#define TIME_SLACK_NS		2

/* Segment attributes in the VMCB layout of keel/arch-x86_64.h. */
#define ATTR_CODE64		0xa9b	/* P, S, code exec/read accessed, L, G */
#define ATTR_DATA		0xc93	/* P, S, data read/write accessed, D/B, G */
#define ATTR_TSS_BUSY		0x08b	/* P, 64-bit TSS (busy) */

#define MSR_PAT			0x277u
#define MSR_EFER		0xc0000080u
#define MSR_KERNEL_GS_BASE	0xc0000102u
#define PAT_RESET		0x0007040600070406ull
#define MXCSR_RESET		0x1f80u
#define FCW_RESET		0x037fu
#define LAPIC_ID		0x020
#define LAPIC_SVR		0x0f0
#define SVR_RESET		0xffu

/* What each vCPU keeps in its FPU and debug registers (rounding mode differs). */
#define MXCSR_PATTERN(v)	(MXCSR_RESET | ((v) == 0 ? 0x2000u : 0x4000u))
#define XMM6_PATTERN(v)		(0x5a5a000000000000ull | ((uint64_t)(v) << 32) | 0x600d)
#define DR0_PATTERN(v)		(0x0000000000101000ull + ((uint64_t)(v) << 12))

/* Register values the context gives vCPU 1 (rbx carries the start number, rdi the vCPU). */
#define CTX_CR2			0x00000000005a5000ull
#define CTX_KERNEL_GS_BASE	0xffff800012345000ull
#define GS_TAG			0x6773207461670000ull

enum ap_op {
	OP_NONE,
	OP_SPIN,		/* count in ap.c1 until the next command */
	OP_RACE,		/* count with vCPU 0 until ap.stop */
	OP_POLL_PING,		/* arg round trips: wait on P1 with SCHED_POLL, send P0 */
	OP_UPCALL_PING,		/* arg round trips: wait for upcalls on P1, send P0 */
	OP_HLT_WAKE,		/* one HLT with IF = 1, woken by an upcall */
	OP_STI_HLT,		/* `sti; hlt` with the upcall already pending */
	OP_SELF_DOWN,		/* VCPU_DOWN of itself, keeping callee-saved registers */
	OP_DOWN_BOSS,		/* take vCPU 0 down, probe, bring it back */
	OP_DOWN_RACE,		/* arg: race number; DOWN(0) as vCPU 0 calls DOWN(1) */
};

/*
 * Shared between the vCPUs. Fields written by one vCPU and polled by the
 * other sit on their own cache lines. seq/op/arg are vCPU 0's, ack vCPU 1's.
 */
struct ap_shared {
	uint64_t seq;			/* last command posted */
	uint32_t op;
	uint32_t pad0;
	uint64_t arg;
	uint64_t stop;			/* OP_RACE: vCPU 0 is done */
	uint64_t race_go;		/* OP_DOWN_RACE: start */
	uint8_t pad1[24];
	uint64_t ack __attribute__((aligned(64)));	/* last command finished */
	uint64_t entries;		/* times vCPU 1 came in at smp_ap_entry */
	uint64_t gen;			/* rbx of the last entry */
	uint64_t race_ready;		/* OP_DOWN_RACE: at the line */
	uint64_t c1 __attribute__((aligned(64)));	/* vCPU 1's counter */
	uint64_t t1;			/* vCPU 1's last published system time */
	uint64_t c0 __attribute__((aligned(64)));	/* vCPU 0's counter */
	uint64_t t0;			/* vCPU 0's last published system time */
	uint64_t shared __attribute__((aligned(64)));	/* lock-incremented by both */
	uint64_t lock;			/* a test-and-set spinlock */
	uint64_t plain;			/* incremented under lock, without atomics */
	uint64_t report[40] __attribute__((aligned(64)));	/* vCPU 1's results */
};

/* ap.report[] slots. */
enum {
	R_LAPIC_ID, R_SVR, R_MXCSR, R_FCW, R_XMM6, R_DR0, R_PAT, R_EFER, R_KGS, R_GS_TAG,
	R_REGISTER_RC, R_FPU_BAD, R_FPU_BAD_MXCSR,
	R_RACE_LOCKED, R_RACE_SEEN0, R_RACE_MONO_BAD, R_RACE_CAUSAL_BAD, R_RACE_WORST,
	R_PING_GOT, R_PING_FAIL_RC, R_HLT_ARMED, R_HLT_NS, R_HLT_UPCALLS,
	R_SELF_DOWN_RC, R_SELF_DOWN_REGS,
	R_BOSS_DOWN, R_BOSS_INFO_RC, R_BOSS_FLAGS, R_BOSS_DOWN_SELF, R_BOSS_DOWN_AGAIN,
	R_BOSS_C0_STOPPED, R_BOSS_UP,
	R_RACE_RC, R_RACE_UP,
	R_COUNT,
};
_Static_assert(R_COUNT <= 40, "ap.report[] is too small");

static volatile struct ap_shared ap __attribute__((aligned(64)));

/* vCPU 1's entry: the state the context gave it, saved before anything changes it. */
struct kt_entry_state smp_ap_regs;
uint64_t smp_ap_cr2;
static uint8_t ap_stack[65536] __attribute__((aligned(16)));
static const uint64_t gs_tag = GS_TAG;

/* The contexts vCPU 0 hands Keel: one in a page, one crossing a page boundary. */
static struct keel_x86_vcpu_context ctx __attribute__((aligned(512)));
static uint8_t ctx_pages[2 * KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static struct keel_vcpu_status vstat __attribute__((aligned(64)));

/* Ports: P1 bound to vCPU 1, P0 to vCPU 0, in different pending words. */
static uint32_t port0, port1;

/* Upcall handler records, one set per vCPU. */
static volatile uint64_t up_got[2], up_other[2], up_wrong_cpu[2];

static char dom[32] = "?";
static char group_names[5][64];

void smp_ap_entry(void);
void smp_ap_main(void);
void smp_upcall1_stub(void);
void smp_upcall1(void);

/*
 * Entry of vCPU 1 (RIP of the context): store every register as Keel
 * loaded it (struct kt_entry_state offsets), then call into C on the
 * context's stack. The stores come first so nothing is changed unseen.
 */
__asm__(".text\n\t.globl smp_ap_entry\n\t.type smp_ap_entry, @function\n"
	"smp_ap_entry:\n\t"
	"movq %rax, smp_ap_regs + 0(%rip)\n\t"
	"movq %rbx, smp_ap_regs + 8(%rip)\n\t"
	"movq %rcx, smp_ap_regs + 16(%rip)\n\t"
	"movq %rdx, smp_ap_regs + 24(%rip)\n\t"
	"movq %rsi, smp_ap_regs + 32(%rip)\n\t"
	"movq %rdi, smp_ap_regs + 40(%rip)\n\t"
	"movq %rbp, smp_ap_regs + 48(%rip)\n\t"
	"movq %rsp, smp_ap_regs + 56(%rip)\n\t"
	"movq %r8, smp_ap_regs + 64(%rip)\n\t"
	"movq %r9, smp_ap_regs + 72(%rip)\n\t"
	"movq %r10, smp_ap_regs + 80(%rip)\n\t"
	"movq %r11, smp_ap_regs + 88(%rip)\n\t"
	"movq %r12, smp_ap_regs + 96(%rip)\n\t"
	"movq %r13, smp_ap_regs + 104(%rip)\n\t"
	"movq %r14, smp_ap_regs + 112(%rip)\n\t"
	"movq %r15, smp_ap_regs + 120(%rip)\n\t"
	"pushfq\n\tpopq smp_ap_regs + 128(%rip)\n\t"
	"movq %cr0, %rax\n\tmovq %rax, smp_ap_regs + 136(%rip)\n\t"
	"movq %cr3, %rax\n\tmovq %rax, smp_ap_regs + 144(%rip)\n\t"
	"movq %cr4, %rax\n\tmovq %rax, smp_ap_regs + 152(%rip)\n\t"
	"movq %cr2, %rax\n\tmovq %rax, smp_ap_cr2(%rip)\n\t"
	"movw %cs, smp_ap_regs + 160(%rip)\n\t"
	"movw %ds, smp_ap_regs + 162(%rip)\n\t"
	"movw %es, smp_ap_regs + 164(%rip)\n\t"
	"movw %fs, smp_ap_regs + 166(%rip)\n\t"
	"movw %gs, smp_ap_regs + 168(%rip)\n\t"
	"movw %ss, smp_ap_regs + 170(%rip)\n\t"
	"sgdt smp_ap_regs + 176(%rip)\n\t"
	"sidt smp_ap_regs + 192(%rip)\n\t"
	"andq $-16, %rsp\n\t"
	"cld\n\t"
	"call smp_ap_main\n"
	"1:\tcli\n\thlt\n\tjmp 1b\n\t"
	".size smp_ap_entry, . - smp_ap_entry\n");

/*
 * vCPU 1's upcall vector. The CPU leaves RSP 8 off 16-byte alignment after
 * its frame; nine pushes restore it for the call.
 */
__asm__(".text\n\t.globl smp_upcall1_stub\n\t.type smp_upcall1_stub, @function\n"
	"smp_upcall1_stub:\n\t"
	"pushq %rax\n\tpushq %rcx\n\tpushq %rdx\n\tpushq %rsi\n\tpushq %rdi\n\t"
	"pushq %r8\n\tpushq %r9\n\tpushq %r10\n\tpushq %r11\n\t"
	"cld\n\t"
	"call smp_upcall1\n\t"
	"popq %r11\n\tpopq %r10\n\tpopq %r9\n\tpopq %r8\n\t"
	"popq %rdi\n\tpopq %rsi\n\tpopq %rdx\n\tpopq %rcx\n\tpopq %rax\n\t"
	"iretq\n\t"
	".size smp_upcall1_stub, . - smp_upcall1_stub\n");

/* ---- CPU state helpers ---- */

static inline uint64_t read_cr(int n)
{
	uint64_t v = 0;

	switch (n) {
	case 0:
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
		break;
	case 3:
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
		break;
	case 4:
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
		break;
	}
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * A local APIC register, read with a plain MOV through a register: Keel
 * decodes only the MOV forms compilers use for pointers (svm/lapic_mmio.c),
 * and a constant address may otherwise become a MOVABS.
 */
static inline uint32_t lapic_read(uint32_t off)
{
	uint64_t addr = KEEL_X86_GPA_LAPIC + off;
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint32_t get_mxcsr(void)
{
	uint32_t v;

	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static inline void set_mxcsr(uint32_t v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static inline uint16_t get_fcw(void)
{
	uint16_t v;

	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

/* XMM6 and DR0: nothing in these kernels uses them (-mgeneral-regs-only), so they stay ours. */
static inline uint64_t get_xmm6(void)
{
	uint64_t v;

	__asm__ volatile("movq %%xmm6, %0" : "=r"(v));
	return v;
}

static inline void set_xmm6(uint64_t v)
{
	__asm__ volatile("movq %0, %%xmm6" : : "r"(v));
}

static inline uint64_t get_dr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%db0, %0" : "=r"(v));
	return v;
}

static inline void set_dr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%db0" : : "r"(v));
}

static void fpu_pattern_set(uint32_t vcpu)
{
	set_mxcsr(MXCSR_PATTERN(vcpu));
	set_xmm6(XMM6_PATTERN(vcpu));
	set_dr0(DR0_PATTERN(vcpu));
}

static bool fpu_pattern_ok(uint32_t vcpu)
{
	return get_mxcsr() == MXCSR_PATTERN(vcpu) && get_xmm6() == XMM6_PATTERN(vcpu) &&
	       get_dr0() == DR0_PATTERN(vcpu);
}

/*
 * System time from @vcpu's own keel_vcpu_info (kt_now_ns() reads vCPU 0's).
 * The lfence keeps RDTSC after the loads before it, so a time read after
 * seeing another vCPU's published time is really taken later.
 */
static uint64_t now_on(uint32_t vcpu)
{
	volatile struct keel_vcpu_time_info *t = &kt_vcpu_info[vcpu].time;
	uint64_t t0, s0, d;
	uint32_t v, mul;
	int8_t shift;

	do {
		v = t->version;
		__asm__ volatile("" ::: "memory");
		t0 = t->tsc_timestamp;
		s0 = t->system_time_ns;
		mul = t->tsc_to_ns_mul;
		shift = t->tsc_shift;
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) != 0 || t->version != v);
	__asm__ volatile("lfence" ::: "memory");
	d = kt_rdtsc() - t0;
	d = shift >= 0 ? d << shift : d >> -shift;
	return s0 + (uint64_t)(((unsigned __int128)d * mul) >> 32);
}

static void spin_on(uint32_t vcpu, uint64_t ns)
{
	uint64_t until = now_on(vcpu) + ns;

	while (now_on(vcpu) < until) {
		kt_cpu_relax();
	}
}

/*
 * *@c is counted by a vCPU just taken down: it must stop within a second
 * (its CPU was kicked; under TCG that CPU's thread may itself wait for the
 * host a while) and then stay still for @still_ns. Timed on @vcpu's clock.
 */
static bool counter_stops(const volatile uint64_t *c, uint32_t vcpu, uint64_t still_ns)
{
	uint64_t give_up = now_on(vcpu) + KT_NS_PER_S, seen = *c;

	for (;;) {
		spin_on(vcpu, 5 * KT_NS_PER_MS);
		if (*c == seen) {
			break;
		}
		seen = *c;
		if (now_on(vcpu) >= give_up) {
			return false;
		}
	}
	spin_on(vcpu, still_ns);
	return *c == seen;
}

static long vcpu_up(uint64_t vcpu, uint64_t ctx_gpa)
{
	return keel_hypercall2(KEEL_HC_VCPU_UP, vcpu, ctx_gpa);
}

static long vcpu_down(uint64_t vcpu)
{
	return keel_hypercall1(KEEL_HC_VCPU_DOWN, vcpu);
}

/* VCPU_INFO into @st (callers own @st: vCPU 0 uses vstat, vCPU 1 its own). */
static long vcpu_info_into(struct keel_vcpu_status *st, uint64_t vcpu)
{
	memset(st, 0, sizeof(*st));
	st->vcpu = (uint32_t)vcpu;
	return keel_hypercall1(KEEL_HC_VCPU_INFO, KT_GPA(st));
}

static uint32_t vcpu_flags(uint32_t vcpu)
{
	return vcpu_info_into(&vstat, vcpu) == 0 ? vstat.flags : 0xdeadu;
}

/* A SCHED_POLL of one port; each vCPU passes its own request. */
static long poll_one(struct keel_sched_poll *p, uint32_t port, uint64_t deadline)
{
	p->deadline_ns = deadline;
	p->nr_ports = 1;
	p->pad0 = 0;
	p->ports[0] = port;
	return keel_hypercall1(KEEL_HC_SCHED_POLL, KT_GPA(p));
}

/* Wait for @port (then cleared) on @vcpu's clock: 1, 0 on timeout, or the poll's error. */
static long wait_port(struct keel_sched_poll *p, uint32_t vcpu, uint32_t port, uint64_t timeout)
{
	uint64_t deadline = now_on(vcpu) + timeout;
	long rc;

	for (;;) {
		if (kt_port_pending(port)) {
			kt_port_clear(port);
			return 1;
		}
		if (now_on(vcpu) >= deadline) {
			return 0;
		}
		rc = poll_one(p, port, deadline);
		if (rc < 0) {
			return rc;
		}
	}
}

static uint32_t lapic_vcpu(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

/* Port handlers: which port, and on which vCPU (its local APIC id) it arrived. */
static void upcall_port(uint32_t vcpu, uint32_t port)
{
	if (lapic_vcpu() != vcpu) {
		up_wrong_cpu[vcpu]++;
	}
	if (port == (vcpu == 0 ? port0 : port1)) {
		up_got[vcpu]++;
	} else {
		up_other[vcpu]++;
	}
}

static void upcall_port0(uint32_t port, void *ctx_unused)
{
	(void)ctx_unused;
	upcall_port(0, port);
}

static void upcall_port1(uint32_t port, void *ctx_unused)
{
	(void)ctx_unused;
	upcall_port(1, port);
}

void smp_upcall1(void)
{
	kt_evtchn_scan(AP, upcall_port1, NULL);
	kt_lapic_eoi();
}

/* ---- vCPU 1 ---- */

static struct keel_sched_poll ap_poll __attribute__((aligned(1024)));
static struct keel_vcpu_status ap_stat __attribute__((aligned(64)));
static bool ap_registered;

static void ap_check_fpu(void)
{
	if (!fpu_pattern_ok(AP)) {
		ap.report[R_FPU_BAD]++;
		ap.report[R_FPU_BAD_MXCSR] = get_mxcsr();
		fpu_pattern_set(AP);	/* report each loss once */
	}
}

/* Idle until vCPU 0 posts a command after @last: short sleeps, so vCPU 0 gets the CPU. */
static uint64_t ap_wait_command(uint64_t last)
{
	unsigned int spins = 0;

	while (__atomic_load_n(&ap.seq, __ATOMIC_ACQUIRE) == last) {
		if (++spins < 256) {
			kt_cpu_relax();
			continue;
		}
		spins = 0;
		kt_set_timer(now_on(AP) + 200000);
		kt_block();
	}
	return __atomic_load_n(&ap.seq, __ATOMIC_ACQUIRE);
}

static void ap_spin(uint64_t seq)
{
	uint64_t n = 0;

	while (__atomic_load_n(&ap.seq, __ATOMIC_ACQUIRE) == seq) {
		ap.c1++;
		if ((++n & 255) == 0) {
			ap_check_fpu();
		}
	}
}

/*
 * Count with vCPU 0: ap.c1 (ours), ap.shared (lock inc, both), ap.plain
 * (under the spinlock, every 8th round). Meanwhile check our system time
 * against itself and against what vCPU 0 publishes.
 */
static void ap_race(void)
{
	uint64_t prev = now_on(AP), last_c0 = ap.c0, seen0 = 0, locked = 0, worst = 0;
	uint64_t mono_bad = 0, causal_bad = 0;

	while (!__atomic_load_n(&ap.stop, __ATOMIC_ACQUIRE)) {
		uint64_t other, t;

		__atomic_fetch_add(&ap.shared, 1, __ATOMIC_SEQ_CST);
		if ((ap.c1 & 7) == 0) {
			while (__atomic_exchange_n(&ap.lock, 1, __ATOMIC_ACQUIRE)) {
				kt_cpu_relax();
			}
			ap.plain++;
			__atomic_store_n(&ap.lock, 0, __ATOMIC_RELEASE);
			locked++;
		}
		ap.c1++;
		if (ap.c0 != last_c0) {
			last_c0 = ap.c0;
			seen0++;
		}
		/* vCPU 0 published t0 before we read it: our clock must not be behind it. */
		other = __atomic_load_n(&ap.t0, __ATOMIC_ACQUIRE);
		t = now_on(AP);
		if (t < prev) {
			mono_bad++;
		}
		if (t + TIME_SLACK_NS < other) {
			causal_bad++;
			worst = other - t > worst ? other - t : worst;
		}
		prev = t;
		__atomic_store_n(&ap.t1, t, __ATOMIC_RELEASE);
		ap.report[R_RACE_SEEN0] = seen0;
	}
	ap.report[R_RACE_LOCKED] = locked;
	ap.report[R_RACE_MONO_BAD] = mono_bad;
	ap.report[R_RACE_CAUSAL_BAD] = causal_bad;
	ap.report[R_RACE_WORST] = worst;
}

/* Round trips driven by SCHED_POLL: wait for P1, answer on P0. */
static void ap_poll_ping(uint64_t n)
{
	ap.report[R_PING_GOT] = 0;
	ap.report[R_PING_FAIL_RC] = 1;
	for (uint64_t i = 0; i < n; i++) {
		long rc = wait_port(&ap_poll, AP, port1, KT_NS_PER_S);

		if (rc != 1) {
			ap.report[R_PING_FAIL_RC] = (uint64_t)rc;
			return;
		}
		ap.report[R_PING_GOT]++;
		kt_evtchn_send(port0);
	}
}

/*
 * Wait with interrupts off until the upcall handler counted more than @seen
 * events on @vcpu, or @deadline: SCHED_BLOCK returns once upcall_pending
 * is set, and the interrupt is taken at the `sti; nop` window. (`sti; hlt`
 * is checked on its own: QEMU loses the STI shadow when an exit falls
 * between the two, which real CPUs keep in the VMCB.)
 */
static bool wait_upcall(uint32_t vcpu, uint64_t seen, uint64_t deadline)
{
	for (;;) {
		kt_irq_disable();
		if (up_got[vcpu] > seen) {
			return true;
		}
		if (now_on(vcpu) >= deadline) {
			return false;
		}
		kt_set_timer(deadline);
		kt_block();
		__asm__ volatile("sti; nop" ::: "memory");
	}
}

/* Round trips driven by upcalls: the handler counts P1 in up_got[1]; answer on P0. */
static void ap_upcall_ping(uint64_t n)
{
	uint64_t deadline = now_on(AP) + 10 * KT_NS_PER_S;

	ap.report[R_PING_GOT] = 0;
	for (uint64_t i = 0; i < n && wait_upcall(AP, i, deadline); i++) {
		ap.report[R_PING_GOT]++;
		kt_evtchn_send(port0);
	}
	kt_set_timer(0);
}

/*
 * `sti; hlt` with an upcall already pending (it came while interrupts were
 * off): the HLT must not sleep, and the upcall must be taken right after
 * it, before the `cli` that follows.
 */
static void ap_sti_hlt(void)
{
	uint64_t before = up_got[1], t0, deadline;

	kt_irq_disable();
	__atomic_store_n(&ap.report[R_HLT_ARMED], 1, __ATOMIC_RELEASE);
	deadline = now_on(AP) + WAIT_NS;
	while (!__atomic_load_n(&kt_vcpu_info[AP].upcall_pending, __ATOMIC_ACQUIRE) &&
	       now_on(AP) < deadline) {
		kt_cpu_relax();
	}
	/*
	 * Let the kick that came with it make its exit first: QEMU drops an
	 * STI shadow that an exit falls into (docs/testing.md).
	 */
	t0 = now_on(AP) + KT_NS_PER_MS;
	while (now_on(AP) < t0) {
		kt_cpu_relax();
	}
	t0 = now_on(AP);
	kt_set_timer(t0 + 2 * KT_NS_PER_S);
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	ap.report[R_HLT_NS] = now_on(AP) - t0;
	ap.report[R_HLT_UPCALLS] = up_got[1] - before;
	kt_set_timer(0);
}

/*
 * HLT with interrupts on and no STI right before it: the upcall that wakes
 * us must run and the HLT complete, as on hardware; the 2 s timer is only
 * the way out if it does not.
 */
static void ap_hlt_wake(void)
{
	uint64_t before = up_got[1], t0;

	kt_irq_disable();
	t0 = now_on(AP);
	kt_set_timer(t0 + 2 * KT_NS_PER_S);
	__atomic_store_n(&ap.report[R_HLT_ARMED], 1, __ATOMIC_RELEASE);
	__asm__ volatile("sti; nop; nop; hlt; cli" ::: "memory");
	ap.report[R_HLT_NS] = now_on(AP) - t0;
	ap.report[R_HLT_UPCALLS] = up_got[1] - before;
	kt_set_timer(0);
}

/*
 * VCPU_DOWN of ourselves: the call returns only when vCPU 0 resumes us, and
 * like any hypercall keeps the callee-saved registers (R12-R15 are held
 * here in named registers across the call).
 */
static void ap_self_down(void)
{
	register uint64_t r12 __asm__("r12") = 0x1212121212121212ull;
	register uint64_t r13 __asm__("r13") = 0x1313131313131313ull;
	register uint64_t r14 __asm__("r14") = 0x1414141414141414ull;
	register uint64_t r15 __asm__("r15") = 0x1515151515151515ull;
	uint64_t nr = KEEL_HC_VCPU_DOWN, a0 = AP, a1 = 0, a2 = 0;

	__asm__ volatile("call keel_hypercall_page"
			 : "+a"(nr), "+D"(a0), "+S"(a1), "+d"(a2), "+r"(r12), "+r"(r13), "+r"(r14),
			   "+r"(r15)
			 :
			 : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
	ap.report[R_SELF_DOWN_REGS] = r12 == 0x1212121212121212ull &&
				      r13 == 0x1313131313131313ull &&
				      r14 == 0x1414141414141414ull &&
				      r15 == 0x1515151515151515ull;
	ap.report[R_SELF_DOWN_RC] = nr;
}

/* Take vCPU 0 down; now we are the last online vCPU. Then bring it back. */
static void ap_down_boss(void)
{
	ap.report[R_BOSS_DOWN] = (uint64_t)vcpu_down(0);
	ap.report[R_BOSS_INFO_RC] = (uint64_t)vcpu_info_into(&ap_stat, 0);
	ap.report[R_BOSS_FLAGS] = ap_stat.flags;
	ap.report[R_BOSS_DOWN_SELF] = (uint64_t)vcpu_down(AP);
	ap.report[R_BOSS_DOWN_AGAIN] = (uint64_t)vcpu_down(0);
	/* vCPU 0 counts while it waits for us: it must stop. */
	ap.report[R_BOSS_C0_STOPPED] = counter_stops(&ap.c0, AP, 20 * KT_NS_PER_MS);
	ap.report[R_BOSS_UP] = (uint64_t)vcpu_up(0, 0);
}

/* vCPU 1 and vCPU 0 take each other down at the same moment; the winner brings the other back. */
static void ap_down_race(uint64_t k)
{
	long rc;

	__atomic_store_n(&ap.race_ready, k, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ap.race_go, __ATOMIC_ACQUIRE) != k) {
		kt_cpu_relax();
	}
	rc = vcpu_down(0);
	ap.report[R_RACE_RC] = (uint64_t)rc;
	ap.report[R_RACE_UP] = rc == 0 ? (uint64_t)vcpu_up(0, 0) : 0;
}

/* vCPU 1's C entry, at every start from a context (the first one and each restart). */
void smp_ap_main(void)
{
	uint64_t gs_val, last;

	/* The reset state of what the context does not hold, before we touch any of it. */
	ap.report[R_LAPIC_ID] = lapic_read(LAPIC_ID);
	ap.report[R_SVR] = lapic_read(LAPIC_SVR);
	ap.report[R_MXCSR] = get_mxcsr();
	ap.report[R_FCW] = get_fcw();
	ap.report[R_XMM6] = get_xmm6();
	ap.report[R_DR0] = get_dr0();
	ap.report[R_PAT] = rdmsr(MSR_PAT);
	ap.report[R_EFER] = rdmsr(MSR_EFER);
	ap.report[R_KGS] = rdmsr(MSR_KERNEL_GS_BASE);
	__asm__ volatile("movq %%gs:0, %0" : "=r"(gs_val));
	ap.report[R_GS_TAG] = gs_val;
	/* The registration survives restarts (it is not CPU state): once is enough. */
	if (!ap_registered) {
		ap.report[R_REGISTER_RC] = (uint64_t)kt_register_vcpu_info(AP);
		ap_registered = true;
	}
	kt_lapic_enable();
	fpu_pattern_set(AP);
	/* A restart drops the command that was running: it counts as done. */
	last = __atomic_load_n(&ap.seq, __ATOMIC_ACQUIRE);
	__atomic_store_n(&ap.ack, last, __ATOMIC_RELEASE);
	ap.gen = smp_ap_regs.rbx;
	__atomic_fetch_add(&ap.entries, 1, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t seq = ap_wait_command(last);

		ap_check_fpu();
		switch (ap.op) {
		case OP_SPIN:
			ap_spin(seq);
			break;
		case OP_RACE:
			ap_race();
			break;
		case OP_POLL_PING:
			ap_poll_ping(ap.arg);
			break;
		case OP_UPCALL_PING:
			ap_upcall_ping(ap.arg);
			break;
		case OP_HLT_WAKE:
			ap_hlt_wake();
			break;
		case OP_STI_HLT:
			ap_sti_hlt();
			break;
		case OP_SELF_DOWN:
			ap_self_down();
			break;
		case OP_DOWN_BOSS:
			ap_down_boss();
			break;
		case OP_DOWN_RACE:
			ap_down_race(ap.arg);
			break;
		default:
			break;
		}
		ap_check_fpu();
		last = seq;
		__atomic_store_n(&ap.ack, seq, __ATOMIC_RELEASE);
	}
}

/* ---- vCPU 0 ---- */

static uint64_t post(uint32_t op, uint64_t arg)
{
	uint64_t seq = ap.seq + 1;

	ap.op = op;
	ap.arg = arg;
	__atomic_store_n(&ap.seq, seq, __ATOMIC_RELEASE);
	return seq;
}

/*
 * Wait until vCPU 1 finished command @seq, counting in ap.c0 (so vCPU 1 can
 * tell whether we run) and yielding now and then (so a vCPU 1 sharing our
 * CPU gets it).
 */
static bool wait_ack(uint64_t seq, uint64_t timeout)
{
	uint64_t deadline = now_on(0) + timeout;
	unsigned int spins = 0;

	while (__atomic_load_n(&ap.ack, __ATOMIC_ACQUIRE) < seq) {
		ap.c0++;
		if (now_on(0) >= deadline) {
			return false;
		}
		if ((++spins & 63) == 0) {
			keel_hypercall0(KEEL_HC_SCHED_YIELD);
		} else {
			kt_cpu_relax();
		}
	}
	return true;
}

/* Wait until vCPU 1's counter moved by @n (it runs), or the timeout. */
static bool wait_c1_moves(uint64_t n, uint64_t timeout)
{
	uint64_t start = ap.c1, deadline = now_on(0) + timeout;

	while (ap.c1 - start < n) {
		if (now_on(0) >= deadline) {
			return false;
		}
		keel_hypercall0(KEEL_HC_SCHED_YIELD);
	}
	return true;
}

static bool wait_entries(uint64_t n, uint64_t timeout)
{
	uint64_t deadline = now_on(0) + timeout;

	while (__atomic_load_n(&ap.entries, __ATOMIC_ACQUIRE) < n) {
		if (now_on(0) >= deadline) {
			return false;
		}
		keel_hypercall0(KEEL_HC_SCHED_YIELD);
	}
	return true;
}

static struct keel_x86_segment flat_segment(uint16_t selector, uint16_t attr)
{
	return (struct keel_x86_segment){ .selector = selector, .attr = attr,
					  .limit = 0xffffffffu, .base = 0 };
}

/*
 * A context for vCPU 1 from vCPU 0's own state: the paging and descriptor
 * tables it runs on, the LONG64 selectors of docs/abi/boot.md with their
 * attributes, vCPU 1's stack, RIP at smp_ap_entry. Every register gets a
 * value of its own so the entry can tell that each arrived.
 */
static void build_context(struct keel_x86_vcpu_context *c, uint64_t gen)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr, idtr;
	uint16_t cs, ds;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	memset(c, 0, sizeof(*c));
	c->rax = 0xa0a0a0a0a0a0a0a0ull;
	c->rbx = gen;
	c->rcx = 0xc0c0c0c0c0c0c0c0ull;
	c->rdx = 0xd0d0d0d0d0d0d0d0ull;
	c->rsi = 0x5151515151515151ull;
	c->rdi = AP;
	c->rbp = 0xb0b0b0b0b0b0b0b0ull;
	c->rsp = KT_GPA(ap_stack + sizeof(ap_stack));
	c->r8 = 0x0808080808080808ull;
	c->r9 = 0x0909090909090909ull;
	c->r10 = 0x1010101010101010ull;
	c->r11 = 0x1111111111111111ull;
	c->r12 = 0x1212121212121212ull;
	c->r13 = 0x1313131313131313ull;
	c->r14 = 0x1414141414141414ull;
	c->r15 = 0x1515151515151515ull;
	c->rip = (uint64_t)(uintptr_t)smp_ap_entry;
	c->rflags = 0x2;	/* interrupts off until vCPU 1 is ready for them */
	c->cr0 = read_cr(0);
	c->cr2 = CTX_CR2;
	c->cr3 = read_cr(3);
	c->cr4 = read_cr(4);
	c->efer = rdmsr(MSR_EFER);
	c->pat = 0;		/* the reset value */
	c->cs = flat_segment(cs, ATTR_CODE64);
	c->ds = flat_segment(ds, ATTR_DATA);
	c->es = c->ds;
	c->ss = c->ds;
	c->fs = c->ds;
	c->gs = c->ds;
	c->gs.base = KT_GPA(&gs_tag);
	c->tr = (struct keel_x86_segment){ .selector = 0, .attr = ATTR_TSS_BUSY, .limit = 0x67 };
	c->ldtr = (struct keel_x86_segment){ 0 };	/* P = 0: no LDT */
	c->gdtr.base = gdtr.base;
	c->gdtr.limit = gdtr.limit;
	c->idtr.base = idtr.base;
	c->idtr.limit = idtr.limit;
	c->kernel_gs_base = CTX_KERNEL_GS_BASE;
}

/* vCPU 1's upcall vector in the shared IDT (the runtime fills 0..31 and 0xf0). */
static void install_ap_vector(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	uint64_t h = (uint64_t)(uintptr_t)smp_upcall1_stub;
	volatile uint32_t *gate;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	gate = KT_PTR(idtr.base + AP_UPCALL_VECTOR * 16);
	gate[0] = (uint32_t)((h & 0xffff) | (0x08u << 16));
	/* Present, DPL 0, 64-bit interrupt gate. */
	gate[1] = (uint32_t)((h & 0xffff0000u) | 0x8e00u);
	gate[2] = (uint32_t)(h >> 32);
	gate[3] = 0;
}

static void check_own_fpu(void)
{
	kt_check(fpu_pattern_ok(0), "vCPU 0's MXCSR, XMM6 and DR0 kept",
		 "MXCSR 0x%x XMM6 0x%lx DR0 0x%lx", get_mxcsr(), get_xmm6(), get_dr0());
	kt_check(ap.report[R_FPU_BAD] == 0, "vCPU 1 never lost its MXCSR, XMM6 and DR0",
		 "lost %lu times, MXCSR 0x%lx when last found", ap.report[R_FPU_BAD],
		 ap.report[R_FPU_BAD_MXCSR]);
	ap.report[R_FPU_BAD] = 0;
	fpu_pattern_set(0);
}

static const char *group(unsigned int i, const char *what)
{
	kt_snprintf(group_names[i], sizeof(group_names[i]), "smp-%s-%s", what, dom);
	return group_names[i];
}

/* ---- smp-errors ---- */

/* Ways to spoil a good context, each against a rule of keel/arch-x86_64.h. */
enum spoil {
	SPOIL_PG_NO_PE,
	SPOIL_RIP,
	SPOIL_RESERVED0,
	SPOIL_RESERVED4,
	SPOIL_RFLAGS1,
	SPOIL_RFLAGS3,
	SPOIL_CR0,
	SPOIL_CR4,
	SPOIL_EFER,
	SPOIL_NO_PAE,
	SPOIL_CR3,
	SPOIL_GS_BASE,
	SPOIL_GDTR_PAD,
	SPOIL_IDTR_LIMIT,
};

static const struct {
	enum spoil how;
	const char *what;
} bad_contexts[] = {
	{ SPOIL_PG_NO_PE, "context CR0.PG without CR0.PE" },
	{ SPOIL_RIP, "context RIP not canonical" },
	{ SPOIL_RESERVED0, "context reserved[0] != 0" },
	{ SPOIL_RESERVED4, "context reserved[4] != 0" },
	{ SPOIL_RFLAGS1, "context RFLAGS bit 1 clear" },
	{ SPOIL_RFLAGS3, "context RFLAGS reserved bit 3" },
	{ SPOIL_CR0, "context CR0 reserved bit 32" },
	{ SPOIL_CR4, "context CR4 reserved bit 40" },
	{ SPOIL_EFER, "context EFER reserved bit 1" },
	{ SPOIL_NO_PAE, "context long mode without CR4.PAE" },
	{ SPOIL_CR3, "context CR3 not RAM" },
	{ SPOIL_GS_BASE, "context GS base not canonical" },
	{ SPOIL_GDTR_PAD, "context gdtr.pad0 != 0" },
	{ SPOIL_IDTR_LIMIT, "context IDT limit 0x10000" },
};

static void spoil_context(struct keel_x86_vcpu_context *c, enum spoil how)
{
	switch (how) {
	case SPOIL_PG_NO_PE:
		c->cr0 &= ~1ull;
		break;
	case SPOIL_RIP:
		c->rip = 0x0000800000000000ull;
		break;
	case SPOIL_RESERVED0:
		c->reserved[0] = 1;
		break;
	case SPOIL_RESERVED4:
		c->reserved[4] = 1ull << 63;
		break;
	case SPOIL_RFLAGS1:
		c->rflags = 0;
		break;
	case SPOIL_RFLAGS3:
		c->rflags |= 1ull << 3;
		break;
	case SPOIL_CR0:
		c->cr0 |= 1ull << 32;
		break;
	case SPOIL_CR4:
		c->cr4 |= 1ull << 40;
		break;
	case SPOIL_EFER:
		c->efer |= 1ull << 1;
		break;
	case SPOIL_NO_PAE:
		c->cr4 &= ~(1ull << 5);
		break;
	case SPOIL_CR3:
		c->cr3 = KT_GPA_NOT_RAM;
		break;
	case SPOIL_GS_BASE:
		c->gs.base = 0x00f0000000000000ull;
		break;
	case SPOIL_GDTR_PAD:
		c->gdtr.pad0 = 1;
		break;
	case SPOIL_IDTR_LIMIT:
		c->idtr.limit = 0x10000;
		break;
	}
}

static void check_bad_numbers(void)
{
	uint32_t n = kt_boot.nr_vcpus;

	build_context(&ctx, 0);
	kt_check_rc("VCPU_INFO of vCPU <count>", vcpu_info_into(&vstat, n), -KEEL_EINVAL);
	kt_check_rc("VCPU_UP of vCPU <count>", vcpu_up(n, KT_GPA(&ctx)), -KEEL_EINVAL);
	kt_check_rc("VCPU_UP of vCPU 0xffffffff", vcpu_up(0xffffffffu, KT_GPA(&ctx)),
		    -KEEL_EINVAL);
	kt_check_rc("VCPU_UP of vCPU 1 with bits 63:32 set",
		    vcpu_up((1ull << 32) | AP, KT_GPA(&ctx)), -KEEL_EINVAL);
	kt_check_rc("VCPU_DOWN of vCPU <count>", vcpu_down(n), -KEEL_EINVAL);
	kt_check_rc("VCPU_REGISTER_INFO of vCPU <count>",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, n, KT_GPA(&kt_vcpu_info[AP])),
		    -KEEL_EINVAL);
	kt_check_rc("EVTCHN_BIND_IPI to vCPU <count>", kt_evtchn_bind_ipi(n), -KEEL_EINVAL);
	kt_check_rc("EVTCHN_SET_UPCALL for vCPU <count>",
		    kt_set_upcall(n, KEEL_UPCALL_NONE, 0), -KEEL_EINVAL);
}

static void check_before_start(void)
{
	kt_check_rc("VCPU_INFO(1) before it ever ran", vcpu_info_into(&vstat, AP), 0);
	kt_check(vstat.flags == 0 && vstat.info_gpa == 0 &&
		 vstat.runstate.state == KEEL_RUNSTATE_OFFLINE,
		 "vCPU 1 starts offline, no info, runstate OFFLINE",
		 "flags 0x%x gpa 0x%lx state %u",
		 vstat.flags, vstat.info_gpa, vstat.runstate.state);
	kt_check_rc("VCPU_UP(1, 0) of a vCPU that never ran", vcpu_up(AP, 0), -KEEL_EINVAL);
	kt_check_rc("VCPU_DOWN(1) of an offline vCPU", vcpu_down(AP), -KEEL_EBUSY);
	kt_check_rc("VCPU_DOWN(0), the last online vCPU", vcpu_down(0), -KEEL_EBUSY);
	build_context(&ctx, 0);
	kt_check_rc("VCPU_UP(0) with a context: vCPU 0 is online", vcpu_up(0, KT_GPA(&ctx)),
		    -KEEL_EBUSY);
	for (uint32_t v = 2; v < kt_boot.nr_vcpus; v++) {
		kt_check_eq("a vCPU beyond 1 stays offline", vcpu_flags(v), 0);
	}
}

static void check_bad_contexts(void)
{
	struct keel_x86_vcpu_context *crossing = (void *)(ctx_pages + KEEL_PAGE_SIZE - 64);

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(bad_contexts); i++) {
		build_context(&ctx, 0);
		spoil_context(&ctx, bad_contexts[i].how);
		kt_check_rc(bad_contexts[i].what, vcpu_up(AP, KT_GPA(&ctx)), -KEEL_EINVAL);
	}
	build_context(&ctx, 0);
	kt_check_rc("context GPA not 8-byte aligned", vcpu_up(AP, KT_GPA(&ctx) + 4),
		    -KEEL_EFAULT);
	kt_check_rc("context GPA not RAM", vcpu_up(AP, KT_GPA_NOT_RAM), -KEEL_EFAULT);
	build_context(crossing, 0);
	kt_check_rc("context crossing a page", vcpu_up(AP, KT_GPA(crossing)), -KEEL_EFAULT);
	/* None of these may have started anything. */
	kt_sleep_ns(20 * KT_NS_PER_MS);
	kt_check_eq("no rejected context started vCPU 1", ap.entries, 0);
	kt_check_eq("vCPU 1 still offline", vcpu_flags(AP), 0);
}

static void test_errors(void)
{
	kt_group_begin(group(0, "errors"));
	kt_check_eq("CPUID B+4 vCPU count is the configured vcpus=",
		    kt_boot.nr_vcpus, kt_cmdline_u64("vcpus", 0));
	kt_check(kt_boot.si.nr_vcpus == kt_boot.nr_vcpus &&
		 kt_shared->nr_vcpus == kt_boot.nr_vcpus,
		 "start info and shared info agree on the vCPU count", "start info %u shared %u",
		 kt_boot.si.nr_vcpus, kt_shared->nr_vcpus);
	check_bad_numbers();
	check_before_start();
	check_bad_contexts();
	check_own_fpu();
	kt_group_end();
}

/* ---- smp-start ---- */

static void check_entry_state(const struct keel_x86_vcpu_context *c)
{
	const struct kt_entry_state *e = &smp_ap_regs;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;

	memcpy(&gdt_limit, e->gdtr, 2);
	memcpy(&gdt_base, e->gdtr + 2, 8);
	memcpy(&idt_limit, e->idtr, 2);
	memcpy(&idt_base, e->idtr + 2, 8);
	kt_check(e->rax == c->rax && e->rbx == c->rbx && e->rcx == c->rcx && e->rdx == c->rdx &&
		 e->rsi == c->rsi && e->rdi == c->rdi && e->rbp == c->rbp,
		 "RAX..RBP as in the context", "rax 0x%lx rbx 0x%lx rdi 0x%lx rbp 0x%lx",
		 e->rax, e->rbx, e->rdi, e->rbp);
	kt_check(e->r8 == c->r8 && e->r9 == c->r9 && e->r10 == c->r10 && e->r11 == c->r11 &&
		 e->r12 == c->r12 && e->r13 == c->r13 && e->r14 == c->r14 && e->r15 == c->r15,
		 "R8..R15 as in the context", "r8 0x%lx r11 0x%lx r15 0x%lx", e->r8, e->r11,
		 e->r15);
	kt_check_eq("RSP as in the context", e->rsp, c->rsp);
	kt_check_eq("RFLAGS as in the context", e->rflags, c->rflags);
	kt_check_eq("CR0 as in the context", e->cr0, c->cr0);
	kt_check_eq("CR2 as in the context", smp_ap_cr2, c->cr2);
	kt_check_eq("CR3 as in the context", e->cr3, c->cr3);
	kt_check_eq("CR4 as in the context", e->cr4, c->cr4);
	kt_check(e->cs == c->cs.selector && e->ds == c->ds.selector && e->es == c->es.selector &&
		 e->fs == c->fs.selector && e->gs == c->gs.selector && e->ss == c->ss.selector,
		 "segment selectors as in the context", "cs 0x%x ds 0x%x ss 0x%x", e->cs, e->ds,
		 e->ss);
	kt_check(gdt_base == c->gdtr.base && gdt_limit == c->gdtr.limit,
		 "GDTR as in the context", "base 0x%lx limit 0x%x", gdt_base, gdt_limit);
	kt_check(idt_base == c->idtr.base && idt_limit == c->idtr.limit,
		 "IDTR as in the context", "base 0x%lx limit 0x%x", idt_base, idt_limit);
	kt_check_eq("GS base as in the context (%gs:0 reads the tag)", ap.report[R_GS_TAG],
		    GS_TAG);
	kt_check_eq("KERNEL_GS_BASE as in the context", ap.report[R_KGS], c->kernel_gs_base);
	kt_check_eq("EFER: LME, LMA, NXE as vCPU 0's", ap.report[R_EFER], c->efer);
	kt_check_eq("PAT 0 in the context is the reset value", ap.report[R_PAT], PAT_RESET);
}

/* What the context does not hold is in its reset state (keel/arch-x86_64.h). */
static void check_reset_state(const char *when)
{
	char what[96];

	kt_snprintf(what, sizeof(what), "%s: MXCSR reset (0x1f80)", when);
	kt_check_eq(what, ap.report[R_MXCSR], MXCSR_RESET);
	kt_snprintf(what, sizeof(what), "%s: x87 control word reset (0x37f)", when);
	kt_check_eq(what, ap.report[R_FCW], FCW_RESET);
	kt_snprintf(what, sizeof(what), "%s: XMM6 reset (0)", when);
	kt_check_eq(what, ap.report[R_XMM6], 0);
	kt_snprintf(what, sizeof(what), "%s: DR0 reset (0)", when);
	kt_check_eq(what, ap.report[R_DR0], 0);
	kt_snprintf(what, sizeof(what), "%s: local APIC software-disabled (SVR 0xff)", when);
	kt_check_eq(what, ap.report[R_SVR], SVR_RESET);
	kt_snprintf(what, sizeof(what), "%s: local APIC id 1", when);
	kt_check_eq(what, ap.report[R_LAPIC_ID], (uint64_t)AP << 24);
}

static void test_start(void)
{
	struct keel_x86_vcpu_context good;
	long rc;

	kt_group_begin(group(1, "start"));
	build_context(&ctx, 0);
	good = ctx;
	rc = vcpu_up(AP, KT_GPA(&ctx));
	kt_check_rc("VCPU_UP(1) with vCPU 0's state", rc, 0);
	if (rc != 0 || !kt_check(wait_entries(1, WAIT_NS), "vCPU 1 comes in at its entry",
				 "not within 2 s")) {
		kt_group_end();
		return;
	}
	check_entry_state(&good);
	check_reset_state("first start");
	kt_check_rc("vCPU 1 registers its own keel_vcpu_info", (long)ap.report[R_REGISTER_RC], 0);
	kt_check_rc("VCPU_UP(1) again: online", vcpu_up(AP, KT_GPA(&ctx)), -KEEL_EBUSY);
	kt_check_rc("VCPU_UP(1, 0) again: online", vcpu_up(AP, 0), -KEEL_EBUSY);
	kt_check_rc("VCPU_INFO(1)", vcpu_info_into(&vstat, AP), 0);
	kt_check_eq("VCPU_INFO(1): online, info registered", vstat.flags,
		    KEEL_VCPU_F_ONLINE | KEEL_VCPU_F_INFO_REGISTERED);
	kt_check_eq("VCPU_INFO(1) info_gpa is vCPU 1's", vstat.info_gpa, KT_GPA(&kt_vcpu_info[AP]));
	kt_check(vstat.runstate.state != KEEL_RUNSTATE_OFFLINE, "vCPU 1's runstate is not OFFLINE",
		 "state %u", vstat.runstate.state);
	kt_check(kt_vcpu_info[AP].time.tsc_to_ns_mul != 0 &&
		 kt_vcpu_info[AP].time.tsc_to_ns_mul == kt_vcpu_info[0].time.tsc_to_ns_mul &&
		 kt_vcpu_info[AP].time.tsc_shift == kt_vcpu_info[0].time.tsc_shift,
		 "vCPU 1's time info has vCPU 0's scale", "mul %u shift %d (vCPU 0: %u %d)",
		 kt_vcpu_info[AP].time.tsc_to_ns_mul, kt_vcpu_info[AP].time.tsc_shift,
		 kt_vcpu_info[0].time.tsc_to_ns_mul, kt_vcpu_info[0].time.tsc_shift);
	kt_check_eq("VCPU_INFO(0) still online, info registered", vcpu_flags(0),
		    KEEL_VCPU_F_ONLINE | KEEL_VCPU_F_INFO_REGISTERED);
	check_own_fpu();
	kt_group_end();
}

/* ---- smp-concurrent ---- */

static void test_concurrent(void)
{
	uint64_t start, seq, last_c1, seen1 = 0, c0 = 0, locked = 0, prev, worst = 0;
	uint64_t mono_bad = 0, causal_bad = 0, elapsed;

	kt_group_begin(group(2, "concurrent"));
	ap.stop = 0;
	ap.shared = 0;
	ap.plain = 0;
	ap.lock = 0;
	ap.c0 = 0;
	ap.c1 = 0;
	ap.t0 = now_on(0);
	ap.t1 = 0;
	ap.report[R_RACE_SEEN0] = 0;
	last_c1 = 0;
	seq = post(OP_RACE, 0);
	start = prev = now_on(0);
	for (;;) {
		uint64_t other, t;

		__atomic_fetch_add(&ap.shared, 1, __ATOMIC_SEQ_CST);
		if ((c0 & 7) == 0) {
			while (__atomic_exchange_n(&ap.lock, 1, __ATOMIC_ACQUIRE)) {
				kt_cpu_relax();
			}
			ap.plain++;
			__atomic_store_n(&ap.lock, 0, __ATOMIC_RELEASE);
			locked++;
		}
		c0++;
		ap.c0 = c0;
		if (ap.c1 != last_c1) {
			last_c1 = ap.c1;
			seen1++;
		}
		other = __atomic_load_n(&ap.t1, __ATOMIC_ACQUIRE);
		t = now_on(0);
		if (t < prev) {
			mono_bad++;
		}
		if (t + TIME_SLACK_NS < other) {
			causal_bad++;
			worst = other - t > worst ? other - t : worst;
		}
		prev = t;
		__atomic_store_n(&ap.t0, t, __ATOMIC_RELEASE);
		elapsed = t - start;
		if (elapsed >= RACE_MAX_NS ||
		    (elapsed >= RACE_MIN_NS && seen1 >= RACE_SEEN &&
		     ap.report[R_RACE_SEEN0] >= RACE_SEEN)) {
			break;
		}
	}
	__atomic_store_n(&ap.stop, 1, __ATOMIC_RELEASE);
	if (!kt_check(wait_ack(seq, WAIT_NS), "vCPU 1 stops counting when told", "it did not")) {
		kt_group_end();
		return;
	}
	kt_check(seen1 >= RACE_SEEN, "vCPU 1's counter moved while vCPU 0 counted",
		 "seen moving %lu times in %lu ms", seen1, elapsed / KT_NS_PER_MS);
	kt_check(ap.report[R_RACE_SEEN0] >= RACE_SEEN,
		 "vCPU 0's counter moved while vCPU 1 counted", "seen moving %lu times",
		 ap.report[R_RACE_SEEN0]);
	kt_check(ap.c1 > 0 && c0 > 0, "both vCPUs counted", "vCPU 0 %lu, vCPU 1 %lu", c0, ap.c1);
	kt_check_eq("lock inc by both: the shared count is exact", ap.shared, c0 + ap.c1);
	kt_check_eq("a spinlock (xchg) keeps a plain counter exact", ap.plain,
		    locked + ap.report[R_RACE_LOCKED]);
	kt_check_eq("vCPU 1's system time never went back", ap.report[R_RACE_MONO_BAD], 0);
	kt_check_eq("vCPU 0's system time never went back", mono_bad, 0);
	/* Domain system time is the same on every vCPU (docs/abi/hypercalls.md). */
	kt_check(ap.report[R_RACE_CAUSAL_BAD] == 0,
		 "vCPU 1's time is never behind time vCPU 0 read before",
		 "%lu times, by up to %lu ns", ap.report[R_RACE_CAUSAL_BAD],
		 ap.report[R_RACE_WORST]);
	kt_check(causal_bad == 0, "vCPU 0's time is never behind time vCPU 1 read before",
		 "%lu times, by up to %lu ns", causal_bad, worst);
	kt_note("counted %lu (vCPU 0) and %lu (vCPU 1) in %lu ms", c0, ap.c1,
		elapsed / KT_NS_PER_MS);
	check_own_fpu();
	kt_group_end();
}

/* ---- smp-ipi ---- */

static struct keel_sched_poll bsp_poll __attribute__((aligned(1024)));

/* P1 to vCPU 1, then P0 to vCPU 0 in the next pending word (dummies fill the gap). */
static bool bind_ports(void)
{
	uint32_t dummies[70];
	unsigned int nd = 0;
	long p1, p;

	p1 = kt_evtchn_bind_ipi(AP);
	if (!kt_check(p1 > 0, "EVTCHN_BIND_IPI to vCPU 1", "returned %ld (%s)", p1,
		      kt_errname(p1))) {
		return false;
	}
	port1 = (uint32_t)p1;
	for (;;) {
		p = kt_evtchn_bind_ipi(0);
		if (p <= 0 || (uint32_t)p / 64 != port1 / 64 || nd == KT_ARRAY_SIZE(dummies)) {
			break;
		}
		dummies[nd++] = (uint32_t)p;
	}
	for (unsigned int i = 0; i < nd; i++) {
		kt_evtchn_close(dummies[i]);
	}
	if (!kt_check(p > 0 && (uint32_t)p / 64 != port1 / 64,
		      "EVTCHN_BIND_IPI to vCPU 0, in another pending word", "returned %ld (%s)",
		      p, kt_errname(p))) {
		return false;
	}
	port0 = (uint32_t)p;
	return true;
}

static void check_port_status(uint32_t port, uint32_t vcpu)
{
	struct keel_evtchn_status st;
	long rc = kt_evtchn_status(port, &st);

	kt_check(rc == 0 && st.state == KEEL_EVTCHN_STATE_IPI && st.vcpu == vcpu,
		 "EVTCHN_STATUS: IPI, bound to its vCPU", "port %u: rc %ld state %u vcpu %u",
		 port, rc, st.state, st.vcpu);
}

/* Round trips with SCHED_POLL on both sides; the ports' mask bits as given. */
static void poll_round_trips(bool masked)
{
	const char *kind = masked ? "masked" : "unmasked";
	uint64_t seq, t0, done = 0;
	long rc = 1;
	char what[96];

	if (masked) {
		kt_port_mask(port0);
		kt_port_mask(port1);
	} else {
		kt_port_unmask_local(port0);
		kt_port_unmask_local(port1);
	}
	seq = post(OP_POLL_PING, ROUND_TRIPS);
	t0 = now_on(0);
	for (; done < ROUND_TRIPS; done++) {
		kt_evtchn_send(port1);
		rc = wait_port(&bsp_poll, 0, port0, KT_NS_PER_S);
		if (rc != 1) {
			break;
		}
	}
	kt_snprintf(what, sizeof(what), "SCHED_POLL round trips, %s ports", kind);
	kt_check(done == ROUND_TRIPS, what, "%lu of %u, then wait returned %ld (%s)", done,
		 ROUND_TRIPS, rc, kt_errname(rc));
	if (done == ROUND_TRIPS) {
		kt_note("%u SCHED_POLL round trips (%s ports), avg %lu us", ROUND_TRIPS, kind,
			(now_on(0) - t0) / ROUND_TRIPS / 1000);
	}
	kt_snprintf(what, sizeof(what), "vCPU 1 polled every event on P1, %s ports", kind);
	if (!kt_check(wait_ack(seq, WAIT_NS + KT_NS_PER_S), what, "no answer") ||
	    !kt_check(ap.report[R_PING_GOT] == done, what, "%lu of %lu, then rc %ld",
		      ap.report[R_PING_GOT], done, (long)ap.report[R_PING_FAIL_RC])) {
		return;
	}
	kt_port_mask(port0);
	kt_port_mask(port1);
}

/* vCPU 1 runs `sti; hlt` with P1's upcall pending: it must be taken, the HLT not sleep. */
static void check_sti_hlt(void)
{
	uint64_t seq, deadline;

	ap.report[R_HLT_ARMED] = 0;
	seq = post(OP_STI_HLT, 0);
	deadline = now_on(0) + WAIT_NS;
	while (!__atomic_load_n(&ap.report[R_HLT_ARMED], __ATOMIC_ACQUIRE) &&
	       now_on(0) < deadline) {
		keel_hypercall0(KEEL_HC_SCHED_YIELD);
	}
	kt_evtchn_send(port1);
	if (!kt_check(wait_ack(seq, 2 * WAIT_NS), "vCPU 1 done with its `sti; hlt`",
		      "no answer")) {
		return;
	}
	kt_check(ap.report[R_HLT_UPCALLS] >= 1 && ap.report[R_HLT_NS] < KT_NS_PER_S,
		 "`sti; hlt` with an upcall pending takes it before the next `cli`",
		 "%lu upcalls, HLT took %lu ms (the timer was at 2000)",
		 ap.report[R_HLT_UPCALLS], ap.report[R_HLT_NS] / KT_NS_PER_MS);
}

/* vCPU 1 halts with IF = 1; once it is BLOCKED, an event on P1 must end the HLT. */
static void check_hlt_wake(void)
{
	uint64_t seq, deadline;

	ap.report[R_HLT_ARMED] = 0;
	seq = post(OP_HLT_WAKE, 0);
	deadline = now_on(0) + WAIT_NS;
	while (!__atomic_load_n(&ap.report[R_HLT_ARMED], __ATOMIC_ACQUIRE) &&
	       now_on(0) < deadline) {
		keel_hypercall0(KEEL_HC_SCHED_YIELD);
	}
	while ((vcpu_info_into(&vstat, AP) != 0 ||
		vstat.runstate.state != KEEL_RUNSTATE_BLOCKED) && now_on(0) < deadline) {
		keel_hypercall0(KEEL_HC_SCHED_YIELD);
	}
	kt_check_eq("vCPU 1 halted (runstate BLOCKED)", vstat.runstate.state,
		    KEEL_RUNSTATE_BLOCKED);
	kt_evtchn_send(port1);
	if (!kt_check(wait_ack(seq, 2 * WAIT_NS), "vCPU 1 done with its HLT", "no answer")) {
		return;
	}
	kt_check(ap.report[R_HLT_UPCALLS] >= 1 && ap.report[R_HLT_NS] < KT_NS_PER_S,
		 "HLT with IF = 1 ends with the upcall that woke it",
		 "%lu upcalls, HLT took %lu ms (the timer was at 2000)",
		 ap.report[R_HLT_UPCALLS], ap.report[R_HLT_NS] / KT_NS_PER_MS);
}

/* Round trips with upcalls on both sides: each vCPU's vector, each port on its own vCPU. */
static void upcall_round_trips(void)
{
	uint64_t seq, t0, deadline, i;

	up_got[0] = up_got[1] = 0;
	up_other[0] = up_other[1] = 0;
	up_wrong_cpu[0] = up_wrong_cpu[1] = 0;
	kt_port_clear(port0);
	kt_port_clear(port1);
	kt_evtchn_scan(0, NULL, NULL);
	kt_lapic_enable();
	kt_set_upcall_handler(upcall_port0, NULL);
	kt_check_rc("SET_UPCALL vCPU 0: vector 0xf0",
		    kt_set_upcall(0, KEEL_UPCALL_VECTOR, KT_UPCALL_VECTOR), 0);
	kt_check_rc("SET_UPCALL vCPU 1: vector 0xf1",
		    kt_set_upcall(AP, KEEL_UPCALL_VECTOR, AP_UPCALL_VECTOR), 0);
	kt_port_unmask_local(port0);
	kt_port_unmask_local(port1);
	seq = post(OP_UPCALL_PING, ROUND_TRIPS);
	t0 = now_on(0);
	deadline = t0 + 10 * KT_NS_PER_S;
	for (i = 0; i < ROUND_TRIPS; i++) {
		kt_evtchn_send(port1);
		if (!wait_upcall(0, i, deadline)) {
			break;
		}
	}
	kt_set_timer(0);
	if (!kt_check(i == ROUND_TRIPS, "upcall round trips", "%lu of %u", i, ROUND_TRIPS)) {
		kt_note("vCPU 0: upcall_pending %u, %lu interrupts; P0 %u pending %d masked %d",
			kt_vcpu_info[0].upcall_pending, kt_upcall_count, port0,
			kt_port_pending(port0),
			kt_port_masked(port0));
	}
	if (i == ROUND_TRIPS) {
		kt_note("%u upcall round trips, avg %lu us", ROUND_TRIPS,
			(now_on(0) - t0) / ROUND_TRIPS / 1000);
	}
	kt_check(wait_ack(seq, WAIT_NS), "vCPU 1 finished its upcall round trips", "no answer");
	kt_check(up_got[1] == ROUND_TRIPS && up_got[0] == ROUND_TRIPS,
		 "each vCPU's handler got every event of its port", "vCPU 0 %lu, vCPU 1 %lu",
		 up_got[0], up_got[1]);
	kt_check(up_other[0] == 0 && up_other[1] == 0,
		 "no vCPU was notified of the other's port", "vCPU 0 saw %lu, vCPU 1 saw %lu",
		 up_other[0], up_other[1]);
	kt_check(up_wrong_cpu[0] == 0 && up_wrong_cpu[1] == 0,
		 "each upcall ran on its own vCPU (local APIC id)", "vCPU 0 %lu, vCPU 1 %lu",
		 up_wrong_cpu[0], up_wrong_cpu[1]);
	check_hlt_wake();
	check_sti_hlt();
	kt_set_upcall(0, KEEL_UPCALL_NONE, 0);
	kt_set_upcall(AP, KEEL_UPCALL_NONE, 0);
	kt_set_upcall_handler(NULL, NULL);
	kt_port_mask(port0);
	kt_port_mask(port1);
}

static void test_ipi(void)
{
	kt_group_begin(group(3, "ipi"));
	if (bind_ports()) {
		check_port_status(port1, AP);
		check_port_status(port0, 0);
		poll_round_trips(true);
		poll_round_trips(false);
		upcall_round_trips();
	}
	check_own_fpu();
	kt_group_end();
}

/* ---- smp-updown ---- */

/* DOWN and UP(arg1 = 0) from vCPU 0 while vCPU 1 counts. */
static void check_down_resume(void)
{
	uint64_t seq = post(OP_SPIN, 0);

	kt_check(wait_c1_moves(1000, WAIT_NS), "vCPU 1 counts", "it does not");
	kt_check_rc("VCPU_DOWN(1)", vcpu_down(AP), 0);
	kt_check_eq("VCPU_INFO(1): offline, info still registered", vcpu_flags(AP),
		    KEEL_VCPU_F_INFO_REGISTERED);
	kt_check_eq("VCPU_INFO(1) runstate OFFLINE", vstat.runstate.state, KEEL_RUNSTATE_OFFLINE);
	kt_check(counter_stops(&ap.c1, 0, 20 * KT_NS_PER_MS), "an offline vCPU 1 stops running",
		 "it counts on");
	kt_check_rc("VCPU_DOWN(1) again: offline", vcpu_down(AP), -KEEL_EBUSY);
	kt_check_rc("VCPU_DOWN(0): the last online vCPU", vcpu_down(0), -KEEL_EBUSY);
	kt_check_rc("VCPU_UP(1, 0) resumes it", vcpu_up(AP, 0), 0);
	kt_check_eq("VCPU_INFO(1): online again", vcpu_flags(AP),
		    KEEL_VCPU_F_ONLINE | KEEL_VCPU_F_INFO_REGISTERED);
	kt_check(wait_c1_moves(1000, WAIT_NS), "vCPU 1 counts on where it stopped", "it does not");
	kt_check_eq("vCPU 1 came in only once (resumed, not restarted)", ap.entries, 1);
	post(OP_NONE, 0);
	kt_check(wait_ack(seq + 1, WAIT_NS), "vCPU 1 takes commands again", "it does not");
}

/* vCPU 1 takes itself down; VCPU_UP(1, 0) makes its DOWN call return 0. */
static void check_self_down(void)
{
	uint64_t seq, deadline;

	ap.report[R_SELF_DOWN_RC] = 0x5e1f;
	seq = post(OP_SELF_DOWN, 0);
	deadline = now_on(0) + WAIT_NS;
	while ((vcpu_flags(AP) & KEEL_VCPU_F_ONLINE) && now_on(0) < deadline) {
		kt_sleep_ns(KT_NS_PER_MS);
	}
	kt_check_eq("vCPU 1 took itself offline", vcpu_flags(AP), KEEL_VCPU_F_INFO_REGISTERED);
	kt_sleep_ns(20 * KT_NS_PER_MS);
	kt_check(ap.ack < seq && ap.report[R_SELF_DOWN_RC] == 0x5e1f,
		 "its VCPU_DOWN does not return while it is offline", "returned %ld",
		 (long)ap.report[R_SELF_DOWN_RC]);
	kt_check_rc("VCPU_UP(1, 0) resumes it", vcpu_up(AP, 0), 0);
	kt_check(wait_ack(seq, WAIT_NS), "vCPU 1 goes on after its VCPU_DOWN", "it does not");
	kt_check_rc("its VCPU_DOWN returned 0 when resumed", (long)ap.report[R_SELF_DOWN_RC], 0);
	kt_check_eq("R12-R15 kept across its DOWN and UP", ap.report[R_SELF_DOWN_REGS], 1);
}

/* vCPU 1 takes vCPU 0 down: the last online vCPU is then vCPU 1. */
static void check_down_boss(void)
{
	struct keel_vcpu_runstate r0, r1;
	uint64_t seq, offline;

	kt_runstate(&r0);
	seq = post(OP_DOWN_BOSS, 0);
	kt_check(wait_ack(seq, 4 * WAIT_NS), "vCPU 1 took vCPU 0 down and up", "no answer");
	kt_runstate(&r1);
	kt_check_rc("vCPU 1: VCPU_DOWN(0)", (long)ap.report[R_BOSS_DOWN], 0);
	kt_check(ap.report[R_BOSS_INFO_RC] == 0 &&
		 ap.report[R_BOSS_FLAGS] == KEEL_VCPU_F_INFO_REGISTERED,
		 "vCPU 1: VCPU_INFO(0) offline", "rc %ld flags 0x%lx",
		 (long)ap.report[R_BOSS_INFO_RC], ap.report[R_BOSS_FLAGS]);
	kt_check_rc("vCPU 1: VCPU_DOWN(1), the last online vCPU",
		    (long)ap.report[R_BOSS_DOWN_SELF], -KEEL_EBUSY);
	kt_check_rc("vCPU 1: VCPU_DOWN(0) again", (long)ap.report[R_BOSS_DOWN_AGAIN], -KEEL_EBUSY);
	kt_check_eq("vCPU 0 stopped running while offline", ap.report[R_BOSS_C0_STOPPED], 1);
	kt_check_rc("vCPU 1: VCPU_UP(0, 0)", (long)ap.report[R_BOSS_UP], 0);
	offline = r1.time_ns[KEEL_RUNSTATE_OFFLINE] - r0.time_ns[KEEL_RUNSTATE_OFFLINE];
	kt_check(offline >= 10 * KT_NS_PER_MS, "vCPU 0's runstate counted its OFFLINE time",
		 "%lu ns", offline);
}

/*
 * DOWN then at once UP with a new context, while vCPU 1 counts: it must
 * start afresh at the entry, with the reset state, every time.
 */
static void check_restarts(void)
{
	char what[64];

	for (uint64_t k = 1; k <= RESTARTS; k++) {
		uint64_t entries = ap.entries;

		post(OP_SPIN, 0);
		if (!kt_check(wait_c1_moves(100, WAIT_NS), "vCPU 1 counts before a restart",
			      "restart %lu: it does not", k)) {
			return;
		}
		build_context(&ctx, k);
		kt_check_rc("VCPU_DOWN(1) before a restart", vcpu_down(AP), 0);
		kt_check_rc("VCPU_UP(1) with a new context right after", vcpu_up(AP, KT_GPA(&ctx)),
			    0);
		if (!kt_check(wait_entries(entries + 1, WAIT_NS) && ap.gen == k,
			      "vCPU 1 restarts at the new context's entry",
			      "restart %lu: entries %lu (want %lu), start number %lu", k,
			      ap.entries,
			      entries + 1, ap.gen)) {
			return;
		}
		kt_snprintf(what, sizeof(what), "restart %lu", k);
		check_reset_state(what);
	}
}

/* Both vCPUs take the other down at once: exactly one wins, the loser answers EBUSY. */
static void check_down_races(void)
{
	unsigned int wins0 = 0, wins1 = 0, bad = 0;
	long rc0 = 0, up0 = 0;

	for (uint64_t k = 1; k <= DOWN_RACES; k++) {
		uint64_t seq = post(OP_DOWN_RACE, k), deadline = now_on(0) + WAIT_NS;
		long rc1;

		while (__atomic_load_n(&ap.race_ready, __ATOMIC_ACQUIRE) != k &&
		       now_on(0) < deadline) {
			keel_hypercall0(KEEL_HC_SCHED_YIELD);	/* vCPU 1 may share our CPU */
		}
		__atomic_store_n(&ap.race_go, k, __ATOMIC_RELEASE);
		rc0 = vcpu_down(AP);
		up0 = rc0 == 0 ? vcpu_up(AP, 0) : 0;
		if (!kt_check(wait_ack(seq, WAIT_NS), "vCPU 1 finishes a DOWN race",
			      "race %lu: no answer", k)) {
			return;
		}
		rc1 = (long)ap.report[R_RACE_RC];
		wins0 += rc0 == 0;
		wins1 += rc1 == 0;
		if ((rc0 != 0 && rc0 != -KEEL_EBUSY) || (rc1 != 0 && rc1 != -KEEL_EBUSY) ||
		    (rc0 != 0 && rc1 != 0) || up0 != 0 || ap.report[R_RACE_UP] != 0) {
			bad++;
			kt_note("race %lu: DOWN rc %ld / %ld, UP rc %ld / %ld", k, rc0, rc1, up0,
				(long)ap.report[R_RACE_UP]);
		}
	}
	kt_check(bad == 0, "DOWN races: one DOWN wins, the other EBUSY, the winner's UP works",
		 "%u of %u races went wrong", bad, DOWN_RACES);
	kt_check_eq("after the races both vCPUs are online", vcpu_flags(AP) & vcpu_flags(0) &
		    KEEL_VCPU_F_ONLINE, KEEL_VCPU_F_ONLINE);
	kt_note("DOWN races won by vCPU 0: %u, by vCPU 1: %u", wins0, wins1);
}

static void test_updown(void)
{
	kt_group_begin(group(4, "updown"));
	check_down_resume();
	check_self_down();
	check_down_boss();
	check_restarts();
	check_down_races();
	check_own_fpu();
	/* Leave vCPU 1 offline: the domain then powers off from one vCPU. */
	post(OP_NONE, 0);
	kt_check_rc("VCPU_DOWN(1) at the end", vcpu_down(AP), 0);
	kt_group_end();
}

void test_main(void)
{
	if (!kt_domain_name(dom, sizeof(dom))) {
		kt_snprintf(dom, sizeof(dom), "d%u", kt_boot.domid);
	}
	fpu_pattern_set(0);
	install_ap_vector();
	test_errors();
	if (kt_boot.nr_vcpus < 2) {
		keeltest_result(test_name, KEELTEST_ERROR, "needs 2 vCPUs, has %u",
				kt_boot.nr_vcpus);
		return;
	}
	test_start();
	if (ap.entries == 0) {
		return;		/* nothing else can work; smp-start said why */
	}
	test_concurrent();
	test_ipi();
	test_updown();
}
