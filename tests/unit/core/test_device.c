/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/core/test_device.c - unit tests for core/device.c: device
 * setup and removal, the device tables (parsed back with libfdt), control
 * pages and their references, the control calls, and that destroying
 * either end leaves nothing behind.
 *
 * Domains are real ones from domain_create() with a little RAM: guest
 * page 1 is the read buffer, page 2 holds control structs.
 */
#include <libfdt.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/guest_memory.h>
#include <keel/heap.h>
#include <keel/page_alloc.h>
#include <public/keel/control.h>
#include <public/keel/device_table.h>
#include <public/keel/errno.h>
#include <public/keel/event_channel.h>
#include <public/keel/io/device.h>
#include <public/keel/shared_info.h>
#include "fake_arch.h"
#include "unit.h"

#define RAM_PAGES	16
#define BUF_GPA		0x1000ull	/* a guest page to read the table into */
#define CTL_GPA		0x2000ull	/* a guest page for control structs */
#define BACKEND_ALL	(KEEL_CAP_BACKEND_CONSOLE | KEEL_CAP_BACKEND_BLOCK | KEEL_CAP_BACKEND_NET)

static uint8_t table[KEEL_DT_MAX_SIZE];

static void setup(void)
{
	unit_reset_counted();
}

static struct domain *make_child(const char *name, uint32_t caps, uint32_t creator)
{
	struct domain_params p = {
		.name = name, .caps = caps, .creator = creator, .vcpu_count = 2,
		.max_pages = RAM_PAGES,
	};
	struct domain *d = NULL;

