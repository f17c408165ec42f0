/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_control.c - unit tests for core/control.c: each
 * control call's rights, order of checks, lookups, struct checks and
 * results, and that every page comes back.
 *
 * Domains are real ones from domain_create() with a little RAM: guest page
 * 1 is a buffer, page 2 holds the control structs. The functions are
 * called as the dispatcher would, after its checks 1-3.
 */
#include <keel/control.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/log.h>
#include <keel/log_notify.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/vcpu.h>
#include <keel/version.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/sched.h>
#include <public/keel/shared_info.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	16
#define MAX_PAGES	64
#define BUF_GPA		0x1000ull	/* a guest page for buffers */
#define CTL_GPA		0x2000ull	/* a guest page for control structs */
#define NO_RAM_GPA	((uint64_t)RAM_PAGES << PAGE_SHIFT)	/* just past the RAM */
#define UNKNOWN		0x7ffffff0u	/* a domid nobody has */
#define UNCHANGED	KEEL_CTL_SCHED_UNCHANGED

static struct keel_ctl_domain_list list;	/* a page: too big for the stack */

static void setup(void)
{
	unit_reset_counted();
}

static struct domain *make_child(const char *name, uint32_t caps, uint32_t creator)
{
	struct domain_params p = {
		.name = name, .caps = caps, .creator = creator, .vcpu_count = 2,
		.max_pages = MAX_PAGES,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	d->identified = true;
	return d;
}

static struct domain *make(const char *name, uint32_t caps)
{
	return make_child(name, caps, KEEL_DOMID_NONE);
}

static void finish(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

/* For a domain a call may have destroyed already. */
static void finish_any(struct domain *d)
{
	(void)domain_destroy(d);
	domain_put(d);
}

static void put(struct domain *d, uint64_t gpa, const void *p, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(d, gpa, p, len), 0);
}

static void get(struct domain *d, uint64_t gpa, void *p, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(d, gpa, p, len), 0);
}

static uint32_t bind(struct domain *d, uint32_t virq)
{
	long port = evtchn_bind_virq(d->evtchn, virq, 0);

	CU_ASSERT_FATAL(port > 0);
	return (uint32_t)port;
}

/* Whether @port of @d is pending; clears it, so the next look sees news. */
static bool take_pending(struct domain *d, uint32_t port)
{
	uint64_t bit = 1ull << (port % 64);
	uint64_t *word = &d->shared_info->evtchn_pending[port / 64];
	bool was = (*word & bit) != 0;

	*word &= ~bit;
	return was;
}

/* --- host info -------------------------------------------------------------- */

