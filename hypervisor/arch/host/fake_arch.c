/* SPDX-License-Identifier: MIT */
/*
 * arch/host/fake_arch.c - the arch contract on a hosted C library, for unit
 * tests (never linked into the hypervisor). See fake_arch.h.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <keel/domain.h>
#include <keel/heap.h>
#include <public/keel/arch-x86_64.h>
#include <public/keel/start_info.h>
#include <public/keel/vcpu.h>
#include <public/keel/errno.h>
#include "fake_arch.h"

const char arch_name[] = "host";

struct fake_arch fake;
jmp_buf *fake_halt_jmp;

static char console[FAKE_CONSOLE_SIZE + 1];
static size_t console_len;
static char input[FAKE_INPUT_SIZE];	/* typed bytes: input[head .. head + len) */
static size_t input_head, input_len;
static uint8_t *ram;
static void **read_copies;	/* fake_phys_read() results, until released */
static size_t read_copy_count, read_copy_room;

static void die(const char *what)
{
	fprintf(stderr, "fake arch: %s\n", what);
	abort();
}

static uint8_t *ram_base(void)
{
	if (!ram) {
		void *p = mmap(NULL, FAKE_RAM_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			die("cannot map fake RAM");
		}
		/* Tests zero 1 GiB guest leaves: 2 MiB host pages fault 512x less. */
		(void)madvise(p, FAKE_RAM_SIZE, MADV_HUGEPAGE);
		ram = p;
	}
	return ram;
}

/*
 * The second-stage view: (domain, GFN, order) -> (page, rights) in an
 * open-addressing table with tombstones, rebuilt when it fills up.
 */
struct p2m_slot {
	const struct domain *d;		/* NULL: empty or a tombstone */
	uint64_t gfn;
	paddr_t pa;
	uint32_t rights;
	unsigned int order;
	bool dead;			/* a tombstone */
};

static struct p2m_slot *p2m;
static size_t p2m_cap, p2m_fill, p2m_live;	/* fill counts tombstones too */

static void p2m_mirror_reset(void)
{
	free(p2m);
	p2m = NULL;
	p2m_cap = p2m_fill = p2m_live = 0;
}

static size_t p2m_home(const struct domain *d, uint64_t gfn, unsigned int order)
{
	uint64_t h = ((uint64_t)(uintptr_t)d ^ (gfn * 0x9e3779b97f4a7c15ull) ^ order) *
		     0xff51afd7ed558ccdull;

	return (size_t)(h >> 17) & (p2m_cap - 1);
}

static struct p2m_slot *p2m_find(const struct domain *d, uint64_t gfn, unsigned int order)
{
	if (!p2m_cap) {
		return NULL;
	}
	for (size_t i = p2m_home(d, gfn, order);; i = (i + 1) & (p2m_cap - 1)) {
		struct p2m_slot *s = &p2m[i];

		if (!s->d && !s->dead) {
			return NULL;
		}
		if (s->d == d && s->gfn == gfn && s->order == order) {
			return s;
		}
	}
}

static void p2m_insert(const struct domain *d, uint64_t gfn, unsigned int order,
		       paddr_t pa, uint32_t rights)
{
	size_t i;

	if (2 * (p2m_fill + 1) > p2m_cap) {
		struct p2m_slot *old = p2m;
		size_t old_cap = p2m_cap, cap = 64;

		while (cap < 4 * (p2m_live + 1)) {
			cap *= 2;
		}
		p2m = calloc(cap, sizeof(*p2m));
		if (!p2m) {
			die("out of host memory");
		}
		p2m_cap = cap;
		p2m_fill = p2m_live = 0;
		for (i = 0; i < old_cap; i++) {
			if (old[i].d) {
				p2m_insert(old[i].d, old[i].gfn, old[i].order, old[i].pa,
					   old[i].rights);
			}
		}
		free(old);
	}
	for (i = p2m_home(d, gfn, order); p2m[i].d; i = (i + 1) & (p2m_cap - 1)) {
	}
	p2m_fill += !p2m[i].dead;
	p2m_live++;
	p2m[i] = (struct p2m_slot){ d, gfn, pa, rights, order, false };
}

