/* SPDX-License-Identifier: MIT */
/* discovery.c: the discovery group: CPUID, hypercall page, VERSION, FEATURES, IDENTIFY, errors. */
#include "hcall.h"

#define F0_KNOWN	(KEEL_F0_UPCALL_VECTOR | KEEL_F0_UPCALL_PLATFORM | KEEL_F0_TSC_STABLE | \
			 KEEL_F0_EVTCHN_EXPAND | KEEL_F0_CONTROL | KEEL_F0_DEVICE_TABLE)
/* CF PF AF ZF SF OF: the flags a hypercall may clobber. */
#define RFLAGS_ARITH	0x8d5ull
#define GARBAGE		0x5a5a5a5a5a5a5a5aull

/* The hypercall through a register, so a relocated page can be called too. */
KT_INSN_FN(hc_call_r14, "call *%r14");

static void check_cpuid(void)
{
	uint32_t b = kt_boot.cpuid_base;
	struct kt_cpuid r;
	static const char *const foreign[] = { "XenVMMXenVMM", "KVMKVMKVM\0\0\0", "Microsoft Hv",
					       "VMwareVMware", "TCGTCGTCGTCG" };
	bool clean = true;

	kt_check_eq("Keel leaves at base 0x40000000 (Keel 1.0)", b, KEEL_CPUID_BASE_FIRST);
	r = kt_cpuid(b, 0);
	kt_check(r.eax >= b + KEEL_CPUID_LEAF_DOMAIN, "B+0 EAX >= B+4", "EAX 0x%x", r.eax);
	kt_check(r.ebx == KEEL_CPUID_VENDOR_REG && r.ecx == KEEL_CPUID_VENDOR_REG &&
		 r.edx == KEEL_CPUID_VENDOR_REG, "B+0 vendor KeelKeelKeel",
		 "EBX 0x%x ECX 0x%x EDX 0x%x", r.ebx, r.ecx, r.edx);
	r = kt_cpuid(b + KEEL_CPUID_LEAF_INTERFACE, 0);
	kt_check_eq("B+1 EBX is the ABI version 1.0", r.ebx, KEEL_ABI_VERSION);
	kt_check_eq("B+1 ECX is KEEL_X86_MSR_HYPERCALL", r.ecx, KEEL_X86_MSR_HYPERCALL);
	kt_check_eq("B+1 EDX is 0", r.edx, 0);
	r = kt_cpuid(b + KEEL_CPUID_LEAF_FEATURES, 0);
	kt_check_eq("B+2 EAX has only defined feature bits", r.eax & ~(uint32_t)F0_KNOWN, 0);
	kt_check(r.ebx == 0 && r.ecx == 0 && r.edx == 0, "B+2 feature words 1-3 are 0 in 1.0",
		 "0x%x 0x%x 0x%x", r.ebx, r.ecx, r.edx);
	kt_check_eq("KEEL_F0_DEVICE_TABLE is set", r.eax & KEEL_F0_DEVICE_TABLE,
		    KEEL_F0_DEVICE_TABLE);
	r = kt_cpuid(b + KEEL_CPUID_LEAF_TIMING, 0);
	kt_check(r.eax != 0 && r.ecx == 0 && r.edx == 0, "B+3 TSC kHz set, ECX EDX 0",
		 "EAX %u ECX 0x%x EDX 0x%x", r.eax, r.ecx, r.edx);
	r = kt_cpuid(b + KEEL_CPUID_LEAF_DOMAIN, 0);
	kt_check(r.eax == 0 && r.ebx >= KEEL_DOMID_FIRST && r.ebx <= KEEL_DOMID_LAST &&
		 r.ecx == 1 && r.edx == 0, "B+4 vCPU 0, a domain id, 1 vCPU, EDX 0",
		 "EAX %u EBX %u ECX %u EDX 0x%x", r.eax, r.ebx, r.ecx, r.edx);
	kt_check_eq("CPUID 1 ECX bit 31 (hypervisor) set", kt_cpuid(1, 0).ecx >> 31, 1);
	for (uint32_t base = KEEL_CPUID_BASE_FIRST; base <= KEEL_CPUID_BASE_LAST;
	     base += KEEL_CPUID_BASE_STEP) {
		char sig[13];

		r = kt_cpuid(base, 0);
		memcpy(sig, &r.ebx, 4);
		memcpy(sig + 4, &r.ecx, 4);
		memcpy(sig + 8, &r.edx, 4);
		for (unsigned int i = 0; i < KT_ARRAY_SIZE(foreign); i++) {
			if (memcmp(sig, foreign[i], 12) == 0) {
				clean = false;
			}
		}
	}
	kt_check(clean, "no Xen, KVM, Hyper-V or VMware signature at any base", "one was found");
}

