/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/test_tap_offload.c - keel-backendd's TAP checksum offload
 * (os_linux.c) against the real Linux TAP driver, in a private network
 * namespace (needs root, as the whole suite does; fails otherwise). The TAP gets
 * 10.77.0.1/24 and a static neighbour 10.77.0.2:
 *   host -> guest: a UDP datagram the host's stack sends out of the TAP is
 *     read as PF_CSUM_PARTIAL at the UDP checksum, and completing it there
 *     (what pvdrivers does for a frontend without F_CSUM_RX) makes a valid
 *     checksum;
 *   guest -> host: a frame written with PF_CSUM_PARTIAL and only the
 *     pseudo-header sum in the field is delivered to a UDP socket, while
 *     the same frame written as complete (no offload) is dropped by UDP for
 *     its wrong checksum: the metadata really reached the kernel.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if.h>
#include "os.h"

#define TAP		"ktap0"
#define HOST_IP		"10.77.0.1"
#define PEER_IP		"10.77.0.2"
#define PORT		4242
#define PAYLOAD		333

static const uint8_t peer_mac[6] = { 0x02, 0x4b, 0x45, 0x00, 0x00, 0x02 };
static int failures;

#define CHECK(cond, ...)						\
	do {								\
		if (cond) {						\
			printf("ok: " __VA_ARGS__);			\
		} else {						\
			printf("FAIL: " __VA_ARGS__);			\
			failures++;					\
		}							\
		printf("\n");						\
	} while (0)

/* One's complement sum of @len bytes as big-endian 16-bit words, added to @sum. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++) {
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	}
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* The UDP pseudo-header sum of an IPv4 frame (Ethernet header first). */
static uint32_t pseudo(const uint8_t *f, uint16_t udp_len)
{
	uint8_t ph[4] = { 0, 17, (uint8_t)(udp_len >> 8), (uint8_t)udp_len };

	return sum16(f + 26, 8, sum16(ph, 4, 0));
}

static int if_setup(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;
	struct arpreq arp = { 0 };
	struct sockaddr_in *pa = (struct sockaddr_in *)&arp.arp_pa;
	int rc = 0;

	snprintf(ifr.ifr_name, IFNAMSIZ, TAP);
	a->sin_family = AF_INET;
	inet_pton(AF_INET, HOST_IP, &a->sin_addr);
	rc |= ioctl(s, SIOCSIFADDR, &ifr);
	inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
	rc |= ioctl(s, SIOCSIFNETMASK, &ifr);
	pa->sin_family = AF_INET;
	inet_pton(AF_INET, PEER_IP, &pa->sin_addr);
	arp.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(arp.arp_ha.sa_data, peer_mac, 6);
	arp.arp_flags = ATF_COM | ATF_PERM;
	snprintf(arp.arp_dev, sizeof(arp.arp_dev), TAP);
	rc |= ioctl(s, SIOCSARP, &arp);
	close(s);
	return rc;
}

/* The next IPv4 UDP frame the host sends out of the TAP (IPv6 chatter skipped); its length or 0. */
static ssize_t read_udp(int tap, uint8_t *f, size_t cap, struct kpv_net_meta *meta)
{
	for (int tries = 0; tries < 50; tries++) {
		struct pollfd p = { .fd = tap, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0) {
			continue;
		}
		n = kb_os_tap_read(tap, true, f, cap, meta);
		if (n >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17) {
			return n;
		}
	}
	return 0;
}

static void host_to_guest(int tap, int udp, const uint8_t *host_mac)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	uint8_t msg[PAYLOAD], f[2048];
	struct kpv_net_meta meta;
	ssize_t n;

	memset(msg, 0x5a, sizeof(msg));
	inet_pton(AF_INET, PEER_IP, &to.sin_addr);
	CHECK(sendto(udp, msg, sizeof(msg), 0, (struct sockaddr *)&to, sizeof(to)) == PAYLOAD,
	      "host sends %d bytes to " PEER_IP, PAYLOAD);
	n = read_udp(tap, f, sizeof(f), &meta);
	CHECK(n == 42 + PAYLOAD, "the datagram comes out of the TAP (%zd bytes)", n);
	if (n != 42 + PAYLOAD) {
		return;
	}
	CHECK(memcmp(f + 6, host_mac, 6) == 0 && memcmp(f, peer_mac, 6) == 0,
	      "to the neighbour's MAC, from the TAP's");
	CHECK(meta.flags == KEEL_IO_NET_PF_CSUM_PARTIAL && meta.csum_start == 34 &&
	      meta.csum_offset == 6,
	      "read as PF_CSUM_PARTIAL at the UDP checksum (flags %#x, start %u, offset %u)",
	      meta.flags, meta.csum_start, meta.csum_offset);
	/* Completed as pvdrivers' netback does: the field holds the pseudo-header sum. */
	{
		uint16_t c = (uint16_t)~fold(sum16(f + 34, (size_t)n - 34, 0));

		f[40] = (uint8_t)(c >> 8);
		f[41] = (uint8_t)c;
		CHECK(fold(sum16(f + 34, (size_t)n - 34, pseudo(f, (uint16_t)(n - 34)))) == 0xffff,
		      "completed from csum_start, the UDP checksum verifies");
	}
}

