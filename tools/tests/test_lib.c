/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/test_lib.c - libkeelctl against Keel's real core: each
 * wrapper's buffers reach Keel and come back, and Keel's errors come
 * through unchanged.
 */
#include <stdlib.h>
#include <string.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keel/io/device.h>
#include <keel/sched.h>
#include "fake_keel.h"
#include "fake_transport.h"
#include "tests.h"

static struct keelctl *ctl(void)
{
	return &env_get()->ctl;
}

static uint32_t make(const char *name, uint64_t pages)
{
	struct keel_ctl_domain_create req = { .max_pages = pages, .nr_vcpus = 2 };

	memcpy(req.name, name, strlen(name));
	CU_ASSERT_EQUAL(keelctl_domain_create(ctl(), &req), 0);
	return req.domid;
}

static void test_host_info(void)
{
	struct keel_ctl_host_info h;

	CU_ASSERT_EQUAL_FATAL(keelctl_host_info(ctl(), &h), 0);
	CU_ASSERT_EQUAL(h.abi_major, KEEL_ABI_MAJOR);
	CU_ASSERT_TRUE(h.free_pages > 0 && h.free_pages <= h.total_pages);
	CU_ASSERT_TRUE(h.nr_domains >= 1);
	CU_ASSERT_EQUAL(h.free_pages, fake_keel_free_pages());
}

