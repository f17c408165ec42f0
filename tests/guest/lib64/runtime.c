/* SPDX-License-Identifier: MIT */
/* runtime.c: start of day of a Keel-native test kernel: discovery, hypercall page, identify. */
#include "keeltest64.h"

/* start64.S hard-codes these; keep it honest. */
_Static_assert(KEEL_ELFNOTE_ENTRY == 1 && KEEL_ELFNOTE_ABI == 2, "note types in start64.S");
_Static_assert(KEEL_ENTRY_MODE_LONG64 == 1, "entry mode in start64.S");
_Static_assert(KEEL_ABI_MAJOR == 1 && KEEL_ABI_MINOR == 1, "ABI note in start64.S");
_Static_assert(sizeof(struct keel_elfnote_entry) == 16, "entry note size in start64.S");
_Static_assert(sizeof(struct keel_elfnote_abi) == 8, "ABI note size in start64.S");
_Static_assert(KT_UPCALL_VECTOR == 240, "upcall stub in start64.S");
_Static_assert(offsetof(struct kt_entry_state, rflags) == 128, "kt_entry layout in start64.S");
_Static_assert(offsetof(struct kt_entry_state, cs) == 160, "kt_entry layout in start64.S");
_Static_assert(offsetof(struct kt_entry_state, gdtr) == 176, "kt_entry layout in start64.S");
_Static_assert(offsetof(struct kt_entry_state, idtr) == 192, "kt_entry layout in start64.S");
_Static_assert(offsetof(struct kt_insn_run, out) == 128, "KT_INSN_FN offsets");
_Static_assert(offsetof(struct kt_insn_run, insn_rip) == 256, "KT_INSN_FN offsets");
_Static_assert(offsetof(struct kt_insn_run, sled) == 272, "KT_INSN_FN offsets");
_Static_assert(offsetof(struct kt_regs, rflags) == 120, "KT_INSN_FN offsets");

/* Keel fills this page with its call stub (docs/abi/README.md "Calling convention"). */
uint8_t keel_hypercall_page[KEEL_PAGE_SIZE] KT_PAGE_ALIGNED;

struct kt_boot kt_boot;
struct kt_entry_state kt_entry;
volatile struct keel_shared_info *kt_shared;
struct keel_vcpu_info kt_vcpu_info[KT_MAX_VCPUS] __attribute__((aligned(64)));

/* KT_INSN_FN's scratch words. */
struct kt_insn_run *kt_insn_cur;
uint64_t kt_insn_rsp;
uint64_t kt_insn_rsp_after;

static uint64_t window_next;
static bool identified;
static bool hypercall_page_installed;

void kt_main(uint64_t si_gpa);
void kt_traps_init(void);
void kt_early_puts(const char *s);

/* The last way out when nothing else works: Keel must crash the domain on a triple fault. */
void kt_triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty));
	for (;;) {
		__asm__ volatile("cli; hlt");
	}
}

void kt_shutdown(uint32_t reason)
{
	long rc;

	kt_console_flush();
	rc = keel_hypercall1(KEEL_HC_SCHED_SHUTDOWN, reason);
	/* Only SUSPEND returns; anything else is Keel failing its contract. */
	kt_printf("keeltest: %s: FAILURE KEEL_HC_SCHED_SHUTDOWN(%u) returned %ld (%s)\n",
		  kt_current, reason, rc, kt_errname(rc));
	kt_console_flush();
	kt_triple_fault();
}

void kt_crash(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	kt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!identified && hypercall_page_installed &&
	    kt_identify(KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_TEST) == 0) {
		/* Identify after all so that the buffered output and this message appear. */
		identified = true;
		kt_console_identified();
	}
	if (!identified) {
		/* No console: port 0xe9 is ignored by Keel, but helps under a debugger. */
		kt_early_puts("keeltest: ");
		kt_early_puts(kt_current);
		kt_early_puts(": FAILURE ");
		kt_early_puts(msg);
		kt_early_puts("\n");
		kt_triple_fault();
	}
	keeltest_result(kt_current, KEELTEST_FAILURE, "%s", msg);
	kt_shutdown(KEEL_SHUTDOWN_CRASH);
}

