// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_hypercall.c - libFuzzer harness for the hypercall
 * dispatcher: random calls with random arguments from three domains with
 * different capabilities, interleaved with random writes to their RAM (so
 * structs passed by address are random too) and timer ticks.
 *
 * After each input every domain is destroyed, and the harness traps if a
 * page or a heap page did not come back, or if a call returned a value the
 * ABI does not allow (success >= 0, or -1 .. -4095).
 *
 * Run long: build/fuzz-hypercall -max_total_time=3600 build/fuzz-corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keel/bootinfo.h>
#include <keel/domain.h>
#include <keel/heap.h>
#include <keel/hypercall.h>
#include <keel/page_alloc.h>
#include <keel/sched.h>
#include <keel/timer.h>
#include <keel/vcpu.h>
#include <public/keel/control.h>
#include <public/keel/errno.h>
#include <public/keel/hypercall.h>
#include "fake_arch.h"

#define DOMAINS		3
#define RAM_PAGES	64
#define MAX_OPS		96
#define WINDOW_GPA	0xf0000000ull

struct input {
	const uint8_t *data;
	size_t size, pos;
};

static uint8_t next(struct input *in)
{
	return in->pos < in->size ? in->data[in->pos++] : 0;
}

static uint64_t next64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v |= (uint64_t)next(in) << (8 * i);
	}
	return v;
}

/* Numbers worth trying: every one in use, plus neighbours and nonsense. */
static const uint64_t numbers[] = {
	0x000, 0x001, 0x002, 0x003, 0x010, 0x011, 0x012, 0x013, 0x020, 0x021, 0x022,
	0x023, 0x024, 0x030, 0x031, 0x032, 0x033, 0x034, 0x035, 0x036, 0x037, 0x038,
	0x039, 0x03a, 0x03b, 0x050, 0x051, 0x052, 0x053, 0x054, 0x055, 0x060, 0x061,
	0x062, 0x063, 0x070, 0x071, 0x072, 0x073, 0x080, 0x100, 0x101, 0x102, 0x103,
	0x104, 0x105, 0x106, 0x107, 0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x10d, 0x10e,
	0x10f, 0x110, 0x111, 0x112, 0x1ff, 0xfff, 0x1000,
};

static struct domain *doms[DOMAINS];
static bool verbose;		/* FUZZ_VERBOSE=1: print each call (to replay a crash) */

static uint64_t argument(struct input *in)
{
	uint8_t sel = next(in);

	switch (sel % 8) {
	case 0:
		return next(in);			/* small numbers: ports, vCPUs, counts */
	case 1:
		return ((uint64_t)next(in) << 6) % (RAM_PAGES * PAGE_SIZE);	/* RAM, 64-aligned */
	case 2:
		return (((uint64_t)next(in) << 8) | next(in)) % (RAM_PAGES * PAGE_SIZE);
	case 3:
		return doms[next(in) % DOMAINS]->domid;
	case 4:
		return KEEL_DOMID_SELF;
	case 5:
		return WINDOW_GPA + ((uint64_t)next(in) << 12);
	case 6:
		return ((uint64_t)next(in) << 32) | next(in);	/* high bits set */
	default:
		return next64(in);
	}
}

static void setup_once(void)
{
	static bool done;
	struct boot_info *bi;

	if (done) {
		return;
	}
	done = true;
	fake_arch_reset();
	fake_ram_reset();
	bi = calloc(1, sizeof(*bi));
	bi->regions[0] = (struct mem_region){ MiB(1), MiB(63), MEM_USABLE };
	bi->region_count = 1;
	if (!page_alloc_init(bi)) {
		abort();
	}
	free(bi);
	sched_init(1, NULL);
}

