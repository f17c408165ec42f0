/* SPDX-License-Identifier: MIT */
/* isolation.c: what a domain without capabilities cannot do to another, run as two instances. */
#include "keeltest64.h"

/*
 * Command line: peer=<domid of the other instance>. tests/configs/isolation.dts
 * starts two instances with no capabilities and no devices; each one is
 * the other's target. The only channel between them is grants, so each
 * instance publishes a read-only "beacon" page (grant BEACON_REF to the
 * peer) describing its other grants and ports, and a read-write "done"
 * page (grant DONE_REF to the peer) that the peer marks when it finished,
 * so that neither shuts down while the other still probes it.
 *
 *   ref 1  beacon: read-only to the peer, struct beacon
 *   ref 2  granted to ourselves (so: to "someone else" for the peer)
 *   ref 3  never granted
 *   ref 4  done page: read-write to the peer
 *
 * One result line, named after the domain so that the two instances differ:
 *   keeltest: isolation-<domain name>: SUCCESS|FAILURE with numbered checks.
 */
const char test_name[] = "isolation";

#define BEACON_MAGIC	0x4e434542u	/* "BECN" */
#define DONE_MAGIC	0x454e4f44u	/* "DONE" */
#define BEACON_REF	1
#define SELF_REF	2
#define NEVER_REF	3
#define DONE_REF	4
#define WAIT		(60 * KT_NS_PER_S)

struct beacon {
	uint32_t magic;
	uint32_t domid;
	uint32_t port_for_self;		/* UNBOUND for the publisher itself */
	uint32_t port_for_peer;		/* UNBOUND for the reader */
	uint32_t limit;			/* the publisher's port limit */
	uint32_t pad;
};

