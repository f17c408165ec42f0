/* SPDX-License-Identifier: MIT */
/* ctlbuild.c: a control domain builds, runs and destroys a domain with the control calls. */
#include "keeltest64.h"

/*
 * The kernel runs with capabilities "control" and "console" and does what
 * a toolstack does (docs/abi/control.md, "Building a domain"), checking
 * each step against the specification:
 *
 *   ctl-build   HOST_INFO; DOMAIN_CREATE (paused, no RAM, vCPU 0 online,
 *               uuid and parent reported); POPULATE 2 MiB at 2 MiB; LOAD a
 *               code page and identity page tables composed here; SET_CONTEXT
 *               (long mode), GET_CONTEXT gives it back; UNPAUSE; the child
 *               identifies and writes its console; while it runs SET and
 *               GET say EBUSY; paused, GET shows where it spins; a LOAD
 *               into the running child lets it power off, which
 *               KEEL_VIRQ_DOMAIN_STATE and DOMAIN_INFO report; GET_CONTEXT
 *               of the stopped child; DESTROY; free_pages is back.
 *   ctl-errors  the documented errors of the five calls on a live target.
 *
 * The child is a few position-independent instructions (child_code below)
 * that take everything from a mailbox the controller fills (rbx points to
 * it), so no address of this kernel leaks into the child.
 */
const char test_name[] = "ctlbuild";

#define CHILD_NAME	"ctl-child"
#define CHILD_BASE	0x200000ull		/* its RAM: one 2 MiB extent */
#define CHILD_CODE	CHILD_BASE		/* code, then the mailbox */
#define CHILD_PML4	(CHILD_BASE + 0x1000)
#define CHILD_PDPT	(CHILD_BASE + 0x2000)
#define CHILD_PD	(CHILD_BASE + 0x3000)
#define MAILBOX_OFF	0x800
#define CHILD_MSG	"keeltest-child: hello from a domain built by a control domain"
#define WAIT_NS		(10 * KT_NS_PER_S)

#define ATTR_CODE64	0xa9b	/* P, S, code exec/read accessed, L, G */
#define ATTR_DATA	0xc93	/* P, S, data read/write accessed, D/B, G */
#define ATTR_TSS_BUSY	0x08b
#define CR0_PE		0x1ull
#define CR0_ET		0x10ull
#define CR0_NE		0x20ull
#define CR0_PG		0x80000000ull
#define CR4_PAE		0x20ull
#define EFER_LME	0x100ull
#define EFER_LMA	0x400ull

/* What the child reads; offsets are fixed by child_code. */
struct mailbox {
	uint64_t identify_nr;		/* 0 */
	uint64_t write_nr;		/* 8 */
	uint64_t shutdown_nr;		/* 16 */
	uint64_t msg_len;		/* 24 */
	uint64_t reason;		/* 32 */
	uint64_t go;			/* 40: the child shuts down once it is set */
	struct keel_identity id;	/* 48 */
	char msg[128];
};
_Static_assert(__builtin_offsetof(struct mailbox, id) == 48 &&
	       __builtin_offsetof(struct mailbox, msg) == 136, "child_code's offsets");
_Static_assert(MAILBOX_OFF + sizeof(struct mailbox) <= KEEL_PAGE_SIZE, "one page");

/*
 * The child: IDENTIFY, CONSOLE_WRITE the message, spin until the mailbox
 * says go (the controller LOADs the page again), SCHED_SHUTDOWN. Only RBX
 * (the mailbox) is used across calls: hypercalls keep it.
 */
extern const uint8_t child_code[], child_spin[], child_code_end[];
__asm__(".section .rodata\n"
	".globl child_code\nchild_code:\n\t"
	"movq 0(%rbx), %rax\n\t"
	"leaq 48(%rbx), %rdi\n\t"
	"vmmcall\n\t"
	"movq 8(%rbx), %rax\n\t"
	"leaq 136(%rbx), %rdi\n\t"
	"movq 24(%rbx), %rsi\n\t"
	"vmmcall\n"
	".globl child_spin\nchild_spin:\n\t"
	"pause\n\t"
	"cmpq $0, 40(%rbx)\n\t"
	"je child_spin\n\t"
	"movq 16(%rbx), %rax\n\t"
	"movq 32(%rbx), %rdi\n\t"
	"vmmcall\n"
	"1:\thlt\n\tjmp 1b\n"
	".globl child_code_end\nchild_code_end:\n"
	".previous\n");

