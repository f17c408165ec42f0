/* SPDX-License-Identifier: MIT */
/*
 * tools/config/domcfg.c - the meaning of each xl.cfg key keelctl accepts
 * (one handler per key, in the table below) and the checks across keys.
 * Unknown keys are errors; xl keys Keel cannot honour say why.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel/control.h>
#include "cfgpath.h"
#include "domcfg.h"
#include "xlcfg.h"

#define FILE_MAX	(1024 * 1024)
#define MEMORY_MAX_MIB	(512ull * 1024)	/* the native builder maps up to 512 GiB */

struct ctx {
	const char *file;
	const char *path;		/* as given, for resolving relative paths */
	struct domcfg *cfg;
	char *err;
	size_t errlen;
	uint64_t maxmem_mib;
	uint32_t maxvcpus;
	int line_of[64];		/* where each key of the table was set */
	char *extra, *root;
};

static int at(struct ctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	int n = line ? snprintf(c->err, c->errlen, "%s:%d: ", c->file, line) :
		       snprintf(c->err, c->errlen, "%s: ", c->file);

	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* --- value readers ---------------------------------------------------------- */

static int want_string(struct ctx *c, const struct xlcfg_setting *s, const char **out)
{
	if (s->kind != XLCFG_STRING) {
		return at(c, s->line, "'%s' must be a quoted string", s->key);
	}
	*out = s->text;
	return 0;
}

/* A number, written bare or quoted (xl takes both), within [min, max]. */
static int want_number(struct ctx *c, const struct xlcfg_setting *s, uint64_t min, uint64_t max,
		       uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s->kind == XLCFG_LIST || !s->text[0] || s->text[0] == '-' || s->text[0] == ' ') {
		return at(c, s->line, "'%s' must be a number", s->key);
	}
	errno = 0;
	v = strtoull(s->text, &end, 0);
	if (errno || *end) {
		return at(c, s->line, "'%s' must be a number, not '%s'", s->key, s->text);
	}
	if (v < min || v > max) {
		return at(c, s->line, "'%s' is %llu; it must be %llu..%llu", s->key, v,
			  (unsigned long long)min, (unsigned long long)max);
	}
	*out = v;
	return 0;
}

static int want_path(struct ctx *c, const struct xlcfg_setting *s, char **out)
{
	const char *v, *why = NULL;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	*out = cfgpath_resolve(c->path, v, &why);
	return *out ? 0 : at(c, s->line, "'%s' %s", s->key, why);
}

static int want_list(struct ctx *c, const struct xlcfg_setting *s)
{
	if (s->kind != XLCFG_LIST) {
		return at(c, s->line, "'%s' must be a list [ ... ]", s->key);
	}
	return 0;
}

/* --- one handler per key ------------------------------------------------------- */

static int key_name(struct ctx *c, const struct xlcfg_setting *s)
{
	const char *v;
	size_t n;
	bool digits = true;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	n = strlen(v);
	if (n == 0 || n >= DOMCFG_NAME_MAX) {
		return at(c, s->line, "'name' must be 1..%d characters", DOMCFG_NAME_MAX - 1);
	}
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];

		digits &= ch >= '0' && ch <= '9';
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')) {
			return at(c, s->line, "'name' may hold letters, digits, '-', '_' and '.' only");
		}
	}
	if (digits) {
		return at(c, s->line, "'name' must not be all digits (it would read as a domain id)");
	}
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
		/* It names the backends' state directory, $KEEL_RUN_DIR/NAME. */
		return at(c, s->line, "'name' must not be '.' or '..'");
	}
	memcpy(c->cfg->name, v, n + 1);
	return 0;
}

static int key_memory(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_number(c, s, 1, MEMORY_MAX_MIB, &c->cfg->memory_mib);
}

static int key_maxmem(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_number(c, s, 1, MEMORY_MAX_MIB, &c->maxmem_mib);
}