static void check_msr(void)
{
	uint64_t good = KT_GPA(keel_hypercall_page) | KEEL_X86_HYPERCALL_ENABLE, v = 0;

	kt_check(!kt_rdmsr_safe(KEEL_X86_MSR_HYPERCALL, &v) && v == good,
		 "hypercall MSR reads the last value written", "fault %lu, value 0x%lx",
		 kt_fault.hit ? kt_fault.vector : 0, v);
	kt_check(kt_wrmsr_safe(KEEL_X86_MSR_HYPERCALL, good | 0x2) && kt_fault.vector == 13,
		 "hypercall MSR with bits 11:1 set raises #GP", "fault %lu vector %lu",
		 kt_fault.hit, kt_fault.vector);
	kt_check(kt_wrmsr_safe(KEEL_X86_MSR_HYPERCALL, KT_GPA_NOT_RAM | 1) && kt_fault.vector == 13,
		 "hypercall MSR with a GFN that is not RAM raises #GP", "fault %lu vector %lu",
		 kt_fault.hit, kt_fault.vector);
	kt_check(!kt_rdmsr_safe(KEEL_X86_MSR_HYPERCALL, &v) && v == good,
		 "hypercall MSR unchanged by the refused writes", "value 0x%lx", v);
}

static void put_identity(uint64_t gpa, uint16_t major, uint16_t minor, uint32_t os_id)
{
	struct keel_identity id;

	memset(&id, 0, sizeof(id));
	id.os_id = os_id;
	id.abi_major = major;
	id.abi_minor = minor;
	memcpy(id.os_name, "keeltest", 8);
	memcpy(KT_PTR(gpa), &id, sizeof(id));
}

static long identify_at(uint64_t gpa, uint16_t major, uint16_t minor, uint32_t os_id)
{
	if (kt_is_ram(gpa, sizeof(struct keel_identity))) {
		put_identity(gpa, major, minor, os_id);
	}
	return keel_hypercall1(KEEL_HC_IDENTIFY, gpa);
}

static void check_identify_errors(void)
{
	uint64_t good = KT_GPA(hc_page[2]);
	uint64_t window = kt_boot.si_valid ? kt_boot.si.map_window_gpa : KEEL_X86_GPA_MAP_WINDOW;

	kt_check_rc("IDENTIFY major 2", identify_at(good, 2, 0, KEEL_OS_TEST), -KEEL_EVERSION);
	kt_check_rc("IDENTIFY major 0", identify_at(good, 0, 0, KEEL_OS_TEST), -KEEL_EVERSION);
	kt_check_rc("IDENTIFY minor newer than Keel's",
		    identify_at(good, KEEL_ABI_MAJOR, KEEL_ABI_MINOR + 1, KEEL_OS_TEST),
		    -KEEL_EVERSION);
	kt_check_rc("IDENTIFY os_id KEEL_OS_UNKNOWN",
		    identify_at(good, KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_UNKNOWN),
		    -KEEL_EINVAL);
	kt_check_rc("IDENTIFY struct not 8-byte aligned",
		    identify_at(HC_MISALIGNED, KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_TEST),
		    -KEEL_EFAULT);
	kt_check_rc("IDENTIFY struct crossing a page",
		    identify_at(hc_crossing(sizeof(struct keel_identity)), KEEL_ABI_MAJOR,
				KEEL_ABI_MINOR,
				KEEL_OS_TEST), -KEEL_EFAULT);
	kt_check_rc("IDENTIFY struct not RAM",
		    identify_at(KT_GPA_NOT_RAM, KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_TEST),
		    -KEEL_EFAULT);
	kt_check_rc("IDENTIFY struct in the map window",
		    identify_at(window, KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_TEST),
		    -KEEL_EFAULT);
}

