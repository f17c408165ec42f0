#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/linux/deb/check-apt-install.sh DEB KVER CACHE - the keel-dkms package
# installed the way its users install it, on a Debian 12 system: a minimal
# chroot (debootstrap --variant=minbase bookworm from the Debian mirror)
# with dkms, linux-headers-KVER (the kernel the Linux tests boot) and the
# package's Recommends installed by apt-get; then, in it, exactly
#     apt install ./keel-dkms_<ver>_all.deb
# must leave keel.ko built and installed by DKMS for KVER (although the
# chroot's `uname -r` is the host's kernel, which has no headers there),
# modules.alias must resolve the Keel platform device's modalias to keel
# (what udev does at boot), and `apt remove` must take all of it away again.
#
# The prepared chroot is cached as CACHE/bookworm-KVER.tar.zst, so only the
# first run fetches from the mirror (a few minutes); later runs unpack it
# (seconds) and install the .deb (DKMS compiles keel.ko: about a minute).
# Every step is bounded by timeout(1). Needs root and a private mount
# namespace (unshare -m): the chroot's /proc and /dev/pts are mounted there
# only, and nothing on the host changes. KEEL_DEBIAN_MIRROR overrides the
# mirror (default http://deb.debian.org/debian).
set -eu
deb=$(readlink -f "$1") kver=$2 cache=$3
mirror=${KEEL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${KEEL_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
# The platform device's modalias as a Keel guest's kernel shows it (tests/linux/module).
modalias=pci:v00004B45d00000001sv00004B45sd00000001bc08sc80i00
say() { echo "check-apt-install: $*"; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root (debootstrap, chroot): run the suite as ./keel test does, as root"; exit 1; }
unshare -m true 2>/dev/null || { echo "FAIL: needs a private mount namespace (unshare -m)"; exit 1; }
for tool in debootstrap zstd; do
	command -v $tool >/dev/null || fail "$tool is not installed (./keel installs it)"
done
[ -f "$deb" ] || fail "no package $deb"
pkg_version=$(dpkg-deb -f "$deb" Version)
recommends=$(dpkg-deb -f "$deb" Recommends | tr -d ',')

mkdir -p "$cache"
tarball=$cache/bookworm-$kver.tar.zst
work=$(mktemp -d /tmp/keel-apt-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root

# in_chroot SECONDS COMMAND: run COMMAND (sh -c) in the chroot, /proc and
# /dev/pts mounted in a private namespace, bounded by SECONDS.
in_chroot() {
	secs=$1
	shift
	timeout -k 10 "$secs" unshare -m --propagation private sh -c '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
		exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			DEBIAN_FRONTEND=noninteractive LC_ALL=C sh -c "$1"' sh "$root" "$1"
}

if [ ! -s "$tarball" ]; then
	say "no cached chroot: debootstrap --variant=minbase bookworm from $mirror (once)"
	timeout -k 10 600 debootstrap --variant=minbase bookworm "$root" "$mirror" \
		>"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log"; fail "debootstrap failed (is $mirror reachable?)"; }
	# linux-headers-KVER of the tests' kernel comes from the security suite.
	cat >"$root/etc/apt/sources.list" <<-EOF
	deb $mirror bookworm main
	deb $mirror bookworm-updates main
	deb $security bookworm-security main
	EOF
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	say "apt-get install dkms linux-headers-$kver $recommends in the chroot"
	in_chroot 900 "apt-get update -q && apt-get install -y -q --no-install-recommends \
		dkms linux-headers-$kver $recommends && apt-get clean" >"$work/prepare.log" 2>&1 ||
		{ tail -20 "$work/prepare.log"; fail "installing the prerequisites failed"; }
	(cd "$root" && tar -cf - .) | zstd -q -T2 -3 -o "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	say "cached the prepared chroot as $tarball ($(du -h "$tarball" | cut -f1))"
	rm -rf "$root"
fi
mkdir -p "$root"
zstd -q -dc "$tarball" | tar -xf - -C "$root" || fail "cannot unpack $tarball"
ok "chroot: $(cat "$root/etc/debian_version"), headers /lib/modules/$kver/build, uname -r there: $(uname -r)"

# The package as a user installs it; DKMS compiles for every kernel with headers.
cp "$deb" "$root/tmp/"
name=$(basename "$deb")
in_chroot 900 "cd /tmp && apt install -y ./$name" >"$work/install.log" 2>&1 ||
	{ tail -40 "$work/install.log"; fail "apt install ./$name failed"; }
ok "apt install ./$name"
in_chroot 30 "dpkg -s keel-dkms" | grep -q "^Status: install ok installed" ||
	fail "dpkg does not list keel-dkms as installed"
status=$(in_chroot 60 "dkms status -m keel -v $pkg_version -k $kver")
echo "$status" | grep -q "installed" || { echo "$status"; fail "dkms status: not installed for $kver"; }
ok "dkms status: $status"
ko=$(find "$root/lib/modules/$kver/updates" -name 'keel.ko*' 2>/dev/null | head -1)
[ -n "$ko" ] || { tail -30 "$work/install.log"; fail "no keel.ko under /lib/modules/$kver/updates"; }
vermagic=$(modinfo -F vermagic "$ko")
case $vermagic in "$kver "*) ok "${ko#"$root"}: vermagic $vermagic" ;;
*) fail "keel.ko was built for '$vermagic', not $kver" ;; esac
# Built for KVER although `uname -r` (the host's kernel) is another: the postinst did not go by it.
[ "$(uname -r)" = "$kver" ] || [ ! -e "$root/lib/modules/$(uname -r)/updates/dkms/keel.ko" ] ||
	fail "a module for the host's kernel $(uname -r), which has no headers in the chroot"
resolved=$(in_chroot 60 "modprobe -S $kver --resolve-alias $modalias" 2>&1) ||
	fail "modprobe --resolve-alias $modalias: $resolved"
[ "$resolved" = keel ] || fail "$modalias resolves to '$resolved', not keel"
ok "modules.alias of $kver: $modalias -> keel (udev loads it on a Keel guest)"

# Removal takes the module, the alias, DKMS's tree and the sources away.
in_chroot 300 "apt remove -y keel-dkms" >"$work/remove.log" 2>&1 ||
	{ tail -30 "$work/remove.log"; fail "apt remove keel-dkms failed"; }
ok "apt remove keel-dkms"
left=$(find "$root/lib/modules" -name 'keel.ko*'; ls -d "$root/var/lib/dkms/keel" \
	"$root/usr/src/keel-$pkg_version" 2>/dev/null || true)
[ -z "$left" ] || fail "left behind: $left"
! grep -q ' keel$' "$root/lib/modules/$kver/modules.alias" || fail "modules.alias still names keel"
if in_chroot 60 "modprobe -S $kver --resolve-alias $modalias" >/dev/null 2>&1; then
	fail "$modalias still resolves after the removal"
fi
in_chroot 30 "dpkg -s keel-dkms" 2>/dev/null | grep -q "^Status: install ok installed" &&
	fail "dpkg still lists keel-dkms as installed"
ok "removed: no keel.ko, no alias, no /var/lib/dkms/keel, no /usr/src/keel-$pkg_version"
echo "PASS"