/* Copy what the runtime needs out of BOOT memory. */
static void boot_copy(uint64_t si_gpa)
{
	const struct keel_start_info *si = KT_PTR(si_gpa);
	uint32_t n;

	kt_boot.si_gpa = si_gpa;
	if (si_gpa == 0 || (si_gpa & 7) != 0 || si_gpa >= 0x100000000ull) {
		return;
	}
	memcpy(&kt_boot.si, si, sizeof(*si));
	kt_boot.si_valid = kt_boot.si.magic == KEEL_START_INFO_MAGIC &&
			   kt_boot.si.version >= KEEL_START_INFO_VERSION;
	if (!kt_boot.si_valid) {
		return;
	}
	n = kt_boot.si.nr_memmap;
	if (n > KT_ARRAY_SIZE(kt_boot.memmap)) {
		n = KT_ARRAY_SIZE(kt_boot.memmap);
	}
	if (kt_boot.si.memmap_gpa != 0) {
		memcpy(kt_boot.memmap, KT_PTR(kt_boot.si.memmap_gpa),
		       n * sizeof(kt_boot.memmap[0]));
		kt_boot.nr_memmap = n;
	}
	if (kt_boot.si.cmdline_gpa != 0) {
		const char *c = KT_PTR(kt_boot.si.cmdline_gpa);
		size_t i;

		for (i = 0; i + 1 < sizeof(kt_boot.cmdline) && c[i] != '\0'; i++) {
			kt_boot.cmdline[i] = c[i];
		}
		kt_boot.cmdline[i] = '\0';
	}
}

/* docs/abi/README.md "Discovery (x86)": scan for the interface signature, never assume the base. */
static void discover(void)
{
	struct kt_cpuid r;
	uint32_t base;

	for (base = KEEL_CPUID_BASE_FIRST; base <= KEEL_CPUID_BASE_LAST;
	     base += KEEL_CPUID_BASE_STEP) {
		r = kt_cpuid(base + KEEL_CPUID_LEAF_INTERFACE, 0);
		if (r.eax != KEEL_CPUID_INTERFACE_SIG) {
			continue;
		}
		if (kt_cpuid(base, 0).eax < base + KEEL_CPUID_LEAF_DOMAIN) {
			continue;
		}
		break;
	}
	if (base > KEEL_CPUID_BASE_LAST) {
		kt_crash("no Keel CPUID leaves between 0x%x and 0x%x", KEEL_CPUID_BASE_FIRST,
			 KEEL_CPUID_BASE_LAST);
	}
	kt_boot.cpuid_base = base;
	kt_boot.abi_version = r.ebx;
	kt_boot.hypercall_msr = r.ecx;
	/* Same major, and with it equal, Keel's minor at least ours. */
	if ((r.ebx >> 16) != KEEL_ABI_MAJOR || r.ebx < (uint32_t)KEEL_ABI_VERSION) {
		kt_crash("Keel implements ABI %u.%u, this kernel needs %u.%u", r.ebx >> 16,
			 r.ebx & 0xffff, KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
	}
	r = kt_cpuid(base + KEEL_CPUID_LEAF_FEATURES, 0);
	kt_boot.features[0] = r.eax;
	kt_boot.features[1] = r.ebx;
	kt_boot.features[2] = r.ecx;
	kt_boot.features[3] = r.edx;
	kt_boot.tsc_khz = kt_cpuid(base + KEEL_CPUID_LEAF_TIMING, 0).eax;
	r = kt_cpuid(base + KEEL_CPUID_LEAF_DOMAIN, 0);
	kt_boot.domid = r.ebx;
	kt_boot.nr_vcpus = r.ecx;
}

static void install_hypercall_page(void)
{
	uint64_t v = KT_GPA(keel_hypercall_page) | KEEL_X86_HYPERCALL_ENABLE;

	if (kt_wrmsr_safe(kt_boot.hypercall_msr, v)) {
		kt_crash("wrmsr 0x%x <- 0x%lx (hypercall page) raised exception %lu",
			 kt_boot.hypercall_msr, v, kt_fault.vector);
	}
	hypercall_page_installed = true;
}

long kt_identify(uint16_t major, uint16_t minor, uint32_t os_id)
{
	static struct keel_identity id __attribute__((aligned(128)));

	memset(&id, 0, sizeof(id));
	id.os_id = os_id;
	id.abi_major = major;
	id.abi_minor = minor;
	id.os_version[0] = 1;
	id.pkg_version[0] = 1;
	memcpy(id.os_name, "keeltest", 8);
	memcpy(id.pkg_name, test_name, kt_strlen(test_name) < 31 ? kt_strlen(test_name) : 31);
	return keel_hypercall1(KEEL_HC_IDENTIFY, KT_GPA(&id));
}

long kt_register_vcpu_info(uint32_t vcpu)
{
	struct keel_vcpu_info *vi = &kt_vcpu_info[vcpu];

	memset(vi, 0, sizeof(*vi));
	return keel_hypercall2(KEEL_HC_VCPU_REGISTER_INFO, vcpu, KT_GPA(vi));
}

uint64_t kt_window_alloc(uint32_t pages)
{
	uint64_t gpa = window_next;

	if (pages == 0 || (gpa + (uint64_t)pages * KEEL_PAGE_SIZE) >
			  kt_boot.map_window_gpa + kt_boot.map_window_pages * KEEL_PAGE_SIZE) {
		kt_crash("the map window is full");
	}
	window_next += (uint64_t)pages * KEEL_PAGE_SIZE;
	return gpa;
}

bool kt_is_ram(uint64_t gpa, uint64_t len)
{
	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];

		if (e->type != KEEL_MEMTYPE_RAM && e->type != KEEL_MEMTYPE_BOOT) {
			continue;
		}
		if (gpa >= e->base && gpa + len <= e->base + e->size) {
			return true;
		}
	}
	return false;
}

