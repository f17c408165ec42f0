/* SPDX-License-Identifier: MIT */
/*
 * pvdrivers/net/net_priv.h - what the net class's files share: the builtins
 * they use instead of a C library, the rules both sides check on a packet's
 * first fragment and offloads (net.md, "Validation"), and the structs of
 * netfront (netfront*.c) and netback (netback*.c).
 */
#ifndef KPV_NET_PRIV_H
#define KPV_NET_PRIV_H

#include <keel_pv/net.h>

#define net_memcpy		__builtin_memcpy
#define net_memset		__builtin_memset
#define net_memcmp		__builtin_memcmp
#define NET_MIN(a, b)		((a) < (b) ? (a) : (b))

/* Slots of a ring of @order with 32-byte slots. */
#define NET_SLOTS(order)	((KPV_PAGE_SIZE << (order)) / KEEL_IO_NET_SLOT_SIZE)
/* Pages of @len bytes (no 64-bit division anywhere: 32-bit kernels lack the helper). */
#define NET_PAGES(len)		(((len) + KPV_PAGE_SIZE - 1) >> KPV_PAGE_SHIFT)

#define NET_PF_KNOWN		(KEEL_IO_NET_PF_MORE | KEEL_IO_NET_PF_CSUM_PARTIAL | \
				 KEEL_IO_NET_PF_DATA_VALID | KEEL_IO_NET_PF_GSO)
#define NET_F_CSUM		(KEEL_IO_NET_F_CSUM_TX | KEEL_IO_NET_F_CSUM_RX)
#define NET_F_GSO_TX		(KEEL_IO_NET_F_GSO_TCPV4_TX | KEEL_IO_NET_F_GSO_TCPV6_TX)
#define NET_F_GSO_RX		(KEEL_IO_NET_F_GSO_TCPV4_RX | KEEL_IO_NET_F_GSO_TCPV6_RX)
#define NET_F_OFFLOADS		(NET_F_CSUM | NET_F_GSO_TX | NET_F_GSO_RX)
#define NET_MTU_MIN		68u
#define NET_MTU_MAX		(KEEL_IO_NET_MAX_PACKET - 14u)

/* Which way a packet goes: the features that allow its offloads differ. */
enum net_dir { NET_TX, NET_RX };

/*
 * The offloads of a packet's first fragment against the negotiated
 * @features, for direction @dir: true if allowed (net.md: a flag or offload
 * not negotiated, DATA_VALID on TX, GSO without CSUM_PARTIAL, an unknown
 * gso_type, gso_size 0, or a checksum field beyond @total_len are not).
 */
bool net_meta_ok(const struct kpv_net_meta *m, uint32_t total_len, uint64_t features,
		 enum net_dir dir);
/* The GSO feature that allows @gso_type in @dir, or 0 for an unknown type. */
uint64_t net_gso_feature(uint8_t gso_type, enum net_dir dir);
/* A GSO feature in @features without its checksum feature: dropped from the set. */
uint64_t net_features_consistent(uint64_t features);
/*
 * A fragment after the first carries nothing but its bytes and PF_MORE:
 * other flags, total_len and offload fields must be 0 (net.md).
 */
bool net_later_ok(uint16_t flags, uint32_t total_len, uint16_t csum_start, uint16_t csum_offset,
		  uint16_t gso_size, uint8_t gso_type);
/* The config struct at the start of a be_config. */
void net_config_read(const uint8_t *config, struct keel_io_net_config *out);

#endif /* KPV_NET_PRIV_H */