/*
 * A UDP frame from the peer to the host's socket whose checksum field holds
 * the pseudo-header sum: right for a CHECKSUM_PARTIAL frame (the receiver
 * finishes it), wrong as a final checksum.
 */
static size_t peer_frame(uint8_t *f, const uint8_t *host_mac)
{
	uint16_t udp_len = 8 + PAYLOAD, ip_len = 20 + udp_len;
	uint8_t ip[20] = { 0x45, 0, (uint8_t)(ip_len >> 8), (uint8_t)ip_len, 0, 1, 0x40, 0, 64, 17 };
	uint16_t c;

	memcpy(f, host_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	inet_pton(AF_INET, PEER_IP, ip + 12);
	inet_pton(AF_INET, HOST_IP, ip + 16);
	c = (uint16_t)~fold(sum16(ip, 20, 0));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memcpy(f + 14, ip, 20);
	f[34] = 0x30;			/* source port 12345 */
	f[35] = 0x39;
	f[36] = PORT >> 8;
	f[37] = PORT & 0xff;
	f[38] = (uint8_t)(udp_len >> 8);
	f[39] = (uint8_t)udp_len;
	memset(f + 42, 0xa5, PAYLOAD);
	c = fold(pseudo(f, udp_len));
	f[40] = (uint8_t)(c >> 8);
	f[41] = (uint8_t)c;
	return 42 + PAYLOAD;
}

static bool received(int udp)
{
	struct pollfd p = { .fd = udp, .events = POLLIN };
	uint8_t buf[2048];

	return poll(&p, 1, 1000) == 1 && recv(udp, buf, sizeof(buf), 0) == PAYLOAD;
}

static void guest_to_host(int tap, int udp, const uint8_t *host_mac)
{
	struct kpv_net_meta partial = { .flags = KEEL_IO_NET_PF_CSUM_PARTIAL, .csum_start = 34,
					.csum_offset = 6 };
	struct kpv_net_meta none = { 0 };
	uint8_t f[2048];
	size_t len = peer_frame(f, host_mac);

	CHECK(kb_os_tap_write(tap, true, f, len, &none) == 0, "the frame written as complete");
	CHECK(!received(udp), "... is dropped by UDP: its checksum is only the pseudo-header sum");
	CHECK(kb_os_tap_write(tap, true, f, len, &partial) == 0,
	      "the same frame written with PF_CSUM_PARTIAL");
	CHECK(received(udp), "... reaches the socket: the kernel took the offload");
	CHECK(kb_os_tap_write(tap, false, f, len, &partial) == -1 && errno == EINVAL,
	      "PF_CSUM_PARTIAL on a TAP without offload is refused (EINVAL)");
}

int main(void)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct ifreq ifr = { 0 };
	char why[160];
	bool csum = false;
	int tap, udp, s;

	if (unshare(CLONE_NEWNET) != 0) {
		printf("FAIL: no private network namespace (%s; the suite runs as root)\n", strerror(errno));
		return 1;
	}
	tap = kb_os_tap_open(TAP, "", &csum, why, sizeof(why));
	if (tap < 0) {
		printf("FAIL: no TAP device: %s\n", why);
		return 1;
	}
	CHECK(csum, "the TAP carries checksum offload (IFF_VNET_HDR, TUN_F_CSUM)");
	CHECK(if_setup() == 0, TAP " has " HOST_IP "/24 and a static neighbour " PEER_IP);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, TAP);
	CHECK(ioctl(s, SIOCGIFHWADDR, &ifr) == 0, "the TAP's MAC");
	close(s);
	udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, HOST_IP, &me.sin_addr);
	CHECK(bind(udp, (struct sockaddr *)&me, sizeof(me)) == 0, "a UDP socket on " HOST_IP);
	host_to_guest(tap, udp, (const uint8_t *)ifr.ifr_hwaddr.sa_data);
	guest_to_host(tap, udp, (const uint8_t *)ifr.ifr_hwaddr.sa_data);
	kb_os_tap_close(tap, TAP);
	close(udp);
	printf("%s\n", failures ? "FAILED" : "PASS");
	return failures ? 1 : 0;
}