static int key_vcpus(struct ctx *c, const struct xlcfg_setting *s)
{
	uint64_t v;
	int rc = want_number(c, s, 1, 64, &v);

	c->cfg->vcpus = (uint32_t)v;
	return rc;
}

static int key_maxvcpus(struct ctx *c, const struct xlcfg_setting *s)
{
	uint64_t v;
	int rc = want_number(c, s, 1, 64, &v);

	c->maxvcpus = (uint32_t)v;
	return rc;
}

static int key_kernel(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_path(c, s, &c->cfg->kernel);
}

static int key_ramdisk(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_path(c, s, &c->cfg->ramdisk);
}

static int key_string_copy(struct ctx *c, const struct xlcfg_setting *s, char **out)
{
	const char *v;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	if (strlen(v) >= DOMCFG_CMDLINE_MAX) {
		return at(c, s->line, "'%s' is longer than %d bytes", s->key, DOMCFG_CMDLINE_MAX - 1);
	}
	*out = strdup(v);
	return *out ? 0 : at(c, s->line, "out of memory");
}

static int key_cmdline(struct ctx *c, const struct xlcfg_setting *s)
{
	return key_string_copy(c, s, &c->cfg->cmdline);
}

static int key_extra(struct ctx *c, const struct xlcfg_setting *s)
{
	return key_string_copy(c, s, &c->extra);
}

static int key_root(struct ctx *c, const struct xlcfg_setting *s)
{
	return key_string_copy(c, s, &c->root);
}

static int key_type(struct ctx *c, const struct xlcfg_setting *s)
{
	const char *v;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	if (strcmp(v, "pvh") == 0) {
		c->cfg->type = DOMCFG_TYPE_PVH;
	} else if (strcmp(v, "hvm") == 0) {
		c->cfg->type = DOMCFG_TYPE_HVM;
	} else if (strcmp(v, "pv") == 0) {
		return at(c, s->line, "'type' pv is not supported: Keel runs no paravirtualised-MMU "
			  "guests; use type = \"pvh\" with the same kernel (Linux has PVH entry "
			  "since 4.11)");
	} else {
		return at(c, s->line, "'type' must be \"pvh\" or \"hvm\", not '%s'", v);
	}
	return 0;
}

static int key_builder(struct ctx *c, const struct xlcfg_setting *s)
{
	const char *v;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	if (strcmp(v, "hvm") == 0) {
		c->cfg->type = DOMCFG_TYPE_HVM;
		return 0;
	}
	return at(c, s->line, "'builder' '%s' is not supported: use type = \"pvh\" or \"hvm\"", v);
}

static int want_action(struct ctx *c, const struct xlcfg_setting *s, enum domcfg_action *out)
{
	const char *v;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	for (int a = DOMCFG_DESTROY; a <= DOMCFG_PRESERVE; a++) {
		if (strcmp(v, domcfg_action_name((enum domcfg_action)a)) == 0) {
			*out = (enum domcfg_action)a;
			return 0;
		}
	}
	return at(c, s->line, "'%s' must be \"destroy\", \"restart\" or \"preserve\", not '%s'",
		  s->key, v);
}

static int key_on_poweroff(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_action(c, s, &c->cfg->on_poweroff);
}

static int key_on_reboot(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_action(c, s, &c->cfg->on_reboot);
}

static int key_on_crash(struct ctx *c, const struct xlcfg_setting *s)
{
	return want_action(c, s, &c->cfg->on_crash);
}