/* The end of the highest RAM range below 4 GiB. */
uint64_t kt_ram_end(void)
{
	uint64_t end = 0;

	for (uint32_t i = 0; i < kt_boot.nr_memmap; i++) {
		const struct keel_memmap_entry *e = &kt_boot.memmap[i];

		if ((e->type == KEEL_MEMTYPE_RAM || e->type == KEEL_MEMTYPE_BOOT) &&
		    e->base + e->size <= 0x100000000ull && e->base + e->size > end) {
			end = e->base + e->size;
		}
	}
	return end;
}

static void map_shared_info(void)
{
	static struct keel_memory_info mi __attribute__((aligned(64)));
	long rc;

	rc = keel_hypercall1(KEEL_HC_MEMORY_QUERY, KT_GPA(&mi));
	if (rc != 0) {
		kt_crash("KEEL_HC_MEMORY_QUERY returned %ld (%s)", rc, kt_errname(rc));
	}
	kt_boot.map_window_gpa = mi.map_window_gfn << KEEL_PAGE_SHIFT;
	kt_boot.map_window_pages = mi.map_window_pages;
	window_next = kt_boot.map_window_gpa;
	kt_boot.shared_info_gpa = kt_window_alloc(1);
	rc = keel_hypercall3(KEEL_HC_MEMORY_MAP_SHARED, KEEL_MAPSPACE_SHARED_INFO, 0,
			     kt_boot.shared_info_gpa >> KEEL_PAGE_SHIFT);
	if (rc != 0) {
		kt_crash("KEEL_HC_MEMORY_MAP_SHARED(shared info, gfn 0x%lx) returned %ld (%s)",
			 kt_boot.shared_info_gpa >> KEEL_PAGE_SHIFT, rc, kt_errname(rc));
	}
	kt_shared = KT_PTR(kt_boot.shared_info_gpa);
}