static void test_host_info(void)
{
	struct domain *none = make("hi-none", 0);
	struct domain *mgr = make("hi-mgr", KEEL_CAP_CREATE);
	struct keel_ctl_host_info info;

	CU_ASSERT_EQUAL(ctl_hc_host_info(none, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_host_info(mgr, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_host_info(mgr, CTL_GPA + PAGE_SIZE - 8), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_host_info(mgr, NO_RAM_GPA), -KEEL_EFAULT);

	memset(&info, 0xa5, sizeof(info));
	put(mgr, CTL_GPA, &info, sizeof(info));
	fake.cpu_count = 3;
	CU_ASSERT_EQUAL(ctl_hc_host_info(mgr, CTL_GPA), 0);
	get(mgr, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.abi_major, KEEL_ABI_MAJOR);
	CU_ASSERT_EQUAL(info.abi_minor, KEEL_ABI_MINOR);
	CU_ASSERT_EQUAL(info.nr_pcpus, 3);
	CU_ASSERT_EQUAL(info.total_pages, page_alloc_total_count());
	CU_ASSERT_EQUAL(info.free_pages, page_alloc_free_count());
	CU_ASSERT_EQUAL(info.tsc_khz, 1000000);		/* the fake's TSC runs at 1 GHz */
	CU_ASSERT_EQUAL(info.nr_domains, 2);
	CU_ASSERT_STRING_EQUAL((const char *)info.version, KEEL_VERSION);
	for (size_t i = sizeof(KEEL_VERSION); i < sizeof(info.version); i++) {
		CU_ASSERT_EQUAL(info.version[i], 0);
	}
	CU_ASSERT_EQUAL(info.features[0], mgr->features);
	CU_ASSERT_EQUAL(info.features[1] | info.features[2] | info.features[3], 0);
	CU_ASSERT_EQUAL(info.max_vcpus, DOMAIN_MAX_VCPUS);
	CU_ASSERT_EQUAL(info.pad0, 0);
	finish(none);
	finish(mgr);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- lifecycle ------------------------------------------------------------------ */

static void test_destroy(void)
{
	struct domain *ctl = make("ds-ctl", KEEL_CAP_CONTROL);
	struct domain *mgr = make("ds-mgr", KEEL_CAP_CREATE);
	struct domain *none = make("ds-none", 0);
	struct domain *child = make_child("ds-child", 0, mgr->domid);
	struct domain *other = make("ds-other", 0);

	/* "Not self" is an argument check: it comes before any right. */
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(none, none->domid), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(none, KEEL_DOMID_SELF), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(ctl, ctl->domid), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(none, other->domid), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(none, UNKNOWN), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(mgr, other->domid), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(mgr, UNKNOWN), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(ctl, UNKNOWN), -KEEL_ESRCH);

	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(mgr, child->domid), 0);
	CU_ASSERT_EQUAL(child->state, DOMAIN_DYING);
	CU_ASSERT_PTR_NULL(domain_get(child->domid));
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(mgr, child->domid), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(ctl, other->domid), 0);
	CU_ASSERT_EQUAL(domain_count(), 3);
	domain_put(child);
	domain_put(other);
	finish(ctl);
	finish(mgr);
	finish(none);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_pause_unpause(void)
{
	struct domain *ctl = make("pu-ctl", KEEL_CAP_CONTROL);
	struct domain *none = make("pu-none", 0);
	struct domain *d = make("pu-d", 0);

	CU_ASSERT_EQUAL(ctl_hc_domain_pause(none, KEEL_DOMID_SELF), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(none, none->domid), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(none, d->domid), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(none, d->domid), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(ctl, UNKNOWN), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, UNKNOWN), -KEEL_ESRCH);

	/* A flag, not a count: both directions are idempotent. */
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(ctl, d->domid), 0);	/* created paused */
	CU_ASSERT_EQUAL(d->state, DOMAIN_PAUSED);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, d->domid), 0);
	CU_ASSERT_EQUAL(d->state, DOMAIN_RUNNING);
	CU_ASSERT_FALSE(d->sched.paused);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, d->domid), 0);
	CU_ASSERT_EQUAL(d->state, DOMAIN_RUNNING);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(ctl, d->domid), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(ctl, d->domid), 0);
	CU_ASSERT_EQUAL(d->state, DOMAIN_PAUSED);
	CU_ASSERT_TRUE(d->sched.paused);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, d->domid), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(ctl, d->domid), 0);
	CU_ASSERT_TRUE(d->sched.paused);
	finish(ctl);
	finish(none);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_unpause_after_shutdown(void)
{
	struct domain *ctl = make("us-ctl", KEEL_CAP_CONTROL);
	struct domain *off = make("us-off", 0);
	struct domain *susp = make("us-susp", 0);

	CU_ASSERT_EQUAL(domain_unpause(off), 0);
	CU_ASSERT_EQUAL(domain_shutdown(off, KEEL_SHUTDOWN_POWEROFF), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(ctl, off->domid), 0);	/* nothing runs anyway */
	CU_ASSERT_EQUAL(off->state, DOMAIN_SHUTDOWN);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, off->domid), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(off->state, DOMAIN_SHUTDOWN);

	/* A suspended domain resumes: same instance, running again. */
	CU_ASSERT_EQUAL(domain_unpause(susp), 0);
	CU_ASSERT_EQUAL(domain_shutdown(susp, KEEL_SHUTDOWN_SUSPEND), 0);
	CU_ASSERT_TRUE(susp->sched.paused);
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, susp->domid), 0);
	CU_ASSERT_EQUAL(susp->state, DOMAIN_RUNNING);
	CU_ASSERT_EQUAL(susp->shutdown_reason, KEEL_SHUTDOWN_NONE);
	CU_ASSERT_FALSE(susp->sched.paused);
	finish(ctl);
	finish(off);
	finish(susp);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_shutdown_checks(void)
{
	struct domain *ctl = make("sc-ctl", KEEL_CAP_CONTROL);
	struct domain *none = make("sc-none", 0);
	struct domain *d = make("sc-d", 0);
	uint32_t id = d->domid;

	/* Argument checks come before the right. */
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(none, id, KEEL_SHUTDOWN_NONE, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(none, id, KEEL_SHUTDOWN_CRASH + 1, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(none, id, KEEL_SHUTDOWN_POWEROFF, 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(none, id, KEEL_SHUTDOWN_CRASH, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(none, KEEL_DOMID_SELF, KEEL_SHUTDOWN_POWEROFF, 0),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, ctl->domid, KEEL_SHUTDOWN_POWEROFF,
					       KEEL_CTL_SHUTDOWN_F_FORCE), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(none, id, KEEL_SHUTDOWN_POWEROFF, 0), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, UNKNOWN, KEEL_SHUTDOWN_POWEROFF, 0),
			-KEEL_ESRCH);
	/* A domain shut down already: EBUSY, with or without FORCE. */
	CU_ASSERT_EQUAL(domain_unpause(d), 0);
	CU_ASSERT_EQUAL(domain_shutdown(d, KEEL_SHUTDOWN_REBOOT), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, id, KEEL_SHUTDOWN_POWEROFF, 0), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, id, KEEL_SHUTDOWN_CRASH,
					       KEEL_CTL_SHUTDOWN_F_FORCE), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(d->shutdown_reason, KEEL_SHUTDOWN_REBOOT);
	CU_ASSERT_EQUAL(d->shared_info->shutdown_request, 0);
	finish(ctl);
	finish(none);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_shutdown_request(void)
{
	struct domain *ctl = make("sr-ctl", KEEL_CAP_CONTROL);
	struct domain *d = make("sr-d", 0);
	uint32_t port = bind(d, KEEL_VIRQ_SHUTDOWN_REQUEST);

	/* Asked, not forced: the domain keeps running and decides. */
	CU_ASSERT_EQUAL(domain_unpause(d), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, d->domid, KEEL_SHUTDOWN_REBOOT, 0), 0);
	CU_ASSERT_EQUAL(d->shared_info->shutdown_request, KEEL_SHUTDOWN_REBOOT);
	CU_ASSERT_TRUE(take_pending(d, port));
	CU_ASSERT_EQUAL(d->state, DOMAIN_RUNNING);
	/* A paused domain finds the request when it runs again. */
	CU_ASSERT_EQUAL(domain_pause(d), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, d->domid, KEEL_SHUTDOWN_SUSPEND, 0), 0);
	CU_ASSERT_EQUAL(d->shared_info->shutdown_request, KEEL_SHUTDOWN_SUSPEND);
	CU_ASSERT_TRUE(take_pending(d, port));
	CU_ASSERT_EQUAL(d->state, DOMAIN_PAUSED);
	finish(ctl);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_shutdown_force(void)
{
	struct domain *ctl = make("sf-ctl", KEEL_CAP_CONTROL);
	struct domain *run = make("sf-run", 0);
	struct domain *paused = make("sf-paused", 0);
	uint32_t port = bind(ctl, KEEL_VIRQ_DOMAIN_STATE);
	struct keel_ctl_domain_info info = { .domid = paused->domid };

	CU_ASSERT_EQUAL(domain_unpause(run), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, run->domid, KEEL_SHUTDOWN_CRASH,
					       KEEL_CTL_SHUTDOWN_F_FORCE), 0);
	/* Stopped with the reason (the boot policy may destroy it as well). */
	CU_ASSERT(run->state == DOMAIN_SHUTDOWN || run->state == DOMAIN_DYING);
	CU_ASSERT_EQUAL(run->shutdown_reason, KEEL_SHUTDOWN_CRASH);
	CU_ASSERT_TRUE(run->sched.paused);
	CU_ASSERT_TRUE(take_pending(ctl, port));

	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, paused->domid, KEEL_SHUTDOWN_POWEROFF,
					       KEEL_CTL_SHUTDOWN_F_FORCE), 0);
	CU_ASSERT_EQUAL(paused->state, DOMAIN_SHUTDOWN);
	CU_ASSERT_EQUAL(paused->shutdown_reason, KEEL_SHUTDOWN_POWEROFF);
	CU_ASSERT_EQUAL(paused->shared_info->shutdown_request, 0);	/* not asked: told */
	CU_ASSERT_TRUE(take_pending(ctl, port));
	put(ctl, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(ctl, CTL_GPA), 0);
	get(ctl, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.flags & (KEEL_DOMINFO_F_SHUTDOWN | KEEL_DOMINFO_F_PAUSED),
			KEEL_DOMINFO_F_SHUTDOWN);
	CU_ASSERT_EQUAL(info.shutdown_reason, KEEL_SHUTDOWN_POWEROFF);
	CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(ctl, paused->domid, KEEL_SHUTDOWN_POWEROFF,
					       KEEL_CTL_SHUTDOWN_F_FORCE), -KEEL_EBUSY);
	finish(ctl);
	finish_any(run);
	finish(paused);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- information ------------------------------------------------------------------ */

