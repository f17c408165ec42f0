/* SPDX-License-Identifier: MIT */
/*
 * tests/conformance/tests/net_common.c - the recording "OS" around netfront
 * and netback, checkable frames, the switch domain with its frontends, and
 * net-class pairs (net_common.h).
 */
#include <stdlib.h>
#include "net_common.h"

const uint8_t tn_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Packets in flight, per frontend: their pages, freed by tx_done(). */
struct tn_tx {
	struct tnf *f;
	void *pages[KEEL_IO_NET_MAX_FRAGS];
	uint32_t n;
	bool used;
};

static struct tn_tx tx_slots[1024];

bool tn_nonzero(void *count)
{
	return *(unsigned int *)count != 0;
}

/* --- frames ------------------------------------------------------------------------- */

void tn_frame(uint8_t *buf, uint32_t len, const uint8_t *dst, const uint8_t *src, uint32_t seed)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = TN_ETHERTYPE >> 8;
	buf[13] = TN_ETHERTYPE & 0xff;
	for (uint32_t i = 14; i < len; i++) {
		buf[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8) + (seed >> 8));
	}
}

static void pkt_keep(struct tn_pkt *out, const uint8_t *data, uint32_t len,
		     const struct kpv_net_meta *meta)
{
	out->data = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out->data);
	memcpy(out->data, data, len);
	out->len = len;
	out->meta = *meta;
}

/* --- a frontend's OS ------------------------------------------------------------------ */

static void fe_up(void *os, const struct kpv_net_link *link)
{
	struct tnf *f = os;

	f->ups++;
	f->is_up = true;
	f->link = *link;
	f->link_up = link->up;
}

static void fe_down(void *os)
{
	struct tnf *f = os;

	f->downs++;
	f->is_up = false;
}

static void fe_link(void *os, bool up)
{
	struct tnf *f = os;

	f->links++;
	f->link_up = up;
}

static void fe_tx_done(void *os, void *cookie, enum kpv_net_status status)
{
	struct tnf *f = os;
	struct tn_tx *t = cookie;

	CU_ASSERT_PTR_EQUAL(t->f, f);
	for (uint32_t i = 0; i < t->n; i++) {
		kpv_shim_page_free(t->pages[i]);
	}
	t->used = false;
	if (status == KPV_NET_OK) {
		f->tx_ok++;
	} else {
		f->tx_dropped++;
	}
}

static bool fe_rx(void *os, const struct kpv_net_rx *pkt)
{
	struct tnf *f = os;
	uint8_t *data = malloc(pkt->len ? pkt->len : 1);
	uint32_t at = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	for (uint32_t i = 0; i < pkt->nr_frags; i++) {
		memcpy(data + at, pkt->frags[i].va, pkt->frags[i].len);
		at += pkt->frags[i].len;
	}
	CU_ASSERT_EQUAL(at, pkt->len);
	if (f->nr_rx < TN_RX_MAX) {
		struct tn_pkt *p = &f->rx[f->nr_rx];

		pkt_keep(p, data, pkt->len, &pkt->meta);
		p->nr_frags = pkt->nr_frags;
		p->queue = pkt->queue;
	}
	free(data);
	f->nr_rx++;
	if (!f->keep) {
		return false;
	}
	for (uint32_t i = 0; i < pkt->nr_frags; i++) {
		CU_ASSERT_FATAL(f->nr_kept < sizeof(f->kept) / sizeof(f->kept[0]));
		f->kept[f->nr_kept++] = pkt->frags[i].buf;
	}
	return true;
}

static void fe_released(void *os)
{
	struct tnf *f = os;

	f->released++;
	f->nf = NULL;
}

const struct kpv_netfront_ops tnf_ops = {
	.up = fe_up,
	.down = fe_down,
	.link = fe_link,
	.tx_done = fe_tx_done,
	.rx = fe_rx,
	.released = fe_released,
};

int tnf_open(struct tnf *f)
{
	harness_use(f->dom);
	f->released = 0;
	return kpv_netfront_open(f->k, &f->info, &f->cfg, &tnf_ops, f, &f->nf);
}

static struct tn_tx *tx_slot(struct tnf *f)
{
	for (size_t i = 0; i < sizeof(tx_slots) / sizeof(tx_slots[0]); i++) {
		if (!tx_slots[i].used) {
			tx_slots[i] = (struct tn_tx){ .f = f, .used = true };
			return &tx_slots[i];
		}
	}
	CU_FAIL_FATAL("out of tx slots");
	return NULL;
}