/* Calls other than VERSION, FEATURES and IDENTIFY; none of them may act before identification. */
static void check_not_identified(void)
{
	static const struct {
		const char *what;
		uint64_t nr, a0, a1;
	} calls[] = {
		{ "CONSOLE_WRITE before IDENTIFY", KEEL_HC_CONSOLE_WRITE, 0, 0 },
		{ "CONSOLE_READ before IDENTIFY", KEEL_HC_CONSOLE_READ, 0, 0 },
		{ "SCHED_YIELD before IDENTIFY", KEEL_HC_SCHED_YIELD, 0, 0 },
		{ "SCHED_SET_TIMER(0) before IDENTIFY", KEEL_HC_SCHED_SET_TIMER, 0, 0 },
		{ "SCHED_SHUTDOWN(99) before IDENTIFY", KEEL_HC_SCHED_SHUTDOWN, 99, 0 },
		{ "EVTCHN_ALLOC_UNBOUND before IDENTIFY", KEEL_HC_EVTCHN_ALLOC_UNBOUND,
		  KEEL_DOMID_SELF, 0 },
		{ "EVTCHN_SEND(1) before IDENTIFY", KEEL_HC_EVTCHN_SEND, 1, 0 },
		{ "GNTTAB_SETUP(1) before IDENTIFY", KEEL_HC_GNTTAB_SETUP, 1, 0 },
		{ "MEMORY_MAP_SHARED before IDENTIFY", KEEL_HC_MEMORY_MAP_SHARED,
		  KEEL_MAPSPACE_SHARED_INFO, 0 },
		{ "VCPU_DOWN(0) before IDENTIFY", KEEL_HC_VCPU_DOWN, 0, 0 },
		{ "CTL_DOMAIN_PAUSE before IDENTIFY", KEEL_HC_CTL_DOMAIN_PAUSE, KEEL_DOMID_LAST,
		  0 },
	};
	uint64_t buf = KT_GPA(hc_page[2]);

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(calls); i++) {
		kt_check_rc(calls[i].what, keel_hypercall2(calls[i].nr, calls[i].a0, calls[i].a1),
			    -KEEL_ENOTIDENT);
	}
	/* Struct calls, with a good struct, so that only the missing identification is wrong. */
	memset(hc_page[2], 0, 256);
	kt_check_rc("EVTCHN_STATUS before IDENTIFY", keel_hypercall1(KEEL_HC_EVTCHN_STATUS, buf),
		    -KEEL_ENOTIDENT);
	kt_check_rc("GNTTAB_QUERY before IDENTIFY", keel_hypercall1(KEEL_HC_GNTTAB_QUERY, buf),
		    -KEEL_ENOTIDENT);
	kt_check_rc("MEMORY_QUERY before IDENTIFY", keel_hypercall1(KEEL_HC_MEMORY_QUERY, buf),
		    -KEEL_ENOTIDENT);
	kt_check_rc("VCPU_INFO before IDENTIFY", keel_hypercall1(KEEL_HC_VCPU_INFO, buf),
		    -KEEL_ENOTIDENT);
	kt_check_rc("VCPU_REGISTER_INFO before IDENTIFY",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, 0, KT_GPA(hc_page[3])),
		    -KEEL_ENOTIDENT);
	kt_check_rc("DEVICE_TABLE_READ before IDENTIFY",
		    keel_hypercall3(KEEL_HC_DEVICE_TABLE_READ, buf, 0, 40), -KEEL_ENOTIDENT);
	kt_check_rc("CTL_HOST_INFO before IDENTIFY", keel_hypercall1(KEEL_HC_CTL_HOST_INFO, buf),
		    -KEEL_ENOTIDENT);
}

/* ENOSYS comes before ENOTIDENT in the order of checks, so these hold before and after. */
static void check_unknown_numbers(const char *when)
{
	static const uint64_t numbers[] = {
		0x003, 0x00f, 0x014, 0x01f, 0x025, 0x02f, 0x03c, 0x04f, 0x056, 0x05f, 0x065, 0x074,
		0x081, 0x090, 0x0ff, 0x113, 0x17f, 0x180, 0xeff, 0xf00, 0xfff,
		0x1000, (uint64_t)1 << 32, ((uint64_t)1 << 63) | KEEL_HC_VERSION,
		((uint64_t)1 << 12) | KEEL_HC_VERSION, 0xffffffffffffffffull,
	};

	for (unsigned int i = 0; i < KT_ARRAY_SIZE(numbers); i++) {
		char what[64];

		kt_snprintf(what, sizeof(what), "number 0x%lx %s", numbers[i], when);
		kt_check_rc(what, keel_hypercall0(numbers[i]), -KEEL_ENOSYS);
	}
}

