/* SPDX-License-Identifier: MIT */
/*
 * tools/config/cfgpath.h - the paths of a domain configuration (kernel,
 * ramdisk, disk targets): resolved against the configuration file's
 * directory and made absolute, so the monitor's restarts and the backend
 * daemon (which run elsewhere) find the same files.
 */
#ifndef KEELCTL_CFGPATH_H
#define KEELCTL_CFGPATH_H

#include <stddef.h>

/*
 * The longest resolved path keelctl accepts, in bytes without the NUL: it
 * must fit one line of the backend daemon's state files with room to spare
 * (statedir.c reads lines of 1024 bytes, block.c keeps 1024-byte targets).
 */
#define CFGPATH_MAX	1000

/*
 * @value as written in the configuration file @cfg_path: an absolute path
 * is kept, a relative one is joined to the file's directory (itself made
 * absolute with the current directory when @cfg_path is relative). Returns
 * a malloc()ed path, or NULL with the reason in *@why: empty, a control
 * character (it would break the state files' lines), longer than
 * CFGPATH_MAX, or no current directory or memory. *@why completes "KEY ...".
 */
char *cfgpath_resolve(const char *cfg_path, const char *value, const char **why);

#endif
