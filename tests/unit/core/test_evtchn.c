/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_evtchn.c - unit tests for core/evtchn.c.
 *
 * Three fake domains with shared-info and vcpu_info pages in libc memory
 * and a fake env (a domain table with reference counts, recorded kicks).
 * Every test starts with the three created and ends with them destroyed,
 * no reference left, and the page allocator and heap back where they were.
 *
 *   A  domid 1, 3 vCPUs, no caps, every feature, up to 262144 ports
 *   B  domid 2, 3 vCPUs, CONTROL + LOG, no features, 4096 ports
 *   C  domid 3, 2 vCPUs, CREATE, EVTCHN_EXPAND, up to 40000 ports
 */
#include <keel/evtchn.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include "fake_arch.h"
#include "unit.h"

#define DOMS		3
#define VCPUS_MAX	3
#define PAIRS		KEEL_EVTCHN_EXPAND_PAGES_MAX
#define WORD_BITS	64u

struct fake_dom {
	uint32_t domid;
	uint32_t vcpu_count;
	uint32_t max_ports;
	uint32_t features;
	uint64_t caps;
	struct evtchn_domain *d;
	struct keel_shared_info *si;
	struct keel_vcpu_info *vi;		/* [VCPUS_MAX], 64-byte aligned */
	uint64_t *pending_pages[PAIRS];		/* expansion pages */
	uint64_t *mask_pages[PAIRS];
	bool dying;				/* get_domain() fails */
	int refs;				/* get_domain() - put_domain() */
	unsigned int kicks[VCPUS_MAX];
	bool kicked_with_irqs_on;
};

static struct fake_dom doms[DOMS] = {
	{ .domid = 1, .vcpu_count = 3, .max_ports = KEEL_EVTCHN_MAX_PORTS,
	  .features = KEEL_F0_UPCALL_VECTOR | KEEL_F0_UPCALL_PLATFORM |
		      KEEL_F0_EVTCHN_EXPAND },
	{ .domid = 2, .vcpu_count = 3, .caps = KEEL_CAP_CONTROL | KEEL_CAP_LOG },
	{ .domid = 3, .vcpu_count = 2, .max_ports = 40000,
	  .features = KEEL_F0_EVTCHN_EXPAND, .caps = KEEL_CAP_CREATE },
};

#define FA		(&doms[0])
#define FB		(&doms[1])
#define FC		(&doms[2])
#define A		(doms[0].d)
#define B		(doms[1].d)
#define C		(doms[2].d)

/*
 * Run once at the start of the next get_domain(): what another CPU might do
 * in the window where evtchn holds no lock (see core/evtchn.c, top).
 */
static void (*race)(void);
static uint32_t race_pa, race_pb;

static uint64_t free_at_start;
static uint64_t heap_at_start;
static long platform_result;
static uint32_t platform_vcpu, platform_entry;

/* The fake env. */

static struct fake_dom *fake_of(struct evtchn_domain *d)
{
	struct fake_dom *f = evtchn_domain_owner(d);

	CU_ASSERT_FATAL(f != NULL && f->d == d);
	return f;
}

static struct evtchn_domain *get_domain(uint32_t domid)
{
	void (*hook)(void) = race;

	race = NULL;
	if (hook) {
		hook();
	}
	for (unsigned int i = 0; i < DOMS; i++) {
		if (doms[i].domid == domid && doms[i].d && !doms[i].dying) {
			doms[i].refs++;
			return doms[i].d;
		}
	}
	return NULL;
}

static void put_domain(struct evtchn_domain *d)
{
	struct fake_dom *f = fake_of(d);

	CU_ASSERT(f->refs > 0);
	f->refs--;
}

static void kick_vcpu(struct evtchn_domain *d, uint32_t vcpu)
{
	struct fake_dom *f = fake_of(d);

	CU_ASSERT_FATAL(vcpu < f->vcpu_count);
	f->kicks[vcpu]++;
	if (!fake.irqs_off) {
		f->kicked_with_irqs_on = true;
	}
}

static long check_platform_upcall(struct evtchn_domain *d, uint32_t vcpu,
				  uint32_t entry)
{
	platform_vcpu = vcpu;
	platform_entry = entry;
	return platform_result;
}

static const struct evtchn_env env = {
	.get_domain = get_domain,
	.put_domain = put_domain,
	.kick_vcpu = kick_vcpu,
	.check_platform_upcall = check_platform_upcall,
};

/* Set-up and teardown. */

static int init(void)
{
	return unit_page_alloc_init() == 0 && heap_page_count() == 0 ? 0 : -1;
}

static struct evtchn_domain_config config_of(struct fake_dom *f)
{
	return (struct evtchn_domain_config){
		.env = &env,
		.owner = f,
		.domid = f->domid,
		.vcpu_count = f->vcpu_count,
		.max_ports = f->max_ports,
		.features = f->features,
		.caps = f->caps,
		.shared_info = f->si,
	};
}

static void dom_up(struct fake_dom *f)
{
	struct evtchn_domain_config cfg;

	f->si = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	f->vi = aligned_alloc(64, VCPUS_MAX * sizeof(*f->vi));
	CU_ASSERT_FATAL(f->si && f->vi);
	memset(f->si, 0, sizeof(*f->si));
	memset(f->vi, 0, VCPUS_MAX * sizeof(*f->vi));
	memset(f->kicks, 0, sizeof(f->kicks));
	f->dying = false;
	f->refs = 0;
	f->kicked_with_irqs_on = false;
	cfg = config_of(f);
	f->d = NULL;
	CU_ASSERT_EQUAL(evtchn_domain_create(&cfg, &f->d), 0);
	CU_ASSERT_FATAL(f->d != NULL);
}

/* What the domain layer does: mark it dying, then tear it down. */
static void dom_destroy(struct fake_dom *f)
{
	if (!f->d) {
		return;
	}
	f->dying = true;
	CU_ASSERT_EQUAL(f->refs, 0);
	evtchn_domain_destroy(f->d);
	f->d = NULL;
}

static void dom_free_pages(struct fake_dom *f)
{
	free(f->si);
	free(f->vi);
	f->si = NULL;
	f->vi = NULL;
	for (unsigned int i = 0; i < PAIRS; i++) {
		free(f->pending_pages[i]);
		free(f->mask_pages[i]);
		f->pending_pages[i] = f->mask_pages[i] = NULL;
	}
}

static void setup(void)
{
	fake_arch_reset();
	free_at_start = page_alloc_free_count();
	heap_at_start = heap_page_count();
	platform_result = 0;
	race = NULL;
	for (unsigned int i = 0; i < DOMS; i++) {
		dom_up(&doms[i]);
	}
}

static void teardown(void)
{
	for (unsigned int i = 0; i < DOMS; i++) {
		dom_destroy(&doms[i]);
	}
	for (unsigned int i = 0; i < DOMS; i++) {
		CU_ASSERT_EQUAL(doms[i].refs, 0);
		CU_ASSERT_FALSE(doms[i].kicked_with_irqs_on);
		dom_free_pages(&doms[i]);
	}
	CU_ASSERT_EQUAL(heap_page_count(), heap_at_start);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_at_start);
	CU_ASSERT_FALSE(fake.irqs_off);
	/* Nothing here logs, least of all at error level. */
	CU_ASSERT_EQUAL(fake_console_len(), 0);
}

/* Helpers: the guest's view. */

static uint64_t *pending_word(struct fake_dom *f, uint32_t port)
{
	uint32_t q;

	if (port < KEEL_EVTCHN_BASE_PORTS) {
		return &f->si->evtchn_pending[port / WORD_BITS];
	}
	q = port - KEEL_EVTCHN_BASE_PORTS;
	return &f->pending_pages[q / KEEL_EVTCHN_PORTS_PER_PAGE]
				[(q % KEEL_EVTCHN_PORTS_PER_PAGE) / WORD_BITS];
}

static uint64_t *mask_word(struct fake_dom *f, uint32_t port)
{
	uint32_t q;

	if (port < KEEL_EVTCHN_BASE_PORTS) {
		return &f->si->evtchn_mask[port / WORD_BITS];
	}
	q = port - KEEL_EVTCHN_BASE_PORTS;
	return &f->mask_pages[q / KEEL_EVTCHN_PORTS_PER_PAGE]
			     [(q % KEEL_EVTCHN_PORTS_PER_PAGE) / WORD_BITS];
}

static uint64_t bit(uint32_t n)
{
	return (uint64_t)1 << (n % WORD_BITS);
}

static bool is_pending(struct fake_dom *f, uint32_t port)
{
	return *pending_word(f, port) & bit(port);
}

static bool is_masked(struct fake_dom *f, uint32_t port)
{
	return *mask_word(f, port) & bit(port);
}

