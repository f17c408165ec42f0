/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/test_devtable.c - kpv_devices(): the device table
 * Keel builds, read back right from both ends; tables of another major
 * refused; unknown nodes, properties and classes ignored, incomplete device
 * nodes skipped; malformed and random tables refused without reading
 * outside them; a table that keeps changing given up on after a few tries.
 *
 * Hand-made tables are built with libfdt and served by a hook in place of
 * KEEL_HC_DEVICE_TABLE_READ.
 */
#include <stdlib.h>
#include <libfdt.h>
#include <keel/hypercall.h>
#include <keel/shared_info.h>
#include "common.h"
#include "suites.h"

static struct hdom *d;
static struct kpv *k;

/* The table the hook serves, and how it misbehaves. */
static struct {
	uint8_t blob[KEEL_DT_MAX_SIZE + 4096];
	size_t size;
	bool churn;			/* bump the generation on every read */
	unsigned int reads;
} served;

static bool serve_table(void *ctx, struct hdom *dom, uint64_t nr, const uint64_t args[5],
			long *ret)
{
	uint64_t win, pages;
	void *dst;

	(void)ctx;
	if (nr != KEEL_HC_DEVICE_TABLE_READ) {
		return false;
	}
	served.reads++;
	dst = harness_guest_ptr(dom, args[0], args[2]);
	if (!dst || args[2] == 0 || args[2] > 4096) {
		*ret = -KEEL_EFAULT;
		return true;
	}
	*ret = args[1] >= served.size ? 0 : (long)(served.size - args[1] < args[2] ?
						   served.size - args[1] : args[2]);
	memcpy(dst, served.blob + args[1], (size_t)*ret);
	if (served.churn) {
		struct keel_shared_info *si;

		harness_map_window(&win, &pages);
		si = harness_gfn_view(dom, win);	/* the shared info's window slot */
		si->device_table_generation++;
	}
	return true;
}

static void setup(void)
{
	harness_begin();
	memset(&served, 0, sizeof(served));
	d = harness_domain("reader", 1);
	k = t_start(d);
}

static void teardown(void)
{
	t_stop(d, k);
	harness_end();
}

/* --- hand-made tables ----------------------------------------------------------------- */

struct shape {
	uint32_t major, minor;
	bool no_compatible;
	bool extras;			/* unknown nodes and properties */
	bool bad_nodes;			/* an unknown class, a node without reg */
};

static void fdt_u32(void *fdt, const char *name, uint32_t v)
{
	fdt_property_u32(fdt, name, v);
}

static void device_node(void *fdt, const char *name, const char *compat, bool with_reg)
{
	fdt_begin_node(fdt, name);
	fdt_property_string(fdt, "compatible", compat);
	if (with_reg) {
		fdt_u32(fdt, KEEL_DT_PROP_REG, 0x12);
	}
	fdt_property_string(fdt, KEEL_DT_PROP_ROLE, KEEL_DT_ROLE_BACKEND);
	fdt_u32(fdt, KEEL_DT_PROP_PEER_DOMID, 9);
	fdt_u32(fdt, KEEL_DT_PROP_EVENT_PORT, 33);
	fdt_u32(fdt, KEEL_DT_PROP_INDEX, 1);
	fdt_property_string(fdt, KEEL_DT_PROP_LABEL,
			    "a label much longer than the thirty-one characters kept");
	fdt_end_node(fdt);
}