/* The pages composed here and loaded into the child, one per LOAD element. */
static uint8_t code_page[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint64_t pml4[512] KT_PAGE_ALIGNED;
static uint64_t pdpt[512] KT_PAGE_ALIGNED;
static uint64_t pd[512] KT_PAGE_ALIGNED;
/* Control structs and batch arrays (each call's struct within one page). */
static uint8_t area[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;
static uint8_t console_buf[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;

static struct keel_ctl_domain_create *const create_req = (void *)area;
static struct keel_ctl_domain_info *const info = (void *)area;
static struct keel_ctl_host_info *const host = (void *)area;
static struct keel_x86_vcpu_context *const ctx = (void *)area;
static struct keel_memory_extent *const extents = (void *)area;
static struct keel_ctl_load_page *const loads = (void *)area;
static struct keel_stream_read *const stream = (void *)area;

static const uint8_t uuid[16] = { 0x6b, 0x65, 0x65, 0x6c, 0x2d, 0x63, 0x74, 0x6c,
				  0x62, 0x75, 0x69, 0x6c, 0x64, 0x00, 0x01, 0x02 };

static long host_free_pages(uint64_t *free_pages)
{
	long rc;

	memset(area, 0, sizeof(area));
	rc = keel_hypercall1(KEEL_HC_CTL_HOST_INFO, KT_GPA(host));
	*free_pages = host->free_pages;
	return rc;
}

static long domain_info(uint32_t domid)
{
	memset(area, 0, sizeof(area));
	info->domid = domid;
	return keel_hypercall1(KEEL_HC_CTL_DOMAIN_INFO, KT_GPA(info));
}

static long create_child(const char *name, uint32_t *domid)
{
	long rc;

	memset(area, 0, sizeof(area));
	memcpy(create_req->name, name, kt_strlen(name));
	memcpy(create_req->uuid, uuid, sizeof(uuid));
	create_req->max_pages = 512;
	create_req->nr_vcpus = 2;
	create_req->domid = 0xdeadbeef;
	rc = keel_hypercall1(KEEL_HC_CTL_DOMAIN_CREATE, KT_GPA(create_req));
	*domid = create_req->domid;
	return rc;
}

/* The child's code page, mailbox included, and page tables mapping [0, 1 GiB) with 2 MiB pages. */
static void compose_child(void)
{
	struct mailbox *mb = (struct mailbox *)(code_page + MAILBOX_OFF);

	memset(code_page, 0xcc, sizeof(code_page));
	memcpy(code_page, child_code, (size_t)(child_code_end - child_code));
	memset(mb, 0, sizeof(*mb));
	mb->identify_nr = KEEL_HC_IDENTIFY;
	mb->write_nr = KEEL_HC_CONSOLE_WRITE;
	mb->shutdown_nr = KEEL_HC_SCHED_SHUTDOWN;
	mb->reason = KEEL_SHUTDOWN_POWEROFF;
	mb->id.os_id = KEEL_OS_TEST;
	mb->id.abi_major = KEEL_ABI_MAJOR;
	mb->id.abi_minor = KEEL_ABI_MINOR;
	memcpy(mb->id.os_name, "ctl-child", 9);
	memcpy(mb->msg, CHILD_MSG "\n", sizeof(CHILD_MSG));
	mb->msg_len = sizeof(CHILD_MSG);
	memset(pml4, 0, sizeof(pml4));
	memset(pdpt, 0, sizeof(pdpt));
	pml4[0] = CHILD_PDPT | 0x3;		/* present, writable */
	pdpt[0] = CHILD_PD | 0x3;
	for (unsigned int i = 0; i < 512; i++) {
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* present, writable, 2 MiB */
	}
}

static struct keel_x86_segment seg(uint16_t sel, uint16_t attr)
{
	return (struct keel_x86_segment){ sel, attr, 0xffffffffu, 0 };
}

/* 64-bit mode at the code page, paging on through the loaded tables. */
static void child_context(void)
{
	memset(area, 0, sizeof(area));
	ctx->rip = CHILD_CODE;
	ctx->rbx = CHILD_CODE + MAILBOX_OFF;
	ctx->rsp = CHILD_BASE + 0x100000;
	ctx->rflags = 0x2;
	ctx->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	ctx->cr3 = CHILD_PML4;
	ctx->cr4 = CR4_PAE;
	ctx->efer = EFER_LME;
	ctx->cs = seg(0x08, ATTR_CODE64);
	ctx->ds = ctx->es = ctx->ss = seg(0x10, ATTR_DATA);
	ctx->tr = (struct keel_x86_segment){ 0, ATTR_TSS_BUSY, 0x67, 0 };
}

/* Wait for DOMAIN_STATE news until DOMAIN_INFO of @domid shows @flag. */
static bool wait_for_flag(uint32_t port, uint32_t domid, uint32_t flag)
{
	uint64_t deadline = kt_now_ns() + WAIT_NS;

	for (;;) {
		if (domain_info(domid) != 0) {
			return false;
		}
		if (info->flags & flag) {
			return true;
		}
		if (kt_now_ns() >= deadline) {
			return false;
		}
		(void)kt_wait_port(port, deadline - kt_now_ns());
		kt_port_clear(port);
	}
}

/* The child's console so far contains @needle. */
static bool child_console_has(uint32_t domid, const char *needle)
{
	size_t n = kt_strlen(needle);
	long rc;

	memset(area, 0, sizeof(area));
	memset(console_buf, 0, sizeof(console_buf));
	stream->domid = domid;
	stream->buf_gpa = KT_GPA(console_buf);
	stream->buf_len = KEEL_PAGE_SIZE - 1;
	rc = keel_hypercall1(KEEL_HC_CONSOLE_READ_DOMAIN, KT_GPA(stream));
	if (!kt_check_rc("CONSOLE_READ_DOMAIN of the child", rc, 0)) {
		return false;
	}
	for (uint32_t i = 0; i + n <= stream->len; i++) {
		if (memcmp(console_buf + i, needle, n) == 0) {
			return true;
		}
	}
	return false;
}

static long load_child(uint32_t domid)
{
	const void *src[4] = { code_page, pml4, pdpt, pd };
	const uint64_t dst[4] = { CHILD_CODE, CHILD_PML4, CHILD_PDPT, CHILD_PD };
	long rc;

	memset(area, 0, sizeof(area));
	for (unsigned int i = 0; i < 4; i++) {
		loads[i].src_gfn = KT_GPA(src[i]) >> 12;
		loads[i].dst_gfn = dst[i] >> 12;
		loads[i].status = 1;
	}
	rc = keel_hypercall3(KEEL_HC_CTL_DOMAIN_LOAD, domid, KT_GPA(loads), 4);
	for (unsigned int i = 0; rc == 4 && i < 4; i++) {
		if (loads[i].status != 0) {
			return loads[i].status;
		}
	}
	return rc;
}

/* The child runs and spins: its vCPUs may not be touched until it is paused. */
static void test_running(uint32_t id)
{
	uint64_t deadline = kt_now_ns() + WAIT_NS;
	uint64_t spin = CHILD_CODE + (uint64_t)(child_spin - child_code);
	struct mailbox *mb = (struct mailbox *)(code_page + MAILBOX_OFF);
	bool said = false;

	while (!(said = child_console_has(id, CHILD_MSG)) && kt_now_ns() < deadline) {
		kt_sleep_ns(10 * KT_NS_PER_MS);
	}
	kt_check(said, "the child runs: its console line", "not within 10 s");
	kt_check_rc("DOMAIN_INFO of the running child", domain_info(id), 0);
	kt_check_eq("running: neither paused nor shut down",
		    info->flags & (KEEL_DOMINFO_F_PAUSED | KEEL_DOMINFO_F_SHUTDOWN), 0);
	child_context();
	kt_check_rc("SET_CONTEXT of a running domain",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, id, 0, KT_GPA(ctx)), -KEEL_EBUSY);
	kt_check_rc("GET_CONTEXT of a running domain",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_GET_CONTEXT, id, 0, KT_GPA(ctx)), -KEEL_EBUSY);
	kt_check_rc("DOMAIN_PAUSE", keel_hypercall1(KEEL_HC_CTL_DOMAIN_PAUSE, id), 0);
	memset(area, 0, sizeof(*ctx));
	kt_check_rc("GET_CONTEXT of the paused child",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_GET_CONTEXT, id, 0, KT_GPA(ctx)), 0);
	kt_check(ctx->rip >= spin && ctx->rip < CHILD_CODE + (uint64_t)(child_code_end - child_code) &&
		 ctx->rbx == CHILD_CODE + MAILBOX_OFF && ctx->efer == (EFER_LME | EFER_LMA),
		 "its live state: RIP in its spin loop", "rip %#lx (loop at %#lx) rbx %#lx",
		 ctx->rip, spin, ctx->rbx);
	kt_check_rc("DOMAIN_UNPAUSE again", keel_hypercall1(KEEL_HC_CTL_DOMAIN_UNPAUSE, id), 0);
	/* LOAD into a running domain: the page again, now saying go. */
	mb->go = 1;
	kt_check_rc("DOMAIN_LOAD into the running child", load_child(id), 4);
}