/* The guest clears a mask bit itself (no hypercall). */
static void guest_unmask(struct fake_dom *f, uint32_t port)
{
	*mask_word(f, port) &= ~bit(port);
}

/* The guest handles a port: clears its pending bit. */
static void guest_ack(struct fake_dom *f, uint32_t port)
{
	*pending_word(f, port) &= ~bit(port);
}

/* Whether @vcpu's selectors cover @port. */
static bool sel_set(struct fake_dom *f, uint32_t vcpu, uint32_t port)
{
	uint32_t w = port / WORD_BITS;

	return (f->vi[vcpu].evtchn_pending_sel[w / WORD_BITS] & bit(w)) &&
	       (f->vi[vcpu].evtchn_pending_top & bit(w / WORD_BITS));
}

static bool selectors_clear(struct fake_dom *f, uint32_t vcpu)
{
	const struct keel_vcpu_info *vi = &f->vi[vcpu];

	for (unsigned int i = 0; i < ARRAY_SIZE(vi->evtchn_pending_sel); i++) {
		if (vi->evtchn_pending_sel[i]) {
			return false;
		}
	}
	return vi->evtchn_pending_top == 0 && vi->upcall_pending == 0;
}

static void register_info(struct fake_dom *f, uint32_t vcpu)
{
	CU_ASSERT_EQUAL(evtchn_vcpu_info_registered(f->d, vcpu, &f->vi[vcpu]), 0);
}

static unsigned int kicks(struct fake_dom *f)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < VCPUS_MAX; i++) {
		n += f->kicks[i];
	}
	return n;
}

static struct keel_evtchn_status status(struct evtchn_domain *d, uint32_t port)
{
	struct keel_evtchn_status st = { .port = port, .state = 0xdead,
					 .vcpu = 0xdead, .remote_domid = 0xdead,
					 .remote_port = 0xdead, .virq = 0xdead };

	CU_ASSERT_EQUAL(evtchn_status(d, &st), 0);
	return st;
}

static uint32_t state_of(struct evtchn_domain *d, uint32_t port)
{
	return status(d, port).state;
}

/* A channel: @fa allocates a port UNBOUND for @fb, which binds it. */
static void connect(struct fake_dom *fa, uint32_t *pa, struct fake_dom *fb,
		    uint32_t *pb)
{
	long a = evtchn_alloc_unbound(fa->d, fb->domid);
	long b;

	CU_ASSERT_FATAL(a > 0);
	b = evtchn_bind_interdomain(fb->d, fa->domid, (uint32_t)a);
	CU_ASSERT_FATAL(b > 0);
	*pa = (uint32_t)a;
	*pb = (uint32_t)b;
}

/* Bind IPI ports on vCPU 0 of @f until the next port would be @port. */
static void fill_until(struct fake_dom *f, uint32_t port)
{
	long p;

	do {
		p = evtchn_bind_ipi(f->d, 0);
		CU_ASSERT_FATAL(p > 0);
	} while ((uint32_t)p + 1 < port);
}

static long expand(struct fake_dom *f, uint32_t index)
{
	struct keel_evtchn_expand req = {
		.index = index, .pending_gfn = 0x1000 + 2 * index,
		.mask_gfn = 0x1001 + 2 * index,
	};

	if (!f->pending_pages[index]) {
		f->pending_pages[index] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		f->mask_pages[index] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		CU_ASSERT_FATAL(f->pending_pages[index] && f->mask_pages[index]);
		memset(f->pending_pages[index], 0, PAGE_SIZE);
		memset(f->mask_pages[index], 0xff, PAGE_SIZE);
	}
	return evtchn_expand(f->d, &req, f->pending_pages[index],
			     f->mask_pages[index]);
}

/* Creation. */

static void test_create_sets_up_the_shared_page(void)
{
	for (unsigned int i = 0; i < DOMS; i++) {
		struct fake_dom *f = &doms[i];

		CU_ASSERT_EQUAL(evtchn_domain_id(f->d), f->domid);
		CU_ASSERT_PTR_EQUAL(evtchn_domain_owner(f->d), f);
		CU_ASSERT_EQUAL(evtchn_port_limit(f->d), KEEL_EVTCHN_BASE_PORTS);
		CU_ASSERT_EQUAL(f->si->evtchn_port_limit, KEEL_EVTCHN_BASE_PORTS);
		for (unsigned int w = 0; w < 64; w++) {
			CU_ASSERT_EQUAL(f->si->evtchn_pending[w], 0);
			CU_ASSERT_EQUAL(f->si->evtchn_mask[w], UINT64_MAX);
		}
	}
	/* One page for the first ports of each domain, plus heap. */
	CU_ASSERT(page_alloc_free_count() < free_at_start);
}

static void test_create_rejects_a_bad_config(void)
{
	static const struct {
		uint32_t domid, vcpus, max_ports;
	} bad[] = {
		{ 0, 1, 0 }, { KEEL_DOMID_LAST + 1, 1, 0 }, { KEEL_DOMID_SELF, 1, 0 },
		{ 9, 0, 0 }, { 9, EVTCHN_VCPUS_MAX + 1, 0 },
		{ 9, 1, KEEL_EVTCHN_BASE_PORTS - 1 }, { 9, 1, 1 },
		{ 9, 1, KEEL_EVTCHN_MAX_PORTS + 1 }, { 9, 1, UINT32_MAX },
	};
	struct evtchn_env no_kick = env;
	struct evtchn_domain_config good = config_of(FB), cfg;
	struct evtchn_domain *d = NULL;
	uint64_t free_now = page_alloc_free_count();

	no_kick.kick_vcpu = NULL;
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg = good;
		cfg.domid = bad[i].domid;
		cfg.vcpu_count = bad[i].vcpus;
		cfg.max_ports = bad[i].max_ports;
		CU_ASSERT_EQUAL(evtchn_domain_create(&cfg, &d), -KEEL_EINVAL);
	}
	cfg = good;
	cfg.shared_info = NULL;
	CU_ASSERT_EQUAL(evtchn_domain_create(&cfg, &d), -KEEL_EINVAL);
	cfg = good;
	cfg.env = NULL;
	CU_ASSERT_EQUAL(evtchn_domain_create(&cfg, &d), -KEEL_EINVAL);
	cfg.env = &no_kick;
	CU_ASSERT_EQUAL(evtchn_domain_create(&cfg, &d), -KEEL_EINVAL);
	CU_ASSERT_PTR_NULL(d);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_now);
}

/* ALLOC_UNBOUND. */

static void test_alloc_unbound(void)
{
	struct keel_evtchn_status st;

	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, FB->domid), 1);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, KEEL_DOMID_SELF), 2);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, FA->domid), 3);
	st = status(A, 1);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(st.remote_domid, FB->domid);
	CU_ASSERT_EQUAL(st.vcpu, 0);
	CU_ASSERT_EQUAL(st.remote_port, 0);
	CU_ASSERT_EQUAL(st.virq, 0);
	CU_ASSERT_EQUAL(status(A, 2).remote_domid, FA->domid);	/* SELF resolved */
	CU_ASSERT_EQUAL(status(A, 3).remote_domid, FA->domid);
	CU_ASSERT_EQUAL(FB->refs, 0);
}

static void test_alloc_unbound_needs_a_live_remote(void)
{
	static const uint32_t bad[] = {
		KEEL_DOMID_NONE, 4, 99, KEEL_DOMID_LAST, KEEL_DOMID_LAST + 1,
		KEEL_DOMID_SELF - 1, KEEL_DOMID_INVALID,
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, bad[i]), -KEEL_ESRCH);
	}
	FC->dying = true;
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, FC->domid), -KEEL_ESRCH);
	FC->dying = false;
	CU_ASSERT_EQUAL(state_of(A, 1), KEEL_EVTCHN_STATE_FREE);	/* no effect */
}

static void test_allocation_clears_pending_and_reuses_lowest(void)
{
	FA->si->evtchn_pending[0] = UINT64_MAX;	/* stale bits */
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), 1);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), 2);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), 3);
	CU_ASSERT_EQUAL(FA->si->evtchn_pending[0], UINT64_MAX & ~0xeull);
	CU_ASSERT_TRUE(is_pending(FA, 0));		/* port 0: untouched */
	CU_ASSERT_EQUAL(evtchn_close(A, 2), 0);
	FA->si->evtchn_pending[0] |= bit(2);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, FB->domid), 2);
	CU_ASSERT_FALSE(is_pending(FA, 2));
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), 4);
}