static uint8_t beacon_page[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint8_t self_page[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint8_t done_page[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint8_t scratch[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint8_t area[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint32_t peer;
static char name[48] = "isolation";

static uint64_t gfn_of(const void *p)
{
	return KT_GPA(p) >> KEEL_PAGE_SHIFT;
}

/* A copy element from a grant of domid to our own GFN. */
static struct keel_gnttab_copy from_grant(uint32_t domid, uint32_t ref, uint64_t dst_gfn,
					  uint16_t len)
{
	return (struct keel_gnttab_copy){ .src_domid = domid, .src_ref = ref,
					  .dst_domid = KEEL_DOMID_SELF, .dst_gfn = dst_gfn,
					  .len = len };
}

/* A copy element from our own GFN into a grant of domid. */
static struct keel_gnttab_copy to_grant(uint64_t src_gfn, uint32_t domid, uint32_t ref,
					uint16_t len)
{
	return (struct keel_gnttab_copy){ .src_domid = KEEL_DOMID_SELF, .src_gfn = src_gfn,
					  .dst_domid = domid, .dst_ref = ref, .len = len };
}

static long copy_one(struct keel_gnttab_copy *c)
{
	long n;

	memcpy(area, c, sizeof(*c));
	n = keel_hypercall2(KEEL_HC_GNTTAB_COPY, KT_GPA(area), 1);
	memcpy(c, area, sizeof(*c));
	if (n != 1) {
		return n < 0 ? n : -1000;
	}
	return c->status;
}

static long map_one(struct keel_gnttab_map *m)
{
	long n;

	memcpy(area, m, sizeof(*m));
	n = keel_hypercall2(KEEL_HC_GNTTAB_MAP, KT_GPA(area), 1);
	memcpy(m, area, sizeof(*m));
	if (n != 1) {
		return n < 0 ? n : -1000;
	}
	return m->status;
}

static long unmap_one(uint64_t gfn, uint32_t handle)
{
	struct keel_gnttab_unmap u = { .gfn = gfn, .handle = handle };
	long n;

	memcpy(area, &u, sizeof(u));
	n = keel_hypercall2(KEEL_HC_GNTTAB_UNMAP, KT_GPA(area), 1);
	memcpy(&u, area, sizeof(u));
	if (n != 1) {
		return n < 0 ? n : -1000;
	}
	return u.status;
}

static bool publish(void)
{
	struct beacon *b = (struct beacon *)beacon_page;
	long self_port, peer_port, rc;

	rc = kt_gnttab_init(1);
	self_port = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, KEEL_DOMID_SELF);
	peer_port = keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, peer);
	if (rc != 0 || self_port <= 0 || peer_port <= 0) {
		keeltest_result(name, KEELTEST_ERROR,
				"setting up: grant table %ld, ports %ld %ld (is peer=%u right?)",
				rc,
				self_port, peer_port, peer);
		return false;
	}
	memset(beacon_page, 0, sizeof(beacon_page));
	b->domid = kt_boot.domid;
	b->port_for_self = (uint32_t)self_port;
	b->port_for_peer = (uint32_t)peer_port;
	b->limit = kt_shared->evtchn_port_limit;
	b->magic = BEACON_MAGIC;
	memset(self_page, 0x77, sizeof(self_page));
	memset(done_page, 0, sizeof(done_page));
	kt_grant(SELF_REF, kt_boot.domid, gfn_of(self_page), false);
	kt_grant(DONE_REF, peer, gfn_of(done_page), false);
	/* The beacon last: once the peer can read it, everything it describes exists. */
	kt_grant(BEACON_REF, peer, gfn_of(beacon_page), true);
	return true;
}

/* Read the peer's beacon with GNTTAB_COPY until it is there. */
static bool read_beacon(struct beacon *out)
{
	uint64_t deadline = kt_now_ns() + WAIT;
	struct keel_gnttab_copy c;
	long rc;

	do {
		c = from_grant(peer, BEACON_REF, gfn_of(scratch), sizeof(*out));
		rc = copy_one(&c);
		if (rc == 0) {
			memcpy(out, scratch, sizeof(*out));
			if (out->magic == BEACON_MAGIC) {
				return true;
			}
		}
		kt_sleep_ns(5 * KT_NS_PER_MS);
	} while (kt_now_ns() < deadline);
	keeltest_result(name, KEELTEST_FAILURE,
			"no beacon from domain %u within %lu s (last COPY %ld %s)",
			peer, WAIT / KT_NS_PER_S, rc, kt_errname(rc));
	return false;
}

static void check_grants(void)
{
	uint64_t target = kt_window_alloc(1) >> KEEL_PAGE_SHIFT;
	struct keel_gnttab_map m;
	struct keel_gnttab_copy c;
	bool untouched = true;
	long rc;

	m = (struct keel_gnttab_map){ .domid = peer, .ref = NEVER_REF, .gfn = target };
	kt_check_rc("MAP of a ref the peer never granted", map_one(&m), -KEEL_ENOENT);
	m = (struct keel_gnttab_map){ .domid = peer, .ref = SELF_REF, .gfn = target };
	kt_check_rc("MAP of a ref granted to another domain", map_one(&m), -KEEL_ENOENT);
	m = (struct keel_gnttab_map){ .domid = peer, .ref = KEEL_GRANT_ENTRIES_PER_FRAME + 1,
				      .gfn = target };
	kt_check_rc("MAP of a ref beyond the peer's table", map_one(&m), -KEEL_ENOENT);
	m = (struct keel_gnttab_map){ .domid = peer, .ref = KEEL_GRANT_REF_INVALID, .gfn = target };
	kt_check_rc("MAP of KEEL_GRANT_REF_INVALID", map_one(&m), -KEEL_ENOENT);
	m = (struct keel_gnttab_map){ .domid = peer, .ref = BEACON_REF, .gfn = target };
	kt_check_rc("writable MAP of a read-only grant", map_one(&m), -KEEL_EACCES);
	m = (struct keel_gnttab_map){ .domid = peer, .ref = BEACON_REF, .gfn = target,
				      .flags = KEEL_GNTMAP_READONLY };
	rc = map_one(&m);
	kt_check_rc("read-only MAP of the read-only grant", rc, 0);
	if (rc == 0) {
		const struct beacon *b = KT_PTR(target << KEEL_PAGE_SHIFT);

		kt_check(b->magic == BEACON_MAGIC && b->domid == peer,
			 "the mapped beacon is the peer's",
			 "magic 0x%x domid %u", b->magic, b->domid);
		kt_check_rc("UNMAP of it", unmap_one(target, m.handle), 0);
	}

	memset(scratch, 0x11, sizeof(scratch));
	c = from_grant(peer, SELF_REF, gfn_of(scratch), KEEL_PAGE_SIZE);
	kt_check_rc("COPY from a ref granted to another domain", copy_one(&c), -KEEL_ENOENT);
	c.src_ref = NEVER_REF;
	kt_check_rc("COPY from a ref never granted", copy_one(&c), -KEEL_ENOENT);
	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i++) {
		untouched = untouched && scratch[i] == 0x11;
	}
	kt_check(untouched, "refused copies write nothing", "the destination changed");
	/* Naming a GFN of the peer instead of a ref is not a way in. */
	c = from_grant(peer, 0, gfn_of(scratch), 16);
	c.src_gfn = gfn_of(self_page);
	kt_check_rc("COPY from a peer GFN instead of a ref", copy_one(&c), -KEEL_EINVAL);
	c = to_grant(gfn_of(scratch), peer, BEACON_REF, 16);
	kt_check_rc("COPY into a read-only grant", copy_one(&c), -KEEL_EACCES);
	c.dst_ref = SELF_REF;
	kt_check_rc("COPY into a grant for another domain", copy_one(&c), -KEEL_ENOENT);
	c = to_grant(KT_GPA_NOT_RAM >> KEEL_PAGE_SHIFT, KEEL_DOMID_SELF, 0, 16);
	c.dst_gfn = gfn_of(scratch);
	kt_check_rc("COPY from a GFN that is not our RAM", copy_one(&c), -KEEL_EFAULT);
	kt_check_rc("UNMAP of a handle we do not hold", unmap_one(target, 0), -KEEL_ENOENT);
}

static void check_ports(const struct beacon *b)
{
	static struct keel_evtchn_status st __attribute__((aligned(32)));
	uint32_t limit = kt_shared->evtchn_port_limit;
	long lp;

	/* Ports near the limit are FREE here (we hold a few low ones), whoever owns them there. */
	for (uint32_t p = limit - 1; p > limit - 4; p--) {
		kt_check_rc("SEND on a port we do not own (FREE)",
			    keel_hypercall1(KEEL_HC_EVTCHN_SEND, p),
			    -KEEL_ENOENT);
		kt_check_rc("CLOSE of a port we do not own (FREE)",
			    keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, p),
			    -KEEL_ENOENT);
	}
	kt_check_rc("SEND beyond the port limit", keel_hypercall1(KEEL_HC_EVTCHN_SEND, limit),
		    -KEEL_EINVAL);
	kt_check_rc("CLOSE beyond the port limit",
		    keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, limit + 100),
		    -KEEL_EINVAL);
	kt_check_rc("UNMASK beyond the port limit",
		    keel_hypercall1(KEEL_HC_EVTCHN_UNMASK, 0x7fffffff),
		    -KEEL_EINVAL);
	st.port = limit;
	kt_check_rc("STATUS beyond the port limit",
		    keel_hypercall1(KEEL_HC_EVTCHN_STATUS, KT_GPA(&st)),
		    -KEEL_EINVAL);
	kt_check_rc("BIND_INTERDOMAIN to a peer port unbound for the peer itself",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, peer, b->port_for_self),
		    -KEEL_EPERM);
	kt_check_rc("BIND_INTERDOMAIN to a peer port beyond its limit",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, peer, b->limit), -KEEL_EINVAL);
	kt_check_rc("BIND_INTERDOMAIN to a FREE peer port",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, peer, b->limit - 1),
		    -KEEL_ENOENT);
	lp = keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, peer, b->port_for_peer);
	kt_check(lp > 0, "BIND_INTERDOMAIN to the port the peer allocated for us",
		 "returned %ld (%s)", lp,
		 kt_errname(lp));
	if (lp > 0) {
		kt_check_rc("BIND_INTERDOMAIN to it twice",
			    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, peer,
					    b->port_for_peer), -KEEL_EBUSY);
		kt_check_rc("CLOSE of our end", keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)lp),
			    0);
	}
	kt_check_rc("ALLOC_UNBOUND for a domain that does not exist",
		    keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, 0x7ffffff0u), -KEEL_ESRCH);
	kt_check_rc("BIND_VIRQ(DOMAIN_STATE) without a capability",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_DOMAIN_STATE, 0),
		    -KEEL_EPERM);
	kt_check_rc("BIND_VIRQ(LOG) without a capability",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_LOG, 0), -KEEL_EPERM);
}

