/* SPDX-License-Identifier: MIT */
/* pingpong.c: two domains over a console device: device page, a grant, round trips, a revoke. */
#include "keeltest64.h"

/*
 * Command line: role=front or role=back. tests/configs/pingpong.dts gives
 * the front a console device served by the back (capability
 * backend-console). Results:
 *   front: keeltest: evtchn-roundtrip: SUCCESS 1000 round trips, avg N us
 *          keeltest: pingpong-front: SUCCESS ...
 *   back:  keeltest: pingpong-back: SUCCESS ...
 *
 * The two sides agree on this layout inside the device page, each writing
 * only its own area (keel/io/device.h): the front's fe_config holds struct
 * fe_msg, the back's be_config holds struct be_msg. Every change of a phase
 * is followed by exactly one event on the device's control port, so each
 * side consumes exactly one event per phase and the round trips start clean.
 *
 *   phase  front                                  back
 *   1      grant a page (read-write), write        bind the control port, map the device page
 *          gref and seed, wait for the binding,    wait for phase 1, map and copy the grant,
 *          send                                    copy a token into it, phase 1, send
 *   -      1000 x: send, wait                      1000 x: wait, send
 *   2      clear PERMIT, GNTTAB_REVOKE, rewrite    wait for phase 2: the mapping shows the
 *          the page, phase 2, send                 scratch page, copy fails, unmap; phase 2, send
 *   -      wait for phase 2, page untouched        -
 * Every wait has a deadline; a timeout is a FAILURE naming what was awaited.
 */
const char test_name[] = "pingpong";

#define FE_MAGIC	0x45465050u	/* "PPFE" */
#define BE_MAGIC	0x45425050u	/* "PPBE" */
#define GREF		3
#define ROUND_TRIPS	1000
#define SETUP_WAIT	(60 * KT_NS_PER_S)	/* the other domain may still be booting */
#define TRIP_WAIT	(5 * KT_NS_PER_S)
#define TOKEN_OFFSET	(KEEL_PAGE_SIZE - 16)

struct fe_msg {
	uint32_t magic;
	uint32_t gref;
	uint32_t seed;
	uint32_t phase;
};

struct be_msg {
	uint32_t magic;
	uint32_t phase;
	uint32_t port;		/* the backend's local port, for the log */
	uint32_t pad;
};

struct dev {
	uint32_t id;
	uint32_t peer;
	uint32_t port;
	uint32_t index;
};

static const char token[16] = "backend was here";
/* front: the granted page; back: the copy target. */
static uint8_t page[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static volatile struct keel_io_device_page *dp;
static const char *me = "pingpong";
static bool failed;

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static bool fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (failed) {
		return false;
	}
	va_start(ap, fmt);
	kt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	keeltest_result(me, KEELTEST_FAILURE, "%s", msg);
	failed = true;
	return false;
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)((i * 131u + seed) ^ (i >> 8));
}

static void fill(uint8_t *p, uint32_t seed)
{
	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i++) {
		p[i] = pattern(seed, i);
	}
}

/* Bytes of p that match the pattern of seed. */
static uint32_t matching(const volatile uint8_t *p, uint32_t seed, uint32_t len)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < len; i++) {
		n += p[i] == pattern(seed, i);
	}
	return n;
}