	CU_ASSERT_EQUAL_FATAL(domain_create(&p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(guest_memory_populate(d, 0, RAM_PAGES), 0);
	return d;
}

static struct domain *make(const char *name, uint32_t caps)
{
	return make_child(name, caps, 0);
}

static void finish(struct domain *d)
{
	CU_ASSERT_EQUAL(domain_destroy(d), 0);
	domain_put(d);
}

static uint32_t generation(const struct domain *d)
{
	return d->shared_info->device_table_generation;
}

static long setup_dev(struct domain *front, struct domain *back, uint32_t cls,
		      uint32_t index, const char *label, struct device_setup *out)
{
	struct device_setup s = { .device_class = cls, .index = index, .label = label };
	long rc = device_setup(front, back, &s);

	if (out) {
		*out = s;
	}
	return rc;
}

/* Read @d's whole table through the hypercall, header first as a guest would. */
static uint32_t read_table(struct domain *d)
{
	uint32_t size, done = 0;
	long n;

	CU_ASSERT_EQUAL_FATAL(device_hc_table_read(d, BUF_GPA, 0, 40), 40);
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(d, BUF_GPA, table, 40), 0);
	CU_ASSERT_EQUAL_FATAL(fdt_check_header(table), 0);
	size = fdt_totalsize(table);
	CU_ASSERT_FATAL(size <= KEEL_DT_MAX_SIZE);
	while (done < size) {
		n = device_hc_table_read(d, BUF_GPA, done, KEEL_PAGE_SIZE);
		CU_ASSERT_FATAL(n > 0 && n <= KEEL_PAGE_SIZE);
		CU_ASSERT_EQUAL_FATAL(guest_copy_from(d, BUF_GPA, table + done, (size_t)n), 0);
		done += (uint32_t)n;
	}
	CU_ASSERT_EQUAL(device_hc_table_read(d, BUF_GPA, done, KEEL_PAGE_SIZE), 0);
	return size;
}

static int node(const char *path)
{
	int off = fdt_path_offset(table, path);

	CU_ASSERT(off >= 0);
	return off;
}

static uint32_t prop_u32(const char *path, const char *name)
{
	int len = -1, off = node(path);
	const fdt32_t *v = off >= 0 ? fdt_getprop(table, off, name, &len) : NULL;

	CU_ASSERT_EQUAL(len, 4);
	return v && len == 4 ? fdt32_to_cpu(*v) : 0xdeadbeef;
}

static uint64_t prop_u64(const char *path, const char *name)
{
	int len = -1, off = node(path);
	const fdt64_t *v = off >= 0 ? fdt_getprop(table, off, name, &len) : NULL;

	CU_ASSERT_EQUAL(len, 8);
	return v && len == 8 ? fdt64_ld(v) : 0xdeadbeef;	/* only 4-byte aligned */
}

static const char *prop_str(const char *path, const char *name)
{
	int len = -1, off = node(path);
	const char *v = off >= 0 ? fdt_getprop(table, off, name, &len) : NULL;

	CU_ASSERT(v && len >= 1 && v[len - 1] == '\0' && strlen(v) == (size_t)len - 1);
	return v ? v : "(missing)";
}

static unsigned int device_nodes(void)
{
	unsigned int n = 0;
	int sub;

	fdt_for_each_subnode(sub, table, node("/devices")) {
		n++;
	}
	return n;
}

/* The schema's fixed part, for @d. */
static void check_fixed_part(const struct domain *d)
{
	static const uint8_t zero[16];
	const fdt32_t *version;
	const uint8_t *uuid;
	const fdt64_t *reg;
	int len;

	CU_ASSERT_EQUAL(fdt_node_check_compatible(table, 0, KEEL_DT_COMPATIBLE), 0);
	version = fdt_getprop(table, 0, KEEL_DT_PROP_VERSION, &len);
	CU_ASSERT_FATAL(version && len == 8);
	CU_ASSERT_EQUAL(fdt32_to_cpu(version[0]), KEEL_DT_VERSION_MAJOR);
	CU_ASSERT_EQUAL(fdt32_to_cpu(version[1]), KEEL_DT_VERSION_MINOR);
	CU_ASSERT_EQUAL(prop_u32("/", "#address-cells"), 2);
	CU_ASSERT_EQUAL(prop_u32("/", "#size-cells"), 2);

	CU_ASSERT_EQUAL(prop_u32("/domain", KEEL_DT_PROP_DOMID), d->domid);
	CU_ASSERT_STRING_EQUAL(prop_str("/domain", KEEL_DT_PROP_NAME), d->name);
	uuid = fdt_getprop(table, node("/domain"), KEEL_DT_PROP_UUID, &len);
	CU_ASSERT(uuid && len == 16 && memcmp(uuid, zero, 16) == 0);
	CU_ASSERT_EQUAL(prop_u64("/domain", KEEL_DT_PROP_CAPS), d->caps);
	CU_ASSERT_EQUAL(prop_u32("/domain", KEEL_DT_PROP_VCPUS), d->vcpu_count);

	reg = fdt_getprop(table, node("/map-window"), KEEL_DT_PROP_REG, &len);
	CU_ASSERT_FATAL(reg && len == 16);
	CU_ASSERT_EQUAL(fdt64_ld(&reg[0]), FAKE_MAP_WINDOW_GPA);
	CU_ASSERT_EQUAL(fdt64_ld(&reg[1]), FAKE_MAP_WINDOW_SIZE);

	CU_ASSERT_EQUAL(prop_u32("/devices", "#address-cells"), 1);
	CU_ASSERT_EQUAL(prop_u32("/devices", "#size-cells"), 0);
}

/* The node of device @s as @role sees it, with @peer at the other end. */
static void check_device_node(const char *cls, const struct device_setup *s,
			      const char *role, const struct domain *peer, const char *label)
{
	char path[64], compatible[32];

	snprintf(path, sizeof(path), "/devices/%s@%x", cls, s->device_id);
	snprintf(compatible, sizeof(compatible), "keel,%s", cls);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(table, node(path), compatible), 0);
	CU_ASSERT_EQUAL(prop_u32(path, KEEL_DT_PROP_REG), s->device_id);
	CU_ASSERT_STRING_EQUAL(prop_str(path, KEEL_DT_PROP_ROLE), role);
	CU_ASSERT_EQUAL(prop_u32(path, KEEL_DT_PROP_PEER_DOMID), peer->domid);
	CU_ASSERT_EQUAL(prop_u32(path, KEEL_DT_PROP_EVENT_PORT), s->frontend_port);
	CU_ASSERT_EQUAL(prop_u32(path, KEEL_DT_PROP_INDEX), s->index_used);
	CU_ASSERT_STRING_EQUAL(prop_str(path, KEEL_DT_PROP_LABEL), label);
}

static bool has_device_node(uint32_t id)
{
	int sub;

	fdt_for_each_subnode(sub, table, node("/devices")) {
		int len;
		const fdt32_t *reg = fdt_getprop(table, sub, KEEL_DT_PROP_REG, &len);

		if (reg && len == 4 && fdt32_to_cpu(*reg) == id) {
			return true;
		}
	}
	return false;
}

static struct keel_evtchn_status port_status(struct domain *d, uint32_t port)
{
	struct keel_evtchn_status st = { .port = port };

	CU_ASSERT_EQUAL(evtchn_status(d->evtchn, &st), 0);
	return st;
}

static void clear_pending(struct domain *d, uint32_t port)
{
	__atomic_and_fetch(&d->shared_info->evtchn_pending[port / 64], ~(1ull << (port % 64)),
			   __ATOMIC_SEQ_CST);
}

/* --- tables ---------------------------------------------------------------- */

