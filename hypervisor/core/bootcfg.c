/* SPDX-License-Identifier: MIT */
/*
 * core/bootcfg.c - reads the boot configuration device tree (libfdt) into
 * domain specifications, checking every property (docs/boot-config.md).
 *
 * The blob is operator input: nothing in it is trusted. Each problem is
 * reported as "config: <node>: property '<name>': <what>" and makes its
 * domain skipped; other domains are unaffected, except frontends whose
 * backend domain was skipped. libfdt does all the reading of the blob.
 */
#include <libfdt.h>
#include <keel/bootcfg.h>
#include <keel/format.h>
#include <keel/string.h>
#include <public/keel/control.h>
#include <public/keel/io/device.h>

#define MSG_MAX		256
#define ALL_CPUS	UINT64_MAX
#define MAX_WEIGHT	65535

struct parser {
	const void *fdt;
	const struct bootcfg_env *env;
	struct bootcfg *out;
	/* Device backends as read, resolved once every domain is known. */
	uint32_t phandles[BOOTCFG_MAX_DOMAINS][BOOTCFG_MAX_DEVICES];
};

static const struct {
	const char *name;
	uint32_t cap;
} cap_names[] = {
	{ "control", KEEL_CAP_CONTROL },
	{ "create", KEEL_CAP_CREATE },
	{ "backend-console", KEEL_CAP_BACKEND_CONSOLE },
	{ "backend-block", KEEL_CAP_BACKEND_BLOCK },
	{ "backend-net", KEEL_CAP_BACKEND_NET },
	{ "console", KEEL_CAP_CONSOLE },
	{ "log", KEEL_CAP_LOG },
};

static const struct {
	const char *name;
	uint32_t device_class;
	uint32_t backend_cap;
} class_names[] = {
	{ "console", KEEL_IO_CLASS_CONSOLE, KEEL_CAP_BACKEND_CONSOLE },
	{ "block", KEEL_IO_CLASS_BLOCK, KEEL_CAP_BACKEND_BLOCK },
	{ "net", KEEL_IO_CLASS_NET, KEEL_CAP_BACKEND_NET },
};

static const struct {
	const char *name;
	uint32_t flag;
} platform_names[] = {
	{ "acpi", KEEL_DOMCREATE_F_ACPI },
	{ "uart", KEEL_DOMCREATE_F_UART },
	{ "rtc", KEEL_DOMCREATE_F_RTC },
	{ "pci", KEEL_DOMCREATE_F_PLATFORM_PCI },
};

static const char *const domain_props[] = {
	"domain-name", "memory-mib", "vcpus", "cpu-affinity", "weight", "cap-percent",
	"kernel", "initrd", "cmdline", "capabilities", "console", "platform", "boot-protocol",
	"on-poweroff", "on-reboot", "on-crash", "restart-limit", "phandle", "linux,phandle",
};

static const char *const end_action_names[] = {
	[END_DESTROY] = "destroy",
	[END_RESTART] = "restart",
	[END_PRESERVE] = "preserve",
};

static const char *const device_props[] = { "class", "backend", "phandle", "linux,phandle" };

static void report(struct parser *p, const char *path, const char *prop,
		   const char *what, bool skips)
{
	char msg[MSG_MAX];

	if (prop) {
		format(msg, sizeof(msg), "config: %s: property '%s': %s%s", path, prop,
		       what, skips ? "; domain skipped" : "");
	} else {
		format(msg, sizeof(msg), "config: %s: %s%s", path, what,
		       skips ? "; domain skipped" : "");
	}
	p->out->problems++;
	p->env->report(msg, p->env->ctx);
}

