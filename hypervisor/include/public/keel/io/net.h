/* SPDX-License-Identifier: MIT */
/* keel/io/net.h: the PV network device protocol (class KEEL_IO_CLASS_NET). */
#ifndef KEEL_PUBLIC_IO_NET_H
#define KEEL_PUBLIC_IO_NET_H

#include "../abi.h"

/*
 * Queue q uses ring 2q (tx: frontend sends packets) and ring 2q+1 (rx: the
 * frontend posts pages, the backend fills them). fe_nr_rings = 2 * queues.
 * All rings use KEEL_IO_NET_SLOT_SIZE slots. A packet is an Ethernet frame
 * without FCS, in 1 .. KEEL_IO_NET_MAX_FRAGS fragments (consecutive slots
 * linked with KEEL_IO_NET_PF_MORE). Checksum and segmentation offload carry
 * virtio-net's meaning. docs/abi/devices/net.md is the protocol.
 */
#define KEEL_IO_NET_SLOT_SIZE		32
#define KEEL_IO_NET_MAX_FRAGS		18
#define KEEL_IO_NET_MAX_PACKET		65535	/* bytes, Ethernet header included */
#define KEEL_IO_NET_MTU_DEFAULT		1500

/* Features. TX = frontend to backend, RX = backend to frontend. */
#define KEEL_IO_NET_F_CSUM_TX		0x00000001u	/* frontend may send PF_CSUM_PARTIAL */
#define KEEL_IO_NET_F_CSUM_RX		0x00000002u	/* backend may send PF_CSUM_PARTIAL / PF_DATA_VALID */
#define KEEL_IO_NET_F_GSO_TCPV4_TX	0x00000004u	/* frontend may send TCPv4 GSO (needs CSUM_TX) */
#define KEEL_IO_NET_F_GSO_TCPV6_TX	0x00000008u
#define KEEL_IO_NET_F_GSO_TCPV4_RX	0x00000010u	/* backend may send TCPv4 GSO (needs CSUM_RX) */
#define KEEL_IO_NET_F_GSO_TCPV6_RX	0x00000020u
#define KEEL_IO_NET_F_MTU		0x00000040u	/* config mtu is valid */
#define KEEL_IO_NET_F_MAC		0x00000080u	/* config mac is valid */
#define KEEL_IO_NET_F_MULTI_QUEUE	0x00000100u	/* more than one queue */
#define KEEL_IO_NET_F_LINK_STATE	0x00000200u	/* config link_flags valid; changes signalled */

/* Packet flags (tx request, rx response). */
#define KEEL_IO_NET_PF_MORE		0x0001	/* another fragment of this packet follows */
#define KEEL_IO_NET_PF_CSUM_PARTIAL	0x0002	/* checksum from csum_start must be completed */
#define KEEL_IO_NET_PF_DATA_VALID	0x0004	/* checksums already verified (rx only) */
#define KEEL_IO_NET_PF_GSO		0x0008	/* gso_type / gso_size valid */

#define KEEL_IO_NET_GSO_NONE		0
#define KEEL_IO_NET_GSO_TCPV4		1
#define KEEL_IO_NET_GSO_TCPV6		2

/* Response status. */
#define KEEL_IO_NET_S_OK		0
#define KEEL_IO_NET_S_DROPPED		1	/* not delivered (no route, too big, no buffer) */

/* keel_io_net_config.link_flags */
#define KEEL_IO_NET_LINK_UP		0x00000001u

struct keel_io_net_tx_request {
	uint32_t gref;			/* fe: page holding this fragment */
	uint16_t offset;		/* fe: offset + len <= 4096 */
	uint16_t len;			/* fe: fragment bytes, >= 1 */
	uint16_t id;			/* fe: echoed in the response */
	uint16_t flags;			/* fe: KEEL_IO_NET_PF_* (not DATA_VALID) */
	uint32_t total_len;		/* fe: first fragment: packet bytes; later fragments MBZ */
	uint16_t csum_start;		/* fe: first fragment, with CSUM_PARTIAL */
	uint16_t csum_offset;		/* fe: from csum_start to the checksum field */
	uint16_t gso_size;		/* fe: first fragment, with GSO: payload bytes per segment */
	uint8_t gso_type;		/* fe: KEEL_IO_NET_GSO_* */
	uint8_t pad0;			/* MBZ */
	uint64_t pad1;			/* MBZ */
};

struct keel_io_net_tx_response {
	uint16_t id;			/* be: the request's id (one response per request) */
	uint16_t status;		/* be: KEEL_IO_NET_S_* (same for every fragment of a packet) */
	uint32_t pad0;			/* MBZ */
};

struct keel_io_net_rx_request {
	uint16_t id;			/* fe: echoed in the response */
	uint16_t pad0;			/* MBZ */
	uint32_t gref;			/* fe: a whole writable page for the backend to fill */
};

struct keel_io_net_rx_response {
	uint16_t id;			/* be: the request whose page holds this fragment */
	uint16_t flags;			/* be: KEEL_IO_NET_PF_* */
	uint16_t offset;		/* be: where the fragment starts in the page */
	uint16_t len;			/* be: fragment bytes */
	uint32_t total_len;		/* be: first fragment: packet bytes; later fragments 0 */
	uint16_t status;		/* be: KEEL_IO_NET_S_OK, or S_DROPPED with len 0 (page returned) */
	uint16_t csum_start;		/* be: first fragment, with CSUM_PARTIAL */
	uint16_t csum_offset;		/* be */
	uint16_t gso_size;		/* be: first fragment, with GSO */
	uint8_t gso_type;		/* be: KEEL_IO_NET_GSO_* */
	uint8_t pad0[3];		/* MBZ */
};

/* be_config for the net class. */
struct keel_io_net_config {
	uint8_t mac[6];			/* be: with KEEL_IO_NET_F_MAC */
	uint16_t mtu;			/* be: with KEEL_IO_NET_F_MTU; 68 .. 65535 - 14 */
	uint32_t link_flags;		/* be: KEEL_IO_NET_LINK_* */
	uint32_t pad0;			/* MBZ */
};

#endif /* KEEL_PUBLIC_IO_NET_H */