static void make_domains(void)
{
	static const uint32_t caps[DOMAINS] = {
		0,
		KEEL_CAP_CONTROL | KEEL_CAP_CONSOLE | KEEL_CAP_LOG,
		KEEL_CAP_BACKEND_CONSOLE | KEEL_CAP_BACKEND_BLOCK | KEEL_CAP_CREATE,
	};
	static const char *names[DOMAINS] = { "plain", "control", "backend" };

	for (int i = 0; i < DOMAINS; i++) {
		struct domain_params p = {
			.name = names[i], .caps = caps[i], .vcpu_count = 1 + (uint32_t)i % 2,
			.max_pages = RAM_PAGES * 2,
		};

		if (domain_create(&p, &doms[i]) != 0 ||
		    guest_memory_populate(doms[i], 0, RAM_PAGES) != 0) {
			abort();
		}
		doms[i]->identified = (i != 0);	/* one starts unidentified */
	}
}

/* The domains the input made with KEEL_HC_CTL_DOMAIN_CREATE go too. */
static void destroy_created(void)
{
	uint32_t ids[DOMAIN_SLOTS];
	unsigned int n = domain_list(ids, DOMAIN_SLOTS);

	for (unsigned int i = 0; i < n; i++) {
		struct domain *d = domain_get(ids[i]);

		if (d) {
			domain_destroy(d);
			domain_put(d);
		}
	}
}

static void check_result(long r)
{
	if (r < 0 && r != HYPERCALL_RESTART && r < -KEEL_ERRNO_MAX) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size, 0 };
	uint64_t free_before;

	setup_once();
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	free_before = page_alloc_free_count();
	make_domains();
	if (verbose) {
		fprintf(stderr, "domains %u %u %u\n", doms[0]->domid, doms[1]->domid, doms[2]->domid);
	}
	for (int op = 0; op < MAX_OPS && in.pos < in.size; op++) {
		uint8_t kind = next(&in);
		struct domain *d = doms[next(&in) % DOMAINS];

		if (kind % 8 < 6) {
			struct vcpu *v = d->vcpus[next(&in) % d->vcpu_count];
			uint8_t pick = next(&in);
			uint64_t nr = pick < 240 ? numbers[pick % (sizeof(numbers) / sizeof(numbers[0]))]
						 : next64(&in);
			uint64_t args[HYPERCALL_ARGS];

			long r;

			for (int i = 0; i < HYPERCALL_ARGS; i++) {
				args[i] = argument(&in);
			}
			r = hypercall_dispatch(v, nr, args);
			if (verbose) {
				fprintf(stderr, "d%u v%u call %#llx (%#llx %#llx %#llx %#llx) = %ld\n",
					d->domid, v->id, (unsigned long long)nr,
					(unsigned long long)args[0], (unsigned long long)args[1],
					(unsigned long long)args[2], (unsigned long long)args[3], r);
			}
			check_result(r);
		} else if (kind % 8 == 6) {
			uint8_t buf[64];
			uint64_t gpa = ((uint64_t)next(&in) << 4) % (RAM_PAGES * PAGE_SIZE);
			size_t len = next(&in) % sizeof(buf);

			for (size_t i = 0; i < len; i++) {
				buf[i] = next(&in);
			}
			if (verbose) {
				fprintf(stderr, "d%u write %zu bytes at %#llx\n", d->domid, len,
					(unsigned long long)gpa);
			}
			guest_copy_to(d, gpa, buf, len);
		} else {
			fake.time_ns += (uint64_t)next(&in) << 16;
			if (verbose) {
				fprintf(stderr, "tick to %llu ns\n", (unsigned long long)fake.time_ns);
			}
			timer_interrupt();
		}
	}
	for (int i = 0; i < DOMAINS; i++) {
		domain_destroy(doms[i]);
		domain_put(doms[i]);
		doms[i] = NULL;
	}
	destroy_created();
	if (page_alloc_free_count() != free_before || heap_page_count() != 0 ||
	    domain_objects() != 0) {
		__builtin_trap();	/* something a guest did leaked Keel memory */
	}
	return 0;
}
