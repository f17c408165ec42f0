/* SPDX-License-Identifier: MIT */
/*
 * tools/tests/env.c - the fake Keel every test shares: the real core in this
 * process, a control domain "ctl" with every capability, libkeelctl on the
 * fake transport, and a temporary directory for configs and images.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <keel/control.h>
#include "fake_keel.h"
#include "fake_transport.h"
#include "tests.h"

/* The temporary directory goes when the tests end (it holds only files). */
static void remove_dir(void)
{
	struct env *e = env_get();
	DIR *d = opendir(e->dir);
	struct dirent *ent;
	char path[512];

	while (d && (ent = readdir(d)) != NULL) {
		if (strcmp(ent->d_name, ".") != 0 && strcmp(ent->d_name, "..") != 0) {
			snprintf(path, sizeof(path), "%s/%s", e->dir, ent->d_name);
			unlink(path);
		}
	}
	if (d) {
		closedir(d);
	}
	rmdir(e->dir);
}

struct env *env_get(void)
{
	static struct env e;
	static bool ready;

	if (ready) {
		return &e;
	}
	e.ctl_dom = fake_keel_domain("ctl", KEEL_CAP_ALL_V1, &e.ctl_domid);
	e.ctl.t = e.ctl_dom ? fake_transport_open(e.ctl_dom) : NULL;
	snprintf(e.dir, sizeof(e.dir), "/tmp/keelctl-tests-XXXXXX");
	if (!e.ctl.t || !mkdtemp(e.dir)) {
		fprintf(stderr, "keelctl-tests: cannot start the fake Keel\n");
		abort();
	}
	ready = true;
	atexit(remove_dir);
	return &e;
}

uint64_t env_free_pages(void)
{
	struct keel_ctl_host_info h;

	/* Through HOST_INFO, as a real toolstack would see it. */
	if (keelctl_host_info(&env_get()->ctl, &h) != 0) {
		return 0;
	}
	return h.free_pages;
}

unsigned int env_domains(void)
{
	return fake_keel_live_domains();
}

void env_clean(void)
{
	struct env *e = env_get();
	uint32_t *ids = NULL;
	long n = keelctl_domain_list_all(&e->ctl, &ids);

	for (long i = 0; i < n; i++) {
		if (ids[i] != e->ctl_domid) {
			(void)keelctl_domain_destroy(&e->ctl, ids[i]);
		}
	}
	free(ids);
}

const char *env_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", env_get()->dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		return NULL;
	}
	return path;
}