/* Report a problem with @spec and mark it skipped; returns false. */
static bool reject(struct parser *p, struct domain_spec *spec, const char *prop,
		   const char *what)
{
	report(p, spec->path, prop, what, !spec->skipped);
	spec->skipped = true;
	return false;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(name, list[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* A property that must be one NUL-terminated string of at most @max - 1 bytes. */
static bool get_string(struct parser *p, struct domain_spec *spec, int node,
		       const char *prop, char *dst, size_t max, bool required)
{
	int len;
	const char *v = fdt_getprop(p->fdt, node, prop, &len);

	if (!v) {
		return required ? reject(p, spec, prop, "missing (required)") : true;
	}
	if (len < 1 || v[len - 1] != '\0' || strnlen(v, (size_t)len) != (size_t)len - 1) {
		return reject(p, spec, prop, "must be a single string");
	}
	if ((size_t)len > max) {
		return reject(p, spec, prop, "too long");
	}
	memcpy(dst, v, (size_t)len);
	return true;
}

/* A property that must be one 32-bit cell in [lo, hi]. */
static bool get_u32(struct parser *p, struct domain_spec *spec, int node,
		    const char *prop, uint32_t lo, uint32_t hi, uint32_t *dst,
		    bool required)
{
	char what[MSG_MAX];
	int len;
	const fdt32_t *v = fdt_getprop(p->fdt, node, prop, &len);
	uint32_t x;

	if (!v) {
		return required ? reject(p, spec, prop, "missing (required)") : true;
	}
	if (len != (int)sizeof(*v)) {
		return reject(p, spec, prop, "must be one 32-bit number, e.g. <1>");
	}
	x = fdt32_to_cpu(*v);
	if (x < lo || x > hi) {
		format(what, sizeof(what), "%u is out of range (%u..%u)", x, lo, hi);
		return reject(p, spec, prop, what);
	}
	*dst = x;
	return true;
}

static bool check_module(struct parser *p, struct domain_spec *spec,
			 const char *prop, const char *name)
{
	char what[MSG_MAX];

	if (!name[0] || p->env->module_exists(name, p->env->ctx)) {
		return true;
	}
	format(what, sizeof(what), "no boot module named '%s'", name);
	return reject(p, spec, prop, what);
}

static bool parse_caps(struct parser *p, struct domain_spec *spec, int node)
{
	char what[MSG_MAX];
	int count = fdt_stringlist_count(p->fdt, node, "capabilities");

	if (count == -FDT_ERR_NOTFOUND) {
		return true;
	}
	if (count < 0) {
		return reject(p, spec, "capabilities", "must be a list of strings");
	}
	for (int i = 0; i < count; i++) {
		const char *s = fdt_stringlist_get(p->fdt, node, "capabilities", i, NULL);
		size_t j = 0;

		while (s && j < ARRAY_SIZE(cap_names) && strcmp(s, cap_names[j].name) != 0) {
			j++;
		}
		if (!s || j == ARRAY_SIZE(cap_names)) {
			format(what, sizeof(what), "unknown capability '%s' (known: control, create, "
			       "backend-console, backend-block, backend-net, console, log)",
			       s ? s : "?");
			return reject(p, spec, "capabilities", what);
		}
		spec->caps |= cap_names[j].cap;
	}
	return true;
}

/*
 * "platform": the emulated devices, or "none". Absent, the builder chooses
 * by kernel type (spec->platform_set stays false).
 */
static bool parse_platform(struct parser *p, struct domain_spec *spec, int node)
{
	char what[MSG_MAX];
	int count = fdt_stringlist_count(p->fdt, node, "platform");

	if (count == -FDT_ERR_NOTFOUND) {
		return true;
	}
	if (count <= 0) {
		return reject(p, spec, "platform", "must be a list of strings");
	}
	spec->platform_set = true;
	for (int i = 0; i < count; i++) {
		const char *s = fdt_stringlist_get(p->fdt, node, "platform", i, NULL);
		size_t j = 0;

		if (s && strcmp(s, "none") == 0 && count == 1) {
			return true;
		}
		while (s && j < ARRAY_SIZE(platform_names) && strcmp(s, platform_names[j].name) != 0) {
			j++;
		}
		if (!s || j == ARRAY_SIZE(platform_names)) {
			format(what, sizeof(what), "unknown device '%s' (known: acpi, uart, rtc, pci; "
			       "or \"none\" alone)", s ? s : "?");
			return reject(p, spec, "platform", what);
		}
		spec->platform |= platform_names[j].flag;
	}
	if ((spec->platform & KEEL_DOMCREATE_F_PLATFORM_PCI) &&
	    !(spec->platform & KEEL_DOMCREATE_F_ACPI)) {
		return reject(p, spec, "platform", "'pci' needs 'acpi' (its interrupt routing "
			      "is in the DSDT)");
	}
	return true;
}

static bool parse_affinity(struct parser *p, struct domain_spec *spec, int node)
{
	char what[MSG_MAX];
	int len;
	const fdt32_t *v = fdt_getprop(p->fdt, node, "cpu-affinity", &len);

	spec->affinity = ALL_CPUS;
	if (!v) {
		return true;
	}
	if (len <= 0 || len % (int)sizeof(*v) != 0) {
		return reject(p, spec, "cpu-affinity", "must be a list of CPU numbers, e.g. <0 1>");
	}
	spec->affinity = 0;
	for (int i = 0; i < len / (int)sizeof(*v); i++) {
		uint32_t cpu = fdt32_to_cpu(v[i]);

		if (cpu >= p->env->cpu_count || cpu >= 64) {
			format(what, sizeof(what), "CPU %u does not exist (this machine has %u)",
			       cpu, p->env->cpu_count);
			return reject(p, spec, "cpu-affinity", what);
		}
		spec->affinity |= (uint64_t)1 << cpu;
	}
	return true;
}

static bool parse_console(struct parser *p, struct domain_spec *spec, int node)
{
	char mode[16] = "";

	if (!get_string(p, spec, node, "console", mode, sizeof(mode), false)) {
		return false;
	}
	if (mode[0] && strcmp(mode, "serial") != 0 && strcmp(mode, "none") != 0) {
		return reject(p, spec, "console", "must be \"serial\" or \"none\"");
	}
	spec->console_input = (strcmp(mode, "serial") == 0);
	return true;
}

/* "boot-protocol": how a Linux kernel is entered; absent, the builder chooses. */
static bool parse_boot_protocol(struct parser *p, struct domain_spec *spec, int node)
{
	char proto[16] = "";

	if (!get_string(p, spec, node, "boot-protocol", proto, sizeof(proto), false)) {
		return false;
	}
	if (strcmp(proto, "pvh") == 0) {
		spec->boot_protocol = BOOT_PROTOCOL_PVH;
	} else if (strcmp(proto, "linux64") == 0) {
		spec->boot_protocol = BOOT_PROTOCOL_LINUX64;
	} else if (proto[0]) {
		return reject(p, spec, "boot-protocol", "must be \"pvh\" or \"linux64\"");
	}
	return true;
}

/* "on-poweroff" and friends: one of end_action_names; absent, @action is kept. */
static bool parse_end_action(struct parser *p, struct domain_spec *spec, int node,
			     const char *prop, uint8_t *action)
{
	char name[32] = "";

	if (!get_string(p, spec, node, prop, name, sizeof(name), false)) {
		return false;
	}
	if (!name[0] && !fdt_getprop(p->fdt, node, prop, NULL)) {
		return true;
	}
	for (uint8_t i = 0; i < ARRAY_SIZE(end_action_names); i++) {
		if (strcmp(name, end_action_names[i]) == 0) {
			*action = i;
			return true;
		}
	}
	return reject(p, spec, prop, "must be \"destroy\", \"restart\" or \"preserve\"");
}

/* "restart-limit = <N S>": at most N restarts within S seconds. */
static bool parse_restart_limit(struct parser *p, struct domain_spec *spec, int node)
{
	char what[MSG_MAX];
	int len;
	const fdt32_t *v = fdt_getprop(p->fdt, node, "restart-limit", &len);
	uint32_t count, seconds;

	if (!v) {
		return true;
	}
	if (len != 2 * (int)sizeof(*v)) {
		return reject(p, spec, "restart-limit", "must be two numbers, restarts and "
			      "seconds, e.g. <3 60>");
	}
	count = fdt32_to_cpu(v[0]);
	seconds = fdt32_to_cpu(v[1]);
	if (count < 1 || count > BOOTCFG_RESTART_LIMIT_MAX || seconds < 1 ||
	    seconds > BOOTCFG_RESTART_WINDOW_MAX) {
		format(what, sizeof(what), "<%u %u> is out of range (1..%u restarts in 1..%u s)",
		       count, seconds, BOOTCFG_RESTART_LIMIT_MAX, BOOTCFG_RESTART_WINDOW_MAX);
		return reject(p, spec, "restart-limit", what);
	}
	spec->restart_limit = count;
	spec->restart_window_s = seconds;
	return true;
}

static bool parse_end_policy(struct parser *p, struct domain_spec *spec, int node)
{
	return parse_end_action(p, spec, node, "on-poweroff", &spec->on_poweroff) &&
	       parse_end_action(p, spec, node, "on-reboot", &spec->on_reboot) &&
	       parse_end_action(p, spec, node, "on-crash", &spec->on_crash) &&
	       parse_restart_limit(p, spec, node);
}

static bool check_known_props(struct parser *p, struct domain_spec *spec,
			      int node, const char *const *known, size_t n,
			      const char *where)
{
	char what[MSG_MAX];
	int prop;

	fdt_for_each_property_offset(prop, p->fdt, node) {
		const char *name;

		if (!fdt_getprop_by_offset(p->fdt, prop, &name, NULL) || !name) {
			return reject(p, spec, NULL, "unreadable property");
		}
		if (!in_list(name, known, n)) {
			format(what, sizeof(what), "unknown %s property", where);
			return reject(p, spec, name, what);
		}
	}
	return true;
}

/* Devices are checked against their backends once every domain is read. */
static bool parse_device(struct parser *p, struct domain_spec *spec, int node,
			 struct bootcfg_device *dev, uint32_t *backend_phandle)
{
	char cls[16] = "", what[MSG_MAX], path[BOOTCFG_PATH_MAX];
	const char *name = fdt_get_name(p->fdt, node, NULL);
	const fdt32_t *ref;
	size_t i;
	int len;

	format(path, sizeof(path), "%s/devices/%s", spec->path, name ? name : "?");
	if (!check_known_props(p, spec, node, device_props, ARRAY_SIZE(device_props), "device")) {
		return false;
	}
	if (!get_string(p, spec, node, "class", cls, sizeof(cls), true)) {
		return false;
	}
	for (i = 0; i < ARRAY_SIZE(class_names) && strcmp(cls, class_names[i].name) != 0; i++) {
	}
	if (i == ARRAY_SIZE(class_names)) {
		format(what, sizeof(what), "device %s: unknown class '%s' (console, block, net)",
		       path, cls);
		return reject(p, spec, "class", what);
	}
	ref = fdt_getprop(p->fdt, node, "backend", &len);
	if (!ref || len != (int)sizeof(*ref)) {
		format(what, sizeof(what), "device %s: must be one reference to a domain, "
		       "e.g. <&storage>", path);
		return reject(p, spec, "backend", what);
	}
	format(dev->name, sizeof(dev->name), "%s", name ? name : "?");
	dev->device_class = class_names[i].device_class;
	*backend_phandle = fdt32_to_cpu(*ref);
	return true;
}

static bool parse_devices(struct parser *p, struct domain_spec *spec, int node,
			  uint32_t *backend_phandles)
{
	int devices = fdt_subnode_offset(p->fdt, node, "devices"), dev;

	if (devices < 0) {
		return true;
	}
	fdt_for_each_subnode(dev, p->fdt, devices) {
		if (spec->device_count == BOOTCFG_MAX_DEVICES) {
			return reject(p, spec, NULL, "too many devices (at most 8)");
		}
		if (!parse_device(p, spec, dev, &spec->devices[spec->device_count],
				  &backend_phandles[spec->device_count])) {
			return false;
		}
		spec->device_count++;
	}
	return true;
}

static void default_name(struct domain_spec *spec, const char *node_name)
{
	size_t n = 0;

	while (node_name[n] && node_name[n] != '@' && n + 1 < sizeof(spec->name)) {
		spec->name[n] = node_name[n];
		n++;
	}
	spec->name[n] = '\0';
}

static bool parse_domain(struct parser *p, int node, struct domain_spec *spec,
			 uint32_t *backend_phandles)
{
	const char *node_name = fdt_get_name(p->fdt, node, NULL);
	uint32_t mib = 0;
	bool ok;

	format(spec->path, sizeof(spec->path), "/domains/%s", node_name ? node_name : "?");
	default_name(spec, node_name ? node_name : "");
	spec->vcpus = 1;
	spec->weight = BOOTCFG_DEFAULT_WEIGHT;
	spec->on_poweroff = END_DESTROY;
	spec->on_reboot = END_RESTART;
	spec->on_crash = END_DESTROY;
	spec->restart_limit = BOOTCFG_RESTART_LIMIT;
	spec->restart_window_s = BOOTCFG_RESTART_WINDOW;
	spec->phandle = fdt_get_phandle(p->fdt, node);

	/* Stops at the first problem: one report per broken domain. */
	ok = check_known_props(p, spec, node, domain_props, ARRAY_SIZE(domain_props),
			       "domain") &&
	     get_string(p, spec, node, "domain-name", spec->name, sizeof(spec->name), false) &&
	     get_u32(p, spec, node, "memory-mib", 1, 1u << 20, &mib, true) &&
	     get_u32(p, spec, node, "vcpus", 1, BOOTCFG_MAX_VCPUS, &spec->vcpus, false) &&
	     parse_affinity(p, spec, node) &&
	     get_u32(p, spec, node, "weight", 1, MAX_WEIGHT, &spec->weight, false) &&
	     get_u32(p, spec, node, "cap-percent", 0, 100 * spec->vcpus, &spec->cap_percent,
		     false) &&
	     get_string(p, spec, node, "kernel", spec->kernel, sizeof(spec->kernel), true) &&
	     check_module(p, spec, "kernel", spec->kernel) &&
	     get_string(p, spec, node, "initrd", spec->initrd, sizeof(spec->initrd), false) &&
	     check_module(p, spec, "initrd", spec->initrd) &&
	     get_string(p, spec, node, "cmdline", spec->cmdline, sizeof(spec->cmdline), false) &&
	     parse_caps(p, spec, node) && parse_console(p, spec, node) &&
	     parse_platform(p, spec, node) && parse_boot_protocol(p, spec, node) &&
	     parse_end_policy(p, spec, node) && parse_devices(p, spec, node, backend_phandles);
	spec->memory_mib = mib;
	return ok;
}

static int find_by_phandle(const struct bootcfg *cfg, uint32_t phandle)
{
	for (unsigned int i = 0; phandle && i < cfg->domain_count; i++) {
		if (cfg->domains[i].phandle == phandle) {
			return (int)i;
		}
	}
	return -1;
}

/*
 * Resolve device backends; a frontend of a skipped backend is skipped too
 * (its capabilities may not even have been read, so that is the report).
 */
static void link_devices(struct parser *p)
{
	struct bootcfg *cfg = p->out;
	char what[MSG_MAX];
	bool changed = true;

	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		struct domain_spec *spec = &cfg->domains[i];

		for (unsigned int d = 0; !spec->skipped && d < spec->device_count; d++) {
			int b = find_by_phandle(cfg, p->phandles[i][d]);
			size_t c = 0;

			while (class_names[c].device_class != spec->devices[d].device_class) {
				c++;
			}
			if (b < 0 || (unsigned int)b == i) {
				format(what, sizeof(what), "device '%s': %s", spec->devices[d].name,
				       b < 0 ? "does not refer to a domain under /domains"
					     : "a domain cannot be its own backend");
				reject(p, spec, "backend", what);
			} else if (!cfg->domains[b].skipped &&
				   !(cfg->domains[b].caps & class_names[c].backend_cap)) {
				format(what, sizeof(what), "device '%s': domain '%s' lacks the "
				       "'backend-%s' capability", spec->devices[d].name,
				       cfg->domains[b].name, class_names[c].name);
				reject(p, spec, "backend", what);
			} else {
				spec->devices[d].backend = (unsigned int)b;
			}
		}
	}
	while (changed) {
		changed = false;
		for (unsigned int i = 0; i < cfg->domain_count; i++) {
			struct domain_spec *spec = &cfg->domains[i];

			for (unsigned int d = 0; !spec->skipped && d < spec->device_count; d++) {
				const struct domain_spec *be = &cfg->domains[spec->devices[d].backend];

				if (be->skipped) {
					format(what, sizeof(what), "device '%s': its backend domain '%s' "
					       "was skipped", spec->devices[d].name, be->name);
					reject(p, spec, "backend", what);
					changed = true;
				}
			}
		}
	}
}

/* Names unique, and memory within the budget (in order of appearance). */
static void check_totals(struct parser *p)
{
	struct bootcfg *cfg = p->out;
	uint64_t left = p->env->memory_budget_mib;
	char what[MSG_MAX];

	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		struct domain_spec *spec = &cfg->domains[i];

		for (unsigned int j = 0; !spec->skipped && j < i; j++) {
			if (!cfg->domains[j].skipped && strcmp(cfg->domains[j].name, spec->name) == 0) {
				format(what, sizeof(what), "'%s' is already the name of %s",
				       spec->name, cfg->domains[j].path);
				reject(p, spec, "domain-name", what);
			}
		}
		if (spec->skipped) {
			continue;
		}
		if (spec->memory_mib > left) {
			format(what, sizeof(what), "%llu MiB requested but only %llu MiB are left",
			       (unsigned long long)spec->memory_mib, (unsigned long long)left);
			reject(p, spec, "memory-mib", what);
			continue;
		}
		left -= spec->memory_mib;
	}
}

static bool check_root(struct parser *p, size_t size)
{
	int len;
	const fdt32_t *version;

	if (size < sizeof(struct fdt_header) || fdt_check_header(p->fdt) != 0 ||
	    fdt_totalsize(p->fdt) > size) {
		report(p, "/", NULL, "not a valid device tree blob (compile it with dtc)", false);
		return false;
	}
	if (fdt_node_check_compatible(p->fdt, 0, "keel,boot-config") != 0) {
		report(p, "/", "compatible", "must be \"keel,boot-config\"", false);
		return false;
	}
	version = fdt_getprop(p->fdt, 0, "keel,config-version", &len);
	if (!version || len != 4 || fdt32_to_cpu(*version) != BOOTCFG_VERSION) {
		report(p, "/", "keel,config-version", "must be <1>", false);
		return false;
	}
	return true;
}

/*
 * The root's "console-input = NAME": the domain that has the serial input at
 * boot. It must be a domain that starts and accepts serial input (console =
 * "serial"); otherwise the problem is reported, the input starts with Keel
 * and no domain is skipped for it: a typo here must not cost the operator
 * the domain.
 */
static void parse_console_input(struct parser *p)
{
	struct bootcfg *cfg = p->out;
	char what[MSG_MAX];
	const char *name;
	int len;

	cfg->console_input = -1;
	name = fdt_getprop(p->fdt, 0, "console-input", &len);
	if (!name) {
		return;
	}
	if (len < 2 || name[len - 1] != '\0' || strnlen(name, (size_t)len) != (size_t)len - 1) {
		report(p, "/", "console-input", "must be one domain name, e.g. \"ctl\"; "
		       "the input starts with Keel", false);
		return;
	}
	/* Names are unique among the domains kept; a skipped twin may share one. */
	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		const struct domain_spec *spec = &cfg->domains[i];

		if (spec->skipped || strcmp(spec->name, name) != 0) {
			continue;
		}
		if (spec->console_input) {
			cfg->console_input = (int)i;
			return;
		}
		format(what, sizeof(what), "domain '%s' does not accept serial input (it needs "
		       "console = \"serial\"); the input starts with Keel", name);
		report(p, "/", "console-input", what, false);
		return;
	}
	for (unsigned int i = 0; i < cfg->domain_count; i++) {
		if (strcmp(cfg->domains[i].name, name) == 0) {
			format(what, sizeof(what), "domain '%s' was skipped; the input starts with "
			       "Keel", name);
			report(p, "/", "console-input", what, false);
			return;
		}
	}
	format(what, sizeof(what), "no domain named '%s' under /domains; the input starts "
	       "with Keel", name);
	report(p, "/", "console-input", what, false);
}

bool bootcfg_parse(const void *blob, size_t size, const struct bootcfg_env *env,
		   struct bootcfg *out)
{
	struct parser p = { .fdt = blob, .env = env, .out = out };
	int domains, node;

	memset(out, 0, sizeof(*out));
	out->console_input = -1;
	if (!check_root(&p, size)) {
		return false;
	}
	domains = fdt_path_offset(blob, "/domains");
	if (domains < 0) {
		report(&p, "/", NULL, "no /domains node", false);
		return false;
	}
	fdt_for_each_subnode(node, blob, domains) {
		if (out->domain_count == BOOTCFG_MAX_DOMAINS) {
			report(&p, "/domains", NULL, "more than 16 domains; the rest are ignored", false);
			break;
		}
		parse_domain(&p, node, &out->domains[out->domain_count],
			     p.phandles[out->domain_count]);
		out->domain_count++;
	}
	link_devices(&p);
	check_totals(&p);
	parse_console_input(&p);
	return true;
}
