/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/block_common.c - the RAM store, the OS around
 * blkfront and the block pair of block_common.h.
 */
#include <stdlib.h>
#include "block_common.h"

/* --- the RAM store -------------------------------------------------------------------- */

/* Count the call, check its range lies inside the disk (kpv_blk_store's promise). */
static bool store_call(struct tb_store *s, uint64_t sector, uint64_t n)
{
	uint64_t step = harness_steps();

	if (step != s->step) {
		s->step = step;
		s->in_step = 0;
	}
	if (++s->in_step > s->max_in_step) {
		s->max_in_step = s->in_step;
	}
	s->last_sector = sector;
	s->last_sectors = n;
	CU_ASSERT(sector <= s->sectors && n <= s->sectors - sector);
	return !s->fail && sector <= s->sectors && n <= s->sectors - sector;
}

static uint64_t iov_sectors(const struct kpv_blk_iov *iov, unsigned int n)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT(iov[i].len % 512 == 0 && iov[i].len > 0);
		bytes += iov[i].len;
	}
	return bytes / 512;
}

static void s_geometry(void *ctx, struct kpv_blk_geometry *g)
{
	const struct tb_store *s = ctx;

	*g = (struct kpv_blk_geometry){ s->sectors, s->lbs, s->pbs, s->ro };
}

static int s_read(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n)
{
	struct tb_store *s = ctx;
	uint8_t *p = s->data + sector * 512;

	s->reads++;
	if (s->hook) {
		s->hook(s->hook_ctx);
	}
	if (!store_call(s, sector, iov_sectors(iov, n))) {
		return -1;
	}
	for (unsigned int i = 0; i < n; p += iov[i++].len) {
		memcpy(iov[i].base, p, iov[i].len);
	}
	return 0;
}

static int s_write(void *ctx, uint64_t sector, const struct kpv_blk_iov *iov, unsigned int n,
		   bool fua)
{
	struct tb_store *s = ctx;
	uint8_t *p = s->data + sector * 512;

	s->writes++;
	s->fua_writes += fua;
	s->writes_since_flush += !fua;
	if (s->hook) {
		s->hook(s->hook_ctx);
	}
	if (!store_call(s, sector, iov_sectors(iov, n))) {
		return -1;
	}
	for (unsigned int i = 0; i < n; p += iov[i++].len) {
		memcpy(p, iov[i].base, iov[i].len);
	}
	return 0;
}

static int s_flush(void *ctx)
{
	struct tb_store *s = ctx;

	s->flushes++;
	s->writes_since_flush = 0;
	return s->fail ? -1 : 0;
}

/* Discard leaves 0xdd behind: "undefined", and visibly not the old data. */
static int s_discard(void *ctx, uint64_t sector, uint32_t sectors)
{
	struct tb_store *s = ctx;

	s->discards++;
	if (!store_call(s, sector, sectors)) {
		return -1;
	}
	memset(s->data + sector * 512, 0xdd, (size_t)sectors * 512);
	return 0;
}

static int s_zeroes(void *ctx, uint64_t sector, uint32_t sectors)
{
	struct tb_store *s = ctx;

	s->zeroes++;
	if (!store_call(s, sector, sectors)) {
		return -1;
	}
	memset(s->data + sector * 512, 0, (size_t)sectors * 512);
	return 0;
}

/* The store as memory: only sectors inside the disk (and below memory_limit) are asked for. */
static void *s_memory(void *ctx, uint64_t sector, bool write)
{
	struct tb_store *s = ctx;

	s->memory_calls++;
	s->memory_writes += write;
	CU_ASSERT(sector < s->sectors);
	if (s->fail || sector >= s->sectors || sector >= s->memory_limit) {
		return NULL;
	}
	return s->mem[sector / 8] + sector % 8 * 512;
}

/* Byte @a of the disk: in data, or in the backend's pages. */
static uint8_t disk_byte(const struct tb_store *s, uint64_t a)
{
	return s->mem[0] ? s->mem[a / 4096][a % 4096] : s->data[a];
}