static void test_build(uint32_t port)
{
	uint64_t spin = CHILD_CODE + (uint64_t)(child_spin - child_code);
	uint64_t free_before = 0, free_after = 0;
	uint32_t id = 0;
	long rc;

	kt_group_begin("ctl-build");
	kt_check_rc("HOST_INFO", host_free_pages(&free_before), 0);
	rc = create_child(CHILD_NAME, &id);
	if (!kt_check_rc("DOMAIN_CREATE", rc, 0)) {
		kt_group_end();
		return;
	}
	kt_check(id != 0 && id != 0xdeadbeef && id != kt_boot.domid, "DOMAIN_CREATE gives a new domid",
		 "%u", id);
	kt_check(create_req->max_pages == 512 && create_req->nr_vcpus == 2,
		 "DOMAIN_CREATE writes back only the domid", "max_pages %lu", create_req->max_pages);
	kt_check(kt_wait_port(port, WAIT_NS) == 1, "KEEL_VIRQ_DOMAIN_STATE for the new domain",
		 "not pending");
	kt_check_rc("DOMAIN_INFO of the child", domain_info(id), 0);
	kt_check_eq("child flags: paused", info->flags, KEEL_DOMINFO_F_PAUSED);
	kt_check_eq("child parent", info->parent_domid, kt_boot.domid);
	kt_check(info->nr_vcpus == 2 && info->nr_vcpus_online == 1, "child vCPUs: 2, vCPU 0 online",
		 "%u, %u", info->nr_vcpus, info->nr_vcpus_online);
	kt_check(info->current_pages == 0 && info->max_pages == 512, "child RAM: none, max 512",
		 "%lu, %lu", info->current_pages, info->max_pages);
	kt_check(memcmp(info->uuid, uuid, sizeof(uuid)) == 0, "child uuid reported", "differs");
	kt_check(kt_strcmp((const char *)info->name, CHILD_NAME) == 0, "child name", "'%.32s'",
		 (const char *)info->name);

	memset(area, 0, sizeof(area));
	extents[0] = (struct keel_memory_extent){ .gfn = CHILD_BASE >> 12, .order = 9, .status = 1 };
	rc = keel_hypercall3(KEEL_HC_CTL_DOMAIN_POPULATE, id, KT_GPA(extents), 1);
	kt_check(rc == 1 && extents[0].status == 0, "DOMAIN_POPULATE 2 MiB", "rc %ld status %d",
		 rc, extents[0].status);
	kt_check_rc("DOMAIN_INFO after POPULATE", domain_info(id), 0);
	kt_check_eq("child RAM: 512 pages", info->current_pages, 512);

	compose_child();
	kt_check_rc("DOMAIN_LOAD code and page tables", load_child(id), 4);

	child_context();
	kt_check_rc("VCPU_SET_CONTEXT vCPU 0",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, id, 0, KT_GPA(ctx)), 0);
	memset(area, 0xa5, sizeof(*ctx));
	kt_check_rc("VCPU_GET_CONTEXT vCPU 0",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_GET_CONTEXT, id, 0, KT_GPA(ctx)), 0);
	kt_check(ctx->rip == CHILD_CODE && ctx->rbx == CHILD_CODE + MAILBOX_OFF &&
		 ctx->cr3 == CHILD_PML4 && ctx->cr0 == (CR0_PE | CR0_ET | CR0_NE | CR0_PG) &&
		 ctx->cr4 == CR4_PAE && ctx->efer == (EFER_LME | EFER_LMA) &&
		 ctx->cs.selector == 0x08 && ctx->cs.attr == ATTR_CODE64 &&
		 ctx->ss.attr == ATTR_DATA && ctx->rflags == 0x2 && ctx->reserved[0] == 0,
		 "GET_CONTEXT returns what SET loaded (EFER.LMA derived)",
		 "rip %#lx cr3 %#lx cr0 %#lx efer %#lx cs %#x/%#x", ctx->rip, ctx->cr3, ctx->cr0,
		 ctx->efer, ctx->cs.selector, ctx->cs.attr);

	kt_check_rc("DOMAIN_UNPAUSE", keel_hypercall1(KEEL_HC_CTL_DOMAIN_UNPAUSE, id), 0);
	test_running(id);
	kt_check(wait_for_flag(port, id, KEEL_DOMINFO_F_SHUTDOWN),
		 "the child runs and shuts down (DOMAIN_STATE, DOMAIN_INFO)", "flags %#x",
		 info->flags);
	kt_check_eq("child shutdown reason: POWEROFF", info->shutdown_reason, KEEL_SHUTDOWN_POWEROFF);
	kt_check(info->flags & KEEL_DOMINFO_F_IDENTIFIED, "the child identified", "flags %#x",
		 info->flags);
	kt_check(info->identity.os_id == KEEL_OS_TEST &&
		 memcmp(info->identity.os_name, "ctl-child", 9) == 0,
		 "DOMAIN_INFO identity is the child's", "os_id %u", info->identity.os_id);
	kt_check(info->cpu_time_ns > 0, "the child used CPU time", "%lu", info->cpu_time_ns);
	kt_check(child_console_has(id, CHILD_MSG), "the child's console line", "missing");
	kt_check_rc("VCPU_GET_CONTEXT of the stopped child",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_GET_CONTEXT, id, 0, KT_GPA(ctx)), 0);
	kt_check(ctx->rip > spin && ctx->rip <= CHILD_CODE + 0x100 &&
		 ctx->rbx == CHILD_CODE + MAILBOX_OFF && ctx->cr3 == CHILD_PML4,
		 "its live state: RIP past its SHUTDOWN call", "rip %#lx rbx %#lx", ctx->rip,
		 ctx->rbx);

	kt_check_rc("DOMAIN_DESTROY", keel_hypercall1(KEEL_HC_CTL_DOMAIN_DESTROY, id), 0);
	kt_check_rc("DOMAIN_INFO of the destroyed child", domain_info(id), -KEEL_ESRCH);
	kt_check_rc("HOST_INFO after", host_free_pages(&free_after), 0);
	kt_check_eq("free_pages back to its value before CREATE", free_after, free_before);
	kt_group_end();
}