bool fake_p2m_lookup(const struct domain *d, uint64_t gfn, paddr_t *pa, uint32_t *rights)
{
	for (unsigned int order = 0; order <= 18; order += 9) {
		uint64_t mask = (1ull << order) - 1;
		struct p2m_slot *s = p2m_find(d, gfn & ~mask, order);

		if (s) {
			*pa = s->pa + ((gfn & mask) << PAGE_SHIFT);
			*rights = s->rights;
			return true;
		}
	}
	return false;
}

/* Does a mirrored mapping of @d overlap 2^@order pages from @gfn? */
static bool p2m_overlaps(const struct domain *d, uint64_t gfn, unsigned int order)
{
	for (unsigned int o = 0; o <= 18; o += 9) {
		uint64_t step = 1ull << o, end = gfn + (1ull << order);

		if (o >= order) {
			if (p2m_find(d, gfn & ~(step - 1), o)) {
				return true;
			}
			continue;
		}
		for (uint64_t g = gfn; g < end; g += step) {
			if (p2m_find(d, g, o)) {
				return true;
			}
		}
	}
	return false;
}

void fake_arch_reset(void)
{
	fake = (struct fake_arch){
		.cpu_count = 1,
		.start_cpus_result = 1,
		.p2m_set_fail_after = -1,
		.vcpu_create_fail_after = -1,
		.p2m_max_order = 18,
	};
	fake_halt_jmp = NULL;
	p2m_mirror_reset();
	fake_console_clear();
	input_head = input_len = 0;
	fake_phys_read_release();
}

/* Console. */

void arch_console_write(const char *buf, size_t len)
{
	size_t room = FAKE_CONSOLE_SIZE - console_len;
	size_t n = len < room ? len : room;
	const char *verbose = getenv("KEEL_TEST_VERBOSE");

	memcpy(console + console_len, buf, n);
	console_len += n;
	console[console_len] = '\0';
	fake.console_dropped += len - n;
	if (verbose && *verbose && strcmp(verbose, "0") != 0) {
		fwrite(buf, 1, len, stdout);
	}
}

const char *fake_console(void)
{
	return console;
}

size_t fake_console_len(void)
{
	return console_len;
}

bool fake_console_has(const char *needle)
{
	return strstr(console, needle) != NULL;
}

void fake_console_clear(void)
{
	console_len = 0;
	console[0] = '\0';
	fake.console_dropped = 0;
}

void fake_console_input(const char *s)
{
	size_t len = strlen(s);

	if (len > sizeof(input) - input_len) {
		die("fake_console_input: more than FAKE_INPUT_SIZE bytes waiting");
	}
	/* Move what is left to the front first: the queue is a plain buffer. */
	memmove(input, input + input_head, input_len);
	input_head = 0;
	memcpy(input + input_len, s, len);
	input_len += len;
}

int arch_console_getc(void)
{
	if (input_len == 0) {
		return -1;
	}
	input_len--;
	return (unsigned char)input[input_head++];
}

/* CPUs, interrupts, time. */

unsigned int arch_cpu_index(void)
{
	return fake.cpu_index;
}

unsigned int arch_cpu_count(void)
{
	return fake.cpu_count;
}

void arch_cpu_relax(void)
{
	/* Only spin loops call this; with one thread nobody will ever let go. */
	die("a spinlock is held by nobody who can release it (lock left held?)");
}

void arch_cpu_idle(void)
{
	fake.idles++;
}

void arch_cpu_halt(void)
{
	fake.halts++;
	fake.irqs_off = true;
	if (!fake_halt_jmp) {
		die("arch_cpu_halt() reached with no test expecting it");
	}
	longjmp(*fake_halt_jmp, 1);
}

void arch_stop_other_cpus(void)
{
	fake.stop_other_cpus++;
}

unsigned long arch_irq_save(void)
{
	unsigned long was_off = fake.irqs_off;

	fake.irqs_off = true;
	return was_off;
}

void arch_irq_restore(unsigned long flags)
{
	fake.irqs_off = flags != 0;
}

uint64_t arch_time_ns(void)
{
	return fake.time_ns;
}

/* Fake RAM. */

void *arch_phys_to_virt(paddr_t pa)
{
	if (pa >= FAKE_RAM_SIZE) {
		fprintf(stderr, "fake arch: physical %#llx is outside fake RAM\n",
			(unsigned long long)pa);
		abort();
	}
	return ram_base() + pa;
}