/* Find our console device of the given role in the device table. */
static bool find_device(const char *role, struct dev *d)
{
	struct kt_fdt f;
	long size = kt_devtable_read(kt_dt_blob, sizeof(kt_dt_blob));
	int devs;

	if (size < 0 || kt_fdt_init(&f, kt_dt_blob, (uint32_t)size) != 0) {
		return fail("reading the device table: %ld (%s)", size, kt_errname(size));
	}
	devs = kt_fdt_path(&f, "/" KEEL_DT_NODE_DEVICES);
	for (int n = kt_fdt_first_child(&f, devs); n >= 0; n = kt_fdt_next_sibling(&f, n)) {
		const char *compat = kt_fdt_string(&f, n, "compatible");
		const char *r = kt_fdt_string(&f, n, KEEL_DT_PROP_ROLE);

		if (compat == NULL || r == NULL || kt_strcmp(compat, KEEL_DT_COMPAT_CONSOLE) != 0 ||
		    kt_strcmp(r, role) != 0) {
			continue;
		}
		if (!kt_fdt_u32(&f, n, KEEL_DT_PROP_REG, &d->id) ||
		    !kt_fdt_u32(&f, n, KEEL_DT_PROP_PEER_DOMID, &d->peer) ||
		    !kt_fdt_u32(&f, n, KEEL_DT_PROP_EVENT_PORT, &d->port) ||
		    !kt_fdt_u32(&f, n, KEEL_DT_PROP_INDEX, &d->index)) {
			return fail("device node %s lacks reg, peer-domid, event-port or index",
				    kt_fdt_name(&f, n));
		}
		if (kt_strncmp(kt_fdt_name(&f, n), "console@", 8) != 0) {
			return fail("device node '%s' is not named console@<id>",
				    kt_fdt_name(&f, n));
		}
		if (d->peer == kt_boot.domid || d->peer == KEEL_DOMID_NONE) {
			return fail("keel,peer-domid %u is not another domain", d->peer);
		}
		if (d->port == 0 || d->port >= kt_shared->evtchn_port_limit) {
			return fail("keel,event-port %u is not a port", d->port);
		}
		return true;
	}
	return fail("no console device with role '%s' in the device table", role);
}

static bool map_device_page(const struct dev *d, uint32_t fe, uint32_t be)
{
	uint64_t gpa = kt_window_alloc(1);
	long rc;

	rc = keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_DEVICE_PAGE, d->id,
			     gpa >> KEEL_PAGE_SHIFT);
	if (rc != 0) {
		return fail("MAP_SHARED(DEVICE_PAGE, %u) returned %ld (%s)", d->id, rc,
			    kt_errname(rc));
	}
	dp = KT_PTR(gpa);
	if (dp->magic != KEEL_IO_DEVICE_MAGIC || dp->version != KEEL_IO_DEVICE_VERSION ||
	    dp->device_class != KEEL_IO_CLASS_CONSOLE || dp->device_id != d->id ||
	    dp->frontend_domid != fe || dp->backend_domid != be || dp->index != d->index) {
		return fail("device page: magic 0x%x version %u class %u id %u fe %u be %u idx %u",
			    dp->magic, dp->version, dp->device_class, dp->device_id,
			    dp->frontend_domid,
			    dp->backend_domid, dp->index);
	}
	return true;
}

/* Wait for one event and for *v to reach want (written before that event was sent). */
static bool wait_phase(volatile uint32_t *v, uint32_t want, uint32_t port, const char *what)
{
	uint64_t deadline = kt_now_ns() + SETUP_WAIT;

	for (;;) {
		uint64_t now = kt_now_ns();
		long rc;

		if (now >= deadline) {
			return fail("timed out after %lu s waiting for %s",
				    SETUP_WAIT / KT_NS_PER_S, what);
		}
		rc = kt_wait_port(port, deadline - now);
		if (rc < 0) {
			return fail("waiting for %s: POLL returned %ld (%s)", what, rc,
				    kt_errname(rc));
		}
		if (rc == 1 && *v >= want) {
			return true;
		}
	}
}

/* A copy element from a grant of domid to our own GFN. */
static struct keel_gnttab_copy from_grant(uint32_t domid, uint32_t ref, uint64_t dst_gfn,
					  uint16_t len)
{
	return (struct keel_gnttab_copy){ .src_domid = domid, .src_ref = ref,
					  .dst_domid = KEEL_DOMID_SELF, .dst_gfn = dst_gfn,
					  .len = len };
}

static long gnttab_one(uint64_t nr, void *elem)
{
	return keel_hypercall2(nr, KT_GPA(elem), 1);
}

