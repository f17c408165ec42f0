/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/harness/harness_priv.h - what the harness's files share.
 *
 * env_keel.c is the only file that sees Keel's internals (it is built with
 * the hypervisor's include path); the others see the keel_pv and public
 * headers. They meet here, in plain C types: struct hdom, and henv_*, the
 * fake hypervisor's side.
 */
#ifndef KPV_HARNESS_PRIV_H
#define KPV_HARNESS_PRIV_H

#include "harness.h"

#define HARNESS_MAX_DOMAINS	8
#define HARNESS_RAM_GFN		0x200ull	/* guest RAM from 2 MiB ... */
#define HARNESS_RAM_PAGES	1024u		/* ... 4 MiB of it */
#define HARNESS_LOG_SIZE	16384

struct kpv;
struct hobj;

enum harness_ctx { CTX_THREAD, CTX_IRQ };

struct hdom {
	char name[32];
	void *keel;			/* Keel's struct domain */
	uint32_t domid;
	uint32_t vcpus;
	bool dead;

	/* Guest RAM (guest_ram.c): page i is GFN HARNESS_RAM_GFN + i. */
	uint8_t *page_va[HARNESS_RAM_PAGES];
	uint8_t page_use[HARNESS_RAM_PAGES];	/* PAGE_* */
	uint32_t alloc_size[HARNESS_RAM_PAGES];
	uint32_t hint;				/* where the next search starts */
	void *scratch;
	uint64_t scratch_gpa;

	/* The shim (shim_hosted.c). */
	struct kpv *kpv;			/* whose upcalls to deliver */
	bool upcall_connected;
	int upcall_mode;
	harness_hook hook;
	void *hook_ctx;
	struct hobj *objs;			/* locks, works, timers: freed with us */
	struct harness_usage usage;
	char log[HARNESS_LOG_SIZE];
	size_t log_len;
};

enum { PAGE_FREE, PAGE_ALLOC, PAGE_WHOLE, PAGE_SCRATCH, PAGE_ASIDE };

/*
 * Shim objects (locks, work items, timers) start with this and are listed
 * per domain, so that they go with it (shim_domain_gone()).
 */
enum hobj_kind { OBJ_LOCK, OBJ_WORK, OBJ_TIMER };

struct hobj {
	enum hobj_kind kind;
	struct hdom *owner;
	struct hobj *next;
};

void hobj_link(struct hobj *o, enum hobj_kind kind, struct hdom *d);
void hobj_unlink(struct hobj *o);

/* The harness's global state (pump.c). */
struct harness {
	struct hdom *doms[HARNESS_MAX_DOMAINS];
	struct hdom *current;
	uint32_t cpu;
	enum harness_ctx ctx;
	unsigned int locks_held;
	uint64_t now;
	uint64_t steps;
	unsigned int violations;
	char last_violation[256];
};
extern struct harness H;

void harness_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run @fn(@arg) as @d on @cpu in @ctx, restoring who was current. */
void harness_run_as(struct hdom *d, uint32_t cpu, enum harness_ctx ctx, void (*fn)(void *),
		    void *arg);

/* guest_ram.c */
void ram_init(struct hdom *d);
void ram_fini(struct hdom *d);
void *ram_alloc(struct hdom *d, size_t size);
void *ram_page_alloc(struct hdom *d);
void ram_free(struct hdom *d, void *p, bool whole_page);
uint64_t ram_gpa(struct hdom *d, const void *va);
/* Views of pages through kpv_shim_map_gpa(): freed pages still viewed are set aside. */
void ram_view_add(struct hdom *viewer, void *page);
bool ram_view_remove(struct hdom *viewer, void *page);
void ram_views_gone(struct hdom *viewer);
void ram_views_reset(void);
/* After Keel freed @d's RAM: keep the pages others view out of its hands. */
void ram_keep_viewed(struct hdom *d);

/* shim_hosted.c: the current domain for shim function @fn (checking the context if @thread_only). */
struct hdom *shim_current(const char *fn, bool thread_only);
void shim_domain_gone(struct hdom *d);
/* pump.c: a domain's work and timers go with it; its armed timers; a fresh start. */
void pump_domain_gone(struct hdom *d);

unsigned int pump_armed(const struct hdom *d);
void pump_reset(void);

/* env_keel.c: the fake hypervisor (the real Keel core on the fake arch). */
void henv_init(void);
void henv_begin(void);
void henv_now(uint64_t ns);
uint64_t henv_free_pages(void);
uint64_t henv_heap_pages(void);
unsigned int henv_domain_count(void);
unsigned int henv_domain_objects(void);
void *henv_domain_create(const char *name, uint32_t vcpus, uint32_t *domid);
void henv_domain_destroy(void *keel);
/*
 * Take @n pages Keel has just freed back from its allocator (0, or -1 if
 * some could not be had), and give one back.
 */
int henv_reserve_pages(void *const *pages, unsigned int n);
void henv_unreserve_page(void *page);
/* Host address of what @keel sees at @gfn (RAM, Keel's page or a grant), or NULL. */
void *henv_gfn_host(void *keel, uint64_t gfn);
long henv_hypercall(void *keel, uint32_t vcpu, uint64_t nr, const uint64_t args[5]);
/* Whether @vcpu has an upcall mode set and its keel_vcpu_info says upcall_pending. */
bool henv_upcall_pending(void *keel, uint32_t vcpu, uint64_t scratch_gpa);
int henv_device_setup(void *front, void *back, uint32_t cls, uint32_t index, uint32_t *id,
		      uint32_t *port);
int henv_device_remove(uint32_t id);
void *henv_device_page(uint32_t id);
int henv_port_state(void *keel, uint32_t port);
unsigned int henv_ports_in_use(void *keel);
unsigned int henv_grants(void *keel, bool busy);
unsigned int henv_foreign_maps(void *keel);
void henv_map_window(uint64_t *gfn, uint64_t *pages);

#endif