const struct kpv_blk_store tb_store_ops = {
	.geometry = s_geometry,
	.read = s_read,
	.write = s_write,
	.flush = s_flush,
	.discard = s_discard,
	.write_zeroes = s_zeroes,
};

static void store_connection(void *ctx, bool up)
{
	struct tb_store *s = ctx;

	s->connects += up;
	s->disconnects += !up;
}

static void store_released(void *ctx)
{
	((struct tb_store *)ctx)->released++;
}

static const struct kpv_blkback_ops store_ops = {
	.connection = store_connection,
	.released = store_released,
};

/* --- the OS around blkfront -------------------------------------------------------------- */

static void os_changed(void *os, const struct kpv_blk_info *info)
{
	struct tb_os *o = os;

	o->info = *info;
	o->changes++;
}

static void os_complete(void *os, struct kpv_blk_req *req, uint16_t status)
{
	struct tb_os *o = os;
	struct tb_io *io = req->os;

	o->completions++;
	io->completions++;
	io->status = status;
}

static void os_released(void *os)
{
	struct tb_os *o = os;

	o->released++;
	o->fe = NULL;
}

static const struct kpv_blkfront_ops os_ops = {
	.changed = os_changed,
	.complete = os_complete,
	.released = os_released,
};

/* --- the pair ------------------------------------------------------------------------------ */

void tb_init(struct tb_pair *b, uint64_t sectors)
{
	memset(b, 0, sizeof(*b));
	t_pair_class(&b->t, KEEL_IO_CLASS_BLOCK);
	b->store.sectors = sectors;
	b->store.data = calloc(sectors ? sectors : 1, 512);
	b->store.lbs = 512;
	b->store.pbs = 4096;
	b->store.memory_limit = sectors;
	CU_ASSERT_PTR_NOT_NULL_FATAL(b->store.data);
	b->ops = tb_store_ops;
	b->bopts = (struct kpv_blkback_opts){
		.features = ~0ull, .max_rings = 4, .max_ring_order = 2, .max_segments = 1024,
		.discard_granularity = 4096, .max_discard_sectors = 1024,
		.max_write_zeroes_sectors = 2048,
	};
	b->fopts = (struct kpv_blkfront_opts){ .features = ~0ull, .queues = 1, .ring_order = 1 };
	harness_use(b->t.fdom);
	for (uint32_t i = 0; i < TB_PAGES; i++) {
		b->buf[i] = kpv_shim_page_alloc();
		CU_ASSERT_PTR_NOT_NULL_FATAL(b->buf[i]);
	}
}

void tb_store_memory_on(struct tb_pair *b)
{
	harness_use(b->t.bdom);
	for (uint32_t i = 0; i < TB_MEM_PAGES; i++) {
		b->store.mem[i] = kpv_shim_page_alloc();
		CU_ASSERT_PTR_NOT_NULL_FATAL(b->store.mem[i]);
	}
	b->store.sectors = b->store.memory_limit = TB_MEM_PAGES * 8;
	b->ops.memory = s_memory;
}

int tb_fe_open(struct tb_pair *b)
{
	harness_use(b->t.fdom);
	b->os.released = 0;
	return kpv_blkfront_open(b->t.fk, &b->t.finfo, &os_ops, &b->os, &b->fopts, &b->os.fe);
}

int tb_be_open(struct tb_pair *b)
{
	harness_use(b->t.bdom);
	b->store.released = 0;
	return kpv_blkback_open(b->t.bk, &b->t.binfo, &b->ops, &b->store, &b->bopts,
				&store_ops, &b->be);
}

bool tb_fe_connected(void *pair)
{
	struct tb_pair *b = pair;
	struct kpv_blk_info info;

	return b->os.fe && kpv_blkfront_info(b->os.fe, &info) == 0;
}