void hc_discovery_pre(void)
{
	kt_group_begin("discovery");
	check_cpuid();
	check_msr();
	kt_check_rc("VERSION before IDENTIFY", keel_hypercall0(KEEL_HC_VERSION), KEEL_ABI_VERSION);
	kt_check_rc("VERSION ignores unused argument registers",
		    keel_hypercall6(KEEL_HC_VERSION, GARBAGE, GARBAGE, GARBAGE, GARBAGE, GARBAGE,
				    GARBAGE),
		    KEEL_ABI_VERSION);
	for (uint32_t w = 0; w < KEEL_FEATURE_WORDS; w++) {
		char what[48];

		kt_snprintf(what, sizeof(what), "FEATURES(%u) is CPUID B+2 word %u", w, w);
		kt_check_rc(what, keel_hypercall1(KEEL_HC_FEATURES, w), kt_boot.features[w]);
	}
	kt_check_rc("FEATURES(4), an unknown word, is 0", keel_hypercall1(KEEL_HC_FEATURES, 4), 0);
	kt_check_rc("FEATURES(0xffff) is 0", keel_hypercall1(KEEL_HC_FEATURES, 0xffff), 0);
	check_unknown_numbers("before IDENTIFY");
	check_not_identified();
	check_identify_errors();
	/* After every refused IDENTIFY the domain must still be unidentified. */
	kt_check_rc("still not identified after the refused IDENTIFYs",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, KT_GPA(hc_page[2]), 0), -KEEL_ENOTIDENT);
}

/* The page is called through; RBX RBP R12-R15 and the non-arithmetic flags (DF here) survive. */
static void check_preserved(uint64_t page, const char *what)
{
	struct kt_insn_run run = { 0 };

	run.in = (struct kt_regs){
		.rax = KEEL_HC_VERSION, .rbx = 0x1111111111111111ull, .rcx = GARBAGE,
		.rdx = GARBAGE, .rsi = GARBAGE, .rdi = GARBAGE, .rbp = 0x2222222222222222ull,
		.r8 = GARBAGE, .r9 = GARBAGE, .r10 = GARBAGE, .r11 = GARBAGE,
		.r12 = 0x3333333333333333ull, .r13 = 0x4444444444444444ull, .r14 = page,
		.r15 = 0x6666666666666666ull, .rflags = KT_RFLAGS_BASE | KT_RFLAGS_DF,
	};
	kt_insn_exec(hc_call_r14, &run);
	kt_check(!kt_fault.hit && run.sled == 32, what, "fault %lu (vector %lu at 0x%lx), sled %lu",
		 kt_fault.hit, kt_fault.vector, kt_fault.rip, run.sled);
	kt_check_eq("VERSION through the page in RAX", run.out.rax, KEEL_ABI_VERSION);
	kt_check(run.out.rbx == run.in.rbx && run.out.rbp == run.in.rbp &&
		 run.out.r12 == run.in.r12 && run.out.r13 == run.in.r13 &&
		 run.out.r14 == run.in.r14 && run.out.r15 == run.in.r15,
		 "RBX RBP R12-R15 preserved by a hypercall",
		 "rbx %lx rbp %lx r12 %lx r13 %lx r15 %lx",
		 run.out.rbx, run.out.rbp, run.out.r12, run.out.r13, run.out.r15);
	kt_check_eq("RFLAGS other than arithmetic flags preserved (DF set)",
		    run.out.rflags & ~RFLAGS_ARITH, run.in.rflags & ~RFLAGS_ARITH);
}

