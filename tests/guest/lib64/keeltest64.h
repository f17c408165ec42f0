/* SPDX-License-Identifier: MIT */
/* keeltest64.h: the runtime of Keel-native 64-bit test kernels: hypercalls, results, events. */
#ifndef KEELTEST64_H
#define KEELTEST64_H

/*
 * A test kernel defines test_name[] and test_main(). The runtime enters in
 * KEEL_ENTRY_MODE_LONG64 (docs/abi/boot.md), installs its own stack, GDT and
 * IDT, finds Keel with CPUID, installs the hypercall page, identifies as
 * KEEL_OS_TEST, maps the shared info page at the start of the map window,
 * registers vCPU 0's keel_vcpu_info and calls test_main(). When test_main()
 * returns it shuts the domain down with KEEL_SHUTDOWN_POWEROFF.
 *
 * Each test prints exactly one line through KEEL_HC_CONSOLE_WRITE, which
 * Keel prefixes with the domain:
 *   keeltest: <test name>: SUCCESS|SKIP|ERROR|FAILURE [message]
 *
 * Public helpers are named kt_*; keeltest_result() and keel_hypercall*()
 * keep the names the 32-bit runtime and the ABI documents use.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/abi.h>
#include <keel/arch-x86_64.h>
#include <keel/console.h>
#include <keel/control.h>
#include <keel/device_table.h>
#include <keel/errno.h>
#include <keel/event_channel.h>
#include <keel/grant_table.h>
#include <keel/hypercall.h>
#include <keel/io/device.h>
#include <keel/memory.h>
#include <keel/sched.h>
#include <keel/shared_info.h>
#include <keel/start_info.h>
#include <keel/vcpu.h>

#define KT_PAGE_ALIGNED		__attribute__((aligned(KEEL_PAGE_SIZE)))
#define KT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define KT_GPA(p)		((uint64_t)(uintptr_t)(p))
#define KT_PTR(gpa)		((void *)(uintptr_t)(gpa))
#define KT_NS_PER_MS		((uint64_t)1000000)
#define KT_NS_PER_S		((uint64_t)1000000000)

/* The IDT vector the event helpers use for KEEL_UPCALL_VECTOR. */
#define KT_UPCALL_VECTOR	0xf0
/* vCPUs the runtime keeps a keel_vcpu_info for. */
#define KT_MAX_VCPUS		8
/* A guest-physical address never RAM in the Keel 1.0 layout (the hole below the PCI range). */
#define KT_GPA_NOT_RAM		((uint64_t)0xd0000000)

/* What every test kernel defines. */
extern const char test_name[];
void test_main(void);
/* Optional: runs after the hypercall page is installed and before KEEL_HC_IDENTIFY. */
void test_pre_identify(void) __attribute__((weak));
/*
 * Optional: a kernel that does the rest of the start of day itself (the
 * pvdrivers reference port, guest-support/reference: kpv_start() identifies,
 * maps the shared info page and registers vCPU info) defines this as true.
 * test_main() then runs right after the hypercall page is installed, and
 * console output stays buffered until it calls kt_console_identified().
 */
extern const bool kt_own_start_of_day __attribute__((weak));
void kt_console_identified(void);

/* Results. */
enum keeltest_result {
	KEELTEST_SUCCESS,
	KEELTEST_SKIP,
	KEELTEST_ERROR,
	KEELTEST_FAILURE,
};

