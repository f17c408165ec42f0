/* SPDX-License-Identifier: MIT */
/* core/bootmod.c - names boot modules from their command lines and finds them. */
#include <keel/bootinfo.h>
#include <keel/string.h>

void bootmod_set_cmdline(struct boot_module *mod, const char *cmdline)
{
	size_t len = strnlen(cmdline, BOOT_CMDLINE_MAX - 1);
	const char *word, *end, *base;
	size_t name_len;

	memcpy(mod->cmdline, cmdline, len);
	mod->cmdline[len] = '\0';

	word = mod->cmdline;
	while (*word == ' ') {
		word++;
	}
	end = word;
	while (*end && *end != ' ') {
		end++;
	}
	/* The name is the last path component of the first word. */
	base = word;
	for (const char *p = word; p < end; p++) {
		if (*p == '/') {
			base = p + 1;
		}
	}
	name_len = MIN((size_t)(end - base), (size_t)BOOT_MODNAME_MAX - 1);
	memcpy(mod->name, base, name_len);
	mod->name[name_len] = '\0';
	while (*end == ' ') {
		end++;
	}
	mod->args = end;
}

const struct boot_module *bootmod_find(const struct boot_info *bi,
				       const char *name)
{
	for (unsigned int i = 0; i < bi->module_count; i++) {
		if (strcmp(bi->modules[i].name, name) == 0) {
			return &bi->modules[i];
		}
	}
	return NULL;
}

void bootinfo_reserve(struct boot_info *bi, paddr_t base, uint64_t size,
		      const char *what)
{
	if (size == 0) {
		return;
	}
	if (bi->reserved_count >= BOOT_MAX_RESERVED) {
		/* A boot-path bug, not an input problem: the table is sized for it. */
		return;
	}
	bi->reserved[bi->reserved_count++] = (struct mem_range){ base, size, what };
}