static bool front_round_trips(uint32_t port)
{
	uint64_t t0, ticks;

	t0 = kt_rdtsc();
	for (int i = 0; i < ROUND_TRIPS; i++) {
		long rc = kt_evtchn_send(port);

		if (rc != 0) {
			return fail("round trip %d: SEND returned %ld (%s)", i, rc, kt_errname(rc));
		}
		rc = kt_wait_port(port, TRIP_WAIT);
		if (rc != 1) {
			keeltest_result("evtchn-roundtrip", KEELTEST_FAILURE,
					"round trip %d: no reply within %lu s (%ld)", i,
					TRIP_WAIT / KT_NS_PER_S, rc);
			return fail("the round trips did not complete");
		}
	}
	ticks = kt_rdtsc() - t0;
	keeltest_result("evtchn-roundtrip", KEELTEST_SUCCESS, "%d round trips, avg %lu us",
			ROUND_TRIPS,
			kt_tsc_to_ns(ticks / ROUND_TRIPS) / 1000);
	return true;
}

static bool front_setup(const struct dev *d, volatile struct fe_msg *fe)
{
	struct keel_evtchn_status st;
	uint64_t deadline;
	long rc;

	rc = kt_evtchn_status(d->port, &st);
	if (rc != 0 ||
	    (st.state != KEEL_EVTCHN_STATE_UNBOUND && st.state != KEEL_EVTCHN_STATE_INTERDOMAIN) ||
	    st.remote_domid != d->peer) {
		return fail("control port %u: rc %ld state %u remote %u, expected (UN)BOUND for %u",
			    d->port, rc, st.state, st.remote_domid, d->peer);
	}
	rc = kt_gnttab_init(1);
	if (rc != 0) {
		return fail("setting up the grant table: %ld (%s)", rc, kt_errname(rc));
	}
	fill(page, 1);
	kt_grant(GREF, d->peer, KT_GPA(page) >> KEEL_PAGE_SHIFT, false);
	fe->gref = GREF;
	fe->seed = 1;
	fe->phase = 1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	fe->magic = FE_MAGIC;
	/* An event sent while the port is UNBOUND is lost: wait for the back to bind it. */
	deadline = kt_now_ns() + SETUP_WAIT;
	do {
		rc = kt_evtchn_status(d->port, &st);
		if (rc == 0 && st.state == KEEL_EVTCHN_STATE_INTERDOMAIN) {
			break;
		}
		kt_sleep_ns(KT_NS_PER_MS);
	} while (kt_now_ns() < deadline);
	if (st.state != KEEL_EVTCHN_STATE_INTERDOMAIN || st.remote_domid != d->peer) {
		return fail("the backend did not bind port %u within %lu s (state %u remote %u)",
			    d->port,
			    SETUP_WAIT / KT_NS_PER_S, st.state, st.remote_domid);
	}
	rc = kt_evtchn_send(d->port);
	if (rc != 0) {
		return fail("SEND on the bound control port returned %ld (%s)", rc, kt_errname(rc));
	}
	return true;
}

static long release_or_populate(uint64_t nr, void *p, int32_t *status)
{
	static struct keel_memory_extent ext __attribute__((aligned(16)));
	long rc;

	ext = (struct keel_memory_extent){ .gfn = KT_GPA(p) >> KEEL_PAGE_SHIFT };
	rc = keel_hypercall2(nr, KT_GPA(&ext), 1);
	*status = ext.status;
	return rc;
}

/* What phase 1 must have left: the backend mapped the grant and copied its token in. */
static bool front_check_mapped(volatile struct be_msg *be)
{
	int32_t status;
	long rc;

	if (be->magic != BE_MAGIC) {
		return fail("backend area magic 0x%x", be->magic);
	}
	if (!(kt_grants[GREF].status & KEEL_GNTS_MAPPED)) {
		return fail("grant entry status 0x%x: KEEL_GNTS_MAPPED not set while the backend "
			    "maps it", kt_grants[GREF].status);
	}
	if (memcmp(page + TOKEN_OFFSET, token, sizeof(token)) != 0) {
		return fail("the backend's GNTTAB_COPY into the granted page did not arrive");
	}
	rc = release_or_populate(KEEL_HC_MEMORY_RELEASE, page, &status);
	if (rc != 1 || status != -KEEL_EBUSY) {
		return fail("RELEASE of a page mapped by the backend: rc %ld status %d, want EBUSY",
			    rc, status);
	}
	return true;
}