/* keel_restart_limit = [ N, S ]: the monitor's restart guard, as a boot configuration's restart-limit. */
static int key_keel_restart_limit(struct ctx *c, const struct xlcfg_setting *s)
{
	struct xlcfg_setting one = *s;
	uint64_t v[2];

	if (want_list(c, s) != 0) {
		return -1;
	}
	if (s->nitems != 2) {
		return at(c, s->line, "'keel_restart_limit' must be [ RESTARTS, SECONDS ]");
	}
	for (size_t i = 0; i < 2; i++) {
		one.kind = s->items[i].kind;
		one.text = s->items[i].text;
		one.line = s->items[i].line;
		if (want_number(c, &one, 1, i == 0 ? 1000 : 86400, &v[i]) != 0) {
			return -1;
		}
	}
	c->cfg->restart_limit = (uint32_t)v[0];
	c->cfg->restart_window_s = (uint32_t)v[1];
	return 0;
}

/* A disk's target, as the kernel's path: relative to the file's directory, made absolute. */
static int resolve_target(struct ctx *c, struct domcfg_disk *d)
{
	const char *why = NULL;
	char *abs = cfgpath_resolve(c->path, d->target, &why);

	if (!abs) {
		return at(c, d->line, "'disk' %s: target %s", d->vdev, why);
	}
	free(d->target);
	d->target = abs;
	return 0;
}

static int key_disk(struct ctx *c, const struct xlcfg_setting *s)
{
	char where[64];

	if (want_list(c, s) != 0) {
		return -1;
	}
	if (s->nitems > DOMCFG_DISKS_MAX) {
		return at(c, s->line, "'disk' has more than %d entries", DOMCFG_DISKS_MAX);
	}
	for (size_t i = 0; i < s->nitems; i++) {
		struct domcfg_disk *d = &c->cfg->disks[c->cfg->ndisks];

		snprintf(where, sizeof(where), "%s:%d", c->file, s->items[i].line);
		if (s->items[i].kind != XLCFG_STRING) {
			return at(c, s->items[i].line, "'disk' entries must be quoted strings");
		}
		if (domcfg_parse_disk(s->items[i].text, d, where, c->err, c->errlen) != 0) {
			return -1;
		}
		d->line = s->items[i].line;
		c->cfg->ndisks++;
		if (resolve_target(c, d) != 0) {
			return -1;
		}
		for (size_t k = 0; k + 1 < c->cfg->ndisks; k++) {
			const struct domcfg_disk *o = &c->cfg->disks[k];

			if (strcmp(o->vdev, d->vdev) == 0) {
				return at(c, d->line, "'disk': vdev '%s' used twice", d->vdev);
			}
			/* Two views of one image, one of them writable, corrupt it. */
			if (strcmp(o->target, d->target) == 0 && !(o->readonly && d->readonly)) {
				return at(c, d->line, "'disk' %s: target %s is also %s's; the same image "
					  "twice must be read-only both times", d->vdev, d->target, o->vdev);
			}
		}
	}
	return 0;
}

static int key_vif(struct ctx *c, const struct xlcfg_setting *s)
{
	char where[64];

	if (want_list(c, s) != 0) {
		return -1;
	}
	if (s->nitems > DOMCFG_VIFS_MAX) {
		return at(c, s->line, "'vif' has more than %d entries", DOMCFG_VIFS_MAX);
	}
	for (size_t i = 0; i < s->nitems; i++) {
		struct domcfg_vif *v = &c->cfg->vifs[c->cfg->nvifs];

		snprintf(where, sizeof(where), "%s:%d", c->file, s->items[i].line);
		if (s->items[i].kind != XLCFG_STRING) {
			return at(c, s->items[i].line, "'vif' entries must be quoted strings");
		}
		if (domcfg_parse_vif(s->items[i].text, v, where, c->err, c->errlen) != 0) {
			return -1;
		}
		v->line = s->items[i].line;
		c->cfg->nvifs++;
	}
	return 0;
}