static void build(const struct shape *s)
{
	void *fdt = served.blob;
	fdt32_t version[2] = { cpu_to_fdt32(s->major), cpu_to_fdt32(s->minor) };

	CU_ASSERT_EQUAL_FATAL(fdt_create(fdt, KEEL_DT_MAX_SIZE), 0);
	fdt_finish_reservemap(fdt);
	fdt_begin_node(fdt, "");
	if (!s->no_compatible) {
		fdt_property_string(fdt, "compatible", KEEL_DT_COMPATIBLE);
	}
	fdt_property(fdt, KEEL_DT_PROP_VERSION, version, sizeof(version));
	if (s->extras) {
		fdt_property_string(fdt, "keel,future", "something new");
		fdt_begin_node(fdt, "future-node");
		fdt_begin_node(fdt, "devices");		/* not /devices: ignored */
		device_node(fdt, "net@99", KEEL_DT_COMPAT_NET, true);
		fdt_end_node(fdt);
		fdt_end_node(fdt);
	}
	fdt_begin_node(fdt, KEEL_DT_NODE_DEVICES);
	device_node(fdt, "block@12", KEEL_DT_COMPAT_BLOCK, true);
	if (s->bad_nodes) {
		device_node(fdt, "gpu@13", "keel,gpu", true);
		device_node(fdt, "net@14", KEEL_DT_COMPAT_NET, false);
	}
	if (s->extras) {
		fdt_property_string(fdt, "keel,more", "x");
	}
	fdt_end_node(fdt);
	fdt_end_node(fdt);
	CU_ASSERT_EQUAL_FATAL(fdt_finish(fdt), 0);
	served.size = fdt_totalsize(fdt);
}

static int read_served(struct kpv_device_info *out, unsigned int max)
{
	harness_set_hook(d, serve_table, NULL);
	harness_use(d);
	return kpv_devices(k, out, max);
}

/* --- tests ----------------------------------------------------------------------------- */

static void test_table_from_keel(void)
{
	struct hdom *b = harness_domain("server", 1);
	struct kpv *kb = t_start(b);
	struct kpv_device_info fe[4], be[4], one[2];
	uint32_t id1, port1, id2, port2;

	CU_ASSERT_EQUAL_FATAL(harness_device_setup(d, b, KEEL_IO_CLASS_CONSOLE, 0, &id1, &port1), 0);
	CU_ASSERT_EQUAL_FATAL(harness_device_setup(d, b, KEEL_IO_CLASS_BLOCK, 3, &id2, &port2), 0);
	harness_use(d);
	CU_ASSERT_EQUAL_FATAL(kpv_devices(k, fe, 4), 2);
	harness_use(b);
	CU_ASSERT_EQUAL_FATAL(kpv_devices(kb, be, 4), 2);
	for (int i = 0; i < 2; i++) {
		bool console = fe[i].device_id == id1;

		CU_ASSERT_EQUAL(fe[i].device_class, console ? KEEL_IO_CLASS_CONSOLE : KEEL_IO_CLASS_BLOCK);
		CU_ASSERT_FALSE(fe[i].backend);
		CU_ASSERT_EQUAL(fe[i].peer_domid, harness_domid(b));
		CU_ASSERT_EQUAL(fe[i].event_port, console ? port1 : port2);
		CU_ASSERT_EQUAL(fe[i].index, console ? 0 : 3);
		CU_ASSERT_STRING_EQUAL(fe[i].label, "test");
		CU_ASSERT_TRUE(be[i].backend);
		CU_ASSERT_EQUAL(be[i].peer_domid, harness_domid(d));
	}
	CU_ASSERT(be[0].device_id == id1 || be[1].device_id == id1);
	/* More devices than room: the count, and only what fits written. */
	memset(one, 0xcc, sizeof(one));
	harness_use(d);
	CU_ASSERT_EQUAL(kpv_devices(k, one, 1), 2);
	CU_ASSERT_EQUAL(one[1].device_id, 0xccccccccu);
	t_stop(b, kb);
}

static void test_newer_minor_and_unknowns(void)
{
	struct kpv_device_info out[4];

	build(&(struct shape){ .major = KEEL_DT_VERSION_MAJOR, .minor = 7, .extras = true,
			       .bad_nodes = true });
	CU_ASSERT_EQUAL_FATAL(read_served(out, 4), 1);	/* gpu: unknown class; net: no reg */
	CU_ASSERT_EQUAL(out[0].device_class, KEEL_IO_CLASS_BLOCK);
	CU_ASSERT_EQUAL(out[0].device_id, 0x12);
	CU_ASSERT_TRUE(out[0].backend);
	CU_ASSERT_EQUAL(out[0].peer_domid, 9);
	CU_ASSERT_EQUAL(out[0].event_port, 33);
	CU_ASSERT_EQUAL(out[0].index, 1);
	CU_ASSERT_EQUAL(strlen(out[0].label), sizeof(out[0].label) - 1);
	CU_ASSERT(harness_log_has(d, "incomplete device node"));
}

