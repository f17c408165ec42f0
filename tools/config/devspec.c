/* SPDX-License-Identifier: MIT */
/*
 * tools/config/devspec.c - xl's disk and vif specifications, the subset
 * Keel's backends serve: raw images and block devices; NICs with a MAC and
 * a bridge. Anything else is refused by name, not ignored.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domcfg.h"

static int spec_error(char *err, size_t errlen, const char *where, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", where);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Copy [s, s + n) without surrounding blanks into a new string. */
static char *trimmed(const char *s, size_t n)
{
	char *d;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
		n--;
	}
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *const formats[] = { "raw", "qcow", "qcow2", "vhd", "qed", "empty", NULL };

static int is_format(const char *s)
{
	for (int i = 0; formats[i]; i++) {
		if (strcmp(s, formats[i]) == 0) {
			return 1;
		}
	}
	return 0;
}

static int vdev_ok(const char *v)
{
	size_t n = strlen(v), i = 0;

	if (n == 0 || n >= DOMCFG_LABEL_MAX) {
		return 0;
	}
	if (starts(v, "xvd") || starts(v, "vd")) {
		i = v[0] == 'x' ? 3 : 2;
	} else if (starts(v, "hd") || starts(v, "sd")) {
		i = 2;
	} else {
		return 0;
	}
	if (i == n) {
		return 0;
	}
	for (; i < n; i++) {
		if (v[i] < 'a' || v[i] > 'z') {
			return 0;
		}
	}
	return 1;
}

struct disk_parts {
	char *target, *format, *vdev, *access;
};

static int disk_value(struct disk_parts *p, const char *key, const char *val, const char *spec,
		      const char *where, char *err, size_t errlen)
{
	char **slot = strcmp(key, "format") == 0 ? &p->format :
		      strcmp(key, "vdev") == 0 ? &p->vdev :
		      strcmp(key, "access") == 0 ? &p->access : NULL;

	if (strcmp(key, "devtype") == 0) {
		return strcmp(val, "disk") == 0 ? 0 :
		       spec_error(err, errlen, where, "disk '%s': devtype '%s' is not supported "
				  "(Keel serves disks only)", spec, val);
	}
	if (!slot) {
		return spec_error(err, errlen, where, "disk '%s': unknown parameter '%s'", spec, key);
	}
	if (*slot) {
		return spec_error(err, errlen, where, "disk '%s': '%s' given twice", spec, key);
	}
	*slot = strdup(val);
	return *slot ? 0 : spec_error(err, errlen, where, "out of memory");
}

/* A positional value: target, then format (if it is one), vdev, access. */
static int disk_positional(struct disk_parts *p, int *pos, const char *val, const char *spec,
			   const char *where, char *err, size_t errlen)
{
	static const char *const order[] = { "target", "format", "vdev", "access" };

	if (*pos == 1 && !is_format(val)) {
		*pos = 2;	/* "PATH,xvda,rw": xl's form without the format */
	}
	if (*pos == 0) {
		(*pos)++;
		if (p->target) {
			return spec_error(err, errlen, where, "disk '%s': 'target' given twice", spec);
		}
		p->target = strdup(val);
		return p->target ? 0 : spec_error(err, errlen, where, "out of memory");
	}
	if (*pos > 3) {
		return spec_error(err, errlen, where, "disk '%s': too many positional values", spec);
	}
	return disk_value(p, order[(*pos)++], val, spec, where, err, errlen);
}

static int disk_split(const char *spec, struct disk_parts *p, const char *where, char *err,
		      size_t errlen)
{
	const char *s = spec;
	int pos = 0, rc = 0;

	while (rc == 0 && *s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char *item = trimmed(s, n);
		char *eq = item ? strchr(item, '=') : NULL;

		if (!item) {
			return spec_error(err, errlen, where, "out of memory");
		}
		if (eq && strncmp(item, "target=", 7) == 0) {
			/* target= takes the rest of the spec, commas included (as xl). */
			free(item);
			item = trimmed(s, strlen(s));
			if (!item) {
				return spec_error(err, errlen, where, "out of memory");
			}
			comma = NULL;
			if (p->target) {
				rc = spec_error(err, errlen, where, "disk '%s': 'target' given twice", spec);
			} else {
				p->target = strdup(item + 7);
			}
		} else if (eq) {
			*eq = 0;
			rc = disk_value(p, item, eq + 1, spec, where, err, errlen);
		} else if (*item) {
			rc = disk_positional(p, &pos, item, spec, where, err, errlen);
		}
		free(item);
		s = comma ? comma + 1 : s + strlen(s);
	}
	return rc;
}