void tb_connect(struct tb_pair *b)
{
	CU_ASSERT_EQUAL_FATAL(tb_fe_open(b), 0);
	CU_ASSERT_EQUAL_FATAL(tb_be_open(b), 0);
	CU_ASSERT_TRUE_FATAL(harness_run(tb_fe_connected, b, 5 * T_SECOND));
	CU_ASSERT_TRUE(b->os.changes > 0);
}

bool tb_fe_released(void *pair)
{
	return ((struct tb_pair *)pair)->os.released > 0;
}

bool tb_be_released(void *pair)
{
	return ((struct tb_pair *)pair)->store.released > 0;
}

void tb_close_fe(struct tb_pair *b, bool removed)
{
	harness_use(b->t.fdom);
	kpv_blkfront_close(b->os.fe, removed);
	CU_ASSERT_TRUE(harness_run(tb_fe_released, b, 30 * T_SECOND));
}

void tb_close_be(struct tb_pair *b, bool removed)
{
	harness_use(b->t.bdom);
	kpv_blkback_close(b->be, removed);
	CU_ASSERT_TRUE(harness_run(tb_be_released, b, 30 * T_SECOND));
	b->be = NULL;
}

void tb_end(struct tb_pair *b, unsigned int how)
{
	bool removed = how & TB_REMOVED;

	if (b->os.fe) {
		tb_close_fe(b, removed);
	}
	if (b->be) {
		tb_close_be(b, removed);
	}
	harness_settle();
	harness_use(b->t.fdom);
	for (uint32_t i = 0; i < TB_PAGES; i++) {
		kpv_shim_page_free(b->buf[i]);
	}
	t_stop(b->t.fdom, b->t.fk);
	t_assert_clean(b->t.fdom, removed ? 0 : 1);	/* a removed device's port goes too */
	if (!(how & TB_BE_GONE)) {
		harness_use(b->t.bdom);
		for (uint32_t i = 0; i < TB_MEM_PAGES; i++) {
			kpv_shim_page_free(b->store.mem[i]);
		}
		t_stop(b->t.bdom, b->t.bk);
	}
	if (!(how & (TB_BE_GONE | TB_BE_CRASHED))) {
		t_assert_clean(b->t.bdom, 0);
	}
	free(b->store.data);
}

void tb_finish(struct tb_pair *b)
{
	tb_end(b, 0);
}

/* --- requests ------------------------------------------------------------------------------ */

void tb_rw(struct tb_pair *b, struct tb_io *io, uint8_t op, uint8_t flags, uint64_t sector,
	   uint32_t page, uint32_t offset, uint32_t bytes, uint32_t seglen)
{
	uint32_t n = 0;

	memset(&io->req, 0, sizeof(io->req));
	io->completions = 0;
	io->status = 0xffff;
	while (bytes) {
		uint32_t len = seglen < bytes ? seglen : bytes;

		if (len > 4096 - offset) {
			len = 4096 - offset;
		}
		CU_ASSERT_FATAL(n < TB_SEGS && page < TB_PAGES);
		io->segs[n++] = (struct kpv_blk_seg){ b->buf[page], (uint16_t)offset,
						      (uint16_t)len };
		bytes -= len;
		offset += len;
		if (offset == 4096) {
			page++;
			offset = 0;
		}
	}
	io->req.op = op;
	io->req.flags = flags;
	io->req.sector = sector;
	io->req.segs = io->segs;
	io->req.nr_segs = n;
	io->req.os = io;
}

void tb_cmd(struct tb_io *io, uint8_t op, uint64_t sector, uint32_t nr_sectors)
{
	memset(&io->req, 0, sizeof(io->req));
	io->completions = 0;
	io->status = 0xffff;
	io->req.op = op;
	io->req.sector = sector;
	io->req.nr_sectors = nr_sectors;
	io->req.os = io;
}

int tb_submit(struct tb_pair *b, struct tb_io *io)
{
	harness_use(b->t.fdom);
	return kpv_blkfront_submit(b->os.fe, &io->req);
}

bool tb_io_done(void *io)
{
	return ((struct tb_io *)io)->completions > 0;
}

