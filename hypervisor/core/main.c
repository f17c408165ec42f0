/* SPDX-License-Identifier: MIT */
/*
 * core/main.c - the boot sequence: from the loader's hand-off to a running
 * hypervisor with every CPU online and virtualization proven by a guest.
 */
#include <arch/arch.h>
#include <keel/bootcfg.h>
#include <keel/bootinfo.h>
#include <keel/domain_build.h>
#include <keel/elf.h>
#include <keel/heap.h>
#include <keel/image.h>
#include <keel/log.h>
#include <keel/main.h>
#include <keel/options.h>
#include <keel/page_alloc.h>
#include <keel/panic.h>
#include <keel/sched.h>
#include <keel/schedule.h>
#include <keel/string.h>
#include <keel/version.h>

static void log_modules(const struct boot_info *bi)
{
	log_info("boot modules: %u", bi->module_count);
	for (unsigned int i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];

		log_info("  module '%s' at %#llx, %llu bytes%s%s", m->name,
			 (unsigned long long)m->base, (unsigned long long)m->size,
			 m->args[0] ? ", args: " : "", m->args);
	}
	if (bi->modules_dropped) {
		log_warn("boot modules: %u more ignored (at most %u)",
			 bi->modules_dropped, BOOT_MAX_MODULES);
	}
}

static void check_memory(const struct boot_info *bi)
{
	uint64_t mib = memmap_usable_bytes(bi) >> 20;

	if (mib < KEEL_MIN_RAM_MIB) {
		halt_cleanly("not enough memory: this machine has %llu MiB of usable RAM, "
			     "Keel needs at least %u MiB (in QEMU: -m 2G)",
			     (unsigned long long)mib, KEEL_MIN_RAM_MIB);
	}
}

static bool module_exists(const char *name, const void *ctx)
{
	return bootmod_find(ctx, name) != NULL;
}

static void report_config_problem(const char *msg, const void *ctx)
{
	log_warn("%s", msg);
}

/*
 * Read the boot configuration (module config.dtb) if there is one, and
 * report the domains it describes. Starting them comes with the domain
 * builder; until then this validates the configuration at boot.
 */
static void read_boot_config(const struct boot_info *bi, struct bootcfg *cfg)
{
	const struct boot_module *m = bootmod_find(bi, BOOTCFG_MODULE_NAME);
	struct bootcfg_env env = {
		.module_exists = module_exists,
		.report = report_config_problem,
		.memory_budget_mib = (page_alloc_free_count() << PAGE_SHIFT) >> 20,
		.cpu_count = arch_cpu_count(),
		.ctx = bi,
	};
	unsigned long flags;
	bool ok;

	if (!m) {
		log_info("boot config: no '%s' module; no boot-time domains", BOOTCFG_MODULE_NAME);
		return;
	}
	flags = arch_irq_save();	/* libfdt uses the red zone: no interrupts */
	ok = bootcfg_parse(arch_phys_to_virt(m->base), m->size, &env, cfg);
	arch_irq_restore(flags);
	if (!ok) {
		log_err("boot config: '%s' is unusable (see above); no boot-time domains",
			BOOTCFG_MODULE_NAME);
		return;
	}
	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		const struct domain_spec *s = &cfg->domains[i];

		log_info("boot config: domain '%s': %llu MiB, %u vCPU(s), weight %u, kernel '%s', "
			 "%u device(s)%s", s->name, (unsigned long long)s->memory_mib, s->vcpus,
			 s->weight, s->kernel, s->device_count, s->skipped ? " - SKIPPED" : "");
	}
	log_info("boot config: %u domain(s) described, %u problem(s)", cfg->domain_count,
		 cfg->problems);
}

static void run_probe_guest(const struct boot_info *bi)
{
	const struct boot_module *m;
	struct elf_image elf;
	uint64_t free_before;
	struct image image;
	const char *why;

	if (strcmp(options.probe_guest, "none") == 0) {
		log_info("probe guest: skipped (probe_guest=none)");
		return;
	}
	m = bootmod_find(bi, options.probe_guest);
	if (!m) {
		halt_cleanly("boot module '%s' is missing: load it as a module named "
			     "'%s' (GRUB: module2 /boot/%s %s), or boot with probe_guest=none",
			     options.probe_guest, options.probe_guest,
			     options.probe_guest, options.probe_guest);
	}
	if (!image_open(arch_phys_to_virt(m->base), m->size, &image, &why) ||
	    elf_parse(image.data, image.size, &elf, &why) != ELF_OK) {
		halt_cleanly("boot module '%s' (%llu bytes) is not a usable guest image: %s",
			     m->name, (unsigned long long)m->size, why);
	}
	if (image.was_gzip) {
		log_info("probe guest: inflated '%s' from %llu to %zu bytes", m->name,
			 (unsigned long long)m->size, image.size);
	}
	free_before = page_alloc_free_count();
	if (arch_run_probe_guest(image.data, &elf) != 0) {
		verdict_report(VERDICT_FAILURE, "probe guest '%s' failed (see above)", m->name);
		arch_cpu_halt();
	}
	if (page_alloc_free_count() != free_before) {
		panic("probe guest leaked %lld pages",
		      (long long)(free_before - page_alloc_free_count()));
	}
	log_info("probe guest: destroyed, free pages back to %llu",
		 (unsigned long long)free_before);
	image_close(&image);
}

static struct bootcfg boot_config;

void keel_main(struct boot_info *bi)
{
	unsigned int cpus, started;
	uint64_t baseline;

	options_parse(bi->cmdline);
	log_set_level(options.log_level);
	verdict_set_emulator_exit(options.qemu_exit);
	log_info("Keel %s (%s) booting, loaded by %s", KEEL_VERSION, arch_name, bi->loader);
	log_info("command line: '%s'", bi->cmdline);

	memmap_normalize(bi);
	memmap_log(bi);
	check_memory(bi);
	log_modules(bi);
	if (!page_alloc_init(bi)) {
		halt_cleanly("cannot set up the page allocator (see above)");
	}

	arch_setup(bi);
	cpus = arch_start_cpus();
	log_info("CPUs online: %u", cpus);
	if (sched_init(cpus, schedule_kick) != 0) {
		halt_cleanly("too many CPUs for the scheduler (at most %u)", SCHED_CPUS_MAX);
	}

	if (options.crash_test[0]) {
		crash_test_run(options.crash_test);
	}
	if (arch_virt_enable() != 0) {
		halt_cleanly("hardware virtualization is not available (see above)");
	}
	run_probe_guest(bi);
	read_boot_config(bi, &boot_config);

	log_info("pages: %llu free of %llu, heap holds %llu",
		 (unsigned long long)page_alloc_free_count(),
		 (unsigned long long)page_alloc_total_count(),
		 (unsigned long long)heap_page_count());
	baseline = page_alloc_free_count();
	started = domain_build_boot(bi, &boot_config);
	if (started == 0) {
		verdict_report(VERDICT_SUCCESS, "boot complete: %u CPUs online, virtualization ready",
			       cpus);
		log_info("boot complete; no domains to run; idle");
	} else {
		/*
		 * The verdict comes when every domain has ended: they must all
		 * give every page back (schedule.c checks against this count,
		 * taken before any of them was built).
		 */
		schedule_set_page_baseline(baseline, started);
		log_info("boot complete: %u domain(s) started on %u CPU(s)", started, cpus);
		log_info("pages: %llu free after building, heap holds %llu",
			 (unsigned long long)page_alloc_free_count(),
			 (unsigned long long)heap_page_count());
	}
	schedule_start();
}