static void test_table_full(void)
{
	long p;

	fill_until(FB, KEEL_EVTCHN_BASE_PORTS);
	CU_ASSERT_EQUAL(state_of(B, KEEL_EVTCHN_BASE_PORTS - 1), KEEL_EVTCHN_STATE_IPI);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(B, 0), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(B, FA->domid), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(evtchn_bind_virq(B, KEEL_VIRQ_CONSOLE, 0), -KEEL_ENOSPC);
	/* A full table fails the bind and leaves the remote port alone. */
	p = evtchn_alloc_unbound(A, FB->domid);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)p), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(state_of(A, (uint32_t)p), KEEL_EVTCHN_STATE_UNBOUND);
	/* The VIRQ slot was not taken by the failed bind. */
	CU_ASSERT_EQUAL(evtchn_close(B, 1000), 0);
	CU_ASSERT_EQUAL(evtchn_bind_virq(B, KEEL_VIRQ_CONSOLE, 0), 1000);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(B, 0), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(evtchn_close(B, 17), 0);
	CU_ASSERT_EQUAL(evtchn_close(B, 4000), 0);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)p), 17);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(B, 1), 4000);
}

/* BIND_INTERDOMAIN. */

static void test_bind_interdomain(void)
{
	struct keel_evtchn_status st;
	uint32_t pa, pb;

	connect(FA, &pa, FB, &pb);
	CU_ASSERT_EQUAL(pa, 1);
	CU_ASSERT_EQUAL(pb, 1);
	st = status(A, pa);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_INTERDOMAIN);
	CU_ASSERT_EQUAL(st.remote_domid, FB->domid);
	CU_ASSERT_EQUAL(st.remote_port, pb);
	st = status(B, pb);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_INTERDOMAIN);
	CU_ASSERT_EQUAL(st.remote_domid, FA->domid);
	CU_ASSERT_EQUAL(st.remote_port, pa);
	CU_ASSERT_EQUAL(st.vcpu, 0);
	/* The higher domid binding to the lower and the other way round. */
	connect(FC, &pa, FA, &pb);
	CU_ASSERT_EQUAL(status(A, pb).remote_domid, FC->domid);
	CU_ASSERT_EQUAL(status(C, pa).remote_port, pb);
	CU_ASSERT_EQUAL(FA->refs + FB->refs + FC->refs, 0);
}

static void test_bind_interdomain_errors(void)
{
	long for_c = evtchn_alloc_unbound(A, FC->domid);
	long for_b = evtchn_alloc_unbound(A, FB->domid);
	long ipi = evtchn_bind_ipi(A, 1);
	uint32_t pa, pb;

	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, 99, (uint32_t)for_b), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, 0, (uint32_t)for_b), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, KEEL_DOMID_INVALID, 1), -KEEL_ESRCH);
	/* Port 0 is bad anywhere (step 4); the remote's limit needs the remote. */
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, 99, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, 99, KEEL_EVTCHN_MAX_PORTS), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, 99, KEEL_EVTCHN_BASE_PORTS), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, KEEL_EVTCHN_BASE_PORTS),
			-KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, 100), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)ipi), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)for_c), -KEEL_EPERM);
	/* Offered to B: C cannot take it, B can, and only once. */
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(C, FA->domid, (uint32_t)for_b), -KEEL_EPERM);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)for_b), 1);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)for_b), -KEEL_EBUSY);
	/* A dying remote is gone. */
	FC->dying = true;
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(A, FC->domid, 1), -KEEL_ESRCH);
	FC->dying = false;
	/* Failed calls had no effect. */
	CU_ASSERT_EQUAL(state_of(A, (uint32_t)for_c), KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(state_of(B, 2), KEEL_EVTCHN_STATE_FREE);
	CU_ASSERT_EQUAL(state_of(C, 1), KEEL_EVTCHN_STATE_FREE);
	connect(FC, &pa, FB, &pb);
	CU_ASSERT_EQUAL(pb, 2);
	CU_ASSERT_EQUAL(FA->refs + FB->refs + FC->refs, 0);
}

static void test_loopback_channel(void)
{
	long p = evtchn_alloc_unbound(A, KEEL_DOMID_SELF);
	long q = evtchn_bind_interdomain(A, KEEL_DOMID_SELF, (uint32_t)p);

	CU_ASSERT_EQUAL(p, 1);
	CU_ASSERT_EQUAL(q, 2);
	CU_ASSERT_EQUAL(status(A, 1).remote_port, 2);
	CU_ASSERT_EQUAL(status(A, 2).remote_port, 1);
	CU_ASSERT_EQUAL(status(A, 2).remote_domid, FA->domid);
	CU_ASSERT_EQUAL(evtchn_send(A, 1), 0);
	CU_ASSERT_TRUE(is_pending(FA, 2));
	CU_ASSERT_FALSE(is_pending(FA, 1));
	/* Closing one end is peer loss for the other. */
	CU_ASSERT_EQUAL(evtchn_close(A, 2), 0);
	CU_ASSERT_EQUAL(state_of(A, 1), KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(status(A, 1).remote_domid, FA->domid);
	CU_ASSERT_TRUE(is_pending(FA, 1));
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(A, FA->domid, 1), 2);
	CU_ASSERT_EQUAL(FA->refs, 0);
}

/* BIND_VIRQ, BIND_IPI, raising VIRQs. */

static void test_bind_virq(void)
{
	struct keel_evtchn_status st;

	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 2), 1);
	st = status(A, 1);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_VIRQ);
	CU_ASSERT_EQUAL(st.virq, KEEL_VIRQ_CONSOLE);
	CU_ASSERT_EQUAL(st.vcpu, 2);
	CU_ASSERT_EQUAL(st.remote_domid, 0);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 0), -KEEL_EEXIST);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 2), -KEEL_EEXIST);
	/* The timer is per vCPU. */
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_TIMER, 0), 2);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_TIMER, 1), 3);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_TIMER, 0), -KEEL_EEXIST);
	CU_ASSERT_EQUAL(status(A, 3).virq, KEEL_VIRQ_TIMER);
	CU_ASSERT_EQUAL(status(A, 3).vcpu, 1);
	/* Bindings are per domain. */
	CU_ASSERT_EQUAL(evtchn_bind_virq(B, KEEL_VIRQ_CONSOLE, 0), 1);
	/* Closing releases the binding. */
	CU_ASSERT_EQUAL(evtchn_close(A, 1), 0);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 0), 1);
	CU_ASSERT_EQUAL(evtchn_close(A, 2), 0);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_TIMER, 0), 2);
	for (uint32_t v = KEEL_VIRQ_SHUTDOWN_REQUEST; v < KEEL_VIRQ_COUNT_V1; v++) {
		CU_ASSERT(evtchn_bind_virq(A, v, 0) > 0);
	}
}

static void test_bind_virq_errors(void)
{
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_COUNT_V1, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, UINT32_MAX, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 3), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_TIMER, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_virq(C, KEEL_VIRQ_TIMER, 2), -KEEL_EINVAL);
	/* Capabilities: A has none, B CONTROL and LOG, C CREATE. */
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_DOMAIN_STATE, 0), -KEEL_EPERM);
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_LOG, 0), -KEEL_EPERM);
	CU_ASSERT_EQUAL(evtchn_bind_virq(C, KEEL_VIRQ_LOG, 0), -KEEL_EPERM);
	/* A bad vCPU is found before the capability (errors.md order). */
	CU_ASSERT_EQUAL(evtchn_bind_virq(A, KEEL_VIRQ_LOG, 7), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_virq(B, KEEL_VIRQ_DOMAIN_STATE, 0), 1);
	CU_ASSERT_EQUAL(evtchn_bind_virq(B, KEEL_VIRQ_LOG, 1), 2);
	CU_ASSERT_EQUAL(evtchn_bind_virq(C, KEEL_VIRQ_DOMAIN_STATE, 1), 1);
	CU_ASSERT_EQUAL(evtchn_bind_virq(B, KEEL_VIRQ_LOG, 0), -KEEL_EEXIST);
	CU_ASSERT_EQUAL(state_of(A, 1), KEEL_EVTCHN_STATE_FREE);
}

static void test_raise_virq(void)
{
	long console = evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 1);
	long timer2 = evtchn_bind_virq(A, KEEL_VIRQ_TIMER, 2);

	register_info(FA, 1);
	register_info(FA, 2);
	guest_unmask(FA, (uint32_t)console);
	guest_unmask(FA, (uint32_t)timer2);
	/* The vCPU argument is ignored but for the timer. */
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 77, KEEL_VIRQ_CONSOLE), 0);
	CU_ASSERT_TRUE(is_pending(FA, (uint32_t)console));
	CU_ASSERT_TRUE(sel_set(FA, 1, (uint32_t)console));
	CU_ASSERT_EQUAL(FA->kicks[1], 1);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 2, KEEL_VIRQ_TIMER), 0);
	CU_ASSERT_TRUE(is_pending(FA, (uint32_t)timer2));
	CU_ASSERT_EQUAL(FA->kicks[2], 1);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 0, KEEL_VIRQ_TIMER), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 0, KEEL_VIRQ_LOG), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 3, KEEL_VIRQ_TIMER), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 0, KEEL_VIRQ_COUNT_V1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 0, UINT32_MAX), -KEEL_EINVAL);
	/* After close, a raise finds nothing bound. */
	CU_ASSERT_EQUAL(evtchn_close(A, (uint32_t)console), 0);
	CU_ASSERT_EQUAL(evtchn_raise_virq(A, 0, KEEL_VIRQ_CONSOLE), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(kicks(FA), 2);
}