/* Phase 2: revoke by force, rewrite the page, and see that the backend cannot reach it. */
static bool front_revoke(const struct dev *d, volatile struct fe_msg *fe,
			 volatile struct be_msg *be)
{
	static struct keel_gnttab_revoke rv __attribute__((aligned(8)));
	int32_t status;
	long rc;

	kt_grant_end(GREF);
	rv = (struct keel_gnttab_revoke){ .ref = GREF };
	rc = gnttab_one(KEEL_HC_GNTTAB_REVOKE, &rv);
	if (rc != 1 || rv.status != 0 || kt_grants[GREF].status != 0) {
		return fail("GNTTAB_REVOKE: rc %ld status %d, entry status 0x%x", rc, rv.status,
			    kt_grants[GREF].status);
	}
	fill(page, 2);
	fe->seed = 2;
	fe->phase = 2;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	kt_evtchn_send(d->port);
	if (!wait_phase(&be->phase, 2, d->port, "the backend's phase 2")) {
		return false;
	}
	if (matching(page, 2, KEEL_PAGE_SIZE) != KEEL_PAGE_SIZE) {
		return fail("the backend's writes after the revoke reached the granted page");
	}
	/* Revoked and unmapped: the page is ours again, so it can be released. */
	rc = release_or_populate(KEEL_HC_MEMORY_RELEASE, page, &status);
	if (rc != 1 || status != 0) {
		return fail("RELEASE of the page after the revoke: rc %ld status %d", rc, status);
	}
	rc = release_or_populate(KEEL_HC_MEMORY_POPULATE, page, &status);
	if (rc != 1 || status != 0) {
		return fail("POPULATE of the released page: rc %ld status %d", rc, status);
	}
	return true;
}

static void front(void)
{
	volatile struct fe_msg *fe;
	volatile struct be_msg *be;
	struct dev d;

	me = "pingpong-front";
	if (!find_device(KEEL_DT_ROLE_FRONTEND, &d) ||
	    !map_device_page(&d, kt_boot.domid, d.peer)) {
		return;
	}
	fe = (volatile struct fe_msg *)dp->fe_config;
	be = (volatile struct be_msg *)dp->be_config;
	if (!front_setup(&d, fe) || !wait_phase(&be->phase, 1, d.port, "the backend's phase 1") ||
	    !front_check_mapped(be) || !front_round_trips(d.port) || !front_revoke(&d, fe, be)) {
		return;
	}
	keeltest_result(me, KEELTEST_SUCCESS,
			"device %u to domain %u, grant %u mapped, copied, revoked",
			d.id, d.peer, GREF);
}

/* The grant works: map it (and once more read-only), check it, copy from and into it. */
static bool back_use_grant(const struct dev *d, uint32_t gref, uint32_t seed,
			   struct keel_gnttab_map *m)
{
	static struct keel_gnttab_map m2 __attribute__((aligned(32)));
	static struct keel_gnttab_unmap u __attribute__((aligned(16)));
	static struct keel_gnttab_copy c __attribute__((aligned(64)));
	static char tok[16] KT_PAGE_ALIGNED;
	long rc;