static int key_uuid(struct ctx *c, const struct xlcfg_setting *s)
{
	const char *v;
	int n = 0;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	for (const char *p = v; *p; p++) {
		int hi, lo;

		if (*p == '-') {
			continue;
		}
		hi = (*p >= '0' && *p <= '9') ? *p - '0' : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'f' ?
		     (*p | 0x20) - 'a' + 10 : -1;
		lo = !p[1] ? -1 : (p[1] >= '0' && p[1] <= '9') ? p[1] - '0' :
		     (p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'f' ? (p[1] | 0x20) - 'a' + 10 : -1;
		if (hi < 0 || lo < 0 || n == 16) {
			return at(c, s->line, "'uuid' '%s' is not a UUID", v);
		}
		c->cfg->uuid[n++] = (uint8_t)(hi << 4 | lo);
		p++;
	}
	if (n != 16) {
		return at(c, s->line, "'uuid' '%s' is not a UUID", v);
	}
	c->cfg->uuid_set = true;
	return 0;
}

static int key_cpu_weight(struct ctx *c, const struct xlcfg_setting *s)
{
	uint64_t v;
	int rc = want_number(c, s, 1, 65535, &v);

	c->cfg->weight = (uint32_t)v;
	return rc;
}

static int key_cap(struct ctx *c, const struct xlcfg_setting *s)
{
	uint64_t v;
	int rc = want_number(c, s, 0, 6400, &v);

	c->cfg->cap = (uint32_t)v;
	return rc;
}

struct named_bit {
	const char *name;
	uint32_t bit;
};

static const struct named_bit cap_names[] = {
	{ "control", KEEL_CAP_CONTROL }, { "create", KEEL_CAP_CREATE },
	{ "backend-console", KEEL_CAP_BACKEND_CONSOLE }, { "backend-block", KEEL_CAP_BACKEND_BLOCK },
	{ "backend-net", KEEL_CAP_BACKEND_NET }, { "console", KEEL_CAP_CONSOLE },
	{ "log", KEEL_CAP_LOG }, { NULL, 0 },
};

static const struct named_bit platform_names[] = {
	{ "acpi", KEEL_DOMCREATE_F_ACPI }, { "uart", KEEL_DOMCREATE_F_UART },
	{ "rtc", KEEL_DOMCREATE_F_RTC }, { "pci", KEEL_DOMCREATE_F_PLATFORM_PCI }, { NULL, 0 },
};

static int want_bits(struct ctx *c, const struct xlcfg_setting *s, const struct named_bit *names,
		     uint32_t *out)
{
	if (want_list(c, s) != 0) {
		return -1;
	}
	*out = 0;
	for (size_t i = 0; i < s->nitems; i++) {
		const struct named_bit *nb = names;

		while (nb->name && strcmp(nb->name, s->items[i].text) != 0) {
			nb++;
		}
		if (!nb->name) {
			return at(c, s->items[i].line, "'%s': unknown name '%s'", s->key,
				  s->items[i].text);
		}
		*out |= nb->bit;
	}
	return 0;
}

static int key_keel_caps(struct ctx *c, const struct xlcfg_setting *s)
{
	uint32_t bits;
	int rc = want_bits(c, s, cap_names, &bits);

	c->cfg->caps = bits;
	return rc;
}

static int key_keel_platform(struct ctx *c, const struct xlcfg_setting *s)
{
	c->cfg->platform_set = true;
	return want_bits(c, s, platform_names, &c->cfg->platform);
}

static int key_keel_boot_protocol(struct ctx *c, const struct xlcfg_setting *s)
{
	static const char *const names[] = { "auto", "pvh", "linux64" };
	const char *v;

	if (want_string(c, s, &v) != 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(v, names[i]) == 0) {
			c->cfg->boot_protocol = (enum domcfg_boot)i;
			return 0;
		}
	}
	return at(c, s->line, "'keel_boot_protocol' must be \"auto\", \"pvh\" or \"linux64\", "
		  "not '%s'", v);
}

static int key_keel_console(struct ctx *c, const struct xlcfg_setting *s)
{
	uint64_t v;
	int rc = want_number(c, s, 0, 1, &v);

	c->cfg->console = v != 0;
	return rc;
}

typedef int (*key_fn)(struct ctx *c, const struct xlcfg_setting *s);

