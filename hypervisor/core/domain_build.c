/* SPDX-License-Identifier: MIT */
/*
 * core/domain_build.c - builds the boot-time domains: memory, kernel,
 * initrd, devices, the start info and the boot vCPU's registers, following
 * docs/abi/boot.md. Keel-native kernels are loaded here; Linux kernels (PVH
 * or bzImage) by core/linux_build.c and the arch.
 *
 * Keel-native placement, above the kernel in the same RAM range:
 *   kernel | initrd (page-aligned) | BOOT: start info page (with the memory
 *   map, the module list and the command line), device table copy, the
 *   arch's boot tables, a 64 KiB stack
 * Everything comes from the domain's own RAM; a domain too small for it is
 * refused with that reason. Work is done in phases so that kernels are
 * identified (which decides the emulated platform) before domains are
 * created, devices exist before any start info (which holds a copy of the
 * device table) is written, and no domain runs before all of them are built.
 *
 * After boot the builder keeps the configuration and the boot modules (both
 * live as long as Keel) and which domain each spec is now, so that a domain
 * can be built again from its spec when it restarts (core/restart.c): the
 * same phases for that one domain, its devices connected to the backends
 * that run now, and the frontends it serves connected to it again.
 */
#include <arch/arch.h>
#include <keel/console.h>
#include <keel/device.h>
#include <keel/domain.h>
#include <keel/domain_build.h>
#include <keel/elf.h>
#include <keel/format.h>
#include <keel/heap.h>
#include <keel/kernel_image.h>
#include <keel/linux_build.h>
#include <keel/log.h>
#include <keel/restart.h>
#include <keel/string.h>
#include <keel/vcpu.h>
#include <public/keel/abi.h>
#include <public/keel/device_table.h>
#include <public/keel/errno.h>
#include <public/keel/start_info.h>

#define LAYOUT_MAX	8
#define MEMMAP_MAX	(LAYOUT_MAX + 2)
#define STACK_SIZE	(64 * 1024)
#define TABLE_PAGES_MAX	(3 + 64)	/* GDT, PML4, PDPT, a directory per GiB up to 64 */
#define EM_X86_64	62

struct build {
	const struct domain_spec *spec;
	struct domain *d;
	struct arch_mem_range layout[LAYOUT_MAX];
	unsigned int layout_count;
	uint64_t ram_top;		/* end of the highest RAM range */
	struct kernel_image kernel;	/* open from identify() to load() */
	bool kernel_open;
	uint32_t protocol;		/* Linux: ARCH_LINUX_*; 0 for Keel kernels */
	uint32_t platform;		/* KEEL_DOMCREATE_F_* it is created with */
};

/* Kept from domain_build_boot() for rebuilds; both live as long as Keel. */
static const struct boot_info *kept_bi;
static const struct bootcfg *kept_cfg;
static uint32_t live_domid[BOOTCFG_MAX_DOMAINS];	/* (atomic) spec -> its domain; 0: none */

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE_SIZE - 1) & PAGE_MASK;
}

static void fail(const struct build *b, const char *why)
{
	log_err("domain '%s': %s; not started", b->spec->name, why);
}

/* Say how the RAM is mapped: an operator sees whether large pages were used. */
static void log_ram(struct domain *d)
{
	uint64_t leaves[GUEST_LEAF_SIZES];

	guest_memory_leaf_counts(d, leaves);
	log_info("domain %u '%s': %llu MiB of RAM in %llu x 1 GiB, %llu x 2 MiB, %llu x 4 KiB "
		 "pages", d->domid, d->name,
		 (unsigned long long)(d->mem.ram_pages >> (20 - PAGE_SHIFT)),	/* not running yet */
		 (unsigned long long)leaves[2], (unsigned long long)leaves[1],
		 (unsigned long long)leaves[0]);
}