	*m = (struct keel_gnttab_map){ .domid = d->peer, .ref = gref,
				       .gfn = kt_window_alloc(1) >> KEEL_PAGE_SHIFT };
	rc = gnttab_one(KEEL_HC_GNTTAB_MAP, m);
	if (rc != 1 || m->status != 0) {
		return fail("GNTTAB_MAP of grant %u: rc %ld status %d (%s)", gref, rc, m->status,
			    kt_errname(m->status));
	}
	if (matching(KT_PTR(m->gfn << KEEL_PAGE_SHIFT), seed, TOKEN_OFFSET) != TOKEN_OFFSET) {
		return fail("the mapped grant does not hold the front's pattern");
	}
	m2 = (struct keel_gnttab_map){ .domid = d->peer, .ref = gref, .flags = KEEL_GNTMAP_READONLY,
				       .gfn = kt_window_alloc(1) >> KEEL_PAGE_SHIFT };
	rc = gnttab_one(KEEL_HC_GNTTAB_MAP, &m2);
	if (rc != 1 || m2.status != 0 || m2.handle == m->handle) {
		return fail("a second, read-only GNTTAB_MAP: rc %ld status %d handle %u", rc,
			    m2.status,
			    m2.handle);
	}
	u = (struct keel_gnttab_unmap){ .gfn = m2.gfn, .handle = m2.handle };
	rc = gnttab_one(KEEL_HC_GNTTAB_UNMAP, &u);
	if (rc != 1 || u.status != 0) {
		return fail("GNTTAB_UNMAP of the read-only map: rc %ld status %d", rc, u.status);
	}
	m2 = (struct keel_gnttab_map){ .domid = d->peer, .ref = gref, .flags = 0x80,
				       .gfn = kt_window_alloc(1) >> KEEL_PAGE_SHIFT };
	rc = gnttab_one(KEEL_HC_GNTTAB_MAP, &m2);
	if (rc != 1 || m2.status != -KEEL_EINVAL) {
		return fail("GNTTAB_MAP with unknown flags: rc %ld status %d, expected EINVAL", rc,
			    m2.status);
	}
	m2 = (struct keel_gnttab_map){ .domid = d->peer, .ref = gref,
				       .gfn = KT_GPA(page) >> KEEL_PAGE_SHIFT };
	rc = gnttab_one(KEEL_HC_GNTTAB_MAP, &m2);
	if (rc != 1 || m2.status != -KEEL_EBUSY) {
		return fail("GNTTAB_MAP onto a RAM GFN: rc %ld status %d, expected EBUSY", rc,
			    m2.status);
	}
	/* Beyond even the largest table the front could have (32 frames). */
	m2 = (struct keel_gnttab_map){ .domid = d->peer,
				       .ref = KEEL_GRANT_ENTRIES_PER_FRAME * 32 + 1,
				       .gfn = kt_window_alloc(1) >> KEEL_PAGE_SHIFT };
	rc = gnttab_one(KEEL_HC_GNTTAB_MAP, &m2);
	if (rc != 1 || m2.status != -KEEL_ENOENT) {
		return fail("GNTTAB_MAP of a ref beyond the table: rc %ld status %d, want ENOENT",
			    rc, m2.status);
	}
	c = from_grant(d->peer, gref, KT_GPA(page) >> KEEL_PAGE_SHIFT, KEEL_PAGE_SIZE);
	rc = gnttab_one(KEEL_HC_GNTTAB_COPY, &c);
	if (rc != 1 || c.status != 0 || matching(page, seed, TOKEN_OFFSET) != TOKEN_OFFSET) {
		return fail("GNTTAB_COPY from the grant: rc %ld status %d", rc, c.status);
	}
	memcpy(tok, token, sizeof(tok));
	c = (struct keel_gnttab_copy){ .src_domid = KEEL_DOMID_SELF,
				       .src_gfn = KT_GPA(tok) >> KEEL_PAGE_SHIFT,
				       .dst_domid = d->peer, .dst_ref = gref,
				       .dst_offset = TOKEN_OFFSET, .len = sizeof(tok) };
	rc = gnttab_one(KEEL_HC_GNTTAB_COPY, &c);
	if (rc != 1 || c.status != 0) {
		return fail("GNTTAB_COPY into the grant: rc %ld status %d", rc, c.status);
	}
	return true;
}

