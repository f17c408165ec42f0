/* SPDX-License-Identifier: MIT */
/*
 * tools/config/cfgpath.c - turning a path written in a configuration file
 * into the absolute path keelctl and the backend daemon use (cfgpath.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cfgpath.h"

#define TEXT_OF(x)	#x
#define NUMBER_TEXT(x)	TEXT_OF(x)

static bool has_control_char(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			return true;
		}
	}
	return false;
}

/* The directory @cfg_path is in, absolute and ending with '/', malloc()ed. */
static char *config_dir(const char *cfg_path, const char **why)
{
	const char *slash = strrchr(cfg_path, '/');
	size_t dirlen = slash ? (size_t)(slash - cfg_path) + 1 : 0;
	char cwd[4096] = "";
	size_t cwdlen = 0;
	char *dir;

	if (cfg_path[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd))) {
			*why = "cannot be made absolute: the current directory is unknown";
			return NULL;
		}
		cwdlen = strlen(cwd);
		if (cwd[cwdlen - 1] != '/') {
			cwd[cwdlen++] = '/';
		}
	}
	dir = malloc(cwdlen + dirlen + 1);
	if (!dir) {
		*why = "cannot be stored: out of memory";
		return NULL;
	}
	memcpy(dir, cwd, cwdlen);
	memcpy(dir + cwdlen, cfg_path, dirlen);
	dir[cwdlen + dirlen] = '\0';
	return dir;
}

char *cfgpath_resolve(const char *cfg_path, const char *value, const char **why)
{
	char *dir = NULL, *out;
	size_t dirlen = 0, n;

	if (!*value) {
		*why = "is empty";
		return NULL;
	}
	if (has_control_char(value)) {
		*why = "holds a control character";
		return NULL;
	}
	if (value[0] != '/') {
		dir = config_dir(cfg_path, why);
		if (!dir) {
			return NULL;
		}
		dirlen = strlen(dir);
	}
	n = dirlen + strlen(value);
	if (n > CFGPATH_MAX) {
		free(dir);
		*why = "is longer than " NUMBER_TEXT(CFGPATH_MAX) " bytes once made absolute";
		return NULL;
	}
	out = malloc(n + 1);
	if (!out) {
		free(dir);
		*why = "cannot be stored: out of memory";
		return NULL;
	}
	memcpy(out, dir ? dir : "", dirlen);
	strcpy(out + dirlen, value);
	free(dir);
	return out;
}