paddr_t arch_virt_to_phys(const void *va)
{
	const uint8_t *p = va, *base = ram_base();

	if (p < base || p >= base + FAKE_RAM_SIZE) {
		fprintf(stderr, "fake arch: %p is not in fake RAM\n", va);
		abort();
	}
	return (paddr_t)(p - base);
}

void fake_ram_reset(void)
{
	/* Private anonymous pages read back as zero once dropped. */
	if (madvise(ram_base(), FAKE_RAM_SIZE, MADV_DONTNEED) != 0) {
		die("madvise(MADV_DONTNEED) on fake RAM failed");
	}
}

const void *fake_phys_read(uint64_t pa, size_t len)
{
	void *copy;

	if (len == 0 || pa >= FAKE_RAM_SIZE || len > FAKE_RAM_SIZE - pa) {
		return NULL;
	}
	if (read_copy_count == read_copy_room) {
		read_copy_room = read_copy_room ? 2 * read_copy_room : 1024;
		read_copies = realloc(read_copies, read_copy_room * sizeof(*read_copies));
	}
	copy = malloc(len);
	if (!copy || !read_copies) {
		die("out of host memory");
	}
	memcpy(copy, ram_base() + pa, len);
	read_copies[read_copy_count++] = copy;
	return copy;
}

void fake_phys_read_release(void)
{
	while (read_copy_count) {
		free(read_copies[--read_copy_count]);
	}
	free(read_copies);
	read_copies = NULL;
	read_copy_room = 0;
}

/* Halting, in-process and in a child. */

bool fake_run_until_halt(void (*fn)(void *), void *arg)
{
	jmp_buf *outer = fake_halt_jmp;
	jmp_buf env;
	bool halted;

	fake_halt_jmp = &env;
	if (setjmp(env) == 0) {
		fn(arg);
		halted = false;
	} else {
		halted = true;
	}
	fake_halt_jmp = outer;
	return halted;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			_exit(3);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Child: run, then send outcome, the records and the console; never returns. */
static NORETURN void run_child(int fd, void (*fn)(void *), void *arg)
{
	uint8_t outcome = fake_run_until_halt(fn, arg) ? FAKE_HALTED : FAKE_RETURNED;

	write_all(fd, &outcome, 1);
	write_all(fd, &fake, sizeof(fake));
	write_all(fd, console, console_len);
	/* _exit: no atexit handlers, so no leak check of a half-run test. */
	_exit(0);
}

static size_t read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;

	while (got < size && (n = read(fd, buf + got, size - got)) > 0) {
		got += (size_t)n;
	}
	return got;
}

enum fake_outcome fake_run_isolated(void (*fn)(void *), void *arg)
{
	size_t size = 1 + sizeof(fake) + FAKE_CONSOLE_SIZE, got;
	char *buf = malloc(size);
	int fds[2], status;
	pid_t pid;

	if (!buf || pipe(fds) != 0) {
		die("cannot set up a child run");
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		die("fork failed");
	}
	if (pid == 0) {
		close(fds[0]);
		run_child(fds[1], fn, arg);
	}
	close(fds[1]);
	got = read_all(fds[0], buf, size);
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || got < 1 + sizeof(fake)) {
		free(buf);
		return FAKE_CRASHED;
	}
	memcpy(&fake, buf + 1, sizeof(fake));
	console_len = got - 1 - sizeof(fake);
	memcpy(console, buf + 1 + sizeof(fake), console_len);
	console[console_len] = '\0';
	status = buf[0];
	free(buf);
	return status == FAKE_HALTED ? FAKE_HALTED : FAKE_RETURNED;
}

/* Boot stages and test hooks: recorders. */

void arch_setup(const struct boot_info *bi)
{
	fake.setups++;
}

unsigned int arch_start_cpus(void)
{
	fake.start_cpus_calls++;
	return fake.start_cpus_result;
}

int arch_virt_enable(void)
{
	fake.virt_enables++;
	return fake.virt_enable_result;
}

int arch_run_probe_guest(const void *image, const struct elf_image *elf)
{
	fake.probe_guest_runs++;
	return fake.probe_guest_result;
}

size_t arch_backtrace(uintptr_t *pcs, size_t max)
{
	if (max == 0) {
		return 0;
	}
	pcs[0] = (uintptr_t)__builtin_return_address(0);
	return 1;
}