static void test_bind_ipi(void)
{
	struct keel_evtchn_status st;

	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 2), 1);
	st = status(A, 1);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_IPI);
	CU_ASSERT_EQUAL(st.vcpu, 2);
	CU_ASSERT_EQUAL(st.remote_domid, 0);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 3), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(C, 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(C, 1), 1);
}

/* SEND. */

static void test_send_errors(void)
{
	long virq = evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 0);

	CU_ASSERT_EQUAL(evtchn_send(A, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_send(A, KEEL_EVTCHN_BASE_PORTS), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_send(A, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_send(A, 2), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_send(A, KEEL_EVTCHN_BASE_PORTS - 1), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_send(A, (uint32_t)virq), -KEEL_EINVAL);
	CU_ASSERT_FALSE(is_pending(FA, (uint32_t)virq));
}

static void test_send_on_a_port_you_do_not_own(void)
{
	uint32_t pa, pb;
	long c_ipi = evtchn_bind_ipi(C, 0);

	connect(FA, &pa, FB, &pb);
	CU_ASSERT_EQUAL(c_ipi, 1);
	/* Port numbers are per domain: C's port 2 is FREE, whoever has a 2. */
	connect(FA, &pa, FB, &pb);
	CU_ASSERT_EQUAL(pa, 2);
	CU_ASSERT_EQUAL(evtchn_send(C, 2), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_close(C, 2), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_mask(C, 2), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(C, 2, 0), -KEEL_ENOENT);
	CU_ASSERT_FALSE(is_pending(FA, 2) || is_pending(FB, 2));
	CU_ASSERT_EQUAL(state_of(A, 2), KEEL_EVTCHN_STATE_INTERDOMAIN);
	CU_ASSERT_EQUAL(state_of(B, 2), KEEL_EVTCHN_STATE_INTERDOMAIN);
}

static void test_send_unbound_does_nothing(void)
{
	long p = evtchn_alloc_unbound(A, FB->domid);

	register_info(FA, 0);
	guest_unmask(FA, (uint32_t)p);
	CU_ASSERT_EQUAL(evtchn_send(A, (uint32_t)p), 0);
	CU_ASSERT_FALSE(is_pending(FA, (uint32_t)p));
	CU_ASSERT_EQUAL(FB->si->evtchn_pending[0], 0);
	CU_ASSERT_EQUAL(kicks(FA) + kicks(FB), 0);
}

static void test_send_ipi_raises_the_port_itself(void)
{
	long p = evtchn_bind_ipi(A, 2);

	register_info(FA, 2);
	guest_unmask(FA, (uint32_t)p);
	CU_ASSERT_EQUAL(evtchn_send(A, (uint32_t)p), 0);
	CU_ASSERT_TRUE(is_pending(FA, (uint32_t)p));
	CU_ASSERT_TRUE(sel_set(FA, 2, (uint32_t)p));
	CU_ASSERT_EQUAL(FA->kicks[2], 1);
	CU_ASSERT_EQUAL(kicks(FA), 1);
}

static void test_send_interdomain_raises_the_peer(void)
{
	uint32_t pa, pb;

	connect(FA, &pa, FB, &pb);
	connect(FA, &pa, FB, &pb);	/* ports 2 and 2: the peers */
	register_info(FA, 0);
	register_info(FB, 0);
	guest_unmask(FA, pa);
	guest_unmask(FB, pb);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_TRUE(is_pending(FA, pa));
	CU_ASSERT_FALSE(is_pending(FB, pb));
	CU_ASSERT_FALSE(is_pending(FA, 1));
	CU_ASSERT_EQUAL(FA->kicks[0], 1);
	CU_ASSERT_EQUAL(kicks(FB), 0);
	CU_ASSERT_EQUAL(evtchn_send(A, pa), 0);
	CU_ASSERT_TRUE(is_pending(FB, pb));
	CU_ASSERT_EQUAL(FB->kicks[0], 1);
	CU_ASSERT_EQUAL(FA->refs + FB->refs, 0);
}

/* Delivery bits. */

static void test_delivery_sets_bits_and_kicks_once(void)
{
	uint32_t pa, pb;

	/* Port 200 of A (word 3), on vCPU 1. */
	fill_until(FA, 200);
	connect(FA, &pa, FB, &pb);
	CU_ASSERT_EQUAL(pa, 200);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, pa, 1), 0);
	register_info(FA, 1);
	guest_unmask(FA, pa);
	CU_ASSERT_TRUE(selectors_clear(FA, 1));

	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_TRUE(is_pending(FA, pa));
	CU_ASSERT_EQUAL(FA->vi[1].evtchn_pending_sel[0], bit(3));
	CU_ASSERT_EQUAL(FA->vi[1].evtchn_pending_top, bit(0));
	CU_ASSERT_EQUAL(FA->vi[1].upcall_pending, 1);
	CU_ASSERT_EQUAL(FA->kicks[1], 1);
	CU_ASSERT_EQUAL(kicks(FA), 1);
	CU_ASSERT_TRUE(selectors_clear(FA, 0));

	/* Already pending: nothing more, however many sends (a storm). */
	for (int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	}
	CU_ASSERT_EQUAL(kicks(FA), 1);

	/* Handled but upcall_pending still set: bits again, no kick. */
	FA->vi[1].evtchn_pending_sel[0] = 0;
	FA->vi[1].evtchn_pending_top = 0;
	guest_ack(FA, pa);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_TRUE(sel_set(FA, 1, pa));
	CU_ASSERT_EQUAL(kicks(FA), 1);

	/* The guest's scan starts by clearing upcall_pending: kick again. */
	FA->vi[1].upcall_pending = 0;
	guest_ack(FA, pa);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_EQUAL(FA->vi[1].upcall_pending, 1);
	CU_ASSERT_EQUAL(FA->kicks[1], 2);
	CU_ASSERT_FALSE(FA->kicked_with_irqs_on);
}

static void test_masked_ports_do_not_kick(void)
{
	uint32_t pa, pb;

	connect(FA, &pa, FB, &pb);
	register_info(FA, 0);
	CU_ASSERT_TRUE(is_masked(FA, pa));	/* masked from creation */
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_TRUE(is_pending(FA, pa));
	CU_ASSERT_TRUE(selectors_clear(FA, 0));
	CU_ASSERT_EQUAL(kicks(FA), 0);

	/* UNMASK re-delivers the pending port. */
	CU_ASSERT_EQUAL(evtchn_unmask(A, pa), 0);
	CU_ASSERT_FALSE(is_masked(FA, pa));
	CU_ASSERT_TRUE(sel_set(FA, 0, pa));
	CU_ASSERT_EQUAL(FA->kicks[0], 1);

	/* MASK again: a new event sets pending only. */
	CU_ASSERT_EQUAL(evtchn_mask(A, pa), 0);
	CU_ASSERT_TRUE(is_masked(FA, pa));
	memset(&FA->vi[0], 0, sizeof(FA->vi[0]));
	guest_ack(FA, pa);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_TRUE(is_pending(FA, pa));
	CU_ASSERT_TRUE(selectors_clear(FA, 0));
	CU_ASSERT_EQUAL(kicks(FA), 1);

	/* UNMASK of a port that is not pending delivers nothing. */
	guest_ack(FA, pa);
	CU_ASSERT_EQUAL(evtchn_unmask(A, pa), 0);
	CU_ASSERT_TRUE(selectors_clear(FA, 0));
	CU_ASSERT_EQUAL(kicks(FA), 1);
	/* Masking twice, unmasking twice: fine. */
	CU_ASSERT_EQUAL(evtchn_mask(A, pa), 0);
	CU_ASSERT_EQUAL(evtchn_mask(A, pa), 0);
	CU_ASSERT_EQUAL(evtchn_unmask(A, pa), 0);
	CU_ASSERT_EQUAL(evtchn_unmask(A, pa), 0);
	CU_ASSERT_FALSE(is_masked(FA, pa));
}

