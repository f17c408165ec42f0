/* SPDX-License-Identifier: MIT */
/* core/panic.c - panics, clean halts and the boot verdict marker. */
#include <stdarg.h>
#include <arch/arch.h>
#include <keel/format.h>
#include <keel/log.h>
#include <keel/panic.h>
#include <keel/symbols.h>

#define BACKTRACE_MAX	32

static bool emulator_exit;
static int panicking;

static const char *const verdict_names[] = {
	[VERDICT_SUCCESS] = "SUCCESS",
	[VERDICT_FAILURE] = "FAILURE",
	[VERDICT_ERROR] = "ERROR",
	[VERDICT_SKIP] = "SKIP",
	[VERDICT_HALTED] = "HALTED",
	[VERDICT_PANIC] = "PANIC",
};

void verdict_set_emulator_exit(bool on)
{
	emulator_exit = on;
}

void verdict_report(enum verdict v, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	format_v(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("KEEL-VERDICT: %s %s\n", verdict_names[v], msg);
	if (emulator_exit) {
		arch_debug_exit((unsigned int)v);
	}
}

void halt_cleanly(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	format_v(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err("%s", msg);
	log_err("Keel cannot continue on this machine; halting (safe to power off)");
	arch_stop_other_cpus();
	verdict_report(VERDICT_HALTED, "%s", msg);
	arch_cpu_halt();
}

void backtrace_print(const uintptr_t *pcs, size_t n, bool first_is_exact)
{
	log_raw("backtrace:\n");
	for (size_t i = 0; i < n; i++) {
		/*
		 * A return address may point just past a call that ends its
		 * function (calls to noreturn functions): name the call instead.
		 */
		bool is_return = i > 0 || !first_is_exact;
		uintptr_t off = 0;
		const char *name = symbol_lookup(pcs[i] - is_return, &off);

		off += is_return;

		log_raw("  #%zu %#018lx %s+%#lx\n", i, (unsigned long)pcs[i],
			name ? name : "?", (unsigned long)off);
	}
}

void panic_backtrace(void)
{
	uintptr_t pcs[BACKTRACE_MAX];

	backtrace_print(pcs, arch_backtrace(pcs, BACKTRACE_MAX), false);
}

bool panic_enter(void)
{
	arch_irq_save();
	if (__atomic_fetch_add(&panicking, 1, __ATOMIC_SEQ_CST) > 0) {
		return false;
	}
	log_force_unlock();
	arch_stop_other_cpus();
	return true;
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	/* A panic inside the panic path, or on a second CPU: just stop. */
	if (!panic_enter()) {
		arch_cpu_halt();
	}
	va_start(ap, fmt);
	format_v(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_raw("\n*** KEEL PANIC on cpu%u: %s\n", arch_cpu_index(), msg);
	panic_backtrace();
	verdict_report(VERDICT_PANIC, "cpu%u: %s", arch_cpu_index(), msg);
	arch_cpu_halt();
}
