/* SPDX-License-Identifier: MIT */
/*
 * svm/guest_walk.c - walks a guest's page tables in guest memory.
 *
 * Every table entry is read with guest_copy_from(), so a guest whose CR3 or
 * entries point outside its RAM gets WALK_BAD_TABLE, never a Keel access
 * to memory it does not own. Accessed/dirty bits are not set: Keel only
 * reads instructions and does string I/O for the guest, which the guest's
 * own retry would set anyway.
 */
#include <x86/cpu.h>
#include <x86/guest_walk.h>
#include <x86/msr.h>

#define PTE_P		(1ull << 0)
#define PTE_W		(1ull << 1)
#define PTE_U		(1ull << 2)
#define PTE_PS		(1ull << 7)
#define PTE_NX		(1ull << 63)
#define PTE_ADDR	0x000ffffffffff000ull
#define CR4_PSE		(1ull << 4)
#define CR4_SMEP	(1ull << 20)

#define PF_P		(1u << 0)
#define PF_W		(1u << 1)
#define PF_U		(1u << 2)
#define PF_I		(1u << 4)

static bool read_entry(struct domain *d, uint64_t gpa, bool wide, uint64_t *e)
{
	if (wide) {
		return guest_copy_from(d, gpa, e, 8) == 0;
	}
	uint32_t v;

	if (guest_copy_from(d, gpa, &v, 4) != 0) {
		return false;
	}
	*e = v;
	return true;
}

static uint32_t fault_code(unsigned int flags, bool present)
{
	return (present ? PF_P : 0) | ((flags & WALK_WRITE) ? PF_W : 0) |
	       ((flags & WALK_USER) ? PF_U : 0) | ((flags & WALK_FETCH) ? PF_I : 0);
}

int guest_walk(struct domain *d, const struct guest_paging *pg, uint64_t linear,
	       unsigned int flags, uint64_t *gpa, uint32_t *pf_error)
{
	bool long_mode = pg->efer & EFER_LMA;
	bool pae = pg->cr4 & CR4_PAE;
	bool wide = long_mode || pae;
	bool nx_on = pg->efer & EFER_NXE;
	bool writable = true, user = true, exec = true;
	int levels;
	uint64_t table;

	if (!(pg->cr0 & CR0_PG)) {
		*gpa = long_mode ? linear : (linear & 0xffffffffu);
		return WALK_OK;
	}
	if (long_mode) {
		levels = 4;
		table = pg->cr3 & PTE_ADDR;
	} else if (pae) {
		uint64_t pdpte;

		linear &= 0xffffffffu;
		if (!read_entry(d, (pg->cr3 & 0xffffffe0u) + ((linear >> 30) & 3) * 8, true, &pdpte)) {
			return WALK_BAD_TABLE;
		}
		if (!(pdpte & PTE_P)) {
			*pf_error = fault_code(flags, false);
			return WALK_FAULT;
		}
		levels = 2;
		table = pdpte & PTE_ADDR;
	} else {
		linear &= 0xffffffffu;
		levels = 2;
		table = pg->cr3 & 0xfffff000u;
	}

	for (int level = levels; level >= 1; level--) {
		unsigned int shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
		unsigned int index = wide ? (linear >> shift) & 511 : (linear >> shift) & 1023;
		uint64_t e;

		if (!read_entry(d, table + index * (wide ? 8 : 4), wide, &e)) {
			return WALK_BAD_TABLE;
		}
		if (!(e & PTE_P)) {
			*pf_error = fault_code(flags, false);
			return WALK_FAULT;
		}
		writable &= !!(e & PTE_W);
		user &= !!(e & PTE_U);
		if (wide && nx_on && (e & PTE_NX)) {
			exec = false;
		}
		/* A large page: 1 GiB (long mode level 3), 2 MiB or 4 MiB (level 2). */
		if (level > 1 && (e & PTE_PS) && (level == 2 || (long_mode && level == 3)) &&
		    (wide || (pg->cr4 & CR4_PSE))) {
			uint64_t size = 1ull << shift;
			uint64_t base = wide ? (e & PTE_ADDR & ~(size - 1))
					     : ((e & 0xffc00000u) | ((e & 0x1fe000ull) << 19));

			table = base;
			linear &= size - 1;
			*gpa = base + linear;
			goto check;
		}
		table = e & PTE_ADDR;
		if (!wide) {
			table &= 0xfffff000u;
		}
	}
	*gpa = table + (linear & 0xfff);
check:
	if (((flags & WALK_WRITE) && !writable && ((flags & WALK_USER) || (pg->cr0 & CR0_WP))) ||
	    ((flags & WALK_USER) && !user) || ((flags & WALK_FETCH) && !exec) ||
	    ((flags & WALK_FETCH) && user && !(flags & WALK_USER) && (pg->cr4 & CR4_SMEP))) {
		*pf_error = fault_code(flags, true);
		return WALK_FAULT;
	}
	return WALK_OK;
}

size_t guest_read_linear(struct domain *d, const struct guest_paging *pg, uint64_t linear,
			 void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;

	while (done < len) {
		uint64_t gpa;
		uint32_t err;
		size_t chunk = MIN(len - done, PAGE_SIZE - ((linear + done) & (PAGE_SIZE - 1)));

		if (guest_walk(d, pg, linear + done, WALK_FETCH, &gpa, &err) != WALK_OK ||
		    guest_copy_from(d, gpa, out + done, chunk) != 0) {
			break;
		}
		done += chunk;
	}
	return done;
}
