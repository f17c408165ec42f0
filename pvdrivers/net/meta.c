/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/meta.c - the rules on a packet's offloads and on the
 * feature set that both ends check (docs/abi/devices/net.md): the backend
 * on every TX packet, the frontend on every RX packet and on what it
 * sends, and both on what they offer or accept.
 */
#include "net_priv.h"

uint64_t net_gso_feature(uint8_t gso_type, enum net_dir dir)
{
	switch (gso_type) {
	case KEEL_IO_NET_GSO_TCPV4:
		return dir == NET_TX ? KEEL_IO_NET_F_GSO_TCPV4_TX : KEEL_IO_NET_F_GSO_TCPV4_RX;
	case KEEL_IO_NET_GSO_TCPV6:
		return dir == NET_TX ? KEEL_IO_NET_F_GSO_TCPV6_TX : KEEL_IO_NET_F_GSO_TCPV6_RX;
	default:
		return 0;
	}
}

bool net_meta_ok(const struct kpv_net_meta *m, uint32_t total_len, uint64_t features,
		 enum net_dir dir)
{
	uint64_t csum = dir == NET_TX ? KEEL_IO_NET_F_CSUM_TX : KEEL_IO_NET_F_CSUM_RX;
	uint64_t gso = net_gso_feature(m->gso_type, dir);

	if (m->flags & ~(uint32_t)(KEEL_IO_NET_PF_CSUM_PARTIAL | KEEL_IO_NET_PF_DATA_VALID |
				   KEEL_IO_NET_PF_GSO)) {
		return false;
	}
	if ((m->flags & (KEEL_IO_NET_PF_CSUM_PARTIAL | KEEL_IO_NET_PF_DATA_VALID)) &&
	    !(features & csum)) {
		return false;
	}
	if ((m->flags & KEEL_IO_NET_PF_DATA_VALID) && dir == NET_TX) {
		return false;
	}
	if ((m->flags & KEEL_IO_NET_PF_GSO) &&
	    (!(m->flags & KEEL_IO_NET_PF_CSUM_PARTIAL) || !gso || !(features & gso) ||
	     m->gso_size == 0)) {
		return false;
	}
	return !(m->flags & KEEL_IO_NET_PF_CSUM_PARTIAL) ||
	       (uint32_t)m->csum_start + m->csum_offset + 2u <= total_len;
}

bool net_later_ok(uint16_t flags, uint32_t total_len, uint16_t csum_start, uint16_t csum_offset,
		  uint16_t gso_size, uint8_t gso_type)
{
	return !(flags & ~KEEL_IO_NET_PF_MORE) && total_len == 0 && csum_start == 0 &&
	       csum_offset == 0 && gso_size == 0 && gso_type == 0;
}

uint64_t net_features_consistent(uint64_t f)
{
	if (!(f & KEEL_IO_NET_F_CSUM_TX)) {
		f &= ~(uint64_t)NET_F_GSO_TX;
	}
	if (!(f & KEEL_IO_NET_F_CSUM_RX)) {
		f &= ~(uint64_t)NET_F_GSO_RX;
	}
	return f;
}

void net_config_read(const uint8_t *config, struct keel_io_net_config *out)
{
	net_memcpy(out, config, sizeof(*out));
}