static void test_errors(void)
{
	uint64_t free_before = 0, free_after = 0;
	uint32_t id = 0, dup = 0;
	long rc;

	kt_group_begin("ctl-errors");
	(void)host_free_pages(&free_before);
	rc = create_child("ctl-err", &id);
	if (!kt_check_rc("DOMAIN_CREATE", rc, 0)) {
		kt_group_end();
		return;
	}
	kt_check_rc("DOMAIN_CREATE of a name in use", create_child("ctl-err", &dup), -KEEL_EEXIST);
	memset(area, 0, sizeof(area));
	memcpy(create_req->name, "ctl-x", 5);
	create_req->nr_vcpus = 0;
	kt_check_rc("DOMAIN_CREATE with 0 vCPUs",
		    keel_hypercall1(KEEL_HC_CTL_DOMAIN_CREATE, KT_GPA(create_req)), -KEEL_EINVAL);
	create_req->nr_vcpus = 1;
	create_req->caps = 0x80;
	kt_check_rc("DOMAIN_CREATE with an unknown cap bit",
		    keel_hypercall1(KEEL_HC_CTL_DOMAIN_CREATE, KT_GPA(create_req)), -KEEL_EINVAL);
	create_req->caps = KEEL_CAP_LOG;
	kt_check_rc("DOMAIN_CREATE with a cap the caller lacks",
		    keel_hypercall1(KEEL_HC_CTL_DOMAIN_CREATE, KT_GPA(create_req)), -KEEL_EPERM);

	memset(area, 0, sizeof(area));
	extents[0] = (struct keel_memory_extent){ .gfn = 0xfee00, .order = 0 };	/* the local APIC */
	extents[1] = (struct keel_memory_extent){ .gfn = CHILD_BASE >> 12, .order = 9 };
	extents[2] = (struct keel_memory_extent){ .gfn = 0x400, .order = 0 };	/* over max_pages */
	rc = keel_hypercall3(KEEL_HC_CTL_DOMAIN_POPULATE, id, KT_GPA(extents), 3);
	kt_check(rc == 3 && extents[0].status == -KEEL_EINVAL && extents[1].status == 0 &&
		 extents[2].status == -KEEL_ENOMEM, "POPULATE: platform range, good, over max",
		 "rc %ld: %d %d %d", rc, extents[0].status, extents[1].status, extents[2].status);
	kt_check_rc("POPULATE count 0",
		    keel_hypercall3(KEEL_HC_CTL_DOMAIN_POPULATE, id, KT_GPA(extents), 0), -KEEL_EINVAL);
	kt_check_rc("POPULATE array crossing its page",
		    keel_hypercall3(KEEL_HC_CTL_DOMAIN_POPULATE, id, KT_GPA(area) + 4080, 2),
		    -KEEL_E2BIG);

	memset(area, 0, sizeof(area));
	loads[0] = (struct keel_ctl_load_page){ KT_GPA(code_page) >> 12, 0x10, 1, 0 };	/* not RAM */
	loads[1] = (struct keel_ctl_load_page){ KT_GPA_NOT_RAM >> 12, CHILD_BASE >> 12, 1, 0 };
	loads[2] = (struct keel_ctl_load_page){ KT_GPA(code_page) >> 12, CHILD_BASE >> 12, 1, 1 };
	rc = keel_hypercall3(KEEL_HC_CTL_DOMAIN_LOAD, id, KT_GPA(loads), 3);
	kt_check(rc == 3 && loads[0].status == -KEEL_ENOENT && loads[1].status == -KEEL_EFAULT &&
		 loads[2].status == -KEEL_EINVAL, "LOAD: target not RAM, source not RAM, pad0",
		 "rc %ld: %d %d %d", rc, loads[0].status, loads[1].status, loads[2].status);
	kt_check_rc("LOAD of 171 pages", keel_hypercall3(KEEL_HC_CTL_DOMAIN_LOAD, id, KT_GPA(loads),
							   171), -KEEL_E2BIG);

	child_context();
	ctx->reserved[0] = 1;
	kt_check_rc("SET_CONTEXT with a reserved field set",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, id, 1, KT_GPA(ctx)), -KEEL_EINVAL);
	ctx->reserved[0] = 0;
	ctx->cr4 = 0;						/* long mode without PAE */
	kt_check_rc("SET_CONTEXT the CPU could not enter",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, id, 1, KT_GPA(ctx)), -KEEL_EINVAL);
	kt_check_rc("DOMAIN_INFO", domain_info(id), 0);
	kt_check_eq("a rejected context leaves vCPU 1 offline", info->nr_vcpus_online, 1);
	child_context();
	kt_check_rc("SET_CONTEXT of vCPU 2 of 2",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, id, 2, KT_GPA(ctx)), -KEEL_EINVAL);
	kt_check_rc("SET_CONTEXT of oneself",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, KEEL_DOMID_SELF, 0, KT_GPA(ctx)),
		    -KEEL_EINVAL);
	kt_check_rc("GET_CONTEXT to a misaligned struct",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_GET_CONTEXT, id, 0, KT_GPA(area) + 4),
		    -KEEL_EFAULT);
	kt_check_rc("SET_CONTEXT vCPU 1",
		    keel_hypercall3(KEEL_HC_CTL_VCPU_SET_CONTEXT, id, 1, KT_GPA(ctx)), 0);
	kt_check_rc("DOMAIN_INFO", domain_info(id), 0);
	kt_check_eq("SET_CONTEXT brought vCPU 1 online", info->nr_vcpus_online, 2);

	kt_check_rc("DOMAIN_DESTROY", keel_hypercall1(KEEL_HC_CTL_DOMAIN_DESTROY, id), 0);
	kt_check_rc("POPULATE of the destroyed domain",
		    keel_hypercall3(KEEL_HC_CTL_DOMAIN_POPULATE, id, KT_GPA(extents), 1), -KEEL_ESRCH);
	(void)host_free_pages(&free_after);
	kt_check_eq("free_pages back", free_after, free_before);
	kt_group_end();
}

void test_main(void)
{
	long port = kt_evtchn_bind_virq(KEEL_VIRQ_DOMAIN_STATE, 0);

	if (port <= 0) {
		keeltest_result("ctl-build", KEELTEST_ERROR, "binding KEEL_VIRQ_DOMAIN_STATE: %ld",
				port);
		return;
	}
	test_build((uint32_t)port);
	test_errors();
}
