/* SPDX-License-Identifier: MIT */
/* pvdrivers/core/hcall.c - hypercalls that take a struct by address, through a copy in guest RAM. */
#include "internal.h"

/*
 * Keel reads and writes such a struct at a GPA of the caller's RAM, within
 * one page. The caller's struct may live anywhere (a kernel stack need not
 * be RAM at a GPA the shim knows), so it is copied into a fresh allocation,
 * the call is made with that copy's GPA as the first argument, and the
 * struct is copied back with what Keel wrote.
 */
long kpv_hc_struct(uint64_t nr, void *st, size_t size, uint64_t a1, uint64_t a2)
{
	void *copy = kpv_shim_alloc(size);
	long rc;

	if (!copy) {
		return -KEEL_ENOMEM;
	}
	kpv_memcpy(copy, st, size);
	rc = kpv_hc(nr, kpv_shim_virt_to_gpa(copy), a1, a2);
	kpv_memcpy(st, copy, size);
	kpv_shim_free(copy);
	return rc;
}
