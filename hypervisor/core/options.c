/* SPDX-License-Identifier: MIT */
/* core/options.c - parses the hypervisor command line into struct keel_options. */
#include <keel/log.h>
#include <keel/options.h>
#include <keel/string.h>

struct keel_options options = {
	.log_level = LOG_INFO,
	.probe_guest = "probe-guest.elf",
};

static bool copy_value(char *dst, const char *src, size_t len)
{
	if (len == 0 || len >= OPTION_VALUE_MAX) {
		return false;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

static bool parse_bool(const char *v, size_t len, bool *out)
{
	if ((len == 1 && v[0] == '1') || (len == 3 && !strncmp(v, "yes", 3)) ||
	    (len == 2 && !strncmp(v, "on", 2))) {
		*out = true;
		return true;
	}
	if ((len == 1 && v[0] == '0') || (len == 2 && !strncmp(v, "no", 2)) ||
	    (len == 3 && !strncmp(v, "off", 3))) {
		*out = false;
		return true;
	}
	return false;
}

static const char *find_equals(const char *word, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (word[i] == '=') {
			return word + i;
		}
	}
	return NULL;
}

/* Apply one key=value; false if the key is unknown or the value bad. */
static bool apply(const char *key, size_t key_len, const char *v, size_t len)
{
	char tmp[OPTION_VALUE_MAX];

#define KEY_IS(k) (key_len == sizeof(k) - 1 && !strncmp(key, k, key_len))
	if (KEY_IS("loglevel")) {
		return copy_value(tmp, v, len) && log_level_parse(tmp, &options.log_level);
	}
	if (KEY_IS("probe_guest")) {
		return copy_value(options.probe_guest, v, len);
	}
	if (KEY_IS("qemu_exit")) {
		return parse_bool(v, len, &options.qemu_exit);
	}
	if (KEY_IS("crash_test")) {
		return copy_value(options.crash_test, v, len);
	}
	if (KEY_IS("exit_stats")) {
		return parse_bool(v, len, &options.exit_stats);
	}
#undef KEY_IS
	return false;
}

unsigned int options_parse(const char *cmdline)
{
	unsigned int problems = 0;
	bool first = true;
	const char *p = cmdline;

	while (*p) {
		const char *word, *eq;
		size_t len;

		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (!*p) {
			break;
		}
		word = p;
		while (*p && *p != ' ' && *p != '\t') {
			p++;
		}
		len = (size_t)(p - word);
		eq = find_equals(word, len);
		if (!eq) {
			if (!first) {
				log_warn("command line: ignoring '%.*s' (expected key=value)",
					 (int)len, word);
				problems++;
			}
		} else if (!apply(word, (size_t)(eq - word), eq + 1,
				  len - (size_t)(eq - word) - 1)) {
			log_warn("command line: ignoring '%.*s' (unknown key or bad value)",
				 (int)len, word);
			problems++;
		}
		first = false;
	}
	return problems;
}