static void test_info_checks(void)
{
	struct domain *ctl = make("ic-ctl", KEEL_CAP_CONTROL);
	struct domain *none = make("ic-none", 0);
	struct keel_ctl_domain_info info = { .domid = ctl->domid };

	/* The struct names the target, so a bad struct is found first. */
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, CTL_GPA + PAGE_SIZE - 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, NO_RAM_GPA), -KEEL_EFAULT);
	put(none, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, CTL_GPA), -KEEL_EPERM);
	info.domid = UNKNOWN;
	put(none, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, CTL_GPA), -KEEL_EPERM);
	put(ctl, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(ctl, CTL_GPA), -KEEL_ESRCH);

	/* Itself needs no right, by id or as KEEL_DOMID_SELF (which stays). */
	info.domid = KEEL_DOMID_SELF;
	put(none, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, CTL_GPA), 0);
	get(none, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.domid, KEEL_DOMID_SELF);
	CU_ASSERT_STRING_EQUAL((const char *)info.name, "ic-none");
	CU_ASSERT_EQUAL(info.flags, KEEL_DOMINFO_F_PAUSED | KEEL_DOMINFO_F_IDENTIFIED |
				    KEEL_DOMINFO_F_BOOT);
	none->identified = false;
	info.domid = none->domid;
	put(none, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(none, CTL_GPA), 0);
	get(none, CTL_GPA, &info, sizeof(info));
	CU_ASSERT_EQUAL(info.flags, KEEL_DOMINFO_F_PAUSED | KEEL_DOMINFO_F_BOOT);
	finish(ctl);
	finish(none);
	UNIT_CHECK_ALL_RETURNED();
}

static void info_of(struct domain *caller, struct domain *d, struct keel_ctl_domain_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	info->domid = d->domid;
	put(caller, CTL_GPA, info, sizeof(*info));
	CU_ASSERT_EQUAL(ctl_hc_domain_info(caller, CTL_GPA), 0);
	get(caller, CTL_GPA, info, sizeof(*info));
}

