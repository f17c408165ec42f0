/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/statedir.h - the small state directory keelctl writes for
 * the backend daemon (docs/keelctl.md, "Backends"): one directory per domain
 * name under $KEEL_RUN_DIR (default /run/keel), holding one KEY=VALUE file
 * per served device that needs more than Keel's device table says (the
 * backing file of a disk, the bridge of a vif), and the console socket the
 * daemon makes.
 */
#ifndef KEEL_BACKENDS_STATEDIR_H
#define KEEL_BACKENDS_STATEDIR_H

#include <stddef.h>
#include <stdint.h>

#define KB_STATE_PATH_MAX	256

/* $KEEL_RUN_DIR, or /run/keel. */
const char *kb_state_root(void);

/*
 * ROOT/@name/@file (@file NULL: the directory) into @out; -1 if too long, or
 * if @name is not one path component ("", ".", "..", or holding a '/').
 */
int kb_state_path(char *out, size_t len, const char *name, const char *file);

/*
 * Start domain @name's directory afresh (what an earlier domain of that
 * name left goes) and record @domid. 0, or -1 with errno.
 */
int kb_state_begin(const char *name, uint32_t domid);

/* Write ROOT/@name/@file with @text, atomically (a reader sees all or nothing). 0 or -1. */
int kb_state_put(const char *name, const char *file, const char *text);

/* Remove domain @name's directory and everything in it. 0, or -1 if it stays. */
int kb_state_remove(const char *name);

/*
 * The value of @key in ROOT/@name/@file into @out (NUL-terminated): 0, or -1
 * if the file or key is missing or the value does not fit.
 */
int kb_state_get(const char *name, const char *file, const char *key, char *out, size_t len);

#endif /* KEEL_BACKENDS_STATEDIR_H */