static bool create(struct build *b)
{
	const struct domain_spec *s = b->spec;
	struct domain_params p = {
		.name = s->name,
		.caps = s->caps,
		.platform = b->platform,
		.vcpu_count = s->vcpus,
		.max_pages = s->memory_mib << (20 - PAGE_SHIFT),
		.weight = s->weight,
		.cap = s->cap_percent,
	};
	int rc = domain_create(&p, &b->d);

	if (rc != 0) {
		fail(b, rc == -KEEL_EEXIST ? "the name is in use" : "cannot create the domain "
		     "(out of memory)");
		b->d = NULL;
		return false;
	}
	console_set_serial_input(b->d, s->console_input);	/* console = "serial" */
	b->layout_count = arch_guest_layout(p.max_pages, b->layout, LAYOUT_MAX);
	for (unsigned int i = 0; i < b->layout_count && i < LAYOUT_MAX; i++) {
		const struct arch_mem_range *r = &b->layout[i];

		if (r->type != KEEL_MEMTYPE_RAM) {
			continue;
		}
		if (guest_memory_populate(b->d, r->base >> PAGE_SHIFT, r->size >> PAGE_SHIFT) != 0) {
			fail(b, "not enough free memory for its RAM");
			return false;
		}
		b->ram_top = MAX(b->ram_top, r->base + r->size);
	}
	log_ram(b->d);
	/* Firmware tables (ACPI) once RAM exists, before anything runs. */
	if (arch_platform_populate(b->d) != 0) {
		fail(b, "cannot write its firmware tables (out of memory)");
		return false;
	}
	return true;
}

static void set_affinity(struct build *b)
{
	for (uint32_t i = 0; i < b->d->vcpu_count; i++) {
		sched_set_affinity(&b->d->vcpus[i]->sched, b->spec->affinity, arch_time_ns());
	}
}

/* The RAM range holding [base, base + size), or NULL. */
static const struct arch_mem_range *ram_range_of(const struct build *b, uint64_t base,
						 uint64_t size)
{
	for (unsigned int i = 0; i < b->layout_count; i++) {
		const struct arch_mem_range *r = &b->layout[i];

		if (r->type == KEEL_MEMTYPE_RAM && base >= r->base && size <= r->size &&
		    base - r->base <= r->size - size) {
			return r;
		}
	}
	return NULL;
}

/* The memory map: the layout with [boot, boot_end) of its RAM range as BOOT. */
static unsigned int memory_map(const struct build *b, uint64_t boot, uint64_t boot_end,
			       struct keel_memmap_entry *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < b->layout_count; i++) {
		const struct arch_mem_range *r = &b->layout[i];
		uint64_t end = r->base + r->size;

		if (r->type != KEEL_MEMTYPE_RAM || boot < r->base || boot >= end) {
			out[n++] = (struct keel_memmap_entry){ r->base, r->size, r->type, 0 };
			continue;
		}
		if (boot > r->base) {
			out[n++] = (struct keel_memmap_entry){ r->base, boot - r->base, KEEL_MEMTYPE_RAM, 0 };
		}
		out[n++] = (struct keel_memmap_entry){ boot, boot_end - boot, KEEL_MEMTYPE_BOOT, 0 };
		if (boot_end < end) {
			out[n++] = (struct keel_memmap_entry){ boot_end, end - boot_end, KEEL_MEMTYPE_RAM, 0 };
		}
	}
	return n;
}

static bool copy_to(struct build *b, uint64_t gpa, const void *src, size_t len)
{
	return guest_copy_to(b->d, gpa, src, len) == 0;
}

static bool load_kernel(struct build *b, const struct kernel_image *k)
{
	const struct elf_image *elf = &k->elf;

	if (!elf->is64 || elf->machine != EM_X86_64) {
		log_err("domain '%s': kernel '%s' is not a Keel kernel (an x86_64 ELF with a "
			"Keel entry note, docs/abi/boot.md); not started", b->spec->name,
			b->spec->kernel);
		return false;
	}
	if (elf->has_keel_abi && (elf->abi_major != KEEL_ABI_MAJOR || elf->abi_minor > KEEL_ABI_MINOR)) {
		log_err("domain '%s': kernel '%s' was built for ABI %u.%u; this Keel implements "
			"%u.%u; not started", b->spec->name, b->spec->kernel, elf->abi_major,
			elf->abi_minor, KEEL_ABI_MAJOR, KEEL_ABI_MINOR);
		return false;
	}
	for (unsigned int i = 0; i < elf->segment_count; i++) {
		const struct elf_segment *seg = &elf->segments[i];

		if (!ram_range_of(b, seg->paddr, MAX(seg->memsz, 1)) ||
		    !copy_to(b, seg->paddr, (const uint8_t *)k->file.data + seg->offset, seg->filesz)) {
			log_err("domain '%s': kernel segment at %#llx (%llu bytes) does not fit in "
				"its %llu MiB of RAM; not started", b->spec->name,
				(unsigned long long)seg->paddr, (unsigned long long)seg->memsz,
				(unsigned long long)b->spec->memory_mib);
			return false;
		}
	}
	return true;
}

