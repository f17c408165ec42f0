/* SPDX-License-Identifier: MIT */
/* control.c: the hcall-control group: control calls without a capability, or on oneself. */
#include "hcall.h"

static uint8_t area[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static struct keel_ctl_domain_info info __attribute__((aligned(256)));

static void check_self_info(void)
{
	static struct keel_memory_info mi __attribute__((aligned(64)));
	long rc;

	memset(&info, 0, sizeof(info));
	info.domid = kt_boot.domid;
	rc = keel_hypercall1(KEEL_HC_CTL_DOMAIN_INFO, KT_GPA(&info));
	if (!kt_check_rc("CTL_DOMAIN_INFO of oneself needs no capability", rc, 0)) {
		return;
	}
	keel_hypercall1(KEEL_HC_MEMORY_QUERY, KT_GPA(&mi));
	kt_check_eq("DOMAIN_INFO flags: identified, boot-time, nothing else", info.flags,
		    KEEL_DOMINFO_F_IDENTIFIED | KEEL_DOMINFO_F_BOOT);
	kt_check(info.nr_vcpus == 1 && info.nr_vcpus_online == 1, "DOMAIN_INFO vCPUs 1, online 1",
		 "%u, %u", info.nr_vcpus, info.nr_vcpus_online);
	kt_check_eq("DOMAIN_INFO parent of a boot-time domain", info.parent_domid, KEEL_DOMID_NONE);
	kt_check_eq("DOMAIN_INFO caps", info.caps, 0);
	kt_check(info.current_pages == mi.current_pages && info.max_pages == mi.max_pages &&
		 info.target_pages == mi.target_pages, "DOMAIN_INFO pages as MEMORY_QUERY",
		 "current %lu/%lu max %lu/%lu target %lu/%lu", info.current_pages, mi.current_pages,
		 info.max_pages, mi.max_pages, info.target_pages, mi.target_pages);
	kt_check(kt_strcmp((const char *)info.name, "hcall") == 0, "DOMAIN_INFO name", "'%.32s'",
		 (const char *)info.name);
	kt_check(info.weight == KEEL_CTL_WEIGHT_DEFAULT && info.cap_percent == 0,
		 "DOMAIN_INFO weight 256 (default), no cap", "weight %u cap %u", info.weight,
		 info.cap_percent);
	kt_check(info.cpu_time_ns > 0 && info.cpu_time_ns <= kt_now_ns(), "DOMAIN_INFO cpu_time_ns",
		 "%lu", info.cpu_time_ns);
	kt_check(info.identity.os_id == KEEL_OS_TEST && info.identity.abi_major == KEEL_ABI_MAJOR &&
		 info.identity.abi_minor == KEEL_ABI_MINOR &&
		 memcmp(info.identity.os_name, "keeltest", 9) == 0,
		 "DOMAIN_INFO identity is our IDENTIFY record", "os_id %u abi %u.%u",
		 info.identity.os_id, info.identity.abi_major, info.identity.abi_minor);
	kt_check_rc("DOMAIN_INFO struct not 8-byte aligned",
		    keel_hypercall1(KEEL_HC_CTL_DOMAIN_INFO, HC_MISALIGNED), -KEEL_EFAULT);
}

void hc_control(void)
{
	/* An id no domain has: the capability check (step 5) comes before ESRCH (step 6). */
	uint64_t other = kt_boot.domid + 1000, buf = KT_GPA(area);
	const struct {
		const char *what;
		uint64_t nr, a0, a1, a2;
	} calls[] = {
		{ "CTL_HOST_INFO", KEEL_HC_CTL_HOST_INFO, buf, 0, 0 },
		{ "CTL_DOMAIN_CREATE", KEEL_HC_CTL_DOMAIN_CREATE, buf, 0, 0 },
		{ "CTL_DOMAIN_DESTROY", KEEL_HC_CTL_DOMAIN_DESTROY, other, 0, 0 },
		{ "CTL_DOMAIN_PAUSE", KEEL_HC_CTL_DOMAIN_PAUSE, other, 0, 0 },
		{ "CTL_DOMAIN_UNPAUSE", KEEL_HC_CTL_DOMAIN_UNPAUSE, other, 0, 0 },
		{ "CTL_DOMAIN_SHUTDOWN", KEEL_HC_CTL_DOMAIN_SHUTDOWN, other,
		  KEEL_SHUTDOWN_POWEROFF, 0 },
		{ "CTL_DOMAIN_INFO of another domain", KEEL_HC_CTL_DOMAIN_INFO, buf + 2048, 0, 0 },
		{ "CTL_DOMAIN_LIST", KEEL_HC_CTL_DOMAIN_LIST, buf, 0, 0 },
		{ "CTL_DOMAIN_SET_MEMORY", KEEL_HC_CTL_DOMAIN_SET_MEMORY, other, 0, 0 },
		{ "CTL_DOMAIN_POPULATE", KEEL_HC_CTL_DOMAIN_POPULATE, other, buf, 1 },
		{ "CTL_DOMAIN_LOAD", KEEL_HC_CTL_DOMAIN_LOAD, other, buf, 1 },
		{ "CTL_DOMAIN_SET_CAPS of another domain", KEEL_HC_CTL_DOMAIN_SET_CAPS, other,
		  0, 0 },
		{ "CTL_DOMAIN_SET_SCHED", KEEL_HC_CTL_DOMAIN_SET_SCHED, other, 256, 0 },
		{ "CTL_VCPU_SET_CONTEXT", KEEL_HC_CTL_VCPU_SET_CONTEXT, other, 0, buf },
		{ "CTL_VCPU_GET_CONTEXT", KEEL_HC_CTL_VCPU_GET_CONTEXT, other, 0, buf },
		{ "CTL_VCPU_SET_AFFINITY", KEEL_HC_CTL_VCPU_SET_AFFINITY, other, 0, buf + 1024 },
		{ "CTL_DEVICE_SETUP", KEEL_HC_CTL_DEVICE_SETUP, buf + 3072, 0, 0 },
		{ "CTL_DEVICE_REMOVE", KEEL_HC_CTL_DEVICE_REMOVE, 1, 0, 0 },
		{ "CTL_LOG_READ", KEEL_HC_CTL_LOG_READ, buf + 3584, 0, 0 },
	};
	struct keel_ctl_domain_create *create = (struct keel_ctl_domain_create *)area;
	struct keel_ctl_domain_info *other_info = (struct keel_ctl_domain_info *)(area + 2048);
	struct keel_ctl_device *dev = (struct keel_ctl_device *)(area + 3072);
	struct keel_stream_read *log = (struct keel_stream_read *)(area + 3584);
	struct keel_ctl_cpumap *map = (struct keel_ctl_cpumap *)(area + 1024);

	kt_group_begin("hcall-control");
	check_self_info();
	for (unsigned int i = 0; i < KT_ARRAY_SIZE(calls); i++) {
		char what[80];

		/* Good contents everywhere, so that only the missing capability is wrong. */
		memset(area, 0, sizeof(area));
		memcpy(create->name, "kt-new", 6);
		create->max_pages = 256;
		create->nr_vcpus = 1;
		other_info->domid = (uint32_t)other;
		map->bits[0] = 1;
		dev->device_class = KEEL_IO_CLASS_CONSOLE;
		dev->frontend_domid = kt_boot.domid;
		dev->backend_domid = (uint32_t)other;
		log->buf_gpa = buf + 3900;
		log->buf_len = 64;
		if (calls[i].nr == KEEL_HC_CTL_DOMAIN_LIST) {
			((struct keel_ctl_domain_list *)area)->max = 4;
		}
		kt_snprintf(what, sizeof(what), "%s without a capability", calls[i].what);
		kt_check_rc(what,
			    keel_hypercall3(calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2),
			    -KEEL_EPERM);
	}
	kt_check_rc("CTL_DOMAIN_SET_CAPS(self, 0): dropping is allowed",
		    keel_hypercall2(KEEL_HC_CTL_DOMAIN_SET_CAPS, kt_boot.domid, 0), 0);
	kt_check_rc("CTL_DOMAIN_SET_CAPS(self, CONTROL): no escalation",
		    keel_hypercall2(KEEL_HC_CTL_DOMAIN_SET_CAPS, kt_boot.domid, KEEL_CAP_CONTROL),
		    -KEEL_EPERM);
	kt_check_rc("CTL_DOMAIN_SET_CAPS(self, an undefined bit)",
		    keel_hypercall2(KEEL_HC_CTL_DOMAIN_SET_CAPS, kt_boot.domid, (uint64_t)1 << 40),
		    -KEEL_EINVAL);
	kt_group_end();
}
