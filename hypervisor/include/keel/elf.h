/* SPDX-License-Identifier: MIT */
/*
 * keel/elf.h - the ELF parser for guest kernels. It lives in bootproto/
 * (bootproto/elf.c), shared with the toolstack's domain builder so that a
 * kernel keelctl starts is read exactly as one Keel starts at boot.
 */
#ifndef KEEL_ELF_H
#define KEEL_ELF_H

#include <bootproto/elf.h>

#endif