static void check_control(void)
{
	uint64_t buf = KT_GPA(area);
	const struct {
		const char *what;
		uint64_t nr, a0, a1, a2;
	} calls[] = {
		{ "CTL_HOST_INFO", KEEL_HC_CTL_HOST_INFO, buf, 0, 0 },
		{ "CTL_DOMAIN_CREATE", KEEL_HC_CTL_DOMAIN_CREATE, buf, 0, 0 },
		{ "CTL_DOMAIN_DESTROY of the peer", KEEL_HC_CTL_DOMAIN_DESTROY, peer, 0, 0 },
		{ "CTL_DOMAIN_PAUSE of the peer", KEEL_HC_CTL_DOMAIN_PAUSE, peer, 0, 0 },
		{ "CTL_DOMAIN_UNPAUSE of the peer", KEEL_HC_CTL_DOMAIN_UNPAUSE, peer, 0, 0 },
		{ "CTL_DOMAIN_SHUTDOWN of the peer", KEEL_HC_CTL_DOMAIN_SHUTDOWN, peer,
		  KEEL_SHUTDOWN_POWEROFF, 0 },
		{ "CTL_DOMAIN_INFO of the peer", KEEL_HC_CTL_DOMAIN_INFO, buf, 0, 0 },
		{ "CTL_DOMAIN_LIST", KEEL_HC_CTL_DOMAIN_LIST, buf, 0, 0 },
		{ "CTL_DOMAIN_SET_MEMORY of the peer", KEEL_HC_CTL_DOMAIN_SET_MEMORY, peer, 0, 1 },
		{ "CTL_DOMAIN_POPULATE of the peer", KEEL_HC_CTL_DOMAIN_POPULATE, peer, buf, 1 },
		{ "CTL_DOMAIN_LOAD into the peer", KEEL_HC_CTL_DOMAIN_LOAD, peer, buf, 1 },
		{ "CTL_DOMAIN_SET_CAPS of the peer", KEEL_HC_CTL_DOMAIN_SET_CAPS, peer, 0, 0 },
		{ "CTL_DOMAIN_SET_SCHED of the peer", KEEL_HC_CTL_DOMAIN_SET_SCHED, peer, 1, 0 },
		{ "CTL_VCPU_SET_CONTEXT of the peer", KEEL_HC_CTL_VCPU_SET_CONTEXT, peer, 0, buf },
		{ "CTL_VCPU_GET_CONTEXT of the peer", KEEL_HC_CTL_VCPU_GET_CONTEXT, peer, 0, buf },
		{ "CTL_VCPU_SET_AFFINITY of the peer", KEEL_HC_CTL_VCPU_SET_AFFINITY, peer, 0,
		  buf },
		{ "CTL_DEVICE_SETUP", KEEL_HC_CTL_DEVICE_SETUP, buf, 0, 0 },
		{ "CTL_DEVICE_REMOVE", KEEL_HC_CTL_DEVICE_REMOVE, 1, 0, 0 },
		{ "CTL_LOG_READ", KEEL_HC_CTL_LOG_READ, buf, 0, 0 },
	};
	struct keel_stream_read sr = { .domid = peer, .buf_len = 64, .buf_gpa = KT_GPA(scratch) };

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(calls); i++) {
		char what[80];

		/* A plausible struct: the peer as target where there is one. */
		memset(area, 0, sizeof(area));
		memcpy(area, &peer, sizeof(peer));
		if (calls[i].nr == KEEL_HC_CTL_DEVICE_SETUP) {
			((struct keel_ctl_device *)area)->device_class = KEEL_IO_CLASS_CONSOLE;
			((struct keel_ctl_device *)area)->frontend_domid = peer;
			((struct keel_ctl_device *)area)->backend_domid = kt_boot.domid;
		} else if (calls[i].nr == KEEL_HC_CTL_LOG_READ) {
			memcpy(area, &sr, sizeof(sr));
			((struct keel_stream_read *)area)->domid = 0;
		}
		kt_snprintf(what, sizeof(what), "%s without a capability", calls[i].what);
		kt_check_rc(what,
			    keel_hypercall3(calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2),
			    -KEEL_EPERM);
	}
	memcpy(area, &sr, sizeof(sr));
	kt_check_rc("CONSOLE_READ_DOMAIN of the peer without KEEL_CAP_CONSOLE",
		    keel_hypercall1(KEEL_HC_CONSOLE_READ_DOMAIN, buf), -KEEL_EPERM);
	kt_check_rc("CONSOLE_WRITE_DOMAIN to the peer without KEEL_CAP_CONSOLE",
		    keel_hypercall3(KEEL_HC_CONSOLE_WRITE_DOMAIN, peer, KT_GPA(scratch), 4),
		    -KEEL_EPERM);
	kt_check_rc("CTL_DOMAIN_SET_CAPS(self, CONTROL): no escalation",
		    keel_hypercall2(KEEL_HC_CTL_DOMAIN_SET_CAPS, kt_boot.domid, KEEL_CAP_CONTROL),
		    -KEEL_EPERM);
}