void keeltest_result(const char *name, enum keeltest_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Numbered checks. A group is one test: kt_group_begin() names it, each
 * kt_check*() is numbered in order (1, 2, ...), a failed check prints a
 * detail line at once, and kt_group_end() prints the group's one keeltest
 * line: SUCCESS with the number of checks, or FAILURE naming the first
 * failed check. Output before identification is buffered and appears after.
 */
void kt_group_begin(const char *name);
bool kt_check(bool ok, const char *what, const char *fmt,
	      ...) __attribute__((format(printf, 3, 4)));
bool kt_check_rc(const char *what, long got, long want);
bool kt_check_eq(const char *what, uint64_t got, uint64_t want);
void kt_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned int kt_group_failed(void);
void kt_group_end(void);
/* The test an unexpected exception is blamed on. */
extern const char *kt_current;

/* Console output (KEEL_HC_CONSOLE_WRITE, buffered per line). */
void kt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kt_vprintf(const char *fmt, va_list ap);
int kt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void kt_console_flush(void);
const char *kt_errname(long rc);

/* Freestanding string functions (the compiler may also call the first four). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t kt_strlen(const char *s);
int kt_strcmp(const char *a, const char *b);
int kt_strncmp(const char *a, const char *b, size_t n);

/* Hypercalls: RAX number, RDI RSI RDX R10 R8 R9 arguments; RAX RCX R11 and arguments clobbered. */
extern uint8_t keel_hypercall_page[KEEL_PAGE_SIZE];

static inline long keel_hypercall6(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
				   uint64_t a3, uint64_t a4, uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a3;
	register uint64_t r8 __asm__("r8") = a4;
	register uint64_t r9 __asm__("r9") = a5;

	__asm__ volatile("call keel_hypercall_page"
			 : "+a"(nr), "+D"(a0), "+S"(a1), "+d"(a2), "+r"(r10), "+r"(r8), "+r"(r9)
			 :
			 : "rcx", "r11", "memory", "cc");
	return (long)nr;
}

#define keel_hypercall0(nr)		keel_hypercall6((nr), 0, 0, 0, 0, 0, 0)
#define keel_hypercall1(nr, a)		keel_hypercall6((nr), (a), 0, 0, 0, 0, 0)
#define keel_hypercall2(nr, a, b)	keel_hypercall6((nr), (a), (b), 0, 0, 0, 0)
#define keel_hypercall3(nr, a, b, c)	keel_hypercall6((nr), (a), (b), (c), 0, 0, 0)

/* Where Keel and the builder left things. */
struct kt_boot {
	uint64_t si_gpa;			/* RDI at entry */
	struct keel_start_info si;		/* a copy */
	bool si_valid;				/* magic and version were right */
	struct keel_memmap_entry memmap[64];	/* a copy */
	uint32_t nr_memmap;
	char cmdline[1024];			/* a copy, NUL-terminated */
	uint32_t cpuid_base;			/* B */
	uint32_t hypercall_msr;			/* CPUID B+1 ECX */
	uint32_t abi_version;			/* CPUID B+1 EBX */
	uint32_t features[KEEL_FEATURE_WORDS];	/* CPUID B+2 */
	uint32_t domid;				/* CPUID B+4 EBX */
	uint32_t nr_vcpus;			/* CPUID B+4 ECX */
	uint32_t tsc_khz;			/* CPUID B+3 EAX */
	uint64_t map_window_gpa;		/* KEEL_HC_MEMORY_QUERY */
	uint64_t map_window_pages;
	uint64_t shared_info_gpa;		/* where the runtime mapped it */
};

extern struct kt_boot kt_boot;
extern volatile struct keel_shared_info *kt_shared;
extern struct keel_vcpu_info kt_vcpu_info[KT_MAX_VCPUS];

/* The registers exactly as the builder left them at entry (start64.S fills it). */
struct kt_entry_state {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;	/* offsets 0 .. 56 */
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;		/* 64 .. 120 */
	uint64_t rflags;					/* 128 */
	uint64_t cr0, cr3, cr4;					/* 136, 144, 152 */
	uint16_t cs, ds, es, fs, gs, ss;			/* 160 .. 170 */
	uint16_t pad0[2];
	uint8_t gdtr[10];					/* 176 */
	uint8_t pad1[6];
	uint8_t idtr[10];					/* 192 */
	uint8_t pad2[6];
};

extern struct kt_entry_state kt_entry;

/* Start-of-day steps the runtime performs; tests may repeat them. */
long kt_identify(uint16_t major, uint16_t minor, uint32_t os_id);
long kt_register_vcpu_info(uint32_t vcpu);
void kt_shutdown(uint32_t reason) __attribute__((noreturn));
void kt_crash(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void kt_triple_fault(void) __attribute__((noreturn));
uint64_t kt_window_alloc(uint32_t pages);
bool kt_is_ram(uint64_t gpa, uint64_t len);
uint64_t kt_ram_end(void);

/* Command line: space-separated key=value words. */
bool kt_cmdline_str(const char *key, char *buf, size_t len);
uint64_t kt_cmdline_u64(const char *key, uint64_t dflt);

/* CPU helpers. */
struct kt_cpuid {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct kt_cpuid kt_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct kt_cpuid r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t kt_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void kt_cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void kt_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void kt_irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/*
 * Faults a test provokes on purpose. Arming stores a resume address in
 * kt_fault_resume; the exception handler then records the vector, error
 * code and RIP in kt_fault, disarms, and resumes at that address with every
 * other register as it was. An exception while disarmed is a FAILURE of the
 * current test and crashes the domain.
 */
struct kt_fault {
	uint64_t hit;		/* 1 when an armed fault was taken */
	uint64_t vector;
	uint64_t error;
	uint64_t rip;
	uint64_t cr2;
};

extern volatile struct kt_fault kt_fault;
extern volatile uint64_t kt_fault_resume;

static inline void kt_fault_reset(void)
{
	kt_fault.hit = 0;
	kt_fault.vector = ~0ull;
	kt_fault.error = ~0ull;
	kt_fault.rip = 0;
}

/* rdmsr/wrmsr that report a #GP instead of crashing: true when the instruction faulted. */
bool kt_rdmsr_safe(uint32_t msr, uint64_t *val);
bool kt_wrmsr_safe(uint32_t msr, uint64_t val);

/*
 * Running one instruction under test with every general register chosen
 * (kt_insn_run.in) and read back (kt_insn_run.out). KT_INSN_FN(fn, text)
 * defines `void fn(struct kt_insn_run *)` around the instruction text; right
 * after it sit four one-byte `push %rbx`, so `sled` is 32 exactly when the
 * instruction resumed at its end (fewer when Keel skipped bytes, garbage
 * when it resumed early). insn_rip and next_rip are the instruction's first
 * byte (its first prefix) and the byte after it; a fault armed around the
 * instruction resumes at next_rip.
 */
struct kt_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;	/* 0 .. 48 */
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;	/* 56 .. 112 */
	uint64_t rflags;				/* 120 */
};

struct kt_insn_run {
	struct kt_regs in;	/* 0 */
	struct kt_regs out;	/* 128 */
	uint64_t insn_rip;	/* 256 */
	uint64_t next_rip;	/* 264 */
	uint64_t sled;		/* 272 */
};

#define KT_INSN_FN(fn, text)							\
	void fn(struct kt_insn_run *run);					\
	__asm__(".text\n\t.globl " #fn "\n\t.type " #fn ", @function\n"	\
		#fn ":\n\t"							\
		"pushq %rbx\n\tpushq %rbp\n\tpushq %r12\n\t"			\
		"pushq %r13\n\tpushq %r14\n\tpushq %r15\n\t"			\
		"movq %rdi, kt_insn_cur(%rip)\n\t"				\
		"leaq 1f(%rip), %rax\n\tmovq %rax, 256(%rdi)\n\t"		\
		"leaq 9f(%rip), %rax\n\tmovq %rax, 264(%rdi)\n\t"		\
		"movq %rsp, kt_insn_rsp(%rip)\n\t"				\
		"movq $9f, kt_fault_resume(%rip)\n\t"				\
		"pushq 120(%rdi)\n\tpopfq\n\t"					\
		"movq 8(%rdi), %rbx\n\tmovq 16(%rdi), %rcx\n\t"			\
		"movq 24(%rdi), %rdx\n\tmovq 32(%rdi), %rsi\n\t"		\
		"movq 48(%rdi), %rbp\n\tmovq 56(%rdi), %r8\n\t"			\
		"movq 64(%rdi), %r9\n\tmovq 72(%rdi), %r10\n\t"			\
		"movq 80(%rdi), %r11\n\tmovq 88(%rdi), %r12\n\t"		\
		"movq 96(%rdi), %r13\n\tmovq 104(%rdi), %r14\n\t"		\
		"movq 112(%rdi), %r15\n\tmovq 0(%rdi), %rax\n\t"		\
		"movq 40(%rdi), %rdi\n"						\
		"1:\t" text "\n"						\
		"9:\tpushq %rbx\n\tpushq %rbx\n\tpushq %rbx\n\tpushq %rbx\n\t"	\
		"movq $0, kt_fault_resume(%rip)\n\t"				\
		"movq %rsp, kt_insn_rsp_after(%rip)\n\t"			\
		"movq kt_insn_rsp(%rip), %rsp\n\t"				\
		"pushfq\n\tpushq %rdi\n\t"					\
		"movq kt_insn_cur(%rip), %rdi\n\t"				\
		"movq %rax, 128(%rdi)\n\tmovq %rbx, 136(%rdi)\n\t"		\
		"movq %rcx, 144(%rdi)\n\tmovq %rdx, 152(%rdi)\n\t"		\
		"movq %rsi, 160(%rdi)\n\tmovq %rbp, 176(%rdi)\n\t"		\
		"movq %r8, 184(%rdi)\n\tmovq %r9, 192(%rdi)\n\t"		\
		"movq %r10, 200(%rdi)\n\tmovq %r11, 208(%rdi)\n\t"		\
		"movq %r12, 216(%rdi)\n\tmovq %r13, 224(%rdi)\n\t"		\
		"movq %r14, 232(%rdi)\n\tmovq %r15, 240(%rdi)\n\t"		\
		"popq %rax\n\tmovq %rax, 168(%rdi)\n\t"				\
		"popq %rax\n\tmovq %rax, 248(%rdi)\n\t"				\
		"movq kt_insn_rsp(%rip), %rax\n\t"				\
		"subq kt_insn_rsp_after(%rip), %rax\n\t"			\
		"movq %rax, 272(%rdi)\n\t"					\
		"pushq $2\n\tpopfq\n\t"						\
		"popq %r15\n\tpopq %r14\n\tpopq %r13\n\t"			\
		"popq %r12\n\tpopq %rbp\n\tpopq %rbx\n\t"			\
		"ret\n\t.size " #fn ", . - " #fn "\n")

/* RFLAGS for kt_insn_run.in: reserved bit 1 only (IF = 0, DF = 0). */
#define KT_RFLAGS_BASE		0x2ull
#define KT_RFLAGS_DF		0x400ull
#define KT_RFLAGS_IF		0x200ull
#define KT_RFLAGS_CF		0x1ull

/* Runs fn on a copy of in, with the fault record reset first. */
void kt_insn_exec(void (*fn)(struct kt_insn_run *), struct kt_insn_run *run);

/* Time (after kt_register_vcpu_info; docs/abi/hypercalls.md "Domain system time"). */
uint64_t kt_now_ns(void);
uint64_t kt_time_ns(const volatile struct keel_vcpu_time_info *t);
uint64_t kt_tsc_to_ns(uint64_t ticks);
void kt_runstate(struct keel_vcpu_runstate *out);
uint64_t kt_running_ns(void);
long kt_set_timer(uint64_t deadline_ns);
long kt_block(void);
long kt_sleep_ns(uint64_t ns);
void kt_spin_ns(uint64_t ns);

/* Event channels (ports below 4096, in the shared info page). */
bool kt_port_pending(uint32_t port);
void kt_port_clear(uint32_t port);
bool kt_port_masked(uint32_t port);
void kt_port_mask(uint32_t port);
void kt_port_unmask_local(uint32_t port);
long kt_poll(const uint32_t *ports, uint32_t nr_ports, uint64_t deadline_ns);
long kt_wait_port(uint32_t port, uint64_t timeout_ns);
long kt_evtchn_alloc_unbound(uint32_t remote_domid);
long kt_evtchn_bind_interdomain(uint32_t remote_domid, uint32_t remote_port);
long kt_evtchn_bind_virq(uint32_t virq, uint32_t vcpu);
long kt_evtchn_bind_ipi(uint32_t vcpu);
long kt_evtchn_send(uint32_t port);
long kt_evtchn_close(uint32_t port);
long kt_evtchn_status(uint32_t port, struct keel_evtchn_status *out);
long kt_set_upcall(uint32_t vcpu, uint32_t mode, uint32_t vector);
void kt_lapic_enable(void);
void kt_lapic_eoi(void);

typedef void (*kt_port_handler)(uint32_t port, void *ctx);
unsigned int kt_evtchn_scan(uint32_t vcpu, kt_port_handler fn, void *ctx);
/*
 * Point IDT entry @vector (not 0..31 or KT_UPCALL_VECTOR, the runtime's) at
 * an assembly stub that ends in iretq: a 64-bit interrupt gate, DPL 0.
 */
void kt_idt_set(unsigned int vector, void (*handler)(void));
/* The handler the KT_UPCALL_VECTOR interrupt scans with (NULL: the ports are only cleared). */
void kt_set_upcall_handler(kt_port_handler fn, void *ctx);
extern volatile uint64_t kt_upcall_count;

/* Grant table frames mapped into the map window by kt_gnttab_init(). */
extern volatile struct keel_grant_entry *kt_grants;
long kt_gnttab_init(uint32_t frames);
void kt_grant(uint32_t ref, uint32_t domid, uint64_t gfn, bool readonly);
void kt_grant_end(uint32_t ref);

/* The device table and a minimal reader of FDT blobs. */
struct kt_fdt {
	const uint8_t *blob;
	uint32_t size;
	uint32_t off_struct;
	uint32_t size_struct;
	uint32_t off_strings;
	uint32_t size_strings;
};

extern uint8_t kt_dt_blob[KEEL_DT_MAX_SIZE];
long kt_devtable_read(uint8_t *dst, uint32_t cap);
int kt_fdt_init(struct kt_fdt *f, const void *blob, uint32_t size);
int kt_fdt_root(const struct kt_fdt *f);
int kt_fdt_first_child(const struct kt_fdt *f, int node);
int kt_fdt_next_sibling(const struct kt_fdt *f, int node);
int kt_fdt_subnode(const struct kt_fdt *f, int node, const char *name);
int kt_fdt_path(const struct kt_fdt *f, const char *path);
const char *kt_fdt_name(const struct kt_fdt *f, int node);
const void *kt_fdt_prop(const struct kt_fdt *f, int node, const char *name, uint32_t *len);
bool kt_fdt_u32(const struct kt_fdt *f, int node, const char *name, uint32_t *out);
const char *kt_fdt_string(const struct kt_fdt *f, int node, const char *name);
bool kt_domain_name(char *buf, size_t len);

static inline uint32_t kt_be32(const void *p)
{
	const uint8_t *b = p;

	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

#endif /* KEELTEST64_H */