/* Everything the start info points to, and the registers of vCPU 0. */
static bool write_boot_data(struct build *b, const struct boot_info *bi, const struct elf_image *elf)
{
	const struct domain_spec *s = b->spec;
	const struct boot_module *initrd = s->initrd[0] ? bootmod_find(bi, s->initrd) : NULL;
	struct keel_memmap_entry map[MEMMAP_MAX];
	struct keel_start_info si;
	struct keel_module mod;
	uint64_t cursor = page_up(MAX(elf->highest, 0x100000ull));
	uint64_t initrd_gpa = 0, si_gpa, dt_gpa, tables_gpa, stack_gpa, boot_end;
	size_t dt_size = device_table_size(b->d);
	size_t cmdline_len = strlen(s->cmdline) + 1;
	uint64_t table_pages = 3 + ((MAX(b->ram_top, 0x100000000ull) + (1ull << 30) - 1) >> 30);
	const struct arch_mem_range *range = ram_range_of(b, cursor - 1, 1);
	struct arch_boot_entry entry;
	unsigned int map_count;
	uint64_t window, window_size;
	void *dt = NULL;
	bool ok = false;
	int rc;

	if (initrd) {
		initrd_gpa = cursor;
		cursor = page_up(cursor + initrd->size);
	}
	si_gpa = cursor;
	dt_gpa = si_gpa + 2 * PAGE_SIZE;
	tables_gpa = page_up(dt_gpa + dt_size);
	stack_gpa = tables_gpa + table_pages * PAGE_SIZE;
	boot_end = stack_gpa + STACK_SIZE;
	if (!range || table_pages > TABLE_PAGES_MAX || !ram_range_of(b, range->base, boot_end - range->base)) {
		log_err("domain '%s': %llu MiB is too little for its kernel, initrd and boot data "
			"(%llu KiB needed from guest-physical %#llx); not started", s->name,
			(unsigned long long)s->memory_mib,
			(unsigned long long)((boot_end - MIN(elf->lowest, boot_end)) >> 10),
			(unsigned long long)elf->lowest);
		return false;
	}
	if (initrd && !copy_to(b, initrd_gpa, arch_phys_to_virt(initrd->base), initrd->size)) {
		fail(b, "cannot copy the initrd");
		return false;
	}

	map_count = memory_map(b, si_gpa, boot_end, map);
	arch_map_window(&window, &window_size);
	memset(&si, 0, sizeof(si));
	si.magic = KEEL_START_INFO_MAGIC;
	si.version = KEEL_START_INFO_VERSION;
	si.domid = b->d->domid;
	si.nr_vcpus = b->d->vcpu_count;
	si.memmap_gpa = si_gpa + sizeof(si);
	si.nr_memmap = map_count;
	si.cmdline_gpa = si.memmap_gpa + sizeof(map);
	si.modules_gpa = initrd ? si.cmdline_gpa + BOOTCFG_CMDLINE_MAX : 0;
	si.nr_modules = initrd ? 1 : 0;
	si.tsc_khz = arch_tsc_khz();
	si.map_window_gpa = window;
	si.map_window_size = window_size;
	si.device_table_gpa = dt_size ? dt_gpa : 0;
	si.device_table_size = (uint32_t)dt_size;
	mod = (struct keel_module){ initrd_gpa, initrd ? initrd->size : 0, 0, KEEL_MODULE_INITRD, 0 };
	if (dt_size) {
		dt = heap_alloc(dt_size);
		if (!dt || device_table_copy(b->d, dt, dt_size) < 0 || !copy_to(b, dt_gpa, dt, dt_size)) {
			fail(b, "cannot copy its device table");
			goto out;
		}
	}
	if (!copy_to(b, si_gpa, &si, sizeof(si)) ||
	    !copy_to(b, si.memmap_gpa, map, map_count * sizeof(map[0])) ||
	    !copy_to(b, si.cmdline_gpa, s->cmdline, cmdline_len) ||
	    (initrd && !copy_to(b, si.modules_gpa, &mod, sizeof(mod)))) {
		fail(b, "cannot write its start info");
		goto out;
	}
	entry = (struct arch_boot_entry){
		.mode = elf->keel_entry_mode,
		.entry = elf->keel_entry,
		.boot_info_gpa = si_gpa,
		.stack_top = boot_end,
		.scratch_gpa = tables_gpa,
		.scratch_size = table_pages * PAGE_SIZE,
		.map_limit = MAX(b->ram_top, 0x100000000ull),
	};
	rc = arch_vcpu_boot(b->d->vcpus[0], &entry);
	if (rc != 0) {
		fail(b, "its entry state was refused (entry mode or boot tables)");
		goto out;
	}
	log_info("domain %u '%s': kernel '%s' at %#llx-%#llx, entry %#llx (%s), start info at "
		 "%#llx%s", b->d->domid, s->name, s->kernel, (unsigned long long)elf->lowest,
		 (unsigned long long)elf->highest, (unsigned long long)elf->keel_entry,
		 elf->keel_entry_mode == KEEL_ENTRY_MODE_LONG64 ? "64-bit" : "32-bit",
		 (unsigned long long)si_gpa, initrd ? ", initrd loaded" : "");
	ok = true;
out:
	if (dt) {
		heap_free(dt);
	}
	return ok;
}