static void test_empty_table_at_creation(void)
{
	struct domain *d = make("lonely", KEEL_CAP_CONTROL | KEEL_CAP_LOG);
	uint32_t size = read_table(d);

	CU_ASSERT(size > 40);
	CU_ASSERT_EQUAL(device_table_size(d), size);
	check_fixed_part(d);
	CU_ASSERT_EQUAL(device_nodes(), 0);
	CU_ASSERT_EQUAL(generation(d), 0);
	finish(d);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_setup_builds_both_tables(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK | KEEL_CAP_BACKEND_NET);
	struct domain *front = make("web", 0);
	struct device_setup disk, nic;

	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &disk), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_NET, 0, "", &nic), 0);
	CU_ASSERT(disk.device_id >= 1);
	CU_ASSERT(nic.device_id > disk.device_id);
	CU_ASSERT(disk.frontend_port >= 1);
	CU_ASSERT_NOT_EQUAL(disk.frontend_port, nic.frontend_port);
	CU_ASSERT_EQUAL(generation(front), 2);
	CU_ASSERT_EQUAL(generation(back), 2);

	read_table(front);
	check_fixed_part(front);
	CU_ASSERT_EQUAL(device_nodes(), 2);
	check_device_node("block", &disk, KEEL_DT_ROLE_FRONTEND, back, "xvda");
	check_device_node("net", &nic, KEEL_DT_ROLE_FRONTEND, back, "");

	read_table(back);
	check_fixed_part(back);
	CU_ASSERT_EQUAL(device_nodes(), 2);
	check_device_node("block", &disk, KEEL_DT_ROLE_BACKEND, front, "xvda");
	check_device_node("net", &nic, KEEL_DT_ROLE_BACKEND, front, "");

	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_device_page_header(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct domain *front = make("web", 0);
	const struct keel_io_device_page *p;
	struct device_setup s;
	paddr_t pa = 0, pa2 = 0;

	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 3, "xvdd", &s), 0);
	CU_ASSERT_EQUAL(device_page_lookup(front, s.device_id, &pa), 0);
	CU_ASSERT_EQUAL(device_page_lookup(back, s.device_id, &pa2), 0);
	CU_ASSERT_EQUAL(pa, pa2);
	CU_ASSERT(IS_ALIGNED(pa, PAGE_SIZE));
	p = arch_phys_to_virt(pa);
	CU_ASSERT_EQUAL(p->magic, KEEL_IO_DEVICE_MAGIC);
	CU_ASSERT_EQUAL(p->version, KEEL_IO_DEVICE_VERSION);
	CU_ASSERT_EQUAL(p->device_class, KEEL_IO_CLASS_BLOCK);
	CU_ASSERT_EQUAL(p->device_id, s.device_id);
	CU_ASSERT_EQUAL(p->frontend_domid, front->domid);
	CU_ASSERT_EQUAL(p->backend_domid, back->domid);
	CU_ASSERT_EQUAL(p->frontend_port, s.frontend_port);
	CU_ASSERT_EQUAL(p->index, 3);
	CU_ASSERT_EQUAL(p->be_state, KEEL_IO_STATE_CLOSED);
	CU_ASSERT_EQUAL(p->fe_state, KEEL_IO_STATE_CLOSED);
	for (size_t i = 0; i < sizeof(p->keel_reserved); i++) {
		CU_ASSERT_EQUAL(p->keel_reserved[i], 0);
	}
	device_page_put(pa);
	device_page_put(pa2);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_control_port_unbound_for_backend(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct domain *front = make("web", 0);
	struct domain *third = make("nosy", 0);
	struct keel_evtchn_status st;
	struct device_setup s;
	long bport;

	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &s), 0);
	st = port_status(front, s.frontend_port);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(st.remote_domid, back->domid);

	CU_ASSERT_EQUAL(evtchn_bind_interdomain(third->evtchn, front->domid, s.frontend_port),
			-KEEL_EPERM);
	bport = evtchn_bind_interdomain(back->evtchn, front->domid, s.frontend_port);
	CU_ASSERT(bport >= 1);
	st = port_status(front, s.frontend_port);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_INTERDOMAIN);
	CU_ASSERT_EQUAL(st.remote_port, (uint32_t)bport);

	/* Removal leaves the port to the frontend. */
	CU_ASSERT_EQUAL(device_remove(s.device_id), 0);
	st = port_status(front, s.frontend_port);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_INTERDOMAIN);

	finish(third);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_generation_and_virq(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_CONSOLE);
	struct domain *front = make("web", 0);
	long fvirq = evtchn_bind_virq(front->evtchn, KEEL_VIRQ_DEVICE_TABLE, 0);
	long bvirq = evtchn_bind_virq(back->evtchn, KEEL_VIRQ_DEVICE_TABLE, 0);
	struct device_setup s;

	CU_ASSERT_FATAL(fvirq > 0 && bvirq > 0);
	CU_ASSERT_EQUAL(evtchn_port_pending(front->evtchn, (uint32_t)fvirq), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_CONSOLE, 0, "hvc0", &s), 0);
	CU_ASSERT_EQUAL(evtchn_port_pending(front->evtchn, (uint32_t)fvirq), 1);
	CU_ASSERT_EQUAL(evtchn_port_pending(back->evtchn, (uint32_t)bvirq), 1);
	CU_ASSERT_EQUAL(generation(front), 1);
	CU_ASSERT_EQUAL(generation(back), 1);

	clear_pending(front, (uint32_t)fvirq);
	clear_pending(back, (uint32_t)bvirq);
	CU_ASSERT_EQUAL(device_remove(s.device_id), 0);
	CU_ASSERT_EQUAL(device_remove(s.device_id), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(evtchn_port_pending(front->evtchn, (uint32_t)fvirq), 1);
	CU_ASSERT_EQUAL(evtchn_port_pending(back->evtchn, (uint32_t)bvirq), 1);
	CU_ASSERT_EQUAL(generation(front), 2);
	CU_ASSERT_EQUAL(generation(back), 2);
	read_table(front);
	CU_ASSERT_EQUAL(device_nodes(), 0);
	read_table(back);
	CU_ASSERT_EQUAL(device_nodes(), 0);

	/* A change of the domain itself (its capabilities). */
	clear_pending(back, (uint32_t)bvirq);
	back->caps |= KEEL_CAP_BACKEND_NET;
	CU_ASSERT_EQUAL(device_table_update(back), 0);
	CU_ASSERT_EQUAL(generation(back), 3);
	CU_ASSERT_EQUAL(evtchn_port_pending(back->evtchn, (uint32_t)bvirq), 1);
	read_table(back);
	CU_ASSERT_EQUAL(prop_u64("/domain", KEEL_DT_PROP_CAPS),
			KEEL_CAP_BACKEND_CONSOLE | KEEL_CAP_BACKEND_NET);

	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_indexes(void)
{
	struct domain *back = make("storage", BACKEND_ALL);
	struct domain *front = make("web", 0);
	struct domain *driver2 = make("driver2", BACKEND_ALL);
	struct device_setup a, b, c, d;
	uint32_t gen;

	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &a), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 1, "xvdb", &b), 0);
	gen = generation(front);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 1, "again", NULL),
			-KEEL_EEXIST);
	CU_ASSERT_EQUAL(generation(front), gen);	/* no effect */
	/* Indexes are per class. */
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_NET, 1, "eth1", &c), 0);
	CU_ASSERT_EQUAL(c.index_used, 1);

	/* The domain builder's choice: the lowest free index. */
	d = (struct device_setup){ .device_class = KEEL_IO_CLASS_BLOCK, .auto_index = true };
	CU_ASSERT_EQUAL(device_setup(front, back, &d), 0);
	CU_ASSERT_EQUAL(d.index_used, 2);
	CU_ASSERT_EQUAL(device_remove(a.device_id), 0);
	d = (struct device_setup){ .device_class = KEEL_IO_CLASS_BLOCK, .index = 7,
				   .auto_index = true };
	CU_ASSERT_EQUAL(device_setup(front, back, &d), 0);
	CU_ASSERT_EQUAL(d.index_used, 0);
	read_table(front);
	check_device_node("block", &d, KEEL_DT_ROLE_FRONTEND, back, "");
	d = (struct device_setup){ .device_class = KEEL_IO_CLASS_NET, .auto_index = true };
	CU_ASSERT_EQUAL(device_setup(front, back, &d), 0);
	CU_ASSERT_EQUAL(d.index_used, 0);
	/* Serving block devices does not take the backend's own block indexes. */
	d = (struct device_setup){ .device_class = KEEL_IO_CLASS_BLOCK, .auto_index = true };
	CU_ASSERT_EQUAL(device_setup(back, driver2, &d), 0);
	CU_ASSERT_EQUAL(d.index_used, 0);

	finish(front);
	finish(back);
	finish(driver2);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_setup_errors(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_NET);
	struct domain *front = make("web", 0);
	uint64_t free_before = page_alloc_free_count();

	CU_ASSERT_EQUAL(setup_dev(front, back, 0, 0, "", NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(setup_dev(front, back, 4, 0, "", NULL), -KEEL_EINVAL);
	/* An unknown class is EINVAL even when the backend holds nothing. */
	CU_ASSERT_EQUAL(setup_dev(back, front, 9, 0, "", NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "", NULL), -KEEL_EPERM);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_CONSOLE, 0, "", NULL), -KEEL_EPERM);
	CU_ASSERT_EQUAL(setup_dev(back, back, KEEL_IO_CLASS_NET, 0, "", NULL), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_NET, 0, "0123456789abcdef", NULL),
			-KEEL_EINVAL);
	/* No effect: no table changed, no port or page taken. */
	CU_ASSERT_EQUAL(generation(front), 0);
	CU_ASSERT_EQUAL(generation(back), 0);
	CU_ASSERT_EQUAL(port_status(front, 1).state, KEEL_EVTCHN_STATE_FREE);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_before);

	/* 15 characters and NULL (no label) are fine. */
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_NET, 0, "0123456789abcde", NULL), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_NET, 1, NULL, NULL), 0);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_out_of_ports(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct domain *front = make("web", 0);
	uint64_t free_before;
	uint32_t used = 0;

	while (evtchn_alloc_unbound(front->evtchn, back->domid) > 0) {
		used++;
	}
	CU_ASSERT_EQUAL(used, KEEL_EVTCHN_BASE_PORTS - 1);
	free_before = page_alloc_free_count();
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", NULL),
			-KEEL_ENOSPC);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_before);
	CU_ASSERT_EQUAL(generation(front), 0);
	/* EEXIST comes before ENOSPC. */
	CU_ASSERT_EQUAL(evtchn_close(front->evtchn, 1), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", NULL), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", NULL),
			-KEEL_EEXIST);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* The largest table a domain can have still fits KEEL_DT_MAX_SIZE. */
