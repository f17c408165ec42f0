/* SPDX-License-Identifier: MIT */
/*
 * core/schedule.c - each CPU's loop (pick a vCPU, run it, halt when there
 * is nothing to run) and the boot-time policy for domains that end.
 *
 * A CPU holds a reference to the domain of the vCPU it runs, from the
 * switch to it until the switch away has completed (sched_switch_done()),
 * so a domain destroyed while one of its vCPUs runs is freed by that CPU,
 * after the vCPU has left it for good.
 */
#include <arch/arch.h>
#include <keel/bootcfg.h>
#include <keel/console.h>
#include <keel/control.h>
#include <keel/format.h>
#include <keel/log.h>
#include <keel/log_notify.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/restart.h>
#include <keel/sched.h>
#include <keel/schedule.h>
#include <keel/timer.h>
#include <keel/vcpu.h>
#include <public/keel/sched.h>

static bool started;			/* (atomic) */
static bool baseline_set;		/* (atomic) boot domains were built */
static bool all_gone_reported;		/* (atomic) */
static uint64_t baseline_pages;

void schedule_kick(unsigned int cpu)
{
	if (cpu != arch_cpu_index()) {
		arch_cpu_kick(cpu);
	}
}

bool schedule_started(void)
{
	return __atomic_load_n(&started, __ATOMIC_ACQUIRE);
}

void schedule_set_page_baseline(uint64_t free_pages, unsigned int domains)
{
	baseline_pages = free_pages;
	__atomic_store_n(&baseline_set, domains > 0, __ATOMIC_RELEASE);
}

/*
 * Once every boot-time domain is gone: did every page come back? A domain
 * being restarted is not gone: its restart is counted before the old one
 * is destroyed and until the new one exists, so reading that count first
 * cannot miss it in between.
 */
static void check_all_gone(void)
{
	uint64_t free_now;

	if (!__atomic_load_n(&baseline_set, __ATOMIC_ACQUIRE) || restart_outstanding() != 0 ||
	    domain_objects() != 0 ||
	    __atomic_exchange_n(&all_gone_reported, true, __ATOMIC_ACQ_REL)) {
		return;
	}
	free_now = page_alloc_free_count();
	log_info("all domains have ended: %llu pages free, %llu before they were built",
		 (unsigned long long)free_now, (unsigned long long)baseline_pages);
	if (free_now != baseline_pages) {
		verdict_report(VERDICT_FAILURE, "%lld pages were not returned by the domains",
			       (long long)(baseline_pages - free_now));
	} else {
		verdict_report(VERDICT_SUCCESS, "every domain ended and every page came back");
	}
}

/* The vCPU of a picked entity; NULL for none and for the restart worker. */
static struct vcpu *vcpu_of(struct sched_entity *e)
{
	return e && !restart_is_worker(e) ? container_of(e, struct vcpu, sched) : NULL;
}

static NORETURN void loop(void)
{
	unsigned int cpu = arch_cpu_index();
	struct vcpu *current = NULL;

	for (;;) {
		unsigned long flags = arch_irq_save();
		uint64_t now = arch_time_ns();
		uint64_t slice = 0;
		struct sched_entity *e = sched_pick(cpu, now, &slice);
		struct vcpu *next = vcpu_of(e);
		struct vcpu *prev = current;

		if (next != prev && next) {
			domain_ref(next->domain);
		}
		sched_switch_done(cpu);
		current = next;
		timer_set_slice_end(slice ? now + slice : 0);
		if (next != prev && prev) {
			domain_put(prev->domain);	/* may free it: it is off every CPU */
		}
		check_all_gone();
		if (cpu == 0) {
			console_poll_input();	/* serial input, partial lines */
			log_notify_poll(now);	/* KEEL_VIRQ_LOG */
		}
		if (!e) {
			if (!sched_need_resched(cpu)) {
				arch_cpu_idle();	/* sti; hlt: no wake-up lost */
			}
			arch_irq_restore(flags);
			continue;
		}
		arch_irq_restore(flags);
		if (!next) {
			restart_worker_run();	/* may build a domain: seconds */
			continue;
		}
		vcpu_before_entry(next);
		arch_vcpu_run(next);
	}
}

void schedule_enter(void)
{
	loop();
}

void schedule_start(void)
{
	__atomic_store_n(&started, true, __ATOMIC_RELEASE);
	for (unsigned int cpu = 0; cpu < arch_cpu_count(); cpu++) {
		schedule_kick(cpu);
	}
	schedule_enter();
}

static const char *reason_name(uint32_t reason)
{
	switch (reason) {
	case KEEL_SHUTDOWN_POWEROFF:
		return "powered off";
	case KEEL_SHUTDOWN_REBOOT:
		return "asked to reboot";
	case KEEL_SHUTDOWN_SUSPEND:
		return "suspended";
	case KEEL_SHUTDOWN_CRASH:
		return "crashed";
	default:
		return "shut down";
	}
}

void domain_ended(struct domain *d, uint32_t reason, const char *why)
{
	if (domain_shutdown(d, reason) != 0) {
		return;	/* already ending */
	}
	if (reason == KEEL_SHUTDOWN_CRASH) {
		log_err("domain %u '%s' crashed: %s", d->domid, d->name, why);
	} else if (why && why[0]) {
		log_info("domain %u '%s' %s (%s)", d->domid, d->name, reason_name(reason), why);
	} else {
		log_info("domain %u '%s' %s", d->domid, d->name, reason_name(reason));
	}
	ctl_domain_state_changed(d);	/* controllers get KEEL_VIRQ_DOMAIN_STATE */
	/*
	 * A domain a controller created stays shut down, memory and all, until
	 * that controller destroys it: it may inspect a crash first
	 * (docs/abi/control.md). Boot-time domains: as their configuration
	 * says (core/restart.c: destroyed, restarted - the restart is queued
	 * before the old domain goes - or kept).
	 */
	if (d->creator == KEEL_DOMID_NONE && restart_on_end(d, reason) != END_PRESERVE) {
		domain_destroy(d);
	}
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	format_v(why, sizeof(why), fmt, ap);
	va_end(ap);
	domain_ended(d, KEEL_SHUTDOWN_CRASH, why);
}