static void test_info_fields(void)
{
	struct domain *ctl = make("if-ctl", KEEL_CAP_CONTROL);
	struct domain *d = make_child("if-d", KEEL_CAP_BACKEND_NET, ctl->domid);
	struct sched_entity *e = &d->vcpus[0]->sched;
	struct keel_ctl_domain_info info;
	uint64_t slice;

	d->identity.os_id = KEEL_OS_TEST;
	memcpy(d->identity.pkg_name, "unit", 5);
	CU_ASSERT_EQUAL(vcpu_online(d->vcpus[0]), 0);
	CU_ASSERT_EQUAL(domain_unpause(d), 0);
	/* vCPU 0 runs from 1000 ns; at 5000 ns it has had 4000 ns. */
	fake.time_ns = 1000;
	CU_ASSERT_PTR_EQUAL(sched_pick(0, fake.time_ns, &slice), e);
	sched_switch_done(0);
	fake.time_ns = 5000;
	info_of(ctl, d, &info);
	CU_ASSERT_EQUAL(info.domid, d->domid);
	CU_ASSERT_EQUAL(info.flags, KEEL_DOMINFO_F_IDENTIFIED);
	CU_ASSERT_EQUAL(info.shutdown_reason, KEEL_SHUTDOWN_NONE);
	CU_ASSERT_EQUAL(info.nr_vcpus, 2);
	CU_ASSERT_EQUAL(info.nr_vcpus_online, 1);
	CU_ASSERT_EQUAL(info.parent_domid, ctl->domid);
	CU_ASSERT_EQUAL(info.caps, KEEL_CAP_BACKEND_NET);
	CU_ASSERT_EQUAL(info.current_pages, RAM_PAGES);
	CU_ASSERT_EQUAL(info.max_pages, MAX_PAGES);
	CU_ASSERT_EQUAL(info.target_pages, MAX_PAGES);
	CU_ASSERT_EQUAL(info.cpu_time_ns, 4000);
	CU_ASSERT_STRING_EQUAL((const char *)info.name, "if-d");
	CU_ASSERT_EQUAL(info.name[sizeof(info.name) - 1], 0);
	for (size_t i = 0; i < sizeof(info.uuid); i++) {
		CU_ASSERT_EQUAL(info.uuid[i], 0);
	}
	CU_ASSERT_EQUAL(info.weight, SCHED_WEIGHT_DEFAULT);
	CU_ASSERT_EQUAL(info.cap_percent, 0);
	CU_ASSERT_EQUAL(info.identity.os_id, KEEL_OS_TEST);
	CU_ASSERT_STRING_EQUAL((const char *)info.identity.pkg_name, "unit");

	/* Its only online vCPU blocks at 6000 ns: BLOCKED, 5000 ns run. */
	fake.time_ns = 6000;
	sched_block(e, fake.time_ns);
	CU_ASSERT_PTR_NULL(sched_pick(0, fake.time_ns, &slice));
	sched_switch_done(0);
	fake.time_ns = 9000;
	info_of(ctl, d, &info);
	CU_ASSERT_EQUAL(info.flags, KEEL_DOMINFO_F_IDENTIFIED | KEEL_DOMINFO_F_BLOCKED);
	CU_ASSERT_EQUAL(info.cpu_time_ns, 5000);
	finish(ctl);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void list_call(struct domain *caller, uint32_t start, uint32_t max, uint32_t pad0)
{
	memset(&list, 0xee, sizeof(list));
	list.start_domid = start;
	list.max = max;
	list.pad0 = pad0;
	put(caller, CTL_GPA, &list, sizeof(list));
}

static void test_list(void)
{
	struct domain *ctl = make("ls-ctl", KEEL_CAP_CONTROL);
	struct domain *mgr = make("ls-mgr", KEEL_CAP_CREATE);
	struct domain *none = make("ls-none", 0);
	struct domain *c1 = make_child("ls-c1", 0, mgr->domid);
	struct domain *other = make("ls-other", 0);
	struct domain *c2 = make_child("ls-c2", 0, mgr->domid);
	struct domain *all[] = { ctl, mgr, none, c1, other, c2 };

	list_call(none, 0, 8, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(none, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, NO_RAM_GPA), -KEEL_EFAULT);
	list_call(mgr, 0, KEEL_CTL_DOMAIN_LIST_MAX + 1, 1);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA), -KEEL_E2BIG);
	/* Only the first max entries must fit in the page. */
	list_call(mgr, 0, 8, 0);
	put(mgr, CTL_GPA + 0x800, &list, 16);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA + 0x800), 0);
	list.max = 600;
	put(mgr, CTL_GPA + 0x800, &list, 16);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA + 0x800), -KEEL_EFAULT);
	list_call(mgr, 0, 8, 1);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA), -KEEL_EINVAL);

	/* CONTROL: everyone, ascending (ids are handed out in creation order). */
	list_call(ctl, 0, KEEL_CTL_DOMAIN_LIST_MAX, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(ctl, CTL_GPA), 0);
	get(ctl, CTL_GPA, &list, sizeof(list));
	CU_ASSERT_EQUAL(list.count, ARRAY_SIZE(all));
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		CU_ASSERT_EQUAL(list.domids[i], all[i]->domid);
	}
	CU_ASSERT_EQUAL(list.domids[ARRAY_SIZE(all)], 0xeeeeeeee);	/* not written */
	CU_ASSERT_EQUAL(list.start_domid, 0);
	CU_ASSERT_EQUAL(list.max, KEEL_CTL_DOMAIN_LIST_MAX);

	/* CREATE: itself and its children only; from start_domid; up to max. */
	list_call(mgr, 0, 8, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA), 0);
	get(mgr, CTL_GPA, &list, sizeof(list));
	CU_ASSERT_EQUAL(list.count, 3);
	CU_ASSERT_EQUAL(list.domids[0], mgr->domid);
	CU_ASSERT_EQUAL(list.domids[1], c1->domid);
	CU_ASSERT_EQUAL(list.domids[2], c2->domid);
	list_call(mgr, c1->domid, 8, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA), 0);
	get(mgr, CTL_GPA, &list, sizeof(list));
	CU_ASSERT_EQUAL(list.count, 2);
	CU_ASSERT_EQUAL(list.domids[0], c1->domid);
	CU_ASSERT_EQUAL(list.domids[1], c2->domid);
	list_call(mgr, 0, 1, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA), 0);
	get(mgr, CTL_GPA, &list, sizeof(list));
	CU_ASSERT_EQUAL(list.count, 1);
	CU_ASSERT_EQUAL(list.domids[0], mgr->domid);
	CU_ASSERT_EQUAL(list.domids[1], 0xeeeeeeee);
	list_call(mgr, 0, 0, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_list(mgr, CTL_GPA), 0);
	get(mgr, CTL_GPA, &list, sizeof(list));
	CU_ASSERT_EQUAL(list.count, 0);
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		finish(all[i]);
	}
	UNIT_CHECK_ALL_RETURNED();
}

