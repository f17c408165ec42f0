/* SPDX-License-Identifier: MIT */
/*
 * arch/host/fake_arch.h - what unit tests control and observe in the fake arch.
 *
 * arch/host implements include/arch/arch.h on the host's C library, so the
 * real core code runs under CUnit: the console is captured in memory,
 * "physical memory" is one large anonymous mapping (fake RAM), the CPU index
 * and the clock are whatever a test sets, and arch_cpu_halt() hands control
 * back to the test instead of stopping. Single-threaded: a spinlock found
 * taken means a lock was left held, and the fake aborts rather than spin.
 *
 * The symbol table (ksyms) is a fixed fake one, see arch/host/ksyms.c.
 * KEEL_TEST_VERBOSE=1 in the environment also copies the console to stdout.
 */
#ifndef KEEL_ARCH_HOST_FAKE_ARCH_H
#define KEEL_ARCH_HOST_FAKE_ARCH_H

#include <setjmp.h>
#include <arch/arch.h>

/* Fake RAM backs physical addresses [0, FAKE_RAM_SIZE); others abort. */
#define FAKE_RAM_SIZE		MiB(2304)

/*
 * arch_map_window(): deliberately not x86's values, so a core that wrote
 * those in by hand would fail its tests.
 */
#define FAKE_MAP_WINDOW_GPA	0xd0000000ull
#define FAKE_MAP_WINDOW_SIZE	0x02000000ull

/*
 * arch_gfn_is_platform(): like x86, the MMIO hole below 4 GiB minus the
 * map window (which lies inside it).
 */
#define FAKE_PLATFORM_GPA	0xc0000000ull
#define FAKE_PLATFORM_END	0x100000000ull

/* Console bytes kept; later ones are counted in console_dropped. */
#define FAKE_CONSOLE_SIZE	(1024 * 1024)

/* Console input bytes that may wait to be read (arch_console_getc()). */
#define FAKE_INPUT_SIZE		4096

/** What tests set and what the fake saw; fake_arch_reset() restores it. */
struct fake_arch {
	/* Set by tests. */
	unsigned int cpu_index;		/* arch_cpu_index(), default 0 */
	unsigned int cpu_count;		/* arch_cpu_count(), default 1 */
	uint64_t time_ns;		/* arch_time_ns(), default 0 */
	unsigned int start_cpus_result;	/* arch_start_cpus(), default 1 */
	int virt_enable_result;		/* arch_virt_enable(), default 0 */
	int probe_guest_result;		/* arch_run_probe_guest(), default 0 */
	int p2m_set_fail_after;		/* arch_p2m_set() fails once, after this
					 * many more succeeded (then it is -1
					 * again); -1 (default): never */
	bool domain_create_fails;	/* arch_domain_create() says ENOMEM */
	int vcpu_create_fail_after;	/* like p2m_set_fail_after */
	unsigned int p2m_max_order;	/* arch_p2m_max_order(), default 18 */
	/* Called first by every arch_p2m_set(): a test acting in mid-call. */
	void (*p2m_set_hook)(struct domain *d, uint64_t gfn);
	/*
	 * Linux images: arch_linux_image_parse() and arch_linux_boot() call
	 * these when set (tests plug in the real x86 code); unset, no image
	 * is a Linux image and arch_linux_boot() refuses.
	 */
	int (*linux_image_parse)(const void *data, size_t size, struct arch_linux_image *li,
				 const char **why);
	int (*linux_boot)(struct domain *d, const struct arch_linux_boot *lb,
			  struct arch_linux_placed *out);
	unsigned int platform_populates;	/* arch_platform_populate() calls */

	/* Recorded by the fake. */
	bool irqs_off;			/* after arch_irq_save(), until restored */
	unsigned int halts;		/* arch_cpu_halt() calls */
	unsigned int idles;
	unsigned int stop_other_cpus;
	unsigned int debug_exits;
	unsigned int debug_exit_code;	/* the last one */
	unsigned int faults;		/* arch_fault_on_purpose() calls */
	char fault_kind[32];		/* the last kind asked for */
	unsigned int setups;
	unsigned int start_cpus_calls;
	unsigned int virt_enables;
	unsigned int probe_guest_runs;
	size_t console_dropped;		/* bytes past FAKE_CONSOLE_SIZE */
	int arch_domains;		/* live arch domain states */
	int arch_vcpus;			/* live arch vCPU states */
	uint64_t p2m_pages;		/* pages mirrored now (set minus cleared) */
	uint64_t timer_deadline;	/* the last arch_timer_program() */
	unsigned int kicks;		/* arch_cpu_kick() calls */
	unsigned int vcpu_notifies;	/* arch_vcpu_notify() calls */
	unsigned int vcpu_boots;	/* arch_vcpu_boot() calls */
	struct arch_boot_entry last_boot;	/* what the last one was given */
	unsigned int p2m_large_sets;	/* 2 MiB mappings mirrored */
	unsigned int p2m_huge_sets;	/* 1 GiB mappings mirrored */
	unsigned int p2m_errors;	/* sets over a mapping, clears of nothing */
};

extern struct fake_arch fake;

/* Defaults in fake, an empty console, no halt target, read copies freed. */
void fake_arch_reset(void);

/* The console so far (NUL-terminated), and whether it contains @needle. */
const char *fake_console(void);
size_t fake_console_len(void);
bool fake_console_has(const char *needle);
void fake_console_clear(void);

/*
 * Type @s on the console: arch_console_getc() returns its bytes in order,
 * then -1. Input not yet read is dropped by fake_arch_reset(), not by
 * fake_console_clear().
 */
void fake_console_input(const char *s);

/*
 * What the second stage maps at @gfn of @d, as mirrored by arch_p2m_set()
 * and arch_p2m_clear(): what the guest would see. False if nothing.
 */
bool fake_p2m_lookup(const struct domain *d, uint64_t gfn, paddr_t *pa, uint32_t *rights);

/* Zero all of fake RAM (cheaply: the pages are dropped, not written). */
void fake_ram_reset(void);

/*
 * A reader for the x86 parsers (phys_reader, acpi_reader): returns a heap
 * copy of exactly @len bytes at @pa, so AddressSanitizer catches any read
 * past what the parser asked for. NULL outside fake RAM or for @len 0.
 * Copies stay valid until fake_phys_read_release() or fake_arch_reset().
 */
const void *fake_phys_read(uint64_t pa, size_t len);
void fake_phys_read_release(void);

/*
 * Halting. If fake_halt_jmp is set, arch_cpu_halt() longjmps to it;
 * otherwise it aborts the test program.
 */
extern jmp_buf *fake_halt_jmp;

/* Run fn(arg) in this process; true if it reached arch_cpu_halt(). */
bool fake_run_until_halt(void (*fn)(void *), void *arg);

enum fake_outcome {
	FAKE_RETURNED,		/* fn returned */
	FAKE_HALTED,		/* fn reached arch_cpu_halt() */
	FAKE_CRASHED,		/* the child died (signal, sanitizer report) */
};

/*
 * Run fn(arg) in a forked child, for code that halts with state the test
 * process must not inherit: panic() works once per process, and a panic
 * may leave a data structure half-updated. Afterwards the console and the
 * records in fake are the child's; its other changes are gone.
 */
enum fake_outcome fake_run_isolated(void (*fn)(void *), void *arg);

#endif