int arch_domain_create(struct domain *d)
{
	if (fake.domain_create_fails) {
		return -KEEL_ENOMEM;
	}
	fake.arch_domains++;
	d->arch = &fake;	/* any non-NULL marker: the core tests for it */
	return 0;
}

void arch_domain_destroy(struct domain *d)
{
	fake.arch_domains--;
	d->arch = NULL;
}

int arch_vcpu_create(struct vcpu *v)
{
	if (fake.vcpu_create_fail_after == 0) {
		return -KEEL_ENOMEM;
	}
	if (fake.vcpu_create_fail_after > 0) {
		fake.vcpu_create_fail_after--;
	}
	/*
	 * The fake's registers: the x86 context struct, as last loaded. On
	 * Keel's heap, like the domain that points to it (the leak checker
	 * does not look into fake RAM for pointers to the host's heap).
	 */
	v->arch = heap_alloc(sizeof(struct keel_x86_vcpu_context));
	if (!v->arch) {
		return -KEEL_ENOMEM;
	}
	memset(v->arch, 0, sizeof(struct keel_x86_vcpu_context));
	fake.arch_vcpus++;
	return 0;
}

void arch_vcpu_destroy(struct vcpu *v)
{
	fake.arch_vcpus--;
	heap_free(v->arch);
	v->arch = NULL;
}

int arch_p2m_set(struct domain *d, uint64_t gfn, paddr_t pa, unsigned int order,
		 uint32_t rights)
{
	bool overlaps;

	if (fake.p2m_set_hook) {
		fake.p2m_set_hook(d, gfn);
	}
	if ((order != 0 && order != 9 && order != 18) || order > fake.p2m_max_order) {
		fake.p2m_errors++;	/* the contract allows no other order */
		return -KEEL_EINVAL;
	}
	if (fake.p2m_set_fail_after == 0) {
		fake.p2m_set_fail_after = -1;
		return -KEEL_ENOMEM;
	}
	if (fake.p2m_set_fail_after > 0) {
		fake.p2m_set_fail_after--;
	}
	overlaps = p2m_overlaps(d, gfn, order);
	if (overlaps) {
		fake.p2m_errors++;	/* the real second stage would refuse or leak */
	} else {
		p2m_insert(d, gfn, order, pa, rights);
	}
	fake.p2m_pages += (uint64_t)1 << order;
	fake.p2m_large_sets += (order == 9);
	fake.p2m_huge_sets += (order == 18);
	return 0;
}

unsigned int arch_p2m_max_order(void)
{
	return fake.p2m_max_order;
}

void arch_p2m_clear(struct domain *d, uint64_t gfn, unsigned int order)
{
	struct p2m_slot *s = p2m_find(d, gfn, order);

	if (s) {
		*s = (struct p2m_slot){ .dead = true };
		p2m_live--;
	} else {
		fake.p2m_errors++;
	}
	fake.p2m_pages -= (uint64_t)1 << order;
}

bool arch_gfn_is_platform(uint64_t gfn)
{
	uint64_t gpa = gfn << PAGE_SHIFT;

	if (gfn >= FAKE_PLATFORM_END >> PAGE_SHIFT || gpa < FAKE_PLATFORM_GPA) {
		return false;
	}
	return gpa < FAKE_MAP_WINDOW_GPA || gpa >= FAKE_MAP_WINDOW_GPA + FAKE_MAP_WINDOW_SIZE;
}

void arch_map_window(uint64_t *gpa, uint64_t *size)
{
	*gpa = FAKE_MAP_WINDOW_GPA;
	*size = FAKE_MAP_WINDOW_SIZE;
}

unsigned long arch_fpu_begin(void)
{
	return arch_irq_save();
}

void arch_fpu_end(unsigned long flags)
{
	arch_irq_restore(flags);
}

void arch_debug_exit(unsigned int code)
{
	fake.debug_exits++;
	fake.debug_exit_code = code;
}

void arch_fault_on_purpose(const char *kind)
{
	fake.faults++;
	snprintf(fake.fault_kind, sizeof(fake.fault_kind), "%s", kind);
}

/* Running guests: the unit tests call the core's handlers directly. */

void arch_timer_program(uint64_t deadline_ns)
{
	fake.timer_deadline = deadline_ns;
}

void arch_cpu_kick(unsigned int cpu)
{
	(void)cpu;
	fake.kicks++;
}