static void test_device_limit(void)
{
	struct domain *back = make("storage", BACKEND_ALL);
	struct domain *front = make("web", 0);
	struct domain *other = make("other", 0);
	struct device_setup s = { .auto_index = true, .label = "fifteen-chars!!" };
	uint32_t size;

	for (uint32_t i = 0; i < DEVICE_MAX_PER_DOMAIN; i++) {
		s.device_class = KEEL_IO_CLASS_CONSOLE + i % 3;
		CU_ASSERT_EQUAL_FATAL(device_setup(front, back, &s), 0);
	}
	CU_ASSERT_EQUAL(device_setup(front, back, &s), -KEEL_ENOSPC);
	/* The backend is full too. */
	CU_ASSERT_EQUAL(device_setup(other, back, &s), -KEEL_ENOSPC);
	size = read_table(front);
	CU_ASSERT(size <= KEEL_DT_MAX_SIZE);
	CU_ASSERT_EQUAL(device_nodes(), DEVICE_MAX_PER_DOMAIN);
	CU_ASSERT_EQUAL(generation(front), DEVICE_MAX_PER_DOMAIN);
	read_table(back);
	CU_ASSERT_EQUAL(device_nodes(), DEVICE_MAX_PER_DOMAIN);
	finish(other);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- reading the table ------------------------------------------------------ */

static void test_table_read(void)
{
	static uint8_t whole[KEEL_DT_MAX_SIZE], pieces[KEEL_DT_MAX_SIZE];
	static const uint64_t chunks[] = { 1, 7, 40, 100, 4096 };
	struct domain *back = make("storage", BACKEND_ALL);
	struct domain *front = make("web", 0);
	long size;

	for (uint32_t i = 0; i < 12; i++) {
		CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_CONSOLE + i % 3, i / 3,
					  "label", NULL), 0);
	}
	size = device_table_copy(front, whole, sizeof(whole));
	CU_ASSERT_FATAL(size > KEEL_PAGE_SIZE / 2);
	CU_ASSERT_EQUAL(device_table_size(front), (size_t)size);
	CU_ASSERT_EQUAL(device_table_copy(front, pieces, (size_t)size - 1), -KEEL_E2BIG);

	/* Errors, in the documented order. */
	CU_ASSERT_EQUAL(device_hc_table_read(front, BUF_GPA, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(device_hc_table_read(front, 0x1ff0, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(device_hc_table_read(front, BUF_GPA, 0, KEEL_PAGE_SIZE + 1), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(device_hc_table_read(front, BUF_GPA, 0, UINT64_MAX), -KEEL_E2BIG);
	CU_ASSERT_EQUAL(device_hc_table_read(front, 0x1ff0, 0, 32), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(device_hc_table_read(front, RAM_PAGES * PAGE_SIZE, 0, 8), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(device_hc_table_read(front, UINT64_MAX - 3, 0, 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(device_hc_table_read(front, RAM_PAGES * PAGE_SIZE, (uint64_t)size, 8),
			-KEEL_EFAULT);

	/* At or past the end: 0, whatever the offset. */
	CU_ASSERT_EQUAL(device_hc_table_read(front, BUF_GPA, (uint64_t)size, 8), 0);
	CU_ASSERT_EQUAL(device_hc_table_read(front, BUF_GPA, UINT64_MAX, 8), 0);
	/* The last bytes: a short count. */
	CU_ASSERT_EQUAL(device_hc_table_read(front, BUF_GPA, (uint64_t)size - 3, 8), 3);

	/* Any split reads the same bytes, also into the end of the page. */
	for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
		uint64_t gpa = BUF_GPA + KEEL_PAGE_SIZE - chunks[c];
		uint64_t done = 0;

		memset(pieces, 0, sizeof(pieces));
		while (done < (uint64_t)size) {
			long n = device_hc_table_read(front, gpa, done, chunks[c]);

			CU_ASSERT_FATAL(n > 0 && (uint64_t)n <= chunks[c]);
			CU_ASSERT_EQUAL_FATAL(guest_copy_from(front, gpa, pieces + done,
							      (size_t)n), 0);
			done += (uint64_t)n;
		}
		CU_ASSERT_EQUAL(done, (uint64_t)size);
		CU_ASSERT_EQUAL(memcmp(pieces, whole, (size_t)size), 0);
	}
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- device pages -------------------------------------------------------------- */

static void test_page_lookup_permissions(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct domain *front = make("web", 0);
	struct domain *third = make("nosy", KEEL_CAP_CONTROL);
	struct device_setup s;
	paddr_t pa = 0;

	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &s), 0);
	CU_ASSERT_EQUAL(device_page_lookup(third, s.device_id, &pa), -KEEL_EPERM);
	CU_ASSERT_EQUAL(device_page_lookup(front, s.device_id + 1, &pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(device_page_lookup(front, 0, &pa), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(pa, 0);
	CU_ASSERT_EQUAL(device_page_lookup(front, s.device_id, &pa), 0);
	CU_ASSERT_NOT_EQUAL(pa, 0);
	device_page_put(pa);
	CU_ASSERT_EQUAL(device_remove(s.device_id), 0);
	CU_ASSERT_EQUAL(device_page_lookup(front, s.device_id, &pa), -KEEL_ENOENT);
	finish(third);
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* A removed device's page lives on while mapped, and goes with the last mapping. */
static void test_page_outlives_device(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct domain *front = make("web", 0);
	struct keel_io_device_page *p;
	struct device_setup s;
	paddr_t fpa, bpa;
	uint64_t free_mapped;

	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &s), 0);
	CU_ASSERT_EQUAL(device_page_lookup(front, s.device_id, &fpa), 0);
	CU_ASSERT_EQUAL(device_page_lookup(back, s.device_id, &bpa), 0);
	p = arch_phys_to_virt(fpa);
	p->fe_state = KEEL_IO_STATE_READY;
	free_mapped = page_alloc_free_count();

	CU_ASSERT_EQUAL(device_remove(s.device_id), 0);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_mapped);	/* still mapped twice */
	CU_ASSERT_EQUAL(p->fe_state, KEEL_IO_STATE_READY);
	/* Removal is not backend loss: Keel leaves the backend area alone. */
	CU_ASSERT_EQUAL(p->be_state, KEEL_IO_STATE_CLOSED);
	device_page_put(bpa);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_mapped);
	device_page_put(fpa);
	CU_ASSERT(page_alloc_free_count() > free_mapped);	/* page and record freed */
	finish(front);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- destroying an end --------------------------------------------------------- */

static void test_destroy_frontend(void)
{
	struct domain *back = make("storage", BACKEND_ALL);
	struct domain *front = make("web", 0);
	struct domain *other = make("other", 0);
	struct device_setup gone1, gone2, stays;
	long virq = evtchn_bind_virq(back->evtchn, KEEL_VIRQ_DEVICE_TABLE, 0);
	uint32_t gen;

	CU_ASSERT_FATAL(virq > 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &gone1), 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_NET, 0, "eth0", &gone2), 0);
	CU_ASSERT_EQUAL(setup_dev(other, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &stays), 0);
	CU_ASSERT(evtchn_bind_interdomain(back->evtchn, front->domid, gone1.frontend_port) > 0);
	clear_pending(back, (uint32_t)virq);
	gen = generation(back);

	/* Destroy, while someone still holds a reference to the frontend. */
	domain_ref(front);
	finish(front);
	CU_ASSERT_EQUAL(generation(back), gen + 1);	/* one rebuild for both devices */
	CU_ASSERT_EQUAL(evtchn_port_pending(back->evtchn, (uint32_t)virq), 1);
	read_table(back);
	CU_ASSERT_EQUAL(device_nodes(), 1);
	CU_ASSERT_FALSE(has_device_node(gone1.device_id));
	CU_ASSERT_FALSE(has_device_node(gone2.device_id));
	CU_ASSERT(has_device_node(stays.device_id));
	CU_ASSERT_EQUAL(device_remove(gone1.device_id), -KEEL_ENOENT);
	/* A dying domain cannot get new devices. */
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 5, "", NULL), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(setup_dev(back, front, KEEL_IO_CLASS_BLOCK, 5, "", NULL), -KEEL_EPERM);
	domain_put(front);

	finish(other);
	finish(back);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_destroy_backend(void)
{
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct domain *front = make("web", 0);
	long virq = evtchn_bind_virq(front->evtchn, KEEL_VIRQ_DEVICE_TABLE, 0);
	struct keel_io_device_page *p;
	struct keel_evtchn_status st;
	struct device_setup s;
	uint64_t free_mapped;
	paddr_t pa;

	CU_ASSERT_FATAL(virq > 0);
	CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, 0, "xvda", &s), 0);
	CU_ASSERT(evtchn_bind_interdomain(back->evtchn, front->domid, s.frontend_port) > 0);
	CU_ASSERT_EQUAL(device_page_lookup(front, s.device_id, &pa), 0);
	p = arch_phys_to_virt(pa);
	p->be_state = KEEL_IO_STATE_CONNECTED;
	p->fe_state = KEEL_IO_STATE_CONNECTED;
	clear_pending(front, (uint32_t)virq);
	clear_pending(front, s.frontend_port);

	finish(back);
	free_mapped = page_alloc_free_count();
	CU_ASSERT_EQUAL(p->be_state, KEEL_IO_STATE_CLOSED);
	CU_ASSERT_EQUAL(p->fe_state, KEEL_IO_STATE_CONNECTED);
	CU_ASSERT_EQUAL(generation(front), 2);
	CU_ASSERT_EQUAL(evtchn_port_pending(front->evtchn, (uint32_t)virq), 1);
	read_table(front);
	CU_ASSERT_EQUAL(device_nodes(), 0);
	/* Peer loss on the control port (event channels): UNBOUND again and pending. */
	st = port_status(front, s.frontend_port);
	CU_ASSERT_EQUAL(st.state, KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(evtchn_port_pending(front->evtchn, s.frontend_port), 1);

	device_page_put(pa);
	CU_ASSERT_EQUAL(page_alloc_free_count(), free_mapped + 1);
	finish(front);
	UNIT_CHECK_ALL_RETURNED();
}

/* Both ends die while a third domain still maps the page: nothing leaks. */
static void test_destroy_both_ends(void)
{
	struct domain *back = make("storage", BACKEND_ALL);
	struct domain *front = make("web", 0);
	struct device_setup s;
	paddr_t pa;

	for (uint32_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(setup_dev(front, back, KEEL_IO_CLASS_BLOCK, i, "", &s), 0);
	}
	CU_ASSERT_EQUAL(device_page_lookup(back, s.device_id, &pa), 0);
	finish(back);
	finish(front);
	device_page_put(pa);
	UNIT_CHECK_ALL_RETURNED();
}

/* --- control calls ------------------------------------------------------------- */

static long ctl_setup(struct domain *caller, uint32_t cls, uint32_t front, uint32_t back,
		      const char *label, struct keel_ctl_device *out)
{
	struct keel_ctl_device req = {
		.device_class = cls, .frontend_domid = front, .backend_domid = back, .index = 0,
		.device_id = 0xaaaaaaaa, .frontend_port = 0xbbbbbbbb,
	};
	long rc;

	memcpy(req.label, label, MIN(strlen(label), sizeof(req.label)));
	CU_ASSERT_EQUAL_FATAL(guest_copy_to(caller, CTL_GPA, &req, sizeof(req)), 0);
	rc = device_hc_ctl_setup(caller, CTL_GPA);
	CU_ASSERT_EQUAL_FATAL(guest_copy_from(caller, CTL_GPA, out, sizeof(*out)), 0);
	return rc;
}

static void test_ctl_setup_rights(void)
{
	struct domain *ctl = make("ctl", KEEL_CAP_CONTROL);
	struct domain *mgr = make("mgr", KEEL_CAP_CREATE);
	struct domain *mgr2 = make("mgr2", KEEL_CAP_CREATE);
	struct domain *plain = make("plain", KEEL_CAP_BACKEND_BLOCK);
	struct domain *guest = make_child("guest", 0, mgr->domid);
	struct domain *back = make("storage", KEEL_CAP_BACKEND_BLOCK);
	struct keel_ctl_device out;
	char path[64];

	/* No control at all: EPERM before the struct is even read. */
	CU_ASSERT_EQUAL(device_hc_ctl_setup(plain, 0x7), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_setup(plain, KEEL_IO_CLASS_BLOCK, guest->domid, back->domid, "x",
				  &out), -KEEL_EPERM);
	/* The struct. */
	CU_ASSERT_EQUAL(device_hc_ctl_setup(ctl, CTL_GPA + 4), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(device_hc_ctl_setup(ctl, CTL_GPA + PAGE_SIZE - 16), -KEEL_EFAULT);
	CU_ASSERT_EQUAL(device_hc_ctl_setup(ctl, RAM_PAGES * PAGE_SIZE), -KEEL_EFAULT);
	/* Domains and control over the frontend. */
	CU_ASSERT_EQUAL(ctl_setup(ctl, KEEL_IO_CLASS_BLOCK, 999, back->domid, "x", &out),
			-KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_setup(ctl, KEEL_IO_CLASS_BLOCK, KEEL_DOMID_SELF, back->domid, "x",
				  &out), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(ctl_setup(mgr2, KEEL_IO_CLASS_BLOCK, guest->domid, back->domid, "x",
				  &out), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_BLOCK, back->domid, guest->domid, "x",
				  &out), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_BLOCK, guest->domid, 999, "x", &out),
			-KEEL_ESRCH);
	/* The struct's contents, then device_setup()'s checks. */
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_BLOCK, guest->domid, back->domid,
				  "0123456789abcdef", &out), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_setup(mgr, 0, guest->domid, back->domid, "x", &out), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_NET, guest->domid, back->domid, "x", &out),
			-KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_BLOCK, back->domid, back->domid, "x",
				  &out), -KEEL_EPERM);
	CU_ASSERT_EQUAL(ctl_setup(ctl, KEEL_IO_CLASS_BLOCK, back->domid, back->domid, "x",
				  &out), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(out.device_id, 0xaaaaaaaa);	/* failures write nothing */
	CU_ASSERT_EQUAL(generation(guest), 0);

	/* The creator may; so may a controller; a backend may be the caller itself. */
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_BLOCK, guest->domid, back->domid, "xvda",
				  &out), 0);
	CU_ASSERT(out.device_id >= 1 && out.device_id != 0xaaaaaaaa);
	CU_ASSERT_EQUAL(port_status(guest, out.frontend_port).state, KEEL_EVTCHN_STATE_UNBOUND);
	CU_ASSERT_EQUAL(out.index, 0);
	CU_ASSERT_STRING_EQUAL((const char *)out.label, "xvda");
	read_table(guest);
	snprintf(path, sizeof(path), "/devices/block@%x", out.device_id);
	CU_ASSERT_STRING_EQUAL(prop_str(path, KEEL_DT_PROP_LABEL), "xvda");
	CU_ASSERT_EQUAL(prop_u32(path, KEEL_DT_PROP_EVENT_PORT), out.frontend_port);
	CU_ASSERT_EQUAL(ctl_setup(mgr, KEEL_IO_CLASS_BLOCK, guest->domid, back->domid, "xvda",
				  &out), -KEEL_EEXIST);
	CU_ASSERT_EQUAL(ctl_setup(ctl, KEEL_IO_CLASS_BLOCK, ctl->domid, plain->domid, "",
				  &out), 0);

	finish(guest);
	finish(back);
	finish(plain);
	finish(mgr2);
	finish(mgr);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