struct key {
	const char *name;
	key_fn fn;
};

static const struct key keys[] = {
	{ "name", key_name }, { "memory", key_memory }, { "maxmem", key_maxmem },
	{ "vcpus", key_vcpus }, { "maxvcpus", key_maxvcpus }, { "kernel", key_kernel },
	{ "ramdisk", key_ramdisk }, { "cmdline", key_cmdline }, { "extra", key_extra },
	{ "root", key_root }, { "type", key_type }, { "builder", key_builder },
	{ "on_poweroff", key_on_poweroff }, { "on_reboot", key_on_reboot },
	{ "on_crash", key_on_crash }, { "disk", key_disk }, { "vif", key_vif },
	{ "uuid", key_uuid }, { "cpu_weight", key_cpu_weight }, { "cap", key_cap },
	{ "keel_caps", key_keel_caps }, { "keel_platform", key_keel_platform },
	{ "keel_console", key_keel_console }, { "keel_boot_protocol", key_keel_boot_protocol },
	{ "keel_restart_limit", key_keel_restart_limit },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/* xl keys a Xen user may have, and why Keel refuses them. */
static const char *const refused[][2] = {
	{ "bootloader", "bootloaders (pygrub) are not supported; give kernel= and ramdisk=" },
	{ "firmware", "Keel has no guest firmware; give kernel=" },
	{ "boot", "Keel has no guest firmware to boot from disk; give kernel=" },
	{ "pci", "PCI passthrough is not supported" },
	{ "vfb", "Keel has no framebuffer; use 'keelctl console'" },
	{ "vnc", "Keel has no framebuffer; use 'keelctl console'" },
	{ "sdl", "Keel has no framebuffer; use 'keelctl console'" },
	{ "serial", "the emulated UART is chosen with keel_platform = [\"uart\"]" },
	{ "cpus", "vCPU affinity from the config is not supported yet" },
	{ "device_model_version", "Keel has no device model" },
};

static int unknown_key(struct ctx *c, const struct xlcfg_setting *s)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (strcmp(refused[i][0], s->key) == 0) {
			return at(c, s->line, "'%s' is not supported: %s", s->key, refused[i][1]);
		}
	}
	return at(c, s->line, "unknown key '%s'", s->key);
}

static int apply(struct ctx *c, const struct xlcfg_setting *s)
{
	for (size_t k = 0; k < NKEYS; k++) {
		if (strcmp(keys[k].name, s->key) != 0) {
			continue;
		}
		if (c->line_of[k]) {
			return at(c, s->line, "'%s' set twice (first on line %d)", s->key,
				  c->line_of[k]);
		}
		c->line_of[k] = s->line;
		return keys[k].fn(c, s);
	}
	return unknown_key(c, s);
}

static int key_line(const struct ctx *c, const char *name)
{
	for (size_t k = 0; k < NKEYS; k++) {
		if (strcmp(keys[k].name, name) == 0) {
			return c->line_of[k];
		}
	}
	return 0;
}

/* cmdline, or xl's older root= + extra= joined as xl joins them. */
static int compose_cmdline(struct ctx *c)
{
	size_t n;

	if (!c->extra && !c->root) {
		return 0;
	}
	if (c->cfg->cmdline) {
		return at(c, key_line(c, c->extra ? "extra" : "root"),
			  "'cmdline' and '%s' both set: use one", c->extra ? "extra" : "root");
	}
	n = (c->root ? strlen(c->root) + 6 : 0) + (c->extra ? strlen(c->extra) : 0) + 1;
	if (n > DOMCFG_CMDLINE_MAX) {
		return at(c, key_line(c, "extra"), "'root' and 'extra' together are too long");
	}
	c->cfg->cmdline = malloc(n);
	if (!c->cfg->cmdline) {
		return at(c, 0, "out of memory");
	}
	snprintf(c->cfg->cmdline, n, "%s%s%s%s", c->root ? "root=" : "", c->root ? c->root : "",
		 c->root && c->extra ? " " : "", c->extra ? c->extra : "");
	return 0;
}