/* Mark the peer's done page, then wait until the peer marked ours. */
static bool finish(void)
{
	uint64_t deadline = kt_now_ns() + WAIT;
	static const uint32_t done = DONE_MAGIC;
	struct keel_gnttab_copy c;

	memcpy(scratch, &done, sizeof(done));
	c = to_grant(gfn_of(scratch), peer, DONE_REF, sizeof(done));
	kt_check_rc("COPY into the peer's read-write grant", copy_one(&c), 0);
	while (*(volatile uint32_t *)done_page != DONE_MAGIC) {
		if (kt_now_ns() >= deadline) {
			kt_check(false, "the peer finished", "no mark from domain %u within %lu s",
				 peer,
				 WAIT / KT_NS_PER_S);
			return false;
		}
		kt_sleep_ns(5 * KT_NS_PER_MS);
	}
	return true;
}

void test_main(void)
{
	struct beacon b;
	bool intact = true;
	char dom[32];

	if (kt_domain_name(dom, sizeof(dom))) {
		kt_snprintf(name, sizeof(name), "isolation-%s", dom);
	}
	kt_current = name;
	peer = (uint32_t)kt_cmdline_u64("peer", 0);
	if (peer == 0 || peer == kt_boot.domid) {
		keeltest_result(name, KEELTEST_ERROR,
				"peer=%u on the command line is not another domain "
				"(this is domain %u)", peer, kt_boot.domid);
		return;
	}
	if (!publish() || !read_beacon(&b)) {
		return;
	}
	kt_group_begin(name);
	kt_check(b.domid == peer, "the beacon comes from the peer", "domid %u", b.domid);
	check_grants();
	check_ports(&b);
	check_control();
	finish();
	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i++) {
		intact = intact && self_page[i] == 0x77;
	}
	kt_check(intact, "the page granted to ourselves was not changed by the peer", "it changed");
	kt_check(((struct beacon *)beacon_page)->magic == BEACON_MAGIC &&
		 memcmp(beacon_page + sizeof(b), (const uint8_t[16]){ 0 }, 16) == 0,
		 "the read-only beacon was not changed by the peer", "it changed");
	kt_group_end();
}