static void test_ctl_remove_rights(void)
{
	struct domain *ctl = make("ctl", KEEL_CAP_CONTROL);
	struct domain *mgr = make("mgr", KEEL_CAP_CREATE);
	struct domain *mgr2 = make("mgr2", KEEL_CAP_CREATE);
	struct domain *guest = make_child("guest", 0, mgr->domid);
	struct domain *back = make_child("storage", KEEL_CAP_BACKEND_BLOCK, mgr2->domid);
	struct device_setup a, b;

	CU_ASSERT_EQUAL(setup_dev(guest, back, KEEL_IO_CLASS_BLOCK, 0, "", &a), 0);
	CU_ASSERT_EQUAL(setup_dev(guest, back, KEEL_IO_CLASS_BLOCK, 1, "", &b), 0);
	CU_ASSERT_EQUAL(device_hc_ctl_remove(guest, a.device_id), -KEEL_EPERM);
	CU_ASSERT_EQUAL(device_hc_ctl_remove(guest, 999999), -KEEL_EPERM);
	CU_ASSERT_EQUAL(device_hc_ctl_remove(mgr, 999999), -KEEL_ENOENT);
	/* Control over the backend is not enough: it is the frontend's. */
	CU_ASSERT_EQUAL(device_hc_ctl_remove(mgr2, a.device_id), -KEEL_EPERM);
	CU_ASSERT_EQUAL(device_hc_ctl_remove(mgr, a.device_id), 0);
	CU_ASSERT_EQUAL(device_hc_ctl_remove(mgr, a.device_id), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(device_hc_ctl_remove(ctl, b.device_id), 0);
	read_table(guest);
	CU_ASSERT_EQUAL(device_nodes(), 0);
	read_table(back);
	CU_ASSERT_EQUAL(device_nodes(), 0);

	finish(guest);
	finish(back);
	finish(mgr2);
	finish(mgr);
	finish(ctl);
	UNIT_CHECK_ALL_RETURNED();
}

static CU_TestInfo tests[] = {
	{ "empty table at creation", test_empty_table_at_creation },
	{ "setup builds both tables", test_setup_builds_both_tables },
	{ "device page header", test_device_page_header },
	{ "control port unbound for the backend", test_control_port_unbound_for_backend },
	{ "generation and VIRQ", test_generation_and_virq },
	{ "indexes", test_indexes },
	{ "setup errors have no effect", test_setup_errors },
	{ "out of ports", test_out_of_ports },
	{ "device limit and the largest table", test_device_limit },
	{ "table read", test_table_read },
	{ "page lookup permissions", test_page_lookup_permissions },
	{ "page outlives its device", test_page_outlives_device },
	{ "destroying the frontend", test_destroy_frontend },
	{ "destroying the backend", test_destroy_backend },
	{ "destroying both ends", test_destroy_both_ends },
	{ "control: setup rights and errors", test_ctl_setup_rights },
	{ "control: remove rights", test_ctl_remove_rights },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo device_suite = {
	.pName = "device",
	.pInitFunc = unit_page_alloc_init,
	.pSetUpFunc = setup,
	.pTests = tests,
};