static int check_whole(struct ctx *c)
{
	struct domcfg *cfg = c->cfg;

	if (!cfg->name[0]) {
		return at(c, 0, "'name' is missing");
	}
	if (!cfg->kernel) {
		return at(c, 0, "'kernel' is missing (Keel has no guest firmware: give the kernel "
			  "image)");
	}
	if (c->maxmem_mib && c->maxmem_mib != cfg->memory_mib) {
		return at(c, key_line(c, "maxmem"), "'maxmem' (%llu) differs from 'memory' (%llu): "
			  "Keel domains cannot grow past their initial memory yet",
			  (unsigned long long)c->maxmem_mib, (unsigned long long)cfg->memory_mib);
	}
	if (c->maxvcpus && c->maxvcpus != cfg->vcpus) {
		return at(c, key_line(c, "maxvcpus"), "'maxvcpus' (%u) differs from 'vcpus' (%u): "
			  "vCPU hotplug is not supported", c->maxvcpus, cfg->vcpus);
	}
	if (cfg->cap > 100 * cfg->vcpus) {
		return at(c, key_line(c, "cap"), "'cap' %u is above 100 x vcpus (%u)", cfg->cap,
			  100 * cfg->vcpus);
	}
	return compose_cmdline(c);
}

int domcfg_parse(const char *path, const char *text, size_t len, struct domcfg *cfg, char *err,
		 size_t errlen)
{
	const char *slash = strrchr(path, '/');
	struct ctx c = { .file = slash ? slash + 1 : path, .path = path, .cfg = cfg, .err = err,
			 .errlen = errlen };
	struct xlcfg x;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_mib = 128;
	cfg->vcpus = 1;
	cfg->console = true;
	cfg->on_reboot = DOMCFG_RESTART;
	cfg->restart_limit = DOMCFG_RESTART_LIMIT;
	cfg->restart_window_s = DOMCFG_RESTART_WINDOW_S;
	if (xlcfg_parse(c.file, text, len, &x, err, errlen) != 0) {
		return -1;
	}
	rc = 0;
	for (size_t i = 0; i < x.n && rc == 0; i++) {
		rc = apply(&c, &x.settings[i]);
	}
	if (rc == 0) {
		rc = check_whole(&c);
	}
	xlcfg_free(&x);
	free(c.extra);
	free(c.root);
	if (rc != 0) {
		domcfg_free(cfg);
	}
	return rc;
}

int domcfg_load(const char *path, struct domcfg *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(FILE_MAX + 1);
	errno = 0;
	n = buf ? fread(buf, 1, FILE_MAX + 1, f) : 0;
	if (!buf || ferror(f) || n > FILE_MAX) {
		/* A directory opens, and says why only when read. */
		snprintf(err, errlen, "%s: %s", path, !buf ? "out of memory" :
			 n > FILE_MAX ? "larger than 1 MiB: not a domain configuration" :
			 errno ? strerror(errno) : "read error");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	rc = domcfg_parse(path, buf, n, cfg, err, errlen);
	free(buf);
	return rc;
}

void domcfg_free(struct domcfg *cfg)
{
	free(cfg->kernel);
	free(cfg->ramdisk);
	free(cfg->cmdline);
	for (size_t i = 0; i < cfg->ndisks; i++) {
		free(cfg->disks[i].target);
	}
	memset(cfg, 0, sizeof(*cfg));
}

const char *domcfg_action_name(enum domcfg_action a)
{
	return a == DOMCFG_DESTROY ? "destroy" : a == DOMCFG_RESTART ? "restart" : "preserve";
}

const char *domcfg_type_name(enum domcfg_type t)
{
	return t == DOMCFG_TYPE_HVM ? "hvm" : "pvh";
}