static void check_high_bits(void)
{
	uint64_t vi = KT_GPA(&kt_vcpu_info[0]);
	long port;

	port = keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, 0);
	kt_check(port > 0, "EVTCHN_BIND_IPI(0) for the high-bit checks", "returned %ld (%s)", port,
		 kt_errname(port));
	if (port <= 0) {
		return;
	}
	kt_check_rc("EVTCHN_SEND with port bits 63:32 set",
		    keel_hypercall1(KEEL_HC_EVTCHN_SEND, HC_HIGH | (uint64_t)port), -KEEL_EINVAL);
	kt_check_rc("EVTCHN_MASK with port bits 63:32 set",
		    keel_hypercall1(KEEL_HC_EVTCHN_MASK, HC_HIGH | (uint64_t)port), -KEEL_EINVAL);
	kt_check_rc("EVTCHN_CLOSE with port bits 63:32 set",
		    keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, HC_HIGH | (uint64_t)port), -KEEL_EINVAL);
	kt_check_rc("EVTCHN_BIND_VCPU with port bits 63:32 set",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VCPU, HC_HIGH | (uint64_t)port, 0),
		    -KEEL_EINVAL);
	kt_check_rc("EVTCHN_ALLOC_UNBOUND with domid bits 63:32 set",
		    keel_hypercall1(KEEL_HC_EVTCHN_ALLOC_UNBOUND, HC_HIGH | KEEL_DOMID_SELF),
		    -KEEL_EINVAL);
	kt_check_rc("EVTCHN_BIND_INTERDOMAIN with domid bits 63:32 set",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_INTERDOMAIN, HC_HIGH | KEEL_DOMID_SELF, 1),
		    -KEEL_EINVAL);
	kt_check_rc("EVTCHN_BIND_IPI with vCPU bits 63:32 set",
		    keel_hypercall1(KEEL_HC_EVTCHN_BIND_IPI, HC_HIGH), -KEEL_EINVAL);
	kt_check_rc("EVTCHN_BIND_VIRQ with virq bits 63:32 set",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, HC_HIGH | KEEL_VIRQ_CONSOLE, 0),
		    -KEEL_EINVAL);
	kt_check_rc("EVTCHN_BIND_VIRQ with vCPU bits 63:32 set",
		    keel_hypercall2(KEEL_HC_EVTCHN_BIND_VIRQ, KEEL_VIRQ_CONSOLE, HC_HIGH),
		    -KEEL_EINVAL);
	kt_check_rc("SCHED_SHUTDOWN with reason bits 63:32 set",
		    keel_hypercall1(KEEL_HC_SCHED_SHUTDOWN, HC_HIGH | 99), -KEEL_EINVAL);
	kt_check_rc("VCPU_DOWN with vCPU bits 63:32 set",
		    keel_hypercall1(KEEL_HC_VCPU_DOWN, HC_HIGH),
		    -KEEL_EINVAL);
	kt_check_rc("VCPU_UP with vCPU bits 63:32 set",
		    keel_hypercall2(KEEL_HC_VCPU_UP, HC_HIGH, 0),
		    -KEEL_EINVAL);
	kt_check_rc("VCPU_REGISTER_INFO with vCPU bits 63:32 set",
		    keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, HC_HIGH, vi), -KEEL_EINVAL);
	/* Step 4 (EINVAL) comes before step 5 (EPERM): the capability check must not be reached. */
	kt_check_rc("CONSOLE_WRITE_DOMAIN with domid bits 63:32 set",
		    keel_hypercall3(KEEL_HC_CONSOLE_WRITE_DOMAIN, HC_HIGH | kt_boot.domid,
				    KT_GPA(hc_page[2]), 1), -KEEL_EINVAL);
	kt_check_rc("CTL_DOMAIN_PAUSE with domid bits 63:32 set",
		    keel_hypercall1(KEEL_HC_CTL_DOMAIN_PAUSE, HC_HIGH | (kt_boot.domid + 1)),
		    -KEEL_EINVAL);
	kt_check_rc("EVTCHN_CLOSE of the IPI port",
		    keel_hypercall1(KEEL_HC_EVTCHN_CLOSE, (uint64_t)port), 0);
}

static void check_relocated_page(void)
{
	uint64_t good = KT_GPA(keel_hypercall_page) | KEEL_X86_HYPERCALL_ENABLE, v = 0;
	uint64_t other = KT_GPA(hc_page[3]);

	kt_check(!kt_wrmsr_safe(KEEL_X86_MSR_HYPERCALL, other | KEEL_X86_HYPERCALL_ENABLE),
		 "hypercall page moved to another RAM page", "raised exception %lu",
		 kt_fault.vector);
	kt_check(!kt_rdmsr_safe(KEEL_X86_MSR_HYPERCALL,
				&v) && v == (other | KEEL_X86_HYPERCALL_ENABLE),
		 "hypercall MSR reads the new value", "0x%lx", v);
	check_preserved(other, "a call into the moved page resumes after the call");
	kt_check(!kt_wrmsr_safe(KEEL_X86_MSR_HYPERCALL, good), "hypercall page moved back",
		 "raised exception %lu", kt_fault.vector);
}

void hc_discovery_post(void)
{
	kt_check_rc("IDENTIFY again (the last record wins)",
		    kt_identify(KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_TEST), 0);
	kt_check_rc("CONSOLE_WRITE of 0 bytes once identified",
		    keel_hypercall2(KEEL_HC_CONSOLE_WRITE, KT_GPA(hc_page[2]), 0), 0);
	check_unknown_numbers("after IDENTIFY");
	check_preserved(KT_GPA(keel_hypercall_page),
			"a call into the hypercall page resumes after the call");
	check_relocated_page();
	check_high_bits();
	kt_group_end();
}