static void test_other_major_refused(void)
{
	struct kpv_device_info out[4];

	build(&(struct shape){ .major = KEEL_DT_VERSION_MAJOR + 1 });
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EVERSION);
	build(&(struct shape){ .major = 0 });
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EVERSION);
	build(&(struct shape){ .major = KEEL_DT_VERSION_MAJOR, .no_compatible = true });
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void test_malformed_refused(void)
{
	struct kpv_device_info out[4];

	/* Too big, too small, nothing at all, not an FDT. */
	build(&(struct shape){ .major = 1 });
	put_be32(served.blob + 4, KEEL_DT_MAX_SIZE + 4);
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
	put_be32(served.blob + 4, 39);
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
	served.size = 0;
	CU_ASSERT(read_served(out, 4) < 0);
	build(&(struct shape){ .major = 1 });
	served.blob[0] ^= 1;
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
	/* Structure block running past the blob; strings block past it. */
	build(&(struct shape){ .major = 1 });
	put_be32(served.blob + 36, (uint32_t)served.size);
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
	build(&(struct shape){ .major = 1 });
	put_be32(served.blob + 12, (uint32_t)served.size - 2);
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
	/* A node nested deeper than anything ours. */
	CU_ASSERT_EQUAL_FATAL(fdt_create(served.blob, KEEL_DT_MAX_SIZE), 0);
	fdt_finish_reservemap(served.blob);
	for (int i = 0; i < 12; i++) {
		fdt_begin_node(served.blob, i ? "deep" : "");
	}
	for (int i = 0; i < 12; i++) {
		fdt_end_node(served.blob);
	}
	fdt_finish(served.blob);
	served.size = fdt_totalsize(served.blob);
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EINVAL);
}

/* Random damage to a good table: an answer, never a crash or a read outside it. */
static void test_random_damage(void)
{
	static uint8_t good[KEEL_DT_MAX_SIZE];
	struct kpv_device_info out[4];
	uint64_t seed = 12345;
	size_t size;
	unsigned int refused = 0;

	build(&(struct shape){ .major = 1, .minor = 2, .extras = true, .bad_nodes = true });
	size = served.size;
	memcpy(good, served.blob, size);
	for (int round = 0; round < 3000; round++) {
		int flips = 1 + round % 8, rc;

		memcpy(served.blob, good, size);
		served.size = size;
		for (int i = 0; i < flips; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			served.blob[(seed >> 33) % size] ^= (uint8_t)(1u << ((seed >> 20) % 8));
		}
		if (round % 50 == 0) {
			served.size = (seed >> 40) % size;	/* cut short */
		}
		rc = read_served(out, 4);
		CU_ASSERT(rc == -KEEL_EINVAL || rc == -KEEL_EVERSION || rc == -KEEL_EAGAIN ||
			  (rc >= 0 && rc <= 4));
		refused += rc < 0;
	}
	CU_ASSERT(refused > 100);	/* the damage was real */
}

static void test_changing_table_given_up(void)
{
	struct kpv_device_info out[4];

	build(&(struct shape){ .major = 1 });
	served.churn = true;
	CU_ASSERT_EQUAL(read_served(out, 4), -KEEL_EAGAIN);
	CU_ASSERT(served.reads >= 4 && served.reads <= 12);	/* a few tries, each a few reads */
}

static CU_TestInfo tests[] = {
	{ "Keel's table read right from both ends", test_table_from_keel },
	{ "a newer minor with unknown parts is read", test_newer_minor_and_unknowns },
	{ "another major (or no compatible) is refused", test_other_major_refused },
	{ "malformed tables are refused", test_malformed_refused },
	{ "random damage: refused or read, never a crash", test_random_damage },
	{ "a table that keeps changing is given up on", test_changing_table_given_up },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo devtable_suite = { "devtable", NULL, NULL, setup, teardown, tests };
