/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/statedir.c - the state directory keelctl writes and the
 * backend daemon reads (statedir.h): plain files of KEY=VALUE lines, written
 * to a temporary name and renamed into place.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "statedir.h"

const char *kb_state_root(void)
{
	const char *root = getenv("KEEL_RUN_DIR");

	return root && *root ? root : "/run/keel";
}

/*
 * Keel takes any printable name, so a domain keelctl did not create may be
 * called "..": such a name must never reach the file system as a directory.
 */
static int name_is_one_component(const char *name)
{
	return *name && strchr(name, '/') == NULL && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

int kb_state_path(char *out, size_t len, const char *name, const char *file)
{
	int n;

	if (!name_is_one_component(name)) {
		errno = EINVAL;
		return -1;
	}
	n = file ? snprintf(out, len, "%s/%s/%s", kb_state_root(), name, file)
		 : snprintf(out, len, "%s/%s", kb_state_root(), name);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* @path and its missing parents (a minimal system may have no /run yet). */
static int mkdir_all(const char *path)
{
	char p[KB_STATE_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, path, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			if (mkdir_one(p) != 0) {
				return -1;
			}
			*s = '/';
		}
	}
	return mkdir_one(p);
}

int kb_state_begin(const char *name, uint32_t domid)
{
	char path[KB_STATE_PATH_MAX], text[32];

	if (kb_state_remove(name) != 0 || mkdir_all(kb_state_root()) != 0 ||
	    kb_state_path(path, sizeof(path), name, NULL) != 0 || mkdir_one(path) != 0) {
		return -1;
	}
	snprintf(text, sizeof(text), "domid=%u\n", domid);
	return kb_state_put(name, "domain", text);
}

int kb_state_put(const char *name, const char *file, const char *text)
{
	char path[KB_STATE_PATH_MAX], tmp[KB_STATE_PATH_MAX + 8];
	FILE *f;
	int ok;

	if (kb_state_path(path, sizeof(path), name, file) != 0) {
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f) {
		return -1;
	}
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int kb_state_remove(const char *name)
{
	char dir[KB_STATE_PATH_MAX], path[KB_STATE_PATH_MAX * 2];
	struct dirent *e;
	DIR *d;

	if (kb_state_path(dir, sizeof(dir), name, NULL) != 0) {
		return -1;
	}
	d = opendir(dir);
	if (!d) {
		return errno == ENOENT ? 0 : -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}

int kb_state_get(const char *name, const char *file, const char *key, char *out, size_t len)
{
	char path[KB_STATE_PATH_MAX], line[1024];
	size_t klen = strlen(key);
	int rc = -1;
	FILE *f;

	if (kb_state_path(path, sizeof(path), name, file) != 0 || !(f = fopen(path, "r"))) {
		return -1;
	}
	while (rc != 0 && fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == '=' && n - klen - 1 < len) {
			memcpy(out, line + klen + 1, n - klen);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}