int arch_linux_image_parse(const void *data, size_t size, struct arch_linux_image *li,
			   const char **why)
{
	return fake.linux_image_parse ? fake.linux_image_parse(data, size, li, why) : 0;
}

int arch_linux_boot(struct domain *d, const struct arch_linux_boot *lb,
		    struct arch_linux_placed *out)
{
	if (fake.linux_boot) {
		return fake.linux_boot(d, lb, out);
	}
	memset(out, 0, sizeof(*out));
	out->why = "the fake arch boots no Linux kernels";
	return -1;
}

long arch_platform_upcall_check(struct domain *d, uint32_t vcpu, uint32_t entry)
{
	(void)d;
	(void)vcpu;
	(void)entry;
	return 0;
}

/* Weak: the platform emulation's tests may bring their own. */
__attribute__((weak)) int arch_platform_populate(struct domain *d)
{
	(void)d;
	fake.platform_populates++;
	return 0;
}

int arch_vcpu_boot(struct vcpu *v, const struct arch_boot_entry *e)
{
	(void)v;
	fake.vcpu_boots++;
	fake.last_boot = *e;
	return 0;
}

void arch_vcpu_run(struct vcpu *v)
{
	(void)v;
}

void arch_vcpu_notify(struct vcpu *v)
{
	(void)v;
	fake.vcpu_notifies++;
}

/*
 * The x86 context struct, checked only for what any architecture's would
 * be (MBZ fields) and RFLAGS bit 1, so tests can see a context rejected.
 */
int arch_vcpu_load_context(struct vcpu *v, struct domain *from, uint64_t gpa)
{
	struct keel_x86_vcpu_context c;

	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(c)) ||
	    guest_copy_from(from, gpa, &c, sizeof(c)) != 0) {
		return -KEEL_EFAULT;
	}
	for (size_t i = 0; i < sizeof(c.reserved) / sizeof(c.reserved[0]); i++) {
		if (c.reserved[i]) {
			return -KEEL_EINVAL;
		}
	}
	if (!(c.rflags & 2) || c.gdtr.pad0 || c.idtr.pad0) {
		return -KEEL_EINVAL;
	}
	memcpy(v->arch, &c, sizeof(c));
	return 0;
}

int arch_vcpu_save_context(struct vcpu *v, struct domain *to, uint64_t gpa)
{
	struct keel_x86_vcpu_context c;

	memcpy(&c, v->arch, sizeof(c));
	if ((gpa & 7) || !guest_range_in_page(gpa, sizeof(c)) ||
	    guest_copy_to(to, gpa, &c, sizeof(c)) != 0) {
		return -KEEL_EFAULT;
	}
	return 0;
}

/* The fake TSC counts nanoseconds: 1 GHz. */
uint32_t arch_tsc_khz(void)
{
	return 1000000;
}

/* The fake TSC counts nanoseconds: a 1.0 multiplier in 32.32 fixed point. */
void arch_time_info(struct keel_vcpu_time_info *ti, uint64_t origin_ns)
{
	ti->tsc_timestamp = fake.time_ns;
	ti->system_time_ns = fake.time_ns - origin_ns;
	ti->tsc_to_ns_mul = 0xffffffffu;
	ti->tsc_shift = 0;
	ti->flags = KEEL_TIME_F_TSC_STABLE;
}

/* The x86 layout in miniature: 640 KiB low, then from 1 MiB up to 3 GiB, then 4 GiB. */
unsigned int arch_guest_layout(uint64_t ram_pages, struct arch_mem_range *out,
			       unsigned int max)
{
	uint64_t low = ram_pages < 160 ? ram_pages : 160;
	uint64_t rest = ram_pages - low;
	uint64_t mid = rest < 0xbff00 ? rest : 0xbff00;
	struct arch_mem_range all[4] = {
		{ 0, low << 12, KEEL_MEMTYPE_RAM },
		{ 0x100000, mid << 12, KEEL_MEMTYPE_RAM },
		{ FAKE_MAP_WINDOW_GPA, FAKE_MAP_WINDOW_SIZE, KEEL_MEMTYPE_MAP_WINDOW },
		{ 0x100000000ull, (rest - mid) << 12, KEEL_MEMTYPE_RAM },
	};
	unsigned int n = 0;

	for (unsigned int i = 0; i < 4; i++) {
		if (all[i].size) {
			if (n < max) {
				out[n] = all[i];
			}
			n++;
		}
	}
	return n;
}