/* --- settings ---------------------------------------------------------------------- */

static void test_set_memory(void)
{
	struct domain *ctl = make("sm-ctl", KEEL_CAP_CONTROL);
	struct domain *none = make("sm-none", 0);
	struct domain *d = make("sm-d", 0);
	uint32_t port = bind(d, KEEL_VIRQ_MEMORY_TARGET);

	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(none, d->domid, 10, 20), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(none, d->domid, 100, 0), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, UNKNOWN, 100, 0), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, d->domid, 0, MAX_PAGES + 1), -KEEL_EINVAL);
	CU_ASSERT_FALSE(take_pending(d, port));

	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, d->domid, 0, 32), 0);
	CU_ASSERT_EQUAL(d->mem.target_pages, 32);
	CU_ASSERT_EQUAL(d->mem.max_pages, MAX_PAGES);
	CU_ASSERT_EQUAL(d->shared_info->memory_target_pages, 32);
	CU_ASSERT_TRUE(take_pending(d, port));

	/* Below the current size: nothing is taken, growth stops. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, d->domid, 8, 0), 0);
	CU_ASSERT_EQUAL(d->mem.max_pages, 8);
	CU_ASSERT_EQUAL(d->mem.ram_pages, RAM_PAGES);
	CU_ASSERT_EQUAL(d->mem.target_pages, 32);
	CU_ASSERT_FALSE(take_pending(d, port));
	CU_ASSERT_EQUAL(guest_memory_populate(d, 100, 1), -KEEL_ENOMEM);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, d->domid, 0, 0), 0);
	CU_ASSERT_EQUAL(d->mem.max_pages, 8);

	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, d->domid, 200, 100), 0);
	CU_ASSERT_EQUAL(d->mem.max_pages, 200);
	CU_ASSERT_EQUAL(d->shared_info->memory_target_pages, 100);
	CU_ASSERT_TRUE(take_pending(d, port));
	/* CONTROL includes control over itself. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(ctl, KEEL_DOMID_SELF, 500, 0), 0);
	CU_ASSERT_EQUAL(ctl->mem.max_pages, 500);
	finish(ctl);
	finish(none);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_set_caps(void)
{
	uint32_t ctl_caps = KEEL_CAP_CONTROL | KEEL_CAP_CREATE | KEEL_CAP_LOG;
	struct domain *ctl = make("sk-ctl", ctl_caps);
	struct domain *none = make("sk-none", 0);
	struct domain *lim = make("sk-lim", KEEL_CAP_CONSOLE | KEEL_CAP_LOG);
	struct domain *d = make("sk-d", 0);
	uint32_t gen = d->shared_info->device_table_generation;

	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(none, d->domid, 0x80), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(none, d->domid, 1ull << 32), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(none, d->domid, 0), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, d->domid, KEEL_CAP_BACKEND_NET), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, UNKNOWN, KEEL_CAP_BACKEND_NET), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, UNKNOWN, KEEL_CAP_LOG), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(d->caps, 0);
	CU_ASSERT_EQUAL(d->shared_info->device_table_generation, gen);

	/* Dropping one's own needs no right; taking one back is escalation. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(lim, KEEL_DOMID_SELF, KEEL_CAP_LOG), 0);
	CU_ASSERT_EQUAL(lim->caps, KEEL_CAP_LOG);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(lim, lim->domid, KEEL_CAP_LOG | KEEL_CAP_CONSOLE),
			-KEEL_EPERM);
	CU_ASSERT_EQUAL(lim->caps, KEEL_CAP_LOG);

	/* Granted: the device table shows it, and later calls use it. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, d->domid, KEEL_CAP_CONTROL), 0);
	CU_ASSERT_EQUAL(d->caps, KEEL_CAP_CONTROL);
	CU_ASSERT(d->shared_info->device_table_generation != gen);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(d, none->domid), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, d->domid, 0), 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_pause(d, none->domid), -KEEL_EPERM);

	/* Event channels see the change too: LOG gone, KEEL_VIRQ_LOG refused. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, d->domid, KEEL_CAP_LOG), 0);
	CU_ASSERT(evtchn_bind_virq(d->evtchn, KEEL_VIRQ_LOG, 0) > 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, d->domid, 0), 0);
	CU_ASSERT_EQUAL(evtchn_bind_virq(d->evtchn, KEEL_VIRQ_DOMAIN_STATE, 0), -KEEL_EPERM);
	finish(ctl);
	finish(none);
	finish(lim);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* KEEL_VIRQ_LOG: raised when the log grew, at most every LOG_NOTIFY_NS, to those bound. */