struct batch {
	struct tb_io *io;
	uint32_t n;
};

static bool all_done(void *batch)
{
	const struct batch *t = batch;

	for (uint32_t i = 0; i < t->n; i++) {
		if (!t->io[i].completions) {
			return false;
		}
	}
	return true;
}

bool tb_run_all(struct tb_io *io, uint32_t n, uint64_t max_ns)
{
	struct batch t = { io, n };

	return harness_run(all_done, &t, max_ns);
}

uint16_t tb_do(struct tb_pair *b, struct tb_io *io)
{
	io->completions = 0;
	io->status = 0xffff;
	CU_ASSERT_EQUAL_FATAL(tb_submit(b, io), 0);
	CU_ASSERT_TRUE(harness_run(tb_io_done, io, 5 * T_SECOND));
	CU_ASSERT_EQUAL(io->completions, 1);
	return io->status;
}

/* --- data ---------------------------------------------------------------------------------- */

uint8_t tb_byte(uint64_t addr, uint32_t seed)
{
	return (uint8_t)((addr >> 9) * 131u + (addr & 511) * 7u + seed * 29u + 1u);
}

void tb_fill(struct tb_io *io, uint32_t seed)
{
	uint64_t addr = io->req.sector * 512;

	for (uint32_t i = 0; i < io->req.nr_segs; i++) {
		const struct kpv_blk_seg *s = &io->segs[i];

		for (uint32_t k = 0; k < s->length; k++) {
			((uint8_t *)s->page)[s->offset + k] = tb_byte(addr++, seed);
		}
	}
}

bool tb_check(const struct tb_io *io, uint32_t seed)
{
	uint64_t addr = io->req.sector * 512;

	for (uint32_t i = 0; i < io->req.nr_segs; i++) {
		const struct kpv_blk_seg *s = &io->segs[i];

		for (uint32_t k = 0; k < s->length; k++) {
			if (((const uint8_t *)s->page)[s->offset + k] != tb_byte(addr++, seed)) {
				return false;
			}
		}
	}
	return true;
}

bool tb_disk_is(const struct tb_store *s, uint64_t sector, uint64_t n, uint32_t seed)
{
	for (uint64_t a = sector * 512; a < (sector + n) * 512; a++) {
		if (disk_byte(s, a) != tb_byte(a, seed)) {
			return false;
		}
	}
	return true;
}

bool tb_disk_all(const struct tb_store *s, uint64_t sector, uint64_t n, uint8_t v)
{
	for (uint64_t a = sector * 512; a < (sector + n) * 512; a++) {
		if (disk_byte(s, a) != v) {
			return false;
		}
	}
	return true;
}

bool tb_submit_writes(struct tb_pair *b, struct tb_io *io, uint32_t n, uint32_t bytes,
		      uint16_t queues)
{
	for (uint32_t i = 0; i < n; i++) {
		tb_rw(b, &io[i], KEEL_IO_BLOCK_OP_WRITE, 0, (uint64_t)i * (bytes / 512),
		      i * (bytes / 4096), 0, bytes, 4096);
		io[i].req.queue = (uint16_t)(i % queues);
		tb_fill(&io[i], i);
		if (tb_submit(b, &io[i]) != 0) {
			return false;
		}
	}
	return true;
}

bool tb_writes_landed(struct tb_pair *b, struct tb_io *io, uint32_t n, uint32_t bytes)
{
	if (!tb_run_all(io, n, 10 * T_SECOND)) {
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (io[i].completions != 1 || io[i].status != KEEL_IO_BLOCK_S_OK ||
		    !tb_disk_is(&b->store, (uint64_t)i * (bytes / 512), bytes / 512, i)) {
			return false;
		}
	}
	return true;
}

struct kpv_blkfront_stats tb_fe_stats(const struct tb_pair *b)
{
	struct kpv_blkfront_stats s;

	kpv_blkfront_stats(b->os.fe, &s);
	return s;
}
