#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/fetch-assets.sh - Debian's stock kernel and a static busybox for
# the Linux guest tests, unpacked (never installed) into OUTDIR:
#   OUTDIR/vmlinuz   the bzImage of the package behind linux-image-amd64
#   OUTDIR/busybox   busybox-static's binary
# The .debs come from apt-get download; the package lists are refreshed
# once if a download fails (stale lists name versions the mirror dropped).
#
# usage: fetch-assets.sh OUTDIR
set -eu
out=$1
mkdir -p "$out/debs"
cd "$out/debs"

if [ -s ../vmlinuz ] && [ -x ../busybox ]; then
	exit 0
fi

# linux-image-amd64 is a metapackage: its one dependency is the real kernel.
kpkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

download() {
	rm -f ./*.deb
	pkg=$(kpkg)
	[ -n "$pkg" ] || return 1
	# As root apt drops to _apt, which must be able to write here.
	apt-get download -q "$pkg" busybox-static >/dev/null 2>&1 ||
		apt-get -o APT::Sandbox::User=root download -q "$pkg" busybox-static
}

if ! download; then
	echo "fetch-assets: refreshing the package lists (apt-get update)" >&2
	apt-get update -q >/dev/null
	download || { echo "fetch-assets: cannot download the kernel or busybox-static" >&2; exit 1; }
fi

rm -rf ../kimg ../bb
dpkg -x linux-image-*.deb ../kimg
dpkg -x busybox-static_*.deb ../bb
cp ../kimg/boot/vmlinuz-* ../vmlinuz.tmp && mv ../vmlinuz.tmp ../vmlinuz
cp ../bb/bin/busybox ../busybox.tmp && mv ../busybox.tmp ../busybox
chmod 755 ../busybox
# Only the two files are needed: drop the modules and the packages.
rm -rf ../kimg/lib ../kimg/usr ./*.deb
echo "fetch-assets: $(basename ../kimg/boot/vmlinuz-*) and busybox ready in $out"