static void test_virq_log(void)
{
	struct domain *reader = make("vl-reader", KEEL_CAP_LOG);
	struct domain *unbound = make("vl-unbound", KEEL_CAP_LOG);	/* told of nothing, harmlessly */
	struct domain *ctl = make("vl-ctl", KEEL_CAP_CONTROL);
	uint32_t port = bind(reader, KEEL_VIRQ_LOG);
	uint64_t t = 1000 * LOG_NOTIFY_NS;	/* later than any earlier poll */

	log_notify_poll(t);			/* what creating them logged */
	CU_ASSERT_TRUE(take_pending(reader, port));
	log_notify_poll(t + 2 * LOG_NOTIFY_NS);	/* nothing new */
	CU_ASSERT_FALSE(take_pending(reader, port));
	log_printf(LOG_INFO, "virq-log: a line");
	log_notify_poll(t + 3 * LOG_NOTIFY_NS);
	CU_ASSERT_TRUE(take_pending(reader, port));
	log_printf(LOG_DEBUG, "virq-log: a line below the console's level is still logged");
	log_notify_poll(t + 3 * LOG_NOTIFY_NS + LOG_NOTIFY_NS / 2);	/* too soon */
	CU_ASSERT_FALSE(take_pending(reader, port));
	log_notify_poll(t + 4 * LOG_NOTIFY_NS);
	CU_ASSERT_TRUE(take_pending(reader, port));
	/* The capability taken away after the bind: the log is no longer its business. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(ctl, reader->domid, 0), 0);
	log_printf(LOG_INFO, "virq-log: a line the reader may no longer hear of");
	log_notify_poll(t + 5 * LOG_NOTIFY_NS);
	CU_ASSERT_FALSE(take_pending(reader, port));
	finish(ctl);
	finish(reader);
	finish(unbound);
	log_printf(LOG_INFO, "virq-log: after both are gone");
	log_notify_poll(t + 7 * LOG_NOTIFY_NS);	/* no one to tell: nothing breaks */
	UNIT_CHECK_ALL_RETURNED();
}

static void test_set_sched(void)
{
	struct domain *ctl = make("ss-ctl", KEEL_CAP_CONTROL);
	struct domain *none = make("ss-none", 0);
	struct domain *d = make("ss-d", 0);

	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(none, d->domid, 0, UNCHANGED), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(none, d->domid, 65536, UNCHANGED), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(none, d->domid, 1, UNCHANGED), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(ctl, UNKNOWN, 1, UNCHANGED), -KEEL_ESRCH);
	/* At most 100% per vCPU, and it has 2. */
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(ctl, d->domid, 1, 201), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(d->sched.weight, SCHED_WEIGHT_DEFAULT);

	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(ctl, d->domid, 1000, UNCHANGED), 0);
	CU_ASSERT_EQUAL(d->sched.weight, 1000);
	CU_ASSERT_EQUAL(d->sched.cap, 0);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(ctl, d->domid, UNCHANGED, 200), 0);
	CU_ASSERT_EQUAL(d->sched.weight, 1000);
	CU_ASSERT_EQUAL(d->sched.cap, 200);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(ctl, d->domid, UNCHANGED, UNCHANGED), 0);
	CU_ASSERT_EQUAL(d->sched.weight, 1000);
	CU_ASSERT_EQUAL(d->sched.cap, 200);
	CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(ctl, d->domid, 65535, 0), 0);
	CU_ASSERT_EQUAL(d->sched.weight, 65535);
	CU_ASSERT_EQUAL(d->sched.cap, 0);
	finish(ctl);
	finish(none);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_set_affinity(void)
{
	struct keel_ctl_cpumap map = { { 0 } };
	struct domain *ctl, *none, *d;

	sched_init(4, NULL);
	fake.cpu_count = 4;
	ctl = make("sa-ctl", KEEL_CAP_CONTROL);
	none = make("sa-none", 0);
	d = make("sa-d", 0);
	map.bits[0] = 1u << 2;
	put(ctl, CTL_GPA, &map, sizeof(map));

	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(none, d->domid, DOMAIN_MAX_VCPUS, CTL_GPA),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(none, d->domid, 1, CTL_GPA), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, UNKNOWN, 1, CTL_GPA), -KEEL_ESRCH);
	/* The vCPU range (known with the domain) before the struct. */
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, d->domid, 2, CTL_GPA + 4), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, d->domid, 1, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, d->domid, 1, CTL_GPA + PAGE_SIZE - 64),
			-KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, d->domid, 1, NO_RAM_GPA), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(d->vcpus[1]->sched.affinity, ~0ull);

	/* Only existing CPUs count. */
	map.bits[0] = 1u << 5;
	map.bits[1] = 1;
	put(ctl, BUF_GPA, &map, sizeof(map));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, d->domid, 1, BUF_GPA), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(d->vcpus[1]->sched.affinity, ~0ull);
	map.bits[0] = (1u << 2) | (1u << 9);
	put(ctl, BUF_GPA, &map, sizeof(map));
	CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(ctl, d->domid, 1, BUF_GPA), 0);
	CU_ASSERT_EQUAL(d->vcpus[1]->sched.affinity, 1u << 2);
	CU_ASSERT_EQUAL(d->vcpus[0]->sched.affinity, ~0ull);
	finish(ctl);
	finish(none);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- the log ------------------------------------------------------------------------ */