/* After the forced revoke: the mapping shows our scratch page, copies fail, unmap works. */
static bool back_after_revoke(const struct dev *d, uint32_t gref, const struct keel_gnttab_map *m)
{
	static struct keel_gnttab_copy c __attribute__((aligned(64)));
	static struct keel_gnttab_unmap u __attribute__((aligned(16)));
	volatile uint8_t *view = KT_PTR(m->gfn << KEEL_PAGE_SHIFT);
	long rc;

	if (matching(view, 2, KEEL_PAGE_SIZE) == KEEL_PAGE_SIZE) {
		return fail("after GNTTAB_REVOKE the mapping still shows the front's page");
	}
	/* Writes to the scratch page are allowed and must not fault. */
	for (uint32_t i = 0; i < KEEL_PAGE_SIZE; i += 64) {
		view[i] = 0x5a;
	}
	c = from_grant(d->peer, gref, KT_GPA(page) >> KEEL_PAGE_SHIFT, 16);
	rc = gnttab_one(KEEL_HC_GNTTAB_COPY, &c);
	if (rc != 1 || c.status != -KEEL_ENOENT) {
		return fail("GNTTAB_COPY from a revoked grant: rc %ld status %d, expected ENOENT",
			    rc, c.status);
	}
	u = (struct keel_gnttab_unmap){ .gfn = m->gfn, .handle = m->handle };
	rc = gnttab_one(KEEL_HC_GNTTAB_UNMAP, &u);
	if (rc != 1 || u.status != 0) {
		return fail("GNTTAB_UNMAP of the redirected mapping: rc %ld status %d", rc,
			    u.status);
	}
	rc = gnttab_one(KEEL_HC_GNTTAB_UNMAP, &u);
	if (rc != 1 || u.status != -KEEL_ENOENT) {
		return fail("GNTTAB_UNMAP of the same handle again: rc %ld status %d, want ENOENT",
			    rc, u.status);
	}
	return true;
}

static void back(void)
{
	static struct keel_gnttab_map m __attribute__((aligned(32)));
	volatile struct fe_msg *fe;
	volatile struct be_msg *be;
	struct keel_evtchn_status st;
	struct dev d;
	long lp, rc;

	me = "pingpong-back";
	if (!find_device(KEEL_DT_ROLE_BACKEND, &d)) {
		return;
	}
	lp = kt_evtchn_bind_interdomain(d.peer, d.port);
	if (lp <= 0) {
		fail("BIND_INTERDOMAIN(%u, %u) returned %ld (%s)", d.peer, d.port, lp,
		     kt_errname(lp));
		return;
	}
	rc = kt_evtchn_status((uint32_t)lp, &st);
	if (rc != 0 || st.state != KEEL_EVTCHN_STATE_INTERDOMAIN || st.remote_domid != d.peer ||
	    st.remote_port != d.port) {
		fail("STATUS of the bound port: rc %ld state %u remote %u:%u", rc, st.state,
		     st.remote_domid,
		     st.remote_port);
		return;
	}
	if (!map_device_page(&d, d.peer, kt_boot.domid)) {
		return;
	}
	fe = (volatile struct fe_msg *)dp->fe_config;
	be = (volatile struct be_msg *)dp->be_config;
	if (!wait_phase(&fe->phase, 1, (uint32_t)lp, "the front's phase 1")) {
		return;
	}
	if (fe->magic != FE_MAGIC || !back_use_grant(&d, fe->gref, fe->seed, &m)) {
		fail("front area magic 0x%x", fe->magic);
		return;
	}
	be->port = (uint32_t)lp;
	be->phase = 1;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	be->magic = BE_MAGIC;
	kt_evtchn_send((uint32_t)lp);
	for (int i = 0; i < ROUND_TRIPS; i++) {
		rc = kt_wait_port((uint32_t)lp, TRIP_WAIT);
		if (rc != 1) {
			fail("round trip %d: no event within %lu s (%ld)", i,
			     TRIP_WAIT / KT_NS_PER_S, rc);
			return;
		}
		kt_evtchn_send((uint32_t)lp);
	}
	if (!wait_phase(&fe->phase, 2, (uint32_t)lp, "the front's revoke (phase 2)") ||
	    !back_after_revoke(&d, fe->gref, &m)) {
		return;
	}
	be->phase = 2;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	kt_evtchn_send((uint32_t)lp);
	keeltest_result(me, KEELTEST_SUCCESS,
			"device %u from domain %u, port %ld, grant mapped, copied, "
			"revoked to the scratch page, unmapped", d.id, d.peer, lp);
}

void test_main(void)
{
	char role[16];

	if (!kt_cmdline_str("role", role, sizeof(role))) {
		keeltest_result(test_name, KEELTEST_ERROR, "no role= on the command line");
	} else if (kt_strcmp(role, "front") == 0) {
		front();
	} else if (kt_strcmp(role, "back") == 0) {
		back();
	} else {
		keeltest_result(test_name, KEELTEST_ERROR, "unknown role '%s'", role);
	}
}