static void test_lifecycle_calls(void)
{
	uint64_t before = env_free_pages();
	struct keel_ctl_domain_info info;
	uint32_t id = make("lib-a", 64), *ids = NULL, self = 0;
	long n;

	CU_ASSERT_EQUAL_FATAL(keelctl_domain_info(ctl(), id, &info), 0);
	CU_ASSERT_STRING_EQUAL((char *)info.name, "lib-a");
	CU_ASSERT_EQUAL(info.nr_vcpus, 2);
	CU_ASSERT_EQUAL(info.parent_domid, env_get()->ctl_domid);
	n = keelctl_domain_list_all(ctl(), &ids);
	CU_ASSERT_TRUE(n >= 2);
	CU_ASSERT_EQUAL(ids[n - 1], id);
	free(ids);
	CU_ASSERT_EQUAL(keelctl_self_domid(ctl(), &self), 0);
	CU_ASSERT_EQUAL(self, env_get()->ctl_domid);
	CU_ASSERT_EQUAL(keelctl_domain_unpause(ctl(), id), 0);
	CU_ASSERT_EQUAL(keelctl_domain_pause(ctl(), id), 0);
	CU_ASSERT_EQUAL(keelctl_domain_info(ctl(), id, &info), 0);
	CU_ASSERT_TRUE(info.flags & KEEL_DOMINFO_F_PAUSED);
	CU_ASSERT_EQUAL(keelctl_domain_set_sched(ctl(), id, 512, 50), 0);
	CU_ASSERT_EQUAL(keelctl_domain_set_sched(ctl(), id, 0, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(keelctl_domain_set_memory(ctl(), id, 0, 1000), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(keelctl_domain_set_caps(ctl(), id, KEEL_CAP_LOG), 0);
	CU_ASSERT_EQUAL(keelctl_domain_shutdown(ctl(), id, KEEL_SHUTDOWN_CRASH, 0), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(keelctl_domain_shutdown(ctl(), id, KEEL_SHUTDOWN_CRASH,
						KEEL_CTL_SHUTDOWN_F_FORCE), 0);
	CU_ASSERT_EQUAL(keelctl_domain_info(ctl(), id, &info), 0);
	CU_ASSERT_EQUAL(info.shutdown_reason, KEEL_SHUTDOWN_CRASH);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(ctl(), id), 0);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(ctl(), id), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(keelctl_domain_pause(ctl(), 999999), -KEEL_ESRCH);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(ctl(), KEEL_DOMID_SELF), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(env_free_pages(), before);
}

static void test_memory_and_context(void)
{
	uint64_t before = env_free_pages();
	uint32_t id = make("lib-mem", 1024);
	struct keel_memory_extent ext[300];
	struct keel_x86_vcpu_context ctx = { .rip = 0x100000, .rflags = 2 }, got;
	struct keel_ctl_domain_info info;
	struct keelctl_load load[2];
	uint8_t *page = calloc(2, 4096), back[16];

	/* 300 extents: more than one page of them, so two calls. */
	for (unsigned int i = 0; i < 300; i++) {
		ext[i] = (struct keel_memory_extent){ .gfn = 0x100 + i, .order = 0 };
	}
	CU_ASSERT_EQUAL(keelctl_domain_populate(ctl(), id, ext, 300), 0);
	CU_ASSERT_EQUAL(keelctl_domain_info(ctl(), id, &info), 0);
	CU_ASSERT_EQUAL(info.current_pages, 300);
	/* An element error comes back as such; the batch goes on. */
	ext[0].gfn = 0x100;
	CU_ASSERT_EQUAL(keelctl_domain_populate(ctl(), id, ext, 1), -KEEL_EBUSY);
	memset(page, 0xab, 4096);
	memset(page + 4096, 0xcd, 4096);
	load[0] = (struct keelctl_load){ .page = page, .dst_gfn = 0x100 };
	load[1] = (struct keelctl_load){ .page = page + 4096, .dst_gfn = 0x9000 };	/* not RAM */
	CU_ASSERT_EQUAL(keelctl_domain_load(ctl(), id, load, 2), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(load[0].status, 0);
	CU_ASSERT_EQUAL(load[1].status, -KEEL_ENOENT);
	CU_ASSERT_EQUAL(fake_keel_read(id, 0x100000 + 100, back, sizeof(back)), 0);
	CU_ASSERT_EQUAL(back[0], 0xab);
	CU_ASSERT_EQUAL(keelctl_vcpu_set_context(ctl(), id, 0, &ctx), 0);
	CU_ASSERT_EQUAL(keelctl_vcpu_get_context(ctl(), id, 0, &got), 0);
	CU_ASSERT_EQUAL(got.rip, 0x100000);
	CU_ASSERT_EQUAL(keelctl_vcpu_set_context(ctl(), id, 7, &ctx), -KEEL_EINVAL);
	CU_ASSERT_EQUAL(keelctl_domain_unpause(ctl(), id), 0);
	CU_ASSERT_EQUAL(keelctl_vcpu_set_context(ctl(), id, 0, &ctx), -KEEL_EBUSY);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(ctl(), id), 0);
	CU_ASSERT_EQUAL(env_free_pages(), before);
	free(page);
}

static void test_devices_and_streams(void)
{
	uint32_t id = make("lib-dev", 64);
	struct keel_ctl_device dev = { .device_class = KEEL_IO_CLASS_BLOCK, .frontend_domid = id,
				       .backend_domid = env_get()->ctl_domid, .label = "xvda" };
	char buf[64];
	uint64_t pos = 0, lost = 0;
	long n;

	CU_ASSERT_EQUAL_FATAL(keelctl_device_setup(ctl(), &dev), 0);
	CU_ASSERT_NOT_EQUAL(dev.device_id, 0);
	CU_ASSERT_EQUAL(keelctl_device_setup(ctl(), &dev), -KEEL_EEXIST);
	CU_ASSERT_EQUAL(keelctl_device_remove(ctl(), dev.device_id), 0);
	CU_ASSERT_EQUAL(keelctl_device_remove(ctl(), dev.device_id), -KEEL_ENOENT);
	CU_ASSERT_EQUAL(fake_keel_guest_print(id, "hello from lib-dev\n"), 0);
	n = keelctl_console_read(ctl(), id, &pos, buf, sizeof(buf) - 1, &lost);
	CU_ASSERT_EQUAL_FATAL(n, 19);
	buf[n] = 0;
	CU_ASSERT_STRING_EQUAL(buf, "hello from lib-dev\n");
	CU_ASSERT_EQUAL(pos, 19);
	CU_ASSERT_EQUAL(keelctl_console_read(ctl(), id, &pos, buf, sizeof(buf), &lost), 0);
	CU_ASSERT_EQUAL(keelctl_console_write(ctl(), id, "ls\n", 3), 3);
	pos = 0;
	CU_ASSERT_TRUE(keelctl_log_read(ctl(), &pos, buf, sizeof(buf), &lost) > 0);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(ctl(), id), 0);
	CU_ASSERT_EQUAL(keelctl_console_read(ctl(), id, &pos, buf, sizeof(buf), NULL), -KEEL_ESRCH);
}

/* A domain without the rights gets Keel's EPERM, not a transport error. */
static void test_rights_come_from_keel(void)
{
	uint32_t domid;
	void *dom = fake_keel_domain("lib-weak", KEEL_CAP_BACKEND_NET, &domid);
	struct keelctl weak = { .t = NULL };
	struct keel_ctl_host_info h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dom);
	weak.t = fake_transport_open(dom);
	CU_ASSERT_EQUAL(keelctl_host_info(&weak, &h), -KEEL_EPERM);
	CU_ASSERT_EQUAL(keelctl_domain_destroy(&weak, env_get()->ctl_domid), -KEEL_EPERM);
	weak.t->close(weak.t);
	fake_keel_domain_destroy(dom);
}

/* The driver's refusals of bad descriptors (docs/keelctl.md). */
static void test_transport_refuses_bad_buffers(void)
{
	uint64_t args[6] = { 0 };
	uint8_t data[16];
	struct keel_privcmd_buf b[2] = {
		{ .addr = (uintptr_t)data, .len = 0, .at = KEEL_PRIVCMD_AT_ARG },
	};

	CU_ASSERT_EQUAL(keelctl_hypercall(ctl(), KEEL_HC_CTL_HOST_INFO, args, b, 1),
			-KEELCTL_ETRANSPORT);
	b[0].len = 16;
	b[0].index = 6;
	CU_ASSERT_EQUAL(keelctl_hypercall(ctl(), KEEL_HC_CTL_HOST_INFO, args, b, 1),
			-KEELCTL_ETRANSPORT);
	b[0].index = 0;
	b[1] = (struct keel_privcmd_buf){ .addr = (uintptr_t)data, .len = 16,
					  .at = KEEL_PRIVCMD_AT_BUF, .index = 0, .offset = 9 };
	CU_ASSERT_EQUAL(keelctl_hypercall(ctl(), KEEL_HC_CTL_HOST_INFO, args, b, 2),
			-KEELCTL_ETRANSPORT);
	CU_ASSERT_STRING_EQUAL(keelctl_strerror(-KEELCTL_ETRANSPORT), "the privileged driver failed");
	CU_ASSERT_STRING_EQUAL(keelctl_strerror(-KEEL_ESRCH), "no such domain");
}

static CU_TestInfo tests[] = {
	{ "host info", test_host_info },
	{ "lifecycle calls and their errors", test_lifecycle_calls },
	{ "populate, load, vCPU context", test_memory_and_context },
	{ "devices, console and log streams", test_devices_and_streams },
	{ "rights are Keel's", test_rights_come_from_keel },
	{ "transport refuses bad buffer descriptors", test_transport_refuses_bad_buffers },
	CU_TEST_INFO_NULL,
};

CU_SuiteInfo lib_suite = { "libkeelctl", NULL, NULL, NULL, NULL, tests };