int tnf_send(struct tnf *f, const uint8_t *data, uint32_t len, uint32_t frags,
	     const struct kpv_net_meta *meta, uint32_t queue)
{
	static const struct kpv_net_meta none;
	struct kpv_net_tx t = { .nr_frags = frags, .meta = meta ? *meta : none, .queue = queue };
	struct tn_tx *slot = tx_slot(f);
	uint32_t at = 0;
	int rc;

	harness_use(f->dom);
	t.cookie = slot;
	for (uint32_t i = 0; i < frags && i < KEEL_IO_NET_MAX_FRAGS; i++) {
		uint32_t n = len / frags + (i < len % frags), room = KPV_PAGE_SIZE - n + 1;
		uint32_t off = room ? (i * 97u + len) % room : 0;
		uint8_t *page = kpv_shim_page_alloc();

		CU_ASSERT_PTR_NOT_NULL_FATAL(page);
		slot->pages[slot->n++] = page;
		memcpy(page + off, data + at, n);
		t.frags[i] = (struct kpv_net_frag){ .va = page + off, .len = n };
		at += n;
	}
	rc = kpv_netfront_send(f->nf, &t);
	if (rc != 0) {
		for (uint32_t i = 0; i < slot->n; i++) {
			kpv_shim_page_free(slot->pages[i]);
		}
		slot->used = false;
	} else {
		f->sent++;
	}
	return rc;
}