static void test_mask_errors(void)
{
	CU_ASSERT_EQUAL(evtchn_mask(A, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_unmask(A, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_mask(A, KEEL_EVTCHN_BASE_PORTS), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_unmask(A, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_mask(A, 1), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_unmask(A, 1), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_port_pending(A, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_port_pending(A, 1), -KEEL_ENOENT);
	CU_ASSERT_TRUE(is_masked(FA, 1));
}

static void test_port_pending_ignores_the_mask(void)
{
	long p = evtchn_bind_ipi(A, 0);

	CU_ASSERT_EQUAL(evtchn_port_pending(A, (uint32_t)p), 0);
	CU_ASSERT_EQUAL(evtchn_send(A, (uint32_t)p), 0);
	CU_ASSERT_TRUE(is_masked(FA, (uint32_t)p));
	CU_ASSERT_EQUAL(evtchn_port_pending(A, (uint32_t)p), 1);
}

static void test_events_before_registration(void)
{
	long ports[131];
	uint32_t pb;

	/* A's ports 1..130 UNBOUND for B; B binds 5, 70 and 129. */
	for (unsigned int i = 1; i <= 130; i++) {
		ports[i] = evtchn_alloc_unbound(A, FB->domid);
		CU_ASSERT_EQUAL_FATAL(ports[i], i);
	}
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, 5), 1);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, 70), 2);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, 129), 3);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, 5, 1), 0);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, 70, 1), 0);		/* stays masked */
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, 129, 2), 0);
	guest_unmask(FA, 5);
	guest_unmask(FA, 129);
	guest_unmask(FA, 7);			/* unbound, vCPU 0 */
	FA->si->evtchn_pending[0] |= bit(7);	/* junk the guest left */
	for (pb = 1; pb <= 3; pb++) {
		CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	}
	/* No keel_vcpu_info: only pending bits. */
	CU_ASSERT_TRUE(is_pending(FA, 5) && is_pending(FA, 70) && is_pending(FA, 129));
	CU_ASSERT_EQUAL(kicks(FA), 0);

	/* Registration recomputes vCPU 1's selectors: port 5 only. */
	register_info(FA, 1);
	CU_ASSERT_EQUAL(FA->vi[1].evtchn_pending_sel[0], bit(0));
	CU_ASSERT_EQUAL(FA->vi[1].evtchn_pending_top, bit(0));
	CU_ASSERT_EQUAL(FA->vi[1].upcall_pending, 1);
	CU_ASSERT_EQUAL(FA->kicks[1], 1);
	register_info(FA, 2);
	CU_ASSERT_EQUAL(FA->vi[2].evtchn_pending_sel[0], bit(2));
	CU_ASSERT_EQUAL(FA->kicks[2], 1);
	/* Port 7 (UNBOUND, vCPU 0) has a pending bit the guest left: it counts. */
	register_info(FA, 0);
	CU_ASSERT_EQUAL(FA->vi[0].evtchn_pending_sel[0], bit(0));
	CU_ASSERT_EQUAL(FA->kicks[0], 1);
	/* Unregistering stops selector writes. */
	CU_ASSERT_EQUAL(evtchn_vcpu_info_registered(A, 1, NULL), 0);
	memset(&FA->vi[1], 0, sizeof(FA->vi[1]));
	guest_ack(FA, 5);
	CU_ASSERT_EQUAL(evtchn_send(B, 1), 0);
	CU_ASSERT_TRUE(selectors_clear(FA, 1));
	CU_ASSERT_EQUAL(kicks(FA), 3);
	/* Bad arguments. */
	CU_ASSERT_EQUAL(evtchn_vcpu_info_registered(A, 3, &FA->vi[0]), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_vcpu_info_registered(A, UINT32_MAX, NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_vcpu_info_registered(
				A, 1, (struct keel_vcpu_info *)((char *)&FA->vi[1] + 8)),
			-KEEL_EFAULT);
}

/* BIND_VCPU. */

static void test_bind_vcpu(void)
{
	long unbound = evtchn_alloc_unbound(A, FB->domid);
	long ipi = evtchn_bind_ipi(A, 0);
	long virq = evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 0);
	uint32_t pa, pb;

	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, (uint32_t)unbound, 2), 0);
	CU_ASSERT_EQUAL(status(A, (uint32_t)unbound).vcpu, 2);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, (uint32_t)ipi, 1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, (uint32_t)virq, 1), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, (uint32_t)unbound, 3), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, KEEL_EVTCHN_BASE_PORTS, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, 100, 0), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, 100, 9), -KEEL_EINVAL);	/* range first */
	CU_ASSERT_EQUAL(status(A, (uint32_t)ipi).vcpu, 0);

	/* A pending, unmasked port moves its upcall to the new vCPU. */
	connect(FA, &pa, FB, &pb);
	register_info(FA, 0);
	register_info(FA, 2);
	guest_unmask(FA, pa);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_EQUAL(FA->kicks[0], 1);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, pa, 2), 0);
	CU_ASSERT_TRUE(sel_set(FA, 2, pa));
	CU_ASSERT_EQUAL(FA->kicks[2], 1);
	/* A masked one does not. */
	CU_ASSERT_EQUAL(evtchn_mask(A, pa), 0);
	memset(&FA->vi[0], 0, sizeof(FA->vi[0]));
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, pa, 0), 0);
	CU_ASSERT_TRUE(selectors_clear(FA, 0));
	CU_ASSERT_EQUAL(kicks(FA), 2);
}

/* STATUS and CLOSE. */

static void test_status(void)
{
	struct keel_evtchn_status st = { .port = 0 };

	CU_ASSERT_EQUAL(evtchn_status(A, &st), -KEEL_EINVAL);
	st.port = KEEL_EVTCHN_BASE_PORTS;
	CU_ASSERT_EQUAL(evtchn_status(A, &st), -KEEL_EINVAL);
	st.port = UINT32_MAX;
	CU_ASSERT_EQUAL(evtchn_status(A, &st), -KEEL_EINVAL);
	/* FREE reads FREE with every field 0. */
	st = status(A, KEEL_EVTCHN_BASE_PORTS - 1);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_FREE);
	CU_ASSERT_EQUAL(st.port, KEEL_EVTCHN_BASE_PORTS - 1);
	CU_ASSERT_EQUAL(st.vcpu | st.remote_domid | st.remote_port | st.virq, 0);
	st = status(A, 300);	/* in a bucket not allocated yet */
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_FREE);
}

static void test_close(void)
{
	long unbound = evtchn_alloc_unbound(A, FB->domid);
	long ipi = evtchn_bind_ipi(A, 0);

	CU_ASSERT_EQUAL(evtchn_close(A, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_close(A, KEEL_EVTCHN_BASE_PORTS), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_close(A, UINT32_MAX), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(evtchn_close(A, 3), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_close(A, (uint32_t)unbound), 0);
	CU_ASSERT_EQUAL(evtchn_close(A, (uint32_t)unbound), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_close(A, (uint32_t)ipi), 0);
	CU_ASSERT_EQUAL(evtchn_close(A, (uint32_t)ipi), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(state_of(A, 1), KEEL_EVTCHN_STATE_FREE);
	/* B cannot bind what was offered and closed. */
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)unbound),
			-KEEL_ENOENT);
}

/* Peer loss. */

static void check_peer_lost(struct fake_dom *f, uint32_t port, uint32_t domid)
{
	struct keel_evtchn_status st = status(f->d, port);

	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(st.remote_domid, domid);
	CU_ASSERT_EQUAL(st.remote_port, 0);
	CU_ASSERT_TRUE(is_pending(f, port));
}