static void close_kernel(struct build *b)
{
	if (b->kernel_open) {
		kernel_image_close(&b->kernel);
		b->kernel_open = false;
	}
}

/*
 * Before the domain exists: identify its kernel, choose how a Linux one is
 * entered (extracting its vmlinux), and with that its default platform.
 */
static bool identify(struct build *b, const struct boot_info *bi)
{
	const struct domain_spec *s = b->spec;
	const struct boot_module *m = bootmod_find(bi, s->kernel);
	char why[160];

	if (!m) {
		fail(b, "its kernel module is missing");
		return false;
	}
	if (!kernel_image_open(arch_phys_to_virt(m->base), m->size, &b->kernel)) {
		log_err("domain '%s': kernel '%s': %s; not started", s->name, s->kernel,
			b->kernel.why);
		return false;
	}
	b->kernel_open = true;
	if (b->kernel.kind == KERNEL_KEEL && s->boot_protocol != BOOT_PROTOCOL_AUTO) {
		log_err("domain '%s': kernel '%s': boot-protocol applies to Linux kernels; this "
			"is a Keel kernel; not started", s->name, s->kernel);
		return false;
	}
	if (b->kernel.kind != KERNEL_KEEL) {
		b->protocol = linux_choose_protocol(s, &b->kernel, why, sizeof(why));
		if (!b->protocol) {
			log_err("domain '%s': kernel '%s': %s; not started", s->name, s->kernel, why);
			return false;
		}
		if (b->kernel.vmlinux) {
			log_info("domain '%s': kernel '%s': vmlinux extracted (%s, %llu KiB)", s->name,
				 s->kernel, decompress_name(b->kernel.payload_format),
				 (unsigned long long)(b->kernel.vmlinux_size >> 10));
		}
	}
	b->platform = s->platform_set ? s->platform :
		      b->kernel.kind == KERNEL_KEEL ? 0 : LINUX_DEFAULT_PLATFORM;
	return true;
}

static bool load(struct build *b, const struct boot_info *bi)
{
	bool ok;

	if (b->kernel.kind == KERNEL_KEEL) {
		ok = load_kernel(b, &b->kernel) && write_boot_data(b, bi, &b->kernel.elf);
	} else {
		ok = linux_load(b->d, b->spec, bi, &b->kernel, b->protocol, b->layout,
				MIN(b->layout_count, (unsigned int)LAYOUT_MAX));
	}
	close_kernel(b);	/* the domain has its own copy now */
	return ok;
}

