/* SPDX-License-Identifier: MIT */
/*
 * tools/config/xlcfg.h - the syntax of Xen's xl.cfg files: KEY = VALUE
 * settings, values that are strings ('..' or ".."), numbers or lists
 * [ .. ] (across lines, trailing comma allowed), # comments, statements
 * ended by a newline or ';'. What the keys mean is domcfg.h's business.
 */
#ifndef KEELCTL_XLCFG_H
#define KEELCTL_XLCFG_H

#include <stddef.h>

enum xlcfg_kind {
	XLCFG_STRING,
	XLCFG_NUMBER,			/* text as written, checked by the reader */
	XLCFG_LIST,			/* of strings and numbers */
};

struct xlcfg_item {
	enum xlcfg_kind kind;		/* XLCFG_STRING or XLCFG_NUMBER */
	char *text;
	int line;
};

struct xlcfg_setting {
	char *key;
	int line;
	enum xlcfg_kind kind;
	char *text;			/* STRING, NUMBER */
	struct xlcfg_item *items;	/* LIST */
	size_t nitems;
};

struct xlcfg {
	struct xlcfg_setting *settings;
	size_t n;
};

/*
 * Parse @len bytes of @text (from a file called @file, for messages). On
 * success returns 0 and fills @out (xlcfg_free() it). On a syntax error
 * returns -1 with "FILE:LINE: what" in @err and @out empty.
 */
int xlcfg_parse(const char *file, const char *text, size_t len, struct xlcfg *out, char *err,
		size_t errlen);
void xlcfg_free(struct xlcfg *cfg);

#endif