static void test_peer_loss_on_close(void)
{
	uint32_t pa, pb, pc, pa2;

	/* Lower domid closes. */
	connect(FA, &pa, FB, &pb);
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(B, pb, 1), 0);
	register_info(FB, 1);
	guest_unmask(FB, pb);
	CU_ASSERT_EQUAL(evtchn_close(A, pa), 0);
	CU_ASSERT_EQUAL(state_of(A, pa), KEEL_EVTCHN_STATE_FREE);
	check_peer_lost(FB, pb, FA->domid);
	CU_ASSERT_EQUAL(status(B, pb).vcpu, 1);		/* affinity kept */
	CU_ASSERT_TRUE(sel_set(FB, 1, pb));
	CU_ASSERT_EQUAL(FB->kicks[1], 1);
	/* Sending on the survivor now does nothing. */
	guest_ack(FB, pb);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	CU_ASSERT_FALSE(is_pending(FB, pb));
	/* A restarted peer binds the same port again. */
	pa2 = (uint32_t)evtchn_bind_interdomain(A, FB->domid, pb);
	CU_ASSERT_EQUAL(pa2, pa);
	CU_ASSERT_EQUAL(status(B, pb).remote_port, pa2);

	/* Higher domid closes (the other lock order). */
	connect(FA, &pa, FC, &pc);
	CU_ASSERT_EQUAL(evtchn_close(C, pc), 0);
	check_peer_lost(FA, pa, FC->domid);
	/* Closing the survivor is plain. */
	CU_ASSERT_EQUAL(evtchn_close(A, pa), 0);
	CU_ASSERT_EQUAL(evtchn_close(A, pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(FA->refs + FB->refs + FC->refs, 0);
}

static void test_peer_loss_on_destroy(void)
{
	uint32_t a1, b1, b2, a2, a3, c1, b_for_a;
	long a_for_b, loop1, loop2;

	connect(FA, &a1, FB, &b1);		/* A offered, B bound */
	connect(FB, &b2, FA, &a2);		/* B offered, A bound */
	connect(FC, &c1, FA, &a3);		/* C too */
	a_for_b = evtchn_alloc_unbound(A, FB->domid);
	b_for_a = (uint32_t)evtchn_alloc_unbound(B, FA->domid);
	CU_ASSERT(evtchn_bind_virq(A, KEEL_VIRQ_CONSOLE, 0) > 0);
	CU_ASSERT(evtchn_bind_ipi(A, 1) > 0);
	loop1 = evtchn_alloc_unbound(A, KEEL_DOMID_SELF);
	loop2 = evtchn_bind_interdomain(A, KEEL_DOMID_SELF, (uint32_t)loop1);
	CU_ASSERT(a_for_b > 0 && loop2 > loop1 && loop1 > 0);
	register_info(FB, 0);
	guest_unmask(FB, b1);
	/* Closing loop1 raises loop2 during the teardown: no kick into A. */
	register_info(FA, 0);
	guest_unmask(FA, (uint32_t)loop2);

	dom_destroy(FA);
	check_peer_lost(FB, b1, FA->domid);
	check_peer_lost(FB, b2, FA->domid);
	check_peer_lost(FC, c1, FA->domid);
	CU_ASSERT_EQUAL(state_of(B, b_for_a), KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_FALSE(is_pending(FB, b_for_a));
	CU_ASSERT_EQUAL(FB->kicks[0], 1);
	CU_ASSERT_EQUAL(kicks(FA), 0);
	/* The dead peer's id is refused from now on. */
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)a_for_b),
			-KEEL_ESRCH);
	CU_ASSERT_EQUAL(evtchn_send(B, b1), 0);
	CU_ASSERT_EQUAL(evtchn_close(B, b1), 0);
	CU_ASSERT_EQUAL(evtchn_close(B, b2), 0);
	CU_ASSERT_EQUAL(FB->refs + FC->refs, 0);
}

static void test_dying_peer_is_left_alone(void)
{
	uint32_t pa, pb;

	connect(FA, &pa, FB, &pb);
	register_info(FB, 0);
	guest_unmask(FB, pb);
	/* B is dying but not torn down yet: A's sends and close skip it. */
	FB->dying = true;
	CU_ASSERT_EQUAL(evtchn_send(A, pa), 0);
	CU_ASSERT_FALSE(is_pending(FB, pb));
	CU_ASSERT_EQUAL(evtchn_close(A, pa), 0);
	CU_ASSERT_EQUAL(state_of(A, pa), KEEL_EVTCHN_STATE_FREE);
	CU_ASSERT_EQUAL(state_of(B, pb), KEEL_EVTCHN_STATE_INTERDOMAIN);
	/* A reuses the port number for something else before B's teardown. */
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), pa);
	dom_destroy(FB);
	CU_ASSERT_EQUAL(state_of(A, pa), KEEL_EVTCHN_STATE_IPI);
	CU_ASSERT_FALSE(is_pending(FA, pa));
	CU_ASSERT_EQUAL(kicks(FA) + kicks(FB), 0);
	CU_ASSERT_EQUAL(FA->refs, 0);
}

static void check_links(uint32_t ports);

/* Races: another CPU acts while evtchn looks the peer up. */

static void race_peer_closes_and_reuses(void)
{
	CU_ASSERT_EQUAL(evtchn_close(B, race_pb), 0);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(B, 0), race_pb);
}

static void race_peer_closes(void)
{
	CU_ASSERT_EQUAL(evtchn_close(B, race_pb), 0);
}

static void race_peer_closes_and_rebinds(void)
{
	CU_ASSERT_EQUAL(evtchn_close(B, race_pb), 0);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(B, 0), race_pb);	/* new end differs */
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, race_pa), race_pb + 1);
}

static void race_own_close_then_ipi(void)
{
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), 0);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), race_pa);
}

static void race_own_close_then_other_peer(void)
{
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), 0);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, FC->domid), race_pa);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(C, FA->domid, race_pa), 1);
}

static void test_send_races_with_the_peer(void)
{
	connect(FA, &race_pa, FB, &race_pb);
	register_info(FB, 0);
	guest_unmask(FB, race_pb);
	/* B's end is closed and its number reused before A's event lands. */
	race = race_peer_closes_and_reuses;
	CU_ASSERT_EQUAL(evtchn_send(A, race_pa), 0);
	CU_ASSERT_PTR_NULL(race);
	CU_ASSERT_EQUAL(state_of(B, race_pb), KEEL_EVTCHN_STATE_IPI);
	CU_ASSERT_FALSE(is_pending(FB, race_pb));
	CU_ASSERT_EQUAL(kicks(FB), 0);
	check_peer_lost(FA, race_pa, FB->domid);
}

static void test_close_races(void)
{
	/* The peer closes first: ours is UNBOUND by then, and is freed. */
	connect(FA, &race_pa, FB, &race_pb);
	race = race_peer_closes;
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), 0);
	CU_ASSERT_EQUAL(state_of(A, race_pa), KEEL_EVTCHN_STATE_FREE);
	CU_ASSERT_EQUAL(state_of(B, race_pb), KEEL_EVTCHN_STATE_FREE);

	/* The peer closes and binds our port again: the new link is broken. */
	connect(FA, &race_pa, FB, &race_pb);
	race = race_peer_closes_and_rebinds;
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), 0);
	CU_ASSERT_EQUAL(state_of(A, race_pa), KEEL_EVTCHN_STATE_FREE);
	check_peer_lost(FB, race_pb + 1, FA->domid);
	CU_ASSERT_EQUAL(evtchn_close(B, race_pb), 0);
	CU_ASSERT_EQUAL(evtchn_close(B, race_pb + 1), 0);

	/* Another vCPU of A closed it and reused the number: ENOENT. */
	connect(FA, &race_pa, FB, &race_pb);
	race = race_own_close_then_ipi;
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(state_of(A, race_pa), KEEL_EVTCHN_STATE_IPI);
	check_peer_lost(FB, race_pb, FA->domid);
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), 0);
	CU_ASSERT_EQUAL(evtchn_close(B, race_pb), 0);

	/* ... or reused it for a channel to another domain: left alone. */
	connect(FA, &race_pa, FB, &race_pb);
	race = race_own_close_then_other_peer;
	CU_ASSERT_EQUAL(evtchn_close(A, race_pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(status(A, race_pa).remote_domid, FC->domid);
	CU_ASSERT_EQUAL(status(C, 1).remote_port, race_pa);
	check_peer_lost(FB, race_pb, FA->domid);
	check_links(8);
	CU_ASSERT_EQUAL(FA->refs + FB->refs + FC->refs, 0);
}

/* SET_UPCALL. */

static long set_upcall(struct evtchn_domain *d, uint32_t vcpu, uint32_t mode,
		       uint32_t vector, uint32_t pad0)
{
	struct keel_evtchn_upcall req = { vcpu, mode, vector, pad0 };

	return evtchn_set_upcall(d, &req);
}

static void test_set_upcall(void)
{
	uint32_t mode = 99, vector = 99;

	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 1, &mode, &vector), 0);
	CU_ASSERT_EQUAL(mode, KEEL_UPCALL_NONE);
	CU_ASSERT_EQUAL(vector, 0);
	CU_ASSERT_EQUAL(set_upcall(A, 1, KEEL_UPCALL_VECTOR, 0x20, 0), 0);
	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 1, &mode, &vector), 0);
	CU_ASSERT_EQUAL(mode, KEEL_UPCALL_VECTOR);
	CU_ASSERT_EQUAL(vector, 0x20);
	CU_ASSERT_EQUAL(set_upcall(A, 2, KEEL_UPCALL_VECTOR, 0xff, 0), 0);
	CU_ASSERT_EQUAL(set_upcall(A, 0, KEEL_UPCALL_PLATFORM, 5, 0), 0);
	CU_ASSERT_EQUAL(platform_vcpu, 0);
	CU_ASSERT_EQUAL(platform_entry, 5);
	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 0, &mode, &vector), 0);
	CU_ASSERT_EQUAL(mode, KEEL_UPCALL_PLATFORM);
	CU_ASSERT_EQUAL(vector, 5);
	CU_ASSERT_EQUAL(set_upcall(A, 1, KEEL_UPCALL_NONE, 0, 0), 0);
	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 1, &mode, &vector), 0);
	CU_ASSERT_EQUAL(mode, KEEL_UPCALL_NONE);
	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 3, &mode, &vector), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(kicks(FA), 0);		/* nothing was pending */
}

