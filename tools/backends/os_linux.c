/* SPDX-License-Identifier: MIT */
/*
 * tools/backends/os_linux.c - os.h on Linux: block device sizes (BLKGETSIZE64,
 * BLKSSZGET, BLKPBSZGET), TAP interfaces (/dev/net/tun) brought up and
 * enslaved to a bridge (SIOCBRADDIF), their frames behind a virtio-net
 * header (IFF_VNET_HDR, little-endian) that carries checksum offload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include "os.h"

int kb_os_disk_geometry(int fd, uint64_t *bytes, uint32_t *logical, uint32_t *physical)
{
	struct stat st;
	int lbs = 512;
	unsigned int pbs = 4096;

	if (fstat(fd, &st) != 0) {
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		*logical = 512;
		*physical = 4096;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, bytes) != 0 || ioctl(fd, BLKSSZGET, &lbs) != 0) {
		return -1;
	}
	if (ioctl(fd, BLKPBSZGET, &pbs) != 0 || pbs < (unsigned int)lbs) {
		pbs = (unsigned int)lbs;
	}
	*logical = (uint32_t)lbs;
	*physical = pbs;
	return 0;
}

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (s < 0) {
		return -1;
	}
	rc = ioctl(s, req, ifr);
	close(s);
	return rc;
}

/* The header's 16-bit fields are little-endian (TUNSETVNETLE), whatever the host's order. */
static uint16_t le16(uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

/*
 * Frames behind a little-endian virtio-net header, and the kernel may hand
 * us CHECKSUM_PARTIAL frames (TUN_F_CSUM; no segmentation offload is asked
 * for, so GSO never comes). False: the TAP is left as it was.
 */
static bool tap_csum(int fd)
{
	int hdr = sizeof(struct virtio_net_hdr), le = 1;

	return ioctl(fd, TUNSETVNETHDRSZ, &hdr) == 0 && ioctl(fd, TUNSETVNETLE, &le) == 0 &&
	       ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0;
}

/* /dev/net/tun attached to TAP @name, with a virtio-net header if @vnet; -1 with errno. */
static int tap_attach(const char *name, bool vnet, struct ifreq *ifr)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		return -1;
	}
	memset(ifr, 0, sizeof(*ifr));
	ifr->ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, ifr) != 0 || (vnet && !tap_csum(fd))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int kb_os_tap_open(const char *name, const char *bridge, bool *csum, char *why,
		   unsigned int why_len)
{
	struct ifreq ifr;
	unsigned int index;
	int fd;

	/* With checksum offload if this kernel's TAP does it, else plain frames. */
	*csum = true;
	fd = tap_attach(name, true, &ifr);
	if (fd < 0) {
		*csum = false;
		fd = tap_attach(name, false, &ifr);
	}
	if (fd < 0) {
		snprintf(why, why_len, "TAP %s: %s", name, strerror(errno));
		return -1;
	}
	if (if_ioctl(SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if_ioctl(SIOCSIFFLAGS, &ifr);
	}
	if (!bridge || !*bridge) {
		return fd;
	}
	index = if_ioctl(SIOCGIFINDEX, &ifr) == 0 ? (unsigned int)ifr.ifr_ifindex : 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
	ifr.ifr_ifindex = (int)index;
	if (index == 0 || if_ioctl(SIOCBRADDIF, &ifr) != 0) {
		snprintf(why, why_len, "adding %s to bridge %s: %s", name, bridge, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t kb_os_tap_read(int fd, bool csum, uint8_t *frame, size_t cap, struct kpv_net_meta *meta)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = { { &h, sizeof(h) }, { frame, cap } };
	ssize_t n;

	*meta = (struct kpv_net_meta){ 0 };
	if (!csum) {
		return read(fd, frame, cap);
	}
	n = readv(fd, iov, 2);
	if (n < 0) {
		return -1;
	}
	/* A short read, a frame that filled the buffer (it may have been cut), GSO we never asked for. */
	if (n <= (ssize_t)sizeof(h) || (size_t)n - sizeof(h) >= cap ||
	    h.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
	    (h.flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))) {
		return 0;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* Its bounds are checked where every packet's are, in kpv_netback_receive(). */
		meta->flags = KEEL_IO_NET_PF_CSUM_PARTIAL;
		meta->csum_start = le16(h.csum_start);
		meta->csum_offset = le16(h.csum_offset);
	} else if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		meta->flags = KEEL_IO_NET_PF_DATA_VALID;
	}
	return n - (ssize_t)sizeof(h);
}

int kb_os_tap_write(int fd, bool csum, const uint8_t *frame, size_t len,
		    const struct kpv_net_meta *meta)
{
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)frame, len } };
	ssize_t n;

	if (!csum) {
		if (meta->flags & KEEL_IO_NET_PF_CSUM_PARTIAL) {
			errno = EINVAL;
			return -1;
		}
		n = write(fd, frame, len);
		return n == (ssize_t)len ? 0 : -1;
	}
	if (meta->flags & KEEL_IO_NET_PF_CSUM_PARTIAL) {
		/* The kernel sums from csum_start when the frame leaves (or verifies nothing locally). */
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = le16(meta->csum_start);
		h.csum_offset = le16(meta->csum_offset);
		h.hdr_len = le16((uint16_t)(meta->csum_start + meta->csum_offset + 2u));
	}
	n = writev(fd, iov, 2);
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

void kb_os_tap_close(int fd, const char *name)
{
	(void)name;	/* not persistent: the interface goes with its last descriptor */
	close(fd);
}