static void discard(struct build *b)
{
	close_kernel(b);
	if (b->d) {
		domain_destroy(b->d);
		domain_put(b->d);
		b->d = NULL;
	}
}

/* Device @dev of a spec between @front and @back; 0 or a -KEEL_* error. */
static long connect(struct domain *front, struct domain *back, const struct bootcfg_device *dev)
{
	/* The node name is the label, cut to what the device table holds. */
	size_t len = strnlen(dev->name, DEVICE_LABEL_MAX - 1);
	char label[DEVICE_LABEL_MAX];
	struct device_setup ds = {
		.device_class = dev->device_class,
		.auto_index = true,
		.label = label,
	};

	memcpy(label, dev->name, len);
	label[len] = '\0';
	return device_setup(front, back, &ds);
}

static void setup_devices(struct build *builds, unsigned int count, const struct bootcfg *cfg)
{
	for (unsigned int i = 0; i < count; i++) {
		struct build *b = &builds[i];

		if (!b->d) {
			continue;
		}
		for (unsigned int j = 0; j < b->spec->device_count; j++) {
			const struct bootcfg_device *dev = &b->spec->devices[j];
			struct build *back = &builds[dev->backend];
			long rc;

			if (dev->backend >= cfg->domain_count || !back->d) {
				log_err("domain '%s': device '%s': its backend was not started; "
					"not started", b->spec->name, dev->name);
				discard(b);
				break;
			}
			rc = connect(b->d, back->d, dev);
			if (rc != 0) {
				log_err("domain '%s': device '%s' with backend '%s' failed (error %ld); "
					"not started", b->spec->name, dev->name, back->spec->name, -rc);
				discard(b);
				break;
			}
		}
	}
}

/* Its boot vCPU online, then unpaused; on failure the domain is discarded. */
static bool start(struct build *b)
{
	/* What the domain holds as it starts: tests/bench derives Keel's own per-domain share. */
	log_info("domain %u '%s': starting with %llu RAM pages, p2m tables %llu pages", b->d->domid,
		 b->d->name, (unsigned long long)b->d->mem.ram_pages,
		 (unsigned long long)b->d->mem.table_pages);
	set_affinity(b);
	if (vcpu_online(b->d->vcpus[0]) != 0 || domain_unpause(b->d) != 0) {
		fail(b, "cannot start its boot vCPU");
		discard(b);
		return false;
	}
	return true;
}

unsigned int domain_build_boot(const struct boot_info *bi, const struct bootcfg *cfg)
{
	struct build *builds = heap_alloc(sizeof(*builds) * BOOTCFG_MAX_DOMAINS);
	unsigned int started = 0;

	if (!builds) {
		log_err("boot config: out of memory; no boot-time domains");
		return 0;
	}
	memset(builds, 0, sizeof(*builds) * BOOTCFG_MAX_DOMAINS);
	kept_bi = bi;
	kept_cfg = cfg;
	restart_init();
	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		builds[i].spec = &cfg->domains[i];
		if (!cfg->domains[i].skipped && (!identify(&builds[i], bi) || !create(&builds[i]))) {
			discard(&builds[i]);
		}
	}
	setup_devices(builds, cfg->domain_count, cfg);
	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		if (builds[i].d && !load(&builds[i], bi)) {
			discard(&builds[i]);
		}
	}
	/* Only now, with every domain built, does anything run. */
	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		struct build *b = &builds[i];

		if (!b->d || !start(b)) {
			continue;
		}
		__atomic_store_n(&live_domid[i], b->d->domid, __ATOMIC_RELEASE);
		if ((int)i == cfg->console_input) {
			console_give_input(b->d);	/* the root's console-input */
		}
		domain_put(b->d);	/* the table keeps it */
		b->d = NULL;
		started++;
	}
	heap_free(builds);
	return started;
}

/* --- after boot: one domain again ---------------------------------------- */

int domain_build_index_of(uint32_t domid)
{
	for (unsigned int i = 0; domid && kept_cfg && i < kept_cfg->domain_count; i++) {
		if (__atomic_load_n(&live_domid[i], __ATOMIC_ACQUIRE) == domid) {
			return (int)i;
		}
	}
	return -1;
}

