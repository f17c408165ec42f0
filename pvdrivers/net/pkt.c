/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/pkt.c - packet buffers of the backend and the switch: whole
 * pages (grant copies go page by page, and the shim hands out nothing
 * larger), reference counted so that a flooded packet is stored once.
 */
#include "net_priv.h"

struct kpv_net_pkt *kpv_net_pkt_alloc(uint32_t len)
{
	struct kpv_net_pkt *pkt;
	uint32_t pages = NET_PAGES(len);

	if (len == 0 || len > KEEL_IO_NET_MAX_PACKET) {
		return NULL;
	}
	pkt = kpv_shim_alloc(sizeof(*pkt));
	if (!pkt) {
		return NULL;
	}
	pkt->len = len;
	pkt->refs = 1;
	for (uint32_t i = 0; i < pages; i++) {
		pkt->pages[i] = kpv_shim_page_alloc();
		if (!pkt->pages[i]) {
			kpv_net_pkt_put(pkt);
			return NULL;
		}
	}
	return pkt;
}

void kpv_net_pkt_get(struct kpv_net_pkt *pkt)
{
	__atomic_add_fetch(&pkt->refs, 1, __ATOMIC_RELAXED);
}

void kpv_net_pkt_put(struct kpv_net_pkt *pkt)
{
	if (__atomic_sub_fetch(&pkt->refs, 1, __ATOMIC_ACQ_REL) != 0) {
		return;
	}
	for (uint32_t i = 0; i < KPV_NET_PKT_PAGES; i++) {
		if (pkt->pages[i]) {
			kpv_shim_page_free(pkt->pages[i]);
		}
	}
	kpv_shim_free(pkt);
}

void kpv_net_pkt_write(struct kpv_net_pkt *pkt, uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	while (len) {
		uint32_t in = off & (KPV_PAGE_SIZE - 1), n = NET_MIN(len, KPV_PAGE_SIZE - in);

		net_memcpy(pkt->pages[off >> KPV_PAGE_SHIFT] + in, s, n);
		s += n;
		off += n;
		len -= n;
	}
}

void kpv_net_pkt_read(const struct kpv_net_pkt *pkt, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	while (len) {
		uint32_t in = off & (KPV_PAGE_SIZE - 1), n = NET_MIN(len, KPV_PAGE_SIZE - in);

		net_memcpy(d, pkt->pages[off >> KPV_PAGE_SHIFT] + in, n);
		d += n;
		off += n;
		len -= n;
	}
}

/*
 * RFC 1071 over the bytes from csum_start on: byte i is the high half of a
 * 16-bit word when (i - csum_start) is even. Page boundaries fall anywhere
 * in that parity, so the parity is carried from page to page.
 */
uint16_t kpv_net_pkt_csum(const struct kpv_net_pkt *pkt)
{
	uint32_t i = pkt->meta.csum_start, odd = 0;
	uint64_t sum = 0;

	while (i < pkt->len) {
		const uint8_t *p = pkt->pages[i >> KPV_PAGE_SHIFT];
		uint32_t end = NET_MIN(pkt->len, (i | (KPV_PAGE_SIZE - 1)) + 1);

		for (; i < end; i++, odd ^= 1) {
			sum += odd ? p[i & (KPV_PAGE_SIZE - 1)]
				   : (uint32_t)p[i & (KPV_PAGE_SIZE - 1)] << 8;
		}
	}
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = ~sum & 0xffff;
	return sum ? (uint16_t)sum : 0xffff;
}