static void test_set_upcall_errors(void)
{
	uint32_t mode, vector;

	CU_ASSERT_EQUAL(set_upcall(A, 3, KEEL_UPCALL_NONE, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, UINT32_MAX, KEEL_UPCALL_NONE, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, 3, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, UINT32_MAX, 0x40, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, KEEL_UPCALL_VECTOR, 0x1f, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, KEEL_UPCALL_VECTOR, 0x100, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, KEEL_UPCALL_VECTOR, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, KEEL_UPCALL_NONE, 1, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(A, 0, KEEL_UPCALL_VECTOR, 0x40, 1), -KEEL_EINVAL);
	platform_result = -KEEL_EINVAL;
	CU_ASSERT_EQUAL(set_upcall(A, 1, KEEL_UPCALL_PLATFORM, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(platform_vcpu, 1);
	/* B has neither feature; range errors still come first. */
	CU_ASSERT_EQUAL(set_upcall(B, 0, KEEL_UPCALL_VECTOR, 0x40, 0), -KEEL_EOPNOTSUPP);
	CU_ASSERT_EQUAL(set_upcall(B, 0, KEEL_UPCALL_PLATFORM, 0, 0), -KEEL_EOPNOTSUPP);
	CU_ASSERT_EQUAL(set_upcall(B, 0, KEEL_UPCALL_VECTOR, 0x10, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(set_upcall(B, 0, KEEL_UPCALL_NONE, 0, 0), 0);
	/* Nothing stuck. */
	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 0, &mode, &vector), 0);
	CU_ASSERT_EQUAL(mode, KEEL_UPCALL_NONE);
	CU_ASSERT_EQUAL(evtchn_vcpu_upcall(A, 1, &mode, &vector), 0);
	CU_ASSERT_EQUAL(mode, KEEL_UPCALL_NONE);
}

static void test_set_upcall_kicks_if_already_pending(void)
{
	long p = evtchn_bind_ipi(A, 1);

	register_info(FA, 1);
	guest_unmask(FA, (uint32_t)p);
	CU_ASSERT_EQUAL(evtchn_send(A, (uint32_t)p), 0);
	CU_ASSERT_EQUAL(FA->kicks[1], 1);
	CU_ASSERT_EQUAL(set_upcall(A, 1, KEEL_UPCALL_VECTOR, 0xf3, 0), 0);
	CU_ASSERT_EQUAL(FA->kicks[1], 2);
	/* Not pending: no kick. */
	FA->vi[1].upcall_pending = 0;
	CU_ASSERT_EQUAL(set_upcall(A, 1, KEEL_UPCALL_VECTOR, 0xf4, 0), 0);
	CU_ASSERT_EQUAL(FA->kicks[1], 2);
	/* No vcpu_info: no kick. */
	CU_ASSERT_EQUAL(set_upcall(A, 2, KEEL_UPCALL_VECTOR, 0xf4, 0), 0);
	CU_ASSERT_EQUAL(kicks(FA), 2);
}

/* EXPAND. */

static void test_expand_errors(void)
{
	struct keel_evtchn_expand req = { .index = 0, .pending_gfn = 1, .mask_gfn = 2 };
	uint64_t *pages = aligned_alloc(PAGE_SIZE, 2 * PAGE_SIZE);

	CU_ASSERT_FATAL(pages != NULL);
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, NULL, pages), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages + 1, pages + 512), -KEEL_EFAULT);
	req.index = 1;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages, pages + 512), -KEEL_EINVAL);
	req.index = KEEL_EVTCHN_EXPAND_PAGES_MAX;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages, pages + 512), -KEEL_EINVAL);
	req.index = UINT32_MAX;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages, pages + 512), -KEEL_EINVAL);
	req.index = 0;
	req.pad0 = 1;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages, pages + 512), -KEEL_EINVAL);
	req.pad0 = 0;
	req.mask_gfn = req.pending_gfn;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages, pages + 512), -KEEL_EINVAL);
	req.mask_gfn = 2;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, pages, pages), -KEEL_EINVAL);
	/* B lacks the feature (after the EINVAL checks); B's maximum is 4096. */
	req.pad0 = 1;
	CU_ASSERT_EQUAL(evtchn_expand(B, &req, pages, pages + 512), -KEEL_EINVAL);
	req.pad0 = 0;
	CU_ASSERT_EQUAL(evtchn_expand(B, &req, pages, pages + 512), -KEEL_EOPNOTSUPP);
	CU_ASSERT_EQUAL(evtchn_port_limit(A), KEEL_EVTCHN_BASE_PORTS);
	CU_ASSERT_EQUAL(FA->si->evtchn_port_limit, KEEL_EVTCHN_BASE_PORTS);
	free(pages);
}

static void test_expand_to_the_configured_maximum(void)
{
	/* C's maximum is 40000: the second pair is cut short, no third. */
	CU_ASSERT_EQUAL(evtchn_send(C, 39999), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(expand(FC, 0), 36864);
	CU_ASSERT_EQUAL(FC->si->evtchn_port_limit, 36864);
	CU_ASSERT_EQUAL(evtchn_send(C, 39999), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(expand(FC, 0), -KEEL_EINVAL);	/* not the next index */
	CU_ASSERT_EQUAL(expand(FC, 2), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(expand(FC, 1), 40000);
	CU_ASSERT_EQUAL(FC->si->evtchn_port_limit, 40000);
	CU_ASSERT_EQUAL(evtchn_port_limit(C), 40000);
	CU_ASSERT_EQUAL(expand(FC, 2), -KEEL_ENOSPC);
	CU_ASSERT_EQUAL(evtchn_send(C, 39999), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_send(C, 40000), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(state_of(C, 39999), KEEL_EVTCHN_STATE_FREE);
	/* The other end binds C's ports above 4096 only once they exist. */
	fill_until(FC, 4200);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(C, FA->domid), 4200);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(A, FC->domid, 4200), 1);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(A, FC->domid, 40000), -KEEL_EINVAL);
}

static void test_send_on_an_expanded_port(void)
{
	uint32_t pa, pb;

	CU_ASSERT_EQUAL(expand(FA, 0), KEEL_EVTCHN_BASE_PORTS + KEEL_EVTCHN_PORTS_PER_PAGE);
	fill_until(FA, KEEL_EVTCHN_BASE_PORTS);
	connect(FB, &pb, FA, &pa);
	CU_ASSERT_EQUAL(pa, KEEL_EVTCHN_BASE_PORTS);
	/* Allocation cleared the pending bit in the expansion page. */
	CU_ASSERT_FALSE(is_pending(FA, pa));
	CU_ASSERT_EQUAL(evtchn_bind_vcpu(A, pa, 2), 0);
	register_info(FA, 2);
	CU_ASSERT_TRUE(is_masked(FA, pa));
	CU_ASSERT_EQUAL(evtchn_unmask(A, pa), 0);
	CU_ASSERT_EQUAL(FA->mask_pages[0][0], UINT64_MAX - 1);
	CU_ASSERT_EQUAL(evtchn_send(B, pb), 0);
	/* Bit 0 of word 0 of the first pair; word 64 overall: sel[1] bit 0. */
	CU_ASSERT_EQUAL(FA->pending_pages[0][0], 1);
	CU_ASSERT_EQUAL(FA->si->evtchn_pending[63] & bit(63), 0);
	CU_ASSERT_EQUAL(FA->vi[2].evtchn_pending_sel[1], 1);
	CU_ASSERT_EQUAL(FA->vi[2].evtchn_pending_sel[0], 0);
	CU_ASSERT_EQUAL(FA->vi[2].evtchn_pending_top, bit(1));
	CU_ASSERT_EQUAL(FA->kicks[2], 1);
	CU_ASSERT_EQUAL(evtchn_port_pending(A, pa), 1);
	/* And back. */
	CU_ASSERT_EQUAL(evtchn_send(A, pa), 0);
	CU_ASSERT_TRUE(is_pending(FB, pb));
	CU_ASSERT_EQUAL(evtchn_close(A, pa), 0);
	check_peer_lost(FB, pb, FA->domid);
}

/* Every pair, up to the last port the selectors reach. */
static void test_all_262143_ports(void)
{
	const uint32_t last = KEEL_EVTCHN_MAX_PORTS - 1;
	uint64_t before = page_alloc_free_count();
	struct keel_evtchn_expand req = { .pending_gfn = 1, .mask_gfn = 2 };
	long p;

	for (uint32_t i = 0; i < PAIRS; i++) {
		uint32_t want = MIN(KEEL_EVTCHN_BASE_PORTS + (i + 1) * KEEL_EVTCHN_PORTS_PER_PAGE,
				    KEEL_EVTCHN_MAX_PORTS);

		CU_ASSERT_EQUAL(expand(FA, i), want);
	}
	CU_ASSERT_EQUAL(FA->si->evtchn_port_limit, KEEL_EVTCHN_MAX_PORTS);
	req.index = PAIRS;
	CU_ASSERT_EQUAL(evtchn_expand(A, &req, FA->pending_pages[0], FA->mask_pages[0]),
			-KEEL_EINVAL);
	fill_until(FA, last + 1);
	CU_ASSERT_EQUAL(state_of(A, last), KEEL_EVTCHN_STATE_IPI);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 0), -KEEL_ENOSPC);
	/* 1023 more port pages than the first. */
	CU_ASSERT_EQUAL(before - page_alloc_free_count(), 1023);

	CU_ASSERT_EQUAL(evtchn_close(A, last), 0);
	CU_ASSERT_EQUAL(evtchn_bind_ipi(A, 1), last);
	register_info(FA, 1);
	CU_ASSERT_EQUAL(evtchn_unmask(A, last), 0);
	CU_ASSERT_EQUAL(evtchn_send(A, last), 0);
	/* Pair 7, its port 28671: word 447, bit 63. Word 4095: sel[63] bit 63. */
	CU_ASSERT_EQUAL(FA->pending_pages[7][447], bit(63));
	CU_ASSERT_EQUAL(FA->vi[1].evtchn_pending_sel[63], bit(63));
	CU_ASSERT_EQUAL(FA->vi[1].evtchn_pending_top, bit(63));
	CU_ASSERT_EQUAL(FA->kicks[1], 1);
	/* A port from the middle, freed: the lowest free is handed out. */
	CU_ASSERT_EQUAL(evtchn_close(A, 100000), 0);
	CU_ASSERT_EQUAL(evtchn_close(A, 7), 0);
	CU_ASSERT_EQUAL(evtchn_alloc_unbound(A, FB->domid), 7);
	p = evtchn_alloc_unbound(A, FB->domid);
	CU_ASSERT_EQUAL(p, 100000);
	CU_ASSERT_EQUAL(evtchn_bind_interdomain(B, FA->domid, (uint32_t)p), 1);
}