static struct keel_stream_read log_req(uint64_t pos, uint64_t buf_gpa, uint32_t buf_len)
{
	return (struct keel_stream_read){ .buf_len = buf_len, .buf_gpa = buf_gpa, .pos = pos };
}

static long log_call(struct domain *d, struct keel_stream_read *req)
{
	long rc;

	put(d, CTL_GPA, req, sizeof(*req));
	rc = ctl_hc_log_read(d, CTL_GPA);
	get(d, CTL_GPA, req, sizeof(*req));
	return rc;
}

static void test_log_read_checks(void)
{
	struct domain *lg = make("lr-log", KEEL_CAP_LOG);
	struct domain *ctl = make("lr-ctl", KEEL_CAP_CONTROL);
	struct keel_stream_read req = log_req(0, BUF_GPA, 64);

	CU_ASSERT_EQUAL(log_call(ctl, &req), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_hc_log_read(lg, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_log_read(lg, CTL_GPA + PAGE_SIZE - 24), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(ctl_hc_log_read(lg, NO_RAM_GPA), -KEEL_EFAULT);
	req = log_req(0, BUF_GPA, KEEL_PAGE_SIZE + 1);
	req.domid = 1;					/* E2BIG (7) before EINVAL (8) */
	CU_ASSERT_EQUAL(log_call(lg, &req), -KEEL_E2BIG);
	req = log_req(0, BUF_GPA + 0x800, KEEL_PAGE_SIZE);
	CU_ASSERT_EQUAL(log_call(lg, &req), -KEEL_EFAULT);	/* crosses a page */
	req = log_req(0, NO_RAM_GPA, 16);
	req.pad0 = 1;					/* EFAULT (7) before EINVAL (8) */
	CU_ASSERT_EQUAL(log_call(lg, &req), -KEEL_EFAULT);
	req = log_req(0, BUF_GPA, 16);
	req.domid = lg->domid;
	CU_ASSERT_EQUAL(log_call(lg, &req), -KEEL_EINVAL);
	req = log_req(0, BUF_GPA, 16);
	req.pad0 = 1;
	CU_ASSERT_EQUAL(log_call(lg, &req), -KEEL_EINVAL);
	req = log_req(0, NO_RAM_GPA, 0);
	CU_ASSERT_EQUAL(log_call(lg, &req), -KEEL_EINVAL);
	finish(lg);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

/* The position after the last byte logged so far. */
static uint64_t log_end(struct domain *lg)
{
	struct keel_stream_read req = log_req(0, BUF_GPA, KEEL_PAGE_SIZE);

	do {
		req = log_req(req.next_pos, BUF_GPA, KEEL_PAGE_SIZE);
		CU_ASSERT_EQUAL_FATAL(log_call(lg, &req), 0);
	} while (req.len != 0);
	return req.next_pos;
}

static void test_log_read_stream(void)
{
	static const char marker[] = "control test marker 42\n";
	struct domain *lg = make("ls-log", KEEL_CAP_LOG);
	char buf[KEEL_PAGE_SIZE + 1];
	struct keel_stream_read req;
	uint64_t end = log_end(lg);
	char line[400];

	log_info("control test marker %d", 42);
	req = log_req(end, BUF_GPA, KEEL_PAGE_SIZE);
	CU_ASSERT_EQUAL(log_call(lg, &req), 0);
	CU_ASSERT(req.len > sizeof(marker) && req.len < 200);
	CU_ASSERT_EQUAL(req.next_pos, end + req.len);
	CU_ASSERT(req.oldest_pos <= end);
	get(lg, BUF_GPA, buf, req.len);
	buf[req.len] = '\0';
	CU_ASSERT_EQUAL(buf[0], '[');
	CU_ASSERT_STRING_EQUAL(buf + req.len - (sizeof(marker) - 1), marker);

	/* Nothing new at next_pos yet. */
	req = log_req(req.next_pos, BUF_GPA, KEEL_PAGE_SIZE);
	CU_ASSERT_EQUAL(log_call(lg, &req), 0);
	CU_ASSERT_EQUAL(req.len, 0);
	CU_ASSERT_EQUAL(req.next_pos, req.pos);

	/* A small buffer takes the first bytes. */
	req = log_req(end, BUF_GPA + 100, 5);
	CU_ASSERT_EQUAL(log_call(lg, &req), 0);
	CU_ASSERT_EQUAL(req.len, 5);
	CU_ASSERT_EQUAL(req.next_pos, end + 5);
	get(lg, BUF_GPA + 100, line, 5);
	CU_ASSERT_EQUAL(memcmp(line, buf, 5), 0);

	/* Overwritten: the read starts at the oldest byte held, and says so. */
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (int i = 0; i < 200; i++) {
		log_info("%s", line);
	}
	req = log_req(end, BUF_GPA, 256);
	CU_ASSERT_EQUAL(log_call(lg, &req), 0);
	CU_ASSERT(req.oldest_pos > end);
	CU_ASSERT_EQUAL(req.len, 256);
	CU_ASSERT_EQUAL(req.next_pos, req.oldest_pos + 256);
	CU_ASSERT_EQUAL(req.pos, end);
	finish(lg);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- rights across the calls ----------------------------------------------------- */

/* Every domid call: a CREATE holder controls its children and nothing else. */
static void test_creator_controls_children(void)
{
	struct domain *mgr = make("cc-mgr", KEEL_CAP_CREATE | KEEL_CAP_LOG);
	struct domain *kid = make_child("cc-kid", 0, mgr->domid);
	struct domain *other = make("cc-other", 0);
	struct keel_ctl_domain_info info = { .domid = other->domid };
	struct keel_ctl_cpumap map = { { 1 } };
	struct domain *ids[] = { kid, other };

	for (int i = 0; i < 2; i++) {
		long want = i == 0 ? 0 : -KEEL_EPERM;
		uint32_t id = ids[i]->domid;

		CU_ASSERT_EQUAL(ctl_hc_domain_unpause(mgr, id), want);
		CU_ASSERT_EQUAL(ctl_hc_domain_pause(mgr, id), want);
		CU_ASSERT_EQUAL(ctl_hc_domain_shutdown(mgr, id, KEEL_SHUTDOWN_POWEROFF, 0), want);
		CU_ASSERT_EQUAL(ctl_hc_domain_set_memory(mgr, id, 100, 0), want);
		CU_ASSERT_EQUAL(ctl_hc_domain_set_caps(mgr, id, KEEL_CAP_LOG), want);
		CU_ASSERT_EQUAL(ctl_hc_domain_set_sched(mgr, id, 512, UNCHANGED), want);
		put(mgr, CTL_GPA, &map, sizeof(map));
		CU_ASSERT_EQUAL(ctl_hc_vcpu_set_affinity(mgr, id, 0, CTL_GPA), want);
		info.domid = id;
		put(mgr, CTL_GPA, &info, sizeof(info));
		CU_ASSERT_EQUAL(ctl_hc_domain_info(mgr, CTL_GPA), want);
		CU_ASSERT_EQUAL(ctl_hc_domain_destroy(mgr, id), want);
	}
	CU_ASSERT_EQUAL(kid->state, DOMAIN_DYING);
	CU_ASSERT_EQUAL(kid->caps, KEEL_CAP_LOG);
	CU_ASSERT_EQUAL(other->state, DOMAIN_PAUSED);
	CU_ASSERT_EQUAL(other->caps, 0);
	domain_put(kid);
	finish(mgr);
	finish(other);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_domain_state_virq(void)
{
	struct domain *ctl = make("dv-ctl", KEEL_CAP_CONTROL);
	struct domain *mgr = make("dv-mgr", KEEL_CAP_CREATE);
	struct domain *kid = make_child("dv-kid", 0, mgr->domid);
	struct domain *other = make("dv-other", 0);
	uint32_t ctl_port = bind(ctl, KEEL_VIRQ_DOMAIN_STATE);
	uint32_t mgr_port = bind(mgr, KEEL_VIRQ_DOMAIN_STATE);

	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, kid->domid), 0);
	CU_ASSERT_TRUE(take_pending(ctl, ctl_port));
	CU_ASSERT_TRUE(take_pending(mgr, mgr_port));
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, kid->domid), 0);	/* no change, no news */
	CU_ASSERT_FALSE(take_pending(ctl, ctl_port));
	CU_ASSERT_EQUAL(ctl_hc_domain_unpause(ctl, other->domid), 0);
	CU_ASSERT_TRUE(take_pending(ctl, ctl_port));
	CU_ASSERT_FALSE(take_pending(mgr, mgr_port));
	CU_ASSERT_EQUAL(ctl_hc_domain_destroy(mgr, kid->domid), 0);
	CU_ASSERT_TRUE(take_pending(ctl, ctl_port));
	CU_ASSERT_TRUE(take_pending(mgr, mgr_port));
	domain_put(kid);
	finish(ctl);
	finish(mgr);
	finish(other);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "host info", test_host_info },
	{ "destroy", test_destroy },
	{ "pause and unpause", test_pause_unpause },
	{ "unpause after shutdown", test_unpause_after_shutdown },
	{ "shutdown checks", test_shutdown_checks },
	{ "shutdown request", test_shutdown_request },
	{ "shutdown with force", test_shutdown_force },
	{ "info checks", test_info_checks },
	{ "info fields", test_info_fields },
	{ "list", test_list },
	{ "set memory", test_set_memory },
	{ "set caps", test_set_caps },
	{ "set sched", test_set_sched },
	{ "set affinity", test_set_affinity },
	{ "log read checks", test_log_read_checks },
	{ "log read stream", test_log_read_stream },
	{ "a creator controls its children", test_creator_controls_children },
	{ "domain state VIRQ", test_domain_state_virq },
	{ "log VIRQ", test_virq_log },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo control_suite = {
	.pName = "control",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