/* Find value of key in the command line: "key=value" words separated by spaces. */
static const char *cmdline_find(const char *key, size_t *len)
{
	size_t klen = kt_strlen(key);
	const char *p = kt_boot.cmdline;

	while (*p != '\0') {
		const char *w;

		while (*p == ' ') {
			p++;
		}
		w = p;
		while (*p != '\0' && *p != ' ') {
			p++;
		}
		if ((size_t)(p - w) > klen && kt_strncmp(w, key, klen) == 0 && w[klen] == '=') {
			*len = (size_t)(p - w) - klen - 1;
			return w + klen + 1;
		}
	}
	return NULL;
}

bool kt_cmdline_str(const char *key, char *buf, size_t len)
{
	size_t vlen;
	const char *v = cmdline_find(key, &vlen);

	if (v == NULL || len == 0) {
		return false;
	}
	if (vlen >= len) {
		vlen = len - 1;
	}
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return true;
}

uint64_t kt_cmdline_u64(const char *key, uint64_t dflt)
{
	size_t len, i = 0;
	const char *v = cmdline_find(key, &len);
	uint64_t n = 0, base = 10;

	if (v == NULL || len == 0) {
		return dflt;
	}
	if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < len; i++) {
		char c = v[i];
		uint64_t d;

		if (c >= '0' && c <= '9') {
			d = (uint64_t)(c - '0');
		} else if (base == 16 && c >= 'a' && c <= 'f') {
			d = (uint64_t)(c - 'a' + 10);
		} else if (base == 16 && c >= 'A' && c <= 'F') {
			d = (uint64_t)(c - 'A' + 10);
		} else {
			return dflt;
		}
		n = n * base + d;
	}
	return n;
}

bool kt_rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	kt_fault_reset();
	__asm__ volatile("movq $1f, kt_fault_resume(%%rip)\n\t"
			 "rdmsr\n"
			 "1:\tmovq $0, kt_fault_resume(%%rip)"
			 : "+a"(lo), "+d"(hi)
			 : "c"(msr)
			 : "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return kt_fault.hit != 0;
}

bool kt_wrmsr_safe(uint32_t msr, uint64_t val)
{
	kt_fault_reset();
	__asm__ volatile("movq $1f, kt_fault_resume(%%rip)\n\t"
			 "wrmsr\n"
			 "1:\tmovq $0, kt_fault_resume(%%rip)"
			 :
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
	return kt_fault.hit != 0;
}

void kt_insn_exec(void (*fn)(struct kt_insn_run *), struct kt_insn_run *run)
{
	kt_fault_reset();
	memset(&run->out, 0xcc, sizeof(run->out));
	run->sled = 0;
	fn(run);
}

void kt_main(uint64_t si_gpa)
{
	long rc;

	kt_current = test_name;
	kt_traps_init();
	boot_copy(si_gpa);
	discover();
	install_hypercall_page();
	if (test_pre_identify) {
		test_pre_identify();
	}
	if (&kt_own_start_of_day != NULL && kt_own_start_of_day) {
		test_main();
		kt_current = test_name;
		kt_shutdown(KEEL_SHUTDOWN_POWEROFF);
	}
	rc = kt_identify(KEEL_ABI_MAJOR, KEEL_ABI_MINOR, KEEL_OS_TEST);
	if (rc != 0) {
		kt_crash("KEEL_HC_IDENTIFY returned %ld (%s)", rc, kt_errname(rc));
	}
	identified = true;
	kt_console_identified();
	if (!kt_boot.si_valid) {
		kt_crash("no valid start info at RDI = 0x%lx", si_gpa);
	}
	map_shared_info();
	rc = kt_register_vcpu_info(0);
	if (rc != 0) {
		kt_crash("KEEL_HC_VCPU_REGISTER_INFO(0) returned %ld (%s)", rc, kt_errname(rc));
	}
	test_main();
	kt_current = test_name;
	kt_shutdown(KEEL_SHUTDOWN_POWEROFF);
}