/* Random calls with mostly bad arguments: links stay symmetric. */

static const struct fake_dom *fake_by_id(uint32_t domid)
{
	for (unsigned int i = 0; i < DOMS; i++) {
		if (doms[i].domid == domid) {
			return &doms[i];
		}
	}
	return NULL;
}

static void check_links(uint32_t ports)
{
	for (unsigned int i = 0; i < DOMS; i++) {
		for (uint32_t p = 1; p < ports; p++) {
			struct keel_evtchn_status st = status(doms[i].d, p);
			const struct fake_dom *peer;

			if (st.state != KEEL_EVTCHN_STATE_INTERDOMAIN) {
				continue;
			}
			peer = fake_by_id(st.remote_domid);
			CU_ASSERT_FATAL(peer != NULL);
			st = status(peer->d, st.remote_port);
			CU_ASSERT_EQUAL_FATAL(st.state, KEEL_EVTCHN_STATE_INTERDOMAIN);
			CU_ASSERT_EQUAL_FATAL(st.remote_domid, doms[i].domid);
			CU_ASSERT_EQUAL_FATAL(st.remote_port, p);
		}
	}
}

static uint32_t random_domid(uint32_t x)
{
	static const uint32_t ids[] = { 0, 1, 2, 3, 99, KEEL_DOMID_SELF };

	return ids[x % ARRAY_SIZE(ids)];
}

static uint32_t random_arg(uint64_t *seed)
{
	static const uint32_t odd[] = {
		0, KEEL_EVTCHN_BASE_PORTS, UINT32_MAX, KEEL_DOMID_SELF, 4, 99,
	};
	uint32_t r = unit_rand(seed);

	return r % 8 == 0 ? odd[(r / 8) % ARRAY_SIZE(odd)] : (r / 8) % 24;
}

static long random_call(struct fake_dom *f, uint32_t which, uint32_t x,
			uint32_t y)
{
	switch (which) {
	case 0:
		return evtchn_alloc_unbound(f->d, random_domid(x));
	case 1:
		return evtchn_bind_interdomain(f->d, random_domid(x), y);
	case 2:
		return evtchn_bind_virq(f->d, x % 9, y % 4);
	case 3:
		return evtchn_bind_ipi(f->d, x % 4);
	case 4:
		return evtchn_bind_vcpu(f->d, x, y % 4);
	case 5:
		return evtchn_unmask(f->d, x);
	case 6:
		return evtchn_mask(f->d, x);
	case 7:
		return evtchn_close(f->d, x);
	default:
		return evtchn_send(f->d, x);
	}
}

static void test_random_calls_keep_links_symmetric(void)
{
	uint64_t seed = 12345;

	for (unsigned int v = 0; v < VCPUS_MAX; v++) {
		register_info(FA, v);
		register_info(FB, v);
	}
	for (unsigned int i = 0; i < 20000; i++) {
		struct fake_dom *f = &doms[unit_rand(&seed) % DOMS];
		uint32_t x = random_arg(&seed), y = random_arg(&seed);
		long r;

		r = random_call(f, unit_rand(&seed) % 10, x, y);
		CU_ASSERT_FATAL(r >= -KEEL_ERRNO_MAX);
		CU_ASSERT_EQUAL_FATAL(FA->refs + FB->refs + FC->refs, 0);
		if (i % 64 == 0) {
			check_links(40);
		}
	}
	check_links(64);
	CU_ASSERT_FALSE(FA->kicked_with_irqs_on || FB->kicked_with_irqs_on);
}

static CU_TestInfo evtchn_tests[] = {
	{ "create sets up the shared page", test_create_sets_up_the_shared_page },
	{ "create rejects a bad config", test_create_rejects_a_bad_config },
	{ "alloc unbound", test_alloc_unbound },
	{ "alloc unbound needs a live remote", test_alloc_unbound_needs_a_live_remote },
	{ "allocation clears pending and reuses the lowest",
	  test_allocation_clears_pending_and_reuses_lowest },
	{ "table full", test_table_full },
	{ "bind interdomain", test_bind_interdomain },
	{ "bind interdomain errors", test_bind_interdomain_errors },
	{ "loopback channel", test_loopback_channel },
	{ "bind virq", test_bind_virq },
	{ "bind virq errors", test_bind_virq_errors },
	{ "raise virq", test_raise_virq },
	{ "bind ipi", test_bind_ipi },
	{ "send errors", test_send_errors },
	{ "send on a port you do not own", test_send_on_a_port_you_do_not_own },
	{ "send on unbound does nothing", test_send_unbound_does_nothing },
	{ "send on ipi raises the port itself", test_send_ipi_raises_the_port_itself },
	{ "send on interdomain raises the peer", test_send_interdomain_raises_the_peer },
	{ "delivery sets bits and kicks once", test_delivery_sets_bits_and_kicks_once },
	{ "masked ports do not kick", test_masked_ports_do_not_kick },
	{ "mask errors", test_mask_errors },
	{ "port pending ignores the mask", test_port_pending_ignores_the_mask },
	{ "events before registration", test_events_before_registration },
	{ "bind vcpu", test_bind_vcpu },
	{ "status", test_status },
	{ "close", test_close },
	{ "peer loss on close", test_peer_loss_on_close },
	{ "peer loss on destroy", test_peer_loss_on_destroy },
	{ "dying peer is left alone", test_dying_peer_is_left_alone },
	{ "send races with the peer", test_send_races_with_the_peer },
	{ "close races", test_close_races },
	{ "set upcall", test_set_upcall },
	{ "set upcall errors", test_set_upcall_errors },
	{ "set upcall kicks if already pending", test_set_upcall_kicks_if_already_pending },
	{ "expand errors", test_expand_errors },
	{ "expand to the configured maximum", test_expand_to_the_configured_maximum },
	{ "send on an expanded port", test_send_on_an_expanded_port },
	{ "all 262143 ports", test_all_262143_ports },
	{ "random calls keep links symmetric", test_random_calls_keep_links_symmetric },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo evtchn_suite = {
	.pName = "evtchn",
	.pInitFunc = init,
	.pSetUpFunc = setup,
	.pTearDownFunc = teardown,
	.pTests = evtchn_tests,
};