const struct domain_spec *domain_build_spec(unsigned int index)
{
	return kept_cfg && index < kept_cfg->domain_count ? &kept_cfg->domains[index] : NULL;
}

/* @s with "keel_restart=N" on its command line: the guest can tell it restarted. */
static void restart_spec(struct domain_spec *out, const struct domain_spec *s,
			 unsigned int restarts)
{
	size_t len = strlen(s->cmdline);
	char mark[32];
	size_t mark_len;

	*out = *s;
	mark_len = format(mark, sizeof(mark), "%skeel_restart=%u", len ? " " : "", restarts);
	if (len + mark_len >= sizeof(out->cmdline)) {
		log_warn("domain '%s': its command line has no room for 'keel_restart=%u'; "
			 "restarted without it", s->name, restarts);
		return;
	}
	memcpy(out->cmdline + len, mark, mark_len + 1);
}

static struct domain *live_domain(unsigned int index)
{
	return domain_get(__atomic_load_n(&live_domid[index], __ATOMIC_ACQUIRE));
}

/* Its own devices, to the backends running now: all of them, or the domain fails. */
static bool connect_backends(struct build *b)
{
	for (unsigned int j = 0; j < b->spec->device_count; j++) {
		const struct bootcfg_device *dev = &b->spec->devices[j];
		struct domain *back = live_domain(dev->backend);
		long rc;

		if (!back) {
			log_err("domain '%s': device '%s': its backend '%s' is not running; not "
				"started", b->spec->name, dev->name, kept_cfg->domains[dev->backend].name);
			return false;
		}
		rc = connect(b->d, back, dev);
		domain_put(back);
		if (rc != 0) {
			log_err("domain '%s': device '%s' with backend '%s' failed (error %ld); not "
				"started", b->spec->name, dev->name, kept_cfg->domains[dev->backend].name,
				-rc);
			return false;
		}
	}
	return true;
}

/*
 * The devices that running frontends have with spec @index as backend:
 * their old ones went with the old domain; each gets a new one (a new
 * device id, the same class, index and label), which its driver finds in
 * its device table. A frontend that cannot get it again goes on without.
 */
static void connect_frontends(struct domain *back, unsigned int index)
{
	for (unsigned int i = 0; i < kept_cfg->domain_count; i++) {
		const struct domain_spec *s = &kept_cfg->domains[i];
		struct domain *front = i != index ? live_domain(i) : NULL;

		for (unsigned int j = 0; front && j < s->device_count; j++) {
			long rc;

			if (s->devices[j].backend != index) {
				continue;
			}
			rc = connect(front, back, &s->devices[j]);
			if (rc != 0) {
				log_err("domain %u '%s': device '%s' cannot be connected to the new "
					"'%s' (error %ld); it goes on without", front->domid, s->name,
					s->devices[j].name, back->name, -rc);
			} else {
				log_info("domain %u '%s': device '%s' connected to the new domain %u "
					 "'%s'", front->domid, s->name, s->devices[j].name, back->domid,
					 back->name);
			}
		}
		if (front) {
			domain_put(front);
		}
	}
}

uint32_t domain_build_again(unsigned int index, unsigned int restarts)
{
	struct build *b = heap_alloc(sizeof(*b));
	struct domain_spec *spec = heap_alloc(sizeof(*spec));
	uint32_t domid = 0;
	bool ok;

	if (!b || !spec || !kept_cfg || index >= kept_cfg->domain_count) {
		log_err("domain builder: cannot rebuild boot domain %u (out of memory)", index);
		goto out;
	}
	memset(b, 0, sizeof(*b));
	restart_spec(spec, &kept_cfg->domains[index], restarts);
	b->spec = spec;
	ok = identify(b, kept_bi) && create(b) && connect_backends(b);
	if (ok) {
		connect_frontends(b->d, index);
		ok = load(b, kept_bi);
	}
	if (!ok) {
		discard(b);
		goto out;
	}
	if (start(b)) {
		domid = b->d->domid;
		__atomic_store_n(&live_domid[index], domid, __ATOMIC_RELEASE);
		domain_put(b->d);	/* the table keeps it */
	}
out:
	if (spec) {
		heap_free(spec);
	}
	if (b) {
		heap_free(b);
	}
	return domid;
}