void tnf_send_frame(struct tnf *f, const uint8_t *dst, uint32_t len, uint32_t frags,
		    uint32_t seed)
{
	uint8_t *buf = malloc(len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	tn_frame(buf, len, dst, f->link.mac, seed);
	CU_ASSERT_EQUAL(tnf_send(f, buf, len, frags, NULL, seed), 0);
	free(buf);
}

void tnf_return_all(struct tnf *f)
{
	harness_use(f->dom);
	for (uint32_t i = 0; i < f->nr_kept; i++) {
		kpv_netfront_rx_return(f->nf, f->kept[i]);
	}
	f->nr_kept = 0;
}

bool tnf_rx_is(const struct tnf *f, uint32_t i, uint32_t len, const uint8_t *dst,
	       const uint8_t *src, uint32_t seed)
{
	uint8_t *want;
	bool same;

	if (i >= f->nr_rx || i >= TN_RX_MAX || f->rx[i].len != len) {
		return false;
	}
	want = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	tn_frame(want, len, dst, src, seed);
	same = memcmp(want, f->rx[i].data, len) == 0;
	free(want);
	return same;
}

void tnf_forget_rx(struct tnf *f)
{
	for (uint32_t i = 0; i < f->nr_rx && i < TN_RX_MAX; i++) {
		free(f->rx[i].data);
		f->rx[i].data = NULL;
	}
	f->nr_rx = 0;
}

void tnf_close(struct tnf *f)
{
	if (f->nf) {
		tnf_return_all(f);
		harness_use(f->dom);
		CU_ASSERT_EQUAL(kpv_netfront_close(f->nf, false), 0);
		CU_ASSERT_TRUE(harness_run(tn_nonzero, &f->released, 30 * T_SECOND));
	}
	tnf_forget_rx(f);
}

/* --- a backend's OS -------------------------------------------------------------------- */

static enum kpv_net_status be_deliver(void *os, struct kpv_net_pkt *pkt)
{
	struct tnb *b = os;
	uint8_t *data;

	if (b->sw) {
		kpv_net_switch_input(b->sw, b->port, pkt);
		return KPV_NET_OK;
	}
	if (b->verdict == KPV_NET_OK && b->nr_got < TN_RX_MAX) {
		data = malloc(pkt->len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(data);
		kpv_net_pkt_read(pkt, 0, data, pkt->len);
		pkt_keep(&b->got[b->nr_got], data, pkt->len, &pkt->meta);
		free(data);
	}
	b->nr_got += b->verdict == KPV_NET_OK;
	return b->verdict;
}

static void be_state(void *os, bool connected)
{
	struct tnb *b = os;

	if (connected) {
		b->connects++;
	} else {
		b->disconnects++;
	}
}

static void be_released(void *os)
{
	struct tnb *b = os;

	b->released++;
	b->nb = NULL;
}

const struct kpv_netback_ops tnb_ops = {
	.deliver = be_deliver,
	.state = be_state,
	.released = be_released,
};

int tnb_open(struct tnb *b)
{
	int rc;

	harness_use(b->dom);
	b->released = 0;
	rc = kpv_netback_open(b->k, &b->info, &b->cfg, &tnb_ops, b, &b->nb);
	if (rc == 0 && b->sw) {
		CU_ASSERT_EQUAL(kpv_net_switch_attach(b->sw, kpv_netback_port, b->nb, &b->port), 0);
	}
	return rc;
}

void tnb_close(struct tnb *b)
{
	if (b->nb) {
		harness_use(b->dom);
		if (b->sw) {
			kpv_net_switch_detach(b->sw, b->port);
		}
		kpv_netback_close(b->nb, false);
		CU_ASSERT_TRUE(harness_run(tn_nonzero, &b->released, 30 * T_SECOND));
	}
	for (uint32_t i = 0; i < b->nr_got && i < TN_RX_MAX; i++) {
		free(b->got[i].data);
		b->got[i].data = NULL;
	}
	b->nr_got = 0;
}

int tnb_receive(struct tnb *b, const uint8_t *data, uint32_t len, const struct kpv_net_meta *meta)
{
	struct kpv_net_pkt *pkt;
	int rc;

	harness_use(b->dom);
	pkt = kpv_net_pkt_alloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pkt);
	kpv_net_pkt_write(pkt, 0, data, len);
	if (meta) {
		pkt->meta = *meta;
	}
	rc = kpv_netback_receive(b->nb, pkt);
	kpv_net_pkt_put(pkt);
	return rc;
}

/* --- a switch domain and its frontends -------------------------------------------------- */

void tnet_init(struct tnet *t, uint32_t n)
{
	static const char *names[TN_MAX_FE] = { "net-a", "net-b", "net-c", "net-d" };

	memset(t, 0, sizeof(*t));
	t->n = n;
	t->swdom = harness_domain("switch", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->swdom);
	t->swk = t_start(t->swdom);
	t->sw = kpv_net_switch_create(n, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->sw);
	for (uint32_t i = 0; i < n; i++) {
		struct tnf *f = &t->fe[i];
		struct tnb *b = &t->be[i];
		uint32_t port;

		f->dom = harness_domain(names[i], 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(f->dom);
		CU_ASSERT_EQUAL_FATAL(harness_device_setup(f->dom, t->swdom, KEEL_IO_CLASS_NET, 0,
							   &t->ids[i], &port), 0);
		f->k = t_start(f->dom);
		t_device(f->dom, f->k, t->ids[i], &f->info);
		b->dom = t->swdom;
		b->k = t->swk;
		b->sw = t->sw;
		t_device(t->swdom, t->swk, t->ids[i], &b->info);
	}
}

bool tnet_all_up(void *ctx)
{
	struct tnet *t = ctx;

	for (uint32_t i = 0; i < t->n; i++) {
		if (!t->fe[i].is_up) {
			return false;
		}
	}
	return true;
}

void tnet_open(struct tnet *t)
{
	for (uint32_t i = 0; i < t->n; i++) {
		CU_ASSERT_EQUAL_FATAL(tnb_open(&t->be[i]), 0);
		CU_ASSERT_EQUAL_FATAL(tnf_open(&t->fe[i]), 0);
	}
	CU_ASSERT_TRUE_FATAL(harness_run(tnet_all_up, t, 5 * T_SECOND));
}

void tnet_finish(struct tnet *t)
{
	for (uint32_t i = 0; i < t->n; i++) {
		tnf_close(&t->fe[i]);
	}
	for (uint32_t i = 0; i < t->n; i++) {
		tnb_close(&t->be[i]);
	}
	harness_use(t->swdom);
	kpv_net_switch_destroy(t->sw);
	harness_settle();
	for (uint32_t i = 0; i < t->n; i++) {
		t_stop(t->fe[i].dom, t->fe[i].k);
		t_assert_clean(t->fe[i].dom, 1);
	}
	t_stop(t->swdom, t->swk);
	t_assert_clean(t->swdom, 0);
}

/* --- net-class pairs for the hostile peers ---------------------------------------------- */

void tn_pair_init(struct t_pair *p)
{
	t_pair_class(p, KEEL_IO_CLASS_NET);
}

void tn_pair_fe(struct t_pair *p, struct tnf *f)
{
	memset(f, 0, sizeof(*f));
	f->dom = p->fdom;
	f->k = p->fk;
	f->info = p->finfo;
}

void tn_pair_be(struct t_pair *p, struct tnb *b)
{
	memset(b, 0, sizeof(*b));
	b->dom = p->bdom;
	b->k = p->bk;
	b->info = p->binfo;
}

void tn_pair_finish(struct t_pair *p)
{
	harness_settle();
	t_stop(p->fdom, p->fk);
	t_stop(p->bdom, p->bk);
	t_assert_clean(p->fdom, 1);
	t_assert_clean(p->bdom, 0);
}