/* "phy:", "file:" and other xl target prefixes; the format ones set the format. */
static int strip_prefix(struct disk_parts *p, const char *spec, const char *where, char *err,
			size_t errlen)
{
	static const char *const raw_prefixes[] = { "phy:", "file:", "aio:", "tap:aio:", "raw:",
						    NULL };

	for (int i = 0; p->target && raw_prefixes[i]; i++) {
		if (starts(p->target, raw_prefixes[i])) {
			memmove(p->target, p->target + strlen(raw_prefixes[i]),
				strlen(p->target) - strlen(raw_prefixes[i]) + 1);
			return 0;
		}
	}
	if (p->target && (starts(p->target, "qcow2:") || starts(p->target, "vhd:") ||
			  starts(p->target, "tap:"))) {
		return spec_error(err, errlen, where, "disk '%s': only raw images are supported",
				  spec);
	}
	return 0;
}

static int disk_check(struct disk_parts *p, struct domcfg_disk *d, const char *spec,
		      const char *where, char *err, size_t errlen)
{
	if (p->format && strcmp(p->format, "raw") != 0) {
		return spec_error(err, errlen, where, "disk '%s': format '%s' is not supported "
				  "(Keel's block backend serves raw images only)", spec, p->format);
	}
	if (!p->target || !*p->target) {
		return spec_error(err, errlen, where, "disk '%s': no target (image path)", spec);
	}
	if (!p->vdev) {
		return spec_error(err, errlen, where, "disk '%s': no vdev (e.g. vdev=xvda)", spec);
	}
	if (!vdev_ok(p->vdev)) {
		return spec_error(err, errlen, where, "disk '%s': vdev '%s' is not a disk name "
				  "(xvdX, hdX, sdX, vdX)", spec, p->vdev);
	}
	if (p->access && strcmp(p->access, "rw") != 0 && strcmp(p->access, "w") != 0 &&
	    strcmp(p->access, "ro") != 0 && strcmp(p->access, "r") != 0) {
		return spec_error(err, errlen, where, "disk '%s': access '%s' is not rw or ro", spec,
				  p->access);
	}
	d->readonly = p->access && p->access[strlen(p->access) - 1] != 'w';
	snprintf(d->vdev, sizeof(d->vdev), "%s", p->vdev);
	d->target = p->target;
	p->target = NULL;
	return 0;
}

int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, const char *where, char *err,
		      size_t errlen)
{
	struct disk_parts p = { 0 };
	int rc = disk_split(spec, &p, where, err, errlen);

	if (rc == 0) {
		rc = strip_prefix(&p, spec, where, err, errlen);
	}
	if (rc == 0) {
		rc = disk_check(&p, d, spec, where, err, errlen);
	}
	free(p.target);
	free(p.format);
	free(p.vdev);
	free(p.access);
	return rc;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

		if (hi < 0 || lo < 0 || (i < 5 ? s[2] != ':' : s[2] != 0)) {
			return -1;
		}
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 3;
	}
	return 0;
}

/*
 * A network interface name as Linux takes one (dev_valid_name): 1..15
 * bytes, not "." or "..", no '/', ':', blank or control character. It is
 * also one line of the backend's state file.
 */
static int ifname_ok(const char *s, size_t size)
{
	size_t n = strlen(s);

	if (n == 0 || n >= size || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f || ch == '/' || ch == ':') {
			return 0;
		}
	}
	return 1;
}

static int vif_item(struct domcfg_vif *v, char *item, const char *spec, const char *where,
		    char *err, size_t errlen)
{
	char *eq = strchr(item, '=');
	const char *val;

	if (!eq) {
		return spec_error(err, errlen, where, "vif '%s': '%s' is not KEY=VALUE", spec, item);
	}
	*eq = 0;
	val = eq + 1;
	if (strcmp(item, "mac") == 0) {
		if (parse_mac(val, v->mac) != 0) {
			return spec_error(err, errlen, where, "vif '%s': mac '%s' is not "
					  "xx:xx:xx:xx:xx:xx", spec, val);
		}
		if (v->mac[0] & 1) {
			return spec_error(err, errlen, where, "vif '%s': mac '%s' is a multicast "
					  "address", spec, val);
		}
		v->mac_set = true;
		return 0;
	}
	if (strcmp(item, "bridge") == 0) {
		if (!ifname_ok(val, sizeof(v->bridge))) {
			return spec_error(err, errlen, where, "vif '%s': bridge '%s' is not an "
					  "interface name", spec, val);
		}
		snprintf(v->bridge, sizeof(v->bridge), "%s", val);
		return 0;
	}
	return spec_error(err, errlen, where, "vif '%s': unknown or unsupported parameter '%s' "
			  "(keelctl knows mac= and bridge=)", spec, item);
}

int domcfg_parse_vif(const char *spec, struct domcfg_vif *v, const char *where, char *err,
		     size_t errlen)
{
	const char *s = spec;
	int rc = 0;

	memset(v, 0, sizeof(*v));
	while (rc == 0 && *s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char *item = trimmed(s, n);

		if (!item) {
			return spec_error(err, errlen, where, "out of memory");
		}
		if (*item) {
			rc = vif_item(v, item, spec, where, err, errlen);
		}
		free(item);
		s = comma ? comma + 1 : s + n;
	}
	return rc;
}
